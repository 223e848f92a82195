//! The endpoint's own DNS name: when private DNS is off (or cannot be used), connect to
//! `vpce-ID-SUFFIX.lambda.REGION.vpce.amazonaws.com`. AWS's certificate covers
//! `*.lambda.REGION.vpce.amazonaws.com`, so TLS verifies as usual.
//!
//! `cargo run --example vpce_hostname`: with `LAMBDA_VPCE_NAME` (a VPCE DNS name) and AWS
//! credentials, invokes `$LAMBDA_FUNCTION` through it; without, parses an example name and
//! invokes `echo` on the embedded local endpoint.

mod common;

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::{endpoint::Endpoint, LambdaVpce};

const EXAMPLE_NAME: &str = "vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::var("LAMBDA_VPCE_NAME").ok();
    let endpoint = Endpoint::vpce_name(name.as_deref().unwrap_or(EXAMPLE_NAME))?;
    println!(
        "VPCE {} in {}: connect {}, TLS name {}, signed host {}",
        endpoint.vpce_id().unwrap_or("?"),
        endpoint.region().unwrap_or("?"),
        endpoint.connect_host(),
        endpoint.sni(),
        endpoint.signing_host()
    );

    let mut local = None;
    let (lambda, function) = if name.is_some() {
        let function = std::env::var("LAMBDA_FUNCTION")?;
        (
            LambdaVpce::builder().endpoint(endpoint).build().await?,
            function,
        )
    } else {
        println!("no LAMBDA_VPCE_NAME: invoking the embedded endpoint instead");
        let (server, lambda) = common::local_client().await?;
        local = Some(server);
        (lambda, "echo".to_owned())
    };

    let out = lambda
        .client()
        .invoke()
        .function_name(&function)
        .payload(Blob::new(r#"{"via":"vpce hostname"}"#))
        .send()
        .await?;
    println!("status {} from {}", out.status_code(), lambda.endpoint());
    if let Some(server) = local {
        server.shutdown().await;
    }
    Ok(())
}
