//! A raw HTTP/2 client for the embedded endpoint (`h2::client` over h2c prior knowledge), with
//! a tap on the server's frames so a test sees GOAWAY last-stream-ids, error codes, RST_STREAM
//! reasons and SETTINGS exactly as sent.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use lambda_vpce::local::LocalEndpoint;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A frame the server sent, as the tap parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// GOAWAY: last-stream-id and error code.
    GoAway { last_stream_id: u32, code: u32 },
    /// RST_STREAM: stream id and error code.
    Reset { stream_id: u32, code: u32 },
    /// SETTINGS (not an ACK): (identifier, value) pairs.
    Settings(Vec<(u16, u32)>),
}

/// `SETTINGS_MAX_CONCURRENT_STREAMS`.
pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
/// `SETTINGS_INITIAL_WINDOW_SIZE`.
pub const INITIAL_WINDOW_SIZE: u16 = 0x4;

/// The frames seen so far on one connection.
#[derive(Clone, Debug, Default)]
pub struct Tap(Arc<Mutex<TapState>>);

#[derive(Debug, Default)]
struct TapState {
    buf: Vec<u8>,
    seen: Vec<Seen>,
}

impl Tap {
    pub fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().seen.clone()
    }

    /// Every GOAWAY seen: (last-stream-id, code).
    pub fn goaways(&self) -> Vec<(u32, u32)> {
        self.seen()
            .into_iter()
            .filter_map(|s| match s {
                Seen::GoAway {
                    last_stream_id,
                    code,
                } => Some((last_stream_id, code)),
                _ => None,
            })
            .collect()
    }

    /// The value of a setting in the server's first SETTINGS frame.
    pub fn setting(&self, id: u16) -> Option<u32> {
        self.seen().into_iter().find_map(|s| match s {
            Seen::Settings(pairs) => pairs.iter().find(|(i, _)| *i == id).map(|(_, v)| *v),
            _ => None,
        })
    }

    fn feed(&self, bytes: &[u8]) {
        let mut state = self.0.lock().unwrap();
        state.buf.extend_from_slice(bytes);
        loop {
            let buf = &state.buf;
            if buf.len() < 9 {
                return;
            }
            let len =
                (usize::from(buf[0]) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]);
            if buf.len() < 9 + len {
                return;
            }
            let (kind, flags) = (buf[3], buf[4]);
            let stream_id = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
            let payload = &buf[9..9 + len];
            let word = |at: usize| {
                u32::from_be_bytes([
                    payload[at],
                    payload[at + 1],
                    payload[at + 2],
                    payload[at + 3],
                ])
            };
            let seen = match kind {
                0x7 if len >= 8 => Some(Seen::GoAway {
                    last_stream_id: word(0) & 0x7fff_ffff,
                    code: word(4),
                }),
                0x3 if len == 4 => Some(Seen::Reset {
                    stream_id,
                    code: word(0),
                }),
                0x4 if flags & 0x1 == 0 => Some(Seen::Settings(
                    payload
                        .chunks_exact(6)
                        .map(|c| {
                            (
                                u16::from_be_bytes([c[0], c[1]]),
                                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                            )
                        })
                        .collect(),
                )),
                _ => None,
            };
            state.buf.drain(..9 + len);
            if let Some(seen) = seen {
                state.seen.push(seen);
            }
        }
    }
}

/// A TCP stream whose reads feed a [`Tap`].
pub struct Tapped {
    tcp: TcpStream,
    tap: Tap,
}

impl AsyncRead for Tapped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if res.is_ready() {
            this.tap.feed(&buf.filled()[before..]);
        }
        res
    }
}

impl AsyncWrite for Tapped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// One raw HTTP/2 connection to a plain-HTTP endpoint.
pub struct H2Conn {
    pub send: h2::client::SendRequest<Bytes>,
    pub tap: Tap,
    /// The connection task: `Ok` on a graceful end, the GOAWAY error on an abrupt one.
    pub driver: tokio::task::JoinHandle<Result<(), h2::Error>>,
    pub ping: h2::PingPong,
    authority: String,
}

/// What a stream got back.
#[derive(Debug)]
pub enum Answer {
    /// Status and the whole body.
    Full(u16, Bytes),
    /// Status, the body bytes received, then the stream's error.
    Cut(u16, Bytes, h2::Error),
    /// No response head: the stream's error.
    Failed(h2::Error),
}

impl Answer {
    pub fn status(&self) -> Option<u16> {
        match self {
            Answer::Full(s, _) | Answer::Cut(s, _, _) => Some(*s),
            Answer::Failed(_) => None,
        }
    }

    /// The stream's error reason (RST_STREAM or GOAWAY code), if it failed.
    pub fn reason(&self) -> Option<h2::Reason> {
        match self {
            Answer::Full(..) => None,
            Answer::Cut(_, _, e) | Answer::Failed(e) => e.reason(),
        }
    }
}

impl H2Conn {
    /// Opens an h2c (prior knowledge) connection to `ep` (built with `plain_http(true)`).
    pub async fn open(ep: &LocalEndpoint) -> H2Conn {
        let tap = Tap::default();
        let tcp = TcpStream::connect(ep.addr()).await.expect("TCP connect");
        let io = Tapped {
            tcp,
            tap: tap.clone(),
        };
        let (send, mut conn) = h2::client::Builder::new()
            .initial_window_size(8 * 1024 * 1024)
            .handshake::<_, Bytes>(io)
            .await
            .expect("h2 handshake");
        let ping = conn.ping_pong().expect("ping_pong");
        let driver = tokio::spawn(conn);
        H2Conn {
            send,
            tap,
            driver,
            ping,
            authority: format!("127.0.0.1:{}", ep.addr().port()),
        }
    }

    /// Starts an Invoke of `function` with this call id and payload; returns the stream id
    /// and the answer's future.
    pub async fn start_invoke(
        &mut self,
        function: &str,
        call_id: &str,
        payload: Bytes,
    ) -> Result<(u32, impl std::future::Future<Output = Answer>), h2::Error> {
        let req = http::Request::post(format!(
            "http://{}/2015-03-31/functions/{function}/invocations",
            self.authority
        ))
        .header(lambda_vpce::wire::header::SDK_INVOCATION_ID, call_id)
        .header("content-type", "application/json")
        .body(())
        .expect("request");
        let mut send = self.send.clone().ready().await?;
        let (response, mut body) = send.send_request(req, payload.is_empty())?;
        let id = response.stream_id().as_u32();
        if !payload.is_empty() {
            body.send_data(payload, true)?;
        }
        Ok((id, async move {
            let response = match response.await {
                Ok(r) => r,
                Err(e) => return Answer::Failed(e),
            };
            let status = response.status().as_u16();
            let mut recv = response.into_body();
            let mut got = Vec::new();
            while let Some(chunk) = recv.data().await {
                match chunk {
                    Ok(chunk) => {
                        let _ = recv.flow_control().release_capacity(chunk.len());
                        got.extend_from_slice(&chunk);
                    }
                    Err(e) => return Answer::Cut(status, got.into(), e),
                }
            }
            Answer::Full(status, got.into())
        }))
    }

    /// One Invoke to its end.
    pub async fn invoke(&mut self, function: &str, call_id: &str, payload: &'static str) -> Answer {
        match self
            .start_invoke(function, call_id, Bytes::from_static(payload.as_bytes()))
            .await
        {
            Ok((_, answer)) => answer.await,
            Err(e) => Answer::Failed(e),
        }
    }
}
