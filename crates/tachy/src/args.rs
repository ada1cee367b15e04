//! Command-line arguments (clap derive). Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
pub use tachy_report::units::{parse_duration, parse_size, parse_size_written};

/// tachy: the performance toolkit for Python, in one fast binary.
#[derive(Debug, Parser)]
#[command(name = "tachy", version, about, propagate_version = true, arg_required_else_help = true)]
pub struct Cli {
    /// Print nothing but results and errors (no progress bars or notes).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The tachy commands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum Command {
    /// Benchmark commands: interleaved runs, robust statistics, significance tests,
    /// baselines and a regression gate.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Bench(BenchArgs),
    /// Sampling CPU profiler for Python: launch a program or attach to a PID; flamegraph,
    /// speedscope, pprof, Chrome trace; `show` re-renders, `diff` compares two profiles.
    #[command(args_conflicts_with_subcommands = true)]
    Profile(ProfileArgs),
    /// Print every thread's current Python stack of a running process, once (for hangs).
    Dump(DumpArgs),
    /// Live view of where a Python program spends its time (like top, per function).
    Top(TopArgs),
    /// Lint Python source for performance anti-patterns, ranked by measured CPU cost when a
    /// profile is given.
    Lint(LintArgs),
    /// HTTP load test: closed or open model (coordinated omission corrected), scenarios, SLO
    /// gates, a server-side profile; `merge` combines runs made on several machines.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Load(LoadArgs),
    /// Memory profiler for Python: peak (exact) and what was live at it, allocation sites,
    /// leaks, RSS timeline; flamegraphs, speedscope, pprof; `show` re-renders a saved report.
    #[command(args_conflicts_with_subcommands = true)]
    Mem(MemArgs),
    /// Monitor a process (tree): CPU, memory (RSS/USS/PSS), threads, fds, TCP, I/O; robust
    /// leak detection, alerts, CSV/JSONL timelines, an SVG plot and a Prometheus endpoint.
    Watch(WatchArgs),
    /// Run the performance budgets of tachy.toml or pyproject.toml's [tool.tachy]: a table of
    /// verdicts, JUnit/Markdown/GitHub summaries, a history with step-change detection.
    Check(CheckArgs),
    /// Write a starter tachy.toml (or [tool.tachy] in pyproject.toml) with budgets set to the
    /// common targets (p95 <= 200 ms, errors <= 1 %, growth <= 5 MB/h, ...).
    Init(InitArgs),
    /// Build one self-contained HTML report from tachy results (bench, load, profile, mem,
    /// watch, lint, check JSON).
    Report(ReportArgs),
}

/// `tachy check`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy check\n  tachy check --only api-latency --junit junit.xml --markdown comment.md\n  tachy check --report report.html\n  tachy check --history\n\nExit codes: 0 every budget held, 1 a budget failed, 2 a budget could not run or tachy failed, 130 Ctrl-C."
)]
pub struct CheckArgs {
    /// The config file (default: the nearest tachy.toml, else pyproject.toml with [tool.tachy]).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Run only this budget (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,

    /// Write a JUnit XML file: one test case per budget.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write a Markdown summary (for a pull-request comment).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Write the check report as JSON (schema tachy-check/1).
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,

    /// Print the check report as JSON instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Write one self-contained HTML report of the run (verdicts and every budget's results).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Keep every budget's tachy result files in this folder (default: .tachy/results beside
    /// the config file).
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<PathBuf>,

    /// Overwrite the saved baselines (bench, profile, lint) with this run's results.
    #[arg(long)]
    pub update_baselines: bool,

    /// Do not append this run to the history.
    #[arg(long)]
    pub no_history: bool,

    /// Show each metric's trend from the history and flag step changes, instead of running.
    #[arg(long)]
    pub history: bool,

    /// Print the JSON schema of the config file and exit.
    #[arg(long)]
    pub schema: bool,
}

/// `tachy init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Add `[tool.tachy]` to pyproject.toml instead of writing tachy.toml.
    #[arg(long)]
    pub pyproject: bool,

    /// The folder to write in (default: the current folder).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// The Python command that runs the program (used by the mem, profile and watch budgets).
    #[arg(long, value_name = "CMD")]
    pub command: Option<String>,

    /// The URL of the service to load (used by the load budget).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// The command that starts the server under test (used by the load budget).
    #[arg(long, value_name = "CMD")]
    pub server: Option<String>,

    /// Overwrite an existing tachy.toml or [tool.tachy].
    #[arg(long)]
    pub force: bool,
}

/// `tachy report`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy report bench.json load.json profile.json -o report.html\n  tachy report check.json -o report.html --title 'nightly'"
)]
pub struct ReportArgs {
    /// tachy result files (JSON of bench, load, profile, mem, watch, lint or check).
    #[arg(value_name = "RESULT", required = true)]
    pub results: Vec<PathBuf>,

    /// The HTML file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    /// The report's title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
}

/// `tachy watch`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy watch --pid 1234 --alert 'rss>150MB' --alert 'growth>5MB/h'\n  tachy watch --interval 100ms --duration 1m --csv app.csv --plot app.svg -- python3 app.py\n  tachy watch --pid 1234 --children --prometheus 127.0.0.1:9184\n\nAlerts: rss|uss|pss|swap|vms>SIZE (150MB, 1GiB), growth>RATE (5MB/h), cpu>PCT (90%),\n        threads|fds|tcp|tcp_<state>>N, with > >= < <=.\nExit codes: 0 no alert fired, 1 an alert fired, 2 tachy failed, 130 Ctrl-C."
)]
pub struct WatchArgs {
    /// Watch this running process.
    #[arg(short, long, value_name = "PID", conflicts_with = "command")]
    pub pid: Option<u32>,

    /// Include every descendant process (per process and summed).
    #[arg(long)]
    pub children: bool,

    /// Sampling period [default: 1s].
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<std::time::Duration>,

    /// Stop after this long (default: until the process exits or Ctrl-C).
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,

    /// Read alerts and options from this TOML file (`[tool.tachy.watch]` or `[watch]`)
    /// instead of the nearest pyproject.toml's `[tool.tachy.watch]`.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,

    /// Alert expression (repeatable, added to the config's), e.g. 'rss>150MB', 'growth>5MB/h', 'cpu>90%'.
    #[arg(short, long, value_name = "EXPR")]
    pub alert: Vec<String>,

    /// Run this shell command on every alert firing or clearing (TACHY_ALERT,
    /// TACHY_ALERT_STATE, TACHY_ALERT_VALUE, TACHY_ALERT_THRESHOLD, TACHY_ALERT_UNIT,
    /// TACHY_ALERT_TIME and TACHY_PID in its environment).
    #[arg(long, value_name = "CMD")]
    pub on_alert: Option<String>,

    /// Fit the memory growth over the last DURATION only [default: the whole run]; the
    /// warm-up is left out either way.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub growth_window: Option<std::time::Duration>,

    /// Stream one CSV row per sample (totals) to FILE, flushed as it goes.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Stream one JSON line per sample (every process) to FILE, flushed as it goes.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,

    /// Draw RSS and CPU over time, with alert thresholds, to FILE (SVG) at the end.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Serve Prometheus metrics at http://ADDR/metrics (a bare port binds 127.0.0.1).
    #[arg(long, value_name = "ADDR")]
    pub prometheus: Option<String>,

    /// Print the end report as JSON instead of text (a launched command's stdout then goes to stderr).
    #[arg(long)]
    pub json: bool,

    /// The command to launch and watch, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `tachy mem`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy mem -- python3 app.py\n  tachy mem -o app.mem.json --format flamegraph --format plot -- python3 app.py\n  tachy mem --max-peak 500MB --max-leak 10MB -- python3 job.py\n  tachy mem show app.mem.json --format pprof -o app.pb.gz\n\nSizes: 500MB and 10KB are decimal, 256KiB and 1GiB binary.\nExit codes: 0 ok, 1 a budget was exceeded, 2 tachy failed, 130 Ctrl-C (partial results written)."
)]
pub struct MemArgs {
    #[command(subcommand)]
    pub action: Option<MemAction>,

    /// Save the report (tachy-mem/1 JSON, re-rendered by `tachy mem show`) to FILE; other
    /// formats are written beside it.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output formats (repeatable): text, json, flamegraph (live at the peak),
    /// flamegraph-allocated, flamegraph-leaks, speedscope, pprof, plot (SVG timeline).
    #[arg(short, long = "format", value_enum, value_name = "FORMAT", global = true)]
    pub formats: Vec<tachy_report::render::mem::MemFormat>,

    /// Mean bytes allocated between two sampled stacks (e.g. 64KiB, 1MiB).
    #[arg(long, value_name = "SIZE", default_value = "256KiB", value_parser = parse_size, conflicts_with = "exact")]
    pub sample_bytes: u64,

    /// Record the stack of every allocation (slower, exact per-site figures).
    #[arg(long)]
    pub exact: bool,

    /// Trace child Python processes too (each writes its own capture; all are merged).
    #[arg(short, long)]
    pub subprocesses: bool,

    /// Trace the C allocator too (the default): malloc, calloc, realloc, free, posix_memalign,
    /// ... through LD_PRELOAD, so memory C extensions take directly (numpy arrays) counts in the
    /// traced peak and is sampled at its Python line.
    #[arg(long, conflicts_with = "no_native")]
    pub native: bool,

    /// Trace only the Python allocators (no LD_PRELOAD; slightly cheaper). Memory C code takes
    /// directly then shows in the RSS only.
    #[arg(long)]
    pub no_native: bool,

    /// Period of the memory timeline.
    #[arg(long, value_name = "DURATION", default_value = "10ms", value_parser = parse_duration)]
    pub interval: std::time::Duration,

    /// Exit 1 when the peak traced memory exceeds SIZE (e.g. 500MB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_written)]
    pub max_peak: Option<tachy_report::units::Size>,

    /// Exit 1 when the memory still allocated at exit exceeds SIZE (e.g. 10MB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_written)]
    pub max_leak: Option<tachy_report::units::Size>,

    /// Keep the raw captures (`<pid>.tmc`, see docs/mem-format.md) in DIR.
    #[arg(long, value_name = "DIR")]
    pub keep_captures: Option<PathBuf>,

    /// The Python program to run, after `--` (words that are not UTF-8 are kept as given).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// `tachy mem` subcommands.
#[derive(Debug, Subcommand)]
pub enum MemAction {
    /// Re-render a report saved with `tachy mem -o`.
    Show(MemShowArgs),
}

/// `tachy mem show`.
#[derive(Debug, Args)]
pub struct MemShowArgs {
    /// A report saved with `tachy mem -o`.
    pub file: PathBuf,
    /// Write to this file instead of stdout (needed for pprof, which is binary).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// `tachy load`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy load http://127.0.0.1:8000/ -c 50 -d 10s\n  tachy load http://127.0.0.1:8000/api --rate 500 -d 30s --slo 'p95<200ms' --slo 'errors<1%'\n  tachy load --scenario shop.toml -d 1m --export-json run.json\n  tachy load http://127.0.0.1:8000/ -d 20s --profile-pid $(pgrep -f uvicorn | head -1)\n  tachy load merge worker-*.json --slo 'p99<500ms'\n\nExit codes: 0 ok, 1 an SLO failed, 2 tachy failed or no request succeeded, 130 Ctrl-C (partial results printed)."
)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub action: Option<LoadAction>,

    /// Target URL (http:// or https://); optional with a scenario that gives `url`.
    #[arg(value_name = "URL")]
    pub url: Option<String>,

    /// Concurrent connections (closed model), or connections sharing the schedule (open model).
    #[arg(short, long, value_name = "N")]
    pub connections: Option<usize>,

    /// Run for this long (e.g. 10s, 500ms, 2m).
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "requests")]
    pub duration: Option<std::time::Duration>,

    /// Stop after exactly N requests (each ends as a response or an error).
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<u64>,

    /// Open model: send R requests per second on a fixed schedule; latency is measured from
    /// each request's intended send time (coordinated omission corrected). A planned request
    /// its connection could not send because the server had not answered yet is dropped and
    /// fails the run unless a 'dropped' SLO allows it.
    #[arg(short, long, value_name = "R")]
    pub rate: Option<f64>,

    /// Worker threads (default: one per core, at most one per connection).
    #[arg(short, long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,

    /// HTTP method.
    #[arg(short, long, value_name = "METHOD")]
    pub method: Option<String>,

    /// Extra header 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,

    /// Request body.
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Request body read from a file.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Per-request timeout; a slower request counts as a timeout.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// Open a new connection for every request.
    #[arg(long)]
    pub no_keepalive: bool,

    /// Speak HTTP/2 (prior knowledge on http://, ALPN on https://).
    #[arg(long)]
    pub http2: bool,

    /// With --http2: concurrent requests (streams) on each connection, so -c 4 --streams 25
    /// keeps 100 requests in flight over 4 connections (oha's -p).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub streams: usize,

    /// Accept any TLS certificate (self-signed servers).
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// Scenario file (TOML): weighted named requests, stages, per-request SLOs.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Service-level objective, e.g. 'p95<200ms', 'errors<1%', 'timeouts<0.5%', 'rps>=100',
    /// and with --rate 'dropped<=10' or 'dropped<1%' (default 'dropped<=0') (repeatable); exit
    /// 1 when one fails.
    #[arg(long, value_name = "EXPR")]
    pub slo: Vec<String>,

    #[command(flatten)]
    pub output: LoadOutputArgs,

    /// Profile this process (the server) while the load runs.
    #[arg(long, value_name = "PID")]
    pub profile_pid: Option<u32>,

    /// Where the server profile goes (default: beside --export-json, else
    /// tachy-load-server-PID.json).
    #[arg(long, value_name = "FILE", requires = "profile_pid")]
    pub profile_out: Option<PathBuf>,

    /// Samples per second of the server profile.
    #[arg(long, value_name = "HZ", default_value_t = 100.0)]
    pub profile_rate: f64,

    /// Server profile: sample only the thread holding the GIL (by default every running
    /// thread is sampled, so in a threaded server a line that releases the GIL, such as a
    /// database call, is counted once per thread in it).
    #[arg(long, requires = "profile_pid")]
    pub gil: bool,

    /// Server profile: include idle threads (waiting on locks, I/O or sleep).
    #[arg(long, requires = "profile_pid", conflicts_with = "gil")]
    pub idle: bool,
}

/// `tachy load` subcommands.
#[derive(Debug, Subcommand)]
pub enum LoadAction {
    /// Merge reports of runs made at the same time (e.g. on several machines): histograms
    /// merged, counts and rates added, SLOs evaluated again.
    Merge(LoadMergeArgs),
}

/// `tachy load merge`.
#[derive(Debug, Args)]
pub struct LoadMergeArgs {
    /// Reports written with `tachy load --export-json`.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Extra SLOs to check on the merged figures (repeatable).
    #[arg(long, value_name = "EXPR")]
    pub slo: Vec<String>,
    #[command(flatten)]
    pub output: LoadOutputArgs,
}

/// Output options of `tachy load` and `tachy load merge`.
#[derive(Debug, Args)]
pub struct LoadOutputArgs {
    /// Print the JSON report to stdout instead of the text summary.
    #[arg(long)]
    pub json: bool,
    /// Write the JSON report (mergeable with `tachy load merge`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Write the per-second timeline as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// Write the per-second latency histograms as an HdrHistogram interval log to FILE.
    #[arg(long, value_name = "FILE")]
    pub hdr_log: Option<PathBuf>,
}

/// `tachy lint`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy lint src/\n  tachy lint --select TA2 --output-format github .\n  tachy lint --fix app.py\n  tachy profile -o app.json -- python3 app.py && tachy lint --profile app.json --min-share 1% .\n  tachy lint --explain TA101\n\nExit codes: 0 no findings, 1 findings (or files that could not be linted), 2 tachy failed."
)]
pub struct LintArgs {
    /// Files or folders to lint (folders are walked, honouring .gitignore).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Rules to enable: codes (TA101), prefixes (TA1, TA) or ALL; comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Rules to disable (codes or prefixes).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// Extra files or folders to skip (globs), besides .venv, build, __pycache__, ...
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = tachy_report::render::lint::LintFormat::Text)]
    pub output_format: tachy_report::render::lint::LintFormat,
    /// Write the output to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Print the number of findings per rule instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Apply safe fixes to the files (each fixed file is re-parsed; a fix that would break
    /// the syntax is not applied).
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// Show the fixes as a unified diff without writing them (exit 1 when there are any).
    #[arg(long)]
    pub diff: bool,
    /// Apply unsafe fixes too (with --fix or --diff).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// A saved `tachy profile` (JSON): each finding shows the CPU share measured on its lines
    /// and function, and findings are sorted by it.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// With --profile: hide findings whose lines took less than this share of CPU (e.g. 1%).
    #[arg(long, value_name = "PCT", value_parser = parse_share, requires = "profile")]
    pub min_share: Option<f64>,
    /// Read settings from this pyproject.toml instead of the nearest one.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,
    /// List the rules and exit.
    #[arg(long)]
    pub list_rules: bool,
    /// Print a rule's documentation (why it is slow, an example, the fix) and exit.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,
}

/// Parses a share like `1%`, `0.5%` or `2` (percent) into a fraction.
pub fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%').trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Ok(v / 100.0),
        _ => Err(format!("'{s}' is not a percentage between 0% and 100% (e.g. 1%)")),
    }
}

/// Sampling options shared by `tachy profile` and `tachy top`.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// Attach to this running process instead of launching one.
    #[arg(short, long, value_name = "PID", conflicts_with = "command")]
    pub pid: Option<u32>,
    /// Samples per second.
    #[arg(short, long, value_name = "HZ", default_value_t = 100.0)]
    pub rate: f64,
    /// Stop after this long (e.g. 30s); by default, when the program exits or on Ctrl-C.
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Follow child Python processes too (e.g. multiprocessing workers).
    #[arg(short, long)]
    pub subprocesses: bool,
    /// Include idle threads (waiting on locks, I/O or sleep).
    #[arg(short, long)]
    pub idle: bool,
    /// Do not pause the program while reading its stacks (lower overhead, rare torn stacks).
    #[arg(long)]
    pub nonblocking: bool,
    /// Include native (C/C++) frames (`native` build feature).
    #[arg(long)]
    pub native: bool,
}

/// `tachy top`.
#[derive(Debug, Args)]
#[command(
    after_help = "Keys: o/t/n sort by own share, total share or name; q quits.\nExamples:\n  tachy top --pid 1234\n  tachy top -o session.json -- python3 app.py"
)]
pub struct TopArgs {
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Seconds between refreshes.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub refresh: f64,
    /// Save the whole session as a profile (the `tachy profile -o` format) when it ends.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Rows per table when stdout is not a terminal.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub rows: usize,
    /// The program to launch, after `--` (words that are not UTF-8 are kept as given).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// `tachy dump`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy dump --pid 1234\n  tachy dump --pid 1234 --locals --subprocesses\n  tachy dump --pid 1234 --json | jq '.processes[0].threads[].name'"
)]
pub struct DumpArgs {
    /// The process to inspect.
    #[arg(short, long, value_name = "PID")]
    pub pid: u32,
    /// Show each frame's local variables (reprs read from memory and truncated; no code runs
    /// in the process).
    #[arg(short, long)]
    pub locals: bool,
    /// Print JSON (schema tachy-dump/1).
    #[arg(long)]
    pub json: bool,
    /// Also dump the process's Python children.
    #[arg(short, long)]
    pub subprocesses: bool,
    /// Do not pause the process while reading it.
    #[arg(long)]
    pub nonblocking: bool,
    /// Include native (C) frames (`native` build feature).
    #[arg(long)]
    pub native: bool,
}

/// `tachy profile`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy profile -- python3 app.py --port 8000\n  tachy profile --pid 1234 --duration 30 -o app.json --format flamegraph\n  tachy profile show app.json --format pprof -o app.pb.gz\n  tachy profile diff before.json after.json --fail-if-grows 5"
)]
pub struct ProfileArgs {
    #[command(subcommand)]
    pub action: Option<ProfileAction>,

    #[command(flatten)]
    pub sampling: SamplingArgs,

    /// Split stacks by thread (thread names shown).
    #[arg(short, long)]
    pub threads: bool,

    /// Only sample the thread holding the GIL.
    #[arg(long)]
    pub gil: bool,

    /// Save the profile (tachy JSON) to FILE; other formats are written beside it.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub render: ProfileRenderArgs,

    /// The program to launch, after `--` (words that are not UTF-8 are kept as given).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// Rendering options shared by `tachy profile` and `tachy profile show`.
#[derive(Debug, Args)]
pub struct ProfileRenderArgs {
    /// Output formats (repeatable): text, json, collapsed, flamegraph, speedscope, pprof, chrome.
    #[arg(short, long = "format", value_enum, value_name = "FORMAT", global = true)]
    pub formats: Vec<tachy_report::render::profile::ProfileFormat>,

    /// Show hot lines, and label frames by line in flamegraphs and collapsed stacks.
    #[arg(long, global = true)]
    pub lines: bool,

    /// Rows in each table of the text summary.
    #[arg(long, value_name = "N", default_value_t = 15, global = true)]
    pub top: usize,
}

/// `tachy profile` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Re-render a saved profile without re-running.
    Show(ProfileShowArgs),
    /// Compare two saved profiles function by function.
    Diff(ProfileDiffArgs),
}

/// `tachy profile show`.
#[derive(Debug, Args)]
pub struct ProfileShowArgs {
    /// A profile saved with `tachy profile -o`.
    pub file: std::path::PathBuf,
    /// Write to this file instead of stdout (needed for pprof, which is binary).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<std::path::PathBuf>,
}

/// `tachy profile diff`.
#[derive(Debug, Args)]
pub struct ProfileDiffArgs {
    /// The earlier profile.
    pub before: std::path::PathBuf,
    /// The later profile.
    pub after: std::path::PathBuf,
    /// Exit 1 when a function's self share grew significantly by more than PCT points.
    #[arg(long, value_name = "PCT")]
    pub fail_if_grows: Option<f64>,
    /// Write a differential flamegraph SVG to this file.
    #[arg(short, long, value_name = "SVG")]
    pub output: Option<std::path::PathBuf>,
    /// Print the diff as JSON.
    #[arg(long)]
    pub json: bool,
    /// Rows in the table.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
}

/// `tachy bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tachy bench 'python3 a.py' 'python3 b.py'\n  tachy bench -N --warmup 3 'python3 -c \"sum(range(10**6))\"'\n  tachy bench --save-baseline main 'python3 app.py'\n  tachy bench --baseline main --max-regression 5% 'python3 app.py'\n  tachy bench --setup 'xs = list(range(10_000)); s = set(xs)' --python '5000 in xs' --python '5000 in s'\n  tachy bench compare old.json new.json"
)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub action: Option<BenchAction>,

    /// Commands to benchmark (run with `sh -c` unless -N).
    #[arg(value_name = "COMMAND", required_unless_present_any = ["python", "from_raw"], conflicts_with_all = ["python", "from_raw"])]
    pub commands: Vec<String>,

    /// A timeit-style Python statement to benchmark instead of commands (repeat to compare
    /// several). Each runs in --processes fresh worker processes giving --values values each
    /// (after --warmup untimed values, at least 1); loops are calibrated like timeit's autorange
    /// so the values fill --min-time. --setup is Python code run before each value (untimed).
    #[arg(long, value_name = "STMT", conflicts_with = "from_raw")]
    pub python: Vec<String>,

    /// The interpreter for --python (default: the real interpreter behind `python3`).
    #[arg(long, value_name = "PATH")]
    pub python_exe: Option<PathBuf>,

    /// --python: worker processes per statement [default: 10].
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,

    /// --python: timed values per worker process [default: 5].
    #[arg(long, value_name = "N")]
    pub values: Option<usize>,

    /// Read per-round timings measured elsewhere (the pytest plugin's raw file) instead of
    /// running anything; statistics, baselines and the gate apply as usual.
    #[arg(long, value_name = "FILE", hide = true)]
    pub from_raw: Option<PathBuf>,

    /// Write the results in pytest-benchmark's JSON format to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_pytest_json: Option<PathBuf>,

    /// Untimed runs of each command before timing.
    #[arg(short, long, value_name = "N", default_value_t = 0)]
    pub warmup: usize,

    /// Exact number of timed runs per command (default: automatic, see --min-time).
    #[arg(short, long, value_name = "N", conflicts_with_all = ["min_runs", "max_runs", "python"])]
    pub runs: Option<usize>,

    /// Automatic mode: at least this many runs.
    #[arg(short = 'm', long, value_name = "N", default_value_t = 10)]
    pub min_runs: usize,

    /// Automatic mode: at most this many runs.
    #[arg(short = 'M', long, value_name = "N")]
    pub max_runs: Option<usize>,

    /// Automatic mode: run each command for at least this long in total (e.g. 3s, 500ms).
    /// With --python: at least this much timed time per statement, split over its values
    /// (loop counts step 1, 2, 5, 10, ..., so a value may last up to 2.5x its share).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub min_time: std::time::Duration,

    /// Run once before each command's runs (once for all, or once per command). With
    /// --python: Python code run before each value, untimed (like timeit's setup).
    #[arg(short, long, value_name = "CMD")]
    pub setup: Vec<String>,

    /// Run before every run of each command (once for all, or once per command).
    #[arg(short, long, value_name = "CMD")]
    pub prepare: Vec<String>,

    /// Run once after each command's runs (once for all, or once per command).
    #[arg(short, long, value_name = "CMD")]
    pub cleanup: Vec<String>,

    /// Sweep {NAME} over MIN..=MAX (integers or decimals; see --parameter-step-size).
    #[arg(short = 'P', long, num_args = 3, value_names = ["NAME", "MIN", "MAX"], action = clap::ArgAction::Append)]
    pub parameter_scan: Vec<String>,

    /// Step of --parameter-scan (default 1).
    #[arg(short = 'D', long, visible_alias = "step", value_name = "STEP", requires = "parameter_scan")]
    pub parameter_step_size: Option<String>,

    /// Substitute {NAME} by each of the comma-separated VALUES.
    #[arg(short = 'L', long, num_args = 2, value_names = ["NAME", "VALUES"], action = clap::ArgAction::Append)]
    pub parameter_list: Vec<String>,

    /// Display name of each command (in order; may contain {NAME} parameters).
    #[arg(short = 'n', long, value_name = "NAME")]
    pub command_name: Vec<String>,

    /// Execute commands directly, split into words, without a shell.
    #[arg(short = 'N', long, conflicts_with = "shell")]
    pub no_shell: bool,

    /// The shell that runs commands (its spawn time is measured and subtracted).
    #[arg(short = 'S', long, value_name = "SHELL", default_value = "sh")]
    pub shell: String,

    /// Run the commands one after the other instead of alternating run by run.
    #[arg(long)]
    pub no_interleave: bool,

    /// Keep benchmarking when a command exits non-zero.
    #[arg(short, long)]
    pub ignore_failure: bool,

    /// Show the commands' output instead of discarding it.
    #[arg(long)]
    pub show_output: bool,

    /// Compare against this command (benchmarked too if not already given) instead of the fastest.
    #[arg(long, value_name = "CMD")]
    pub reference: Option<String>,

    /// Significance level of comparisons and of the regression gate.
    #[arg(long, value_name = "ALPHA", default_value_t = tachy_stats::DEFAULT_ALPHA)]
    pub alpha: f64,

    /// What comparisons and the gate compare: wall time, or CPU time (user + system), which
    /// is far steadier on shared machines for CPU-bound programs.
    #[arg(long, value_enum, default_value_t = MetricArg::Wall)]
    pub metric: MetricArg,

    /// Save the results as the named baseline.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,

    /// Compare with the named baseline; exit 1 on a significant regression over --max-regression.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,

    /// Largest slowdown the gate tolerates (default 5%). With --reference, also gates every
    /// command against the reference measured in the same run (exit 1 on a regression).
    #[arg(long, value_name = "PERCENT")]
    pub max_regression: Option<String>,

    /// Where named baselines live.
    #[arg(long, value_name = "DIR", default_value = tachy_bench::baseline::DEFAULT_DIR)]
    pub baseline_dir: PathBuf,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Deterministic fake executor for tests: each command is `MILLISECONDS [fail]`.
    #[arg(long, hide = true)]
    pub debug_mock: bool,
}

/// Output options shared by `tachy bench` and `tachy bench compare`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print the JSON report to stdout instead of the text summary.
    #[arg(long, global = true)]
    pub json: bool,

    /// Write the JSON report (a superset of hyperfine's) to FILE.
    #[arg(long, value_name = "FILE", global = true)]
    pub export_json: Option<PathBuf>,

    /// Write one CSV row of statistics per command to FILE.
    #[arg(long, value_name = "FILE", global = true)]
    pub export_csv: Option<PathBuf>,

    /// Write Markdown tables (for pull-request comments) to FILE.
    #[arg(long, value_name = "FILE", global = true)]
    pub export_markdown: Option<PathBuf>,
}

/// `tachy bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchAction {
    /// Compare two saved result files (tachy, hyperfine or pytest-benchmark JSON); exit 1 on a
    /// regression.
    Compare(CompareArgs),
}

/// `tachy bench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier results (the baseline).
    pub old: PathBuf,
    /// The later results.
    pub new: PathBuf,
    /// Largest slowdown tolerated (e.g. 5%).
    #[arg(long, value_name = "PERCENT", default_value = "5%")]
    pub max_regression: String,
    /// Significance level of the test.
    #[arg(long, value_name = "ALPHA", default_value_t = tachy_stats::DEFAULT_ALPHA)]
    pub alpha: f64,
    /// What to compare: wall time or CPU time (user + system).
    #[arg(long, value_enum, default_value_t = MetricArg::Wall)]
    pub metric: MetricArg,
}

/// `--metric` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricArg {
    /// Wall-clock time.
    Wall,
    /// User + system CPU time of the command.
    Cpu,
}

impl From<MetricArg> for tachy_report::bench::Metric {
    fn from(m: MetricArg) -> Self {
        match m {
            MetricArg::Wall => Self::Wall,
            MetricArg::Cpu => Self::Cpu,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
