//! HTTP/2 faults of the embedded endpoint (real TLS, ALPN `h2`) through the SDK client and the
//! lean path, SDK retries off: what the server proves it never processed is resent by the pool
//! and runs once; what it may have processed stays "may have executed" and runs at most once.
#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use lambda_vpce::lean::InvokeRequest;
use lambda_vpce::local::{AbruptGoaway, LocalEndpoint, RefuseStreams, H2_INTERNAL_ERROR};
use lambda_vpce::pool::{PoolBuilder, Protocol};
use lambda_vpce::LambdaVpce;
use support::{invoke, Class, ClientOpts, Outcome};

/// The crate's client over HTTP/2 to `ep`, SDK retries off.
fn h2_client(ep: &LocalEndpoint, pool: PoolBuilder) -> LambdaVpce {
    let opts = ClientOpts {
        max_attempts: 1,
        ..ClientOpts::default()
    };
    support::client_with(ep, pool.protocol(Protocol::Http2), &opts)
}

async fn endpoint() -> LocalEndpoint {
    LocalEndpoint::start().await.expect("endpoint starts")
}

/// `n` invokes of `echo` at once through the SDK client.
async fn invokes_at_once(c: &LambdaVpce, n: usize) -> Vec<Outcome> {
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { invoke(&c, "echo", format!("{{\"i\":{i}}}")).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for call in calls {
        out.push(call.await.expect("the call's task ends"));
    }
    out
}

fn assert_all_ok_and_each_ran_once(ep: &LocalEndpoint, outcomes: &[Outcome]) {
    for o in outcomes {
        assert_eq!(o.class, Class::Ok, "{}", o.message);
        assert_eq!(o.attempts.count(), 1, "no SDK retry");
        assert_eq!(ep.ledger().executions(&o.call_id()), 1);
    }
    assert!(ep.ledger().duplicates().is_empty());
}

#[tokio::test]
async fn refused_streams_are_resent_by_the_pool_and_every_call_runs_once() {
    let ep = endpoint().await;
    ep.faults().h2_refuse(RefuseStreams::EveryNth(2));
    let c = h2_client(&ep, PoolBuilder::new());
    let outcomes = invokes_at_once(&c, 20).await;
    assert_all_ok_and_each_ran_once(&ep, &outcomes);
    assert!(ep.stats().h2_streams_refused > 0);
    assert!(c.pool().stats().unsent_resends() >= ep.stats().h2_streams_refused);
}

#[tokio::test]
async fn a_server_that_closes_after_n_streams_like_nginx_fails_no_call() {
    let ep = endpoint().await;
    ep.faults().h2_close_after_streams(5);
    let c = h2_client(&ep, PoolBuilder::new());
    for _ in 0..3 {
        let outcomes = invokes_at_once(&c, 24).await;
        assert_all_ok_and_each_ran_once(&ep, &outcomes);
    }
    let stats = ep.stats();
    assert!(
        stats.h2_streams_refused + stats.h2_goaways_sent > 0,
        "the server refused or sent streams away: {stats:?}"
    );
}

#[tokio::test]
async fn repeated_graceful_drains_under_load_fail_no_call() {
    let ep = endpoint().await;
    ep.faults().latency(Duration::from_millis(20));
    let c = h2_client(&ep, PoolBuilder::new());
    for _ in 0..4 {
        let calls = tokio::spawn({
            let c = c.clone();
            async move { invokes_at_once(&c, 48).await }
        });
        support::wait_until("streams in flight", Duration::from_secs(10), || {
            ep.ledger().total() > 0
        })
        .await;
        ep.drain_connections();
        let outcomes = calls.await.expect("the calls end");
        assert_all_ok_and_each_ran_once(&ep, &outcomes);
        ep.ledger().clear();
    }
}

#[tokio::test]
async fn an_abrupt_goaway_runs_nothing_twice_and_fails_only_what_may_have_run() {
    let ep = endpoint().await;
    ep.faults().latency(Duration::from_millis(200));
    ep.faults()
        .h2_abrupt_goaway(AbruptGoaway::new(3, H2_INTERNAL_ERROR));
    let c = h2_client(&ep, PoolBuilder::new());
    let outcomes = invokes_at_once(&c, 8).await;
    for o in &outcomes {
        let ran = ep.ledger().executions(&o.call_id());
        match o.class {
            Class::Ok => assert_eq!(ran, 1),
            Class::MaybeExecuted => assert!(ran <= 1, "{}", o.message),
            ref other => panic!("unexpected {other:?}: {}", o.message),
        }
        assert_eq!(o.attempts.count(), 1, "no SDK retry");
    }
    assert!(ep.ledger().duplicates().is_empty());
}

#[tokio::test]
async fn a_stream_reset_mid_response_may_have_executed_and_ran_once() {
    let ep = endpoint().await;
    ep.faults().h2_reset_mid_response(true);
    let c = h2_client(&ep, PoolBuilder::new());
    let o = invoke(&c, "echo", vec![b'x'; 64 * 1024]).await;
    assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
    assert_eq!(ep.ledger().executions(&o.call_id()), 1);
    assert_eq!(o.attempts.count(), 1);
}

#[tokio::test]
async fn three_hundred_slow_invokes_against_a_128_stream_server_open_three_connections() {
    let ep = LocalEndpoint::builder()
        .h2_max_concurrent_streams(128)
        .start()
        .await
        .expect("endpoint starts");
    ep.faults().latency(Duration::from_millis(50));
    let c = h2_client(&ep, PoolBuilder::new());
    let outcomes = invokes_at_once(&c, 300).await;
    assert_all_ok_and_each_ran_once(&ep, &outcomes);
    let origin = c.pool().stats().origins()[0].clone();
    assert_eq!(origin.h2_peer_max_streams(), Some(128));
    assert!(origin.opened() >= 3, "128 streams a connection: {origin:?}");
}

#[tokio::test]
async fn the_lean_path_survives_refused_streams_and_nginx_like_closes_running_each_call_once() {
    let ep = endpoint().await;
    ep.faults().h2_refuse(RefuseStreams::EveryNth(3));
    ep.faults().h2_close_after_streams(7);
    let c = h2_client(&ep, PoolBuilder::new());
    let lean = c.lean().expect("lean invoker");
    let calls: Vec<_> = (0..40)
        .map(|i| {
            let lean = lean.clone();
            tokio::spawn(async move {
                lean.invoke(InvokeRequest::new("echo", format!("{{\"i\":{i}}}")))
                    .await
            })
        })
        .collect();
    for call in calls {
        let out = call.await.expect("the call's task ends").expect("ok");
        assert_eq!(out.status_code, 200);
    }
    assert_eq!(ep.ledger().total(), 40, "each ran once");
    assert!(ep.ledger().duplicates().is_empty());
    assert!(c.pool().stats().unsent_resends() > 0);
}
