//! Every shape of `Invoke` answer through both paths: the lean path must give what the SDK
//! path gives (success or failure, status, function error, executed version, request id,
//! payload, durable execution ARN; error code and message, and whether it is a
//! `DurableExecutionAlreadyStartedException`).

use super::*;

/// One answer Lambda (or something in front of it) may give `Invoke`; the function name is the
/// shape's name, so that one server serves them all.
struct Shape {
    name: &'static str,
    invocation_type: InvocationType,
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    /// The error code both paths must report (`None`: a success, or an error without one).
    code: Option<&'static str>,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "event",
        invocation_type: InvocationType::Event,
        status: 202,
        headers: &[(header::REQUEST_ID, "r-202")],
        body: "",
        code: None,
    },
    Shape {
        name: "dry-run",
        invocation_type: InvocationType::DryRun,
        status: 204,
        headers: &[(header::REQUEST_ID, "r-204")],
        body: "",
        code: None,
    },
    Shape {
        name: "handled-error",
        invocation_type: InvocationType::RequestResponse,
        status: 200,
        headers: &[
            (header::FUNCTION_ERROR, "Handled"),
            (header::EXECUTED_VERSION, "$LATEST"),
            (header::REQUEST_ID, "r-handled"),
        ],
        body: r#"{"errorMessage":"no such order","errorType":"OrderError"}"#,
        code: None,
    },
    Shape {
        name: "versioned",
        invocation_type: InvocationType::RequestResponse,
        status: 200,
        headers: &[
            (header::EXECUTED_VERSION, "7"),
            (header::REQUEST_ID, "r-7"),
        ],
        body: r#"{"ok":true}"#,
        code: None,
    },
    Shape {
        name: "service-exception",
        invocation_type: InvocationType::RequestResponse,
        status: 500,
        headers: &[(header::ERROR_TYPE, "ServiceException")],
        body: r#"{"Type":"Service","Message":"Lambda had an internal error"}"#,
        code: Some("ServiceException"),
    },
    Shape {
        name: "bad-gateway-html",
        invocation_type: InvocationType::RequestResponse,
        status: 502,
        headers: &[("content-type", "text/html")],
        body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
        code: None,
    },
    Shape {
        name: "bad-gateway-plain",
        invocation_type: InvocationType::RequestResponse,
        status: 502,
        headers: &[("content-type", "text/plain")],
        body: "Bad Gateway",
        code: None,
    },
    Shape {
        name: "bad-gateway-with-error-type",
        invocation_type: InvocationType::RequestResponse,
        status: 502,
        headers: &[
            (header::ERROR_TYPE, "ServiceException"),
            ("content-type", "text/html"),
        ],
        body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
        code: None,
    },
    Shape {
        name: "too-large",
        invocation_type: InvocationType::RequestResponse,
        status: 413,
        headers: &[(header::ERROR_TYPE, "RequestTooLargeException")],
        body: r#"{"Type":"User","message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}"#,
        code: Some("RequestTooLargeException"),
    },
    Shape {
        name: "two-messages",
        invocation_type: InvocationType::RequestResponse,
        status: 400,
        headers: &[(header::ERROR_TYPE, "InvalidParameterValueException")],
        body: r#"{"message":"first","Message":"last"}"#,
        code: Some("InvalidParameterValueException"),
    },
    Shape {
        name: "not-json",
        invocation_type: InvocationType::RequestResponse,
        status: 400,
        headers: &[(
            header::ERROR_TYPE,
            "InvalidRequestContentException:http://internal.amazon.com/coral/com.amazonaws.awsgirapi/",
        )],
        body: r#"{"Type":"User","message":"Could not parse request body into json: Unexpected character ('x' (code 120))"}"#,
        code: Some("InvalidRequestContentException"),
    },
    Shape {
        name: "durable",
        invocation_type: InvocationType::RequestResponse,
        status: 200,
        headers: &[
            (header::EXECUTED_VERSION, "3"),
            (
                header::DURABLE_EXECUTION_ARN,
                "arn:aws:lambda:us-east-1:123456789012:function:durable:3/durable-execution/order-1/6f1c",
            ),
            (header::REQUEST_ID, "r-durable"),
        ],
        body: r#"{"done":true}"#,
        code: None,
    },
    Shape {
        name: "durable-already-started",
        invocation_type: InvocationType::RequestResponse,
        status: 409,
        headers: &[(header::ERROR_TYPE, "DurableExecutionAlreadyStartedException")],
        body: r#"{"Type":"User","message":"Durable execution with name order-1 already exists with a different input payload"}"#,
        code: Some("DurableExecutionAlreadyStartedException"),
    },
];

/// What a caller learns from one invoke, whichever path made it.
#[derive(Debug, PartialEq)]
enum Outcome {
    Succeeded {
        status: u16,
        function_error: Option<String>,
        executed_version: Option<String>,
        request_id: Option<String>,
        durable_execution_arn: Option<String>,
        payload: Bytes,
    },
    Failed {
        status: Option<u16>,
        code: Option<String>,
        message: Option<String>,
        already_started: bool,
    },
}

impl Outcome {
    fn of_sdk(
        result: Result<
            aws_sdk_lambda::operation::invoke::InvokeOutput,
            aws_sdk_lambda::error::SdkError<
                aws_sdk_lambda::operation::invoke::InvokeError,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    ) -> Outcome {
        match result {
            Ok(out) => Outcome::Succeeded {
                status: u16::try_from(out.status_code()).expect("an HTTP status"),
                function_error: out.function_error().map(str::to_owned),
                executed_version: out.executed_version().map(str::to_owned),
                request_id: out.request_id().map(str::to_owned),
                durable_execution_arn: out.durable_execution_arn().map(str::to_owned),
                // The SDK models an empty body as no payload; the lean path, as empty bytes.
                payload: out
                    .payload()
                    .map(|p| Bytes::copy_from_slice(p.as_ref()))
                    .unwrap_or_default(),
            },
            Err(e) => Outcome::Failed {
                status: e.raw_response().map(|r| r.status().as_u16()),
                code: e.code().map(str::to_owned),
                message: e.message().map(str::to_owned),
                already_started: e
                    .as_service_error()
                    .is_some_and(|e| e.is_durable_execution_already_started_exception()),
            },
        }
    }

    fn of_lean(result: Result<InvokeResponse, Error>) -> Outcome {
        match result {
            Ok(out) => Outcome::Succeeded {
                status: out.status_code,
                function_error: out.function_error,
                executed_version: out.executed_version,
                request_id: out.request_id,
                durable_execution_arn: out.durable_execution_arn,
                payload: out.payload,
            },
            Err(e) => Outcome::Failed {
                status: e.status(),
                code: e.error_code().map(str::to_owned),
                message: e.message().map(str::to_owned),
                already_started: e.is_durable_execution_already_started(),
            },
        }
    }
}

#[tokio::test]
async fn both_paths_give_the_same_result_for_every_response_shape() {
    let server = TestServer::start(|r, _| {
        let shape = SHAPES
            .iter()
            .find(|s| r.path == format!("/2015-03-31/functions/{}/invocations", s.name))
            .expect("a known shape");
        response(shape.status, shape.headers, shape.body)
    })
    .await;
    let (client, lean) = sdk_and_lean(&server, false).await;
    for shape in SHAPES {
        let sdk = client
            .client()
            .invoke()
            .function_name(shape.name)
            .invocation_type(shape.invocation_type.into())
            .payload(Blob::new("{}"))
            .send()
            .await;
        let ours = lean
            .invoke(InvokeRequest::new(shape.name, "{}").invocation_type(shape.invocation_type))
            .await;
        let (sdk, ours) = (Outcome::of_sdk(sdk), Outcome::of_lean(ours));
        assert_eq!(
            ours, sdk,
            "{}: the lean path (left) and the SDK",
            shape.name
        );
        match ours {
            Outcome::Succeeded {
                status, payload, ..
            } => {
                assert_eq!(status, shape.status, "{}", shape.name);
                assert_eq!(payload, shape.body, "{}", shape.name);
                assert_eq!(shape.code, None, "{}", shape.name);
            }
            Outcome::Failed {
                status,
                code,
                already_started,
                ..
            } => {
                assert_eq!(
                    already_started,
                    shape.name == "durable-already-started",
                    "{}",
                    shape.name
                );
                assert_eq!(status, Some(shape.status), "{}", shape.name);
                assert_eq!(code.as_deref(), shape.code, "{}", shape.name);
            }
        }
    }
    assert_eq!(
        server.requests().len(),
        2 * SHAPES.len(),
        "each path sent each shape's request once, nothing retried"
    );
}
