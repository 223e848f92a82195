//! HTTP/2 over real TLS with ALPN: the pool with `http2(true)` against the embedded endpoint
//! with HTTP/2 on (`LocalEndpointBuilder::http2`), through the SDK client, `Pool::send` and the
//! lean path; the same server with the pool's default (HTTP/1.1 only); an HTTP/2 pool against
//! an HTTP/1.1-only server and against a refusing port; a server dying mid-call; and the
//! endpoint's own check that HTTP/2 requests carry `:scheme: https` and `:authority`.
//!
//! Server-side, `ServerStats::http2_connections` tells which protocol ALPN picked; the pool's
//! `opened()` and the server's `connections_accepted` count connections. Every count is exact
//! once the calls returned: nothing here waits for anything to settle.
#![cfg(feature = "local")]

mod support;

use std::collections::HashSet;

use aws_sdk_lambda::primitives::Blob;
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt;
use lambda_vpce::local::{CloseKind, LocalEndpoint};
use lambda_vpce::{lean::InvokeRequest, pool::Pool};
use support::{client_for, Attempts};

/// Calls started at once in each concurrency test.
const CONCURRENT: usize = 32;

async fn h2_endpoint() -> LocalEndpoint {
    LocalEndpoint::builder()
        .http2(true)
        .start()
        .await
        .expect("endpoint starts")
}

// Two worker threads: callers race on both, and still only one connects. (One connection to
// spread over: with the default, two workers, a second may open in the background.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invokes_share_one_http2_connection() {
    let ep = h2_endpoint().await;
    let ids = Attempts::default();
    let vpce = client_for(&ep, 1, |p| {
        p.protocol(lambda_vpce::pool::Protocol::Auto)
            .h2_connections(1)
    });
    let lambda = ids.attach(vpce.client());
    let calls: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let lambda = lambda.clone();
            tokio::spawn(async move {
                let payload = format!(r#"{{"call":{i}}}"#);
                let out = lambda
                    .invoke()
                    .function_name("echo")
                    .payload(Blob::new(payload.clone()))
                    .send()
                    .await;
                (payload, out)
            })
        })
        .collect();
    for call in calls {
        let (payload, out) = call.await.expect("task");
        let out = out.expect("invoke over HTTP/2");
        assert_eq!(out.status_code(), 200);
        assert_eq!(out.payload().expect("payload").as_ref(), payload.as_bytes());
    }
    let sent = ids.ids();
    assert_eq!(sent.len(), CONCURRENT, "one request per call, none resent");
    assert_eq!(sent.iter().collect::<HashSet<_>>().len(), CONCURRENT);
    for id in &sent {
        assert_eq!(ep.ledger().executions(id), 1, "{id} ran exactly once");
    }
    assert_eq!(ep.ledger().total(), CONCURRENT as u64);
    let host = vpce.pool().stats().origins()[0].clone();
    assert_eq!(host.opened(), 1, "one connection for the origin");
    let server = ep.stats();
    assert_eq!(
        server.connections_accepted, 1,
        "the server saw one connection"
    );
    assert_eq!(server.http2_connections, 1, "ALPN picked h2");
}

/// An unsigned invoke of `echo` straight through the pool.
/// `CONCURRENT` invokes of `sleep` (50 ms) at once: each holds its exchange open, so
/// concurrent HTTP/1.1 calls cannot share a connection. Results in spawn order.
async fn overlapping_sleep_invokes(
    lambda: &aws_sdk_lambda::Client,
) -> Vec<
    Result<
        aws_sdk_lambda::operation::invoke::InvokeOutput,
        aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError>,
    >,
> {
    at_once(CONCURRENT, |_| {
        let lambda = lambda.clone();
        async move {
            lambda
                .invoke()
                .function_name("sleep")
                .payload(Blob::new(r#"{"ms":50}"#))
                .send()
                .await
        }
    })
    .await
}

/// `n` calls made by `call` started at once, each in its own task; their results in order.
async fn at_once<T, F>(n: usize, call: impl Fn(usize) -> F) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(i))).collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.expect("the call's task ends"));
    }
    out
}

/// An HTTP/2 endpoint that takes unsigned requests (for `Pool::send` and raw clients).
async fn unsigned_h2_endpoint() -> LocalEndpoint {
    LocalEndpoint::builder()
        .http2(true)
        .verify_signatures(false)
        .start()
        .await
        .expect("endpoint starts")
}

fn invoke(ep: &LocalEndpoint, payload: String) -> http::Request<SdkBody> {
    http::Request::post(format!(
        "{}/2015-03-31/functions/echo/invocations",
        ep.url()
    ))
    .body(SdkBody::from(payload))
    .expect("request")
}

#[tokio::test]
async fn requests_through_pool_send_all_report_the_same_http2_connection() {
    let ep = unsigned_h2_endpoint().await;
    let pool = Pool::builder()
        .protocol(lambda_vpce::pool::Protocol::Auto)
        .add_ca_pem(ep.ca_pem())
        .build()
        .expect("pool builds");
    let calls: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let pool = pool.clone();
            let request = invoke(&ep, format!("{i}"));
            tokio::spawn(async move {
                let response = pool.send(request).await.expect("sent");
                assert_eq!(response.status(), 200);
                let info = response.body().connection_info();
                let body = response.into_body().collect().await.expect("body");
                assert_eq!(body.to_bytes(), format!("{i}").as_bytes());
                info.connection_id
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for call in calls {
        ids.insert(call.await.expect("task"));
    }
    assert_eq!(ids.len(), 1, "every request on one connection: {ids:?}");
    assert_eq!(pool.stats().opened(), 1);
    assert_eq!(ep.stats().http2_connections, 1);
    assert_eq!(ep.stats().connections_accepted, 1);
}

#[tokio::test]
async fn with_http1_on_the_pool_the_same_server_speaks_http1_on_several_connections() {
    let ep = h2_endpoint().await;
    let ids = Attempts::default();
    let vpce = client_for(&ep, 1, |p| p.protocol(lambda_vpce::pool::Protocol::Http1));
    let lambda = ids.attach(vpce.client());
    for out in overlapping_sleep_invokes(&lambda).await {
        let out = out.expect("invoke over HTTP/1.1");
        assert_eq!(out.status_code(), 200);
        assert!(out.function_error().is_none());
    }
    for id in &ids.ids() {
        assert_eq!(ep.ledger().executions(id), 1, "{id} ran exactly once");
    }
    assert_eq!(ep.ledger().total(), CONCURRENT as u64);
    let opened = vpce.pool().stats().opened();
    let server = ep.stats();
    assert!(
        opened > 1,
        "HTTP/1.1 needs a connection per exchange: {opened}"
    );
    assert_eq!(server.connections_accepted, opened);
    assert_eq!(server.http2_connections, 0, "ALPN picked http/1.1");
}

#[tokio::test]
async fn the_lean_path_invokes_over_one_http2_connection() {
    let ep = h2_endpoint().await;
    // The pool's default (`Protocol::Auto`): ALPN picks h2, as against Lambda.
    let vpce = client_for(&ep, 1, |p| p);
    let lean = vpce.lean().expect("lean invoker");
    let calls: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let lean = lean.clone();
            tokio::spawn(async move {
                let payload = format!("[{i}]");
                let out = lean
                    .invoke(InvokeRequest::new("echo", payload.clone()))
                    .await;
                (payload, out)
            })
        })
        .collect();
    let mut connections = HashSet::new();
    for call in calls {
        let (payload, out) = call.await.expect("task");
        let out = out.expect("lean invoke over HTTP/2");
        assert_eq!(out.status_code, 200);
        assert_eq!(out.payload.as_ref(), payload.as_bytes());
        connections.insert(out.connection.connection_id);
    }
    assert_eq!(connections.len(), 1, "{connections:?}");
    assert_eq!(ep.ledger().total(), CONCURRENT as u64);
    assert_eq!(ep.ledger().duplicates(), Vec::<(String, u32)>::new());
    assert_eq!(vpce.pool().stats().opened(), 1);
    assert_eq!(ep.stats().connections_accepted, 1);
    assert_eq!(ep.stats().http2_connections, 1);
}

#[tokio::test]
async fn a_server_dying_mid_call_over_http2_gives_maybe_executed_and_one_execution() {
    let ep = h2_endpoint().await;
    ep.faults().die_after_request(CloseKind::Reset);
    let ids = Attempts::default();
    let vpce = client_for(&ep, 3, |p| p.protocol(lambda_vpce::pool::Protocol::Auto));
    let id = ids.invoke_expecting_maybe_executed(&vpce).await;
    assert_eq!(ep.ledger().executions(&id), 1);
    assert_eq!(ep.stats().http2_connections, 1);
}

#[tokio::test]
async fn http1_only_faults_switched_on_at_run_time_leave_http2_connections_alone() {
    let ep = h2_endpoint().await;
    ep.faults().max_requests(1);
    ep.faults().garbage_response(true);
    let vpce = client_for(&ep, 1, |p| p.protocol(lambda_vpce::pool::Protocol::Auto));
    for _ in 0..3 {
        vpce.client()
            .invoke()
            .function_name("echo")
            .send()
            .await
            .expect("the HTTP/1-only faults do not touch HTTP/2");
    }
    assert_eq!(ep.stats().connections_accepted, 1);
    assert_eq!(ep.stats().max_requests_closes, 0);
    assert_eq!(ep.stats().fault_closes, 0);
}

#[tokio::test]
async fn an_http2_pool_against_an_http1_only_server_opens_a_connection_per_concurrent_call() {
    let ep = LocalEndpoint::builder()
        .http2(false)
        .start()
        .await
        .expect("HTTP/1.1 only");
    let vpce = client_for(&ep, 1, |p| p.protocol(lambda_vpce::pool::Protocol::Auto));
    for out in overlapping_sleep_invokes(vpce.client()).await {
        out.expect("invoke over HTTP/1.1");
    }
    assert_eq!(ep.ledger().total(), CONCURRENT as u64);
    let opened = vpce.pool().stats().opened();
    assert!(opened > 1, "ALPN picked http/1.1: {opened}");
    assert_eq!(ep.stats().connections_accepted, opened);
    assert_eq!(ep.stats().http2_connections, 0);
}

#[tokio::test]
async fn concurrent_calls_to_a_refusing_origin_over_an_http2_pool_all_fail_not_sent() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let pool = Pool::builder()
        .protocol(lambda_vpce::pool::Protocol::Auto)
        .build()
        .expect("pool builds");
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            let request = http::Request::post(format!(
                "https://localhost:{port}/2015-03-31/functions/echo/invocations"
            ))
            .body(SdkBody::from("{}"))
            .expect("request");
            tokio::spawn(async move { pool.send(request).await })
        })
        .collect();
    for call in calls {
        let err = call.await.expect("task").expect_err("nothing listens");
        assert!(err.is_not_sent() && err.is_connect(), "{err:?}");
    }
}

#[tokio::test]
async fn the_endpoint_refuses_an_http2_request_without_scheme_https_and_authority() {
    let ep = unsigned_h2_endpoint().await;
    let tls = support::tls::connect(&ep, &[b"h2"]).await;
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .expect("HTTP/2 handshake");
    tokio::spawn(conn);
    let authority = format!("localhost:{}", ep.addr().port());
    let list = |uri: String| {
        http::Request::get(uri)
            .header("host", &authority)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .expect("request")
    };
    // What hyper sends for an origin-form URI: `:scheme: http`, no `:authority`.
    let bare = send
        .send_request(list("/2015-03-31/functions/".to_owned()))
        .await
        .expect("answered");
    assert_eq!(bare.status(), 400);
    let full = send
        .send_request(list(format!("https://{authority}/2015-03-31/functions/")))
        .await
        .expect("answered");
    assert_eq!(full.status(), 200);
    assert_eq!(ep.stats().http2_connections, 1);
}

/// The crate's client on `ep` offering `h2`, spreading streams over `n` connections, and its
/// lean invoker.
fn lean_over_h2_connections(
    ep: &LocalEndpoint,
    n: usize,
) -> (lambda_vpce::LambdaVpce, lambda_vpce::lean::LeanInvoker) {
    let vpce = client_for(ep, 1, |p| {
        p.protocol(lambda_vpce::pool::Protocol::Auto)
            .h2_connections(n)
    });
    let lean = vpce.lean().expect("lean invoker");
    (vpce, lean)
}

/// `n` lean invokes of `sleep` (50 ms) at once: the connection id each went over.
async fn overlapping_lean_sleeps(lean: &lambda_vpce::lean::LeanInvoker, n: usize) -> Vec<u64> {
    at_once(n, |_| {
        let lean = lean.clone();
        async move {
            lean.invoke(InvokeRequest::new("sleep", r#"{"ms":50}"#))
                .await
                .expect("lean invoke over HTTP/2")
                .connection
                .connection_id
        }
    })
    .await
}

#[tokio::test]
async fn concurrent_streams_spread_over_h2_connections_and_one_caller_at_a_time_keeps_one() {
    let ep = h2_endpoint().await;
    let (vpce, lean) = lean_over_h2_connections(&ep, 2);
    for _ in 0..5 {
        lean.invoke(InvokeRequest::new("echo", "{}"))
            .await
            .expect("one at a time");
    }
    assert_eq!(
        vpce.pool().stats().opened(),
        1,
        "one caller at a time: one connection"
    );

    // Two at once: the second finds the only connection busy and starts a second one in the
    // background (it does not wait for it: both calls run on the first).
    overlapping_lean_sleeps(&lean, 2).await;
    support::wait_until(
        "the background connect",
        std::time::Duration::from_secs(10),
        || vpce.pool().stats().opened() == 2,
    )
    .await;
    let ids: HashSet<u64> = overlapping_lean_sleeps(&lean, 8)
        .await
        .into_iter()
        .collect();
    assert_eq!(
        ids.len(),
        2,
        "new streams go to the least loaded connection: {ids:?}"
    );
    assert_eq!(
        vpce.pool().stats().opened(),
        2,
        "never more than h2_connections"
    );
    assert_eq!(ep.stats().http2_connections, 2);
    assert_eq!(ep.ledger().duplicates(), Vec::<(String, u32)>::new());
}

#[tokio::test]
async fn with_one_h2_connection_every_concurrent_stream_shares_it() {
    let ep = h2_endpoint().await;
    let (vpce, lean) = lean_over_h2_connections(&ep, 1);
    let ids: HashSet<u64> = overlapping_lean_sleeps(&lean, 8)
        .await
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(vpce.pool().stats().opened(), 1);
}

#[test]
fn zero_h2_connections_is_refused_at_build() {
    let err = Pool::builder()
        .h2_connections(0)
        .build()
        .expect_err("at least one connection");
    assert!(err.to_string().contains("h2_connections"), "{err}");
}
