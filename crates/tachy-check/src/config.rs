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
    /// (default `.tachy/history`, relative to the config file and inside its folder, or
    /// absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// Folder of saved bench baselines (default `.tachy/baselines`, relative to the config
    /// file and inside its folder, or absolute).
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
    /// Name of the saved baseline to compare with (saved by the first run when missing):
    /// letters, digits, `-`, `_` and `.`, stored as `NAME.json` in the baselines folder.
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
    /// A `tachy load` scenario file (TOML), relative to the config file and inside its folder
    /// (or absolute).
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
    /// A saved profile (`tachy profile -o`) to diff against, relative to the config file and
    /// inside its folder (or absolute); missing, it is written by this run. An existing file
    /// that is not a tachy profile is never replaced.
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
    /// Files or folders to lint, relative to the config file and inside its folder, or
    /// absolute (default `["."]`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Rules to select (codes or prefixes), as `tachy lint --select`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
    /// Most findings accepted (default 0 unless a baseline is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_findings: Option<u64>,
    /// A saved set of findings (lint JSON), relative to the config file and inside its folder
    /// (or absolute): only findings not in it count as new, and new findings fail. Missing, it
    /// is written by this run. An existing file that is not a tachy lint report is never
    /// replaced.
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
/// is read whole). Every path the config names is then checked against the project folder
/// (see [`confine`]).
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read { path: path.to_path_buf(), source: e })?;
    let pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let invalid = |(location, key, message): ParseFailure| ConfigError::Invalid {
        path: path.to_path_buf(),
        location,
        key,
        message,
    };
    let config = parse(&text, pyproject).map_err(invalid)?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    // Absolute, so result files named in reports stay valid from any folder.
    let root = root.canonicalize().unwrap_or(root);
    check_paths(&config, &root).map_err(|(key, message)| invalid(locate(&text, pyproject, key, message)))?;
    Ok(LoadedConfig { path: path.to_path_buf(), root, config })
}

/// Whether `text` is valid TOML (any content); the error is `line:col: what is wrong`.
pub fn check_toml(text: &str) -> Result<(), String> {
    match toml::Deserializer::parse(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let (location, _, message) = toml_failure(text, &e, String::new());
            Err(location.map(|l| format!("{l}: {message}")).unwrap_or(message))
        }
    }
}

/// A parse failure: `line:col` when known, the dotted key, and what is wrong.
type ParseFailure = (Option<String>, String, String);

/// Parses the text of a config file and validates every value.
pub fn parse(text: &str, pyproject: bool) -> Result<TachyConfig, ParseFailure> {
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
        let py: Py = de(text).map_err(|f| refine(text, pyproject, f))?;
        py.tool.and_then(|t| t.tachy).unwrap_or_default()
    } else {
        de(text).map_err(|f| refine(text, pyproject, f))?
    };
    validate(&config).map_err(|(key, message)| locate(text, pyproject, key, message))?;
    Ok(config)
}

/// A failure of [`validate`] or [`check_paths`] (a key relative to the tachy table) with the
/// full key and the `line:col` of its value.
fn locate(text: &str, pyproject: bool, key: String, message: String) -> ParseFailure {
    let full = if pyproject { format!("tool.tachy.{key}") } else { key };
    let location = find_key(text, &full).map(|(l, c)| format!("{l}:{c}"));
    (location, full, message)
}

fn de<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ParseFailure> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| toml_failure(text, &e, String::new()))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        toml_failure(text, &inner, if key == "." { String::new() } else { key })
    })
}

/// Makes a serde failure point at its value. A budget is an internally tagged enum, which
/// serde reads through a buffer that loses the position and the key of a wrong value inside
/// it: the budget is read again as its kind's own table, which keeps both. Failures still
/// without a useful position are placed at their key's line.
fn refine(text: &str, pyproject: bool, failure: ParseFailure) -> ParseFailure {
    let (location, key, message) = failure;
    let budgets = if pyproject { "tool.tachy.budget." } else { "budget." };
    let refined = key
        .strip_prefix(budgets)
        .filter(|name| !name.is_empty() && !name.contains(['.', '[']))
        .and_then(|name| diagnose_budget(text, pyproject, name));
    let (location, key, message) = refined.unwrap_or((location, key, message));
    // `unknown field `x``: the position of the table is less useful than the line of `x`.
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
        .and_then(|field| find_key(text, &format!("{key}.{field}")));
    let location = match (unknown, location) {
        (Some((l, c)), _) => Some(format!("{l}:{c}")),
        (None, Some(l)) if l != "1:1" => Some(l),
        // 1:1 is where serde puts what it could not place: the key's own line says more.
        (None, l) => find_key(text, &key).map(|(l, c)| format!("{l}:{c}")).or(l),
    };
    (location, key, humanize(&message))
}

/// Reads budget `name` again as the table of its kind ([`BenchBudget`], ...), to find the key
/// and position of what is wrong. `None` when that read does not fail either.
fn diagnose_budget(text: &str, pyproject: bool, name: &str) -> Option<ParseFailure> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let mut table = &doc;
    if pyproject {
        table = table.get("tool")?.as_table()?.get("tachy")?.as_table()?;
    }
    let budget = table.get("budget")?.as_table()?.get(name)?.as_table()?;
    let kind = budget.get("kind")?.as_str()?;
    let path: &[&str] = if pyproject { &["tool", "tachy", "budget"] } else { &["budget"] };
    match kind {
        "bench" => probe::<BenchBudget>(text, path, name),
        "load" => probe::<LoadBudget>(text, path, name),
        "mem" => probe::<MemBudget>(text, path, name),
        "profile" => probe::<ProfileBudget>(text, path, name),
        "watch" => probe::<WatchBudget>(text, path, name),
        "lint" => probe::<LintBudget>(text, path, name),
        _ => None,
    }
}

fn probe<T: serde::de::DeserializeOwned>(text: &str, path: &[&str], name: &str) -> Option<ParseFailure> {
    let deserializer = toml::Deserializer::parse(text).ok()?;
    let mut track = serde_path_to_error::Track::new();
    let seed = probe::Descend::<T> { path, name, kind: std::marker::PhantomData };
    let err =
        serde::de::DeserializeSeed::deserialize(seed, serde_path_to_error::Deserializer::new(deserializer, &mut track))
            .err()?;
    let key = track.path().to_string();
    Some(toml_failure(text, &err, key))
}

/// The seeds behind [`diagnose_budget`]: down the tables of `path` to the budget `name`, read
/// without its `kind` key as `T`; everything else is skipped.
mod probe {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::value::{MapAccessDeserializer, StringDeserializer};
    use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    pub(super) struct Descend<'a, T> {
        pub(super) path: &'a [&'a str],
        pub(super) name: &'a str,
        pub(super) kind: PhantomData<T>,
    }

    impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Descend<'_, T> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de, T: DeserializeOwned> Visitor<'de> for Descend<'_, T> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let (want, rest) = match self.path.split_first() {
                Some((first, rest)) => (*first, Some(rest)),
                None => (self.name, None),
            };
            while let Some(key) = map.next_key::<String>()? {
                if key != want {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                match rest {
                    Some(path) => map.next_value_seed(Descend::<T> { path, name: self.name, kind: PhantomData })?,
                    None => map.next_value_seed(WithoutKind::<T>(PhantomData))?,
                }
            }
            Ok(())
        }
    }

    struct WithoutKind<T>(PhantomData<T>);

    impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for WithoutKind<T> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de, T: DeserializeOwned> Visitor<'de> for WithoutKind<T> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a budget table")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
            T::deserialize(MapAccessDeserializer::new(SkipKind(map))).map(|_| ())
        }
    }

    /// The entries of a budget table except `kind` (the tag of the enum).
    struct SkipKind<A>(A);

    impl<'de, A: MapAccess<'de>> MapAccess<'de> for SkipKind<A> {
        type Error = A::Error;
        fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
            loop {
                match self.0.next_key::<String>()? {
                    None => return Ok(None),
                    Some(k) if k == "kind" => {
                        self.0.next_value::<IgnoredAny>()?;
                    }
                    Some(k) => return seed.deserialize(StringDeserializer::<A::Error>::new(k)).map(Some),
                }
            }
        }
        fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
            self.0.next_value_seed(seed)
        }
    }
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

/// Says serde's type errors the way the config is written: `invalid type: string "ten",
/// expected u64` becomes `expected a whole number (0 or more), found the string "ten"`.
fn humanize(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: ")) else {
        return message.to_string();
    };
    let Some((found, expected)) = rest.split_once(", expected ") else { return message.to_string() };
    let expected = match expected.trim() {
        "u64" | "u32" | "usize" => "a whole number (0 or more)",
        "i64" | "i32" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "a list, e.g. [\"...\"]",
        "a string" => "a string in quotes",
        "a map" | "struct" => "a table",
        "variant identifier" => "a budget kind: \"bench\", \"load\", \"mem\", \"profile\", \"watch\" or \"lint\"",
        "internally tagged enum Budget" => "a budget table with a `kind`",
        e if e.starts_with("struct ") || e.starts_with("a map") => "a table",
        e => e,
    };
    let found = found.replace('`', "");
    let found = if let Some(s) = found.strip_prefix("string ") {
        format!("the string {s}")
    } else if let Some(n) = found.strip_prefix("integer ") {
        format!("the number {n}")
    } else if let Some(n) = found.strip_prefix("floating point ") {
        format!("the number {n}")
    } else if found == "sequence" {
        "a list".into()
    } else if found == "map" {
        "a table".into()
    } else {
        found
    };
    format!("expected {expected}, found {found}")
}

/// The `(line, col)` of the value of a dotted key (or of its table header, or of the last
/// table that is a prefix of it), for failures found after serde.
fn find_key(text: &str, key: &str) -> Option<(usize, usize)> {
    let parts: Vec<&str> = key.split('.').collect();
    let lines: Vec<&str> = text.lines().collect();
    // The deepest table header that is a prefix of the key, then the key inside it.
    for n in (1..=parts.len()).rev() {
        let header = format!("[{}]", parts[..n].join("."));
        let Some(start) = lines.iter().position(|l| l.trim() == header) else { continue };
        let at_header = (start + 1, lines[start].len() - lines[start].trim_start().len() + 1);
        if n == parts.len() {
            return Some(at_header);
        }
        let last = parts[n].split('[').next().unwrap_or_default();
        for (i, l) in lines.iter().enumerate().skip(start + 1) {
            let t = l.trim_start();
            if t.starts_with('[') {
                break;
            }
            if let Some(after) = t.strip_prefix(last)
                && let Some(value) = after.trim_start().strip_prefix('=')
            {
                let col = l.len() - value.trim_start().len() + 1;
                return Some((i + 1, l[..col - 1].chars().count() + 1));
            }
        }
        return Some(at_header);
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
                if let Some(base) = &b.baseline
                    && !baseline_name_ok(base)
                {
                    return Err((
                        key("baseline"),
                        format!(
                            "{base:?} is not a baseline name: a bench baseline is a name (letters, digits, '-', '_' and '.', not first), saved as NAME.json in the baselines folder"
                        ),
                    ));
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

/// Checks the URL of a load budget (or of `tachy init --url`): an `http://` or `https://` URL
/// with a host.
pub fn check_url(u: &str) -> Result<(), String> {
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return Err(format!("{u:?} is not an http:// or https:// URL"));
    }
    match url::Url::parse(u) {
        Ok(parsed) if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        Ok(_) => Err(format!("{u:?} has no host; e.g. http://127.0.0.1:8000/")),
        Err(e) => Err(format!("{u:?} is not a valid URL ({e}); e.g. http://127.0.0.1:8000/")),
    }
}

fn url_scheme(u: &str) -> Result<(), String> {
    check_url(u)
}

/// The folders `tachy check` uses when the config does not name them, relative to the root.
pub const DEFAULT_HISTORY: &str = crate::history::DEFAULT_DIR;
/// See [`DEFAULT_HISTORY`].
pub const DEFAULT_BASELINES: &str = ".tachy/baselines";
/// See [`DEFAULT_HISTORY`].
pub const DEFAULT_RESULTS: &str = ".tachy/results";

/// Checks every path the config names (and the default folders it does not name) against the
/// project folder `root` with [`confine`]: the history and baselines folders, the baselines
/// of profile and lint budgets, load scenarios and lint paths. Returns the key and what is
/// wrong.
pub fn check_paths(config: &TachyConfig, root: &Path) -> Result<(), (String, String)> {
    let check = |key: String, value: &str| confine(root, value).map(|_| ()).map_err(|e| (key, e));
    let folder = |key: &str, value: &Option<String>, default: &str| match value {
        Some(v) => check(format!("check.{key}"), v),
        None => confine(root, default)
            .map(|_| ())
            .map_err(|e| (format!("check.{key}"), format!("the default folder {e}; set `{key}` to another folder"))),
    };
    folder("history", &config.check.history, DEFAULT_HISTORY)?;
    folder("baselines", &config.check.baselines, DEFAULT_BASELINES)?;
    confine(root, DEFAULT_RESULTS)
        .map_err(|e| ("check".to_string(), format!("the results folder {e}; give another with --results-dir")))?;
    for (name, budget) in &config.budget {
        let key = |k: &str| format!("budget.{name}.{k}");
        match budget {
            Budget::Profile(ProfileBudget { baseline: Some(b), .. })
            | Budget::Lint(LintBudget { baseline: Some(b), .. }) => {
                check(key("baseline"), b)?;
            }
            Budget::Load(LoadBudget { scenario: Some(s), .. }) => check(key("scenario"), s)?,
            _ => {}
        }
        if let Budget::Lint(l) = budget {
            for (i, p) in l.paths.iter().enumerate() {
                check(format!("budget.{name}.paths[{i}]"), p)?;
            }
        }
    }
    Ok(())
}

/// Where a path written in the config leads: a relative path is resolved from `root` (the
/// config file's folder) and must stay inside it, after `..` and after every symbolic link
/// on the way that exists; a dangling link is refused too, since writing through it would
/// create its target. An absolute path is taken as written (the user chose the place); what
/// tachy writes there is still guarded by [`replaceable`]. The error says why, starting with
/// the path as written.
pub fn confine(root: &Path, value: &str) -> Result<PathBuf, String> {
    use std::path::Component;
    if value.is_empty() {
        return Err("the path is empty".into());
    }
    let written = Path::new(value);
    if written.is_absolute() {
        return Ok(written.to_path_buf());
    }
    let outside = |to: &Path| {
        format!(
            "{value:?} leads outside the project folder {} (to {}); paths in the config are relative to its folder and must stay inside it (an absolute path is taken as written)",
            root.display(),
            to.display()
        )
    };
    // Walked the way the kernel does: each existing part resolved (symbolic links followed,
    // `..` taken from where a link led), the parts that do not exist yet by their names.
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut at = real_root.clone();
    let mut exists = true;
    for c in written.components() {
        match c {
            Component::ParentDir => {
                at.pop();
            }
            Component::Normal(n) => {
                at.push(n);
                if !exists {
                    continue;
                }
                match std::fs::symlink_metadata(&at) {
                    Err(_) => exists = false,
                    Ok(meta) => match at.canonicalize() {
                        Ok(real) => at = real,
                        Err(_) if meta.file_type().is_symlink() => {
                            let to = std::fs::read_link(&at).unwrap_or_default();
                            return Err(format!(
                                "{value:?} goes through the symbolic link {} to {}, which does not exist; tachy does not write through it",
                                at.display(),
                                to.display()
                            ));
                        }
                        Err(_) => exists = false,
                    },
                }
            }
            _ => {}
        }
    }
    if !at.starts_with(&real_root) {
        return Err(outside(&at));
    }
    Ok(root.join(written))
}

/// Whether tachy may replace (or append to) the file at `path` with a tachy result whose
/// schema starts with `schema_prefix` (`tachy-profile/`, `tachy-lint/`, `tachy-history/`...):
/// yes when nothing is there or the file is empty, or when its top-level `"schema"` is of that
/// kind. Anything else (another program's file, a folder, a result of another kind) is
/// refused, with the reason, so a config that names the wrong file never destroys it.
pub fn replaceable(path: &Path, schema_prefix: &str) -> Result<(), String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot check {}: {e}", path.display())),
    };
    let refuse = |what: &str| {
        Err(format!(
            "refusing to replace {}: {what}, not a tachy result{}; remove it or name another file",
            path.display(),
            if schema_prefix.ends_with('/') { format!(" of the kind {schema_prefix}N") } else { String::new() }
        ))
    };
    if !meta.is_file() {
        return refuse("it is not a regular file");
    }
    if meta.len() == 0 {
        return Ok(());
    }
    // The schema is the first key tachy writes: the head of the file is enough, and a result
    // cut short by an interrupted run is still recognised.
    let mut head = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 4096), &mut head));
    if let Err(e) = read {
        return Err(format!("cannot check {}: {e}", path.display()));
    }
    let head = String::from_utf8_lossy(&head);
    let mut schema = schema_of(&head).map(str::to_string);
    if schema.is_none() && head.trim_start().starts_with('{') && meta.len() <= 256 << 20 {
        // Written by another tool with its keys in another order: read the whole object.
        #[derive(Deserialize)]
        struct Head {
            schema: Option<String>,
        }
        schema = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Head>(&bytes).ok())
            .and_then(|h| h.schema);
    }
    match schema {
        Some(schema) if schema.starts_with(schema_prefix) => Ok(()),
        Some(schema) => refuse(&format!("its schema is {schema:?}")),
        None => refuse("it has no tachy \"schema\""),
    }
}

/// The value of the first `"schema"` key of a JSON object (or of the first line of JSON lines).
fn schema_of(head: &str) -> Option<&str> {
    let t = head.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let at = t.find("\"schema\"")?;
    let rest = t[at + 8..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    rest.split('"').next()
}

/// The rule of `tachy bench --save-baseline NAME`: the name stays a file in its folder.
fn baseline_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
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
        assert!(e.starts_with("4:12|budget.m.max_peak|"), "{e}");
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

    /// Values of the wrong type inside a budget (read by serde through the enum's buffer)
    /// point at the value, name the key and say what is expected.
    #[test]
    fn type_errors_in_budgets_name_the_line_column_and_key() {
        let cases = [
            (
                "[budget.l]\nkind = \"lint\"\nmax_findings = \"ten\"\n",
                "3:16|budget.l.max_findings|expected a whole number (0 or more), found the string \"ten\"",
            ),
            ("[budget.l]\nkind = \"lint\"\npaths = \"src\"\n", "3:9|budget.l.paths|expected a list"),
            (
                "[budget.m]\nkind = \"mem\"\ncommand = \"x\"\nmax_peak = 5\nnative = \"yes\"\n",
                "4:12|budget.m.max_peak|expected a string in quotes, found the number 5",
            ),
            (
                "[budget.m]\nkind = \"mem\"\ncommand = \"x\"\nnative = \"yes\"\nmax_peak = \"1MB\"\n",
                "4:10|budget.m.native|expected true or false",
            ),
            ("[budget.m]\nkind = \"mem\"\ncommand = 5\nmax_peak = \"1MB\"\n", "3:11|budget.m.command|a command"),
            (
                "[budget.b]\nkind = \"bench\"\ncommands = [\"true\"]\nruns = -1\nmax_mean = \"1s\"\n",
                "4:8|budget.b.runs|expected a whole number (0 or more), found the number -1",
            ),
            (
                "[budget.w]\nkind = \"load\"\nurl = \"http://x/\"\nserver = {command = \"x\", env = {A = 1}}\n",
                "|budget.w.server.env.A|expected a string in quotes",
            ),
            // A missing or unknown key: the line of the budget's table or of the key.
            ("\n[budget.l]\nkindx = \"lint\"\n", "2:1|budget.l|missing field `kind`"),
            ("[budget.b]\nkind = \"bench\"\nmax_mean = \"1s\"\n", "1:1|budget.b|missing field `commands`"),
            (
                "[budget.m]\nkind = \"mem\"\ncommand = \"x\"\nmax_peek = \"1MB\"\n",
                "4:12|budget.m|unknown field `max_peek`",
            ),
        ];
        for (text, want) in cases {
            let e = err(text);
            assert!(
                e.starts_with(want) || (want.starts_with('|') && e.contains(want)),
                "{text}\n=> {e}\nwanted {want}"
            );
        }
        // The same in pyproject.toml, with the full key.
        let (loc, key, msg) =
            parse("[project]\nname = \"x\"\n[tool.tachy.budget.l]\nkind = \"lint\"\nmax_findings = \"ten\"\n", true)
                .unwrap_err();
        assert_eq!((loc.as_deref(), key.as_str()), (Some("5:16"), "tool.tachy.budget.l.max_findings"), "{msg}");
    }

    #[test]
    fn paths_in_the_config_stay_in_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let load_err = |text: &str| {
            std::fs::write(root.join("tachy.toml"), text).unwrap();
            load(&root.join("tachy.toml")).unwrap_err().to_string()
        };
        let lint = "[budget.l]\nkind = \"lint\"\n";
        let e = load_err("[check]\nhistory = \"../../x\"\n");
        assert!(e.contains("tachy.toml:2:11: check.history: \"../../x\" leads outside the project folder"), "{e}");
        let e = load_err(&format!("[check]\nbaselines = \"sub/../../b\"\n{lint}"));
        assert!(e.contains(":2:13: check.baselines:"), "{e}");
        let e = load_err(&format!("{lint}baseline = \"../../x.json\"\n"));
        assert!(e.contains(":3:12: budget.l.baseline:") && e.contains("outside"), "{e}");
        let e = load_err("[budget.p]\nkind = \"profile\"\ncommand = \"python3 a.py\"\nbaseline = \"../victim.txt\"\n");
        assert!(e.contains("budget.p.baseline"), "{e}");
        let e = load_err(&format!("{lint}paths = [\"src\", \"../other\"]\n"));
        assert!(e.contains("budget.l.paths[1]"), "{e}");
        let e = load_err("[budget.a]\nkind = \"load\"\nscenario = \"../s.toml\"\n");
        assert!(e.contains("budget.a.scenario"), "{e}");
        let e = load_err("[budget.b]\nkind = \"bench\"\ncommands = [\"true\"]\nbaseline = \"../../x\"\n");
        assert!(e.contains(":4:12: budget.b.baseline: \"../../x\" is not a baseline name"), "{e}");
        // Through a symbolic link out of the project, or a dangling one.
        std::os::unix::fs::symlink(dir.path(), root.join("out")).unwrap();
        let e = load_err(&format!("{lint}baseline = \"out/x.json\"\n"));
        assert!(e.contains("budget.l.baseline") && e.contains("outside"), "{e}");
        std::os::unix::fs::symlink(dir.path().join("gone/x.json"), root.join("dangling.json")).unwrap();
        let e = load_err(&format!("{lint}baseline = \"dangling.json\"\n"));
        assert!(e.contains("symbolic link") && e.contains("does not exist"), "{e}");
        // `..` after a link is taken from where the link led, as the kernel does.
        std::fs::create_dir_all(dir.path().join("elsewhere/deep")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere/deep"), root.join("deeplink")).unwrap();
        let e = load_err(&format!("{lint}baseline = \"deeplink/../x.json\"\n"));
        assert!(e.contains("outside") && e.contains("elsewhere/x.json"), "{e}");
        // The default folders too: `.tachy` linked out of the project.
        std::os::unix::fs::symlink(dir.path(), root.join(".tachy")).unwrap();
        let e = load_err(lint);
        assert!(e.contains("check.history: the default folder \".tachy/history\" leads outside"), "{e}");
        std::fs::remove_file(root.join(".tachy")).unwrap();
        // Inside the project, and absolute paths written as such, are accepted.
        std::fs::write(
            root.join("tachy.toml"),
            format!(
                "[check]\nhistory = \"../proj/sub/../h\"\nbaselines = \"{}\"\n{lint}baseline = \"sub/l.json\"\n",
                dir.path().join("shared").display()
            ),
        )
        .unwrap();
        load(&root.join("tachy.toml")).unwrap();
    }

    #[test]
    fn only_tachy_results_of_the_same_kind_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        replaceable(&p, "tachy-profile/").unwrap();
        std::fs::write(&p, "").unwrap();
        replaceable(&p, "tachy-profile/").unwrap();
        std::fs::write(&p, "root:x:0:0\n").unwrap();
        let e = replaceable(&p, "tachy-profile/").unwrap_err();
        assert!(e.starts_with(&format!("refusing to replace {}: it has no tachy \"schema\"", p.display())), "{e}");
        std::fs::write(&p, r#"{"schema": "tachy-lint/1", "findings": []}"#).unwrap();
        assert!(replaceable(&p, "tachy-profile/").unwrap_err().contains("its schema is \"tachy-lint/1\""));
        replaceable(&p, "tachy-lint/").unwrap();
        // Keys in another order (written by another tool) are read whole.
        std::fs::write(&p, format!("{{\"findings\": [\"{}\"], \"schema\": \"tachy-lint/1\"}}", "x".repeat(5000)))
            .unwrap();
        replaceable(&p, "tachy-lint/").unwrap();
        assert!(replaceable(dir.path(), "tachy-lint/").unwrap_err().contains("not a regular file"));
    }

    #[test]
    fn urls_need_http_and_a_host() {
        check_url("http://127.0.0.1:8000/").unwrap();
        check_url("https://example.com").unwrap();
        for bad in ["ftp://x", ":::", "http://", "http://exa mple.com/"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
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
