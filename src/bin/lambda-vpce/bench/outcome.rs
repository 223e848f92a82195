//! What one benchmarked call ended with, and how SDK errors map onto it.

use std::error::Error as StdError;

use aws_sdk_lambda::error::SdkError;

/// Why a call failed, from the caller's point of view: could the function have run?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The request provably never left (connect/TLS failure, request handed back unsent).
    NotSent,
    /// The request may have reached the server; its outcome is unknown (I/O error after
    /// writing, timeout, broken response).
    MaybeExecuted,
    /// The server answered with an error (a Lambda error code, or a function error).
    Service,
    /// Anything else (a request that could not be built, an unknown error shape).
    Other,
}

impl ErrorKind {
    /// Index into per-kind counters (report order: not_sent, maybe_executed, service, other).
    pub(crate) fn index(self) -> usize {
        match self {
            ErrorKind::NotSent => 0,
            ErrorKind::MaybeExecuted => 1,
            ErrorKind::Service => 2,
            ErrorKind::Other => 3,
        }
    }
}

/// The result of one call.
pub(crate) type Outcome = Result<(), ErrorKind>;

/// Classifies an SDK error. Dispatch failures are examined through their source chain: the
/// crate's own [`lambda_vpce::Error`] says exactly whether the request left; hyper-util's
/// connect errors and refused connections mean it did not; everything else after dispatch is
/// counted as "may have executed", since the SDK cannot tell.
pub(crate) fn classify_sdk<E, R>(err: &SdkError<E, R>) -> ErrorKind
where
    E: StdError + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(_) => ErrorKind::Service,
        SdkError::ConstructionFailure(_) => ErrorKind::NotSent,
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => ErrorKind::MaybeExecuted,
        SdkError::DispatchFailure(d) => match d.as_connector_error() {
            Some(ce) => classify_source(ce),
            None => ErrorKind::Other,
        },
        _ => ErrorKind::Other,
    }
}

/// Classifies a transport error by walking its source chain.
pub(crate) fn classify_source(err: &(dyn StdError + 'static)) -> ErrorKind {
    if let Some(e) = lambda_vpce::Error::find_in(err) {
        return if e.is_not_sent() {
            ErrorKind::NotSent
        } else if e.is_maybe_executed() {
            ErrorKind::MaybeExecuted
        } else if e.is_service() {
            ErrorKind::Service
        } else {
            ErrorKind::Other
        };
    }
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(h) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            if h.is_connect() {
                return ErrorKind::NotSent;
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return ErrorKind::NotSent;
            }
        }
        cur = e.source();
    }
    ErrorKind::MaybeExecuted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_counter_in_report_order() {
        let all = [
            ErrorKind::NotSent,
            ErrorKind::MaybeExecuted,
            ErrorKind::Service,
            ErrorKind::Other,
        ];
        for (i, k) in all.iter().enumerate() {
            assert_eq!(k.index(), i, "{k:?}");
        }
    }

    #[test]
    fn a_refused_connection_counts_as_not_sent() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(classify_source(&io), ErrorKind::NotSent);
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(classify_source(&reset), ErrorKind::MaybeExecuted);
    }
}
