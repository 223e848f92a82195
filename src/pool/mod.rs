//! The connection pool: HTTP/1.1 on hyper 1.x `client::conn` and HTTP/2 on the `h2` crate
//! (driven directly), over TLS, keyed by origin, built so that **no request is ever
//! sent on a connection the server has already dropped**, and no request that may have
//! reached the server is ever sent twice.
//!
//! This module's doc is the pool's architecture: the life of one request, the two protocols,
//! zones, close reasons, locks, background work, cancellation. The HTTP/2 lifecycle — GOAWAY,
//! `REFUSED_STREAM`, PING, and what the server proved unprocessed — is the doc of the `h2`
//! submodule (`src/pool/h2/mod.rs`); what each means for a call is `docs/http2.md`.
//!
//! # The life of one request
//!
//! ```text
//!  send(request)
//!    │  route: URI authority → OriginPool (origin = scheme, connect host [+ zonal fallback],
//!    │  port, TLS name); `Host` header added (the SDK sends none)
//!    ▼
//!  checkout ──► HTTP/2: a free stream slot on the least loaded shared connection that takes
//!    │          new streams (slots = min(max_streams_per_connection, the server's
//!    │          SETTINGS_MAX_CONCURRENT_STREAMS)); draining ones take none. A caller that
//!    │          finds every connection busy also starts one more in the background, up to
//!    │          h2_connections (default: the runtime's worker threads)
//!    │          HTTP/1.1: idle stack (most recently used first); each candidate is closed,
//!    │          never used, if closed (FIN seen) · idle ≥ effective idle limit · ≥ max_lifetime
//!    │  none usable → join the FIFO of waiters (bounded: max_waiters_per_host) and, unless
//!    │  connects under way will bring a slot for every waiter (HTTP/2), take a permit
//!    │  (max_connections_per_host) and start a connect task: resolve → race the healthy
//!    │  addresses, least loaded first, the next one after connect_attempt_delay (`connect`:
//!    │  TCP with nodelay, keepalive → TLS with ALPN by `Protocol`) → handshake (HTTP/2:
//!    │  until the server's SETTINGS arrived). Whatever comes first serves the caller: a
//!    │  returned connection, a freed slot, or the new connection.
//!    ▼
//!  HTTP/1.1 only: peek at the socket of a reused TLS connection (recv MSG_PEEK, no waker): a
//!    │  FIN, RST or close_notify hyper has not processed yet → closed, never sent on, learned
//!    ▼
//!  wire form: HTTP/1.1 origin-form URI + Host; HTTP/2 `:scheme`/`:authority`, no Host
//!    ▼
//!  send ── provably unsent ──► resend on another connection (at most MAX_UNSENT_RESENDS = 4,
//!    │                 refusals 16; counted in unsent_resends, not an SDK attempt):
//!    │                 · HTTP/1.1: hyper handed the request back before writing it
//!    │                 · HTTP/2: no stream was made (the connection already going away)
//!    │                 · HTTP/2: GOAWAY with a last-stream-id below the stream, or
//!    │                   REFUSED_STREAM (RFC 9113 §6.8, §8.7) — from a copy kept of the
//!    │                   request; the rule and its table: `src/pool/h2/mod.rs`
//!    │── anything else after writing ──► Error::is_maybe_executed; never resent (a stream at
//!    │                 or below a GOAWAY's last-stream-id that the close cuts short included)
//!    ▼
//!  response headers ── Keep-Alive: timeout=N → announced limit; max=N → request budget
//!    ▼
//!  body read to its end ──► HTTP/1.1: checkin (first waiter, else top of the idle stack);
//!                           HTTP/2: the slot goes to the first waiter
//!  body dropped early ───► HTTP/1.1: connection closed (Abandoned); HTTP/2: stream reset
//! ```
//!
//! # HTTP/1.1 and HTTP/2
//! [`PoolBuilder::protocol`]: [`Protocol::Auto`] (the default: ALPN offers both and the server
//! decides — Lambda picks `h2`, as for aws-sdk-lambda's default client), [`Protocol::Http1`],
//! or [`Protocol::Http2`]. A checkout is an exclusive HTTP/1.1 connection
//! or a stream slot on a shared HTTP/2 connection (`checkout::Checkout::{H1, H2}`). The
//! server's SETTINGS and GOAWAY frames are read as they arrive (`h2/watch.rs`), so a connection
//! stops taking streams the moment a GOAWAY is read, and never carries more streams than the
//! server allows: no request queues inside `h2`, out of sight of waiters, `acquire_timeout`
//! and statistics. An HTTP/2 connection **drains** — no new stream, open ones finish, it
//! closes when the last ends — on GOAWAY ([`CloseReason::GoAway`]), past `max_lifetime`, when
//! its task ends, or when the pool is dropped. PINGs every `h2_keepalive` interval (default
//! [`DEFAULT_H2_KEEPALIVE_INTERVAL`], also while idle) with a timeout (default
//! [`DEFAULT_H2_KEEPALIVE_TIMEOUT`]) notice a dead or black-holed connection within their sum
//! ([`CloseReason::PingTimeout`]); its open streams end "may have executed". Idle limits do not
//! apply to a shared connection: PINGs keep its flow alive. The whole lifecycle, and what each
//! of the server's frames proves, is `src/pool/h2/mod.rs`.
//!
//! Connection states: connecting → (idle ⇄ in use | shared → draining) → closed. Every state
//! but closed holds one permit of its origin's semaphore, so `max_connections_per_host` counts
//! established + connecting + in use + draining, and a permit is freed by whatever drops the
//! connection, wherever.
//!
//! # Availability Zones
//! An endpoint's name resolves to one address per zone. Connects race them (RFC 8305's idea:
//! [`PoolBuilder::connect_attempt_delay`]) and every address has a health verdict kept per
//! pool, shared by all origins resolving to it (`crate::connect`'s `health`): one that timed
//! out, refused, reset during the TLS handshake or left a PING unanswered is ejected for a
//! backoff that doubles while it keeps failing, and new connects avoid it while another
//! address is healthy (when none is, all are tried). Connections to an address ejected while
//! another was healthy take no new request ([`CloseReason::AddressDead`]: HTTP/2 drains,
//! an idle HTTP/1.1 one is closed at checkout); calls already on them end as they would have.
//! [`PoolStats::addresses`] reports each address. `docs/availability-zones.md` has the
//! measurements.
//!
//! # Close reasons
//! See [`CloseReason`] (13 reasons): idle timeout, learned idle limit, announced idle limit, max
//! lifetime, closed by server, request limit, error, abandoned, not ready, pool dropped, GOAWAY,
//! PING timeout, address dead. Each close is counted once, in the connection's `Drop`, and
//! logged with the `close_reason` field.
//!
//! # Learning the server's idle limit (HTTP/1.1)
//! The server's idle cutoff is the one that matters, and Lambda does not state it. The pool
//! learns it per origin: from `Keep-Alive: timeout=N` on responses, and from every connection the
//! server closed while it sat idle in the pool (its connection task ends; the idle time is
//! recorded), or that failed on reuse as if closed. The effective idle limit is the smallest of
//! `idle_timeout` and each learned limit less a margin of max(100 ms, 10 %). After one observed
//! close, checkout stops racing the server's cutoff. Closes after less than 500 ms of idle are
//! taken as the server going away and are not learned.
//!
//! # Locks
//! - `Pool::origins` (`RwLock`): read on every call to find the origin; written once per new
//!   origin. Never held while another lock is taken or across an `.await`.
//! - `OriginPool::state` (`Mutex`): idle stack, HTTP/2 set and its slot counts, waiters,
//!   limits, counts. Held for a few moves, never across an `.await`; no two pool locks are ever
//!   held together. An HTTP/2 lease is never dropped under it (its `Drop` takes it).
//! - Counters and what a connection's reader learns (SETTINGS, GOAWAY) are atomics; a
//!   [`PoolStats`] snapshot is consistent per field, not across fields.
//!
//! # Background work
//! One maintenance task per pool reaps expired idle connections, drains HTTP/2 connections past
//! their lifetime and refills `min_idle` every 500 ms. It is started by the first call (or
//! `prewarm`) made inside a runtime, and again by the next one if the runtime it ran on shut
//! down; it ends when the pool is dropped. Warm connects, its own and `prewarm`'s, are decided
//! and counted under the origin's lock (`OriginPool::reserve_warm_locked`), so together they
//! never open more than `min_idle`. Each connection has one task driving its connection future
//! (hyper's HTTP/1.1, `h2`'s HTTP/2 with its PINGs). A connect runs in its own task so that a
//! cancelled caller never leaves a half-open connection: the connect finishes and its
//! connection goes to the pool (or fails and frees its permit).
//!
//! # Cancellation
//! Dropping a call at any `.await` leaks nothing: a waiter's place is removed (a connection or
//! slot handed to it meanwhile goes back), a checked-out HTTP/1.1 connection mid-exchange is
//! closed, an HTTP/2 stream is reset and its slot freed — also mid-request-body: a streaming
//! body's sender stops with the call (`h2::stream::BodyPipe`) — and permits are freed by
//! `Drop`. The HTTP/2 matrix is `src/pool/tests/h2_cancel.rs`: dropped while waiting for a
//! slot, while sending the body, while awaiting the response, while reading it.
//!
//! # Files
//! `origin_pool` (one origin's state), `checkout` (waiters, sharing a connect, the in-use
//! guard), `establish` (zonal fallback, handshakes, the driver task), `h1`, `h2/` (a folder:
//! shared connections and leases, streams, the server's frames, and the refused-stream rule —
//! what the server proved unprocessed), `send` (one exchange on either protocol, and the
//! resends), `body` (the response body, [`ConnectionInfo`]), `keep_alive`, `maintenance`,
//! `stats` (close reasons, counters, snapshots; reported to `crate::metrics` with the
//! `metrics` feature), `config`. Below the pool: `crate::connect` (resolve, race, TLS),
//! `crate::origin` and `crate::protocol` (values both use). Tests: `src/pool/tests/`.

mod body;
mod checkout;
mod config;
mod establish;
mod h1;
mod h2;
mod keep_alive;
mod maintenance;
mod origin_pool;
mod send;
mod stats;
#[cfg(test)]
mod tests;

pub use crate::connect::AddressStats;
use crate::origin::{self, Origin};
pub use crate::protocol::Protocol;
pub use body::Body;
pub use body::ConnectionInfo;
pub use config::DEFAULT_RESPONSE_TIMEOUT;
pub use config::{
    PoolBuilder, PoolConfig, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_CONNECT_ATTEMPT_DELAY,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_H2_CONNECTION_WINDOW, DEFAULT_H2_KEEPALIVE_INTERVAL,
    DEFAULT_H2_KEEPALIVE_TIMEOUT, DEFAULT_H2_STREAM_WINDOW, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS_PER_HOST, DEFAULT_MAX_LIFETIME, DEFAULT_MAX_STREAMS_PER_CONNECTION,
    DEFAULT_MAX_WAITERS_PER_HOST, DEFAULT_MIN_IDLE, DEFAULT_PROTOCOL, DEFAULT_TCP_KEEPALIVE_COUNT,
    DEFAULT_TCP_KEEPALIVE_IDLE, DEFAULT_TCP_KEEPALIVE_INTERVAL,
};
#[cfg(test)]
pub(crate) use config::{ZONAL_FAILURES_BEFORE_FALLBACK, ZONAL_FALLBACK_COOLDOWN};
pub(crate) use send::deadline_after;
pub use send::RequestOptions;
pub use stats::{CloseReason, OriginStats, PoolStats};

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use aws_smithy_types::body::SdkBody;

use crate::connect::Connector;
use crate::error::{Error, Kind};
use origin_pool::OriginPool;

/// What every origin of a pool shares.
pub(crate) struct Shared {
    pub(crate) config: PoolConfig,
    pub(crate) connector: Arc<dyn crate::connect::Dial>,
    /// Every address's health, shared by all origins resolving to it.
    pub(crate) health: Arc<crate::connect::AddressHealth>,
    pub(crate) next_id: AtomicU64,
}

/// A pool of HTTP/1.1 and HTTP/2 connections to Lambda endpoints. Cheap to clone (an `Arc`); clones share
/// the connections.
///
/// Use it through [`Pool::send`], as a [`tower::Service`], or let
/// [`crate::LambdaVpceBuilder`] plug it into the AWS SDK.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    shared: Arc<Shared>,
    /// Origins by URI authority, for `https` and `http` requests.
    origins: RwLock<[HashMap<Box<str>, Arc<OriginPool>>; 2]>,
    routes: HashMap<Box<str>, Origin>,
    /// Whether the maintenance task runs: set by the call that starts it, cleared by the task
    /// when it ends or is dropped with its runtime.
    maintenance: Arc<AtomicBool>,
    _stop: tokio::sync::watch::Sender<()>,
    stop_rx: tokio::sync::watch::Receiver<()>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.inner.shared.config)
            .finish_non_exhaustive()
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        let hosts = self.origins.get_mut().unwrap_or_else(|p| p.into_inner());
        for map in hosts.iter() {
            for host in map.values() {
                host.close();
            }
        }
    }
}

impl Pool {
    /// A builder with the defaults of [`PoolBuilder`].
    pub fn builder() -> PoolBuilder {
        PoolBuilder::new()
    }

    pub(crate) fn from_parts(
        config: PoolConfig,
        routes: &[crate::Endpoint],
    ) -> Result<Pool, crate::BuildError> {
        let connector = Arc::new(Connector::new(
            config.resolver.clone(),
            &config.tls,
            config.socket,
        )?);
        Ok(Self::with_dialer(config, routes, connector))
    }

    pub(crate) fn with_dialer(
        config: PoolConfig,
        routes: &[crate::Endpoint],
        connector: Arc<dyn crate::connect::Dial>,
    ) -> Pool {
        let (stop, stop_rx) = tokio::sync::watch::channel(());
        let routes = routes
            .iter()
            .map(|e| {
                (
                    e.signing_host().to_ascii_lowercase().into_boxed_str(),
                    Origin::from_endpoint(e),
                )
            })
            .collect();
        Pool {
            inner: Arc::new(PoolInner {
                shared: Arc::new(Shared {
                    config,
                    connector,
                    health: Arc::default(),
                    next_id: AtomicU64::new(1),
                }),
                origins: RwLock::new([HashMap::new(), HashMap::new()]),
                routes,
                maintenance: Arc::new(AtomicBool::new(false)),
                _stop: stop,
                stop_rx,
            }),
        }
    }

    /// The validated settings.
    pub fn config(&self) -> &PoolConfig {
        &self.inner.shared.config
    }

    /// Sends one request. The URI must be absolute (`https://host/path`); it is sent in origin
    /// form with a `Host` header. Options (deadline, connect timeout) ride in the request's
    /// extensions as [`RequestOptions`]; the response body tells which connection carried it
    /// ([`Body::connection_info`]).
    ///
    /// The request is routed when `send` is called; the returned future owns everything it
    /// needs (`'static`) and is one state machine, not a chain of them: each nested `async fn`
    /// would copy the whole request's future once more on every call.
    pub fn send(
        &self,
        request: http::Request<SdkBody>,
    ) -> impl std::future::Future<Output = Result<http::Response<Body>, Error>> + Send + 'static
    {
        self.send_opts(request, None)
    }

    /// [`send`](Self::send) with the request's options given beside it rather than in its
    /// extensions (which would be a map made for every request).
    pub(crate) fn send_with(
        &self,
        request: http::Request<SdkBody>,
        opts: RequestOptions,
    ) -> impl std::future::Future<Output = Result<http::Response<Body>, Error>> + Send + 'static
    {
        self.send_opts(request, Some(opts))
    }

    /// Routes `request` now and sends it with `opts`, else the options in its extensions.
    fn send_opts(
        &self,
        request: http::Request<SdkBody>,
        opts: Option<RequestOptions>,
    ) -> impl std::future::Future<Output = Result<http::Response<Body>, Error>> + Send + 'static
    {
        self.start_maintenance();
        let host = self.origin_for(request.uri());
        send::send(host, request, opts)
    }

    /// Opens connections before the first call until `min_idle` (at least one) are open per
    /// known origin, and waits until they are established. Returns how many were opened while
    /// it ran — by it, or by maintenance or another prewarm warming the same origins at once,
    /// which never open more than `min_idle` between them; 0 when the pool was already warm.
    pub async fn prewarm(&self) -> Result<usize, Error> {
        self.start_maintenance();
        let authorities: Vec<(String, bool)> = self
            .inner
            .routes
            .iter()
            .map(|(a, o)| (a.to_string(), o.https))
            .collect();
        let n = self.inner.shared.config.min_idle.max(1);
        let mut opened = 0;
        for (authority, https) in authorities {
            let host = self.origin_by_authority(&authority, https)?;
            opened += host.prewarm(n).await?;
        }
        Ok(opened)
    }

    /// Opens connections to the origin of `uri` until `n` are open (for origins not set with
    /// [`PoolBuilder::endpoint`]) and waits until they are established; returns how many were
    /// opened while it ran, as [`prewarm`](Self::prewarm) does.
    pub async fn prewarm_uri(&self, uri: &http::Uri, n: usize) -> Result<usize, Error> {
        self.start_maintenance();
        self.origin_for(uri)?.prewarm(n).await
    }

    /// A snapshot of every origin's counters and state, and of every address connected to
    /// ([`PoolStats::addresses`]). With the `metrics` feature it also
    /// sets the pool's gauges (as every maintenance tick does).
    pub fn stats(&self) -> PoolStats {
        let hosts = self.inner.origins.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<OriginStats> = hosts
            .iter()
            .flat_map(|m| m.values())
            .map(|h| h.stats())
            .collect();
        out.sort_by(|a, b| a.origin().cmp(b.origin()));
        drop(hosts);
        let addresses = self
            .inner
            .shared
            .health
            .snapshot(tokio::time::Instant::now());
        let stats = PoolStats {
            origins: out,
            addresses,
        };
        #[cfg(feature = "metrics")]
        stats.publish();
        stats
    }

    fn origin_for(&self, uri: &http::Uri) -> Result<Arc<OriginPool>, Error> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(Error::with(
                    Kind::InvalidInput,
                    format!("the URI must be absolute with scheme https or http, got {uri}"),
                ))
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| Error::with(Kind::InvalidInput, "the URI has no authority"))?;
        self.origin_by_authority(authority.as_str(), https)
    }

    fn origin_by_authority(&self, authority: &str, https: bool) -> Result<Arc<OriginPool>, Error> {
        let idx = usize::from(!https);
        {
            let hosts = self.inner.origins.read().unwrap_or_else(|p| p.into_inner());
            if let Some(h) = hosts[idx].get(authority) {
                return Ok(h.clone());
            }
        }
        let key = authority.to_ascii_lowercase();
        let origin = match self.inner.routes.get(key.as_str()) {
            Some(o) => o.clone(),
            None => Origin::from_authority(https, &key)?,
        };
        let host_header = origin::host_header(https, &key)?;
        let mut hosts = self
            .inner
            .origins
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let host = hosts[idx]
            .entry(authority.into())
            .or_insert_with(|| {
                Arc::new(OriginPool::new(
                    origin,
                    host_header,
                    self.inner.shared.clone(),
                ))
            })
            .clone();
        Ok(host)
    }

    /// Starts the maintenance task on the current runtime unless it runs: on the first call
    /// made inside a runtime, and again on the next one after the runtime it ran on shut down.
    /// A call outside any runtime starts nothing and uses nothing up. One atomic load on the
    /// hot path.
    fn start_maintenance(&self) {
        let running = &self.inner.maintenance;
        if running.load(Ordering::Acquire) || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            maintenance::spawn(
                Arc::downgrade(&self.inner),
                self.inner.stop_rx.clone(),
                running.clone(),
            );
        }
    }

    fn origins_snapshot(&self) -> Vec<Arc<OriginPool>> {
        let hosts = self.inner.origins.read().unwrap_or_else(|p| p.into_inner());
        hosts.iter().flat_map(|m| m.values().cloned()).collect()
    }
}

impl tower_service::Service<http::Request<SdkBody>> for Pool {
    type Response = http::Response<Body>;
    type Error = Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Error>> + Send>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        // Back-pressure is per origin and happens at checkout (waiters, acquire_timeout);
        // stack `tower::limit` layers for a global limit.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<SdkBody>) -> Self::Future {
        Box::pin(self.send(request))
    }
}
