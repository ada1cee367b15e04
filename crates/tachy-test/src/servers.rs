//! In-process HTTP test servers for `tachy load`: well-behaved and deliberately misbehaving
//! servers on 127.0.0.1 ephemeral ports, each in a background thread with its own tokio runtime.
//!
//! HTTP/1.1 is served by a small raw server with byte-level control (so a test can close a
//! connection mid-response, reset it or answer garbage); HTTP/2 cleartext (prior knowledge) goes
//! through hyper's server; TLS wraps the raw server in a rustls acceptor with a self-signed
//! certificate for `localhost` and `127.0.0.1`.
//!
//! Requests are numbered by one global counter, taken when a request head is complete, so the
//! misbehaviours that apply to "every n-th request" hit exact, race-free counts.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Largest request head accepted (a bound against runaway clients).
const MAX_HEAD: usize = 64 * 1024;

/// What a [`TestServer`] does with the requests it receives.
///
/// "Request number i" is global (across connections) and 0-based; "`every`" behaviours apply to
/// the request numbers `i` with `i % every == every - 1` (the `every`-th, `2 * every`-th, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behavior {
    /// Answer every request with `status` and `body` after `delay`.
    Fixed {
        /// Wait before answering.
        delay: Duration,
        /// Status code of every response.
        status: u16,
        /// Body of every response.
        body: Vec<u8>,
    },
    /// Request number `i` gets the status `codes[i % codes.len()]` (body `ok`).
    StatusCycle(Vec<u16>),
    /// Every `every`-th request: the head of a 200 with `Content-Length: 100`, 10 body bytes,
    /// then the connection is closed (the client sees EOF mid-response). Others: 200 `ok`.
    CloseMidResponse {
        /// Period of the misbehaviour.
        every: u64,
    },
    /// Every `every`-th request: the connection is closed with `SO_LINGER` 0 without an answer
    /// (the client sees `ECONNRESET`). Others: 200 `ok`.
    Reset {
        /// Period of the misbehaviour.
        every: u64,
    },
    /// Every `every`-th request is answered after `delay`, the others at once.
    SlowEvery {
        /// Period of the slow answers.
        every: u64,
        /// Delay of the slow answers.
        delay: Duration,
    },
    /// A whole-server pause: responses due in `[after, after + stall)` since the server started
    /// wait until `after + stall`; the others are answered at once.
    Stall {
        /// When the pause begins, since the server started.
        after: Duration,
        /// How long it lasts.
        stall: Duration,
    },
    /// [`Behavior::Stall`] on top of a fixed per-request `delay` (used by `tachy-test-server`).
    DelayedStall {
        /// Delay of every answer.
        delay: Duration,
        /// When the pause begins, since the server started.
        after: Duration,
        /// How long it lasts.
        stall: Duration,
    },
    /// Every `every`-th request: `NOT HTTP AT ALL\r\n\r\n` is written and the connection
    /// closed. Others: 200 `ok`.
    Garbage {
        /// Period of the misbehaviour.
        every: u64,
    },
    /// 200 `ok` with keep-alive, but a connection that stays idle for `idle` after a response
    /// is closed without notice, as servers' keep-alive timeouts do (uvicorn 5 s, nginx 75 s).
    IdleClose {
        /// Keep-alive timeout.
        idle: Duration,
    },
    /// 200 with `Transfer-Encoding: chunked`, body `hello world` in 3 chunks.
    Chunked,
    /// An HTTP/2 cleartext server (prior knowledge) answering 200 `ok` after `delay`.
    Http2 {
        /// Wait before answering.
        delay: Duration,
    },
    /// HTTP/2 cleartext answering 200 `ok` at once, except the `nth` request of each
    /// connection, refused with RST_STREAM(REFUSED_STREAM) (never processed: a client may send
    /// it again). Refused requests are not counted in [`TestServer::requests_seen`].
    Http2Refuse {
        /// Which request of each connection is refused (1-based).
        nth: u64,
    },
    /// HTTPS with a self-signed certificate, answering 200 `ok` after `delay`.
    Tls {
        /// Wait before answering.
        delay: Duration,
    },
}

impl Behavior {
    /// A server answering 200 `ok` after `delay`.
    pub fn ok_after(delay: Duration) -> Behavior {
        Behavior::Fixed { delay, status: 200, body: b"ok".to_vec() }
    }
}

/// A running test server; stopped (and its thread joined) on drop.
pub struct TestServer {
    addr: SocketAddr,
    tls: bool,
    seen: Arc<AtomicU64>,
    accepted: Arc<AtomicU64>,
    max_in_flight: Arc<AtomicU64>,
    cert_der: Option<Vec<u8>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("addr", &self.addr).field("tls", &self.tls).finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server with `behavior` on an ephemeral port of 127.0.0.1.
    pub fn start(behavior: Behavior) -> TestServer {
        TestServer::start_on_port(behavior, 0).expect("a test server binds an ephemeral port of 127.0.0.1")
    }

    /// Starts a server with `behavior` on `port` of 127.0.0.1 (0: an ephemeral port).
    pub fn start_on_port(behavior: Behavior, port: u16) -> io::Result<TestServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(AtomicU64::new(0));
        let (tls, cert_der) = match behavior {
            Behavior::Tls { .. } => {
                let (config, der) = tls_config().map_err(io::Error::other)?;
                (Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))), Some(der))
            }
            _ => (None, None),
        };
        let is_tls = tls.is_some();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let accepted = Arc::new(AtomicU64::new(0));
        let max_in_flight = Arc::new(AtomicU64::new(0));
        let state = Arc::new(State {
            behavior,
            seen: Arc::clone(&seen),
            start: Instant::now(),
            accepted: Arc::clone(&accepted),
            in_flight: AtomicU64::new(0),
            max_in_flight: Arc::clone(&max_in_flight),
        });
        let thread = std::thread::Builder::new().name(format!("test-server-{}", addr.port())).spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else { return };
                tokio::select! {
                    () = accept_loop(listener, state, tls) => {}
                    _ = stop_rx => {}
                }
            });
            // Dropping the runtime cancels every connection task and closes their sockets.
            drop(rt);
        })?;
        Ok(TestServer {
            addr,
            tls: is_tls,
            seen,
            accepted,
            max_in_flight,
            cert_der,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/path` (`https://` for [`Behavior::Tls`]); `path` may omit the
    /// leading `/`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let path = path.strip_prefix('/').unwrap_or(path);
        format!("{scheme}://127.0.0.1:{}/{path}", self.addr.port())
    }

    /// Complete request heads received so far.
    pub fn requests_seen(&self) -> u64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Most requests handled at once ([`Behavior::Http2`] only: streams of any connection).
    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// The DER of the self-signed certificate ([`Behavior::Tls`] only).
    pub fn cert_der(&self) -> Option<&[u8]> {
        self.cert_der.as_deref()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Shared by every connection of one server.
struct State {
    behavior: Behavior,
    seen: Arc<AtomicU64>,
    start: Instant,
    accepted: Arc<AtomicU64>,
    in_flight: AtomicU64,
    max_in_flight: Arc<AtomicU64>,
}

impl State {
    /// Takes the next global request number.
    fn next(&self) -> u64 {
        self.seen.fetch_add(1, Ordering::SeqCst)
    }

    /// Sleeps until a response due now may go out, under a stall.
    async fn stall(&self, after: Duration, stall: Duration) {
        let since = self.start.elapsed();
        if since >= after && since < after + stall {
            tokio::time::sleep_until(self.start + after + stall).await;
        }
    }
}

/// Accepts connections until the task is cancelled.
async fn accept_loop(listener: TcpListener, state: Arc<State>, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        state.accepted.fetch_add(1, Ordering::SeqCst);
        let state = Arc::clone(&state);
        match (&state.behavior, &tls) {
            (Behavior::Http2 { delay }, _) => {
                let delay = *delay;
                tokio::spawn(serve_h2(stream, state, delay));
            }
            (Behavior::Http2Refuse { nth }, _) => {
                let nth = *nth;
                tokio::spawn(serve_h2_refuse(stream, state, nth));
            }
            (_, Some(acceptor)) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls_stream) = acceptor.accept(stream).await {
                        let _ = serve_http1(&mut tls_stream, &state).await;
                        let _ = tls_stream.shutdown().await;
                    }
                });
            }
            _ => {
                tokio::spawn(async move {
                    let mut stream = stream;
                    match serve_http1(&mut stream, &state).await {
                        Ok(End::Reset) => {
                            let _ = stream.set_zero_linger();
                        }
                        Ok(End::Close) => {
                            let _ = stream.shutdown().await;
                        }
                        Ok(End::Eof) | Err(_) => {}
                    }
                });
            }
        }
    }
}

/// How a raw HTTP/1.1 connection ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The client closed it.
    Eof,
    /// The server closes it (FIN).
    Close,
    /// The server resets it (RST).
    Reset,
}

/// A parsed request head.
struct Head {
    /// Bytes of the head, `\r\n\r\n` included.
    len: usize,
    /// Content-Length of the body.
    body: usize,
    /// The client asked to close after the response.
    close: bool,
}

/// Parses the head at the start of `buf` if it is complete.
fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = String::from_utf8_lossy(&buf[..end]);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut close = request_line.ends_with("HTTP/1.0");
    let mut body = 0;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            body = value.parse().unwrap_or(0);
        } else if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                close = true;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                close = false;
            }
        }
    }
    Some(Head { len: end + 4, body, close })
}

/// Reason phrase of a status code.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// A complete response with a Content-Length.
fn response(status: u16, body: &[u8], close: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
        reason(status),
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// True for the request numbers an `every` misbehaviour applies to.
fn hit(n: u64, every: u64) -> bool {
    every > 0 && n % every == every - 1
}

/// Serves HTTP/1.1 requests on one connection until either side closes it.
async fn serve_http1<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, state: &State) -> io::Result<End> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let mut served = false;
    loop {
        // Read a complete head.
        let head = loop {
            if let Some(h) = parse_head(&buf) {
                break h;
            }
            if buf.len() > MAX_HEAD {
                stream.write_all(&response(400, b"head too large", true)).await?;
                return Ok(End::Close);
            }
            let n = match &state.behavior {
                Behavior::IdleClose { idle } if served && buf.is_empty() => {
                    match tokio::time::timeout(*idle, stream.read(&mut chunk)).await {
                        Ok(read) => read?,
                        Err(_) => return Ok(End::Close),
                    }
                }
                _ => stream.read(&mut chunk).await?,
            };
            if n == 0 {
                return Ok(End::Eof);
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let n = state.next();
        // Read its body, then drop the request from the buffer (pipelined bytes stay).
        while buf.len() < head.len + head.body {
            let got = stream.read(&mut chunk).await?;
            if got == 0 {
                return Ok(End::Eof);
            }
            buf.extend_from_slice(&chunk[..got]);
        }
        buf.drain(..head.len + head.body);
        let close = head.close;
        let ok = || response(200, b"ok", close);
        let out = match &state.behavior {
            Behavior::Fixed { delay, status, body } => {
                if !delay.is_zero() {
                    tokio::time::sleep(*delay).await;
                }
                response(*status, body, close)
            }
            Behavior::StatusCycle(codes) => {
                let status = if codes.is_empty() { 200 } else { codes[(n % codes.len() as u64) as usize] };
                response(status, b"ok", close)
            }
            Behavior::CloseMidResponse { every } if hit(n, *every) => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789")
                    .await?;
                stream.flush().await?;
                return Ok(End::Close);
            }
            Behavior::Reset { every } if hit(n, *every) => return Ok(End::Reset),
            Behavior::Garbage { every } if hit(n, *every) => {
                stream.write_all(b"NOT HTTP AT ALL\r\n\r\n").await?;
                stream.flush().await?;
                return Ok(End::Close);
            }
            Behavior::SlowEvery { every, delay } => {
                if hit(n, *every) {
                    tokio::time::sleep(*delay).await;
                }
                ok()
            }
            Behavior::Stall { after, stall } => {
                state.stall(*after, *stall).await;
                ok()
            }
            Behavior::DelayedStall { delay, after, stall } => {
                if !delay.is_zero() {
                    tokio::time::sleep(*delay).await;
                }
                state.stall(*after, *stall).await;
                ok()
            }
            Behavior::Chunked => {
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n{}\r\n",
                    if close { "Connection: close\r\n" } else { "" }
                )
                .into_bytes();
                out.extend_from_slice(b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
                out
            }
            Behavior::Http2Refuse { .. } => ok(),
            Behavior::Tls { delay } | Behavior::Http2 { delay } => {
                if !delay.is_zero() {
                    tokio::time::sleep(*delay).await;
                }
                ok()
            }
            Behavior::IdleClose { .. } => ok(),
            Behavior::CloseMidResponse { .. } | Behavior::Reset { .. } | Behavior::Garbage { .. } => ok(),
        };
        stream.write_all(&out).await?;
        stream.flush().await?;
        served = true;
        if close {
            return Ok(End::Close);
        }
    }
}

/// Serves one HTTP/2 cleartext connection (prior knowledge) with hyper.
async fn serve_h2(stream: TcpStream, state: Arc<State>, delay: Duration) {
    let service = hyper::service::service_fn(move |_req: hyper::Request<hyper::body::Incoming>| {
        state.next();
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let state = Arc::clone(&state);
        async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            state.in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
        }
    });
    let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

/// [`Behavior::Http2Refuse`], on the `h2` crate directly (hyper's server cannot refuse a
/// stream): every request is answered at once, but the `nth` of each connection gets
/// RST_STREAM(REFUSED_STREAM), which tells the client it was never processed.
async fn serve_h2_refuse(stream: TcpStream, state: Arc<State>, nth: u64) {
    let Ok(mut conn) = h2::server::handshake(stream).await else { return };
    let mut taken = 0;
    while let Some(next) = conn.accept().await {
        let Ok((_request, mut respond)) = next else { return };
        taken += 1;
        if taken == nth {
            respond.send_reset(h2::Reason::REFUSED_STREAM);
            continue;
        }
        state.next();
        let Ok(response) = http::Response::builder().status(200).body(()) else { return };
        if let Ok(mut body) = respond.send_response(response, false) {
            let _ = body.send_data(Bytes::from_static(b"ok"), true);
        }
    }
}

/// A rustls server configuration with a fresh self-signed certificate for `localhost` and
/// `127.0.0.1`, and the certificate's DER.
fn tls_config() -> Result<(rustls::ServerConfig, Vec<u8>), String> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.signing_key.serialize_der(),
    ));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, cert.to_vec()))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream as StdStream;

    use super::*;

    /// A client socket with generous timeouts (bounds against hangs only).
    fn connect(server: &TestServer) -> StdStream {
        let s = StdStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// Reads one response with a Content-Length (or chunked up to the last chunk) from `s`.
    fn read_response(s: &mut StdStream) -> io::Result<String> {
        let mut buf = Vec::new();
        let mut b = [0u8; 1];
        loop {
            let n = s.read(&mut b)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, String::from_utf8_lossy(&buf).into_owned()));
            }
            buf.push(b[0]);
            if let Some(h) = parse_head(&buf) {
                let text = String::from_utf8_lossy(&buf).to_lowercase();
                if text.contains("transfer-encoding: chunked") {
                    while !buf.ends_with(b"0\r\n\r\n") {
                        if s.read(&mut b)? == 0 {
                            return Err(io::ErrorKind::UnexpectedEof.into());
                        }
                        buf.push(b[0]);
                    }
                } else {
                    let mut body = vec![0u8; h.body];
                    s.read_exact(&mut body)?;
                    buf.extend_from_slice(&body);
                }
                return Ok(String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }

    fn get(s: &mut StdStream) -> io::Result<String> {
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")?;
        read_response(s)
    }

    #[test]
    fn fixed_answers_on_a_kept_alive_connection_and_counts_heads() {
        let server = TestServer::start(Behavior::Fixed {
            delay: Duration::from_millis(20),
            status: 201,
            body: b"hello".to_vec(),
        });
        assert!(server.url("/x").starts_with("http://127.0.0.1:"));
        assert!(server.url("x").ends_with("/x"));
        let mut s = connect(&server);
        let start = std::time::Instant::now();
        let r = get(&mut s).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(r.starts_with("HTTP/1.1 201 Created\r\n"), "{r}");
        assert!(r.ends_with("\r\n\r\nhello"), "{r}");
        // A POST with a body on the same connection, then Connection: close.
        s.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc").unwrap();
        assert!(read_response(&mut s).unwrap().ends_with("hello"));
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
        let r = read_response(&mut s).unwrap();
        assert!(r.contains("Connection: close"), "{r}");
        assert_eq!(s.read(&mut [0u8; 16]).unwrap(), 0, "closed after Connection: close");
        assert_eq!(server.requests_seen(), 3);
    }

    #[test]
    fn status_cycle_is_global_across_connections() {
        let server = TestServer::start(Behavior::StatusCycle(vec![200, 500, 404]));
        let mut a = connect(&server);
        let mut b = connect(&server);
        let codes: Vec<String> = (0..6)
            .map(|i| {
                let s = if i % 2 == 0 { &mut a } else { &mut b };
                get(s).unwrap()[9..12].to_string()
            })
            .collect();
        assert_eq!(codes, ["200", "500", "404", "200", "500", "404"]);
    }

    #[test]
    fn close_mid_response_sends_ten_of_a_hundred_bytes_then_eof() {
        let server = TestServer::start(Behavior::CloseMidResponse { every: 2 });
        let mut s = connect(&server);
        assert!(get(&mut s).unwrap().ends_with("ok"));
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("Content-Length: 100\r\n\r\n0123456789"), "{text}");
        assert!(text.ends_with("0123456789"), "{text}");
        // A new connection is served normally (request 2), request 3 is cut again.
        let mut s = connect(&server);
        assert!(get(&mut s).unwrap().ends_with("ok"));
        assert!(get(&mut s).is_err());
        assert_eq!(server.requests_seen(), 4);
    }

    #[test]
    fn reset_gives_econnreset() {
        let server = TestServer::start(Behavior::Reset { every: 1 });
        let mut s = connect(&server);
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let err = s.read(&mut [0u8; 64]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        assert_eq!(server.requests_seen(), 1);
    }

    #[test]
    fn garbage_is_not_http_and_closes() {
        let server = TestServer::start(Behavior::Garbage { every: 1 });
        let mut s = connect(&server);
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"NOT HTTP AT ALL\r\n\r\n");
    }

    #[test]
    fn chunked_answers_in_three_chunks() {
        let server = TestServer::start(Behavior::Chunked);
        let mut s = connect(&server);
        for _ in 0..2 {
            let r = get(&mut s).unwrap();
            assert!(r.contains("Transfer-Encoding: chunked"), "{r}");
            assert!(r.ends_with("5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"), "{r}");
        }
    }

    #[test]
    fn slow_every_delays_only_its_requests() {
        let server = TestServer::start(Behavior::SlowEvery { every: 2, delay: Duration::from_millis(200) });
        let mut s = connect(&server);
        assert!(get(&mut s).unwrap().ends_with("ok"));
        let start = std::time::Instant::now();
        assert!(get(&mut s).unwrap().ends_with("ok"));
        assert!(start.elapsed() >= Duration::from_millis(200));
    }

    #[test]
    fn stall_holds_responses_due_in_the_window_until_its_end() {
        // Taken before the server's own start, so the window ends at least 300 ms after it.
        let before = std::time::Instant::now();
        let server = TestServer::start(Behavior::Stall { after: Duration::ZERO, stall: Duration::from_millis(300) });
        let mut s = connect(&server);
        assert!(get(&mut s).unwrap().ends_with("ok"));
        assert!(before.elapsed() >= Duration::from_millis(300));
        // After the window, answers come at once (correctness only, no timing bound).
        assert!(get(&mut s).unwrap().ends_with("ok"));
    }

    #[test]
    fn http2_prior_knowledge() {
        let server = TestServer::start(Behavior::Http2 { delay: Duration::from_millis(5) });
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let stream = TcpStream::connect(server.addr()).await.unwrap();
            let (mut send, conn) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(stream),
            )
            .await
            .unwrap();
            tokio::spawn(conn);
            for _ in 0..3 {
                let req = hyper::Request::get(server.url("/")).body(http_body_util::Empty::<Bytes>::new()).unwrap();
                let resp = send.send_request(req).await.unwrap();
                assert_eq!(resp.status(), 200);
                assert_eq!(resp.version(), hyper::Version::HTTP_2);
                use http_body_util::BodyExt;
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(&body[..], b"ok");
            }
        });
        assert_eq!(server.requests_seen(), 3);
    }

    #[test]
    fn tls_with_the_self_signed_certificate() {
        let server = TestServer::start(Behavior::Tls { delay: Duration::ZERO });
        assert!(server.url("/").starts_with("https://127.0.0.1:"));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from(server.cert_der().unwrap().to_vec())).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            for name in ["localhost", "127.0.0.1"] {
                let tcp = TcpStream::connect(server.addr()).await.unwrap();
                let name = rustls::pki_types::ServerName::try_from(name).unwrap();
                let mut tls = connector.connect(name, tcp).await.unwrap();
                tls.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
                let mut out = Vec::new();
                let _ = tls.read_to_end(&mut out).await;
                let text = String::from_utf8_lossy(&out);
                assert!(text.starts_with("HTTP/1.1 200 OK") && text.ends_with("ok"), "{text}");
            }
        });
        assert_eq!(server.requests_seen(), 2);
    }

    #[test]
    fn drop_stops_the_server() {
        let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
        let mut s = connect(&server);
        assert!(get(&mut s).unwrap().ends_with("ok"));
        drop(server);
        // The kept-alive connection is closed with the server.
        let r = s.read(&mut [0u8; 16]);
        assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    }
}
