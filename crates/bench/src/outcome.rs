//! What one benchmarked call ended with: the library's [`Verdict`], counted by kind.

use lambda_vpce::Verdict;

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
    /// Anything else (raw-hyper only: a request it could not sign or build).
    Other,
    /// The input was refused before anything was sent.
    InvalidInput,
}

impl ErrorKind {
    /// Index into per-kind counters (report order: not_sent, maybe_executed, service, other,
    /// invalid_input).
    pub(crate) fn index(self) -> usize {
        match self {
            ErrorKind::NotSent => 0,
            ErrorKind::MaybeExecuted => 1,
            ErrorKind::Service => 2,
            ErrorKind::Other => 3,
            ErrorKind::InvalidInput => 4,
        }
    }

    /// The kind counted for a failure with this verdict.
    pub(crate) fn of(verdict: &Verdict) -> ErrorKind {
        match verdict {
            Verdict::InvalidInput => ErrorKind::InvalidInput,
            v if v.is_not_sent() => ErrorKind::NotSent,
            v if v.is_service() => ErrorKind::Service,
            _ => ErrorKind::MaybeExecuted,
        }
    }
}

/// Per-kind counters.
pub(crate) const KINDS: usize = 5;

/// The result of one call.
pub(crate) type Outcome = Result<(), ErrorKind>;

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
            ErrorKind::InvalidInput,
        ];
        for (i, k) in all.iter().enumerate() {
            assert_eq!(k.index(), i, "{k:?}");
        }
        assert_eq!(all.len(), KINDS);
    }

    #[test]
    fn each_verdict_is_counted_under_its_own_kind() {
        assert_eq!(ErrorKind::of(&Verdict::NotSent), ErrorKind::NotSent);
        assert_eq!(
            ErrorKind::of(&Verdict::InvalidInput),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ErrorKind::of(&Verdict::MaybeExecuted),
            ErrorKind::MaybeExecuted
        );
        let throttled = Verdict::Service {
            status: 429,
            code: None,
        };
        assert_eq!(ErrorKind::of(&throttled), ErrorKind::Service);
    }
}
