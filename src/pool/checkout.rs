//! Getting a connection: what a checkout hands out, the waiter queue, sharing a connect, and
//! the guard that holds a checkout while a request uses it.
//!
//! A checkout is either an exclusive HTTP/1.1 connection ([`Checkout::H1`]) or one stream slot
//! on a shared HTTP/2 connection ([`Checkout::H2`]) — hyper-util's `Reservation::{Unique,
//! Shared}`. A caller that finds neither joins the FIFO of waiters and, unless a connect under
//! way will serve it, takes a connection permit and starts a connect in its own task; whichever
//! comes first serves it.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, OwnedSemaphorePermit};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::config::SPREAD_RETRY_AFTER;
use super::establish::Established;
use super::h1::H1Conn;
use super::h2::H2Lease;
use super::origin_pool::{OriginPool, State};
use super::stats::CloseReason;
use crate::error::{Error, Kind};

/// What a checkout gives a request.
pub(crate) enum Checkout {
    /// An HTTP/1.1 connection of its own, returned to the idle stack after the exchange.
    H1(H1Conn),
    /// A stream slot on a shared HTTP/2 connection, freed when the response ends.
    H2(H2Lease),
}

impl Checkout {
    /// Puts back what no waiter took, under the origin's state lock.
    pub(super) fn give_back_locked(self, st: &mut State) {
        match self {
            Checkout::H1(conn) => st.idle.push_back(conn),
            Checkout::H2(lease) => lease.release_locked(),
        }
    }
}

impl OriginPool {
    /// Gets a connection or a stream slot: one free now, else one handed over by a returning
    /// call or a finished connect, whichever comes first. A connect started for this caller
    /// finishes in the background if the caller leaves or is served first, and its connection
    /// goes to the next waiter or the pool.
    pub(crate) async fn checkout(
        self: &Arc<Self>,
        connect_timeout: Duration,
    ) -> Result<Checkout, Error> {
        let rx = {
            let mut st = self.lock();
            if let Some(c) = self.take_idle(&mut st, Instant::now()) {
                return Ok(c);
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
            pool: self.clone(),
        };
        let mut connect: Option<JoinHandle<Result<(), Error>>> = None;
        let offers_h2 = self.offers_h2();
        loop {
            let ended = self.connect_ended.notified();
            tokio::pin!(ended);
            // Only with HTTP/2 offered may a caller wait for another's connect (an HTTP/1.1
            // pool skips the registration and the lock).
            let defer = offers_h2 && connect.is_none() && {
                // Registered before the check, so a connect ending meanwhile is not missed.
                ended.as_mut().enable();
                self.shares_connect(&self.lock())
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
                // A connect ended. Had it opened HTTP/2 with a slot for this caller, the lease
                // would be in `waiter.rx` (polled first); otherwise look again: another connect
                // may still serve this caller, or it connects itself.
                _ = ended, if defer => {}
                permit = self.permits.clone().acquire_owned(), if connect.is_none() && !defer => {
                    let permit = permit.map_err(|_| Error::new(Kind::PoolClosed))?;
                    // `None`: another caller's connect started meanwhile; wait for it.
                    connect = self.spawn_connect_unless_shared(permit, connect_timeout);
                }
            }
        }
    }

    /// With HTTP/2 offered, a caller that finds a connect under way waits for it instead of
    /// starting another, as long as the connects under way are expected to bring a slot for
    /// every waiter and the origin did not last answer with HTTP/1.1: a cold burst opens one
    /// connection per stream limit, not one per caller.
    fn shares_connect(&self, st: &State) -> bool {
        self.expects_h2(st)
            && st.connecting > 0
            && st.waiters.len() <= st.connecting * st.h2_slots_expected as usize
    }

    /// Starts a connect for a caller unless, by [`Self::shares_connect`], one under way serves
    /// it: checked and counted under one lock, so that of callers racing on several threads
    /// only as many connect as are needed.
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

    /// Opens one more shared HTTP/2 connection in the background, for a caller that took a
    /// stream slot when every connection in service already carried one, while fewer than
    /// `h2_spread` are in service (see [`super::PoolBuilder::h2_connections`]). Never beyond
    /// `max_connections_per_host` (no permit free: nothing is opened), one connect at a time,
    /// and none for [`SPREAD_RETRY_AFTER`] after a connect to the origin failed.
    pub(super) fn spread_locked(self: &Arc<Self>, st: &mut State, now: Instant) {
        if st.closed
            || st.connecting > 0
            || st.spread_retry_at.is_some_and(|at| now < at)
            || st.h2.iter().filter(|c| !c.is_draining()).count() >= self.h2_spread
            || tokio::runtime::Handle::try_current().is_err()
        {
            return;
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return;
        };
        st.connecting += 1;
        // Detached: the connection goes to the pool; a failure sets `spread_retry_at`.
        drop(self.spawn_counted(permit, self.shared.config.connect_timeout));
    }

    /// Runs a connect already counted in `connecting`.
    pub(super) fn spawn_counted(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        timeout: Duration,
    ) -> JoinHandle<Result<(), Error>> {
        let pool = self.clone();
        tokio::spawn(async move {
            // Put in service before `connecting` drops, so that a caller always finds the
            // connection or a connect under way.
            let (res, h2) = match pool.open(permit, timeout).await {
                Ok(Established::H1(conn)) => {
                    pool.put_h1(conn);
                    (Ok(()), Some(false))
                }
                Ok(Established::H2(conn)) => {
                    pool.put_h2(conn);
                    (Ok(()), Some(true))
                }
                Err(e) => (Err(e), None),
            };
            {
                let mut st = pool.lock();
                st.connecting -= 1;
                st.last_h2 = h2.or(st.last_h2);
                if res.is_err() {
                    st.spread_retry_at = Some(Instant::now() + SPREAD_RETRY_AFTER);
                }
            }
            pool.connect_ended.notify_waiters();
            res
        })
    }
}

/// A caller's place in the waiter queue. Dropping it (the caller gave up or was cancelled)
/// returns what was handed over but never taken.
struct Waiter {
    rx: oneshot::Receiver<Checkout>,
    pool: Arc<OriginPool>,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.rx.close();
        match self.rx.try_recv() {
            Ok(Checkout::H1(conn)) => self.pool.put_h1(conn),
            // Dropping the lease frees its slot for the next waiter (not under the lock here).
            Ok(Checkout::H2(lease)) => drop(lease),
            Err(_) => {}
        }
    }
}

/// A checkout in use by one request. Dropping it without [`InUse::release`] closes an
/// HTTP/1.1 connection (an exchange cut short leaves it in an unknown state) and frees an
/// HTTP/2 stream slot (`h2` resets the stream).
pub(crate) struct InUse {
    checkout: Option<Checkout>,
    pool: Arc<OriginPool>,
}

impl InUse {
    pub(crate) fn new(checkout: Checkout, pool: Arc<OriginPool>) -> Self {
        pool.counters.in_use.fetch_add(1, Relaxed);
        InUse {
            checkout: Some(checkout),
            pool,
        }
    }

    pub(crate) fn checkout(&mut self) -> &mut Checkout {
        self.checkout
            .as_mut()
            .expect("an InUse holds its checkout until released")
    }

    /// The exchange finished cleanly: an HTTP/1.1 connection goes back to the pool (or closes
    /// if the server asked to, or its request budget is used up); an HTTP/2 slot is freed.
    pub(crate) fn release(mut self, server_keeps_open: bool) {
        match self.take() {
            Some(Checkout::H1(conn)) => {
                if !server_keeps_open {
                    conn.close(CloseReason::ClosedByServer);
                } else if conn.remaining == Some(0) {
                    conn.close(CloseReason::RequestLimit);
                } else {
                    self.pool.checkin(conn);
                }
            }
            Some(Checkout::H2(lease)) => drop(lease),
            None => {}
        }
    }

    /// Ends the exchange for `reason`: closes an HTTP/1.1 connection; frees an HTTP/2 stream
    /// slot (the shared connection stays unless its task ended).
    pub(crate) fn discard(mut self, reason: CloseReason) {
        if let Some(Checkout::H1(conn)) = self.take() {
            conn.close(reason);
        }
    }

    fn take(&mut self) -> Option<Checkout> {
        let c = self.checkout.take();
        if c.is_some() {
            self.pool.counters.in_use.fetch_sub(1, Relaxed);
        }
        c
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        if let Some(Checkout::H1(conn)) = self.take() {
            conn.close(CloseReason::Abandoned);
        }
    }
}
