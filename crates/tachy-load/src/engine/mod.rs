//! The load engine: worker threads with one single-threaded tokio runtime each, one task per
//! connection, and a coordinator (the calling thread) that cuts the timeline into seconds,
//! reports progress and stops the run.

pub mod conn;
pub mod http1;
pub mod http2;
pub mod recorder;
pub mod schedule;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tachy_report::load::ErrorClass;

use self::conn::Connector;
use self::recorder::{Outcome, Stats, WorkerStats};
use self::schedule::Ramp;
use crate::settings::{Bound, ExpectStatus, LoadSettings};
use crate::{LoadError, hdr};

/// Open model: a request that leaves later than this after its intended time is late.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(5);
/// Pause after a failed connection attempt, so a dead server is not hammered in a busy loop.
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);
/// Period of the event-loop lag probe.
const PROBE_PERIOD: Duration = Duration::from_millis(10);

/// Progress once a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// Time since the start.
    pub elapsed: Duration,
    /// Requests ended so far.
    pub requests: u64,
    /// Failed requests so far.
    pub errors: u64,
    /// Requests per second in the last second.
    pub rps: f64,
    /// 99th percentile latency of the last second, in ms.
    pub p99_ms: f64,
}

/// Receives progress during a run.
pub trait Observer {
    /// Called once a second.
    fn tick(&mut self, _tick: &Tick) {}
}

/// Ignores progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Observer for NoProgress {}

/// A second of the run, as the coordinator cut it.
pub struct Interval {
    /// Index of the second.
    pub second: u64,
    /// Its figures (2 significant digits).
    pub stats: Stats,
    /// Active connections (closed model) at its end.
    pub connections: u64,
    /// Target rate (open model).
    pub target_rate: Option<f64>,
}

/// What the engine measured; [`crate::report`] turns it into a report.
pub struct RawRun {
    /// Whole-run figures.
    pub total: Stats,
    /// Per request kind.
    pub endpoints: Vec<Stats>,
    /// One entry per second.
    pub timeline: Vec<Interval>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Ctrl-C ended it.
    pub interrupted: bool,
    /// Open model: requests planned by the end.
    pub planned: Option<u64>,
    /// Open model: requests sent (counted when sent).
    pub sent: u64,
    /// Open model: late requests.
    pub late: u64,
    /// Open model: largest lateness.
    pub max_lateness_us: u64,
    /// Open model: planned requests never sent because the target had not answered the
    /// connection's earlier request by the end.
    pub dropped: u64,
    /// Open model: the longest wait of a dropped request at the end, in µs.
    pub max_dropped_wait_us: u64,
    /// Requests still in flight when the run stopped (not counted).
    pub in_flight: u64,
    /// Worker threads.
    pub threads: usize,
    /// Mean busy share of the worker threads.
    pub busy_share: f64,
    /// p99 of the lag probe in ms.
    pub lag_p99_ms: f64,
    /// CPU seconds of the whole process during the run.
    pub cpu_secs: f64,
    /// When the load started.
    pub started_at: std::time::SystemTime,
}

enum Link {
    H1(http1::Conn),
    H2(http2::H2Conn),
}

struct Worker {
    stats: Mutex<WorkerStats>,
    lag: Mutex<Histogram<u64>>,
    in_flight: AtomicU64,
    busy: Mutex<(f64, f64)>,
}

struct Shared {
    connector: Connector,
    http2: bool,
    h1: Vec<Vec<u8>>,
    h2: Vec<http2::Prepared>,
    head_only: Vec<bool>,
    expect: Vec<ExpectStatus>,
    sequence: Vec<usize>,
    seq: AtomicU64,
    count: Option<u64>,
    timeout: Duration,
    keepalive: bool,
    start: Instant,
    open: Option<Ramp>,
    conn_ramp: Option<Ramp>,
    connections: usize,
    /// Streams per HTTP/2 connection: each is a client of its own, `connections * streams`.
    streams: usize,
    /// The HTTP/2 connection each group of streams shares, opened by the first that needs it,
    /// with the number of connections the slot has opened (the next one's generation).
    h2_slots: Vec<tokio::sync::Mutex<(u64, Option<http2::H2Conn>)>>,
    end_at: Option<f64>,
    /// When the coordinator stopped the run, in µs since the start (set before `stop`).
    stopped_us: AtomicU64,
    stop: AtomicBool,
    workers: Vec<Worker>,
    done: AtomicUsize,
    last_done_us: AtomicU64,
}

/// Resolves the target and opens one connection (TLS included) to fail early and clearly.
pub fn preflight(settings: &LoadSettings) -> Result<Connector, LoadError> {
    let host = settings.url.host_str().unwrap_or("").to_string();
    let port = settings.url.port_or_known_default().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| LoadError::Resolve { host: host.clone(), reason: e.to_string() })?
        .collect();
    if addrs.is_empty() {
        return Err(LoadError::Resolve { host, reason: "no address".into() });
    }
    let tls =
        if settings.is_tls() { Some(conn::tls_connector(&host, settings.http2, settings.insecure)?) } else { None };
    let connector = Connector { addrs, tls };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(LoadError::Runtime)?;
    let probe = rt.block_on(async {
        let limit = settings.timeout.min(Duration::from_secs(10));
        match tokio::time::timeout(limit, connector.connect()).await {
            Ok(Ok(stream)) => {
                if settings.http2 {
                    http2::H2Conn::handshake(stream).await.map(|_| ())
                } else {
                    Ok(())
                }
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err((ErrorClass::Timeout, format!("no answer within {}", humantime::format_duration(limit)))),
        }
    });
    if let Err((class, reason)) = probe {
        let addr = settings.authority();
        let hint = match class {
            ErrorClass::Refused => "is the server running and listening on that port?".to_string(),
            ErrorClass::Tls if reason.contains("certificate") || reason.contains("Certificate") => {
                "for a self-signed certificate, add --insecure".to_string()
            }
            ErrorClass::Tls => "check that the server speaks TLS on that port (or use http://)".to_string(),
            ErrorClass::Timeout => "the server does not accept connections; check the address and firewall".to_string(),
            _ => "check the URL and that the server is up".to_string(),
        };
        let reason = if class == ErrorClass::Refused { "connection refused".to_string() } else { reason };
        return Err(LoadError::Connect { addr, reason, hint });
    }
    Ok(connector)
}

/// Raises the soft limit of open files towards the hard limit when `needed` descriptors would
/// not fit (10k connections need more than the usual 1024).
fn raise_nofile(needed: u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain syscalls on a local rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < needed as libc::rlim_t {
            lim.rlim_cur = lim.rlim_max.min(needed as libc::rlim_t);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: plain syscall writing into a local timespec.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn process_cpu_secs() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall writing into a local rusage.
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs the load until its bound, Ctrl-C (`should_stop`) or the end of its requests.
pub fn execute(
    settings: &LoadSettings,
    connector: Connector,
    observer: &mut dyn Observer,
    should_stop: &dyn Fn() -> bool,
) -> Result<RawRun, LoadError> {
    let host_header = match settings.url.port() {
        Some(p) => format!("{}:{p}", settings.url.host_str().unwrap_or("")),
        None => settings.url.host_str().unwrap_or("").to_string(),
    };
    let h1 = settings.requests.iter().map(|r| http1::serialize(r, &host_header, settings.keepalive)).collect();
    let h2 = if settings.http2 {
        settings
            .requests
            .iter()
            .map(|r| {
                http2::Prepared::new(r, &settings.url)
                    .map_err(|e| LoadError::InvalidSetting(format!("request '{}': {e}", r.name)))
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let weights: Vec<u32> = settings.requests.iter().map(|r| r.weight).collect();
    let open = settings
        .rate
        .map(|r| if settings.stages.is_empty() { Ramp::constant(r) } else { Ramp::stages(&settings.stages) });
    let conn_ramp = (settings.rate.is_none() && !settings.stages.is_empty()).then(|| Ramp::stages(&settings.stages));
    let connections = settings.max_connections();
    raise_nofile(connections as u64 + 256);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if settings.threads == 0 { cores } else { settings.threads }.clamp(1, connections);
    let (count, deadline) = match settings.bound {
        Some(Bound::Requests(n)) => (Some(n), None),
        Some(Bound::Duration(d)) => (None, Some(d)),
        None => (None, Some(Ramp::stages(&settings.stages).stages_duration())),
    };
    let shared = Arc::new(Shared {
        connector,
        http2: settings.http2,
        h1,
        h2,
        head_only: settings.requests.iter().map(|r| r.method == "HEAD").collect(),
        expect: settings.requests.iter().map(|r| r.expect.clone()).collect(),
        sequence: schedule::weighted_sequence(&weights),
        seq: AtomicU64::new(0),
        count,
        timeout: settings.timeout,
        keepalive: settings.keepalive,
        start: Instant::now(),
        open,
        conn_ramp,
        connections,
        streams: settings.streams.max(1),
        h2_slots: if settings.http2 {
            (0..connections).map(|_| tokio::sync::Mutex::new((0, None))).collect()
        } else {
            Vec::new()
        },
        end_at: deadline.map(|d| d.as_secs_f64()),
        stopped_us: AtomicU64::new(u64::MAX),
        stop: AtomicBool::new(false),
        workers: (0..threads)
            .map(|_| Worker {
                stats: Mutex::new(WorkerStats::new(settings.requests.len())),
                lag: Mutex::new(hdr::new(hdr::SIGFIG_INTERVAL)),
                in_flight: AtomicU64::new(0),
                busy: Mutex::new((0.0, 0.0)),
            })
            .collect(),
        done: AtomicUsize::new(0),
        last_done_us: AtomicU64::new(0),
    });
    let started_at = std::time::SystemTime::now();
    let cpu_start = process_cpu_secs();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut handles = Vec::with_capacity(threads);
    for w in 0..threads {
        let sh = shared.clone();
        let rx = stop_rx.clone();
        let h = std::thread::Builder::new()
            .name(format!("tachy-load-{w}"))
            .spawn(move || worker(sh, w, threads, rx))
            .map_err(LoadError::Runtime)?;
        handles.push(h);
    }

    let start = shared.start;
    let mut timeline = Vec::new();
    let mut next_second: u64 = 1;
    let mut requests = 0u64;
    let mut errors = 0u64;
    let mut interrupted = false;
    let stopped_at = loop {
        let now = Instant::now();
        let elapsed = now.duration_since(start);
        let tick_at = Duration::from_secs(next_second);
        if elapsed >= tick_at {
            let iv = take_interval(&shared, next_second - 1);
            let c = iv.stats.counts();
            requests += c.requests;
            errors += c.errors;
            observer.tick(&Tick {
                elapsed,
                requests,
                errors,
                rps: c.requests as f64,
                p99_ms: hdr::percentile_ms(&iv.stats.hist, 99.0),
            });
            timeline.push(iv);
            next_second += 1;
            continue;
        }
        if should_stop() {
            interrupted = true;
            break elapsed;
        }
        if deadline.is_some_and(|d| elapsed >= d) {
            break deadline.unwrap_or(elapsed);
        }
        if shared.done.load(Ordering::SeqCst) == threads {
            break Duration::from_micros(shared.last_done_us.load(Ordering::SeqCst));
        }
        let mut wait = (tick_at - elapsed).min(Duration::from_millis(20));
        if let Some(d) = deadline
            && d > elapsed
        {
            wait = wait.min(d - elapsed);
        }
        std::thread::sleep(wait);
    };
    shared.stopped_us.store(stopped_at.as_micros() as u64, Ordering::SeqCst);
    shared.stop.store(true, Ordering::SeqCst);
    let _ = stop_tx.send(true);
    for h in handles {
        let _ = h.join();
    }
    let cpu_secs = process_cpu_secs() - cpu_start;
    let last = take_interval(&shared, next_second - 1);
    if last.stats.counts().requests > 0 {
        // A sliver of a second after the deadline joins the previous second rather than
        // showing as a sudden drop of throughput.
        let partial = stopped_at.as_secs_f64() - (next_second - 1) as f64;
        match timeline.last_mut() {
            Some(prev) if partial < 0.5 => prev.stats.add(&last.stats),
            _ => timeline.push(last),
        }
    }

    let mut total = Stats::new(hdr::SIGFIG);
    let mut endpoints: Vec<Stats> = (0..settings.requests.len()).map(|_| Stats::new(hdr::SIGFIG)).collect();
    let (mut sent, mut late, mut max_lateness_us, mut in_flight) = (0, 0, 0, 0);
    let (mut dropped, mut max_dropped_wait_us) = (0, 0);
    let mut lag = hdr::new(hdr::SIGFIG_INTERVAL);
    let mut busy = 0.0;
    for w in &shared.workers {
        let s = w.stats.lock().unwrap_or_else(|e| e.into_inner());
        total.add(&s.total);
        for (a, b) in endpoints.iter_mut().zip(&s.endpoints) {
            a.add(b);
        }
        sent += s.sent;
        late += s.late;
        max_lateness_us = max_lateness_us.max(s.max_lateness_us);
        dropped += s.dropped;
        max_dropped_wait_us = max_dropped_wait_us.max(s.max_dropped_wait_us);
        in_flight += w.in_flight.load(Ordering::SeqCst);
        let _ = lag.add(&*w.lag.lock().unwrap_or_else(|e| e.into_inner()));
        let (cpu, wall) = *w.busy.lock().unwrap_or_else(|e| e.into_inner());
        if wall > 0.0 {
            busy += cpu / wall;
        }
    }
    let planned = shared.open.as_ref().map(|r| {
        let until = stopped_at.as_secs_f64().min(shared.end_at.unwrap_or(f64::INFINITY));
        let p = r.planned_until(until);
        count.map_or(p, |n| p.min(n))
    });
    Ok(RawRun {
        total,
        endpoints,
        timeline,
        elapsed: stopped_at,
        interrupted,
        planned,
        sent,
        late,
        max_lateness_us,
        dropped,
        max_dropped_wait_us,
        in_flight,
        threads,
        busy_share: busy / threads as f64,
        lag_p99_ms: hdr::percentile_ms(&lag, 99.0),
        cpu_secs,
        started_at,
    })
}

fn take_interval(shared: &Shared, second: u64) -> Interval {
    let mut stats = Stats::new(hdr::SIGFIG_INTERVAL);
    for w in &shared.workers {
        let mut s = w.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.add(&s.interval);
        s.interval.reset();
    }
    let at = (second + 1) as f64;
    let connections = match &shared.conn_ramp {
        Some(r) => r.value_at(at).floor() as u64,
        None => shared.connections as u64,
    };
    Interval { second, stats, connections, target_rate: shared.open.as_ref().map(|r| r.value_at(second as f64 + 0.5)) }
}

fn worker(sh: Arc<Shared>, w: usize, threads: usize, mut stop: tokio::sync::watch::Receiver<bool>) {
    let cpu0 = thread_cpu_secs();
    let wall0 = Instant::now();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(_) => {
            sh.done.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for c in (w..sh.connections).step_by(threads) {
            for s in 0..sh.streams {
                tasks.spawn(connection(sh.clone(), w, c * sh.streams + s));
            }
        }
        let probe = tokio::spawn(lag_probe(sh.clone(), w));
        tokio::select! {
            _ = async { while tasks.join_next().await.is_some() {} } => {}
            _ = stop.wait_for(|s| *s) => {}
        }
        probe.abort();
        tasks.abort_all();
    });
    // Dropping the runtime drops the aborted connection tasks: their backlogs count the
    // dropped requests before the coordinator reads this worker's figures.
    drop(rt);
    let done_us = sh.start.elapsed().as_micros() as u64;
    sh.last_done_us.fetch_max(done_us, Ordering::SeqCst);
    let busy = (thread_cpu_secs() - cpu0, wall0.elapsed().as_secs_f64());
    *sh.workers[w].busy.lock().unwrap_or_else(|e| e.into_inner()) = busy;
    sh.done.fetch_add(1, Ordering::SeqCst);
}

async fn lag_probe(sh: Arc<Shared>, w: usize) {
    loop {
        let t = Instant::now();
        tokio::time::sleep(PROBE_PERIOD).await;
        let lag = t.elapsed().saturating_sub(PROBE_PERIOD);
        if sh.stop.load(Ordering::Relaxed) {
            return;
        }
        let _ = sh.workers[w].lag.lock().unwrap_or_else(|e| e.into_inner()).record(lag.as_micros() as u64);
    }
}

async fn exchange(sh: &Shared, link: &mut Option<Link>, idx: usize, c: usize) -> Result<http1::Response, ErrorClass> {
    // A connection the server has shut while it sat idle (keep-alive timeout, GOAWAY) is
    // replaced before use.
    let shut = match link {
        Some(Link::H1(c)) => !c.still_open(),
        Some(Link::H2(c)) => c.is_closed(),
        None => false,
    };
    if shut {
        *link = None;
    }
    let reused = link.is_some();
    let first = exchange_once(sh, link, idx, c, None).await;
    // The same close racing the request (the end of stream came before any byte of an answer
    // on a connection that had served others) is not a failed request either: send it once
    // more on a fresh connection, as HTTP clients do. A reset is still counted. HTTP/2 says
    // so itself: a graceful GOAWAY or a refused stream means the server never processed it.
    let retry = match (&first, &*link) {
        (Err(Failure { class: ErrorClass::Closed, .. }), Some(Link::H1(conn))) => reused && conn.closed_while_idle(),
        (Err(f), Some(Link::H2(_))) => f.unprocessed,
        _ => false,
    };
    if retry {
        // Not on the connection that refused it, which may look open while it drains.
        let refused = match link.take() {
            Some(Link::H2(conn)) => Some(conn.generation),
            _ => None,
        };
        return exchange_once(sh, link, idx, c, refused).await.map_err(|f| f.class);
    }
    first.map_err(|f| f.class)
}

/// A failed exchange: its class, and whether the server never processed the request, so it
/// may be sent again on a new connection (over HTTP/2: a graceful GOAWAY, as nginx sends after
/// 1000 requests on a connection, refuses the streams above its last one; a refused stream; a
/// request that was never sent because the connection closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The error class counted when it is not retried.
    pub class: ErrorClass,
    /// Safe to send again.
    pub unprocessed: bool,
}

async fn exchange_once(
    sh: &Shared,
    link: &mut Option<Link>,
    idx: usize,
    c: usize,
    refused: Option<u64>,
) -> Result<http1::Response, Failure> {
    let fail = |class| Failure { class, unprocessed: false };
    if link.is_none() {
        // Opening a connection (TLS and HTTP/2 handshakes included) is boxed: its futures are
        // large and rare, and kept inline they would grow every connection's task for the
        // whole run (10,000 connections hold 10,000 tasks).
        *link = Some(if sh.http2 {
            Link::H2(Box::pin(shared_h2(sh, c, refused)).await.map_err(fail)?)
        } else {
            Link::H1(http1::Conn::new(Box::pin(sh.connector.connect()).await.map_err(|(c, _)| fail(c))?))
        });
    }
    match link {
        Some(Link::H1(c)) => c.exchange(&sh.h1[idx], sh.head_only[idx]).await.map_err(fail),
        Some(Link::H2(c)) => c.exchange(&sh.h2[idx]).await,
        None => Err(fail(ErrorClass::Other)),
    }
}

/// The HTTP/2 connection `c` its streams share: the open one, or a new one when it is missing,
/// was shut, or is the one (`refused`, a generation) that refused a request while draining
/// after a GOAWAY. One stream opens it while the others wait.
async fn shared_h2(sh: &Shared, c: usize, refused: Option<u64>) -> Result<http2::H2Conn, ErrorClass> {
    let mut slot = sh.h2_slots[c].lock().await;
    let (opened, current) = &mut *slot;
    if let Some(conn) = current.as_ref().filter(|conn| !conn.is_closed() && Some(conn.generation) != refused) {
        return Ok(conn.clone());
    }
    *current = None;
    let stream = sh.connector.connect().await.map_err(|(c, _)| c)?;
    let mut conn = http2::H2Conn::handshake(stream).await.map_err(|(c, _)| c)?;
    conn.generation = *opened;
    *opened += 1;
    *current = Some(conn.clone());
    Ok(conn)
}

/// Open model: the requests a connection task still owed when it ended. Planned requests
/// (intended before the end of the run, within `--requests`) that the task never sent
/// because it was busy with an earlier one (waiting for the target's answer, or backing off
/// after a refused connection) are dropped: the target did not keep up. A task idle until
/// its next request's time owes nothing; if that time had passed, the generator itself was
/// behind (its timer lag is in the self-check).
struct Backlog<'a> {
    sh: &'a Shared,
    w: usize,
    clients: u64,
    /// The first of the task's tickets (`next`, `next + clients`, ...) not yet sent.
    next: u64,
    /// Waiting for `next`'s intended time.
    idle: bool,
}

impl Drop for Backlog<'_> {
    fn drop(&mut self) {
        let Some(ramp) = &self.sh.open else { return };
        if self.idle {
            return;
        }
        let stopped = self.sh.stopped_us.load(Ordering::SeqCst);
        if stopped == u64::MAX {
            // The task ended by itself (its last planned request was sent).
            return;
        }
        let end = (stopped as f64 / 1e6).min(self.sh.end_at.unwrap_or(f64::INFINITY));
        let (n, wait_us) = owed(ramp, self.next, self.clients, end, self.sh.count);
        if n > 0 {
            let mut s = self.sh.workers[self.w].stats.lock().unwrap_or_else(|e| e.into_inner());
            s.dropped += n;
            s.max_dropped_wait_us = s.max_dropped_wait_us.max(wait_us);
        }
    }
}

/// Tickets `next`, `next + step`, ... planned before `end` seconds (and below `count`), and
/// how long the first had waited at `end`, in µs.
fn owed(ramp: &Ramp, next: u64, step: u64, end: f64, count: Option<u64>) -> (u64, u64) {
    let limit = count.map_or(ramp.planned_until(end), |n| ramp.planned_until(end).min(n));
    if next >= limit || step == 0 {
        return (0, 0);
    }
    let n = (limit - 1 - next) / step + 1;
    let wait = ramp.time_of(next as f64).map_or(0.0, |t| (end - t).max(0.0));
    (n, (wait * 1e6) as u64)
}

/// One client: a connection (HTTP/1.1), or one stream of a shared HTTP/2 connection.
async fn connection(sh: Arc<Shared>, w: usize, j: usize) {
    let worker = &sh.workers[w];
    let mut link: Option<Link> = None;
    // The physical connection of this client.
    let c = j / sh.streams;
    let clients = (sh.connections * sh.streams) as u64;
    let mut k = j as u64;
    let period = sh.sequence.len() as u64;
    // Open model: however this task ends (its last request, the deadline, Ctrl-C), the
    // planned requests it still owed count as dropped unless it was idle, waiting for the
    // next one's time.
    let mut backlog = Backlog { sh: &sh, w, clients, next: k, idle: false };
    loop {
        backlog.next = k;
        if sh.stop.load(Ordering::Relaxed) {
            return;
        }
        let (ticket, intended) = if let Some(ramp) = &sh.open {
            if sh.count.is_some_and(|n| k >= n) {
                return;
            }
            let Some(t) = ramp.time_of(k as f64) else { return };
            if sh.end_at.is_some_and(|end| (k as f64) >= ramp.integral(end)) {
                return;
            }
            let when = sh.start + Duration::from_secs_f64(t);
            backlog.idle = true;
            tokio::time::sleep_until(when.into()).await;
            backlog.idle = false;
            let ticket = k;
            k += clients;
            backlog.next = k;
            let lateness = Instant::now().saturating_duration_since(when);
            let mut s = worker.stats.lock().unwrap_or_else(|e| e.into_inner());
            s.sent += 1;
            if lateness > LATE_THRESHOLD {
                s.late += 1;
            }
            s.max_lateness_us = s.max_lateness_us.max(lateness.as_micros() as u64);
            (ticket, Some(when))
        } else {
            if let Some(ramp) = &sh.conn_ramp {
                while (c as f64) >= ramp.value_at(sh.start.elapsed().as_secs_f64()).floor() {
                    if sh.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    link = None;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            let t = sh.seq.fetch_add(1, Ordering::Relaxed);
            if sh.count.is_some_and(|n| t >= n) {
                return;
            }
            (t, None)
        };
        let idx = sh.sequence[(ticket % period) as usize];
        let started = Instant::now();
        worker.in_flight.fetch_add(1, Ordering::Relaxed);
        let result = tokio::time::timeout(sh.timeout, exchange(&sh, &mut link, idx, c)).await;
        let ended = Instant::now();
        let outcome = match result {
            Ok(Ok(resp)) => {
                if !resp.reusable || !sh.keepalive {
                    link = None;
                }
                Outcome::Response { status: resp.status, bytes: resp.bytes, ok: sh.expect[idx].accepts(resp.status) }
            }
            Ok(Err(class)) => {
                link = None;
                Outcome::Error(class)
            }
            Err(_) => {
                link = None;
                Outcome::Error(ErrorClass::Timeout)
            }
        };
        let latency = ended.duration_since(intended.unwrap_or(started));
        worker.stats.lock().unwrap_or_else(|e| e.into_inner()).record(idx, outcome, latency.as_micros() as u64);
        worker.in_flight.fetch_sub(1, Ordering::Relaxed);
        if matches!(outcome, Outcome::Error(ErrorClass::Refused | ErrorClass::Connect | ErrorClass::Tls)) {
            tokio::time::sleep(CONNECT_BACKOFF).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_connection_owes_its_planned_tickets() {
        // 50/s: ticket k is due at k * 20 ms; 100 are planned before 2 s.
        let r = Ramp::constant(50.0);
        assert_eq!(owed(&r, 10, 1, 2.0, None), (90, 1_800_000));
        // Every third ticket from 1: 1, 4, ..., 97.
        assert_eq!(owed(&r, 1, 3, 2.0, None).0, 33);
        assert_eq!(owed(&r, 1, 3, 2.0, Some(10)).0, 3);
        assert_eq!(owed(&r, 100, 1, 2.0, None), (0, 0));
    }
}
