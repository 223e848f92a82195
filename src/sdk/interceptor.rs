//! The crate's one interceptor on the SDK client: input validation, the attempt witness and,
//! with the lean signer, the clock-skew mirror, registered as a single interceptor.
//!
//! Each concern keeps its own file and its own `Intercept` impl ([`ValidateInvoke`],
//! [`AttemptWitness`], [`SkewMirror`]); this type only forwards each hook to the concern that
//! implements it. Why one registration rather than three: for every hook of every call (about
//! twenty), the orchestrator walks the client's whole interceptor list, cloning each
//! `SharedInterceptor` (two `Arc`s, shared by every thread making calls) before it even asks
//! whether the interceptor implements the hook. Three interceptors cost that walk three times;
//! one costs it once. No two of the concerns implement the same hook, so the order in which
//! they run, and the error a failing hook reports, are what they were as three interceptors.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::attempt::AttemptWitness;
use super::auth::SkewMirror;
use super::validate::ValidateInvoke;

/// The SDK client's interceptor (module docs).
#[derive(Debug, Default)]
pub(crate) struct CallInterceptor {
    validate: ValidateInvoke,
    witness: AttemptWitness,
    /// Only with the lean signer, which signs with the skew it measures.
    skew: Option<SkewMirror>,
}

impl CallInterceptor {
    /// Validation and the witness, plus the skew mirror when the lean signer signs.
    pub(crate) fn new(lean_signer: bool) -> Self {
        Self {
            skew: lean_signer.then(SkewMirror::default),
            ..Self::default()
        }
    }
}

#[aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint]
impl Intercept for CallInterceptor {
    fn name(&self) -> &'static str {
        "lambda-vpce"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.validate.read_before_execution(context, cfg)
    }

    fn modify_before_retry_loop(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match &self.skew {
            Some(skew) => skew.modify_before_retry_loop(context, rc, cfg),
            None => Ok(()),
        }
    }

    fn read_before_attempt(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.witness.read_before_attempt(context, rc, cfg)
    }

    fn read_before_signing(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.witness.read_before_signing(context, rc, cfg)
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.witness.modify_before_transmit(context, rc, cfg)
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match &self.skew {
            Some(skew) => skew.read_before_transmit(context, rc, cfg),
            None => Ok(()),
        }
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match &self.skew {
            Some(skew) => skew.modify_before_deserialization(context, rc, cfg),
            None => Ok(()),
        }
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.witness
            .modify_before_attempt_completion(context, rc, cfg)
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

    use super::{AttemptWitness, CallInterceptor, SkewMirror, ValidateInvoke};

    #[test]
    fn the_one_interceptor_forwards_exactly_the_hooks_its_concerns_implement() {
        // A hook a concern implements but this type does not forward would never run; one it
        // forwards that no concern implements would cost every call a lookup and a call.
        let concerns = SharedInterceptor::new(ValidateInvoke).overridden_hooks()
            | SharedInterceptor::new(AttemptWitness).overridden_hooks()
            | SharedInterceptor::new(SkewMirror::default()).overridden_hooks();
        assert_eq!(
            SharedInterceptor::new(CallInterceptor::new(true)).overridden_hooks(),
            concerns
        );
    }
}
