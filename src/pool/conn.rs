//! One pooled HTTP/1.1 connection, and the guard that holds it while a request uses it.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use aws_smithy_types::body::SdkBody;
use hyper::client::conn::http1::SendRequest;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::host::Host;
use super::stats::{CloseReason, Counters};

/// An open connection. It owns one of its origin's `max_connections_per_host` permits, so
/// dropping it (from anywhere, for any reason) frees the slot; its `Drop` counts the close
/// under `close_reason` (default [`CloseReason::Abandoned`]).
pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) tx: SendRequest<SdkBody>,
    pub(crate) remote: SocketAddr,
    /// The socket under the connection, peeked before reuse.
    pub(crate) probe: Option<crate::connect::SharedTcp>,
    pub(crate) created: Instant,
    /// When it last became idle (valid while idle).
    pub(crate) idle_since: Instant,
    /// Requests sent on it.
    pub(crate) requests: u32,
    /// Requests the server still accepts (`Keep-Alive: max=N`).
    pub(crate) remaining: Option<u32>,
    pub(crate) close_reason: Option<CloseReason>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) _permit: OwnedSemaphorePermit,
}

impl Conn {
    pub(crate) fn close(mut self, reason: CloseReason) {
        self.close_reason = Some(reason);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let reason = self.close_reason.unwrap_or(CloseReason::Abandoned);
        self.counters.closed(reason);
        tracing::debug!(
            connection_id = self.id,
            close_reason = reason.as_str(),
            requests = self.requests,
            "connection closed"
        );
    }
}

/// A connection checked out for one request. Dropping it without [`Pooled::release`] closes
/// the connection (an exchange cut short leaves it in an unknown state).
pub(crate) struct Pooled {
    conn: Option<Conn>,
    host: Arc<Host>,
}

impl Pooled {
    pub(crate) fn new(conn: Conn, host: Arc<Host>) -> Self {
        conn.counters.in_use.fetch_add(1, Relaxed);
        Pooled {
            conn: Some(conn),
            host,
        }
    }

    pub(crate) fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a Pooled holds its connection until released")
    }

    pub(crate) fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// The exchange finished cleanly: return the connection to the pool (or close it if the
    /// server asked to, or its request budget is used up).
    pub(crate) fn release(mut self, server_keeps_open: bool) {
        if let Some(conn) = self.conn.take() {
            conn.counters.in_use.fetch_sub(1, Relaxed);
            if !server_keeps_open {
                conn.close(CloseReason::ClosedByServer);
            } else if conn.remaining == Some(0) {
                conn.close(CloseReason::RequestLimit);
            } else {
                Host::checkin(&self.host, conn);
            }
        }
    }

    /// Closes the connection for `reason`.
    pub(crate) fn discard(mut self, reason: CloseReason) {
        if let Some(conn) = self.conn.take() {
            conn.counters.in_use.fetch_sub(1, Relaxed);
            conn.close(reason);
        }
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.counters.in_use.fetch_sub(1, Relaxed);
            conn.close(CloseReason::Abandoned);
        }
    }
}
