//! The results: per-client numbers, the text tables on stdout, and the JSON report.
//!
//! # JSON schema (`--json FILE`), version 1
//!
//! Stable: fields are only ever added. Durations are microseconds unless the name says
//! otherwise; `null` means "not measured" (see each field).
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "mode": "closed" | "open",          // open = --rate, latency from the scheduled start
//!   "endpoint": "embedded" | URL,
//!   "concurrency": u64, "payload_bytes": u64, "invocation_type": str, "function": str,
//!   "rounds": u64, "warmup": u64,
//!   "requests_per_client": u64 | null,  // --requests (null with --duration)
//!   "duration_s": f64 | null,           // --duration per client (null with --requests)
//!   "rate_rps": f64 | null,             // --rate
//!   "think_time_ms": [min, max] | null,
//!   "max_attempts": u64 | null,         // null: each client's own default
//!   "min_idle": u64,                    // the lambda-vpce pool's min_idle (prewarmed)
//!   "server": {"idle_close_ms", "max_requests", "latency_ms",
//!              "http2": bool,           // embedded only; http2: ALPN offered h2
//!              "threads": u64} | null,  // its own runtime's workers (0: the bench's runtime)
//!   "protocol": "http1" | "http2" | "auto" | null,  // --protocol of the crate's clients
//!                                       // (null: the pool's default)
//!   "h2_connections": u64 | null,       // --h2-connections (null: the pool's default)
//!   "cpu_includes_server": bool,        // true when the embedded endpoint shared the process
//!   "server_cpus": [u64] | null,        // --server-cpus: the CPUs the endpoint's threads may
//!                                       // run on, as the OS reported them (null: not pinned)
//!   "client_cpus": [u64] | null,        // --client-cpus: the same for the bench's threads
//!                                       // (null: not pinned; merged: every runner's)
//!   "allocator": "mimalloc" | "system", // the binary's global allocator (cargo feature mimalloc)
//!   "clients": [{
//!     "client": str,                    // lambda-vpce | lambda-vpce-lean | sdk-default | ...
//!     "requests": u64,                  // calls measured (warm-up and first call excluded)
//!     "ok": u64, "errors": u64,
//!     "errors_by_kind": {"not_sent", "maybe_executed", "service", "other", "invalid_input"},
//!     "retried": u64 | null,            // calls with a 2nd attempt (null: raw-hyper)
//!     "attempts": u64 | null,           // attempts in total (null: raw-hyper)
//!     "p50_us", "p90_us", "p99_us", "p999_us", "max_us": u64,   // ok calls only
//!     "mean_us": f64,
//!     "first_call_us": u64 | null,      // the first call after the client was built
//!     "first_call_ok": bool,
//!     "throughput_rps": f64,            // calls / wall time of the client's slices
//!     "connections_opened": u64 | null, // during the measured slices; null: cannot count
//!     "reuse_ratio": f64 | null,        // 1 - connections_opened / requests
//!     "cpu_us_per_call": f64 | null,    // process CPU during the client's slices / calls
//!     "wall_s": f64,
//!     "histogram": str | null,          // ok calls' latencies (µs), HdrHistogram V2
//!                                       // compressed, base64 ("HISTFAAA…")
//!     "started_unix_s", "ended_unix_s": f64 | null  // first slice's start, last slice's end
//!     "addresses": [{                   // lambda-vpce, lambda-vpce-lean only (absent for
//!       "address": "ip:port",           // the others): every address the pool connected to
//!       "connects": u64,                // connects that completed TCP + TLS (race losers too)
//!       "connections": u64,             // connections open to it at the end of the run
//!       "connect_failures": u64, "ejections": u64
//!     }]
//!   }],
//!   "resolve": [str],                   // --resolve (absent: the system resolver)
//!   "runs": u64                         // runs merged into this report (1: a single run)
//!     "protocol": "HTTP/1.1" | "HTTP/2" | "HTTP/1.1+HTTP/2" | null,  // negotiated (see below)
//!     "protocol_seen_by": "client" | "server" | null
//!       // client: the crate's ConnectionInfo of every response (lambda-vpce, lambda-vpce-lean),
//!       // raw-hyper's own connections; server: the embedded endpoint's ALPN count of the
//!       // connections accepted while the client was built and made its first call
//!       // (sdk-default, smithy-pool);
//!       // null: not known (another client's external endpoint)
//!     "tls_provider": str | null,       // the client's rustls crypto provider: "aws-lc-rs",
//!       // "aws-lc-rs (FIPS module)" or "ring" (the crate's clients and raw-hyper: the crate's
//!       // provider, cargo features aws-lc-rs / ring / fips; sdk-default and smithy-pool:
//!       // "aws-lc-rs", the SDK's default); null: plain http
//!     "tls_group": str | null           // the key-exchange group the embedded endpoint
//!       // negotiated with the connections opened while the client was built and made its
//!       // first call ("+"-joined when they differ; "mixed" across merged runs that differ);
//!       // null: not seen (an external endpoint, plain http)
//!   }]
//! }
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::ErrorKind;
use crate::pin::Compact;
use crate::workload::Tally;
use crate::Error;

/// Failed calls by kind.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ErrorsByKind {
    pub not_sent: u64,
    pub maybe_executed: u64,
    pub service: u64,
    pub other: u64,
    /// Refused before sending (validation); added after the first four keys (absent in
    /// older reports: 0).
    #[serde(default)]
    pub invalid_input: u64,
}

/// One client's line of the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientReport {
    pub client: String,
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub errors_by_kind: ErrorsByKind,
    pub retried: Option<u64>,
    pub attempts: Option<u64>,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
    pub first_call_us: Option<u64>,
    pub first_call_ok: bool,
    pub throughput_rps: f64,
    pub connections_opened: Option<u64>,
    pub reuse_ratio: Option<f64>,
    pub cpu_us_per_call: Option<f64>,
    pub wall_s: f64,
    /// The ok calls' latencies (µs): [`super::histogram`]'s form. `None` in reports written
    /// before the field existed.
    #[serde(default)]
    pub histogram: Option<String>,
    /// When the client's first measured slice started and its last ended, UNIX seconds.
    #[serde(default)]
    pub started_unix_s: Option<f64>,
    #[serde(default)]
    pub ended_unix_s: Option<f64>,
    /// The negotiated protocol; absent in reports written before the field existed.
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub protocol_seen_by: Option<String>,
    /// The client's crypto provider; absent in reports written before the field existed.
    #[serde(default)]
    pub tls_provider: Option<String>,
    /// The key-exchange group the endpoint negotiated; absent in older reports.
    #[serde(default)]
    pub tls_group: Option<String>,
    /// The crate clients' pools: every address connected to, with its connects, connections
    /// open at the end, connect failures and ejections (`None`: another client, or a report
    /// written before the field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<AddressReport>>,
}

/// One address as a crate client's pool saw it (`--resolve`, or whatever DNS answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressReport {
    /// `ip:port`.
    pub address: String,
    /// Connects to it that completed TCP and TLS.
    pub connects: u64,
    /// Connections open to it when the run ended.
    pub connections: u64,
    pub connect_failures: u64,
    pub ejections: u64,
}

/// What the run measured beyond the tally, per client.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub retried: Option<u64>,
    pub attempts: Option<u64>,
    pub first_call: Option<(Duration, bool)>,
    pub connections_opened: Option<u64>,
    pub cpu: Option<Duration>,
    pub addresses: Option<Vec<AddressReport>>,
}

impl ClientReport {
    /// Summarises one client's tally.
    pub fn new(client: &str, t: &Tally, x: Extras) -> ClientReport {
        let q = |p: f64| {
            if t.ok == 0 {
                0
            } else {
                t.hist.value_at_quantile(p)
            }
        };
        let wall = t.wall.as_secs_f64();
        let calls = t.calls.max(1) as f64;
        let unix = |at: std::time::SystemTime| {
            at.duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        };
        ClientReport {
            client: client.to_owned(),
            requests: t.calls,
            ok: t.ok,
            errors: t.error_total(),
            errors_by_kind: ErrorsByKind {
                not_sent: t.errors_of(ErrorKind::NotSent),
                maybe_executed: t.errors_of(ErrorKind::MaybeExecuted),
                service: t.errors_of(ErrorKind::Service),
                other: t.errors_of(ErrorKind::Other),
                invalid_input: t.errors_of(ErrorKind::InvalidInput),
            },
            retried: x.retried,
            attempts: x.attempts,
            p50_us: q(0.5),
            p90_us: q(0.9),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: if t.ok == 0 { 0 } else { t.hist.max() },
            mean_us: if t.ok == 0 { 0.0 } else { t.hist.mean() },
            first_call_us: x
                .first_call
                .map(|(d, _)| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
            first_call_ok: x.first_call.is_some_and(|(_, ok)| ok),
            throughput_rps: if wall > 0.0 {
                t.calls as f64 / wall
            } else {
                0.0
            },
            connections_opened: x.connections_opened,
            reuse_ratio: x
                .connections_opened
                .map(|o| (1.0 - o as f64 / calls).clamp(0.0, 1.0)),
            cpu_us_per_call: x.cpu.map(|c| c.as_secs_f64() * 1e6 / calls),
            wall_s: wall,
            histogram: crate::histogram::encode(&t.hist).ok(),
            started_unix_s: t.window.map(|(a, _)| unix(a)),
            ended_unix_s: t.window.map(|(_, b)| unix(b)),
            protocol: None,
            protocol_seen_by: None,
            tls_provider: None,
            tls_group: None,
            addresses: x.addresses,
        }
    }
}

/// The embedded endpoint's knobs, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServerReport {
    pub idle_close_ms: Option<u64>,
    pub max_requests: Option<u32>,
    pub latency_ms: Option<u64>,
    pub http2: bool,
    /// Worker threads of the endpoint's own runtime; 0 (and absent, in reports written before
    /// the field): it shared the bench's runtime.
    #[serde(default)]
    pub threads: usize,
}

/// The whole report (see the module doc for the schema).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub mode: String,
    pub endpoint: String,
    pub concurrency: usize,
    pub payload_bytes: usize,
    pub invocation_type: String,
    pub function: String,
    pub rounds: u32,
    pub warmup: u64,
    pub requests_per_client: Option<u64>,
    pub duration_s: Option<f64>,
    pub rate_rps: Option<f64>,
    pub think_time_ms: Option<[u64; 2]>,
    pub max_attempts: Option<u32>,
    pub min_idle: usize,
    pub server: Option<ServerReport>,
    #[serde(default)]
    pub protocol: Option<String>,
    /// `--h2-connections`; absent in reports written before the flag existed.
    #[serde(default)]
    pub h2_connections: Option<usize>,
    pub cpu_includes_server: bool,
    /// `--server-cpus`: the CPUs the embedded endpoint's threads may run on, as the OS
    /// reported them (absent in reports written before the flag existed: not pinned).
    #[serde(default)]
    pub server_cpus: Option<Vec<usize>>,
    /// `--client-cpus`: the CPUs the bench's own threads may run on (`None`: not pinned).
    #[serde(default)]
    pub client_cpus: Option<Vec<usize>>,
    pub allocator: String,
    pub clients: Vec<ClientReport>,
    /// `--resolve`: the addresses every endpoint name resolved to (absent: the system
    /// resolver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve: Option<Vec<String>>,
    /// How many runs this report merges (`bench merge`); 1 for a single run.
    #[serde(default = "one")]
    pub runs: u64,
}

fn one() -> u64 {
    1
}

impl RunReport {
    /// Reads a JSON report written by `--json` (or by `bench merge --json`).
    pub fn read_json(path: &Path) -> Result<RunReport, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a bench JSON report: {e}", path.display()).into())
    }

    /// Writes the JSON report.
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write --json {}: {e}", path.display()))?;
        Ok(())
    }

    /// The text report: a block per client, then a one-line-per-client summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.headline());
        for c in &self.clients {
            let _ = writeln!(out);
            client_block(&mut out, c, self.cpu_includes_server);
        }
        let _ = writeln!(out);
        summary(&mut out, &self.clients);
        out
    }

    fn headline(&self) -> String {
        let amount = match (self.requests_per_client, self.duration_s) {
            (Some(n), _) => format!("{n} calls per client"),
            (None, Some(s)) => format!("{s:.1} s per client"),
            (None, None) => String::new(),
        };
        let mut line = format!(
            "{} loop, {amount}, concurrency {}, {} B {} to `{}` at {}, {} rounds interleaved, warm-up {}, allocator {}",
            self.mode,
            self.concurrency,
            self.payload_bytes,
            self.invocation_type,
            self.function,
            self.endpoint,
            self.rounds,
            self.warmup,
            self.allocator,
        );
        if let Some(r) = self.rate_rps {
            let _ = write!(line, ", rate {r} calls/s");
        }
        if let Some([lo, hi]) = self.think_time_ms {
            let _ = write!(line, ", think {lo}..{hi} ms");
        }
        if let Some(s) = self.server {
            if let Some(ms) = s.idle_close_ms {
                let _ = write!(line, ", server idle close {ms} ms");
            }
            if let Some(n) = s.max_requests {
                let _ = write!(line, ", server max requests {n}");
            }
            if let Some(ms) = s.latency_ms {
                let _ = write!(line, ", server latency {ms} ms");
            }
            let alpn = if s.http2 { "h2, http/1.1" } else { "http/1.1" };
            let _ = write!(line, ", server ALPN {alpn}");
            match s.threads {
                0 => line.push_str(", server on the bench's runtime"),
                1 => line.push_str(", server on 1 thread of its own"),
                n => {
                    let _ = write!(line, ", server on {n} threads of its own");
                }
            }
        }
        if let Some(p) = &self.protocol {
            let _ = write!(line, ", --protocol {p}");
        }
        if let Some(n) = self.h2_connections {
            let _ = write!(line, ", --h2-connections {n}");
        }
        if let Some(cpus) = &self.server_cpus {
            let _ = write!(line, ", server on CPUs {}", Compact(cpus));
        }
        if let Some(cpus) = &self.client_cpus {
            let _ = write!(line, ", clients on CPUs {}", Compact(cpus));
        }
        line
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn client_block(out: &mut String, c: &ClientReport, cpu_includes_server: bool) {
    let e = c.errors_by_kind;
    let _ = writeln!(out, "{}", c.client);
    let _ = writeln!(
        out,
        "  calls        {:>9}   ok {}   errors {} (not_sent {}, maybe_executed {}, service {}, other {})   retried {}",
        c.requests, c.ok, c.errors, e.not_sent, e.maybe_executed, e.service, e.other, opt(c.retried)
    );
    if e.invalid_input > 0 {
        let _ = writeln!(out, "  invalid input {:>8}", e.invalid_input);
    }
    let _ = writeln!(
        out,
        "  latency µs   p50 {}   p90 {}   p99 {}   p99.9 {}   max {}   first call {}{}",
        c.p50_us,
        c.p90_us,
        c.p99_us,
        c.p999_us,
        c.max_us,
        opt(c.first_call_us),
        if c.first_call_us.is_some() && !c.first_call_ok {
            " (failed)"
        } else {
            ""
        }
    );
    let cpu = match c.cpu_us_per_call {
        Some(v) if cpu_includes_server => format!("{v:.1} µs/call (client + embedded server)"),
        Some(v) => format!("{v:.1} µs/call"),
        None => "-".to_owned(),
    };
    let _ = writeln!(
        out,
        "  throughput   {:.0} calls/s   CPU {cpu}",
        c.throughput_rps
    );
    let reuse = c
        .reuse_ratio
        .map_or_else(|| "-".to_owned(), |r| format!("{:.2}%", r * 100.0));
    let _ = writeln!(
        out,
        "  connections  opened {}   reuse {reuse}   protocol {}{}",
        opt(c.connections_opened),
        c.protocol.as_deref().unwrap_or("-"),
        c.protocol_seen_by
            .as_deref()
            .map_or_else(String::new, |by| format!(" (seen by the {by})"))
    );
    if let Some(provider) = &c.tls_provider {
        let _ = writeln!(
            out,
            "  TLS          {provider}   key exchange {}",
            c.tls_group
                .as_deref()
                .map_or_else(|| "-".to_owned(), |g| format!("{g} (seen by the server)"))
        );
    }
    for a in c.addresses.iter().flatten() {
        let _ = writeln!(
            out,
            "  address      {}   connects {}   open {}   connect failures {}   ejections {}",
            a.address, a.connects, a.connections, a.connect_failures, a.ejections
        );
    }
}

fn summary(out: &mut String, clients: &[ClientReport]) {
    let _ = writeln!(
        out,
        "{:<18} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8} {:>7}  protocol",
        "client", "p50 µs", "p99 µs", "first µs", "calls/s", "CPU µs/call", "conns", "errors"
    );
    for c in clients {
        let cpu = c
            .cpu_us_per_call
            .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
        let _ = writeln!(
            out,
            "{:<18} {:>9} {:>9} {:>9} {:>10.0} {:>10} {:>8} {:>7}  {}",
            c.client,
            c.p50_us,
            c.p99_us,
            opt(c.first_call_us),
            c.throughput_rps,
            cpu,
            opt(c.connections_opened),
            c.errors,
            c.protocol.as_deref().unwrap_or("-")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_without_successes_reports_zero_percentiles_not_garbage() {
        let mut errors = [0; crate::outcome::KINDS];
        errors[ErrorKind::NotSent.index()] = 3;
        let t = Tally {
            calls: 3,
            errors,
            wall: Duration::from_secs(1),
            ..Tally::default()
        };
        let r = ClientReport::new("sdk-default", &t, Extras::default());
        assert_eq!((r.p50_us, r.max_us, r.errors), (0, 0, 3));
        assert_eq!(r.errors_by_kind.not_sent, 3);
        assert!((r.throughput_rps - 3.0).abs() < 1e-9);
    }

    #[test]
    fn reuse_ratio_counts_calls_that_needed_no_new_connection() {
        let t = Tally {
            calls: 100,
            ok: 100,
            ..Tally::default()
        };
        let x = Extras {
            connections_opened: Some(4),
            ..Extras::default()
        };
        let r = ClientReport::new("raw-hyper", &t, x);
        assert_eq!(r.reuse_ratio, Some(0.96));
    }
}
