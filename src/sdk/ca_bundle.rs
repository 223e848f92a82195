//! The CA bundle the AWS tools share: `AWS_CA_BUNDLE`, else the selected shared-config
//! profile's `ca_bundle` — the precedence the AWS CLI documents (a command-line flag, then the
//! environment variable, then the profile). Always an *added* trust root: the usual roots stay,
//! and nothing here can switch verification off.
//!
//! The profile is read with aws-config's own loader (`aws_config::profile::load`), so
//! `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE` and `AWS_PROFILE` mean what they mean to
//! the SDK.

use std::path::{Path, PathBuf};

use aws_types::os_shim_internal::{Env, Fs};

use crate::BuildError;

/// The environment variable naming a PEM file of CA certificates to trust.
pub const CA_BUNDLE_ENV: &str = "AWS_CA_BUNDLE";

/// The shared config file's profile key naming a PEM file of CA certificates to trust.
pub const CA_BUNDLE_PROFILE_KEY: &str = "ca_bundle";

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
    /// The bundle the environment names: `AWS_CA_BUNDLE` when set and not empty, else the
    /// selected profile's `ca_bundle` (a leading `~/` is the home directory), else `None`.
    /// A named file that cannot be read, holds no certificate or does not parse is a
    /// [`BuildError`] naming the variable or the profile key and the file.
    pub async fn from_environment() -> Result<Option<CaBundle>, BuildError> {
        Self::resolve(&Env::real(), &Fs::real()).await
    }

    pub(crate) async fn resolve(env: &Env, fs: &Fs) -> Result<Option<CaBundle>, BuildError> {
        if let Ok(path) = env.get(CA_BUNDLE_ENV) {
            if !path.is_empty() {
                return Self::from_file(path, CaBundleSource::Env).map(Some);
            }
        }
        let files = aws_runtime::env_config::file::EnvConfigFiles::default();
        let profiles = aws_config::profile::load(fs, env, &files, None)
            .await
            .map_err(|e| {
                BuildError::new(
                    CA_BUNDLE_PROFILE_KEY,
                    e.to_string(),
                    "a shared config file that parses (AWS_CONFIG_FILE, ~/.aws/config)",
                )
            })?;
        match profiles.get(CA_BUNDLE_PROFILE_KEY) {
            Some(path) if !path.trim().is_empty() => {
                let path = expand_home(path.trim(), env);
                Self::from_file(path, CaBundleSource::Profile).map(Some)
            }
            _ => Ok(None),
        }
    }

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

fn expand_home(path: &str, env: &Env) -> PathBuf {
    match (path.strip_prefix("~/"), env.get("HOME")) {
        (Some(rest), Ok(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTest\n-----END CERTIFICATE-----\n";

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::from_slice(vars)
    }

    fn fs(files: &[(&str, &str)]) -> Fs {
        Fs::from_slice(files)
    }

    #[tokio::test]
    async fn neither_the_variable_nor_the_profile_names_no_bundle() {
        let got = CaBundle::resolve(&env(&[("HOME", "/nonexistent-home")]), &fs(&[]))
            .await
            .unwrap();
        assert!(got.is_none());
    }

    #[tokio::test]
    async fn a_profile_without_ca_bundle_names_no_bundle() {
        let e = env(&[("AWS_CONFIG_FILE", "/cfg")]);
        let got = CaBundle::resolve(&e, &fs(&[("/cfg", "[default]\nregion = us-east-1\n")]))
            .await
            .unwrap();
        assert!(got.is_none());
    }

    #[tokio::test]
    async fn the_selected_profiles_ca_bundle_is_used_with_its_home_expanded() {
        let dir = std::env::temp_dir().join(format!("lvpce-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), CERT).unwrap();
        let home = dir.to_str().unwrap();
        let e = env(&[
            ("AWS_CONFIG_FILE", "/cfg"),
            ("AWS_PROFILE", "proxy"),
            ("HOME", home),
        ]);
        let cfg = "[default]\nca_bundle = /nowhere.pem\n[profile proxy]\nca_bundle = ~/ca.pem\n";
        let got = CaBundle::resolve(&e, &fs(&[("/cfg", cfg)]))
            .await
            .unwrap()
            .expect("the profile names a bundle");
        assert_eq!(got.source(), CaBundleSource::Profile);
        assert_eq!(got.path(), dir.join("ca.pem"));
        assert_eq!(got.certificates(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_variable_wins_over_the_profile() {
        let e = env(&[
            ("AWS_CONFIG_FILE", "/cfg"),
            (CA_BUNDLE_ENV, "/from-env.pem"),
        ]);
        let err = CaBundle::resolve(&e, &fs(&[("/cfg", "[default]\nca_bundle = /p.pem\n")]))
            .await
            .unwrap_err();
        assert_eq!(err.field(), CA_BUNDLE_ENV);
        assert_eq!(err.got(), "/from-env.pem");
    }

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
