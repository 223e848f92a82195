//! The `metrics` feature through a Prometheus recorder: a scrape after a few calls shows the
//! numbers `Pool::stats()` reports. Its own binary: the recorder is process-global.

#[path = "../examples/common/scrape.rs"]
mod scrape;
mod support;

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::lean::InvokeRequest;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::pool::CloseReason;
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The value of the sample `name{labels…}` in a Prometheus text scrape.
fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut text = String::new();
    s.read_to_string(&mut text).await.expect("response");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_after_a_few_calls_shows_the_numbers_pool_stats_reports() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this binary");
    let ep = LocalEndpoint::start().await.expect("endpoint");
    let vpce = support::client_for(&ep, 1, |p| p);
    for _ in 0..4 {
        vpce.client()
            .invoke()
            .function_name("echo")
            .payload(Blob::new("{}"))
            .send()
            .await
            .expect("ok");
    }
    let lean = vpce.lean().expect("lean");
    for _ in 0..3 {
        lean.invoke(InvokeRequest::new("echo", "{}"))
            .await
            .expect("ok");
    }
    let missing = vpce
        .client()
        .invoke()
        .function_name("no-such-function")
        .send()
        .await;
    assert!(missing.is_err());
    let refused = lean.invoke(InvokeRequest::new("bad name!", "{}")).await;
    assert!(refused.is_err_and(|e| e.is_invalid_input()));

    let stats = vpce.pool().stats();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(scrape::serve(listener, handle));
    let text = scrape(addr).await;
    server.abort();

    let [host] = stats.origins() else {
        panic!("one origin: {stats:?}")
    };
    let o = [("origin", host.origin())];
    let get = |name: &str| sample(&text, name, &o).unwrap_or_else(|| panic!("{name} in\n{text}"));
    assert_eq!(host.requests(), 8, "4 + 3 ok calls and the service error");
    assert_eq!(
        get("lambda_vpce_pool_requests_total"),
        host.requests() as f64
    );
    assert_eq!(
        get("lambda_vpce_pool_requests_reused_total"),
        host.reused() as f64
    );
    assert_eq!(
        get("lambda_vpce_pool_connections_opened_total"),
        host.opened() as f64
    );
    assert_eq!(
        get("lambda_vpce_pool_unsent_resends_total"),
        host.unsent_resends() as f64
    );
    assert_eq!(get("lambda_vpce_pool_connections_idle"), host.idle() as f64);
    assert_eq!(
        get("lambda_vpce_pool_connections_in_use"),
        host.in_use() as f64
    );
    assert_eq!(
        get("lambda_vpce_pool_connections_open"),
        (host.opened() - host.closed_total()) as f64
    );
    assert_eq!(get("lambda_vpce_pool_waiters"), 0.0);
    assert_eq!(
        get("lambda_vpce_pool_acquire_wait_seconds_count"),
        host.requests() as f64
    );
    for reason in CloseReason::all() {
        let got = sample(
            &text,
            "lambda_vpce_pool_connections_closed_total",
            &[("origin", host.origin()), ("reason", reason.as_str())],
        );
        assert_eq!(got, Some(host.closed(reason) as f64), "{reason}");
    }

    let [address] = stats.addresses() else {
        panic!("one address: {stats:?}")
    };
    let label = address.address().to_string();
    let a = [("address", label.as_str())];
    let per_address =
        |name: &str| sample(&text, name, &a).unwrap_or_else(|| panic!("{name} in\n{text}"));
    assert_eq!(
        per_address("lambda_vpce_pool_address_connections"),
        address.connections() as f64
    );
    assert_eq!(per_address("lambda_vpce_pool_address_ejected"), 0.0);
    assert_eq!(
        per_address("lambda_vpce_pool_address_connect_failures_total"),
        0.0
    );
    assert_eq!(per_address("lambda_vpce_pool_address_ejections_total"), 0.0);

    let calls = |path: &str, verdict: &str| {
        sample(
            &text,
            "lambda_vpce_calls_total",
            &[("path", path), ("verdict", verdict)],
        )
    };
    assert_eq!(calls("sdk", "ok"), Some(4.0));
    assert_eq!(calls("lean", "ok"), Some(3.0));
    assert_eq!(calls("sdk", "service"), Some(1.0));
    assert_eq!(calls("lean", "invalid_input"), Some(1.0));
    assert_eq!(
        calls("sdk", "maybe_executed"),
        None,
        "nothing failed after sending"
    );
    assert!(
        !text.contains(ep.secret_access_key()) && !text.contains("echo"),
        "no credential or function name in a label"
    );
}
