//! One pooled HTTP/1.1 connection, and the guard that holds it while a request uses it.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use std::task::{Context, Poll};

use aws_smithy_types::body::SdkBody;
use hyper::client::conn::{http1, http2};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::host::Host;
use super::stats::{CloseReason, Counters};

/// The sending half of a connection: HTTP/1.1 (one request at a time) or HTTP/2 (shared).
pub(crate) enum Tx {
    H1(http1::SendRequest<SdkBody>),
    H2(http2::SendRequest<SdkBody>),
}

impl Tx {
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Tx::H1(t) => t.is_closed(),
            Tx::H2(t) => t.is_closed(),
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        match self {
            Tx::H1(t) => t.is_ready(),
            Tx::H2(t) => t.is_ready(),
        }
    }

    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<hyper::Result<()>> {
        match self {
            Tx::H1(t) => t.poll_ready(cx),
            Tx::H2(t) => t.poll_ready(cx),
        }
    }

    pub(crate) fn is_h2(&self) -> bool {
        matches!(self, Tx::H2(_))
    }
}

/// An open connection. It owns one of its origin's `max_connections_per_host` permits, so
/// dropping it (from anywhere, for any reason) frees the slot; its `Drop` counts the close
/// under `close_reason` (default [`CloseReason::Abandoned`]).
pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) tx: Tx,
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
    /// The connection's slot; `None` on an HTTP/2 lease (the shared connection holds it).
    pub(crate) permit: Option<OwnedSemaphorePermit>,
}

impl Conn {
    pub(crate) fn close(mut self, reason: CloseReason) {
        self.close_reason = Some(reason);
    }

    /// A lease of a shared HTTP/2 connection: a clone of its sender for one request. Dropping
    /// a lease closes nothing.
    pub(crate) fn is_lease(&self) -> bool {
        self.permit.is_none()
    }

    /// Leases this shared HTTP/2 connection for one request.
    pub(crate) fn lease(&mut self) -> Option<Conn> {
        let Tx::H2(tx) = &self.tx else { return None };
        let lease = Conn {
            id: self.id,
            tx: Tx::H2(tx.clone()),
            remote: self.remote,
            probe: None,
            created: self.created,
            idle_since: self.idle_since,
            requests: self.requests,
            remaining: None,
            close_reason: None,
            counters: self.counters.clone(),
            permit: None,
        };
        self.requests += 1;
        Some(lease)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.is_lease() {
            return;
        }
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
            if conn.is_lease() {
                // The shared HTTP/2 connection stays where it is.
            } else if !server_keeps_open {
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
