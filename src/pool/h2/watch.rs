//! Watching what an HTTP/2 server says about its connection, as the bytes arrive.
//!
//! The `h2` crate's `SendRequest` exposes neither the peer's `SETTINGS_MAX_CONCURRENT_STREAMS`
//! nor the moment a GOAWAY arrives. Both decide what the pool
//! may do with a shared connection: how many streams it may lease, and whether it may lease any
//! more at all. [`Watched`] sits between the TLS stream and `h2` and reads the frame headers of
//! everything the server sends (9 bytes a frame; payloads are skipped, not copied, except the
//! few bytes of a SETTINGS or GOAWAY frame), so the pool learns both the instant `h2` does.
//!
//! The server's side of an HTTP/2 connection is a plain sequence of frames (RFC 9113 §3.4: its
//! preface is a SETTINGS frame, with no magic string), so the parser needs no other state.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

const FRAME_HEADER: usize = 9;
const TYPE_SETTINGS: u8 = 0x4;
const TYPE_GOAWAY: u8 = 0x7;
const FLAG_ACK: u8 = 0x1;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
/// SETTINGS payloads longer than this are not kept (no server sends one: 6 bytes a setting).
const MAX_KEPT_PAYLOAD: usize = 256;
/// `max_streams` before the server's SETTINGS said otherwise: none.
const NO_LIMIT: u32 = u32::MAX;

/// What the server told the client about one connection. Shared by the connection's reader
/// ([`Watched`]) and the pool, lock-free.
#[derive(Debug)]
pub(crate) struct PeerSettings {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`, [`NO_LIMIT`] until one arrives.
    max_streams: AtomicU32,
    /// Whether any SETTINGS frame arrived yet.
    settings_seen: AtomicBool,
    /// A GOAWAY arrived: the connection takes no new stream.
    goaway: AtomicBool,
    /// The last GOAWAY's last-stream-id and error code.
    goaway_last_stream: AtomicU32,
    goaway_code: AtomicU32,
    /// Woken when the first SETTINGS frame arrives.
    settings_arrived: Notify,
}

impl Default for PeerSettings {
    fn default() -> Self {
        PeerSettings {
            max_streams: AtomicU32::new(NO_LIMIT),
            settings_seen: AtomicBool::new(false),
            goaway: AtomicBool::new(false),
            goaway_last_stream: AtomicU32::new(0),
            goaway_code: AtomicU32::new(0),
            settings_arrived: Notify::new(),
        }
    }
}

impl PeerSettings {
    /// The server's `SETTINGS_MAX_CONCURRENT_STREAMS`, once it sent one.
    pub(crate) fn max_streams(&self) -> Option<u32> {
        Some(self.max_streams.load(Relaxed)).filter(|&n| n != NO_LIMIT)
    }

    /// Whether the server's SETTINGS arrived (its limit, or that it has none, is known).
    pub(crate) fn settings_seen(&self) -> bool {
        self.settings_seen.load(Relaxed)
    }

    /// Waits until the server's first SETTINGS frame arrived.
    pub(crate) async fn wait_for_settings(&self) {
        loop {
            let arrived = self.settings_arrived.notified();
            tokio::pin!(arrived);
            // Registered before the check, so a frame arriving in between is not missed.
            arrived.as_mut().enable();
            if self.settings_seen() {
                return;
            }
            arrived.await;
        }
    }

    /// Whether the server sent GOAWAY.
    pub(crate) fn goaway(&self) -> bool {
        self.goaway.load(Relaxed)
    }

    /// The last GOAWAY's `(last_stream_id, error_code)`, if one arrived.
    pub(crate) fn goaway_frame(&self) -> Option<(u32, u32)> {
        self.goaway().then(|| {
            (
                self.goaway_last_stream.load(Relaxed),
                self.goaway_code.load(Relaxed),
            )
        })
    }

    fn on_frame(&self, kind: u8, flags: u8, payload: &[u8]) {
        match kind {
            TYPE_SETTINGS if flags & FLAG_ACK == 0 => {
                for setting in payload.chunks_exact(6) {
                    let id = u16::from_be_bytes([setting[0], setting[1]]);
                    if id == SETTINGS_MAX_CONCURRENT_STREAMS {
                        let value =
                            u32::from_be_bytes([setting[2], setting[3], setting[4], setting[5]]);
                        self.max_streams.store(value.min(NO_LIMIT - 1), Relaxed);
                    }
                }
                if !self.settings_seen.swap(true, Relaxed) {
                    self.settings_arrived.notify_waiters();
                }
            }
            TYPE_GOAWAY if payload.len() >= 8 => {
                let last = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                let code = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                self.goaway_last_stream.store(last & 0x7fff_ffff, Relaxed);
                self.goaway_code.store(code, Relaxed);
                self.goaway.store(true, Relaxed);
                tracing::debug!(
                    last_stream_id = last & 0x7fff_ffff,
                    error_code = code,
                    "server sent GOAWAY"
                );
            }
            _ => {}
        }
    }
}

/// Where the parser is in the server's byte stream.
#[derive(Debug)]
struct Parser {
    header: [u8; FRAME_HEADER],
    have: usize,
    /// Payload bytes of the current frame still to come (0: reading a header).
    remaining: usize,
    kind: u8,
    flags: u8,
    /// The payload kept for SETTINGS and GOAWAY frames.
    kept: Vec<u8>,
    keep: bool,
}

impl Parser {
    fn new() -> Self {
        Parser {
            header: [0; FRAME_HEADER],
            have: 0,
            remaining: 0,
            kind: 0,
            flags: 0,
            kept: Vec::new(),
            keep: false,
        }
    }

    fn feed(&mut self, mut bytes: &[u8], peer: &PeerSettings) {
        while !bytes.is_empty() {
            if self.remaining == 0 {
                let take = (FRAME_HEADER - self.have).min(bytes.len());
                self.header[self.have..self.have + take].copy_from_slice(&bytes[..take]);
                self.have += take;
                bytes = &bytes[take..];
                if self.have < FRAME_HEADER {
                    return;
                }
                self.have = 0;
                let h = self.header;
                let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
                self.kind = h[3];
                self.flags = h[4];
                self.keep = matches!(self.kind, TYPE_SETTINGS | TYPE_GOAWAY);
                self.kept.clear();
                if len == 0 {
                    peer.on_frame(self.kind, self.flags, &[]);
                    continue;
                }
                self.remaining = len;
            }
            let take = self.remaining.min(bytes.len());
            if self.keep && self.kept.len() < MAX_KEPT_PAYLOAD {
                let room = MAX_KEPT_PAYLOAD - self.kept.len();
                self.kept.extend_from_slice(&bytes[..take.min(room)]);
            }
            self.remaining -= take;
            bytes = &bytes[take..];
            if self.remaining == 0 && self.keep {
                peer.on_frame(self.kind, self.flags, &self.kept);
            }
        }
    }
}

/// A stream whose inbound bytes are read for SETTINGS and GOAWAY frames on their way to `h2`.
#[derive(Debug)]
pub(crate) struct Watched<T> {
    inner: T,
    parser: Parser,
    peer: Arc<PeerSettings>,
}

impl<T> Watched<T> {
    pub(crate) fn new(inner: T, peer: Arc<PeerSettings>) -> Self {
        Watched {
            inner,
            parser: Parser::new(),
            peer,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            this.parser.feed(&buf.filled()[before..], &this.peer);
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = payload.len();
        let mut f = vec![
            (len >> 16) as u8,
            (len >> 8) as u8,
            len as u8,
            kind,
            flags,
            0,
            0,
            0,
            0,
        ];
        f.extend_from_slice(payload);
        f
    }

    fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
        let mut p = Vec::new();
        for (id, v) in pairs {
            p.extend_from_slice(&id.to_be_bytes());
            p.extend_from_slice(&v.to_be_bytes());
        }
        frame(TYPE_SETTINGS, 0, &p)
    }

    fn goaway(last: u32, code: u32) -> Vec<u8> {
        let mut p = last.to_be_bytes().to_vec();
        p.extend_from_slice(&code.to_be_bytes());
        frame(TYPE_GOAWAY, 0, &p)
    }

    fn feed_in_pieces(bytes: &[u8], piece: usize) -> PeerSettings {
        let peer = PeerSettings::default();
        let mut parser = Parser::new();
        for chunk in bytes.chunks(piece) {
            parser.feed(chunk, &peer);
        }
        peer
    }

    #[test]
    fn the_servers_stream_limit_and_goaway_are_read_however_the_bytes_are_split() {
        let mut stream = settings(&[(0x4, 65_535), (SETTINGS_MAX_CONCURRENT_STREAMS, 128)]);
        stream.extend(frame(TYPE_SETTINGS, FLAG_ACK, &[]));
        stream.extend(frame(0x0, 0x1, &[7u8; 5000])); // DATA, skipped
        stream.extend(frame(0x6, 0, &[1u8; 8])); // PING, skipped
        stream.extend(goaway(41, 0));
        for piece in [1, 2, 7, 9, 10, 4096, stream.len()] {
            let peer = feed_in_pieces(&stream, piece);
            assert_eq!(peer.max_streams(), Some(128), "piece {piece}");
            assert!(peer.settings_seen());
            assert_eq!(peer.goaway_frame(), Some((41, 0)), "piece {piece}");
        }
    }

    #[test]
    fn before_any_settings_there_is_no_limit_and_no_goaway() {
        let peer = feed_in_pieces(&frame(0x0, 0, &[0; 10]), 3);
        assert_eq!(peer.max_streams(), None);
        assert!(!peer.settings_seen());
        assert!(!peer.goaway());
    }

    #[test]
    fn a_later_settings_frame_changes_the_limit_and_an_ack_changes_nothing() {
        let mut stream = settings(&[(SETTINGS_MAX_CONCURRENT_STREAMS, 100)]);
        stream.extend(settings(&[(SETTINGS_MAX_CONCURRENT_STREAMS, 3)]));
        stream.extend(frame(
            TYPE_SETTINGS,
            FLAG_ACK,
            &[0, 3, 0, 0, 0, 9], // a malformed ACK with a payload: ignored
        ));
        assert_eq!(feed_in_pieces(&stream, 5).max_streams(), Some(3));
    }

    #[test]
    fn the_goaway_reserved_bit_is_ignored_and_the_error_code_kept() {
        let peer = feed_in_pieces(&goaway(0x8000_0005, 0xb), 4);
        assert_eq!(peer.goaway_frame(), Some((5, 0xb)));
    }
}
