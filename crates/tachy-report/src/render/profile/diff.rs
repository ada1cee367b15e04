//! Renderers of a profile diff: a text table and a differential flamegraph (red grew, blue
//! shrank), drawn by inferno from the two profiles' collapsed stacks.

use std::fmt::Write;

use inferno::differential;
use inferno::flamegraph::Options;

use super::ProfileRenderError;
use crate::profile::{DiffVerdict, Profile, ProfileDiff};

/// The verdict as shown in the table.
pub fn verdict_label(v: DiffVerdict) -> &'static str {
    match v {
        DiffVerdict::Grew => "GREW",
        DiffVerdict::Shrank => "shrank",
        DiffVerdict::Noise => "noise",
        DiffVerdict::NotEnoughSamples => "few samples",
    }
}

/// Renders the diff as a table of the functions whose share changed, largest change first,
/// then the gate's outcome naming the functions that failed it.
pub fn text(d: &ProfileDiff, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Profile diff: {} samples before, {} after", d.before_samples, d.after_samples);
    let _ = writeln!(out, "  before: {}\n  after:  {}", d.before_command, d.after_command);
    let _ = writeln!(
        out,
        "\n  {:>7} {:>7} {:>8} {:>18}  {:<11} {:<28} location",
        "before", "after", "change", "interval", "verdict", "function"
    );
    let pp = |x: f64| x * 100.0;
    let mut shown = 0;
    for r in &d.rows {
        if shown >= top {
            break;
        }
        let s = &r.self_share;
        if s.before == 0.0 && s.after == 0.0 {
            continue;
        }
        shown += 1;
        let interval = if s.verdict == DiffVerdict::NotEnoughSamples {
            format!("{:>18}", format!("{} samples", s.samples_before + s.samples_after))
        } else {
            format!("[{:>+6.1}, {:>+6.1}]", pp(s.ci_low), pp(s.ci_high))
        };
        let _ = writeln!(
            out,
            "  {:>6.1}% {:>6.1}% {:>+7.1}pp {}  {:<11} {:<28} {}:{}",
            pp(s.before),
            pp(s.after),
            pp(s.delta),
            interval,
            verdict_label(s.verdict),
            r.function,
            r.file,
            r.line
        );
    }
    let _ = writeln!(out, "\n(self share of samples; pp = percentage points)");
    if d.batches > 0 {
        let _ = writeln!(
            out,
            "({:.0}% intervals holding jointly for the {} functions tested (Bonferroni), from {} paired batches \
             of each timeline; functions with fewer than {} samples are not tested)",
            d.confidence * 100.0,
            d.self_tested,
            d.batches,
            d.min_samples
        );
    }
    for n in &d.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(limit) = d.fail_if_grows {
        if d.failed {
            let _ = writeln!(out, "FAILED: self share grew significantly by more than {limit} points:");
            for f in &d.failures {
                let _ = writeln!(
                    out,
                    "  {} ({}:{}) {:+.1}pp [{:+.1}, {:+.1}]",
                    f.function,
                    f.file,
                    f.line,
                    pp(f.delta),
                    pp(f.ci_low),
                    pp(f.ci_high)
                );
            }
        } else if d.self_tested == 0 {
            let _ = writeln!(out, "passed: not enough samples to test any function against {limit} points");
        } else {
            let _ = writeln!(out, "passed: no function's self share grew significantly by more than {limit} points");
        }
    }
    out
}

/// Draws a differential flamegraph: the shape of `after`, coloured by the change from `before`.
pub fn flamegraph(before: &Profile, after: &Profile) -> Result<Vec<u8>, ProfileRenderError> {
    let b = super::collapsed::render(before, false);
    let a = super::collapsed::render(after, false);
    let mut lines = Vec::new();
    differential::from_readers(
        differential::Options { normalize: true, strip_hex: false },
        b.as_bytes(),
        a.as_bytes(),
        &mut lines,
    )
    .map_err(|e| ProfileRenderError::Flamegraph(e.to_string()))?;
    let text = String::from_utf8_lossy(&lines).into_owned();
    let mut opts = Options::default();
    opts.title = "tachy profile diff (red: grew, blue: shrank)".to_string();
    opts.subtitle = Some(format!("before: {}  after: {}", before.meta.command.join(" "), after.meta.command.join(" ")));
    opts.count_name = "samples".to_string();
    super::flamegraph::draw(&mut opts, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{DiffFailure, DiffRow, ShareChange};

    #[test]
    fn text_snapshot() {
        let c = |b: f64, a: f64, v| ShareChange {
            before: b,
            after: a,
            delta: a - b,
            ci_low: a - b - 0.01,
            ci_high: a - b + 0.01,
            verdict: v,
            samples_before: (b * 1000.0) as u64,
            samples_after: (a * 1200.0) as u64,
            p_value: Some(0.01),
        };
        let d = ProfileDiff {
            schema: "tachy-profile-diff/1".into(),
            before_command: "python3 old.py".into(),
            after_command: "python3 new.py".into(),
            before_samples: 1000,
            after_samples: 1200,
            fail_if_grows: Some(5.0),
            failed: true,
            rows: vec![
                DiffRow {
                    function: "slow".into(),
                    file: "app.py".into(),
                    line: 3,
                    self_share: c(0.2, 0.35, DiffVerdict::Grew),
                    total_share: c(0.2, 0.35, DiffVerdict::Grew),
                },
                DiffRow {
                    function: "fast".into(),
                    file: "app.py".into(),
                    line: 9,
                    self_share: c(0.5, 0.49, DiffVerdict::Noise),
                    total_share: c(0.5, 0.49, DiffVerdict::Noise),
                },
                DiffRow {
                    function: "rare".into(),
                    file: "app.py".into(),
                    line: 20,
                    self_share: c(0.002, 0.01, DiffVerdict::NotEnoughSamples),
                    total_share: c(0.002, 0.01, DiffVerdict::NotEnoughSamples),
                },
            ],
            confidence: 0.95,
            batches: 30,
            min_samples: 20,
            min_profile_samples: 300,
            self_tested: 2,
            total_tested: 2,
            failures: vec![DiffFailure {
                function: "slow".into(),
                file: "app.py".into(),
                line: 3,
                delta: 0.15,
                ci_low: 0.14,
                ci_high: 0.16,
            }],
            notes: vec![],
        };
        insta::assert_snapshot!(text(&d, 10));
    }

    #[test]
    fn differential_svg_is_drawn() {
        let p = crate::profile::fixture::profile();
        let svg = String::from_utf8(flamegraph(&p, &p).unwrap()).unwrap();
        assert!(svg.contains("<svg") && svg.contains("work (main.py)"));
    }
}
