//! HTTP/2 through hyper's client connection: one connection per task, prior knowledge on
//! http:// and ALPN `h2` on https://.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tachy_report::load::ErrorClass;

use super::Failure;
use super::conn::{Stream, classify_io};
use super::http1::Response;
use crate::settings::RequestSpec;

/// A request ready to clone for each send.
#[derive(Clone)]
pub struct Prepared {
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Prepared {
    /// Builds the request parts once.
    pub fn new(spec: &RequestSpec, base: &url::Url) -> Result<Self, String> {
        let method = http::Method::from_bytes(spec.method.as_bytes()).map_err(|e| e.to_string())?;
        let authority = match base.port() {
            Some(p) => format!("{}:{p}", base.host_str().unwrap_or("")),
            None => base.host_str().unwrap_or("").to_string(),
        };
        let uri =
            format!("{}://{authority}{}", base.scheme(), spec.path).parse::<http::Uri>().map_err(|e| e.to_string())?;
        let mut headers = http::HeaderMap::new();
        for (k, v) in &spec.headers {
            if k.eq_ignore_ascii_case("host") || k.eq_ignore_ascii_case("connection") {
                continue;
            }
            let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header '{k}': {e}"))?;
            let value = http::HeaderValue::from_str(v).map_err(|e| format!("header '{k}': {e}"))?;
            headers.append(name, value);
        }
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.insert(
                http::header::USER_AGENT,
                http::HeaderValue::from_static(concat!("tachy/", env!("CARGO_PKG_VERSION"))),
            );
        }
        Ok(Prepared { method, uri, headers, body: Bytes::from(spec.body.clone()) })
    }
}

/// An HTTP/2 connection (clones share it: one stream each).
#[derive(Clone)]
pub struct H2Conn {
    sender: SendRequest<Full<Bytes>>,
    /// Which connection of its slot this is (0, 1, ... as they are replaced).
    pub generation: u64,
}

impl H2Conn {
    /// Performs the HTTP/2 handshake over `stream` (the connection is driven by a task on the
    /// current runtime).
    pub async fn handshake(stream: Stream) -> Result<Self, (ErrorClass, String)> {
        let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| (classify_hyper(&e), e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(H2Conn { sender, generation: 0 })
    }

    /// The server has shut the connection (GOAWAY or close).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Sends one request and reads the whole response.
    pub async fn exchange(&mut self, req: &Prepared) -> Result<Response, Failure> {
        self.sender.ready().await.map_err(|e| failure(&e))?;
        let mut builder = http::Request::builder().method(req.method.clone()).uri(req.uri.clone());
        if let Some(h) = builder.headers_mut() {
            h.clone_from(&req.headers);
        }
        let request = builder
            .body(Full::new(req.body.clone()))
            .map_err(|_| Failure { class: ErrorClass::Other, unprocessed: false })?;
        let response = self.sender.send_request(request).await.map_err(|e| failure(&e))?;
        let status = response.status().as_u16();
        let mut bytes: u64 = response.headers().iter().map(|(k, v)| (k.as_str().len() + v.len() + 4) as u64).sum();
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Failure { class: classify_hyper(&e), unprocessed: false })?;
            if let Some(data) = frame.data_ref() {
                bytes += data.len() as u64;
            }
        }
        Ok(Response { status, bytes, reusable: !self.sender.is_closed() })
    }
}

/// The failure of a request before its response began.
fn failure(e: &hyper::Error) -> Failure {
    let h2 = std::error::Error::source(e).and_then(|s| s.downcast_ref::<h2::Error>());
    let unprocessed = e.is_canceled()
        || h2.is_some_and(|h| {
            (h.is_go_away() && h.is_remote() && h.reason() == Some(h2::Reason::NO_ERROR))
                || h.reason() == Some(h2::Reason::REFUSED_STREAM)
        });
    Failure { class: classify_hyper(e), unprocessed }
}

fn classify_hyper(e: &hyper::Error) -> ErrorClass {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return classify_io(io);
        }
        source = s.source();
    }
    if e.is_parse() {
        ErrorClass::InvalidResponse
    } else if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        ErrorClass::Closed
    } else if e.is_timeout() {
        ErrorClass::Timeout
    } else {
        ErrorClass::Other
    }
}
