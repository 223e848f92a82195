//! One HTTP/2 stream: the request body as an `http_body::Body`, the shared handler, the
//! response written back (or cut by `h2_reset_mid_response`), and its ledger record.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http::header::CONTENT_LENGTH;
use http::{HeaderValue, Request, Response};
use http_body::{Body, Frame};

use crate::local::conn::{ConnCtx, CLOSE_TIMEOUT};
use crate::local::handler;
use crate::local::ledger::{StreamOutcome, StreamRecord};
use crate::local::stats::bump;
use crate::wire::header as headers;

/// Most bytes of body `h2_reset_mid_response` sends before the reset: less than the smallest
/// initial stream window a client may have (64 KiB − 1), so they are never held by flow control.
pub(crate) const RESET_AFTER_BYTES: usize = 8 * 1024;

/// An HTTP/2 request body: DATA frames, released to flow control as they are read, then
/// trailers.
pub(crate) struct RecvBody {
    recv: RecvStream,
    data_done: bool,
}

impl RecvBody {
    pub(crate) fn new(recv: RecvStream) -> Self {
        RecvBody {
            recv,
            data_done: false,
        }
    }
}

impl Body for RecvBody {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        let this = self.get_mut();
        if !this.data_done {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // The handler keeps the whole body: give the window back at once.
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => this.data_done = true,
            }
        }
        match ready!(this.recv.poll_trailers(cx)) {
            Ok(Some(trailers)) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
            Ok(None) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.recv.is_end_stream()
    }
}

/// Writes the stream's ledger record when the stream ends, however it ends (a stream task
/// aborted with its connection records `Unanswered`).
pub(crate) struct Record {
    ctx: Arc<ConnCtx>,
    connection: u64,
    stream_id: u32,
    call_id: Option<String>,
    pub(crate) outcome: StreamOutcome,
}

impl Record {
    pub(crate) fn new<B>(
        ctx: Arc<ConnCtx>,
        connection: u64,
        req: &Request<B>,
        respond: &SendResponse<Bytes>,
    ) -> Self {
        let call_id = req
            .headers()
            .get(headers::SDK_INVOCATION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Record {
            ctx,
            connection,
            stream_id: respond.stream_id().as_u32(),
            call_id,
            outcome: StreamOutcome::Unanswered,
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        self.ctx.state.ledger.record_stream(StreamRecord {
            connection: self.connection,
            stream_id: self.stream_id,
            call_id: self.call_id.take(),
            outcome: self.outcome,
        });
    }
}

/// Resets a stream with `REFUSED_STREAM` before anything reads it: not processed.
pub(crate) fn refuse(mut record: Record, mut respond: SendResponse<Bytes>) {
    respond.send_reset(Reason::REFUSED_STREAM);
    bump(&record.ctx.state.stats.h2_streams_refused);
    record.outcome = StreamOutcome::Refused;
}

/// Runs the shared handler on one stream and writes its response.
pub(crate) async fn serve(
    mut record: Record,
    req: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    reset_mid_response: bool,
) {
    let ctx = record.ctx.clone();
    let (parts, body) = req.into_parts();
    let Ok(response) =
        handler::handle(ctx.clone(), Request::from_parts(parts, RecvBody::new(body))).await;
    let (head, body) = response.into_parts();
    let (exact, chunks) = body.into_parts();
    let mut head = Response::from_parts(head, ());
    if let Some(n) = exact {
        head.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(n));
    }
    let chunks: Vec<Bytes> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
    if reset_mid_response {
        let body: Bytes = match chunks.len() {
            1 => chunks[0].clone(),
            _ => chunks
                .iter()
                .fold(BytesMut::new(), |mut all, c| {
                    all.extend_from_slice(c);
                    all
                })
                .freeze(),
        };
        let part = body.slice(..(body.len() / 2).min(RESET_AFTER_BYTES));
        let Ok(mut send) = respond.send_response(head, false) else {
            return;
        };
        if !part.is_empty() && send.send_data(part, false).is_err() {
            return;
        }
        // RST_STREAM drops whatever of the stream is still queued: let the queued headers and
        // partial body leave first (the connection task writes them at its next turn).
        let written = ctx.shared.written.notified();
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, written).await;
        send.send_reset(Reason::INTERNAL_ERROR);
        bump(&ctx.state.stats.h2_resets_mid_response);
        record.outcome = StreamOutcome::ResetMidResponse;
        return;
    }
    let Ok(mut send) = respond.send_response(head, chunks.is_empty()) else {
        return;
    };
    let last = chunks.len().saturating_sub(1);
    for (i, chunk) in chunks.into_iter().enumerate() {
        // h2 queues the data and sends it as the client's windows allow.
        if send.send_data(chunk, i == last).is_err() {
            return;
        }
    }
    record.outcome = StreamOutcome::Answered;
}
