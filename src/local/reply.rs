//! Responses before they hit the wire: Lambda-shaped errors, and the raw HTTP/1.1 bytes the
//! response faults write themselves.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use serde_json::json;

use super::body::LocalBody;
use crate::wire::header as headers;

/// A response being built.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// Event-stream frames (sent chunked) instead of `body`.
    pub(crate) frames: Option<Vec<Bytes>>,
}

impl Reply {
    pub(crate) fn new(status: StatusCode) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            frames: None,
        }
    }

    pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Self {
        let mut reply = Reply::new(status);
        reply.body = body.into();
        reply.header(CONTENT_TYPE, "application/json");
        reply
    }

    /// Adds a header; values that are not valid header text are skipped.
    pub(crate) fn header(&mut self, name: impl TryInto<HeaderName>, value: impl AsRef<str>) {
        if let (Ok(name), Ok(value)) = (name.try_into(), HeaderValue::from_str(value.as_ref())) {
            self.headers.append(name, value);
        }
    }

    /// A Lambda error: `x-amzn-ErrorType` and `{"Type":"User","message":...}`.
    pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Self {
        let body = json!({"Type": "User", "message": message}).to_string();
        let mut reply = Reply::json(status, body);
        reply.header(headers::ERROR_TYPE, code);
        reply
    }

    pub(crate) fn into_response(self) -> Response<LocalBody> {
        let body = match self.frames {
            Some(frames) => LocalBody::chunked(frames),
            None if self.body.is_empty() => LocalBody::empty(),
            None => LocalBody::full(self.body),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }

    /// The whole body (frames joined).
    fn body_bytes(&self) -> Bytes {
        match &self.frames {
            Some(frames) => frames.concat().into(),
            None => self.body.clone(),
        }
    }

    /// HTTP/1.1 bytes of this reply: (head, body). `extra_length` inflates `Content-Length`;
    /// `padding` adds a header of that many bytes.
    pub(crate) fn raw(&self, extra_length: usize, padding: usize) -> (Vec<u8>, Bytes) {
        let body = self.body_bytes();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            self.status.as_str(),
            self.status.canonical_reason().unwrap_or("Unknown")
        )
        .into_bytes();
        for (name, value) in &self.headers {
            if name == CONTENT_LENGTH || name == http::header::TRANSFER_ENCODING {
                continue;
            }
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        if padding > 0 {
            head.extend_from_slice(b"x-lambda-vpce-padding: ");
            head.resize(head.len() + padding, b'a');
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(
            format!("content-length: {}\r\n\r\n", body.len() + extra_length).as_bytes(),
        );
        (head, body)
    }
}

/// Bytes that are not an HTTP response.
pub(crate) const GARBAGE: &[u8] = b"\x00\xffSSH-2.0-not-http \x16\x03\x01 garbage\r\n\r\n\x00\x00";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_reply_has_status_line_headers_and_inflated_length() {
        let mut reply = Reply::json(StatusCode::OK, "{}");
        reply.header(headers::EXECUTED_VERSION, "$LATEST");
        let (head, body) = reply.raw(10, 0);
        let head = String::from_utf8(head).expect("ascii");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head.contains("x-amz-executed-version: $LATEST\r\n"));
        assert!(head.ends_with("content-length: 12\r\n\r\n"));
        assert_eq!(body, "{}");
    }
}
