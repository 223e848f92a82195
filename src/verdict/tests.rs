//! One test per row of the table on [`Verdict`], with SDK errors built by hand.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_smithy_runtime_api::client::dns::ResolveDnsError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::operation::BuildError;
use aws_smithy_types::error::ErrorMetadata;

use super::*;

type Sdk = SdkError<InvokeError, HttpResponse>;

fn response(status: u16) -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(status).expect("a valid status"),
        SdkBody::empty(),
    )
}

fn service(status: u16, code: Option<&str>) -> Sdk {
    let mut meta = ErrorMetadata::builder();
    if let Some(code) = code {
        meta = meta.code(code);
    }
    SdkError::service_error(InvokeError::generic(meta.build()), response(status))
}

fn io(kind: std::io::ErrorKind) -> Box<std::io::Error> {
    Box::new(std::io::Error::new(kind, "socket"))
}

#[test]
fn a_service_error_carries_its_status_and_code() {
    let v = Verdict::of_sdk(&service(429, Some("TooManyRequestsException")));
    assert_eq!(
        v,
        Verdict::Service {
            status: 429,
            code: Some("TooManyRequestsException".into())
        }
    );
    assert!(v.is_service() && !v.may_have_run() && v.as_str() == "service");
}

#[test]
fn the_crates_error_in_the_chain_decides_whatever_the_sdk_variant() {
    let connect = Sdk::dispatch_failure(ConnectorError::io(Box::new(Error::new(Kind::Connect))));
    assert_eq!(Verdict::of_sdk(&connect), Verdict::NotSent);
    let sent = Sdk::dispatch_failure(ConnectorError::io(Box::new(Error::new(Kind::Transport))));
    assert_eq!(Verdict::of_sdk(&sent), Verdict::MaybeExecuted);
    let refused = Sdk::construction_failure(Error::new(Kind::InvalidInput));
    assert_eq!(Verdict::of_sdk(&refused), Verdict::InvalidInput);
    let body = Sdk::response_error(Error::new(Kind::ResponseTimeout), response(200));
    assert_eq!(Verdict::of_sdk(&body), Verdict::MaybeExecuted);
}

#[test]
fn an_input_the_sdk_cannot_build_is_invalid_input() {
    let missing = Sdk::construction_failure(BuildError::missing_field("function_name", "needed"));
    assert_eq!(Verdict::of_sdk(&missing), Verdict::InvalidInput);
}

#[test]
fn any_other_construction_failure_is_not_sent() {
    let refused = Sdk::construction_failure("an interceptor said no");
    assert_eq!(Verdict::of_sdk(&refused), Verdict::NotSent);
}

#[test]
fn an_sdk_timeout_may_have_executed_and_is_a_timeout_not_a_service_error() {
    let timeout = Sdk::timeout_error("operation timeout (all attempts including retries)");
    assert_eq!(Verdict::of_sdk(&timeout), Verdict::MaybeExecuted);
    let ours = Error::with(sdk_kind(&timeout), timeout);
    assert!(ours.is_timeout() && ours.is_maybe_executed() && ours.status().is_none());
}

#[test]
fn a_credentials_failure_is_not_sent() {
    let creds = Sdk::dispatch_failure(ConnectorError::other(
        Box::new(CredentialsError::not_loaded("no provider")),
        None,
    ));
    assert_eq!(Verdict::of_sdk(&creds), Verdict::NotSent);
}

#[test]
fn a_dns_failure_or_refused_connect_of_another_client_is_not_sent() {
    let dns = Sdk::dispatch_failure(ConnectorError::io(Box::new(ResolveDnsError::new(
        "no such host",
    ))));
    assert_eq!(Verdict::of_sdk(&dns), Verdict::NotSent);
    let refused = Sdk::dispatch_failure(ConnectorError::io(io(
        std::io::ErrorKind::ConnectionRefused,
    )));
    assert_eq!(Verdict::of_sdk(&refused), Verdict::NotSent);
}

#[tokio::test]
async fn a_hyper_util_connect_error_is_not_sent() {
    // A port that was just free: the connect is refused on loopback.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let err = client
        .get(format!("http://127.0.0.1:{port}/").parse().expect("uri"))
        .await
        .expect_err("nothing listens");
    assert!(err.is_connect(), "{err:?}");
    let sdk = Sdk::dispatch_failure(ConnectorError::io(Box::new(err)));
    assert_eq!(Verdict::of_sdk(&sdk), Verdict::NotSent);
}

#[test]
fn every_other_dispatch_failure_may_have_executed() {
    let reset = ConnectorError::io(io(std::io::ErrorKind::ConnectionReset));
    let timeout = ConnectorError::timeout("read timeout".into());
    let user = ConnectorError::user("body aborted mid-write".into());
    let other = ConnectorError::other("something".into(), None);
    for e in [reset, timeout, user, other] {
        let shown = format!("{e:?}");
        assert_eq!(
            Verdict::of_sdk(&Sdk::dispatch_failure(e)),
            Verdict::MaybeExecuted,
            "{shown}"
        );
    }
}

#[test]
fn a_response_the_sdk_cannot_read_may_have_executed() {
    let broken = Sdk::response_error("invalid JSON", response(200));
    assert_eq!(Verdict::of_sdk(&broken), Verdict::MaybeExecuted);
}

#[test]
fn lambdas_codes_say_whether_the_function_may_have_run() {
    let run = |status, code| Verdict::of_sdk(&service(status, code)).may_have_run();
    assert!(run(500, Some("ServiceException")));
    assert!(run(503, None));
    assert!(run(410, Some("EFSIOException")));
    assert!(!run(502, Some("ENILimitReachedException")));
    assert!(!run(502, Some("KMSAccessDeniedException")));
    assert!(!run(404, Some("ResourceNotFoundException")));
    assert!(!run(400, None));
}

#[test]
fn the_crates_errors_answer_with_the_same_verdicts() {
    let cases = [
        (Kind::Connect, Verdict::NotSent),
        (Kind::PoolExhausted, Verdict::NotSent),
        (Kind::Credentials, Verdict::NotSent),
        (Kind::InvalidInput, Verdict::InvalidInput),
        (Kind::ResponseTimeout, Verdict::MaybeExecuted),
        (Kind::Transport, Verdict::MaybeExecuted),
    ];
    for (kind, verdict) in cases {
        let e = Error::new(kind);
        assert_eq!(e.verdict(), verdict, "{e:?}");
        assert_eq!(e.is_not_sent(), verdict.is_not_sent(), "{e:?}");
        assert_eq!(e.is_maybe_executed(), verdict.is_maybe_executed(), "{e:?}");
    }
    let throttled = Error::service(429, Some("TooManyRequestsException".into()), None, None);
    assert_eq!(throttled.verdict().status(), Some(429));
    assert_eq!(throttled.verdict().code(), Some("TooManyRequestsException"));
}

#[test]
fn report_names_are_stable() {
    let names: Vec<_> = [
        Verdict::NotSent,
        Verdict::InvalidInput,
        Verdict::MaybeExecuted,
        Verdict::Service {
            status: 500,
            code: None,
        },
    ]
    .iter()
    .map(Verdict::as_str)
    .collect();
    assert_eq!(
        names,
        ["not_sent", "invalid_input", "maybe_executed", "service"]
    );
}
