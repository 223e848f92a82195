//! The pool's hot path, against the embedded endpoint run as a separate process (this bench
//! binary run again as the server, `common::serve`), so that this process holds only
//! client-side connections:
//!
//! - `pool_checkout/{idle}x{concurrency}`: one request through `Pool::send` (checkout, send,
//!   response, body to its end, checkin) with {1, 100, 10 000} idle connections in the pool
//!   and {1, 16} callers at once, over plain HTTP. Flat across the idle sizes = O(1) checkout:
//!   with one caller, each request checks out the most recently used of `idle` connections and
//!   checks it back in, so a checkout that grew with the idle stack would show as a time per
//!   request growing from 1 to 10 000 idle (the request's own cost is the same in every case).
//! - `pool_vs_bare`: the same request through the pool on one warm connection and through
//!   hyper's bare `SendRequest` on one warm connection; the p50 of each and the overhead are
//!   printed (target: ≤ 5 %), strictly alternating, 5 rounds, on a current-thread runtime (the
//!   pool's own cost; identical scheduling on both sides) and a multi-thread one.
//! - Memory per idle TLS connection: this process's RSS before and after opening 1 000 idle
//!   TLS connections, divided by 1 000, printed.
//!
//! `cargo bench --bench pool_checkout`. Kept short: 10 samples, ~2 s per case.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use common::{serve, Server};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use http_body_util::{BodyExt, Full};
use lambda_vpce::wire::header;
use lambda_vpce::{pool::Pool, pool::PoolBuilder};

const IDLE_SIZES: [usize; 3] = [1, 100, 10_000];
const CONCURRENCY: [usize; 2] = [1, 16];
const PATH: &str = "/2015-03-31/functions/echo/invocations";
const PAYLOAD: &[u8] = b"{\"p\":\"bench\"}";
/// Requests timed one by one, per side and round, for the pool-vs-bare p50.
const P50_SAMPLES: usize = 10_000;
/// Rounds of the pool-vs-bare p50; the median round's overhead is the result.
const P50_ROUNDS: usize = 5;
/// Idle TLS connections opened to measure memory.
const TLS_IDLE: usize = 1_000;
fn pool_for(server: &Server, max: usize) -> Pool {
    let mut b = PoolBuilder::new()
        .max_connections_per_host(max.max(16))
        .idle_timeout(Duration::from_secs(60));
    if let Some(ca) = &server.ca {
        b = b.add_ca_pem(ca);
    }
    b.build().expect("pool builds")
}

fn request(url: &str) -> http::Request<SdkBody> {
    http::Request::post(format!("{url}{PATH}"))
        .header(header::INVOCATION_TYPE, "RequestResponse")
        .body(SdkBody::from(PAYLOAD))
        .expect("valid request")
}

async fn one(pool: &Pool, url: &str) {
    send_one(pool, request(url)).await;
}

async fn send_one(pool: &Pool, request: http::Request<SdkBody>) {
    let resp = pool.send(request).await.expect("request succeeds");
    let _ = resp.into_body().collect().await.expect("body reads");
}

/// The same request as [`request`], from a URI parsed once: the pool-vs-bare comparison then
/// measures the pool, not URL formatting and parsing (the bare side uses a static path).
fn request_to(uri: &http::Uri) -> http::Request<SdkBody> {
    http::Request::post(uri.clone())
        .header(header::INVOCATION_TYPE, "RequestResponse")
        .body(SdkBody::from(PAYLOAD))
        .expect("valid request")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn checkout_grid(c: &mut Criterion) {
    let rt = runtime();
    let server = serve(true);
    let uri: http::Uri = server.url.parse().expect("url");
    let mut group = c.benchmark_group("pool_checkout");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    group.throughput(Throughput::Elements(1));
    for idle in IDLE_SIZES {
        let pool = pool_for(&server, idle);
        let opened = rt
            .block_on(pool.prewarm_uri(&uri, idle))
            .unwrap_or_default();
        if opened < idle {
            println!("pool_checkout: only {opened} of {idle} idle connections opened (fd limit?)");
        }
        for conc in CONCURRENCY {
            let pool = pool.clone();
            let url = server.url.clone();
            group.bench_with_input(
                BenchmarkId::new(format!("idle_{idle}"), format!("c{conc}")),
                &conc,
                |b, &conc| {
                    b.to_async(&rt).iter_custom(|iters| {
                        let pool = pool.clone();
                        let url = Arc::new(url.clone());
                        async move {
                            let start = Instant::now();
                            let mut tasks = tokio::task::JoinSet::new();
                            for w in 0..conc as u64 {
                                let n = iters / conc as u64 + u64::from(w < iters % conc as u64);
                                let pool = pool.clone();
                                let url = url.clone();
                                tasks.spawn(async move {
                                    for _ in 0..n {
                                        one(&pool, &url).await;
                                    }
                                });
                            }
                            while tasks.join_next().await.is_some() {}
                            start.elapsed()
                        }
                    });
                },
            );
        }
        drop(pool);
    }
    group.finish();
}

async fn bare_sender(url: &str) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let uri: http::Uri = url.parse().expect("url");
    let addr = format!(
        "{}:{}",
        uri.host().expect("host"),
        uri.port_u16().expect("port")
    );
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    sender
}

async fn bare_one(sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>, host: &str) {
    sender.ready().await.expect("ready");
    let req = http::Request::post(PATH)
        .header(http::header::HOST, host)
        .header(header::INVOCATION_TYPE, "RequestResponse")
        .body(Full::new(Bytes::from_static(PAYLOAD)))
        .expect("valid request");
    let resp = sender.send_request(req).await.expect("response");
    let _ = resp.into_body().collect().await.expect("body");
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn pool_vs_bare(c: &mut Criterion) {
    let server = serve(true);
    let host = server.url.trim_start_matches("http://").to_owned();
    let uri: http::Uri = format!("{}{PATH}", server.url).parse().expect("url");
    for (flavor, rt) in [
        ("current-thread", current_thread_runtime()),
        ("multi-thread", runtime()),
    ] {
        let pool = pool_for(&server, 1);
        let mut sender = rt.block_on(bare_sender(&server.url));
        rt.block_on(one(&pool, &server.url));
        let mut overheads = Vec::new();
        for round in 1..=P50_ROUNDS {
            // Strictly alternating requests, so that drift hits both sides alike.
            let (mut pool_t, mut bare_t) = (Vec::new(), Vec::new());
            rt.block_on(async {
                for _ in 0..P50_SAMPLES {
                    let t = Instant::now();
                    send_one(&pool, request_to(&uri)).await;
                    pool_t.push(t.elapsed());
                    let t = Instant::now();
                    bare_one(&mut sender, &host).await;
                    bare_t.push(t.elapsed());
                }
            });
            let (p, b) = (p50(pool_t), p50(bare_t));
            let overhead = (p.as_secs_f64() / b.as_secs_f64() - 1.0) * 100.0;
            println!(
                "pool_vs_bare ({flavor} runtime, round {round}): p50 through the pool {:.1} µs, bare SendRequest {:.1} µs, overhead {overhead:+.1} %",
                p.as_secs_f64() * 1e6,
                b.as_secs_f64() * 1e6,
            );
            overheads.push(overhead);
        }
        overheads.sort_by(f64::total_cmp);
        println!(
            "pool_vs_bare ({flavor} runtime): median overhead over {P50_ROUNDS} rounds {:+.1} % (target ≤ 5 %)",
            overheads[overheads.len() / 2]
        );
    }

    let rt = runtime();
    let pool = pool_for(&server, 1);
    let sender = rt.block_on(bare_sender(&server.url));
    let mut group = c.benchmark_group("pool_vs_bare");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    group.throughput(Throughput::Elements(1));
    group.bench_function("pool_send", |bench| {
        bench
            .to_async(&rt)
            .iter(|| send_one(&pool, request_to(&uri)));
    });
    let sender = tokio::sync::Mutex::new(sender);
    group.bench_function("bare_send_request", |bench| {
        bench.to_async(&rt).iter(|| async {
            let mut s = sender.lock().await;
            bare_one(&mut s, &host).await;
        });
    });
    group.finish();
}

/// Resident set size of this process, bytes (Linux `/proc/self/statm`; 0 elsewhere).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn memory_per_idle_tls_connection(_c: &mut Criterion) {
    let rt = runtime();
    let server = serve(false);
    let uri: http::Uri = server.url.parse().expect("url");
    // HTTP/1.1: one connection per request, so `TLS_IDLE` connections open. (With ALPN's h2,
    // which the endpoint offers, the pool carries every stream on its few HTTP/2 connections
    // and prewarms no more: the measurement opened 0 connections.)
    let pool = PoolBuilder::new()
        .protocol(lambda_vpce::pool::Protocol::Http1)
        .max_connections_per_host(TLS_IDLE)
        .idle_timeout(Duration::from_secs(60))
        .add_ca_pem(server.ca.as_deref().expect("a TLS server has a CA"))
        .build()
        .expect("pool builds");
    // One connection first, so that TLS and pool set-up costs are not counted per connection.
    let _ = rt.block_on(pool.prewarm_uri(&uri, 1));
    let before = rss_bytes();
    let opened = rt
        .block_on(pool.prewarm_uri(&uri, TLS_IDLE))
        .unwrap_or_default();
    let after = rss_bytes();
    let per = after.saturating_sub(before) as f64 / opened.max(1) as f64;
    println!(
        "memory per idle TLS connection: {:.1} KiB (RSS {} → {} KiB over {opened} connections, client side only: the server is another process)",
        per / 1024.0,
        before / 1024,
        after / 1024
    );
    drop(pool);
}

criterion_group!(
    benches,
    checkout_grid,
    pool_vs_bare,
    memory_per_idle_tls_connection
);

fn main() {
    if common::serve_child() {
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
