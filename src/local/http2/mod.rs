//! The HTTP/2 side of the endpoint, on the `h2` crate's server (hyper's does not expose
//! `REFUSED_STREAM` or a chosen GOAWAY): one connection's driver here, one stream in `stream`.
//!
//! The driver accepts streams and hands each to a task of its own (running the handler shared
//! with HTTP/1.1), and applies the connection-level HTTP/2 faults: GOAWAY after N streams, on
//! idle, abrupt; refused streams; the black hole; the stream limit (read when the connection
//! starts). A GOAWAY's last-stream-id is the `h2` crate's: the highest stream it received.
//! Every stream at or below it is accepted and served here; the crate ignores any stream above
//! it, so none of those reaches the handler.

mod stream;

use std::sync::Arc;

use bytes::Bytes;
use h2::Reason;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::conn::{ConnCtx, End, Takeover};
use super::faults::FaultConfig;
use super::io::{SharedIo, Slot};
use super::stats::bump;

/// How often a connection closing by `h2_close_after_streams` checks whether the `h2` crate
/// has queued its served streams' last bytes (the crate signals no such event).
const CLOSE_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(1);

/// The HTTP/2 settings of an endpoint (see the builder).
#[derive(Clone, Copy, Debug)]
pub(crate) struct H2Config {
    pub(crate) max_concurrent_streams: u32,
    pub(crate) stream_window: u32,
    pub(crate) connection_window: u32,
}

/// What one connection task listens to besides the connection itself.
pub(crate) struct Signals {
    pub(crate) takeovers: mpsc::UnboundedReceiver<Takeover>,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) drain: watch::Receiver<u64>,
}

/// A stream the connection accepted: its request and where its response goes.
type Accepted = (
    http::Request<h2::RecvStream>,
    h2::server::SendResponse<Bytes>,
);

/// What woke the driver.
enum Event {
    Stream(Option<Result<Accepted, h2::Error>>),
    StreamEnded,
    Idle,
    CloseCheck,
    Drain,
    FaultsChanged,
    End(End),
}

/// Per-connection fault state: which one-shot faults already fired.
#[derive(Default)]
struct Fired {
    goaway: bool,
    /// `h2_close_after_streams` reached: later streams are refused, the GOAWAY waits for the
    /// served ones to be sent.
    closing: bool,
    abrupt: bool,
    black_hole: bool,
}

/// Serves one HTTP/2 connection (TLS with ALPN `h2`, or h2c prior knowledge) until it ends.
pub(crate) async fn serve(
    slot: Slot,
    ctx: Arc<ConnCtx>,
    connection: u64,
    config: H2Config,
    mut signals: Signals,
) -> End {
    let state = ctx.state.clone();
    let mut fired = Fired::default();
    if let Some(end) = black_hole(&ctx, &mut fired, &mut signals).await {
        return end;
    }
    let limit = state
        .faults
        .snapshot()
        .h2_max_concurrent_streams
        .unwrap_or(config.max_concurrent_streams);
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(limit)
        .initial_window_size(config.stream_window)
        .initial_connection_window_size(config.connection_window)
        // Frames up to 1 MiB (the protocol's default is 16 KiB): a 6 MB body in 6 frames.
        .max_frame_size(1 << 20)
        .handshake::<_, Bytes>(SharedIo(slot));
    let mut conn = tokio::select! {
        r = handshake => match r {
            Ok(conn) => conn,
            Err(_) => return End::Hyper,
        },
        _ = signals.shutdown.changed() => return End::Shutdown,
    };
    let mut streams = JoinSet::new();
    let mut accepted: u64 = 0;
    let mut idle_since = Instant::now();
    loop {
        if let Some(end) = black_hole(&ctx, &mut fired, &mut signals).await {
            return end;
        }
        // Registered before the configuration is read, so no change is missed.
        let changed = state.faults.changed();
        let faults = state.faults.snapshot();
        let idle_at = faults
            .h2_goaway_on_idle
            .filter(|_| streams.is_empty() && !fired.goaway)
            .and_then(|t| idle_since.checked_add(t));
        // `h2_close_after_streams`: every served stream's task ended; the GOAWAY goes once
        // the `h2` crate has queued their last bytes too (it has no event for that: re-check).
        let close_check = (fired.closing && !fired.abrupt && streams.is_empty())
            .then(|| Instant::now() + CLOSE_CHECK_INTERVAL);
        let event = tokio::select! {
            biased;
            _ = signals.shutdown.changed() => Event::End(End::Shutdown),
            Some(t) = signals.takeovers.recv() => Event::End(End::Takeover(t)),
            Some(_) = streams.join_next(), if !streams.is_empty() => Event::StreamEnded,
            r = conn.accept() => Event::Stream(r),
            _ = sleep_until(idle_at) => Event::Idle,
            _ = sleep_until(close_check) => Event::CloseCheck,
            Ok(()) = signals.drain.changed() => Event::Drain,
            _ = changed => Event::FaultsChanged,
        };
        match event {
            Event::End(end) => return end,
            Event::Stream(None | Some(Err(_))) => return End::Hyper,
            Event::Stream(Some(Ok((req, respond)))) => {
                accepted += 1;
                bump(&state.stats.h2_streams);
                let record = stream::Record::new(ctx.clone(), connection, &req, &respond);
                let past_close = fired.closing
                    || faults
                        .h2_close_after_streams
                        .is_some_and(|n| accepted > u64::from(n.max(1)));
                if past_close || faults.h2_refuse.is_some_and(|r| r.refuses(accepted)) {
                    stream::refuse(record, respond);
                } else {
                    streams.spawn(stream::serve(
                        record,
                        req,
                        respond,
                        faults.h2_reset_mid_response,
                    ));
                }
                stream_faults(&mut conn, &ctx, &faults, accepted, &mut fired);
            }
            Event::StreamEnded => {
                if streams.is_empty() {
                    idle_since = Instant::now();
                }
            }
            Event::Idle | Event::Drain => go_away(&mut conn, &ctx, &mut fired),
            Event::CloseCheck => {
                if !conn.has_streams() {
                    // A single GOAWAY(last stream received, NO_ERROR), then close, as nginx at
                    // `keepalive_requests`: streams arriving after it are above its id.
                    fired.abrupt = true;
                    conn.abrupt_shutdown(Reason::NO_ERROR);
                    bump(&state.stats.h2_goaways_sent);
                }
            }
            Event::FaultsChanged => {}
        }
    }
}

/// Completes at `at`, never when `None`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

type Conn = h2::server::Connection<SharedIo, Bytes>;

/// A graceful GOAWAY (once per connection).
fn go_away(conn: &mut Conn, ctx: &ConnCtx, fired: &mut Fired) {
    if !fired.goaway && !fired.abrupt {
        fired.goaway = true;
        conn.graceful_shutdown();
        bump(&ctx.state.stats.h2_goaways_sent);
    }
}

/// The faults that count accepted streams: GOAWAY after N, abrupt GOAWAY after N, close
/// after N.
fn stream_faults(
    conn: &mut Conn,
    ctx: &ConnCtx,
    faults: &FaultConfig,
    accepted: u64,
    fired: &mut Fired,
) {
    if let Some(abrupt) = faults.h2_abrupt_goaway {
        if !fired.abrupt && accepted >= u64::from(abrupt.after_streams.max(1)) {
            fired.abrupt = true;
            conn.abrupt_shutdown(Reason::from(abrupt.code));
            bump(&ctx.state.stats.h2_abrupt_goaways);
            return;
        }
    }
    if faults
        .h2_close_after_streams
        .is_some_and(|n| accepted >= u64::from(n.max(1)))
    {
        fired.closing = true;
    }
    if faults
        .h2_goaway_after_streams
        .is_some_and(|n| accepted >= u64::from(n.max(1)))
    {
        go_away(conn, ctx, fired);
    }
}

/// While `h2_black_hole` is on, the connection is neither read nor written (its stream tasks
/// go on, their output held); returns how the connection ended if it ended meanwhile.
async fn black_hole(ctx: &ConnCtx, fired: &mut Fired, signals: &mut Signals) -> Option<End> {
    loop {
        let changed = ctx.state.faults.changed();
        if !ctx.state.faults.snapshot().h2_black_hole {
            return None;
        }
        if !fired.black_hole {
            fired.black_hole = true;
            bump(&ctx.state.stats.h2_black_holes);
        }
        tokio::select! {
            _ = changed => {}
            _ = signals.shutdown.changed() => return Some(End::Shutdown),
            Some(t) = signals.takeovers.recv() => return Some(End::Takeover(t)),
        }
    }
}
