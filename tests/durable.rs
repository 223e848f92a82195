//! Durable functions and tenant isolation, through the SDK client and the lean path, on the
//! embedded endpoint: Lambda deduplicates a named durable invoke, so a failure that may have
//! executed is retried and still runs the function once; without a name nothing changes.
//!
//! | fault on the first attempt | named durable invoke | without a name |
//! |---|---|---|
//! | die after the request (FIN) | retried: ok, 1 execution, 2 attempts | may have executed, 1 |
//! | truncated response body | retried: ok, 1 execution, 2 attempts | may have executed, 1 |
//! | response timeout (stall) | retried: ok, 1 execution, 2 attempts | may have executed + timeout, 1 |
//! | same name, other payload | 409 `DurableExecutionAlreadyStartedException`, 1 request | — |
#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::local::{Behaviour, CloseKind, FunctionSpec, LocalEndpoint};
use lambda_vpce::{lean::InvokeRequest, lean::LeanInvoker};
use support::{client, invoke_shaped, wait_until, Class, ClientOpts};

const DURABLE: &str = "orders";
const QUALIFIED: &str = "orders:1";
const SLOW: &str = "slow-orders";
const TENANT_FN: &str = "per-tenant";
const PAYLOAD: &str = r#"{"order":12345}"#;
const NAME: &str = "order-12345";
const WAIT: Duration = Duration::from_secs(10);
/// An attempt's deadline in the response-timeout rows, far shorter than the call's.
const ATTEMPT: Duration = Duration::from_millis(400);

/// HTTP/1.1 only: the fault rows use the endpoint's HTTP/1.1 faults.
async fn endpoint() -> LocalEndpoint {
    LocalEndpoint::builder()
        .http2(false)
        .function(FunctionSpec::new(DURABLE, Behaviour::Echo).durable())
        .function(FunctionSpec::new(SLOW, Behaviour::SleepEcho).durable())
        .function(FunctionSpec::new(TENANT_FN, Behaviour::Echo).tenant_isolated())
        .start()
        .await
        .expect("local endpoint starts")
}

fn sdk_opts(response_timeout: Duration) -> ClientOpts {
    ClientOpts {
        response_timeout,
        ..ClientOpts::default()
    }
}

fn lean(ep: &LocalEndpoint, attempt_timeout: Option<Duration>) -> LeanInvoker {
    let c = client(ep, &ClientOpts::default());
    c.lean_builder()
        .response_timeout(WAIT)
        .attempt_timeout(attempt_timeout)
        .build()
        .expect("lean invoker builds")
}

/// The first request meets `fault`; the ones after it find the server well.
#[derive(Clone, Copy, Debug)]
enum Fault {
    DieAfterRequest,
    TruncatedBody,
    ResponseTimeout,
}

impl Fault {
    const ALL: [Fault; 3] = [
        Fault::DieAfterRequest,
        Fault::TruncatedBody,
        Fault::ResponseTimeout,
    ];

    fn arm(self, ep: &LocalEndpoint) {
        let f = ep.faults();
        match self {
            Fault::DieAfterRequest => f.die_after_request(CloseKind::Fin),
            Fault::TruncatedBody => f.truncate_body(true),
            Fault::ResponseTimeout => f.stall(true),
        }
        f.only_next(1);
    }

    fn response_timeout(self) -> Duration {
        match self {
            Fault::ResponseTimeout => ATTEMPT,
            _ => WAIT,
        }
    }
}

#[tokio::test]
async fn a_named_durable_invoke_through_the_sdk_survives_each_fault_and_runs_once() {
    for fault in Fault::ALL {
        let ep = endpoint().await;
        let c = client(&ep, &sdk_opts(fault.response_timeout()));
        fault.arm(&ep);
        let o = invoke_shaped(&c, |i| {
            i.function_name(QUALIFIED)
                .durable_execution_name(NAME)
                .payload(Blob::new(PAYLOAD))
        })
        .await;
        assert_eq!(o.class, Class::Ok, "{fault:?}: {}", o.message);
        let out = o.output.as_ref().expect("an answer");
        assert_eq!(out.payload().map(|p| p.as_ref()), Some(PAYLOAD.as_bytes()));
        assert!(out.durable_execution_arn().is_some(), "{fault:?}");
        assert_eq!(
            o.attempts.count(),
            2,
            "{fault:?}: the fault, then the retry"
        );
        assert_eq!(o.executions(&ep), 1, "{fault:?}");
        assert_eq!(ep.ledger().total(), 1, "{fault:?}");
        assert_eq!(ep.ledger().durable_executions(DURABLE, NAME), 1);
    }
}

#[tokio::test]
async fn a_named_durable_invoke_through_the_lean_path_survives_each_fault_and_runs_once() {
    for fault in Fault::ALL {
        let ep = endpoint().await;
        let inv = lean(&ep, Some(fault.response_timeout()));
        fault.arm(&ep);
        let out = inv
            .invoke(InvokeRequest::new(QUALIFIED, PAYLOAD).durable_execution_name(NAME))
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e} ({e:?})"));
        assert_eq!(out.payload, PAYLOAD, "{fault:?}");
        assert!(out.durable_execution_arn.is_some(), "{fault:?}");
        assert_eq!(out.attempts, 2, "{fault:?}: the fault, then the retry");
        assert_eq!(ep.ledger().total(), 1, "{fault:?}");
        assert_eq!(ep.ledger().durable_executions(DURABLE, NAME), 1);
    }
}

#[tokio::test]
async fn without_a_name_the_same_faults_through_the_sdk_may_have_executed_once_and_are_not_retried()
{
    for fault in Fault::ALL {
        let ep = endpoint().await;
        let c = client(&ep, &sdk_opts(fault.response_timeout()));
        fault.arm(&ep);
        let o = invoke_shaped(&c, |i| {
            i.function_name(QUALIFIED).payload(Blob::new(PAYLOAD))
        })
        .await;
        assert_eq!(o.class, Class::MaybeExecuted, "{fault:?}: {}", o.message);
        assert_eq!(o.attempts.count(), 1, "{fault:?}: never resent");
        assert_eq!(o.executions(&ep), 1, "{fault:?}");
    }
}

#[tokio::test]
async fn without_a_name_the_same_faults_through_the_lean_path_may_have_executed_once() {
    for fault in Fault::ALL {
        let ep = endpoint().await;
        let inv = lean(&ep, Some(fault.response_timeout()));
        fault.arm(&ep);
        let e = inv
            .invoke(InvokeRequest::new(QUALIFIED, PAYLOAD))
            .await
            .expect_err("the fault's failure comes back");
        assert!(e.is_maybe_executed(), "{fault:?}: {e} ({e:?})");
        assert_eq!(
            e.is_timeout(),
            matches!(fault, Fault::ResponseTimeout),
            "{fault:?}"
        );
        assert_eq!(ep.ledger().total(), 1, "{fault:?}");
    }
}

#[tokio::test]
async fn the_same_name_and_payload_return_the_first_execution_on_both_paths() {
    let ep = endpoint().await;
    let c = client(&ep, &ClientOpts::default());
    let first = invoke_shaped(&c, |i| {
        i.function_name(QUALIFIED)
            .durable_execution_name(NAME)
            .payload(Blob::new(PAYLOAD))
    })
    .await;
    assert_eq!(first.class, Class::Ok, "{}", first.message);
    let arn = first
        .output
        .as_ref()
        .and_then(|o| o.durable_execution_arn())
        .expect("an ARN")
        .to_owned();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{DURABLE}:1/durable-execution/{NAME}/"
        )),
        "{arn}"
    );
    let again = lean(&ep, None)
        .invoke(InvokeRequest::new(QUALIFIED, PAYLOAD).durable_execution_name(NAME))
        .await
        .expect("the same execution");
    assert_eq!(again.durable_execution_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(again.payload, PAYLOAD);
    assert_eq!(ep.ledger().total(), 1, "one execution for the name");
}

#[tokio::test]
async fn a_running_execution_is_re_attached_to_and_runs_once() {
    let ep = endpoint().await;
    let inv = lean(&ep, None);
    let slow = r#"{"ms":300}"#;
    let request = InvokeRequest::new(format!("{SLOW}:1"), slow).durable_execution_name(NAME);
    let first = tokio::spawn({
        let (inv, request) = (inv.clone(), request.clone());
        async move { inv.invoke(request).await }
    });
    wait_until("the execution to start", WAIT, || ep.ledger().total() == 1).await;
    let second = inv.invoke(request).await.expect("re-attached");
    let first = first.await.expect("joined").expect("the starter's answer");
    assert_eq!(
        (first.payload.as_ref(), second.payload.as_ref()),
        (slow.as_bytes(), slow.as_bytes())
    );
    assert_eq!(first.durable_execution_arn, second.durable_execution_arn);
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn the_same_name_with_another_payload_is_already_started_on_both_paths_and_sent_once() {
    let ep = endpoint().await;
    let c = client(&ep, &ClientOpts::default());
    let inv = lean(&ep, None);
    inv.invoke(InvokeRequest::new(QUALIFIED, PAYLOAD).durable_execution_name(NAME))
        .await
        .expect("started");
    let e = inv
        .invoke(InvokeRequest::new(QUALIFIED, r#"{"order":2}"#).durable_execution_name(NAME))
        .await
        .expect_err("another payload");
    assert!(e.is_durable_execution_already_started(), "{e:?}");
    assert_eq!(e.status(), Some(409));
    let requests = ep.stats().requests;
    let attempts = support::Attempts::default();
    let sdk = c
        .client()
        .invoke()
        .function_name(QUALIFIED)
        .durable_execution_name(NAME)
        .payload(Blob::new(r#"{"order":3}"#))
        .customize()
        .interceptor(attempts.clone())
        .send()
        .await
        .expect_err("another payload");
    assert!(sdk
        .as_service_error()
        .is_some_and(|e| e.is_durable_execution_already_started_exception()));
    assert_eq!(attempts.count(), 1, "never retried");
    assert_eq!(ep.stats().requests, requests + 1);
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn an_unqualified_invoke_of_a_durable_function_is_refused_as_lambda_refuses_it() {
    let ep = endpoint().await;
    let e = lean(&ep, None)
        .invoke(InvokeRequest::new(DURABLE, PAYLOAD).durable_execution_name(NAME))
        .await
        .expect_err("unqualified");
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.error_code(), Some("InvalidParameterValueException"));
    assert_eq!(
        e.message(),
        Some("You cannot invoke a durable function using an unqualified ARN.")
    );
    let qualified = lean(&ep, None)
        .invoke(InvokeRequest::new(DURABLE, PAYLOAD).qualifier("1"))
        .await
        .expect("qualified by ?Qualifier=");
    assert!(
        qualified.durable_execution_arn.is_none(),
        "no name, no deduplication"
    );
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn a_tenant_isolated_function_requires_a_tenant_and_the_ledger_records_it() {
    let ep = endpoint().await;
    let inv = lean(&ep, None);
    let e = inv
        .invoke(InvokeRequest::new(TENANT_FN, PAYLOAD))
        .await
        .expect_err("no tenant");
    assert_eq!(
        (e.status(), e.error_code()),
        (Some(400), Some("InvalidParameterValueException"))
    );
    assert_eq!(ep.ledger().total(), 0);
    inv.invoke(InvokeRequest::new(TENANT_FN, PAYLOAD).tenant_id("blue"))
        .await
        .expect("lean with a tenant");
    let c = client(&ep, &ClientOpts::default());
    let o = invoke_shaped(&c, |i| {
        i.function_name(TENANT_FN)
            .tenant_id("green team")
            .payload(Blob::new(PAYLOAD))
    })
    .await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(
        ep.ledger().tenants(&o.call_id()),
        vec!["green team".to_owned()]
    );
    let mut all: Vec<String> = ep
        .ledger()
        .snapshot()
        .keys()
        .flat_map(|id| ep.ledger().tenants(id))
        .collect();
    all.sort();
    assert_eq!(all, ["blue", "green team"]);
}

#[tokio::test]
async fn a_bad_name_or_tenant_is_refused_before_sending_on_both_paths() {
    let ep = endpoint().await;
    let inv = lean(&ep, None);
    for (request, field) in [
        (
            InvokeRequest::new(QUALIFIED, PAYLOAD).durable_execution_name("has space"),
            "durable_execution_name",
        ),
        (
            InvokeRequest::new(QUALIFIED, PAYLOAD).durable_execution_name("x".repeat(65)),
            "durable_execution_name",
        ),
        (
            InvokeRequest::new(TENANT_FN, PAYLOAD).tenant_id(""),
            "tenant_id",
        ),
        (
            InvokeRequest::new(TENANT_FN, PAYLOAD).tenant_id("semi;colon"),
            "tenant_id",
        ),
    ] {
        let e = inv.invoke(request).await.expect_err("refused");
        assert!(e.is_invalid_input(), "{e:?}");
        let source = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<lambda_vpce::BuildError>())
            .expect("a BuildError");
        assert_eq!(source.field(), field);
    }
    let c = client(&ep, &ClientOpts::default());
    let o = invoke_shaped(&c, |i| {
        i.function_name(QUALIFIED)
            .durable_execution_name("dot.name")
            .payload(Blob::new(PAYLOAD))
    })
    .await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert_eq!(ep.stats().requests, 0, "nothing reached the server");
}
