//! Shared by the integration tests: the crate's client wired to an embedded endpoint.
#![allow(dead_code)]

use aws_credential_types::Credentials;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::{LambdaVpce, PoolBuilder};

/// The crate's client for `ep`, trusting its CA, with `attempts` SDK attempts (1 = no retries)
/// and pool settings from `pool`.
pub fn client_for(
    ep: &LocalEndpoint,
    attempts: u32,
    pool: impl FnOnce(PoolBuilder) -> PoolBuilder,
) -> LambdaVpce {
    LambdaVpce::builder()
        .endpoint_url(&ep.url())
        .add_ca_pem(ep.ca_pem())
        .region(ep.region())
        .credentials(Credentials::new(
            ep.access_key_id(),
            ep.secret_access_key(),
            None,
            None,
            "test",
        ))
        .max_attempts(attempts)
        .pool(pool(PoolBuilder::new()))
        .build_sync()
        .expect("client builds")
}

/// The `amz-sdk-invocation-id` of every request an SDK client sends, in order.
#[derive(Debug, Clone, Default)]
pub struct InvocationIds(pub std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl InvocationIds {
    /// A client like `client` that records into these ids.
    pub fn attach(&self, client: &aws_sdk_lambda::Client) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(self.clone())
                .build(),
        )
    }

    /// Invokes `echo` through `vpce`'s client with these ids attached, expects a failure that
    /// may have executed, sent once (no SDK resend), and returns the id it was sent with.
    pub async fn invoke_expecting_maybe_executed(&self, vpce: &lambda_vpce::LambdaVpce) -> String {
        let err = self
            .attach(vpce.client())
            .invoke()
            .function_name("echo")
            .send()
            .await
            .unwrap_err();
        let ours = lambda_vpce::Error::find_in(&err).expect("the crate's error is in the chain");
        assert!(ours.is_maybe_executed(), "{ours:?}");
        assert_eq!(self.0.lock().unwrap().len(), 1, "no resend by the SDK");
        self.last()
    }

    pub fn last(&self) -> String {
        self.0
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request was sent")
    }
}

impl aws_sdk_lambda::config::Intercept for InvocationIds {
    fn name(&self) -> &'static str {
        "InvocationIds"
    }

    fn read_before_transmit(
        &self,
        ctx: &aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _rc: &aws_sdk_lambda::config::RuntimeComponents,
        _cfg: &mut aws_sdk_lambda::config::ConfigBag,
    ) -> Result<(), aws_sdk_lambda::error::BoxError> {
        if let Some(id) = ctx.request().headers().get("amz-sdk-invocation-id") {
            self.0.lock().unwrap().push(id.to_owned());
        }
        Ok(())
    }
}

/// Polls `cond` every 5 ms for up to `limit` (real sockets, real time): for waiting on what a
/// real server does, never on the code under test settling.
pub async fn wait_until(limit: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    cond()
}
