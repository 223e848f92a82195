//! A TCP stream shared between hyper's connection task, which reads and writes it, and the
//! pool, which only *peeks* at it before reusing the connection.
//!
//! Why: when a server closes an idle keep-alive connection, its FIN (or RST, or TLS
//! close_notify) reaches the socket some time before hyper's connection task gets to run and
//! notice. A request sent in that window lands on a dropped connection. A non-blocking
//! `recv(MSG_PEEK)` at checkout sees what the kernel already has, without registering any
//! waker, so it never disturbs the connection task's own readiness.

use std::io::{self, Read as _};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// What a peek at an idle connection's socket shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerState {
    /// Nothing pending: the connection looks open.
    Open,
    /// The server closed it (FIN), reset it, or sent bytes unasked (a TLS close_notify or an
    /// error response) — on an idle HTTP/1.1 connection each means it is going away.
    Gone,
}

/// Whether a read that fills less than its buffer proves the socket drained: true under epoll
/// and kqueue (edge-triggered), the selectors tokio uses on these systems.
const DRAINED_ON_SHORT_READ: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
));

/// A cheaply cloneable handle to one TCP stream.
#[derive(Debug, Clone)]
pub(crate) struct SharedTcp(Arc<TcpStream>);

impl SharedTcp {
    pub(crate) fn new(stream: TcpStream) -> Self {
        SharedTcp(Arc::new(stream))
    }

    /// Peeks one byte without blocking and without touching tokio's readiness state.
    pub(crate) fn peer_state(&self) -> PeerState {
        let mut byte = [MaybeUninit::<u8>::uninit(); 1];
        match SockRef::from(&*self.0).peek(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => PeerState::Open,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => PeerState::Open,
            _ => PeerState::Gone,
        }
    }
}

/// Reads initialise the caller's buffer first (safe code cannot read into uninitialised memory);
/// under TLS that buffer is rustls's own, already initialised, so this costs nothing there.
///
/// A read that fills less than the buffer drained the socket (epoll reports new data as a new
/// edge), so the readiness it was made under is cleared then and there, as tokio's own
/// `TcpStream` does: without that, the next read after every response would be one more
/// `recv` system call, answered `EAGAIN`. Readiness that arrived after this read began is
/// kept (tokio compares the readiness event's tick), so no wake-up is lost.
impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let len = unfilled.len();
            let mut drained = None;
            let result = self.0.try_io(Interest::READABLE, || {
                let n = (&*SockRef::from(&*self.0)).read(unfilled)?;
                if DRAINED_ON_SHORT_READ && n > 0 && n < len {
                    // `try_io` clears the readiness this read was made under.
                    drained = Some(n);
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Ok(n)
            });
            match (result, drained) {
                (Ok(n), _) | (Err(_), Some(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                (Err(e), None) if e.kind() == io::ErrorKind::WouldBlock => continue,
                (Err(e), None) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                res => return Poll::Ready(res),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                res => return Poll::Ready(res),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match SockRef::from(&*self.0).shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A `SharedTcp` client connected over loopback, and the server's end.
    async fn connected() -> (SharedTcp, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (SharedTcp::new(client), server)
    }

    #[tokio::test]
    async fn a_peek_sees_a_fin_that_nobody_has_read_yet() {
        let (shared, server) = connected().await;
        assert_eq!(shared.peer_state(), PeerState::Open);
        drop(server);
        // The FIN travels through loopback; poll the kernel's view, not any task's.
        let mut state = shared.peer_state();
        for _ in 0..1000 {
            if state == PeerState::Gone {
                break;
            }
            tokio::task::yield_now().await;
            state = shared.peer_state();
        }
        assert_eq!(state, PeerState::Gone);
    }

    #[tokio::test]
    async fn data_that_arrives_after_a_short_read_still_wakes_the_reader() {
        let (mut shared, mut server) = connected().await;
        let mut buf = [0u8; 64];
        server.write_all(b"0123456789").await.unwrap();
        let n = shared.read(&mut buf).await.unwrap();
        assert_eq!(
            &buf[..n],
            b"0123456789",
            "a short read: the socket is drained"
        );
        // The readiness of that read was cleared; the next bytes must still wake the reader.
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let n = shared.read(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        tokio::task::yield_now().await;
        server.write_all(b"later").await.unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), reader)
            .await
            .expect("the reader was woken")
            .unwrap();
        assert_eq!(got, b"later");
    }

    #[tokio::test]
    async fn reads_and_writes_go_through_while_the_pool_holds_a_clone() {
        let (mut shared, mut server) = connected().await;
        let probe = shared.clone();
        shared.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        server.write_all(b"pong").await.unwrap();
        shared.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        assert_eq!(probe.peer_state(), PeerState::Open);
    }
}
