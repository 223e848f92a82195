//! [`Protocol`]: which HTTP version a connection speaks. Below both `connect` (which offers
//! it in ALPN) and `pool` (which keeps HTTP/1.1 and HTTP/2 connections apart); its public path
//! is `lambda_vpce::pool::Protocol`, and its default is `pool::DEFAULT_PROTOCOL`.

use crate::BuildError;

/// The HTTP version a pool speaks, set with [`PoolBuilder::protocol`](crate::pool::PoolBuilder::protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// HTTP/1.1 only: ALPN offers `http/1.1`; one request per connection at a time.
    Http1,
    /// HTTP/2 only: ALPN offers `h2` alone, and a TLS server that does not pick it fails the
    /// connect (not sent); over plain `http://` (loopback) HTTP/2 with prior knowledge.
    Http2,
    /// ALPN offers `h2` then `http/1.1` and the server decides (what Lambda's endpoint and
    /// aws-sdk-lambda's default client negotiate: `h2`). Plain `http://` speaks HTTP/1.1.
    Auto,
}

impl Protocol {
    /// `http1`, `http2` or `auto`: the form the CLI's `--protocol` flag takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http1 => "http1",
            Protocol::Http2 => "http2",
            Protocol::Auto => "auto",
        }
    }

    /// The ALPN protocol ids a pool of this protocol offers in its TLS handshake, in order of
    /// preference: `http/1.1`, `h2`, or `h2` then `http/1.1` (the server picks).
    pub(crate) fn alpn(self) -> Vec<Vec<u8>> {
        match self {
            Protocol::Http1 => vec![b"http/1.1".to_vec()],
            Protocol::Http2 => vec![b"h2".to_vec()],
            Protocol::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = BuildError;
    fn from_str(s: &str) -> Result<Self, BuildError> {
        match s.to_ascii_lowercase().as_str() {
            "http1" | "http/1.1" | "h1" => Ok(Protocol::Http1),
            "http2" | "h2" => Ok(Protocol::Http2),
            "auto" => Ok(Protocol::Auto),
            _ => Err(BuildError::new("protocol", s, "http1, http2 or auto")),
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
