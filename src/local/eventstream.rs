//! The body of a response-streaming invocation: AWS event-stream messages.
//!
//! `PayloadChunk` events (`:content-type: application/octet-stream`) carry the payload in up
//! to [`PAYLOAD_CHUNKS`] pieces; an `InvokeComplete` event (`application/json`) ends the
//! stream, with `ErrorCode`/`ErrorDetails` when the function failed and `LogResult` with
//! `LogType: Tail` — the headers aws-sdk-lambda's unmarshaller expects.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::Value;

/// How many `PayloadChunk` events a non-empty payload is split into (at most).
pub(crate) const PAYLOAD_CHUNKS: usize = 3;

fn event(event_type: &'static str, content_type: &'static str, payload: Bytes) -> Message {
    Message::new(payload)
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String(content_type.into()),
        ))
}

fn encode(message: &Message) -> Option<Bytes> {
    let mut out = Vec::with_capacity(message.payload().len() + 128);
    write_message_to(message, &mut out).ok()?;
    Some(Bytes::from(out))
}

/// Encodes the payload chunks and the completion event; `None` if encoding failed.
pub(crate) fn frames(payload: &Bytes, complete: &Value) -> Option<Vec<Bytes>> {
    let mut frames = Vec::with_capacity(PAYLOAD_CHUNKS + 1);
    if !payload.is_empty() {
        let size = payload.len().div_ceil(PAYLOAD_CHUNKS);
        let mut start = 0;
        while start < payload.len() {
            let end = (start + size).min(payload.len());
            let chunk = payload.slice(start..end);
            frames.push(encode(&event(
                "PayloadChunk",
                "application/octet-stream",
                chunk,
            ))?);
            start = end;
        }
    }
    let complete = Bytes::from(complete.to_string());
    frames.push(encode(&event(
        "InvokeComplete",
        "application/json",
        complete,
    ))?);
    Some(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;

    #[test]
    fn payload_is_split_into_chunks_and_ends_with_invoke_complete() {
        let payload = Bytes::from_static(b"0123456789");
        let frames = frames(&payload, &serde_json::json!({})).expect("encodes");
        assert_eq!(frames.len(), PAYLOAD_CHUNKS + 1);
        let mut joined = Vec::new();
        for frame in &frames[..PAYLOAD_CHUNKS] {
            let msg = read_message_from(frame.clone()).expect("decodes");
            joined.extend_from_slice(msg.payload());
        }
        assert_eq!(joined, payload);
        let last = read_message_from(frames[PAYLOAD_CHUNKS].clone()).expect("decodes");
        let types: Vec<String> = last
            .headers()
            .iter()
            .filter_map(|h| {
                h.value()
                    .as_string()
                    .ok()
                    .map(|s| format!("{}={}", h.name().as_str(), s.as_str()))
            })
            .collect();
        assert!(
            types.contains(&":event-type=InvokeComplete".to_owned()),
            "{types:?}"
        );
    }
}
