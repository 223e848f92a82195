//! Response streaming: `InvokeWithResponseStream` returns the payload as an event stream of
//! chunks, then a completion event (with the error, if any, and the log tail).
//!
//! `cargo run --example streaming`: with AWS_REGION and credentials, streams
//! `$LAMBDA_FUNCTION` through private DNS; without, streams the embedded endpoint's `echo`.

mod common;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
use lambda_vpce::{endpoint::Endpoint, LambdaVpce};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut local = None;
    let (lambda, function) = match std::env::var("AWS_REGION") {
        Ok(region) => {
            let endpoint = Endpoint::private_dns(&region)?;
            let lambda = LambdaVpce::builder().endpoint(endpoint).build().await?;
            (lambda, std::env::var("LAMBDA_FUNCTION")?)
        }
        Err(_) => {
            println!("no AWS_REGION: streaming from the embedded endpoint");
            let (server, lambda) = common::local_client().await?;
            local = Some(server);
            (lambda, "echo".to_owned())
        }
    };

    let mut out = lambda
        .client()
        .invoke_with_response_stream()
        .function_name(&function)
        .payload(Blob::new(r#"{"message":"streamed back in chunks"}"#))
        .send()
        .await?;
    println!("status {}", out.status_code());
    while let Some(event) = out.event_stream.recv().await? {
        match event {
            Event::PayloadChunk(chunk) => {
                let bytes = chunk.payload().map(|b| b.as_ref()).unwrap_or_default();
                println!(
                    "chunk ({} bytes): {}",
                    bytes.len(),
                    String::from_utf8_lossy(bytes)
                );
            }
            Event::InvokeComplete(done) => {
                println!("complete; error: {:?}", done.error_code());
            }
            _ => println!("(an event this example does not know)"),
        }
    }
    if let Some(server) = local {
        server.shutdown().await;
    }
    Ok(())
}
