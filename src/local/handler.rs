//! One request: route, authenticate, read the body, run the function, apply the faults.
//!
//! Order for an invoke: (HTTP/2: `:scheme`/`:authority`, 400) → route → signature precheck
//! (no body read) → bounded body read → signature check → function lookup (404) → invocation
//! type → durable function: qualified, valid name (400) → injected `status` (not an execution)
//! → DryRun (204) → payload limits (413) → tenant-isolated function: `X-Amz-Tenant-Id` (400) →
//! chaos "close before run" → **execution counted** (a named durable invoke: started, or
//! re-attached to without counting, or 409 for another payload) → die / stall / latency →
//! function (a durable execution runs in its own task, to its end) → response faults (HTTP/1
//! only).

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use serde_json::json;

use super::body::LocalBody;
use super::conn::{ConnCtx, Takeover};
use super::eventstream;
use super::faults::{ChaosAction, FaultConfig};
use super::functions::{parse_ref, Behaviour, FunctionSpec};
use super::ledger::{DurableStart, Outcome};
use super::reply::{Reply, GARBAGE};
use super::stats::bump;
use crate::wire::{self, header as headers, InvocationType};

/// Largest request body read at all (the largest payload Lambda accepts, plus room); bigger
/// ones are refused without being read in full.
const MAX_REQUEST_BODY: usize = wire::MAX_SYNC_PAYLOAD_BYTES + 64 * 1024;
/// Size of the header added by `oversized_headers`.
const OVERSIZED_HEADER_BYTES: usize = 1024 * 1024;
/// Default and largest `MaxItems` of ListFunctions.
const LIST_MAX_ITEMS: usize = 50;

enum Op<'a> {
    List,
    Get(&'a str),
    Invoke(&'a str),
    InvokeStream(&'a str),
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Op<'a>> {
    if let Some(rest) = path.strip_prefix(wire::INVOKE_PATH_PREFIX) {
        if let Some(name) = rest.strip_suffix(wire::INVOKE_PATH_SUFFIX) {
            return (method == Method::POST && !name.is_empty() && !name.contains('/'))
                .then_some(Op::Invoke(name));
        }
        if method != Method::GET {
            return None;
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        return match rest {
            "" => Some(Op::List),
            name if !name.contains('/') => Some(Op::Get(name)),
            _ => None,
        };
    }
    if Some(path) == wire::INVOKE_PATH_PREFIX.strip_suffix('/') && method == Method::GET {
        return Some(Op::List);
    }
    let name = path
        .strip_prefix(wire::STREAM_PATH_PREFIX)?
        .strip_suffix(wire::STREAM_PATH_SUFFIX)?;
    (method == Method::POST && !name.is_empty() && !name.contains('/'))
        .then_some(Op::InvokeStream(name))
}

/// Percent-decodes a path segment or query value (invalid escapes stay as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(head: &http::request::Parts, key: &str) -> Option<String> {
    head.uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_decode(&v.replace('+', " ")))
    })
}

fn header<'a>(head: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    head.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Marks a handler as running for the idle watcher.
struct ActiveGuard<'a>(&'a ConnCtx);

impl<'a> ActiveGuard<'a> {
    fn new(ctx: &'a ConnCtx) -> Self {
        ctx.shared.active.fetch_add(1, Ordering::AcqRel);
        ctx.shared.activity.notify_one();
        ActiveGuard(ctx)
    }
}

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.shared.active.fetch_sub(1, Ordering::AcqRel);
        self.0.shared.activity.notify_one();
    }
}

/// The service function, for hyper's HTTP/1 server and the HTTP/2 driver alike.
pub(crate) async fn handle<B>(
    ctx: Arc<ConnCtx>,
    req: Request<B>,
) -> Result<Response<LocalBody>, Infallible>
where
    B: Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _active = ActiveGuard::new(&ctx);
    let nth = ctx.shared.requests.fetch_add(1, Ordering::AcqRel) + 1;
    bump(&ctx.state.stats.requests);
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut faults = ctx.state.faults.for_request();
    if ctx.http2 {
        http1_only_off(&mut faults);
    }
    let mut reply = dispatch(&ctx, req, &request_id, &faults).await;
    reply.header(headers::REQUEST_ID, &request_id);
    if ctx.http2 {
        // Connection-specific headers are illegal in HTTP/2 (RFC 9113 §8.2.2).
        reply.headers.remove(CONNECTION);
    } else if faults.max_requests.is_some_and(|max| nth >= u64::from(max)) {
        reply.header(CONNECTION, "close");
        bump(&ctx.state.stats.max_requests_closes);
    } else if faults.announce_keep_alive {
        if let Some((idle, _)) = faults.idle_limit() {
            reply.header(headers::KEEP_ALIVE, format!("timeout={}", idle.as_secs()));
        }
    }
    Ok(reply.into_response())
}

/// Switches off the faults that only make sense on an HTTP/1 connection (see
/// [`LocalEndpointBuilder`](super::LocalEndpointBuilder)'s HTTP/2 section).
fn http1_only_off(faults: &mut FaultConfig) {
    faults.max_requests = None;
    faults.announce_keep_alive = false;
    faults.truncate_body = false;
    faults.garbage_response = false;
    faults.oversized_headers = false;
    faults.trickle_headers = None;
}

/// An HTTP/2 request names its target in `:scheme` (`https` over TLS, `http` on h2c) and
/// `:authority`, and a `Host` header, if any, names the same authority (RFC 9113 §8.3.1).
fn http2_target(head: &http::request::Parts, tls: bool) -> Result<(), &'static str> {
    let Some(authority) = head.uri.authority() else {
        return Err("An HTTP/2 request must carry :authority");
    };
    match (tls, head.uri.scheme_str()) {
        (true, Some("https")) | (false, Some("http")) => {}
        (true, _) => return Err("An HTTP/2 request over TLS must carry :scheme https"),
        (false, _) => return Err("An HTTP/2 request over plain TCP must carry :scheme http"),
    }
    match header(head, HOST.as_str()) {
        Some(host) if !host.eq_ignore_ascii_case(authority.as_str()) => {
            Err("The Host header differs from :authority")
        }
        _ => Ok(()),
    }
}

async fn dispatch<B>(
    ctx: &ConnCtx,
    req: Request<B>,
    request_id: &str,
    faults: &FaultConfig,
) -> Reply
where
    B: Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (head, body) = req.into_parts();
    if ctx.http2 {
        if let Err(message) = http2_target(&head, ctx.tls) {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                message,
            );
        }
    }
    let path = head.uri.path().to_owned();
    let Some(op) = route(&head.method, &path) else {
        return Reply::error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "Unknown operation",
        );
    };
    let state = &ctx.state;
    if let Err(e) = state.verifier.precheck(&head, SystemTime::now()) {
        bump(&state.stats.auth_failures);
        let (code, message) = e.code_and_message();
        return Reply::error(StatusCode::FORBIDDEN, code, &message);
    }
    let body = match read_body(&head, body).await {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    if let Err(e) = state.verifier.verify(&head, &body) {
        bump(&state.stats.auth_failures);
        let (code, message) = e.code_and_message();
        return Reply::error(StatusCode::FORBIDDEN, code, &message);
    }
    match op {
        Op::List => {
            let max = query_param(&head, "MaxItems")
                .and_then(|m| m.parse::<usize>().ok())
                .filter(|m| (1..=10_000).contains(m))
                .unwrap_or(LIST_MAX_ITEMS);
            let marker = query_param(&head, "Marker");
            Reply::json(
                StatusCode::OK,
                state.registry.list(marker.as_deref(), max).to_string(),
            )
        }
        Op::Get(name) => {
            let fref = parse_ref(&percent_decode(name));
            match state.registry.get(&fref.name) {
                Some(spec) => Reply::json(
                    StatusCode::OK,
                    state.registry.get_function(spec).to_string(),
                ),
                None => not_found(ctx, &fref.name, None),
            }
        }
        Op::Invoke(name) => invoke(ctx, &head, body, name, false, request_id, faults).await,
        Op::InvokeStream(name) => invoke(ctx, &head, body, name, true, request_id, faults).await,
    }
}

async fn read_body<B>(head: &http::request::Parts, body: B) -> Result<Bytes, Reply>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large = || {
        Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &format!(
                "Request must be smaller than {} bytes for the InvokeFunction operation",
                wire::MAX_SYNC_PAYLOAD_BYTES
            ),
        )
    };
    let declared = header(head, CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BODY as u64) {
        let mut reply = too_large();
        reply.header(CONNECTION, "close");
        return Err(reply);
    }
    match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let mut reply = too_large();
            reply.header(CONNECTION, "close");
            Err(reply)
        }
        Err(_) => Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not read the request body",
        )),
    }
}

fn not_found(ctx: &ConnCtx, name: &str, qualifier: Option<&str>) -> Reply {
    let mut arn = ctx.state.registry.arn(name);
    if let Some(q) = qualifier {
        arn = format!("{arn}:{q}");
    }
    Reply::error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        &format!("Function not found: {arn}"),
    )
}

fn executed_version(spec: &FunctionSpec, qualifier: Option<&str>) -> String {
    match qualifier {
        None | Some("$LATEST") => "$LATEST".to_owned(),
        // Lambda Managed Instances' published version answers as itself.
        Some(q @ "$LATEST.PUBLISHED") => q.to_owned(),
        Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => q.to_owned(),
        Some(_alias) => spec.version.clone(),
    }
}

fn status_fault(status: u16, retry_after: Option<u32>) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        StatusCode::TOO_MANY_REQUESTS => {
            let body = json!({
                "Type": "User",
                "message": "Rate Exceeded.",
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            });
            let mut reply = Reply::json(status, body.to_string());
            reply.header(headers::ERROR_TYPE, "TooManyRequestsException");
            if let Some(secs) = retry_after {
                reply.header(http::header::RETRY_AFTER, secs.to_string());
            }
            reply
        }
        StatusCode::BAD_GATEWAY => Reply::error(status, "ServiceException", "Bad Gateway"),
        s if s.is_server_error() => {
            let mut reply = Reply::json(
                status,
                json!({"message": "Internal Server Error"}).to_string(),
            );
            reply.header(headers::ERROR_TYPE, "ServiceException");
            reply
        }
        s => Reply::error(s, "InvalidRequestContentException", "injected status"),
    }
}

async fn take_over(ctx: &ConnCtx, takeover: Takeover) -> Reply {
    // The connection task drops this future when it takes the stream.
    let _ = ctx.takeover.send(takeover);
    std::future::pending::<Reply>().await
}

fn log_tail(request_id: &str, version: &str, client_context: Option<&str>) -> String {
    let mut log = format!("START RequestId: {request_id} Version: {version}\n");
    if let Some(cc) = client_context {
        log.push_str(&format!("ClientContext: {cc}\n"));
    }
    log.push_str(&format!(
        "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: 0.10 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 16 MB\t\n"
    ));
    base64::engine::general_purpose::STANDARD.encode(log)
}

/// Runs the function: `Ok(output)` or `Err((errorType, errorMessage))`.
async fn run(spec: &FunctionSpec, payload: &Bytes) -> Outcome {
    match &spec.behaviour {
        Behaviour::Echo => Ok(payload.clone()),
        Behaviour::Fail {
            error_type,
            message,
        } => Err((error_type.clone(), message.clone())),
        Behaviour::SleepEcho => {
            let ms = serde_json::from_slice::<serde_json::Value>(payload)
                .ok()
                .and_then(|v| v.get("ms").and_then(serde_json::Value::as_u64));
            match ms {
                Some(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(payload.clone())
                }
                None => Err((
                    "InvalidPayload".to_owned(),
                    "expected {\"ms\": N}".to_owned(),
                )),
            }
        }
    }
}

/// Lambda's error code for a durable execution name already used with another payload.
const DURABLE_EXECUTION_ALREADY_STARTED: &str = "DurableExecutionAlreadyStartedException";
/// Lambda's message for an unqualified invoke of a durable function.
const UNQUALIFIED_DURABLE: &str = "You cannot invoke a durable function using an unqualified ARN.";

fn invalid_parameter(message: &str) -> Reply {
    Reply::error(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValueException",
        message,
    )
}

/// The durable execution name an invoke of `spec` deduplicates on: `None` for a function that
/// is not durable (the header is ignored) or an invoke without a name (a fresh execution, as
/// when Lambda generates the name). A durable function must be invoked qualified.
fn durable_name<'a>(
    spec: &FunctionSpec,
    head: &'a http::request::Parts,
    qualifier: Option<&str>,
) -> Result<Option<&'a str>, &'static str> {
    if !spec.durable {
        return Ok(None);
    }
    if qualifier.is_none() {
        return Err(UNQUALIFIED_DURABLE);
    }
    match header(head, headers::DURABLE_EXECUTION_NAME) {
        None => Ok(None),
        Some(name) if crate::validate::durable_execution_name(name).is_ok() => Ok(Some(name)),
        Some(_) => Err("DurableExecutionName must be 1 to 64 characters of [a-zA-Z0-9-_]"),
    }
}

/// A tenant-isolated function requires a valid `X-Amz-Tenant-Id`.
fn check_tenant(spec: &FunctionSpec, tenant: Option<&str>) -> Result<(), &'static str> {
    match tenant {
        Some(t) if crate::validate::tenant_id(t).is_err() => {
            Err("TenantId must be 1 to 256 characters of [a-zA-Z0-9._:/=+-@ ]")
        }
        None if spec.tenant_isolated => {
            Err("A tenant ID is required to invoke a function with tenant isolation mode enabled.")
        }
        _ => Ok(()),
    }
}

async fn invoke(
    ctx: &ConnCtx,
    head: &http::request::Parts,
    payload: Bytes,
    name: &str,
    streaming: bool,
    request_id: &str,
    faults: &FaultConfig,
) -> Reply {
    let state = &ctx.state;
    let fref = parse_ref(&percent_decode(name));
    let qualifier = query_param(head, "Qualifier").or(fref.qualifier);
    let Some(spec) = state.registry.get(&fref.name) else {
        return not_found(ctx, &fref.name, qualifier.as_deref());
    };
    let invocation_type = match header(head, headers::INVOCATION_TYPE).map(str::parse) {
        None => InvocationType::RequestResponse,
        Some(Ok(InvocationType::Event)) if streaming => {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                "Unsupported invocation type: Event",
            )
        }
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            let other = header(head, headers::INVOCATION_TYPE).unwrap_or_default();
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                &format!("Unsupported invocation type: {other}"),
            );
        }
    };
    let durable_name = match durable_name(spec, head, qualifier.as_deref()) {
        Ok(name) => name,
        Err(message) => return invalid_parameter(message),
    };
    if let Some(status) = faults.status {
        return status_fault(status, faults.retry_after);
    }
    if invocation_type == InvocationType::DryRun {
        return Reply::new(StatusCode::NO_CONTENT);
    }
    let limit = invocation_type.max_payload_bytes();
    if payload.len() > limit {
        return Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        );
    }
    let client_context = match header(head, headers::CLIENT_CONTEXT) {
        None => None,
        Some(cc) => match base64::engine::general_purpose::STANDARD.decode(cc) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => {
                return Reply::error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    "Client context must be a valid Base64-encoded JSON object.",
                )
            }
        },
    };
    let tenant = header(head, headers::TENANT_ID);
    if let Err(message) = check_tenant(spec, tenant) {
        return invalid_parameter(message);
    }
    let chaos = faults
        .chaos
        .as_ref()
        .and_then(|c| state.faults.chaos_pick(c).map(|a| (a, c.stall_for)));
    if let Some((ChaosAction::CloseBeforeRun(close), _)) = chaos {
        return take_over(ctx, Takeover::close(close)).await;
    }

    // The function starts (or a durable execution is re-attached to): an execution is counted
    // for a start only.
    let call_id = header(head, headers::SDK_INVOCATION_ID).unwrap_or(request_id);
    let durable = match durable_name {
        Some(name) => {
            let q = qualifier.as_deref().unwrap_or("$LATEST");
            let arn = || {
                let id = uuid::Uuid::new_v4().to_string();
                state
                    .registry
                    .durable_execution_arn(&spec.name, q, name, &id)
            };
            match state
                .ledger
                .durable_start(&spec.name, name, &payload, arn, call_id, tenant)
            {
                DurableStart::New(execution) => {
                    // The execution runs to its end whatever happens to this connection.
                    let (spec, payload, run_on) = (spec.clone(), payload.clone(), execution.clone());
                    tokio::spawn(async move { run_on.finish(run(&spec, &payload).await) });
                    Some(execution)
                }
                DurableStart::Attach(execution) => Some(execution),
                DurableStart::Conflict => {
                    return Reply::error(
                        StatusCode::CONFLICT,
                        DURABLE_EXECUTION_ALREADY_STARTED,
                        &format!(
                            "Durable execution with name {name} already exists with a different input payload"
                        ),
                    )
                }
            }
        }
        None => {
            state.ledger.record(call_id, tenant);
            None
        }
    };
    let die = match chaos {
        Some((ChaosAction::Die(close), _)) => Some(close),
        _ => faults.die_after_request,
    };
    if let Some(close) = die {
        return take_over(ctx, Takeover::close(close)).await;
    }
    if faults.stall {
        return std::future::pending::<Reply>().await;
    }
    if let Some((ChaosAction::Stall, stall_for)) = chaos {
        tokio::time::sleep(stall_for).await;
    }
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if let (InvocationType::Event, Some(execution)) = (invocation_type, &durable) {
        // Started (or found): an asynchronous caller does not wait for its end.
        let mut reply = Reply::new(StatusCode::ACCEPTED);
        reply.header(headers::DURABLE_EXECUTION_ARN, &execution.arn);
        return reply;
    }
    let outcome = match &durable {
        Some(execution) => execution.outcome().await,
        None => run(spec, &payload).await,
    };
    if invocation_type == InvocationType::Event {
        return Reply::new(StatusCode::ACCEPTED);
    }
    let version = executed_version(spec, qualifier.as_deref());

    let tail = header(head, headers::LOG_TYPE) == Some(wire::LOG_TYPE_TAIL);
    let log = tail.then(|| log_tail(request_id, &version, client_context.as_deref()));
    let mut reply = if streaming {
        let (output, complete) = match outcome {
            Ok(output) => (output, json!({})),
            Err((error_type, message)) => (
                Bytes::new(),
                json!({"ErrorCode": error_type, "ErrorDetails": message}),
            ),
        };
        let mut complete = complete;
        if let (Some(log), Some(obj)) = (&log, complete.as_object_mut()) {
            obj.insert("LogResult".to_owned(), json!(log));
        }
        let Some(frames) = eventstream::frames(&output, &complete) else {
            return Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "event stream encoding failed",
            );
        };
        let mut reply = Reply::new(StatusCode::OK);
        reply.header(CONTENT_TYPE, wire::EVENT_STREAM_CONTENT_TYPE);
        reply.frames = Some(frames);
        reply
    } else {
        let mut reply = match outcome {
            Ok(output) => Reply::json(StatusCode::OK, output),
            Err((error_type, message)) => {
                let body = json!({"errorMessage": message, "errorType": error_type});
                let mut reply = Reply::json(StatusCode::OK, body.to_string());
                reply.header(headers::FUNCTION_ERROR, "Unhandled");
                reply
            }
        };
        if let Some(log) = &log {
            reply.header(headers::LOG_RESULT, log);
        }
        reply
    };
    reply.header(headers::EXECUTED_VERSION, &version);
    reply.header(headers::REQUEST_ID, request_id);
    if let Some(execution) = &durable {
        reply.header(headers::DURABLE_EXECUTION_ARN, &execution.arn);
    }
    response_faults(ctx, reply, faults).await
}

async fn response_faults(ctx: &ConnCtx, reply: Reply, faults: &FaultConfig) -> Reply {
    if faults.garbage_response {
        return take_over(ctx, Takeover::write(GARBAGE.to_vec(), Bytes::new(), None)).await;
    }
    if faults.truncate_body {
        let (head, body) = reply.raw(1024, 0);
        return take_over(ctx, Takeover::write(head, body, None)).await;
    }
    if faults.oversized_headers {
        let (head, body) = reply.raw(0, OVERSIZED_HEADER_BYTES);
        return take_over(ctx, Takeover::write(head, body, None)).await;
    }
    if let Some(interval) = faults.trickle_headers {
        let (head, body) = reply.raw(0, 0);
        return take_over(ctx, Takeover::write(head, body, Some(interval))).await;
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_lambda_paths_only() {
        assert!(matches!(
            route(&Method::POST, "/2015-03-31/functions/echo/invocations"),
            Some(Op::Invoke("echo"))
        ));
        assert!(matches!(
            route(
                &Method::POST,
                "/2021-11-15/functions/echo/response-streaming-invocations"
            ),
            Some(Op::InvokeStream("echo"))
        ));
        assert!(matches!(
            route(&Method::GET, "/2015-03-31/functions/"),
            Some(Op::List)
        ));
        assert!(matches!(
            route(&Method::GET, "/2015-03-31/functions"),
            Some(Op::List)
        ));
        assert!(matches!(
            route(&Method::GET, "/2015-03-31/functions/echo"),
            Some(Op::Get("echo"))
        ));
        assert!(route(&Method::GET, "/2015-03-31/functions/echo/invocations").is_none());
        assert!(route(&Method::POST, "/2015-03-31/functions/").is_none());
        assert!(route(&Method::POST, "/other").is_none());
    }

    #[test]
    fn percent_decoding_restores_arns_and_keeps_bad_escapes() {
        assert_eq!(percent_decode("arn%3Aaws%3Alambda"), "arn:aws:lambda");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
