//! `lambda-vpce invoke`: one Invoke call; the response payload to stdout (raw bytes), the
//! metadata to stderr, and an exit code that says what happened.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::process::ExitCode;

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata as _, SdkError};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::operation::RequestId as _;
use aws_sdk_lambda::primitives::Blob;
use base64::Engine as _;
use clap::{Args, ValueEnum};
use lambda_vpce::doctor::EndpointPolicyDenial;
use lambda_vpce::validate;
use lambda_vpce::wire::InvocationType;
use lambda_vpce::{BuildError, Verdict};

use crate::common::{lambda_builder, CmdResult, EndpointArgs};

/// The call succeeded and the function returned normally.
const EXIT_OK: u8 = 0;
/// The function ran and failed (`X-Amz-Function-Error`); its error payload is on stdout.
const EXIT_FUNCTION_ERROR: u8 = 1;
/// Usage or configuration error, including input refused before sending: nothing was sent.
const EXIT_USAGE: u8 = 2;
/// The call failed before the request left this client: the function did not run.
const EXIT_NOT_SENT: u8 = 3;
/// The call failed after the request was sent: the function may have run.
const EXIT_MAYBE_EXECUTED: u8 = 4;
/// Lambda answered with an error (throttle, access denied, not found, ...).
const EXIT_SERVICE_ERROR: u8 = 5;

/// Flags of `lambda-vpce invoke`.
#[derive(Debug, Args)]
#[command(after_help = "\
The response payload goes to stdout as raw bytes (with a newline added when stdout is a \
terminal and it does not end with one); status, executed version, request id, \
function error and the decoded log tail go to stderr.

Exit codes:
  0  the function returned normally (or the Event/DryRun call was accepted)
  1  the function ran and failed (X-Amz-Function-Error); its error payload is on stdout
  2  usage or configuration error: bad flags, invalid name/qualifier/payload/client context/
     tenant id/durable execution name,
     unreadable file, bad endpoint flags, no region or no credentials (nothing was sent)
  3  the call failed and was not sent: the function did not run (safe to retry)
  4  the call failed after it was sent: the function may have run
  5  Lambda answered with an error (throttling, AccessDenied, ResourceNotFound, ...)")]
pub(crate) struct InvokeArgs {
    /// The function: a name, a partial ARN (ACCOUNT:function:NAME) or an ARN, each with an
    /// optional `:QUALIFIER`.
    #[arg(long, value_name = "NAME|ARN")]
    function: String,
    /// The payload: inline JSON, `@FILE` to read a file, or `-` to read stdin. Must be JSON.
    /// Default: no payload.
    #[arg(long, value_name = "JSON|@FILE|-")]
    payload: Option<String>,
    /// How to invoke.
    #[arg(long, value_enum, default_value_t = InvocationKind::RequestResponse)]
    invocation_type: InvocationKind,
    /// A version or alias.
    #[arg(long, value_name = "QUALIFIER")]
    qualifier: Option<String>,
    /// `Tail` returns the last 4 KB of the execution log, printed decoded on stderr
    /// (RequestResponse only).
    #[arg(long, value_enum)]
    log_type: Option<LogKind>,
    /// Client context as a JSON object; base64-encoded for you (at most 3,583 bytes encoded).
    #[arg(long, value_name = "JSON")]
    client_context: Option<String>,
    /// The tenant of a function in tenant-isolation mode (`X-Amz-Tenant-Id`; 1 to 256 letters,
    /// digits, spaces or `. _ : / = + - @`).
    #[arg(long, value_name = "TENANT")]
    tenant_id: Option<String>,
    /// The durable execution's name (`X-Amz-Durable-Execution-Name`; 1 to 64 letters, digits,
    /// `-` or `_`) for a durable function invoked qualified. Lambda deduplicates on it, so a
    /// failure after sending is retried (exit 4 only once the retries are spent).
    #[arg(long, value_name = "NAME")]
    durable_execution_name: Option<String>,
    #[command(flatten)]
    endpoint: EndpointArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
enum InvocationKind {
    RequestResponse,
    Event,
    DryRun,
}

impl From<InvocationKind> for InvocationType {
    fn from(k: InvocationKind) -> Self {
        match k {
            InvocationKind::RequestResponse => InvocationType::RequestResponse,
            InvocationKind::Event => InvocationType::Event,
            InvocationKind::DryRun => InvocationType::DryRun,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
enum LogKind {
    Tail,
    None,
}

pub(crate) async fn run(args: InvokeArgs) -> CmdResult {
    // Every input is checked before a client is built or anything is sent.
    validate::function_name(&args.function)?;
    if let Some(q) = &args.qualifier {
        validate::qualifier(q)?;
    }
    if let Some(t) = &args.tenant_id {
        validate::tenant_id(t)?;
    }
    if let Some(n) = &args.durable_execution_name {
        validate::durable_execution_name(n)?;
    }
    let invocation_type = InvocationType::from(args.invocation_type);
    let payload = match &args.payload {
        Some(spec) => Some(read_payload(spec, invocation_type)?),
        None => None,
    };
    let client_context = match &args.client_context {
        Some(json) => Some(validate::encode_client_context(json)?),
        None => None,
    };

    let lambda = lambda_builder(&args.endpoint, lambda_vpce::pool::PoolBuilder::new())
        .await?
        .build()
        .await?;
    let mut call = lambda
        .client()
        .invoke()
        .function_name(&args.function)
        .invocation_type(invocation_type.into())
        .set_qualifier(args.qualifier.clone())
        .set_client_context(client_context)
        .set_tenant_id(args.tenant_id.clone())
        .set_durable_execution_name(args.durable_execution_name.clone());
    if let Some(payload) = payload {
        call = call.payload(Blob::new(payload));
    }
    if args.log_type == Some(LogKind::Tail) {
        call = call.log_type(aws_sdk_lambda::types::LogType::Tail);
    }

    match call.send().await {
        Ok(out) => {
            if let Some(payload) = out.payload() {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(payload.as_ref())?;
                if ends_without_newline_on_a_terminal(payload.as_ref(), stdout.is_terminal()) {
                    stdout.write_all(b"\n")?;
                }
                stdout.flush()?;
            }
            eprintln!("status: {}", out.status_code());
            if let Some(v) = out.executed_version() {
                eprintln!("executed version: {v}");
            }
            if let Some(id) = out.request_id() {
                eprintln!("request id: {id}");
            }
            if let Some(arn) = out.durable_execution_arn() {
                eprintln!("durable execution: {arn}");
            }
            if let Some(log) = out.log_result() {
                print_log_tail(log);
            }
            match out.function_error() {
                Some(kind) => {
                    eprintln!("function error: {kind}");
                    Ok(ExitCode::from(EXIT_FUNCTION_ERROR))
                }
                None => Ok(ExitCode::from(EXIT_OK)),
            }
        }
        Err(err) => Ok(report_failure(&err)),
    }
}

/// Reads `JSON`, `@FILE` or `-`, at most the invocation type's limit, and checks it is JSON.
fn read_payload(spec: &str, invocation_type: InvocationType) -> Result<Vec<u8>, BuildError> {
    let limit = invocation_type.max_payload_bytes();
    let bytes = if spec == "-" {
        read_limited(std::io::stdin().lock(), limit)
            .map_err(|e| BuildError::new("payload", "-", format!("readable stdin ({e})")))?
    } else if let Some(path) = spec.strip_prefix('@') {
        let file = std::fs::File::open(path)
            .map_err(|e| BuildError::new("payload", spec, format!("a readable file ({e})")))?;
        read_limited(file, limit)
            .map_err(|e| BuildError::new("payload", spec, format!("a readable file ({e})")))?
    } else {
        spec.as_bytes().to_vec()
    };
    validate::payload(bytes.len(), invocation_type)?;
    if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
        let shown = if spec == "-" || spec.starts_with('@') {
            spec.to_owned()
        } else {
            format!("{} bytes", bytes.len())
        };
        return Err(BuildError::new(
            "payload",
            shown,
            "JSON (Lambda refuses any other payload)",
        ));
    }
    Ok(bytes)
}

/// Reads up to `limit + 1` bytes, so that an oversized input is detected without reading all
/// of it.
fn read_limited(reader: impl std::io::Read, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn print_log_tail(log_base64: &str) {
    match base64::engine::general_purpose::STANDARD.decode(log_base64) {
        Ok(bytes) => {
            eprintln!("log tail:");
            for line in String::from_utf8_lossy(&bytes).lines() {
                eprintln!("  {line}");
            }
        }
        Err(_) => eprintln!("log tail: (not valid base64)"),
    }
}

/// Prints the failure and its verdict, and returns the exit code for it.
fn report_failure(err: &SdkError<InvokeError, HttpResponse>) -> ExitCode {
    let verdict = Verdict::of_sdk(err);
    if let SdkError::ServiceError(service) = err {
        let e = service.err();
        let status = service.raw().status().as_u16();
        eprintln!(
            "error: Lambda refused the call: {} (HTTP {})",
            e.code().unwrap_or("unknown error"),
            status
        );
        if let Some(message) = e.message() {
            eprintln!("  message: {message}");
        }
        if let Some(id) = e.meta().request_id() {
            eprintln!("  request id: {id}");
        }
        if let Some(denial) = EndpointPolicyDenial::from_error(e.code(), e.message()) {
            eprintln!("  VPC endpoint policy: {}", denial.advice());
        }
        if verdict.may_have_run() {
            eprintln!(
                "  class: service (Lambda's own failure: whether the function ran is unknown)"
            );
        } else {
            eprintln!("  class: service (refused: the function did not run)");
        }
        return ExitCode::from(EXIT_SERVICE_ERROR);
    }
    if verdict.is_not_sent() && lambda_vpce::Error::find_in(err).is_some_and(|e| e.is_credentials())
    {
        eprintln!("error: no usable AWS credentials (nothing was sent)");
        print_sources(err);
        return ExitCode::from(EXIT_USAGE);
    }
    let (class, code) = match verdict {
        Verdict::NotSent => ("not sent (the function did not run)", EXIT_NOT_SENT),
        Verdict::InvalidInput => ("invalid input (nothing was sent)", EXIT_USAGE),
        Verdict::Service { .. } => ("service", EXIT_SERVICE_ERROR),
        _ => ("may have executed", EXIT_MAYBE_EXECUTED),
    };
    eprintln!("error: the call failed: {err}");
    print_sources(err);
    eprintln!("  class: {class}");
    ExitCode::from(code)
}

fn print_sources(err: &(dyn std::error::Error + 'static)) {
    let mut source = err.source();
    while let Some(s) = source {
        eprintln!("  caused by: {s}");
        source = s.source();
    }
}

/// Whether to end the payload with a newline: only on a terminal (so the prompt does not run
/// into it), never into a pipe or file (the bytes stay exactly the function's), and not when
/// it ends with one already.
fn ends_without_newline_on_a_terminal(payload: &[u8], is_terminal: bool) -> bool {
    is_terminal && !payload.is_empty() && !payload.ends_with(b"\n")
}

#[cfg(test)]
mod tests {
    use super::ends_without_newline_on_a_terminal as newline;

    #[test]
    fn a_newline_ends_the_payload_on_a_terminal_only() {
        assert!(newline(b"{}", true));
        assert!(!newline(b"{}", false));
        assert!(!newline(b"{}\n", true));
        assert!(!newline(b"", true));
    }
}
