//! Scenario files (TOML): named requests with weights, headers, bodies, expected statuses and
//! SLOs, plus stages that ramp connections or rate. Errors name the file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{ExpectStatus, RequestSpec, Stage};
use crate::{LoadError, Slo};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    url: Option<String>,
    rate: Option<f64>,
    connections: Option<usize>,
    duration: Option<String>,
    timeout: Option<String>,
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    request: Vec<RequestEntry>,
    #[serde(default)]
    stage: Vec<StageEntry>,
    #[serde(default)]
    slo: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    expect_status: Option<Statuses>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Statuses {
    One(u16),
    Many(Vec<u16>),
}

impl Statuses {
    fn into_expect(self) -> ExpectStatus {
        match self {
            Statuses::One(c) => ExpectStatus::Codes(vec![c]),
            Statuses::Many(v) => ExpectStatus::Codes(v),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestEntry {
    name: Option<String>,
    #[serde(default = "one")]
    weight: u32,
    method: Option<String>,
    #[serde(default = "root")]
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_file: Option<PathBuf>,
    expect_status: Option<Statuses>,
    #[serde(default)]
    slo: Vec<String>,
}

fn one() -> u32 {
    1
}

fn root() -> String {
    "/".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageEntry {
    duration: String,
    target: f64,
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Base URL, when the file gives one.
    pub url: Option<String>,
    /// Open-model rate, when the file gives one.
    pub rate: Option<f64>,
    /// Connections, when the file gives them.
    pub connections: Option<usize>,
    /// Duration, when the file gives one.
    pub duration: Option<Duration>,
    /// Timeout, when the file gives one.
    pub timeout: Option<Duration>,
    /// The requests (at least one).
    pub requests: Vec<RequestSpec>,
    /// Ramp stages.
    pub stages: Vec<Stage>,
    /// SLOs of the whole run.
    pub slos: Vec<Slo>,
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.into(), source })?;
    parse(path, &text)
}

/// Parses scenario text; `path` names the file in errors and anchors `body_file`.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, LoadError> {
    let at = |offset: usize, message: String| {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        LoadError::Scenario { path: path.into(), line, column, message }
    };
    let file: File = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        at(offset, e.message().trim().to_string())
    })?;
    // Locate a key for errors found after parsing (the first `key =` on a line).
    let find = |needle: &str, nth: usize| -> usize {
        let mut seen = 0;
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let t = line.trim_start();
            if t.starts_with(needle) {
                if seen == nth {
                    return offset + (line.len() - t.len());
                }
                seen += 1;
            }
            offset += line.len();
        }
        0
    };
    if file.request.is_empty() {
        return Err(at(0, "no [[request]]: a scenario needs at least one request".into()));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let duration = |s: &str, nth_key: &str, nth: usize| {
        humantime::parse_duration(s.trim())
            .map_err(|e| at(find(nth_key, nth), format!("'{s}' is not a duration like 10s or 500ms ({e})")))
    };
    let mut requests = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, r) in file.request.into_iter().enumerate() {
        let req_at = find("[[request]]", i);
        let method = r.method.unwrap_or_else(|| "GET".into()).to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(at(req_at, format!("request {}: '{method}' is not an HTTP method", i + 1)));
        }
        if !r.path.starts_with('/') {
            return Err(at(req_at, format!("request {}: path '{}' must start with /", i + 1, r.path)));
        }
        let name = r.name.unwrap_or_else(|| format!("{method} {}", r.path));
        if !names.insert(name.clone()) {
            return Err(at(req_at, format!("request name '{name}' is used twice")));
        }
        let body = match (r.body, r.body_file) {
            (Some(_), Some(_)) => {
                return Err(at(req_at, format!("request '{name}': give body or body_file, not both")));
            }
            (Some(b), None) => b.into_bytes(),
            (None, Some(f)) => {
                let p = dir.join(&f);
                std::fs::read(&p)
                    .map_err(|e| at(req_at, format!("request '{name}': cannot read body_file {}: {e}", p.display())))?
            }
            (None, None) => Vec::new(),
        };
        let mut headers: Vec<(String, String)> = file
            .defaults
            .headers
            .iter()
            .filter(|(k, _)| !r.headers.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        headers.extend(r.headers);
        let expect = r
            .expect_status
            .map(Statuses::into_expect)
            .or_else(|| {
                file.defaults.expect_status.as_ref().map(|s| match s {
                    Statuses::One(c) => ExpectStatus::Codes(vec![*c]),
                    Statuses::Many(v) => ExpectStatus::Codes(v.clone()),
                })
            })
            .unwrap_or(ExpectStatus::Success);
        for (k, v) in &headers {
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                return Err(at(req_at, format!("request '{name}': header name {k:?} is not a valid HTTP header name")));
            }
            if let Some(b) = v.bytes().find(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(at(
                    req_at,
                    format!(
                        "request '{name}': header {k:?} has a control character ({b:#04x}) in its value: CR, LF and other control bytes are not allowed"
                    ),
                ));
            }
        }
        if let ExpectStatus::Codes(codes) = &expect
            && let Some(bad) = codes.iter().find(|c| !(100..=599).contains(*c))
        {
            return Err(at(
                req_at,
                format!("request '{name}': expect_status {bad} is not an HTTP status (100 to 599)"),
            ));
        }
        let slos = r
            .slo
            .iter()
            .map(|s| Slo::parse(s).map_err(|e| at(req_at, format!("request '{name}': {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        requests.push(RequestSpec { name, method, path: r.path, headers, body, weight: r.weight, expect, slos });
    }
    if requests.iter().all(|r| r.weight == 0) {
        return Err(at(find("[[request]]", 0), "every request has weight 0".into()));
    }
    let stages = file
        .stage
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if !(s.target.is_finite() && s.target >= 0.0) {
                return Err(at(find("[[stage]]", i), format!("stage {}: target must be >= 0", i + 1)));
            }
            Ok(Stage {
                duration: duration(&s.duration, "duration", i + usize::from(file.duration.is_some()))?,
                target: s.target,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let slos = file
        .slo
        .iter()
        .map(|s| Slo::parse(s).map_err(|e| at(find("slo", 0), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(r) = file.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(at(find("rate", 0), "rate must be a positive number of requests per second".into()));
    }
    Ok(Scenario {
        url: file.url,
        rate: file.rate,
        connections: file.connections,
        duration: file.duration.as_deref().map(|d| duration(d, "duration", 0)).transpose()?,
        timeout: file.timeout.as_deref().map(|d| duration(d, "timeout", 0)).transpose()?,
        requests,
        stages,
        slos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Scenario, LoadError> {
        parse(Path::new("s.toml"), text)
    }

    #[test]
    fn parses_a_full_scenario() {
        let s = p(r#"
url = "http://127.0.0.1:8000"
[defaults]
headers = { "X-Token" = "abc" }
[[request]]
name = "home"
weight = 3
path = "/"
slo = ["p95<200ms"]
[[request]]
name = "create"
method = "post"
path = "/items"
body = "{}"
headers = { "Content-Type" = "application/json" }
expect_status = 201
[[stage]]
duration = "5s"
target = 10
[[stage]]
duration = "10s"
target = 50
"#)
        .unwrap();
        assert_eq!(s.url.as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(s.requests.len(), 2);
        assert_eq!(s.requests[0].weight, 3);
        assert_eq!(s.requests[0].slos.len(), 1);
        assert_eq!(s.requests[1].method, "POST");
        assert_eq!(s.requests[1].expect, ExpectStatus::Codes(vec![201]));
        assert!(s.requests[1].headers.iter().any(|(k, _)| k == "X-Token"));
        assert_eq!(s.stages.len(), 2);
        assert_eq!(s.stages[1].duration, Duration::from_secs(10));
    }

    #[test]
    fn statuses_and_headers_that_http_forbids_are_refused() {
        let e = p("[[request]]\npath = \"/\"\nexpect_status = [200, 999]\n").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:1:") && e.contains("999 is not an HTTP status"), "{e}");
        let e = p("[[request]]\npath = \"/\"\nheaders = { X = \"a\\r\\nInjected: 1\" }\n").unwrap_err().to_string();
        assert!(e.contains("control character (0x0d)"), "{e}");
        let e = p("[defaults]\nheaders = { \"X Y\" = \"a\" }\n[[request]]\npath = \"/\"\n").unwrap_err().to_string();
        assert!(e.contains("not a valid HTTP header name"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let e = p("[[request]]\npath = \"/\"\nwieght = 3\n").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:3:"), "{e}");
        assert!(e.contains("wieght"), "{e}");
        let e = p("[[request]]\npath = \"/\n").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:2:"), "{e}");
        let e = p("[[request]]\npath = \"/\"\n[[request]]\npath = \"x\"\n").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:3:1:") && e.contains("must start with /"), "{e}");
        let e = p("[[request]]\npath = \"/\"\nslo = [\"p95<2\"]\n").unwrap_err().to_string();
        assert!(e.contains("needs a unit"), "{e}");
        let e = p("url = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("at least one request"), "{e}");
        let e = p("[[request]]\n[[stage]]\nduration = \"soon\"\ntarget = 1\n").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:3:") && e.contains("not a duration"), "{e}");
    }
}
