//! What the lean path retries, and how long it waits: a 429 always (the function did not run),
//! a failure that may have executed only for a named durable invoke (Lambda deduplicates it).

use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::MAX_RETRY_AFTER;

/// How many times a 429 is retried by default (the SDK path's default of 3 attempts).
pub const DEFAULT_MAX_THROTTLE_RETRIES: u32 = 2;

/// The wait before retrying a 429 that came without `Retry-After`; doubled per retry, capped at
/// [`MAX_RETRY_AFTER`].
pub const DEFAULT_THROTTLE_BACKOFF: Duration = Duration::from_secs(1);

/// How many times a named durable invoke that may have executed is sent again by default (the
/// SDK path's default of 3 attempts).
pub const DEFAULT_MAX_DURABLE_RETRIES: u32 = 2;

/// The base wait before resending a named durable invoke that may have executed; doubled per
/// retry, with jitter (between half and all of it), capped at [`MAX_RETRY_AFTER`].
pub const DEFAULT_DURABLE_BACKOFF: Duration = Duration::from_millis(100);

/// The wait before retry number `retries + 1` of a 429.
pub(crate) fn throttle_delay(retries: u32, retry_after: Option<Duration>) -> Duration {
    retry_after
        .unwrap_or_else(|| DEFAULT_THROTTLE_BACKOFF.saturating_mul(1u32 << retries.min(16)))
        .min(MAX_RETRY_AFTER)
}

/// The wait before retry number `retries + 1` of a named durable invoke: the doubled backoff,
/// scaled by a random factor in `[0.5, 1)` so that clients failing together do not retry
/// together.
pub(crate) fn durable_delay(retries: u32) -> Duration {
    let full = DEFAULT_DURABLE_BACKOFF
        .saturating_mul(1u32 << retries.min(16))
        .min(MAX_RETRY_AFTER);
    full.mul_f64(0.5 + fastrand::f64() / 2.0)
}

/// Whether a failure of an invoke that names a durable execution is worth sending again: it
/// may have executed (transport failure after sending, response timeout, broken body) or
/// Lambda answered 5xx. Not a 4xx — `DurableExecutionAlreadyStartedException` (409) least of
/// all — and not a refusal before sending (the pool resends what provably never left).
pub(crate) fn is_retryable_when_named(e: &Error) -> bool {
    e.is_maybe_executed() || e.status().is_some_and(|s| (500..600).contains(&s))
}

/// One attempt's deadline: the call's, or `attempt_timeout` from now if that comes first.
pub(crate) fn attempt_deadline(
    call: Option<Instant>,
    attempt_timeout: Option<Duration>,
) -> Option<Instant> {
    let attempt = attempt_timeout.and_then(|t| Instant::now().checked_add(t));
    match (call, attempt) {
        (Some(c), Some(a)) => Some(c.min(a)),
        (c, a) => c.or(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_waits_its_retry_after_capped_else_a_doubling_backoff() {
        assert_eq!(
            throttle_delay(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            throttle_delay(0, Some(Duration::from_secs(3600))),
            MAX_RETRY_AFTER
        );
        assert_eq!(throttle_delay(0, None), DEFAULT_THROTTLE_BACKOFF);
        assert_eq!(throttle_delay(1, None), DEFAULT_THROTTLE_BACKOFF * 2);
        assert_eq!(throttle_delay(40, None), MAX_RETRY_AFTER);
    }

    #[test]
    fn a_durable_retry_waits_between_half_and_all_of_a_doubling_capped_backoff() {
        for retries in 0..40 {
            let full = DEFAULT_DURABLE_BACKOFF
                .saturating_mul(1u32 << retries.min(16))
                .min(MAX_RETRY_AFTER);
            for _ in 0..20 {
                let d = durable_delay(retries);
                assert!(d >= full / 2 && d <= full, "{retries}: {d:?} of {full:?}");
            }
        }
    }

    #[test]
    fn only_what_may_have_executed_or_a_5xx_is_retried_for_a_named_invoke() {
        use crate::error::Kind;
        assert!(is_retryable_when_named(&Error::new(Kind::Transport)));
        assert!(is_retryable_when_named(&Error::new(Kind::ResponseTimeout)));
        assert!(is_retryable_when_named(&Error::service(
            502, None, None, None
        )));
        let already = Error::service(
            409,
            Some("DurableExecutionAlreadyStartedException".into()),
            None,
            None,
        );
        assert!(already.is_durable_execution_already_started());
        assert!(!is_retryable_when_named(&already));
        assert!(!is_retryable_when_named(&Error::service(
            400, None, None, None
        )));
        assert!(!is_retryable_when_named(&Error::new(Kind::Connect)));
        assert!(!is_retryable_when_named(&Error::new(Kind::InvalidInput)));
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_ends_at_its_own_timeout_or_the_calls_deadline_whichever_is_first() {
        let now = Instant::now();
        let call = Some(now + Duration::from_secs(10));
        assert_eq!(attempt_deadline(call, None), call);
        assert_eq!(
            attempt_deadline(call, Some(Duration::from_secs(2))),
            Some(now + Duration::from_secs(2))
        );
        assert_eq!(attempt_deadline(call, Some(Duration::from_secs(60))), call);
        assert_eq!(
            attempt_deadline(None, Some(Duration::from_secs(2))),
            Some(now + Duration::from_secs(2))
        );
        assert_eq!(attempt_deadline(None, None), None);
    }
}
