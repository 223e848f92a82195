//! The refused-stream rule: which HTTP/2 failures the server proved it never processed, so
//! that the pool may send the request again without running it twice, and how many times it
//! does. What the pool does with the proof (drain the connection, resend a kept copy) is in
//! `send.rs`'s `send_h2`; the lifecycle around it is the [`h2` module's doc](super).

/// How many times one HTTP/2 request may be refused by the server (GOAWAY above its stream,
/// `REFUSED_STREAM`) and resent before the call fails "not sent": 16. Larger than the budget
/// of requests handed back unsent (`MAX_UNSENT_RESENDS`: 4) because each refusal is the
/// server's proof, and drains the refusing connection, so the resend goes to another (a server
/// that closes after a few streams, like nginx at `keepalive_requests`, refuses a burst of
/// callers connection after connection).
pub(crate) const MAX_REFUSED_RESENDS: u32 = 16;

/// Whether the server proved it did not process the stream that failed with `err`, so that
/// sending the request again cannot run it twice: a GOAWAY whose last-stream-id is below the
/// stream (RFC 9113 §6.8: `h2` fails exactly those streams with the GOAWAY's error, and any
/// stream opened after it), or a `RST_STREAM` with `REFUSED_STREAM` (§8.7). A stream at or
/// below the last-stream-id that the connection's close cuts short fails with an I/O error
/// instead, and is not "refused": the server may have processed it.
pub(crate) fn refused_by_peer(err: &h2::Error) -> bool {
    err.is_remote()
        && (err.is_go_away()
            || (err.is_reset() && err.reason() == Some(h2::Reason::REFUSED_STREAM)))
}
