//! The response body: returns its connection to the pool at its end, keeps the call's
//! deadline, and classifies failures as "may have executed"; and [`ConnectionInfo`], the facts
//! of the connection that carried the exchange.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use super::checkout::InUse as Pooled;
use super::h2::H2Body;
use super::stats::CloseReason;
use crate::error::{Error, Kind};

/// Facts about the connection that carried a request: [`Body::connection_info`].
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
    /// The HTTP version the connection speaks (`HTTP_11` or `HTTP_2`).
    pub version: http::Version,
    /// HTTP/2: the server's `SETTINGS_MAX_CONCURRENT_STREAMS` as last seen on the connection
    /// (`None` on HTTP/1.1, or when the server announced no limit).
    pub peer_max_streams: Option<u32>,
}

pin_project_lite::pin_project! {
    /// A response body from the pool.
    ///
    /// Read it to its end and the connection goes back to the pool; drop it earlier and the
    /// connection is closed ([`CloseReason::Abandoned`]). A failure while reading is
    /// [`Error::is_maybe_executed`]: the server had answered, so the function ran.
    /// [`Body::connection_info`] tells which connection carried the exchange.
    pub struct Body {
        #[pin]
        inner: Inner,
        info: ConnectionInfo,
        pooled: Option<Pooled>,
        keep_open: bool,
        deadline: Option<Instant>,
        // Made on the first wait for data only: most small bodies arrive with their headers.
        timer: Option<Pin<Box<Sleep>>>,
    }

    impl PinnedDrop for Body {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(pooled) = this.pooled.take() {
                if this.inner.is_end_stream() {
                    pooled.release(*this.keep_open);
                } else {
                    pooled.discard(CloseReason::Abandoned);
                }
            }
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}

impl Body {
    pub(crate) fn new(
        inner: Inner,
        info: ConnectionInfo,
        pooled: Pooled,
        keep_open: bool,
        deadline: Option<Instant>,
    ) -> Self {
        let mut body = Body {
            inner,
            info,
            pooled: Some(pooled),
            keep_open,
            deadline,
            timer: None,
        };
        if body.inner.is_end_stream() {
            if let Some(p) = body.pooled.take() {
                p.release(keep_open);
            }
        }
        body
    }

    /// Which connection carried this exchange, whether it was reused, and how long it had
    /// been idle (the `pool.send` span's fields, for callers without a tracing subscriber).
    pub fn connection_info(&self) -> ConnectionInfo {
        self.info
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let mut this = self.project();
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(None) => {
                if let Some(p) = this.pooled.take() {
                    p.release(*this.keep_open);
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    if let Some(p) = this.pooled.take() {
                        p.release(*this.keep_open);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(p) = this.pooled.take() {
                    p.discard(CloseReason::Error);
                }
                Poll::Ready(Some(Err(Error::with(Kind::Transport, e))))
            }
            Poll::Pending => {
                if let Some(at) = *this.deadline {
                    let timer = this
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                    if timer.as_mut().poll(cx).is_ready() {
                        if let Some(p) = this.pooled.take() {
                            p.discard(CloseReason::Abandoned);
                        }
                        return Poll::Ready(Some(Err(Error::with(
                            Kind::ResponseTimeout,
                            "response body not complete before the deadline",
                        ))));
                    }
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// What a response body reads from: hyper's HTTP/1.1 body or an `h2` stream.
    #[project = InnerProj]
    pub(crate) enum Inner {
        H1 { #[pin] body: Incoming },
        H2 { #[pin] body: H2Body },
    }
}

impl From<Incoming> for Inner {
    fn from(body: Incoming) -> Self {
        Inner::H1 { body }
    }
}

impl From<H2Body> for Inner {
    fn from(body: H2Body) -> Self {
        Inner::H2 { body }
    }
}

impl HttpBody for Inner {
    type Data = Bytes;
    type Error = crate::error::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project() {
            InnerProj::H1 { body } => body.poll_frame(cx).map_err(Into::into),
            InnerProj::H2 { body } => body.poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Inner::H1 { body } => body.is_end_stream(),
            Inner::H2 { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Inner::H1 { body } => body.size_hint(),
            Inner::H2 { body } => body.size_hint(),
        }
    }
}
