//! Peer suite: the crate's client against nginx (Debian `nginx-light`) over HTTPS with a test CA,
//! standing in for Lambda's Invoke API (scripts/peers/nginx-up.sh). nginx closes a keep-alive
//! connection exactly at its `keepalive_timeout` and after `keepalive_requests` requests: the
//! cutoffs every client races. With the SDK's retries off, idle gaps swept across the cutoff
//! must give zero failures.
//!
//! These tests sleep for real between calls: they measure a real server's timing.
//!
//! Run: `scripts/peers/nginx-up.sh && . .peers/nginx/env && cargo test --test peer_nginx -- --ignored`

mod support;

use support::peers;

use std::time::{Duration, Instant};

use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::pool::{CloseReason, HostStats};
use lambda_vpce::{pool::PoolBuilder, LambdaVpce};

const HOW: &str = "scripts/peers/nginx-up.sh && . .peers/nginx/env";
/// Rounds of the idle-gap sweep against the unannounced cutoff.
const SWEEP_ROUNDS: usize = 3;
/// Rounds of the idle-gap sweep against the announced cutoff.
const ANNOUNCED_SWEEP_ROUNDS: usize = 2;
/// Sequential calls against the request limit, in multiples of the limit.
const REQUEST_LIMIT_MULTIPLE: u64 = 10;
/// Concurrent callers (and calls each) against the request limit.
const REQUEST_LIMIT_TASKS: u64 = 8;
const REQUEST_LIMIT_CALLS_PER_TASK: u64 = 40;
/// Concurrent callers (and calls each) against the HTTP/2 server.
const H2_TASKS: u64 = 32;
const H2_CALLS_PER_TASK: u64 = 10;

struct Nginx {
    ca: Vec<u8>,
    keepalive: Duration,
}

fn nginx() -> Nginx {
    let ca_path = peers::require_env("LAMBDA_VPCE_NGINX_CA", HOW);
    let ca = std::fs::read(&ca_path)
        .unwrap_or_else(|e| panic!("peer suite: reading the nginx test CA {ca_path}: {e}"));
    let ms = peers::require_env("LAMBDA_VPCE_NGINX_KEEPALIVE_MS", HOW);
    let ms: u64 = ms.parse().unwrap_or_else(|_| {
        panic!("peer suite: LAMBDA_VPCE_NGINX_KEEPALIVE_MS={ms:?} is not milliseconds")
    });
    Nginx {
        ca,
        keepalive: Duration::from_millis(ms),
    }
}

fn url(var: &str) -> String {
    let url = peers::require_env(var, HOW);
    peers::require_reachable(&url, HOW);
    url
}

/// The crate's client on nginx with the SDK's retries off: every failure shows.
fn client(url: &str, ca: &[u8]) -> LambdaVpce {
    client_with(url, ca, PoolBuilder::new())
}

/// [`client`] on a pool built from `pool`.
fn client_with(url: &str, ca: &[u8], pool: PoolBuilder) -> LambdaVpce {
    LambdaVpce::builder()
        .endpoint_url(url)
        .pool(pool)
        .add_ca_pem(ca)
        .region(peers::REGION)
        .credentials(peers::fake_credentials())
        .max_attempts(1)
        .build_sync()
        .unwrap_or_else(|e| panic!("building the client for {url}: {e}"))
}

/// One Invoke through nginx; a failure comes back as its description with its class.
async fn invoke(lambda: &LambdaVpce) -> Result<(), String> {
    let out = lambda
        .client()
        .invoke()
        .function_name("peer-fn")
        .payload(Blob::new(r#"{"peer":"nginx"}"#))
        .send()
        .await
        .map_err(|e| {
            let verdict = lambda_vpce::Verdict::of_sdk(&e);
            format!("[{verdict}] {}", DisplayErrorContext(&e))
        })?;
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    assert!(out.request_id().is_some_and(|id| !id.is_empty()));
    let body = out.payload().map(|p| p.as_ref()).unwrap_or_default();
    assert!(
        body.starts_with(br#"{"statusCode":200"#),
        "unexpected payload {:?}",
        String::from_utf8_lossy(body)
    );
    Ok(())
}

/// `tasks` callers at once, each invoking `calls_each` times in a row; every failure.
async fn invoke_concurrently(lambda: &LambdaVpce, tasks: u64, calls_each: u64) -> Vec<String> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let lambda = lambda.clone();
        set.spawn(async move {
            let mut failed = Vec::new();
            for _ in 0..calls_each {
                if let Err(e) = invoke(&lambda).await {
                    failed.push(e);
                }
            }
            failed
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = set.join_next().await {
        failures.extend(done.expect("a caller task panicked"));
    }
    failures
}

fn host(lambda: &LambdaVpce) -> HostStats {
    let stats = lambda.pool().stats();
    assert_eq!(stats.hosts().len(), 1, "one origin expected: {stats:?}");
    stats.hosts()[0].clone()
}

fn report(label: &str, h: &HostStats, failures: usize) {
    println!(
        "{label}: requests {} failures {failures} opened {} reused {} reuse_ratio {:.3} \
         learned_idle_limit {:?} announced_idle_limit {:?} effective_idle_limit {:?} \
         closed: by_server {} learned {} announced {} idle_timeout {} request_limit {} error {} \
         not_ready {}; unsent_resends {}",
        h.requests(),
        h.opened(),
        h.reused(),
        h.reuse_ratio(),
        h.learned_idle_limit(),
        h.announced_idle_limit(),
        h.effective_idle_limit(),
        h.closed(CloseReason::ClosedByServer),
        h.closed(CloseReason::LearnedIdleLimit),
        h.closed(CloseReason::AnnouncedIdleLimit),
        h.closed(CloseReason::IdleTimeout),
        h.closed(CloseReason::RequestLimit),
        h.closed(CloseReason::Error),
        h.closed(CloseReason::NotReady),
        h.unsent_resends(),
    );
}

/// Idle gaps for one round: a few well below the cutoff `t`, every millisecond from t-5 to t+5,
/// a few well above.
fn sweep(t: Duration) -> Vec<Duration> {
    let ms = |n: u64| Duration::from_millis(n);
    let mut gaps = vec![t / 4, t / 2, t.saturating_sub(ms(50))];
    gaps.extend((0..=10).map(|i| t.saturating_sub(ms(5)) + ms(i)));
    gaps.extend([t + ms(50), t + ms(250)]);
    gaps
}

/// One failed call of a sweep.
struct Failure {
    round: usize,
    gap: Duration,
    idle: Duration,
    after_learning: bool,
    error: String,
}

/// Runs `rounds` sweeps: each call preceded by a real idle gap. Returns the failures.
async fn run_sweep(lambda: &LambdaVpce, t: Duration, rounds: usize) -> Vec<Failure> {
    let mut failures = Vec::new();
    let first = invoke(lambda).await;
    assert!(first.is_ok(), "the first call failed: {first:?}");
    let mut last_end = Instant::now();
    for round in 0..rounds {
        for gap in sweep(t) {
            tokio::time::sleep(gap).await;
            let knew_limit = {
                let h = host(lambda);
                h.learned_idle_limit().is_some() || h.announced_idle_limit().is_some()
            };
            let idle = last_end.elapsed();
            let result = invoke(lambda).await;
            last_end = Instant::now();
            if let Err(error) = result {
                println!("round {round} gap {gap:?} (idle {idle:?}): FAILED {error}");
                failures.push(Failure {
                    round,
                    gap,
                    idle,
                    after_learning: knew_limit,
                    error,
                });
            }
        }
    }
    failures
}

#[tokio::test]
#[ignore = "peer suite: needs nginx; run scripts/peers/nginx-up.sh then cargo test --test peer_nginx -- --ignored"]
async fn idle_gaps_swept_across_the_keepalive_timeout_fail_no_invoke() {
    let n = nginx();
    let lambda = client(&url("LAMBDA_VPCE_NGINX_URL"), &n.ca);
    let t = n.keepalive;
    let failures = run_sweep(&lambda, t, SWEEP_ROUNDS).await;
    let h = host(&lambda);
    report("unannounced keepalive_timeout sweep", &h, failures.len());

    let after: Vec<&Failure> = failures.iter().filter(|f| f.after_learning).collect();
    assert!(
        after.is_empty(),
        "{} invoke(s) failed after the pool had learned the server's idle limit: {}",
        after.len(),
        after
            .iter()
            .map(|f| format!(
                "round {} gap {:?} idle {:?}: {}",
                f.round, f.gap, f.idle, f.error
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    // Before the first close is seen, at most the one call that meets it can race it: a
    // failure on reuse teaches the limit too.
    assert!(
        failures.len() <= 1,
        "{} failures before the limit was learned",
        failures.len()
    );
    let learned = h
        .learned_idle_limit()
        .expect("gaps past the cutoff must teach the pool the server's idle limit");
    assert!(
        learned + Duration::from_millis(50) >= t && learned <= t + Duration::from_millis(300),
        "learned idle limit {learned:?} is not nginx's keepalive_timeout {t:?}"
    );
    assert!(h.reused() > 0, "gaps well below the cutoff must reuse");
    assert!(
        h.opened() > 1,
        "gaps past the cutoff must need new connections"
    );
}

#[tokio::test]
#[ignore = "peer suite: needs nginx; run scripts/peers/nginx-up.sh then cargo test --test peer_nginx -- --ignored"]
async fn an_announced_keepalive_timeout_is_never_raced_even_the_first_time() {
    let n = nginx();
    let lambda = client(&url("LAMBDA_VPCE_NGINX_ANNOUNCE_URL"), &n.ca);
    let t = n.keepalive;
    let failures = run_sweep(&lambda, t, ANNOUNCED_SWEEP_ROUNDS).await;
    let h = host(&lambda);
    report("announced keepalive_timeout sweep", &h, failures.len());
    assert!(
        failures.is_empty(),
        "{} invoke(s) failed although nginx announced Keep-Alive: timeout: {}",
        failures.len(),
        failures
            .iter()
            .map(|f| format!(
                "round {} gap {:?} idle {:?}: {}",
                f.round, f.gap, f.idle, f.error
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    assert_eq!(
        h.announced_idle_limit(),
        Some(Duration::from_secs(t.as_secs())),
        "nginx announces Keep-Alive: timeout in whole seconds"
    );
    assert!(h.reused() > 0, "gaps well below the cutoff must reuse");
}

#[tokio::test]
#[ignore = "peer suite: needs nginx; run scripts/peers/nginx-up.sh then cargo test --test peer_nginx -- --ignored"]
async fn connections_closed_after_keepalive_requests_fail_no_invoke() {
    let n = nginx();
    let limit: u64 = peers::require_env("LAMBDA_VPCE_NGINX_KEEPALIVE_REQUESTS", HOW)
        .parse()
        .expect("LAMBDA_VPCE_NGINX_KEEPALIVE_REQUESTS is a number");
    let url = url("LAMBDA_VPCE_NGINX_REQUESTS_URL");

    // One caller, back to back.
    let lambda = client(&url, &n.ca);
    let calls = limit * REQUEST_LIMIT_MULTIPLE;
    let mut failures = Vec::new();
    for i in 0..calls {
        if let Err(e) = invoke(&lambda).await {
            println!("sequential call {i}: FAILED {e}");
            failures.push(e);
        }
    }
    let h = host(&lambda);
    report(
        &format!("keepalive_requests {limit}, {calls} sequential calls"),
        &h,
        failures.len(),
    );
    assert!(
        failures.is_empty(),
        "{} sequential failures",
        failures.len()
    );
    // A request a connection handed back unsent is counted again when resent.
    assert_eq!(h.requests() - h.unsent_resends(), calls);
    assert_eq!(
        h.opened(),
        calls.div_ceil(limit),
        "nginx closes after {limit} requests: one connection per {limit} calls"
    );
    assert_eq!(h.reused(), calls - h.opened());

    // Several callers at once.
    let lambda = client(&url, &n.ca);
    let failures =
        invoke_concurrently(&lambda, REQUEST_LIMIT_TASKS, REQUEST_LIMIT_CALLS_PER_TASK).await;
    let h = host(&lambda);
    let calls = REQUEST_LIMIT_TASKS * REQUEST_LIMIT_CALLS_PER_TASK;
    report(
        &format!("keepalive_requests {limit}, {REQUEST_LIMIT_TASKS} callers x {REQUEST_LIMIT_CALLS_PER_TASK}"),
        &h,
        failures.len(),
    );
    for e in &failures {
        println!("concurrent call FAILED {e}");
    }
    assert!(
        failures.is_empty(),
        "{} concurrent failures",
        failures.len()
    );
    // A request a connection handed back unsent is counted again when resent.
    assert_eq!(h.requests() - h.unsent_resends(), calls);
    assert!(h.opened() >= calls.div_ceil(limit));
}

#[tokio::test]
#[ignore = "peer suite: needs nginx; run scripts/peers/nginx-up.sh then cargo test --test peer_nginx -- --ignored"]
async fn over_http2_concurrent_invokes_share_one_connection_negotiated_with_nginx() {
    let n = nginx();
    let url = url("LAMBDA_VPCE_NGINX_H2_URL");
    for http2 in [true, false] {
        let lambda = client_with(
            &url,
            &n.ca,
            PoolBuilder::new().protocol(if http2 {
                lambda_vpce::pool::Protocol::Auto
            } else {
                lambda_vpce::pool::Protocol::Http1
            }),
        );
        let failures = invoke_concurrently(&lambda, H2_TASKS, H2_CALLS_PER_TASK).await;
        let h = host(&lambda);
        report(
            &format!("http2({http2}), {H2_TASKS} callers x {H2_CALLS_PER_TASK}"),
            &h,
            failures.len(),
        );
        assert!(failures.is_empty(), "http2({http2}): {failures:?}");
        assert_eq!(h.requests(), H2_TASKS * H2_CALLS_PER_TASK);
        if http2 {
            // ALPN picked h2: every caller multiplexed on the one connection.
            assert_eq!(h.opened(), 1, "HTTP/2 shares one connection");
        } else {
            // HTTP/1.1 carries one exchange at a time: concurrent callers need more.
            assert!(h.opened() > 1, "HTTP/1.1 opened {}", h.opened());
        }
    }
}
