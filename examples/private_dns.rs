//! Private DNS: the interface endpoint has private DNS enabled, so the regional name
//! `lambda.REGION.amazonaws.com` resolves to the endpoint's private IPs inside the VPC and
//! code calls Lambda exactly as it would without an endpoint.
//!
//! `cargo run --example private_dns`: with AWS configuration (AWS_REGION and credentials),
//! invokes `$LAMBDA_FUNCTION` through `lambda.$AWS_REGION.amazonaws.com`; without it, invokes
//! `echo` on the embedded local endpoint.

mod common;

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::{endpoint::Endpoint, LambdaVpce};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut local = None;
    let (lambda, function) = match std::env::var("AWS_REGION") {
        Ok(region) => {
            // Region and credentials come from the standard AWS chain.
            let endpoint = Endpoint::private_dns(&region)?;
            let function = std::env::var("LAMBDA_FUNCTION")?;
            (
                LambdaVpce::builder().endpoint(endpoint).build().await?,
                function,
            )
        }
        Err(_) => {
            println!("no AWS_REGION: using the embedded endpoint");
            println!(
                "(in us-east-1 this example would connect to {})",
                Endpoint::private_dns("us-east-1")?.connect_host()
            );
            let (server, lambda) = common::local_client().await?;
            local = Some(server);
            (lambda, "echo".to_owned())
        }
    };

    println!("endpoint: {}", lambda.endpoint());
    let out = lambda
        .client()
        .invoke()
        .function_name(&function)
        .payload(Blob::new(r#"{"hello":"private dns"}"#))
        .send()
        .await?;
    println!("status {}", out.status_code());
    if let Some(payload) = out.payload() {
        println!("payload {}", String::from_utf8_lossy(payload.as_ref()));
    }
    if let Some(server) = local {
        server.shutdown().await;
    }
    Ok(())
}
