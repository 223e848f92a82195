//! Why connections close, and counters per origin.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering, Ordering::Relaxed};
use std::time::Duration;

/// Why the pool closed a connection (or found it closed). Stable names for logs and metrics
/// come from [`CloseReason::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// Idle longer than the configured `idle_timeout`.
    IdleTimeout,
    /// Idle longer than the limit learned from connections the server closed while idle.
    LearnedIdleLimit,
    /// Idle longer than the server announced in `Keep-Alive: timeout=N`.
    AnnouncedIdleLimit,
    /// Older than `max_lifetime`.
    MaxLifetime,
    /// The server closed it (FIN or RST seen, or `Connection: close`).
    ClosedByServer,
    /// The server's `Keep-Alive: max=N` request budget was used up.
    RequestLimit,
    /// A transport or protocol error on it.
    Error,
    /// A response was dropped before its end, or the caller was cancelled mid-call.
    Abandoned,
    /// It did not become ready for another request in time.
    NotReady,
    /// The pool was dropped.
    PoolDropped,
    /// HTTP/2: the server sent GOAWAY; the connection took no new stream, its open streams
    /// finished, then it closed.
    GoAway,
    /// HTTP/2: a PING went unanswered for the keep-alive timeout (a dead or black-holed peer).
    PingTimeout,
    /// Its address was ejected while another address of the endpoint was healthy (a connect
    /// to it timed out, was refused or reset, or a PING on another connection to it went
    /// unanswered): HTTP/2 takes no new stream on it (open ones finish); an idle HTTP/1.1 one
    /// is closed at checkout.
    AddressDead,
}

/// Every reason, in the order of [`CloseReason::all`] (the counters' layout).
pub(crate) const REASONS: [CloseReason; 13] = [
    CloseReason::IdleTimeout,
    CloseReason::LearnedIdleLimit,
    CloseReason::AnnouncedIdleLimit,
    CloseReason::MaxLifetime,
    CloseReason::ClosedByServer,
    CloseReason::RequestLimit,
    CloseReason::Error,
    CloseReason::Abandoned,
    CloseReason::NotReady,
    CloseReason::PoolDropped,
    CloseReason::GoAway,
    CloseReason::PingTimeout,
    CloseReason::AddressDead,
];

impl CloseReason {
    /// Every reason, in a fixed order (reasons added later come after these). An iterator, so
    /// that adding a reason changes no type.
    pub fn all() -> impl ExactSizeIterator<Item = CloseReason> + Clone {
        REASONS.into_iter()
    }

    /// A stable snake_case name, used as the `close_reason` tracing field.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::LearnedIdleLimit => "learned_idle_limit",
            CloseReason::AnnouncedIdleLimit => "announced_idle_limit",
            CloseReason::MaxLifetime => "max_lifetime",
            CloseReason::ClosedByServer => "closed_by_server",
            CloseReason::RequestLimit => "request_limit",
            CloseReason::Error => "error",
            CloseReason::Abandoned => "abandoned",
            CloseReason::NotReady => "not_ready",
            CloseReason::PoolDropped => "pool_dropped",
            CloseReason::GoAway => "goaway",
            CloseReason::PingTimeout => "ping_timeout",
            CloseReason::AddressDead => "address_dead",
        }
    }

    fn index(self) -> usize {
        REASONS.iter().position(|r| *r == self).unwrap_or(0)
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One counter: an atomic, and with the `metrics` feature the same event sent to the
/// `metrics` facade (so the exported numbers are the ones [`OriginStats`] reports).
#[derive(Debug, Default)]
pub(crate) struct Count {
    value: AtomicU64,
    #[cfg(feature = "metrics")]
    metric: Option<metrics::Counter>,
}

impl Count {
    #[cfg(feature = "metrics")]
    fn exported(metric: metrics::Counter) -> Self {
        Count {
            value: AtomicU64::new(0),
            metric: Some(metric),
        }
    }

    pub(crate) fn load(&self, order: Ordering) -> u64 {
        self.value.load(order)
    }

    pub(crate) fn fetch_add(&self, n: u64, order: Ordering) -> u64 {
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metric {
            m.increment(n);
        }
        self.value.fetch_add(n, order)
    }

    pub(crate) fn fetch_sub(&self, n: u64, order: Ordering) -> u64 {
        self.value.fetch_sub(n, order)
    }
}

/// Lock-free counters of one origin; connections hold an `Arc` to them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) opened: Count,
    pub(crate) reused: Count,
    pub(crate) requests: Count,
    pub(crate) unsent_resends: Count,
    pub(crate) connect_failures: Count,
    /// A level, not an event count (the `in_use` gauge comes from snapshots).
    pub(crate) in_use: Count,
    closed: [AtomicU64; REASONS.len()],
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::OriginMetrics<{ REASONS.len() }>>,
}

impl Counters {
    /// Counters of `origin` (its `Display` form is the metrics' `origin` label).
    pub(crate) fn new(origin: &impl fmt::Display) -> Self {
        #[cfg(feature = "metrics")]
        {
            let m = crate::metrics::OriginMetrics::new(
                &origin.to_string(),
                REASONS.map(CloseReason::as_str),
            );
            Counters {
                opened: Count::exported(m.opened.clone()),
                reused: Count::exported(m.reused.clone()),
                requests: Count::exported(m.requests.clone()),
                unsent_resends: Count::exported(m.unsent_resends.clone()),
                connect_failures: Count::exported(m.connect_failures.clone()),
                in_use: Count::default(),
                closed: Default::default(),
                metrics: Some(m),
            }
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = origin;
            Counters::default()
        }
    }

    pub(crate) fn closed(&self, reason: CloseReason) {
        self.closed[reason.index()].fetch_add(1, Relaxed);
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.closed[reason.index()].increment(1);
        }
    }

    pub(crate) fn bump(counter: &Count) {
        counter.fetch_add(1, Relaxed);
    }

    /// A checkout that began at `since` got its connection now (the acquire-wait histogram;
    /// nothing, not even a clock read, without the `metrics` feature).
    #[inline]
    pub(crate) fn acquired(&self, since: tokio::time::Instant) {
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.acquire_wait.record(since.elapsed().as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = since;
    }
}

/// A snapshot of one origin's pool.
///
/// Counters are read one by one without a common lock, so a snapshot taken while calls run
/// may be off by the calls in flight (for instance `opened` one ahead of `idle + in_use`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OriginStats {
    pub(crate) origin: String,
    pub(crate) opened: u64,
    pub(crate) reused: u64,
    pub(crate) requests: u64,
    pub(crate) unsent_resends: u64,
    pub(crate) connect_failures: u64,
    pub(crate) closed: [u64; REASONS.len()],
    pub(crate) idle: usize,
    pub(crate) in_use: usize,
    pub(crate) connecting: usize,
    pub(crate) waiters: usize,
    pub(crate) effective_idle_limit: Option<Duration>,
    pub(crate) learned_idle_limit: Option<Duration>,
    pub(crate) announced_idle_limit: Option<Duration>,
    pub(crate) on_zonal_fallback: bool,
    pub(crate) h2_connections: usize,
    pub(crate) h2_open_streams: usize,
    pub(crate) h2_peer_max_streams: Option<u32>,
}

impl OriginStats {
    pub(crate) fn from_counters(origin: String, c: &Counters) -> Self {
        OriginStats {
            origin,
            opened: c.opened.load(Relaxed),
            reused: c.reused.load(Relaxed),
            requests: c.requests.load(Relaxed),
            unsent_resends: c.unsent_resends.load(Relaxed),
            connect_failures: c.connect_failures.load(Relaxed),
            closed: std::array::from_fn(|i| c.closed[i].load(Relaxed)),
            idle: 0,
            in_use: c.in_use.load(Relaxed) as usize,
            connecting: 0,
            waiters: 0,
            effective_idle_limit: None,
            learned_idle_limit: None,
            announced_idle_limit: None,
            on_zonal_fallback: false,
            h2_connections: 0,
            h2_open_streams: 0,
            h2_peer_max_streams: None,
        }
    }

    /// The origin: `scheme://connect-host:port` plus `sni=` when TLS names another host.
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// Connections opened.
    pub fn opened(&self) -> u64 {
        self.opened
    }
    /// Requests sent on a connection that had served one before.
    pub fn reused(&self) -> u64 {
        self.reused
    }
    /// Requests sent.
    pub fn requests(&self) -> u64 {
        self.requests
    }
    /// Requests proven unsent — handed back by a connection, or (HTTP/2) refused by the server
    /// with GOAWAY or `REFUSED_STREAM` — and sent again on another connection.
    pub fn unsent_resends(&self) -> u64 {
        self.unsent_resends
    }
    /// Connects that failed (DNS, TCP, TLS).
    pub fn connect_failures(&self) -> u64 {
        self.connect_failures
    }
    /// Connections closed for `reason`.
    pub fn closed(&self, reason: CloseReason) -> u64 {
        self.closed[reason.index()]
    }
    /// Connections closed for any reason.
    pub fn closed_total(&self) -> u64 {
        self.closed.iter().sum()
    }
    /// Idle connections now.
    pub fn idle(&self) -> usize {
        self.idle
    }
    /// Connections carrying a request now.
    pub fn in_use(&self) -> usize {
        self.in_use
    }
    /// Connects under way now.
    pub fn connecting(&self) -> usize {
        self.connecting
    }
    /// Callers waiting for a connection now.
    pub fn waiters(&self) -> usize {
        self.waiters
    }
    /// The idle limit checkout applies now: the smallest of `idle_timeout` and the learned and
    /// announced limits less their margin.
    pub fn effective_idle_limit(&self) -> Option<Duration> {
        self.effective_idle_limit
    }
    /// The shortest idle time after which the server was seen closing a connection.
    pub fn learned_idle_limit(&self) -> Option<Duration> {
        self.learned_idle_limit
    }
    /// The shortest `Keep-Alive: timeout` the server announced.
    pub fn announced_idle_limit(&self) -> Option<Duration> {
        self.announced_idle_limit
    }
    /// New connections go to the regional name because the zonal one kept failing.
    pub fn on_zonal_fallback(&self) -> bool {
        self.on_zonal_fallback
    }
    /// HTTP/2 connections that take new streams now.
    pub fn h2_connections(&self) -> usize {
        self.h2_connections
    }
    /// HTTP/2 streams open now on the connections that take new streams.
    pub fn h2_open_streams(&self) -> usize {
        self.h2_open_streams
    }
    /// The server's `SETTINGS_MAX_CONCURRENT_STREAMS` on the newest HTTP/2 connection that
    /// announced one.
    pub fn h2_peer_max_streams(&self) -> Option<u32> {
        self.h2_peer_max_streams
    }
    /// Share of requests sent on a reused connection (0 when none were sent).
    pub fn reuse_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.reused as f64 / self.requests as f64
        }
    }
}

/// A snapshot of every origin's pool; see [`OriginStats`] for the consistency caveat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    pub(crate) origins: Vec<OriginStats>,
    pub(crate) addresses: Vec<crate::connect::AddressStats>,
}

impl PoolStats {
    /// Per-origin snapshots.
    pub fn origins(&self) -> &[OriginStats] {
        &self.origins
    }
    /// Per-address snapshots, sorted by address: every address a connect of the pool was
    /// started on, with its connections, connect failures and ejections (shared by all
    /// origins that resolve to it).
    pub fn addresses(&self) -> &[crate::connect::AddressStats] {
        &self.addresses
    }
    /// Connections opened, all origins.
    pub fn opened(&self) -> u64 {
        self.origins.iter().map(|h| h.opened).sum()
    }
    /// Requests on reused connections, all origins.
    pub fn reused(&self) -> u64 {
        self.origins.iter().map(|h| h.reused).sum()
    }
    /// Requests sent, all origins.
    pub fn requests(&self) -> u64 {
        self.origins.iter().map(|h| h.requests).sum()
    }
    /// Unsent resends, all origins.
    pub fn unsent_resends(&self) -> u64 {
        self.origins.iter().map(|h| h.unsent_resends).sum()
    }
    /// Connections closed for `reason`, all origins.
    pub fn closed(&self, reason: CloseReason) -> u64 {
        self.origins.iter().map(|h| h.closed(reason)).sum()
    }
    /// Connections closed for any reason, all origins.
    pub fn closed_total(&self) -> u64 {
        self.origins.iter().map(|h| h.closed_total()).sum()
    }
    /// Idle connections now, all origins.
    pub fn idle(&self) -> usize {
        self.origins.iter().map(|h| h.idle).sum()
    }
    /// In-use connections now, all origins.
    pub fn in_use(&self) -> usize {
        self.origins.iter().map(|h| h.in_use).sum()
    }
}

#[cfg(feature = "metrics")]
impl PoolStats {
    /// Sets the `metrics` gauges (and the per-address counters) from this snapshot: the pool
    /// reports to the `metrics` module, which knows none of its types.
    pub(crate) fn publish(&self) {
        for h in &self.origins {
            crate::metrics::set_origin_gauges(&crate::metrics::OriginGauges {
                origin: &h.origin,
                open: h.opened.saturating_sub(h.closed_total()),
                idle: h.idle,
                in_use: h.in_use,
                connecting: h.connecting,
                waiters: h.waiters,
                learned_idle_limit: h.learned_idle_limit,
                effective_idle_limit: h.effective_idle_limit,
            });
        }
        for a in &self.addresses {
            crate::metrics::set_address_gauges(crate::metrics::AddressGauges {
                address: a.address().to_string(),
                connections: a.connections(),
                ejected: a.is_ejected(),
                connect_failures: a.connect_failures(),
                ejections: a.ejections(),
            });
        }
    }
}
