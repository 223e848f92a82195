//! Shared by the CLI tests: an embedded endpoint, its CA file, and commands whose AWS chain
//! finds only the endpoint's credentials (no profile, no instance metadata).

use std::path::PathBuf;
use std::process::Command;

use lambda_vpce::local::{LocalEndpoint, LocalEndpointBuilder};

/// The `lambda-vpce` binary: Cargo sets its path for the tests of its own package
/// (`crates/cli`) only; the library's tests, which share this module, have none.
const BIN_PATH: Option<&str> = option_env!("CARGO_BIN_EXE_lambda-vpce");

/// The path of the `lambda-vpce` binary cargo built for the CLI crate's tests.
pub fn bin_path() -> &'static str {
    BIN_PATH.expect("the lambda-vpce binary is built for the CLI crate's tests only")
}

/// A command running the binary, with the caller's environment.
pub fn bin() -> Command {
    Command::new(bin_path())
}

pub struct CliFixture {
    pub endpoint: LocalEndpoint,
    pub dir: PathBuf,
}

impl CliFixture {
    /// Starts an endpoint and writes its CA to `<tmp>/lambda-vpce-<name>-<pid>-<port>/ca.pem`.
    pub async fn start(name: &str) -> CliFixture {
        Self::start_with(name, LocalEndpoint::builder()).await
    }

    /// [`start`](Self::start) with an endpoint built from `builder`.
    pub async fn start_with(name: &str, builder: LocalEndpointBuilder) -> CliFixture {
        let endpoint = builder.start().await.expect("endpoint starts");
        let dir = super::scratch_dir(name, endpoint.addr().port());
        endpoint
            .write_ca_pem(dir.join("ca.pem"))
            .expect("CA written");
        std::fs::write(dir.join("empty"), "").expect("empty file");
        CliFixture { endpoint, dir }
    }

    /// The binary with a clean environment; with `credentials`, the endpoint's keys.
    pub fn command(&self, credentials: bool) -> Command {
        let mut cmd = bin();
        cmd.env_clear()
            .env("HOME", &self.dir)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.dir.join("empty"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.join("empty"));
        if credentials {
            cmd.env("AWS_ACCESS_KEY_ID", self.endpoint.access_key_id())
                .env("AWS_SECRET_ACCESS_KEY", self.endpoint.secret_access_key());
        }
        cmd
    }
}

impl Drop for CliFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
