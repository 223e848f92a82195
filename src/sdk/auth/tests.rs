//! The lean `sigv4` scheme against the SDK's own, through the SDK client: the same calls, at the
//! same time with the same credentials, captured at the connector, must be byte-identical
//! (method, URI, every header in order, body), the SDK's random `amz-sdk-invocation-id` aside:
//! the SDK adds it after signing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_lambda::config::{BehaviorVersion, Region};
use aws_sdk_lambda::primitives::{Blob, ByteStream};
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, LogType, Runtime};
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;

use super::*;

/// A configuration with the lean scheme as `LambdaVpceBuilder` installs it: the scheme and the
/// client's interceptor, whose skew mirror the scheme signs with.
fn lean(
    conf: aws_sdk_lambda::config::Builder,
    scheme: LeanSigV4,
) -> aws_sdk_lambda::config::Builder {
    install(conf, scheme).interceptor(crate::sdk::interceptor::CallInterceptor::new(true))
}

const REGION: &str = "us-east-1";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";
const PLAIN: &str = "https://lambda.us-east-1.amazonaws.com";
const LOCAL: &str = "http://127.0.0.1:9001";

/// A request as it reached the connector.
#[derive(Debug, Clone, PartialEq)]
struct Captured {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An `HttpClient` that records each request and answers 200 `{}` (with `date` when given).
#[derive(Debug, Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Captured>>>,
    date: Option<&'static str>,
}

impl Recorder {
    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.seen.lock().expect("lock"))
    }
}

impl HttpClient for Recorder {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for Recorder {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.seen.lock().expect("lock").push(Captured {
            method: request.method().to_owned(),
            uri: request.uri().to_owned(),
            // The SDK adds its random invocation id after signing (it is never signed).
            headers: request
                .headers()
                .iter()
                .filter(|(n, _)| *n != "amz-sdk-invocation-id")
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: request.body().bytes().map(<[u8]>::to_vec),
        });
        let mut response = http::Response::builder().status(200);
        if let Some(date) = self.date {
            response = response.header("date", date);
        }
        let response = response.body(SdkBody::from("{}")).expect("response");
        HttpConnectorFuture::ready(Ok(HttpResponse::try_from(response).expect("response")))
    }
}

fn creds(token: bool) -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        token.then(|| "IQoJb3JpZ2luX2VjEXAMPLETOKEN/+=".to_owned()),
        None,
        "test",
    )
}

/// The SDK client with the lean scheme and the one with the SDK's, on one recorder.
struct Pair {
    lean: aws_sdk_lambda::Client,
    sdk: aws_sdk_lambda::Client,
    recorder: Recorder,
    counts: Arc<SignCounts>,
}

fn pair(url: &str, credentials: Credentials, time: SystemTime, date: Option<&'static str>) -> Pair {
    let recorder = Recorder {
        date,
        ..Recorder::default()
    };
    let base = || {
        aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(credentials.clone())
            .endpoint_url(url)
            .http_client(recorder.clone())
            .time_source(StaticTimeSource::new(time))
            .retry_config(RetryConfig::disabled())
    };
    let scheme = LeanSigV4::default();
    let counts = scheme.counts();
    Pair {
        lean: aws_sdk_lambda::Client::from_conf(lean(base(), scheme).build()),
        sdk: aws_sdk_lambda::Client::from_conf(base().build()),
        recorder,
        counts,
    }
}

impl Pair {
    /// Runs `call` on both clients; returns (lean's request, the SDK's request).
    async fn both<F, Fut>(&self, call: F) -> (Captured, Captured)
    where
        F: Fn(aws_sdk_lambda::Client) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        call(self.lean.clone()).await;
        let lean = self.recorder.take();
        call(self.sdk.clone()).await;
        let sdk = self.recorder.take();
        assert_eq!((lean.len(), sdk.len()), (1, 1), "one request per call");
        (lean[0].clone(), sdk[0].clone())
    }

    fn lean_signed(&self) -> (u64, u64) {
        (
            self.counts.lean.load(Ordering::Relaxed),
            self.counts.sdk.load(Ordering::Relaxed),
        )
    }
}

/// One `Invoke` shape of the lean path's own byte-identity test.
struct InvokeCase {
    function: String,
    payload: Vec<u8>,
    qualifier: Option<&'static str>,
    invocation_type: Option<InvocationType>,
    log_tail: bool,
    client_context: Option<String>,
}

fn invoke_cases() -> Vec<InvokeCase> {
    let cc = crate::validate::encode_client_context(r#"{"custom":{"k":"v"}}"#).expect("cc");
    let case = |function: &str, payload: &[u8]| InvokeCase {
        function: function.to_owned(),
        payload: payload.to_vec(),
        qualifier: None,
        invocation_type: None,
        log_tail: false,
        client_context: None,
    };
    vec![
        case("my-fn", b"{}"),
        InvokeCase {
            invocation_type: Some(InvocationType::Event),
            ..case("my-fn", b"")
        },
        InvokeCase {
            qualifier: Some("$LATEST"),
            ..case(ARN, br#"{"a":[1,2,3]}"#)
        },
        InvokeCase {
            log_tail: true,
            ..case(&format!("{ARN}:prod"), b"x")
        },
        InvokeCase {
            qualifier: Some("v-1_2"),
            client_context: Some(cc.clone()),
            log_tail: true,
            invocation_type: Some(InvocationType::DryRun),
            ..case("123456789012:function:my-fn", b"x")
        },
        InvokeCase {
            client_context: Some(cc),
            ..case("my-fn:$LATEST", &vec![0u8; 70_000])
        },
    ]
}

async fn send_invoke(c: aws_sdk_lambda::Client, case: &InvokeCase) {
    let _ = c
        .invoke()
        .function_name(&case.function)
        .set_qualifier(case.qualifier.map(str::to_owned))
        .set_invocation_type(case.invocation_type.clone())
        .set_log_type(case.log_tail.then_some(LogType::Tail))
        .set_client_context(case.client_context.clone())
        .payload(Blob::new(case.payload.clone()))
        .send()
        .await;
}

#[tokio::test]
async fn the_sdk_client_signs_the_72_invoke_cases_byte_identically_with_the_lean_scheme() {
    let times = [
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        UNIX_EPOCH + Duration::from_secs(951_868_799), // 2000-02-29T23:59:59Z
        UNIX_EPOCH + Duration::from_secs(1_704_067_200), // 2024-01-01T00:00:00Z
    ];
    let cases = invoke_cases();
    let mut checked = 0;
    for case in &cases {
        for token in [false, true] {
            for url in [PLAIN, LOCAL] {
                for time in times {
                    let p = pair(url, creds(token), time, None);
                    let (lean, sdk) = p.both(|c| send_invoke(c, case)).await;
                    assert_eq!(lean, sdk, "{} token={token} {url}", case.function);
                    assert!(lean.header("authorization").is_some());
                    assert_eq!(
                        lean.header("x-amz-security-token").is_some(),
                        token,
                        "the session token is sent"
                    );
                    assert_eq!(p.lean_signed(), (1, 0), "signed by the lean signer");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 72);
}

/// Every operation the moto peer suite sends, on one client pair.
#[tokio::test]
async fn every_operation_of_the_peer_suite_is_signed_byte_identically() {
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let p = pair(LOCAL, creds(true), time, None);
    let name = "peer-fn";
    let role = "arn:aws:iam::123456789012:role/peer-role";
    let mut compared = Vec::new();
    macro_rules! same {
        ($label:expr, $call:expr) => {{
            let (lean, sdk) = p
                .both(|c| async move {
                    let _ = $call(c).await;
                })
                .await;
            assert_eq!(lean, sdk, "{}", $label);
            compared.push($label.to_owned());
        }};
    }
    same!("CreateFunction", |c: aws_sdk_lambda::Client| async move {
        c.create_function()
            .function_name(name)
            .runtime(Runtime::Python312)
            .role(role)
            .handler("index.handler")
            .description("peer suite v1")
            .timeout(10)
            .memory_size(128)
            .tags("suite", "peer_moto")
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(b"PK\x03\x04 zip bytes".to_vec()))
                    .build(),
            )
            .send()
            .await
    });
    same!("GetFunction", |c: aws_sdk_lambda::Client| async move {
        c.get_function().function_name(name).send().await
    });
    same!(
        "GetFunction qualifier",
        |c: aws_sdk_lambda::Client| async move {
            c.get_function()
                .function_name(name)
                .qualifier("1")
                .send()
                .await
        }
    );
    same!(
        "ListFunctions page",
        |c: aws_sdk_lambda::Client| async move {
            c.list_functions()
                .marker("next/page+token==")
                .max_items(50)
                .function_version(aws_sdk_lambda::types::FunctionVersion::All)
                .send()
                .await
        }
    );
    same!(
        "UpdateFunctionConfiguration",
        |c: aws_sdk_lambda::Client| async move {
            c.update_function_configuration()
                .function_name(name)
                .description("peer suite v2")
                .memory_size(256)
                .timeout(30)
                .environment(Environment::builder().variables("MODE", "peer").build())
                .send()
                .await
        }
    );
    same!(
        "GetFunctionConfiguration",
        |c: aws_sdk_lambda::Client| async move {
            c.get_function_configuration()
                .function_name(name)
                .send()
                .await
        }
    );
    same!("PublishVersion", |c: aws_sdk_lambda::Client| async move {
        c.publish_version()
            .function_name(name)
            .description("first")
            .send()
            .await
    });
    same!("CreateAlias", |c: aws_sdk_lambda::Client| async move {
        c.create_alias()
            .function_name(name)
            .name("live")
            .function_version("1")
            .send()
            .await
    });
    let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
    let arn = arn.as_str();
    same!("TagResource", |c: aws_sdk_lambda::Client| async move {
        c.tag_resource()
            .resource(arn)
            .tags("team", "platform")
            .send()
            .await
    });
    same!("ListTags", |c: aws_sdk_lambda::Client| async move {
        c.list_tags().resource(arn).send().await
    });
    same!("UntagResource", |c: aws_sdk_lambda::Client| async move {
        c.untag_resource()
            .resource(arn)
            .tag_keys("team")
            .tag_keys("a b&c")
            .send()
            .await
    });
    same!("DeleteFunction", |c: aws_sdk_lambda::Client| async move {
        c.delete_function().function_name(name).send().await
    });
    for qualifier in [None, Some("1"), Some("live"), Some("$LATEST")] {
        for kind in [
            InvocationType::RequestResponse,
            InvocationType::Event,
            InvocationType::DryRun,
        ] {
            let label = format!("Invoke {qualifier:?} {kind:?}");
            let (lean, sdk) = p
                .both(|c| {
                    let kind = kind.clone();
                    async move {
                        let _ = c
                            .invoke()
                            .function_name(name)
                            .set_qualifier(qualifier.map(str::to_owned))
                            .invocation_type(kind)
                            .payload(Blob::new(r#"{"qualifier":"x"}"#))
                            .send()
                            .await;
                    }
                })
                .await;
            assert_eq!(lean, sdk, "{label}");
            compared.push(label);
        }
    }
    let n = compared.len() as u64;
    assert_eq!(n, 12 + 12);
    assert_eq!(p.lean_signed(), (n, 0), "all signed by the lean signer");
}

#[tokio::test]
async fn a_streaming_body_is_signed_by_the_sdks_signer_exactly_as_without_the_lean_scheme() {
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let p = pair(LOCAL, creds(true), time, None);
    #[allow(deprecated)]
    let (lean, sdk) = p
        .both(|c| async move {
            let _ = c
                .invoke_async()
                .function_name("my-fn")
                .invoke_args(ByteStream::new(SdkBody::from_body_1_x(
                    http_body_util::Full::new(bytes::Bytes::from_static(b"{}")),
                )))
                .send()
                .await;
        })
        .await;
    assert_eq!(lean, sdk);
    assert!(lean.body.is_none(), "the body was a stream");
    assert_eq!(p.lean_signed(), (0, 1), "handed to the SDK's signer");
}

#[tokio::test]
async fn a_path_aws_sigv4_would_normalise_goes_to_the_sdks_signer() {
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let p = pair(LOCAL, creds(false), time, None);
    let (lean, sdk) = p
        .both(|c| async move {
            let _ = c.get_function().function_name("a.b").send().await;
        })
        .await;
    assert_eq!(lean, sdk);
    assert_eq!(p.lean_signed(), (0, 1));
}

#[tokio::test]
async fn the_clock_skew_the_sdk_measures_is_signed_with_by_both_schemes() {
    // The server's clock is 10 minutes ahead of the (static) client clock.
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
    let p = pair(
        PLAIN,
        creds(false),
        time,
        Some("Tue, 14 Nov 2023 22:23:20 GMT"),
    );
    let call = |c: aws_sdk_lambda::Client| async move {
        let _ = c.get_function().function_name("my-fn").send().await;
    };
    let (first_lean, first_sdk) = p.both(call).await;
    assert_eq!(first_lean, first_sdk);
    assert_eq!(first_lean.header("x-amz-date"), Some("20231114T221320Z"));
    // The next operation starts from the skew the first one measured.
    let (lean, sdk) = p.both(call).await;
    assert_eq!(lean, sdk);
    assert_eq!(lean.header("x-amz-date"), Some("20231114T222320Z"));
    assert_eq!(p.lean_signed(), (2, 0));
}

#[tokio::test]
async fn new_credentials_from_the_sdks_resolver_are_signed_with_a_new_key() {
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let first = pair(LOCAL, creds(false), time, None);
    let call = |c: aws_sdk_lambda::Client| async move {
        let _ = c.get_function().function_name("my-fn").send().await;
    };
    let (a, _) = first.both(call).await;
    // The same scheme (and key cache) with other credentials, as after a refresh.
    let rotated = Credentials::new("AKIDROTATED", "another-secret", None, None, "test");
    let recorder = Recorder::default();
    let scheme = LeanSigV4::default();
    let base = |creds: Credentials| {
        aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(creds)
            .endpoint_url(LOCAL)
            .http_client(recorder.clone())
            .time_source(StaticTimeSource::new(time))
            .retry_config(RetryConfig::disabled())
    };
    let one = aws_sdk_lambda::Client::from_conf(lean(base(creds(false)), scheme.clone()).build());
    let two = aws_sdk_lambda::Client::from_conf(lean(base(rotated.clone()), scheme).build());
    let sdk_two = aws_sdk_lambda::Client::from_conf(base(rotated).build());
    call(one).await;
    call(two).await;
    call(sdk_two).await;
    let seen = recorder.take();
    assert_eq!(seen[0], a);
    assert_eq!(
        seen[1], seen[2],
        "the rotated secret signs, not the cached key"
    );
    assert_ne!(
        seen[0].header("authorization"),
        seen[1].header("authorization")
    );
}
