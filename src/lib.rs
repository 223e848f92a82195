//! lambda-vpce (work in progress).
#![forbid(unsafe_code)]

pub mod endpoint;
mod error;
pub mod policy;
pub mod validate;

pub use endpoint::{Endpoint, EndpointKind, VpceName};
pub use error::{BuildError, Error};
