//! Who saw an attempt: did the SDK's request reach the crate's pool?
//!
//! The SDK reports every failure of an attempt before transmission — identity (credentials),
//! endpoint resolution, signing, an interceptor — as a `DispatchFailure`, the same variant as a
//! connection that broke mid-request. Telling them apart by the error's text would break with
//! every SDK release; instead the attempt carries a witness:
//!
//! 1. `read_before_attempt` puts a fresh [`Witness`] (stage: *identity and endpoint*) in the
//!    attempt's config bag;
//! 2. `read_before_signing` (the endpoint is resolved) moves it to *signing*;
//! 3. `modify_before_transmit` (the last hook before the orchestrator hands the request to the
//!    HTTP client) puts the same witness in the request's extensions, and the pool's connector
//!    moves it to *reached the pool* when it is called with that request;
//! 4. `modify_before_attempt_completion` reads it. An attempt that failed before the pool saw
//!    its request provably sent nothing: its error is wrapped in the crate's [`Error`] of kind
//!    [`Kind::Credentials`] (a credentials error anywhere in it), [`Kind::Configuration`]
//!    (identity or endpoint resolution failed otherwise: the same configuration fails the same
//!    way, `InvalidInput`), or [`Kind::SdkNotSent`] (signing, an interceptor, an attempt
//!    timeout that fired first). An error that already holds the crate's [`Error`] (the input
//!    validator's) is left as it is. [`Verdict::of_sdk`](crate::Verdict::of_sdk) then finds the
//!    crate's error in the chain, and the CLI exits 2 or 3 for it, never 4.
//!
//! An attempt timeout keeps its `TimeoutError` variant (the wrapped error is the timeout's
//! source), so the SDK's own retry classification of timeouts is unchanged.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::error::{Error, Kind};

const IDENTITY_AND_ENDPOINT: u8 = 0;
const SIGNING: u8 = 1;
const REACHED_POOL: u8 = 2;

/// How far one attempt got; shared by the config bag, the request and the connector.
#[derive(Debug, Clone, Default)]
pub(crate) struct Witness(Arc<AtomicU8>);

impl Storable for Witness {
    type Storer = StoreReplace<Self>;
}

impl Witness {
    /// Called by the pool's connector with the request it was handed.
    pub(crate) fn reached_pool(request: &HttpRequest) {
        if let Some(w) = request.extension::<Witness>() {
            w.0.store(REACHED_POOL, Ordering::Release);
        }
    }

    fn stage(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }
}

/// The interceptor that keeps the [`Witness`] and classifies unsent attempts (module docs).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AttemptWitness;

#[aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint]
impl Intercept for AttemptWitness {
    fn name(&self) -> &'static str {
        "lambda-vpce attempt witness"
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Witness::default());
        Ok(())
    }

    fn read_before_signing(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(w) = cfg.load::<Witness>() {
            w.0.store(SIGNING, Ordering::Release);
        }
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(w) = cfg.load::<Witness>() {
            context.request_mut().add_extension(w.clone());
        }
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(stage) = cfg.load::<Witness>().map(Witness::stage) else {
            return Ok(());
        };
        if stage == REACHED_POOL {
            return Ok(());
        }
        let Some(result) = context.output_or_error_mut() else {
            return Ok(());
        };
        let Err(err) = result else {
            return Ok(());
        };
        if Error::find_in(err).is_some() {
            return Ok(());
        }
        let kind = if chain_has_credentials_error(err) {
            Kind::Credentials
        } else if stage == IDENTITY_AND_ENDPOINT && !err.is_timeout_error() {
            Kind::Configuration
        } else {
            Kind::SdkNotSent
        };
        let timeout = err.is_timeout_error();
        let original = std::mem::replace(err, OrchestratorError::other("replaced"));
        let ours = Error::with(kind, original);
        *err = if timeout {
            OrchestratorError::timeout(Box::new(ours))
        } else {
            OrchestratorError::other(ours)
        };
        Ok(())
    }
}

fn chain_has_credentials_error(err: &(dyn std::error::Error + 'static)) -> bool {
    use aws_credential_types::provider::error::CredentialsError;
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<CredentialsError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::interceptors::{OverriddenHooks, SharedInterceptor};

    use super::AttemptWitness;

    #[test]
    fn the_witness_runs_only_the_four_hooks_it_needs() {
        assert_eq!(
            SharedInterceptor::new(AttemptWitness).overridden_hooks(),
            OverriddenHooks::READ_BEFORE_ATTEMPT
                | OverriddenHooks::READ_BEFORE_SIGNING
                | OverriddenHooks::MODIFY_BEFORE_TRANSMIT
                | OverriddenHooks::MODIFY_BEFORE_ATTEMPT_COMPLETION
        );
    }
}
