//! Resolved options of one load test: the target, the requests, the model and its bounds.

use std::path::PathBuf;
use std::time::Duration;

use crate::LoadError;
use crate::slo::Slo;

/// Which HTTP status codes count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectStatus {
    /// 200-399.
    Success,
    /// Exactly these codes.
    Codes(Vec<u16>),
}

impl ExpectStatus {
    /// True when `status` is expected.
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            ExpectStatus::Success => (200..400).contains(&status),
            ExpectStatus::Codes(codes) => codes.contains(&status),
        }
    }
}

/// One kind of request the generator sends.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// Name in reports (scenario name, or `METHOD path`).
    pub name: String,
    /// HTTP method.
    pub method: String,
    /// Path and query (starting with `/`).
    pub path: String,
    /// Extra headers, in order.
    pub headers: Vec<(String, String)>,
    /// Request body (empty: none).
    pub body: Vec<u8>,
    /// Relative weight in the mix.
    pub weight: u32,
    /// Statuses that count as success.
    pub expect: ExpectStatus,
    /// SLOs of this request alone.
    pub slos: Vec<Slo>,
}

impl RequestSpec {
    /// A GET of `path` with default settings.
    pub fn get(path: &str) -> Self {
        RequestSpec {
            name: format!("GET {path}"),
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            weight: 1,
            expect: ExpectStatus::Success,
            slos: Vec::new(),
        }
    }
}

/// What bounds the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Stop after this long.
    Duration(Duration),
    /// Stop after exactly this many requests have ended.
    Requests(u64),
}

/// One stage of a ramp: over `duration`, move linearly to `target` (connections in the
/// closed model, requests per second in the open model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// Value reached at its end.
    pub target: f64,
}

/// Resolved options of one load test.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSettings {
    /// Base URL (scheme, host, port; its path is the default request path).
    pub url: url::Url,
    /// The requests to send (one unless a scenario gives several).
    pub requests: Vec<RequestSpec>,
    /// Connections (closed model), or connections sharing the schedule (open model).
    pub connections: usize,
    /// Worker threads (0: one per core, at most one per connection).
    pub threads: usize,
    /// What ends the run. `None` only with stages (their total duration is the bound).
    pub bound: Option<Bound>,
    /// Open model: requests per second. `None`: closed model.
    pub rate: Option<f64>,
    /// Ramps: connections (closed) or rate (open) over time; starting from the first target.
    pub stages: Vec<Stage>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Keep connections open between requests.
    pub keepalive: bool,
    /// Speak HTTP/2 (prior knowledge on http://, ALPN on https://).
    pub http2: bool,
    /// Concurrent requests (streams) per HTTP/2 connection; 1 for HTTP/1.1.
    pub streams: usize,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// SLOs of the whole run.
    pub slos: Vec<Slo>,
    /// Scenario file the requests came from.
    pub scenario: Option<PathBuf>,
    /// Profile this process while the load runs.
    pub profile_pid: Option<u32>,
    /// Where the server profile is written.
    pub profile_out: Option<PathBuf>,
    /// Sampling rate of the server profile.
    pub profile_rate: f64,
    /// Server profile: sample only the thread holding the GIL.
    pub profile_gil: bool,
    /// Server profile: include idle threads.
    pub profile_idle: bool,
}

impl LoadSettings {
    /// Settings for a GET of `url` with the defaults of the command line.
    pub fn new(url: &str) -> Result<Self, LoadError> {
        let url = parse_url(url)?;
        let path = path_of(&url);
        Ok(LoadSettings {
            requests: vec![RequestSpec::get(&path)],
            url,
            connections: 50,
            threads: 0,
            bound: None,
            rate: None,
            stages: Vec::new(),
            timeout: Duration::from_secs(10),
            keepalive: true,
            http2: false,
            streams: 1,
            insecure: false,
            slos: Vec::new(),
            scenario: None,
            profile_pid: None,
            profile_out: None,
            profile_rate: 100.0,
            profile_gil: false,
            profile_idle: false,
        })
    }

    /// Checks the combination of options; an unbounded run is refused.
    pub fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: &str| Err(LoadError::InvalidSetting(m.to_string()));
        if self.bound.is_none() && self.stages.is_empty() {
            return bad(
                "refusing to start an unbounded load: give --duration (e.g. -d 10s) or --requests (e.g. -n 1000)",
            );
        }
        match self.bound {
            Some(Bound::Duration(d)) if d.is_zero() => return bad("--duration must be greater than 0"),
            Some(Bound::Requests(0)) => return bad("--requests must be at least 1"),
            _ => {}
        }
        if self.connections == 0 {
            return bad("--connections must be at least 1");
        }
        if self.streams == 0 {
            return bad("--streams must be at least 1");
        }
        if self.streams > 1 && !self.http2 {
            return bad(
                "--streams needs --http2: an HTTP/1.1 connection carries one request at a time (use more --connections)",
            );
        }
        if let Some(r) = self.rate
            && !(r.is_finite() && r > 0.0)
        {
            return bad("--rate must be a positive number of requests per second");
        }
        if self.timeout.is_zero() {
            return bad("--timeout must be greater than 0");
        }
        if self.requests.is_empty() {
            return bad("no request to send");
        }
        if self.requests.iter().all(|r| r.weight == 0) {
            return bad("every request has weight 0: give at least one a positive weight");
        }
        for s in &self.stages {
            if !(s.target.is_finite() && s.target >= 0.0) {
                return bad("a stage target must be a number >= 0");
            }
        }
        if self.stages.iter().map(|s| s.duration).sum::<Duration>().is_zero() && self.bound.is_none() {
            return bad("the stages last 0 s in total: give them durations");
        }
        if self.rate.is_none()
            && let Some(s) = self.slos.iter().find(|s| s.is_dropped())
        {
            return Err(LoadError::InvalidSetting(format!(
                "SLO '{}' needs the open model (--rate): a closed-model connection sends its next request when answered, so none is dropped",
                s.expr
            )));
        }
        if let Some((r, s)) = self.requests.iter().find_map(|r| r.slos.iter().find(|s| s.is_dropped()).map(|s| (r, s)))
        {
            return Err(LoadError::InvalidSetting(format!(
                "request '{}': SLO '{}' applies to the whole run; put it in the scenario's top-level slo list or give it with --slo",
                r.name, s.expr
            )));
        }
        Ok(())
    }

    /// Host and port as `host:port`.
    pub fn authority(&self) -> String {
        let host = self.url.host_str().unwrap_or("");
        let port = self.url.port_or_known_default().unwrap_or(80);
        // `host_str` already brackets an IPv6 address (`[::1]`).
        if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
    }

    /// True for https URLs.
    pub fn is_tls(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// Largest number of connections over the stages (closed model).
    pub fn max_connections(&self) -> usize {
        if self.rate.is_none() && !self.stages.is_empty() {
            let m = self.stages.iter().map(|s| s.target).fold(0.0, f64::max);
            (m.ceil() as usize).max(1)
        } else {
            self.connections
        }
    }
}

/// Parses and checks a target URL.
pub fn parse_url(s: &str) -> Result<url::Url, LoadError> {
    let err = |reason: String| LoadError::InvalidUrl { url: s.to_string(), reason };
    let url = url::Url::parse(s).map_err(|e| err(e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(err(format!("scheme '{other}' is not supported (use http or https)"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err("no host".into()));
    }
    Ok(url)
}

/// The path and query of a URL.
pub fn path_of(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(parse_url("http://127.0.0.1:8000/x?y=1").is_ok());
        assert!(parse_url("localhost:8000").is_err());
        assert!(parse_url("ftp://h/").unwrap_err().to_string().contains("scheme 'ftp'"));
        assert!(parse_url("not a url").unwrap_err().to_string().contains("http://127.0.0.1:8000/path"));
        let u = parse_url("http://h:81/a/b?c=d").unwrap();
        assert_eq!(path_of(&u), "/a/b?c=d");
    }

    #[test]
    fn unbounded_runs_are_refused() {
        let s = LoadSettings::new("http://127.0.0.1:1/").unwrap();
        assert!(s.validate().unwrap_err().to_string().contains("unbounded"));
        let mut s = s;
        s.bound = Some(Bound::Requests(10));
        assert!(s.validate().is_ok());
        assert_eq!(s.authority(), "127.0.0.1:1");
        assert_eq!(LoadSettings::new("http://[::1]:8000/").unwrap().authority(), "[::1]:8000");
    }

    #[test]
    fn expected_statuses() {
        assert!(ExpectStatus::Success.accepts(204));
        assert!(ExpectStatus::Success.accepts(302));
        assert!(!ExpectStatus::Success.accepts(404));
        assert!(ExpectStatus::Codes(vec![404]).accepts(404));
    }
}
