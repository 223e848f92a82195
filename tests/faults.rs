//! The fault matrix: each misbehaviour of the connection or the server, one call through the
//! crate's `aws_sdk_lambda::Client`, and two assertions — the outcome class the caller sees
//! (ok / not sent / may have executed / service error) and how many times the endpoint ran the
//! function for that call's `amz-sdk-invocation-id`.
//!
//! | fault | class | executions |
//! |---|---|---|
//! | idle FIN before checkout | ok | 1 |
//! | idle FIN racing the reuse | ok, or not sent (0), or may have executed (≤ 1) | never 2 |
//! | idle RST on a pooled connection | ok | 1 |
//! | RST while the request body is written | may have executed | server saw 1 request |
//! | RST after the request, before the response | may have executed | 1 |
//! | FIN after the request, before the response | may have executed | 1 |
//! | close after N requests | ok | 1 each |
//! | stall forever | may have executed + timeout | 1 |
//! | trickled headers (slow) within / past the deadline | ok / timeout | 1 |
//! | garbage response, oversized headers, truncated body | may have executed | 1 |
//! | 500, 502 | service error, not retried | 0, 1 request |
//! | 429 with `Retry-After: 1` | retried after ≥ 1 s, then ok | 1 |
//! | DNS failure, connection refused | not sent | 0 |
//! | wrong certificate name, unknown CA | not sent, TLS | 0 |
//!
//! `RetryPolicy::SdkDefault` rows show what the crate's default prevents: the SDK resends a
//! request that reached the server, and the function runs once per attempt.
#![cfg(feature = "local")]

mod support;

use support::raw;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use lambda_vpce::local::{CloseKind, LocalEndpoint};
use lambda_vpce::{pool::PoolBuilder, FnResolver, RetryPolicy};
use support::{client, client_with, http1_endpoint, invoke, wait_until, Class, ClientOpts};

const PAYLOAD: &str = r#"{"fault":"matrix"}"#;
const WAIT: Duration = Duration::from_secs(10);

fn fast_timeout(ms: u64) -> ClientOpts {
    ClientOpts {
        response_timeout: Duration::from_millis(ms),
        ..ClientOpts::default()
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

#[tokio::test]
async fn a_healthy_call_is_ok_with_exactly_one_execution() {
    let ep = http1_endpoint().await;
    let c = client(&ep, &ClientOpts::default());
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1);
}

#[tokio::test]
async fn idle_fin_before_checkout_is_survived_with_one_execution() {
    let ep = http1_endpoint().await;
    let c = client(&ep, &ClientOpts::default());
    assert_eq!(invoke(&c, "echo", PAYLOAD).await.class, Class::Ok);
    ep.faults().idle_close(Duration::from_millis(200));
    wait_until("the server's idle FIN", WAIT, || {
        ep.stats().idle_closes >= 1
    })
    .await;
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1, "no SDK retry was needed");
    assert_eq!(ep.stats().connections_accepted, 2, "a fresh connection");
}

#[tokio::test]
async fn idle_fin_racing_the_reuse_never_runs_a_call_twice() {
    let ep = http1_endpoint().await;
    // No learning: every reuse races the server's cutoff, the worst case.
    let c = client_with(
        &ep,
        PoolBuilder::new().learn_idle_limit(false),
        &ClientOpts::default(),
    );
    let limit = Duration::from_millis(150);
    ep.faults().idle_close(limit);
    let mut classes = Vec::new();
    for gap_ms in [
        140u64, 145, 148, 149, 150, 151, 152, 155, 160, 149, 150, 151,
    ] {
        let o = invoke(&c, "echo", PAYLOAD).await;
        let n = o.executions(&ep);
        match o.class {
            Class::Ok => assert_eq!(n, 1, "ok means exactly one execution"),
            Class::NotSent => assert_eq!(n, 0, "not sent means no execution"),
            Class::MaybeExecuted => assert!(n <= 1, "{n} executions"),
            Class::Service(s) => panic!("unexpected HTTP {s}: {}", o.message),
        }
        classes.push((gap_ms, o.class, n));
        tokio::time::sleep(Duration::from_millis(gap_ms)).await;
    }
    assert!(ep.ledger().duplicates().is_empty());
    eprintln!("idle FIN at reuse (gap ms, class, executions): {classes:?}");
}

#[tokio::test]
async fn idle_rst_on_a_pooled_connection_is_survived_with_one_execution() {
    let ep = http1_endpoint().await;
    let c = client(&ep, &ClientOpts::default());
    assert_eq!(invoke(&c, "echo", PAYLOAD).await.class, Class::Ok);
    ep.faults().idle_reset(Duration::from_millis(200));
    wait_until("the server's idle RST", WAIT, || {
        ep.stats().idle_resets >= 1
    })
    .await;
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1);
}

#[tokio::test]
async fn rst_while_the_request_body_is_written_may_have_executed_and_is_not_resent() {
    let server = raw::RawServer::start(raw::Behaviour::ResetAfterHead).await;
    let ep = http1_endpoint().await; // only for credentials and region
    let opts = ClientOpts {
        url: Some(server.url()),
        trust_ca: false,
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let o = invoke(&c, "echo", vec![b'x'; 5 * 1024 * 1024]).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert_eq!(o.attempts.count(), 1, "never resent");
    assert_eq!(server.requests(), 1, "the server saw one request head");
}

#[tokio::test]
async fn rst_after_the_request_before_the_response_may_have_executed_once() {
    let ep = http1_endpoint().await;
    ep.faults().die_after_request(CloseKind::Reset);
    let c = client(&ep, &ClientOpts::default());
    let o = invoke(&c, "echo", vec![b'y'; 512 * 1024]).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1);
}

#[tokio::test]
async fn fin_after_the_request_before_the_response_may_have_executed_once() {
    let ep = http1_endpoint().await;
    ep.faults().die_after_request(CloseKind::Fin);
    let c = client(&ep, &ClientOpts::default());
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1);
}

#[tokio::test]
async fn close_after_n_requests_leaves_every_call_ok_with_one_execution() {
    let ep = http1_endpoint().await;
    ep.faults().max_requests(2);
    let c = client(&ep, &ClientOpts::default());
    for _ in 0..6 {
        let o = invoke(&c, "echo", PAYLOAD).await;
        assert_eq!(o.class, Class::Ok, "{}", o.message);
        assert_eq!(o.executions(&ep), 1);
    }
    assert_eq!(ep.stats().max_requests_closes, 3);
    assert!(ep.ledger().duplicates().is_empty());
}

#[tokio::test]
async fn a_stall_forever_ends_at_the_deadline_as_maybe_executed_once() {
    let ep = http1_endpoint().await;
    ep.faults().stall(true);
    let c = client(&ep, &fast_timeout(400));
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert!(o.timeout, "a timeout: {}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1, "a timed-out invoke is never retried");
}

#[tokio::test]
async fn headers_trickling_within_the_deadline_give_ok_once() {
    let ep = http1_endpoint().await;
    ep.faults().trickle_headers(Duration::from_millis(1));
    let c = client(&ep, &ClientOpts::default());
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
}

#[tokio::test]
async fn headers_trickling_past_the_deadline_time_out_as_maybe_executed_once() {
    let ep = http1_endpoint().await;
    ep.faults().trickle_headers(Duration::from_millis(100));
    let c = client(&ep, &fast_timeout(500));
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert!(o.timeout, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1);
}

async fn response_fault_is_maybe_executed_once(set: impl FnOnce(&LocalEndpoint)) {
    let ep = http1_endpoint().await;
    set(&ep);
    let c = client(&ep, &ClientOpts::default());
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
    assert_eq!(o.attempts.count(), 1);
    assert_eq!(ep.stats().requests, 1);
}

#[tokio::test]
async fn a_non_http_response_may_have_executed_once() {
    response_fault_is_maybe_executed_once(|ep| ep.faults().garbage_response(true)).await;
}

#[tokio::test]
async fn oversized_response_headers_may_have_executed_once() {
    response_fault_is_maybe_executed_once(|ep| ep.faults().oversized_headers(true)).await;
}

#[tokio::test]
async fn a_truncated_body_may_have_executed_once() {
    response_fault_is_maybe_executed_once(|ep| ep.faults().truncate_body(true)).await;
}

async fn server_error_is_not_retried(status: u16) {
    let ep = http1_endpoint().await;
    ep.faults().status(status);
    let c = client(&ep, &ClientOpts::default());
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Service(status), "{}", o.message);
    assert_eq!(o.executions(&ep), 0, "an injected {status} runs nothing");
    assert_eq!(o.attempts.count(), 1, "an Invoke {status} is not retried");
    assert_eq!(ep.stats().requests, 1);
}

#[tokio::test]
async fn a_500_is_a_service_error_seen_once() {
    server_error_is_not_retried(500).await;
}

#[tokio::test]
async fn a_502_is_a_service_error_seen_once() {
    server_error_is_not_retried(502).await;
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_and_then_runs_once() {
    let ep = std::sync::Arc::new(http1_endpoint().await);
    ep.faults().status(429);
    ep.faults().retry_after(1);
    let c = client(&ep, &ClientOpts::default());
    let lift = {
        let ep = ep.clone();
        tokio::spawn(async move {
            wait_until("the first 429", WAIT, || ep.stats().requests >= 1).await;
            ep.faults().clear();
        })
    };
    let start = std::time::Instant::now();
    let o = invoke(&c, "echo", PAYLOAD).await;
    let elapsed = start.elapsed();
    lift.await.expect("lift task");
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.attempts.count(), 2);
    assert_eq!(o.executions(&ep), 1);
    assert!(
        elapsed >= Duration::from_secs(1),
        "the retry waited for Retry-After: {elapsed:?}"
    );
}

#[tokio::test]
async fn a_429_that_persists_ends_throttled_with_no_execution() {
    let ep = http1_endpoint().await;
    ep.faults().status(429);
    ep.faults().retry_after(0);
    let opts = ClientOpts {
        max_attempts: 2,
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Service(429), "{}", o.message);
    assert_eq!(
        o.attempts.count(),
        2,
        "429 is retried: the function did not run"
    );
    assert_eq!(o.executions(&ep), 0);
}

#[tokio::test]
async fn a_dns_failure_is_not_sent_with_no_execution() {
    let ep = http1_endpoint().await;
    let pool = PoolBuilder::new().resolver(FnResolver(|host: &str, _port: u16| {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host}: no such host"),
        ))
    }));
    let opts = ClientOpts {
        max_attempts: 1,
        ..ClientOpts::default()
    };
    let c = client_with(&ep, pool, &opts);
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert!(o.dns, "{}", o.message);
    assert_eq!(o.executions(&ep), 0);
    assert_eq!(ep.stats().connections_accepted, 0);
}

#[tokio::test]
async fn a_refused_connection_is_not_sent_with_no_execution() {
    let ep = http1_endpoint().await;
    let port = closed_port().port();
    let opts = ClientOpts {
        url: Some(format!("https://localhost:{port}")),
        max_attempts: 1,
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert!(o.connect && !o.tls, "{}", o.message);
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn a_refusing_first_address_moves_on_to_the_next_and_runs_once() {
    let ep = http1_endpoint().await;
    let dead = closed_port();
    let live = ep.addr();
    let pool =
        PoolBuilder::new().resolver(FnResolver(move |_h: &str, _p: u16| Ok(vec![dead, live])));
    let c = client_with(&ep, pool, &ClientOpts::default());
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
    assert_eq!(o.executions(&ep), 1);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_as_tls_not_sent() {
    let ep = http1_endpoint().await;
    let live = ep.addr();
    let pool = PoolBuilder::new().resolver(FnResolver(move |_h: &str, _p: u16| Ok(vec![live])));
    let opts = ClientOpts {
        url: Some(format!("https://not-in-the-cert.test:{}", live.port())),
        max_attempts: 1,
        ..ClientOpts::default()
    };
    let c = client_with(&ep, pool, &opts);
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert!(o.tls, "{}", o.message);
    assert_eq!(ep.stats().requests, 0);
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused_as_tls_not_sent() {
    let ep = http1_endpoint().await;
    let opts = ClientOpts {
        trust_ca: false,
        max_attempts: 1,
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert!(o.tls, "{}", o.message);
    assert_eq!(ep.stats().requests, 0);
}

// The SDK's own retry classification, for contrast: what `NeverTwice` prevents.

#[tokio::test]
async fn under_sdk_default_a_dying_server_runs_the_function_once_per_attempt() {
    let ep = http1_endpoint().await;
    ep.faults().die_after_request(CloseKind::Reset);
    let opts = ClientOpts {
        policy: RetryPolicy::SdkDefault,
        max_attempts: 3,
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert_eq!(o.attempts.count(), 3);
    assert_eq!(
        o.executions(&ep),
        3,
        "the SDK's default retries ran one Invoke three times"
    );
}

#[tokio::test]
async fn under_sdk_default_a_500_is_sent_once_per_attempt() {
    let ep = http1_endpoint().await;
    ep.faults().status(500);
    let opts = ClientOpts {
        policy: RetryPolicy::SdkDefault,
        max_attempts: 3,
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Service(500), "{}", o.message);
    assert_eq!(o.attempts.count(), 3);
    assert_eq!(ep.stats().requests, 3);
}

#[tokio::test]
async fn once_the_idle_limit_is_learned_reuse_at_the_limit_is_always_ok() {
    let ep = http1_endpoint().await;
    let c = client(&ep, &ClientOpts::default());
    let limit = Duration::from_millis(600);
    ep.faults().idle_close(limit);
    assert_eq!(invoke(&c, "echo", PAYLOAD).await.class, Class::Ok);
    wait_until("the server's idle FIN", WAIT, || {
        ep.stats().idle_closes >= 1
    })
    .await;
    wait_until("the pool learning the limit", WAIT, || {
        c.pool()
            .stats()
            .origins()
            .iter()
            .any(|h| h.learned_idle_limit().is_some())
    })
    .await;
    for gap_ms in [590u64, 600, 610] {
        let o = invoke(&c, "echo", PAYLOAD).await;
        assert_eq!(o.class, Class::Ok, "{}", o.message);
        assert_eq!(o.executions(&ep), 1);
        tokio::time::sleep(Duration::from_millis(gap_ms)).await;
    }
    let o = invoke(&c, "echo", PAYLOAD).await;
    assert_eq!(o.class, Class::Ok, "{}", o.message);
}
