//! `lambda-vpce-bench`: the benchmark harness behind `lambda-vpce bench`, as a library that
//! any client can be driven by.
//!
//! The harness knows nothing of Lambda or of HTTP: a client is anything that can make one
//! call and say how it ended ([`Client`]). Around it the harness provides what makes numbers
//! comparable:
//!
//! - [`workload`]: slices of calls by `concurrency` workers, closed loop (each worker calls,
//!   thinks, calls again) or open loop (call *k* scheduled at `start + k/rate`, latency timed
//!   from the *scheduled* start, so a client that falls behind shows it: coordinated omission
//!   corrected, as wrk2 does); rounds that interleave several clients, the order rotated each
//!   round, so the machine's drift spreads evenly over them. Memory does not grow with the
//!   workers: a slice records into a few shared HDR histograms.
//! - [`outcome`]: how a call ended, by kind (not sent, may have executed, service error, invalid
//!   input, other).
//! - [`report`]: per-client numbers (percentiles, throughput, reuse, CPU per call), the text
//!   tables and the JSON report (its schema is in the module doc; fields are only ever added).
//! - [`histogram`]: the latency histogram as the JSON carries it (HdrHistogram V2 compressed).
//! - [`merge`]: the reports of a fleet of load generators as one, with exact percentiles from
//!   the merged histograms; [`baseline`]: a report compared with an earlier one.
//! - [`cpu`]: the process's CPU time around a slice; [`pin`]: CPU lists and pinning (Linux),
//!   including a server started in-process on CPUs of its own; [`plot`]: the latency CDF as SVG.
//!
//! # Driving it with your own client
//!
//! ```no_run
//! use std::sync::Arc;
//! use lambda_vpce_bench::{run_slice, Amount, Client, Outcome, Shape};
//! use lambda_vpce_bench::report::{ClientReport, Extras};
//!
//! /// One call of your client: here a stand-in that sleeps.
//! struct MyClient;
//!
//! impl Client for MyClient {
//!     async fn call(&self, _worker: usize) -> Outcome {
//!         // Send one request. A failure is counted by the kind that says whether the call
//!         // may have run: `Err(ErrorKind::NotSent)` when it provably never left,
//!         // `Err(ErrorKind::MaybeExecuted)` after a timeout, `Err(ErrorKind::Service)` for an
//!         // error response. Only ok calls' latencies go into the percentiles.
//!         tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), lambda_vpce_bench::Error> {
//! let shape = Shape { concurrency: 64, think_ms: None, rate: Some(2_000.0), seed: 1 };
//! let tally = run_slice(
//!     Arc::new(MyClient),
//!     shape,
//!     Amount::Calls(10_000),
//!     lambda_vpce_bench::no_progress(),
//!     0,
//! )
//! .await?;
//! println!("p99 {} µs of {} ok calls", tally.hist.value_at_quantile(0.99), tally.ok);
//! let report = ClientReport::new("my-client", &tally, Extras::default());
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok(())
//! # }
//! ```
//!
//! To compare several clients fairly, run them in interleaved rounds with [`run_rounds`]
//! ([`rounds`]: each round one slice of every client, the order rotated; each client's slices
//! merged, its CPU time summed; [`rounds::SliceHooks`] to measure around each slice). A whole
//! run's report is a [`report::RunReport`] (what `lambda-vpce bench --json` writes, and
//! `bench merge` reads).
//!
//! lambda-vpce's own clients (its SDK client, its lean path, the SDK's default client, the
//! SDK's pooled client, a raw-hyper floor) implement [`Client`] in the `lambda-vpce` CLI
//! (`crates/cli/src/bench/clients.rs`): the harness has no dependency on the library.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, unreachable_pub)]

pub mod baseline;
pub mod cpu;
pub mod histogram;
pub mod merge;
pub mod outcome;
pub mod pin;
pub mod plot;
pub mod report;
pub mod rounds;
pub mod workload;

pub use outcome::{ErrorKind, Outcome};
pub use rounds::run_rounds;
pub use workload::{no_progress, run_slice, Amount, Client, Progress, Shape, Tally};

/// The harness's errors: a message, or the failure it came from.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
