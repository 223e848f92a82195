//! Sending one request: checkout, `try_send_request`, resend if handed back unsent.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_types::body::SdkBody;
use http::header::{CONNECTION, HOST};
use tokio::time::Instant;
use tracing::Instrument;

use super::body::Body;
use super::config::{MAX_UNSENT_RESENDS, SETTLE_TIMEOUT};
use super::conn::Pooled;
use super::host::Host;
use super::keep_alive::KeepAliveHeader;
use super::stats::{CloseReason, Counters};
use crate::connect::PeerState;
use crate::error::{Error, Kind};

/// Per-request options, carried in the request's extensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions {
    /// The whole call (checkout, send, response and body) must end by then. Before the request
    /// is handed to a connection, passing it is "not sent"; after, "may have executed".
    pub deadline: Option<Instant>,
    /// Overrides the pool's `connect_timeout` for connects this request starts.
    pub connect_timeout: Option<Duration>,
}

impl RequestOptions {
    /// Options with a deadline `timeout` from now.
    pub fn with_timeout(timeout: Duration) -> Self {
        RequestOptions {
            deadline: Some(Instant::now() + timeout),
            connect_timeout: None,
        }
    }
}

/// Facts about the connection that carried a request, in the response's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The pool's id of the connection (the `connection_id` tracing field).
    pub connection_id: u64,
    /// The connection had carried a request before.
    pub reused: bool,
    /// How long it sat idle before this request (zero for a new connection).
    pub idle_before: Duration,
    /// How many connections handed this request back unsent before this one took it.
    pub unsent_resends: u32,
    /// The address connected to.
    pub remote_addr: SocketAddr,
}

pub(crate) async fn send(
    host: &Arc<Host>,
    mut request: http::Request<SdkBody>,
) -> Result<http::Response<Body>, Error> {
    let opts = request
        .extensions()
        .get::<RequestOptions>()
        .copied()
        .unwrap_or_default();
    if !request.headers().contains_key(HOST) {
        request.headers_mut().insert(HOST, host.host_header.clone());
    }
    let mut parts = std::mem::take(request.uri_mut()).into_parts();
    parts.scheme = None;
    parts.authority = None;
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    *request.uri_mut() =
        http::Uri::from_parts(parts).map_err(|e| Error::with(Kind::InvalidRequest, e))?;

    let span = tracing::debug_span!(
        "pool.send",
        connection_id = tracing::field::Empty,
        reused = tracing::field::Empty,
        idle_ms = tracing::field::Empty,
        attempt = tracing::field::Empty,
    );
    send_inner(host, request, opts).instrument(span).await
}

async fn send_inner(
    host: &Arc<Host>,
    mut request: http::Request<SdkBody>,
    opts: RequestOptions,
) -> Result<http::Response<Body>, Error> {
    let connect_timeout = opts.connect_timeout.unwrap_or(host_connect_timeout(host));
    let acquire_timeout = host_acquire_timeout(host);
    let mut resends = 0u32;
    let mut not_ready = 0u32;
    loop {
        let checkout = host.checkout(connect_timeout);
        let limit = match (opts.deadline, acquire_timeout.map(|t| Instant::now() + t)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut conn = match limit {
            Some(at) => tokio::time::timeout_at(at, checkout)
                .await
                .map_err(|_| Error::new(Kind::AcquireTimeout))??,
            None => checkout.await?,
        };
        if conn.requests > 0
            && conn
                .probe
                .as_ref()
                .is_some_and(|p| p.peer_state() == PeerState::Gone)
        {
            // The server's FIN/RST/close_notify is already in the socket; hyper has not run
            // yet to see it. Never send on it, and learn from how long it sat idle.
            host.observe_race(Instant::now().duration_since(conn.idle_since));
            tracing::debug!(
                connection_id = conn.id,
                "peer already closed the idle connection; not using it"
            );
            conn.close(CloseReason::ClosedByServer);
            continue;
        }
        if !conn.tx.is_ready() {
            not_ready += 1;
            if not_ready > MAX_UNSENT_RESENDS {
                conn.close(CloseReason::NotReady);
                return Err(Error::with(
                    Kind::UnsentRetriesExhausted,
                    "no connection became ready",
                ));
            }
            // Just returned by an exchange whose end hyper has not processed yet, or closing.
            match tokio::time::timeout(SETTLE_TIMEOUT, poll_fn(|cx| conn.tx.poll_ready(cx))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    conn.close(CloseReason::ClosedByServer);
                    continue;
                }
                Err(_) => {
                    conn.close(CloseReason::NotReady);
                    continue;
                }
            }
        }
        let mut pooled = Pooled::new(conn, host.clone());
        let now = Instant::now();
        let c = pooled.conn();
        let reused = c.requests > 0;
        // An HTTP/2 lease has no idle time of its own: PINGs keep the shared connection alive.
        let idle_before = if reused && !c.is_lease() {
            now.duration_since(c.idle_since)
        } else {
            Duration::ZERO
        };
        c.requests += 1;
        if let Some(r) = c.remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
        let info = ConnectionInfo {
            connection_id: c.id,
            reused,
            idle_before,
            unsent_resends: resends,
            remote_addr: c.remote,
        };
        Counters::bump(&host.counters.requests);
        if reused {
            Counters::bump(&host.counters.reused);
        }
        let span = tracing::Span::current();
        span.record("connection_id", info.connection_id);
        span.record("reused", reused);
        span.record("idle_ms", idle_before.as_millis() as u64);
        span.record("attempt", resends + 1);

        let sending = c.tx.try_send_request(request);
        let result = match opts.deadline {
            Some(at) => match tokio::time::timeout_at(at, sending).await {
                Ok(r) => r,
                Err(_) => {
                    pooled.discard(CloseReason::Abandoned);
                    return Err(Error::with(
                        Kind::ResponseTimeout,
                        "no response headers before the deadline",
                    ));
                }
            },
            None => sending.await,
        };
        match result {
            Ok(response) => return Ok(finish(host, pooled, response, info, opts.deadline)),
            Err(mut err) => match err.take_message() {
                Some(unsent) => {
                    tracing::debug!(
                        connection_id = info.connection_id,
                        "connection handed the request back unsent; resending"
                    );
                    pooled.discard(CloseReason::ClosedByServer);
                    Counters::bump(&host.counters.unsent_resends);
                    resends += 1;
                    if resends > MAX_UNSENT_RESENDS {
                        return Err(Error::with(Kind::UnsentRetriesExhausted, err.into_error()));
                    }
                    request = unsent;
                }
                None => {
                    let err = err.into_error();
                    if reused && looks_closed_by_peer(&err) {
                        pooled.host().observe_race(idle_before);
                    }
                    pooled.discard(CloseReason::Error);
                    return Err(Error::with(Kind::Transport, err));
                }
            },
        }
    }
}

fn host_connect_timeout(host: &Host) -> Duration {
    host.shared_config().connect_timeout
}

fn host_acquire_timeout(host: &Host) -> Option<Duration> {
    host.shared_config().acquire_timeout
}

fn finish(
    host: &Arc<Host>,
    mut pooled: Pooled,
    response: http::Response<hyper::body::Incoming>,
    info: ConnectionInfo,
    deadline: Option<Instant>,
) -> http::Response<Body> {
    let headers = response.headers();
    let keep_open = !headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    if let Some(ka) = headers.get("keep-alive") {
        let ka = KeepAliveHeader::parse(ka.as_bytes());
        if let Some(t) = ka.timeout {
            host.announce(t);
        }
        if let Some(max) = ka.max {
            pooled.conn().remaining = Some(max);
        }
    }
    let (mut parts, incoming) = response.into_parts();
    parts.extensions.insert(info);
    http::Response::from_parts(parts, Body::new(incoming, pooled, keep_open, deadline))
}

/// The failure looks like the server had closed the connection before the request reached it.
fn looks_closed_by_peer(err: &hyper::Error) -> bool {
    if err.is_incomplete_message() || err.is_canceled() {
        return true;
    }
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            );
        }
        source = s.source();
    }
    false
}
