//! The pool's HTTP/2: the life of a shared connection, and what the server proved unprocessed.
//!
//! The pool drives the `h2` crate directly (hyper's HTTP/2 client dropped a stream cut off by a
//! GOAWAY before it opened, leaving a request that never left "may have executed"; see
//! [`stream`]). Everything the server says that decides what the pool may do — its stream limit,
//! GOAWAY, `REFUSED_STREAM`, silence — is handled here; `send.rs`'s `send_h2` applies the
//! verdicts to one exchange, and `origin_pool.rs` keeps an origin's set of shared connections
//! and its waiters.
//!
//! # Lifecycle
//!
//! ```text
//!  connect: TLS, ALPN picks h2 (`Protocol`) ── handshake (connection::handshake): no push,
//!    │      the configured windows (h2_windows), 1 MiB frames; the server's frames are read
//!    │      on their way to `h2` (watch::Watched)
//!    ▼
//!  wait for the server's first SETTINGS ── its SETTINGS_MAX_CONCURRENT_STREAMS is known before
//!    │                                     the first stream
//!    ▼
//!  shared: a lease per request (connection::H2Lease), at most
//!    │     min(max_streams_per_connection, the server's limit) at once: no request queues
//!    │     inside `h2`; streams spread over h2_connections connections (origin_pool)
//!    │  ── PING every h2_keepalive interval, also idle (connection::Driver)
//!    ▼
//!  draining: takes no new stream, open ones finish ◄── GOAWAY read (the moment it arrives)
//!    │                                              ◄── a stream refused, or none made
//!    │                                              ◄── max_lifetime, address dead,
//!    │                                                  connection task ended, pool dropped
//!    ▼
//!  closed when its last stream ends (the last lease dropped); the close is counted once, in
//!  `H2Conn`'s `Drop`, under the first reason given (GOAWAY when none was and one arrived)
//! ```
//!
//! # What the server proved unprocessed
//!
//! Only a request that provably never reached the server, or that the server proved it did not
//! process, is sent again; everything else is the caller's, with its verdict
//! ([`Error::is_maybe_executed`](crate::Error::is_maybe_executed)). On HTTP/2:
//!
//! | what happened | proof | what the pool does | the call, if it cannot resend |
//! |---|---|---|---|
//! | `h2` made no stream for the request (the connection is going away or gone) | nothing was written | drains the connection ([`CloseReason::GoAway`] or [`CloseReason::Error`]); resends the request as it is, on another connection, counted in `unsent_resends` (budget: `MAX_UNSENT_RESENDS` in `config.rs`, shared with HTTP/1.1's hand-backs) | not sent |
//! | GOAWAY whose last-stream-id is below the stream | RFC 9113 §6.8: not processed | drains the connection; resends a copy kept of the request (an in-memory body: every Lambda API call's), counted in `unsent_resends` (budget: [`refused::MAX_REFUSED_RESENDS`]) | not sent ([`RefusedUnreplayable`](crate::Error::is_not_sent) for a streaming body) |
//! | `RST_STREAM` with `REFUSED_STREAM` | §8.7: not processed | as for GOAWAY: drains ([`CloseReason::GoAway`]), resends the copy | not sent |
//! | GOAWAY with the stream at or below its last-stream-id, then the connection closes before the answer | none: it may have been processed | the stream fails with the close's I/O error | may have executed |
//! | a PING unanswered for `h2_keepalive`'s timeout | none | closes the connection ([`CloseReason::PingTimeout`]) and ejects its address; new calls go elsewhere | its open streams: may have executed |
//! | any other reset or I/O error on the stream | none | | may have executed |
//!
//! The rule itself — which `h2` errors are the server's proof — is [`refused::refused_by_peer`].
//! Above the pool, the SDK's retry classifier and the lean path resend only what Lambda says
//! did not run (a 429) or deduplicates (a named durable invoke): `docs/never-twice.md`.
//!
//! # Cancellation
//!
//! A caller dropped while waiting for a slot leaves the queue (a slot handed to it meanwhile
//! goes to the next waiter); dropped while its streaming request body is being sent, it stops
//! the body's task ([`stream::BodyPipe`]), which resets the stream (`CANCEL`); dropped while
//! awaiting or reading the response, the stream is reset. Each frees its slot at once.
//!
//! # Files
//! - `connection.rs`: [`H2Conn`] (one shared connection: slots, draining, the close reason),
//!   [`H2Lease`] (one slot), the handshake and the PING driver.
//! - `stream.rs`: one stream on `h2` — the request head in HTTP/2's form, the body (in memory
//!   in one call, a stream within the window), the response body and its flow control.
//! - `watch.rs`: [`PeerSettings`](watch::PeerSettings), read from the server's SETTINGS and
//!   GOAWAY frames as the bytes arrive (`h2` exposes neither the limit nor the moment of a
//!   GOAWAY).
//! - `refused.rs`: the refused-stream rule and its resend budget.
//!
//! Tests: `src/pool/tests/h2.rs` (GOAWAY, refused streams, stream limits, PING liveness,
//! lifetime drains, under paused time against an `h2` server behind a frame-level middlebox,
//! `src/pool/tests/fake_h2.rs`), `src/pool/tests/h2_cancel.rs` (the cancellation matrix), and
//! over real sockets `tests/http2_faults.rs`, `tests/http2_tls.rs`, `tests/local_endpoint_h2.rs`.
//!
//! [`CloseReason::GoAway`]: crate::pool::CloseReason::GoAway
//! [`CloseReason::Error`]: crate::pool::CloseReason::Error
//! [`CloseReason::PingTimeout`]: crate::pool::CloseReason::PingTimeout

mod connection;
mod refused;
pub(super) mod stream;
mod watch;

pub(super) use connection::{handshake, H2Conn, H2Lease, H2_ASSUMED_PEER_STREAMS};
pub(super) use refused::{refused_by_peer, MAX_REFUSED_RESENDS};
pub(super) use stream::H2Body;
