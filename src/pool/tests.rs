//! Pool behaviour under paused tokio time, against an in-memory server.

mod addresses;
mod fake;
mod fake_h2;
mod h2;
mod h2_cancel;

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use fake::{call, calls_at_once, pool_routed, pool_with, request, run_spawned_tasks};
use tokio::time::{advance, Instant};

use super::config::MAINTENANCE_INTERVAL;
use super::{CloseReason, RequestOptions};

const MS: Duration = Duration::from_millis(1);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn a_connection_idle_less_than_the_timeout_is_reused() {
    let (pool, server) = pool_with(|b| b.idle_timeout(secs(5)));
    assert!(!call(&pool).await.unwrap().reused);
    advance(secs(4)).await;
    let second = call(&pool).await.unwrap();
    assert!(second.reused);
    assert_eq!(second.idle_before, secs(4));
    assert_eq!(server.dials.load(SeqCst), 1);
    assert_eq!(pool.stats().reused(), 1);
}

#[tokio::test(start_paused = true)]
async fn idle_connection_past_timeout_is_never_reused() {
    let (pool, server) = pool_with(|b| b.idle_timeout(secs(5)));
    call(&pool).await.unwrap();
    advance(secs(5)).await;
    let info = call(&pool).await.unwrap();
    assert!(!info.reused);
    assert_eq!(server.dials.load(SeqCst), 2);
    assert_eq!(pool.stats().closed(CloseReason::IdleTimeout), 1);
}

#[tokio::test(start_paused = true)]
async fn a_connection_past_its_lifetime_is_closed_not_reused() {
    let (pool, server) = pool_with(|b| b.idle_timeout(secs(60)).max_lifetime(secs(10)));
    call(&pool).await.unwrap();
    for _ in 0..3 {
        advance(secs(3)).await;
        call(&pool).await.unwrap();
    }
    assert_eq!(
        server.dials.load(SeqCst),
        1,
        "9 s old: still within its lifetime"
    );
    advance(secs(2)).await;
    assert!(!call(&pool).await.unwrap().reused);
    assert_eq!(pool.stats().closed(CloseReason::MaxLifetime), 1);
}

#[tokio::test(start_paused = true)]
async fn after_one_idle_close_by_the_server_the_pool_never_races_its_cutoff() {
    let (pool, server) = pool_with(|b| b.idle_timeout(secs(20)));
    server.set(|b| b.idle_close = Some(secs(2)));
    call(&pool).await.unwrap();
    // The server closes the idle connection at 2 s; the pool sees it go and learns. (A paused
    // clock's sleep runs every timer in order, so the close is seen at exactly 2 s.)
    tokio::time::sleep(secs(3)).await;
    let stats = pool.stats();
    let host = &stats.origins()[0];
    assert_eq!(host.learned_idle_limit(), Some(secs(2)));
    assert!(host.effective_idle_limit().unwrap() < secs(2));
    assert_eq!(stats.closed(CloseReason::ClosedByServer), 1);
    // Idle gaps swept across the cutoff: every call succeeds, and none is sent on a
    // connection idle past the learned limit.
    let effective = host.effective_idle_limit().unwrap();
    let mut gap = Duration::from_millis(1990);
    while gap <= Duration::from_millis(2010) {
        call(&pool).await.unwrap();
        advance(gap).await;
        let info = call(&pool)
            .await
            .expect("no call fails near the server's cutoff");
        assert!(
            !info.reused || info.idle_before < effective,
            "reused after {:?}",
            info.idle_before
        );
        gap += MS;
    }
    assert_eq!(server.requests.load(SeqCst), 43);
}

#[tokio::test(start_paused = true)]
async fn a_keep_alive_timeout_header_limits_reuse_before_any_close() {
    let (pool, server) = pool_with(|b| b.idle_timeout(secs(20)));
    server.set(|b| b.keep_alive = Some("timeout=2, max=100"));
    call(&pool).await.unwrap();
    let host = pool.stats().origins()[0].clone();
    assert_eq!(host.announced_idle_limit(), Some(secs(2)));
    assert_eq!(
        host.effective_idle_limit(),
        Some(Duration::from_millis(1800))
    );
    advance(Duration::from_millis(1900)).await;
    assert!(!call(&pool).await.unwrap().reused);
    assert_eq!(pool.stats().closed(CloseReason::AnnouncedIdleLimit), 1);
}

#[tokio::test(start_paused = true)]
async fn a_keep_alive_max_closes_the_connection_when_its_budget_is_spent() {
    let (pool, server) = pool_with(|b| b);
    server.set(|b| b.keep_alive = Some("timeout=5, max=2"));
    call(&pool).await.unwrap(); // budget: 2 more
    call(&pool).await.unwrap(); // budget: 2 more (each response renews it)
    server.set(|b| b.keep_alive = Some("timeout=5, max=0"));
    call(&pool).await.unwrap(); // the server says: no more
    assert_eq!(pool.stats().closed(CloseReason::RequestLimit), 1);
    assert_eq!(pool.stats().idle(), 0);
    assert!(!call(&pool).await.unwrap().reused);
    assert_eq!(server.dials.load(SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn learning_can_be_turned_off() {
    let (pool, server) = pool_with(|b| b.learn_idle_limit(false));
    server.set(|b| b.keep_alive = Some("timeout=2"));
    call(&pool).await.unwrap();
    assert_eq!(pool.stats().origins()[0].announced_idle_limit(), None);
}

#[tokio::test(start_paused = true)]
async fn prewarm_opens_min_idle_connections_and_maintenance_keeps_them() {
    let (pool, server) = pool_with(|b| b.min_idle(2).idle_timeout(secs(5)));
    let uri: http::Uri = "https://lambda.test/".parse().unwrap();
    assert_eq!(pool.prewarm_uri(&uri, 2).await.unwrap(), 2);
    assert_eq!(pool.stats().idle(), 2);
    let first = call(&pool).await.unwrap();
    assert!(
        !first.reused,
        "a prewarmed connection has carried no request yet"
    );
    assert_eq!(
        server.dials.load(SeqCst),
        2,
        "the call used a prewarmed connection"
    );
    // Past the idle timeout the maintenance task reaps both and opens two new ones.
    advance(secs(6)).await;
    run_spawned_tasks().await;
    let stats = pool.stats();
    assert_eq!(stats.idle(), 2);
    assert_eq!(stats.closed(CloseReason::IdleTimeout), 2);
    assert_eq!(server.dials.load(SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn two_prewarms_at_once_open_min_idle_connections_between_them_not_each() {
    // The default protocol offers HTTP/2; the fake server answers HTTP/1.1, so each prewarm
    // first opens one connection to learn that.
    let (pool, server) = pool_with(|b| b.min_idle(3));
    let uri: http::Uri = "https://lambda.test/".parse().unwrap();
    let (a, b) = tokio::join!(pool.prewarm_uri(&uri, 3), pool.prewarm_uri(&uri, 3));
    assert_eq!(server.dials.load(SeqCst), 3, "three connections in all");
    assert_eq!(
        pool.stats().idle(),
        3,
        "both returned when all three were open"
    );
    assert_eq!(a.unwrap(), 3, "the first found none open");
    assert!(b.unwrap() <= 3);
}

#[tokio::test(start_paused = true)]
async fn a_maintenance_tick_inside_a_prewarm_opens_min_idle_connections_between_them() {
    let (pool, server) = pool_with(|b| b.min_idle(3));
    let uri: http::Uri = "https://lambda.test/".parse().unwrap();
    let prewarm = pool.prewarm_uri(&uri, 3);
    tokio::pin!(prewarm);
    // Polled once by hand: it starts its first connect (to learn whether the server speaks
    // HTTP/2) and maintenance, then is not polled again until the end.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(std::future::Future::poll(prewarm.as_mut(), &mut cx).is_pending());
    // That connect ends (HTTP/1.1), and a maintenance tick runs before the prewarm resumes.
    run_spawned_tasks().await;
    advance(MAINTENANCE_INTERVAL).await;
    run_spawned_tasks().await;
    let opened = prewarm.await.unwrap();
    run_spawned_tasks().await;
    assert_eq!(server.dials.load(SeqCst), 3, "three connections in all");
    assert_eq!(
        opened, 3,
        "the prewarm waited for maintenance's two as well"
    );
    assert_eq!(pool.stats().idle(), 3);
}

#[test]
fn a_pool_first_called_outside_a_runtime_still_refills_min_idle() {
    let (pool, server) = pool_with(|b| b.min_idle(2));
    // The call's future is made (and dropped) where no runtime runs.
    drop(pool.send(request()));
    paused_runtime().block_on(async {
        call(&pool).await.unwrap();
        advance(secs(1)).await;
        run_spawned_tasks().await;
        assert_eq!(
            server.dials.load(SeqCst),
            2,
            "maintenance opened the second"
        );
    });
}

#[test]
fn maintenance_outlives_the_runtime_that_first_used_the_pool() {
    let (pool, server) = pool_with(|b| b.min_idle(2));
    paused_runtime().block_on(async {
        call(&pool).await.unwrap();
        advance(secs(1)).await;
        run_spawned_tasks().await;
    });
    // That runtime is gone, and with it its tasks: maintenance and the connections' drivers.
    let before = server.dials.load(SeqCst);
    assert_eq!(before, 2);
    paused_runtime().block_on(async {
        call(&pool).await.unwrap();
        advance(secs(1)).await;
        run_spawned_tasks().await;
        assert_eq!(
            pool.stats().idle(),
            2,
            "maintenance runs again, on the runtime now in use"
        );
        assert!(server.dials.load(SeqCst) > before);
    });
}

/// A current-thread runtime with its clock paused, as `#[tokio::test(start_paused = true)]`.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// A pool of one connection with `acquire_timeout`, whose server answers after 10 s, and a
/// call that already holds that connection.
async fn one_connection_busy_for_10s(
    acquire_timeout: Duration,
) -> (
    crate::Pool,
    std::sync::Arc<fake::Server>,
    tokio::task::JoinHandle<Result<crate::pool::ConnectionInfo, crate::Error>>,
) {
    let (pool, server) = pool_with(|b| {
        b.max_connections_per_host(1)
            .acquire_timeout(acquire_timeout)
    });
    server.set(|b| b.delay = secs(10));
    let busy = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    run_spawned_tasks().await;
    (pool, server, busy)
}

#[tokio::test(start_paused = true)]
async fn a_caller_waits_at_most_acquire_timeout_and_is_told_not_sent() {
    let (pool, server, busy) = one_connection_busy_for_10s(secs(1)).await;
    let started = Instant::now();
    let err = call(&pool).await.unwrap_err();
    assert!(
        err.is_pool_exhausted() && err.is_timeout() && err.is_not_sent(),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), secs(1));
    assert_eq!(server.requests.load(SeqCst), 1, "the waiter sent nothing");
    busy.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_first_come_first_served() {
    let (pool, server) = pool_with(|b| b.max_connections_per_host(1));
    server.set(|b| b.delay = secs(1));
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let pool = pool.clone();
        let order = order.clone();
        tasks.push(tokio::spawn(async move {
            call(&pool).await.unwrap();
            order.lock().unwrap().push(i);
        }));
        run_spawned_tasks().await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
    assert_eq!(server.dials.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_full_waiter_queue_fails_at_once_as_pool_exhausted() {
    let (pool, server) = pool_with(|b| b.max_connections_per_host(1).max_waiters_per_host(1));
    server.set(|b| b.delay = secs(10));
    for _ in 0..2 {
        let pool = pool.clone();
        tokio::spawn(async move { call(&pool).await });
        run_spawned_tasks().await;
    }
    let err = call(&pool).await.unwrap_err();
    assert!(
        err.is_pool_exhausted() && !err.is_timeout() && err.is_not_sent(),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_dying_after_reading_the_request_gives_maybe_executed_and_no_resend() {
    let (pool, server) = pool_with(|b| b);
    server.set(|b| b.die_after_request = true);
    let err = call(&pool).await.unwrap_err();
    assert!(err.is_maybe_executed() && !err.is_not_sent(), "{err:?}");
    assert_eq!(
        server.requests.load(SeqCst),
        1,
        "exactly one execution, no resend"
    );
    assert_eq!(pool.stats().closed(CloseReason::Error), 1);
}

#[tokio::test(start_paused = true)]
async fn a_request_handed_back_unsent_goes_out_on_a_new_connection_and_runs_once() {
    let (pool, server) = pool_with(|b| b);
    let first = call(&pool).await.unwrap();
    run_spawned_tasks().await;
    // The server reset the idle connection; the RST waits in the socket, unread. The pool
    // hands the request to that connection, whose driver reads the reset before writing a
    // byte, so hyper gives the request back through `try_send_request`.
    server.reset_silently(0);
    let second = call(&pool).await.unwrap();
    assert_eq!(second.unsent_resends, 1, "{second:?}");
    assert_ne!(second.connection_id, first.connection_id);
    assert!(!second.reused, "resent on a new connection");
    assert_eq!(
        server.requests.load(SeqCst),
        2,
        "each call executed exactly once"
    );
    assert_eq!(server.dials.load(SeqCst), 2);
    let stats = pool.stats();
    assert_eq!(stats.unsent_resends(), 1);
    assert_eq!(stats.closed(CloseReason::ClosedByServer), 1);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_passing_while_waiting_for_the_response_is_maybe_executed() {
    let (pool, server) = pool_with(|b| b);
    server.set(|b| b.delay = secs(30));
    let mut req = request();
    req.extensions_mut()
        .insert(RequestOptions::with_timeout(secs(2)));
    let err = pool.send(req).await.unwrap_err();
    assert!(err.is_timeout() && err.is_maybe_executed(), "{err:?}");
    assert_eq!(server.requests.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_request_timeout_too_large_for_the_clock_means_no_deadline_not_a_panic() {
    let options = RequestOptions::with_timeout(Duration::MAX);
    assert_eq!(options.deadline, None);
    let (pool, server) = pool_with(|b| b);
    server.set(|b| b.delay = secs(30));
    let mut req = request();
    req.extensions_mut().insert(options);
    let response = pool.send(req).await.expect("answered after 30 s");
    assert_eq!(response.status(), 200);
}

#[tokio::test(start_paused = true)]
async fn an_acquire_timeout_too_large_for_the_clock_means_no_limit_not_a_panic() {
    let (pool, _server, busy) = one_connection_busy_for_10s(Duration::MAX).await;
    let started = Instant::now();
    let waiter = call(&pool).await.expect("served once the busy call ends");
    assert!(waiter.reused);
    assert_eq!(
        started.elapsed(),
        secs(20),
        "waited for the busy call, then its own"
    );
    busy.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_refused_connect_is_not_sent_and_reaches_no_server() {
    let (pool, server) = pool_with(|b| b);
    server.refuse_dials.store(1, SeqCst);
    let err = call(&pool).await.unwrap_err();
    assert!(err.is_connect() && err.is_not_sent(), "{err:?}");
    assert_eq!(server.requests.load(SeqCst), 0);
    assert_eq!(pool.stats().origins()[0].connect_failures(), 1);
    call(&pool).await.unwrap();
}

// The cancellation matrix: drop the caller at each await; nothing leaks.

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_waiting_for_a_connection_leaves_no_waiter() {
    let (pool, server) = pool_with(|b| b.max_connections_per_host(1));
    server.set(|b| b.delay = secs(1));
    let busy = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    run_spawned_tasks().await;
    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    run_spawned_tasks().await;
    assert_eq!(pool.stats().origins()[0].waiters(), 1);
    waiting.abort();
    run_spawned_tasks().await;
    assert_eq!(pool.stats().origins()[0].waiters(), 0);
    busy.await.unwrap().unwrap();
    run_spawned_tasks().await;
    let stats = pool.stats();
    assert_eq!(
        (stats.idle(), stats.in_use()),
        (1, 0),
        "the connection went back to the idle stack"
    );
}

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_connecting_leaves_the_connection_to_the_pool() {
    let (pool, server) = pool_with(|b| b.max_connections_per_host(1));
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    *server.dial_gate.lock().unwrap() = Some(gate.clone());
    let caller = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    run_spawned_tasks().await;
    assert_eq!(pool.stats().origins()[0].connecting(), 1);
    caller.abort();
    run_spawned_tasks().await;
    *server.dial_gate.lock().unwrap() = None;
    gate.notify_one();
    run_spawned_tasks().await;
    let stats = pool.stats();
    assert_eq!(
        (
            stats.idle(),
            stats.in_use(),
            stats.origins()[0].connecting()
        ),
        (1, 0, 0)
    );
    assert!(
        !call(&pool).await.unwrap().reused,
        "the finished connect serves the next caller"
    );
    assert_eq!(server.dials.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_awaiting_the_response_closes_the_connection_and_frees_its_slot() {
    let (pool, server) = pool_with(|b| b.max_connections_per_host(1));
    server.set(|b| b.delay = secs(5));
    let caller = tokio::spawn({
        let pool = pool.clone();
        async move { call(&pool).await }
    });
    run_spawned_tasks().await;
    assert_eq!(pool.stats().in_use(), 1);
    caller.abort();
    run_spawned_tasks().await;
    let stats = pool.stats();
    assert_eq!((stats.idle(), stats.in_use()), (0, 0));
    assert_eq!(stats.closed(CloseReason::Abandoned), 1);
    server.set(|b| b.delay = Duration::ZERO);
    call(&pool).await.expect("the slot was freed");
}

#[tokio::test(start_paused = true)]
async fn a_body_dropped_before_its_end_closes_the_connection() {
    let (pool, _server) = pool_with(|b| b);
    let resp = pool.send(request()).await.unwrap();
    drop(resp);
    let stats = pool.stats();
    assert_eq!((stats.idle(), stats.in_use()), (0, 0));
    assert_eq!(stats.closed(CloseReason::Abandoned), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_pool_closes_idle_connections_and_stops_maintenance() {
    let (pool, server) = pool_with(|b| b.min_idle(1));
    call(&pool).await.unwrap();
    let stats_before = pool.stats();
    assert_eq!(stats_before.idle(), 1);
    drop(pool);
    run_spawned_tasks().await;
    advance(secs(10)).await;
    run_spawned_tasks().await;
    assert_eq!(
        server.dials.load(SeqCst),
        1,
        "no refill after the pool is gone"
    );
}

#[tokio::test(start_paused = true)]
async fn plain_http_to_a_non_loopback_host_is_refused_before_sending() {
    let (pool, server) = pool_with(|b| b);
    let req = http::Request::builder()
        .uri("http://lambda.us-east-1.amazonaws.com/")
        .body(aws_smithy_types::body::SdkBody::empty())
        .unwrap();
    let err = pool.send(req).await.unwrap_err();
    assert!(err.is_invalid_input() && err.is_not_sent(), "{err:?}");
    assert_eq!(server.dials.load(SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn over_http2_concurrent_requests_share_one_connection() {
    let (pool, server) = pool_with(|b| {
        b.max_connections_per_host(4)
            .protocol(crate::pool::Protocol::Auto)
    });
    server.h2.store(true, SeqCst);
    server.h2s.set(|b| b.delay = secs(1));
    assert!(!call(&pool).await.unwrap().reused);
    let started = Instant::now();
    for info in calls_at_once(&pool, 10).await {
        assert!(info.unwrap().reused);
    }
    assert_eq!(
        started.elapsed(),
        secs(1),
        "all ten ran at once on the shared connection"
    );
    assert_eq!(server.dials.load(SeqCst), 1);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle(), stats.in_use(), stats.closed_total()),
        (1, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn over_http2_a_cold_burst_opens_one_connection_not_one_per_caller() {
    let (pool, server) = pool_with(|b| b.protocol(crate::pool::Protocol::Auto));
    server.h2.store(true, SeqCst);
    for info in calls_at_once(&pool, 10).await {
        info.unwrap();
    }
    assert_eq!(
        server.dials.load(SeqCst),
        1,
        "the callers waited for one connect"
    );
    let stats = pool.stats();
    assert_eq!((stats.opened(), stats.closed_total()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn over_an_http2_pool_a_cold_burst_to_an_http1_server_opens_a_connection_per_caller() {
    let (pool, server) = pool_with(|b| b.protocol(crate::pool::Protocol::Auto));
    server.set(|b| b.delay = secs(1));
    for info in calls_at_once(&pool, 4).await {
        info.unwrap();
    }
    assert_eq!(
        server.dials.load(SeqCst),
        4,
        "once the first connect proved HTTP/1.1, the waiting callers connected on their own"
    );
}

#[tokio::test(start_paused = true)]
async fn a_closed_http2_connection_is_replaced_not_used() {
    let (pool, server) = pool_with(|b| {
        b.max_lifetime(secs(10))
            .protocol(crate::pool::Protocol::Auto)
    });
    server.h2.store(true, SeqCst);
    call(&pool).await.unwrap();
    advance(secs(11)).await;
    assert!(!call(&pool).await.unwrap().reused);
    assert_eq!(server.dials.load(SeqCst), 2);
    assert_eq!(pool.stats().closed(CloseReason::MaxLifetime), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failing_zonal_name_falls_back_to_the_regional_one_and_returns_after_the_cool_down() {
    let zonal = crate::Endpoint::vpce_zonal(
        "vpce-0123456789abcdef0",
        "abcd1234",
        "us-east-1",
        "us-east-1a",
    )
    .unwrap();
    let regional = zonal.fallback_connect_host().unwrap().to_owned();
    let (pool, server) = pool_routed(std::slice::from_ref(&zonal), |b| b.idle_timeout(secs(1)));
    server
        .refuse_hosts
        .lock()
        .unwrap()
        .push(zonal.connect_host().to_owned());
    let send = || {
        let req = http::Request::builder()
            .uri(format!(
                "{}/2015-03-31/functions/f/invocations",
                zonal.url()
            ))
            .body(aws_smithy_types::body::SdkBody::from("{}"))
            .unwrap();
        let pool = pool.clone();
        async move {
            use http_body_util::BodyExt;
            let resp = pool.send(req).await?;
            resp.into_body().collect().await.map(|_| ())
        }
    };
    for _ in 0..super::ZONAL_FAILURES_BEFORE_FALLBACK {
        send()
            .await
            .expect("a refused zonal connect retries on the regional name at once");
        advance(secs(2)).await; // past idle_timeout: the next call connects again
    }
    assert!(pool.stats().origins()[0].on_zonal_fallback());
    server.dialed_hosts.lock().unwrap().clear();
    send().await.unwrap();
    assert_eq!(
        *server.dialed_hosts.lock().unwrap(),
        vec![regional.clone()],
        "the zonal name is skipped"
    );
    advance(super::ZONAL_FALLBACK_COOLDOWN).await;
    server.refuse_hosts.lock().unwrap().clear();
    server.dialed_hosts.lock().unwrap().clear();
    send().await.unwrap();
    assert_eq!(
        *server.dialed_hosts.lock().unwrap(),
        vec![zonal.connect_host().to_owned()],
        "back to zonal"
    );
    assert!(!pool.stats().origins()[0].on_zonal_fallback());
}

#[tokio::test(start_paused = true)]
async fn over_http2_requests_name_their_target_in_scheme_and_authority_not_a_host_header() {
    let (pool, server) = pool_with(|b| b.protocol(crate::pool::Protocol::Auto));
    server.h2.store(true, SeqCst);
    call(&pool).await.unwrap();
    let targets = server.h2s.targets.lock().unwrap().clone();
    assert_eq!(
        targets,
        [(
            Some("https".to_owned()),
            Some("lambda.test".to_owned()),
            None
        )]
    );
}
