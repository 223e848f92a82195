//! An in-process, Lambda-compatible HTTPS endpoint for tests and benchmarks.
//!
//! [`LocalEndpoint`] speaks Lambda's REST shape — `Invoke` (RequestResponse, Event, DryRun;
//! `Qualifier`, `LogType: Tail`, `ClientContext`), `InvokeWithResponseStream` (an AWS event
//! stream), `ListFunctions` and `GetFunction` — over HTTP/1.1 on rustls with a throwaway CA
//! made at start, and over HTTP/2 too when built with
//! [`http2(true)`](LocalEndpointBuilder::http2) (ALPN `h2`, then `http/1.1`). It verifies every request's SigV4 signature against its own credentials,
//! counts every function execution per client call id in a [`Ledger`], and misbehaves on
//! demand through [`Faults`] (idle FIN/RST, close after N, latency, stall, die, garbage,
//! truncation, huge or trickling headers, injected statuses, random chaos).
//!
//! It is a peer of the client code, not part of it: it shares only the header names in
//! [`headers`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use lambda_vpce::local::LocalEndpoint;
//! let endpoint = LocalEndpoint::start().await?;
//! println!("{} (trust {})", endpoint.url(), endpoint.ca_pem().len());
//! endpoint.faults().idle_close(std::time::Duration::from_secs(1));
//! endpoint.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Architecture: [`server`](LocalEndpoint) runs an accept loop holding a `JoinSet` of
//! connection tasks (`conn`); each wraps the socket in `io::TrackIo` (read/write stamps for
//! the idle timer, RST on drop), TLS, and a slot hyper (HTTP/1, or HTTP/2 when ALPN picked
//! `h2`) reads through, so that a fault can take
//! the stream back to write raw bytes or close it. `handler` routes and answers one request.
//! Faults that shape a response act on invokes only; idle and `max_requests` act on every
//! connection.

mod body;
mod builder;
mod conn;
mod eventstream;
mod faults;
mod functions;
mod handler;
pub mod headers;
mod http2;
mod io;
mod ledger;
mod reply;
mod server;
mod sigv4;
mod stats;
mod tls;

pub use builder::{
    LocalEndpointBuilder, DEFAULT_ACCESS_KEY_ID, DEFAULT_H2_CONNECTION_WINDOW,
    DEFAULT_H2_MAX_CONCURRENT_STREAMS, DEFAULT_H2_STREAM_WINDOW, DEFAULT_REGION,
    DEFAULT_SECRET_ACCESS_KEY,
};
pub use conn::{CLOSE_TIMEOUT, TLS_HANDSHAKE_TIMEOUT};
pub use eventstream::PAYLOAD_CHUNKS;
pub use faults::{
    AbruptGoaway, ChaosConfig, CloseKind, FaultConfig, Faults, RefuseStreams, DEFAULT_CHAOS_STALL,
    H2_ENHANCE_YOUR_CALM, H2_INTERNAL_ERROR,
};
pub use functions::{Behaviour, FunctionSpec, ACCOUNT_ID, DEFAULT_VERSION, RUNTIME};
pub use handler::{
    LIST_MAX_ITEMS, MAX_EVENT_PAYLOAD, MAX_REQUEST_BODY, MAX_SYNC_PAYLOAD, OVERSIZED_HEADER_BYTES,
};
pub use ledger::{Ledger, StreamOutcome, StreamRecord, MAX_STREAM_RECORDS};
pub use server::{LocalEndpoint, ACCEPT_BACKOFF};
pub use sigv4::MAX_CLOCK_SKEW;
pub use stats::ServerStats;
pub use tls::SERVER_NAMES;
