//! Reading `Invoke`'s answer: the success shape ([`InvokeResponse`]) and Lambda's JSON errors.

use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use http::header::HeaderName;
use http::HeaderMap;
use http_body_util::{BodyExt, Limited};

use crate::error::Error;
use crate::pool::{Body, ConnectionInfo};
use crate::wire::header;

/// The most of an error response's body read to find its code and message; a longer body is
/// dropped (and its connection closed) and the error keeps what its headers say.
pub(crate) const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A successful (2xx) `Invoke`: 200 with the function's response for `RequestResponse`, 202
/// for `Event`, 204 for `DryRun`.
///
/// A function that threw still answers 200: see [`function_error`](Self::function_error).
/// `Debug` shows the payload's length and whether a log came back, never their content.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvokeResponse {
    /// The HTTP status: 200, 202 or 204.
    pub status_code: u16,
    /// The function's response (or its error object when `function_error` is set).
    pub payload: Bytes,
    /// `X-Amz-Function-Error`: `Unhandled` (or `Handled`) when the function failed; the
    /// payload then holds the error object.
    pub function_error: Option<String>,
    /// `X-Amz-Log-Result` base64-decoded (invalid UTF-8 replaced): the log's tail when
    /// [`log_tail`](super::InvokeRequest::log_tail) was asked. `None` when absent or not base64.
    pub log_result: Option<String>,
    /// `X-Amz-Executed-Version`: the version that ran.
    pub executed_version: Option<String>,
    /// `x-amzn-RequestId`.
    pub request_id: Option<String>,
    /// `X-Amz-Durable-Execution-Arn`: the durable execution that ran (a durable function).
    pub durable_execution_arn: Option<String>,
    /// The connection that carried the call (whether it was reused, its id, its idle time).
    pub connection: ConnectionInfo,
    /// Requests sent for this call: 1, plus one per 429 retried, plus one per resend of a named
    /// durable invoke (see [`durable_execution_name`](super::InvokeRequest::durable_execution_name)).
    pub attempts: u32,
}

impl fmt::Debug for InvokeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvokeResponse")
            .field("status_code", &self.status_code)
            .field("payload_len", &self.payload.len())
            .field("function_error", &self.function_error)
            .field("log_result", &self.log_result.is_some())
            .field("executed_version", &self.executed_version)
            .field("request_id", &self.request_id)
            .field("durable_execution_arn", &self.durable_execution_arn)
            .field("connection", &self.connection)
            .field("attempts", &self.attempts)
            .finish()
    }
}

// Constants, so that no lookup parses a name.
const X_AMZ_FUNCTION_ERROR: HeaderName = HeaderName::from_static(header::FUNCTION_ERROR);
const X_AMZ_LOG_RESULT: HeaderName = HeaderName::from_static(header::LOG_RESULT);
const X_AMZ_EXECUTED_VERSION: HeaderName = HeaderName::from_static(header::EXECUTED_VERSION);
const X_AMZN_REQUESTID: HeaderName = HeaderName::from_static(header::REQUEST_ID);
const X_AMZ_DURABLE_EXECUTION_ARN: HeaderName =
    HeaderName::from_static(header::DURABLE_EXECUTION_ARN);
const X_AMZN_ERRORTYPE: HeaderName = HeaderName::from_static(header::ERROR_TYPE);

fn header(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Turns the pool's response into the call's result: [`InvokeResponse`] for 2xx, else a
/// service error ([`Error::is_service`]).
pub(crate) async fn read(response: http::Response<Body>) -> Result<InvokeResponse, Error> {
    let connection = response.body().connection_info();
    let (parts, body) = response.into_parts();
    let status = parts.status.as_u16();
    if !parts.status.is_success() {
        let body = match Limited::new(body, MAX_ERROR_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            // Too long or broken: the headers still say what happened.
            Err(_) => Bytes::new(),
        };
        return Err(service_error(status, &parts.headers, &body));
    }
    let payload = read_to_end(body).await?;
    Ok(InvokeResponse {
        status_code: status,
        payload,
        function_error: header(&parts.headers, X_AMZ_FUNCTION_ERROR),
        log_result: parts
            .headers
            .get(X_AMZ_LOG_RESULT)
            .and_then(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.as_bytes())
                    .ok()
            })
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        executed_version: header(&parts.headers, X_AMZ_EXECUTED_VERSION),
        request_id: header(&parts.headers, X_AMZN_REQUESTID),
        durable_execution_arn: header(&parts.headers, X_AMZ_DURABLE_EXECUTION_ARN),
        connection,
        attempts: 1,
    })
}

/// The whole body, read until the body says it ended (never on `is_end_stream` alone: over
/// HTTP/2 that is also true of a stream cut short by a reset, whose next read is the error).
/// One data frame — a Lambda response that arrives with its headers — is handed on as it
/// is; more are joined once at the end. (`collect()` would queue even a single frame in a list
/// it allocates.)
async fn read_to_end(mut body: Body) -> Result<Bytes, Error> {
    let mut first = None;
    let mut more: Vec<Bytes> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers: Invoke has none worth keeping
        };
        if data.is_empty() {
            continue;
        }
        match first {
            None => first = Some(data),
            Some(_) => more.push(data),
        }
    }
    Ok(match first {
        None => Bytes::new(),
        Some(first) if more.is_empty() => first,
        Some(first) => {
            let len = first.len() + more.iter().map(Bytes::len).sum::<usize>();
            let mut joined = bytes::BytesMut::with_capacity(len);
            joined.extend_from_slice(&first);
            for chunk in &more {
                joined.extend_from_slice(chunk);
            }
            joined.freeze()
        }
    })
}

/// Lambda's error as the SDK reads it (restJson1): the code from `x-amzn-ErrorType`, else the
/// body's `code`, else its `__type`, trimmed of anything after `:` and of a `namespace#`
/// prefix; the message from whichever of `message`, `Message` or `errorMessage` comes last in
/// the body. (The body's `Type` is Lambda's fault category, `User` or `Service`, not the code.)
/// A body that is not JSON (a proxy's HTML page) gives neither code nor message, not even the
/// header's, as the SDK cannot read it either; an empty body (or one too long to read) leaves
/// the header's code. `Retry-After` in seconds.
pub(crate) fn service_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let retry_after = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::error::parse_retry_after);
    let fields = if body.trim_ascii().is_empty() {
        ErrorFields::default()
    } else {
        match serde_json::from_slice::<ErrorFields>(body) {
            Ok(fields) => fields,
            Err(_) => return Error::service(status, None, None, retry_after),
        }
    };
    let code = headers
        .get(X_AMZN_ERRORTYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(fields.code)
        .or(fields.type_)
        .map(|c| sanitize_error_code(&c).to_owned())
        .filter(|c| !c.is_empty());
    Error::service(status, code, fields.message, retry_after)
}

/// What an error body says about the error: string fields only, as the SDK reads them, a
/// later field replacing an earlier one (so of `message` and `Message`, the last one).
#[derive(Debug, Default)]
struct ErrorFields {
    code: Option<String>,
    type_: Option<String>,
    message: Option<String>,
}

impl<'de> serde::Deserialize<'de> for ErrorFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ErrorFieldsVisitor)
    }
}

/// Reads an object's fields in document order; any other JSON value names nothing.
struct ErrorFieldsVisitor;

impl<'de> serde::de::Visitor<'de> for ErrorFieldsVisitor {
    type Value = ErrorFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ErrorFields, A::Error> {
        let mut fields = ErrorFields::default();
        while let Some(key) = map.next_key::<String>()? {
            let serde_json::Value::String(value) = map.next_value()? else {
                continue;
            };
            match key.as_str() {
                "code" => fields.code = Some(value),
                "__type" => fields.type_ = Some(value),
                "message" | "Message" | "errorMessage" => fields.message = Some(value),
                _ => {}
            }
        }
        Ok(fields)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ErrorFields, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(ErrorFields::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<ErrorFields, E> {
        Ok(ErrorFields::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<ErrorFields, E> {
        Ok(ErrorFields::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<ErrorFields, E> {
        Ok(ErrorFields::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<ErrorFields, E> {
        Ok(ErrorFields::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<ErrorFields, E> {
        Ok(ErrorFields::default())
    }

    fn visit_unit<E>(self) -> Result<ErrorFields, E> {
        Ok(ErrorFields::default())
    }
}

fn sanitize_error_code(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    match code.find('#') {
        Some(i) => &code[i + 1..],
        None => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_throttle_names_its_code_and_retry_after() {
        let e = service_error(
            429,
            &headers(&[
                (header::ERROR_TYPE, "TooManyRequestsException:http://internal.amazon.com/"),
                ("retry-after", "3"),
            ]),
            br#"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#,
        );
        assert!(e.is_throttled() && e.is_service() && !e.is_maybe_executed());
        assert_eq!(e.error_code(), Some("TooManyRequestsException"));
        assert_eq!(e.message(), Some("Rate Exceeded."));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn an_unknown_function_is_resource_not_found_from_the_body_when_no_header_says() {
        let e = service_error(
            404,
            &HeaderMap::new(),
            br#"{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope","__type":"ResourceNotFoundException"}"#,
        );
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.error_code(), Some("ResourceNotFoundException"));
        assert!(e
            .message()
            .is_some_and(|m| m.starts_with("Function not found")));
        assert_eq!(e.retry_after(), None);
    }

    #[test]
    fn code_wins_over_type_and_namespaces_are_trimmed() {
        let e = service_error(
            400,
            &HeaderMap::new(),
            br#"{"__type":"com.amazon#FooError","code":"BarError"}"#,
        );
        assert_eq!(e.error_code(), Some("BarError"));
        let e = service_error(
            400,
            &HeaderMap::new(),
            br#"{"__type":"com.amazon.coral#FooError"}"#,
        );
        assert_eq!(e.error_code(), Some("FooError"));
    }

    #[test]
    fn of_two_message_fields_the_last_in_the_body_wins_as_in_the_sdk() {
        for (body, message) in [
            (&br#"{"message":"lower","Message":"upper"}"#[..], "upper"),
            (br#"{"Message":"upper","message":"lower"}"#, "lower"),
            (
                br#"{"errorMessage":"e","message":5,"x":{"message":"nested"}}"#,
                "e",
            ),
        ] {
            let e = service_error(400, &HeaderMap::new(), body);
            assert_eq!(
                e.message(),
                Some(message),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn a_body_that_is_json_but_not_an_object_names_nothing_and_the_header_still_does() {
        for body in [&b"[1,2]"[..], b"\"text\"", b"null", b"42", b""] {
            let e = service_error(
                429,
                &headers(&[(header::ERROR_TYPE, "TooManyRequestsException")]),
                body,
            );
            assert_eq!(e.error_code(), Some("TooManyRequestsException"));
            assert_eq!(e.message(), None);
        }
    }

    #[test]
    fn a_body_that_is_not_json_hides_even_the_headers_code_as_in_the_sdk() {
        let e = service_error(
            502,
            &headers(&[
                (header::ERROR_TYPE, "ServiceException"),
                ("retry-after", "1"),
            ]),
            b"<html>bad gateway</html>",
        );
        assert_eq!(
            (e.status(), e.error_code(), e.message()),
            (Some(502), None, None)
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        let e = service_error(
            502,
            &headers(&[(header::ERROR_TYPE, "ServiceException")]),
            b" \r\n",
        );
        assert_eq!(
            e.error_code(),
            Some("ServiceException"),
            "an empty body hides nothing"
        );
    }

    #[test]
    fn a_body_that_is_not_json_still_gives_a_service_error_with_its_status() {
        let e = service_error(502, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert_eq!(e.status(), Some(502));
        assert_eq!(e.error_code(), None);
        assert_eq!(e.message(), None);
    }
}
