//! The fault matrix through the lean Invoke path (`lambda_vpce::lean`): the same faults, the
//! same outcome classes, and the endpoint's execution count for the call. The lean path does
//! not expose its `amz-sdk-invocation-id`, so each test makes one call on its own endpoint and
//! reads the ledger's only new id.
//!
//! | fault | class | executions |
//! |---|---|---|
//! | none | ok | 1 |
//! | idle FIN / RST before checkout | ok | 1 |
//! | RST / FIN after the request | may have executed | 1 |
//! | stall forever | may have executed + timeout | 1 |
//! | garbage, oversized headers, truncated body | may have executed | 1 |
//! | 500 / 502 | service error, 1 request | 0 |
//! | 429 `Retry-After: 1` | retried after ≥ 1 s, ok | 1 |
//! | DNS failure, refused, unknown CA | not sent | 0 |
//! | payload over 6 MB (sync) / 1 MB (Event), bad name | refused before sending | 0 requests |
#![cfg(feature = "local")]

mod support;

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use lambda_vpce::local::{CloseKind, LocalEndpoint};
use lambda_vpce::wire::{self, InvocationType};
use lambda_vpce::{lean::InvokeRequest, lean::LeanInvoker, pool::PoolBuilder, FnResolver};
use support::{client_with, http1_endpoint, wait_until, Class, ClientOpts};

const PAYLOAD: &str = r#"{"fault":"lean"}"#;
const WAIT: Duration = Duration::from_secs(10);

struct Outcome {
    class: Class,
    timeout: bool,
    tls: bool,
    dns: bool,
    invalid: bool,
    /// The error, or the response payload of an ok call.
    message: String,
    executions: u32,
}

/// [`http1_endpoint`], shared with the tasks a row spawns.
async fn endpoint() -> Arc<LocalEndpoint> {
    Arc::new(http1_endpoint().await)
}

fn lean(ep: &LocalEndpoint, pool: PoolBuilder, opts: &ClientOpts) -> LeanInvoker {
    let c = client_with(ep, pool, opts);
    c.lean_builder()
        .response_timeout(opts.response_timeout)
        .build()
        .expect("lean invoker builds")
}

fn lean_default(ep: &LocalEndpoint) -> LeanInvoker {
    lean(ep, PoolBuilder::new(), &ClientOpts::default())
}

/// One call; its executions are those of the ids the ledger gained meanwhile (at most one).
async fn call(ep: &LocalEndpoint, inv: &LeanInvoker, request: InvokeRequest) -> Outcome {
    let before: HashMap<String, u32> = ep.ledger().snapshot();
    let result = inv.invoke(request).await;
    let after = ep.ledger().snapshot();
    let new: Vec<u32> = after
        .iter()
        .filter(|(id, n)| before.get(*id) != Some(n))
        .map(|(id, n)| n - before.get(id).copied().unwrap_or(0))
        .collect();
    assert!(new.len() <= 1, "one call, at most one id: {new:?}");
    let executions = new.first().copied().unwrap_or(0);
    match result {
        Ok(r) => Outcome {
            class: Class::Ok,
            timeout: false,
            tls: false,
            dns: false,
            invalid: false,
            message: String::from_utf8_lossy(&r.payload).into_owned(),
            executions,
        },
        Err(e) => Outcome {
            class: if e.is_maybe_executed() {
                Class::MaybeExecuted
            } else if e.is_service() {
                Class::Service(e.status().unwrap_or(0))
            } else {
                Class::NotSent
            },
            timeout: e.is_timeout(),
            tls: e.is_tls(),
            dns: e.is_dns(),
            invalid: e.is_invalid_input(),
            message: format!("{e} ({e:?})"),
            executions,
        },
    }
}

fn req() -> InvokeRequest {
    InvokeRequest::new("echo", PAYLOAD)
}

#[tokio::test]
async fn lean_healthy_call_is_ok_once() {
    let ep = endpoint().await;
    let inv = lean_default(&ep);
    let o = call(&ep, &inv, req()).await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.message, PAYLOAD, "the echo came back");
    assert_eq!(o.executions, 1);
}

#[tokio::test]
async fn lean_idle_fin_and_rst_before_checkout_are_survived_once() {
    for reset in [false, true] {
        let ep = endpoint().await;
        let inv = lean_default(&ep);
        assert_eq!(call(&ep, &inv, req()).await.class, Class::Ok);
        if reset {
            ep.faults().idle_reset(Duration::from_millis(200));
            wait_until("idle RST", WAIT, || ep.stats().idle_resets >= 1).await;
        } else {
            ep.faults().idle_close(Duration::from_millis(200));
            wait_until("idle FIN", WAIT, || ep.stats().idle_closes >= 1).await;
        }
        let o = call(&ep, &inv, req()).await;
        assert_eq!(o.class, Class::Ok, "reset={reset}: {}", o.message);
        assert_eq!(o.executions, 1);
    }
}

#[tokio::test]
async fn lean_an_idle_limit_too_large_for_the_clock_never_closes_the_connection() {
    let ep = endpoint().await;
    ep.faults().idle_close(Duration::MAX);
    let inv = lean_default(&ep);
    for reused in [false, true] {
        let out = inv.invoke(req()).await.expect("answered");
        assert_eq!(
            out.connection.reused, reused,
            "one connection carries both calls"
        );
    }
    let stats = ep.stats();
    assert_eq!((stats.idle_closes, stats.requests), (0, 2));
    assert_eq!(inv.pool().stats().opened(), 1);
}

#[tokio::test]
async fn lean_close_after_the_request_may_have_executed_once() {
    for kind in [CloseKind::Reset, CloseKind::Fin] {
        let ep = endpoint().await;
        ep.faults().die_after_request(kind);
        let inv = lean_default(&ep);
        let o = call(&ep, &inv, req()).await;
        assert_eq!(o.class, Class::MaybeExecuted, "{kind:?}: {}", o.message);
        assert_eq!(o.executions, 1);
        assert_eq!(ep.stats().requests, 1, "never resent");
    }
}

#[tokio::test]
async fn lean_stall_forever_times_out_maybe_executed_once() {
    let ep = endpoint().await;
    ep.faults().stall(true);
    let inv = lean_default(&ep);
    let o = call(&ep, &inv, req().timeout(Duration::from_millis(400))).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert!(o.timeout, "{}", o.message);
    assert_eq!(o.executions, 1);
    assert_eq!(ep.stats().requests, 1);
}

#[tokio::test]
async fn lean_broken_responses_may_have_executed_once() {
    let faults: [fn(&LocalEndpoint); 3] = [
        |ep| ep.faults().garbage_response(true),
        |ep| ep.faults().oversized_headers(true),
        |ep| ep.faults().truncate_body(true),
    ];
    for (i, set) in faults.into_iter().enumerate() {
        let ep = endpoint().await;
        set(&ep);
        let inv = lean_default(&ep);
        let o = call(&ep, &inv, req()).await;
        assert_eq!(o.class, Class::MaybeExecuted, "fault {i}: {}", o.message);
        assert_eq!(o.executions, 1);
        assert_eq!(ep.stats().requests, 1);
    }
}

#[tokio::test]
async fn lean_500_and_502_are_service_errors_sent_once() {
    for status in [500u16, 502] {
        let ep = endpoint().await;
        ep.faults().status(status);
        let inv = lean_default(&ep);
        let o = call(&ep, &inv, req()).await;
        assert_eq!(o.class, Class::Service(status), "{}", o.message);
        assert_eq!(o.executions, 0);
        assert_eq!(ep.stats().requests, 1);
    }
}

#[tokio::test]
async fn lean_429_is_retried_after_retry_after_then_runs_once() {
    let ep = endpoint().await;
    ep.faults().status(429);
    ep.faults().retry_after(1);
    let inv = lean_default(&ep);
    let lift = {
        let ep = ep.clone();
        tokio::spawn(async move {
            wait_until("the first 429", WAIT, || ep.stats().requests >= 1).await;
            ep.faults().clear();
        })
    };
    let start = std::time::Instant::now();
    let o = call(&ep, &inv, req()).await;
    let elapsed = start.elapsed();
    lift.await.expect("lift");
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.executions, 1);
    assert_eq!(ep.stats().requests, 2);
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn lean_connect_failures_are_not_sent() {
    let ep = endpoint().await;
    let dns = PoolBuilder::new().resolver(FnResolver(|_h: &str, _p: u16| {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such host"))
    }));
    let o = call(&ep, &lean(&ep, dns, &ClientOpts::default()), req()).await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert!(o.dns, "{}", o.message);

    let untrusted = ClientOpts {
        trust_ca: false,
        ..ClientOpts::default()
    };
    let o = call(&ep, &lean(&ep, PoolBuilder::new(), &untrusted), req()).await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert!(o.tls, "{}", o.message);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let refused = ClientOpts {
        url: Some(format!("https://localhost:{port}")),
        ..ClientOpts::default()
    };
    let o = call(&ep, &lean(&ep, PoolBuilder::new(), &refused), req()).await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert_eq!(ep.stats().requests, 0);
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn lean_refuses_over_limit_payloads_and_bad_names_before_sending() {
    let ep = endpoint().await;
    let inv = lean_default(&ep);
    let sync = wire::MAX_SYNC_PAYLOAD_BYTES;
    let event = wire::MAX_EVENT_PAYLOAD_BYTES;
    let cases = [
        (InvokeRequest::new("echo", vec![b'x'; sync + 1]), Some(sync)),
        (
            InvokeRequest::new("echo", vec![b'x'; event + 1])
                .invocation_type(InvocationType::Event),
            Some(event),
        ),
        (InvokeRequest::new("has space", PAYLOAD), None),
        (
            InvokeRequest::new("echo", PAYLOAD).qualifier("no:colons"),
            None,
        ),
    ];
    for (request, limit) in cases {
        let o = call(&ep, &inv, request).await;
        assert_eq!(o.class, Class::NotSent, "{}", o.message);
        assert!(o.invalid, "{}", o.message);
        if let Some(limit) = limit {
            assert!(o.message.contains(&limit.to_string()), "{}", o.message);
        }
    }
    assert_eq!(ep.stats().requests, 0, "nothing was sent");
}
