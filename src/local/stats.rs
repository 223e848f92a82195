//! Server-side counters and their snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the endpoint's counters. Counters are read one by one, so a snapshot taken
/// while requests run may be off by the requests in flight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// TCP connections accepted.
    pub connections_accepted: u64,
    /// Connections ended, for any reason.
    pub connections_closed: u64,
    /// Connections served over HTTP/2 (ALPN picked `h2`, or h2c prior knowledge on plain HTTP).
    pub http2_connections: u64,
    /// Idle connections the server closed with FIN (`idle_close`).
    pub idle_closes: u64,
    /// Idle connections the server reset with RST (`idle_reset`).
    pub idle_resets: u64,
    /// Responses that carried `Connection: close` because of `max_requests`.
    pub max_requests_closes: u64,
    /// Connections the server ended by a fault (die, chaos, garbage, truncate, ...).
    pub fault_closes: u64,
    /// TLS handshakes that failed or timed out.
    pub tls_failures: u64,
    /// TLS handshakes whose ClientHello arrived, failed ones included (each is in
    /// [`LocalEndpoint::tls_handshakes`](super::LocalEndpoint::tls_handshakes)).
    pub tls_handshakes: u64,
    /// HTTP requests received (all of them, refused ones included).
    pub requests: u64,
    /// Requests refused by the signature check.
    pub auth_failures: u64,
    /// Function executions (the ledger's total).
    pub executions: u64,
    /// HTTP/2 streams accepted (refused ones included).
    pub h2_streams: u64,
    /// HTTP/2 streams reset with `REFUSED_STREAM` (`h2_refuse`); none of them ran.
    pub h2_streams_refused: u64,
    /// Graceful GOAWAYs started (`h2_goaway_after_streams`, `h2_goaway_on_idle`, drains).
    pub h2_goaways_sent: u64,
    /// Abrupt GOAWAYs with an error code sent (`h2_abrupt_goaway`).
    pub h2_abrupt_goaways: u64,
    /// HTTP/2 responses cut by `RST_STREAM(INTERNAL_ERROR)` (`h2_reset_mid_response`).
    pub h2_resets_mid_response: u64,
    /// HTTP/2 connections that went silent (`h2_black_hole`), counted once each.
    pub h2_black_holes: u64,
    /// Calls of [`LocalEndpoint::drain_connections`](super::LocalEndpoint::drain_connections).
    pub drains: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connections_accepted: AtomicU64,
    pub(crate) connections_closed: AtomicU64,
    pub(crate) http2_connections: AtomicU64,
    pub(crate) idle_closes: AtomicU64,
    pub(crate) idle_resets: AtomicU64,
    pub(crate) max_requests_closes: AtomicU64,
    pub(crate) fault_closes: AtomicU64,
    pub(crate) tls_failures: AtomicU64,
    pub(crate) tls_handshakes: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
    pub(crate) h2_streams: AtomicU64,
    pub(crate) h2_streams_refused: AtomicU64,
    pub(crate) h2_goaways_sent: AtomicU64,
    pub(crate) h2_abrupt_goaways: AtomicU64,
    pub(crate) h2_resets_mid_response: AtomicU64,
    pub(crate) h2_black_holes: AtomicU64,
    pub(crate) drains: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self, executions: u64) -> ServerStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ServerStats {
            connections_accepted: get(&self.connections_accepted),
            connections_closed: get(&self.connections_closed),
            http2_connections: get(&self.http2_connections),
            idle_closes: get(&self.idle_closes),
            idle_resets: get(&self.idle_resets),
            max_requests_closes: get(&self.max_requests_closes),
            fault_closes: get(&self.fault_closes),
            tls_failures: get(&self.tls_failures),
            tls_handshakes: get(&self.tls_handshakes),
            requests: get(&self.requests),
            auth_failures: get(&self.auth_failures),
            executions,
            h2_streams: get(&self.h2_streams),
            h2_streams_refused: get(&self.h2_streams_refused),
            h2_goaways_sent: get(&self.h2_goaways_sent),
            h2_abrupt_goaways: get(&self.h2_abrupt_goaways),
            h2_resets_mid_response: get(&self.h2_resets_mid_response),
            h2_black_holes: get(&self.h2_black_holes),
            drains: get(&self.drains),
        }
    }
}
