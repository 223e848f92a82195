//! One pooled HTTP/1.1 connection: exclusive, one request at a time, idle between requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use aws_smithy_types::body::SdkBody;
use hyper::client::conn::http1;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::stats::{CloseReason, Counters};

/// An open HTTP/1.1 connection. It owns one of its origin's `max_connections_per_host`
/// permits, so dropping it (from anywhere, for any reason) frees the slot; its `Drop` counts the
/// close under `close_reason` (default [`CloseReason::Abandoned`]).
pub(crate) struct H1Conn {
    pub(crate) id: u64,
    pub(crate) tx: http1::SendRequest<SdkBody>,
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
    /// Its address (counted there; dead: take no new request).
    pub(crate) address: crate::connect::OnAddress,
    pub(crate) _permit: OwnedSemaphorePermit,
}

impl H1Conn {
    pub(crate) fn close(mut self, reason: CloseReason) {
        self.close_reason = Some(reason);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.tx.is_ready()
    }

    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<hyper::Result<()>> {
        self.tx.poll_ready(cx)
    }
}

impl Drop for H1Conn {
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
