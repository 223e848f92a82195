//! The SDK adapter: a real [`aws_sdk_lambda::Client`] whose HTTP goes through the crate's
//! [`Pool`], with endpoint routing and the [`RetryPolicy::NeverTwice`] retry policy.
//!
//! # The life of an SDK call
//!
//! [`LambdaVpceBuilder::build`] takes the user's AWS configuration as aws-config's loader
//! resolves it ([`Settings`], `settings.rs`: endpoint URL, FIPS, dual-stack, CA bundle and
//! region, each with its source; see `docs/configuration.md`), turns it into one [`Endpoint`]
//! (`settings::choose_endpoint`), builds the [`Pool`] for it, and gives the SDK client its
//! parts. A call such as `client.invoke().function_name(..).send()` then runs through the SDK's
//! own orchestrator, with the crate's pieces at these steps:
//!
//! ```text
//!  send()
//!    ▼
//!  validate::ValidateInvoke (before serialisation): Invoke's input rules
//!    │  (crate::validate) → Error::is_invalid_input, nothing built or sent
//!    │  [this, the witness and the skew mirror are one registered interceptor,
//!    │   interceptor::CallInterceptor: the orchestrator walks every interceptor on every hook]
//!    ▼
//!  input serialised by the SDK (a missing required field: ConstructionFailure)
//!    ▼
//!  each attempt: attempt::AttemptWitness puts a witness in it, moved on at each stage
//!    │  (identity and endpoint → signing → reached the pool)
//!    ▼
//!  identity (the SDK's credentials provider and cache) and endpoint (the crate's endpoint URL;
//!    │  FIPS / dual-stack already applied to it, so cleared for the SDK's resolver)
//!    ▼
//!  signer ── auth::LeanSigV4 (`auth.rs`, `auth/canonical.rs`; SigV4 primitives in crate::sign),
//!    │       under the SDK's `sigv4` scheme id: signing key cached per day, canonical request
//!    │       streamed, byte-identical to aws-runtime's SigV4Signer, which signs whatever it
//!    │       cannot reproduce ([`Signer::Sdk`] uses the SDK's for everything); the clock skew
//!    │       the SDK measures, mirrored for it by auth::skew::SkewMirror
//!    ▼
//!  connector ── connector::PoolHttpClient → PoolConnector: marks the witness "reached the
//!    │          pool"; the call's deadline from the SDK's read timeout, else
//!    │          DEFAULT_RESPONSE_TIMEOUT; RequestFacts (idempotent method, durable name)
//!    ▼
//!  pool ── Pool::send_with: checkout, send, and the only resends: a request that provably never
//!    │     left, or that the server proved unprocessed (crate::pool; HTTP/2 in pool::h2). A
//!    │     failure is the crate's Error with its verdict, wrapped as a CallError with the
//!    │     request's facts in a ConnectorError (connector::to_connector_error)
//!    ▼
//!  attempt completion ── AttemptWitness: an attempt that failed before the pool saw it sent
//!    │                   nothing; its error becomes the crate's (credentials, configuration,
//!    │                   or not sent) — told by the witness, never by the error's text
//!    ▼
//!  retry classifier ── retry::NeverTwice, after the SDK's own: a 429 after its Retry-After
//!    │                 (capped at MAX_RETRY_AFTER); an idempotent method keeps the SDK's
//!    │                 verdict; a durable-named Invoke that may have run is retried (Lambda
//!    │                 deduplicates it); not sent: the SDK may retry; anything that may have
//!    │                 run: never ([`RetryPolicy::SdkDefault`] keeps the SDK's policy)
//!    ▼
//!  Ok(output), or an SdkError: Verdict::of_sdk (verdict.rs) says who saw the request —
//!  not sent / invalid input / may have executed / service (with the `metrics` feature,
//!  metrics::SdkCallOutcomes counts it)
//! ```
//!
//! `docs/never-twice.md` has the verdict's table and the retry policy case by case;
//! `docs/configuration.md` has every setting and where it is read from.
//!
//! # Files
//! `settings.rs` and `ca_bundle.rs` (what the configuration says), `interceptor.rs` (the one
//! interceptor: `validate.rs`, `attempt.rs` and the skew mirror behind it), `auth.rs` with `auth/` (the signer, its canonical request, the clock skew), `connector.rs`,
//! `retry.rs`; this file builds the client ([`LambdaVpceBuilder`]) and loads the configuration
//! chain ([`load_sdk_config`]).

mod attempt;
mod auth;
mod ca_bundle;
mod connector;
mod interceptor;
mod retry;
mod settings;
mod validate;

use crate::pool::DEFAULT_RESPONSE_TIMEOUT;
pub use auth::Signer;
pub use ca_bundle::{CaBundle, CaBundleSource};
pub use connector::PoolHttpClient;
pub use retry::{RetryPolicy, MAX_RETRY_AFTER};
pub use settings::{Setting, SettingSource, Settings, CA_BUNDLE_ENV, CA_BUNDLE_PROFILE_KEY};

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_lambda::config::Region;
use aws_sdk_lambda::operation::invoke::builders::InvokeFluentBuilder;
use aws_smithy_types::retry::RetryConfig;

use crate::pool::{Pool, PoolBuilder};
use crate::Error;
use crate::{endpoint::Endpoint, BuildError};

/// Builds a [`LambdaVpce`]: an `aws_sdk_lambda::Client` on the crate's pool.
#[derive(Debug)]
pub struct LambdaVpceBuilder {
    sdk_config: Option<SdkConfig>,
    endpoint: Option<Endpoint>,
    endpoint_error: Option<BuildError>,
    pool: PoolBuilder,
    retry_policy: RetryPolicy,
    response_timeout: Duration,
    max_attempts: Option<u32>,
    region: Option<String>,
    credentials: Option<Credentials>,
    ca_pems: Vec<Vec<u8>>,
    ca_bundle_from_environment: bool,
    use_fips: Option<bool>,
    use_dual_stack: Option<bool>,
    signer: Signer,
}

impl Default for LambdaVpceBuilder {
    fn default() -> Self {
        LambdaVpceBuilder {
            sdk_config: None,
            endpoint: None,
            endpoint_error: None,
            pool: PoolBuilder::new(),
            retry_policy: RetryPolicy::default(),
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            max_attempts: None,
            region: None,
            credentials: None,
            ca_pems: Vec::new(),
            ca_bundle_from_environment: true,
            use_fips: None,
            use_dual_stack: None,
            signer: Signer::default(),
        }
    }
}

/// The built client: the SDK client, its pool (statistics, prewarm) and its endpoint.
#[derive(Debug, Clone)]
pub struct LambdaVpce {
    client: aws_sdk_lambda::Client,
    pool: Pool,
    endpoint: Endpoint,
    settings: Settings,
    /// The provider the SDK client signs with (the SDK's `Config` no longer exposes it), for
    /// [`lean_builder`](Self::lean_builder).
    credentials_provider: Option<SharedCredentialsProvider>,
    /// The response timeout given to the pool's SDK connector, for
    /// [`lean_builder`](Self::lean_builder).
    response_timeout: Duration,
}

impl LambdaVpce {
    /// A builder with every default.
    pub fn builder() -> LambdaVpceBuilder {
        LambdaVpceBuilder::default()
    }

    /// The AWS SDK client: every Lambda operation, with the SDK's own API.
    pub fn client(&self) -> &aws_sdk_lambda::Client {
        &self.client
    }

    /// The connection pool under the client: [`Pool::stats`], [`Pool::prewarm`].
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Gets ready for a fast first call: opens the pool's `min_idle` connections (at least
    /// one) and, given a function, sends it one `Invoke` with `InvocationType::DryRun` — which
    /// checks permissions and runs nothing — so the SDK's one-time work (credentials, endpoint
    /// resolution, serializers) is done before the first real call. Returns how many
    /// connections were opened while it ran (by it, or by the pool's maintenance warming the
    /// same origin at once); 0 when the pool was already warm.
    pub async fn prewarm(&self, dry_run_function: Option<&str>) -> Result<usize, Error> {
        let opened = self.pool.prewarm().await?;
        if let Some(function) = dry_run_function {
            self.dry_run(self.client.invoke().function_name(function))
                .await?;
        }
        Ok(opened)
    }

    /// Like [`prewarm`](Self::prewarm), with `invoke` — a call as the application will make
    /// it, `vpce.client().invoke().function_name("my-fn").payload(..)` — sent once as the
    /// `DryRun` (its invocation type replaced; Lambda checks the function, qualifier and
    /// permission and runs nothing), so the first real call of that shape finds its own work
    /// warm (its payload serialized, hashed and written), not only an empty DryRun's.
    pub async fn prewarm_with(&self, invoke: InvokeFluentBuilder) -> Result<usize, Error> {
        let opened = self.pool.prewarm().await?;
        self.dry_run(invoke).await?;
        Ok(opened)
    }

    async fn dry_run(&self, invoke: InvokeFluentBuilder) -> Result<(), Error> {
        invoke
            .invocation_type(aws_sdk_lambda::types::InvocationType::DryRun)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// The endpoint calls go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The configuration it was built from, each value with its source (endpoint URL, FIPS,
    /// dual-stack, CA bundle, region).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The lean `Invoke` path on this client's pool, endpoint, region and credentials provider
    /// (see [`crate::lean`]). Build it once and clone it: each invoker has its own credentials
    /// and signing-key cache. Fails when the SDK configuration has no credentials provider.
    pub fn lean(&self) -> Result<crate::lean::LeanInvoker, BuildError> {
        self.lean_builder().build()
    }

    /// A builder for the lean path that starts from this client's pool, endpoint, region,
    /// credentials provider, time source and response timeout, for changing the lean path's
    /// own settings (retries, attempt timeout) before [`build`](crate::lean::LeanInvokerBuilder::build).
    pub fn lean_builder(&self) -> crate::lean::LeanInvokerBuilder {
        let config = self.client.config();
        let mut b = crate::lean::LeanInvokerBuilder::new(self.pool().clone(), self.endpoint())
            .response_timeout(self.response_timeout);
        if let Some(region) = config.region() {
            b = b.region(region.to_string());
        }
        if let Some(provider) = &self.credentials_provider {
            b = b.credentials_provider(provider.clone());
        }
        if let Some(time) = config.time_source() {
            b = b.time_source(time);
        }
        b
    }

    /// Takes the SDK client out.
    pub fn into_client(self) -> aws_sdk_lambda::Client {
        self.client
    }
}

impl LambdaVpceBuilder {
    /// Uses this SDK configuration (region, credentials, timeouts, retry config, and the
    /// endpoint URL, FIPS, dual-stack and CA bundle settings described on [`Settings`]) instead
    /// of loading the standard chain in [`build`](Self::build).
    pub fn sdk_config(mut self, config: &SdkConfig) -> Self {
        self.sdk_config = Some(config.clone());
        self
    }

    /// The endpoint to call; wins over any endpoint URL in the AWS configuration. Default: the
    /// configuration's endpoint URL (`AWS_ENDPOINT_URL_LAMBDA`, `AWS_ENDPOINT_URL`, the
    /// profile's `services` section or `endpoint_url`, as aws-sdk-lambda reads them), else the
    /// region's endpoint as aws-sdk-lambda resolves it with the FIPS and dual-stack settings
    /// ([`Endpoint::regional`]). See [`Settings`].
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// The endpoint as a URL (see [`Endpoint::url`] for what is accepted); a bad URL fails
    /// [`build`](Self::build).
    pub fn endpoint_url(mut self, url: &str) -> Self {
        match Endpoint::from_url(url) {
            Ok(e) => self.endpoint = Some(e),
            Err(e) => self.endpoint_error = Some(e),
        }
        self
    }

    /// Pool settings. Default: [`PoolBuilder::new`].
    pub fn pool(mut self, pool: PoolBuilder) -> Self {
        self.pool = pool;
        self
    }

    /// Trusts the CAs in this PEM bundle in addition to the usual roots (whatever
    /// [`pool`](Self::pool) settings are given before or after).
    pub fn add_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.ca_pems.push(pem.as_ref().to_vec());
        self
    }

    /// Whether to also trust the CA bundle the AWS configuration names: `AWS_CA_BUNDLE`, else
    /// the selected profile's `ca_bundle` (see [`Settings::ca_bundle`]), added to the usual
    /// roots and to [`add_ca_pem`](Self::add_ca_pem)'s. A named file that is missing or holds
    /// no certificate fails the build with a [`BuildError`] naming it. Default: `true`.
    pub fn ca_bundle_from_environment(mut self, enabled: bool) -> Self {
        self.ca_bundle_from_environment = enabled;
        self
    }

    /// Use the region's FIPS endpoint, overriding `AWS_USE_FIPS_ENDPOINT` and the profile's
    /// `use_fips_endpoint`. With an endpoint that has no FIPS form (a URL, a VPCE name) `true`
    /// is refused at build. Default: the configuration's (off).
    pub fn use_fips(mut self, enabled: bool) -> Self {
        self.use_fips = Some(enabled);
        self
    }

    /// Use the region's dual-stack endpoint, overriding `AWS_USE_DUALSTACK_ENDPOINT` and the
    /// profile's `use_dualstack_endpoint`. With an endpoint that has no dual-stack form (a URL,
    /// a VPCE name) `true` is refused at build. Default: the configuration's (off).
    pub fn use_dual_stack(mut self, enabled: bool) -> Self {
        self.use_dual_stack = Some(enabled);
        self
    }

    /// How the SDK may retry. Default: [`RetryPolicy::NeverTwice`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The SDK's retry limit (attempts, the first included). Default: the SDK configuration's
    /// (3 in standard mode). `1` turns SDK retries off.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// The deadline of one HTTP exchange when the SDK configuration sets no read timeout; one
    /// too long for the clock (`Duration::MAX`) means no deadline, zero is refused at build.
    /// Default: [`DEFAULT_RESPONSE_TIMEOUT`] (a synchronous invoke may run 15 minutes).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The region, overriding the SDK configuration's.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Static credentials, overriding the SDK configuration's provider.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Which SigV4 signer the SDK client signs with: the lean path's (cached signing key,
    /// streamed canonical request; byte-identical, falling back to the SDK's signer for what it
    /// does not reproduce) or the SDK's own. Default: [`Signer::Lean`].
    pub fn signer(mut self, signer: Signer) -> Self {
        self.signer = signer;
        self
    }

    /// Builds the client, loading the standard AWS configuration chain with aws-config's loader
    /// (environment, shared config and credentials files, profile; web identity, container and
    /// instance credentials; the region's chain only when no [`region`](Self::region) was
    /// given) unless [`sdk_config`](Self::sdk_config) gave a configuration. Endpoint URL, FIPS,
    /// dual-stack and CA bundle come from that configuration ([`Settings`]).
    pub async fn build(mut self) -> Result<LambdaVpce, BuildError> {
        if self.sdk_config.is_none() {
            self.sdk_config = Some(
                load_chain(
                    self.region.clone().map(Region::new),
                    self.credentials.clone(),
                )
                .await,
            );
        }
        self.build_sync()
    }

    /// Builds without loading anything: from [`sdk_config`](Self::sdk_config) when given
    /// (and what it says, as [`build`](Self::build) does), else from the builder's own values
    /// alone (then [`region`](Self::region) and [`credentials`](Self::credentials) are needed,
    /// and neither the environment nor the shared files are read).
    pub fn build_sync(self) -> Result<LambdaVpce, BuildError> {
        if let Some(e) = self.endpoint_error {
            return Err(e);
        }
        if self.response_timeout.is_zero() {
            return Err(BuildError::new(
                "response_timeout",
                "0s",
                "a positive duration",
            ));
        }
        if self.max_attempts == Some(0) {
            return Err(BuildError::new("max_attempts", "0", "at least 1"));
        }
        let sdk_config = match self.sdk_config {
            Some(c) => c,
            None => SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .sleep_impl(
                    aws_smithy_async::rt::sleep::default_async_sleep().ok_or_else(|| {
                        BuildError::new(
                            "sleep_impl",
                            "none",
                            "a tokio runtime (the rt-tokio feature)",
                        )
                    })?,
                )
                .time_source(aws_smithy_async::time::SystemTimeSource::new())
                .build(),
        };
        let mut settings = Settings::from_sdk_config(&sdk_config, self.ca_bundle_from_environment)?;
        settings.override_with(self.region.as_deref(), self.use_fips, self.use_dual_stack);
        let endpoint = settings::choose_endpoint(self.endpoint, &settings)?;
        if let Some(bundle) = settings.ca_bundle() {
            tracing::debug!(path = %bundle.path().display(), source = ?bundle.source(), certificates = bundle.certificates(), "trusting the configuration's CA bundle");
        }
        let region = settings
            .region()
            .map(|r| r.value().clone())
            .or_else(|| endpoint.region().map(str::to_owned))
            .ok_or_else(|| {
                BuildError::new(
                    "region",
                    "",
                    "a region (AWS_REGION, a profile, or .region())",
                )
            })?;
        let mut pool = self.pool.endpoint(&endpoint);
        for pem in &self.ca_pems {
            pool = pool.add_ca_pem(pem);
        }
        if let Some(bundle) = settings.ca_bundle() {
            pool = pool.add_ca_pem(bundle.pem());
        }
        let pool = pool.build()?;
        // The endpoint already is the FIPS / dual-stack one when those are on (or they were
        // refused): the SDK's resolver is handed that URL with both flags cleared, as it refuses
        // a custom endpoint with either ("FIPS and custom endpoint are not supported").
        let mut conf = aws_sdk_lambda::config::Builder::from(&sdk_config)
            .region(Region::new(region))
            .http_client(PoolHttpClient::new(pool.clone(), self.response_timeout))
            .endpoint_url(endpoint.url())
            .use_fips(false)
            .use_dual_stack(false);
        let credentials_provider = match self.credentials {
            Some(creds) => Some(SharedCredentialsProvider::new(creds)),
            None => sdk_config.credentials_provider(),
        };
        if let Some(provider) = &credentials_provider {
            conf = conf.credentials_provider(provider.clone());
        }
        conf = conf.interceptor(interceptor::CallInterceptor::new(
            self.signer == Signer::Lean,
        ));
        #[cfg(feature = "metrics")]
        {
            conf = conf.interceptor(crate::metrics::SdkCallOutcomes);
        }
        if self.signer == Signer::Lean {
            conf = auth::install(conf, auth::LeanSigV4::default());
        }
        if self.retry_policy == RetryPolicy::NeverTwice {
            conf = conf.retry_classifier(retry::NeverTwice);
        }
        if let Some(n) = self.max_attempts {
            let base = sdk_config
                .retry_config()
                .cloned()
                .unwrap_or_else(RetryConfig::standard);
            conf = conf.retry_config(base.with_max_attempts(n));
        }
        Ok(LambdaVpce {
            client: aws_sdk_lambda::Client::from_conf(conf.build()),
            pool,
            endpoint,
            settings,
            credentials_provider,
            response_timeout: self.response_timeout,
        })
    }
}

/// The crate's [`Error`] for a failed SDK call, of the kind [`Verdict::of_sdk`](crate::Verdict)
/// decides: the pool's own error when it is in the chain, a service error with Lambda's status,
/// code and message, else the SDK-side kind (an SDK timeout may have executed; it is not a
/// service error).
fn sdk_error<E>(
    e: aws_sdk_lambda::error::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Error
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_lambda::error::SdkError;
    if let SdkError::ServiceError(service) = &e {
        return Error::service(
            service.raw().status().as_u16(),
            service.err().code().map(str::to_owned),
            service.err().message().map(str::to_owned),
            None,
        );
    }
    Error::with(crate::verdict::sdk_kind(&e), e)
}

/// Loads the standard AWS configuration chain (environment, profile, web identity, container
/// and instance credentials; region) as [`LambdaVpceBuilder::build`] does, with an HTTP
/// client for the chain's own calls. Use it rather than `aws_config::defaults(..).load()`
/// when you need the `SdkConfig` yourself: with `aws-sdk-lambda`'s default features off there is
/// no default HTTP client, and the chain's providers would panic for lack of one.
pub async fn load_sdk_config() -> SdkConfig {
    load_chain(None, None).await
}

/// [`load_sdk_config`] for a region already known: the region chain (environment, profile,
/// instance metadata) is not consulted, so off EC2 no call to the instance metadata service
/// is made for it (where that address is black-holed, each such call waits for its timeout).
/// [`LambdaVpceBuilder::build`] loads this way when [`region`](LambdaVpceBuilder::region)
/// was given.
pub async fn load_sdk_config_for_region(region: impl Into<String>) -> SdkConfig {
    load_chain(Some(Region::new(region.into())), None).await
}

async fn load_chain(region: Option<Region>, credentials: Option<Credentials>) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(chain_http_client());
    if let Some(region) = region {
        loader = loader.region(region);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    loader.load().await
}

/// The HTTP client the credential chain uses (STS, SSO, IMDS, container credentials): the
/// SDK's own hyper 1.x client on rustls with the crate's crypto provider ([`crate::tls`]), not
/// the Lambda pool (IMDS is plain HTTP to a link-local address, which the pool refuses by
/// design).
fn chain_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            crate::tls::smithy_crypto_mode(),
        ))
        .build_https()
}
