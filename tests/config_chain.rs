//! What `LambdaVpceBuilder::build` asks the standard AWS configuration chain for. These tests
//! point the instance metadata service (IMDS) at a local listener through the process
//! environment, so this binary holds only them and each takes `ENV` for its whole run.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use lambda_vpce::LambdaVpce;
use tokio::net::TcpListener;

/// Serialises the tests of this binary: the environment is process-wide.
static ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A stand-in for the instance metadata service that counts the connections made to it and
/// closes each at once (so a client that asks fails fast instead of waiting for a timeout),
/// and an environment in which nothing else gives a region: no `AWS_REGION`, no profile.
async fn imds_that_counts() -> Arc<AtomicUsize> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let dir = support::scratch_dir("chain", addr.port());
    std::fs::write(dir.join("config"), "").expect("config");
    for var in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("config"));
    std::env::set_var(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        format!("http://{addr}"),
    );
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    connections
}

#[tokio::test]
async fn a_region_given_to_the_builder_is_not_looked_up_in_the_instance_metadata_service() {
    let _env = ENV.lock().await;
    let imds = imds_that_counts().await;
    let vpce = LambdaVpce::builder()
        .endpoint_url("https://127.0.0.1:9")
        .region("eu-west-1")
        .build()
        .await
        .expect("builds");
    assert_eq!(
        vpce.client().config().region().map(|r| r.as_ref()),
        Some("eu-west-1")
    );
    assert_eq!(
        imds.load(Ordering::SeqCst),
        0,
        "no IMDS call for a known region"
    );
}

#[tokio::test]
async fn without_a_region_the_chain_asks_the_instance_metadata_service() {
    // The other half of the test above: the stand-in sees the chain's region lookup, so a
    // count of 0 there means the lookup was skipped, not that the stand-in missed it.
    let _env = ENV.lock().await;
    let imds = imds_that_counts().await;
    let built = LambdaVpce::builder()
        .endpoint_url("https://127.0.0.1:9")
        .build()
        .await;
    assert!(built.is_err(), "no region anywhere: a BuildError");
    assert!(
        imds.load(Ordering::SeqCst) >= 1,
        "the region chain asked IMDS"
    );
}
