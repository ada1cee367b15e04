//! Writing to the terminal: stdout that tolerates a closed pipe, one-line errors, warnings,
//! and progress bars that show only on an interactive terminal.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tachy_bench::{BenchCommand, Observer};

/// Writes `bytes` to stdout; a broken pipe comes back as an error that `main` treats as success.
pub fn stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// True when the error chain is a broken pipe on our own output.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Prints one error line: `tachy: error: what: why`.
#[allow(clippy::print_stderr)]
pub fn error(err: &anyhow::Error) {
    eprintln!("tachy: error: {}", one_line(err));
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
    eprintln!("tachy: warning: {msg}");
}

/// Prints an informational line to stderr unless quiet.
#[allow(clippy::print_stderr)]
pub fn info(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
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
}
