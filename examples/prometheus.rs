//! The pool's metrics on a Prometheus scrape endpoint (cargo feature `metrics`).
//!
//! `cargo run --features metrics --example prometheus`: installs the Prometheus recorder
//! (before the client is built: handles registered earlier go nowhere), makes a few invokes
//! through the SDK client and the lean path against the embedded endpoint, prints one scrape
//! and keeps serving `http://127.0.0.1:9464/metrics` (`METRICS_ADDR` to change it; loopback
//! only) until Ctrl-C.

mod common;
#[path = "common/scrape.rs"]
mod scrape;

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::lean::InvokeRequest;
use metrics_exporter_prometheus::PrometheusBuilder;

/// Where the scrape endpoint listens by default.
const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    let (_server, lambda) = common::local_client().await?;
    for _ in 0..5 {
        lambda
            .client()
            .invoke()
            .function_name("echo")
            .payload(Blob::new("{}"))
            .send()
            .await?;
    }
    let lean = lambda.lean()?;
    for _ in 0..5 {
        lean.invoke(InvokeRequest::new("echo", "{}")).await?;
    }
    // A service error, counted with verdict="service".
    let _ = lambda
        .client()
        .invoke()
        .function_name("no-such-function")
        .send()
        .await;
    let stats = lambda.pool().stats();

    let addr = std::env::var("METRICS_ADDR").unwrap_or_else(|_| DEFAULT_METRICS_ADDR.to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    if !listener.local_addr()?.ip().is_loopback() {
        return Err("METRICS_ADDR must be a loopback address in this example".into());
    }
    println!(
        "pool stats: opened {} requests {} reused {}",
        stats.opened(),
        stats.requests(),
        stats.reused()
    );
    handle.run_upkeep();
    for line in handle
        .render()
        .lines()
        .filter(|l| l.starts_with("lambda_vpce_"))
    {
        println!("{line}");
    }
    println!(
        "serving http://{}/metrics until Ctrl-C",
        listener.local_addr()?
    );
    tokio::select! {
        _ = scrape::serve(listener, handle) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
