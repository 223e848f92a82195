//! `AWS_CA_BUNDLE` and the profile's `ca_bundle` through `LambdaVpceBuilder::build`, the SDK
//! client and the lean path. These tests change the process environment, so this binary holds
//! only them and each takes `ENV` for its whole run.

mod support;

use std::path::PathBuf;

use aws_credential_types::Credentials;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::{lean::InvokeRequest, LambdaVpce};

/// Serialises the tests of this binary: the environment is process-wide. (An async mutex:
/// each test holds it across its awaits.)
static ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An endpoint, a temp dir holding its CA as `ca.pem`, and an environment in which only the
/// given CA variables are set (no user profile is read).
struct Setup {
    ep: LocalEndpoint,
    dir: PathBuf,
}

impl Setup {
    async fn start(name: &str) -> Setup {
        let ep = LocalEndpoint::start().await.expect("endpoint");
        let dir = support::scratch_dir(&format!("ca-{name}"), ep.addr().port());
        ep.write_ca_pem(dir.join("ca.pem")).expect("ca");
        std::fs::write(dir.join("config"), "").expect("config");
        std::env::remove_var("AWS_CA_BUNDLE");
        std::env::remove_var("AWS_PROFILE");
        std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("config"));
        Setup { ep, dir }
    }

    /// Built the way an application builds it: no `add_ca_pem`.
    async fn build(&self) -> Result<LambdaVpce, lambda_vpce::BuildError> {
        LambdaVpce::builder()
            .endpoint_url(&self.ep.url())
            .region(self.ep.region())
            .credentials(Credentials::new(
                self.ep.access_key_id(),
                self.ep.secret_access_key(),
                None,
                None,
                "test",
            ))
            .max_attempts(1)
            .build()
            .await
    }

    /// One invoke through the SDK client and one through the lean path.
    async fn both_paths_succeed(&self) {
        let vpce = self.build().await.expect("builds");
        let out = vpce
            .client()
            .invoke()
            .function_name("echo")
            .send()
            .await
            .expect("the SDK client trusts the bundle");
        assert_eq!(out.status_code(), 200);
        let lean = vpce.lean().expect("lean");
        let out = lean
            .invoke(InvokeRequest::new("echo", "{}"))
            .await
            .expect("the lean path shares the pool's trust");
        assert_eq!(out.status_code, 200);
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        std::env::remove_var("AWS_CA_BUNDLE");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn aws_ca_bundle_is_trusted_by_the_sdk_client_and_the_lean_path() {
    let _env = ENV.lock().await;
    let s = Setup::start("env").await;
    std::env::set_var("AWS_CA_BUNDLE", s.dir.join("ca.pem"));
    s.both_paths_succeed().await;
}

#[tokio::test]
async fn the_profiles_ca_bundle_is_trusted() {
    let _env = ENV.lock().await;
    let s = Setup::start("profile").await;
    let ca = s.dir.join("ca.pem");
    std::fs::write(
        s.dir.join("config"),
        format!(
            "[default]\nregion = us-east-1\nca_bundle = {}\n",
            ca.display()
        ),
    )
    .unwrap();
    s.both_paths_succeed().await;
}

#[tokio::test]
async fn the_variable_wins_over_the_profile() {
    let _env = ENV.lock().await;
    let s = Setup::start("precedence").await;
    std::fs::write(
        s.dir.join("config"),
        "[default]\nca_bundle = /no/such/profile.pem\n",
    )
    .unwrap();
    std::env::set_var("AWS_CA_BUNDLE", s.dir.join("ca.pem"));
    s.both_paths_succeed().await;
}

#[tokio::test]
async fn with_neither_the_endpoints_ca_is_not_trusted_and_nothing_is_sent() {
    let _env = ENV.lock().await;
    let s = Setup::start("neither").await;
    let vpce = s.build().await.expect("builds without a bundle");
    let err = vpce
        .client()
        .invoke()
        .function_name("echo")
        .send()
        .await
        .expect_err("an unknown CA");
    let ours = lambda_vpce::Error::find_in(&err).expect("the crate's error");
    assert!(ours.is_tls() && ours.is_not_sent(), "{ours:?}");
    assert_eq!(s.ep.stats().requests, 0);
}

#[tokio::test]
async fn a_missing_bundle_fails_build_naming_the_variable_and_the_file() {
    let _env = ENV.lock().await;
    let s = Setup::start("missing").await;
    let missing = s.dir.join("missing.pem");
    std::env::set_var("AWS_CA_BUNDLE", &missing);
    let e = s.build().await.expect_err("refused");
    assert_eq!(e.field(), "AWS_CA_BUNDLE");
    assert!(e.to_string().contains(missing.to_str().unwrap()), "{e}");
}

#[tokio::test]
async fn a_profile_bundle_with_no_certificate_fails_build_naming_the_key_and_the_file() {
    let _env = ENV.lock().await;
    let s = Setup::start("empty").await;
    let empty = s.dir.join("empty.pem");
    std::fs::write(&empty, "# no certificate here\n").unwrap();
    std::fs::write(
        s.dir.join("config"),
        format!("[default]\nca_bundle = {}\n", empty.display()),
    )
    .unwrap();
    let e = s.build().await.expect_err("refused");
    assert_eq!(e.field(), "ca_bundle");
    assert!(e.to_string().contains(empty.to_str().unwrap()), "{e}");
}
