//! lambda-vpce (work in progress).
#![forbid(unsafe_code)]

mod error;

pub use error::{BuildError, Error};

#[cfg(feature = "local")]
pub mod local;
