//! One connection's task: TLS handshake, hyper's HTTP/1 server (or its HTTP/2 server when ALPN
//! picked `h2`), the idle watcher (HTTP/1 only), and the takeovers by which faults write raw
//! bytes or close the connection their own way.
//!
//! The task ends when hyper ends the connection (peer closed, `Connection: close`), when the
//! idle watcher fires, after a takeover, or at server shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use super::faults::CloseKind;
use super::handler;
use super::io::{self, ConnShared, SharedIo, Slot, Stream, TrackIo};
use super::server::State;
use super::stats::bump;
use super::tls::ALPN_H2;

/// Longest a TLS handshake may take.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest an orderly close (TLS `close_notify` + FIN) may take before the socket is dropped.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

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
}

enum End {
    Hyper,
    Shutdown,
    Takeover(Takeover),
    Idle(CloseKind),
}

/// Serves one accepted connection until it ends.
pub(crate) async fn serve(
    tcp: TcpStream,
    state: Arc<State>,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let shared = Arc::new(ConnShared::new());
    let track = TrackIo::new(tcp, shared.clone());
    let stream = match tls {
        None => Stream::Plain(track),
        Some(acceptor) => {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(track));
            let result = tokio::select! {
                r = handshake => r,
                _ = shutdown.changed() => return,
            };
            match result {
                Ok(Ok(tls)) => Stream::Tls(Box::new(tls)),
                _ => {
                    bump(&state.stats.tls_failures);
                    bump(&state.stats.connections_closed);
                    return;
                }
            }
        }
    };
    // ALPN offers `h2` only when the endpoint was built with HTTP/2 on.
    let http2 =
        matches!(&stream, Stream::Tls(tls) if tls.get_ref().1.alpn_protocol() == Some(ALPN_H2));
    if http2 {
        bump(&state.stats.http2_connections);
    }
    let slot: Slot = Arc::new(std::sync::Mutex::new(Some(stream)));
    let (tx, mut takeovers) = mpsc::unbounded_channel();
    let ctx = Arc::new(ConnCtx {
        state: state.clone(),
        shared: shared.clone(),
        takeover: tx,
        http2,
    });
    let service = service_fn(move |req| handler::handle(ctx.clone(), req));
    let io = TokioIo::new(SharedIo(slot.clone()));
    let mut conn: Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>> = if http2 {
        Box::pin(
            http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .serve_connection(io, service),
        )
    } else {
        Box::pin(
            http1::Builder::new()
                .keep_alive(true)
                .header_read_timeout(None)
                .serve_connection(io, service),
        )
    };
    let idle = async {
        if http2 {
            // HTTP/2 idleness is not a request/response turn (see the builder's docs).
            std::future::pending().await
        } else {
            idle_watch(&shared, &state).await
        }
    };
    let end = tokio::select! {
        _ = &mut conn => End::Hyper,
        _ = shutdown.changed() => End::Shutdown,
        Some(t) = takeovers.recv() => End::Takeover(t),
        kind = idle => End::Idle(kind),
    };
    // Dropping hyper's connection drops the handler futures; the stream stays in the slot.
    drop(conn);
    let stream = io::lock(&slot).take();
    match (end, stream) {
        (End::Takeover(t), Some(stream)) => {
            bump(&state.stats.fault_closes);
            take_over(stream, &shared, t).await;
        }
        (End::Idle(kind), Some(stream)) => {
            match kind {
                CloseKind::Fin => bump(&state.stats.idle_closes),
                CloseKind::Reset => bump(&state.stats.idle_resets),
            }
            close(stream, &shared, kind, true).await;
        }
        _ => {}
    }
    bump(&state.stats.connections_closed);
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
