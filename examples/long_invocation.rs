//! A long synchronous invoke: Lambda keeps the HTTP exchange open for as long as the function
//! runs (up to 15 minutes), so the client needs a response timeout above that, and TCP
//! keepalive so that a silent connection is neither dropped by a middlebox nor left hanging
//! when the peer is gone.
//!
//! `cargo run --example long_invocation`: with AWS_REGION and credentials, invokes
//! `$LAMBDA_FUNCTION` through private DNS; without, invokes the embedded endpoint's `sleep`
//! function for 3 seconds.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::{endpoint::Endpoint, pool::PoolBuilder, LambdaVpce};

/// Lambda's longest function timeout, plus a margin for the response to arrive.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(15 * 60 + 10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // First keepalive probe after 30 s of silence, then every 10 s, give up after 3.
    let pool =
        PoolBuilder::new().tcp_keepalive(Duration::from_secs(30), Duration::from_secs(10), 3);
    let builder = LambdaVpce::builder()
        .response_timeout(RESPONSE_TIMEOUT)
        // One attempt: a long invoke that failed after it was sent may have run.
        .max_attempts(1);

    let mut local = None;
    let (lambda, function) = match std::env::var("AWS_REGION") {
        Ok(region) => {
            let lambda = builder
                .pool(pool)
                .endpoint(Endpoint::private_dns(&region)?)
                .build()
                .await?;
            (lambda, std::env::var("LAMBDA_FUNCTION")?)
        }
        Err(_) => {
            println!("no AWS_REGION: using the embedded endpoint's `sleep` function");
            let (server, lambda) = common::local_client_from(builder.pool(pool)).await?;
            local = Some(server);
            (lambda, "sleep".to_owned())
        }
    };

    let config = lambda.pool().config();
    println!(
        "response timeout {RESPONSE_TIMEOUT:?}; idle timeout {:?}; dead peer noticed within {:?}",
        config.idle_timeout(),
        config.dead_peer_detection()
    );
    let started = Instant::now();
    let out = lambda
        .client()
        .invoke()
        .function_name(&function)
        .payload(Blob::new(r#"{"ms": 3000}"#))
        .send()
        .await?;
    println!(
        "status {} after {:.1} s",
        out.status_code(),
        started.elapsed().as_secs_f64()
    );
    if let Some(server) = local {
        server.shutdown().await;
    }
    Ok(())
}
