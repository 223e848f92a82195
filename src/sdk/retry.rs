//! The retry policy that never runs a function twice.

use std::time::Duration;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_types::retry::ErrorKind;

use super::connector::{CallError, RequestFacts};
use crate::Error;

/// The longest `Retry-After` of a 429 the SDK is told to honour; longer hints are capped.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(20);

/// How the SDK may retry calls made through the crate's client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RetryPolicy {
    /// The default. A request that may have reached the server is never sent again unless its
    /// method is idempotent (GET, HEAD, PUT, DELETE): for `Invoke` (POST) a failure after the
    /// request was written, an attempt timeout, a 5xx answer or a broken response body ends
    /// the call with an error instead of a silent second execution. Requests that provably never
    /// left (connect/TLS failures, a connection handing the request back) are resent inside the
    /// pool, and the SDK may retry them too. A 429 (the function did not run) is retried after
    /// its `Retry-After`, capped at [`MAX_RETRY_AFTER`].
    ///
    /// One exception: an `Invoke` with a `DurableExecutionName` (header
    /// `X-Amz-Durable-Execution-Name`), which Lambda deduplicates — the same name and payload
    /// return the execution it already has. Such a call that failed in a way that may have
    /// executed (a transport failure after sending, an attempt timeout, a broken response body,
    /// a 5xx) is retried as a transient error, within the SDK's `max_attempts`, backoff and
    /// operation timeout. A `DurableExecutionAlreadyStartedException` (the name already ran
    /// with another payload) is never retried.
    #[default]
    NeverTwice,
    /// The SDK's own classification, unchanged: transient errors and 5xx are retried whatever
    /// the request, so an `Invoke` may run up to `max_attempts` times.
    SdkDefault,
}

/// The classifier behind [`RetryPolicy::NeverTwice`]. It runs after the SDK's own classifiers
/// and overrides their verdict.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NeverTwice;

impl NeverTwice {
    fn facts(ctx: &InterceptorContext) -> Option<RequestFacts> {
        if let Some(f) = ctx.response().and_then(|r| r.extension::<RequestFacts>()) {
            return Some(*f);
        }
        let err = ctx.output_or_error()?.err()?;
        let mut cur: Option<&(dyn std::error::Error + 'static)> =
            err.as_connector_error().map(|c| c as _);
        while let Some(e) = cur {
            if let Some(call) = e.downcast_ref::<CallError>() {
                return Some(call.facts);
            }
            cur = e.source();
        }
        None
    }
}

/// Parses `Retry-After` in seconds (the form Lambda sends), capped at [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    crate::error::parse_retry_after(value?).map(|d| d.min(MAX_RETRY_AFTER))
}

/// The modeled `DurableExecutionAlreadyStartedException` of `Invoke`.
fn is_durable_execution_already_started(
    err: &aws_smithy_runtime_api::client::orchestrator::OrchestratorError<
        aws_smithy_runtime_api::client::interceptors::context::Error,
    >,
) -> bool {
    err.as_operation_error()
        .and_then(|e| e.downcast_ref::<aws_sdk_lambda::operation::invoke::InvokeError>())
        .is_some_and(|e| e.is_durable_execution_already_started_exception())
}

impl ClassifyRetry for NeverTwice {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        if let Some(response) = ctx.response() {
            if response.status().as_u16() == 429 {
                return match retry_after(response.headers().get(http::header::RETRY_AFTER)) {
                    Some(d) => RetryAction::retryable_error_with_explicit_delay(
                        ErrorKind::ThrottlingError,
                        d,
                    ),
                    None => RetryAction::throttling_error(),
                };
            }
        }
        if is_durable_execution_already_started(err) {
            return RetryAction::RetryForbidden;
        }
        let facts = Self::facts(ctx);
        if facts.is_some_and(|f| f.idempotent) {
            return RetryAction::NoActionIndicated;
        }
        let may_have_executed = match Error::find_in(err) {
            Some(ours) => ours.is_maybe_executed(),
            None => {
                ctx.response().is_some_and(|r| r.status().is_server_error())
                    || err.is_timeout_error()
                    || err.is_response_error()
            }
        };
        if may_have_executed && facts.is_some_and(|f| f.durable_named) {
            return RetryAction::transient_error();
        }
        if let Some(ours) = Error::find_in(err) {
            return if ours.is_not_sent() {
                RetryAction::NoActionIndicated
            } else {
                RetryAction::RetryForbidden
            };
        }
        if ctx.response().is_some_and(|r| r.status().is_server_error())
            || err.is_timeout_error()
            || err.is_response_error()
        {
            return RetryAction::RetryForbidden;
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "lambda-vpce never twice"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After the SDK's classifiers (HTTP status 0, modeled 10, transient 20, AWS codes).
        let mut p = RetryClassifierPriority::transient_error_classifier();
        for _ in 0..20 {
            p = RetryClassifierPriority::run_after(p);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        assert_eq!(retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("3600")), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(Some("soon")), None);
        assert_eq!(retry_after(Some("-1")), None);
        assert_eq!(retry_after(None), None);
    }
}
