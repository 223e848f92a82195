//! Peer suite: the crate's client against nginx (Debian `nginx-light`) over HTTPS with a test CA,
//! standing in for Lambda's Invoke API (scripts/peers/nginx-up.sh). nginx closes a keep-alive
//! connection exactly at its `keepalive_timeout` and after `keepalive_requests` requests: the
//! cutoffs every client races. With the SDK's retries off, idle gaps swept across the cutoff
//! must give zero failures.
//!
//! Over HTTP/2 (RFC 9113 §6.8) nginx sends GOAWAY once a connection has had `keepalive_requests`
//! streams, and on a graceful reload: the crate's HTTP/2 client must resend what the GOAWAY's
//! last-stream-id proves unprocessed and fail nothing; `sdk-default` (aws-sdk-lambda's own HTTP
//! client) and the crate's HTTP/1.1 client run the same load and are reported beside it.
//!
//! These tests sleep for real between calls: they measure a real server's timing. The load tests
//! take turns ([`LOAD`]) so that they do not starve one another (or the sweeps) of the 2 cores.
//!
//! Run: `scripts/peers/nginx-up.sh && . .peers/nginx/env && cargo test --test peer_nginx -- --ignored`

mod support;

use support::peers;

use std::time::{Duration, Instant};

use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_smithy_types::retry::RetryConfig;
use lambda_vpce::pool::{CloseReason, OriginStats, Protocol};
use lambda_vpce::{pool::PoolBuilder, LambdaVpce};

const HOW: &str = "scripts/peers/nginx-up.sh && . .peers/nginx/env";
/// Rounds of the idle-gap sweep against the unannounced cutoff.
const SWEEP_ROUNDS: usize = 3;
/// How far below nginx's `keepalive_timeout` a learned limit may sit: `t / 4` (see the sweep).
const LEARNED_LIMIT_SLACK_DIVISOR: u32 = 4;
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
/// Concurrent callers (and calls each) against nginx's HTTP/2 stream limit and GOAWAY.
const GOAWAY_TASKS: u64 = 256;
const GOAWAY_CALLS_PER_TASK: u64 = 16;
/// Concurrent callers during the graceful-reload run, and how long each client runs.
const RELOAD_TASKS: u64 = 256;
const RELOAD_RUN: Duration = Duration::from_secs(6);
/// Most calls one caller makes in a reload run (the run is bounded in count and time).
const RELOAD_MAX_CALLS_PER_TASK: u64 = 2_000;
/// How often nginx is reloaded during a reload run.
const RELOAD_EVERY: Duration = Duration::from_millis(500);
/// Fewest reloads a run must have seen to say anything.
const MIN_RELOADS: u64 = 4;

/// Held by each load test for its whole run: one at a time on a small machine.
static LOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

/// aws-sdk-lambda with its default HTTP client (hyper-util legacy, rustls on aws-lc-rs, ALPN `h2`
/// then `http/1.1`) trusting the test CA, retries off: `sdk-default` as the bench builds it.
fn sdk_default(url: &str, ca: &[u8]) -> aws_sdk_lambda::Client {
    let conf = support::tls::sdk_default_config(url, ca, peers::REGION, peers::fake_credentials())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// One Invoke through nginx; a failure comes back as its description with its class.
async fn invoke(lambda: &LambdaVpce) -> Result<(), String> {
    invoke_sdk(lambda.client()).await
}

/// [`invoke`] through any SDK client.
async fn invoke_sdk(client: &aws_sdk_lambda::Client) -> Result<(), String> {
    let out = client
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
    let run = invoke_for(lambda.client(), tasks, calls_each, None).await;
    run.failures
}

/// What a run of many callers did.
struct Run {
    calls: u64,
    failures: Vec<String>,
}

impl Run {
    /// Failures counted by class (the text before the first `]`), for a one-line report.
    fn failure_classes(&self) -> String {
        let mut classes = std::collections::BTreeMap::<&str, usize>::new();
        for f in &self.failures {
            let class = f.split_once(']').map_or(f.as_str(), |(c, _)| c);
            *classes.entry(class.trim_start_matches('[')).or_default() += 1;
        }
        format!("{classes:?}")
    }
}

/// `tasks` callers at once, each invoking up to `calls_each` times in a row, stopping early at
/// `until` when given.
async fn invoke_for(
    client: &aws_sdk_lambda::Client,
    tasks: u64,
    calls_each: u64,
    until: Option<Instant>,
) -> Run {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let client = client.clone();
        set.spawn(async move {
            let (mut calls, mut failed) = (0u64, Vec::new());
            for _ in 0..calls_each {
                if until.is_some_and(|t| Instant::now() >= t) {
                    break;
                }
                calls += 1;
                if let Err(e) = invoke_sdk(&client).await {
                    failed.push(e);
                }
            }
            (calls, failed)
        });
    }
    let mut run = Run {
        calls: 0,
        failures: Vec::new(),
    };
    while let Some(done) = set.join_next().await {
        let (calls, failed) = done.expect("a caller task panicked");
        run.calls += calls;
        run.failures.extend(failed);
    }
    run
}

fn host(lambda: &LambdaVpce) -> OriginStats {
    let stats = lambda.pool().stats();
    assert_eq!(stats.origins().len(), 1, "one origin expected: {stats:?}");
    stats.origins()[0].clone()
}

fn report(label: &str, h: &OriginStats, failures: usize) {
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

/// Prints a run of a client that has no pool statistics (`sdk-default`).
fn report_run(label: &str, run: &Run) {
    println!(
        "{label}: calls {} failures {} by class {}",
        run.calls,
        run.failures.len(),
        run.failure_classes()
    );
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
    // The pool measures idle from its own check-in, which comes after nginx started its timer
    // (the response still had to travel and be read), and nginx arms timers from a cached clock:
    // the learned value sits below `t` by that lag, 73 ms once on a loaded CI machine. A quarter
    // of `t` below it is still "nginx's limit" and not some other cutoff; learning low is the
    // safe side (the pool then closes earlier than it had to).
    assert!(
        learned + t / LEARNED_LIMIT_SLACK_DIVISOR >= t && learned <= t + Duration::from_millis(300),
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

/// nginx's HTTP/2 server with a stream limit and GOAWAY after `keepalive_requests` streams.
struct H2Limits {
    url: String,
    max_streams: u32,
    streams_per_connection: u64,
}

fn h2_limits() -> H2Limits {
    let number = |var: &str| -> u64 {
        let v = peers::require_env(var, HOW);
        v.parse()
            .unwrap_or_else(|_| panic!("peer suite: {var}={v:?} is not a number"))
    };
    H2Limits {
        url: url("LAMBDA_VPCE_NGINX_H2_LIMITS_URL"),
        max_streams: number("LAMBDA_VPCE_NGINX_H2_MAX_STREAMS") as u32,
        streams_per_connection: number("LAMBDA_VPCE_NGINX_H2_KEEPALIVE_REQUESTS"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "peer suite: needs nginx; run scripts/peers/nginx-up.sh then cargo test --test peer_nginx -- --ignored"]
async fn over_http2_thousands_of_invokes_through_goaways_and_a_stream_limit_fail_none() {
    let n = nginx();
    let s = h2_limits();
    let _turn = LOAD.lock().await;
    let calls = GOAWAY_TASKS * GOAWAY_CALLS_PER_TASK;
    let label = format!(
        "nginx h2 max_concurrent_streams {} GOAWAY every {} streams, {GOAWAY_TASKS} callers x \
         {GOAWAY_CALLS_PER_TASK}, retries off",
        s.max_streams, s.streams_per_connection
    );

    // aws-sdk-lambda's own client first, reported, not asserted.
    let run = invoke_for(
        &sdk_default(&s.url, &n.ca),
        GOAWAY_TASKS,
        GOAWAY_CALLS_PER_TASK,
        None,
    )
    .await;
    report_run(&format!("sdk-default, {label}"), &run);

    let lambda = client_with(&s.url, &n.ca, PoolBuilder::new().protocol(Protocol::Http2));
    let started = Instant::now();
    let run = invoke_for(lambda.client(), GOAWAY_TASKS, GOAWAY_CALLS_PER_TASK, None).await;
    let took = started.elapsed();
    let h = host(&lambda);
    report(
        &format!("lambda-vpce http2, {label}"),
        &h,
        run.failures.len(),
    );
    println!(
        "lambda-vpce http2: {calls} calls in {took:?}; failures by class {}",
        run.failure_classes()
    );
    for e in run.failures.iter().take(5) {
        println!("lambda-vpce http2 call FAILED {e}");
    }
    assert_eq!(run.calls, calls);
    assert!(
        run.failures.is_empty(),
        "{} of {calls} invokes failed over HTTP/2 through nginx's GOAWAYs (by class {}): a stream \
         above the GOAWAY's last-stream-id did not run and must be resent",
        run.failures.len(),
        run.failure_classes()
    );
    // The GOAWAYs happened: nginx ends every connection after its quota of streams.
    assert!(
        h.opened() >= calls.div_ceil(s.streams_per_connection),
        "{} connections for {calls} calls: nginx sends GOAWAY every {} streams",
        h.opened(),
        s.streams_per_connection
    );
}

#[tokio::test]
#[ignore = "peer suite: needs nginx; run scripts/peers/nginx-up.sh then cargo test --test peer_nginx -- --ignored"]
async fn over_http2_the_pool_learns_nginx_stream_limit_from_its_settings() {
    let n = nginx();
    let s = h2_limits();
    let lambda = client_with(&s.url, &n.ca, PoolBuilder::new().protocol(Protocol::Http2));
    let lean = lambda.lean().expect("a lean invoker");
    let out = lean
        .invoke(lambda_vpce::lean::InvokeRequest::new(
            "peer-fn",
            bytes::Bytes::from_static(br#"{"peer":"nginx"}"#),
        ))
        .await
        .expect("one invoke through nginx over HTTP/2");
    assert_eq!(out.connection.version, http::Version::HTTP_2);
    assert_eq!(
        out.connection.peer_max_streams,
        Some(s.max_streams),
        "nginx's SETTINGS_MAX_CONCURRENT_STREAMS (http2_max_concurrent_streams)"
    );
}

/// Reloads the nginx of `LAMBDA_VPCE_NGINX_RELOAD_PREFIX` every [`RELOAD_EVERY`] until `stop`
/// (or `until`); returns how many reloads nginx accepted.
async fn reload_nginx_until(stop: tokio::sync::watch::Receiver<bool>, until: Instant) -> u64 {
    let prefix = peers::require_env("LAMBDA_VPCE_NGINX_RELOAD_PREFIX", HOW);
    let mut stop = stop;
    let mut reloads = 0;
    while !*stop.borrow() && Instant::now() < until {
        tokio::select! {
            _ = tokio::time::sleep(RELOAD_EVERY) => {}
            _ = stop.changed() => break,
        }
        let prefix = prefix.clone();
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("nginx")
                .args(["-p", &prefix, "-c", "nginx.conf", "-e"])
                .arg(format!("{prefix}/logs/error.log"))
                .args(["-s", "reload"])
                .status()
        })
        .await
        .expect("the reload task panicked")
        .unwrap_or_else(|e| panic!("running nginx -s reload: {e}"));
        assert!(status.success(), "nginx -s reload failed: {status}");
        reloads += 1;
    }
    reloads
}

/// One client's run of [`RELOAD_TASKS`] callers for [`RELOAD_RUN`] with nginx reloading; the
/// run and the number of reloads during it.
async fn run_through_reloads(client: &aws_sdk_lambda::Client) -> (Run, u64) {
    let until = Instant::now() + RELOAD_RUN;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let reloader = tokio::spawn(reload_nginx_until(stop_rx, until + RELOAD_RUN));
    let run = invoke_for(client, RELOAD_TASKS, RELOAD_MAX_CALLS_PER_TASK, Some(until)).await;
    let _ = stop_tx.send(true);
    let reloads = reloader.await.expect("the reloader panicked");
    (run, reloads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "peer suite: needs nginx; run scripts/peers/nginx-up.sh then cargo test --test peer_nginx -- --ignored"]
async fn graceful_reloads_under_load_fail_no_invoke_over_http2() {
    let n = nginx();
    let url = url("LAMBDA_VPCE_NGINX_RELOAD_URL");
    let _turn = LOAD.lock().await;
    let label = format!(
        "nginx -s reload every {RELOAD_EVERY:?}, {RELOAD_TASKS} callers for {RELOAD_RUN:?}, \
         retries off"
    );

    // Side by side: aws-sdk-lambda's client and the crate's HTTP/1.1 client, reported only.
    let (run, reloads) = run_through_reloads(&sdk_default(&url, &n.ca)).await;
    report_run(&format!("sdk-default, {label}, {reloads} reloads"), &run);
    let h1 = client_with(&url, &n.ca, PoolBuilder::new().protocol(Protocol::Http1));
    let (run, reloads) = run_through_reloads(h1.client()).await;
    report_run(
        &format!("lambda-vpce http1, {label}, {reloads} reloads"),
        &run,
    );
    report("lambda-vpce http1", &host(&h1), run.failures.len());

    let h2 = client_with(&url, &n.ca, PoolBuilder::new().protocol(Protocol::Http2));
    let (run, reloads) = run_through_reloads(h2.client()).await;
    report_run(
        &format!("lambda-vpce http2, {label}, {reloads} reloads"),
        &run,
    );
    report("lambda-vpce http2", &host(&h2), run.failures.len());
    for e in run.failures.iter().take(5) {
        println!("lambda-vpce http2 call FAILED {e}");
    }
    assert!(
        reloads >= MIN_RELOADS,
        "only {reloads} reloads during the run: it proves nothing"
    );
    assert!(run.calls > 0);
    assert!(
        run.failures.is_empty(),
        "{} of {} invokes failed over HTTP/2 while nginx reloaded gracefully (by class {}): its \
         GOAWAY proves which streams did not run",
        run.failures.len(),
        run.calls,
        run.failure_classes()
    );
    assert!(
        host(&h2).opened() > 1,
        "every reload ends the connection: more than one must have been opened"
    );
}
