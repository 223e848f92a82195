//! What one benchmarked call ended with, counted by kind: could the function have run?
//! (lambda-vpce's clients map the library's `Verdict` onto these kinds.)

/// Why a call failed, from the caller's point of view: could the function have run?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
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
    pub fn index(self) -> usize {
        match self {
            ErrorKind::NotSent => 0,
            ErrorKind::MaybeExecuted => 1,
            ErrorKind::Service => 2,
            ErrorKind::Other => 3,
            ErrorKind::InvalidInput => 4,
        }
    }
}

/// Per-kind counters.
pub const KINDS: usize = 5;

/// The result of one call.
pub type Outcome = Result<(), ErrorKind>;

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
}
