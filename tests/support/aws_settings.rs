//! AWS configurations made the way a user makes them — an environment and a shared config
//! file — loaded by aws-config's own loader (`ConfigLoader::env` / `fs`, no process state), and
//! the two answers to "where does this configuration send Lambda calls?": aws-sdk-lambda's own
//! client's and this crate's.

use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::retry::RetryConfig;
use aws_types::os_shim_internal::{Env, Fs};
use lambda_vpce::{BuildError, LambdaVpce};

/// Where the fake shared config file lives.
pub const CONFIG_FILE: &str = "/fake-home/.aws/config";

/// Loads an `SdkConfig` from `env` (plus `AWS_CONFIG_FILE` pointing at `config_file`, and the
/// instance metadata service switched off) with aws-config's loader, as `build` does for a
/// user, and a client that records requests instead of sending them.
pub async fn load(env: &[(&str, &str)], config_file: &str) -> SdkConfig {
    let mut vars: Vec<(&str, &str)> = vec![
        ("AWS_CONFIG_FILE", CONFIG_FILE),
        ("AWS_SHARED_CREDENTIALS_FILE", "/fake-home/.aws/credentials"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("HOME", "/fake-home"),
    ];
    vars.extend_from_slice(env);
    aws_config::defaults(BehaviorVersion::latest())
        .env(Env::from_slice(&vars))
        .fs(Fs::from_slice(&[(CONFIG_FILE, config_file)]))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .retry_config(RetryConfig::disabled())
        .http_client(Recorder::default())
        .load()
        .await
}

/// An HTTP client that records each request's URI and answers none.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    /// The URIs recorded so far.
    pub fn uris(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl HttpClient for Recorder {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for Recorder {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.0.lock().unwrap().push(request.uri().to_owned());
        HttpConnectorFuture::ready(Err(ConnectorError::other(
            "recorded, not sent".into(),
            None,
        )))
    }
}

/// `scheme://authority` of a URI.
fn origin(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").expect("absolute URI");
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

/// Where aws-sdk-lambda's own client sends a call under `config` (with `endpoint_url` set on its
/// service config when given, as a user's code would): its origin, or the SDK's refusal.
pub async fn sdk_origin(config: &SdkConfig, endpoint_url: Option<&str>) -> Result<String, String> {
    let recorder = Recorder::default();
    let mut conf = aws_sdk_lambda::config::Builder::from(config).http_client(recorder.clone());
    if let Some(url) = endpoint_url {
        conf = conf.endpoint_url(url);
    }
    let client = aws_sdk_lambda::Client::from_conf(conf.build());
    let result = client.list_functions().send().await;
    match recorder.uris().first() {
        Some(uri) => Ok(origin(uri)),
        None => Err(format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(result.expect_err("not sent"))
        )),
    }
}

/// Where this crate sends a call under `config` (with `endpoint_url` given to its builder when
/// given): its endpoint's origin, or the build's refusal.
pub fn crate_origin(config: &SdkConfig, endpoint_url: Option<&str>) -> Result<String, BuildError> {
    let mut builder = LambdaVpce::builder().sdk_config(config);
    if let Some(url) = endpoint_url {
        builder = builder.endpoint_url(url);
    }
    builder.build_sync().map(|v| v.endpoint().url())
}

/// Builds this crate's client under `config`.
pub fn crate_client(config: &SdkConfig) -> Result<LambdaVpce, BuildError> {
    LambdaVpce::builder().sdk_config(config).build_sync()
}

/// A file of the aws-sdk-lambda sources in use (`path` relative to the crate's root): the version
/// this workspace's `Cargo.lock` pins, in Cargo's registry sources. Tests read the SDK's own
/// operation list and partition table from there, so a newer SDK's additions cannot be missed.
pub fn sdk_source(path: &str) -> String {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"aws-sdk-lambda\"\n"))
        .and_then(|p| {
            p.lines()
                .find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
        })
        .expect("aws-sdk-lambda in Cargo.lock");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cargo")
        });
    let registries = std::fs::read_dir(cargo_home.join("registry/src")).expect("registry sources");
    let file = registries
        .filter_map(Result::ok)
        .map(|d| {
            d.path()
                .join(format!("aws-sdk-lambda-{version}"))
                .join(path)
        })
        .find(|p| p.exists())
        .expect("the SDK's sources");
    std::fs::read_to_string(file).expect("readable")
}

/// Every partition of aws-sdk-lambda's endpoint resolver, with its implicit global region (a
/// region of that partition): read from the partition table the resolver is built from.
pub fn sdk_partitions() -> Vec<(String, String)> {
    let text = sdk_source("src/endpoint_lib.rs");
    let field = |from: &str, key: &str| -> Option<String> {
        let marker = format!("\\\"{key}\\\":\\\"");
        let start = from.find(&marker)? + marker.len();
        let end = from[start..].find('\\')?;
        Some(from[start..start + end].to_owned())
    };
    let id_marker = "{\\\"id\\\":\\\"";
    text.match_indices(id_marker)
        .filter_map(|(at, _)| {
            let rest = &text[at + 1..];
            Some((field(rest, "id")?, field(rest, "implicitGlobalRegion")?))
        })
        .collect()
}
