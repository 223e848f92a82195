//! The verdict is told by who saw the request: a failure before the crate's pool saw an
//! attempt (an interceptor, endpoint resolution, identity) is `NotSent` or `InvalidInput` —
//! never "may have executed" — and a failure after it is the pool's to tell.

mod support;

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_sdk_lambda::primitives::Blob;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::{Error, Verdict};
use support::{client, ClientOpts};

/// Refuses every call at one hook.
#[derive(Debug)]
struct RefuseAt(&'static str);

impl Intercept for RefuseAt {
    fn name(&self) -> &'static str {
        "refuse"
    }
    fn read_before_signing(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.0 == "before_signing" {
            return Err("refused before signing".into());
        }
        Ok(())
    }
    fn read_after_transmit(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.0 == "after_transmit" {
            return Err("refused after transmit".into());
        }
        Ok(())
    }
}

#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded("no credentials here")))
    }
}

async fn setup() -> (LocalEndpoint, aws_sdk_lambda::Config) {
    let ep = LocalEndpoint::start().await.expect("endpoint");
    let vpce = client(&ep, &ClientOpts::default());
    let config = vpce.client().config().clone();
    (ep, config)
}

async fn invoke_with(config: aws_sdk_lambda::Config) -> Verdict {
    let err = aws_sdk_lambda::Client::from_conf(config)
        .invoke()
        .function_name("echo")
        .payload(Blob::new("{}"))
        .send()
        .await
        .expect_err("the call fails");
    Verdict::of_sdk(&err)
}

#[tokio::test]
async fn an_interceptor_refusing_before_signing_is_not_sent_and_nothing_reaches_the_endpoint() {
    let (ep, config) = setup().await;
    let verdict = invoke_with(
        config
            .to_builder()
            .interceptor(RefuseAt("before_signing"))
            .build(),
    )
    .await;
    assert_eq!(verdict, Verdict::NotSent);
    assert_eq!(ep.stats().requests, 0);
}

#[tokio::test]
async fn an_endpoint_the_sdk_refuses_to_resolve_is_invalid_input_not_maybe_executed() {
    // FIPS on a client with a custom endpoint: the SDK's resolver refuses the combination,
    // before any request exists.
    let (ep, config) = setup().await;
    let err = aws_sdk_lambda::Client::from_conf(config.to_builder().use_fips(true).build())
        .invoke()
        .function_name("echo")
        .send()
        .await
        .expect_err("the resolver refuses");
    assert_eq!(Verdict::of_sdk(&err), Verdict::InvalidInput);
    let ours = Error::find_in(&err).expect("the crate's error is in the chain");
    assert!(ours.is_not_sent() && ours.is_invalid_input(), "{ours:?}");
    assert_eq!(ep.stats().requests, 0);
}

#[tokio::test]
async fn credentials_that_cannot_be_loaded_are_not_sent() {
    let (ep, config) = setup().await;
    let verdict = invoke_with(
        config
            .to_builder()
            .credentials_provider(NoCredentials)
            .build(),
    )
    .await;
    assert_eq!(verdict, Verdict::NotSent);
    assert_eq!(ep.stats().requests, 0);
}

#[tokio::test]
async fn a_failure_after_the_pool_saw_the_request_stays_the_pools_to_tell() {
    let (ep, config) = setup().await;
    let verdict = invoke_with(
        config
            .to_builder()
            .interceptor(RefuseAt("after_transmit"))
            .build(),
    )
    .await;
    assert_eq!(verdict, Verdict::MaybeExecuted);
    assert_eq!(ep.ledger().total(), 1, "the function ran");
}
