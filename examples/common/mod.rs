//! Shared by the examples: the embedded endpoint and a client for it, used when no AWS
//! configuration is present.

use aws_sdk_lambda::config::Credentials;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::LambdaVpce;

/// Starts the embedded endpoint and builds the crate's client for it (its CA trusted, its
/// region and test credentials).
pub async fn local_client() -> Result<(LocalEndpoint, LambdaVpce), Box<dyn std::error::Error>> {
    let server = LocalEndpoint::start().await?;
    let lambda = LambdaVpce::builder()
        .endpoint_url(&server.url())
        .add_ca_pem(server.ca_pem())
        .region(server.region())
        .credentials(Credentials::new(
            server.access_key_id(),
            server.secret_access_key(),
            None,
            None,
            "example",
        ))
        .build()
        .await?;
    Ok((server, lambda))
}
