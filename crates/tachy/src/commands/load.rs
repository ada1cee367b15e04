//! `tachy load`: arguments and scenario file -> settings -> load run -> text or JSON, exports
//! (JSON, CSV timeline, HdrHistogram log) -> exit 1 when an SLO fails, 2 when nothing succeeded.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tachy_load::{Bound, LoadSettings, Slo};
use tachy_report::load::{ErrorClass, LoadEnd, LoadReport};
use tachy_report::render::load as render;

use crate::ExitStatus;
use crate::args::{LoadAction, LoadArgs, LoadMergeArgs, LoadOutputArgs};
use crate::printer;

/// Runs `tachy load` or `tachy load merge`.
pub fn run(args: LoadArgs, quiet: bool) -> Result<ExitStatus> {
    if let Some(LoadAction::Merge(m)) = &args.action {
        return merge(m);
    }
    let settings = settings(&args)?;
    // Every output is checked before the load starts, not after it.
    for (path, flag) in [
        (&args.output.export_json, "--export-json"),
        (&args.output.export_csv, "--export-csv"),
        (&args.output.hdr_log, "--hdr-log"),
        (&settings.profile_out, "--profile-out"),
    ] {
        if let Some(path) = path {
            crate::output::check(path, flag)?;
        }
    }
    let live = LiveView::new(quiet);
    let mut observer = live.observer();
    let result = tachy_load::run(&settings, &mut observer, &tachy_process::interrupt::interrupted);
    live.finish();
    let report = result?;
    let mut outputs = crate::output::Outputs::new();
    write_outputs(&args.output, &report, &mut outputs)?;
    let mut profile_failed = None;
    if let Some(sp) = &report.server_profile
        && sp.samples > 0
    {
        match &sp.write_error {
            Some(e) => profile_failed = Some(format!("server profile {}: cannot write the profile: {e}", sp.path)),
            None => printer::info(
                quiet || args.output.json,
                &format!("server profile written to {} (view it with `tachy profile show {}`)", sp.path, sp.path),
            ),
        }
    }
    outputs.finish()?;
    if let Some(msg) = profile_failed {
        bail!("{msg}");
    }
    Ok(verdict(&report))
}

/// Exit status of a report (after printing the reason when nothing succeeded).
fn verdict(report: &LoadReport) -> ExitStatus {
    if report.end == LoadEnd::Interrupted {
        return ExitStatus::Interrupted;
    }
    let t = &report.totals;
    if t.ok == 0 && t.requests == 0 {
        printer::error(&anyhow::anyhow!(
            "no request was answered during the run: the server accepted connections but sent nothing back; check the server, or raise -d/--timeout"
        ));
        return ExitStatus::Error;
    }
    if t.ok == 0 {
        if t.responses > 0 {
            let statuses: Vec<String> = t.status_counts.iter().map(|(s, n)| format!("{n} x {s}")).collect();
            printer::error(&anyhow::anyhow!(
                "no request succeeded: every response had an unexpected status ({}); check the server's logs, or list the expected statuses (expect_status in a scenario)",
                statuses.join(", ")
            ));
            return ExitStatus::Error;
        }
        let (class, n) =
            t.error_counts.iter().max_by_key(|(_, n)| **n).map(|(c, n)| (*c, *n)).unwrap_or((ErrorClass::Other, 0));
        let hint = match class {
            ErrorClass::Refused => "is the server still running?",
            ErrorClass::Timeout => "the server answered nothing within --timeout; raise it or check the server",
            ErrorClass::Tls => "check the TLS setup (--insecure for a self-signed certificate)",
            _ => "check the server's logs",
        };
        printer::error(&anyhow::anyhow!(
            "no request succeeded: {n} of {} failed with '{}'; {hint}",
            t.requests,
            class.describe()
        ));
        return ExitStatus::Error;
    }
    if report.slos_passed() { ExitStatus::Success } else { ExitStatus::Failure }
}

/// Writes the exports and prints the report (text or JSON); a failed export is kept and
/// reported after the report was printed.
fn write_outputs(out: &LoadOutputArgs, report: &LoadReport, outputs: &mut crate::output::Outputs) -> Result<()> {
    let json = render::json(report)?;
    if let Some(path) = &out.export_json {
        outputs.write(path, json.as_bytes());
    }
    if let Some(path) = &out.export_csv {
        outputs.write(path, &render::timeline_csv(report)?);
    }
    if let Some(path) = &out.hdr_log {
        let bytes = tachy_load::hdr_log::render(report)
            .map_err(|e| anyhow::anyhow!("cannot render the HdrHistogram log: {e}"))?;
        outputs.write(path, &bytes);
    }
    if out.json {
        printer::stdout(json.as_bytes())
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        printer::stdout(render::text(report, color).as_bytes())
    }
}

fn merge(args: &LoadMergeArgs) -> Result<ExitStatus> {
    let slos = args.slo.iter().map(|s| Slo::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let parts =
        args.files.iter().map(|p| tachy_load::merge::read(p).map(|r| (p.clone(), r))).collect::<Result<Vec<_>, _>>()?;
    for (path, flag) in [
        (&args.output.export_json, "--export-json"),
        (&args.output.export_csv, "--export-csv"),
        (&args.output.hdr_log, "--hdr-log"),
    ] {
        if let Some(path) = path {
            crate::output::check(path, flag)?;
        }
    }
    let report = tachy_load::merge::merge(&parts, &slos)?;
    let mut outputs = crate::output::Outputs::new();
    write_outputs(&args.output, &report, &mut outputs)?;
    outputs.finish()?;
    Ok(if report.slos_passed() { ExitStatus::Success } else { ExitStatus::Failure })
}

fn header(h: &str) -> Result<(String, String)> {
    let Some((k, v)) = h.split_once(':') else {
        bail!("header '{h}' has no ':'; write it like -H 'Authorization: Bearer xyz'");
    };
    let k = k.trim();
    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic()) {
        bail!("header {h:?} has an invalid name: a name is visible ASCII without spaces");
    }
    if let Some(b) = v.bytes().find(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        bail!(
            "header {h:?} has a control character ({b:#04x}) in its value: CR, LF and other control bytes are not allowed in HTTP headers"
        );
    }
    Ok((k.to_string(), v.trim().to_string()))
}

fn settings(args: &LoadArgs) -> Result<LoadSettings> {
    let scenario = args.scenario.as_deref().map(tachy_load::scenario::load).transpose()?;
    let url = match (&args.url, scenario.as_ref().and_then(|s| s.url.as_ref())) {
        (Some(u), _) | (None, Some(u)) => u.clone(),
        (None, None) if args.scenario.is_some() => {
            bail!("no URL: give one on the command line or as `url = \"http://...\"` in the scenario")
        }
        (None, None) => bail!("no URL: give the target, e.g. `tachy load http://127.0.0.1:8000/ -d 10s`"),
    };
    let mut s = LoadSettings::new(&url)?;
    let headers = args.headers.iter().map(|h| header(h)).collect::<Result<Vec<_>>>()?;
    if let Some(sc) = scenario {
        if args.method.is_some() || args.body.is_some() || args.body_file.is_some() {
            bail!("with --scenario, set the method and body of each request in the scenario file");
        }
        s.requests = sc.requests;
        for r in &mut s.requests {
            r.headers.extend(headers.iter().cloned());
        }
        s.stages = sc.stages;
        s.rate = args.rate.or(sc.rate);
        if let Some(c) = args.connections.or(sc.connections) {
            s.connections = c;
        }
        if let Some(t) = sc.timeout {
            s.timeout = t;
        }
        s.slos = sc.slos;
        s.bound = sc.duration.map(Bound::Duration);
        s.scenario = args.scenario.clone();
    } else {
        let r = &mut s.requests[0];
        if let Some(m) = &args.method {
            let m = m.to_ascii_uppercase();
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
                bail!("'{m}' is not an HTTP method");
            }
            r.name = format!("{m} {}", r.path);
            r.method = m;
        }
        r.headers = headers;
        if let Some(b) = &args.body {
            r.body = b.clone().into_bytes();
        }
        if let Some(f) = &args.body_file {
            r.body = std::fs::read(f).with_context(|| format!("cannot read --body-file {}", f.display()))?;
        }
        s.rate = args.rate;
        if let Some(c) = args.connections {
            s.connections = c;
        }
    }
    if let Some(n) = args.requests {
        s.bound = Some(Bound::Requests(n));
    }
    if let Some(d) = args.duration {
        s.bound = Some(Bound::Duration(d));
    }
    if let Some(t) = args.timeout {
        s.timeout = t;
    }
    s.threads = args.threads;
    s.keepalive = !args.no_keepalive;
    s.http2 = args.http2;
    s.streams = args.streams;
    s.insecure = args.insecure;
    for e in &args.slo {
        s.slos.push(Slo::parse(e)?);
    }
    check_size(&s)?;
    s.profile_pid = args.profile_pid;
    s.profile_rate = args.profile_rate;
    s.profile_gil = args.gil;
    s.profile_idle = args.idle;
    s.profile_out = match (&args.profile_out, &args.output.export_json, args.profile_pid) {
        (Some(p), _, _) => Some(p.clone()),
        (None, Some(j), Some(pid)) => Some(beside(j, pid)),
        _ => None,
    };
    Ok(s)
}

/// The highest open-model rate accepted (requests per second, over all stages).
const MAX_RATE: f64 = 10_000_000.0;

/// Refuses sizes that cannot be served before anything is allocated: more connections than
/// this process may open files (each connection is one), or a rate no generator reaches. The
/// soft file limit is raised to the hard one first, as wrk and oha do.
fn check_size(s: &LoadSettings) -> Result<()> {
    let rates =
        s.rate.into_iter().chain(s.rate.is_some().then(|| s.stages.iter().map(|st| st.target)).into_iter().flatten());
    for r in rates {
        if r > MAX_RATE {
            bail!(
                "a rate of {r} requests per second cannot be generated (the limit is {MAX_RATE}); lower --rate or the stage target"
            );
        }
    }
    let wanted = s.max_connections();
    let limit = raise_open_files_limit();
    // Leave room for the runtime, the profile and the output files.
    let usable = limit.saturating_sub(64);
    if wanted as u64 > usable {
        bail!(
            "{wanted} connections need as many open files, but this process may open {limit} (ulimit -n); lower -c (or the stage target) or raise the limit (ulimit -n {})",
            wanted.saturating_add(64)
        );
    }
    Ok(())
}

/// Raises the soft limit of open files to the hard limit; returns the soft limit in force.
fn raise_open_files_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit on our own process with a valid pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}

/// `run.json` -> `run.server-PID.json`.
fn beside(json: &Path, pid: u32) -> PathBuf {
    let stem = json.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "load".into());
    json.with_file_name(format!("{stem}.server-{pid}.json"))
}

/// The live line on a terminal, hidden when stderr is not one or with `--quiet`.
struct LiveView {
    bar: ProgressBar,
}

impl LiveView {
    fn new(quiet: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message("connecting; Ctrl-C stops and prints the results so far");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        LiveView { bar }
    }

    fn observer(&self) -> LiveObserver {
        LiveObserver { bar: self.bar.clone() }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

struct LiveObserver {
    bar: ProgressBar,
}

impl tachy_load::Observer for LiveObserver {
    fn tick(&mut self, t: &tachy_load::Tick) {
        self.bar.set_message(render::live_line(t.elapsed.as_secs_f64(), t.requests, t.rps, t.p99_ms, t.errors));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse() {
        assert_eq!(header("X-A: b c").unwrap(), ("X-A".to_string(), "b c".to_string()));
        assert!(header("nocolon").unwrap_err().to_string().contains("-H 'Authorization"));
        assert_eq!(beside(Path::new("out/run.json"), 7), PathBuf::from("out/run.server-7.json"));
    }
}
