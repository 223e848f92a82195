//! The lean path against aws-sigv4's `sign()` and against the SDK path, on a recording server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::LogType;
use base64::Engine as _;
use bytes::Bytes;
use http::HeaderValue;

use super::credentials::Identity;
use super::request::{self, Prepared, Target, USER_AGENT_VALUE};
use super::test_server::{response, sigv4_authorization, verify_signature, TestServer};
use super::*;
use crate::validate;
use crate::wire::{self, header, InvocationType};
use crate::LambdaVpce;

mod shapes;

const REGION: &str = "us-east-1";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";

fn creds(token: bool) -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        token.then(|| "IQoJb3JpZ2luX2VjEXAMPLETOKEN/+=".to_owned()),
        None,
        "test",
    )
}

fn target(url: &str, host: &str) -> Target {
    Target::new(
        url,
        host.to_owned(),
        HeaderValue::from_str(host).expect("host"),
        REGION.to_owned(),
    )
    .expect("a valid URL")
}

/// Builds the lean request for `req` at `time` and returns it with what `sign()` says its
/// `Authorization` should be.
fn lean_and_sdk_authorization(
    target: &Target,
    req: &InvokeRequest,
    token: bool,
    time: SystemTime,
) -> (String, String) {
    let credentials = creds(token);
    let identity = Identity::new(credentials.clone(), time).expect("identity");
    let built = request::build(target, req, &Prepared::new(req), &identity, time).expect("built");
    let lean = built.headers()["authorization"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let headers: Vec<(&str, &str)> = built
        .headers()
        .iter()
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "authorization" | header::AMZ_DATE | header::SECURITY_TOKEN
            )
        })
        .map(|(n, v)| (n.as_str(), v.to_str().expect("ascii")))
        .collect();
    let expected = sigv4_authorization(
        &built.uri().to_string(),
        &headers,
        req.payload(),
        &credentials,
        REGION,
        time,
    );
    (lean, expected)
}

#[test]
fn the_header_map_is_sized_for_exactly_the_headers_sent_and_never_grows() {
    let t = target("http://127.0.0.1:9001", "127.0.0.1:9001");
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let cc = validate::encode_client_context(r#"{"k":1}"#).expect("cc");
    let fullest = InvokeRequest::new("my-fn:3", "{}")
        .client_context(cc)
        .log_tail(true)
        .durable_execution_name("n")
        .tenant_id("t");
    for (req, token, sent) in [
        (InvokeRequest::new("my-fn", "{}"), false, 8),
        (fullest, true, 13),
    ] {
        let identity = Identity::new(creds(token), time).expect("identity");
        let built = request::build(&t, &req, &Prepared::new(&req), &identity, time).expect("built");
        let headers = built.headers();
        assert_eq!(headers.len(), sent, "{req:?}");
        assert_eq!(
            headers.capacity(),
            http::HeaderMap::<HeaderValue>::with_capacity(sent).capacity(),
            "sized once for what is sent, not regrown: {req:?}"
        );
    }
}

#[test]
fn lean_authorization_is_byte_identical_to_aws_sigv4_sign() {
    let plain = target(
        "https://lambda.us-east-1.amazonaws.com",
        "lambda.us-east-1.amazonaws.com",
    );
    let local = target("http://127.0.0.1:9001", "127.0.0.1:9001");
    let cc = validate::encode_client_context(r#"{"custom":{"k":"v"}}"#).expect("cc");
    let cases = vec![
        InvokeRequest::new("my-fn", "{}"),
        InvokeRequest::new("my-fn", Bytes::new()).invocation_type(InvocationType::Event),
        InvokeRequest::new(ARN, r#"{"a":[1,2,3]}"#).qualifier("$LATEST"),
        InvokeRequest::new(format!("{ARN}:prod"), "x").log_tail(true),
        InvokeRequest::new("123456789012:function:my-fn", "x")
            .qualifier("v-1_2")
            .client_context(cc.clone())
            .log_tail(true)
            .invocation_type(InvocationType::DryRun),
        InvokeRequest::new("my-fn:$LATEST", vec![0u8; 70_000]).client_context(cc.clone()),
        InvokeRequest::new("my-fn:3", "{}")
            .durable_execution_name("order-12345_a")
            .tenant_id("tenant  a/b:c=d+e-f@g.h_i"),
        InvokeRequest::new(ARN, "x")
            .qualifier("prod")
            .client_context(cc)
            .log_tail(true)
            .durable_execution_name("n")
            .tenant_id(" blue "),
    ];
    let times = [
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        UNIX_EPOCH + Duration::from_secs(951_868_799), // 2000-02-29T23:59:59Z
        UNIX_EPOCH + Duration::from_secs(1_704_067_200), // 2024-01-01T00:00:00Z
    ];
    let mut checked = 0;
    for req in &cases {
        for token in [false, true] {
            for t in [&plain, &local] {
                for time in times {
                    let (lean, expected) = lean_and_sdk_authorization(t, req, token, time);
                    assert_eq!(
                        lean, expected,
                        "{req:?} token={token} authority={}",
                        t.authority
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, cases.len() * 2 * 2 * times.len());
}

async fn sdk_and_lean(server: &TestServer, token: bool) -> (LambdaVpce, LeanInvoker) {
    let client = LambdaVpce::builder()
        .endpoint_url(&server.url)
        .region(REGION)
        .credentials(creds(token))
        .max_attempts(1)
        .build_sync()
        .expect("client");
    let lean = client.lean().expect("lean");
    (client, lean.clone())
}

/// Headers that legitimately differ per call or per client.
const PER_CALL: [&str; 6] = [
    "authorization",
    header::AMZ_DATE,
    header::SDK_INVOCATION_ID,
    "user-agent",
    "x-amz-user-agent",
    "amz-sdk-request",
];

fn comparable(r: &test_server::Recorded) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(n, _)| !PER_CALL.contains(&n.as_str()))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn lean_sends_the_sdks_headers_path_and_body_for_the_same_invoke() {
    let server = TestServer::start(|_, _| response(200, &[], "{}")).await;
    let (client, lean) = sdk_and_lean(&server, true).await;
    let cc = validate::encode_client_context(r#"{"custom":{"k":"v"}}"#).expect("cc");
    for (invocation_type, log) in [
        (InvocationType::RequestResponse, true),
        (InvocationType::Event, false),
        (InvocationType::DryRun, false),
    ] {
        let mut sdk = client
            .client()
            .invoke()
            .function_name(ARN)
            .qualifier("$LATEST")
            .client_context(&cc)
            .durable_execution_name("order-1")
            .tenant_id("tenant a/b")
            .invocation_type(invocation_type.into())
            .payload(Blob::new(r#"{"n":1}"#));
        let mut req = InvokeRequest::new(ARN, r#"{"n":1}"#)
            .qualifier("$LATEST")
            .client_context(&cc)
            .durable_execution_name("order-1")
            .tenant_id("tenant a/b")
            .invocation_type(invocation_type);
        if log {
            sdk = sdk.log_type(LogType::Tail);
            req = req.log_tail(true);
        }
        sdk.send().await.expect("sdk invoke");
        lean.invoke(req).await.expect("lean invoke");
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 6);
    let credentials = creds(true);
    for pair in seen.chunks(2) {
        let (sdk, lean) = (&pair[0], &pair[1]);
        assert_eq!(comparable(sdk), comparable(lean));
        let sdk_headers = comparable(sdk);
        let names: Vec<&str> = sdk_headers.iter().map(|(n, _)| n.as_str()).collect();
        for must in [
            "content-length",
            "content-type",
            "host",
            header::CLIENT_CONTEXT,
            header::DURABLE_EXECUTION_NAME,
            header::INVOCATION_TYPE,
            header::SECURITY_TOKEN,
            header::TENANT_ID,
        ] {
            assert!(names.contains(&must), "{must} missing from {names:?}");
        }
        for r in [sdk, lean] {
            let mut tampered = r.clone();
            tampered.body = Bytes::from_static(b"{\"n\":2}");
            assert!(!verify_signature(&tampered, &credentials, REGION));
        }
        assert_eq!(
            (&sdk.method, &sdk.path, &sdk.body),
            (&lean.method, &lean.path, &lean.body)
        );
        for r in [sdk, lean] {
            assert!(verify_signature(r, &credentials, REGION), "{:?}", r.path);
            let id = r.headers[header::SDK_INVOCATION_ID]
                .to_str()
                .expect("ascii");
            assert!(uuid::Uuid::parse_str(id).is_ok());
        }
        assert_eq!(lean.headers["user-agent"], USER_AGENT_VALUE);
    }
    assert_eq!(
        seen[0].path,
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations?Qualifier=%24LATEST"
    );
}

#[tokio::test]
async fn both_paths_read_a_function_error_with_its_log_version_and_request_id_alike() {
    let log = base64::engine::general_purpose::STANDARD.encode("START RequestId: r-1\nboom\n");
    let log: &'static str = Box::leak(log.into_boxed_str());
    let server = TestServer::start(move |_, _| {
        response(
            200,
            &[
                (header::FUNCTION_ERROR, "Unhandled"),
                (header::LOG_RESULT, log),
                (header::EXECUTED_VERSION, "7"),
                (header::REQUEST_ID, "r-1"),
            ],
            r#"{"errorMessage":"boom","errorType":"Error"}"#,
        )
    })
    .await;
    let (client, lean) = sdk_and_lean(&server, false).await;
    let sdk = client
        .client()
        .invoke()
        .function_name("my-fn")
        .log_type(LogType::Tail)
        .send()
        .await
        .expect("sdk");
    let out = lean
        .invoke(InvokeRequest::new("my-fn", Bytes::new()).log_tail(true))
        .await
        .expect("lean");
    assert_eq!(i32::from(out.status_code), sdk.status_code());
    assert_eq!(out.function_error.as_deref(), sdk.function_error());
    assert_eq!(out.executed_version.as_deref(), sdk.executed_version());
    assert_eq!(out.request_id.as_deref(), sdk.request_id());
    assert_eq!(Some(out.payload.as_ref()), sdk.payload().map(Blob::as_ref));
    let sdk_log = base64::engine::general_purpose::STANDARD
        .decode(sdk.log_result().expect("log"))
        .expect("base64");
    assert_eq!(
        out.log_result.as_deref().map(str::as_bytes),
        Some(sdk_log.as_slice())
    );
    assert!(out
        .log_result
        .as_deref()
        .is_some_and(|l| l.contains("boom")));
    let conn = out.connection;
    assert!(
        conn.reused,
        "the SDK call's connection carries the lean call"
    );
}

#[tokio::test]
async fn both_paths_read_404_and_429_as_the_same_service_errors() {
    let server = TestServer::start(|r, _| {
        if r.path.contains("nope") {
            response(
                404,
                &[(header::ERROR_TYPE, "ResourceNotFoundException:http://internal.amazon.com/")],
                r#"{"Type":"User","Message":"Function not found: nope"}"#,
            )
        } else {
            response(
                429,
                &[(header::ERROR_TYPE, "TooManyRequestsException"), ("retry-after", "2")],
                r#"{"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#,
            )
        }
    })
    .await;
    let (client, _) = sdk_and_lean(&server, false).await;
    let lean = client
        .lean_builder()
        .max_throttle_retries(0)
        .build()
        .expect("lean");
    drop(server.requests());
    for function in ["nope", "busy"] {
        let sdk = client
            .client()
            .invoke()
            .function_name(function)
            .send()
            .await
            .expect_err("sdk error");
        let ours = lean
            .invoke(InvokeRequest::new(function, "{}"))
            .await
            .expect_err("lean error");
        let status = sdk.raw_response().map(|r| r.status().as_u16());
        assert_eq!(ours.status(), status);
        assert_eq!(ours.error_code(), sdk.code());
        assert_eq!(ours.message(), sdk.message());
        assert!(ours.is_service() && !ours.is_maybe_executed() && !ours.is_not_sent());
    }
    let throttled = lean
        .invoke(InvokeRequest::new("busy", "{}"))
        .await
        .expect_err("429");
    assert!(throttled.is_throttled());
    assert_eq!(throttled.error_code(), Some("TooManyRequestsException"));
    assert_eq!(throttled.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(
        server.requests().len(),
        5,
        "no retry with max_throttle_retries(0)"
    );
}

#[tokio::test]
async fn a_throttled_invoke_is_retried_with_the_same_invocation_id_until_it_succeeds() {
    let server = TestServer::start(|_, n| {
        if n < 2 {
            response(
                429,
                &[
                    (header::ERROR_TYPE, "TooManyRequestsException"),
                    ("retry-after", "0"),
                ],
                "{}",
            )
        } else {
            response(200, &[], "ok")
        }
    })
    .await;
    let (_client, lean) = sdk_and_lean(&server, false).await;
    let out = lean
        .invoke(InvokeRequest::new("my-fn", "{}"))
        .await
        .expect("ok");
    assert_eq!((&out.payload[..], out.attempts), (&b"ok"[..], 3));
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    let ids: Vec<_> = seen
        .iter()
        .map(|r| r.headers[header::SDK_INVOCATION_ID].clone())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]));
}

#[tokio::test]
async fn a_timeout_too_large_for_the_clock_means_no_deadline_not_a_panic() {
    // The first call is throttled once, so the retry's wait is weighed against no deadline.
    let server = TestServer::start(|_, n| match n {
        0 => response(
            429,
            &[
                (header::ERROR_TYPE, "TooManyRequestsException"),
                ("retry-after", "0"),
            ],
            "{}",
        ),
        _ => response(200, &[], "ok"),
    })
    .await;
    let (client, default_lean) = sdk_and_lean(&server, false).await;
    let lean = client
        .lean_builder()
        .response_timeout(Duration::MAX)
        .build()
        .expect("a long response timeout is accepted");
    let out = lean
        .invoke(InvokeRequest::new("my-fn", "{}"))
        .await
        .expect("the invoker's timeout: no deadline");
    assert_eq!(out.payload, "ok");
    let out = default_lean
        .invoke(InvokeRequest::new("my-fn", "{}").timeout(Duration::MAX))
        .await
        .expect("the call's own timeout: no deadline");
    assert_eq!(out.payload, "ok");
    let signed = default_lean
        .signed_request(&InvokeRequest::new("my-fn", "{}").timeout(Duration::MAX))
        .await
        .expect("signed");
    let options = signed
        .extensions()
        .get::<RequestOptions>()
        .expect("options");
    assert_eq!(options.deadline, None);
    assert_eq!(server.requests().len(), 3, "one throttled, two answered");

    let zero = client
        .lean_builder()
        .response_timeout(Duration::ZERO)
        .build()
        .expect_err("a zero timeout is still refused");
    assert_eq!(zero.field(), "response_timeout");
    let before = server.requests().len();
    let zero_call = lean
        .invoke(InvokeRequest::new("my-fn", "{}").timeout(Duration::ZERO))
        .await
        .expect_err("a zero call timeout is refused");
    assert!(zero_call.is_not_sent(), "{zero_call:?}");
    assert_eq!(server.requests().len(), before, "nothing was sent");
}

#[tokio::test]
async fn a_server_error_is_returned_after_one_request_never_retried() {
    let server = TestServer::start(|_, _| {
        response(
            500,
            &[(header::ERROR_TYPE, "ServiceException")],
            r#"{"Message":"oops"}"#,
        )
    })
    .await;
    let (_client, lean) = sdk_and_lean(&server, false).await;
    let e = lean
        .invoke(InvokeRequest::new("my-fn", "{}"))
        .await
        .expect_err("500");
    assert_eq!(
        (e.status(), e.error_code()),
        (Some(500), Some("ServiceException"))
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_connection_dropped_after_the_request_is_maybe_executed_and_sent_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
            drop(s); // dies after reading the request
        }
    });
    let endpoint = Endpoint::from_url(&format!("http://{addr}")).expect("endpoint");
    let pool = Pool::builder().endpoint(&endpoint).build().expect("pool");
    let lean = LeanInvoker::builder(pool, &endpoint)
        .region(REGION)
        .credentials_provider(SharedCredentialsProvider::new(creds(false)))
        .build()
        .expect("lean");
    let e = lean
        .invoke(InvokeRequest::new("my-fn", "{}"))
        .await
        .expect_err("dropped");
    assert!(e.is_maybe_executed(), "{e:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    task.abort();
}

#[tokio::test]
async fn payloads_over_the_limit_are_refused_and_nothing_reaches_the_server() {
    let server = TestServer::start(|_, _| response(200, &[], "{}")).await;
    let (_client, lean) = sdk_and_lean(&server, false).await;
    for (t, max) in [
        (InvocationType::Event, wire::MAX_EVENT_PAYLOAD_BYTES),
        (
            InvocationType::RequestResponse,
            wire::MAX_SYNC_PAYLOAD_BYTES,
        ),
        (InvocationType::DryRun, wire::MAX_SYNC_PAYLOAD_BYTES),
    ] {
        let e = lean
            .invoke(InvokeRequest::new("my-fn", vec![b'x'; max + 1]).invocation_type(t))
            .await
            .expect_err("too big");
        assert!(e.is_invalid_input() && e.is_not_sent());
        let why = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<BuildError>())
            .expect("names the limit");
        assert_eq!(why.field(), "payload");
        assert!(why.expected().contains(&max.to_string()), "{why}");
    }
    for bad in [
        InvokeRequest::new("", "{}"),
        InvokeRequest::new("my fn", "{}"),
        InvokeRequest::new("my-fn", "{}").qualifier("no/slash"),
        InvokeRequest::new("my-fn", "{}").client_context("not base64!"),
    ] {
        let e = lean.invoke(bad).await.expect_err("invalid");
        assert!(e.is_invalid_input());
    }
    assert!(server.requests().is_empty());
}

#[test]
fn an_invoker_without_region_or_credentials_is_refused_at_build() {
    let endpoint = Endpoint::from_url("http://127.0.0.1:9").expect("endpoint");
    let pool = Pool::builder().endpoint(&endpoint).build().expect("pool");
    let e = LeanInvoker::builder(pool.clone(), &endpoint)
        .credentials_provider(SharedCredentialsProvider::new(creds(false)))
        .build()
        .expect_err("no region");
    assert_eq!(e.field(), "region");
    let e = LeanInvoker::builder(pool.clone(), &endpoint)
        .region(REGION)
        .build()
        .expect_err("no credentials");
    assert_eq!(e.field(), "credentials_provider");
    let e = LeanInvoker::builder(pool, &endpoint)
        .region("us east/1")
        .credentials_provider(SharedCredentialsProvider::new(creds(false)))
        .build()
        .expect_err("bad region");
    assert_eq!(e.field(), "region");
}

#[tokio::test]
async fn prewarm_sends_one_dry_run_shaped_like_the_request_it_is_given() {
    let server = TestServer::start(|_, _| response(204, &[], "")).await;
    let (_client, lean) = sdk_and_lean(&server, false).await;
    let opened = lean.prewarm(Some("my-fn")).await.expect("prewarm");
    assert_eq!(opened, 1, "min_idle 0 still opens one connection");
    let shaped = InvokeRequest::new("my-fn", r#"{"n":1}"#)
        .qualifier("live")
        .invocation_type(InvocationType::RequestResponse);
    assert_eq!(lean.prewarm_with(&shaped).await.expect("prewarm_with"), 0);

    let seen = server.requests();
    assert_eq!(seen.len(), 2, "one DryRun per prewarm, nothing else sent");
    for r in &seen {
        assert_eq!(r.headers[header::INVOCATION_TYPE], "DryRun");
        assert!(verify_signature(r, &creds(false), REGION));
    }
    assert_eq!(
        (seen[0].path.as_str(), &seen[0].body[..]),
        ("/2015-03-31/functions/my-fn/invocations", &b""[..])
    );
    assert_eq!(
        (seen[1].path.as_str(), &seen[1].body[..]),
        (
            "/2015-03-31/functions/my-fn/invocations?Qualifier=live",
            &br#"{"n":1}"#[..]
        )
    );
}
