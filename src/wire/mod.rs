//! Lambda's wire format, in one place: the header names of its REST protocol
//! ([`header`]), the invocation types ([`InvocationType`]) and the payload limits.
//!
//! Everything that speaks to Lambda or answers like it takes these from here — the lean
//! `Invoke` path, the pool (which keeps the SDK's per-call id out of HPACK's table), the SDK
//! adapter, the embedded endpoint ([`local`](crate::local), a peer that shares only what a real
//! server would share) and the tests. Nothing here is behind a feature.
//!
//! Header names are plain lower-case `&str` consts (as HTTP/1 header maps store them and as
//! SigV4 signs them); a caller that needs an [`http::HeaderName`] makes one with
//! `HeaderName::from_static`, at compile time. Names the `http` crate already has
//! (`Retry-After`, `Content-Type`, ...) are taken from [`http::header`].

pub mod header;
mod invocation_type;

pub use invocation_type::InvocationType;

/// `Invoke`'s path is this, the function's name or ARN (percent-encoded), then
/// [`INVOKE_PATH_SUFFIX`]; `ListFunctions` is this path alone (API version 2015-03-31).
pub(crate) const INVOKE_PATH_PREFIX: &str = "/2015-03-31/functions/";
/// The end of `Invoke`'s path.
pub(crate) const INVOKE_PATH_SUFFIX: &str = "/invocations";
/// `InvokeWithResponseStream`'s path is this, the function, then [`STREAM_PATH_SUFFIX`] (API
/// version 2021-11-15). (Only the embedded endpoint serves it; the client sends it through the
/// SDK.)
#[cfg_attr(not(feature = "local"), allow(dead_code))]
pub(crate) const STREAM_PATH_PREFIX: &str = "/2021-11-15/functions/";
/// The end of `InvokeWithResponseStream`'s path.
#[cfg_attr(not(feature = "local"), allow(dead_code))]
pub(crate) const STREAM_PATH_SUFFIX: &str = "/response-streaming-invocations";

/// Largest request payload of a synchronous (`RequestResponse` or `DryRun`) invoke: 6 MB
/// (Lambda's quotas page; the API model states no limit).
pub const MAX_SYNC_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// Largest request payload of an asynchronous (`Event`) invoke: 1 MB.
pub const MAX_EVENT_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The `X-Amz-Log-Type` value that asks for the log's tail (`None`, the default, is sent as
/// no header at all).
pub const LOG_TYPE_TAIL: &str = "Tail";
/// `Content-Type` of a response-streaming invocation's body (an AWS event stream).
pub const EVENT_STREAM_CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";
