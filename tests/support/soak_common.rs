//! Shared by the fault matrix, the security and bad-input tests: a client on the local
//! endpoint, an interceptor that records each attempt's `amz-sdk-invocation-id`, and the
//! outcome classes of a call.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::{LambdaVpce, PoolBuilder, RetryPolicy};

/// The header the SDK keeps across its retries and the endpoint's ledger counts by.
pub const INVOCATION_ID: &str = "amz-sdk-invocation-id";

/// Records the invocation id of every attempt the SDK transmits.
#[derive(Debug, Clone, Default)]
pub struct Attempts(Arc<Mutex<Vec<String>>>);

impl Attempts {
    /// Every attempt's invocation id, in order.
    pub fn ids(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many attempts the SDK transmitted.
    pub fn count(&self) -> usize {
        self.ids().len()
    }

    /// The call's invocation id (the same on every attempt).
    pub fn call_id(&self) -> Option<String> {
        let ids = self.ids();
        if let Some(first) = ids.first() {
            assert!(
                ids.iter().all(|i| i == first),
                "the SDK kept one invocation id across attempts: {ids:?}"
            );
        }
        ids.first().cloned()
    }
}

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "record invocation ids"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(id) = ctx.request().headers().get(INVOCATION_ID) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(id.to_owned());
        }
        Ok(())
    }
}

/// Settings of a test client.
#[derive(Debug, Clone)]
pub struct ClientOpts {
    pub policy: RetryPolicy,
    pub max_attempts: u32,
    pub response_timeout: Duration,
    pub trust_ca: bool,
    pub url: Option<String>,
    pub session_token: Option<String>,
}

impl Default for ClientOpts {
    fn default() -> Self {
        ClientOpts {
            policy: RetryPolicy::NeverTwice,
            max_attempts: 3,
            response_timeout: Duration::from_secs(10),
            trust_ca: true,
            url: None,
            session_token: None,
        }
    }
}

/// The crate's client on `ep`, with `pool` settings.
pub fn client_with(ep: &LocalEndpoint, pool: PoolBuilder, opts: &ClientOpts) -> LambdaVpce {
    let url = opts.url.clone().unwrap_or_else(|| ep.url());
    let mut b = LambdaVpce::builder()
        .endpoint_url(&url)
        .region(ep.region())
        .credentials(Credentials::new(
            ep.access_key_id(),
            ep.secret_access_key(),
            opts.session_token.clone(),
            None,
            "test",
        ))
        .retry_policy(opts.policy)
        .max_attempts(opts.max_attempts)
        .response_timeout(opts.response_timeout)
        .pool(pool);
    if opts.trust_ca {
        b = b.add_ca_pem(ep.ca_pem());
    }
    b.build_sync().expect("test client builds")
}

/// The crate's client on `ep` with default pool settings.
pub fn client(ep: &LocalEndpoint, opts: &ClientOpts) -> LambdaVpce {
    client_with(ep, PoolBuilder::new(), opts)
}

/// The outcome class of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A response: the function ran exactly once.
    Ok,
    /// The request provably never left: 0 executions.
    NotSent,
    /// Sent, outcome unknown: at most 1 execution.
    MaybeExecuted,
    /// The service answered with this error status.
    Service(u16),
}

/// What one call did: its class, the crate's error predicates, the attempts.
#[derive(Debug)]
pub struct Outcome {
    pub class: Class,
    pub timeout: bool,
    pub tls: bool,
    pub dns: bool,
    pub connect: bool,
    pub message: String,
    pub attempts: Attempts,
    pub output: Option<InvokeOutput>,
}

impl Outcome {
    /// The call's invocation id.
    pub fn call_id(&self) -> String {
        self.attempts
            .call_id()
            .expect("the SDK transmitted at least one attempt")
    }

    /// Executions the endpoint counted for this call (0 when no attempt was transmitted).
    pub fn executions(&self, ep: &LocalEndpoint) -> u32 {
        self.attempts
            .call_id()
            .map_or(0, |id| ep.ledger().executions(&id))
    }
}

/// Classifies an SDK result.
pub fn classify(
    result: Result<InvokeOutput, SdkError<InvokeError, aws_smithy_runtime_api::http::Response>>,
    attempts: Attempts,
) -> Outcome {
    match result {
        Ok(out) => Outcome {
            class: Class::Ok,
            timeout: false,
            tls: false,
            dns: false,
            connect: false,
            message: String::new(),
            attempts,
            output: Some(out),
        },
        Err(err) => {
            let message = format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(&err)
            );
            if let Some(ours) = lambda_vpce::Error::find_in(&err) {
                let class = if ours.is_maybe_executed() {
                    Class::MaybeExecuted
                } else if ours.is_not_sent() {
                    Class::NotSent
                } else {
                    Class::Service(ours.status().unwrap_or(0))
                };
                return Outcome {
                    class,
                    timeout: ours.is_timeout(),
                    tls: ours.is_tls(),
                    dns: ours.is_dns(),
                    connect: ours.is_connect(),
                    message,
                    attempts,
                    output: None,
                };
            }
            let class = match &err {
                SdkError::ServiceError(s) => Class::Service(s.raw().status().as_u16()),
                // A response the SDK could not read (a broken body, a bad head): it was sent.
                SdkError::ResponseError(_) | SdkError::TimeoutError(_) => Class::MaybeExecuted,
                _ => panic!("unclassified SDK error (code {:?}): {message}", err.code()),
            };
            Outcome {
                class,
                timeout: matches!(err, SdkError::TimeoutError(_)),
                tls: false,
                dns: false,
                connect: false,
                message,
                attempts,
                output: None,
            }
        }
    }
}

/// Invokes `function` with `payload` through `c`, recording attempts, and classifies.
pub async fn invoke(c: &LambdaVpce, function: &str, payload: impl Into<Vec<u8>>) -> Outcome {
    let attempts = Attempts::default();
    let result = c
        .client()
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload.into()))
        .customize()
        .interceptor(attempts.clone())
        .send()
        .await;
    classify(result, attempts)
}

/// Waits (polling, bounded) until `cond` holds; fails the test after `within`.
pub async fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < within,
            "waited {within:?} for {what} in vain"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Invokes through `c` with the call `shape` builds (function, qualifier, durable execution
/// name, tenant, payload ...), recording attempts, and classifies.
pub async fn invoke_shaped(
    c: &LambdaVpce,
    shape: impl FnOnce(
        aws_sdk_lambda::operation::invoke::builders::InvokeFluentBuilder,
    ) -> aws_sdk_lambda::operation::invoke::builders::InvokeFluentBuilder,
) -> Outcome {
    let attempts = Attempts::default();
    let result = shape(c.client().invoke())
        .customize()
        .interceptor(attempts.clone())
        .send()
        .await;
    classify(result, attempts)
}
