//! Where a request's connections go: the value below both `connect` (which dials it) and
//! `pool` (which keeps one set of connections per origin).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::error::{Error, Kind};

/// An origin: scheme, the host to connect to (with a regional fallback for a zonal VPCE name),
/// port, and TLS server name. The pool keeps one set of connections per origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub(crate) https: bool,
    pub(crate) host: Arc<str>,
    pub(crate) fallback: Option<Arc<str>>,
    pub(crate) port: u16,
    pub(crate) sni: Arc<str>,
}

impl Origin {
    pub(crate) fn from_endpoint(e: &crate::Endpoint) -> Origin {
        Origin {
            https: e.scheme() == "https",
            host: e.connect_host().into(),
            fallback: e.fallback_connect_host().map(Into::into),
            port: e.port(),
            sni: e.sni().into(),
        }
    }

    /// An origin straight from a URI authority (`host[:port]`); plain `http` only to loopback.
    pub(crate) fn from_authority(https: bool, authority: &str) -> Result<Origin, Error> {
        let auth: http::uri::Authority = authority
            .parse()
            .map_err(|e| Error::with(Kind::InvalidInput, e))?;
        let host = auth.host().trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(Error::with(Kind::InvalidInput, "empty host"));
        }
        if !https && !is_loopback(host) {
            return Err(Error::with(
                Kind::InvalidInput,
                format!("plain http is allowed only to loopback, not to {host}"),
            ));
        }
        let port = auth.port_u16().unwrap_or(if https { 443 } else { 80 });
        Ok(Origin {
            https,
            host: host.into(),
            fallback: None,
            port,
            sni: host.into(),
        })
    }

    pub(crate) fn is_https(&self) -> bool {
        self.https
    }
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
    pub(crate) fn sni(&self) -> &str {
        &self.sni
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)?;
        }
        if self.https && self.sni != self.host {
            write!(f, " sni={}", self.sni)?;
        }
        Ok(())
    }
}

/// Loopback: 127.0.0.0/8, ::1, or `localhost`.
pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `Host` header for requests to `authority`, without a default port (as SigV4 signs it).
pub(crate) fn host_header(https: bool, authority: &str) -> Result<http::HeaderValue, Error> {
    let default = if https { ":443" } else { ":80" };
    let value = authority.strip_suffix(default).unwrap_or(authority);
    http::HeaderValue::from_str(value).map_err(|e| Error::with(Kind::InvalidInput, e))
}
