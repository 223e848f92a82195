//! One HTTP/2 stream on the `h2` engine, driven directly: opening it with the request's
//! headers, sending the body, and the response body with its flow control.
//!
//! The pool owns each stream's response future from the moment the stream exists, so the
//! stream's own outcome — not the connection's — decides the verdict. A stream that waits
//! inside `h2` to open (the engine still counts a stream whose response ended but whose
//! request body is not all sent) and is then cut off by a GOAWAY fails with that GOAWAY: it
//! is above the last-stream-id and provably never reached the server. hyper's HTTP/2 client
//! dropped such a stream's callback instead ("dispatch task is gone"), which left a request
//! that never left the client looking "may have executed".

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};
use h2::{RecvStream, SendStream};
use http::header::{CONNECTION, CONTENT_LENGTH, TE, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderName, HeaderValue, Method};
use http_body::{Body as _, Frame, SizeHint};

use tokio::sync::oneshot;

use crate::pool::keep_alive::KEEP_ALIVE;

/// Headers that name a hop, which HTTP/2 forbids (RFC 9113 §8.2.2); `h2` rejects a request
/// carrying one (the list `h2`'s `check_headers` refuses), so they are dropped (`TE` only when
/// it says something other than `trailers`). Left in, such a request would fail to open on
/// every connection, each of which would be drained as if it were going away.
const HOP_BY_HOP: [HeaderName; 5] = [
    CONNECTION,
    TRANSFER_ENCODING,
    UPGRADE,
    KEEP_ALIVE,
    HeaderName::from_static("proxy-connection"),
];

/// The SDK's per-call id (the lean path sends it too). Different on every request, so over
/// HTTP/2 it is kept out of the HPACK dynamic table (sent never-indexed, RFC 7541 §6.2.3),
/// where each one (~90 bytes of a 4 KiB table) would evict headers that repeat on every call.
const AMZ_SDK_INVOCATION_ID: HeaderName =
    HeaderName::from_static(crate::wire::header::SDK_INVOCATION_ID);

/// A stream just opened: its response, and the sender of a streaming request body.
pub(crate) type Opened = (ResponseFuture, Option<BodyPipe>);

/// Opens a stream for `request` on `tx` and starts its body. `Err` hands the request back
/// whole: no stream was made, so nothing reached the server (the connection is going away or
/// gone). The body is sent at once when it is in memory (every Lambda API call's); a streaming
/// body is sent by its own task, within the flow-control window, for as long as the caller
/// holds the returned [`BodyPipe`].
///
/// `copy`: whether the caller keeps a copy of `request` to resend (see `send_h2`). With one,
/// the request's head goes to `h2` as it is and `Err` hands back nothing (resend the copy);
/// without, the head is copied first so that `Err` can hand the request back.
#[allow(clippy::result_large_err)]
pub(crate) fn open(
    tx: &mut SendRequest<Bytes>,
    request: http::Request<SdkBody>,
    copy: bool,
) -> Result<Opened, (Option<http::Request<SdkBody>>, h2::Error)> {
    let (mut parts, body) = request.into_parts();
    prepare_head(&mut parts.headers, &parts.method, body.content_length());
    let eos = body.is_end_stream();
    // `h2` takes the head by value and clears its extensions.
    let (head, keep) = if copy {
        parts.version = http::Version::HTTP_2;
        (http::Request::from_parts(parts, ()), None)
    } else {
        let keep = http::Request::from_parts(parts, ());
        (head_of(&keep), Some(keep))
    };
    match tx.send_request(head, eos) {
        Ok((response, stream)) => {
            let pipe = if eos { None } else { send_body(body, stream) };
            Ok((response, pipe))
        }
        Err(e) => {
            let unsent = keep.map(|keep| {
                let (parts, ()) = keep.into_parts();
                http::Request::from_parts(parts, body)
            });
            Err((unsent, e))
        }
    }
}

/// Puts a request's headers in HTTP/2's form: no connection-specific header, a
/// `content-length` for a body of known length, the per-call id never indexed.
fn prepare_head(headers: &mut http::HeaderMap, method: &Method, content_length: Option<u64>) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    if headers.get(TE).is_some_and(|v| v != "trailers") {
        headers.remove(TE);
    }
    if let Some(len) = content_length {
        if (len != 0 || has_payload(method)) && !headers.contains_key(CONTENT_LENGTH) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
    }
    if let Some(id) = headers.get_mut(AMZ_SDK_INVOCATION_ID) {
        id.set_sensitive(true);
    }
}

fn has_payload(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::CONNECT
    )
}

fn head_of(request: &http::Request<()>) -> http::Request<()> {
    let mut head = http::Request::new(());
    *head.method_mut() = request.method().clone();
    *head.uri_mut() = request.uri().clone();
    *head.version_mut() = http::Version::HTTP_2;
    *head.headers_mut() = request.headers().clone();
    head
}

/// The caller's hold on the task that sends a streaming request body. Dropping it — the caller
/// left, its deadline passed, its exchange ended — stops that task, which resets the stream
/// (`CANCEL`) unless the body was all sent: a request body is never sent on for a caller that
/// is gone, and the stream stops counting against the server's concurrent-stream limit.
pub(crate) struct BodyPipe {
    _caller: oneshot::Sender<()>,
}

/// Sends `body` on `stream`: an in-memory body in one call (`h2` queues it and sends it as the
/// window allows), anything else from a task that the returned [`BodyPipe`] keeps going.
fn send_body(mut body: SdkBody, mut stream: SendStream<Bytes>) -> Option<BodyPipe> {
    let mut cx = Context::from_waker(Waker::noop());
    let first = match Pin::new(&mut body).poll_frame(&mut cx) {
        Poll::Pending => None,
        Poll::Ready(first) => match first {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if body.is_end_stream() => {
                    let _ = stream.send_data(data, true);
                    return None;
                }
                Ok(data) => Some(data),
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        let _ = stream.send_trailers(trailers);
                    }
                    return None;
                }
            },
            None => {
                let _ = stream.send_data(Bytes::new(), true);
                return None;
            }
            Some(Err(_)) => {
                stream.send_reset(h2::Reason::CANCEL);
                return None;
            }
        },
    };
    let (caller, gone) = oneshot::channel();
    tokio::spawn(pipe(body, stream, first, gone));
    Some(BodyPipe { _caller: caller })
}

/// Sends a streaming body on `stream` until it ends, or resets the stream (`CANCEL`) when the
/// caller lets go of its [`BodyPipe`] first.
async fn pipe(
    mut body: SdkBody,
    mut stream: SendStream<Bytes>,
    first: Option<Bytes>,
    mut caller_gone: oneshot::Receiver<()>,
) {
    let sent = tokio::select! {
        biased;
        _ = &mut caller_gone => false,
        () = send_all(&mut body, &mut stream, first) => true,
    };
    if !sent {
        stream.send_reset(h2::Reason::CANCEL);
    }
}

/// Sends a streaming body frame by frame, each within the capacity `h2` grants, so that no
/// more than the window is buffered. A body that fails resets the stream (`CANCEL`).
async fn send_all(body: &mut SdkBody, stream: &mut SendStream<Bytes>, first: Option<Bytes>) {
    use http_body_util::BodyExt;
    let mut next = first;
    loop {
        let data = match next.take() {
            Some(data) => data,
            None => match body.frame().await {
                None => {
                    let _ = stream.send_data(Bytes::new(), true);
                    return;
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            let _ = stream.send_trailers(trailers);
                        }
                        return;
                    }
                },
                Some(Err(_)) => {
                    stream.send_reset(h2::Reason::CANCEL);
                    return;
                }
            },
        };
        if send_within_window(stream, data).await.is_err() {
            return;
        }
    }
}

async fn send_within_window(stream: &mut SendStream<Bytes>, mut data: Bytes) -> Result<(), ()> {
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let granted = match poll_fn(|cx| stream.poll_capacity(cx)).await {
            Some(Ok(n)) => n,
            _ => return Err(()),
        };
        if granted == 0 {
            continue;
        }
        let chunk = data.split_to(granted.min(data.len()));
        stream.send_data(chunk, false).map_err(|_| ())?;
    }
    Ok(())
}

/// A response body read from an `h2` stream. Received data is given back to the flow-control
/// window as it is handed on; trailers follow the data. Dropping it before its end resets the
/// stream (`h2` sends `CANCEL`), and stops a request body still being sent.
pub(crate) struct H2Body {
    stream: RecvStream,
    /// A streaming request body still being sent, kept going while this body lives.
    _pipe: Option<BodyPipe>,
    data_done: bool,
    /// From `Content-Length`, less what was read; `None` when not announced.
    remaining: Option<u64>,
}

impl H2Body {
    pub(crate) fn new(
        stream: RecvStream,
        content_length: Option<u64>,
        pipe: Option<BodyPipe>,
    ) -> Self {
        H2Body {
            stream,
            _pipe: pipe,
            data_done: false,
            remaining: content_length,
        }
    }
}

impl http_body::Body for H2Body {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        if !self.data_done {
            match self.stream.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    let _ = self.stream.flow_control().release_capacity(data.len());
                    if let Some(r) = self.remaining.as_mut() {
                        *r = r.saturating_sub(data.len() as u64);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => self.data_done = true,
                Poll::Pending => return Poll::Pending,
            }
        }
        match self.stream.poll_trailers(cx) {
            Poll::Ready(Ok(Some(trailers))) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
            Poll::Ready(Ok(None)) => Poll::Ready(None),
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.stream.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_loses_its_hop_headers_gains_a_length_and_sends_the_call_id_never_indexed() {
        let mut headers = http::HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive"),
            ("proxy-connection", "keep-alive"),
            ("te", "gzip"),
            (
                "amz-sdk-invocation-id",
                "0f3c5b9e-2a71-4c55-9d1e-8f6a2b7c4d10",
            ),
            ("user-agent", "lambda-vpce"),
        ] {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        prepare_head(&mut headers, &Method::POST, Some(2));
        assert!(!headers.contains_key(CONNECTION));
        assert!(!headers.contains_key("proxy-connection"));
        assert!(!headers.contains_key(TE));
        assert_eq!(headers[CONTENT_LENGTH], "2");
        assert!(headers[AMZ_SDK_INVOCATION_ID].is_sensitive());
        assert!(
            !headers[http::header::USER_AGENT].is_sensitive(),
            "repeats: indexed"
        );
    }
}
