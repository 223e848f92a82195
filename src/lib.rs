//! lambda-vpce (work in progress).
#![forbid(unsafe_code)]

mod connect;
pub mod endpoint;
mod error;
pub mod lean;
pub mod policy;
pub mod pool;
mod sdk;
pub mod validate;

pub use connect::{FnResolver, GaiResolver, Resolve, Resolving};
pub use endpoint::{Endpoint, EndpointKind, VpceName};
pub use error::{BuildError, Error};
pub use lean::{InvokeRequest, InvokeResponse, LeanInvoker, LeanInvokerBuilder};
pub use pool::{Pool, PoolBuilder};
pub use sdk::{
    LambdaClientBuilder, LambdaVpce, PoolHttpClient, RetryPolicy, DEFAULT_RESPONSE_TIMEOUT,
    MAX_RETRY_AFTER,
};
