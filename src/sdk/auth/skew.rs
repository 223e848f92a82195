//! The clock skew the lean signer signs with: the SDK's measurement, repeated.
//!
//! aws-runtime's `ServiceClockSkewInterceptor` keeps the skew it measures (server `Date` minus
//! the midpoint of the round trip) in a config-bag type private to aws-runtime, which only its
//! own signer can read. This interceptor measures the same way, from the same time source, the
//! same hooks and the same rules (no `Date`, an `Age` header or a round trip over 15 minutes:
//! no measurement; [`DisableClockSkewCorrection`] honoured), seeds each operation from the
//! client's last value as the SDK does, and stores it where the lean signer reads it. Its
//! readings of the clock are taken within the same hook as the SDK's, microseconds apart: with
//! a real clock the two skews can differ by those microseconds (a signature one second apart
//! only when that gap straddles a second boundary, and valid either way); with a static or
//! manual time source they are equal.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_runtime::service_clock_skew::DisableClockSkewCorrection;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::date_time::{DateTime, Format};

/// A round trip longer than this gives no skew measurement (aws-runtime's limit).
const MAX_TRUSTED_REQUEST_DURATION: Duration = Duration::from_secs(15 * 60);

/// A signed skew in milliseconds: positive when the service's clock is ahead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Skew(pub(crate) i64);

impl Skew {
    /// `t` shifted by the skew (unchanged when the shift does not fit).
    pub(crate) fn apply(self, t: SystemTime) -> SystemTime {
        if self.0 >= 0 {
            t.checked_add(Duration::from_millis(self.0.unsigned_abs()))
        } else {
            t.checked_sub(Duration::from_millis(self.0.unsigned_abs()))
        }
        .unwrap_or(t)
    }
}

/// The skew of the current attempt, where the lean signer reads it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttemptSkew(pub(crate) Skew);
impl Storable for AttemptSkew {
    type Storer = StoreReplace<Self>;
}

#[derive(Clone, Copy, Debug)]
struct TimeRequestSent(SystemTime);
impl Storable for TimeRequestSent {
    type Storer = StoreReplace<Self>;
}

/// Measures the skew as aws-runtime does, for the lean signer.
#[derive(Debug, Default, Clone)]
pub(crate) struct SkewMirror {
    client_skew: Arc<Mutex<Skew>>,
}

fn disabled(cfg: &ConfigBag) -> bool {
    cfg.load::<DisableClockSkewCorrection>()
        .is_some_and(DisableClockSkewCorrection::is_disabled)
}

#[aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint]
impl Intercept for SkewMirror {
    fn name(&self) -> &'static str {
        "lambda-vpce clock skew (lean signer)"
    }

    fn modify_before_retry_loop(
        &self,
        _ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !disabled(cfg) {
            let seed = *self.client_skew.lock().unwrap_or_else(|p| p.into_inner());
            cfg.interceptor_state().store_put(AttemptSkew(seed));
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !disabled(cfg) {
            if let Some(ts) = rc.time_source() {
                cfg.interceptor_state().store_put(TimeRequestSent(ts.now()));
            }
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if disabled(cfg) {
            return Ok(());
        }
        let (Some(ts), Some(sent)) = (rc.time_source(), cfg.load::<TimeRequestSent>()) else {
            return Ok(());
        };
        let received = ts.now();
        let sent = sent.0;
        let headers = ctx.response().headers();
        if headers.get("age").is_some() {
            return Ok(());
        }
        let Some(server) = headers
            .get("date")
            .and_then(|d| DateTime::from_str(d, Format::HttpDate).ok())
            .and_then(|d| SystemTime::try_from(d).ok())
        else {
            return Ok(());
        };
        let elapsed = received.duration_since(sent).unwrap_or_default();
        if elapsed > MAX_TRUSTED_REQUEST_DURATION {
            return Ok(());
        }
        let midpoint = sent + elapsed / 2;
        let skew = match server.duration_since(midpoint) {
            Ok(d) => Skew(d.as_millis() as i64),
            Err(e) => Skew(-(e.duration().as_millis() as i64)),
        };
        cfg.interceptor_state().store_put(AttemptSkew(skew));
        *self.client_skew.lock().unwrap_or_else(|p| p.into_inner()) = skew;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::interceptors::{OverriddenHooks, SharedInterceptor};

    use super::SkewMirror;

    #[test]
    fn the_orchestrator_calls_the_skew_mirror_only_for_the_three_hooks_it_implements() {
        // Every other hook would cost a configuration lookup and a call, on every call.
        assert_eq!(
            SharedInterceptor::new(SkewMirror::default()).overridden_hooks(),
            OverriddenHooks::MODIFY_BEFORE_RETRY_LOOP
                | OverriddenHooks::READ_BEFORE_TRANSMIT
                | OverriddenHooks::MODIFY_BEFORE_DESERIALIZATION
        );
    }
}
