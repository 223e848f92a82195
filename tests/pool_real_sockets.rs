//! The pool on real sockets against the embedded endpoint's misbehaviours, through the SDK
//! client with its retries off: idle gaps swept across the server's cutoff, RST on idle,
//! close after N requests, a refusing first address. These are HTTP/1.1 faults, so the
//! endpoint here offers HTTP/1.1 only (the clients keep the pool's default protocol and
//! negotiate it); the HTTP/2 counterparts are in `tests/http2_faults.rs`.
#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::pool::CloseReason;
use lambda_vpce::FnResolver;
use support::{block_until, client_for, http1_endpoint, Attempts};

/// The server's idle cutoff in the sweep (above the pool's 500 ms floor for learning).
const CUTOFF: Duration = Duration::from_millis(600);

#[tokio::test]
async fn idle_gaps_swept_across_the_servers_cutoff_never_fail_once_a_close_was_seen() {
    let ep = http1_endpoint().await;
    ep.faults().idle_close(CUTOFF);
    let ids = Attempts::default();
    let vpce = client_for(&ep, 1, |p| p);
    let lambda = ids.attach(vpce.client());
    lambda
        .invoke()
        .function_name("echo")
        .send()
        .await
        .expect("first call");
    let mut failures_after_learning = Vec::new();
    let mut failures_before = 0;
    let mut ok = 0;
    for round in 0..2 {
        for offset in -5i64..=5 {
            let gap = CUTOFF.as_millis() as i64 + offset;
            tokio::time::sleep(Duration::from_millis(gap as u64)).await;
            let learned = vpce.pool().stats().origins()[0]
                .learned_idle_limit()
                .is_some();
            match lambda
                .invoke()
                .function_name("echo")
                .payload(Blob::new("x"))
                .send()
                .await
            {
                Ok(_) => {
                    ok += 1;
                    assert_eq!(
                        ep.ledger().executions(&ids.last()),
                        1,
                        "exactly one execution"
                    );
                }
                Err(e) if learned => failures_after_learning.push((round, gap, format!("{e:?}"))),
                Err(_) => failures_before += 1,
            }
        }
    }
    let host = vpce.pool().stats().origins()[0].clone();
    println!(
        "ok={ok} failures_before_learning={failures_before} learned={:?} effective={:?} opened={} reused={}",
        host.learned_idle_limit(),
        host.effective_idle_limit(),
        host.opened(),
        host.reused()
    );
    assert!(
        host.learned_idle_limit().is_some(),
        "the pool saw the server close and learned"
    );
    assert!(
        failures_after_learning.is_empty(),
        "{failures_after_learning:?}"
    );
    assert!(
        failures_before <= 1,
        "at most the one race that teaches the pool"
    );
    assert_eq!(ep.ledger().duplicates(), vec![]);
}

#[tokio::test]
async fn a_reset_on_an_idle_pooled_connection_costs_nothing_but_a_new_connection() {
    // The server runs on its own runtime; this test's runtime has one thread, so while it
    // blocks below the pool's connection task cannot see the reset before the next checkout:
    // the connection is still idle in the pool, and only the peek before reuse finds it gone.
    let ep = &LocalEndpoint::builder()
        .http2(false)
        .worker_threads(2)
        .start()
        .await
        .expect("endpoint starts");
    ep.faults().idle_reset(Duration::from_millis(100));
    let vpce = client_for(ep, 1, |p| p);
    vpce.client()
        .invoke()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    // `connections_closed` counts after the RST left the server's socket.
    block_until("the server's idle reset", Duration::from_secs(5), || {
        ep.stats().connections_closed == 1
    });
    assert_eq!(ep.stats().idle_resets, 1);
    assert_eq!(
        vpce.pool().stats().idle(),
        1,
        "the pool has not seen the reset"
    );
    vpce.client()
        .invoke()
        .function_name("echo")
        .send()
        .await
        .expect("a fresh connection");
    let stats = vpce.pool().stats();
    assert_eq!(stats.opened(), 2);
    assert_eq!(
        stats.closed(CloseReason::Error) + stats.closed(CloseReason::ClosedByServer),
        1
    );
    // The peek closed it (as closed by the server), not a failed send (an error).
    assert_eq!(stats.closed(CloseReason::ClosedByServer), 1);
    assert_eq!(
        stats.unsent_resends(),
        0,
        "nothing was sent on the reset connection"
    );
    assert_eq!(ep.ledger().total(), 2);
}

#[tokio::test]
async fn a_server_closing_after_n_requests_never_fails_a_call() {
    let ep = http1_endpoint().await;
    ep.faults().max_requests(3);
    let vpce = client_for(&ep, 1, |p| p);
    for _ in 0..10 {
        vpce.client()
            .invoke()
            .function_name("echo")
            .send()
            .await
            .expect("no failure");
    }
    assert_eq!(ep.ledger().total(), 10);
    assert_eq!(vpce.pool().stats().opened(), 4);
}

#[tokio::test]
async fn a_refusing_first_address_moves_on_to_the_next_one() {
    let ep = http1_endpoint().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refusing = closed.local_addr().unwrap();
    drop(closed);
    let good = ep.addr();
    let vpce = client_for(&ep, 1, |p| {
        p.resolver(FnResolver(move |_host: &str, _port: u16| {
            Ok(vec![refusing, good])
        }))
    });
    let out = vpce.client().invoke().function_name("echo").send().await;
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(ep.ledger().total(), 1);
}

#[tokio::test]
async fn a_dns_failure_is_not_sent_and_reaches_no_server() {
    let ep = http1_endpoint().await;
    let vpce = client_for(&ep, 1, |p| {
        p.resolver(FnResolver(|_host: &str, _port: u16| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such host",
            ))
        }))
    });
    let err = vpce
        .client()
        .invoke()
        .function_name("echo")
        .send()
        .await
        .unwrap_err();
    let ours = lambda_vpce::Error::find_in(&err).expect("crate error in chain");
    assert!(ours.is_dns() && ours.is_not_sent(), "{ours:?}");
    assert_eq!(ep.stats().connections_accepted, 0);
}
