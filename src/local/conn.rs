//! One connection's task: TLS handshake (or, on plain HTTP, a look for the HTTP/2 preface),
//! then hyper's HTTP/1 server or the `h2`-based HTTP/2 driver (`super::http2`) when ALPN picked
//! `h2`, the idle watcher (HTTP/1 only), drains, and the takeovers by which faults write raw
//! bytes or close the connection their own way.
//!
//! The task ends when the protocol side ends the connection (peer closed, `Connection: close`,
//! GOAWAY done), when the idle watcher fires, after a takeover, or at server shutdown.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use super::faults::CloseKind;
use super::handler;
use super::handshakes;
use super::http2::{self, Signals};
use super::io::{self, ConnShared, SharedIo, Slot, Stream, TrackIo};
use super::server::State;
use super::stats::bump;
use super::tls::ALPN_H2;

/// Longest a TLS handshake may take.
pub(crate) const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest an orderly close (TLS `close_notify` + FIN) may take before the socket is dropped.
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// What a fault asks the connection task to do instead of letting hyper respond.
#[derive(Debug)]
pub(crate) struct Takeover {
    head: Vec<u8>,
    body: Bytes,
    /// Write `head` one byte per interval.
    trickle: Option<Duration>,
    close: CloseKind,
    /// Send TLS `close_notify` before the FIN.
    orderly: bool,
}

impl Takeover {
    /// Close at once, without a response and without `close_notify`: a dying server.
    pub(crate) fn close(close: CloseKind) -> Self {
        Takeover {
            head: Vec::new(),
            body: Bytes::new(),
            trickle: None,
            close,
            orderly: false,
        }
    }

    /// Write these bytes, then close in an orderly way.
    pub(crate) fn write(head: Vec<u8>, body: Bytes, trickle: Option<Duration>) -> Self {
        Takeover {
            head,
            body,
            trickle,
            close: CloseKind::Fin,
            orderly: true,
        }
    }
}

/// What a request handler sees of its connection.
#[derive(Debug)]
pub(crate) struct ConnCtx {
    pub(crate) state: Arc<State>,
    pub(crate) shared: Arc<ConnShared>,
    pub(crate) takeover: mpsc::UnboundedSender<Takeover>,
    /// Served over HTTP/2: the HTTP/1-only faults do not apply.
    pub(crate) http2: bool,
    /// Served over TLS (an HTTP/2 request's `:scheme` must then be `https`).
    pub(crate) tls: bool,
}

/// Why a connection's serving loop ended.
pub(crate) enum End {
    /// The protocol side ended the connection (peer closed, `Connection: close`, GOAWAY done).
    Hyper,
    Shutdown,
    Takeover(Takeover),
    Idle(CloseKind),
}

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves one accepted connection until it ends.
pub(crate) async fn serve(
    tcp: TcpStream,
    state: Arc<State>,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let connection = state.next_connection();
    let drain = state.drain.subscribe();
    let shared = Arc::new(ConnShared::new());
    let mut track = TrackIo::new(tcp, shared.clone());
    let is_tls = tls.is_some();
    let (stream, http2) = match tls {
        None if state.http2.is_some() => {
            // h2c prior knowledge: a plain connection opening with the preface is HTTP/2.
            let sniffed = tokio::select! {
                r = sniff_preface(&mut track) => r,
                kind = idle_watch(&shared, &state) => {
                    count_idle_close(&state, kind);
                    close(Stream::Plain(track), &shared, kind, true).await;
                    bump(&state.stats.connections_closed);
                    return;
                }
                _ = shutdown.changed() => return,
            };
            (Stream::Plain(track), sniffed.unwrap_or(false))
        }
        None => (Stream::Plain(track), false),
        Some(acceptor) => {
            let handshake = tokio::time::timeout(
                TLS_HANDSHAKE_TIMEOUT,
                handshakes::accept(track, acceptor.config().clone(), &state),
            );
            let result = tokio::select! {
                r = handshake => r,
                _ = shutdown.changed() => return,
            };
            match result {
                Ok(Ok(tls)) => {
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(ALPN_H2);
                    (Stream::Tls(Box::new(tls)), h2)
                }
                _ => {
                    bump(&state.stats.tls_failures);
                    bump(&state.stats.connections_closed);
                    return;
                }
            }
        }
    };
    if http2 {
        bump(&state.stats.http2_connections);
    }
    let slot: Slot = Arc::new(std::sync::Mutex::new(Some(stream)));
    let (tx, takeovers) = mpsc::unbounded_channel();
    let ctx = Arc::new(ConnCtx {
        state: state.clone(),
        shared: shared.clone(),
        takeover: tx,
        http2,
        tls: is_tls,
    });
    let signals = Signals {
        takeovers,
        shutdown,
        drain,
    };
    let end = match state.http2.filter(|_| http2) {
        Some(config) => http2::serve(slot.clone(), ctx, connection, config, signals).await,
        None => serve_http1(slot.clone(), ctx, signals).await,
    };
    let stream = io::lock(&slot).take();
    match (end, stream) {
        (End::Takeover(t), Some(stream)) => {
            bump(&state.stats.fault_closes);
            take_over(stream, &shared, t).await;
        }
        (End::Idle(kind), Some(stream)) => {
            count_idle_close(&state, kind);
            close(stream, &shared, kind, true).await;
        }
        _ => {}
    }
    bump(&state.stats.connections_closed);
}

fn count_idle_close(state: &State, kind: CloseKind) {
    match kind {
        CloseKind::Fin => bump(&state.stats.idle_closes),
        CloseKind::Reset => bump(&state.stats.idle_resets),
    }
}

/// Reads a plain connection's first bytes until they are, or cannot be, the HTTP/2 preface,
/// then puts them back for whoever serves the connection.
async fn sniff_preface(track: &mut TrackIo) -> std::io::Result<bool> {
    let mut buf = Vec::with_capacity(H2_PREFACE.len());
    let mut chunk = [0u8; H2_PREFACE.len()];
    let result = loop {
        let want = H2_PREFACE.len() - buf.len();
        match track.read(&mut chunk[..want]).await {
            Ok(0) => break Ok(false),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => break Err(e),
        }
        if !H2_PREFACE.starts_with(&buf) {
            break Ok(false);
        }
        if buf.len() == H2_PREFACE.len() {
            break Ok(true);
        }
    };
    track.unread(Bytes::from(buf));
    result
}

/// hyper's HTTP/1 server on the slot, with the idle watcher and graceful drains.
async fn serve_http1(slot: Slot, ctx: Arc<ConnCtx>, mut signals: Signals) -> End {
    let state = ctx.state.clone();
    let shared = ctx.shared.clone();
    let service = service_fn(move |req| handler::handle(ctx.clone(), req));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(SharedIo(slot)), service);
    let mut conn = std::pin::pin!(conn);
    let idle = idle_watch(&shared, &state);
    let mut idle = std::pin::pin!(idle);
    let mut draining = false;
    // Dropping hyper's connection drops the handler futures; the stream stays in the slot.
    loop {
        tokio::select! {
            _ = conn.as_mut() => return End::Hyper,
            _ = signals.shutdown.changed() => return End::Shutdown,
            Some(t) = signals.takeovers.recv() => return End::Takeover(t),
            kind = idle.as_mut() => return End::Idle(kind),
            Ok(()) = signals.drain.changed(), if !draining => {
                // Closes at once when idle, else after this exchange (`Connection: close`).
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Completes when the connection has been idle for the configured limit, measured from the
/// last byte written; returns how to close it.
async fn idle_watch(shared: &ConnShared, state: &State) -> CloseKind {
    loop {
        // Registered before the configuration is read, so no change is missed.
        let changed = state.faults.changed();
        let Some((limit, kind)) = state.faults.snapshot().idle_limit() else {
            changed.await;
            continue;
        };
        if !shared.is_idle() {
            shared.want_write();
            tokio::select! {
                _ = shared.activity.notified() => {}
                _ = changed => {}
            }
            continue;
        }
        // A limit too long for the clock never comes: wait for the configuration to change.
        let Some(deadline) = shared.last_write().checked_add(limit) else {
            changed.await;
            continue;
        };
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {
                let now = tokio::time::Instant::now();
                if shared.is_idle()
                    && shared.last_write().checked_add(limit).is_some_and(|at| at <= now)
                {
                    return kind;
                }
            }
            _ = shared.activity.notified() => {}
            _ = changed => {}
        }
    }
}

async fn take_over(mut stream: Stream, shared: &ConnShared, t: Takeover) {
    let written = async {
        match t.trickle {
            Some(interval) => {
                for byte in &t.head {
                    stream.write_all(std::slice::from_ref(byte)).await?;
                    stream.flush().await?;
                    tokio::time::sleep(interval).await;
                }
            }
            None => stream.write_all(&t.head).await?,
        }
        stream.write_all(&t.body).await?;
        stream.flush().await
    }
    .await;
    if written.is_err() {
        return;
    }
    close(stream, shared, t.close, t.orderly).await;
}

/// Closes the stream: RST, or FIN (after TLS `close_notify` when `orderly`).
async fn close(mut stream: Stream, shared: &ConnShared, kind: CloseKind, orderly: bool) {
    match kind {
        CloseKind::Reset => shared.reset_on_drop(),
        CloseKind::Fin if orderly => {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, stream.shutdown()).await;
        }
        CloseKind::Fin => {
            let _ = stream.track().shutdown_write();
        }
    }
    drop(stream);
}
