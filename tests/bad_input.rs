//! Every public input gets a typed error and no panic: pool and client builder fields, endpoint
//! strings, function names, ARNs and qualifiers, payload sizes, CLI flags; and property tests
//! (bounded by `PROPTEST_CASES`, default 256) for the endpoint parsers and the `Keep-Alive`
//! header parser.
#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use lambda_vpce::validate;
use lambda_vpce::wire::{self, InvocationType};
use lambda_vpce::{
    endpoint::Endpoint, endpoint::VpceName, pool::PoolBuilder, BuildError, LambdaVpce,
};
use proptest::prelude::*;

fn pool_err(b: PoolBuilder) -> BuildError {
    b.build().expect_err("refused")
}

fn assert_names(e: &BuildError, field: &str) {
    assert_eq!(e.field(), field, "{e}");
    assert!(!e.expected().is_empty(), "{e}");
    assert!(e.to_string().contains("expected"), "{e}");
}

#[test]
fn pool_builder_refuses_zero_durations_by_name() {
    let cases: [(&str, PoolBuilder); 4] = [
        (
            "idle_timeout",
            PoolBuilder::new().idle_timeout(Duration::ZERO),
        ),
        (
            "max_lifetime",
            PoolBuilder::new().max_lifetime(Duration::ZERO),
        ),
        (
            "acquire_timeout",
            PoolBuilder::new().acquire_timeout(Duration::ZERO),
        ),
        (
            "connect_timeout",
            PoolBuilder::new().connect_timeout(Duration::ZERO),
        ),
    ];
    for (field, b) in cases {
        assert_names(&pool_err(b), field);
    }
}

#[test]
fn pool_builder_refuses_impossible_sizes() {
    assert_names(
        &pool_err(PoolBuilder::new().max_connections_per_host(0)),
        "max_connections_per_host",
    );
    let e = pool_err(PoolBuilder::new().max_connections_per_host(4).min_idle(5));
    assert_names(&e, "min_idle");
    assert!(e.expected().contains('4'), "names the maximum: {e}");
}

#[test]
fn pool_builder_refuses_keepalive_out_of_range() {
    let s = Duration::from_secs;
    let cases = [
        ("tcp_keepalive.idle", Duration::from_millis(500), s(1), 3),
        ("tcp_keepalive.idle", s(40_000), s(1), 3),
        ("tcp_keepalive.interval", s(1), Duration::ZERO, 3),
        ("tcp_keepalive.interval", s(1), s(40_000), 3),
        ("tcp_keepalive.count", s(1), s(1), 0),
        ("tcp_keepalive.count", s(1), s(1), 128),
    ];
    for (field, idle, interval, count) in cases {
        let e = pool_err(PoolBuilder::new().tcp_keepalive(idle, interval, count));
        assert_names(&e, field);
    }
    // Off is fine, whatever the other two say.
    assert!(PoolBuilder::new()
        .tcp_keepalive(None, Duration::ZERO, 0)
        .build()
        .is_ok());
}

#[test]
fn pool_builder_refuses_a_ca_bundle_without_certificates() {
    for pem in [
        &b""[..],
        b"not a pem",
        b"-----BEGIN CERTIFICATE-----\n%%%\n",
    ] {
        let e = pool_err(PoolBuilder::new().add_ca_pem(pem));
        assert_eq!(e.field(), "ca_pem", "{e}");
    }
}

fn client_builder() -> lambda_vpce::LambdaVpceBuilder {
    LambdaVpce::builder()
        .region("us-east-1")
        .credentials(aws_credential_types::Credentials::new(
            "AKID", "SECRET", None, None, "test",
        ))
}

#[tokio::test]
async fn client_builder_refuses_bad_fields_by_name() {
    let e = client_builder()
        .response_timeout(Duration::ZERO)
        .build_sync()
        .expect_err("refused");
    assert_names(&e, "response_timeout");
    let e = client_builder()
        .max_attempts(0)
        .build_sync()
        .expect_err("refused");
    assert_names(&e, "max_attempts");
    let e = client_builder()
        .endpoint_url("ftp://lambda.us-east-1.amazonaws.com")
        .build_sync()
        .expect_err("refused");
    assert!(!e.field().is_empty(), "{e}");
    let e = client_builder()
        .pool(PoolBuilder::new().min_idle(1).max_connections_per_host(0))
        .build_sync()
        .expect_err("refused");
    assert_names(&e, "max_connections_per_host");
}

const BAD_URLS: &[&str] = &[
    "",
    " ",
    "https://",
    "https:///",
    "lambda.us-east-1.amazonaws.com",
    "ftp://lambda.us-east-1.amazonaws.com",
    "http://lambda.us-east-1.amazonaws.com",
    "http://10.1.2.3",
    "http://192.168.0.1:8080",
    "https://exa mple.com",
    "https://example.com:99999",
    "https://example.com:-1",
    "https://user:pass@example.com",
    "https://example.com/path",
    "https://example.com/?q=1",
    "https://example.com/#frag",
    "https://[::1",
    "https://[zz::1]",
    "https://-leading-hyphen.example",
    "https://a..b",
    "https://\u{0}.example",
    "https://例え.jp",
];

#[test]
fn malformed_endpoint_urls_are_refused_with_a_typed_error() {
    for url in BAD_URLS {
        let e = Endpoint::from_url(url).expect_err(url);
        assert!(
            !e.field().is_empty() && !e.expected().is_empty(),
            "{url}: {e}"
        );
    }
    let long = format!("https://{}.com", "a".repeat(3000));
    let e = Endpoint::from_url(&long).expect_err("too long");
    assert!(e.got().len() <= 204, "the value is shortened in the error");
}

#[test]
fn malformed_vpce_inputs_are_refused_with_a_typed_error() {
    let good_id = "vpce-0123456789abcdef0";
    for (id, suffix, region) in [
        ("vpce-xyz", "abcd1234", "us-east-1"),
        ("", "abcd1234", "us-east-1"),
        ("vpce-0123456789ABCDEF0", "abcd1234", "us-east-1"),
        ("vpce-0123456789abcdef00", "abcd1234", "us-east-1"),
        (good_id, "", "us-east-1"),
        (good_id, "ABCD!234", "us-east-1"),
        (good_id, "abcd1234", ""),
        (good_id, "abcd1234", "Mars-1"),
        (good_id, "abcd1234", "us-east-1a"),
    ] {
        let e = VpceName::new(id, suffix, region).expect_err(id);
        assert!(!e.field().is_empty(), "{id} {suffix} {region}: {e}");
        assert!(Endpoint::vpce(id, suffix, region).is_err());
    }
    let name = VpceName::new(good_id, "abcd1234", "us-east-1").expect("valid");
    for az in ["", "us-west-2a", "us-east-1", "us-east-1aa", "x"] {
        assert!(name.clone().zonal(az).is_err(), "az {az:?} accepted");
    }
    for host in [
        "",
        "lambda.us-east-1.amazonaws.com",
        "vpce-0123456789abcdef0.lambda.us-east-1.vpce.amazonaws.com",
        "vpce-0123456789abcdef0-abcd1234.s3.us-east-1.vpce.amazonaws.com",
        "vpce-0123456789abcdef0-abcd1234.lambda.us-east-1.vpce.example.com",
    ] {
        assert!(Endpoint::vpce_name(host).is_err(), "{host:?} accepted");
    }
    for region in ["", "US-EAST-1", "us-east", "us_east_1", &"a".repeat(100)] {
        assert!(
            Endpoint::private_dns(region).is_err(),
            "{region:?} accepted"
        );
        assert!(validate::region(region).is_err());
    }
}

#[test]
fn function_names_arns_and_qualifiers_follow_lambdas_patterns() {
    for bad in [
        "",
        "has space",
        "semi;colon",
        "name:",
        "name::1",
        "a/b",
        &"f".repeat(65),
        &"f".repeat(171),
        "arn:aws:lambda:us-east-1:123:function:f",
        "arn:aws:s3:us-east-1:123456789012:function:f",
        "f:$LATEST.PUBLISHED.x",
        &format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            "f".repeat(210)
        ),
        "échec",
    ] {
        let e = validate::function_name(bad).expect_err(bad);
        assert_eq!(e.field(), "function_name", "{bad}: {e}");
    }
    for good in [
        "f",
        "my-function_1",
        "my-function:$LATEST",
        "my-function:prod",
        "123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f:7",
        &"f".repeat(64),
        // Lambda's model accepts these too: ACCOUNT:NAME:QUALIFIER, dotted names, and Lambda
        // Managed Instances' published version.
        "123456789012:fn:f",
        "my.function",
        "my-function:$LATEST.PUBLISHED",
    ] {
        assert!(validate::function_name(good).is_ok(), "{good} refused");
    }
    for bad in ["", "has space", "a:b", &"q".repeat(129), "ünï"] {
        assert_eq!(
            validate::qualifier(bad).expect_err(bad).field(),
            "qualifier"
        );
    }
    for bad in [
        "",
        "arn:aws:lambda",
        "arn:aws:lambda:us-east-1:12:function:f",
    ] {
        assert!(validate::function_arn(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn payloads_over_lambdas_limits_are_refused_with_the_limit_in_the_message() {
    let sync = wire::MAX_SYNC_PAYLOAD_BYTES;
    let event = wire::MAX_EVENT_PAYLOAD_BYTES;
    assert!(validate::payload(sync, InvocationType::RequestResponse).is_ok());
    let e = validate::payload(sync + 1, InvocationType::RequestResponse).expect_err("over 6 MB");
    assert!(e.to_string().contains(&sync.to_string()), "{e}");
    assert!(validate::payload(event, InvocationType::Event).is_ok());
    let e = validate::payload(event + 1, InvocationType::Event).expect_err("over 1 MB");
    assert!(e.to_string().contains(&event.to_string()), "{e}");
    for bad in ["", "not base64!", "e30\r\nX-Injected: 1"] {
        assert!(validate::client_context(bad).is_err(), "{bad:?} accepted");
    }
    // What the base64 holds is Lambda's to judge ("not json", "[]").
    for lambdas_call in ["bm90IGpzb24=", "W10="] {
        assert!(
            validate::client_context(lambdas_call).is_ok(),
            "{lambdas_call:?}"
        );
    }
}

/// The SDK adapter checks Lambda's payload limits before sending: a 6 MB + 1 payload never
/// reaches the server, and the message names the limit.
#[tokio::test]
async fn an_over_limit_payload_through_the_sdk_client_is_refused_before_sending() {
    use lambda_vpce::local::LocalEndpoint;
    let ep = LocalEndpoint::start().await.expect("starts");
    let c = support::client(&ep, &support::ClientOpts::default());
    let o = support::invoke(&c, "echo", vec![b'x'; wire::MAX_SYNC_PAYLOAD_BYTES + 1]).await;
    assert_eq!(
        ep.stats().requests,
        0,
        "refused before sending: {}",
        o.message
    );
    assert!(
        o.message
            .contains(&wire::MAX_SYNC_PAYLOAD_BYTES.to_string()),
        "{}",
        o.message
    );
}

/// The SDK adapter checks function names against Lambda's pattern before sending.
#[tokio::test]
async fn a_malformed_function_name_through_the_sdk_client_is_refused_before_sending() {
    use lambda_vpce::local::LocalEndpoint;
    let ep = LocalEndpoint::start().await.expect("starts");
    let c = support::client(&ep, &support::ClientOpts::default());
    let o = support::invoke(&c, "has space", "{}").await;
    assert_eq!(o.class, support::Class::NotSent, "{}", o.message);
    assert_eq!(ep.stats().requests, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn endpoint_parsers_never_panic_on_any_string(s in "\\PC{0,300}") {
        let _ = Endpoint::from_url(&s);
        let _ = Endpoint::vpce_name(&s);
        let _ = VpceName::parse(&s);
        let _ = Endpoint::private_dns(&s);
        let _ = Endpoint::vpce_connect_only(&s, "us-east-1");
        let _ = validate::function_name(&s);
        let _ = validate::qualifier(&s);
        let _ = validate::function_arn(&s);
        let _ = validate::client_context(&s);
        let _ = validate::region(&s);
    }

    #[test]
    fn url_like_strings_parse_or_fail_typed(
        scheme in "(https?|ftp|)",
        host in "[a-zA-Z0-9.\\-\\[\\]:]{0,80}",
        port in proptest::option::of(0u32..100_000),
        path in "(/|/x|\\?a|#f|)",
    ) {
        let url = match port {
            Some(p) => format!("{scheme}://{host}:{p}{path}"),
            None => format!("{scheme}://{host}{path}"),
        };
        match Endpoint::from_url(&url) {
            Ok(e) => {
                prop_assert!(e.scheme() == "https" || e.scheme() == "http");
                prop_assert!(!e.connect_host().is_empty());
                // http only to loopback
                if e.scheme() == "http" {
                    let h = e.connect_host().trim_start_matches('[').trim_end_matches(']');
                    let loopback = h == "localhost"
                        || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
                    prop_assert!(loopback, "http to {}", h);
                }
            }
            Err(e) => prop_assert!(!e.field().is_empty()),
        }
    }

    #[test]
    fn vpce_names_built_from_parts_parse_back(
        id in "[0-9a-f]{17}",
        suffix in "[a-z0-9]{8}",
        region in "(us-east-1|eu-west-3|ap-southeast-2|cn-north-1)",
    ) {
        let id = format!("vpce-{id}");
        let name = VpceName::new(&id, &suffix, &region).expect("valid parts");
        let back = VpceName::parse(&name.hostname()).expect("its hostname parses");
        prop_assert_eq!(back.id(), id.as_str());
        prop_assert_eq!(back.dns_suffix(), suffix.as_str());
        prop_assert_eq!(back.region(), region.as_str());
    }
}

/// A CA added with `LambdaVpceBuilder::add_ca_pem` survives a later `.pool(PoolBuilder)`
/// (it once replaced the pool settings and the CA with them: every call failed
/// `UnknownIssuer`).
#[tokio::test]
async fn a_ca_added_before_pool_settings_is_still_trusted() {
    use lambda_vpce::local::LocalEndpoint;
    let ep = LocalEndpoint::start().await.expect("starts");
    let c = LambdaVpce::builder()
        .endpoint_url(&ep.url())
        .add_ca_pem(ep.ca_pem())
        .pool(PoolBuilder::new())
        .region(ep.region())
        .credentials(ep.credentials())
        .build_sync()
        .expect("builds");
    let o = support::invoke(&c, "echo", "{}").await;
    assert_eq!(o.class, support::Class::Ok, "{}", o.message);
}

/// A timeout too long for the clock to represent (`Duration::MAX`) means no deadline, whether
/// it is the client builder's response timeout, the SDK's own read timeout, or the pool's
/// acquire and connect timeouts (through a real TLS connect): every call is answered.
#[tokio::test]
async fn a_response_timeout_too_large_for_the_clock_means_no_deadline_not_a_panic() {
    use aws_sdk_lambda::config::timeout::TimeoutConfig;
    use lambda_vpce::local::LocalEndpoint;
    let ep = LocalEndpoint::start().await.expect("starts");
    let opts = support::ClientOpts {
        response_timeout: Duration::MAX,
        ..support::ClientOpts::default()
    };
    let c = support::client(&ep, &opts);
    let o = support::invoke(&c, "echo", "{}").await;
    assert_eq!(o.class, support::Class::Ok, "{}", o.message);

    let pool = PoolBuilder::new()
        .acquire_timeout(Duration::MAX)
        .connect_timeout(Duration::MAX);
    let c = support::client_with(&ep, pool, &support::ClientOpts::default());
    let o = support::invoke(&c, "echo", "{}").await;
    assert_eq!(o.class, support::Class::Ok, "{}", o.message);

    // (Not the SDK's `connect_timeout(Duration::MAX)`: aws-smithy-runtime's identity cache
    // doubles it and panics before any request reaches this crate.)
    let read_timeout = TimeoutConfig::builder().read_timeout(Duration::MAX).build();
    let sdk = aws_sdk_lambda::Client::from_conf(
        c.client()
            .config()
            .to_builder()
            .timeout_config(read_timeout)
            .build(),
    );
    let out = sdk
        .invoke()
        .function_name("echo")
        .payload(aws_sdk_lambda::primitives::Blob::new("{}"))
        .send()
        .await
        .expect("the SDK's read timeout: no deadline");
    assert_eq!(out.status_code(), 200);
    assert_eq!(ep.stats().requests, 3);
}
