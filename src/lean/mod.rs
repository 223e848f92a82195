//! The lean `Invoke` path: one purpose-built request through the same [`Pool`], without the
//! SDK's orchestrator, for callers that fan out many invokes.
//!
//! # The life of one invoke
//!
//! ```text
//!  LeanInvoker::invoke(InvokeRequest)
//!    │  validate (function, qualifier, payload limit, client context, durable execution
//!    │  name, tenant id): refused → not sent
//!    │  once per call: payload SHA-256, amz-sdk-invocation-id (kept across every retry)
//!    ▼
//!  credentials (cached; refreshed 5 minutes before expiry, as the SDK; signing key per day)
//!    ▼
//!  request: URI + headers in one buffer, SigV4 streamed into SHA-256/HMAC (crate::sign)
//!    ▼
//!  Pool::send ── error ──► returned as is: not sent, or may have executed (never resent,
//!    │                       unless the invoke names a durable execution: see below)
//!    ▼
//!  2xx ──► InvokeResponse (payload, X-Amz-Function-Error, decoded X-Amz-Log-Result, ...)
//!  429 ──► wait Retry-After (≤ MAX_RETRY_AFTER), resend, at most max_throttle_retries times
//!  else ─► Error::is_service: status, Lambda's error code and message, Retry-After
//! ```
//!
//! # Never twice
//! The same policy as the SDK path's default ([`RetryPolicy::NeverTwice`]): a request that may
//! have reached the function is never sent again. Pool failures come back with their class
//! ([`Error::is_not_sent`] — the pool has already resent a request a connection handed back
//! unsent — or [`Error::is_maybe_executed`]); a 5xx or a broken response is returned, not
//! retried. Only a 429 (Lambda refused, the function did not run) is retried, after its
//! `Retry-After` capped at [`MAX_RETRY_AFTER`] (without one: [`DEFAULT_THROTTLE_BACKOFF`]
//! doubled per retry), at most [`DEFAULT_MAX_THROTTLE_RETRIES`] times by default — the number
//! of retries the SDK path's default (3 attempts) allows. Set
//! [`max_throttle_retries(0)`](LeanInvokerBuilder::max_throttle_retries) to see every 429.
//!
//! # Retries of a named durable invoke
//! One exception, because Lambda itself makes it safe: an invoke with
//! [`InvokeRequest::durable_execution_name`] (a durable function, by a qualified name or ARN).
//! Lambda answers the same name with the same payload with the execution it already has — the
//! running one re-attached to, or the finished one's result — never a second execution. So
//! when such an invoke fails in a way that may have executed (a transport failure after the
//! request was written, an attempt past its
//! [`attempt_timeout`](LeanInvokerBuilder::attempt_timeout), a broken response body, a 5xx),
//! it is sent again, byte for byte the same payload and the same `amz-sdk-invocation-id`, at
//! most [`DEFAULT_MAX_DURABLE_RETRIES`] times by default, after [`DEFAULT_DURABLE_BACKOFF`]
//! doubled per retry (with jitter, capped at [`MAX_RETRY_AFTER`]), and only while the call's
//! deadline leaves time for the wait. Not retried, ever: a
//! `DurableExecutionAlreadyStartedException` (409: the name ran with another payload, a caller
//! bug; [`Error::is_durable_execution_already_started`]), any other 4xx, and anything
//! without a name. [`InvokeResponse::attempts`] counts every request sent.
//!
//! # What is sent
//! The headers the SDK sends for `Invoke` (`X-Amz-Invocation-Type`, `X-Amz-Log-Type`,
//! `X-Amz-Client-Context`, `X-Amz-Durable-Execution-Name`, `X-Amz-Tenant-Id`, `content-type: application/octet-stream`, `content-length`,
//! `x-amz-date`, `x-amz-security-token`, `authorization`, `amz-sdk-invocation-id`), with a
//! `user-agent` of `lambda-vpce/VERSION lean`; not the SDK's `x-amz-user-agent` and
//! `amz-sdk-request` (retry bookkeeping of the SDK's own). The invocation type is always sent.
//!
//! # Allocations
//! Per attempt: one buffer holding every dynamic byte of the request (URI, date, ids, length,
//! client context, authorization), sliced into the URI and header values without copies; the
//! header map; the body handle. The call's [`RequestOptions`] go to the pool beside the
//! request, not in its extensions (a map per call; [`LeanInvoker::signed_request`], whose
//! caller sends it, still carries them there). The canonical request and string to sign are
//! never built: they are streamed into SHA-256 and HMAC.
//! `cargo bench --bench lean_alloc` counts them.
//!
//! [`RetryPolicy::NeverTwice`]: crate::RetryPolicy::NeverTwice
//! [`MAX_RETRY_AFTER`]: crate::MAX_RETRY_AFTER

mod credentials;
mod request;
mod response;
mod retry;

#[cfg(all(test, feature = "local"))]
mod test_server;
#[cfg(all(test, feature = "local"))]
mod tests;

pub use request::InvokeRequest;
pub use response::InvokeResponse;
pub use retry::{DEFAULT_DURABLE_BACKOFF, DEFAULT_MAX_DURABLE_RETRIES};

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use aws_smithy_types::body::SdkBody;
use http::HeaderValue;
use tokio::time::Instant;
use tracing::Instrument;

use crate::error::{Error, Kind};
use crate::pool::DEFAULT_RESPONSE_TIMEOUT;
use crate::pool::{deadline_after, Pool, RequestOptions};
use crate::{BuildError, Endpoint};
use credentials::CredentialsCache;
use request::{Prepared, Target};

pub use retry::{DEFAULT_MAX_THROTTLE_RETRIES, DEFAULT_THROTTLE_BACKOFF};

/// Longest region name accepted for signing.
const MAX_SIGNING_REGION_LEN: usize = 64;

/// Invokes Lambda functions through a [`Pool`] with a hand-built, SigV4-signed request.
///
/// Cheap to clone (an `Arc`); clones share the credentials cache and the signing key. Build
/// one per endpoint and region, and keep it: the first call loads credentials.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use lambda_vpce::lean::InvokeRequest;
/// let client = lambda_vpce::LambdaVpce::builder().build().await?;
/// let lean = client.lean()?;
/// let out = lean.invoke(InvokeRequest::new("my-function", r#"{"k":1}"#)).await?;
/// println!("{} {:?}", out.status_code, out.payload);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct LeanInvoker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    target: Target,
    credentials: CredentialsCache,
    time: SharedTimeSource,
    response_timeout: Duration,
    attempt_timeout: Option<Duration>,
    max_throttle_retries: u32,
    max_durable_retries: u32,
}

/// Builds a [`LeanInvoker`].
#[derive(Debug)]
pub struct LeanInvokerBuilder {
    pool: Pool,
    endpoint: Endpoint,
    region: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
    time_source: Option<SharedTimeSource>,
    response_timeout: Duration,
    attempt_timeout: Option<Duration>,
    max_throttle_retries: u32,
    max_durable_retries: u32,
}

impl LeanInvokerBuilder {
    /// Calls go to `endpoint` through `pool`. Build the pool with
    /// [`PoolBuilder::endpoint`](crate::pool::PoolBuilder::endpoint) for this endpoint so that a
    /// VPCE connect-only or zonal endpoint is routed as it should be.
    pub fn new(pool: Pool, endpoint: &Endpoint) -> Self {
        LeanInvokerBuilder {
            pool,
            endpoint: endpoint.clone(),
            region: None,
            credentials: None,
            time_source: None,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            attempt_timeout: None,
            max_throttle_retries: DEFAULT_MAX_THROTTLE_RETRIES,
            max_durable_retries: DEFAULT_MAX_DURABLE_RETRIES,
        }
    }

    /// The region to sign for. Default: the endpoint's region (none for a plain URL).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Where credentials come from (required), for instance
    /// `SdkConfig::credentials_provider()` or static `Credentials`.
    pub fn credentials_provider(mut self, provider: SharedCredentialsProvider) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// The wall clock for signing and credential expiry. Default: the system clock.
    pub fn time_source(mut self, time: SharedTimeSource) -> Self {
        self.time_source = Some(time);
        self
    }

    /// The deadline of a call without its own [`InvokeRequest::timeout`]; one too long for the
    /// clock (`Duration::MAX`) means no deadline, zero is refused by [`build`](Self::build).
    /// Default: [`DEFAULT_RESPONSE_TIMEOUT`] (a synchronous invoke may run 15 minutes).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How many times a 429 is retried (after its `Retry-After`). Nothing else is ever retried.
    /// Default: [`DEFAULT_MAX_THROTTLE_RETRIES`]; `0` returns every 429.
    pub fn max_throttle_retries(mut self, retries: u32) -> Self {
        self.max_throttle_retries = retries;
        self
    }

    /// The deadline of one attempt (its checkout, request and response), inside the call's
    /// deadline: an attempt past it fails as a response timeout ([`Error::is_maybe_executed`]).
    /// Only a [named durable invoke](self#retries-of-a-named-durable-invoke) is then sent again,
    /// so set it shorter than the call's timeout to leave a retry room. Zero is refused by
    /// [`build`](Self::build). Default: `None` (an attempt may take the whole call's deadline).
    pub fn attempt_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.attempt_timeout = timeout.into();
        self
    }

    /// How many times a [named durable invoke](self#retries-of-a-named-durable-invoke) that may
    /// have executed is sent again. Default: [`DEFAULT_MAX_DURABLE_RETRIES`]; `0` returns its
    /// first failure, as for any other invoke.
    pub fn max_durable_retries(mut self, retries: u32) -> Self {
        self.max_durable_retries = retries;
        self
    }

    /// Checks the settings and builds the invoker.
    pub fn build(self) -> Result<LeanInvoker, BuildError> {
        let region = self
            .region
            .or_else(|| self.endpoint.region().map(str::to_owned))
            .ok_or_else(|| {
                BuildError::new("region", "", "a region to sign for, such as us-east-1")
            })?;
        let region_ok = !region.is_empty()
            && region.len() <= MAX_SIGNING_REGION_LEN
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !region_ok {
            return Err(BuildError::new(
                "region",
                region,
                "1 to 64 letters, digits or `-`, such as us-east-1",
            ));
        }
        let credentials = self.credentials.ok_or_else(|| {
            BuildError::new(
                "credentials_provider",
                "none",
                "a credentials provider (the SDK configuration's, or static credentials)",
            )
        })?;
        if self.response_timeout.is_zero() {
            return Err(BuildError::new(
                "response_timeout",
                "0s",
                "a positive duration",
            ));
        }
        if self.attempt_timeout.is_some_and(|t| t.is_zero()) {
            return Err(BuildError::new(
                "attempt_timeout",
                "0s",
                "a positive duration, or None",
            ));
        }
        let host = self.endpoint.signing_host().to_owned();
        let host_header = HeaderValue::from_str(&host)
            .map_err(|_| BuildError::new("endpoint", host.clone(), "a valid host name"))?;
        let url = self.endpoint.url();
        let target = Target::new(&url, host, host_header, region)
            .ok_or_else(|| BuildError::new("endpoint", url, "a URL like https://host[:port]"))?;
        Ok(LeanInvoker {
            inner: Arc::new(Inner {
                pool: self.pool,
                target,
                credentials: CredentialsCache::new(credentials),
                time: self
                    .time_source
                    .unwrap_or_else(|| SharedTimeSource::new(SystemTimeSource::new())),
                response_timeout: self.response_timeout,
                attempt_timeout: self.attempt_timeout,
                max_throttle_retries: self.max_throttle_retries,
                max_durable_retries: self.max_durable_retries,
            }),
        })
    }
}

impl LeanInvoker {
    /// A builder for calls to `endpoint` through `pool`.
    pub fn builder(pool: Pool, endpoint: &Endpoint) -> LeanInvokerBuilder {
        LeanInvokerBuilder::new(pool, endpoint)
    }

    /// The pool the calls go through.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Gets everything ready for a fast first call: loads and caches the credentials, derives
    /// and caches today's signing key (by signing a request that is never sent), opens the
    /// pool's `min_idle` connections (at least one), and, given a function, sends it one
    /// `Invoke` with `InvocationType::DryRun` (which runs nothing) so the whole path is warm.
    /// Returns how many connections it opened. [`prewarm_with`](Self::prewarm_with) shapes
    /// the DryRun like the calls to come.
    pub async fn prewarm(&self, dry_run_function: Option<&str>) -> Result<usize, Error> {
        let dry_run = dry_run_function.map(|f| InvokeRequest::new(f, bytes::Bytes::new()));
        self.prewarm_inner(dry_run).await
    }

    /// Like [`prewarm`](Self::prewarm), with `request` as the DryRun: sent once with
    /// `InvocationType::DryRun` (which runs nothing; Lambda checks the function, qualifier and
    /// permission), keeping its function, qualifier, client context and payload, so that the
    /// first real call of that shape finds its own work warm — its payload hashed and written,
    /// a response read — not only an empty DryRun's.
    pub async fn prewarm_with(&self, request: &InvokeRequest) -> Result<usize, Error> {
        self.prewarm_inner(Some(request.clone())).await
    }

    /// Credentials, signing key, connections, then `dry_run` (if any) as a DryRun.
    async fn prewarm_inner(&self, dry_run: Option<InvokeRequest>) -> Result<usize, Error> {
        self.signed_request(&InvokeRequest::new("prewarm", bytes::Bytes::new()))
            .await?;
        let opened = self.inner.pool.prewarm().await?;
        if let Some(request) = dry_run {
            self.invoke(request.invocation_type(crate::wire::InvocationType::DryRun))
                .await?;
        }
        Ok(opened)
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.inner.target.region
    }

    /// Invokes a function once (see the [module docs](self) for what is retried: 429s, and a
    /// named durable invoke that may have executed).
    pub async fn invoke(&self, request: InvokeRequest) -> Result<InvokeResponse, Error> {
        let span = tracing::debug_span!(
            "lean.invoke",
            operation = "Invoke",
            function = %request.function(),
            attempt = tracing::field::Empty,
        );
        // No wrapper for a span nobody listens to: it would copy the call's future once more.
        let result = if span.is_disabled() {
            self.invoke_inner(request).await
        } else {
            self.invoke_inner(request).instrument(span).await
        };
        #[cfg(feature = "metrics")]
        crate::metrics::count_call(
            crate::metrics::CallPath::Lean,
            crate::metrics::verdict(result.as_ref().err()),
        );
        result
    }

    /// The signed request [`invoke`](Self::invoke) would send first for `request` (absolute
    /// URI, every header, the call's deadline in its [`RequestOptions`]), without sending it:
    /// for callers that send it themselves (a fixed, pre-signed request on one connection) and
    /// for inspecting what goes on the wire. Validates and loads credentials as `invoke` does.
    pub async fn signed_request(
        &self,
        request: &InvokeRequest,
    ) -> Result<http::Request<SdkBody>, Error> {
        request.validate()?;
        let deadline = self.deadline(request);
        let mut signed = self
            .sign(request, &Prepared::new(request), deadline)
            .await?;
        signed
            .extensions_mut()
            .insert(RequestOptions::until(deadline));
        Ok(signed)
    }

    /// The call's deadline: its own timeout, else the invoker's, from now; `None` (no deadline)
    /// for a timeout the clock cannot represent ([`RequestOptions::with_timeout`]).
    fn deadline(&self, request: &InvokeRequest) -> Option<Instant> {
        deadline_after(request.get_timeout().unwrap_or(self.inner.response_timeout))
    }

    /// One attempt's signed request, with credentials valid now (loaded within `deadline`).
    async fn sign(
        &self,
        request: &InvokeRequest,
        prepared: &Prepared,
        deadline: Option<Instant>,
    ) -> Result<http::Request<SdkBody>, Error> {
        let inner = &*self.inner;
        let now = inner.time.now();
        let identity = self.identity(now, deadline).await?;
        request::build(&inner.target, request, prepared, &identity, now)
    }

    async fn invoke_inner(&self, request: InvokeRequest) -> Result<InvokeResponse, Error> {
        request.validate()?;
        let inner = &*self.inner;
        let deadline = self.deadline(&request);
        let prepared = Prepared::new(&request);
        let named = request.get_durable_execution_name().is_some();
        let (mut throttle_retries, mut durable_retries) = (0, 0);
        loop {
            let attempt = throttle_retries + durable_retries + 1;
            if tracing::level_enabled!(tracing::Level::DEBUG) {
                tracing::Span::current().record("attempt", attempt);
            }
            let attempt_deadline = retry::attempt_deadline(deadline, inner.attempt_timeout);
            let result = match self.sign(&request, &prepared, attempt_deadline).await {
                Ok(http_request) => match inner
                    .pool
                    .send_with(http_request, RequestOptions::until(attempt_deadline))
                    .await
                {
                    Ok(response) => response::read(response).await,
                    Err(e) => Err(e),
                },
                Err(e) => return Err(e),
            };
            let e = match result {
                Ok(mut r) => {
                    r.attempts = attempt;
                    return Ok(r);
                }
                Err(e) => e,
            };
            let delay = if e.is_throttled() && throttle_retries < inner.max_throttle_retries {
                throttle_retries += 1;
                retry::throttle_delay(throttle_retries - 1, e.retry_after())
            } else if named
                && retry::is_retryable_when_named(&e)
                && durable_retries < inner.max_durable_retries
            {
                durable_retries += 1;
                retry::durable_delay(durable_retries - 1)
            } else {
                return Err(e);
            };
            if deadline.is_some_and(|d| d.saturating_duration_since(Instant::now()) <= delay) {
                return Err(e);
            }
            tracing::debug!(
                delay_ms = delay.as_millis() as u64,
                error_class = e.verdict().as_str(),
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn identity(
        &self,
        now: SystemTime,
        deadline: Option<Instant>,
    ) -> Result<Arc<credentials::Identity>, Error> {
        if let Some(id) = self.inner.credentials.fresh(now) {
            return Ok(id);
        }
        let load = self.inner.credentials.get(now);
        let Some(deadline) = deadline else {
            return load.await;
        };
        match tokio::time::timeout_at(deadline, load).await {
            Ok(r) => r,
            Err(_) => Err(Error::with(
                Kind::Credentials,
                "loading credentials did not finish before the call's deadline",
            )),
        }
    }
}
