//! Shared by the examples: the embedded endpoint and a client for it, used when no AWS
//! configuration is present.
#![allow(dead_code)] // each example uses one of the two helpers

use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::{LambdaVpce, LambdaVpceBuilder};

/// Starts the embedded endpoint and builds the crate's client for it (its CA trusted, its
/// region and test credentials).
pub async fn local_client() -> Result<(LocalEndpoint, LambdaVpce), Box<dyn std::error::Error>> {
    local_client_from(LambdaVpce::builder()).await
}

/// Like [`local_client`], on top of `builder`'s own settings.
pub async fn local_client_from(
    builder: LambdaVpceBuilder,
) -> Result<(LocalEndpoint, LambdaVpce), Box<dyn std::error::Error>> {
    let server = LocalEndpoint::start().await?;
    let lambda = builder
        .endpoint_url(&server.url())
        .add_ca_pem(server.ca_pem())
        .region(server.region())
        .credentials(server.credentials())
        .build()
        .await?;
    Ok((server, lambda))
}
