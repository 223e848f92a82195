//! Shared HTTP/2 connections: stream slots, leases, draining, and which failures the server
//! proved it never processed.
//!
//! An HTTP/2 connection carries many requests at once. The pool hands out one [`H2Lease`] per
//! request — a stream slot — and never more than the connection's limit: the smaller of
//! [`PoolBuilder::max_streams_per_connection`](super::PoolBuilder::max_streams_per_connection)
//! and the server's `SETTINGS_MAX_CONCURRENT_STREAMS` (read by [`super::h2_watch`]), so no
//! request ever queues inside `h2`, out of sight of the pool's waiters, `acquire_timeout` and
//! statistics. A connection **drains** — takes no new stream, lets its open streams finish,
//! closes when the last one ends — when the server sends GOAWAY, when it passes
//! `max_lifetime`, when its connection task ends, or when the pool is dropped.
//!
//! Lock rule: slot counts change only under the origin's state lock, so that a freed slot and
//! a waiting caller always meet. An [`H2Lease`] is therefore never dropped under that lock: code
//! holding it gives a lease back with [`H2Lease::release_locked`] instead.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::h2_watch::PeerSettings;
use super::origin_pool::OriginPool;
use super::stats::{CloseReason, Counters};

/// Streams a new connection may carry before the server's SETTINGS arrived (RFC 9113 §6.5.2
/// advises not assuming more than 100). The pool waits for that SETTINGS frame before it
/// leases any stream, so this applies only to a server that sends no limit at all.
pub(crate) const H2_ASSUMED_PEER_STREAMS: u32 = 100;

/// One shared HTTP/2 connection. Held by the origin's state while it takes new streams and by
/// each of its leases; dropping the last holder closes it (`h2` ends the connection once no
/// sender and no stream is left) and counts the close once.
pub(crate) struct H2Conn {
    pub(crate) id: u64,
    tx: SendRequest<Bytes>,
    pub(crate) remote: SocketAddr,
    pub(crate) created: Instant,
    pub(crate) peer: Arc<PeerSettings>,
    /// The client's own cap on concurrent streams.
    cap: u32,
    /// Streams leased now; changed only under the origin's state lock.
    open: AtomicU32,
    /// Streams ever leased.
    leased: AtomicU32,
    /// No new stream may start on it.
    draining: AtomicBool,
    /// Why it drains: the first reason given wins.
    reason: Mutex<Option<CloseReason>>,
    counters: Arc<Counters>,
    /// Its address (counted there; dead: take no new stream).
    pub(crate) address: crate::connect::OnAddress,
    _permit: OwnedSemaphorePermit,
}

impl H2Conn {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: u64,
        tx: SendRequest<Bytes>,
        remote: SocketAddr,
        peer: Arc<PeerSettings>,
        cap: u32,
        counters: Arc<Counters>,
        address: crate::connect::OnAddress,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        H2Conn {
            id,
            tx,
            remote,
            created: Instant::now(),
            peer,
            cap,
            open: AtomicU32::new(0),
            leased: AtomicU32::new(0),
            draining: AtomicBool::new(false),
            reason: Mutex::new(None),
            counters,
            address,
            _permit: permit,
        }
    }

    /// Streams it may carry at once now.
    pub(crate) fn limit(&self) -> u32 {
        let peer = match self.peer.max_streams() {
            Some(n) => n,
            None if self.peer.settings_seen() => u32::MAX,
            None => H2_ASSUMED_PEER_STREAMS,
        };
        self.cap.min(peer)
    }

    /// Streams leased now.
    pub(crate) fn open_streams(&self) -> u32 {
        self.open.load(Relaxed)
    }

    /// Whether it takes no new stream: told to drain (also when its task ended) or GOAWAY
    /// received.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Relaxed) || self.peer.goaway()
    }

    /// Stops new streams on it for `reason` (the first reason given is the one counted).
    pub(crate) fn drain(&self, reason: CloseReason) {
        let mut r = self.reason.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_none() {
            *r = Some(reason);
        }
        self.draining.store(true, Relaxed);
    }

    /// Whether it is draining with no stream left: the origin drops it now.
    pub(crate) fn is_spent(&self) -> bool {
        self.is_draining() && self.open_streams() == 0
    }

    /// A stream slot, if it takes new streams and has one free. Call under the origin's state
    /// lock.
    pub(crate) fn try_lease(self: &Arc<Self>, pool: &Arc<OriginPool>) -> Option<H2Lease> {
        if self.is_draining() {
            return None;
        }
        let open = self.open.load(Relaxed);
        if open >= self.limit() {
            return None;
        }
        self.open.store(open + 1, Relaxed);
        let before = self.leased.fetch_add(1, Relaxed);
        Some(H2Lease {
            conn: self.clone(),
            tx: self.tx.clone(),
            pool: pool.clone(),
            reused: before > 0,
            armed: true,
        })
    }

    fn close_reason(&self) -> CloseReason {
        let given = *self.reason.lock().unwrap_or_else(|p| p.into_inner());
        given.unwrap_or(if self.peer.goaway() {
            CloseReason::GoAway
        } else {
            CloseReason::Abandoned
        })
    }
}

impl Drop for H2Conn {
    fn drop(&mut self) {
        let reason = self.close_reason();
        self.counters.closed(reason);
        tracing::debug!(
            connection_id = self.id,
            close_reason = reason.as_str(),
            requests = self.leased.load(Relaxed),
            goaway = ?self.peer.goaway_frame(),
            "connection closed"
        );
    }
}

/// One stream slot on a shared HTTP/2 connection, held from checkout until the response body
/// ends or is dropped. Dropping it frees the slot: the next waiter gets it, or a draining
/// connection with no stream left closes.
pub(crate) struct H2Lease {
    pub(crate) conn: Arc<H2Conn>,
    pub(crate) tx: SendRequest<Bytes>,
    pool: Arc<OriginPool>,
    /// The connection had carried a stream before this one.
    pub(crate) reused: bool,
    armed: bool,
}

impl H2Lease {
    /// Gives the slot back from code that holds the origin's state lock (see the module's lock
    /// rule); the caller drops a spent connection from its set.
    pub(crate) fn release_locked(mut self) {
        self.armed = false;
        self.conn.release_slot_locked();
    }
}

impl Drop for H2Lease {
    fn drop(&mut self) {
        if self.armed {
            self.pool.release_stream(&self.conn);
        }
    }
}

impl H2Conn {
    /// Frees one slot; call under the origin's state lock (by [`OriginPool::release_stream`]).
    pub(crate) fn release_slot_locked(&self) {
        self.open.fetch_sub(1, Relaxed);
    }
}
