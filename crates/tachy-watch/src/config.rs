//! `[tool.tachy.watch]` in the nearest `pyproject.toml` (or a file given with `--config`,
//! where a top-level `[watch]` table also works): alerts, interval, growth window and the
//! Prometheus address, so a team writes its thresholds down once. Unknown keys and bad values
//! are errors naming the file, the line and the accepted keys.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::alert::Alert;

/// What a config file sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchConfig {
    /// The file it came from.
    pub path: Option<PathBuf>,
    /// Alerts.
    pub alerts: Vec<Alert>,
    /// Sampling period.
    pub interval: Option<Duration>,
    /// Growth window.
    pub growth_window: Option<Duration>,
    /// Prometheus address.
    pub prometheus: Option<String>,
    /// Command run on alert events.
    pub on_alert: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(default)]
    alerts: Vec<String>,
    interval: Option<String>,
    growth_window: Option<String>,
    prometheus: Option<String>,
    on_alert: Option<String>,
}

/// A config error, one line: `file:line: what; accepted keys ...`.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

const ACCEPTED: &str = "accepted keys: alerts (list of expressions), interval, growth_window (durations like 1s, 100ms), prometheus (address), on_alert (shell command)";

/// Finds the nearest `pyproject.toml` with a `[tool.tachy.watch]` table, from `dir` upwards.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("pyproject.toml"))
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.lines().any(|l| l.trim() == "[tool.tachy.watch]")))
}

/// Reads a config file; a file without a watch table gives an empty config.
pub fn load(path: &Path) -> Result<WatchConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.into(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Parses config text (`path` names it in errors).
pub fn parse(path: &Path, text: &str) -> Result<WatchConfig, ConfigError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let err = |offset: usize, message: String| ConfigError { path: path.into(), line: line_of(offset), message };
    let value: toml::Table =
        toml::from_str(text).map_err(|e| err(e.span().map_or(0, |s| s.start), e.message().trim().to_string()))?;
    let table = value
        .get("tool")
        .and_then(|t| t.get("tachy"))
        .and_then(|t| t.get("watch"))
        .or_else(|| value.get("watch"))
        .cloned();
    let Some(table) = table else { return Ok(WatchConfig { path: Some(path.into()), ..WatchConfig::default() }) };
    let header = text.find("[tool.tachy.watch]").or_else(|| text.find("[watch]")).unwrap_or(0);
    let find_key = |key: &str| {
        text[header..]
            .lines()
            .scan(header, |off, l| {
                let here = *off;
                *off += l.len() + 1;
                Some((here, l))
            })
            .find(|(_, l)| l.trim_start().starts_with(key))
            .map_or(header, |(o, _)| o)
    };
    let t: Table = table.try_into().map_err(|e: toml::de::Error| {
        let msg = e.message().trim().to_string();
        let key = msg.split('`').nth(1).unwrap_or("");
        err(if key.is_empty() { header } else { find_key(key) }, format!("[tool.tachy.watch]: {msg}; {ACCEPTED}"))
    })?;
    let duration = |key: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| {
                humantime::parse_duration(s.trim())
                    .map_err(|e| err(find_key(key), format!("{key} = '{s}' is not a duration like 1s or 100ms ({e})")))
            })
            .transpose()
    };
    let alerts = t
        .alerts
        .iter()
        .map(|a| Alert::parse(a).map_err(|e| err(find_key("alerts"), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WatchConfig {
        path: Some(path.into()),
        alerts,
        interval: duration("interval", &t.interval)?,
        growth_window: duration("growth_window", &t.growth_window)?,
        prometheus: t.prometheus,
        on_alert: t.on_alert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_watch_table() {
        let c = parse(
            Path::new("pyproject.toml"),
            "[project]\nname = \"x\"\n\n[tool.tachy.watch]\nalerts = [\"rss>150MB\", \"growth>5MB/h\"]\ninterval = \"500ms\"\n",
        )
        .unwrap();
        assert_eq!(c.alerts.len(), 2);
        assert_eq!(c.interval, Some(Duration::from_millis(500)));
        let c = parse(Path::new("tachy.toml"), "[watch]\nalerts = [\"cpu>90%\"]\n").unwrap();
        assert_eq!(c.alerts[0].expr, "cpu>90%");
        assert!(parse(Path::new("p.toml"), "[project]\n").unwrap().alerts.is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse(Path::new("p.toml"), "[tool.tachy.watch]\nalerts = []\nintervall = \"1s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:3:") && e.contains("intervall") && e.contains("accepted keys"), "{e}");
        let e = parse(Path::new("p.toml"), "[tool.tachy.watch]\nalerts = [\"rss>lots\"]\n").unwrap_err().to_string();
        assert!(e.starts_with("p.toml:2:") && e.contains("rss>lots"), "{e}");
        let e = parse(Path::new("p.toml"), "[tool.tachy.watch]\ninterval = \"soon\"\n").unwrap_err().to_string();
        assert!(e.starts_with("p.toml:2:") && e.contains("not a duration"), "{e}");
        let e = parse(Path::new("p.toml"), "[tool.tachy.watch\n").unwrap_err().to_string();
        assert!(e.starts_with("p.toml:1:"), "{e}");
    }
}
