//! Two real calls over the client's pool: did the second reuse the first's connection? And
//! when a call is refused, is it the VPC endpoint policy?

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::types::InvocationType;
use lambda_vpce::doctor::EndpointPolicyDenial;
use lambda_vpce::{LambdaVpce, Verdict};
use serde_json::json;

use super::report::{Check, Status};

/// Calls made to check reuse.
const CALLS: u64 = 2;

/// A failed call, reduced to what the report needs.
struct Failure {
    message: String,
    class: &'static str,
    code: Option<String>,
    denial: Option<EndpointPolicyDenial>,
}

fn failure<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(service) = err.as_service_error() {
        let code = service.code().map(str::to_owned);
        let message = format!(
            "{}: {}",
            service.code().unwrap_or("service error"),
            service.message().unwrap_or("")
        );
        return Failure {
            denial: EndpointPolicyDenial::from_error(service.code(), service.message()),
            message,
            class: "service",
            code,
        };
    }
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Failure {
        message,
        class: Verdict::of_sdk(err).as_str(),
        code: None,
        denial: None,
    }
}

async fn one_call(lambda: &LambdaVpce, function: Option<&str>) -> Result<(), Failure> {
    match function {
        Some(f) => lambda
            .client()
            .invoke()
            .function_name(f)
            .invocation_type(InvocationType::DryRun)
            .send()
            .await
            .map(drop)
            .map_err(|e| failure(&e)),
        None => lambda
            .client()
            .list_functions()
            .max_items(1)
            .send()
            .await
            .map(drop)
            .map_err(|e| failure(&e)),
    }
}

/// The `calls` and `reuse` checks, and an `access` check when a call was refused by a VPC
/// endpoint policy.
pub(super) async fn reuse_checks(lambda: &LambdaVpce, function: Option<&str>) -> Vec<Check> {
    let operation = match function {
        Some(_) => "Invoke (DryRun)",
        None => "ListFunctions",
    };
    let mut succeeded = 0;
    let mut first_failure = None;
    for _ in 0..CALLS {
        match one_call(lambda, function).await {
            Ok(()) => succeeded += 1,
            Err(f) => {
                first_failure.get_or_insert(f);
            }
        }
    }
    let stats = lambda.pool().stats();
    let (opened, reused) = (stats.opened(), stats.reused());
    let mut data = json!({
        "operation": operation,
        "calls": CALLS,
        "succeeded": succeeded,
        "opened": opened,
        "reused": reused,
        "error": null,
        "error_class": null,
        "error_code": null,
    });
    let mut out = Vec::new();
    match first_failure {
        None => out.push(Check::new(
            "calls",
            Status::Ok,
            format!("{succeeded} of {CALLS} {operation} calls succeeded"),
            data.clone(),
        )),
        Some(f) => {
            data["error"] = json!(f.message);
            data["error_class"] = json!(f.class);
            data["error_code"] = json!(f.code);
            out.push(Check::new(
                "calls",
                Status::Fail,
                format!(
                    "{succeeded} of {CALLS} {operation} calls succeeded; {} error: {}",
                    f.class.replace('_', " "),
                    f.message
                ),
                data.clone(),
            ));
            if let Some(denial) = &f.denial {
                out.push(Check::new(
                    "access",
                    Status::Fail,
                    denial.advice(),
                    json!({
                        "explicit_deny": denial.is_explicit_deny(),
                        "action": denial.action(),
                        "resource": denial.resource(),
                    }),
                ));
            }
        }
    }
    // Any answer from the server (a service error too) proves the connection carried it.
    let reuse = if opened == 0 {
        Check::new(
            "reuse",
            Status::Skip,
            "no connection was opened".to_owned(),
            data,
        )
    } else if reused >= 1 {
        Check::new(
            "reuse",
            Status::Ok,
            format!("a call reused an open connection (opened {opened}, reused {reused})"),
            data,
        )
    } else {
        Check::new(
            "reuse",
            Status::Warn,
            format!(
                "{CALLS} calls opened {opened} connections and reused none: the endpoint \
                 (or something between) closes connections after each response, so every \
                 call pays TCP and TLS again"
            ),
            data,
        )
    };
    out.insert(1.min(out.len()), reuse);
    out
}
