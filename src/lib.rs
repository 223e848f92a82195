//! # lambda-vpce
//!
//! AWS Lambda's `Invoke` and every other Lambda API call from inside a VPC through an
//! interface VPC endpoint (AWS PrivateLink), on a hyper 1.x connection pool tuned so that **no
//! request lands on a connection the server has already dropped**, and **no request that may
//! have reached the server is sent twice** — plus a lean `Invoke` path and an embedded
//! Lambda-compatible endpoint for tests and benchmarks.
//!
//! You get a real [`aws_sdk_lambda::Client`]: every operation, the SDK's own types. The example
//! calls the embedded endpoint, so it needs the `local` feature (on by default).
//!
//! ```
//! # #[cfg(feature = "local")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use aws_sdk_lambda::primitives::Blob;
//! use lambda_vpce::local::LocalEndpoint;
//! use lambda_vpce::LambdaVpce;
//!
//! // A local stand-in for the VPC endpoint; in a VPC use `Endpoint::private_dns(region)`,
//! // `Endpoint::vpce_name(..)` or nothing at all (the region's endpoint is the default).
//! let local = LocalEndpoint::start().await?;
//! let vpce = LambdaVpce::builder()
//!     .endpoint_url(&local.url())
//!     .add_ca_pem(local.ca_pem())
//!     .region(local.region())
//!     .credentials(local.credentials())
//!     .build()
//!     .await?;
//! let out = vpce.client().invoke().function_name("echo").payload(Blob::new("{}")).send().await?;
//! assert_eq!(out.status_code(), 200);
//! assert_eq!(vpce.pool().stats().opened(), 1);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "local"))]
//! # fn main() {}
//! ```
//!
//! ## Map
//! - [`endpoint`]: private DNS, VPCE names (regional, zonal), connect-only VPCE, any URL →
//!   connect host, TLS name, signing host. Pure, validated.
//! - [`pool`]: the connection pool — its module doc is the architecture (the life of one
//!   request, close reasons, locks; HTTP/2's lifecycle in `src/pool/h2/mod.rs`). Usable as a
//!   `tower::Service`.
//! - [`LambdaVpce`] / [`LambdaVpceBuilder`]: the SDK adapter (`HttpClient`/`HttpConnector`)
//!   and the [`RetryPolicy::NeverTwice`] retry policy (the life of an SDK call, step by step,
//!   is `src/sdk/mod.rs`'s doc); [`Settings`]: the endpoint URL, FIPS,
//!   dual-stack and CA bundle of the user's AWS configuration, as aws-config resolves them.
//! - [`Error`]: one error type; [`Error::is_not_sent`] (safe to resend) and
//!   [`Error::is_maybe_executed`] (the function may have run) are the questions that matter.
//! - [`validate`], [`policy`]: Lambda's input rules and VPC endpoint policies.
//! - [`wire`]: Lambda's wire format in one place — header names, invocation types, payload
//!   limits — shared by the client paths, the embedded endpoint and the tests.
//! - [`local`] (feature `local`, default): the embedded endpoint with switchable faults and an
//!   execution ledger.
//!
//! ## Features
//! - `local` (default): [`local::LocalEndpoint`] (hyper server, rcgen certificates).
//! - `cli` (default): the `lambda-vpce` binary (bench, serve, soak, invoke, doctor, policy).
//! - `metrics`: the pool's state and events and every call's verdict through the `metrics`
//!   facade; names and labels in the `metrics` module's docs.
//! - TLS crypto, one of: `aws-lc-rs` (default; post-quantum hybrid key exchange first, as the
//!   SDK's default client), `ring` (classical key exchange only), `fips` (aws-lc-rs's FIPS
//!   140-3 module, FIPS-approved algorithms only). See [`tls`].
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rustdoc::broken_intra_doc_links
)]

mod connect;
pub mod doctor;
pub mod endpoint;
mod error;
pub mod lean;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "metrics")]
pub mod metrics;
mod origin;
pub mod policy;
pub mod pool;
mod protocol;
mod sdk;
mod sign;
pub mod tls;
pub mod validate;
mod verdict;
pub mod wire;

// The one reference SigV4 signer of the unit tests and of `tests/` (aws-sigv4's `sign()`).
#[cfg(test)]
#[path = "../tests/support/sigv4.rs"]
mod reference_sigv4;

// One public path per type: a type of a public module (`endpoint`, `lean`, `pool`, `local`, ...)
// is named through that module only; the root re-exports the private modules' types.
pub use connect::{FnResolver, GaiResolver, Resolve, Resolving};
pub use error::{BuildError, Error};
pub use pool::DEFAULT_RESPONSE_TIMEOUT;
pub use sdk::{
    load_sdk_config, load_sdk_config_for_region, CaBundle, CaBundleSource, LambdaVpce,
    LambdaVpceBuilder, PoolHttpClient, RetryPolicy, Setting, SettingSource, Settings, Signer,
    CA_BUNDLE_ENV, CA_BUNDLE_PROFILE_KEY, MAX_RETRY_AFTER,
};
pub use verdict::Verdict;

// Crate-internal shorthands (not public paths).
pub(crate) use endpoint::Endpoint;
pub(crate) use pool::Pool;
