//! `tachy watch`: arguments -> settings -> sampling loop with a live view, alert lines,
//! streamed CSV/JSONL, Prometheus -> end report (text or JSON) and plot -> exit 1 when an
//! alert fired.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use tachy_report::render::watch as render;
use tachy_report::watch::{AlertEvent, Sample};
use tachy_watch::alert::Alert;
use tachy_watch::config::{self, WatchConfig};
use tachy_watch::{Target, WatchSettings};

use crate::ExitStatus;
use crate::args::WatchArgs;
use crate::printer;

/// Runs `tachy watch`.
pub fn run(args: &WatchArgs, quiet: bool) -> Result<ExitStatus> {
    let target = match (args.pid, args.command.is_empty()) {
        (Some(pid), true) => Target::Pid(pid),
        (None, false) => Target::Launch(args.command.clone()),
        (None, true) => {
            bail!("nothing to watch: give --pid PID or a command after --, e.g. `tachy watch -- python3 app.py`")
        }
        (Some(_), false) => bail!("give --pid or a command, not both"),
    };
    let config = match (&args.config, args.isolated) {
        (_, true) => WatchConfig::default(),
        (Some(path), false) => config::load(path)?,
        (None, false) => match std::env::current_dir().ok().and_then(|d| config::discover(&d)) {
            Some(path) => config::load(&path)?,
            None => WatchConfig::default(),
        },
    };
    if let Some(path) = &config.path
        && !config.alerts.is_empty()
    {
        printer::info(quiet || args.json, &format!("{} alert(s) from {}", config.alerts.len(), path.display()));
    }
    let mut alerts = config.alerts.clone();
    for a in &args.alert {
        let alert = Alert::parse(a)?;
        if !alerts.iter().any(|x| x.expr == alert.expr) {
            alerts.push(alert);
        }
    }
    let mut settings = WatchSettings::new(target);
    settings.children = args.children;
    if let Some(i) = args.interval.or(config.interval) {
        settings.interval = i;
    }
    settings.duration = args.duration;
    settings.growth_threshold = WatchSettings::growth_threshold_for(&alerts);
    settings.alerts = alerts.clone();
    settings.growth_window = args.growth_window.or(config.growth_window);
    // The JSON report owns stdout: the launched program's output goes to stderr.
    settings.child_stdout_to_stderr = args.json;
    settings.prometheus = args.prometheus.clone().or(config.prometheus);
    settings.on_alert = args.on_alert.clone().or(config.on_alert);

    if let Some(path) = &args.plot {
        crate::output::check(path, "--plot")?;
    }
    let open = |p: &Path| -> Result<BufWriter<File>> {
        Ok(BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?))
    };
    let mut csv = args.csv.as_deref().map(open).transpose()?;
    if let (Some(w), Some(path)) = (csv.as_mut(), args.csv.as_deref()) {
        w.write_all(render::csv_header().as_bytes())
            .and_then(|()| w.flush())
            .with_context(|| format!("cannot write {} (--csv)", path.display()))?;
    }
    let jsonl = args.jsonl.as_deref().map(open).transpose()?;
    let live = !quiet && std::io::stderr().is_terminal();
    let mut observer = Live { live, csv, jsonl, history: Vec::new(), drawn: 0, error: None };
    let report = tachy_watch::run(&settings, &mut observer, &tachy_process::interrupt::interrupted);
    observer.clear();
    if let Some(e) = observer.error.take() {
        printer::warn(&format!("writing the timeline failed: {e}"));
    }
    let report = report?;
    let mut outputs = crate::output::Outputs::new();
    if let Some(path) = &args.plot {
        let thresholds: Vec<(String, f64, String)> =
            alerts.iter().map(|a| (a.expr.clone(), a.threshold, a.unit.to_string())).collect();
        if outputs.write(path, render::plot(&report, &thresholds).as_bytes()) {
            printer::info(quiet || args.json, &format!("Wrote the plot to {}", path.display()));
        }
    }
    if args.json {
        printer::stdout(render::json(&report)?.as_bytes())?;
    } else {
        printer::stdout(
            render::text(&report, std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()).as_bytes(),
        )?;
    }
    outputs.finish()?;
    // A launched command that ended by itself non-zero or by a signal failed (the exit-code
    // rule of commands/mod.rs); one stopped by --duration or Ctrl-C did not.
    use tachy_report::watch::WatchEnd;
    let program = match (&settings.target, report.end, report.exit_code) {
        (Target::Launch(_), WatchEnd::TargetExited, Some(0)) | (Target::Pid(_), ..) => None,
        (Target::Launch(_), WatchEnd::TargetExited, Some(c)) => Some(format!("exited with code {c}")),
        (Target::Launch(_), WatchEnd::TargetExited, None) => Some("was killed by a signal".to_string()),
        (Target::Launch(_), ..) => None,
    };
    let interrupted = report.end == WatchEnd::Interrupted || tachy_process::interrupt::interrupted();
    Ok(super::launched_verdict(interrupted, program, (!report.quiet()).then_some("an alert fired")))
}

struct Live {
    live: bool,
    csv: Option<BufWriter<File>>,
    jsonl: Option<BufWriter<File>>,
    history: Vec<(f64, f64)>,
    drawn: usize,
    error: Option<std::io::Error>,
}

impl Live {
    #[allow(clippy::print_stderr)]
    fn clear(&mut self) {
        if self.live && self.drawn > 0 {
            eprint!("\x1b[{}A\x1b[J", self.drawn);
            self.drawn = 0;
        }
    }

    fn write_rows(&mut self, sample: &Sample) -> std::io::Result<()> {
        if let Some(w) = self.csv.as_mut() {
            w.write_all(render::csv_row(sample).as_bytes())?;
            w.flush()?;
        }
        if let Some(w) = self.jsonl.as_mut() {
            w.write_all(render::jsonl_row(sample).as_bytes())?;
            w.flush()?;
        }
        Ok(())
    }
}

impl tachy_watch::Observer for Live {
    #[allow(clippy::print_stderr)]
    fn started(&mut self, pid: u32, command: &str, prometheus: Option<std::net::SocketAddr>) {
        if self.live {
            eprintln!("watching pid {pid} ({command}); Ctrl-C stops");
        }
        if let Some(addr) = prometheus {
            eprintln!("Prometheus metrics at http://{addr}/metrics");
        }
    }

    #[allow(clippy::print_stderr)]
    fn sample(&mut self, sample: &Sample, firing: &[String]) {
        if let Err(e) = self.write_rows(sample)
            && self.error.is_none()
        {
            self.error = Some(e);
        }
        if !self.live {
            return;
        }
        let rss = sample.total.rss_bytes.unwrap_or(0) as f64;
        let cpu = sample.total.cpu_user_percent.unwrap_or(0.0) + sample.total.cpu_system_percent.unwrap_or(0.0);
        self.history.push((rss, cpu));
        if self.history.len() > 60 {
            self.history.remove(0);
        }
        let text = render::live(sample, &self.history, firing);
        self.clear();
        eprint!("{text}");
        self.drawn = text.lines().count();
    }

    #[allow(clippy::print_stderr)]
    fn event(&mut self, event: &AlertEvent) {
        self.clear();
        eprintln!("{}", render::event_line(event));
    }
}
