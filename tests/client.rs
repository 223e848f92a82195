//! The crate's `aws_sdk_lambda::Client` over TLS through its own pool, against the embedded
//! endpoint: every invoke type, the streaming invoke, the control plane, idle closes, and a
//! server dying mid-call.
#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, InvokeWithResponseStreamResponseEvent, LogType};
use lambda_vpce::local::{CloseKind, LocalEndpoint};
use lambda_vpce::pool::CloseReason;
use support::{client_for, http1_endpoint, wait_until, Attempts};

#[tokio::test]
async fn invoke_works_in_all_three_types_with_qualifier_log_tail_and_client_context() {
    let ep = LocalEndpoint::start().await.unwrap();
    let vpce = client_for(&ep, 1, |p| p);
    let lambda = vpce.client();

    let out = lambda
        .invoke()
        .function_name("echo")
        .qualifier("$LATEST")
        .log_type(LogType::Tail)
        .client_context(base64_json(r#"{"custom":{"k":"v"}}"#))
        .payload(Blob::new(r#"{"hello":"vpce"}"#))
        .send()
        .await
        .expect("sync invoke");
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.payload().unwrap().as_ref(), br#"{"hello":"vpce"}"#);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    assert!(out.log_result().is_some_and(|l| !l.is_empty()));

    let event = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new("{}"))
        .send()
        .await
        .expect("event invoke");
    assert_eq!(event.status_code(), 202);

    let dry = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .expect("dry run");
    assert_eq!(dry.status_code(), 204);

    assert_eq!(
        ep.ledger().total(),
        2,
        "RequestResponse and Event ran; DryRun did not"
    );
    let stats = vpce.pool().stats();
    assert_eq!(
        stats.opened(),
        1,
        "one TLS connection carried all three calls"
    );
    assert_eq!(stats.reused(), 2);
}

#[tokio::test]
async fn a_function_error_comes_back_as_a_normal_response_with_its_error_header() {
    let ep = LocalEndpoint::start().await.unwrap();
    let vpce = client_for(&ep, 1, |p| p);
    let out = vpce
        .client()
        .invoke()
        .function_name("fail")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert!(out.function_error().is_some());
}

#[tokio::test]
async fn an_unknown_function_is_a_typed_resource_not_found_error() {
    let ep = LocalEndpoint::start().await.unwrap();
    let vpce = client_for(&ep, 1, |p| p);
    let err = vpce
        .client()
        .invoke()
        .function_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn the_streaming_invoke_delivers_chunks_then_completes() {
    let ep = LocalEndpoint::start().await.unwrap();
    let vpce = client_for(&ep, 1, |p| p);
    let mut out = vpce
        .client()
        .invoke_with_response_stream()
        .function_name("echo")
        .payload(Blob::new("0123456789abcdef"))
        .send()
        .await
        .expect("stream starts");
    let mut payload = Vec::new();
    let mut completed = false;
    while let Some(event) = out.event_stream.recv().await.expect("stream reads") {
        match event {
            InvokeWithResponseStreamResponseEvent::PayloadChunk(c) => {
                payload.extend_from_slice(c.payload().unwrap().as_ref())
            }
            InvokeWithResponseStreamResponseEvent::InvokeComplete(_) => completed = true,
            _ => {}
        }
    }
    assert!(completed);
    assert_eq!(payload, b"0123456789abcdef");
}

#[tokio::test]
async fn list_functions_and_get_function_work_through_the_pool() {
    let ep = LocalEndpoint::start().await.unwrap();
    let vpce = client_for(&ep, 1, |p| p);
    let list = vpce.client().list_functions().send().await.unwrap();
    let names: Vec<_> = list
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    assert!(names.contains(&"echo"), "{names:?}");
    let got = vpce
        .client()
        .get_function()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.configuration().and_then(|c| c.function_name()),
        Some("echo")
    );
}

#[tokio::test]
async fn a_server_closing_an_idle_connection_is_followed_by_an_invoke_that_runs_exactly_once() {
    // Idle closes are an HTTP/1.1 fault.
    let ep = http1_endpoint().await;
    ep.faults().idle_close(Duration::from_millis(200));
    let ids = Attempts::default();
    let vpce = client_for(&ep, 1, |p| p);
    let lambda = ids.attach(vpce.client());
    lambda.invoke().function_name("echo").send().await.unwrap();
    // Wait (real time: this is a real socket) until the server has closed the idle connection.
    wait_until(
        "the server closing the idle connection",
        Duration::from_secs(5),
        || ep.stats().idle_closes == 1,
    )
    .await;
    let out = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new("again"))
        .send()
        .await;
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(ep.ledger().executions(&ids.last()), 1);
    let stats = vpce.pool().stats();
    assert_eq!(stats.opened(), 2);
    assert_eq!(stats.closed(CloseReason::ClosedByServer), 1);
}

#[tokio::test]
async fn a_server_dying_after_reading_the_request_gives_maybe_executed_and_exactly_one_execution() {
    let ep = LocalEndpoint::start().await.unwrap();
    ep.faults().die_after_request(CloseKind::Fin);
    let ids = Attempts::default();
    // Default SDK retry settings (3 attempts): the never-twice policy must still send it once.
    let vpce = client_for(&ep, 3, |p| p);
    let id = ids.invoke_expecting_maybe_executed(&vpce).await;
    assert_eq!(ep.ledger().executions(&id), 1);
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn with_the_sdk_default_policy_the_same_failure_runs_the_function_again() {
    let ep = LocalEndpoint::start().await.unwrap();
    ep.faults().die_after_request(CloseKind::Fin);
    let vpce = lambda_vpce::LambdaVpce::builder()
        .endpoint_url(&ep.url())
        .add_ca_pem(ep.ca_pem())
        .region(ep.region())
        .credentials(ep.credentials())
        .retry_policy(lambda_vpce::RetryPolicy::SdkDefault)
        .max_attempts(3)
        .build_sync()
        .unwrap();
    let _ = vpce
        .client()
        .invoke()
        .function_name("echo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        ep.ledger().duplicates().len(),
        1,
        "the SDK's own policy ran it more than once"
    );
}

#[tokio::test]
async fn a_throttled_invoke_is_retried_after_retry_after_and_then_succeeds() {
    let ep = LocalEndpoint::start().await.unwrap();
    ep.faults().status(429);
    ep.faults().retry_after(1);
    let vpce = client_for(&ep, 2, |p| p);
    let lambda = vpce.client().clone();
    let started = std::time::Instant::now();
    let call = tokio::spawn(async move { lambda.invoke().function_name("echo").send().await });
    // Let the first attempt be refused, then lift the throttle.
    wait_until("the first attempt", Duration::from_secs(5), || {
        ep.stats().requests >= 1
    })
    .await;
    ep.faults().status(None);
    let out = call.await.unwrap().expect("the retry succeeds");
    assert_eq!(out.status_code(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn prewarm_opens_min_idle_connections_and_one_dry_run_that_runs_nothing() {
    // Over HTTP/1.1 (over HTTP/2 one shared connection satisfies min_idle: `tests/http2_tls.rs`).
    let ep = http1_endpoint().await;
    let vpce = client_for(&ep, 1, |p| p.min_idle(3));
    assert_eq!(vpce.prewarm(Some("echo")).await.expect("prewarm"), 3);
    assert_eq!(
        (ep.stats().connections_accepted, ep.stats().requests),
        (3, 1),
        "three connections, one DryRun"
    );
    assert_eq!(ep.ledger().total(), 0, "the DryRun ran nothing");
    let e = vpce
        .prewarm(Some("no-such-function"))
        .await
        .expect_err("Lambda checks the function");
    assert_eq!(
        (e.status(), e.error_code()),
        (Some(404), Some("ResourceNotFoundException"))
    );
}

#[tokio::test]
async fn prewarm_with_sends_the_applications_own_call_as_a_dry_run() {
    let ep = LocalEndpoint::start().await.unwrap();
    let vpce = client_for(&ep, 1, |p| p);
    let call = |function: &str| {
        vpce.client()
            .invoke()
            .function_name(function)
            .payload(Blob::new(r#"{"k":1}"#))
    };
    assert_eq!(
        vpce.prewarm_with(call("echo")).await.expect("prewarm_with"),
        1
    );
    assert_eq!(ep.stats().requests, 1);
    assert_eq!(ep.ledger().total(), 0, "sent as a DryRun: nothing ran");
    let e = vpce
        .prewarm_with(call("no-such-function"))
        .await
        .expect_err("the call's own function was checked");
    assert_eq!(e.status(), Some(404));
    assert_eq!(ep.ledger().total(), 0);
}

fn base64_json(json: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(json)
}
