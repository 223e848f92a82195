//! The CA bundle the AWS tools share: `AWS_CA_BUNDLE`, else the selected shared-config
//! profile's `ca_bundle` — the precedence the AWS CLI documents (a command-line flag, then the
//! environment variable, then the profile). Always an *added* trust root: the usual roots stay,
//! and nothing here can switch verification off.
//!
//! Which file is named is read from the `SdkConfig` aws-config's loader yields (see
//! [`Settings`](crate::Settings)), so `AWS_CONFIG_FILE`, `AWS_PROFILE` and a loader's
//! `profile_name` / `profile_files` mean what they mean to the SDK. This file reads and checks
//! the bundle.

use std::path::{Path, PathBuf};

use super::settings::{CA_BUNDLE_ENV, CA_BUNDLE_PROFILE_KEY};
use crate::BuildError;

/// Where a [`CaBundle`] was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaBundleSource {
    /// The [`CA_BUNDLE_ENV`] environment variable.
    Env,
    /// The selected profile's [`CA_BUNDLE_PROFILE_KEY`] in the shared config file.
    Profile,
}

/// A PEM file of CA certificates, read and checked to hold at least one certificate.
#[derive(Debug, Clone)]
pub struct CaBundle {
    path: PathBuf,
    source: CaBundleSource,
    pem: Vec<u8>,
    certificates: usize,
}

impl CaBundle {
    /// Reads `path` as a bundle named by `source`.
    pub fn from_file(
        path: impl AsRef<Path>,
        source: CaBundleSource,
    ) -> Result<CaBundle, BuildError> {
        let path = path.as_ref();
        let field = match source {
            CaBundleSource::Env => CA_BUNDLE_ENV,
            CaBundleSource::Profile => CA_BUNDLE_PROFILE_KEY,
        };
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|e| {
            BuildError::new(
                field,
                shown.clone(),
                format!("a readable PEM file of CA certificates ({e})"),
            )
        })?;
        let mut certificates = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            cert.map_err(|e| {
                BuildError::new(
                    field,
                    shown.clone(),
                    format!("PEM-encoded X.509 certificates ({e})"),
                )
            })?;
            certificates += 1;
        }
        if certificates == 0 {
            return Err(BuildError::new(
                field,
                shown,
                "a PEM file with at least one CERTIFICATE block (it holds none)",
            ));
        }
        Ok(CaBundle {
            path: path.to_path_buf(),
            source,
            pem,
            certificates,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where it was named.
    pub fn source(&self) -> CaBundleSource {
        self.source
    }

    /// The file's bytes, for [`LambdaVpceBuilder::add_ca_pem`](crate::LambdaVpceBuilder::add_ca_pem)
    /// or [`PoolBuilder::add_ca_pem`](crate::pool::PoolBuilder::add_ca_pem).
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// How many certificates it holds (at least one).
    pub fn certificates(&self) -> usize {
        self.certificates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_refused_naming_it() {
        let err = CaBundle::from_file("/no/such/ca.pem", CaBundleSource::Env).unwrap_err();
        assert_eq!(err.field(), "AWS_CA_BUNDLE");
        assert_eq!(err.got(), "/no/such/ca.pem");
        assert!(err.to_string().contains("/no/such/ca.pem"), "{err}");
    }

    #[test]
    fn a_file_with_no_certificate_is_refused_naming_it() {
        let path = std::env::temp_dir().join(format!("lvpce-empty-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = CaBundle::from_file(&path, CaBundleSource::Profile).unwrap_err();
        assert_eq!(err.field(), "ca_bundle");
        assert!(err.expected().contains("holds none"), "{err}");
        assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
        let _ = std::fs::remove_file(&path);
    }
}
