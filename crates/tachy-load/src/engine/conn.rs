//! Connections: TCP (with TCP_NODELAY) or TLS over TCP, the TLS client configuration
//! (webpki roots, or any certificate with `--insecure`) and error classification.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::ServerName;
use tachy_report::load::ErrorClass;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::LoadError;

/// A plain or TLS connection.
pub enum Stream {
    /// Cleartext.
    Plain(TcpStream),
    /// TLS.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Where and how to connect.
#[derive(Clone)]
pub struct Connector {
    /// Resolved addresses (the first is used; others on failure).
    pub addrs: Vec<SocketAddr>,
    /// TLS, when the URL is https.
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Connector {
    /// Opens a connection; errors come back classified with the OS message.
    pub async fn connect(&self) -> Result<Stream, (ErrorClass, String)> {
        let mut last = (ErrorClass::Connect, "no address".to_string());
        for addr in &self.addrs {
            match TcpStream::connect(addr).await {
                Ok(tcp) => {
                    let _ = tcp.set_nodelay(true);
                    let Some((tls, name)) = &self.tls else {
                        return Ok(Stream::Plain(tcp));
                    };
                    return match tls.connect(name.clone(), tcp).await {
                        Ok(s) => Ok(Stream::Tls(Box::new(s))),
                        Err(e) => {
                            let class = classify_io(&e);
                            let class = if matches!(class, ErrorClass::Reset | ErrorClass::Closed) {
                                class
                            } else {
                                ErrorClass::Tls
                            };
                            Err((class, e.to_string()))
                        }
                    };
                }
                Err(e) => {
                    last = (
                        if e.kind() == io::ErrorKind::ConnectionRefused {
                            ErrorClass::Refused
                        } else {
                            classify_io(&e)
                        },
                        e.to_string(),
                    );
                }
            }
        }
        Err(last)
    }
}

/// The error class of an I/O error.
pub fn classify_io(e: &io::Error) -> ErrorClass {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => ErrorClass::Refused,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ErrorClass::Reset,
        K::UnexpectedEof => ErrorClass::Closed,
        K::TimedOut => ErrorClass::Timeout,
        K::InvalidData if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => ErrorClass::Tls,
        K::InvalidData => ErrorClass::InvalidResponse,
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => ErrorClass::Connect,
        _ => ErrorClass::Other,
    }
}

/// The TLS client: webpki roots, ALPN for the HTTP version, or no verification at all.
pub fn tls_connector(
    host: &str,
    http2: bool,
    insecure: bool,
) -> Result<(TlsConnector, ServerName<'static>), LoadError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| LoadError::Tls(e.to_string()))?;
    let mut config = if insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))).with_no_client_auth()
    } else {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = if http2 { vec![b"h2".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string())
        .map_err(|e| LoadError::Tls(format!("'{host}' is not a valid TLS server name: {e}")))?;
    Ok((TlsConnector::from(Arc::new(config)), name))
}

/// `--insecure`: accepts any certificate (signatures are still checked).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
