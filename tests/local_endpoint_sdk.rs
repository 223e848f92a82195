//! The local endpoint through aws-sdk-lambda itself (aws-smithy-http-client trusting only the
//! endpoint's CA): the SDK's serializers, signer, error parsers and event-stream reader agree
//! with the endpoint.
#![cfg(feature = "local")]

mod support;

use lambda_vpce::local::LocalEndpoint;
use support::tls::sdk_default_client as sdk_client;

#[tokio::test]
async fn aws_sdk_lambda_invokes_in_all_three_types_and_is_counted_by_its_invocation_id() {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{InvocationType, LogType};
    let ep = LocalEndpoint::start().await.expect("starts");
    let sdk = sdk_client(&ep);
    let out = sdk
        .invoke()
        .function_name(ep.function_arn("echo"))
        .qualifier("$LATEST")
        .log_type(LogType::Tail)
        .payload(Blob::new(r#"{"a":1}"#))
        .send()
        .await
        .expect("sync invoke");
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.payload().map(Blob::as_ref), Some(&br#"{"a":1}"#[..]));
    assert_eq!(out.executed_version(), Some("$LATEST"));
    assert!(out.log_result().is_some());
    let event = sdk
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .send()
        .await
        .expect("event invoke");
    assert_eq!(event.status_code(), 202);
    let dry = sdk
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .expect("dry run");
    assert_eq!(dry.status_code(), 204);
    let failed = sdk
        .invoke()
        .function_name("fail")
        .send()
        .await
        .expect("function error is not a call error");
    assert_eq!(failed.function_error(), Some("Unhandled"));

    let ledger = ep.ledger().snapshot();
    assert_eq!(ledger.len(), 3, "{ledger:?}");
    assert!(ledger.values().all(|n| *n == 1));
    assert!(ep.ledger().duplicates().is_empty());
}

#[tokio::test]
async fn aws_sdk_lambda_sees_lambdas_errors_as_typed_errors() {
    let ep = LocalEndpoint::start().await.expect("starts");
    let sdk = sdk_client(&ep);
    let err = sdk
        .invoke()
        .function_name("nope")
        .send()
        .await
        .expect_err("unknown function");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    ep.faults().status(429);
    ep.faults().retry_after(1);
    let err = sdk
        .invoke()
        .function_name("echo")
        .customize()
        .config_override(
            aws_sdk_lambda::Config::builder()
                .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
        .expect_err("throttled");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_too_many_requests_exception()),
        "{err:?}"
    );
    ep.faults().clear();

    let wrong = {
        use aws_sdk_lambda::config::{Credentials as SdkCredentials, Region};
        let conf = sdk
            .config()
            .to_builder()
            .region(Region::new(ep.region().to_owned()))
            .credentials_provider(SdkCredentials::new(
                ep.access_key_id(),
                "wrong-secret",
                None,
                None,
                "local",
            ))
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    };
    let err = wrong
        .list_functions()
        .send()
        .await
        .expect_err("bad signature");
    let meta = aws_sdk_lambda::error::ProvideErrorMetadata::code(&err);
    assert_eq!(meta, Some("InvalidSignatureException"));
    assert_eq!(ep.ledger().total(), 0);
}

#[tokio::test]
async fn aws_sdk_lambda_reads_the_stream_and_the_control_plane() {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
    let ep = LocalEndpoint::start().await.expect("starts");
    let sdk = sdk_client(&ep);
    let mut out = sdk
        .invoke_with_response_stream()
        .function_name("echo")
        .payload(Blob::new("streamed payload"))
        .send()
        .await
        .expect("streaming invoke");
    let mut joined = Vec::new();
    let mut completed = false;
    while let Some(event) = out.event_stream.recv().await.expect("valid events") {
        match event {
            Event::PayloadChunk(chunk) => {
                joined.extend_from_slice(chunk.payload().map(Blob::as_ref).unwrap_or_default())
            }
            Event::InvokeComplete(done) => {
                assert!(done.error_code().is_none());
                completed = true;
            }
            _ => {}
        }
    }
    assert!(completed);
    assert_eq!(joined, b"streamed payload");

    let list = sdk.list_functions().send().await.expect("list");
    let names: Vec<&str> = list
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    assert_eq!(names, ["echo", "fail", "sleep"]);
    let got = sdk
        .get_function()
        .function_name("sleep")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.configuration().and_then(|c| c.function_arn()),
        Some(ep.function_arn("sleep").as_str())
    );
}
