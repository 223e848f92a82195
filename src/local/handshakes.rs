//! The TLS handshakes the endpoint saw: what each ClientHello offered (key-exchange groups,
//! cipher suites, signature schemes) and what the handshake negotiated. Tests assert on it
//! (the default client offers and gets the post-quantum hybrid group; a FIPS build offers only
//! approved algorithms); `bench` names the group each client negotiated from it.
//!
//! The accept reads the ClientHello first (tokio-rustls's `LazyConfigAcceptor`), records it,
//! then completes the handshake with the endpoint's configuration: a handshake that fails
//! after its ClientHello is recorded too, with nothing negotiated.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use rustls::server::{Acceptor, ClientHello, ServerConnection};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

use super::stats::bump;
use crate::tls::{group_name, suite_name};

/// How many handshakes [`LocalEndpoint::tls_handshakes`](super::LocalEndpoint::tls_handshakes)
/// keeps (the most recent ones).
pub(crate) const TLS_HANDSHAKES_KEPT: usize = 256;

/// One TLS handshake the endpoint saw. Names are IANA's (`X25519MLKEM768`, `secp256r1`,
/// `TLS13_AES_128_GCM_SHA256`, `ECDSA_NISTP256_SHA256`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsHandshake {
    /// The key-exchange groups the ClientHello offered (`supported_groups`), in its order.
    pub offered_groups: Vec<String>,
    /// The cipher suites the ClientHello offered, in its order.
    pub offered_cipher_suites: Vec<String>,
    /// The signature schemes the ClientHello offered, in its order.
    pub offered_signature_schemes: Vec<String>,
    /// The group the handshake negotiated; `None` when it failed.
    pub key_exchange_group: Option<String>,
    /// The cipher suite negotiated; `None` when the handshake failed.
    pub cipher_suite: Option<String>,
    /// The protocol version negotiated (`TLSv1_3`); `None` when the handshake failed.
    pub protocol: Option<String>,
}

impl TlsHandshake {
    fn offered(hello: &ClientHello<'_>) -> TlsHandshake {
        TlsHandshake {
            offered_groups: hello
                .named_groups()
                .unwrap_or_default()
                .iter()
                .map(|g| group_name(*g))
                .collect(),
            offered_cipher_suites: hello
                .cipher_suites()
                .iter()
                .map(|s| suite_name(*s))
                .collect(),
            offered_signature_schemes: hello
                .signature_schemes()
                .iter()
                .map(|s| format!("{s:?}"))
                .collect(),
            ..TlsHandshake::default()
        }
    }

    fn negotiated(&mut self, conn: &ServerConnection) {
        self.key_exchange_group = conn
            .negotiated_key_exchange_group()
            .map(|g| group_name(g.name()));
        self.cipher_suite = conn
            .negotiated_cipher_suite()
            .map(|s| suite_name(s.suite()));
        self.protocol = conn.protocol_version().map(|v| format!("{v:?}"));
    }
}

/// The most recent handshakes, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Handshakes {
    recent: Mutex<VecDeque<TlsHandshake>>,
}

impl Handshakes {
    fn push(&self, h: TlsHandshake) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() == TLS_HANDSHAKES_KEPT {
            recent.pop_front();
        }
        recent.push_back(h);
    }

    pub(crate) fn snapshot(&self) -> Vec<TlsHandshake> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().cloned().collect()
    }
}

/// Runs the server side of a handshake over `io`; once a ClientHello arrived, records the
/// handshake in `state`'s log, then counts it in `tls_handshakes` (so the count never runs
/// ahead of the log).
pub(crate) async fn accept<IO>(
    io: IO,
    config: Arc<ServerConfig>,
    state: &super::server::State,
) -> io::Result<TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let start = LazyConfigAcceptor::new(Acceptor::default(), io).await?;
    let mut seen = TlsHandshake::offered(&start.client_hello());
    let result = start.into_stream(config).await;
    if let Ok(tls) = &result {
        seen.negotiated(tls.get_ref().1);
    }
    state.handshakes.push(seen);
    bump(&state.stats.tls_handshakes);
    result
}
