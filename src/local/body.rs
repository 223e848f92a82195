//! The response body type: one buffer with a known length, or a few chunks sent chunked.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// A body made of ready buffers.
#[derive(Debug, Default)]
pub(crate) struct LocalBody {
    chunks: VecDeque<Bytes>,
    /// `Some(len)` gives hyper a `Content-Length`; `None` makes it send chunked.
    exact: Option<u64>,
}

impl LocalBody {
    pub(crate) fn empty() -> Self {
        LocalBody {
            chunks: VecDeque::new(),
            exact: Some(0),
        }
    }

    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        LocalBody {
            exact: Some(bytes.len() as u64),
            chunks: VecDeque::from([bytes]),
        }
    }

    pub(crate) fn chunked(chunks: Vec<Bytes>) -> Self {
        LocalBody {
            chunks: chunks.into(),
            exact: None,
        }
    }
}

impl LocalBody {
    /// The exact length (if known) and the buffers, for a writer that is not hyper.
    pub(crate) fn into_parts(self) -> (Option<u64>, VecDeque<Bytes>) {
        (self.exact, self.chunks)
    }
}

impl Body for LocalBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(
            self.get_mut()
                .chunks
                .pop_front()
                .map(|b| Ok(Frame::data(b))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
