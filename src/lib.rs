//! lambda-vpce (work in progress).
#![forbid(unsafe_code)]

mod connect;
pub mod doctor;
pub mod endpoint;
mod error;
#[cfg(feature = "local")]
pub mod local;
pub mod policy;
pub mod pool;
mod sdk;
pub mod validate;

pub use connect::{FnResolver, GaiResolver, Resolve, Resolving};
pub use endpoint::{Endpoint, EndpointKind, VpceName};
pub use error::{BuildError, Error};
pub use pool::{Pool, PoolBuilder};
pub use sdk::{
    LambdaClientBuilder, LambdaVpce, PoolHttpClient, RetryPolicy, DEFAULT_RESPONSE_TIMEOUT,
    MAX_RETRY_AFTER,
};
