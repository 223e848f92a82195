//! An in-process, Lambda-compatible HTTPS endpoint for tests and benchmarks.
//!
//! [`LocalEndpoint`] speaks Lambda's REST shape — `Invoke` (RequestResponse, Event, DryRun;
//! `Qualifier`, `LogType: Tail`, `ClientContext`), `InvokeWithResponseStream` (an AWS event
//! stream), `ListFunctions` and `GetFunction` — over HTTP/2 and HTTP/1.1 on rustls with a
//! throwaway CA made at start (ALPN `h2`, then `http/1.1`, as Lambda; HTTP/1.1 only with
//! [`http2(false)`](LocalEndpointBuilder::http2)). It verifies every request's SigV4 signature
//! against its own credentials, counts every function execution per client call id (and, over
//! HTTP/2, what happened to every stream) in a [`Ledger`], and misbehaves on demand through
//! [`Faults`] (idle FIN/RST, close after N, latency, stall, die, garbage, truncation, huge or
//! trickling headers, injected statuses, random chaos; on HTTP/2: GOAWAY after N streams, on
//! idle or abrupt, `REFUSED_STREAM`, a black hole, `RST_STREAM` mid-response, a stream limit).
//! [`LocalEndpoint::drain_connections`] restarts it gracefully, like an nginx reload.
//!
//! It is a peer of the client code, not part of it: it shares only Lambda's wire format
//! ([`wire`](crate::wire): header names, invocation types, payload limits).
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
//! the idle timer, RST on drop), TLS, and a slot that hyper's HTTP/1 server, or the `h2`-based
//! HTTP/2 driver (`http2`) when ALPN picked `h2` (or h2c's preface came), reads through, so
//! that a fault can take the stream back to write raw bytes or close it. `handler` routes and
//! answers one request, for both protocols.
//! Faults that shape a response act on invokes only; idle and `max_requests` act on every
//! connection.

mod body;
mod builder;
mod conn;
mod eventstream;
mod faults;
mod functions;
mod handler;
mod handshakes;
mod http2;
mod io;
mod ledger;
mod reply;
mod server;
mod sigv4;
mod stats;
mod tls;

pub use builder::{
    LocalEndpointBuilder, DEFAULT_ACCESS_KEY_ID, DEFAULT_H2_MAX_CONCURRENT_STREAMS, DEFAULT_REGION,
    DEFAULT_SECRET_ACCESS_KEY,
};
pub use faults::{
    AbruptGoaway, ChaosConfig, CloseKind, FaultConfig, Faults, RefuseStreams, DEFAULT_CHAOS_STALL,
    H2_ENHANCE_YOUR_CALM, H2_INTERNAL_ERROR,
};
pub use functions::{Behaviour, FunctionSpec};
pub use handshakes::TlsHandshake;
pub use ledger::{Ledger, StreamOutcome, StreamRecord, LONG_RUN_CALL_LEDGER_LIMIT};
pub use server::LocalEndpoint;
pub use stats::ServerStats;
