//! The budgets file: `[tool.tachy]` in `pyproject.toml`, or the top level of `tachy.toml`.
//!
//! The Rust types here are the single source of truth: serde reads them (unknown keys are
//! errors) and schemars turns them into the JSON schema checked in at
//! `docs/tachy-config.schema.json`. After parsing, [`validate`] reads every duration, size,
//! percentage and expression, so a bad value is reported with its file, key and the accepted
//! forms before anything runs.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use tachy_report::units;

/// The `[tool.tachy]` table (or the whole of `tachy.toml`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "tachy configuration",
    description = "[tool.tachy] in pyproject.toml, or the top level of tachy.toml"
)]
pub struct TachyConfig {
    /// Options of `tachy check` itself.
    #[serde(default)]
    pub check: CheckOptions,
    /// Named budgets, run by `tachy check` in the order written.
    #[serde(default)]
    pub budget: IndexMap<String, Budget>,
    /// Settings of `tachy lint` (rule selection, excludes...): see `tachy lint --help`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<serde_json::Value>,
    /// Settings of `tachy watch` (alerts, interval...): see `tachy watch --help`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<serde_json::Value>,
}

/// `[tool.tachy.check]`: where `tachy check` keeps its history and baselines.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckOptions {
    /// Folder of the measurement history, one JSON-lines file per budget
    /// (default `.tachy/history`, relative to the config file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// Folder of saved baselines: bench results, profiles and lint findings
    /// (default `.tachy/baselines`, relative to the config file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baselines: Option<String>,
    /// Longest time one budget may run before it is stopped and reported as an error
    /// (default `10m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// A command: one string split like a shell would (no shell runs it), or a list of arguments.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged, expecting = "a command: a string such as \"python app.py\" or a list of arguments")]
pub enum CommandLine {
    /// `"python app.py --fast"`.
    Line(String),
    /// `["python", "app.py", "--fast"]`.
    Args(Vec<String>),
}

impl CommandLine {
    /// The arguments (a string is split with shell quoting rules).
    pub fn argv(&self) -> Result<Vec<String>, String> {
        let argv = match self {
            CommandLine::Line(s) => shell_words::split(s).map_err(|e| format!("cannot split {s:?}: {e}"))?,
            CommandLine::Args(a) => a.clone(),
        };
        if argv.is_empty() {
            return Err("the command is empty".into());
        }
        Ok(argv)
    }

    /// The command as one line, for messages.
    pub fn display(&self) -> String {
        match self {
            CommandLine::Line(s) => s.clone(),
            CommandLine::Args(a) => shell_words::join(a),
        }
    }
}

/// One budget: what to measure and the limits it must stay within.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)] // read once per run; boxing would only complicate the schema
pub enum Budget {
    /// Command benchmarks (`tachy bench`): absolute limits and a regression gate against a
    /// saved baseline.
    Bench(BenchBudget),
    /// An HTTP load test (`tachy load`) with SLOs, optionally starting the server under test.
    Load(LoadBudget),
    /// A memory profile (`tachy mem`): peak, leak and RSS limits.
    Mem(MemBudget),
    /// A CPU profile (`tachy profile`): share limits per function and a diff against a saved
    /// profile.
    Profile(ProfileBudget),
    /// A soak test (`tachy watch`): run a command for a while, limit memory growth, RSS and CPU.
    Watch(WatchBudget),
    /// The performance linter (`tachy lint`): at most N findings, or no new findings against a
    /// saved set.
    Lint(LintBudget),
}

impl Budget {
    /// `bench`, `load`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Budget::Bench(_) => "bench",
            Budget::Load(_) => "load",
            Budget::Mem(_) => "mem",
            Budget::Profile(_) => "profile",
            Budget::Watch(_) => "watch",
            Budget::Lint(_) => "lint",
        }
    }

    /// The free-text description.
    pub fn description(&self) -> Option<&str> {
        match self {
            Budget::Bench(b) => b.description.as_deref(),
            Budget::Load(b) => b.description.as_deref(),
            Budget::Mem(b) => b.description.as_deref(),
            Budget::Profile(b) => b.description.as_deref(),
            Budget::Watch(b) => b.description.as_deref(),
            Budget::Lint(b) => b.description.as_deref(),
        }
    }

    /// The per-budget timeout, when set.
    pub fn timeout(&self) -> Option<&str> {
        match self {
            Budget::Bench(b) => b.timeout.as_deref(),
            Budget::Load(b) => b.timeout.as_deref(),
            Budget::Mem(b) => b.timeout.as_deref(),
            Budget::Profile(b) => b.timeout.as_deref(),
            Budget::Watch(b) => b.timeout.as_deref(),
            Budget::Lint(b) => b.timeout.as_deref(),
        }
    }
}

/// `kind = "bench"`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BenchBudget {
    /// What this budget guards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Shell commands to benchmark (run by the shell, like `tachy bench`).
    pub commands: Vec<String>,
    /// Exact number of runs per command (default: adaptive, like `tachy bench`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<u64>,
    /// Warm-up runs per command (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u64>,
    /// The metric of the limits and the gate: `wall` (default) or `cpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Limit on each command's mean time, e.g. `"200ms"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mean: Option<String>,
    /// Limit on each command's median time, e.g. `"150ms"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_median: Option<String>,
    /// Name of the saved baseline to compare with (saved by the first run when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Largest accepted slowdown against the baseline, e.g. `"5%"` (default `5%` when a
    /// baseline is named). Only a statistically significant slowdown fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_regression: Option<String>,
    /// Longest time the budget may run, e.g. `"5m"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `kind = "load"`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBudget {
    /// What this budget guards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The URL to load (unless a scenario gives requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A `tachy load` scenario file (TOML), relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Concurrent connections (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u64>,
    /// How long to load, e.g. `"10s"` (default 10s unless `requests` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Stop after exactly this many requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Open model: requests per second on a fixed schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// HTTP method (default GET).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Extra headers, `"Name: value"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Per-request timeout, e.g. `"5s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<String>,
    /// Service-level objectives, e.g. `["p95<=200ms", "errors<=1%", "rps>=100"]`.
    #[serde(default)]
    pub slo: Vec<String>,
    /// The server under test: started before the load, stopped after (also on failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSpec>,
    /// Longest time the budget may run, e.g. `"5m"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// How to start the server under test and know it is ready.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// The command that runs the server (in the foreground).
    pub command: CommandLine,
    /// Working directory, relative to the config file (default: the config file's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, String>,
    /// Readiness: an `http://` URL that must answer (any status below 500), or
    /// `"tcp://HOST:PORT"` that must accept a connection. Default: the budget's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    /// How long to wait for readiness, e.g. `"30s"` (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_timeout: Option<String>,
}

/// `kind = "mem"`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemBudget {
    /// What this budget guards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The Python command to profile, e.g. `"python app.py"`.
    pub command: CommandLine,
    /// Limit on the peak of traced (Python heap) memory, e.g. `"100MB"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_peak: Option<String>,
    /// Limit on memory leaked: still allocated at exit, except what imports keep (module code,
    /// an imported module's globals, import caches), e.g. `"10MB"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_leak: Option<String>,
    /// Limit on the peak resident set size of the process, e.g. `"150MB"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss: Option<String>,
    /// Track C allocations too (the default; `false` runs `tachy mem --no-native`).
    #[serde(default = "default_true")]
    pub native: bool,
    /// Longest time the budget may run, e.g. `"5m"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `kind = "profile"`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBudget {
    /// What this budget guards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The Python command to profile, e.g. `"python app.py"`.
    pub command: CommandLine,
    /// Share limits, e.g. `["parse <= 5%", "self:Parser.push < 10%"]`: a function as the
    /// profile shows it (`name`, `Class.method`, `module.Class.method` or
    /// `file.py:Class.method`; a dotted suffix of the qualified name matches too), `<=` or
    /// `<`, a percentage of samples. The share is inclusive (time with the function on the
    /// stack) unless prefixed with `self:`. When several functions match, the largest share
    /// counts. A limit that matches no function is an error unless `allow_missing` is set.
    #[serde(default)]
    pub limits: Vec<String>,
    /// Let a limit whose function is not in the profile pass (at 0 %, with a note) instead of
    /// making the budget an error (default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_missing: bool,
    /// A saved profile (`tachy profile -o`) to diff against, relative to the config file;
    /// missing, it is written by this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Largest accepted growth of any function's inclusive share against the baseline, in
    /// percentage points, e.g. `"5%"` (default 5%); only a statistically significant growth
    /// beyond it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_share_increase: Option<String>,
    /// Samples per second (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u64>,
    /// Longest time the budget may run, e.g. `"5m"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `kind = "watch"`: a soak test.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchBudget {
    /// What this budget guards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The command to run and watch (stopped after `duration` if still running).
    pub command: CommandLine,
    /// How long to watch, e.g. `"60s"`.
    pub duration: String,
    /// Sampling period (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Limit on the memory growth rate, e.g. `"5MB/h"`: judged after the warm-up; a soak too
    /// short or noisy to resolve it fails as not enough data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_growth: Option<String>,
    /// Limit on the largest RSS seen, e.g. `"100MB"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss: Option<String>,
    /// Limit on the mean CPU use, e.g. `"90%"` (of one core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cpu: Option<String>,
    /// Include the command's child processes.
    #[serde(default)]
    pub children: bool,
    /// Longest time the budget may run, e.g. `"5m"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `kind = "lint"`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintBudget {
    /// What this budget guards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Files or folders to lint, relative to the config file (default `["."]`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Rules to select (codes or prefixes), as `tachy lint --select`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
    /// Most findings accepted (default 0 unless a baseline is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_findings: Option<u64>,
    /// A saved set of findings (lint JSON), relative to the config file: only findings not in
    /// it count as new, and new findings fail. Missing, it is written by this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Longest time the budget may run, e.g. `"5m"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// A loaded config: where it came from and what it says.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The file read.
    pub path: PathBuf,
    /// Its folder: relative paths and commands are resolved from here.
    pub root: PathBuf,
    /// The settings.
    pub config: TachyConfig,
}

/// The JSON schema of the config, pretty-printed with a trailing newline (what is checked in).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(TachyConfig);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    s.push('\n');
    s
}

/// Finds the config from `dir` upwards: the first folder with a `tachy.toml`, or a
/// `pyproject.toml` that has a `[tool.tachy` table.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    for d in dir.ancestors() {
        let t = d.join("tachy.toml");
        if t.is_file() {
            return Some(t);
        }
        let p = d.join("pyproject.toml");
        if std::fs::read_to_string(&p).is_ok_and(|text| text.lines().any(|l| l.trim_start().starts_with("[tool.tachy")))
        {
            return Some(p);
        }
    }
    None
}

/// Reads and validates a config file (`pyproject.toml` reads `[tool.tachy]`; any other name
/// is read whole).
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read { path: path.to_path_buf(), source: e })?;
    let pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let config = parse(&text, pyproject).map_err(|(location, key, message)| ConfigError::Invalid {
        path: path.to_path_buf(),
        location,
        key,
        message,
    })?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    // Absolute, so result files named in reports stay valid from any folder.
    let root = root.canonicalize().unwrap_or(root);
    Ok(LoadedConfig { path: path.to_path_buf(), root, config })
}

/// A parse failure: `line:col` when known, the dotted key, and what is wrong.
type ParseFailure = (Option<String>, String, String);

/// Parses the text of a config file and validates every value.
pub fn parse(text: &str, pyproject: bool) -> Result<TachyConfig, ParseFailure> {
    let prefix = if pyproject { "tool.tachy" } else { "" };
    let config: TachyConfig = if pyproject {
        #[derive(Deserialize)]
        struct Py {
            #[serde(default)]
            tool: Option<Tool>,
        }
        #[derive(Deserialize)]
        struct Tool {
            #[serde(default)]
            tachy: Option<TachyConfig>,
        }
        let py: Py = de(text)?;
        py.tool.and_then(|t| t.tachy).unwrap_or_default()
    } else {
        de(text)?
    };
    validate(&config).map_err(|(key, message)| {
        let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let location = find_key_line(text, &full).map(|l| l.to_string());
        (location, full, message)
    })?;
    Ok(config)
}

fn de<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ParseFailure> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| toml_failure(text, &e, String::new()))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        toml_failure(text, &inner, if key == "." { String::new() } else { key })
    })
}

fn toml_failure(text: &str, e: &toml::de::Error, key: String) -> ParseFailure {
    let location = e.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{line}:{col}")
    });
    let message = e.message().trim().replace('\n', " ");
    let message = if message.contains("unknown field") || message.contains("unknown variant") {
        message.replace("expected one of", "accepted:")
    } else {
        message
    };
    (location, key, message)
}

/// The line of the table or key a dotted path most likely refers to (for values whose errors
/// come from validation, after serde).
fn find_key_line(text: &str, key: &str) -> Option<usize> {
    let parts: Vec<&str> = key.split('.').collect();
    // The deepest table header that is a prefix of the key, then the last key inside it.
    for n in (1..=parts.len()).rev() {
        let header = format!("[{}]", parts[..n].join("."));
        if let Some(start) = text.lines().position(|l| l.trim() == header) {
            if n == parts.len() {
                return Some(start + 1);
            }
            let last = parts[parts.len() - 1].split('[').next().unwrap_or_default();
            for (i, l) in text.lines().enumerate().skip(start + 1) {
                let t = l.trim_start();
                if t.starts_with('[') {
                    break;
                }
                if t.starts_with(last) && t[last.len()..].trim_start().starts_with('=') {
                    return Some(i + 1);
                }
            }
            return Some(start + 1);
        }
    }
    None
}

/// Checks every value that serde reads as a string: durations, sizes, percentages,
/// expressions, URLs. Returns the key (relative to the table) and what is wrong.
pub fn validate(config: &TachyConfig) -> Result<(), (String, String)> {
    if let Some(t) = &config.check.timeout {
        units::parse_duration(t).map_err(|e| ("check.timeout".to_string(), e))?;
    }
    for (name, budget) in &config.budget {
        let key = |k: &str| format!("budget.{name}.{k}");
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err((format!("budget.{name}"), "a budget name uses letters, digits, '-', '_' and '.' only".into()));
        }
        let dur = |k: &str, v: &Option<String>| -> Result<(), (String, String)> {
            match v {
                Some(v) => units::parse_duration(v).map(|_| ()).map_err(|e| (key(k), e)),
                None => Ok(()),
            }
        };
        let size = |k: &str, v: &Option<String>| -> Result<(), (String, String)> {
            match v {
                Some(v) => units::parse_size(v).map(|_| ()).map_err(|e| (key(k), e)),
                None => Ok(()),
            }
        };
        let pct = |k: &str, v: &Option<String>| -> Result<(), (String, String)> {
            match v {
                Some(v) => units::parse_percent(v).map(|_| ()).map_err(|e| (key(k), e)),
                None => Ok(()),
            }
        };
        let cmd = |k: &str, c: &CommandLine| -> Result<(), (String, String)> {
            c.argv().map(|_| ()).map_err(|e| (key(k), e))
        };
        dur("timeout", &budget.timeout().map(str::to_string))?;
        match budget {
            Budget::Bench(b) => {
                if b.commands.is_empty() {
                    return Err((key("commands"), "list at least one command".into()));
                }
                dur("max_mean", &b.max_mean)?;
                dur("max_median", &b.max_median)?;
                pct("max_regression", &b.max_regression)?;
                if let Some(m) = &b.metric
                    && m != "wall"
                    && m != "cpu"
                {
                    return Err((key("metric"), format!("unknown metric {m:?}; accepted: \"wall\", \"cpu\"")));
                }
                if b.max_regression.is_some() && b.baseline.is_none() {
                    return Err((key("max_regression"), "needs `baseline = \"NAME\"` to compare with".into()));
                }
                if b.max_mean.is_none() && b.max_median.is_none() && b.baseline.is_none() {
                    return Err((
                        format!("budget.{name}"),
                        "a bench budget needs a limit: max_mean, max_median or baseline (+ max_regression)".into(),
                    ));
                }
            }
            Budget::Load(b) => {
                match (&b.url, &b.scenario) {
                    (None, None) => {
                        return Err((format!("budget.{name}"), "a load budget needs `url` or `scenario`".into()));
                    }
                    (Some(u), _) => url_scheme(u).map_err(|e| (key("url"), e))?,
                    _ => {}
                }
                dur("duration", &b.duration)?;
                dur("request_timeout", &b.request_timeout)?;
                if let Some(r) = b.rate
                    && !(r > 0.0 && r.is_finite())
                {
                    return Err((key("rate"), "the rate is a positive number of requests per second".into()));
                }
                for (i, s) in b.slo.iter().enumerate() {
                    tachy_load::slo::Slo::parse(s).map_err(|e| (format!("budget.{name}.slo[{i}]"), e.to_string()))?;
                }
                if let Some(server) = &b.server {
                    cmd("server.command", &server.command)?;
                    dur("server.ready_timeout", &server.ready_timeout)?;
                    match &server.ready {
                        Some(r) => {
                            ready_probe(r).map_err(|e| (key("server.ready"), e))?;
                        }
                        None if b.url.is_none() => {
                            return Err((
                                key("server.ready"),
                                "give `ready` (a URL or tcp://HOST:PORT): the budget has no url to wait for".into(),
                            ));
                        }
                        None => {}
                    }
                }
            }
            Budget::Mem(b) => {
                cmd("command", &b.command)?;
                size("max_peak", &b.max_peak)?;
                size("max_leak", &b.max_leak)?;
                size("max_rss", &b.max_rss)?;
                if b.max_peak.is_none() && b.max_leak.is_none() && b.max_rss.is_none() {
                    return Err((
                        format!("budget.{name}"),
                        "a mem budget needs a limit: max_peak, max_leak or max_rss".into(),
                    ));
                }
            }
            Budget::Profile(b) => {
                cmd("command", &b.command)?;
                for (i, l) in b.limits.iter().enumerate() {
                    crate::evaluate::ShareLimit::parse(l).map_err(|e| (format!("budget.{name}.limits[{i}]"), e))?;
                }
                pct("max_share_increase", &b.max_share_increase)?;
                if b.limits.is_empty() && b.baseline.is_none() {
                    return Err((format!("budget.{name}"), "a profile budget needs `limits` or a `baseline`".into()));
                }
            }
            Budget::Watch(b) => {
                cmd("command", &b.command)?;
                dur("duration", &Some(b.duration.clone()))?;
                dur("interval", &b.interval)?;
                size("max_rss", &b.max_rss)?;
                pct("max_cpu", &b.max_cpu)?;
                if let Some(g) = &b.max_growth {
                    units::parse_growth(g).map_err(|e| (key("max_growth"), e))?;
                }
                if b.max_growth.is_none() && b.max_rss.is_none() && b.max_cpu.is_none() {
                    return Err((
                        format!("budget.{name}"),
                        "a watch budget needs a limit: max_growth, max_rss or max_cpu".into(),
                    ));
                }
            }
            Budget::Lint(_) => {}
        }
    }
    Ok(())
}

fn url_scheme(u: &str) -> Result<(), String> {
    if u.starts_with("http://") || u.starts_with("https://") {
        Ok(())
    } else {
        Err(format!("{u:?} is not an http:// or https:// URL"))
    }
}

/// A readiness probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// An HTTP URL answering with a status below 500.
    Http(String),
    /// A TCP address accepting connections.
    Tcp(String),
}

/// Reads `ready = ...`.
pub fn ready_probe(s: &str) -> Result<Ready, String> {
    if let Some(addr) = s.strip_prefix("tcp://") {
        if addr.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            return Ok(Ready::Tcp(addr.to_string()));
        }
        return Err(format!("{s:?}: expected tcp://HOST:PORT"));
    }
    url_scheme(s)
        .map(|_| Ready::Http(s.to_string()))
        .map_err(|_| format!("{s:?}: accepted: an http:// URL or tcp://HOST:PORT"))
}

/// `serde(default)` for flags that are on unless turned off.
fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let (loc, key, msg) = parse(text, false).unwrap_err();
        format!("{}|{key}|{msg}", loc.unwrap_or_default())
    }

    #[test]
    fn budgets_keep_their_order_and_kinds() {
        let c = parse(
            "[budget.z]\nkind = \"lint\"\n[budget.a]\nkind = \"mem\"\ncommand = \"python a.py\"\nmax_peak = \"100MB\"\n",
            false,
        )
        .unwrap();
        let names: Vec<_> = c.budget.keys().cloned().collect();
        assert_eq!(names, ["z", "a"]);
        assert_eq!(c.budget["a"].kind(), "mem");
    }

    #[test]
    fn pyproject_reads_tool_tachy_only() {
        let c = parse(
            "[project]\nname = \"x\"\n[tool.ruff]\nline-length = 100\n[tool.tachy.budget.l]\nkind = \"lint\"\n",
            true,
        )
        .unwrap();
        assert_eq!(c.budget.len(), 1);
        let none = parse("[project]\nname = \"x\"\n", true).unwrap();
        assert!(none.budget.is_empty());
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_accepted_ones() {
        let e = err("[budget.m]\nkind = \"mem\"\ncommand = \"python a.py\"\nmax_peek = \"1MB\"\n");
        assert!(e.contains("budget.m"), "{e}");
        assert!(e.contains("max_peek") && e.contains("max_peak"), "{e}");
        let e = err("[budget.m]\nkind = \"memory\"\n");
        assert!(e.contains("memory") && e.contains("`mem`"), "{e}");
        let e = err("[bugdet.m]\nkind = \"mem\"\n");
        assert!(e.contains("bugdet") && e.contains("budget"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key_and_line() {
        let e = err("[budget.m]\nkind = \"mem\"\ncommand = \"python a.py\"\nmax_peak = \"lots\"\n");
        assert!(e.starts_with("4|budget.m.max_peak|"), "{e}");
        let e =
            err("[budget.api]\nkind = \"load\"\nurl = \"http://127.0.0.1:1/\"\nslo = [\"p95<=200ms\", \"p95 fast\"]\n");
        assert!(e.contains("budget.api.slo[1]"), "{e}");
        let e = err("[budget.b]\nkind = \"bench\"\ncommands = [\"true\"]\n");
        assert!(e.contains("needs a limit"), "{e}");
        let e = err("[budget.p]\nkind = \"profile\"\ncommand = \"python a.py\"\nlimits = [\"f = 5%\"]\n");
        assert!(e.contains("budget.p.limits[0]"), "{e}");
        let e =
            err("[budget.w]\nkind = \"watch\"\ncommand = \"python a.py\"\nduration = \"10s\"\nmax_growth = \"5MB\"\n");
        assert!(e.contains("max_growth"), "{e}");
    }

    #[test]
    fn broken_toml_has_a_line() {
        let e = err("[budget.m\nkind = 1\n");
        assert!(e.starts_with("1:"), "{e}");
    }

    #[test]
    fn the_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tachy-config.schema.json");
        let now = schema_json();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &now).unwrap();
        }
        let saved = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            saved == now,
            "docs/tachy-config.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test -p tachy-check the_schema_is_current`"
        );
    }
}
