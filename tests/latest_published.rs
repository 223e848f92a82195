//! `$LATEST.PUBLISHED` (Lambda Managed Instances' published version) as Lambda accepts it: as
//! `Qualifier` and as a function-name suffix, plain and in an ARN, on the SDK path and the lean
//! path, each request signed so that the embedded endpoint's SigV4 check verifies it, and the
//! endpoint running the function and answering the version it ran.

mod support;

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::lean::InvokeRequest;
use lambda_vpce::local::LocalEndpoint;
use support::{client, ClientOpts};

const LP: &str = "$LATEST.PUBLISHED";

fn arn(ep: &LocalEndpoint) -> String {
    format!(
        "arn:aws:lambda:{}:123456789012:function:echo:{LP}",
        ep.region()
    )
}

#[tokio::test]
async fn the_sdk_path_sends_latest_published_as_qualifier_and_as_name_suffix() {
    let ep = LocalEndpoint::start().await.expect("endpoint");
    let vpce = client(&ep, &ClientOpts::default());
    for (function, qualifier) in [
        ("echo".to_owned(), Some(LP)),
        (format!("echo:{LP}"), None),
        (arn(&ep), None),
    ] {
        let out = vpce
            .client()
            .invoke()
            .function_name(&function)
            .set_qualifier(qualifier.map(str::to_owned))
            .payload(Blob::new(r#"{"v":1}"#))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{function} {qualifier:?}: {e:?}"));
        assert_eq!(out.executed_version(), Some(LP), "{function} {qualifier:?}");
        assert_eq!(out.payload().unwrap().as_ref(), br#"{"v":1}"#);
    }
    assert_eq!(ep.stats().auth_failures, 0, "every signature verified");
    assert_eq!(ep.ledger().total(), 3);
}

#[tokio::test]
async fn the_lean_path_sends_latest_published_as_qualifier_and_as_name_suffix() {
    let ep = LocalEndpoint::start().await.expect("endpoint");
    let lean = client(&ep, &ClientOpts::default()).lean().expect("lean");
    for request in [
        InvokeRequest::new("echo", r#"{"v":2}"#).qualifier(LP),
        InvokeRequest::new(format!("echo:{LP}"), r#"{"v":2}"#),
        InvokeRequest::new(arn(&ep), r#"{"v":2}"#),
    ] {
        let shown = format!("{request:?}");
        let out = lean
            .invoke(request)
            .await
            .unwrap_or_else(|e| panic!("{shown}: {e:?}"));
        assert_eq!(out.executed_version.as_deref(), Some(LP), "{shown}");
    }
    assert_eq!(ep.stats().auth_failures, 0, "every signature verified");
    assert_eq!(ep.ledger().total(), 3);
}
