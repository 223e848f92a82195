//! The pool's state and events and every call's verdict through the [`metrics`] facade
//! (feature `metrics`, off by default): install any recorder (Prometheus, StatsD,
//! OpenTelemetry) **before** building the client, and these appear there.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `lambda_vpce_pool_connections_open` | gauge | `origin` | connections open (opened − closed) |
//! | `lambda_vpce_pool_connections_idle` | gauge | `origin` | idle in the pool ([`OriginStats::idle`](crate::pool::OriginStats::idle)) |
//! | `lambda_vpce_pool_connections_in_use` | gauge | `origin` | carrying a request ([`OriginStats::in_use`](crate::pool::OriginStats::in_use)) |
//! | `lambda_vpce_pool_connections_connecting` | gauge | `origin` | connects under way |
//! | `lambda_vpce_pool_waiters` | gauge | `origin` | callers waiting for a connection |
//! | `lambda_vpce_pool_learned_idle_limit_seconds` | gauge | `origin` | the learned idle limit (set once learned) |
//! | `lambda_vpce_pool_effective_idle_limit_seconds` | gauge | `origin` | the idle limit checkout applies |
//! | `lambda_vpce_pool_connections_opened_total` | counter | `origin` | connections opened |
//! | `lambda_vpce_pool_connections_closed_total` | counter | `origin`, `reason` | closes by [`CloseReason::as_str`](crate::pool::CloseReason::as_str) |
//! | `lambda_vpce_pool_requests_total` | counter | `origin` | requests sent |
//! | `lambda_vpce_pool_requests_reused_total` | counter | `origin` | requests on a reused connection |
//! | `lambda_vpce_pool_unsent_resends_total` | counter | `origin` | requests handed back unsent and resent |
//! | `lambda_vpce_pool_connect_failures_total` | counter | `origin` | connects that failed (DNS, TCP, TLS) |
//! | `lambda_vpce_pool_acquire_wait_seconds` | histogram | `origin` | time from checkout to a connection, per request (≈ 0 on the warm fast path) |
//! | `lambda_vpce_pool_address_connections` | gauge | `address` | connections open to one endpoint address ([`AddressStats::connections`](crate::pool::AddressStats::connections)), all origins |
//! | `lambda_vpce_pool_address_ejected` | gauge | `address` | 1 while the address is ejected, else 0 |
//! | `lambda_vpce_pool_address_connect_failures_total` | counter | `address` | connect attempts to the address that failed |
//! | `lambda_vpce_pool_address_ejections_total` | counter | `address` | times the address was ejected |
//! | `lambda_vpce_calls_total` | counter | `path`, `verdict` | calls by outcome: `path` = `sdk` / `lean`, `verdict` = `ok` / `not_sent` / `maybe_executed` / `service` / `invalid_input` |
//!
//! Counters move as events happen (from the pool's own counters, so they equal
//! [`Pool::stats`](crate::Pool::stats)); gauges are set from a
//! [`PoolStats`](crate::pool::PoolStats) snapshot on every maintenance tick (see the
//! [`pool`](crate::pool) module's "Background work") and on every `Pool::stats()` call. Labels
//! never carry a credential, a payload, a function name or a request id: `origin` is
//! `scheme://host:port` (plus `sni=` when TLS names another host), so the cardinality is
//! origins × 13 close reasons + 2 paths × 5 verdicts + 4 per endpoint address (`address` is
//! `ip:port`, one per Availability Zone of an interface endpoint). The per-address series are
//! set from snapshots like the gauges (the counters with their absolute value). The function
//! name is deliberately not a label: ARNs with versions and aliases grow without bound and
//! carry the account id; count per function in your own code if you need it.
//!
//! Inside the crate this module is a sink: the pool, the lean path and the SDK adapter report
//! to it with plain values (an origin's label, its close reasons' names, a snapshot's numbers);
//! it knows none of their types.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};

/// The pool's metric names (see the module table).
pub(crate) mod names {
    pub(crate) const OPEN: &str = "lambda_vpce_pool_connections_open";
    pub(crate) const IDLE: &str = "lambda_vpce_pool_connections_idle";
    pub(crate) const IN_USE: &str = "lambda_vpce_pool_connections_in_use";
    pub(crate) const CONNECTING: &str = "lambda_vpce_pool_connections_connecting";
    pub(crate) const WAITERS: &str = "lambda_vpce_pool_waiters";
    pub(crate) const LEARNED_IDLE: &str = "lambda_vpce_pool_learned_idle_limit_seconds";
    pub(crate) const EFFECTIVE_IDLE: &str = "lambda_vpce_pool_effective_idle_limit_seconds";
    pub(crate) const OPENED: &str = "lambda_vpce_pool_connections_opened_total";
    pub(crate) const CLOSED: &str = "lambda_vpce_pool_connections_closed_total";
    pub(crate) const REQUESTS: &str = "lambda_vpce_pool_requests_total";
    pub(crate) const REUSED: &str = "lambda_vpce_pool_requests_reused_total";
    pub(crate) const UNSENT_RESENDS: &str = "lambda_vpce_pool_unsent_resends_total";
    pub(crate) const CONNECT_FAILURES: &str = "lambda_vpce_pool_connect_failures_total";
    pub(crate) const ACQUIRE_WAIT: &str = "lambda_vpce_pool_acquire_wait_seconds";
    pub(crate) const CALLS: &str = "lambda_vpce_calls_total";
    pub(crate) const ADDRESS_CONNECTIONS: &str = "lambda_vpce_pool_address_connections";
    pub(crate) const ADDRESS_EJECTED: &str = "lambda_vpce_pool_address_ejected";
    pub(crate) const ADDRESS_CONNECT_FAILURES: &str =
        "lambda_vpce_pool_address_connect_failures_total";
    pub(crate) const ADDRESS_EJECTIONS: &str = "lambda_vpce_pool_address_ejections_total";
}

/// One origin's event handles, registered once when the origin is first used (so a recorder
/// installed later does not see that origin). `REASONS`: how many close reasons the pool
/// counts, one `closed_total` series each.
#[derive(Debug)]
pub(crate) struct OriginMetrics<const REASONS: usize> {
    pub(crate) opened: Counter,
    pub(crate) requests: Counter,
    pub(crate) reused: Counter,
    pub(crate) unsent_resends: Counter,
    pub(crate) connect_failures: Counter,
    /// One per close reason, in the order of the names given to [`OriginMetrics::new`].
    pub(crate) closed: [Counter; REASONS],
    pub(crate) acquire_wait: Histogram,
}

impl<const REASONS: usize> OriginMetrics<REASONS> {
    /// The handles of the origin labelled `origin`, with a `closed_total` series for each of
    /// `close_reasons` (the `reason` label).
    pub(crate) fn new(origin: &str, close_reasons: [&'static str; REASONS]) -> Self {
        let c = |name: &'static str| metrics::counter!(name, "origin" => origin.to_owned());
        OriginMetrics {
            opened: c(names::OPENED),
            requests: c(names::REQUESTS),
            reused: c(names::REUSED),
            unsent_resends: c(names::UNSENT_RESENDS),
            connect_failures: c(names::CONNECT_FAILURES),
            closed: close_reasons.map(|reason| {
                metrics::counter!(names::CLOSED, "origin" => origin.to_owned(), "reason" => reason)
            }),
            acquire_wait: metrics::histogram!(names::ACQUIRE_WAIT, "origin" => origin.to_owned()),
        }
    }
}

/// One origin's gauges, as a snapshot of the pool has them.
#[derive(Debug)]
pub(crate) struct OriginGauges<'a> {
    /// The `origin` label.
    pub(crate) origin: &'a str,
    /// Connections open (opened − closed).
    pub(crate) open: u64,
    pub(crate) idle: usize,
    pub(crate) in_use: usize,
    pub(crate) connecting: usize,
    pub(crate) waiters: usize,
    /// Set only once learned.
    pub(crate) learned_idle_limit: Option<Duration>,
    pub(crate) effective_idle_limit: Option<Duration>,
}

/// Sets one origin's gauges.
pub(crate) fn set_origin_gauges(o: &OriginGauges<'_>) {
    let g =
        |name: &'static str| -> Gauge { metrics::gauge!(name, "origin" => o.origin.to_owned()) };
    g(names::OPEN).set(o.open as f64);
    g(names::IDLE).set(o.idle as f64);
    g(names::IN_USE).set(o.in_use as f64);
    g(names::CONNECTING).set(o.connecting as f64);
    g(names::WAITERS).set(o.waiters as f64);
    if let Some(d) = o.learned_idle_limit {
        g(names::LEARNED_IDLE).set(d.as_secs_f64());
    }
    if let Some(d) = o.effective_idle_limit {
        g(names::EFFECTIVE_IDLE).set(d.as_secs_f64());
    }
}

/// One endpoint address's series, as a snapshot of the pool has them.
#[derive(Debug)]
pub(crate) struct AddressGauges {
    /// The `address` label: `ip:port`.
    pub(crate) address: String,
    pub(crate) connections: usize,
    pub(crate) ejected: bool,
    /// Absolute values of counters kept by the pool.
    pub(crate) connect_failures: u64,
    pub(crate) ejections: u64,
}

/// Sets one address's series.
pub(crate) fn set_address_gauges(a: AddressGauges) {
    let label = a.address;
    metrics::gauge!(names::ADDRESS_CONNECTIONS, "address" => label.clone())
        .set(a.connections as f64);
    metrics::gauge!(names::ADDRESS_EJECTED, "address" => label.clone()).set(if a.ejected {
        1.0
    } else {
        0.0
    });
    metrics::counter!(names::ADDRESS_CONNECT_FAILURES, "address" => label.clone())
        .absolute(a.connect_failures);
    metrics::counter!(names::ADDRESS_EJECTIONS, "address" => label).absolute(a.ejections);
}

/// Which caller made a call: the `path` label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CallPath {
    Sdk,
    Lean,
}

/// Counts one finished call with its `verdict` label.
pub(crate) fn count_call(path: CallPath, verdict: &'static str) {
    let path = match path {
        CallPath::Sdk => "sdk",
        CallPath::Lean => "lean",
    };
    metrics::counter!(names::CALLS, "path" => path, "verdict" => verdict).increment(1);
}

/// The `verdict` label of a call's outcome: `None` for a call that got Lambda's answer
/// (a function error included), else the call's error.
pub(crate) fn verdict(error: Option<&crate::Error>) -> &'static str {
    match error {
        None => "ok",
        Some(e) if e.is_invalid_input() => "invalid_input",
        Some(e) if e.is_not_sent() => "not_sent",
        Some(e) if e.is_service() => "service",
        Some(_) => "maybe_executed",
    }
}

/// Counts the SDK client's calls (`path="sdk"`): an interceptor that sees each call's final
/// outcome, after the SDK's retries.
#[derive(Debug)]
pub(crate) struct SdkCallOutcomes;

#[aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint]
impl aws_smithy_runtime_api::client::interceptors::Intercept for SdkCallOutcomes {
    fn name(&self) -> &'static str {
        "lambda_vpce::metrics::SdkCallOutcomes"
    }

    fn read_after_execution(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let verdict = match context.output_or_error() {
            None | Some(Ok(_)) => "ok",
            Some(Err(e)) => match crate::Error::find_in(e) {
                Some(ours) => verdict(Some(ours)),
                None if e.is_operation_error() || e.is_response_error() => "service",
                // Refused by an interceptor (the crate's input validation) before sending.
                None if e.is_interceptor_error() => "invalid_input",
                None => "maybe_executed",
            },
        };
        count_call(CallPath::Sdk, verdict);
        Ok(())
    }
}
