//! Sending one request: checkout, the exchange — HTTP/1.1 on hyper's `try_send_request`,
//! HTTP/2 as a stream on `h2` (`h2::stream`) — and a resend of what provably never reached the
//! server (handed back unsent; on HTTP/2 also refused by the server: `h2::refused`, and the
//! lifecycle around it in `h2/mod.rs`).

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_types::body::SdkBody;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, HOST};
use http::uri::Authority;
use tokio::time::Instant;
use tracing::Instrument;

use super::body::{Body, ConnectionInfo, Inner as BodyInner};
use super::checkout::{Checkout, InUse};
use super::config::{MAX_UNSENT_RESENDS, SETTLE_TIMEOUT};
use super::h1::H1Conn;
use super::h2::{refused_by_peer, stream, H2Body, H2Lease, MAX_REFUSED_RESENDS};
use super::keep_alive::{KeepAliveHeader, KEEP_ALIVE};
use super::origin_pool::OriginPool;
use super::stats::{CloseReason, Counters};
use crate::connect::PeerState;
use crate::error::{BoxError, Error, Kind};

/// Per-request options, carried in the request's extensions.
///
/// Built from [`RequestOptions::default`] (no deadline, the pool's connect timeout) or
/// [`RequestOptions::with_timeout`], then [`deadline`](Self::deadline) and
/// [`connect_timeout`](Self::connect_timeout); the fields can be read, and the struct may gain
/// fields.
///
/// ```
/// use std::time::Duration;
/// use lambda_vpce::pool::RequestOptions;
/// let opts = RequestOptions::with_timeout(Duration::from_secs(5))
///     .connect_timeout(Duration::from_millis(500));
/// assert_eq!(opts.connect_timeout, Some(Duration::from_millis(500)));
/// assert!(opts.deadline.is_some());
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// The whole call (checkout, send, response and body) must end by then. Before the request
    /// is handed to a connection, passing it is "not sent"; after, "may have executed".
    /// `None`: no deadline.
    pub deadline: Option<Instant>,
    /// Overrides the pool's `connect_timeout` for connects this request starts.
    pub connect_timeout: Option<Duration>,
}

impl RequestOptions {
    /// Options with a deadline `timeout` from now; with none when the clock cannot represent
    /// that instant (`Duration::MAX`, say: a timeout no call can outlast), never a panic. Every
    /// timeout the crate turns into a call's deadline (the lean path's, the SDK adapter's, the
    /// pool's `acquire_timeout`) follows this rule.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self::until(deadline_after(timeout))
    }

    /// Sets the deadline of the whole call (`None`: no deadline).
    pub fn deadline(mut self, deadline: impl Into<Option<Instant>>) -> Self {
        self.deadline = deadline.into();
        self
    }

    /// Overrides the pool's `connect_timeout` for connects this request starts (`None`: the
    /// pool's).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Options with `deadline` (`None`: no deadline) and the pool's connect timeout.
    pub(crate) fn until(deadline: Option<Instant>) -> Self {
        RequestOptions {
            deadline,
            connect_timeout: None,
        }
    }
}

/// The instant `timeout` from now, `None` (no deadline) past what the clock can represent: the
/// rule of [`RequestOptions::with_timeout`], for every call deadline the crate makes.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Sends `request` to the origin `pool` routed it to (or fails with the routing error), with
/// `opts`, else the options in its extensions.
pub(crate) async fn send(
    pool: Result<Arc<OriginPool>, Error>,
    mut request: http::Request<SdkBody>,
    opts: Option<RequestOptions>,
) -> Result<http::Response<Body>, Error> {
    let pool = &pool?;
    let opts = opts.unwrap_or_else(|| {
        request
            .extensions()
            .get::<RequestOptions>()
            .copied()
            .unwrap_or_default()
    });
    if !request.headers().contains_key(HOST) {
        request.headers_mut().insert(HOST, pool.host_header.clone());
    }
    let span = tracing::debug_span!(
        "pool.send",
        connection_id = tracing::field::Empty,
        reused = tracing::field::Empty,
        idle_ms = tracing::field::Empty,
        attempt = tracing::field::Empty,
    );
    // Without a subscriber that wants the span, no wrapper: it would copy the request's
    // whole future (kilobytes) once more on every call.
    if span.is_disabled() {
        send_inner(pool, request, opts).await
    } else {
        send_inner(pool, request, opts).instrument(span).await
    }
}

async fn send_inner(
    pool: &Arc<OriginPool>,
    mut request: http::Request<SdkBody>,
    opts: RequestOptions,
) -> Result<http::Response<Body>, Error> {
    let config = pool.shared_config();
    let connect_timeout = opts.connect_timeout.unwrap_or(config.connect_timeout);
    let acquire_timeout = config.acquire_timeout;
    let mut resends = 0u32;
    let mut refusals = 0u32;
    let mut not_ready = 0u32;
    loop {
        // Fast path: a warm idle connection or a free HTTP/2 slot, taken under one short lock
        // with no future and no timer. Only when there is none does the caller queue, connect,
        // and set a timer.
        let checked_at = Instant::now();
        let checkout = match pool.try_idle(checked_at) {
            Some(c) => c,
            None => {
                // Boxed: the slow path's state (waiter, connect, timer) would otherwise make
                // every request's future, which is moved several times, that much larger.
                let checkout = Box::pin(pool.checkout(connect_timeout));
                let limit = match (
                    opts.deadline,
                    acquire_timeout.and_then(|t| checked_at.checked_add(t)),
                ) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                match limit {
                    Some(at) => tokio::time::timeout_at(at, checkout)
                        .await
                        .map_err(|_| Error::new(Kind::AcquireTimeout))??,
                    None => checkout.await?,
                }
            }
        };
        pool.counters.acquired(checked_at);
        let outcome = match checkout {
            Checkout::H1(conn) => {
                let Some(conn) = ready_h1(pool, conn, &mut not_ready).await? else {
                    continue;
                };
                send_h1(pool, conn, request, opts, checked_at, resends).await
            }
            // Boxed: the HTTP/2 exchange's state (a copy of the request kept for a resend, the
            // stream) would otherwise double the size of every request's future, HTTP/1.1's too.
            Checkout::H2(lease) => {
                Box::pin(send_h2(pool, lease, request, opts, resends + refusals)).await
            }
        };
        match outcome {
            Sent::Response(response) => return Ok(response),
            Sent::Failed(e) => return Err(e),
            Sent::Unsent(unsent, why) => {
                Counters::bump(&pool.counters.unsent_resends);
                resends += 1;
                if resends > MAX_UNSENT_RESENDS {
                    return Err(Error::with(Kind::UnsentRetriesExhausted, why));
                }
                request = unsent;
            }
            Sent::Refused(unsent, why) => {
                Counters::bump(&pool.counters.unsent_resends);
                refusals += 1;
                if refusals > MAX_REFUSED_RESENDS {
                    return Err(Error::with(Kind::UnsentRetriesExhausted, why));
                }
                request = unsent;
            }
        }
    }
}

/// How one attempt on one connection ended.
enum Sent {
    Response(http::Response<Body>),
    /// Proven unsent: resend this request on another connection (the error says why).
    Unsent(http::Request<SdkBody>, BoxError),
    /// HTTP/2: the server refused the stream (GOAWAY above it, `REFUSED_STREAM`); resend it.
    Refused(http::Request<SdkBody>, BoxError),
    Failed(Error),
}

/// Checks an HTTP/1.1 connection before sending on it: `None` when it must not be used (the
/// peer already closed it, or it never became ready) and the caller takes another.
async fn ready_h1(
    pool: &OriginPool,
    mut conn: H1Conn,
    not_ready: &mut u32,
) -> Result<Option<H1Conn>, Error> {
    if conn.requests > 0
        && conn
            .probe
            .as_ref()
            .is_some_and(|p| p.peer_state() == PeerState::Gone)
    {
        // The server's FIN/RST/close_notify is already in the socket; hyper has not run
        // yet to see it. Never send on it, and learn from how long it sat idle.
        pool.observe_race(Instant::now().duration_since(conn.idle_since));
        tracing::debug!(
            connection_id = conn.id,
            "peer already closed the idle connection; not using it"
        );
        conn.close(CloseReason::ClosedByServer);
        return Ok(None);
    }
    if !conn.is_ready() {
        *not_ready += 1;
        if *not_ready > MAX_UNSENT_RESENDS {
            conn.close(CloseReason::NotReady);
            return Err(Error::with(
                Kind::UnsentRetriesExhausted,
                "no connection became ready",
            ));
        }
        // Just returned by an exchange whose end hyper has not processed yet, or closing.
        match tokio::time::timeout(SETTLE_TIMEOUT, poll_fn(|cx| conn.poll_ready(cx))).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                conn.close(CloseReason::ClosedByServer);
                return Ok(None);
            }
            Err(_) => {
                conn.close(CloseReason::NotReady);
                return Ok(None);
            }
        }
    }
    Ok(Some(conn))
}

async fn send_h1(
    pool: &Arc<OriginPool>,
    mut conn: H1Conn,
    mut request: http::Request<SdkBody>,
    opts: RequestOptions,
    checked_at: Instant,
    resends: u32,
) -> Sent {
    if let Err(e) = wire_form(&mut request, false) {
        pool.checkin(conn);
        return Sent::Failed(e);
    }
    let reused = conn.requests > 0;
    let idle_before = if reused {
        checked_at.saturating_duration_since(conn.idle_since)
    } else {
        Duration::ZERO
    };
    conn.requests += 1;
    if let Some(r) = conn.remaining.as_mut() {
        *r = r.saturating_sub(1);
    }
    let info = ConnectionInfo {
        connection_id: conn.id,
        reused,
        idle_before,
        unsent_resends: resends,
        remote_addr: conn.remote,
        version: http::Version::HTTP_11,
        peer_max_streams: None,
    };
    let mut in_use = InUse::new(Checkout::H1(conn), pool.clone());
    record(pool, &info);
    let Checkout::H1(conn) = in_use.checkout() else {
        unreachable!("an HTTP/1.1 checkout")
    };
    let Some(result) = until(opts.deadline, conn.tx.try_send_request(request)).await else {
        in_use.discard(CloseReason::Abandoned);
        return Sent::Failed(no_response_in_time());
    };
    match result {
        Ok(response) => Sent::Response(finish(pool, in_use, response, info, opts.deadline)),
        Err(mut err) => match err.take_message() {
            Some(unsent) => {
                tracing::debug!(
                    connection_id = info.connection_id,
                    "connection handed the request back unsent; resending"
                );
                in_use.discard(CloseReason::ClosedByServer);
                Sent::Unsent(unsent, err.into_error().into())
            }
            None => {
                let err = err.into_error();
                if reused && looks_closed_by_peer(&err) {
                    pool.observe_race(idle_before);
                }
                in_use.discard(CloseReason::Error);
                Sent::Failed(Error::with(Kind::Transport, err))
            }
        },
    }
}

/// Sends on an HTTP/2 stream slot. A request that never became a stream (the connection was
/// already going away) is resent as it is; one the server proves it did not process (a GOAWAY
/// below its stream, `REFUSED_STREAM`) is resent from a copy of its body kept for that
/// purpose; a body that cannot be copied (a stream) fails "not sent" instead.
async fn send_h2(
    pool: &Arc<OriginPool>,
    lease: H2Lease,
    mut request: http::Request<SdkBody>,
    opts: RequestOptions,
    resends: u32,
) -> Sent {
    if let Err(e) = wire_form(&mut request, true) {
        return Sent::Failed(e);
    }
    let replay = copy_of(&request);
    let info = ConnectionInfo {
        connection_id: lease.conn.id,
        reused: lease.reused,
        // A shared connection has no idle time of its own: PINGs keep it alive.
        idle_before: Duration::ZERO,
        unsent_resends: resends,
        remote_addr: lease.conn.remote,
        version: http::Version::HTTP_2,
        peer_max_streams: lease.conn.peer.max_streams(),
    };
    let mut in_use = InUse::new(Checkout::H2(lease), pool.clone());
    record(pool, &info);
    let Checkout::H2(lease) = in_use.checkout() else {
        unreachable!("an HTTP/2 checkout")
    };
    // `pipe`: a streaming request body's sender, kept going while this call lasts (dropped
    // with it, the stream is reset).
    let (response, pipe) = match stream::open(&mut lease.tx, request, replay.is_some()) {
        Ok(opened) => opened,
        Err((unsent, err)) => {
            let Some(unsent) = unsent.or(replay) else {
                unreachable!("open hands the request back unless a copy was kept")
            };
            tracing::debug!(
                connection_id = info.connection_id,
                error = %err,
                "the connection takes no new stream; resending"
            );
            // Gone away, or closed (its error is the connection's): either way it takes no
            // new stream. The stats say which.
            lease.conn.refused_new_stream(&err);
            return Sent::Unsent(unsent, err.into());
        }
    };
    let Some(result) = until(opts.deadline, response).await else {
        in_use.discard(CloseReason::Abandoned);
        return Sent::Failed(no_response_in_time());
    };
    match result {
        Ok(response) => {
            let content_length = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok());
            let response = response.map(|stream| H2Body::new(stream, content_length, pipe));
            Sent::Response(finish(pool, in_use, response, info, opts.deadline))
        }
        Err(err) if refused_by_peer(&err) => {
            // The server refuses streams here (a GOAWAY, or a REFUSED_STREAM: at its limit
            // or about to close): no new stream on this connection; open ones finish.
            if let Checkout::H2(lease) = in_use.checkout() {
                lease.conn.drain(CloseReason::GoAway);
            }
            in_use.discard(CloseReason::Error);
            tracing::debug!(
                connection_id = info.connection_id,
                error = %err,
                "the server did not process the stream; resending"
            );
            match replay {
                Some(request) => Sent::Refused(request, err.into()),
                None => Sent::Failed(Error::with(Kind::RefusedUnreplayable, err)),
            }
        }
        Err(err) => {
            in_use.discard(CloseReason::Error);
            Sent::Failed(Error::with(Kind::Transport, err))
        }
    }
}

/// A copy of `request` to resend should the server refuse its stream, when its body can be
/// copied (an in-memory body: every Lambda API call's); `None` for a streaming body.
fn copy_of(request: &http::Request<SdkBody>) -> Option<http::Request<SdkBody>> {
    let body = request.body().try_clone()?;
    let mut copy = http::Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    if let Some(opts) = request.extensions().get::<RequestOptions>() {
        copy.extensions_mut().insert(*opts);
    }
    Some(copy)
}

fn record(pool: &OriginPool, info: &ConnectionInfo) {
    Counters::bump(&pool.counters.requests);
    if info.reused {
        Counters::bump(&pool.counters.reused);
    }
    if !tracing::level_enabled!(tracing::Level::DEBUG) {
        return;
    }
    let span = tracing::Span::current();
    span.record("connection_id", info.connection_id);
    span.record("reused", info.reused);
    span.record("idle_ms", info.idle_before.as_millis() as u64);
    span.record("attempt", info.unsent_resends + 1);
}

fn no_response_in_time() -> Error {
    Error::with(
        Kind::ResponseTimeout,
        "no response headers before the deadline",
    )
}

/// Puts `request` in the form its connection speaks, from the caller's absolute URI or from the
/// form an earlier connection left it in when it handed it back unsent:
/// - HTTP/1.1: origin form, with the `Host` header (`send` set it);
/// - HTTP/2: `:scheme: https` and `:authority`, which `h2` takes from the URI (RFC 9113
///   §8.3.1; the connection is TLS: `h2` comes only from ALPN), and no `Host` header. The
///   authority is the `Host` value, which SigV4 signed; the RFC asks clients to send it there
///   only, and nginx answers a request carrying both with 400 (found by the nginx peer suite).
fn wire_form(request: &mut http::Request<SdkBody>, h2: bool) -> Result<(), Error> {
    let mut parts = std::mem::take(request.uri_mut()).into_parts();
    if h2 {
        let host = request.headers().get(HOST);
        if let Some(authority) = host.and_then(|h| Authority::try_from(h.as_bytes()).ok()) {
            request.headers_mut().remove(HOST);
            parts.scheme = Some(http::uri::Scheme::HTTPS);
            parts.authority = Some(authority);
        }
    } else {
        // After HTTP/2 the authority holds what the `Host` header said.
        if let Some(authority) = parts.authority.take() {
            if !request.headers().contains_key(HOST) {
                let host = HeaderValue::from_str(authority.as_str())
                    .map_err(|e| Error::with(Kind::InvalidInput, e))?;
                request.headers_mut().insert(HOST, host);
            }
        }
        parts.scheme = None;
    }
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    *request.uri_mut() =
        http::Uri::from_parts(parts).map_err(|e| Error::with(Kind::InvalidInput, e))?;
    Ok(())
}

/// `fut`'s output, or `None` once `deadline` passes. Generic rather than boxed, so that the
/// HTTP/1 and HTTP/2 send futures live inline in the caller's future (no allocation), and a
/// plain future rather than an `async fn`, which would keep `fut` twice (the argument and the
/// timeout around it). The timer is made only if `fut` has to wait.
fn until<F: std::future::Future>(deadline: Option<Instant>, fut: F) -> Until<F> {
    Until {
        fut,
        deadline,
        timer: None,
    }
}

pin_project_lite::pin_project! {
    struct Until<F> {
        #[pin]
        fut: F,
        deadline: Option<Instant>,
        #[pin]
        timer: Option<tokio::time::Sleep>,
    }
}

impl<F: std::future::Future> std::future::Future for Until<F> {
    type Output = Option<F::Output>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let mut this = self.project();
        if let std::task::Poll::Ready(out) = this.fut.poll(cx) {
            return std::task::Poll::Ready(Some(out));
        }
        let Some(at) = *this.deadline else {
            return std::task::Poll::Pending;
        };
        if this.timer.is_none() {
            this.timer.set(Some(tokio::time::sleep_until(at)));
        }
        match this.timer.as_pin_mut().map(|t| t.poll(cx)) {
            Some(std::task::Poll::Ready(())) => std::task::Poll::Ready(None),
            _ => std::task::Poll::Pending,
        }
    }
}

fn finish(
    pool: &OriginPool,
    mut in_use: InUse,
    response: http::Response<impl Into<BodyInner>>,
    info: ConnectionInfo,
    deadline: Option<Instant>,
) -> http::Response<Body> {
    let headers = response.headers();
    let keep_open = !headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    if let Some(ka) = headers.get(KEEP_ALIVE) {
        let ka = KeepAliveHeader::parse(ka.as_bytes());
        if let Some(t) = ka.timeout {
            pool.announce(t);
        }
        if let (Some(max), Checkout::H1(conn)) = (ka.max, in_use.checkout()) {
            conn.remaining = Some(max);
        }
    }
    response.map(|inner| Body::new(inner.into(), info, in_use, keep_open, deadline))
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
