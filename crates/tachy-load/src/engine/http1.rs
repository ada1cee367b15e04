//! HTTP/1.1 spoken directly over the socket: requests serialised once up front, responses
//! parsed with `httparse` and bodies skipped by Content-Length, chunked framing or EOF, as wrk
//! does. No allocation per request once a connection's buffer has grown.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tachy_report::load::ErrorClass;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

use super::conn::{Stream, classify_io};
use crate::settings::RequestSpec;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// A connection's first read buffer.
const FIRST_BUFFER: usize = 1024;
/// The read buffer grows (doubling when a read fills it) up to this size.
const MAX_BUFFER: usize = 64 * 1024;

/// The bytes of a request, serialised once.
pub fn serialize(spec: &RequestSpec, host_header: &str, keepalive: bool) -> Vec<u8> {
    let has = |name: &str| spec.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut out = format!("{} {} HTTP/1.1\r\n", spec.method, spec.path);
    if !has("host") {
        out.push_str(&format!("Host: {host_header}\r\n"));
    }
    if !has("user-agent") {
        out.push_str(concat!("User-Agent: tachy/", env!("CARGO_PKG_VERSION"), "\r\n"));
    }
    if !has("accept") {
        out.push_str("Accept: */*\r\n");
    }
    for (k, v) in &spec.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    let needs_length = !spec.body.is_empty() || matches!(spec.method.as_str(), "POST" | "PUT" | "PATCH");
    if needs_length && !has("content-length") {
        out.push_str(&format!("Content-Length: {}\r\n", spec.body.len()));
    }
    if !keepalive && !has("connection") {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&spec.body);
    bytes
}

/// A connection with its read buffer.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    /// Responses completed on this connection.
    served: u64,
    /// Bytes of the current response have arrived.
    answered: bool,
    /// When the last response was complete.
    idle_since: Option<Instant>,
}

/// A connection idle at least this long is checked for a close by the server before reuse.
const IDLE_CHECK: Duration = Duration::from_millis(1);

/// A complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Bytes received (head and body).
    pub bytes: u64,
    /// The connection can carry another request.
    pub reusable: bool,
}

enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Conn {
    /// Wraps an open stream.
    pub fn new(stream: Stream) -> Self {
        Conn { stream, buf: Vec::with_capacity(FIRST_BUFFER), served: 0, answered: false, idle_since: None }
    }

    async fn fill(&mut self) -> Result<usize, ErrorClass> {
        // Small buffers keep 10k connections cheap (a small answer fits in the first 1 KiB);
        // bodies are discarded as they arrive, and a read that fills the buffer doubles it, up
        // to 64 KiB, so large bodies take few reads.
        if self.buf.capacity() - self.buf.len() < 512 {
            self.buf.reserve(self.buf.capacity().max(FIRST_BUFFER));
        }
        let spare = self.buf.capacity() - self.buf.len();
        let n = self.stream.read_buf(&mut self.buf).await.map_err(|e| classify_io(&e))?;
        if n == spare && self.buf.capacity() < MAX_BUFFER {
            self.buf.reserve(self.buf.capacity());
        }
        self.answered |= n > 0;
        Ok(n)
    }

    /// Whether the connection can still carry a request. A connection that sat idle is polled
    /// once without blocking: an end of stream (the server's keep-alive timeout closed it), an
    /// error or unsolicited bytes mean it cannot, and a new one should be opened instead. Busy
    /// connections are not polled, so the check costs nothing at full load.
    pub fn still_open(&mut self) -> bool {
        if self.idle_since.is_none_or(|t| t.elapsed() < IDLE_CHECK) {
            return true;
        }
        let mut probe = [0u8; 1];
        let mut buf = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(Waker::noop());
        matches!(Pin::new(&mut self.stream).poll_read(&mut cx, &mut buf), Poll::Pending)
    }

    /// The last exchange failed on a connection that had served responses before, with no byte
    /// of an answer: the server closed the idle keep-alive connection (its idle timeout or
    /// request limit) before it read the request, so the request may be sent again on a new
    /// connection, as HTTP clients do.
    pub fn closed_while_idle(&self) -> bool {
        self.served > 0 && !self.answered
    }

    /// Sends `request` and reads the whole response.
    pub async fn exchange(&mut self, request: &[u8], head_only: bool) -> Result<Response, ErrorClass> {
        self.answered = false;
        self.idle_since = None;
        self.stream.write_all(request).await.map_err(|e| classify_io(&e))?;
        self.buf.clear();
        let mut received = 0u64;
        // The head, skipping interim 1xx responses. Parsing is done by a plain function so
        // httparse's header array (2 KiB) is not kept in every connection's future.
        let (status, framing, mut reusable) = loop {
            match parse_head(&self.buf, head_only)? {
                Some(head) => {
                    received += head.len as u64;
                    self.buf.drain(..head.len);
                    if let Some(head) = head.fin {
                        break head;
                    }
                }
                None => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(ErrorClass::InvalidResponse);
                    }
                    if self.fill().await? == 0 {
                        return Err(ErrorClass::Closed);
                    }
                }
            }
        };
        match framing {
            Framing::None => {}
            Framing::Length(n) => {
                let mut left = n;
                loop {
                    let have = (self.buf.len() as u64).min(left);
                    left -= have;
                    received += have;
                    self.buf.clear();
                    if left == 0 {
                        break;
                    }
                    if self.fill().await? == 0 {
                        return Err(ErrorClass::Closed);
                    }
                }
            }
            Framing::Chunked => {
                let mut dec = Chunked::default();
                loop {
                    let used = dec.feed(&self.buf).map_err(|()| ErrorClass::InvalidResponse)?;
                    received += used as u64;
                    self.buf.drain(..used);
                    if dec.done() {
                        break;
                    }
                    if self.buf.len() > MAX_HEAD {
                        return Err(ErrorClass::InvalidResponse);
                    }
                    if self.fill().await? == 0 {
                        return Err(ErrorClass::Closed);
                    }
                }
            }
            Framing::UntilClose => {
                reusable = false;
                loop {
                    received += self.buf.len() as u64;
                    self.buf.clear();
                    if self.fill().await? == 0 {
                        break;
                    }
                }
            }
        }
        self.served += 1;
        self.idle_since = Some(Instant::now());
        Ok(Response { status, bytes: received, reusable })
    }
}

/// A parsed response head: its length, and for a final (not 1xx) response its status,
/// framing and whether the connection can carry another request.
struct Head {
    len: usize,
    fin: Option<(u16, Framing, bool)>,
}

/// Parses the response head at the start of `buf`; `None` while it is incomplete.
fn parse_head(buf: &[u8], head_only: bool) -> Result<Option<Head>, ErrorClass> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ErrorClass::InvalidResponse),
    };
    let status = resp.code.unwrap_or(0);
    let version = resp.version.unwrap_or(1);
    let mut length = None;
    let mut chunked = false;
    let mut close = version == 0;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value).ok().and_then(|s| s.trim().parse::<u64>().ok());
            length = Some(v.ok_or(ErrorClass::InvalidResponse)?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h.value.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = h.value.to_ascii_lowercase();
            if v.windows(5).any(|w| w == b"close") {
                close = true;
            } else if v.windows(10).any(|w| w == b"keep-alive") {
                close = false;
            }
        }
    }
    if (100..200).contains(&status) && status != 101 {
        return Ok(Some(Head { len, fin: None }));
    }
    let framing = if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::None
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    Ok(Some(Head { len, fin: Some((status, framing, !close)) }))
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailer,
    Done,
}

/// An incremental decoder of chunked framing that only measures.
#[derive(Debug, Default)]
struct Chunked {
    state: ChunkState,
}

impl Chunked {
    fn done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Consumes what it can of `data`; returns the bytes consumed (partial lines are left).
    fn feed(&mut self, data: &[u8]) -> Result<usize, ()> {
        let mut pos = 0;
        loop {
            match self.state {
                ChunkState::Size | ChunkState::Trailer => {
                    let Some(end) = data[pos..].windows(2).position(|w| w == b"\r\n") else {
                        return if data.len() - pos > 4096 { Err(()) } else { Ok(pos) };
                    };
                    let line = &data[pos..pos + end];
                    pos += end + 2;
                    if self.state == ChunkState::Trailer {
                        if line.is_empty() {
                            self.state = ChunkState::Done;
                        }
                        continue;
                    }
                    let hex = line.split(|b| *b == b';').next().unwrap_or(b"");
                    let hex = std::str::from_utf8(hex).map_err(|_| ())?.trim();
                    let size = u64::from_str_radix(hex, 16).map_err(|_| ())?;
                    self.state = if size == 0 { ChunkState::Trailer } else { ChunkState::Data(size) };
                }
                ChunkState::Data(n) => {
                    let take = ((data.len() - pos) as u64).min(n);
                    pos += take as usize;
                    if take < n {
                        self.state = ChunkState::Data(n - take);
                        return Ok(pos);
                    }
                    self.state = ChunkState::DataEnd;
                }
                ChunkState::DataEnd => {
                    if data.len() - pos < 2 {
                        return Ok(pos);
                    }
                    if &data[pos..pos + 2] != b"\r\n" {
                        return Err(());
                    }
                    pos += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Done => return Ok(pos),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_requests() {
        let mut spec = RequestSpec::get("/a?b=1");
        spec.method = "POST".into();
        spec.body = b"{}".to_vec();
        spec.headers.push(("Content-Type".into(), "application/json".into()));
        let text = String::from_utf8(serialize(&spec, "127.0.0.1:8000", false)).unwrap();
        assert!(text.starts_with("POST /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"), "{text}");
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.ends_with("\r\n\r\n{}"));
        spec.headers.push(("Host".into(), "example.org".into()));
        let text = String::from_utf8(serialize(&spec, "127.0.0.1:8000", true)).unwrap();
        assert_eq!(text.matches("Host:").count(), 1);
        assert!(!text.contains("Connection"));
    }

    #[test]
    fn chunked_bodies_in_pieces() {
        let body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n";
        for split in 0..body.len() {
            let mut dec = Chunked::default();
            let mut buf = body[..split].to_vec();
            let used = dec.feed(&buf).unwrap();
            buf.drain(..used);
            buf.extend_from_slice(&body[split..]);
            let used2 = dec.feed(&buf).unwrap();
            assert!(dec.done(), "split {split}");
            assert_eq!(used + used2, body.len());
        }
        assert!(Chunked::default().feed(b"zz\r\n").is_err());
    }
}
