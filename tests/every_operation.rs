//! Every operation of aws-sdk-lambda, byte-checked: each is sent through this crate's client and
//! through the SDK's own default client (hyper, no pool), both with the same fixed credentials,
//! clock and invocation id, to a recording endpoint; method, path, query, every header but the
//! user agents and `Authorization`, and body must be identical, and so must the list of signed
//! headers. Each client's signature is then recomputed with aws-sigv4 from the recorded request
//! and must match (the two differ only because each signs its own `x-amz-user-agent`). The list
//! of operations is read from the SDK in use (its `operation` module), so a new operation cannot
//! be missed.

mod support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_runtime::invocation_id::{InvocationId, InvocationIdGenerator};
use aws_sdk_lambda::primitives::{Blob, ByteStream};
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::retry::RetryConfig;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use lambda_vpce::wire::header;
use lambda_vpce::LambdaVpce;
use support::sigv4::ReferenceSigner;

/// A function reference whose path label needs encoding (`:` → `%3A`).
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";

/// One request as the endpoint received it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    method: String,
    path_and_query: String,
    /// Lowercase names, sorted.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Recorded>>>;

/// A plain-HTTP endpoint on loopback that records every request and answers `200 {}`.
async fn recording_endpoint() -> (String, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Log::default();
    let kept = log.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let log = kept.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let log = log.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let mut headers: Vec<(String, String)> = parts
                            .headers
                            .iter()
                            .map(|(n, v)| {
                                (
                                    n.as_str().to_owned(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect();
                        headers.sort();
                        log.lock().unwrap().push(Recorded {
                            method: parts.method.to_string(),
                            path_and_query: parts
                                .uri
                                .path_and_query()
                                .map(|p| p.to_string())
                                .unwrap_or_default(),
                            headers,
                            body: body.to_vec(),
                        });
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(b"{}")))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    (url, log)
}

/// The token both clients put in idempotent operations' `ClientToken` (random otherwise).
const IDEMPOTENCY_TOKEN: &str = "00000000-0000-4000-8000-0000000000c7";

#[derive(Debug)]
struct FixedInvocationId;

impl InvocationIdGenerator for FixedInvocationId {
    fn generate(&self) -> Result<Option<InvocationId>, BoxError> {
        Ok(Some(InvocationId::new(
            "00000000-0000-4000-8000-000000000025".to_owned(),
        )))
    }
}

/// The clock both clients read: 2023-11-14T22:13:20Z.
const CLOCK_SECS: u64 = 1_700_000_000;

fn shared_credentials() -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("session-token".into()),
        None,
        "test",
    )
}

/// The configuration both clients share: region, static credentials, a stopped clock, one
/// attempt.
fn shared_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(shared_credentials()),
        )
        .time_source(StaticTimeSource::new(
            UNIX_EPOCH + Duration::from_secs(CLOCK_SECS),
        ))
        .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().unwrap())
        .retry_config(RetryConfig::disabled())
        .build()
}

/// This crate's client (its pool, its signer, its interceptors).
fn crate_client(url: &str) -> aws_sdk_lambda::Client {
    let vpce = LambdaVpce::builder()
        .sdk_config(&shared_config())
        .endpoint_url(url)
        .max_attempts(1)
        .build_sync()
        .expect("builds");
    let conf = vpce
        .client()
        .config()
        .to_builder()
        .invocation_id_generator(FixedInvocationId)
        .idempotency_token_provider(IDEMPOTENCY_TOKEN)
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// aws-sdk-lambda's default client: its own hyper client and signer.
fn sdk_client(url: &str) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::config::Builder::from(&shared_config())
        .endpoint_url(url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .invocation_id_generator(FixedInvocationId)
        .idempotency_token_provider(IDEMPOTENCY_TOKEN)
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// The operations of the aws-sdk-lambda in use, from its `operation` module's source.
fn operations_of_the_sdk() -> Vec<String> {
    support::aws_settings::sdk_source("src/operation.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .map(str::to_owned)
        .collect()
}

/// Sends `send` through both clients and returns both recordings.
async fn both<F, Fut>(url: &str, log: &Log, send: F) -> (Recorded, Recorded)
where
    F: Fn(aws_sdk_lambda::Client) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    log.lock().unwrap().clear();
    send(crate_client(url)).await;
    let ours = log.lock().unwrap().drain(..).collect::<Vec<_>>();
    send(sdk_client(url)).await;
    let sdks = log.lock().unwrap().drain(..).collect::<Vec<_>>();
    assert_eq!(ours.len(), 1, "this crate sent {} requests", ours.len());
    assert_eq!(sdks.len(), 1, "the SDK sent {} requests", sdks.len());
    (
        ours.into_iter().next().unwrap(),
        sdks.into_iter().next().unwrap(),
    )
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers that must match: all but the user agents (each client names itself) and
    /// `Authorization` (it signs `x-amz-user-agent`; see [`signature_verifies`]).
    fn compared_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(n, _)| {
                !matches!(
                    n.as_str(),
                    "user-agent" | "x-amz-user-agent" | "authorization"
                )
            })
            .cloned()
            .collect()
    }

    /// `SignedHeaders=` and `Signature=` of the `Authorization` header.
    fn signature(&self) -> (String, String) {
        let auth = self.header("authorization").expect("signed");
        let part = |key: &str| {
            auth.split(", ")
                .find_map(|p| p.strip_prefix(key))
                .map(|v| v.trim_start_matches("AWS4-HMAC-SHA256 ").to_owned())
                .unwrap_or_default()
        };
        (part("SignedHeaders="), part("Signature="))
    }
}

/// Recomputes the recorded request's signature with aws-sigv4 (the SDK's own signer library)
/// from its method, URI, signed headers and body, and compares it with the one it carries.
fn signature_verifies(r: &Recorded, url: &str) -> Result<(), String> {
    use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SigningSettings};
    let (signed_headers, signature) = r.signature();
    let names: Vec<&str> = signed_headers.split(';').collect();
    let mut settings = SigningSettings::default();
    if names.contains(&header::CONTENT_SHA256) {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let body = match r.header(header::CONTENT_SHA256) {
        Some("UNSIGNED-PAYLOAD") => SignableBody::UnsignedPayload,
        _ => SignableBody::Bytes(&r.body),
    };
    let headers = r.headers.iter().filter(|(n, _)| {
        names.contains(&n.as_str())
            && !matches!(
                n.as_str(),
                header::AMZ_DATE | header::SECURITY_TOKEN | header::CONTENT_SHA256
            )
    });
    let uri = format!("{url}{}", r.path_and_query);
    let (_, expected) = ReferenceSigner::new(shared_credentials(), "us-east-1")
        .at(UNIX_EPOCH + Duration::from_secs(CLOCK_SECS))
        .settings(settings)
        .sign(
            &r.method,
            &uri,
            headers.map(|(n, v)| (n.as_str(), v.as_str())),
            body,
        )?;
    if expected == signature {
        Ok(())
    } else {
        Err(format!(
            "carries {signature}, aws-sigv4 computes {expected} (signed: {signed_headers})"
        ))
    }
}

fn assert_same(what: &str, url: &str, ours: &Recorded, sdks: &Recorded) {
    assert_eq!(ours.method, sdks.method, "{what}: method");
    assert_eq!(
        ours.path_and_query, sdks.path_and_query,
        "{what}: path and query"
    );
    assert_eq!(
        ours.compared_headers(),
        sdks.compared_headers(),
        "{what}: headers"
    );
    assert!(
        ours.body == sdks.body,
        "{what}: bodies differ ({} and {} bytes)",
        ours.body.len(),
        sdks.body.len()
    );
    assert_eq!(
        ours.signature().0,
        sdks.signature().0,
        "{what}: signed headers"
    );
    // The checker is checked on the SDK's own request first.
    signature_verifies(sdks, url)
        .unwrap_or_else(|e| panic!("{what}: the SDK's own signature: {e}"));
    signature_verifies(ours, url).unwrap_or_else(|e| panic!("{what}: this crate's signature: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_sends_the_same_bytes_as_the_sdks_default_client() {
    let (url, log) = recording_endpoint().await;
    let operations = operations_of_the_sdk();
    assert!(
        operations.len() >= 80,
        "{} operations found",
        operations.len()
    );
    let mut missing = Vec::new();
    for op in &operations {
        log.lock().unwrap().clear();
        if !call(&crate_client(&url), op).await {
            missing.push(op.clone());
            continue;
        }
        let ours: Vec<_> = log.lock().unwrap().drain(..).collect();
        call(&sdk_client(&url), op).await;
        let sdks: Vec<_> = log.lock().unwrap().drain(..).collect();
        assert_eq!(
            ours.len(),
            1,
            "{op}: this crate sent {} requests",
            ours.len()
        );
        assert_eq!(sdks.len(), 1, "{op}: the SDK sent {} requests", sdks.len());
        assert_same(op, &url, &ours[0], &sdks[0]);
    }
    assert!(
        missing.is_empty(),
        "operations of the SDK this test does not call: {missing:?}"
    );
}

#[allow(deprecated)] // InvokeAsync
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invokes_with_every_header_a_large_body_and_latest_published_send_the_same_bytes() {
    let (url, log) = recording_endpoint().await;
    let big = vec![b'7'; 5 * 1024 * 1024];
    let (ours, sdks) = both(&url, &log, |c| {
        let big = big.clone();
        async move {
            let _ = c
                .invoke()
                .function_name("my-fn")
                .payload(Blob::new(big))
                .send()
                .await;
        }
    })
    .await;
    assert_eq!(ours.body.len(), 5 * 1024 * 1024);
    assert_same("Invoke with a 5 MB payload", &url, &ours, &sdks);

    let (ours, sdks) = both(&url, &log, |c| async move {
        let _ = c
            .invoke()
            .function_name("arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST.PUBLISHED")
            .qualifier("$LATEST.PUBLISHED")
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .log_type(aws_sdk_lambda::types::LogType::Tail)
            .client_context("eyJjdXN0b20iOnt9fQ==")
            .tenant_id("tenant a/b:c")
            .durable_execution_name("order-1")
            .payload(Blob::new(r#"{"k":"v"}"#))
            .send()
            .await;
    })
    .await;
    assert!(
        ours.path_and_query.contains("%24LATEST.PUBLISHED"),
        "{}",
        ours.path_and_query
    );
    assert_same(
        "Invoke of $LATEST.PUBLISHED with every header",
        &url,
        &ours,
        &sdks,
    );

    let (ours, sdks) = both(&url, &log, |c| async move {
        let _ = c
            .invoke_with_response_stream()
            .function_name("my-fn:$LATEST.PUBLISHED")
            .tenant_id("t")
            .client_context("e30=")
            .payload(Blob::new("{}"))
            .send()
            .await;
    })
    .await;
    assert_same("InvokeWithResponseStream", &url, &ours, &sdks);

    let (ours, sdks) = both(&url, &log, |c| async move {
        let _ = c
            .invoke_async()
            .function_name(FUNCTION)
            .invoke_args(ByteStream::from_static(br#"{"async":1}"#))
            .send()
            .await;
    })
    .await;
    assert_same("InvokeAsync", &url, &ours, &sdks);
}

/// One call of every operation of aws-sdk-lambda 1.156's `Client`, each with its required
/// members set. Generated from the SDK's sources (`src/client/*.rs`: the fluent builders' docs
/// mark each member required or not); `every_operation_sends_the_same_bytes_as_the_sdks_default_client` fails when the
/// SDK in use has an operation this table lacks.
// InvokeAsync is deprecated in the SDK, and still an operation Lambda serves: it is checked too.
#[allow(deprecated)]
async fn call(client: &aws_sdk_lambda::Client, operation: &str) -> bool {
    match operation {
        "add_layer_version_permission" => {
            let _ = client
                .add_layer_version_permission()
                .layer_name("layer-name-1")
                .version_number(1)
                .statement_id("statement-id-1")
                .action("action-1")
                .principal("principal-1")
                .send()
                .await;
        }
        "add_permission" => {
            let _ = client
                .add_permission()
                .function_name(FUNCTION)
                .statement_id("statement-id-1")
                .action("action-1")
                .principal("principal-1")
                .send()
                .await;
        }
        "checkpoint_durable_execution" => {
            let _ = client
                .checkpoint_durable_execution()
                .durable_execution_arn("durable-execution-arn-1")
                .checkpoint_token("checkpoint-token-1")
                .send()
                .await;
        }
        "create_alias" => {
            let _ = client
                .create_alias()
                .function_name(FUNCTION)
                .name("name-1")
                .function_version("function-version-1")
                .send()
                .await;
        }
        "create_capacity_provider" => {
            let _ = client
                .create_capacity_provider()
                .capacity_provider_name("capacity-provider-name-1")
                .vpc_config(
                    aws_sdk_lambda::types::CapacityProviderVpcConfig::builder()
                        .subnet_ids("subnet-1")
                        .security_group_ids("sg-1")
                        .build()
                        .expect("built"),
                )
                .permissions_config(
                    aws_sdk_lambda::types::CapacityProviderPermissionsConfig::builder()
                        .capacity_provider_operator_role_arn("arn:aws:iam::123456789012:role/r")
                        .build()
                        .expect("built"),
                )
                .send()
                .await;
        }
        "create_code_signing_config" => {
            let _ = client
                .create_code_signing_config()
                .allowed_publishers(
                    aws_sdk_lambda::types::AllowedPublishers::builder()
                        .signing_profile_version_arns(
                            "arn:aws:signer:us-east-1:123456789012:/signing-profiles/p",
                        )
                        .build()
                        .expect("built"),
                )
                .send()
                .await;
        }
        "create_event_source_mapping" => {
            let _ = client
                .create_event_source_mapping()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "create_function" => {
            let _ = client
                .create_function()
                .function_name(FUNCTION)
                .role("role-1")
                .code(
                    aws_sdk_lambda::types::FunctionCode::builder()
                        .zip_file(Blob::new(&b"PK\x05\x06zip"[..]))
                        .build(),
                )
                .send()
                .await;
        }
        "create_function_url_config" => {
            let _ = client
                .create_function_url_config()
                .function_name(FUNCTION)
                .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::from("AWS_IAM"))
                .send()
                .await;
        }
        "delete_alias" => {
            let _ = client
                .delete_alias()
                .function_name(FUNCTION)
                .name("name-1")
                .send()
                .await;
        }
        "delete_capacity_provider" => {
            let _ = client
                .delete_capacity_provider()
                .capacity_provider_name("capacity-provider-name-1")
                .send()
                .await;
        }
        "delete_code_signing_config" => {
            let _ = client
                .delete_code_signing_config()
                .code_signing_config_arn("code-signing-config-arn-1")
                .send()
                .await;
        }
        "delete_event_source_mapping" => {
            let _ = client
                .delete_event_source_mapping()
                .uuid("uuid-1")
                .send()
                .await;
        }
        "delete_function" => {
            let _ = client
                .delete_function()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "delete_function_code_signing_config" => {
            let _ = client
                .delete_function_code_signing_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "delete_function_concurrency" => {
            let _ = client
                .delete_function_concurrency()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "delete_function_event_invoke_config" => {
            let _ = client
                .delete_function_event_invoke_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "delete_function_url_config" => {
            let _ = client
                .delete_function_url_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "delete_layer_version" => {
            let _ = client
                .delete_layer_version()
                .layer_name("layer-name-1")
                .version_number(1)
                .send()
                .await;
        }
        "delete_provisioned_concurrency_config" => {
            let _ = client
                .delete_provisioned_concurrency_config()
                .function_name(FUNCTION)
                .qualifier("qualifier-1")
                .send()
                .await;
        }
        "delete_resource_policy" => {
            let _ = client
                .delete_resource_policy()
                .resource_arn("resource-arn-1")
                .send()
                .await;
        }
        "get_account_settings" => {
            let _ = client.get_account_settings().send().await;
        }
        "get_alias" => {
            let _ = client
                .get_alias()
                .function_name(FUNCTION)
                .name("name-1")
                .send()
                .await;
        }
        "get_capacity_provider" => {
            let _ = client
                .get_capacity_provider()
                .capacity_provider_name("capacity-provider-name-1")
                .send()
                .await;
        }
        "get_code_signing_config" => {
            let _ = client
                .get_code_signing_config()
                .code_signing_config_arn("code-signing-config-arn-1")
                .send()
                .await;
        }
        "get_durable_execution" => {
            let _ = client
                .get_durable_execution()
                .durable_execution_arn("durable-execution-arn-1")
                .send()
                .await;
        }
        "get_durable_execution_history" => {
            let _ = client
                .get_durable_execution_history()
                .durable_execution_arn("durable-execution-arn-1")
                .send()
                .await;
        }
        "get_durable_execution_state" => {
            let _ = client
                .get_durable_execution_state()
                .durable_execution_arn("durable-execution-arn-1")
                .checkpoint_token("checkpoint-token-1")
                .send()
                .await;
        }
        "get_event_source_mapping" => {
            let _ = client
                .get_event_source_mapping()
                .uuid("uuid-1")
                .send()
                .await;
        }
        "get_function" => {
            let _ = client.get_function().function_name(FUNCTION).send().await;
        }
        "get_function_code_signing_config" => {
            let _ = client
                .get_function_code_signing_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "get_function_concurrency" => {
            let _ = client
                .get_function_concurrency()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "get_function_configuration" => {
            let _ = client
                .get_function_configuration()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "get_function_event_invoke_config" => {
            let _ = client
                .get_function_event_invoke_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "get_function_recursion_config" => {
            let _ = client
                .get_function_recursion_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "get_function_scaling_config" => {
            let _ = client
                .get_function_scaling_config()
                .function_name(FUNCTION)
                .qualifier("qualifier-1")
                .send()
                .await;
        }
        "get_function_url_config" => {
            let _ = client
                .get_function_url_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "get_layer_version" => {
            let _ = client
                .get_layer_version()
                .layer_name("layer-name-1")
                .version_number(1)
                .send()
                .await;
        }
        "get_layer_version_by_arn" => {
            let _ = client.get_layer_version_by_arn().arn("arn-1").send().await;
        }
        "get_layer_version_policy" => {
            let _ = client
                .get_layer_version_policy()
                .layer_name("layer-name-1")
                .version_number(1)
                .send()
                .await;
        }
        "get_policy" => {
            let _ = client.get_policy().function_name(FUNCTION).send().await;
        }
        "get_provisioned_concurrency_config" => {
            let _ = client
                .get_provisioned_concurrency_config()
                .function_name(FUNCTION)
                .qualifier("qualifier-1")
                .send()
                .await;
        }
        "get_resource_policy" => {
            let _ = client
                .get_resource_policy()
                .resource_arn("resource-arn-1")
                .send()
                .await;
        }
        "get_runtime_management_config" => {
            let _ = client
                .get_runtime_management_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "invoke" => {
            let _ = client.invoke().function_name(FUNCTION).send().await;
        }
        "invoke_async" => {
            let _ = client
                .invoke_async()
                .function_name(FUNCTION)
                .invoke_args(ByteStream::from_static(br#"{"async":true}"#))
                .send()
                .await;
        }
        "invoke_with_response_stream" => {
            let _ = client
                .invoke_with_response_stream()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "list_aliases" => {
            let _ = client.list_aliases().function_name(FUNCTION).send().await;
        }
        "list_capacity_providers" => {
            let _ = client.list_capacity_providers().send().await;
        }
        "list_code_signing_configs" => {
            let _ = client.list_code_signing_configs().send().await;
        }
        "list_durable_executions_by_function" => {
            let _ = client
                .list_durable_executions_by_function()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "list_event_source_mappings" => {
            let _ = client.list_event_source_mappings().send().await;
        }
        "list_function_event_invoke_configs" => {
            let _ = client
                .list_function_event_invoke_configs()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "list_function_url_configs" => {
            let _ = client
                .list_function_url_configs()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "list_function_versions_by_capacity_provider" => {
            let _ = client
                .list_function_versions_by_capacity_provider()
                .capacity_provider_name("capacity-provider-name-1")
                .send()
                .await;
        }
        "list_functions" => {
            let _ = client.list_functions().send().await;
        }
        "list_functions_by_code_signing_config" => {
            let _ = client
                .list_functions_by_code_signing_config()
                .code_signing_config_arn("code-signing-config-arn-1")
                .send()
                .await;
        }
        "list_layer_versions" => {
            let _ = client
                .list_layer_versions()
                .layer_name("layer-name-1")
                .send()
                .await;
        }
        "list_layers" => {
            let _ = client.list_layers().send().await;
        }
        "list_provisioned_concurrency_configs" => {
            let _ = client
                .list_provisioned_concurrency_configs()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "list_tags" => {
            let _ = client.list_tags().resource("resource-1").send().await;
        }
        "list_versions_by_function" => {
            let _ = client
                .list_versions_by_function()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "publish_layer_version" => {
            let _ = client
                .publish_layer_version()
                .layer_name("layer-name-1")
                .content(
                    aws_sdk_lambda::types::LayerVersionContentInput::builder()
                        .zip_file(Blob::new(&b"PK\x05\x06layer"[..]))
                        .build(),
                )
                .send()
                .await;
        }
        "publish_version" => {
            let _ = client
                .publish_version()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "put_function_code_signing_config" => {
            let _ = client
                .put_function_code_signing_config()
                .code_signing_config_arn("code-signing-config-arn-1")
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "put_function_concurrency" => {
            let _ = client
                .put_function_concurrency()
                .function_name(FUNCTION)
                .reserved_concurrent_executions(1)
                .send()
                .await;
        }
        "put_function_event_invoke_config" => {
            let _ = client
                .put_function_event_invoke_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "put_function_recursion_config" => {
            let _ = client
                .put_function_recursion_config()
                .function_name(FUNCTION)
                .recursive_loop(aws_sdk_lambda::types::RecursiveLoop::from("Allow"))
                .send()
                .await;
        }
        "put_function_scaling_config" => {
            let _ = client
                .put_function_scaling_config()
                .function_name(FUNCTION)
                .qualifier("qualifier-1")
                .send()
                .await;
        }
        "put_provisioned_concurrency_config" => {
            let _ = client
                .put_provisioned_concurrency_config()
                .function_name(FUNCTION)
                .qualifier("qualifier-1")
                .provisioned_concurrent_executions(1)
                .send()
                .await;
        }
        "put_resource_policy" => {
            let _ = client
                .put_resource_policy()
                .resource_arn("resource-arn-1")
                .policy("policy-1")
                .send()
                .await;
        }
        "put_runtime_management_config" => {
            let _ = client
                .put_runtime_management_config()
                .function_name(FUNCTION)
                .update_runtime_on(aws_sdk_lambda::types::UpdateRuntimeOn::from("Auto"))
                .send()
                .await;
        }
        "remove_layer_version_permission" => {
            let _ = client
                .remove_layer_version_permission()
                .layer_name("layer-name-1")
                .version_number(1)
                .statement_id("statement-id-1")
                .send()
                .await;
        }
        "remove_permission" => {
            let _ = client
                .remove_permission()
                .function_name(FUNCTION)
                .statement_id("statement-id-1")
                .send()
                .await;
        }
        "send_durable_execution_callback_failure" => {
            let _ = client
                .send_durable_execution_callback_failure()
                .callback_id("callback-id-1")
                .send()
                .await;
        }
        "send_durable_execution_callback_heartbeat" => {
            let _ = client
                .send_durable_execution_callback_heartbeat()
                .callback_id("callback-id-1")
                .send()
                .await;
        }
        "send_durable_execution_callback_success" => {
            let _ = client
                .send_durable_execution_callback_success()
                .callback_id("callback-id-1")
                .send()
                .await;
        }
        "stop_durable_execution" => {
            let _ = client
                .stop_durable_execution()
                .durable_execution_arn("durable-execution-arn-1")
                .send()
                .await;
        }
        "tag_resource" => {
            let _ = client
                .tag_resource()
                .resource("resource-1")
                .tags("k", "v")
                .send()
                .await;
        }
        "untag_resource" => {
            let _ = client
                .untag_resource()
                .resource("resource-1")
                .tag_keys("tag-keys-1")
                .send()
                .await;
        }
        "update_alias" => {
            let _ = client
                .update_alias()
                .function_name(FUNCTION)
                .name("name-1")
                .send()
                .await;
        }
        "update_capacity_provider" => {
            let _ = client
                .update_capacity_provider()
                .capacity_provider_name("capacity-provider-name-1")
                .send()
                .await;
        }
        "update_code_signing_config" => {
            let _ = client
                .update_code_signing_config()
                .code_signing_config_arn("code-signing-config-arn-1")
                .send()
                .await;
        }
        "update_event_source_mapping" => {
            let _ = client
                .update_event_source_mapping()
                .uuid("uuid-1")
                .send()
                .await;
        }
        "update_function_code" => {
            let _ = client
                .update_function_code()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "update_function_configuration" => {
            let _ = client
                .update_function_configuration()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "update_function_event_invoke_config" => {
            let _ = client
                .update_function_event_invoke_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        "update_function_url_config" => {
            let _ = client
                .update_function_url_config()
                .function_name(FUNCTION)
                .send()
                .await;
        }
        _ => return false,
    }
    true
}
