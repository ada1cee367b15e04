//! A tiny Prometheus endpoint: `GET /metrics` in the text exposition format 0.0.4, served by
//! one thread on a std [`TcpListener`] that answers each request and closes the connection.
//!
//! Metric names follow the official client's process collector where one exists
//! (`process_resident_memory_bytes`, `process_cpu_seconds_total`, ...), one series per watched
//! process labelled `pid` and `command`; the memory growth and the alert states are tachy's own
//! (`tachy_memory_growth_bytes_per_hour`, `tachy_alert_firing`). The list is in
//! `docs/watch-format.md`.

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tachy_report::watch::{Metrics, Sample};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Longest request head read before answering.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its request or read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest `command` label value, in characters.
const COMMAND_CHARS: usize = 200;
/// The body served before the first sample.
const NO_SAMPLE: &str = "# tachy watch: no sample yet\n";
/// The page served at `/`.
const INDEX: &str = "<!DOCTYPE html>\n<html><head><title>tachy watch</title></head>\n\
                     <body><h1>tachy watch</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

/// The endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    /// The address is not `PORT` or `HOST:PORT`.
    #[error("invalid Prometheus address '{0}': give PORT or HOST:PORT, e.g. --prometheus 127.0.0.1:9184")]
    InvalidAddress(String),
    /// Binding failed (port in use, no permission, ...).
    #[error("cannot listen on {addr}: {reason}; pick another port with --prometheus 127.0.0.1:PORT")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The serving thread could not start.
    #[error("cannot start the Prometheus thread: {0}; free some resources and retry")]
    Thread(std::io::Error),
}

/// A running `/metrics` endpoint; dropping it stops the server thread.
#[derive(Debug)]
pub struct Exporter {
    addr: SocketAddr,
    body: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Resolves `PORT`, `:PORT` or `HOST:PORT` (a bare port means 127.0.0.1).
fn resolve(addr: &str) -> Result<SocketAddr, ExporterError> {
    let invalid = || ExporterError::InvalidAddress(addr.to_string());
    let a = addr.trim();
    let port_only = a.strip_prefix(':').unwrap_or(a);
    if !port_only.is_empty() && port_only.chars().all(|c| c.is_ascii_digit()) {
        let port: u16 = port_only.parse().map_err(|_| invalid())?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(sa) = a.parse::<SocketAddr>() {
        return Ok(sa);
    }
    let (_, port) = a.rsplit_once(':').ok_or_else(invalid)?;
    port.parse::<u16>().map_err(|_| invalid())?;
    a.to_socket_addrs().ok().and_then(|mut it| it.next()).ok_or_else(invalid)
}

impl Exporter {
    /// Binds `addr` (e.g. `127.0.0.1:9184`; a bare port means `127.0.0.1:PORT`; port 0 picks a
    /// free one, see [`Exporter::local_addr`]) and starts serving. Until the first
    /// [`Exporter::update`], `/metrics` holds only a comment.
    pub fn start(addr: &str) -> Result<Exporter, ExporterError> {
        let target = resolve(addr)?;
        let listener = TcpListener::bind(target).map_err(|e| ExporterError::Listen {
            addr: target.to_string(),
            reason: match e.kind() {
                ErrorKind::AddrInUse => "address already in use".into(),
                ErrorKind::PermissionDenied => "permission denied (ports below 1024 need privileges)".into(),
                ErrorKind::AddrNotAvailable => "this machine has no such address".into(),
                _ => e.to_string(),
            },
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| ExporterError::Listen { addr: target.to_string(), reason: e.to_string() })?;
        let body = Arc::new(Mutex::new(NO_SAMPLE.to_string()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (body, stop) = (Arc::clone(&body), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("tachy-prometheus".into())
                .spawn(move || serve(&listener, &body, &stop))
                .map_err(ExporterError::Thread)?
        };
        Ok(Exporter { addr: local, body, stop, thread: Some(thread) })
    }

    /// The address actually bound (the chosen port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the exposed figures with those of a sample and the alert states
    /// (`(expression, firing)`).
    pub fn update(&self, sample: &Sample, alerts_firing: &[(String, bool)]) {
        let text = render(sample, alerts_firing);
        match self.body.lock() {
            Ok(mut body) => *body = text,
            Err(poisoned) => *poisoned.into_inner() = text,
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept with a connection of our own.
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let woke = TcpStream::connect_timeout(&SocketAddr::new(ip, self.addr.port()), Duration::from_secs(1)).is_ok();
        if let Some(t) = self.thread.take()
            && woke
        {
            let _ = t.join();
        }
    }
}

/// Accepts connections until `stop` is set, answering each in turn.
fn serve(listener: &TcpListener, body: &Mutex<String>, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(stream) => {
                let _ = answer(stream, body);
            }
            // Out of descriptors and the like: back off instead of spinning.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Reads one request head and writes the response, then closes the connection.
fn answer(mut stream: TcpStream, body: &Mutex<String>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_REQUEST {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                b"request too large\n",
                true,
            );
        }
    }
    if head.is_empty() {
        // Connected and closed without a request (a port check): nothing to answer.
        return Ok(());
    }
    let text = String::from_utf8_lossy(&head);
    let mut parts = text.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split(['?', '#']).next().unwrap_or("");
    let with_body = method != "HEAD";
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, "405 Method Not Allowed", "text/plain", b"only GET is supported\n", true);
    }
    match path {
        "/metrics" => {
            let body = match body.lock() {
                Ok(b) => b.clone(),
                Err(poisoned) => poisoned.into_inner().clone(),
            };
            respond(&mut stream, "200 OK", CONTENT_TYPE, body.as_bytes(), with_body)
        }
        "/" => respond(&mut stream, "200 OK", "text/html; charset=utf-8", INDEX.as_bytes(), with_body),
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found: try /metrics\n", with_body),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    // Let the client read before the socket goes away (a close with unread input would reset).
    let mut sink = [0u8; 1024];
    for _ in 0..64 {
        if !matches!(stream.read(&mut sink), Ok(n) if n > 0) {
            break;
        }
    }
    Ok(())
}

/// Escapes a label value: backslash, double quote and newline.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value: integers without a fraction, `NaN`, `+Inf` and `-Inf` spelled as Prometheus
/// expects.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// The `pid` and `command` labels of a process.
fn process_labels(pid: u32, command: &str) -> String {
    let command: String = if command.chars().count() > COMMAND_CHARS {
        command.chars().take(COMMAND_CHARS - 1).chain(['…']).collect()
    } else {
        command.to_string()
    };
    format!("pid=\"{pid}\",command=\"{}\"", label(&command))
}

/// One metric family: `# HELP`, `# TYPE` and its series (`labels`, value); nothing when there
/// is no series.
fn family(out: &mut String, name: &str, kind: &str, help: &str, series: &[(String, f64)]) {
    if series.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, v) in series {
        let _ = writeln!(out, "{name}{{{labels}}} {}", number(*v));
    }
}

/// A per-process family of one optional field.
type Field = fn(&Metrics) -> Option<f64>;

/// `(name, type, help, field)` of the plain per-process families.
const PLAIN: [(&str, &str, &str, Field); 10] = [
    ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", |m| m.rss_bytes.map(|v| v as f64)),
    ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", |m| m.vms_bytes.map(|v| v as f64)),
    ("process_unique_memory_bytes", "gauge", "Unique set size (private memory) in bytes.", |m| {
        m.uss_bytes.map(|v| v as f64)
    }),
    ("process_proportional_memory_bytes", "gauge", "Proportional set size in bytes.", |m| {
        m.pss_bytes.map(|v| v as f64)
    }),
    ("process_swap_bytes", "gauge", "Swapped-out memory in bytes.", |m| m.swap_bytes.map(|v| v as f64)),
    ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", |m| {
        m.cpu_seconds_total
    }),
    ("process_open_fds", "gauge", "Number of open file descriptors.", |m| m.fds.map(|v| v as f64)),
    ("process_threads", "gauge", "Number of OS threads in the process.", |m| m.threads.map(|v| v as f64)),
    ("process_io_read_bytes_total", "counter", "Bytes read from storage.", |m| m.read_bytes.map(|v| v as f64)),
    ("process_io_write_bytes_total", "counter", "Bytes written to storage.", |m| m.write_bytes.map(|v| v as f64)),
];

/// The exposition text (format 0.0.4) for a sample and the alert states.
pub fn render(sample: &Sample, alerts_firing: &[(String, bool)]) -> String {
    let mut out = String::new();
    let procs: Vec<(String, &Metrics)> =
        sample.processes.iter().map(|p| (process_labels(p.pid, &p.command), &p.metrics)).collect();
    for (name, kind, help, field) in PLAIN {
        let series: Vec<(String, f64)> = procs.iter().filter_map(|(l, m)| field(m).map(|v| (l.clone(), v))).collect();
        family(&mut out, name, kind, help, &series);
    }
    type Pair = fn(&Metrics) -> [(&'static str, Option<u64>); 2];
    let kinds: [(&str, &str, Pair); 2] = [
        ("process_context_switches_total", "Context switches by kind (voluntary, involuntary).", |m| {
            [("voluntary", m.ctx_switches_voluntary), ("involuntary", m.ctx_switches_involuntary)]
        }),
        ("process_page_faults_total", "Page faults by kind (minor, major).", |m| {
            [("minor", m.minor_faults), ("major", m.major_faults)]
        }),
    ];
    for (name, help, pair) in kinds {
        let series: Vec<(String, f64)> = procs
            .iter()
            .flat_map(|(l, m)| {
                pair(m).into_iter().filter_map(move |(kind, v)| v.map(|v| (format!("{l},kind=\"{kind}\""), v as f64)))
            })
            .collect();
        family(&mut out, name, "counter", help, &series);
    }
    let tcp: Vec<(String, f64)> = procs
        .iter()
        .flat_map(|(l, m)| {
            m.tcp.iter().flatten().map(move |(state, n)| (format!("{l},state=\"{}\"", label(state)), *n as f64))
        })
        .collect();
    family(&mut out, "process_tcp_connections", "gauge", "TCP sockets of the process by state.", &tcp);
    if let Some(g) = &sample.growth {
        let l = format!("metric=\"{}\"", label(&g.metric));
        let level = format!("{:.0}%", g.level * 100.0);
        family(
            &mut out,
            "tachy_memory_growth_bytes_per_hour",
            "gauge",
            "Memory growth of the watched tree (Theil-Sen slope after the warm-up), bytes per hour.",
            &[(l.clone(), g.bytes_per_hour)],
        );
        family(
            &mut out,
            "tachy_memory_growth_low_bytes_per_hour",
            "gauge",
            &format!("Lower bound of the {level} confidence interval of the memory growth, bytes per hour."),
            &[(l.clone(), g.low_bytes_per_hour)],
        );
        family(
            &mut out,
            "tachy_memory_growth_high_bytes_per_hour",
            "gauge",
            &format!("Upper bound of the {level} confidence interval of the memory growth, bytes per hour."),
            &[(l.clone(), g.high_bytes_per_hour)],
        );
        family(
            &mut out,
            "tachy_memory_growing",
            "gauge",
            "1 when the memory growth verdict is growing (above the threshold, sustained, resolved).",
            &[(l, if g.growing { 1.0 } else { 0.0 })],
        );
    }
    let alerts: Vec<(String, f64)> = alerts_firing
        .iter()
        .map(|(expr, firing)| (format!("alert=\"{}\"", label(expr)), if *firing { 1.0 } else { 0.0 }))
        .collect();
    family(&mut out, "tachy_alert_firing", "gauge", "1 while the tachy watch alert is firing.", &alerts);
    if out.is_empty() {
        out.push_str(NO_SAMPLE);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tachy_report::watch::{Growth, ProcessSample};

    use super::*;

    fn sample() -> Sample {
        let root = Metrics {
            cpu_user_percent: Some(40.0),
            cpu_system_percent: Some(2.5),
            cpu_seconds_total: Some(12.25),
            rss_bytes: Some(157_286_400),
            uss_bytes: Some(140_000_000),
            pss_bytes: Some(145_000_000),
            swap_bytes: Some(0),
            vms_bytes: Some(1_200_000_000),
            threads: Some(12),
            fds: Some(40),
            tcp: Some(BTreeMap::from([("close_wait".to_string(), 2), ("established".to_string(), 5)])),
            read_bytes: Some(4096),
            write_bytes: Some(1_048_576),
            ctx_switches_voluntary: Some(1500),
            ctx_switches_involuntary: Some(30),
            minor_faults: Some(52_000),
            major_faults: Some(3),
        };
        // A child whose smaps_rollup and io were not readable.
        let child = Metrics {
            cpu_seconds_total: Some(0.5),
            rss_bytes: Some(20_971_520),
            vms_bytes: Some(300_000_000),
            threads: Some(1),
            fds: Some(4),
            tcp: Some(BTreeMap::new()),
            ctx_switches_voluntary: Some(10),
            ctx_switches_involuntary: Some(1),
            minor_faults: Some(900),
            major_faults: Some(0),
            ..Metrics::default()
        };
        Sample {
            t_secs: 12.0,
            time: "2026-01-01T12:00:12.000Z".into(),
            processes: vec![
                ProcessSample { pid: 4242, ppid: 1, command: "python3 app.py --name \"x\\y\"".into(), metrics: root },
                ProcessSample { pid: 4250, ppid: 4242, command: "python3 -c 'a\nb'".into(), metrics: child },
            ],
            total: Metrics::default(),
            growth: Some(Growth {
                metric: "rss".into(),
                bytes_per_hour: 36_000_000.0,
                low_bytes_per_hour: 35_100_000.0,
                high_bytes_per_hour: 36_800_000.0,
                level: 0.95,
                samples: 12,
                window_secs: 11.0,
                growing: true,
                ..Growth::default()
            }),
        }
    }

    const EXPECTED: &str = r#"# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes{pid="4242",command="python3 app.py --name \"x\\y\""} 157286400
process_resident_memory_bytes{pid="4250",command="python3 -c 'a\nb'"} 20971520
# HELP process_virtual_memory_bytes Virtual memory size in bytes.
# TYPE process_virtual_memory_bytes gauge
process_virtual_memory_bytes{pid="4242",command="python3 app.py --name \"x\\y\""} 1200000000
process_virtual_memory_bytes{pid="4250",command="python3 -c 'a\nb'"} 300000000
# HELP process_unique_memory_bytes Unique set size (private memory) in bytes.
# TYPE process_unique_memory_bytes gauge
process_unique_memory_bytes{pid="4242",command="python3 app.py --name \"x\\y\""} 140000000
# HELP process_proportional_memory_bytes Proportional set size in bytes.
# TYPE process_proportional_memory_bytes gauge
process_proportional_memory_bytes{pid="4242",command="python3 app.py --name \"x\\y\""} 145000000
# HELP process_swap_bytes Swapped-out memory in bytes.
# TYPE process_swap_bytes gauge
process_swap_bytes{pid="4242",command="python3 app.py --name \"x\\y\""} 0
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total{pid="4242",command="python3 app.py --name \"x\\y\""} 12.25
process_cpu_seconds_total{pid="4250",command="python3 -c 'a\nb'"} 0.5
# HELP process_open_fds Number of open file descriptors.
# TYPE process_open_fds gauge
process_open_fds{pid="4242",command="python3 app.py --name \"x\\y\""} 40
process_open_fds{pid="4250",command="python3 -c 'a\nb'"} 4
# HELP process_threads Number of OS threads in the process.
# TYPE process_threads gauge
process_threads{pid="4242",command="python3 app.py --name \"x\\y\""} 12
process_threads{pid="4250",command="python3 -c 'a\nb'"} 1
# HELP process_io_read_bytes_total Bytes read from storage.
# TYPE process_io_read_bytes_total counter
process_io_read_bytes_total{pid="4242",command="python3 app.py --name \"x\\y\""} 4096
# HELP process_io_write_bytes_total Bytes written to storage.
# TYPE process_io_write_bytes_total counter
process_io_write_bytes_total{pid="4242",command="python3 app.py --name \"x\\y\""} 1048576
# HELP process_context_switches_total Context switches by kind (voluntary, involuntary).
# TYPE process_context_switches_total counter
process_context_switches_total{pid="4242",command="python3 app.py --name \"x\\y\"",kind="voluntary"} 1500
process_context_switches_total{pid="4242",command="python3 app.py --name \"x\\y\"",kind="involuntary"} 30
process_context_switches_total{pid="4250",command="python3 -c 'a\nb'",kind="voluntary"} 10
process_context_switches_total{pid="4250",command="python3 -c 'a\nb'",kind="involuntary"} 1
# HELP process_page_faults_total Page faults by kind (minor, major).
# TYPE process_page_faults_total counter
process_page_faults_total{pid="4242",command="python3 app.py --name \"x\\y\"",kind="minor"} 52000
process_page_faults_total{pid="4242",command="python3 app.py --name \"x\\y\"",kind="major"} 3
process_page_faults_total{pid="4250",command="python3 -c 'a\nb'",kind="minor"} 900
process_page_faults_total{pid="4250",command="python3 -c 'a\nb'",kind="major"} 0
# HELP process_tcp_connections TCP sockets of the process by state.
# TYPE process_tcp_connections gauge
process_tcp_connections{pid="4242",command="python3 app.py --name \"x\\y\"",state="close_wait"} 2
process_tcp_connections{pid="4242",command="python3 app.py --name \"x\\y\"",state="established"} 5
# HELP tachy_memory_growth_bytes_per_hour Memory growth of the watched tree (Theil-Sen slope after the warm-up), bytes per hour.
# TYPE tachy_memory_growth_bytes_per_hour gauge
tachy_memory_growth_bytes_per_hour{metric="rss"} 36000000
# HELP tachy_memory_growth_low_bytes_per_hour Lower bound of the 95% confidence interval of the memory growth, bytes per hour.
# TYPE tachy_memory_growth_low_bytes_per_hour gauge
tachy_memory_growth_low_bytes_per_hour{metric="rss"} 35100000
# HELP tachy_memory_growth_high_bytes_per_hour Upper bound of the 95% confidence interval of the memory growth, bytes per hour.
# TYPE tachy_memory_growth_high_bytes_per_hour gauge
tachy_memory_growth_high_bytes_per_hour{metric="rss"} 36800000
# HELP tachy_memory_growing 1 when the memory growth verdict is growing (above the threshold, sustained, resolved).
# TYPE tachy_memory_growing gauge
tachy_memory_growing{metric="rss"} 1
# HELP tachy_alert_firing 1 while the tachy watch alert is firing.
# TYPE tachy_alert_firing gauge
tachy_alert_firing{alert="rss>150MB"} 1
tachy_alert_firing{alert="fds>1000"} 0
"#;

    fn alerts() -> Vec<(String, bool)> {
        vec![("rss>150MB".into(), true), ("fds>1000".into(), false)]
    }

    #[test]
    fn render_two_processes() {
        let text = render(&sample(), &alerts());
        assert_eq!(text, EXPECTED, "got:\n{text}");
    }

    #[test]
    fn text_format_shape() {
        let text = render(&sample(), &alerts());
        // Every series line is `name{labels} value`, every family announced once, in order.
        let mut announced = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["gauge", "counter"].contains(&kind), "{line}");
                assert_eq!(name.ends_with("_total"), kind == "counter", "{line}");
                assert!(!announced.contains(&name.to_string()), "{line}");
                announced.push(name.to_string());
            } else if !line.starts_with("# HELP ") {
                let (series, value) = line.rsplit_once(' ').unwrap();
                assert!(series.starts_with(announced.last().unwrap().as_str()), "{line}");
                assert!(series.ends_with('}'), "{line}");
                assert!(value.parse::<f64>().is_ok(), "{line}");
            }
        }
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(-f64::INFINITY), "-Inf");
        assert_eq!(number(0.1), "0.1");
    }

    #[test]
    fn unavailable_fields_and_long_commands() {
        let mut s = sample();
        s.growth = None;
        s.processes.truncate(1);
        s.processes[0].metrics = Metrics { rss_bytes: Some(1), ..Metrics::default() };
        s.processes[0].command = "x".repeat(500);
        let text = render(&s, &[]);
        assert_eq!(text.lines().count(), 3, "{text}");
        let series = text.lines().nth(2).unwrap();
        assert!(series.contains(&format!("command=\"{}…\"", "x".repeat(COMMAND_CHARS - 1))), "{series}");
        s.processes.clear();
        assert_eq!(render(&s, &[]), NO_SAMPLE);
    }

    #[test]
    fn addresses() {
        let local = |port| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        assert_eq!(resolve("9184").unwrap(), local(9184));
        assert_eq!(resolve(":9184").unwrap(), local(9184));
        assert_eq!(resolve("127.0.0.1:9184").unwrap(), local(9184));
        assert_eq!(resolve("0.0.0.0:80").unwrap().to_string(), "0.0.0.0:80");
        assert_eq!(resolve("[::1]:9184").unwrap().to_string(), "[::1]:9184");
        for bad in ["", "99999", "abc", "127.0.0.1", "127.0.0.1:x", "host:99999"] {
            let e = resolve(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid Prometheus address '{bad}'")), "{e}");
        }
    }

    /// Sends `request` and reads the whole answer (the server closes the connection).
    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_over_http() {
        let x = Exporter::start("127.0.0.1:0").unwrap();
        let addr = x.local_addr();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let before = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(before.starts_with("HTTP/1.1 200 OK\r\n"), "{before}");
        assert!(before.ends_with(NO_SAMPLE), "{before}");

        x.update(&sample(), &alerts());
        let answer = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")), "{head}");
        assert!(head.contains("Connection: close"), "{head}");
        assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
        assert!(body.contains("process_resident_memory_bytes{"), "{body}");
        assert_eq!(body, EXPECTED);

        let query = get(addr, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
        assert!(query.contains("process_resident_memory_bytes{"), "{query}");
        let missing = get(addr, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(missing.starts_with("HTTP/1.1 404 Not Found\r\n"), "{missing}");
        let index = get(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(index.starts_with("HTTP/1.1 200 OK\r\n") && index.contains("href=\"/metrics\""), "{index}");
        let head = get(addr, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"), "{head}");
        let post = get(addr, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
        // A client that connects and sends nothing does not stop the server.
        let idle = TcpStream::connect(addr).unwrap();
        drop(idle);
        assert!(get(addr, "GET /metrics HTTP/1.1\r\n\r\n").contains("tachy_alert_firing{alert=\"rss>150MB\"} 1"));

        drop(x);
        // The port is free again: the thread is gone with its listener.
        let again = TcpListener::bind(addr);
        assert!(again.is_ok(), "{again:?}");
    }

    #[test]
    fn a_taken_port_says_how_to_fix_it() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let e = Exporter::start(&port.to_string()).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "cannot listen on 127.0.0.1:{port}: address already in use; pick another port with --prometheus 127.0.0.1:PORT"
            )
        );
    }
}
