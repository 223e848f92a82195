//! Opening connections: DNS, address choice, TCP with socket options, TLS with ALPN, and the
//! HTTP/1.1 handshake.
//!
//! A connect either yields an open connection or fails *before any request byte exists on it*:
//! every failure here is "not sent". Addresses are re-resolved for every new connection and
//! raced (`race`: RFC 8305's idea over an endpoint's addresses) in the order `health` gives:
//! healthy addresses by load, so connections spread over an interface endpoint's ENIs (one per
//! AZ), an address that timed out, refused or reset ejected for a growing backoff.
mod health;
mod race;
mod resolve;
mod shared_tcp;
mod socket;
mod stream;
mod tls;

pub use health::AddressStats;
pub(crate) use health::{AddressHealth, Failure, OnAddress};
#[cfg(test)]
pub(crate) use health::{EJECTION_BACKOFF_FIRST, EJECTION_BACKOFF_MAX};
pub(crate) use race::{connect, RaceSettings};
pub use resolve::{FnResolver, GaiResolver, Resolve, Resolving};
pub(crate) use shared_tcp::{PeerState, SharedTcp};
pub(crate) use socket::{Keepalive, SocketOptions};
pub(crate) use stream::MaybeTlsStream;
#[cfg(test)]
pub(crate) use stream::MemoryStream;
pub(crate) use tls::TlsSettings;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::net::TcpSocket;
use tokio_rustls::TlsConnector;

use crate::error::{Error, Kind};
use crate::origin::Origin;

/// Opens transport streams to an [`Origin`]. Shared by every host of a pool.
#[derive(Clone)]
pub(crate) struct Connector {
    resolver: Arc<dyn Resolve>,
    tls: TlsConnector,
    socket: SocketOptions,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("resolver", &self.resolver)
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

/// Resolves names and opens transport streams to one address. [`Connector`] is the real one;
/// pool unit tests use in-memory fakes. Choosing and racing addresses is [`connect`]'s.
pub(crate) trait Dial: Send + Sync + 'static {
    /// The addresses `host` resolves to, in the resolver's order.
    fn resolve(&self, host: &str, port: u16) -> Resolving;

    /// TCP (with the socket options) and, for `https`, TLS to `addr`. The caller bounds it by
    /// `connect_timeout`.
    fn dial_addr<'a>(
        &'a self,
        origin: &'a Origin,
        addr: SocketAddr,
        connect_timeout: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Opened, Error>> + Send + 'a>>;
}

impl Dial for Connector {
    fn resolve(&self, host: &str, port: u16) -> Resolving {
        self.resolver.resolve(host, port)
    }

    fn dial_addr<'a>(
        &'a self,
        origin: &'a Origin,
        addr: SocketAddr,
        connect_timeout: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Opened, Error>> + Send + 'a>>
    {
        Box::pin(self.open_addr(origin, addr, connect_timeout))
    }
}

/// An open stream and where it goes.
pub(crate) struct Opened {
    pub(crate) stream: MaybeTlsStream,
    pub(crate) remote: SocketAddr,
    /// The TCP socket under `stream`, for peeking before reuse (`None` for in-memory tests).
    pub(crate) probe: Option<SharedTcp>,
    /// ALPN chose HTTP/2.
    pub(crate) h2: bool,
}

impl Connector {
    pub(crate) fn new(
        resolver: Arc<dyn Resolve>,
        tls: &TlsSettings,
        socket: SocketOptions,
    ) -> Result<Self, crate::BuildError> {
        Ok(Connector {
            resolver,
            tls: TlsConnector::from(Arc::new(tls.client_config()?)),
            socket,
        })
    }

    /// TCP to `addr` within `connect_timeout`, then the TLS handshake (for `https`), also
    /// within it.
    pub(crate) async fn open_addr(
        &self,
        origin: &Origin,
        addr: SocketAddr,
        connect_timeout: Duration,
    ) -> Result<Opened, Error> {
        let tcp = match tokio::time::timeout(connect_timeout, self.tcp(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(Error::with(Kind::Connect, e)),
            Err(_) => {
                return Err(Error::with(
                    Kind::ConnectTimeout,
                    format!("TCP connect to {addr} timed out"),
                ))
            }
        };
        // TLS reads go through rustls's own initialised buffer, so sharing the socket for the
        // peek costs nothing there. Plain HTTP (loopback only: tests, benchmarks) keeps tokio's
        // own stream and goes without the peek.
        let (stream, probe) = if origin.is_https() {
            let tcp = SharedTcp::new(tcp);
            let probe = Some(tcp.clone());
            (self.tls(tcp, origin.sni(), connect_timeout).await?, probe)
        } else {
            (MaybeTlsStream::Plain(tcp), None)
        };
        let h2 = stream.alpn_h2();
        Ok(Opened {
            stream,
            remote: addr,
            probe,
            h2,
        })
    }

    async fn tcp(&self, addr: SocketAddr) -> io::Result<tokio::net::TcpStream> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        let stream = socket.connect(addr).await?;
        self.socket.apply(&stream)?;
        Ok(stream)
    }

    async fn tls(
        &self,
        tcp: SharedTcp,
        sni: &str,
        timeout: Duration,
    ) -> Result<MaybeTlsStream, Error> {
        let name = ServerName::try_from(sni.to_owned())
            .map_err(|e| Error::with(Kind::Tls, format!("invalid TLS server name: {e}")))?;
        match tokio::time::timeout(timeout, self.tls.connect(name, tcp)).await {
            Ok(Ok(tls)) => Ok(MaybeTlsStream::Tls(Box::new(tls))),
            Ok(Err(e)) => Err(Error::with(Kind::Tls, e)),
            Err(_) => Err(Error::with(Kind::ConnectTimeout, "TLS handshake timed out")),
        }
    }
}
