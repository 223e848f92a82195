//! The `Invoke` request: what a caller gives ([`InvokeRequest`]) and the signed
//! `http::Request` built from it, with its dynamic bytes in one buffer.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http::header::{HeaderName, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Uri};

use super::credentials::Identity;
use crate::error::{Error, Kind};
use crate::sign::{self, AmzDate, Canonical};
use crate::validate;
use crate::wire::{header, InvocationType};

/// The `user-agent` the lean path sends (SigV4 leaves it unsigned).
pub(crate) const USER_AGENT_VALUE: &str =
    concat!("lambda-vpce/", env!("CARGO_PKG_VERSION"), " lean");

const X_AMZ_DATE: HeaderName = HeaderName::from_static(header::AMZ_DATE);
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static(header::SECURITY_TOKEN);
const X_AMZ_INVOCATION_TYPE: HeaderName = HeaderName::from_static(header::INVOCATION_TYPE);
const X_AMZ_LOG_TYPE: HeaderName = HeaderName::from_static(header::LOG_TYPE);
const X_AMZ_CLIENT_CONTEXT: HeaderName = HeaderName::from_static(header::CLIENT_CONTEXT);
const X_AMZ_DURABLE_EXECUTION_NAME: HeaderName =
    HeaderName::from_static(header::DURABLE_EXECUTION_NAME);
const X_AMZ_TENANT_ID: HeaderName = HeaderName::from_static(header::TENANT_ID);
/// The SDK's per-call id, kept across a call's retries.
const AMZ_SDK_INVOCATION_ID: HeaderName = HeaderName::from_static(header::SDK_INVOCATION_ID);
// Header values checked at compile time, not per call.
const CONTENT_TYPE_VALUE: HeaderValue = HeaderValue::from_static(sign::CONTENT_TYPE);
const LOG_TYPE_TAIL_VALUE: HeaderValue = HeaderValue::from_static(crate::wire::LOG_TYPE_TAIL);
const USER_AGENT_HEADER: HeaderValue = HeaderValue::from_static(USER_AGENT_VALUE);

fn invocation_type_value(t: InvocationType) -> HeaderValue {
    const REQUEST_RESPONSE: HeaderValue =
        HeaderValue::from_static(InvocationType::RequestResponse.as_str());
    const EVENT: HeaderValue = HeaderValue::from_static(InvocationType::Event.as_str());
    const DRY_RUN: HeaderValue = HeaderValue::from_static(InvocationType::DryRun.as_str());
    match t {
        InvocationType::RequestResponse => REQUEST_RESPONSE,
        InvocationType::Event => EVENT,
        InvocationType::DryRun => DRY_RUN,
    }
}

/// One `Invoke` call for [`LeanInvoker::invoke`](super::LeanInvoker::invoke).
///
/// Checked when invoked, before anything is sent: the function with
/// [`validate::function_name`], the qualifier with [`validate::qualifier`], the payload's size
/// with [`validate::payload`] (6 MB synchronous, 1 MB `Event`), the client context with
/// [`validate::client_context`], the durable execution name with
/// [`validate::durable_execution_name`], the tenant id with [`validate::tenant_id`]. A refusal is [`Error::is_invalid_input`] with the
/// [`BuildError`](crate::BuildError) naming the field and the limit as its source.
///
/// `Debug` shows the payload's length, never its content.
#[derive(Clone)]
pub struct InvokeRequest {
    function: String,
    payload: Bytes,
    invocation_type: InvocationType,
    qualifier: Option<String>,
    log_tail: bool,
    client_context: Option<String>,
    durable_execution_name: Option<String>,
    tenant_id: Option<String>,
    timeout: Option<Duration>,
}

impl fmt::Debug for InvokeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvokeRequest")
            .field("function", &self.function)
            .field("payload_len", &self.payload.len())
            .field("invocation_type", &self.invocation_type)
            .field("qualifier", &self.qualifier)
            .field("log_tail", &self.log_tail)
            .field("client_context", &self.client_context.is_some())
            .field("durable_execution_name", &self.durable_execution_name)
            .field("tenant_id", &self.tenant_id)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl InvokeRequest {
    /// A synchronous (`RequestResponse`) invoke of `function` (a name, a partial ARN or an ARN,
    /// optionally with `:VERSION` or `:ALIAS`) with `payload` (usually JSON).
    pub fn new(function: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        InvokeRequest {
            function: function.into(),
            payload: payload.into(),
            invocation_type: InvocationType::RequestResponse,
            qualifier: None,
            log_tail: false,
            client_context: None,
            durable_execution_name: None,
            tenant_id: None,
            timeout: None,
        }
    }

    /// `RequestResponse` (default), `Event` or `DryRun` (`X-Amz-Invocation-Type`).
    pub fn invocation_type(mut self, invocation_type: InvocationType) -> Self {
        self.invocation_type = invocation_type;
        self
    }

    /// A version or alias (`?Qualifier=`). Default: none (`$LATEST` or the ARN's qualifier).
    pub fn qualifier(mut self, qualifier: impl Into<String>) -> Self {
        self.qualifier = Some(qualifier.into());
        self
    }

    /// Asks for the last 4 KB of the execution log (`X-Amz-Log-Type: Tail`, synchronous
    /// invokes only); it comes back decoded in [`InvokeResponse::log_result`]. Default: `false`.
    ///
    /// [`InvokeResponse::log_result`]: super::InvokeResponse::log_result
    pub fn log_tail(mut self, tail: bool) -> Self {
        self.log_tail = tail;
        self
    }

    /// The `ClientContext`, **already base64-encoded** as Lambda wants it (at most 3,583 bytes
    /// encoded). To pass plain JSON, encode it with [`validate::encode_client_context`].
    /// Default: none.
    pub fn client_context(mut self, base64: impl Into<String>) -> Self {
        self.client_context = Some(base64.into());
        self
    }

    /// The name of the durable execution this invoke starts (`X-Amz-Durable-Execution-Name`; 1 to
    /// 64 letters, digits, `-` or `_`), for a durable function invoked by a qualified name or
    /// ARN. Lambda deduplicates on it: the same name with the same payload returns the existing
    /// execution instead of starting another, so an invoke with a name whose failure may have
    /// executed is **retried** (see the [module docs](super#retries-of-a-named-durable-invoke));
    /// the same name with another payload fails with
    /// [`Error::is_durable_execution_already_started`], never retried. Default: none (Lambda
    /// names the execution; nothing that may have run is retried).
    pub fn durable_execution_name(mut self, name: impl Into<String>) -> Self {
        self.durable_execution_name = Some(name.into());
        self
    }

    /// The tenant of a function in tenant-isolation mode (`X-Amz-Tenant-Id`; 1 to 256
    /// letters, digits, spaces or `. _ : / = + - @`). Lambda requires it for such functions and
    /// runs the call in an environment of that tenant. Default: none.
    pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant.into());
        self
    }

    /// The deadline of this call (connection checkout, every attempt, the response body and any
    /// throttle wait); one too long for the clock (`Duration::MAX`) means no deadline, zero is
    /// refused before sending. Default: the invoker's
    /// [`response_timeout`](super::LeanInvokerBuilder::response_timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The function as given.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The payload.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The invocation type.
    pub fn get_invocation_type(&self) -> InvocationType {
        self.invocation_type
    }

    /// The call's own timeout, when set.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The durable execution name, when set.
    pub fn get_durable_execution_name(&self) -> Option<&str> {
        self.durable_execution_name.as_deref()
    }

    /// The tenant id, when set.
    pub fn get_tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    /// Checks every field against Lambda's limits.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |e: crate::BuildError| Error::with(Kind::InvalidInput, e);
        validate::function_name(&self.function).map_err(invalid)?;
        if let Some(q) = &self.qualifier {
            validate::qualifier(q).map_err(invalid)?;
        }
        validate::payload(self.payload.len(), self.invocation_type).map_err(invalid)?;
        if let Some(cc) = &self.client_context {
            validate::client_context(cc).map_err(invalid)?;
        }
        if let Some(name) = &self.durable_execution_name {
            validate::durable_execution_name(name).map_err(invalid)?;
        }
        if let Some(tenant) = &self.tenant_id {
            validate::tenant_id(tenant).map_err(invalid)?;
        }
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return Err(invalid(crate::BuildError::new(
                "timeout",
                "0s",
                "a positive duration",
            )));
        }
        Ok(())
    }
}

/// Where requests go: fixed per invoker.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The endpoint URL's scheme and `host[:port]`, parsed once.
    pub(crate) scheme: http::uri::Scheme,
    pub(crate) authority: http::uri::Authority,
    /// The `Host` value SigV4 signs (`host[:port]`, the port only when not the default).
    pub(crate) host: String,
    pub(crate) host_header: HeaderValue,
    pub(crate) region: String,
}

impl Target {
    /// The target at `url` (`scheme://host[:port]`); `None` if that is not such a URL.
    pub(crate) fn new(
        url: &str,
        host: String,
        host_header: HeaderValue,
        region: String,
    ) -> Option<Target> {
        let uri: Uri = url.parse().ok()?;
        Some(Target {
            scheme: uri.scheme()?.clone(),
            authority: uri.authority()?.clone(),
            host,
            host_header,
            region,
        })
    }
}

/// Headers every lean request carries: host, content-type, content-length, x-amz-date,
/// amz-sdk-invocation-id, x-amz-invocation-type, authorization, user-agent.
const REQUIRED_HEADERS: usize = 8;

/// What stays the same across the attempts of one invoke.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) payload_sha256: [u8; 64],
    pub(crate) invocation_id: [u8; 36],
    content_length: [u8; 20],
    content_length_start: usize,
}

impl Prepared {
    pub(crate) fn new(req: &InvokeRequest) -> Self {
        let mut invocation_id = [0u8; 36];
        // Random like the SDK's own invocation ids (fastrand, thread-local): an id only has to
        // be unique, and `Uuid::new_v4` would cost a getrandom(2) system call per call.
        uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut invocation_id);
        let mut content_length = [0u8; 20];
        let mut n = req.payload.len();
        let mut start = content_length.len();
        loop {
            start -= 1;
            content_length[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Prepared {
            payload_sha256: sign::sha256_hex(&req.payload),
            invocation_id,
            content_length,
            content_length_start: start,
        }
    }

    fn content_length(&self) -> &[u8] {
        &self.content_length[self.content_length_start..]
    }
}

/// Builds the signed request of one attempt.
///
/// Allocations: one buffer for every dynamic byte (URI, date, invocation id, content length,
/// authorization, client context, durable execution name, tenant id), sliced into the URI and
/// header values without copies; the header map; the body's handle. No extensions: the call's
/// options go to the pool beside the request (`Pool::send_with`), not in a map made per call.
pub(crate) fn build(
    target: &Target,
    req: &InvokeRequest,
    prepared: &Prepared,
    identity: &Identity,
    now: SystemTime,
) -> Result<http::Request<SdkBody>, Error> {
    let date = AmzDate::new(now).ok_or_else(|| {
        Error::with(
            Kind::Credentials,
            "the clock is outside the years 1970 to 9999",
        )
    })?;
    let mac = identity.signing_mac(&date, now, &target.region);
    let token = identity.session_token();
    let canonical = Canonical {
        function: &req.function,
        qualifier: req.qualifier.as_deref(),
        host: &target.host,
        invocation_id: &prepared.invocation_id,
        content_length: prepared.content_length(),
        client_context: req.client_context.as_deref(),
        date: &date,
        durable_execution_name: req.durable_execution_name.as_deref(),
        invocation_type: req.invocation_type.as_str(),
        log_tail: req.log_tail,
        security_token: token.map(HeaderValue::as_bytes),
        tenant_id: req.tenant_id.as_deref(),
        payload_sha256: &prepared.payload_sha256,
    };
    let signature = sign::signature(mac, &date, &target.region, &canonical.hash());
    let signed_headers = canonical.signed_headers();
    let access_key_id = identity.access_key_id();

    let qualifier_len = req.qualifier.as_deref().map_or(0, |q| {
        1 + sign::QUALIFIER_PARAM.len() + sign::encoded_label_len(q)
    });
    let uri_len = sign::PATH_PREFIX.len()
        + sign::encoded_label_len(&req.function)
        + sign::PATH_SUFFIX.len()
        + qualifier_len;
    let auth_len = sign::authorization_len(access_key_id, &target.region, signed_headers);
    let optional_len = [
        &req.client_context,
        &req.durable_execution_name,
        &req.tenant_id,
    ]
    .iter()
    .map(|v| v.as_deref().map_or(0, str::len))
    .sum::<usize>();
    let mut buf = Vec::with_capacity(
        uri_len + 16 + 36 + prepared.content_length().len() + auth_len + optional_len,
    );

    buf.extend_from_slice(sign::PATH_PREFIX.as_bytes());
    sign::encode_label(&mut buf, &req.function);
    buf.extend_from_slice(sign::PATH_SUFFIX.as_bytes());
    if let Some(q) = req.qualifier.as_deref() {
        buf.push(b'?');
        buf.extend_from_slice(sign::QUALIFIER_PARAM.as_bytes());
        sign::encode_label(&mut buf, q);
    }
    let uri_end = buf.len();
    buf.extend_from_slice(date.date_time());
    let date_end = buf.len();
    buf.extend_from_slice(&prepared.invocation_id);
    let id_end = buf.len();
    buf.extend_from_slice(prepared.content_length());
    let cl_end = buf.len();
    sign::write_authorization(
        &mut buf,
        access_key_id,
        &date,
        &target.region,
        signed_headers,
        &signature,
    );
    let auth_end = buf.len();
    if let Some(cc) = req.client_context.as_deref() {
        buf.extend_from_slice(cc.as_bytes());
    }
    let cc_end = buf.len();
    if let Some(name) = req.durable_execution_name.as_deref() {
        buf.extend_from_slice(name.as_bytes());
    }
    let name_end = buf.len();
    if let Some(tenant) = req.tenant_id.as_deref() {
        buf.extend_from_slice(tenant.as_bytes());
    }
    let tenant_end = buf.len();

    let bytes = Bytes::from(buf);
    let value = |start: usize, end: usize| {
        HeaderValue::from_maybe_shared(bytes.slice(start..end))
            .map_err(|e| Error::with(Kind::InvalidInput, e))
    };
    // Scheme and authority parsed once per invoker; only the path is checked per call.
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(target.scheme.clone());
    parts.authority = Some(target.authority.clone());
    parts.path_and_query = Some(
        http::uri::PathAndQuery::from_maybe_shared(bytes.slice(..uri_end))
            .map_err(|e| Error::with(Kind::InvalidInput, e))?,
    );
    let uri = Uri::from_parts(parts).map_err(|e| Error::with(Kind::InvalidInput, e))?;

    // Exactly the headers below: a map sized for more allocates twice the room (it rounds up).
    let optional = [
        req.log_tail,
        req.client_context.is_some(),
        req.durable_execution_name.is_some(),
        req.tenant_id.is_some(),
        token.is_some(),
    ];
    let mut headers =
        HeaderMap::with_capacity(REQUIRED_HEADERS + optional.iter().filter(|&&o| o).count());
    headers.insert(HOST, target.host_header.clone());
    headers.insert(CONTENT_TYPE, CONTENT_TYPE_VALUE);
    headers.insert(CONTENT_LENGTH, value(id_end, cl_end)?);
    headers.insert(X_AMZ_DATE, value(uri_end, date_end)?);
    headers.insert(AMZ_SDK_INVOCATION_ID, value(date_end, id_end)?);
    headers.insert(
        X_AMZ_INVOCATION_TYPE,
        invocation_type_value(req.invocation_type),
    );
    if req.log_tail {
        headers.insert(X_AMZ_LOG_TYPE, LOG_TYPE_TAIL_VALUE);
    }
    if req.client_context.is_some() {
        headers.insert(X_AMZ_CLIENT_CONTEXT, value(auth_end, cc_end)?);
    }
    if req.durable_execution_name.is_some() {
        headers.insert(X_AMZ_DURABLE_EXECUTION_NAME, value(cc_end, name_end)?);
    }
    if req.tenant_id.is_some() {
        headers.insert(X_AMZ_TENANT_ID, value(name_end, tenant_end)?);
    }
    if let Some(token) = token {
        headers.insert(X_AMZ_SECURITY_TOKEN, token.clone());
    }
    let mut authorization = value(cl_end, auth_end)?;
    authorization.set_sensitive(true);
    headers.insert(AUTHORIZATION, authorization);
    headers.insert(USER_AGENT, USER_AGENT_HEADER);

    let mut request = http::Request::new(SdkBody::from(req.payload.clone()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}
