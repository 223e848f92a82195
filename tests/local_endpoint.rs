//! The local endpoint seen from the wire: a minimal hyper client over tokio-rustls that trusts
//! the endpoint's CA and signs with aws-sigv4 `sign()`.
#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use lambda_vpce::local::{Behaviour, CloseKind, FunctionSpec, LocalEndpoint};
use lambda_vpce::wire::{self, header as headers};
use support::sigv4::ReferenceSigner;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

struct Client {
    sender: SendRequest<Full<Bytes>>,
    conn: JoinHandle<Result<(), hyper::Error>>,
}

async fn connect(ep: &LocalEndpoint) -> Client {
    let tls = support::tls::connect(ep, &[]).await;
    let (sender, conn) = http1::handshake(TokioIo::new(tls))
        .await
        .expect("HTTP/1 handshake");
    Client {
        sender,
        conn: tokio::spawn(conn),
    }
}

struct Call<'a> {
    method: &'a str,
    body: &'a [u8],
    headers: Vec<(&'a str, &'a str)>,
    akid: &'a str,
    secret: &'a str,
}

impl<'a> Call<'a> {
    fn new(ep: &'a LocalEndpoint, method: &'a str, _path: &'a str, body: &'a [u8]) -> Self {
        Call {
            method,
            body,
            headers: Vec::new(),
            akid: ep.access_key_id(),
            secret: ep.secret_access_key(),
        }
    }

    fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn build(&self, ep: &LocalEndpoint, path: &str) -> Request<Full<Bytes>> {
        let host = format!("localhost:{}", ep.addr().port());
        let mut req = Request::builder()
            .method(self.method)
            .uri(path)
            .header("host", &host)
            .header("content-type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(*k, *v);
        }
        let mut req = req
            .body(Full::new(Bytes::copy_from_slice(self.body)))
            .expect("valid request");
        let credentials = Credentials::new(self.akid, self.secret, None, None, "test");
        ReferenceSigner::new(credentials, ep.region()).sign_request(
            &mut req,
            &format!("https://{host}{path}"),
            self.body,
        );
        req
    }
}

async fn send(
    client: &mut Client,
    req: Request<Full<Bytes>>,
) -> Result<(http::response::Parts, Bytes), hyper::Error> {
    client.sender.ready().await?;
    let resp: Response<hyper::body::Incoming> = client.sender.send_request(req).await?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok((parts, body))
}

fn invoke_path(function: &str) -> String {
    format!("/2015-03-31/functions/{function}/invocations")
}

fn header<'a>(parts: &'a http::response::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Invokes `echo` once per call id, in order, each carrying it as its invocation id.
async fn invoke_echo_as(ep: &LocalEndpoint, call_ids: &[&str]) {
    let mut client = connect(ep).await;
    for id in call_ids {
        invoke(
            ep,
            &mut client,
            "echo",
            b"{}",
            &[(headers::SDK_INVOCATION_ID, id)],
        )
        .await;
    }
}

async fn invoke(
    ep: &LocalEndpoint,
    client: &mut Client,
    function: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> (http::response::Parts, Bytes) {
    let path = invoke_path(function);
    let mut call = Call::new(ep, "POST", &path, body);
    for (k, v) in extra {
        call = call.header(k, v);
    }
    let req = call.build(ep, &path);
    send(client, req).await.expect("a response")
}

#[tokio::test]
async fn request_response_invoke_echoes_the_payload_with_version_and_request_id() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let (parts, body) = invoke(&ep, &mut client, "echo", br#"{"hello":"world"}"#, &[]).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(body, &br#"{"hello":"world"}"#[..]);
    assert_eq!(header(&parts, headers::EXECUTED_VERSION), Some("$LATEST"));
    assert!(header(&parts, headers::REQUEST_ID).is_some_and(|id| id.len() == 36));
    assert!(header(&parts, headers::FUNCTION_ERROR).is_none());
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn event_invoke_is_accepted_with_202_and_counts_one_execution() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let (parts, body) = invoke(
        &ep,
        &mut client,
        "echo",
        b"{}",
        &[
            (headers::INVOCATION_TYPE, "Event"),
            (headers::SDK_INVOCATION_ID, "ev-1"),
        ],
    )
    .await;
    assert_eq!(parts.status, StatusCode::ACCEPTED);
    assert!(body.is_empty());
    assert_eq!(ep.ledger().executions("ev-1"), 1);
}

#[tokio::test]
async fn dry_run_returns_204_and_is_not_an_execution() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let (parts, body) = invoke(
        &ep,
        &mut client,
        "echo",
        b"{}",
        &[(headers::INVOCATION_TYPE, "DryRun")],
    )
    .await;
    assert_eq!(parts.status, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn an_unknown_invocation_type_or_an_event_stream_is_400_and_runs_nothing() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    for bad in ["event", "Async", ""] {
        let (parts, body) = invoke(
            &ep,
            &mut client,
            "echo",
            b"{}",
            &[(headers::INVOCATION_TYPE, bad)],
        )
        .await;
        assert_eq!(parts.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(
            header(&parts, headers::ERROR_TYPE),
            Some("InvalidParameterValueException")
        );
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("Unsupported invocation type"), "{body}");
    }
    let path = "/2021-11-15/functions/echo/response-streaming-invocations";
    let req = Call::new(&ep, "POST", path, b"{}")
        .header(headers::INVOCATION_TYPE, "Event")
        .build(&ep, path);
    let (parts, _) = send(&mut client, req).await.expect("a response");
    assert_eq!(
        parts.status,
        StatusCode::BAD_REQUEST,
        "a stream cannot be an Event"
    );
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn full_arn_with_qualifier_runs_that_version() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aecho";
    let path = format!("{}?Qualifier=7", invoke_path(arn));
    let req = Call::new(&ep, "POST", &path, b"1").build(&ep, &path);
    let (parts, body) = send(&mut client, req).await.expect("a response");
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(body, "1");
    assert_eq!(header(&parts, headers::EXECUTED_VERSION), Some("7"));
}

#[tokio::test]
async fn failing_function_answers_200_with_function_error_and_error_body() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let (parts, body) = invoke(&ep, &mut client, "fail", b"{}", &[]).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(header(&parts, headers::FUNCTION_ERROR), Some("Unhandled"));
    let err: serde_json::Value = serde_json::from_slice(&body).expect("JSON error body");
    assert!(
        err["errorMessage"].is_string() && err["errorType"].is_string(),
        "{err}"
    );
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn log_tail_is_base64_naming_the_request_id_and_client_context() {
    use base64::Engine as _;
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let cc = base64::engine::general_purpose::STANDARD.encode(r#"{"custom":{"k":"v"}}"#);
    let (parts, _) = invoke(
        &ep,
        &mut client,
        "echo",
        b"{}",
        &[(headers::LOG_TYPE, "Tail"), (headers::CLIENT_CONTEXT, &cc)],
    )
    .await;
    let log = header(&parts, headers::LOG_RESULT).expect("log result");
    let log = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(log)
            .expect("base64"),
    )
    .expect("utf-8");
    let request_id = header(&parts, headers::REQUEST_ID).expect("request id");
    assert!(
        log.contains(&format!("START RequestId: {request_id}")),
        "{log}"
    );
    assert!(log.contains(r#""custom":{"k":"v"}"#), "{log}");
}

#[tokio::test]
async fn unknown_function_is_404_resource_not_found_and_not_an_execution() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let (parts, body) = invoke(&ep, &mut client, "nope", b"{}", &[]).await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
    assert_eq!(
        header(&parts, headers::ERROR_TYPE),
        Some("ResourceNotFoundException")
    );
    let err: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(err["Type"], "User");
    assert_eq!(
        err["message"],
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
    );
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn wrong_secret_is_403_invalid_signature() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let path = invoke_path("echo");
    let mut call = Call::new(&ep, "POST", &path, b"{}");
    call.secret = "not-the-secret";
    let (parts, body) = send(&mut client, call.build(&ep, &path))
        .await
        .expect("a response");
    assert_eq!(parts.status, StatusCode::FORBIDDEN);
    assert_eq!(
        header(&parts, headers::ERROR_TYPE),
        Some("InvalidSignatureException")
    );
    assert!(String::from_utf8_lossy(&body).contains("does not match"));
    assert_eq!(ep.ledger().total(), 0);
    assert_eq!(ep.stats().auth_failures, 1);
}

#[tokio::test]
async fn unknown_access_key_is_403_unrecognized_client() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let path = invoke_path("echo");
    let mut call = Call::new(&ep, "POST", &path, b"{}");
    call.akid = "AKIDSOMEONEELSE";
    let (parts, _) = send(&mut client, call.build(&ep, &path))
        .await
        .expect("a response");
    assert_eq!(parts.status, StatusCode::FORBIDDEN);
    assert_eq!(
        header(&parts, headers::ERROR_TYPE),
        Some("UnrecognizedClientException")
    );
}

#[tokio::test]
async fn unsigned_request_is_403_missing_authentication_token() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let req = Request::post(invoke_path("echo"))
        .header("host", "localhost")
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("valid request");
    let (parts, _) = send(&mut client, req).await.expect("a response");
    assert_eq!(parts.status, StatusCode::FORBIDDEN);
    assert_eq!(
        header(&parts, headers::ERROR_TYPE),
        Some("MissingAuthenticationTokenException")
    );
}

#[tokio::test]
async fn ledger_counts_executions_per_call_id_and_reports_duplicates() {
    let ep = LocalEndpoint::start().await.expect("starts");
    invoke_echo_as(&ep, &["call-a", "call-b", "call-a"]).await;
    assert_eq!(ep.ledger().executions("call-a"), 2);
    assert_eq!(ep.ledger().executions("call-b"), 1);
    assert_eq!(ep.ledger().duplicates(), vec![("call-a".to_owned(), 2)]);
    assert_eq!(ep.stats().executions, 3);
}

#[tokio::test]
async fn an_endpoint_on_a_runtime_of_its_own_keeps_serving_while_the_callers_runtime_is_blocked() {
    let ep = LocalEndpoint::builder()
        .worker_threads(1)
        .start()
        .await
        .expect("starts");
    // This test's runtime has one thread, blocked below: only the endpoint's own can accept.
    let _socket = std::net::TcpStream::connect(ep.addr()).expect("connects");
    support::block_until("the endpoint's accept", Duration::from_secs(5), || {
        ep.stats().connections_accepted == 1
    });
    invoke_echo_as(&ep, &["call-a"]).await;
    assert_eq!(ep.ledger().executions("call-a"), 1);
    // Dropped here, inside the caller's runtime: its own runtime ends without blocking it.
}

#[tokio::test]
async fn an_endpoint_that_cannot_bind_on_a_runtime_of_its_own_is_an_error_not_a_panic() {
    let taken = LocalEndpoint::start().await.expect("starts");
    let err = LocalEndpoint::builder()
        .bind(taken.addr())
        .worker_threads(1)
        .start()
        .await
        .expect_err("the address is taken");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn a_ledger_limit_keeps_only_the_most_recent_call_ids_and_the_total() {
    let ep = LocalEndpoint::builder()
        .call_ledger_limit(2)
        .start()
        .await
        .expect("starts");
    invoke_echo_as(&ep, &["call-a", "call-b", "call-c"]).await;
    assert_eq!(ep.ledger().executions("call-a"), 0, "forgotten");
    assert_eq!(ep.ledger().executions("call-b"), 1);
    assert_eq!(ep.ledger().executions("call-c"), 1);
    assert_eq!(ep.ledger().total(), 3);
}

#[tokio::test]
async fn event_payload_over_one_megabyte_is_413_and_not_an_execution() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let big = vec![b'a'; 1024 * 1024 + 1];
    let (parts, _) = invoke(
        &ep,
        &mut client,
        "echo",
        &big,
        &[(headers::INVOCATION_TYPE, "Event")],
    )
    .await;
    assert_eq!(parts.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        header(&parts, headers::ERROR_TYPE),
        Some("RequestTooLargeException")
    );
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn throttled_invoke_is_429_with_retry_after_and_not_an_execution() {
    let ep = LocalEndpoint::start().await.expect("starts");
    ep.faults().status(429);
    ep.faults().retry_after(3);
    let mut client = connect(&ep).await;
    let (parts, body) = invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    assert_eq!(parts.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        header(&parts, headers::ERROR_TYPE),
        Some("TooManyRequestsException")
    );
    assert_eq!(
        header(&parts, http::header::RETRY_AFTER.as_str()),
        Some("3")
    );
    let err: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        err["Reason"],
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    );
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test(start_paused = true)]
async fn idle_connection_is_closed_at_the_idle_limit_after_the_last_response() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let limit = Duration::from_millis(1500);
    ep.faults().idle_close(limit);
    let mut client = connect(&ep).await;
    invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    let answered = Instant::now();
    let ended = client.conn.await.expect("connection task joins");
    let idle = answered.elapsed();
    assert!(ended.is_ok(), "orderly close: {ended:?}");
    assert!(
        idle >= limit && idle < limit + Duration::from_millis(5),
        "closed after {idle:?}"
    );
    assert_eq!(ep.stats().idle_closes, 1);
}

#[tokio::test(start_paused = true)]
async fn idle_limit_counts_from_the_last_response_not_the_first() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let limit = Duration::from_secs(2);
    ep.faults().idle_close(limit);
    let mut client = connect(&ep).await;
    invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    tokio::time::sleep(limit / 2).await;
    invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    let answered = Instant::now();
    assert!(client.conn.await.expect("joins").is_ok());
    assert!(
        answered.elapsed() >= limit,
        "closed {:?} after the last response",
        answered.elapsed()
    );
    assert_eq!(ep.stats().idle_closes, 1);
    assert_eq!(ep.ledger().total(), 2);
}

#[tokio::test(start_paused = true)]
async fn idle_connection_is_reset_when_idle_reset_is_on() {
    let ep = LocalEndpoint::start().await.expect("starts");
    ep.faults().idle_reset(Duration::from_secs(2));
    let mut client = connect(&ep).await;
    invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    let answered = Instant::now();
    let ended = client.conn.await.expect("connection task joins");
    assert!(answered.elapsed() >= Duration::from_secs(2));
    let err = ended.expect_err("a reset is an error");
    let io = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<std::io::Error>());
    assert_eq!(
        io.map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    assert_eq!(ep.stats().idle_resets, 1);
}

#[tokio::test]
async fn connection_closes_after_max_requests_with_connection_close_on_the_last() {
    let ep = LocalEndpoint::start().await.expect("starts");
    ep.faults().max_requests(2);
    let mut client = connect(&ep).await;
    let (first, _) = invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    assert!(header(&first, "connection").is_none());
    let (second, _) = invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    assert_eq!(header(&second, "connection"), Some("close"));
    assert!(client.conn.await.expect("joins").is_ok());
    assert_eq!(ep.stats().max_requests_closes, 1);
}

#[tokio::test]
async fn dying_after_the_request_counts_one_execution_and_sends_no_response() {
    let ep = LocalEndpoint::start().await.expect("starts");
    for close in [CloseKind::Fin, CloseKind::Reset] {
        ep.faults().die_after_request(close);
        let mut client = connect(&ep).await;
        let path = invoke_path("echo");
        let id = format!("die-{close:?}");
        let req = Call::new(&ep, "POST", &path, b"{}")
            .header(headers::SDK_INVOCATION_ID, &id)
            .build(&ep, &path);
        let result = send(&mut client, req).await;
        assert!(result.is_err(), "no response for {close:?}: {result:?}");
        assert_eq!(ep.ledger().executions(&id), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn stalled_invoke_never_answers_but_counts_its_execution() {
    let ep = LocalEndpoint::start().await.expect("starts");
    ep.faults().stall(true);
    let mut client = connect(&ep).await;
    let path = invoke_path("echo");
    let req = Call::new(&ep, "POST", &path, b"{}")
        .header(headers::SDK_INVOCATION_ID, "stall")
        .build(&ep, &path);
    let waited = tokio::time::timeout(Duration::from_secs(3600), send(&mut client, req)).await;
    assert!(waited.is_err(), "no answer within an hour");
    assert_eq!(ep.ledger().executions("stall"), 1);
}

#[tokio::test]
async fn garbage_and_truncated_responses_fail_the_client() {
    let ep = LocalEndpoint::start().await.expect("starts");
    ep.faults().garbage_response(true);
    let mut client = connect(&ep).await;
    let path = invoke_path("echo");
    assert!(send(
        &mut client,
        Call::new(&ep, "POST", &path, b"{}").build(&ep, &path)
    )
    .await
    .is_err());
    ep.faults().clear();
    ep.faults().truncate_body(true);
    let mut client = connect(&ep).await;
    assert!(send(
        &mut client,
        Call::new(&ep, "POST", &path, b"{}").build(&ep, &path)
    )
    .await
    .is_err());
    assert_eq!(ep.ledger().total(), 2);
}

#[tokio::test]
async fn streaming_invoke_is_an_event_stream_of_payload_chunks_then_invoke_complete() {
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
    let ep = LocalEndpoint::start().await.expect("starts");
    let mut client = connect(&ep).await;
    let path = "/2021-11-15/functions/echo/response-streaming-invocations";
    let payload = br#"{"stream":"these bytes come back in pieces"}"#;
    let (parts, mut body) = send(
        &mut client,
        Call::new(&ep, "POST", path, payload).build(&ep, path),
    )
    .await
    .expect("a response");
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(
        header(&parts, "content-type"),
        Some(wire::EVENT_STREAM_CONTENT_TYPE)
    );
    let mut decoder = MessageFrameDecoder::new();
    let mut events = Vec::new();
    let mut joined = Vec::new();
    while let DecodedFrame::Complete(msg) = decoder.decode_frame(&mut body).expect("valid frame") {
        let event_type = msg
            .headers()
            .iter()
            .find(|h| h.name().as_str() == ":event-type")
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str().to_owned())
            .expect(":event-type");
        if event_type == "PayloadChunk" {
            joined.extend_from_slice(msg.payload());
        }
        events.push(event_type);
    }
    assert!(events.len() > 2, "{events:?}");
    assert_eq!(events.last().map(String::as_str), Some("InvokeComplete"));
    assert_eq!(joined, payload);
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Configuration {
    function_name: String,
    function_arn: String,
    runtime: String,
    version: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListFunctions {
    functions: Vec<Configuration>,
    next_marker: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Code {
    repository_type: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetFunction {
    configuration: Configuration,
    code: Code,
}

#[tokio::test]
async fn list_functions_and_get_function_have_lambdas_json_shapes() {
    let ep = LocalEndpoint::builder()
        .function(FunctionSpec::new("extra", Behaviour::Echo).version("3"))
        .start()
        .await
        .expect("starts");
    let mut client = connect(&ep).await;
    let path = "/2015-03-31/functions/?MaxItems=3";
    let (parts, body) = send(
        &mut client,
        Call::new(&ep, "GET", path, b"").build(&ep, path),
    )
    .await
    .expect("a response");
    assert_eq!(parts.status, StatusCode::OK);
    let page: ListFunctions = serde_json::from_slice(&body).expect("ListFunctions JSON");
    let names: Vec<&str> = page
        .functions
        .iter()
        .map(|f| f.function_name.as_str())
        .collect();
    assert_eq!(names, ["echo", "extra", "fail"]);
    assert_eq!(page.next_marker.as_deref(), Some("3"));
    let path = "/2015-03-31/functions/?Marker=3";
    let (_, body) = send(
        &mut client,
        Call::new(&ep, "GET", path, b"").build(&ep, path),
    )
    .await
    .expect("a response");
    let rest: ListFunctions = serde_json::from_slice(&body).expect("ListFunctions JSON");
    assert_eq!(rest.functions.len(), 1);
    assert!(rest.next_marker.is_none());

    let path = "/2015-03-31/functions/echo";
    let (parts, body) = send(
        &mut client,
        Call::new(&ep, "GET", path, b"").build(&ep, path),
    )
    .await
    .expect("a response");
    assert_eq!(parts.status, StatusCode::OK);
    let got: GetFunction = serde_json::from_slice(&body).expect("GetFunction JSON");
    assert_eq!(got.configuration.function_arn, ep.function_arn("echo"));
    assert_eq!(got.configuration.version, "$LATEST");
    assert!(!got.configuration.runtime.is_empty());
    assert_eq!(got.code.repository_type, "S3");

    let path = "/2015-03-31/functions/nope";
    let (parts, _) = send(
        &mut client,
        Call::new(&ep, "GET", path, b"").build(&ep, path),
    )
    .await
    .expect("a response");
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shutdown_ends_open_connections_and_stops_accepting() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let addr = ep.addr();
    let mut client = connect(&ep).await;
    invoke(&ep, &mut client, "echo", b"{}", &[]).await;
    ep.shutdown().await;
    let _ = client.conn.await.expect("client connection ends");
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn plain_http_is_refused_on_a_non_loopback_address() {
    let err = LocalEndpoint::builder()
        .plain_http(true)
        .bind("0.0.0.0:0".parse().expect("address"))
        .start()
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
