//! Zonal affinity: the zonal VPCE name `vpce-ID-SUFFIX-AZ.lambda...` reaches only the
//! endpoint's ENI in one availability zone, keeping traffic in the caller's AZ (no cross-AZ
//! data charge or hop). The pool falls back to the regional name when the zonal one fails.
//!
//! Caution (Lambda guide): use1-az3 is capacity-constrained for Lambda VPC functions. AZ
//! *names* (us-east-1a) map to different zone *ids* (use1-az1) in every account; check yours
//! with `aws ec2 describe-availability-zones`.
//!
//! `cargo run --example zonal_affinity`: with `LAMBDA_VPCE_NAME` (regional VPCE name),
//! `LAMBDA_VPCE_AZ` (like us-east-1a) and AWS credentials, invokes `$LAMBDA_FUNCTION` through
//! the zonal name; without, shows the zonal endpoint and invokes the embedded endpoint.

mod common;

use lambda_vpce::doctor::zone_notes;
use lambda_vpce::{endpoint::Endpoint, LambdaVpce};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let configured = std::env::var("LAMBDA_VPCE_NAME")
        .ok()
        .zip(std::env::var("LAMBDA_VPCE_AZ").ok());
    let (name, az) = configured.clone().unwrap_or_else(|| {
        (
            "vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com".to_owned(),
            "us-east-1a".to_owned(),
        )
    });
    let endpoint = Endpoint::vpce_name(&name)?.zonal(&az)?;
    println!("zonal:    {}", endpoint.connect_host());
    println!(
        "fallback: {}",
        endpoint.fallback_connect_host().unwrap_or("-")
    );
    for note in zone_notes(&endpoint) {
        println!("{:?}: {}", note.severity, note.message);
    }

    let mut local = None;
    let (lambda, function) = if configured.is_some() {
        let function = std::env::var("LAMBDA_FUNCTION")?;
        (
            LambdaVpce::builder().endpoint(endpoint).build().await?,
            function,
        )
    } else {
        println!("no LAMBDA_VPCE_NAME/LAMBDA_VPCE_AZ: invoking the embedded endpoint instead");
        let (server, lambda) = common::local_client().await?;
        local = Some(server);
        (lambda, "echo".to_owned())
    };

    for _ in 0..3 {
        lambda
            .client()
            .invoke()
            .function_name(&function)
            .send()
            .await?;
    }
    for host in lambda.pool().stats().origins() {
        println!(
            "{}: opened {}, reused {}, on zonal fallback: {}",
            host.origin(),
            host.opened(),
            host.reused(),
            host.on_zonal_fallback()
        );
    }
    if let Some(server) = local {
        server.shutdown().await;
    }
    Ok(())
}
