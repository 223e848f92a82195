//! The one answer to "may the function have run?" after a failed call: [`Verdict`].

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::{Error, Kind};

/// What a failed call did, as far as the client can know: did the request leave, and may the
/// function have run?
///
/// [`Verdict::of_sdk`] classifies the `SdkError` of any Lambda operation sent through any
/// client; [`Error::verdict`](crate::Error::verdict) answers for the crate's own error (the lean
/// path, the pool). Both decide every case the same way, from this table, first row first:
///
/// | the failure | verdict | why |
/// |---|---|---|
/// | `ServiceError` (Lambda answered with an error status) | `Service { status, code }` | Lambda refused the call; see [`Verdict::may_have_run`] for the codes that say otherwise |
/// | the crate's [`Error`] anywhere in the source chain | that error's verdict | the pool and the lean path know whether a byte was written; and on the crate's client an attempt that failed before the pool saw its request (identity, endpoint resolution, signing, an interceptor, an attempt timeout that fired first) carries the crate's error too: `InvalidInput` for identity or endpoint resolution that failed on configuration, `NotSent` otherwise — decided by a witness the pool's connector marks, not by the error's text |
/// | `ConstructionFailure` holding an input `BuildError` or `SerializationError` | `InvalidInput` | the SDK refused the input itself (a missing required field); the same input fails again |
/// | `ConstructionFailure`, anything else | `NotSent` | the call stopped before serialization finished (an interceptor's refusal, an unreadable body): no request existed to send |
/// | `TimeoutError` (the SDK's operation or attempt timeout) | `MaybeExecuted` | the error does not say where the timer fired: an attempt timeout can fire after the request was written, and an operation timeout that fired while credentials were still loading looks the same, so only "may have executed" is safe |
/// | `DispatchFailure` holding a credentials error (`CredentialsError`) | `NotSent` | identity resolution runs before the connector is called |
/// | `DispatchFailure` holding a DNS error (`ResolveDnsError`), a hyper-util connect error (`is_connect()`) or an I/O `ConnectionRefused` | `NotSent` | no connection existed to carry the request (the SDK's stock client reports these) |
/// | `DispatchFailure`, anything else (a `ConnectorError` of kind io, timeout, user or other) | `MaybeExecuted` | a connector's kind says how to retry, not whether bytes left: hyper reports a body aborted mid-write as a *user* error, a read timeout as a *timeout* |
/// | `ResponseError` (a response that could not be read or parsed) | `MaybeExecuted` | the server answered, so the request reached it |
///
/// **Retries.** The verdict describes the SDK's last attempt. Under
/// [`RetryPolicy::NeverTwice`](crate::RetryPolicy::NeverTwice) (the default) the SDK resends
/// a POST such as `Invoke` only after attempts that were not sent or throttled (429), so the
/// last attempt's verdict is the call's. Under [`RetryPolicy::SdkDefault`](crate::RetryPolicy::SdkDefault) an earlier
/// attempt may have run even when the last one was not sent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The request provably never left this client (connect, DNS or TLS failure, pool
    /// exhausted or closed, a connection that handed it back unsent, credentials): the function
    /// did not run, and sending it again is safe.
    NotSent,
    /// The input was refused before anything was sent (validation): it was not sent either,
    /// but sending the same input again fails the same way.
    InvalidInput,
    /// Bytes of the request were written and the outcome is unknown: the function may have run
    /// (at most once: the crate never resends such a request).
    MaybeExecuted,
    /// Lambda answered with an error: `status` and Lambda's error code (such as
    /// `TooManyRequestsException`). The function did not run, unless
    /// [`may_have_run`](Verdict::may_have_run) says so.
    Service {
        /// The HTTP status of the answer.
        status: u16,
        /// Lambda's error code, when the answer carried one.
        code: Option<String>,
    },
}

/// Lambda error codes (of `Invoke`) that stop a call before the function's handler runs, even
/// though Lambda answers them with a 5xx status: the function's environment could not be set
/// up (VPC network interfaces, EC2 permissions, KMS for environment variables, the package,
/// the runtime, an inactive function).
const NOT_RUN_5XX_CODES: &[&str] = &[
    "EC2AccessDeniedException",
    "EC2ThrottledException",
    "EC2UnexpectedException",
    "ENILimitReachedException",
    "InvalidRuntimeException",
    "InvalidSecurityGroupIDException",
    "InvalidSubnetIDException",
    "InvalidZipFileException",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
    "KMSNotFoundException",
    "ResourceNotReadyException",
    "SubnetIPAddressLimitReachedException",
];

/// Lambda error codes that say the function ran and then failed outside its own code: an
/// `EFSIOException` (410) is a file-system read or write that failed during the invocation.
const RAN_CODES: &[&str] = &["EFSIOException"];

impl Verdict {
    /// The verdict of a failed SDK call, for any Lambda operation, through any HTTP client
    /// (decided by the table on [`Verdict`]).
    pub fn of_sdk<E>(err: &SdkError<E, HttpResponse>) -> Verdict
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        if let SdkError::ServiceError(service) = err {
            return Verdict::Service {
                status: service.raw().status().as_u16(),
                code: service.err().code().map(str::to_owned),
            };
        }
        sdk_kind(err).verdict()
    }

    /// The request never left this client: [`NotSent`](Verdict::NotSent) or
    /// [`InvalidInput`](Verdict::InvalidInput). The function did not run.
    pub fn is_not_sent(&self) -> bool {
        matches!(self, Verdict::NotSent | Verdict::InvalidInput)
    }

    /// [`InvalidInput`](Verdict::InvalidInput): refused before sending; do not send it again
    /// unchanged.
    pub fn is_invalid_input(&self) -> bool {
        *self == Verdict::InvalidInput
    }

    /// [`MaybeExecuted`](Verdict::MaybeExecuted): sent, outcome unknown.
    pub fn is_maybe_executed(&self) -> bool {
        *self == Verdict::MaybeExecuted
    }

    /// [`Service`](Verdict::Service): Lambda answered with an error.
    pub fn is_service(&self) -> bool {
        matches!(self, Verdict::Service { .. })
    }

    /// The HTTP status of a service error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Verdict::Service { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Lambda's error code of a service error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Verdict::Service { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The function may have run: [`MaybeExecuted`](Verdict::MaybeExecuted), or a service
    /// error whose code says it ran or leaves it open.
    ///
    /// | service answer | may have run |
    /// |---|---|
    /// | `EFSIOException` (410): the function's file system failed while it ran | yes |
    /// | `ServiceException` (500), or any other 5xx without a code or with an unknown code | yes: Lambda's own failure, whether the function ran is unknown |
    /// | 5xx codes of an environment that could not be set up (`EC2*`, `ENILimitReachedException`, `InvalidRuntimeException`, `InvalidSecurityGroupIDException`, `InvalidSubnetIDException`, `InvalidZipFileException`, `KMS*`, `ResourceNotReadyException`, `SubnetIPAddressLimitReachedException`) | no |
    /// | every 4xx (`TooManyRequestsException` 429, `ResourceNotFoundException` 404, `AccessDeniedException` 403, `RequestTooLargeException` 413, `EFSMount*`, `SnapStart*`, ...) | no |
    ///
    /// A function that ran and failed in its own code is not an error at all: Lambda answers
    /// 200 with `X-Amz-Function-Error`.
    pub fn may_have_run(&self) -> bool {
        match self {
            Verdict::MaybeExecuted => true,
            Verdict::Service { status, code } => {
                let code = code.as_deref();
                if code.is_some_and(|c| RAN_CODES.contains(&c)) {
                    return true;
                }
                *status >= 500 && !code.is_some_and(|c| NOT_RUN_5XX_CODES.contains(&c))
            }
            Verdict::NotSent | Verdict::InvalidInput => false,
        }
    }

    /// A short, stable name for reports and metrics: `not_sent`, `invalid_input`,
    /// `maybe_executed` or `service`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::NotSent => "not_sent",
            Verdict::InvalidInput => "invalid_input",
            Verdict::MaybeExecuted => "maybe_executed",
            Verdict::Service { .. } => "service",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The crate's error kind for an SDK failure that is not a service error: the kind of the
/// crate's [`Error`] in the chain, else the table's row. `ServiceError` maps to `Transport`
/// here; callers decide service errors first.
pub(crate) fn sdk_kind<E, R>(err: &SdkError<E, R>) -> Kind
where
    E: StdError + 'static,
    R: fmt::Debug + 'static,
{
    if let Some(ours) = Error::find_in(err) {
        return ours.kind().clone();
    }
    match err {
        SdkError::ConstructionFailure(_) => {
            if chain_has::<aws_smithy_types::error::operation::BuildError>(err)
                || chain_has::<aws_smithy_types::error::operation::SerializationError>(err)
            {
                Kind::InvalidInput
            } else {
                Kind::SdkNotSent
            }
        }
        SdkError::TimeoutError(_) => Kind::SdkTimeout,
        SdkError::DispatchFailure(_) => dispatch_kind(err),
        SdkError::ResponseError(_) => Kind::BadResponse,
        _ => Kind::Transport,
    }
}

/// A dispatch failure without the crate's error: not sent only when the chain proves no
/// connection carried the request.
fn dispatch_kind(err: &(dyn StdError + 'static)) -> Kind {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_smithy_runtime_api::client::dns::ResolveDnsError;
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<CredentialsError>() {
            return Kind::Credentials;
        }
        if e.is::<ResolveDnsError>() {
            return Kind::Dns;
        }
        if e.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(|h| h.is_connect())
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return Kind::Connect;
        }
        cur = e.source();
    }
    Kind::Transport
}

fn chain_has<T: StdError + 'static>(err: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<T>() {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests;
