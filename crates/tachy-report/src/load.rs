//! The report of `tachy load`: totals, latency percentiles, status and error counts, a
//! per-second timeline, per-request breakdown, SLO verdicts and the generator self-check.
//!
//! Latency histograms travel inside the report as base64 HdrHistogram V2 (deflate)
//! serialisations, so reports made on several machines merge exactly (`tachy load merge`).
//! The JSON schema is documented in `docs/load-json.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Schema tag of a load report.
pub const LOAD_SCHEMA: &str = "tachy-load/1";

/// One load test (or several merged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Always [`LOAD_SCHEMA`].
    pub schema: String,
    /// Version of tachy that made the report.
    pub tachy_version: String,
    /// What was run.
    pub run: RunInfo,
    /// When the load started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time from the first request to the end of the run, in seconds.
    pub elapsed_secs: f64,
    /// Why the run ended.
    pub end: LoadEnd,
    /// Every request of the run.
    pub totals: LoadStats,
    /// Per named request of a scenario (one entry named after the method and path otherwise).
    pub endpoints: Vec<EndpointStats>,
    /// One point per second of the run.
    pub timeline: Vec<TimelinePoint>,
    /// Open model only: how well the generator kept to the arrival schedule.
    pub schedule: Option<ScheduleStats>,
    /// The generator's own CPU use and scheduling delay, and whether the run is valid.
    pub generator: GeneratorCheck,
    /// SLO verdicts, global then per request.
    pub slos: Vec<SloResult>,
    /// The server-side profile taken with `--profile-pid`.
    pub server_profile: Option<ServerProfile>,
    /// Number of runs merged into this report (1 for a single run).
    pub parts: u32,
    /// Remarks for the user (partial run, invalid run, ...).
    pub notes: Vec<String>,
}

impl LoadReport {
    /// True when every SLO passed.
    pub fn slos_passed(&self) -> bool {
        self.slos.iter().all(|s| s.passed)
    }
}

/// How the load was generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Target URL (the base URL of a scenario).
    pub url: String,
    /// `"closed"` (fixed connections, each sends as fast as answered) or `"open"` (fixed
    /// arrival rate, latency measured from each request's intended send time).
    pub model: LoadModel,
    /// HTTP version spoken: `"1.1"` or `"2"`.
    pub http_version: String,
    /// Connections (the largest number of a ramp).
    pub connections: u64,
    /// Concurrent HTTP/2 streams per connection (`--streams`); 1 for HTTP/1.1.
    #[serde(default = "one")]
    pub streams: u64,
    /// Worker threads of the generator.
    pub threads: u64,
    /// Target arrival rate in requests per second (open model; the largest of a ramp).
    pub rate: Option<f64>,
    /// Requested duration in seconds, when bounded by time.
    pub duration_secs: Option<f64>,
    /// Requested number of requests, when bounded by count.
    pub requests: Option<u64>,
    /// Per-request timeout in seconds.
    pub timeout_secs: f64,
    /// Whether connections were kept alive between requests.
    pub keepalive: bool,
    /// Scenario file, when one was used.
    pub scenario: Option<String>,
}

/// `serde(default)` of counts that are 1 unless given.
fn one() -> u64 {
    1
}

/// The load model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadModel {
    /// A fixed number of connections, each sending its next request when answered.
    Closed,
    /// A fixed arrival rate, independent of the server's answers.
    Open,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadEnd {
    /// The duration elapsed or every request was made.
    Completed,
    /// Ctrl-C: the figures cover the run up to then.
    Interrupted,
}

/// Counts and latency figures of a set of requests.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LoadStats {
    /// Requests that ended, with a response or an error.
    pub requests: u64,
    /// Requests answered with a complete response (any status).
    pub responses: u64,
    /// Responses with an expected status (2xx and 3xx unless the scenario says otherwise).
    pub ok: u64,
    /// Requests that failed: transport errors plus unexpected statuses.
    pub errors: u64,
    /// `errors / requests`.
    pub error_rate: f64,
    /// `timeouts / requests`.
    pub timeout_rate: f64,
    /// Requests per second over the run (ended requests / elapsed).
    pub rps: f64,
    /// Bytes received (headers and bodies).
    pub bytes_received: u64,
    /// Bytes received per second.
    pub bytes_per_sec: f64,
    /// Latency of responses, in milliseconds.
    pub latency: LatencySummary,
    /// Log-spaced latency buckets for a histogram (upper bound in ms, count).
    pub histogram: Vec<LatencyBucket>,
    /// Responses per HTTP status code.
    pub status_counts: BTreeMap<u16, u64>,
    /// Failed requests per class.
    pub error_counts: BTreeMap<ErrorClass, u64>,
    /// The latency histogram: base64 of an HdrHistogram V2 deflate serialisation, in
    /// microseconds. Used to merge reports exactly.
    pub latency_hdr: String,
}

/// Latency percentiles of responses, in milliseconds (all zero when there were none).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Responses measured.
    pub count: u64,
    /// Fastest.
    pub min_ms: f64,
    /// Arithmetic mean.
    pub mean_ms: f64,
    /// Standard deviation.
    pub stdev_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p99_9_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// One bar of the latency histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucket {
    /// Upper bound of the bucket in milliseconds (inclusive).
    pub le_ms: f64,
    /// Responses in the bucket.
    pub count: u64,
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The connection was refused (nothing listens on the port).
    Refused,
    /// Connecting failed otherwise (unreachable network, ...).
    Connect,
    /// No complete response within the timeout.
    Timeout,
    /// The server reset the connection.
    Reset,
    /// The server closed the connection before the response was complete.
    Closed,
    /// The TLS handshake failed.
    Tls,
    /// The response was not valid HTTP.
    InvalidResponse,
    /// A complete response with a status the request did not expect.
    UnexpectedStatus,
    /// Any other I/O error.
    Other,
}

impl ErrorClass {
    /// Every class, in report order.
    pub const ALL: [ErrorClass; 9] = [
        ErrorClass::Refused,
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Reset,
        ErrorClass::Closed,
        ErrorClass::Tls,
        ErrorClass::InvalidResponse,
        ErrorClass::UnexpectedStatus,
        ErrorClass::Other,
    ];

    /// The name used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Refused => "refused",
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Reset => "reset",
            ErrorClass::Closed => "closed",
            ErrorClass::Tls => "tls",
            ErrorClass::InvalidResponse => "invalid_response",
            ErrorClass::UnexpectedStatus => "unexpected_status",
            ErrorClass::Other => "other",
        }
    }

    /// A short human description.
    pub fn describe(self) -> &'static str {
        match self {
            ErrorClass::Refused => "connection refused",
            ErrorClass::Connect => "could not connect",
            ErrorClass::Timeout => "timed out",
            ErrorClass::Reset => "connection reset",
            ErrorClass::Closed => "closed mid-response",
            ErrorClass::Tls => "TLS failure",
            ErrorClass::InvalidResponse => "invalid HTTP response",
            ErrorClass::UnexpectedStatus => "unexpected status",
            ErrorClass::Other => "other I/O error",
        }
    }
}

/// Figures of one named request of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// The request's name.
    pub name: String,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Weight in the scenario's mix.
    pub weight: u32,
    /// Its figures.
    pub stats: LoadStats,
}

/// One second of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Seconds since the start (the point covers `[second, second + 1)`).
    pub second: u64,
    /// Requests that ended in this second.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Of which timed out.
    pub timeouts: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Connections active (closed model) at the end of the second.
    pub connections: u64,
    /// Target rate of the arrival schedule in this second (open model).
    pub target_rate: Option<f64>,
    /// Mean latency in ms.
    pub mean_ms: f64,
    /// Median latency in ms.
    pub p50_ms: f64,
    /// 99th percentile latency in ms.
    pub p99_ms: f64,
    /// Slowest response in ms.
    pub max_ms: f64,
    /// This second's latency histogram (base64 HdrHistogram V2 deflate, microseconds).
    pub latency_hdr: String,
}

/// Open model: adherence to the arrival schedule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScheduleStats {
    /// Target rate in requests per second (the largest of a ramp).
    pub target_rate: f64,
    /// Requests the schedule planned up to the end of the run.
    pub scheduled: u64,
    /// Requests sent.
    pub sent: u64,
    /// Requests sent later than the lateness threshold after their intended time (the
    /// connection was still busy, or the generator was behind).
    pub late: u64,
    /// Planned requests never sent because their connection was still waiting for the answer
    /// to an earlier one when the run ended: the target did not keep up. Not in the latency
    /// percentiles (they have no response); `max_dropped_wait_ms` bounds their latency from
    /// below. `scheduled >= sent + dropped`: the rest were due in the last moments and the
    /// generator itself had not sent them yet (its timer lag, see `generator`).
    pub dropped: u64,
    /// How long the oldest dropped request had waited past its intended send time when the
    /// run ended, in ms (0 when none was dropped): a lower bound on its latency.
    #[serde(default)]
    pub max_dropped_wait_ms: f64,
    /// The lateness threshold in ms.
    pub late_threshold_ms: f64,
    /// Largest delay between a request's intended and actual send time, in ms.
    pub max_lateness_ms: f64,
    /// Rate achieved (sent / elapsed).
    pub achieved_rate: f64,
}

impl ScheduleStats {
    /// `dropped / scheduled` (0-1; 0 when nothing was planned).
    pub fn dropped_share(&self) -> f64 {
        if self.scheduled > 0 { self.dropped as f64 / self.scheduled as f64 } else { 0.0 }
    }
}

/// The generator's own health during the run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GeneratorCheck {
    /// CPU time used by tachy (all threads) in seconds.
    pub cpu_secs: f64,
    /// CPU use as a percentage of one core.
    pub cpu_percent: f64,
    /// Mean share of wall time the worker threads were busy (0-1).
    pub busy_share: f64,
    /// 99th percentile of the event-loop lag probe, in ms (how late a timer fired).
    pub lag_p99_ms: f64,
    /// Cores available to the process.
    pub cores: u64,
    /// True when the generator was saturated, so latencies describe tachy, not the server.
    pub saturated: bool,
    /// Why the run is considered invalid, when it is.
    pub reason: Option<String>,
}

/// The verdict of one SLO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    /// The expression as written, e.g. `p95<200ms`.
    pub expr: String,
    /// The named request it applies to (`None`: the whole run).
    pub scope: Option<String>,
    /// The metric: `p95`, `errors`, `timeouts`, `rps`, `mean`, `dropped`, ...
    pub metric: String,
    /// The measured value, in the unit of the limit (ms, %, req/s).
    pub measured: f64,
    /// The limit, in the same unit.
    pub limit: f64,
    /// The unit: `ms`, `%`, `req/s` or `requests`.
    pub unit: String,
    /// Whether it held.
    pub passed: bool,
    /// True for an SLO tachy added itself: `dropped<=0` in the open model when no `dropped`
    /// SLO was given.
    #[serde(default)]
    pub implicit: bool,
}

/// The server-side profile taken during the load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerProfile {
    /// The profiled process.
    pub pid: u32,
    /// Where the profile was written (a `tachy profile` JSON file).
    pub path: String,
    /// Samples taken.
    pub samples: u64,
    /// Which threads the samples come from, so what a share means.
    #[serde(default)]
    pub view: ProfileView,
    /// Mean number of threads sampled per sampling round that saw any (1 when one thread ran
    /// at a time; more when several ran at once, whose wall-clock shares then add up).
    #[serde(default)]
    pub threads_per_round: f64,
    /// The hottest functions.
    pub top: Vec<ProfileLine>,
    /// Problems while profiling (the load still ran).
    pub notes: Vec<String>,
    /// Why the profile could not be written to `path` (absent when it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_error: Option<String>,
}

/// Which threads a server profile samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileView {
    /// Wall-clock over every running thread (the default): a line that releases the GIL and
    /// keeps working (I/O, C code) counts as much as one that holds it.
    #[default]
    RunningThreads,
    /// Wall-clock over every thread, idle ones included (`--idle`).
    AllThreads,
    /// Only the thread holding the GIL (`--gil`): where the Python time of a GIL-bound server
    /// goes.
    GilHolder,
}

impl ProfileView {
    /// How the text report names it.
    pub fn describe(self) -> &'static str {
        match self {
            ProfileView::RunningThreads => "wall-clock over all running threads",
            ProfileView::AllThreads => "wall-clock over all threads, idle ones included",
            ProfileView::GilHolder => "only the thread holding the GIL",
        }
    }
}

/// One function of the server profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileLine {
    /// Function name.
    pub function: String,
    /// `file:line` of the function.
    pub location: String,
    /// Share of samples in the function itself (0-1).
    pub self_share: f64,
    /// Share of samples with the function on the stack (0-1).
    pub total_share: f64,
}
