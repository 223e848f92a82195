//! The one support library of the integration tests (`mod support;` in every `tests/*.rs`):
//! a client on the local endpoint, the interceptor that records each attempt's
//! `amz-sdk-invocation-id`, a call's outcome as the library's [`Verdict`] sees it, one bounded
//! wait, and a scratch directory. Submodules: [`aws_settings`] (AWS configurations loaded by
//! aws-config from a fake environment and files), [`cli`] (the binary's fixture), [`h2raw`] (a
//! raw `h2` client with a frame tap), [`raw`] (a raw TCP server), [`sigv4`] (the one
//! reference SigV4 signer), [`tls`] (TLS clients of the endpoint: the rustls config, the SDK's
//! default client), [`peers`] and [`stored_zip`] (the peer suites).
//!
//! Lambda's header names, limits and invocation types come from the library's
//! [`lambda_vpce::wire`], never from a literal here.
#![allow(dead_code, unreachable_pub)]

pub mod aws_settings;
pub mod cli;
pub mod h2raw;
pub mod peers;
pub mod raw;
pub mod sigv4;
pub mod stored_zip;
pub mod tls;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::wire::header::SDK_INVOCATION_ID;
use lambda_vpce::{pool::PoolBuilder, LambdaVpce, RetryPolicy, Verdict, DEFAULT_RESPONSE_TIMEOUT};

/// Records the value of one request header on every attempt the SDK transmits (an
/// interceptor). `Debug` names the header, never a value: the SDK traces its interceptors'
/// `Debug` at TRACE, and a recorded value may be a signature.
#[derive(Clone)]
pub struct HeaderLog {
    name: &'static str,
    values: Arc<Mutex<Vec<String>>>,
}

impl HeaderLog {
    /// A log of header `name`'s values.
    pub fn new(name: &'static str) -> Self {
        HeaderLog {
            name,
            values: Arc::default(),
        }
    }

    /// Every recorded value, in order.
    pub fn values(&self) -> Vec<String> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl std::fmt::Debug for HeaderLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeaderLog({}: ..)", self.name)
    }
}

impl Intercept for HeaderLog {
    fn name(&self) -> &'static str {
        "record a header"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(value) = ctx.request().headers().get(self.name) {
            self.values
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(value.to_owned());
        }
        Ok(())
    }
}

/// Records the invocation id (`amz-sdk-invocation-id`) of every attempt the SDK transmits.
#[derive(Clone)]
pub struct Attempts(HeaderLog);

impl std::fmt::Debug for Attempts {
    /// The ids (not secrets), for a failing test's message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Attempts").field(&self.ids()).finish()
    }
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts(HeaderLog::new(SDK_INVOCATION_ID))
    }
}

impl Attempts {
    /// Every attempt's invocation id, in order.
    pub fn ids(&self) -> Vec<String> {
        self.0.values()
    }

    /// How many attempts the SDK transmitted.
    pub fn count(&self) -> usize {
        self.ids().len()
    }

    /// The last attempt's invocation id; panics when none was transmitted.
    pub fn last(&self) -> String {
        self.ids().last().cloned().expect("a request was sent")
    }

    /// A client like `client` that records into these attempts on every call.
    pub fn attach(&self, client: &aws_sdk_lambda::Client) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(self.clone())
                .build(),
        )
    }

    /// Invokes `echo` through `vpce`'s client with these attempts attached, expects a failure
    /// that may have executed, sent once (no SDK resend), and returns the id it was sent with.
    pub async fn invoke_expecting_maybe_executed(&self, vpce: &LambdaVpce) -> String {
        let err = self
            .attach(vpce.client())
            .invoke()
            .function_name("echo")
            .send()
            .await
            .unwrap_err();
        let ours = lambda_vpce::Error::find_in(&err).expect("the crate's error is in the chain");
        assert!(ours.is_maybe_executed(), "{ours:?}");
        assert_eq!(Verdict::of_sdk(&err), Verdict::MaybeExecuted);
        assert_eq!(self.count(), 1, "no resend by the SDK");
        self.last()
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
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.read_before_transmit(ctx, rc, cfg)
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

/// The crate's client on `ep`, with `pool` settings: the one place a test client is built.
pub fn client_with(ep: &LocalEndpoint, pool: PoolBuilder, opts: &ClientOpts) -> LambdaVpce {
    let url = opts.url.clone().unwrap_or_else(|| ep.url());
    let credentials = match &opts.session_token {
        None => ep.credentials(),
        Some(token) => aws_credential_types::Credentials::new(
            ep.access_key_id(),
            ep.secret_access_key(),
            Some(token.clone()),
            None,
            "test",
        ),
    };
    let mut b = LambdaVpce::builder()
        .endpoint_url(&url)
        .region(ep.region())
        .credentials(credentials)
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

/// The crate's client on `ep` with the library's defaults (policy, response timeout),
/// `attempts` SDK attempts (1 = no retries) and pool settings from `pool`.
pub fn client_for(
    ep: &LocalEndpoint,
    attempts: u32,
    pool: impl FnOnce(PoolBuilder) -> PoolBuilder,
) -> LambdaVpce {
    let opts = ClientOpts {
        max_attempts: attempts,
        response_timeout: DEFAULT_RESPONSE_TIMEOUT,
        ..ClientOpts::default()
    };
    client_with(ep, pool(PoolBuilder::new()), &opts)
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

impl Class {
    /// The class of a failure with this verdict (invalid input was not sent either).
    pub fn of(verdict: &Verdict) -> Class {
        match verdict {
            Verdict::Service { status, .. } => Class::Service(*status),
            v if v.is_not_sent() => Class::NotSent,
            _ => Class::MaybeExecuted,
        }
    }
}

/// Classifies an SDK result with the library's [`Verdict`].
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
            let ours = lambda_vpce::Error::find_in(&err);
            Outcome {
                class: Class::of(&Verdict::of_sdk(&err)),
                timeout: matches!(err, SdkError::TimeoutError(_))
                    || ours.is_some_and(|e| e.is_timeout()),
                tls: ours.is_some_and(|e| e.is_tls()),
                dns: ours.is_some_and(|e| e.is_dns()),
                connect: ours.is_some_and(|e| e.is_connect()),
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

/// An HTTP/1.1-only endpoint, for the rows of HTTP/1.1 faults (idle closes and resets,
/// truncated or garbled responses, a close after n requests): the clients keep the pool's
/// default protocol and negotiate `http/1.1` in ALPN. Their HTTP/2 counterparts are in
/// `tests/http2_faults.rs`.
pub async fn http1_endpoint() -> LocalEndpoint {
    LocalEndpoint::builder()
        .http2(false)
        .start()
        .await
        .expect("local endpoint starts")
}

/// Waits (polling every 5 ms, bounded) until `cond` holds; fails the test after `within`.
/// For what a real server or socket does on its own (an idle close), never for the code under
/// test to settle. Reads tokio's clock, so a paused test advances through it.
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

/// Blocks the calling thread (and so a current-thread test runtime: none of its tasks runs)
/// until `cond` holds, for up to `within` of real time; fails the test after that. Only for an
/// endpoint on a runtime of its own (`LocalEndpointBuilder::worker_threads`), which keeps
/// running.
pub fn block_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < within,
            "waited {within:?} for {what} in vain"
        );
        std::thread::yield_now();
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

/// A fresh directory `<tmp>/lambda-vpce-<name>-<pid>-<n>` (`n`: anything that tells this
/// test's directory from its neighbours', such as an endpoint's port); the caller removes it.
pub fn scratch_dir(name: &str, n: impl std::fmt::Display) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lambda-vpce-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Whether the tests run in CI: the environment variable `CI` is set (and not `false` or `0`),
/// as `.ci/run` and every CI service set it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "false" | "0"))
}

/// For a test that cannot run on this machine (not root, a tool missing): in CI a failure
/// that says why (CI is where it must run; a skip there would pass silently); elsewhere a
/// `SKIPPED` note on stderr, after which the caller returns.
pub fn cannot_run(test: &str, why: &str) {
    assert!(
        !in_ci(),
        "{test} cannot run here, and CI must run it (the environment variable CI is set): {why}"
    );
    eprintln!("SKIPPED {test}: {why} (with CI set, this fails)");
}
