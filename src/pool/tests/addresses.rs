//! One Availability Zone goes dark: raced connects over an endpoint's addresses and their
//! health, under paused time against the in-memory server (`fake::Reach` says how each address
//! answers a connect).

use std::net::SocketAddr;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use tokio::time::{advance, Instant};

use super::fake::{call, calls_at_once, pool_with, run_spawned_tasks, Reach, Server};
use crate::connect::{EJECTION_BACKOFF_FIRST, EJECTION_BACKOFF_MAX};
use crate::pool::{
    CloseReason, Pool, PoolBuilder, DEFAULT_CONNECT_ATTEMPT_DELAY, DEFAULT_CONNECT_TIMEOUT,
};

const A: &str = "10.0.1.10:443";
const B: &str = "10.0.2.10:443";
const C: &str = "10.0.3.10:443";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A pool whose origin (`lambda.test`) resolves to `addrs`, with a new connection for every
/// call that comes 1 s after the previous one (idle timeout 1 s).
fn pool_over(
    addrs: &[&str],
    f: impl FnOnce(PoolBuilder) -> PoolBuilder,
) -> (Pool, std::sync::Arc<Server>) {
    let (pool, server) = pool_with(|b| f(b.idle_timeout(Duration::from_secs(1))));
    server.resolve_to("lambda.test", addrs);
    (pool, server)
}

fn stats_of(pool: &Pool, a: &str) -> crate::pool::AddressStats {
    pool.stats()
        .addresses()
        .iter()
        .find(|s| s.address() == addr(a))
        .cloned()
        .unwrap_or_else(|| panic!("no stats for {a}"))
}

#[tokio::test(start_paused = true)]
async fn a_black_holed_first_address_costs_one_attempt_delay_and_after_its_ejection_nothing() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::BlackHole);
    let started = Instant::now();
    let info = call(&pool).await.unwrap();
    assert_eq!(info.remote_addr, addr(B));
    assert_eq!(
        started.elapsed(),
        DEFAULT_CONNECT_ATTEMPT_DELAY,
        "B was raced after the attempt delay and won"
    );
    // A's attempt runs on in the background until its own connect timeout, then A is ejected.
    advance(DEFAULT_CONNECT_TIMEOUT).await;
    run_spawned_tasks().await;
    let a = stats_of(&pool, A);
    assert!(a.is_ejected() && a.ejections() == 1, "{a:?}");
    assert_eq!(a.last_failure(), Some("timed_out"));
    let dialed = server.dialed_addrs().len();
    let started = Instant::now();
    let info = call(&pool).await.unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "no wait for the ejected address"
    );
    assert!(!info.reused);
    assert_eq!(server.dialed_addrs()[dialed..], [addr(B)]);
}

#[tokio::test(start_paused = true)]
async fn while_the_first_attempt_to_a_black_hole_is_pending_new_connects_start_elsewhere() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::BlackHole);
    call(&pool).await.unwrap();
    // A lags (its attempt lost a race and is still pending): the next connects start on B.
    advance(Duration::from_secs(1)).await;
    let dialed = server.dialed_addrs().len();
    let started = Instant::now();
    let info = call(&pool).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(info.remote_addr, addr(B));
    assert_eq!(server.dialed_addrs()[dialed..], [addr(B)]);
}

#[tokio::test(start_paused = true)]
async fn a_refusing_address_is_ejected_at_once_and_the_next_is_tried_without_delay() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::Refuse);
    let started = Instant::now();
    let info = call(&pool).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(info.remote_addr, addr(B));
    assert_eq!(server.dialed_addrs(), [addr(A), addr(B)]);
    let a = stats_of(&pool, A);
    assert_eq!((a.connect_failures(), a.ejections()), (1, 1));
    assert_eq!(a.last_failure(), Some("refused"));
    assert_eq!(
        pool.stats().origins()[0].connect_failures(),
        0,
        "the connect succeeded"
    );
}

#[tokio::test(start_paused = true)]
async fn a_reset_during_the_tls_handshake_ejects_the_address() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::ResetInHandshake);
    assert_eq!(call(&pool).await.unwrap().remote_addr, addr(B));
    assert_eq!(stats_of(&pool, A).last_failure(), Some("reset"));
    assert!(stats_of(&pool, A).is_ejected());
}

#[tokio::test(start_paused = true)]
async fn a_slow_address_loses_the_race_and_its_late_connection_is_closed_not_pooled() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::Slow(Duration::from_millis(500)));
    let info = call(&pool).await.unwrap();
    assert_eq!(info.remote_addr, addr(B));
    tokio::time::sleep(Duration::from_millis(500)).await;
    run_spawned_tasks().await;
    assert_eq!(server.dials.load(SeqCst), 2, "A's attempt completed too");
    let a = stats_of(&pool, A);
    assert_eq!((a.connects(), a.connections(), a.ejections()), (1, 0, 0));
    assert_eq!(pool.stats().opened(), 1, "only the winner entered the pool");
    assert_eq!(stats_of(&pool, B).connections(), 1);
}

#[tokio::test(start_paused = true)]
async fn when_every_address_is_black_holed_the_call_fails_not_sent_within_the_whole_bound() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::BlackHole);
    server.reach(B, Reach::BlackHole);
    let started = Instant::now();
    let err = call(&pool).await.unwrap_err();
    assert!(err.is_not_sent() && err.is_timeout(), "{err:?}");
    assert_eq!(
        started.elapsed(),
        DEFAULT_CONNECT_TIMEOUT + DEFAULT_CONNECT_ATTEMPT_DELAY,
        "B started one delay after A, and timed out one connect timeout after that"
    );
    run_spawned_tasks().await;
    assert!(stats_of(&pool, A).is_ejected() && stats_of(&pool, B).is_ejected());
    // Every address ejected: all are tried again (never fail closed), and one that answers
    // again serves the call.
    server.reach(B, None);
    let dialed = server.dialed_addrs().len();
    let info = call(&pool).await.unwrap();
    assert_eq!(info.remote_addr, addr(B));
    assert!(server.dialed_addrs()[dialed..].contains(&addr(B)));
    assert!(!stats_of(&pool, B).is_ejected());
}

#[tokio::test(start_paused = true)]
async fn a_black_holed_address_that_comes_back_is_used_again_within_its_backoff() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::BlackHole);
    call(&pool).await.unwrap();
    tokio::time::sleep(DEFAULT_CONNECT_TIMEOUT).await;
    run_spawned_tasks().await;
    assert!(stats_of(&pool, A).is_ejected());
    let ejected_at = Instant::now();
    server.reach(A, None);
    // Within the backoff, connects go to B only.
    advance(EJECTION_BACKOFF_FIRST / 2).await;
    assert_eq!(call(&pool).await.unwrap().remote_addr, addr(B));
    // After it, A is probed (it has the fewest connections) and used again.
    advance(EJECTION_BACKOFF_FIRST / 2).await;
    let info = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    let second = call(&pool).await.unwrap();
    let first = info.await.unwrap().unwrap();
    assert!(
        [first.remote_addr, second.remote_addr].contains(&addr(A)),
        "A serves again {:?} after its ejection",
        ejected_at.elapsed()
    );
    assert!(ejected_at.elapsed() <= EJECTION_BACKOFF_FIRST);
    assert!(!stats_of(&pool, A).is_ejected());
}

#[tokio::test(start_paused = true)]
async fn an_address_that_keeps_failing_is_ejected_for_longer_each_time_up_to_the_bound() {
    let (pool, server) = pool_over(&[A, B], |b| b);
    server.reach(A, Reach::Refuse);
    let mut gaps = Vec::new();
    let mut last = Instant::now();
    let mut before = 0;
    let end = Instant::now() + EJECTION_BACKOFF_MAX * 5;
    while Instant::now() < end {
        call(&pool).await.unwrap();
        let ejections = stats_of(&pool, A).ejections();
        if ejections > before {
            if before > 0 {
                gaps.push(Instant::now().duration_since(last));
            }
            last = Instant::now();
            before = ejections;
        }
        advance(Duration::from_secs(1)).await; // the idle timeout: each call connects
    }
    let s = Duration::from_secs;
    // A probe starts on the first or second connect after the backoff (connects every 1 s
    // here; of two addresses with no connection, every other connect starts on A first).
    assert!(gaps.len() >= 6, "{gaps:?}");
    for (gap, backoff) in gaps
        .iter()
        .zip([s(1), s(2), s(4), s(8), s(16), s(30), s(30)])
    {
        assert!(
            *gap >= backoff && *gap <= backoff + s(2),
            "probed {gap:?} after an ejection of {backoff:?}: {gaps:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn connections_spread_across_the_healthy_addresses() {
    let (pool, server) = pool_over(&[A, B, C], |b| b);
    server.set(|b| b.delay = Duration::from_secs(1));
    for r in calls_at_once(&pool, 6).await {
        r.unwrap();
    }
    for a in [A, B, C] {
        assert_eq!(stats_of(&pool, a).connections(), 2, "{a}");
    }
}

#[tokio::test(start_paused = true)]
async fn one_dark_address_of_three_costs_its_share_of_connections_and_fails_no_call() {
    let (pool, server) = pool_over(&[A, B, C], |b| b);
    server.set(|b| b.delay = Duration::from_millis(10));
    server.reach(B, Reach::BlackHole);
    for r in calls_at_once(&pool, 64).await {
        r.unwrap();
    }
    let (a, b, c) = (stats_of(&pool, A), stats_of(&pool, B), stats_of(&pool, C));
    assert_eq!(b.connections(), 0);
    assert_eq!(a.connections() + c.connections(), pool.stats().idle());
    assert!(
        a.connections().abs_diff(c.connections()) <= 1,
        "{a:?} {c:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_http1_connection_to_an_address_found_dead_is_closed_not_used() {
    let (pool, server) = pool_with(|b| b);
    server.resolve_to("lambda.test", &[A, B]);
    server.resolve_to("other.test", &[A]);
    let info = call(&pool).await.unwrap();
    assert_eq!(info.remote_addr, addr(A));
    // Another origin of the pool, whose name resolves to A alone, finds A refusing: A is
    // ejected, and dead for `lambda.test`, which has B.
    server.reach(A, Reach::Refuse);
    let other = http::Request::builder()
        .uri("https://other.test/2015-03-31/functions/f/invocations")
        .body(aws_smithy_types::body::SdkBody::from("{}"))
        .unwrap();
    let err = pool.send(other).await.unwrap_err();
    assert!(err.is_connect() && err.is_not_sent(), "{err:?}");
    assert!(stats_of(&pool, A).is_dead());
    let info = call(&pool).await.unwrap();
    assert!(!info.reused, "the idle connection to A was not used");
    assert_eq!(info.remote_addr, addr(B));
    assert_eq!(pool.stats().closed(CloseReason::AddressDead), 1);
}

#[tokio::test(start_paused = true)]
async fn an_http2_connection_to_an_address_found_dead_takes_no_new_stream_and_its_calls_finish() {
    let (pool, server) = pool_with(|b| b.h2_connections(1));
    server.h2.store(true, SeqCst);
    server.resolve_to("lambda.test", &[A, B]);
    server.resolve_to("other.test", &[A]);
    server.h2s.set(|b| b.delay = Duration::from_secs(1));
    let in_flight = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    run_spawned_tasks().await;
    server.reach(A, Reach::Refuse);
    let other = http::Request::builder()
        .uri("https://other.test/2015-03-31/functions/f/invocations")
        .body(aws_smithy_types::body::SdkBody::from("{}"))
        .unwrap();
    let err = pool.send(other).await.unwrap_err();
    assert!(err.is_connect() && err.is_not_sent(), "{err:?}");
    let next = call(&pool).await.unwrap();
    assert_eq!(
        next.remote_addr,
        addr(B),
        "no new stream on the connection to A"
    );
    let first = in_flight
        .await
        .unwrap()
        .expect("the call on it keeps its outcome");
    assert_eq!(first.remote_addr, addr(A));
    run_spawned_tasks().await;
    assert_eq!(pool.stats().closed(CloseReason::AddressDead), 1);
}

#[tokio::test(start_paused = true)]
async fn the_only_address_of_a_name_is_never_marked_dead_by_a_failed_connect() {
    let (pool, server) = pool_with(|b| b);
    call(&pool).await.unwrap();
    server.set(|b| b.delay = Duration::from_secs(1));
    let busy = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    run_spawned_tasks().await;
    server.refuse_dials.store(1, SeqCst);
    let err = call(&pool).await.unwrap_err();
    assert!(err.is_connect() && err.is_not_sent(), "{err:?}");
    let stats = pool.stats();
    let only = &stats.addresses()[0];
    assert!(only.is_ejected() && !only.is_dead(), "{only:?}");
    busy.await.unwrap().unwrap();
    server.set(|b| b.delay = Duration::ZERO);
    assert!(
        call(&pool).await.unwrap().reused,
        "its working connection is still used"
    );
}
