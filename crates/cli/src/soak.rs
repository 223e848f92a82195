//! `lambda-vpce soak`: many concurrent invokes through the crate's client while the embedded
//! endpoint misbehaves at random (closes or resets before running, stalls, dies after running),
//! then every call is reconciled with the endpoint's execution ledger.
//!
//! A call that said *ok* must have run exactly once; one that said *not sent* must not have
//! run; one that said *may have executed* ran at most once. No call may stay pending past its
//! deadline × attempts + [`HUNG_GRACE`]. Otherwise the command exits with status 1.
//!
//! Leaks: the soak runs in two equal rounds, each with new endpoints and clients that are
//! dropped at its end. After each round the process must hold no more file descriptors than
//! before the first (+ [`FD_TOLERANCE`]). Memory is judged twice:
//! - **Live heap** (the binary's allocator counts bytes allocated and not freed, see `heap`):
//!   everything a round made is dropped at its end, so what the heap holds after the second
//!   round beyond what it held after the first is what the round leaked — in the client, the
//!   pool or the endpoint — whatever the allocator does with freed pages
//!   ([`HEAP_ROUND_TOLERANCE_BYTES`]).
//! - **Resident memory**, between the ends of the two rounds (not with the start: the
//!   allocator keeps freed pages for reuse, so the first round raises RSS to a plateau). The
//!   soak knowingly holds per-call state until a round is reconciled — the endpoint's ledger of
//!   every call id, its snapshot, one record per call — so a round that makes more calls peaks
//!   higher and leaves a higher plateau without leaking. RSS may therefore climb by
//!   [`RSS_ROUND_TOLERANCE_KB`] plus however much higher the second round's heap peaked than
//!   the first's (sampled every [`HEAP_SAMPLE_EVERY`]); the report carries both peaks.
//!
//! Workers alternate over four drivers: the SDK client and the lean path, each with a deadline
//! longer than a chaos stall (the stall ends in a response) and one shorter than it (the stall
//! ends in a timeout). SDK calls are reconciled one by one through their
//! `amz-sdk-invocation-id`; lean calls, which do not expose theirs, run against an endpoint of
//! their own and are reconciled in aggregate (see `Report::reconcile_lean`). The endpoints also
//! close connections idle longer than `--idle-close`, so reuse races a server's idle cutoff.
//!
//! `--protocol http2` (or `auto`) starts the endpoints with `h2` offered in ALPN. Over HTTP/2
//! the endpoint's HTTP/1-only faults are off: the idle close does not apply, and chaos's
//! closes and deaths end the whole connection with every stream on it, while its stalls hold
//! one stream; the endpoint's own HTTP/2 faults (GOAWAY, REFUSED_STREAM, ...) are not in the
//! soak's mix.

mod call;
mod duration;
mod proc;
mod report;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use lambda_vpce::local::{ChaosConfig, LocalEndpoint};
use lambda_vpce::pool::Protocol;
use lambda_vpce::{pool::PoolBuilder, LambdaVpce};
use tokio::time::Instant;

use crate::common::CmdResult;
use call::Record;
use report::Report;

/// Default `--duration`.
pub(crate) const DEFAULT_DURATION: &str = "30s";
/// Default `--concurrency`.
pub(crate) const DEFAULT_CONCURRENCY: u32 = 128;
/// Default `--chaos-probability`: one request in ten misbehaves.
pub(crate) const DEFAULT_CHAOS_PROBABILITY: f64 = 0.1;
/// Default `--stall-for`: how long a chaos stall holds a response.
pub(crate) const DEFAULT_STALL_FOR: &str = "1s";
/// Default `--idle-close`: the endpoints close keep-alive connections idle this long.
pub(crate) const DEFAULT_IDLE_CLOSE: &str = "300ms";
/// Default `--deadline` of the long-deadline half (the short half uses half the stall).
pub(crate) const DEFAULT_DEADLINE: &str = "3s";
/// SDK attempts per call (its standard default).
pub(crate) const MAX_ATTEMPTS: u32 = 3;
/// Time past deadline × attempts after which a pending call counts as hung.
pub(crate) const HUNG_GRACE: Duration = Duration::from_secs(5);
/// File descriptors the process may hold after the soak beyond those it held before.
pub(crate) const FD_TOLERANCE: u64 = 8;
/// How much more resident memory (KiB) the process may hold after the second round than
/// after the first: table growth and allocator slack, far below what a leak of one buffer per
/// call (hundreds of thousands of calls per round) would add.
pub(crate) const RSS_ROUND_TOLERANCE_KB: u64 = 24 * 1024;
/// How many more live heap bytes the process may hold after the second round than after the
/// first: lazily grown runtime tables and allocator-independent slack. A leak of one 8-byte
/// allocation per call (hundreds of thousands of calls per round) exceeds it.
pub(crate) const HEAP_ROUND_TOLERANCE_BYTES: i64 = 1 << 20;
/// How often a round samples the live heap for its peak.
pub(crate) const HEAP_SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// How long to wait, after everything is dropped, for connection tasks to close their sockets.
pub(crate) const FD_SETTLE: Duration = Duration::from_secs(5);

/// Flags of `lambda-vpce soak`.
#[derive(Debug, Args)]
pub(crate) struct SoakArgs {
    /// How long to keep starting calls (`500ms`, `30s`, `2m`), in two equal rounds.
    #[arg(long, default_value = DEFAULT_DURATION, value_parser = duration::parse)]
    duration: Duration,
    /// Calls in flight at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    concurrency: u32,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<std::path::PathBuf>,
    /// Seed of the endpoint's chaos (the same seed, the same sequence of choices).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Probability that a request misbehaves, in [0, 1].
    #[arg(long, default_value_t = DEFAULT_CHAOS_PROBABILITY, value_parser = duration::probability)]
    chaos_probability: f64,
    /// How long a chaos stall holds the response.
    #[arg(long, default_value = DEFAULT_STALL_FOR, value_parser = duration::parse)]
    stall_for: Duration,
    /// The endpoints close keep-alive connections idle this long (FIN).
    #[arg(long, default_value = DEFAULT_IDLE_CLOSE, value_parser = duration::parse)]
    idle_close: Duration,
    /// Which clients to soak: `sdk`, `lean` or `both`.
    #[arg(long, default_value = "both", value_parser = ["sdk", "lean", "both"])]
    paths: String,
    /// The response deadline of the long-deadline half of the workers (must exceed --stall-for).
    #[arg(long, default_value = DEFAULT_DEADLINE, value_parser = duration::parse)]
    deadline: Duration,
    /// HTTP version of the soaked clients: http1, http2 or auto (ALPN decides). With http2 or
    /// auto the endpoints offer `h2` too. Default: the pool's default (auto).
    #[arg(long, value_name = "P", value_parser = parse_protocol)]
    protocol: Option<Protocol>,
}

/// Parses `http1`, `http2` or `auto`.
fn parse_protocol(s: &str) -> Result<Protocol, String> {
    s.parse()
        .map_err(|e: lambda_vpce::BuildError| e.to_string())
}

impl SoakArgs {
    fn protocol(&self) -> Protocol {
        self.protocol.unwrap_or(lambda_vpce::pool::DEFAULT_PROTOCOL)
    }
}

pub(crate) async fn run(args: SoakArgs) -> CmdResult {
    if args.deadline <= args.stall_for {
        return Err(format!(
            "--deadline ({:?}) must be longer than --stall-for ({:?})",
            args.deadline, args.stall_for
        )
        .into());
    }
    crate::heap::start_counting();
    let fds_before = proc::open_fds();
    let rss_before_kb = proc::rss_kb();
    let mut report = Report {
        fds_before,
        rss_before_kb,
        fd_tolerance: FD_TOLERANCE,
        rss_round_tolerance_kb: RSS_ROUND_TOLERANCE_KB,
        heap_round_tolerance_bytes: HEAP_ROUND_TOLERANCE_BYTES,
        ..Report::default()
    };
    for round in 0..2 {
        let peak = HeapPeak::sample();
        let mut r = soak(&args, args.duration / 2).await?;
        let heap_peak = peak.stop();
        r.fds_before = fds_before;
        // Everything is dropped; connection tasks close their sockets as they notice.
        let settle = Instant::now();
        let fds = loop {
            let fds = proc::open_fds();
            let settled = match (fds_before, fds) {
                (Some(b), Some(a)) => a <= b + FD_TOLERANCE,
                _ => true,
            };
            if settled || settle.elapsed() >= FD_SETTLE {
                break fds;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let rss = proc::rss_kb();
        let heap = crate::heap::live_bytes_since_start();
        if round == 0 {
            report.fds_after_first_round = fds;
            report.rss_after_first_round_kb = rss;
            report.heap_after_first_round_bytes = heap;
            report.heap_peak_first_round_bytes = heap_peak;
        } else {
            report.fds_after = fds;
            report.rss_after_kb = rss;
            report.heap_after_bytes = heap;
            report.heap_peak_second_round_bytes = heap_peak;
        }
        report.absorb(r);
    }
    report.rss_peak_kb = proc::rss_peak_kb();
    report.judge();
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{json}\n"))
            .map_err(|e| format!("cannot write --json {}: {e}", path.display()))?;
    }
    if report.failures.is_empty() {
        eprintln!(
            "soak passed: {} calls, {} ok, {} not sent, {} may have executed; 0 duplicates, 0 lost, 0 hung",
            report.calls, report.ok, report.not_sent, report.maybe_executed
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("soak FAILED: {}", report.failures.join("; "));
        Ok(ExitCode::from(1))
    }
}

/// The highest live heap seen while a round runs, sampled every [`HEAP_SAMPLE_EVERY`].
struct HeapPeak {
    peak: Arc<std::sync::atomic::AtomicI64>,
    task: tokio::task::JoinHandle<()>,
}

impl HeapPeak {
    fn sample() -> HeapPeak {
        let peak = Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN));
        let task = tokio::spawn({
            let peak = peak.clone();
            async move {
                loop {
                    if let Some(live) = crate::heap::live_bytes_since_start() {
                        peak.fetch_max(live, Ordering::Relaxed);
                    }
                    tokio::time::sleep(HEAP_SAMPLE_EVERY).await;
                }
            }
        });
        HeapPeak { peak, task }
    }

    /// Stops sampling; the peak (`None` if nothing was sampled).
    fn stop(self) -> Option<i64> {
        self.task.abort();
        Some(self.peak.load(Ordering::Relaxed)).filter(|p| *p != i64::MIN)
    }
}

/// One way of calling, with its deadline.
#[derive(Clone)]
enum Driver {
    Sdk(Box<LambdaVpce>),
    Lean(lambda_vpce::lean::LeanInvoker),
}

/// What one worker brings back.
#[derive(Default)]
struct Done {
    sdk: Vec<Record>,
    lean: Vec<Record>,
    sdk_hung: u64,
    lean_hung: u64,
}

/// Starts one embedded endpoint with chaos and idle closes on.
async fn chaos_endpoint(
    args: &SoakArgs,
    seed: u64,
) -> Result<LocalEndpoint, crate::common::CmdError> {
    let ep = LocalEndpoint::builder()
        .http2(args.protocol() != Protocol::Http1)
        .start()
        .await
        .map_err(|e| format!("cannot start the embedded endpoint: {e}"))?;
    ep.faults().idle_close(args.idle_close);
    ep.faults().chaos(
        ChaosConfig::new(args.chaos_probability)
            .seed(seed)
            .stall_for(args.stall_for),
    );
    Ok(ep)
}

/// Runs the calls and reconciles them; the endpoints and clients are gone when it returns.
async fn soak(args: &SoakArgs, duration: Duration) -> Result<Report, crate::common::CmdError> {
    let sdk_ep = chaos_endpoint(args, args.seed).await?;
    let lean_ep = chaos_endpoint(args, args.seed.wrapping_add(1)).await?;
    let short = args.stall_for / 2;
    let mut drivers: Vec<(Driver, Duration)> = Vec::new();
    let mut sdk_clients = Vec::new();
    let mut lean_clients = Vec::new();
    for deadline in [args.deadline, short] {
        if args.paths != "lean" {
            let c = client(&sdk_ep, deadline, args.protocol())?;
            sdk_clients.push(c.clone());
            drivers.push((Driver::Sdk(Box::new(c)), deadline));
        }
        if args.paths != "sdk" {
            let c = client(&lean_ep, deadline, args.protocol())?;
            let lean = c.lean_builder().response_timeout(deadline).build()?;
            lean_clients.push(c);
            drivers.push((Driver::Lean(lean), deadline));
        }
    }
    let seq = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop_at = start + duration;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..args.concurrency as usize {
        let (driver, deadline) = drivers[w % drivers.len()].clone();
        let bound = deadline * MAX_ATTEMPTS + HUNG_GRACE;
        let seq = seq.clone();
        workers.spawn(async move {
            let mut done = Done::default();
            let mut first_errors = std::collections::BTreeSet::new();
            while Instant::now() < stop_at {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let call = async {
                    match &driver {
                        Driver::Sdk(c) => call::sdk(c, n).await,
                        Driver::Lean(l) => call::lean(l, n).await,
                    }
                };
                let lean = matches!(driver, Driver::Lean(_));
                match tokio::time::timeout(bound, call).await {
                    Ok(mut r) => {
                        // Keep one error text per class and worker, not one per call.
                        if r.error.is_some() && !first_errors.insert(format!("{:?}", r.class)) {
                            r.error = None;
                        }
                        if lean {
                            done.lean.push(r);
                        } else {
                            done.sdk.push(r);
                        }
                    }
                    Err(_) if lean => done.lean_hung += 1,
                    Err(_) => done.sdk_hung += 1,
                }
            }
            done
        });
    }
    let mut all = Done::default();
    while let Some(joined) = workers.join_next().await {
        let done = joined.map_err(|e| format!("a soak worker failed: {e}"))?;
        all.sdk.extend(done.sdk);
        all.lean.extend(done.lean);
        all.sdk_hung += done.sdk_hung;
        all.lean_hung += done.lean_hung;
    }
    let elapsed = start.elapsed();
    for ep in [&sdk_ep, &lean_ep] {
        ep.faults().clear();
    }
    let mut report = Report {
        duration_s: elapsed.as_secs_f64(),
        concurrency: args.concurrency as usize,
        seed: args.seed,
        chaos_probability: args.chaos_probability,
        protocol: args.protocol().as_str(),
        server_connections: sdk_ep.stats().connections_accepted
            + lean_ep.stats().connections_accepted,
        server_http2_connections: sdk_ep.stats().http2_connections
            + lean_ep.stats().http2_connections,
        server_fault_closes: sdk_ep.stats().fault_closes + lean_ep.stats().fault_closes,
        ..Report::default()
    };
    for c in sdk_clients.iter().chain(&lean_clients) {
        let s = c.pool().stats();
        report.pool_connections_opened += s.opened();
        report.pool_requests += s.requests();
        report.pool_unsent_resends += s.unsent_resends();
    }
    report.reconcile(&all.sdk, all.sdk_hung, &sdk_ep.ledger().snapshot());
    report.reconcile_lean(&all.lean, all.lean_hung, &lean_ep.ledger().snapshot());
    report.calls_per_s = report.calls as f64 / elapsed.as_secs_f64().max(1e-9);
    drop(all);
    drop(drivers);
    drop(sdk_clients);
    drop(lean_clients);
    sdk_ep.shutdown().await;
    lean_ep.shutdown().await;
    Ok(report)
}

fn client(
    ep: &LocalEndpoint,
    deadline: Duration,
    protocol: Protocol,
) -> Result<LambdaVpce, lambda_vpce::BuildError> {
    LambdaVpce::builder()
        .pool(PoolBuilder::new().protocol(protocol))
        .endpoint_url(&ep.url())
        .add_ca_pem(ep.ca_pem())
        .region(ep.region())
        .credentials(ep.credentials())
        .max_attempts(MAX_ATTEMPTS)
        .response_timeout(deadline)
        .build_sync()
}
