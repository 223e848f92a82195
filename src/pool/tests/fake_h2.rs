//! An in-memory HTTP/2 server (the `h2` crate) behind a frame-level middlebox, for pool tests
//! that need exact control: which streams the server ever sees, a GOAWAY with a chosen
//! last-stream-id, `REFUSED_STREAM`, a stream limit, and a connection that goes silent.
//!
//! ```text
//!  pool ──duplex── Middlebox ──duplex── h2 server (answers "ok", counts executions per call)
//!                  · drops the client's frames of streams above `hold_above` (never seen)
//!                  · injects GOAWAY(last, code) toward the client between frames
//!                  · black-hole: forwards nothing more either way (PINGs go unanswered)
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, Notify};

/// The header naming a call, so executions are counted per call.
pub(super) const CALL_ID: &str = "x-call-id";

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How the HTTP/2 server behaves; change it at any time.
#[derive(Debug, Clone, Default)]
pub(super) struct H2Behavior {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` of new connections.
    pub(super) max_streams: Option<u32>,
    /// How long a stream takes to be answered.
    pub(super) delay: Duration,
    /// Refuse (`REFUSED_STREAM`, not run) this many of the next streams.
    pub(super) refuse_next: usize,
    /// Answer at once without reading the request body, and keep the body unread (no
    /// `RST_STREAM`, no window update): the client's stream stays open on its sending side
    /// after its response ended.
    pub(super) answer_before_body: bool,
    /// Send the response headers, then the body ("ok") only after this long.
    pub(super) body_after: Duration,
}

/// What the HTTP/2 server saw, and a handle on every connection's middlebox.
#[derive(Default)]
pub(super) struct H2Server {
    pub(super) behavior: Mutex<H2Behavior>,
    /// Executions per call id.
    pub(super) executions: Mutex<HashMap<String, u32>>,
    /// Streams refused with `REFUSED_STREAM`.
    pub(super) refused: AtomicUsize,
    /// Streams the client reset before the server was done with them (its request body, its
    /// response headers or body could no longer be read or sent).
    pub(super) reset_by_client: AtomicUsize,
    /// Streams that started running, across connections (for waiting on them).
    pub(super) started: AtomicUsize,
    pub(super) started_changed: Notify,
    /// One middlebox per connection, in dial order.
    pub(super) boxes: Mutex<Vec<Arc<Middlebox>>>,
    /// The next connection's middlebox holds back streams above this id (0: none).
    hold_next: AtomicU32,
    /// The target of every request, in order: `(scheme, authority, Host header)`.
    pub(super) targets: Mutex<Vec<super::fake::H2Target>>,
    /// Request bodies left unread ([`H2Behavior::answer_before_body`]).
    unread: Mutex<Vec<h2::RecvStream>>,
}

impl H2Server {
    pub(super) fn set(&self, f: impl FnOnce(&mut H2Behavior)) {
        f(&mut self.behavior.lock().unwrap());
    }

    /// The next connection dialed never lets the server see its streams above `id`.
    pub(super) fn hold_streams_above_on_next_connection(&self, id: u32) {
        self.hold_next.store(id, SeqCst);
    }

    /// How many times the call `id` ran.
    pub(super) fn ran(&self, id: &str) -> u32 {
        self.executions
            .lock()
            .unwrap()
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    pub(super) fn total_executions(&self) -> u32 {
        self.executions.lock().unwrap().values().sum()
    }

    /// The middlebox of the `n`th connection (0-based).
    pub(super) fn conn(&self, n: usize) -> Arc<Middlebox> {
        self.boxes.lock().unwrap()[n].clone()
    }

    /// Waits until `n` streams have started running (an observable event, not a sleep).
    pub(super) async fn wait_started(&self, n: usize) {
        loop {
            let changed = self.started_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.started.load(SeqCst) >= n {
                return;
            }
            changed.await;
        }
    }

    /// Serves one connection: a middlebox in front of an `h2` server.
    pub(super) fn serve(self: &Arc<Self>, client_side: DuplexStream) {
        let (mb_end, server_end) = tokio::io::duplex(1 << 20);
        let mb = Arc::new(Middlebox::default());
        let hold = self.hold_next.swap(0, SeqCst);
        if hold > 0 {
            mb.hold_streams_above(hold);
        }
        self.boxes.lock().unwrap().push(mb.clone());
        tokio::spawn(mb.run(client_side, mb_end));
        tokio::spawn(self.clone().serve_h2(server_end));
    }

    async fn serve_h2(self: Arc<Self>, io: DuplexStream) {
        let b = self.behavior.lock().unwrap().clone();
        let mut builder = h2::server::Builder::new();
        if let Some(n) = b.max_streams {
            builder.max_concurrent_streams(n);
        }
        let Ok(mut conn) = builder.handshake::<_, Bytes>(io).await else {
            return;
        };
        while let Some(Ok((req, mut respond))) = conn.accept().await {
            let server = self.clone();
            tokio::spawn(async move {
                server.targets.lock().unwrap().push((
                    req.uri().scheme_str().map(str::to_owned),
                    req.uri().authority().map(|a| a.as_str().to_owned()),
                    req.headers()
                        .get(http::header::HOST)
                        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned()),
                ));
                let refuse = {
                    let mut b = server.behavior.lock().unwrap();
                    let r = b.refuse_next > 0;
                    b.refuse_next = b.refuse_next.saturating_sub(1);
                    r
                };
                if refuse {
                    server.refused.fetch_add(1, SeqCst);
                    respond.send_reset(h2::Reason::REFUSED_STREAM);
                    return;
                }
                let id = req
                    .headers()
                    .get(CALL_ID)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default();
                *server.executions.lock().unwrap().entry(id).or_default() += 1;
                server.started.fetch_add(1, SeqCst);
                server.started_changed.notify_waiters();
                let mut body = req.into_body();
                if server.behavior.lock().unwrap().answer_before_body {
                    server.unread.lock().unwrap().push(body);
                    if let Ok(mut send) = respond.send_response(http::Response::new(()), false) {
                        let _ = send.send_data(Bytes::from_static(b"ok"), true);
                    }
                    return;
                }
                while let Some(chunk) = body.data().await {
                    let Ok(chunk) = chunk else {
                        server.reset_by_client.fetch_add(1, SeqCst);
                        return;
                    };
                    let _ = body.flow_control().release_capacity(chunk.len());
                }
                let (delay, body_after) = {
                    let b = server.behavior.lock().unwrap();
                    (b.delay, b.body_after)
                };
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let Ok(mut send) = respond.send_response(http::Response::new(()), false) else {
                    server.reset_by_client.fetch_add(1, SeqCst);
                    return;
                };
                if !body_after.is_zero() {
                    tokio::time::sleep(body_after).await;
                    if send.send_data(Bytes::from_static(b"ok"), true).is_err() {
                        server.reset_by_client.fetch_add(1, SeqCst);
                    }
                    return;
                }
                let _ = send.send_data(Bytes::from_static(b"ok"), true);
            });
        }
    }
}

/// Sits between the pool and the server of one connection; see the module doc.
#[derive(Default)]
pub(super) struct Middlebox {
    /// The client's frames of streams above this id are dropped (0: none held back).
    hold_above: AtomicU32,
    holding: AtomicBool,
    /// Forward nothing more, either way.
    blackhole: AtomicBool,
    /// Frames to write to the client, between the server's frames.
    inject: Mutex<Option<mpsc::UnboundedSender<Option<Bytes>>>>,
    /// Client frames dropped because their stream was held back.
    pub(super) dropped: AtomicUsize,
}

impl Middlebox {
    /// The server never sees streams above `id` from now on.
    pub(super) fn hold_streams_above(&self, id: u32) {
        self.hold_above.store(id, SeqCst);
        self.holding.store(true, SeqCst);
    }

    /// Sends the client `GOAWAY(last, code)` as if from the server.
    pub(super) fn goaway(&self, last: u32, code: u32) {
        let mut f = BytesMut::new();
        f.extend_from_slice(&[0, 0, 8, 0x7, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&last.to_be_bytes());
        f.extend_from_slice(&code.to_be_bytes());
        self.send(Some(f.freeze()));
    }

    /// Closes the connection toward the client (EOF) after what was sent so far.
    pub(super) fn close(&self) {
        self.send(None);
    }

    /// Stops forwarding in both directions; TCP (the duplex) stays open.
    pub(super) fn black_hole(&self) {
        self.blackhole.store(true, SeqCst);
    }

    fn send(&self, frame: Option<Bytes>) {
        if let Some(tx) = self.inject.lock().unwrap().as_ref() {
            let _ = tx.send(frame);
        }
    }

    async fn run(self: Arc<Self>, client: DuplexStream, server: DuplexStream) {
        let (inject_tx, mut inject_rx) = mpsc::unbounded_channel();
        *self.inject.lock().unwrap() = Some(inject_tx);
        let (mut c_read, mut c_write) = tokio::io::split(client);
        let (mut s_read, mut s_write) = tokio::io::split(server);
        let up = {
            let mb = self.clone();
            async move {
                let mut buf = BytesMut::new();
                let mut preface_done = false;
                loop {
                    if c_read.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if !preface_done {
                        if buf.len() < PREFACE.len() {
                            continue;
                        }
                        let p = buf.split_to(PREFACE.len());
                        if s_write.write_all(&p).await.is_err() {
                            return;
                        }
                        preface_done = true;
                    }
                    while let Some(frame) = take_frame(&mut buf) {
                        if mb.blackhole.load(SeqCst) {
                            continue;
                        }
                        let stream = stream_id(&frame);
                        if stream != 0
                            && mb.holding.load(SeqCst)
                            && stream > mb.hold_above.load(SeqCst)
                        {
                            mb.dropped.fetch_add(1, SeqCst);
                            continue;
                        }
                        if s_write.write_all(&frame).await.is_err() {
                            return;
                        }
                    }
                }
            }
        };
        let down = {
            let mb = self.clone();
            async move {
                let mut buf = BytesMut::new();
                loop {
                    tokio::select! {
                        biased;
                        cmd = inject_rx.recv() => match cmd {
                            Some(Some(frame)) => {
                                if c_write.write_all(&frame).await.is_err() { return; }
                            }
                            _ => { let _ = c_write.shutdown().await; return; }
                        },
                        n = s_read.read_buf(&mut buf) => {
                            if n.unwrap_or(0) == 0 { let _ = c_write.shutdown().await; return; }
                            while let Some(frame) = take_frame(&mut buf) {
                                if mb.blackhole.load(SeqCst) { continue; }
                                if c_write.write_all(&frame).await.is_err() { return; }
                            }
                        }
                    }
                }
            }
        };
        tokio::join!(up, down);
    }
}

/// The next whole frame in `buf`, if it is all there.
fn take_frame(buf: &mut BytesMut) -> Option<Bytes> {
    if buf.len() < 9 {
        return None;
    }
    let len = (usize::from(buf[0]) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]);
    if buf.len() < 9 + len {
        return None;
    }
    Some(buf.split_to(9 + len).freeze())
}

fn stream_id(frame: &[u8]) -> u32 {
    let mut id = &frame[5..9];
    id.get_u32() & 0x7fff_ffff
}
