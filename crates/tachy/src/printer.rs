//! Writing to the terminal: stdout that tolerates a closed pipe, one-line errors, warnings,
//! and progress bars that show only on an interactive terminal.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tachy_bench::{BenchCommand, Observer};

/// Writes `bytes` to stdout; a broken pipe comes back as an error that `main` treats as success.
/// Control characters are escaped ([`terminal_safe`]): names, locals and command lines come
/// from the profiled program, which must not be able to drive the user's terminal.
pub fn stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match std::str::from_utf8(bytes) {
        Ok(text) => out.write_all(terminal_safe(text).as_bytes())?,
        // Binary output (pprof) is only written to files and pipes, never escaped.
        Err(_) => out.write_all(bytes)?,
    }
    out.flush()?;
    Ok(())
}

/// `text` with every control character but newline and tab written as a visible escape
/// (`\x1b`, `\r`, `\u{9b}`), except the colour codes tachy itself emits (SGR: `ESC [ digits ;
/// m`), so that no string read from a target (a function name, a local's repr, a command line)
/// can clear the screen, move the cursor, retitle the terminal or overwrite a line.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let is_sgr = |rest: &str| {
        let body = rest.strip_prefix('[').unwrap_or("");
        let end = body.find(|c: char| !(c.is_ascii_digit() || c == ';'));
        end.is_some_and(|e| body[e..].starts_with('m')).then(|| 1 + end.unwrap_or(0) + 1)
    };
    let needs = |c: char| (c.is_control() && c != '\n' && c != '\t') || c == '\u{7f}';
    if !text.chars().any(needs) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let len = c.len_utf8();
        if c == '\u{1b}'
            && let Some(n) = is_sgr(&text[i + 1..])
        {
            out.push_str(&text[i..i + 1 + n]);
            i += 1 + n;
            continue;
        }
        if needs(c) {
            match c {
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
        i += len;
    }
    std::borrow::Cow::Owned(out)
}

/// True when the error chain is a broken pipe on our own output.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Prints one error line: `tachy: error: what: why`.
#[allow(clippy::print_stderr)]
pub fn error(err: &anyhow::Error) {
    eprintln!("tachy: error: {}", terminal_safe(&one_line(err)));
}

/// The error chain on one line, each cause once: a cause whose text the message before it
/// already carries (`cannot read x: No such file (os error 2)` wrapping that same io error) is
/// not repeated.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// An I/O error's reason without the `(os error N)` suffix: `No such file or directory`.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Prints a warning line to stderr.
#[allow(clippy::print_stderr)]
pub fn warn(msg: &str) {
    eprintln!("tachy: warning: {}", terminal_safe(msg));
}

/// Prints an informational line to stderr unless quiet.
#[allow(clippy::print_stderr)]
pub fn info(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{}", terminal_safe(msg));
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal or with `--quiet`.
pub struct Progress {
    bar: ProgressBar,
    planned: Vec<bool>,
    commands: usize,
}

impl Progress {
    /// A bar for `commands` benchmarks.
    pub fn new(quiet: bool, commands: usize) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:40!} [{bar:30}] {pos}/{len} runs  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress { bar, planned: vec![false; commands], commands }
    }

    /// Shows a message (e.g. while calibrating).
    pub fn message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn warmup(&mut self, total: usize) {
        if total > 0 {
            self.bar.set_message(format!("warming up ({total} runs)"));
        }
    }

    fn run_done(&mut self, index: usize, command: &BenchCommand, _done: usize, planned: Option<usize>) {
        if let (Some(p), Some(seen)) = (planned, self.planned.get_mut(index))
            && !*seen
        {
            *seen = true;
            self.bar.inc_length(p as u64);
        }
        self.bar.set_message(format!("{}/{} {}", index + 1, self.commands, command.name));
        self.bar.inc(1);
    }
}

/// A spinner on stderr while sampling, hidden when stderr is not a terminal or with `--quiet`.
pub struct ProfileProgress {
    bar: ProgressBar,
}

impl ProfileProgress {
    /// A spinner.
    pub fn new(quiet: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let bar = if visible { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message("starting the program");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        ProfileProgress { bar }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl tachy_profile::Observer for ProfileProgress {
    fn attached(&mut self, pid: u32, version: &str) {
        self.bar.set_message(format!("sampling pid {pid} (Python {version}); Ctrl-C stops"));
    }

    fn progress(&mut self, samples: u64, elapsed: std::time::Duration) {
        self.bar.set_message(format!("sampling: {samples} samples in {:.1} s; Ctrl-C stops", elapsed.as_secs_f64()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_printed_once() {
        let io = std::io::Error::from_raw_os_error(2);
        let err =
            anyhow::Error::new(io).context(format!("cannot read nope.json: {}", std::io::Error::from_raw_os_error(2)));
        assert_eq!(one_line(&err), "cannot read nope.json: No such file or directory (os error 2)");
        let err = anyhow::Error::new(std::io::Error::from_raw_os_error(2)).context("cannot read nope.json");
        assert_eq!(one_line(&err), "cannot read nope.json: No such file or directory (os error 2)");
        assert_eq!(io_reason(&std::io::Error::from_raw_os_error(28)), "No space left on device");
    }

    #[test]
    fn control_characters_are_escaped_but_colours_kept() {
        let hostile = "x\u{1b}[2J\u{1b}]0;pwned\u{7}\rFAKE\u{9b}2J";
        assert_eq!(terminal_safe(hostile), "x\\x1b[2J\\x1b]0;pwned\\x07\\rFAKE\\x9b2J");
        assert_eq!(terminal_safe("\u{1b}[1;31mred\u{1b}[0m\n\tok"), "\u{1b}[1;31mred\u{1b}[0m\n\tok");
        assert!(matches!(terminal_safe("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
