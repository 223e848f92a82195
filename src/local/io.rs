//! The connection's byte pipes.
//!
//! ```text
//! hyper ─▶ SharedIo ─▶ slot: Stream::{Plain, Tls(TlsStream<_>)} ─▶ TrackIo ─▶ TcpStream
//! ```
//! `TrackIo` sits on the socket: it stamps reads and writes (so the idle timer measures from
//! the last byte written) and resets the connection on drop when asked. `SharedIo` lets the
//! connection task take the stream back from hyper to write raw bytes or close it its own way.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

/// State of one connection shared by its task, its IO and its request handlers.
#[derive(Debug)]
pub(crate) struct ConnShared {
    start: Instant,
    /// Nanoseconds after `start` of the last byte written to the socket.
    last_write_nanos: AtomicU64,
    /// Orders reads and writes: the stamp of the last read and of the last write.
    clock: AtomicU64,
    read_stamp: AtomicU64,
    write_stamp: AtomicU64,
    /// Request handlers running now.
    pub(crate) active: AtomicUsize,
    /// Requests seen on this connection.
    pub(crate) requests: AtomicU64,
    /// The idle watcher waits for a write: `TrackIo` notifies `activity` on the next one.
    want_write: AtomicBool,
    /// Woken when a handler starts or ends, and on a write when `want_write` is set.
    pub(crate) activity: Notify,
    /// Set RST-on-close.
    reset_on_drop: AtomicBool,
    /// Woken (every waiter) after each write to the socket: an HTTP/2 stream that must see its
    /// queued frames leave before it resets waits on it.
    pub(crate) written: Notify,
}

impl ConnShared {
    pub(crate) fn new() -> Self {
        ConnShared {
            start: Instant::now(),
            last_write_nanos: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            read_stamp: AtomicU64::new(0),
            write_stamp: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            want_write: AtomicBool::new(false),
            activity: Notify::new(),
            reset_on_drop: AtomicBool::new(false),
            written: Notify::new(),
        }
    }

    /// When the last byte was written (the connection's start if none was).
    pub(crate) fn last_write(&self) -> Instant {
        self.start + Duration::from_nanos(self.last_write_nanos.load(Ordering::Acquire))
    }

    /// No handler runs and every byte read was answered by a later write.
    pub(crate) fn is_idle(&self) -> bool {
        self.active.load(Ordering::Acquire) == 0
            && self.read_stamp.load(Ordering::Acquire) <= self.write_stamp.load(Ordering::Acquire)
    }

    /// Asks for an `activity` notification at the next write.
    pub(crate) fn want_write(&self) {
        self.want_write.store(true, Ordering::Release);
    }

    /// Makes the socket close with RST when it is dropped.
    pub(crate) fn reset_on_drop(&self) {
        self.reset_on_drop.store(true, Ordering::Release);
    }

    fn stamp_read(&self) {
        let t = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        self.read_stamp.store(t, Ordering::Release);
    }

    fn stamp_write(&self) {
        let nanos =
            u64::try_from(Instant::now().duration_since(self.start).as_nanos()).unwrap_or(u64::MAX);
        self.last_write_nanos.store(nanos, Ordering::Release);
        let t = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        self.write_stamp.store(t, Ordering::Release);
        if self.want_write.swap(false, Ordering::AcqRel) {
            self.activity.notify_one();
        }
        self.written.notify_waiters();
    }
}

/// The socket, with read/write stamps and RST-on-drop.
#[derive(Debug)]
pub(crate) struct TrackIo {
    tcp: TcpStream,
    shared: Arc<ConnShared>,
    /// Bytes already read from the socket (while sniffing the HTTP/2 preface), served first.
    unread: bytes::Bytes,
}

impl TrackIo {
    pub(crate) fn new(tcp: TcpStream, shared: Arc<ConnShared>) -> Self {
        TrackIo {
            tcp,
            shared,
            unread: bytes::Bytes::new(),
        }
    }

    /// Puts bytes read from the socket back: the next reads return them first.
    pub(crate) fn unread(&mut self, bytes: bytes::Bytes) {
        self.unread = bytes;
    }

    /// Half-closes the write side (FIN) without any TLS alert.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        socket2::SockRef::from(&self.tcp).shutdown(std::net::Shutdown::Write)
    }
}

impl Drop for TrackIo {
    fn drop(&mut self) {
        if self.shared.reset_on_drop.load(Ordering::Acquire) {
            // Linger 0 turns the close into an RST. Failure leaves an ordinary FIN.
            let _ = socket2::SockRef::from(&self.tcp).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for TrackIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.unread.is_empty() {
            let n = this.unread.len().min(buf.remaining());
            buf.put_slice(&this.unread.split_to(n));
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.shared.stamp_read();
        }
        res
    }
}

impl AsyncWrite for TrackIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.tcp).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            this.shared.stamp_write();
        }
        res
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            this.shared.stamp_write();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// Plain or TLS stream over [`TrackIo`].
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(TrackIo),
    Tls(Box<tokio_rustls::server::TlsStream<TrackIo>>),
}

impl Stream {
    /// The socket underneath.
    pub(crate) fn track(&self) -> &TrackIo {
        match self {
            Stream::Plain(t) => t,
            Stream::Tls(tls) => tls.get_ref().0,
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Plain($s) => {
                let $s = Pin::new($s);
                $e
            }
            Stream::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}

/// The slot holding the stream while hyper uses it.
pub(crate) type Slot = Arc<Mutex<Option<Stream>>>;

/// Locks the slot (a panic elsewhere cannot corrupt an `Option<Stream>`).
pub(crate) fn lock(slot: &Slot) -> MutexGuard<'_, Option<Stream>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// hyper's view of the slot. Once the connection task took the stream, every call fails.
#[derive(Debug)]
pub(crate) struct SharedIo(pub(crate) Slot);

fn taken() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection taken over")
}

impl AsyncRead for SharedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match lock(&self.0).as_mut() {
            Some(s) => Pin::new(s).poll_read(cx, buf),
            None => Poll::Ready(Err(taken())),
        }
    }
}

impl AsyncWrite for SharedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match lock(&self.0).as_mut() {
            Some(s) => Pin::new(s).poll_write(cx, buf),
            None => Poll::Ready(Err(taken())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match lock(&self.0).as_mut() {
            Some(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            None => Poll::Ready(Err(taken())),
        }
    }

    fn is_write_vectored(&self) -> bool {
        lock(&self.0)
            .as_ref()
            .is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match lock(&self.0).as_mut() {
            Some(s) => Pin::new(s).poll_flush(cx),
            None => Poll::Ready(Err(taken())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match lock(&self.0).as_mut() {
            Some(s) => Pin::new(s).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
