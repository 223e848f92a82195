//! One shared HTTP/2 connection: its handshake, the task that drives it with PINGs, its stream
//! slots and leases, draining, and the reason its close is counted under.
//!
//! An HTTP/2 connection carries many requests at once. The pool hands out one [`H2Lease`] per
//! request — a stream slot — and never more than the connection's limit: the smaller of
//! [`PoolBuilder::max_streams_per_connection`](crate::pool::PoolBuilder::max_streams_per_connection)
//! and the server's `SETTINGS_MAX_CONCURRENT_STREAMS` (read by [`super::watch`]), so no
//! request ever queues inside `h2`, out of sight of the pool's waiters, `acquire_timeout` and
//! statistics. A connection **drains** — takes no new stream, lets its open streams finish,
//! closes when the last one ends — when the server sends GOAWAY, when it passes
//! `max_lifetime`, when its connection task ends, or when the pool is dropped. Which failures
//! the server proved it never processed is [`super::refused`]'s rule.
//!
//! Lock rule: slot counts change only under the origin's state lock, so that a freed slot and
//! a waiting caller always meet. An [`H2Lease`] is therefore never dropped under that lock: code
//! holding it gives a lease back with [`H2Lease::release_locked`] instead.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::watch::{PeerSettings, Watched};
use crate::error::{Error, Kind};
use crate::pool::config::H2Config;
use crate::pool::origin_pool::{Ended, OriginPool};
use crate::pool::stats::{CloseReason, Counters};

/// The largest HTTP/2 frame the client accepts: 1 MiB (the protocol's default is 16 KiB), so
/// a 6 MB response comes in a few frames from a server that sends large ones.
const H2_MAX_FRAME_SIZE: u32 = 1 << 20;

/// How much of one streaming request body `h2` buffers ahead of the flow-control window:
/// 8 MiB, more than Lambda's 6 MB payload. (An in-memory body, every Lambda API call's, is
/// queued whole and sent as the window allows.)
const H2_MAX_SEND_BUFFER: usize = 8 << 20;

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

    /// Its connection task ended with `ended` (see [`Driver::run`]): it drains for the reason that
    /// says, GOAWAY first (a server that sent one closed on purpose, whatever followed).
    pub(in crate::pool) fn task_ended(&self, ended: Ended) {
        self.drain(match ended {
            _ if self.peer.goaway() => CloseReason::GoAway,
            Ended::PingTimeout => CloseReason::PingTimeout,
            Ended::Error => CloseReason::Error,
            Ended::Closed => CloseReason::ClosedByServer,
        });
    }

    /// `h2` made no stream for a request (`err`): the connection takes no new stream, gone away
    /// ([`CloseReason::GoAway`]) or closed ([`CloseReason::Error`]); either way it drains.
    pub(crate) fn refused_new_stream(&self, err: &h2::Error) {
        self.drain(if err.is_go_away() || self.peer.goaway() {
            CloseReason::GoAway
        } else {
            CloseReason::Error
        });
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

/// The HTTP/2 handshake over `io`: the client's settings (no push, the configured windows, 1 MiB
/// frames), and a reader of the server's SETTINGS and GOAWAY frames between the socket and
/// `h2` ([`Watched`]). Returns the sender of new streams, what the server says, and the
/// connection's [`Driver`] for the caller to run in its own task. Wait for
/// [`PeerSettings::wait_for_settings`] before leasing a stream.
pub(crate) async fn handshake<T>(
    io: T,
    config: &H2Config,
) -> Result<(SendRequest<Bytes>, Arc<PeerSettings>, Driver<T>), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let peer = Arc::new(PeerSettings::default());
    let io = Watched::new(io, peer.clone());
    let (tx, mut connection) = h2::client::Builder::new()
        .enable_push(false)
        .initial_window_size(config.stream_window)
        .initial_connection_window_size(config.connection_window)
        .max_frame_size(H2_MAX_FRAME_SIZE)
        .max_send_buffer_size(H2_MAX_SEND_BUFFER)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(|e| Error::with(Kind::Connect, e))?;
    let keepalive = config
        .keepalive_interval
        .zip(connection.ping_pong())
        .map(|(interval, ping)| (ping, interval, config.keepalive_timeout));
    Ok((
        tx,
        peer,
        Driver {
            connection,
            keepalive,
        },
    ))
}

/// An HTTP/2 connection's future with its PINGs: [`Driver::run`] it in the connection's task.
pub(crate) struct Driver<T> {
    connection: h2::client::Connection<Watched<T>, Bytes>,
    /// (pinger, interval, timeout), when PINGs are on.
    keepalive: Option<(h2::PingPong, Duration, Duration)>,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Driver<T> {
    /// Drives the connection and, with keep-alive on, PINGs it every interval, also while
    /// idle. A PING unanswered within the timeout ends it: dropping the connection fails its
    /// open streams (an I/O error: "may have executed") and closes the socket.
    pub(crate) async fn run(self) -> Ended {
        let ended = |result: Result<(), h2::Error>| match result {
            Ok(()) => Ended::Closed,
            Err(e) => {
                tracing::debug!(error = %e, "HTTP/2 connection ended with an error");
                Ended::Error
            }
        };
        let connection = self.connection;
        let Some((mut ping, interval, timeout)) = self.keepalive else {
            return ended(connection.await);
        };
        let pings = async move {
            loop {
                tokio::time::sleep(interval).await;
                match tokio::time::timeout(timeout, ping.ping(h2::Ping::opaque())).await {
                    Ok(Ok(_pong)) => {}
                    // The connection is ending: its own result says how.
                    Ok(Err(_)) => std::future::pending::<()>().await,
                    Err(_) => return,
                }
            }
        };
        tokio::select! {
            result = connection => ended(result),
            () = pings => {
                tracing::debug!("HTTP/2 PING unanswered; closing the connection");
                Ended::PingTimeout
            }
        }
    }
}
