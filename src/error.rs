//! The crate's two error types: [`Error`] for calls, [`BuildError`] for configuration.
//!
//! [`Error`] answers the question a caller of Lambda's `Invoke` must ask after a failure:
//! *may the function have run?* [`Error::is_not_sent`] means the request provably never left
//! this client (a connect or TLS failure, a pool timeout, a connection that handed the request
//! back unsent), so sending it again cannot run the function twice. [`Error::is_maybe_executed`]
//! means bytes of the request were written, so the function may have run; the crate never
//! resends such a request on its own.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use crate::Verdict;

pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Lambda's error code for a durable execution name already used with another payload.
pub(crate) const DURABLE_EXECUTION_ALREADY_STARTED: &str =
    "DurableExecutionAlreadyStartedException";

/// `Retry-After` as seconds (the form Lambda sends), whole or fractional; `None` when absent,
/// negative, or not a number of seconds that fits a `Duration`.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// An error from a call through the pool, the SDK adapter or the lean Invoke path.
///
/// The kind is private; ask with the `is_*` predicates. `Display` describes this error only;
/// its cause is in [`source()`](StdError::source).
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// DNS resolution failed. Not sent.
    Dns,
    /// TCP connect failed (refused, unreachable) on every address tried. Not sent.
    Connect,
    /// The TCP connect or TLS handshake took longer than `connect_timeout`. Not sent.
    ConnectTimeout,
    /// TLS handshake failed (unknown CA, wrong name, protocol). Not sent.
    Tls,
    /// No connection became available within `acquire_timeout`. Not sent.
    AcquireTimeout,
    /// The bounded queue of waiters for a connection was full. Not sent.
    PoolExhausted,
    /// The pool was shut down. Not sent.
    PoolClosed,
    /// Connections kept handing the request back unsent, more times than allowed. Not sent.
    UnsentRetriesExhausted,
    /// HTTP/2: the server refused the stream (GOAWAY above it, `REFUSED_STREAM`), so it did
    /// not run, but its streaming body could not be replayed on another connection. Not sent.
    RefusedUnreplayable,
    /// The request was invalid before anything was sent (bad URI, payload over a limit, ...).
    InvalidInput,
    /// The deadline passed after the request may have been written. May have executed.
    ResponseTimeout,
    /// The connection failed after the request may have been written. May have executed.
    Transport,
    /// The server answered with an error status (lean path). Status, code, retry hint.
    Service(ServiceError),
    /// Credentials could not be loaded or signing failed. Not sent.
    Credentials,
    /// The SDK stopped the call before a request was handed to the connector (an
    /// interceptor's refusal, a body that could not be read, signing). Not sent.
    SdkNotSent,
    /// The SDK's configuration could not produce a request: identity or endpoint resolution
    /// failed before the pool saw the attempt. Not sent, and the same configuration fails the
    /// same way (`InvalidInput`).
    Configuration,
    /// The SDK's operation or attempt timeout fired; the request may have been written.
    /// May have executed.
    SdkTimeout,
    /// The server answered with a response the SDK could not read. May have executed.
    BadResponse,
}

impl Kind {
    /// The verdict of an error of this kind.
    pub(crate) fn verdict(&self) -> Verdict {
        match self {
            Kind::InvalidInput | Kind::Configuration => Verdict::InvalidInput,
            Kind::ResponseTimeout | Kind::Transport | Kind::SdkTimeout | Kind::BadResponse => {
                Verdict::MaybeExecuted
            }
            Kind::Service(s) => Verdict::Service {
                status: s.status,
                code: s.code.clone(),
            },
            Kind::Dns
            | Kind::Connect
            | Kind::ConnectTimeout
            | Kind::Tls
            | Kind::AcquireTimeout
            | Kind::PoolExhausted
            | Kind::PoolClosed
            | Kind::UnsentRetriesExhausted
            | Kind::RefusedUnreplayable
            | Kind::Credentials
            | Kind::SdkNotSent => Verdict::NotSent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceError {
    pub(crate) status: u16,
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) retry_after: Option<Duration>,
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Error {
            inner: Box::new(Inner { kind, source: None }),
        }
    }

    pub(crate) fn with(kind: Kind, source: impl Into<BoxError>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                source: Some(source.into()),
            }),
        }
    }

    pub(crate) fn kind(&self) -> &Kind {
        &self.inner.kind
    }

    pub(crate) fn service(
        status: u16,
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        Error::new(Kind::Service(ServiceError {
            status,
            code,
            message,
            retry_after,
        }))
    }

    /// The request provably never left this client, so the function did not run and sending it
    /// again is safe. Connect, DNS and TLS failures, pool timeouts and exhaustion, a closed pool,
    /// invalid input and credential failures are all "not sent".
    pub fn is_not_sent(&self) -> bool {
        self.verdict().is_not_sent()
    }

    /// Bytes of the request were written before the failure: the function may have run
    /// (at most once: the crate never resends such a request).
    pub fn is_maybe_executed(&self) -> bool {
        self.verdict().is_maybe_executed()
    }

    /// What this failure did: not sent, invalid input, may have executed, or a service error
    /// (see [`Verdict`] for how each case is decided).
    pub fn verdict(&self) -> Verdict {
        self.inner.kind.verdict()
    }

    /// A timeout: connect, acquire or response deadline, or the SDK's operation or attempt
    /// timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.inner.kind,
            Kind::ConnectTimeout | Kind::AcquireTimeout | Kind::ResponseTimeout | Kind::SdkTimeout
        )
    }

    /// Opening a connection failed: DNS, TCP, TLS or their timeout.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.inner.kind,
            Kind::Dns | Kind::Connect | Kind::ConnectTimeout | Kind::Tls
        )
    }

    /// DNS resolution failed.
    pub fn is_dns(&self) -> bool {
        self.inner.kind == Kind::Dns
    }

    /// The TLS handshake failed (for instance an unknown CA or a certificate for another name).
    pub fn is_tls(&self) -> bool {
        self.inner.kind == Kind::Tls
    }

    /// The pool had no connection to give: its waiter queue was full, or `acquire_timeout`
    /// passed.
    pub fn is_pool_exhausted(&self) -> bool {
        matches!(self.inner.kind, Kind::PoolExhausted | Kind::AcquireTimeout)
    }

    /// The pool was shut down.
    pub fn is_closed(&self) -> bool {
        self.inner.kind == Kind::PoolClosed
    }

    /// The input (or the configuration) was refused before anything was sent; sending it
    /// again unchanged fails the same way.
    pub fn is_invalid_input(&self) -> bool {
        self.verdict().is_invalid_input()
    }

    /// Credentials could not be loaded, or the request could not be signed.
    pub fn is_credentials(&self) -> bool {
        self.inner.kind == Kind::Credentials
    }

    /// The service answered with an error status (lean path).
    pub fn is_service(&self) -> bool {
        matches!(self.inner.kind, Kind::Service(_))
    }

    /// The service refused the call because of a rate or concurrency limit (HTTP 429); the
    /// function did not run.
    pub fn is_throttled(&self) -> bool {
        self.status() == Some(429)
    }

    /// Lambda refused a named durable invoke because an execution of that name already started
    /// with another payload (409 `DurableExecutionAlreadyStartedException`): a caller bug, never
    /// retried. (The same name with the same payload returns the existing execution instead.)
    pub fn is_durable_execution_already_started(&self) -> bool {
        self.error_code() == Some(DURABLE_EXECUTION_ALREADY_STARTED)
    }

    /// The HTTP status of a service error.
    pub fn status(&self) -> Option<u16> {
        match &self.inner.kind {
            Kind::Service(s) => Some(s.status),
            _ => None,
        }
    }

    /// Lambda's error code of a service error, such as `TooManyRequestsException`.
    pub fn error_code(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Service(s) => s.code.as_deref(),
            _ => None,
        }
    }

    /// Lambda's message of a service error.
    pub fn message(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Service(s) => s.message.as_deref(),
            _ => None,
        }
    }

    /// The server's `Retry-After` of a service error, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.inner.kind {
            Kind::Service(s) => s.retry_after,
            _ => None,
        }
    }

    /// Finds this crate's [`Error`] in an error's source chain (for instance inside an SDK error).
    pub fn find_in<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a Error> {
        let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(found) = e.downcast_ref::<Error>() {
                return Some(found);
            }
            cur = e.source();
        }
        None
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("lambda_vpce::Error");
        d.field("kind", &self.inner.kind);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::Dns => f.write_str("DNS resolution failed (not sent)"),
            Kind::Connect => f.write_str("connect failed (not sent)"),
            Kind::ConnectTimeout => f.write_str("connect timed out (not sent)"),
            Kind::Tls => f.write_str("TLS handshake failed (not sent)"),
            Kind::AcquireTimeout => {
                f.write_str("no connection became available within acquire_timeout (not sent)")
            }
            Kind::PoolExhausted => f.write_str("connection pool's waiter queue is full (not sent)"),
            Kind::PoolClosed => f.write_str("connection pool is closed (not sent)"),
            Kind::UnsentRetriesExhausted => {
                f.write_str("connections kept handing the request back unsent (not sent)")
            }
            Kind::RefusedUnreplayable => f.write_str(
                "the server refused the HTTP/2 stream and its body could not be replayed (not sent)",
            ),
            Kind::InvalidInput => f.write_str("invalid request (not sent)"),
            Kind::ResponseTimeout => f.write_str(
                "no complete response before the deadline (the function may have executed)",
            ),
            Kind::Transport => f.write_str(
                "connection failed after the request was sent (the function may have executed)",
            ),
            Kind::Credentials => f.write_str("credentials or signing failed (not sent)"),
            Kind::SdkNotSent => {
                f.write_str("the SDK stopped the call before sending it (not sent)")
            }
            Kind::Configuration => f.write_str(
                "the SDK configuration could not produce a request: identity or endpoint \
                 resolution failed (not sent)",
            ),
            Kind::SdkTimeout => f.write_str(
                "the SDK's operation or attempt timeout passed (the function may have executed)",
            ),
            Kind::BadResponse => {
                f.write_str("the response could not be read (the function may have executed)")
            }
            Kind::Service(s) => {
                write!(f, "service error: HTTP {}", s.status)?;
                if let Some(code) = &s.code {
                    write!(f, " {code}")?;
                }
                if let Some(msg) = &s.message {
                    write!(f, ": {msg}")?;
                }
                Ok(())
            }
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|e| &**e as &(dyn StdError + 'static))
    }
}

/// A configuration value was refused when a client, pool or endpoint was built.
///
/// It names the field, what was given (credentials never appear) and the form expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    field: &'static str,
    got: String,
    expected: String,
}

impl BuildError {
    /// A refusal of `got` for `field`, which expects `expected` (for tools that validate their
    /// own inputs the crate's way). `got` is shortened to 200 bytes.
    pub fn new(field: &'static str, got: impl Into<String>, expected: impl Into<String>) -> Self {
        let mut got = got.into();
        if got.len() > 200 {
            let mut end = 200;
            while !got.is_char_boundary(end) {
                end -= 1;
            }
            got.truncate(end);
            got.push('…');
        }
        BuildError {
            field,
            got,
            expected: expected.into(),
        }
    }

    /// The configuration field that was refused, such as `"vpce_id"` or `"idle_timeout"`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The value that was given (shortened to 200 bytes).
    pub fn got(&self) -> &str {
        &self.got
    }

    /// The form that was expected.
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}: {:?}; expected {}",
            self.field, self.got, self.expected
        )
    }
}

impl StdError for BuildError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_failure_after_send_is_maybe_executed_and_not_unsent() {
        let e = Error::new(Kind::Transport);
        assert!(e.is_maybe_executed());
        assert!(!e.is_not_sent());
        assert_eq!(e.verdict(), Verdict::MaybeExecuted);
    }

    #[test]
    fn a_connect_failure_is_not_sent() {
        let e = Error::with(Kind::Connect, std::io::Error::other("refused"));
        assert!(e.is_not_sent() && e.is_connect() && !e.is_maybe_executed());
        assert!(e.source().is_some());
        assert!(
            !e.to_string().contains("refused"),
            "Display must not repeat its source"
        );
    }

    #[test]
    fn an_error_is_found_inside_another_errors_source_chain() {
        #[derive(Debug)]
        struct Outer(Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("outer")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let outer = Outer(Error::new(Kind::ResponseTimeout));
        let found = Error::find_in(&outer).expect("found");
        assert!(found.is_timeout() && found.is_maybe_executed());
    }

    #[test]
    fn a_build_error_names_field_value_and_expected_form() {
        let e = BuildError::new("vpce_id", "vpce-xyz", "`vpce-` followed by 17 hex digits");
        assert_eq!(
            e.to_string(),
            "invalid vpce_id: \"vpce-xyz\"; expected `vpce-` followed by 17 hex digits"
        );
    }

    #[test]
    fn a_throttle_carries_its_retry_after() {
        let e = Error::service(
            429,
            Some("TooManyRequestsException".into()),
            None,
            Some(Duration::from_secs(2)),
        );
        assert!(e.is_throttled() && !e.is_not_sent() && !e.is_maybe_executed());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_nonsense_is_ignored() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1e300"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
