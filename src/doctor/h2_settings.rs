//! Reading an HTTP/2 server's first SETTINGS frame (RFC 9113 §3.4, §6.5): the client preface
//! and an empty SETTINGS go out, frames come in until the server's own (non-ACK) SETTINGS, and
//! its `SETTINGS_MAX_CONCURRENT_STREAMS` is the stream limit every connection gets.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Frame types and flags read or written here.
const FRAME_SETTINGS: u8 = 0x4;
const FRAME_GOAWAY: u8 = 0x7;
const FLAG_ACK: u8 = 0x1;
/// `SETTINGS_MAX_CONCURRENT_STREAMS`.
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
/// The frame header's length.
const HEADER_LEN: usize = 9;
/// Frames read before giving up on seeing the server's SETTINGS (it must be the first).
const MAX_FRAMES: usize = 8;
/// Largest frame payload read (the protocol's default `SETTINGS_MAX_FRAME_SIZE`).
const MAX_PAYLOAD: usize = 16_384;

/// What the server's first SETTINGS frame said.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Http2Settings {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`; `None` when the server announced no limit (which
    /// means unlimited).
    pub max_concurrent_streams: Option<u32>,
}

/// Sends the preface and an empty SETTINGS over `io`, reads the server's SETTINGS within
/// `timeout`, then says goodbye with GOAWAY(NO_ERROR). The error is a sentence for the report.
pub(crate) async fn read_server_settings<S>(
    io: &mut S,
    timeout: Duration,
) -> Result<Http2Settings, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(timeout, exchange(io)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no HTTP/2 SETTINGS frame within {timeout:?}")),
    }
}

async fn exchange<S>(io: &mut S) -> Result<Http2Settings, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut hello = PREFACE.to_vec();
    hello.extend_from_slice(&frame_header(0, FRAME_SETTINGS, 0));
    io.write_all(&hello)
        .await
        .map_err(|e| format!("sending the HTTP/2 preface: {e}"))?;
    io.flush()
        .await
        .map_err(|e| format!("sending the HTTP/2 preface: {e}"))?;
    let mut found = None;
    for _ in 0..MAX_FRAMES {
        let mut header = [0u8; HEADER_LEN];
        io.read_exact(&mut header)
            .await
            .map_err(|e| format!("reading the server's HTTP/2 frames: {e}"))?;
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        if len > MAX_PAYLOAD {
            return Err(format!(
                "an HTTP/2 frame of {len} bytes, over the 16384 allowed"
            ));
        }
        let mut payload = vec![0u8; len];
        io.read_exact(&mut payload)
            .await
            .map_err(|e| format!("reading the server's HTTP/2 frames: {e}"))?;
        if header[3] == FRAME_SETTINGS && header[4] & FLAG_ACK == 0 {
            found = Some(parse_settings(&payload)?);
            break;
        }
        if header[3] == FRAME_GOAWAY {
            return Err("the server sent GOAWAY before its SETTINGS".to_owned());
        }
    }
    let settings = found.ok_or("the server sent no SETTINGS frame first")?;
    // Acknowledge, and leave cleanly; a failure to say goodbye does not change what was read.
    let mut bye = frame_header(0, FRAME_SETTINGS, FLAG_ACK).to_vec();
    bye.extend_from_slice(&frame_header(8, FRAME_GOAWAY, 0));
    bye.extend_from_slice(&[0; 8]);
    let _ = io.write_all(&bye).await;
    let _ = io.flush().await;
    Ok(settings)
}

/// A frame header on stream 0.
fn frame_header(len: u32, kind: u8, flags: u8) -> [u8; HEADER_LEN] {
    let l = len.to_be_bytes();
    [l[1], l[2], l[3], kind, flags, 0, 0, 0, 0]
}

/// The settings of a SETTINGS payload: 6-byte (id, value) pairs; the last value of an id wins.
fn parse_settings(payload: &[u8]) -> Result<Http2Settings, String> {
    if payload.len() % 6 != 0 {
        return Err(format!(
            "a SETTINGS frame of {} bytes, not a multiple of 6",
            payload.len()
        ));
    }
    let mut max_concurrent_streams = None;
    for pair in payload.chunks_exact(6) {
        let id = u16::from_be_bytes([pair[0], pair[1]]);
        let value = u32::from_be_bytes([pair[2], pair[3], pair[4], pair[5]]);
        if id == SETTINGS_MAX_CONCURRENT_STREAMS {
            max_concurrent_streams = Some(value);
        }
    }
    Ok(Http2Settings {
        max_concurrent_streams,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn settings_frame(pairs: &[(u16, u32)]) -> Vec<u8> {
        let mut out = frame_header(6 * pairs.len() as u32, FRAME_SETTINGS, 0).to_vec();
        for (id, v) in pairs {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&v.to_be_bytes());
        }
        out
    }

    /// Runs the probe against a fake server that reads the preface and writes `reply`.
    async fn against(reply: Vec<u8>) -> Result<Http2Settings, String> {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        let fake = tokio::spawn(async move {
            let mut preface = vec![0u8; PREFACE.len() + HEADER_LEN];
            server.read_exact(&mut preface).await.expect("preface");
            assert_eq!(&preface[..PREFACE.len()], PREFACE);
            server.write_all(&reply).await.expect("reply");
            server
        });
        let result = read_server_settings(&mut client, TIMEOUT).await;
        drop(fake.await.expect("fake server"));
        result
    }

    #[tokio::test]
    async fn the_servers_stream_limit_is_read_from_its_first_settings() {
        let reply = settings_frame(&[(0x1, 4096), (SETTINGS_MAX_CONCURRENT_STREAMS, 128)]);
        assert_eq!(
            against(reply).await,
            Ok(Http2Settings {
                max_concurrent_streams: Some(128)
            })
        );
    }

    #[tokio::test]
    async fn a_server_that_sets_no_stream_limit_is_reported_as_unlimited() {
        let reply = settings_frame(&[(0x4, 65_535)]);
        assert_eq!(
            against(reply).await.map(|s| s.max_concurrent_streams),
            Ok(None)
        );
    }

    #[tokio::test]
    async fn a_malformed_settings_frame_is_an_error_not_a_guess() {
        let mut reply = frame_header(5, FRAME_SETTINGS, 0).to_vec();
        reply.extend_from_slice(&[0; 5]);
        assert!(against(reply).await.is_err());
    }

    #[tokio::test]
    async fn a_server_that_says_nothing_is_a_timeout_not_a_hang() {
        tokio::time::pause();
        let (mut client, _server) = tokio::io::duplex(64 * 1024);
        let err = read_server_settings(&mut client, TIMEOUT)
            .await
            .expect_err("no settings");
        assert!(err.contains("no HTTP/2 SETTINGS frame"), "{err}");
    }
}
