//! The clients compared: how each is built and how it makes one call.
//!
//! Every SDK-based client (`lambda-vpce`, `sdk-default`, `smithy-pool`) carries the same
//! attempt-counting interceptor, so "retried" means the same thing for each: calls whose SDK
//! orchestrator started a second attempt. The crate's pool also resends requests that never
//! left on another connection *inside one attempt*; those are not SDK retries and show in the
//! pool's `unsent_resends`, not here.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_lambda::config::{Intercept, Region};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_http_client::pool::{ConnectionEvent, ConnectionPool};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use clap::ValueEnum;
use lambda_vpce::pool::{ConnectionInfo, Protocol};
use lambda_vpce::{pool::PoolBuilder, LambdaVpce};

use lambda_vpce_bench::report::AddressReport;
use lambda_vpce_bench::{ErrorKind, Outcome};

use super::raw::RawHyper;
use super::target::Target;
use crate::common::CmdError;

/// A client the bench can compare. The names are a stable interface (`--client`, JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum)]
pub(crate) enum ClientKind {
    /// The crate's `aws_sdk_lambda::Client` on its own pool (prewarmed to `--min-idle`).
    #[value(name = "lambda-vpce")]
    LambdaVpce,
    /// The crate's lean Invoke path (`lambda_vpce::lean`) on its own pool, prewarmed like
    /// `lambda-vpce`.
    #[value(name = "lambda-vpce-lean")]
    LambdaVpceLean,
    /// aws-sdk-lambda with the SDK's default HTTP client as aws-smithy-runtime builds it
    /// (aws-smithy-http-client, rustls on aws-lc-rs), trusting the endpoint's CA.
    #[value(name = "sdk-default")]
    SdkDefault,
    /// aws-sdk-lambda with aws-smithy-http-client's opt-in connection pool (rustls on
    /// aws-lc-rs, as `sdk-default`).
    #[value(name = "smithy-pool")]
    SmithyPool,
    /// A fixed pre-signed Invoke on one warm hyper connection per worker: the floor.
    #[value(name = "raw-hyper")]
    RawHyper,
}

impl ClientKind {
    /// Every client this build can run, in report order.
    pub(crate) const AVAILABLE: [ClientKind; 5] = [
        ClientKind::LambdaVpce,
        ClientKind::LambdaVpceLean,
        ClientKind::SdkDefault,
        ClientKind::SmithyPool,
        ClientKind::RawHyper,
    ];

    /// The stable name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ClientKind::LambdaVpce => "lambda-vpce",
            ClientKind::LambdaVpceLean => "lambda-vpce-lean",
            ClientKind::SdkDefault => "sdk-default",
            ClientKind::SmithyPool => "smithy-pool",
            ClientKind::RawHyper => "raw-hyper",
        }
    }

    /// The client's TLS crypto provider, as the report names it: the crate's
    /// ([`lambda_vpce::tls`]) for the crate's clients and raw-hyper, the SDK default's for the
    /// SDK's clients.
    pub(crate) fn tls_provider(self) -> &'static str {
        match self {
            ClientKind::SdkDefault | ClientKind::SmithyPool => SDK_TLS_PROVIDER,
            ClientKind::LambdaVpce | ClientKind::LambdaVpceLean | ClientKind::RawHyper => {
                lambda_vpce::tls::TlsProvider::current().name
            }
        }
    }
}

/// The crypto of aws-sdk-lambda's default HTTPS client (aws-smithy-runtime's
/// `default_https_client`: rustls on aws-lc-rs, its default groups), which `sdk-default` and
/// `smithy-pool` use whatever provider the crate was built with.
fn sdk_crypto() -> tls::rustls_provider::CryptoMode {
    tls::rustls_provider::CryptoMode::AwsLc
}

/// [`sdk_crypto`]'s provider, as the report names it.
const SDK_TLS_PROVIDER: &str = "aws-lc-rs";

/// What every call of a run sends.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The function name or ARN.
    pub(crate) function: String,
    /// The invocation type.
    pub(crate) invocation_type: InvocationType,
    /// The payload bytes.
    pub(crate) payload: bytes::Bytes,
    /// The tenant (`X-Amz-Tenant-Id`), when given.
    pub(crate) tenant_id: Option<String>,
}

/// How every client is set up.
#[derive(Debug, Clone)]
pub(crate) struct ClientOptions {
    /// The SDK retry limit; `None` keeps each client's default.
    pub(crate) max_attempts: Option<u32>,
    /// `min_idle` of the crate's pool (it is prewarmed to this many before the first call).
    pub(crate) min_idle: usize,
    /// Workers (raw-hyper opens one connection per worker).
    pub(crate) concurrency: usize,
    /// The crate's clients' protocol (and raw-hyper's); `None` keeps the pool's default.
    pub(crate) protocol: Option<Protocol>,
    /// HTTP/2 connections the crate's pools spread streams over; `None`: the pool's default.
    pub(crate) h2_connections: Option<usize>,
    /// `--resolve`: what every endpoint name resolves to (`None`: the system resolver).
    pub(crate) resolve: Option<Arc<[IpAddr]>>,
}

/// `--resolve` for the SDK's HTTP clients: every name resolves to the same addresses.
#[derive(Debug, Clone)]
struct FixedDns(Arc<[IpAddr]>);

impl ResolveDns for FixedDns {
    fn resolve_dns<'a>(&'a self, _name: &'a str) -> DnsFuture<'a> {
        DnsFuture::ready(Ok(self.0.to_vec()))
    }
}

/// The HTTP versions a crate client's responses came over (from their `ConnectionInfo`): a
/// bit set of [`Versions::HTTP1`] and [`Versions::HTTP2`].
#[derive(Debug, Default)]
pub(crate) struct Versions(AtomicU8);

impl Versions {
    const HTTP1: u8 = 1;
    const HTTP2: u8 = 2;

    pub(crate) fn record(&self, v: http::Version) {
        let bit = if v == http::Version::HTTP_2 {
            Self::HTTP2
        } else {
            Self::HTTP1
        };
        if self.0.load(Ordering::Relaxed) & bit == 0 {
            self.0.fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// `"HTTP/1.1"`, `"HTTP/2"`, `"HTTP/1.1+HTTP/2"`, or `None` before any response.
    pub(crate) fn label(&self) -> Option<&'static str> {
        version_label(self.0.load(Ordering::Relaxed))
    }
}

/// The label of a [`Versions`] bit set.
pub(crate) fn version_label(bits: u8) -> Option<&'static str> {
    match bits {
        Versions::HTTP1 => Some("HTTP/1.1"),
        Versions::HTTP2 => Some("HTTP/2"),
        0 => None,
        _ => Some("HTTP/1.1+HTTP/2"),
    }
}

/// The label for connections an embedded endpoint accepted, `h2` of them HTTP/2.
pub(crate) fn server_label(accepted: u64, h2: u64) -> Option<&'static str> {
    let bits = u8::from(h2 > 0) * Versions::HTTP2 + u8::from(accepted > h2) * Versions::HTTP1;
    version_label(bits)
}

/// Attempts of one client: seen by the interceptor of an SDK-based client; for the lean path,
/// its responses' own count (429 retries; a call that failed after retries is not counted).
#[derive(Debug, Default)]
pub(crate) struct Attempts {
    /// Every attempt started.
    pub(crate) attempts: AtomicU64,
    /// Calls that started a second attempt.
    pub(crate) retried: AtomicU64,
}

#[derive(Debug)]
struct CountAttempts(Arc<Attempts>, Arc<Versions>);

#[aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint]
impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "lambda-vpce-bench-attempts"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        if cfg.load::<RequestAttempts>().map(|a| a.attempts()) == Some(2) {
            self.0.retried.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The crate's connector puts the pool's `ConnectionInfo` in the response's extensions;
    /// other clients' responses carry none.
    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let Some(info) = context.response().extension::<ConnectionInfo>() {
            self.1.record(info.version);
        }
        Ok(())
    }
}

/// One built client, with the call it makes.
#[derive(Debug)]
pub(crate) struct BenchClient {
    /// Which client this is.
    pub(crate) kind: ClientKind,
    inner: Inner,
    call: Arc<Call>,
    /// Attempts, for SDK-based clients.
    pub(crate) attempts: Option<Arc<Attempts>>,
    /// Connections this client opened, when it can count them itself.
    opened: Option<Arc<AtomicU64>>,
    /// The HTTP versions its responses came over, as the crate's clients see them.
    pub(crate) versions: Arc<Versions>,
}

#[derive(Debug)]
enum Inner {
    Sdk {
        client: aws_sdk_lambda::Client,
        pool: Option<lambda_vpce::pool::Pool>,
    },
    Raw(Box<RawHyper>),
    Lean {
        invoker: lambda_vpce::lean::LeanInvoker,
        invocation_type: lambda_vpce::wire::InvocationType,
    },
}

impl BenchClient {
    /// Builds (and for `lambda-vpce`, prewarms) a client.
    pub(crate) async fn build(
        kind: ClientKind,
        target: &Target,
        call: &Arc<Call>,
        opts: ClientOptions,
    ) -> Result<BenchClient, CmdError> {
        let attempts = Arc::new(Attempts::default());
        let versions = Arc::new(Versions::default());
        let interceptor = CountAttempts(attempts.clone(), versions.clone());
        match kind {
            ClientKind::LambdaVpce => {
                let lv = crate_client(target, &opts).await?;
                let conf = lv.client().config().to_builder().interceptor(interceptor);
                let client = aws_sdk_lambda::Client::from_conf(conf.build());
                if opts.min_idle > 0 {
                    // Connections, and the bench's own call as a DryRun through this client.
                    lv.prewarm_with(sdk_invoke(&client, call))
                        .await
                        .map_err(|e| format!("prewarm failed: {e}"))?;
                }
                Ok(BenchClient {
                    kind,
                    inner: Inner::Sdk {
                        client,
                        pool: Some(lv.pool().clone()),
                    },
                    call: call.clone(),
                    attempts: Some(attempts),
                    opened: None,
                    versions,
                })
            }
            ClientKind::SdkDefault => {
                let http = default_http_client(target, opts.resolve.clone())?;
                let client = sdk_client(target, http, &opts, interceptor);
                Ok(BenchClient {
                    kind,
                    inner: Inner::Sdk { client, pool: None },
                    call: call.clone(),
                    attempts: Some(attempts),
                    opened: None,
                    versions,
                })
            }
            ClientKind::SmithyPool => {
                let opened = Arc::new(AtomicU64::new(0));
                let http = smithy_pool_client(target, opened.clone(), opts.resolve.clone())?;
                let client = sdk_client(target, http, &opts, interceptor);
                Ok(BenchClient {
                    kind,
                    inner: Inner::Sdk { client, pool: None },
                    call: call.clone(),
                    attempts: Some(attempts),
                    opened: Some(opened),
                    versions,
                })
            }
            ClientKind::RawHyper => {
                let raw = RawHyper::connect(
                    target,
                    call,
                    opts.concurrency,
                    opts.protocol.unwrap_or(lambda_vpce::pool::DEFAULT_PROTOCOL),
                    opts.resolve.as_ref().and_then(|r| r.first().copied()),
                )
                .await?;
                let opened = raw.opened();
                Ok(BenchClient {
                    kind,
                    inner: Inner::Raw(Box::new(raw)),
                    call: call.clone(),
                    attempts: None,
                    opened: Some(opened),
                    versions,
                })
            }
            ClientKind::LambdaVpceLean => {
                let lv = crate_client(target, &opts).await?;
                let invoker = lv.lean()?;
                use lambda_vpce::wire::InvocationType as T;
                let invocation_type = match call.invocation_type {
                    InvocationType::Event => T::Event,
                    InvocationType::DryRun => T::DryRun,
                    _ => T::RequestResponse,
                };
                if opts.min_idle > 0 {
                    // Credentials, today's signing key and a DryRun shaped like the calls to
                    // come (function, payload), not just connections.
                    invoker
                        .prewarm_with(&lean_request(call, invocation_type))
                        .await
                        .map_err(|e| format!("prewarm failed: {e}"))?;
                }
                Ok(BenchClient {
                    kind,
                    inner: Inner::Lean {
                        invoker,
                        invocation_type,
                    },
                    call: call.clone(),
                    attempts: Some(attempts),
                    opened: None,
                    versions,
                })
            }
        }
    }

    /// Makes its call as worker `worker`.
    async fn invoke(&self, worker: usize) -> Outcome {
        let call = &*self.call;
        match &self.inner {
            Inner::Sdk { client, .. } => {
                let result = sdk_invoke(client, call).send().await;
                match result {
                    Ok(out) if out.function_error().is_some() => Err(ErrorKind::Service),
                    Ok(_) => Ok(()),
                    Err(e) => Err(kind_of(&lambda_vpce::Verdict::of_sdk(&e))),
                }
            }
            Inner::Raw(raw) => raw.call(worker, &self.versions).await,
            Inner::Lean {
                invoker,
                invocation_type,
            } => {
                let result = invoker.invoke(lean_request(call, *invocation_type)).await;
                if let Ok(out) = &result {
                    self.versions.record(out.connection.version);
                }
                if let (Ok(out), Some(a)) = (&result, &self.attempts) {
                    a.attempts
                        .fetch_add(u64::from(out.attempts), Ordering::Relaxed);
                    if out.attempts > 1 {
                        a.retried.fetch_add(1, Ordering::Relaxed);
                    }
                }
                match result {
                    Ok(out) if out.function_error.is_some() => Err(ErrorKind::Service),
                    Ok(_) => Ok(()),
                    Err(e) => Err(kind_of(&e.verdict())),
                }
            }
        }
    }

    /// Connections this client has opened so far, when it knows: the crate's pool statistics,
    /// the smithy pool's open events, raw-hyper's own count. `None` for `sdk-default`, whose
    /// connections only the embedded endpoint can count.
    pub(crate) fn opened(&self) -> Option<u64> {
        match &self.inner {
            Inner::Sdk { pool: Some(p), .. } => return Some(p.stats().opened()),
            Inner::Lean { invoker, .. } => return Some(invoker.pool().stats().opened()),
            _ => {}
        }
        self.opened.as_ref().map(|o| o.load(Ordering::Relaxed))
    }

    /// What the crate's pool saw of each address (`None` for the other clients).
    pub(crate) fn addresses(&self) -> Option<Vec<AddressReport>> {
        let stats = match &self.inner {
            Inner::Sdk { pool: Some(p), .. } => p.stats(),
            Inner::Lean { invoker, .. } => invoker.pool().stats(),
            _ => return None,
        };
        Some(
            stats
                .addresses()
                .iter()
                .map(|a| AddressReport {
                    address: a.address().to_string(),
                    connects: a.connects(),
                    connections: a.connections() as u64,
                    connect_failures: a.connect_failures(),
                    ejections: a.ejections(),
                })
                .collect(),
        )
    }

    /// True when the client opens connections in the background (pool maintenance), so that
    /// the embedded endpoint's per-slice accept counts must subtract them.
    pub(crate) fn opens_in_background(&self) -> bool {
        matches!(
            &self.inner,
            Inner::Sdk { pool: Some(_), .. } | Inner::Lean { .. }
        )
    }
}

impl lambda_vpce_bench::Client for BenchClient {
    fn call(&self, worker: usize) -> impl std::future::Future<Output = Outcome> + Send {
        self.invoke(worker)
    }
}

/// The kind counted for a failure with this verdict.
pub(crate) fn kind_of(verdict: &lambda_vpce::Verdict) -> ErrorKind {
    use lambda_vpce::Verdict;
    match verdict {
        Verdict::InvalidInput => ErrorKind::InvalidInput,
        v if v.is_not_sent() => ErrorKind::NotSent,
        v if v.is_service() => ErrorKind::Service,
        _ => ErrorKind::MaybeExecuted,
    }
}

/// The lean path's request for `call`.
fn lean_request(
    call: &Call,
    invocation_type: lambda_vpce::wire::InvocationType,
) -> lambda_vpce::lean::InvokeRequest {
    let request =
        lambda_vpce::lean::InvokeRequest::new(call.function.clone(), call.payload.clone())
            .invocation_type(invocation_type);
    match &call.tenant_id {
        Some(tenant) => request.tenant_id(tenant.clone()),
        None => request,
    }
}

/// The SDK's `Invoke` for `call`.
fn sdk_invoke(
    client: &aws_sdk_lambda::Client,
    call: &Call,
) -> aws_sdk_lambda::operation::invoke::builders::InvokeFluentBuilder {
    client
        .invoke()
        .function_name(&call.function)
        .invocation_type(call.invocation_type.clone())
        .set_tenant_id(call.tenant_id.clone())
        .payload(Blob::new(call.payload.to_vec()))
}

/// The crate's client on its own pool with `min_idle` (each kind prewarms it its own way).
async fn crate_client(target: &Target, opts: &ClientOptions) -> Result<LambdaVpce, CmdError> {
    let mut b = LambdaVpce::builder()
        .endpoint(target.endpoint.clone())
        .region(target.region.clone())
        .pool({
            let mut pool = PoolBuilder::new().min_idle(opts.min_idle);
            if let Some(p) = opts.protocol {
                pool = pool.protocol(p);
            }
            if let Some(n) = opts.h2_connections {
                pool = pool.h2_connections(n);
            }
            if let Some(ips) = opts.resolve.clone() {
                pool = pool.resolver(lambda_vpce::FnResolver(move |_host: &str, port: u16| {
                    Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
                }));
            }
            pool
        });
    // An external endpoint: the standard chain's provider, refreshed as the SDK clients' is.
    b = match &target.sdk_config {
        Some(c) => b.sdk_config(c),
        None => b.credentials(target.credentials.clone()),
    };
    if let Some(pem) = &target.ca_pem {
        b = b.add_ca_pem(pem);
    }
    if let Some(n) = opts.max_attempts {
        b = b.max_attempts(n);
    }
    Ok(b.build().await?)
}

fn trust_context(target: &Target) -> Result<TlsContext, CmdError> {
    let mut store = TrustStore::default();
    if let Some(pem) = &target.ca_pem {
        store = store.with_pem_certificate(pem.clone());
    }
    Ok(TlsContext::builder().with_trust_store(store).build()?)
}

fn default_http_client(
    target: &Target,
    resolve: Option<Arc<[IpAddr]>>,
) -> Result<SharedHttpClient, CmdError> {
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(sdk_crypto()))
        .tls_context(trust_context(target)?);
    Ok(match resolve {
        Some(ips) => builder.build_with_resolver(FixedDns(ips)),
        None => builder.build_https(),
    })
}

fn smithy_pool_client(
    target: &Target,
    opened: Arc<AtomicU64>,
    resolve: Option<Arc<[IpAddr]>>,
) -> Result<SharedHttpClient, CmdError> {
    let mut builder = ConnectionPool::builder();
    if let Some(ips) = resolve {
        builder = builder.dns_resolver(FixedDns(ips));
    }
    let pool: ConnectionPool = builder
        .event_listener(move |event: &ConnectionEvent<'_>| {
            if matches!(event, ConnectionEvent::Opened(_)) {
                opened.fetch_add(1, Ordering::Relaxed);
            }
        })
        .tls_provider(tls::Provider::Rustls(sdk_crypto()))
        .tls_context(trust_context(target)?)
        .build_https()?;
    let client = aws_smithy_http_client::pool::Client::new(&pool)?;
    Ok(SharedHttpClient::new(client))
}

fn sdk_client(
    target: &Target,
    http: SharedHttpClient,
    opts: &ClientOptions,
    interceptor: CountAttempts,
) -> aws_sdk_lambda::Client {
    let mut conf = match &target.sdk_config {
        Some(c) => aws_sdk_lambda::config::Builder::from(c),
        None => aws_sdk_lambda::config::Builder::new()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .credentials_provider(SharedCredentialsProvider::new(target.credentials.clone())),
    }
    .region(Region::new(target.region.clone()))
    .endpoint_url(target.url.clone())
    .http_client(http)
    .interceptor(interceptor);
    if let Some(n) = opts.max_attempts {
        conf = conf.retry_config(RetryConfig::standard().with_max_attempts(n));
    }
    aws_sdk_lambda::Client::from_conf(conf.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_vpce::Verdict;

    #[test]
    fn each_verdict_is_counted_under_its_own_kind() {
        assert_eq!(kind_of(&Verdict::NotSent), ErrorKind::NotSent);
        assert_eq!(kind_of(&Verdict::InvalidInput), ErrorKind::InvalidInput);
        assert_eq!(kind_of(&Verdict::MaybeExecuted), ErrorKind::MaybeExecuted);
        let throttled = Verdict::Service {
            status: 429,
            code: None,
        };
        assert_eq!(kind_of(&throttled), ErrorKind::Service);
    }
}
