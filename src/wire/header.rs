//! Header names of Lambda's REST protocol that a client and a server share: lower case, as
//! HTTP/1 header maps store them and as SigV4 signs them.

/// `X-Amz-Invocation-Type`: `RequestResponse` (default), `Event` or `DryRun`
/// ([`InvocationType`](super::InvocationType)).
pub const INVOCATION_TYPE: &str = "x-amz-invocation-type";
/// `X-Amz-Log-Type`: `None` (default) or `Tail` ([`LOG_TYPE_TAIL`](super::LOG_TYPE_TAIL)).
pub const LOG_TYPE: &str = "x-amz-log-type";
/// `X-Amz-Log-Result`: base64 of the last 4 KB of the execution log (with `LogType: Tail`).
pub const LOG_RESULT: &str = "x-amz-log-result";
/// `X-Amz-Client-Context`: base64 of a JSON object passed to the function.
pub const CLIENT_CONTEXT: &str = "x-amz-client-context";
/// `X-Amz-Executed-Version`: the version that ran (`$LATEST` or a number).
pub const EXECUTED_VERSION: &str = "x-amz-executed-version";
/// `X-Amz-Function-Error`: present (`Unhandled`, `Handled`) when the function itself failed.
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
/// `X-Amz-Durable-Execution-Name`: the name of the durable execution an invoke starts or
/// re-attaches to (1 to 64 of `[a-zA-Z0-9-_]`).
pub const DURABLE_EXECUTION_NAME: &str = "x-amz-durable-execution-name";
/// `X-Amz-Durable-Execution-Arn`: the ARN of the durable execution that answered.
pub const DURABLE_EXECUTION_ARN: &str = "x-amz-durable-execution-arn";
/// `X-Amz-Tenant-Id`: the tenant of a function in tenant-isolation mode.
pub const TENANT_ID: &str = "x-amz-tenant-id";
/// `Keep-Alive`: HTTP/1.1's `timeout=N` announcement of a server's idle cutoff (nginx's, and
/// the embedded endpoint's on demand), which the pool learns from. The `http` crate does not
/// name it.
pub const KEEP_ALIVE: &str = "keep-alive";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name, for the checks below.
    const ALL: [&str; 16] = [
        INVOCATION_TYPE,
        LOG_TYPE,
        LOG_RESULT,
        CLIENT_CONTEXT,
        EXECUTED_VERSION,
        FUNCTION_ERROR,
        REQUEST_ID,
        ERROR_TYPE,
        SDK_INVOCATION_ID,
        SECURITY_TOKEN,
        AMZ_DATE,
        CONTENT_SHA256,
        DURABLE_EXECUTION_NAME,
        DURABLE_EXECUTION_ARN,
        TENANT_ID,
        KEEP_ALIVE,
    ];

    #[test]
    fn every_name_is_a_distinct_lower_case_http_header_name() {
        for name in ALL {
            let parsed = http::HeaderName::from_bytes(name.as_bytes()).expect(name);
            assert_eq!(
                parsed.as_str(),
                name,
                "stored lower case, as header maps and SigV4 want"
            );
        }
        let distinct: std::collections::HashSet<_> = ALL.iter().collect();
        assert_eq!(distinct.len(), ALL.len());
    }
}
