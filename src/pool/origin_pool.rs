//! One origin's connections: the idle stack of HTTP/1.1 connections, the set of shared HTTP/2
//! connections, the waiter queue, learned idle limits, maintenance and statistics. Checkout is
//! in [`super::checkout`], opening a connection in [`super::establish`].
//!
//! Lock rule: `OriginPool::state` is a `std::sync::Mutex` held only for a few pointer moves; it
//! is never held across an `.await`, and no other pool lock is taken while it is held. Dropping
//! an [`H1Conn`] or an `Arc<H2Conn>` under it is allowed (their `Drop` touches only atomics and
//! the semaphore); dropping an [`H2Lease`] is not (its `Drop` takes this lock): give one back
//! with [`H2Lease::release_locked`].

use std::collections::VecDeque;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::checkout::Checkout;
use super::h1::H1Conn;
use super::h2::{H2Conn, H2Lease, H2_ASSUMED_PEER_STREAMS};
use super::keep_alive::IdleLimits;
use super::stats::{CloseReason, Counters, OriginStats};
use super::Shared;
use crate::connect::Failure;
use crate::error::Error;
use crate::origin::Origin;
use crate::protocol::Protocol;

/// Closes seen after less idle time than this are taken as the server going away (a deploy,
/// a restart), not as its idle policy, and do not lower the learned limit.
pub(crate) const MIN_LEARNABLE_IDLE: Duration = Duration::from_millis(500);

/// How many shared HTTP/2 connections an origin spreads streams over: the setting, else the
/// worker threads of the runtime this runs on (1 outside a runtime or on a current-thread
/// one), within `max_connections_per_host`.
fn h2_spread(config: &super::PoolConfig) -> usize {
    let n = config.h2.connections.unwrap_or_else(|| {
        tokio::runtime::Handle::try_current().map_or(1, |h| h.metrics().num_workers())
    });
    n.clamp(1, config.max_connections_per_host.max(1))
}

/// The connections of one origin (scheme, connect host, port, TLS name).
pub(crate) struct OriginPool {
    pub(crate) origin: Origin,
    pub(crate) counters: Arc<Counters>,
    /// The `Host` header value requests to this origin carry (as SigV4 signed it).
    pub(crate) host_header: http::HeaderValue,
    pub(super) shared: Arc<Shared>,
    pub(super) permits: Arc<Semaphore>,
    state: Mutex<State>,
    pub(super) rotation: AtomicUsize,
    /// Woken when a connect ends, for callers that waited on it instead of starting their own.
    pub(super) connect_ended: Notify,
    /// Shared HTTP/2 connections to spread streams over ([`super::PoolBuilder::h2_connections`]).
    pub(super) h2_spread: usize,
}

pub(super) struct State {
    /// Idle HTTP/1.1 connections, least recently used at the front, most recent at the back.
    pub(super) idle: VecDeque<H1Conn>,
    /// Shared HTTP/2 connections that still take new streams, oldest first. A draining one
    /// leaves the set when its last stream ends (its leases keep it alive until then).
    pub(super) h2: Vec<Arc<H2Conn>>,
    /// Callers waiting for a connection or a stream slot, first come first served.
    pub(super) waiters: VecDeque<oneshot::Sender<Checkout>>,
    pub(super) limits: IdleLimits,
    pub(super) connecting: usize,
    /// Whether the origin's last new connection negotiated HTTP/2 (`None`: none yet).
    pub(super) last_h2: Option<bool>,
    /// Stream slots the origin's last HTTP/2 connection offered: what a connect under way is
    /// expected to bring.
    pub(super) h2_slots_expected: u32,
    pub(super) zonal_failures: u32,
    pub(super) fallback_until: Option<Instant>,
    /// No background connect to spread HTTP/2 streams before then (a connect failed).
    pub(super) spread_retry_at: Option<Instant>,
    pub(super) closed: bool,
}

impl OriginPool {
    pub(crate) fn new(origin: Origin, host_header: http::HeaderValue, shared: Arc<Shared>) -> Self {
        let limits = IdleLimits {
            configured: shared.config.idle_timeout,
            ..IdleLimits::default()
        };
        OriginPool {
            permits: Arc::new(Semaphore::new(shared.config.max_connections_per_host)),
            counters: Arc::new(Counters::new(&origin)),
            origin,
            host_header,
            state: Mutex::new(State {
                idle: VecDeque::new(),
                h2: Vec::new(),
                waiters: VecDeque::new(),
                limits,
                connecting: 0,
                last_h2: None,
                h2_slots_expected: shared
                    .config
                    .h2
                    .max_streams_per_connection
                    .min(H2_ASSUMED_PEER_STREAMS),
                zonal_failures: 0,
                fallback_until: None,
                spread_retry_at: None,
                closed: false,
            }),
            rotation: AtomicUsize::new(0),
            connect_ended: Notify::new(),
            h2_spread: h2_spread(&shared.config),
            shared,
        }
    }

    pub(crate) fn shared_config(&self) -> &super::PoolConfig {
        &self.shared.config
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state torn (every critical section
        // is a few infallible moves), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this origin's connections offer `h2` (HTTP/2 on, over TLS or by prior
    /// knowledge).
    pub(super) fn offers_h2(&self) -> bool {
        match self.shared.config.tls.protocol {
            Protocol::Http1 => false,
            Protocol::Http2 => true,
            Protocol::Auto => self.origin.is_https(),
        }
    }

    /// Whether this origin's next connection is expected to speak HTTP/2: `h2` is offered and
    /// the origin did not last answer with HTTP/1.1. One such connection serves every caller,
    /// so connects are shared and `min_idle` is met by one.
    pub(super) fn expects_h2(&self, st: &State) -> bool {
        self.offers_h2() && st.last_h2 != Some(false)
    }

    /// A stream slot on a shared HTTP/2 connection, else the most recently used idle HTTP/1.1
    /// connection that is still usable at `now`, without waiting: the fast path of every
    /// request on a warm pool (one lock, no future, no timer).
    pub(crate) fn try_idle(self: &Arc<Self>, now: Instant) -> Option<Checkout> {
        let mut st = self.lock();
        self.take_idle(&mut st, now)
    }

    pub(super) fn take_idle(self: &Arc<Self>, st: &mut State, now: Instant) -> Option<Checkout> {
        if !st.h2.is_empty() {
            if let Some(lease) = self.lease_locked(st, now) {
                return Some(Checkout::H2(lease));
            }
        }
        let idle_limit = st.limits.effective();
        let max_lifetime = self.shared.config.max_lifetime;
        while let Some(conn) = st.idle.pop_back() {
            match expiry(&conn, now, idle_limit, max_lifetime) {
                None => return Some(Checkout::H1(conn)),
                Some(reason) => {
                    tracing::trace!(
                        connection_id = conn.id,
                        close_reason = reason.as_str(),
                        "discarded at checkout"
                    );
                    conn.close(reason);
                }
            }
        }
        None
    }

    /// A slot on the least loaded HTTP/2 connection that has one (the oldest of equals);
    /// drains connections past their lifetime and drops spent ones on the way. Taking it may
    /// start one more connection in the background to spread streams over
    /// ([`Self::spread_locked`]).
    fn lease_locked(self: &Arc<Self>, st: &mut State, now: Instant) -> Option<H2Lease> {
        self.drain_expired_h2(st, now);
        // Every connection in service already carries a stream: this caller is one more at
        // once than there are connections.
        let all_busy = self.h2_spread > 1
            && st
                .h2
                .iter()
                .filter(|c| !c.is_draining())
                .all(|c| c.open_streams() > 0);
        let lease = st
            .h2
            .iter()
            .filter(|c| !c.is_draining())
            .min_by_key(|c| c.open_streams())
            .and_then(|c| c.try_lease(self))
            .or_else(|| st.h2.iter().find_map(|c| c.try_lease(self)));
        if lease.is_some() && all_busy {
            self.spread_locked(st, now);
        }
        lease
    }

    /// Drains HTTP/2 connections past `max_lifetime` or to an address found dead (their open
    /// streams finish) and drops every spent one.
    fn drain_expired_h2(&self, st: &mut State, now: Instant) {
        if let Some(max) = self.shared.config.max_lifetime {
            for c in &st.h2 {
                if now.duration_since(c.created) >= max {
                    c.drain(CloseReason::MaxLifetime);
                }
            }
        }
        for c in &st.h2 {
            if c.address.is_dead() {
                c.drain(CloseReason::AddressDead);
            }
        }
        st.h2.retain(|c| !c.is_spent());
    }

    /// Takes a new HTTP/1.1 connection or one back from a finished exchange: to the first
    /// waiter, else to the top of the idle stack. HTTP/1.1 may take a moment after the body's
    /// end before it accepts the next request; the next user waits for that readiness (see
    /// `send`), nobody else does.
    pub(super) fn put_h1(&self, mut conn: H1Conn) {
        conn.idle_since = Instant::now();
        let mut st = self.lock();
        if st.closed {
            drop(st);
            conn.close(CloseReason::PoolDropped);
            return;
        }
        let mut item = Checkout::H1(conn);
        while let Some(w) = st.waiters.pop_front() {
            match w.send(item) {
                Ok(()) => return,
                Err(back) => item = back,
            }
        }
        item.give_back_locked(&mut st);
    }

    /// Returns an HTTP/1.1 connection after a finished exchange (closed if the server closed
    /// it meanwhile).
    pub(crate) fn checkin(&self, conn: H1Conn) {
        if conn.is_closed() {
            conn.close(CloseReason::ClosedByServer);
            return;
        }
        self.put_h1(conn);
    }

    /// Takes a new shared HTTP/2 connection into service and gives waiters its slots.
    pub(super) fn put_h2(self: &Arc<Self>, conn: H2Conn) {
        let conn = Arc::new(conn);
        let mut st = self.lock();
        if st.closed {
            drop(st);
            conn.drain(CloseReason::PoolDropped);
            return;
        }
        st.h2_slots_expected = conn.limit().max(1);
        st.h2.push(conn);
        self.serve_h2_waiters(&mut st);
    }

    /// One stream of `conn` ended (its lease dropped): the slot goes to the first waiter; a
    /// draining connection with no stream left leaves the set and closes.
    pub(crate) fn release_stream(self: &Arc<Self>, conn: &Arc<H2Conn>) {
        let mut st = self.lock();
        conn.release_slot_locked();
        if conn.is_spent() {
            st.h2.retain(|c| !Arc::ptr_eq(c, conn));
            return;
        }
        self.serve_h2_waiters(&mut st);
    }

    /// Gives waiters, first come first served, the free slots of the origin's HTTP/2
    /// connections. A lease a departed waiter leaves unclaimed goes to the next one.
    fn serve_h2_waiters(self: &Arc<Self>, st: &mut State) {
        let mut lease: Option<H2Lease> = None;
        while let Some(w) = st.waiters.pop_front() {
            if w.is_closed() {
                continue;
            }
            let Some(l) = lease
                .take()
                .or_else(|| st.h2.iter().find_map(|c| c.try_lease(self)))
            else {
                st.waiters.push_front(w);
                break;
            };
            match w.send(Checkout::H2(l)) {
                Ok(()) => {}
                Err(Checkout::H2(back)) => lease = Some(back),
                Err(other) => other.give_back_locked(st),
            }
        }
        if let Some(l) = lease {
            l.release_locked();
        }
    }

    /// The connection task of `id` ended with `ended`. An HTTP/2 connection drains (its
    /// streams still finish: the `h2` connection's task ends at a GOAWAY, its streams do not). An
    /// HTTP/1.1 connection that sat idle was closed by the server: remove it, and learn from how
    /// long it had been idle.
    pub(super) fn on_connection_ended(&self, id: u64, ended: Ended) {
        let mut st = self.lock();
        if let Some(c) = st.h2.iter().find(|c| c.id == id) {
            c.task_ended(ended);
            // An unanswered PING says the address may be gone: eject it (outside the lock).
            let silent = (ended == Ended::PingTimeout).then(|| c.address.address().clone());
            st.h2.retain(|c| !c.is_spent());
            drop(st);
            if let Some(address) = silent {
                self.shared
                    .health
                    .failed(&address, Failure::PingTimeout, Instant::now());
            }
            return;
        }
        let Some(pos) = st.idle.iter().position(|c| c.id == id) else {
            return;
        };
        let Some(conn) = st.idle.remove(pos) else {
            return;
        };
        let idle_for = Instant::now().duration_since(conn.idle_since);
        if self.shared.config.learn_idle_limit && idle_for >= MIN_LEARNABLE_IDLE {
            st.limits.observe_close(idle_for);
        }
        tracing::debug!(
            connection_id = id,
            idle_ms = idle_for.as_millis() as u64,
            "server closed an idle connection"
        );
        conn.close(match ended {
            Ended::Closed => CloseReason::ClosedByServer,
            Ended::Error | Ended::PingTimeout => CloseReason::Error,
        });
    }

    /// A request on a connection reused after `idle_for` failed as if the server had closed it
    /// (the close raced the request): learn that limit too.
    pub(crate) fn observe_race(&self, idle_for: Duration) {
        if self.shared.config.learn_idle_limit && idle_for >= MIN_LEARNABLE_IDLE {
            self.lock().limits.observe_close(idle_for);
        }
    }

    /// Records the server's `Keep-Alive: timeout`.
    pub(crate) fn announce(&self, timeout: Duration) {
        if self.shared.config.learn_idle_limit {
            let mut st = self.lock();
            if st.limits.announced.is_none_or(|a| timeout < a) {
                st.limits.announce(timeout);
            }
        }
    }

    /// Connections that take requests, open or opening: every connection holding one of the
    /// origin's permits (idle, in use, handed to a waiter, connecting, shared) but a draining
    /// HTTP/2 one. Counted from the permits, which a connection holds from its connect to its
    /// close, so one on its way between the idle stack and a caller is never missed.
    fn open_connections(&self, st: &State) -> usize {
        let held = self
            .shared
            .config
            .max_connections_per_host
            .saturating_sub(self.permits.available_permits());
        held.saturating_sub(st.h2.iter().filter(|c| c.is_draining()).count())
    }

    /// Decides, and reserves under the caller's hold of the lock, the connects that bring the
    /// origin to `target` open connections for warmth: each reserved connect holds its permit
    /// and is counted in `connecting` before the lock is released, so whoever warms at once
    /// (maintenance, [`Self::prewarm`], several of them) sees the others' connects and never
    /// opens more than `target` between them. A live shared HTTP/2 connection serves every
    /// caller: none is needed beside it. While the next connection is expected to speak
    /// HTTP/2, at most one is opened, and none while a connect is under way: its outcome
    /// says whether one connection is enough.
    fn reserve_warm_locked(&self, st: &mut State, target: usize) -> Warm {
        if st.closed || st.h2.iter().any(|c| !c.is_draining()) {
            return Warm::Done;
        }
        let mut need = target.saturating_sub(self.open_connections(st));
        if need > 0 && self.expects_h2(st) {
            if st.connecting > 0 {
                return Warm::AwaitConnect;
            }
            need = 1;
        }
        let permits: Vec<_> = (0..need)
            .map_while(|_| self.permits.clone().try_acquire_owned().ok())
            .collect();
        if permits.is_empty() {
            return Warm::Done;
        }
        st.connecting += permits.len();
        Warm::Start(permits)
    }

    /// Closes idle connections past a limit or closed by the server, drains HTTP/2 connections
    /// past their lifetime; opens connections until `min_idle` are open or connecting.
    pub(crate) fn maintain(self: &Arc<Self>, now: Instant) {
        let warm = {
            let mut st = self.lock();
            let idle_limit = st.limits.effective();
            let max_lifetime = self.shared.config.max_lifetime;
            let mut kept = VecDeque::with_capacity(st.idle.len());
            while let Some(conn) = st.idle.pop_front() {
                match expiry(&conn, now, idle_limit, max_lifetime) {
                    Some(r) => conn.close(r),
                    None => kept.push_back(conn),
                }
            }
            st.idle = kept;
            self.drain_expired_h2(&mut st, now);
            self.reserve_warm_locked(&mut st, self.shared.config.min_idle)
        };
        if let Warm::Start(permits) = warm {
            for permit in permits {
                // Detached: the connection goes to the pool.
                drop(self.spawn_counted(permit, self.shared.config.connect_timeout));
            }
        }
    }

    /// Opens connections now until `n` are open (idle, in use or shared) and waits until they
    /// are established; returns how many were established while it ran, by it or by whoever
    /// warmed the origin at once (maintenance, another prewarm): 0 for an origin already warm.
    /// Goes through the same reservation as maintenance ([`Self::reserve_warm_locked`]), looked
    /// at again after every connect that ends.
    pub(crate) async fn prewarm(self: &Arc<Self>, n: usize) -> Result<usize, Error> {
        let established = |st: &State| self.open_connections(st).saturating_sub(st.connecting);
        let at_start = established(&self.lock());
        loop {
            let ended = self.connect_ended.notified();
            tokio::pin!(ended);
            // Registered before the look, so a connect ending meanwhile is not missed.
            ended.as_mut().enable();
            let (warm, now_established, connecting) = {
                let mut st = self.lock();
                let warm = self.reserve_warm_locked(&mut st, n);
                (warm, established(&st), st.connecting)
            };
            let opened = now_established.saturating_sub(at_start);
            let permits = match warm {
                Warm::Start(permits) => permits,
                Warm::AwaitConnect => {
                    ended.await;
                    continue;
                }
                // Connects under way (maintenance's, another prewarm's) count toward `n`: wait
                // for them unless `n` are established already.
                Warm::Done if now_established < n && connecting > 0 => {
                    ended.await;
                    continue;
                }
                Warm::Done => return Ok(opened),
            };
            let handles: Vec<_> = permits
                .into_iter()
                .map(|p| self.spawn_counted(p, self.shared.config.connect_timeout))
                .collect();
            let mut first_err = None;
            for h in handles {
                let failed = match h.await {
                    Ok(Ok(())) => continue,
                    Ok(Err(e)) => e,
                    Err(e) => Error::with(crate::error::Kind::Connect, e),
                };
                first_err.get_or_insert(failed);
            }
            // A failed connect ends the prewarm: what opened is kept, nothing is retried here
            // (maintenance tries again every tick).
            if let Some(e) = first_err {
                let opened = established(&self.lock()).saturating_sub(at_start);
                return if opened == 0 { Err(e) } else { Ok(opened) };
            }
        }
    }

    pub(crate) fn stats(&self) -> OriginStats {
        let mut s = OriginStats::from_counters(self.origin.to_string(), &self.counters);
        let st = self.lock();
        let h2_free = st.h2.iter().filter(|c| c.open_streams() == 0).count();
        s.idle = st.idle.len() + h2_free;
        s.connecting = st.connecting;
        s.waiters = st.waiters.iter().filter(|w| !w.is_closed()).count();
        s.effective_idle_limit = st.limits.effective().map(|(d, _)| d);
        s.learned_idle_limit = st.limits.learned;
        s.announced_idle_limit = st.limits.announced;
        s.on_zonal_fallback = st.fallback_until.is_some_and(|u| Instant::now() < u);
        s.h2_connections = st.h2.len();
        s.h2_open_streams = st.h2.iter().map(|c| c.open_streams() as usize).sum();
        s.h2_peer_max_streams = st.h2.iter().rev().find_map(|c| c.peer.max_streams());
        s
    }

    /// Marks the origin closed, closes its idle connections and drains its HTTP/2 ones (pool
    /// dropped).
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.waiters.clear();
        for c in st.h2.drain(..) {
            c.drain(CloseReason::PoolDropped);
        }
        for conn in st.idle.drain(..) {
            conn.close(CloseReason::PoolDropped);
        }
    }
}

/// What [`OriginPool::reserve_warm_locked`] decided.
enum Warm {
    /// Enough connections are open (or no permit is free): nothing to open.
    Done,
    /// A connect expected to speak HTTP/2 is under way: its outcome decides.
    AwaitConnect,
    /// Connects reserved (counted in `connecting`), each with its permit: start them.
    Start(Vec<OwnedSemaphorePermit>),
}

/// How a connection's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// Cleanly: the server closed it, or (HTTP/2) sent GOAWAY.
    Closed,
    /// HTTP/2: a PING went unanswered for the keep-alive timeout.
    PingTimeout,
    /// A transport or protocol error.
    Error,
}

/// Why `conn` must be closed rather than used at `now`, if it must: closed by the server, to an
/// address found dead, past its lifetime, or idle past the effective idle limit (with that limit's reason).
fn expiry(
    conn: &H1Conn,
    now: Instant,
    idle_limit: Option<(Duration, CloseReason)>,
    max_lifetime: Option<Duration>,
) -> Option<CloseReason> {
    if conn.is_closed() {
        Some(CloseReason::ClosedByServer)
    } else if conn.address.is_dead() {
        Some(CloseReason::AddressDead)
    } else if max_lifetime.is_some_and(|l| now.duration_since(conn.created) >= l) {
        Some(CloseReason::MaxLifetime)
    } else {
        idle_limit
            .filter(|(limit, _)| now.duration_since(conn.idle_since) >= *limit)
            .map(|(_, reason)| reason)
    }
}
