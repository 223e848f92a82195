//! Peer suite: the crate's client against moto (PyPI `moto[server]`), an independent
//! implementation of the Lambda API, on its Docker-free backend. Checks API shapes end to end
//! through the crate's pool and the SDK: create (from a zip made here, with a role made through
//! moto's IAM), get, list, update, publish, alias, invoke (RequestResponse / Event / DryRun, with
//! Qualifier), tags, delete. moto closes every connection, so this says nothing about reuse.
//!
//! Run: `scripts/peers/moto-up.sh && . .peers/moto/env && cargo test --test peer_moto -- --ignored`

mod support;

use support::sigv4::ReferenceSigner;
use support::{peers, stored_zip};

use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, Runtime};
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt;
use lambda_vpce::LambdaVpce;

const HOW: &str = "scripts/peers/moto-up.sh && . .peers/moto/env";
/// moto's default account.
const ACCOUNT: &str = "123456789012";
const HANDLER_SOURCE: &[u8] = b"def handler(event, context):\n    return event\n";

fn moto_url() -> String {
    let url = peers::require_env("LAMBDA_VPCE_MOTO_URL", HOW);
    peers::require_reachable(&url, HOW);
    url
}

/// The crate's client on moto, SDK retries off so no failure hides behind a retry.
fn client(url: &str) -> LambdaVpce {
    LambdaVpce::builder()
        .endpoint_url(url)
        .region(peers::REGION)
        .credentials(peers::fake_credentials())
        .max_attempts(1)
        .build_sync()
        .unwrap_or_else(|e| panic!("building the client for {url}: {e}"))
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters kept).
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Creates an IAM role Lambda may assume, through moto's IAM query API: one SigV4-signed POST
/// sent on the crate's own pool (moto checks that a function's role exists). Returns its ARN.
async fn create_role(lambda: &LambdaVpce, url: &str, name: &str) -> String {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={}&Path=%2F&AssumeRolePolicyDocument={}",
        form_encode(name),
        form_encode(trust)
    );
    let uri = format!("{url}/");
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let mut request = http::Request::post(&uri)
        .header("content-type", content_type)
        .body(SdkBody::from(body.clone()))
        .expect("request");
    ReferenceSigner::new(peers::fake_credentials(), peers::REGION)
        .service("iam")
        .sign_request(&mut request, &uri, body.as_bytes());
    let response = lambda
        .pool()
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("IAM CreateRole on moto: {e}"));
    let status = response.status();
    let text = response
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_else(|e| panic!("IAM CreateRole body: {e}"));
    assert_eq!(status, 200, "IAM CreateRole answered {status}: {text}");
    let arn = text
        .split_once("<Arn>")
        .and_then(|(_, rest)| rest.split_once("</Arn>"))
        .map(|(arn, _)| arn.to_owned())
        .unwrap_or_else(|| panic!("IAM CreateRole response has no <Arn>: {text}"));
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:role/{name}"));
    arn
}

fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:{}:{ACCOUNT}:function:{name}", peers::REGION)
}

/// Creates a Python function from a zip made here; returns its name.
async fn create_function(lambda: &LambdaVpce, url: &str, prefix: &str) -> String {
    let role = create_role(lambda, url, &peers::unique_name(&format!("{prefix}-role"))).await;
    let name = peers::unique_name(prefix);
    let zip = stored_zip::stored_zip(&[("index.py", HANDLER_SOURCE)]);
    let created = lambda
        .client()
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Python312)
        .role(&role)
        .handler("index.handler")
        .description("peer suite v1")
        .timeout(10)
        .memory_size(128)
        .tags("suite", "peer_moto")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateFunction {name}: {}", DisplayErrorContext(&e)));
    assert_eq!(created.function_name(), Some(name.as_str()));
    assert_eq!(created.function_arn(), Some(function_arn(&name).as_str()));
    assert_eq!(created.role(), Some(role.as_str()));
    assert_eq!(created.runtime(), Some(&Runtime::Python312));
    assert_eq!(created.handler(), Some("index.handler"));
    assert_eq!(created.version(), Some("$LATEST"));
    assert_eq!(created.code_size(), zip.len() as i64);
    assert!(created.request_id().is_some_and(|id| !id.is_empty()));
    name
}

#[test]
fn stored_zip_crc_matches_the_standard_check_value() {
    // The CRC-32 check value of "123456789" (every CRC catalogue lists it).
    assert_eq!(stored_zip::crc32(b"123456789"), 0xCBF4_3926);
    let zip = stored_zip::stored_zip(&[("index.py", HANDLER_SOURCE)]);
    assert_eq!(&zip[..4], b"PK\x03\x04");
    assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
}

#[tokio::test]
#[ignore = "peer suite: needs moto; run scripts/peers/moto-up.sh then cargo test --test peer_moto -- --ignored"]
async fn function_lifecycle_round_trips_through_moto() {
    let url = moto_url();
    let lambda = client(&url);
    let c = lambda.client();
    let name = create_function(&lambda, &url, "lifecycle").await;
    let arn = function_arn(&name);

    let got = c
        .get_function()
        .function_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetFunction: {}", DisplayErrorContext(&e)));
    let conf = got
        .configuration()
        .expect("GetFunction has a Configuration");
    assert_eq!(conf.function_name(), Some(name.as_str()));
    assert_eq!(conf.function_arn(), Some(arn.as_str()));
    assert_eq!(conf.description(), Some("peer suite v1"));
    assert_eq!(conf.memory_size(), Some(128));
    assert_eq!(conf.timeout(), Some(10));
    assert!(
        got.code().and_then(|c| c.location()).is_some(),
        "Code.Location"
    );
    assert_eq!(
        got.tags().and_then(|t| t.get("suite")).map(String::as_str),
        Some("peer_moto")
    );

    let listed: Vec<String> = c
        .list_functions()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap_or_else(|e| panic!("ListFunctions: {}", DisplayErrorContext(&e)))
        .into_iter()
        .filter_map(|f| f.function_name)
        .collect();
    assert!(
        listed.contains(&name),
        "{name} not in ListFunctions: {listed:?}"
    );

    let updated = c
        .update_function_configuration()
        .function_name(&name)
        .description("peer suite v2")
        .memory_size(256)
        .timeout(30)
        .environment(Environment::builder().variables("MODE", "peer").build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("UpdateFunctionConfiguration: {}", DisplayErrorContext(&e)));
    assert_eq!(updated.memory_size(), Some(256));
    assert_eq!(updated.timeout(), Some(30));
    assert_eq!(updated.description(), Some("peer suite v2"));
    let reread = c
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetFunctionConfiguration: {}", DisplayErrorContext(&e)));
    assert_eq!(reread.memory_size(), Some(256));
    assert_eq!(
        reread
            .environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get("MODE"))
            .map(String::as_str),
        Some("peer")
    );

    let published = c
        .publish_version()
        .function_name(&name)
        .description("first")
        .send()
        .await
        .unwrap_or_else(|e| panic!("PublishVersion: {}", DisplayErrorContext(&e)));
    assert_eq!(published.version(), Some("1"));
    assert_eq!(published.function_arn(), Some(format!("{arn}:1").as_str()));
    assert_eq!(published.memory_size(), Some(256));

    let alias = c
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateAlias: {}", DisplayErrorContext(&e)));
    assert_eq!(alias.name(), Some("live"));
    assert_eq!(alias.function_version(), Some("1"));
    assert_eq!(alias.alias_arn(), Some(format!("{arn}:live").as_str()));

    let by_version = c
        .get_function()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetFunction :1: {}", DisplayErrorContext(&e)));
    assert_eq!(
        by_version.configuration().and_then(|c| c.version()),
        Some("1")
    );

    c.tag_resource()
        .resource(&arn)
        .tags("team", "platform")
        .send()
        .await
        .unwrap_or_else(|e| panic!("TagResource: {}", DisplayErrorContext(&e)));
    let tags = c
        .list_tags()
        .resource(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListTags: {}", DisplayErrorContext(&e)));
    let tags = tags.tags().expect("ListTags has Tags");
    assert_eq!(tags.get("team").map(String::as_str), Some("platform"));
    assert_eq!(tags.get("suite").map(String::as_str), Some("peer_moto"));
    c.untag_resource()
        .resource(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap_or_else(|e| panic!("UntagResource: {}", DisplayErrorContext(&e)));
    let tags = c
        .list_tags()
        .resource(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListTags: {}", DisplayErrorContext(&e)));
    assert!(tags.tags().is_some_and(|t| !t.contains_key("team")));

    c.delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteFunction: {}", DisplayErrorContext(&e)));
    let gone = c
        .get_function()
        .function_name(&name)
        .send()
        .await
        .expect_err("GetFunction after DeleteFunction must fail");
    let service = gone.as_service_error().unwrap_or_else(|| {
        panic!(
            "expected a service error, got {}",
            DisplayErrorContext(&gone)
        )
    });
    assert!(
        service.is_resource_not_found_exception(),
        "expected ResourceNotFoundException, got {}",
        DisplayErrorContext(&gone)
    );
    let stats = lambda.pool().stats();
    println!(
        "moto lifecycle: {} requests, {} connections opened, {} reused",
        stats.requests(),
        stats.opened(),
        stats.reused()
    );
}

#[tokio::test]
#[ignore = "peer suite: needs moto; run scripts/peers/moto-up.sh then cargo test --test peer_moto -- --ignored"]
async fn invoke_answers_each_invocation_type_with_its_status_and_qualifier() {
    let url = moto_url();
    let lambda = client(&url);
    let c = lambda.client();
    let name = create_function(&lambda, &url, "invoke").await;
    c.publish_version()
        .function_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PublishVersion: {}", DisplayErrorContext(&e)));
    c.create_alias()
        .function_name(&name)
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateAlias: {}", DisplayErrorContext(&e)));

    for qualifier in [None, Some("1"), Some("live"), Some("$LATEST")] {
        let payload = format!(r#"{{"qualifier":"{}"}}"#, qualifier.unwrap_or("none"));
        let call = |kind: InvocationType| {
            c.invoke()
                .function_name(&name)
                .set_qualifier(qualifier.map(str::to_owned))
                .invocation_type(kind)
                .payload(Blob::new(payload.clone()))
                .send()
        };
        let sync = call(InvocationType::RequestResponse)
            .await
            .unwrap_or_else(|e| panic!("Invoke {qualifier:?}: {}", DisplayErrorContext(&e)));
        assert_eq!(sync.status_code(), 200, "RequestResponse {qualifier:?}");
        assert_eq!(sync.function_error(), None);
        // moto's Docker-free backend echoes the event.
        assert_eq!(
            sync.payload().map(|p| p.as_ref()),
            Some(payload.as_bytes()),
            "RequestResponse payload {qualifier:?}"
        );
        assert!(sync.request_id().is_some_and(|id| !id.is_empty()));

        let event = call(InvocationType::Event)
            .await
            .unwrap_or_else(|e| panic!("Invoke Event {qualifier:?}: {}", DisplayErrorContext(&e)));
        assert_eq!(event.status_code(), 202, "Event {qualifier:?}");

        let dry = call(InvocationType::DryRun)
            .await
            .unwrap_or_else(|e| panic!("Invoke DryRun {qualifier:?}: {}", DisplayErrorContext(&e)));
        assert_eq!(dry.status_code(), 204, "DryRun {qualifier:?}");
    }

    let stats = lambda.pool().stats();
    println!(
        "moto invoke: {} requests, {} connections opened, {} reused, closed by server {}",
        stats.requests(),
        stats.opened(),
        stats.reused(),
        stats.closed(lambda_vpce::pool::CloseReason::ClosedByServer)
    );
    c.delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteFunction: {}", DisplayErrorContext(&e)));
}

#[tokio::test]
#[ignore = "peer suite: needs moto; run scripts/peers/moto-up.sh then cargo test --test peer_moto -- --ignored"]
async fn create_function_with_a_role_that_does_not_exist_is_refused_by_moto() {
    let url = moto_url();
    let lambda = client(&url);
    let zip = stored_zip::stored_zip(&[("index.py", HANDLER_SOURCE)]);
    let err = lambda
        .client()
        .create_function()
        .function_name(peers::unique_name("norole"))
        .runtime(Runtime::Python312)
        .role(format!(
            "arn:aws:iam::{ACCOUNT}:role/{}",
            peers::unique_name("missing")
        ))
        .handler("index.handler")
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .expect_err("a function whose role does not exist must be refused");
    let service = err.as_service_error().unwrap_or_else(|| {
        panic!(
            "expected a service error, got {}",
            DisplayErrorContext(&err)
        )
    });
    assert!(
        service.is_invalid_parameter_value_exception(),
        "expected InvalidParameterValueException, got {}",
        DisplayErrorContext(&err)
    );
}
