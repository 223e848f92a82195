//! One origin's connections: the idle stack, the waiter queue, connects, learned limits.
//!
//! Lock rule: `Host::state` is a `std::sync::Mutex` held only for a few pointer moves; it is
//! never held across an `.await`, and no other pool lock is taken while it is held. Dropping a
//! [`Conn`] under it is allowed (a `Conn`'s `Drop` touches only atomics and the semaphore).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::config::{
    H2_KEEPALIVE_INTERVAL, H2_KEEPALIVE_TIMEOUT, ZONAL_FAILURES_BEFORE_FALLBACK,
    ZONAL_FALLBACK_COOLDOWN,
};
use super::conn::{Conn, Tx};
use super::keep_alive::IdleLimits;
use super::stats::{CloseReason, Counters, HostStats};
use super::{Origin, Shared};
use crate::error::{Error, Kind};

/// Closes seen after less idle time than this are taken as the server going away (a deploy,
/// a restart), not as its idle policy, and do not lower the learned limit.
pub(crate) const MIN_LEARNABLE_IDLE: Duration = Duration::from_millis(500);

pub(crate) struct Host {
    pub(crate) origin: Origin,
    pub(crate) counters: Arc<Counters>,
    pub(crate) host_header: http::HeaderValue,
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    state: Mutex<State>,
    rotation: AtomicUsize,
    /// Woken when a connect ends, for callers that waited on it instead of starting their own.
    connect_ended: Notify,
}

struct State {
    /// Idle connections, least recently used at the front, most recently used at the back.
    idle: VecDeque<Conn>,
    /// Callers waiting for a connection, first come first served.
    waiters: VecDeque<oneshot::Sender<Conn>>,
    /// The shared HTTP/2 connection, when ALPN chose HTTP/2; leased to every request.
    h2: Option<Conn>,
    limits: IdleLimits,
    connecting: usize,
    /// Whether the origin's last new connection negotiated HTTP/2 (`None`: none yet).
    last_h2: Option<bool>,
    zonal_failures: u32,
    fallback_until: Option<Instant>,
    closed: bool,
}

impl Host {
    pub(crate) fn new(origin: Origin, host_header: http::HeaderValue, shared: Arc<Shared>) -> Self {
        let limits = IdleLimits {
            configured: shared.config.idle_timeout,
            ..IdleLimits::default()
        };
        Host {
            permits: Arc::new(Semaphore::new(shared.config.max_connections_per_host)),
            counters: Arc::new(Counters::new(&origin)),
            origin,
            host_header,
            state: Mutex::new(State {
                idle: VecDeque::new(),
                waiters: VecDeque::new(),
                h2: None,
                limits,
                connecting: 0,
                last_h2: None,
                zonal_failures: 0,
                fallback_until: None,
                closed: false,
            }),
            rotation: AtomicUsize::new(0),
            connect_ended: Notify::new(),
            shared,
        }
    }

    pub(crate) fn shared_config(&self) -> &super::PoolConfig {
        &self.shared.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state torn (every critical section
        // is a few infallible moves), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recently used idle connection that is still usable at `now`, without waiting:
    /// the fast path of every request on a warm pool (one lock, no future, no timer).
    pub(crate) fn try_idle(&self, now: Instant) -> Option<Conn> {
        let mut st = self.lock();
        self.take_idle(&mut st, now)
    }

    /// Gets a connection: the most recently used idle one that is still usable, else one handed
    /// over by a returning call or a finished connect, whichever comes first. A connect started
    /// for this caller finishes in the background if the caller leaves or is served first, and
    /// its connection goes to the next waiter or the idle stack.
    pub(crate) async fn checkout(
        self: &Arc<Self>,
        connect_timeout: Duration,
    ) -> Result<Conn, Error> {
        let rx = {
            let mut st = self.lock();
            if let Some(conn) = self.take_idle(&mut st, Instant::now()) {
                return Ok(conn);
            }
            if st.closed {
                return Err(Error::new(Kind::PoolClosed));
            }
            if st.waiters.len() >= self.shared.config.max_waiters_per_host {
                st.waiters.retain(|w| !w.is_closed());
                if st.waiters.len() >= self.shared.config.max_waiters_per_host {
                    return Err(Error::new(Kind::PoolExhausted));
                }
            }
            let (tx, rx) = oneshot::channel();
            st.waiters.push_back(tx);
            rx
        };
        let mut waiter = Waiter {
            rx,
            host: self.clone(),
        };
        let mut connect: Option<JoinHandle<Result<(), Error>>> = None;
        let mut deferred = false;
        let offers_h2 = self.offers_h2();
        loop {
            let ended = self.connect_ended.notified();
            tokio::pin!(ended);
            // Only with HTTP/2 offered may a caller wait for another's connect (an HTTP/1.1
            // pool skips the registration and the lock).
            let defer = offers_h2 && connect.is_none() && !deferred && {
                // Registered before the check, so a connect ending meanwhile is not missed.
                ended.as_mut().enable();
                self.may_share_a_connect()
            };
            tokio::select! {
                biased;
                got = &mut waiter.rx => {
                    return got.map_err(|_| Error::new(Kind::PoolClosed));
                }
                done = async { connect.as_mut().expect("guarded by is_some").await }, if connect.is_some() => {
                    connect = None;
                    match done {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return Err(e),
                        Err(join) => return Err(Error::with(Kind::Connect, join)),
                    }
                }
                // A connect ended. Had it opened HTTP/2, its lease would be in `waiter.rx`
                // (polled first); after HTTP/1.1 or a failure, this caller connects itself.
                _ = ended, if defer => deferred = true,
                permit = self.permits.clone().acquire_owned(), if connect.is_none() && !defer => {
                    let permit = permit.map_err(|_| Error::new(Kind::PoolClosed))?;
                    connect = if deferred {
                        Some(self.spawn_connect(permit, connect_timeout))
                    } else {
                        // `None`: another caller's connect started meanwhile; wait for it.
                        self.spawn_connect_unless_shared(permit, connect_timeout)
                    };
                }
            }
        }
    }

    /// With HTTP/2 offered, a caller that finds a connect under way waits for it instead of
    /// starting another, unless the origin last answered with HTTP/1.1: an `h2` connection
    /// serves every waiter, so a cold burst opens one connection, not one per caller of which
    /// all but one would be closed as surplus.
    fn may_share_a_connect(&self) -> bool {
        self.shares_connect(&self.lock())
    }

    fn shares_connect(&self, st: &State) -> bool {
        self.offers_h2() && st.connecting > 0 && st.last_h2 != Some(false)
    }

    /// Whether this origin's connections offer `h2` in ALPN (HTTP/2 on, over TLS).
    fn offers_h2(&self) -> bool {
        self.shared.config.tls.protocol != super::Protocol::Http1 && self.origin.is_https()
    }

    /// Pops idle connections, most recent first, closing (never sending on) each that is closed,
    /// idle past the effective limit, or past its lifetime. (Readiness is awaited by `send`.)
    fn take_idle(&self, st: &mut State, now: Instant) -> Option<Conn> {
        let max_lifetime = self.shared.config.max_lifetime;
        if let Some(mut h2) = st.h2.take() {
            // Idle limits do not apply to a shared HTTP/2 connection: PINGs keep it alive.
            let reason = expiry(&h2, now, None, max_lifetime);
            match reason {
                Some(r) => h2.close(r),
                None => {
                    let lease = h2.lease();
                    st.h2 = Some(h2);
                    if lease.is_some() {
                        return lease;
                    }
                }
            }
        }
        let idle_limit = st.limits.effective();
        while let Some(conn) = st.idle.pop_back() {
            let reason = expiry(&conn, now, idle_limit, max_lifetime);
            match reason {
                None => return Some(conn),
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

    fn spawn_connect(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        timeout: Duration,
    ) -> JoinHandle<Result<(), Error>> {
        self.lock().connecting += 1;
        self.spawn_counted(permit, timeout)
    }

    /// Starts a connect for a caller unless, by [`Self::may_share_a_connect`], one under way
    /// serves it: checked and counted under one lock, so that of callers racing on several
    /// threads only one connects.
    fn spawn_connect_unless_shared(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        timeout: Duration,
    ) -> Option<JoinHandle<Result<(), Error>>> {
        {
            let mut st = self.lock();
            if self.shares_connect(&st) {
                return None;
            }
            st.connecting += 1;
        }
        Some(self.spawn_counted(permit, timeout))
    }

    /// Runs a connect already counted in `connecting`.
    fn spawn_counted(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        timeout: Duration,
    ) -> JoinHandle<Result<(), Error>> {
        let host = self.clone();
        tokio::spawn(async move {
            let (res, h2) = match host.open(permit, timeout).await {
                Ok(conn) => {
                    let h2 = conn.tx.is_h2();
                    // Checked in before `connecting` drops, so that a caller always finds the
                    // connection or a connect under way.
                    Host::checkin(&host, conn);
                    (Ok(()), Some(h2))
                }
                Err(e) => (Err(e), None),
            };
            {
                let mut st = host.lock();
                st.connecting -= 1;
                st.last_h2 = h2.or(st.last_h2);
            }
            host.connect_ended.notify_waiters();
            res
        })
    }

    /// Opens a connection with `permit`: zonal name first — a failure there tries the regional
    /// name at once, and after [`ZONAL_FAILURES_BEFORE_FALLBACK`] in a row the regional name is
    /// used alone for [`ZONAL_FALLBACK_COOLDOWN`] — then every resolved address in rotation,
    /// TLS, and the HTTP handshake.
    async fn open(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        timeout: Duration,
    ) -> Result<Conn, Error> {
        let rotation = self.rotation.fetch_add(1, Relaxed);
        let connector = &self.shared.connector;
        let use_fallback = self.origin.fallback.is_some() && self.on_fallback(Instant::now());
        let name = if use_fallback {
            self.origin.fallback.as_deref().unwrap_or(&self.origin.host)
        } else {
            &self.origin.host
        };
        let opened = match connector.dial(&self.origin, name, rotation, timeout).await {
            Ok(o) => {
                if !use_fallback {
                    self.lock().zonal_failures = 0;
                }
                o
            }
            Err(e) => {
                Counters::bump(&self.counters.connect_failures);
                let fallback = match &self.origin.fallback {
                    Some(f) if !use_fallback => f.clone(),
                    _ => return Err(e),
                };
                // This request was never sent: try the regional name for it at once. After
                // enough consecutive zonal failures, new connections skip the zonal name for a
                // cool-down.
                if self.zonal_failed(Instant::now()) {
                    tracing::warn!(zonal = %self.origin.host, regional = %fallback, "zonal endpoint keeps failing; using the regional name for a while");
                }
                connector
                    .dial(&self.origin, &fallback, rotation, timeout)
                    .await
                    .inspect_err(|_| {
                        Counters::bump(&self.counters.connect_failures);
                    })?
            }
        };
        let remote = opened.remote;
        let probe = opened.probe;
        let id = self.shared.next_id.fetch_add(1, Relaxed);
        let weak: Weak<Host> = Arc::downgrade(self);
        let io = TokioIo::new(opened.stream);
        let tx = if opened.h2 {
            let (tx, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .keep_alive_interval(H2_KEEPALIVE_INTERVAL)
                .keep_alive_timeout(H2_KEEPALIVE_TIMEOUT)
                .keep_alive_while_idle(true)
                .handshake(io)
                .await
                .map_err(|e| Error::with(Kind::Connect, e))?;
            drive(connection, weak, id);
            Tx::H2(tx)
        } else {
            let (tx, connection) = hyper::client::conn::http1::Builder::new()
                .handshake(io)
                .await
                .map_err(|e| Error::with(Kind::Connect, e))?;
            drive(connection, weak, id);
            Tx::H1(tx)
        };
        Counters::bump(&self.counters.opened);
        tracing::debug!(connection_id = id, remote = %remote, http2 = tx.is_h2(), "connection opened");
        let now = Instant::now();
        Ok(Conn {
            id,
            tx,
            remote,
            probe,
            created: now,
            idle_since: now,
            requests: 0,
            remaining: None,
            close_reason: None,
            counters: self.counters.clone(),
            permit: Some(permit),
        })
    }

    fn on_fallback(&self, now: Instant) -> bool {
        let mut st = self.lock();
        match st.fallback_until {
            Some(until) if now < until => true,
            Some(_) => {
                st.fallback_until = None;
                false
            }
            None => false,
        }
    }

    /// Counts a zonal connect failure; true when the fallback starts now.
    fn zonal_failed(&self, now: Instant) -> bool {
        let mut st = self.lock();
        st.zonal_failures += 1;
        if st.zonal_failures >= ZONAL_FAILURES_BEFORE_FALLBACK {
            st.zonal_failures = 0;
            st.fallback_until = Some(now + ZONAL_FALLBACK_COOLDOWN);
            true
        } else {
            false
        }
    }

    /// Returns a connection after a finished exchange: to the first waiter, else to the top of
    /// the idle stack. HTTP/1.1 may take a moment after the body's end before it accepts the
    /// next request; the next user waits for that readiness (see `send`), nobody else does.
    pub(crate) fn checkin(this: &Arc<Self>, conn: Conn) {
        if conn.is_lease() {
            return;
        }
        if conn.tx.is_closed() {
            conn.close(CloseReason::ClosedByServer);
            return;
        }
        this.put(conn);
    }

    fn put(&self, mut conn: Conn) {
        conn.idle_since = Instant::now();
        let mut st = self.lock();
        if st.closed {
            drop(st);
            conn.close(CloseReason::PoolDropped);
            return;
        }
        if conn.tx.is_h2() {
            match st.h2.as_ref() {
                Some(shared) if !shared.tx.is_closed() => {
                    drop(st);
                    conn.close(CloseReason::Surplus);
                    return;
                }
                _ => st.h2 = Some(conn),
            }
            // HTTP/2 multiplexes: every waiter gets a lease at once.
            while let Some(w) = st.waiters.pop_front() {
                if let Some(lease) = st.h2.as_mut().and_then(Conn::lease) {
                    let _ = w.send(lease);
                }
            }
            return;
        }
        while let Some(w) = st.waiters.pop_front() {
            match w.send(conn) {
                Ok(()) => return,
                Err(back) => conn = back,
            }
        }
        st.idle.push_back(conn);
    }

    /// The connection task of `id` ended. If the connection sat idle in the pool, the server
    /// closed it: remove it, and learn from how long it had been idle.
    fn on_connection_ended(&self, id: u64, errored: bool) {
        let mut st = self.lock();
        if st.h2.as_ref().is_some_and(|c| c.id == id) {
            if let Some(c) = st.h2.take() {
                c.close(if errored {
                    CloseReason::Error
                } else {
                    CloseReason::ClosedByServer
                });
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
        conn.close(if errored {
            CloseReason::Error
        } else {
            CloseReason::ClosedByServer
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

    /// Closes idle connections past a limit or closed by the server; opens connections until
    /// `min_idle` are idle or connecting.
    pub(crate) fn maintain(self: &Arc<Self>, now: Instant) {
        let need = {
            let mut st = self.lock();
            let idle_limit = st.limits.effective();
            let max_lifetime = self.shared.config.max_lifetime;
            let mut kept = VecDeque::with_capacity(st.idle.len());
            while let Some(conn) = st.idle.pop_front() {
                let reason = expiry(&conn, now, idle_limit, max_lifetime);
                match reason {
                    Some(r) => conn.close(r),
                    None => kept.push_back(conn),
                }
            }
            st.idle = kept;
            if let Some(h2) = st.h2.take() {
                match expiry(&h2, now, None, max_lifetime) {
                    Some(reason) => h2.close(reason),
                    None => {
                        st.h2 = Some(h2);
                        return;
                    }
                }
            }
            // Connections in use count too: they are idle again as soon as their call ends, and
            // opening more while every connection is busy would only overshoot.
            let open = st.idle.len() + st.connecting + self.counters.in_use.load(Relaxed) as usize;
            self.shared.config.min_idle.saturating_sub(open)
        };
        for _ in 0..need {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                break;
            };
            let handle = self.spawn_connect(permit, self.shared.config.connect_timeout);
            drop(handle);
        }
    }

    /// Opens connections now until `n` are open (idle, connecting or in use) and waits for
    /// them; returns how many it opened.
    pub(crate) async fn prewarm(self: &Arc<Self>, n: usize) -> Result<usize, Error> {
        let open = {
            let st = self.lock();
            st.idle.len()
                + usize::from(st.h2.is_some())
                + st.connecting
                + self.counters.in_use.load(Relaxed) as usize
        };
        let need = n.saturating_sub(open);
        let mut handles = Vec::with_capacity(need);
        for _ in 0..need {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                break;
            };
            handles.push(self.spawn_connect(permit, self.shared.config.connect_timeout));
        }
        let mut opened = 0;
        let mut first_err = None;
        for h in handles {
            match h.await {
                Ok(Ok(())) => opened += 1,
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => {
                    first_err.get_or_insert(Error::with(Kind::Connect, e));
                }
            }
        }
        match (opened, first_err) {
            (0, Some(e)) => Err(e),
            _ => Ok(opened),
        }
    }

    pub(crate) fn stats(&self) -> HostStats {
        let mut s = HostStats::from_counters(self.origin.to_string(), &self.counters);
        let st = self.lock();
        s.idle = st.idle.len() + usize::from(st.h2.is_some());
        s.connecting = st.connecting;
        s.waiters = st.waiters.iter().filter(|w| !w.is_closed()).count();
        s.effective_idle_limit = st.limits.effective().map(|(d, _)| d);
        s.learned_idle_limit = st.limits.learned;
        s.announced_idle_limit = st.limits.announced;
        s.on_zonal_fallback = st.fallback_until.is_some_and(|u| Instant::now() < u);
        s
    }

    /// Marks the host closed and closes its idle connections (pool dropped).
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.waiters.clear();
        if let Some(h2) = st.h2.take() {
            h2.close(CloseReason::PoolDropped);
        }
        for conn in st.idle.drain(..) {
            conn.close(CloseReason::PoolDropped);
        }
    }
}

/// Runs hyper's connection future `id` in its own task; when it ends, tells the host (if the
/// pool is still there) so an idle connection the server closed is removed and learned from.
fn drive(
    connection: impl Future<Output = hyper::Result<()>> + Send + 'static,
    host: Weak<Host>,
    id: u64,
) {
    tokio::spawn(async move {
        let res = connection.await;
        if let Some(host) = host.upgrade() {
            host.on_connection_ended(id, res.is_err());
        }
    });
}

/// Why `conn` must be closed rather than used at `now`, if it must: closed by the server, past
/// its lifetime, or idle past the effective idle limit (with that limit's reason).
fn expiry(
    conn: &Conn,
    now: Instant,
    idle_limit: Option<(Duration, CloseReason)>,
    max_lifetime: Option<Duration>,
) -> Option<CloseReason> {
    if conn.tx.is_closed() {
        Some(CloseReason::ClosedByServer)
    } else if max_lifetime.is_some_and(|l| now.duration_since(conn.created) >= l) {
        Some(CloseReason::MaxLifetime)
    } else {
        idle_limit
            .filter(|(limit, _)| now.duration_since(conn.idle_since) >= *limit)
            .map(|(_, reason)| reason)
    }
}

/// A caller's place in the waiter queue. Dropping it (the caller gave up or was cancelled)
/// returns a connection that was handed over but never taken.
struct Waiter {
    rx: oneshot::Receiver<Conn>,
    host: Arc<Host>,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.rx.close();
        if let Ok(conn) = self.rx.try_recv() {
            self.host.put(conn);
        }
    }
}
