//! Collapsed stacks (`root;child;leaf count`), the input format of flamegraph.pl and inferno.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::profile::{FrameInfo, Profile};

/// The label of a frame: `function (file)` or, with `lines`, `function (file:line)`.
/// Semicolons (the separator) are replaced.
pub fn label(f: &FrameInfo, lines: bool) -> String {
    let s = if lines {
        format!("{} ({}:{})", f.function, f.display_file(), f.line)
    } else {
        format!("{} ({})", f.function, f.display_file())
    };
    s.replace(';', ":")
}

/// Collapsed stacks with counts, merged by label, sorted by stack text.
pub fn stacks(profile: &Profile, lines: bool) -> BTreeMap<String, u64> {
    let labels: Vec<String> = profile.frames.iter().map(|f| label(f, lines)).collect();
    let multi = profile.multi_process();
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    let mut key = String::new();
    for s in &profile.stacks {
        key.clear();
        let thread = profile.threads.get(s.thread as usize);
        if multi && let Some(t) = thread {
            let _ = write!(key, "process {};", t.pid);
        }
        if profile.meta.options.threads
            && let Some(t) = thread
        {
            key.push_str(&t.label().replace(';', ":"));
            key.push(';');
        }
        for (i, &fr) in s.frames.iter().enumerate() {
            if i > 0 {
                key.push(';');
            }
            key.push_str(labels.get(fr as usize).map_or("?", String::as_str));
        }
        if key.ends_with(';') {
            key.pop();
        }
        if key.is_empty() {
            key.push_str("<no Python frames>");
        }
        *out.entry(key.clone()).or_insert(0) += s.count;
    }
    out
}

/// Renders collapsed stacks, one per line.
pub fn render(profile: &Profile, lines: bool) -> String {
    let mut out = String::new();
    for (stack, n) in stacks(profile, lines) {
        let _ = writeln!(out, "{stack} {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::fixture;

    #[test]
    fn lines_parse_back_to_the_same_counts() {
        let p = fixture::profile();
        let text = render(&p, false);
        let mut total = 0;
        for line in text.lines() {
            let (stack, n) = line.rsplit_once(' ').unwrap();
            assert!(!stack.is_empty());
            total += n.parse::<u64>().unwrap();
        }
        assert_eq!(total, p.total_samples());
        insta::assert_snapshot!(text);
    }

    #[test]
    fn line_labels_include_the_line() {
        assert!(render(&fixture::profile(), true).contains("work (main.py:3)"));
    }
}
