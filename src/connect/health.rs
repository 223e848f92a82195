//! Address health: which of the addresses an endpoint name resolves to are worth a new
//! connect, shared by every origin of one pool.
//!
//! An interface VPC endpoint has one network interface per Availability Zone and its regional
//! name answers with one address per zone. When a zone is impaired its address may swallow
//! SYNs (no RST, no ICMP) while the others answer; DNS answers are cached and zonal names are
//! not failed over. So the pool keeps its own verdict per address:
//!
//! ```text
//!   healthy ──(connect timed out · refused · reset in the TLS handshake · PING unanswered)──►
//!   ejected for a backoff (EJECTION_BACKOFF_FIRST, doubling per failure in a row, at most
//!   EJECTION_BACKOFF_MAX) ──(backoff over)──► probing: tried like a healthy address
//!   probing ──(connect succeeds)──► healthy (backoff reset)
//!   probing ──(fails again)──► ejected for twice the last backoff
//! ```
//!
//! While any address of a name is not ejected, no new connect starts on an ejected one; when
//! all are ejected, all are tried, the ones whose backoff ends first first (never fail closed).
//! An address ejected while the name has another that is not ejected is also *dead*: open
//! connections to it take no new request (HTTP/2: no new stream; HTTP/1.1: an idle one is
//! closed at checkout), and the calls already on them end as they would have. An address that
//! is the only one of its names is never marked dead: its working connections are all there is.
//!
//! Connects spread over the addresses: candidates are ordered by the connections each already
//! has plus the attempts under way to it (all origins of the pool together), so that losing one
//! zone costs a share of the connections, not all of them. An address whose attempt is still
//! pending after another address won a race is *lagging*, and one whose probe after an ejection
//! is under way is *probing*: either goes after the others until that attempt ends.
//!
//! Lock rule: `AddressHealth::entries` and each `Address::state` are `std::sync::Mutex`es held
//! for a few moves, never across an `.await`; `entries` may be held while a `state` is taken,
//! never the other way round.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// How long an address is ejected after its first failure: 1 s. Long enough that the callers
/// of one burst (which all connect within milliseconds) meet the ejection instead of the dead
/// address, short enough that an address that was only briefly unreachable (a full accept
/// queue, a restart) is back almost at once.
pub(crate) const EJECTION_BACKOFF_FIRST: Duration = Duration::from_secs(1);

/// The longest ejection: 30 s. Each further failure in a row doubles the backoff up to this,
/// so a zone that stays dark costs one probe (one connect started on it, which waits at most
/// the connect attempt delay before another address is raced) per 30 s, and a zone that comes
/// back is used again within 30 s — the same bound as HTTP/2's PING-based dead-peer detection
/// with the default keep-alive (20 s + 10 s).
pub(crate) const EJECTION_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Why an address failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The TCP connect or the TLS handshake took longer than the connect timeout.
    TimedOut,
    /// The TCP connect failed (refused, unreachable).
    Refused,
    /// The connection was reset or closed during the TLS handshake.
    Reset,
    /// An HTTP/2 PING went unanswered on an open connection.
    PingTimeout,
}

impl Failure {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Failure::TimedOut => "timed_out",
            Failure::Refused => "refused",
            Failure::Reset => "reset",
            Failure::PingTimeout => "ping_timeout",
        }
    }
}

/// The addresses one pool has connected to, by address.
#[derive(Debug, Default)]
pub(crate) struct AddressHealth {
    entries: Mutex<HashMap<SocketAddr, Arc<Address>>>,
}

/// One address's health and counters.
#[derive(Debug)]
pub(crate) struct Address {
    pub(crate) addr: SocketAddr,
    state: Mutex<State>,
    /// Ejected while another address of its names was not: open connections to it take no
    /// new request.
    dead: AtomicBool,
    /// Open connections to it (all origins of the pool).
    connections: AtomicUsize,
    /// Connect attempts to it under way.
    attempts: AtomicUsize,
    /// Attempts to it still pending after another address won their race.
    lagging: AtomicUsize,
    connects: AtomicU64,
    connect_failures: AtomicU64,
    ejections: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// Failures since the last success.
    failures_in_row: u32,
    ejected_until: Option<Instant>,
    last_failure: Option<Failure>,
    /// The names (connect hosts) that resolved to it, for statistics and for "another address
    /// of its names".
    names: Vec<Arc<str>>,
}

impl AddressHealth {
    /// The addresses `host` resolved to, in the order a connect should try them at `now`:
    /// not ejected ones by load (connections + attempts under way, lagging ones last, then by
    /// `rotation`), address families interleaved (RFC 8305 §4); if every one is ejected, all
    /// of them, the soonest back first.
    pub(crate) fn plan(
        &self,
        host: &str,
        addrs: &[SocketAddr],
        rotation: usize,
        now: Instant,
    ) -> Vec<Arc<Address>> {
        let mut entries = self.lock();
        let mut all: Vec<(usize, Arc<Address>)> = Vec::with_capacity(addrs.len());
        for (i, addr) in addrs.iter().enumerate() {
            if all.iter().any(|(_, a)| a.addr == *addr) {
                continue;
            }
            let entry = entries
                .entry(*addr)
                .or_insert_with(|| Arc::new(Address::new(*addr)))
                .clone();
            {
                let mut st = entry.lock();
                if !st.names.iter().any(|n| &**n == host) {
                    st.names.push(host.into());
                }
            }
            all.push((i, entry));
        }
        drop(entries);
        let n = all.len().max(1);
        let turn = |i: usize| (i + n - rotation % n) % n;
        let (mut healthy, mut ejected): (Vec<_>, Vec<_>) = all
            .into_iter()
            .partition(|(_, a)| a.ejected_until(now).is_none());
        if healthy.is_empty() {
            ejected.sort_by_key(|(i, a)| (a.ejected_until(now), turn(*i)));
            return ejected.into_iter().map(|(_, a)| a).collect();
        }
        // Last: an address whose attempt lost a race and is still pending, or one being probed
        // after an ejection (one probe at a time: other callers do not wait on it too).
        healthy.sort_by_cached_key(|(i, a)| {
            let busy = a.attempts.load(Relaxed);
            let probing = busy > 0 && a.lock().failures_in_row > 0;
            (
                a.lagging.load(Relaxed) > 0 || probing,
                a.connections.load(Relaxed) + busy,
                turn(*i),
            )
        });
        interleave_families(healthy.into_iter().map(|(_, a)| a).collect())
    }

    /// `address` failed at `now`: it is ejected (for a backoff that doubles per ejection in a
    /// row) and, if another address of its names is not ejected, marked dead. A failure while
    /// it is already ejected (an attempt started before the ejection, ending now) is the same
    /// outage: it neither ejects again nor lengthens the backoff. Returns the backoff.
    pub(crate) fn failed(&self, address: &Address, why: Failure, now: Instant) -> Duration {
        let entries = self.lock();
        let backoff = {
            let mut st = address.lock();
            st.last_failure = Some(why);
            if let Some(until) = st.ejected_until.filter(|u| now < *u) {
                return until - now;
            }
            st.failures_in_row = st.failures_in_row.saturating_add(1);
            let doublings = st.failures_in_row.saturating_sub(1).min(16);
            let backoff = EJECTION_BACKOFF_FIRST
                .saturating_mul(1 << doublings)
                .min(EJECTION_BACKOFF_MAX);
            st.ejected_until = Some(now + backoff);
            st.last_failure = Some(why);
            backoff
        };
        address.ejections.fetch_add(1, Relaxed);
        let names = address.lock().names.clone();
        let alternative = entries.values().any(|other| {
            other.addr != address.addr && other.ejected_until(now).is_none() && {
                let st = other.lock();
                st.names.iter().any(|n| names.contains(n))
            }
        });
        drop(entries);
        if alternative {
            address.dead.store(true, Relaxed);
        }
        tracing::warn!(
            address = %address.addr,
            failure = why.as_str(),
            backoff_ms = backoff.as_millis() as u64,
            dead = alternative,
            "address ejected"
        );
        backoff
    }

    /// Every address's counters, sorted by address.
    pub(crate) fn snapshot(&self, now: Instant) -> Vec<AddressStats> {
        let entries = self.lock();
        let mut out: Vec<AddressStats> = entries.values().map(|a| a.stats(now)).collect();
        drop(entries);
        out.sort_by_key(|s| s.address);
        out
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<SocketAddr, Arc<Address>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Address {
    fn new(addr: SocketAddr) -> Self {
        Address {
            addr,
            state: Mutex::new(State::default()),
            dead: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            attempts: AtomicUsize::new(0),
            lagging: AtomicUsize::new(0),
            connects: AtomicU64::new(0),
            connect_failures: AtomicU64::new(0),
            ejections: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Until when it is ejected, if it is at `now`. An ejection found over clears `dead`: the
    /// address is probed again.
    pub(crate) fn ejected_until(&self, now: Instant) -> Option<Instant> {
        let st = self.lock();
        match st.ejected_until {
            Some(until) if now < until => Some(until),
            Some(_) => {
                self.dead.store(false, Relaxed);
                None
            }
            None => None,
        }
    }

    /// Whether open connections to it must take no new request.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Relaxed)
    }

    /// A connect to it completed: healthy again.
    pub(crate) fn succeeded(&self) {
        self.connects.fetch_add(1, Relaxed);
        let mut st = self.lock();
        st.failures_in_row = 0;
        st.ejected_until = None;
        self.dead.store(false, Relaxed);
    }

    /// Counts a failed connect attempt (the ejection is [`AddressHealth::failed`]'s).
    pub(crate) fn connect_failed(&self) {
        self.connect_failures.fetch_add(1, Relaxed);
    }

    /// An attempt to it starts; the guard ends it.
    pub(crate) fn attempt(self: &Arc<Self>) -> Attempt {
        self.attempts.fetch_add(1, Relaxed);
        Attempt {
            address: self.clone(),
            state: Arc::new(AtomicUsize::new(RUNNING)),
        }
    }

    /// A new open connection to it; the guard counts it until dropped.
    pub(crate) fn connection(self: &Arc<Self>) -> OnAddress {
        self.connections.fetch_add(1, Relaxed);
        OnAddress {
            address: self.clone(),
        }
    }

    fn stats(&self, now: Instant) -> AddressStats {
        let ejected = self.ejected_until(now).is_some();
        let st = self.lock();
        AddressStats {
            address: self.addr,
            names: st.names.iter().map(|n| n.to_string()).collect(),
            connections: self.connections.load(Relaxed),
            connects: self.connects.load(Relaxed),
            connect_failures: self.connect_failures.load(Relaxed),
            ejections: self.ejections.load(Relaxed),
            ejected,
            dead: self.is_dead(),
            last_failure: st.last_failure.map(Failure::as_str),
        }
    }
}

const RUNNING: usize = 0;
const ENDED: usize = 1;
const LOST: usize = 2;

/// One connect attempt under way to an address (counted in its load until dropped).
#[derive(Debug)]
pub(crate) struct Attempt {
    address: Arc<Address>,
    state: Arc<AtomicUsize>,
}

impl Attempt {
    /// A handle the race keeps to mark the attempt lagging if another address wins first.
    pub(crate) fn loser_mark(&self) -> LoserMark {
        LoserMark {
            address: self.address.clone(),
            state: self.state.clone(),
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.address.attempts.fetch_sub(1, Relaxed);
        if self.state.swap(ENDED, Relaxed) == LOST {
            self.address.lagging.fetch_sub(1, Relaxed);
        }
    }
}

/// See [`Attempt::loser_mark`].
#[derive(Debug)]
pub(crate) struct LoserMark {
    address: Arc<Address>,
    state: Arc<AtomicUsize>,
}

impl LoserMark {
    /// Another address won: if the attempt is still pending, its address lags until it ends.
    pub(crate) fn lost(self) {
        self.address.lagging.fetch_add(1, Relaxed);
        if self
            .state
            .compare_exchange(RUNNING, LOST, Relaxed, Relaxed)
            .is_err()
        {
            self.address.lagging.fetch_sub(1, Relaxed);
        }
    }
}

/// Held by each open connection: counts it on its address, and tells whether that address was
/// found dead.
#[derive(Debug)]
pub(crate) struct OnAddress {
    address: Arc<Address>,
}

impl OnAddress {
    /// Whether the connection's address was found dead: take no new request on it.
    pub(crate) fn is_dead(&self) -> bool {
        self.address.is_dead()
    }

    pub(crate) fn address(&self) -> &Arc<Address> {
        &self.address
    }
}

impl Drop for OnAddress {
    fn drop(&mut self) {
        self.address.connections.fetch_sub(1, Relaxed);
    }
}

/// RFC 8305 §4: after the first address, alternate families (keeping each family's order).
fn interleave_families(sorted: Vec<Arc<Address>>) -> Vec<Arc<Address>> {
    let Some(first) = sorted.first() else {
        return sorted;
    };
    let first_v4 = first.addr.is_ipv4();
    let (mut same, mut other): (Vec<_>, Vec<_>) = sorted
        .into_iter()
        .partition(|a| a.addr.is_ipv4() == first_v4);
    let mut out = Vec::with_capacity(same.len() + other.len());
    same.reverse();
    other.reverse();
    loop {
        match (same.pop(), other.pop()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// A snapshot of one address of a pool (see [`crate::pool::PoolStats::addresses`]).
///
/// Read field by field without a common lock, like [`crate::pool::OriginStats`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddressStats {
    pub(crate) address: SocketAddr,
    pub(crate) names: Vec<String>,
    pub(crate) connections: usize,
    pub(crate) connects: u64,
    pub(crate) connect_failures: u64,
    pub(crate) ejections: u64,
    pub(crate) ejected: bool,
    pub(crate) dead: bool,
    pub(crate) last_failure: Option<&'static str>,
}

impl AddressStats {
    /// The address (IP and port).
    pub fn address(&self) -> SocketAddr {
        self.address
    }
    /// The names that resolved to it: the regional endpoint name, a zonal one, or both.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Connections open to it now (all origins).
    pub fn connections(&self) -> usize {
        self.connections
    }
    /// Connect attempts to it that completed TCP and TLS (winners and losers of a race).
    pub fn connects(&self) -> u64 {
        self.connects
    }
    /// Connect attempts to it that failed (timed out, refused, reset in the handshake, TLS).
    pub fn connect_failures(&self) -> u64 {
        self.connect_failures
    }
    /// Times it was ejected (a failed connect or an unanswered HTTP/2 PING).
    pub fn ejections(&self) -> u64 {
        self.ejections
    }
    /// Whether it is ejected now: no new connect starts on it while another address is not.
    pub fn is_ejected(&self) -> bool {
        self.ejected
    }
    /// Whether its open connections take no new request now (it was ejected while another
    /// address of its names was healthy).
    pub fn is_dead(&self) -> bool {
        self.dead
    }
    /// How it last failed: `timed_out`, `refused`, `reset` or `ping_timeout`.
    pub fn last_failure(&self) -> Option<&'static str> {
        self.last_failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_while_an_address_keeps_failing_and_is_bounded() {
        let health = AddressHealth::default();
        let a = addr("10.0.0.1:443");
        let plan = health.plan("h", &[a], 0, Instant::now());
        let mut backoffs = Vec::new();
        for _ in 0..8 {
            let backoff = health.failed(&plan[0], Failure::TimedOut, Instant::now());
            backoffs.push(backoff);
            tokio::time::advance(backoff).await; // probed again, and failing again
        }
        let s = |n| Duration::from_secs(n);
        assert_eq!(
            backoffs,
            [s(1), s(2), s(4), s(8), s(16), s(30), s(30), s(30)]
        );
        assert_eq!(plan[0].ejections.load(Relaxed), 8);
        plan[0].succeeded();
        assert_eq!(
            health.failed(&plan[0], Failure::Refused, Instant::now()),
            s(1),
            "a success resets the backoff"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failures_of_attempts_started_before_an_ejection_do_not_lengthen_it() {
        let health = AddressHealth::default();
        let plan = health.plan("h", &[addr("10.0.0.1:443")], 0, Instant::now());
        let now = Instant::now();
        assert_eq!(
            health.failed(&plan[0], Failure::TimedOut, now),
            EJECTION_BACKOFF_FIRST
        );
        let soon = now + Duration::from_millis(300);
        assert_eq!(
            health.failed(&plan[0], Failure::TimedOut, soon),
            EJECTION_BACKOFF_FIRST - Duration::from_millis(300)
        );
        assert_eq!(plan[0].ejections.load(Relaxed), 1);
        assert_eq!(
            plan[0].connect_failures.load(Relaxed),
            0,
            "counted by the race"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_ejected_address_is_left_out_while_another_is_healthy_and_back_after_its_backoff() {
        let health = AddressHealth::default();
        let (a, b) = (addr("10.0.0.1:443"), addr("10.0.0.2:443"));
        let now = Instant::now();
        let plan = health.plan("h", &[a, b], 0, now);
        health.failed(&plan[0], Failure::TimedOut, now);
        assert!(plan[0].is_dead(), "another address of the name is healthy");
        let later = health.plan("h", &[a, b], 0, now);
        assert_eq!(later.iter().map(|x| x.addr).collect::<Vec<_>>(), [b]);
        let after = now + EJECTION_BACKOFF_FIRST;
        let probed = health.plan("h", &[a, b], 0, after);
        assert_eq!(probed.len(), 2, "probed again after its backoff");
        assert!(!plan[0].is_dead());
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_address_is_ejected_all_are_tried_soonest_back_first() {
        let health = AddressHealth::default();
        let (a, b) = (addr("10.0.0.1:443"), addr("10.0.0.2:443"));
        let start = Instant::now();
        let plan = health.plan("h", &[a, b], 0, start);
        health.failed(&plan[0], Failure::TimedOut, start);
        let now = start + EJECTION_BACKOFF_FIRST;
        health.failed(&plan[0], Failure::TimedOut, now); // a: 2 s from now
        health.failed(&plan[1], Failure::Refused, now); // b: 1 s from now
        assert!(!plan[1].is_dead(), "no healthy address was left");
        let order = health.plan("h", &[a, b], 0, now);
        assert_eq!(order.iter().map(|x| x.addr).collect::<Vec<_>>(), [b, a]);
    }

    #[tokio::test(start_paused = true)]
    async fn connects_go_to_the_address_with_the_fewest_connections() {
        let health = AddressHealth::default();
        let (a, b, c) = (
            addr("10.0.0.1:443"),
            addr("10.0.0.2:443"),
            addr("10.0.0.3:443"),
        );
        let now = Instant::now();
        let plan = health.plan("h", &[a, b, c], 0, now);
        let _on_a = plan[0].connection();
        let _to_b = plan[1].attempt();
        let order = health.plan("h", &[a, b, c], 0, now);
        assert_eq!(order[0].addr, c);
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_being_probed_after_an_ejection_gets_no_second_attempt_first() {
        let health = AddressHealth::default();
        let (a, b) = (addr("10.0.0.1:443"), addr("10.0.0.2:443"));
        let now = Instant::now();
        let plan = health.plan("h", &[a, b], 0, now);
        let _on_b = (0..8).map(|_| plan[1].connection()).collect::<Vec<_>>();
        health.failed(&plan[0], Failure::TimedOut, now);
        let later = now + EJECTION_BACKOFF_FIRST;
        let first = health.plan("h", &[a, b], 0, later);
        assert_eq!(first[0].addr, a, "probed: it has the fewest connections");
        let _probe = first[0].attempt();
        let next = health.plan("h", &[a, b], 0, later);
        assert_eq!(next[0].addr, b, "one probe at a time");
    }

    #[test]
    fn address_families_alternate_after_the_first() {
        let list = ["10.0.0.1:1", "10.0.0.2:1", "[fd00::1]:1", "[fd00::2]:1"]
            .map(|s| Arc::new(Address::new(addr(s))))
            .to_vec();
        let order: Vec<String> = interleave_families(list)
            .iter()
            .map(|a| a.addr.to_string())
            .collect();
        assert_eq!(
            order,
            ["10.0.0.1:1", "[fd00::1]:1", "10.0.0.2:1", "[fd00::2]:1"]
        );
    }
}
