//! Header names of Lambda's REST protocol that a server and a client share.
//!
//! These are the only items a client may take from `local`; they are plain `&str` consts
//! (lower case, as HTTP/1 header maps store them).

/// `X-Amz-Invocation-Type`: `RequestResponse` (default), `Event` or `DryRun`.
pub const INVOCATION_TYPE: &str = "x-amz-invocation-type";
/// `X-Amz-Log-Type`: `None` (default) or `Tail`.
pub const LOG_TYPE: &str = "x-amz-log-type";
/// `X-Amz-Log-Result`: base64 of the last 4 KB of the execution log (with `LogType: Tail`).
pub const LOG_RESULT: &str = "x-amz-log-result";
/// `X-Amz-Client-Context`: base64 of a JSON object passed to the function.
pub const CLIENT_CONTEXT: &str = "x-amz-client-context";
/// `X-Amz-Executed-Version`: the version that ran (`$LATEST` or a number).
pub const EXECUTED_VERSION: &str = "x-amz-executed-version";
/// `X-Amz-Function-Error`: present (`Unhandled`) when the function itself failed.
pub const FUNCTION_ERROR: &str = "x-amz-function-error";
/// `x-amzn-RequestId`: the server's id for one request.
pub const REQUEST_ID: &str = "x-amzn-requestid";
/// `x-amzn-ErrorType`: the error code of an error response (rest-json protocol).
pub const ERROR_TYPE: &str = "x-amzn-errortype";
/// `amz-sdk-invocation-id`: the client's id for one call, kept across its retries.
pub const SDK_INVOCATION_ID: &str = "amz-sdk-invocation-id";
/// `X-Amz-Security-Token`: the session token of temporary credentials.
pub const SECURITY_TOKEN: &str = "x-amz-security-token";
/// `X-Amz-Date`: the SigV4 signing time, `YYYYMMDD'T'HHMMSS'Z'`.
pub const AMZ_DATE: &str = "x-amz-date";
/// `X-Amz-Content-SHA256`: hex SHA-256 of the body, when a client sends it.
pub const CONTENT_SHA256: &str = "x-amz-content-sha256";
/// `Retry-After`: seconds to wait before retrying a throttled (429) call.
pub const RETRY_AFTER: &str = "retry-after";
/// `Keep-Alive`: `timeout=N`, announced when [`crate::local::Faults::announce_keep_alive`] is on.
pub const KEEP_ALIVE: &str = "keep-alive";
/// Content type of a response-streaming invocation's body.
pub const EVENT_STREAM_CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";
/// `X-Amz-Durable-Execution-Name`: the name of the durable execution an invoke starts or
/// re-attaches to (1 to 64 of `[a-zA-Z0-9-_]`).
pub const DURABLE_EXECUTION_NAME: &str = "x-amz-durable-execution-name";
/// `X-Amz-Durable-Execution-Arn`: the ARN of the durable execution that answered.
pub const DURABLE_EXECUTION_ARN: &str = "x-amz-durable-execution-arn";
/// `X-Amz-Tenant-Id`: the tenant of a function in tenant-isolation mode.
pub const TENANT_ID: &str = "x-amz-tenant-id";
