//! `lambda-vpce bench`: invoke latency and throughput of several clients, measured in the same
//! run, interleaved, against the embedded endpoint (default) or any endpoint.
//!
//! The harness is the `lambda-vpce-bench` crate (`crates/bench`: workload, schedule,
//! histograms, report, merge, pinning, plot); this command is its flags and lambda-vpce's
//! clients: [`args`] (the flags), [`target`] (embedded or external endpoint), [`clients`]
//! (building each client and making one call, the harness's `Client`; [`raw`] is the
//! raw-hyper floor), [`merge`] (`bench merge`).
//!
//! Sequence: start the target; for each client, build it (lambda-vpce prewarms `--min-idle`
//! connections) and time its first call; warm every client up; then `--rounds` rounds, each
//! running one slice of every client's workload in a rotated order (the harness's
//! `run_rounds`, which also sums each client's CPU time). Around every slice ([`Hooks`]) the
//! embedded endpoint's accepted-connection count is read, so that connections opened are
//! attributed to the client whose slice ran.

mod args;
mod clients;
mod merge;
mod raw;
mod target;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lambda_vpce_bench::report::{ClientReport, Extras, RunReport, ServerReport};
use lambda_vpce_bench::rounds::{Slice, SliceHooks};
use lambda_vpce_bench::{baseline, pin, plot, workload, Amount, Progress, Shape, Tally};
use tokio::time::Instant;

pub(crate) use args::BenchArgs;
use clients::{BenchClient, Call, ClientKind, ClientOptions};
pub(crate) use target::ServerKnobs;
use target::Target;

use crate::common::{CmdError, CmdResult};

/// One client's state through the run.
struct Entry {
    client: Arc<BenchClient>,
    tally: Tally,
    first_call: Option<(Duration, bool)>,
    cpu: Option<Duration>,
    /// Connections the embedded endpoint accepted during this client's slices, less those
    /// that background-opening clients opened meanwhile.
    server_conns: Option<u64>,
    /// The embedded endpoint's (accepted, HTTP/2) connections while the client was built and
    /// made its first call: the protocol a client that cannot tell negotiated.
    server_versions: Option<(u64, u64)>,
    /// The key-exchange group(s) the embedded endpoint negotiated while the client was built
    /// and made its first call.
    tls_group: Option<String>,
    opened_before: Option<u64>,
    attempts_before: (u64, u64),
}

/// What `bench` does before the runtime starts, once: refuses `--server-*` flags that do not
/// apply, checks `--server-cpus` and `--client-cpus` against the CPUs this process may run
/// on, then pins the main thread, and with it every thread started after it, to
/// `--client-cpus`.
pub(crate) fn before_runtime(a: &BenchArgs) -> Result<(), String> {
    // The flags' own conflicts first: they say more than a CPU list would.
    refuse_misplaced_server_flags(a)?;
    if let Some(list) = &a.server_cpus {
        pin::check("--server-cpus", list)?;
    }
    if let Some(list) = &a.client_cpus {
        pin::check("--client-cpus", list)?;
        pin::pin_current_thread(list)?;
    }
    Ok(())
}

/// The embedded endpoint's misbehaviours the flags switch on.
fn server_knobs(a: &BenchArgs) -> ServerKnobs {
    ServerKnobs {
        idle_close_ms: a.server_idle_close,
        max_requests: a.server_max_requests,
        latency_ms: a.server_latency,
    }
}

/// `--server-*` flags with an external endpoint, and `--server-cpus` with `--server-threads 0`.
fn refuse_misplaced_server_flags(a: &BenchArgs) -> Result<(), String> {
    let server_knob = server_knobs(a).any()
        || a.server_http1_only
        || a.server_threads.is_some()
        || a.server_cpus.is_some();
    if a.endpoint.is_set() && server_knob {
        return Err("--server-* flags only apply to the embedded endpoint".into());
    }
    if a.server_cpus.is_some() && a.server_threads == Some(0) {
        return Err(
            "--server-cpus pins the endpoint's own threads: not with --server-threads 0, \
             where it runs on the bench's (pin those with --client-cpus)"
                .into(),
        );
    }
    Ok(())
}

pub(crate) async fn run(mut a: BenchArgs) -> CmdResult {
    if let Some(args::BenchAction::Merge(m)) = a.action.take() {
        return merge::run(m);
    }
    let baseline = match &a.baseline {
        Some(path) => Some(RunReport::read_json(path)?),
        None => None,
    };
    let knobs = server_knobs(&a);
    // `--server-*` flags that do not apply were refused before the runtime started.
    let external = a.endpoint.is_set();
    if !external && a.endpoint.ca_cert.is_some() {
        return Err(
            "--ca-cert needs an endpoint flag (--endpoint-url, --vpce-name, --vpce-id, \
                    --region): without one the bench measures the embedded endpoint, whose CA \
                    it trusts already"
                .into(),
        );
    }
    if let (Some(rate), Some(n)) = (a.rate, a.requests) {
        if n as f64 / rate > args::MAX_SCHEDULE_SECONDS {
            return Err(format!(
                "--requests {n} at --rate {rate} is a schedule of {:.0} s per client, over \
                 the {} s limit",
                n as f64 / rate,
                args::MAX_SCHEDULE_SECONDS
            )
            .into());
        }
    }
    let kinds = client_list(&a.client);
    let paced = a.think_time.is_some() || a.rate.is_some();
    let amount = match (a.requests, a.duration, a.rate) {
        (Some(n), _, _) => Amount::Calls(n),
        (None, Some(d), _) => Amount::For(d),
        (None, None, Some(rate)) => {
            Amount::Calls((rate * args::DEFAULT_OPEN_SECONDS).ceil() as u64)
        }
        (None, None, None) if a.think_time.is_some() => Amount::Calls(args::DEFAULT_THINK_REQUESTS),
        (None, None, None) => Amount::Calls(args::DEFAULT_REQUESTS),
    };
    let warmup = a.warmup.unwrap_or(if paced {
        2 * a.concurrency as u64
    } else {
        args::DEFAULT_WARMUP
    });
    let min_idle = a.min_idle.unwrap_or(a.concurrency.min(args::MAX_MIN_IDLE));
    // Pinned: one worker per CPU of its own; else as many as this thread may use (which
    // --client-cpus narrows, and the endpoint's threads would inherit).
    let server_threads = a.server_threads.unwrap_or_else(|| match &a.server_cpus {
        Some(list) => list.cpus().len(),
        None => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    });
    let shape = Shape {
        concurrency: a.concurrency,
        think_ms: a.think_time,
        rate: a.rate,
        seed: a.seed,
    };

    let target = if external {
        Target::external(&a.endpoint).await?
    } else {
        Target::embedded(
            knobs,
            !a.server_http1_only && knobs.allow_http2(),
            server_threads,
            a.server_cpus.clone(),
        )
        .await?
    };
    let call = Arc::new(Call {
        function: a.function.clone(),
        invocation_type: a.invocation_type.sdk(),
        payload: args::payload(a.payload_bytes),
        tenant_id: a.tenant_id.clone(),
    });
    let opts = ClientOptions {
        max_attempts: a.max_attempts,
        min_idle,
        concurrency: a.concurrency,
        protocol: a.protocol,
        h2_connections: a.h2_connections,
        resolve: (!a.resolve.is_empty()).then(|| a.resolve.clone().into()),
    };

    // Build each client and time its first call right away.
    let mut entries = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let versions_before = target.server_versions();
        let handshakes_before = target.server_tls_handshakes();
        let client = Arc::new(BenchClient::build(kind, &target, &call, opts.clone()).await?);
        let first_call = Some(first_call(client.clone()).await?);
        let tls_group = handshakes_before.and_then(|b| target.server_tls_groups_since(b));
        let server_versions = match (versions_before, target.server_versions()) {
            (Some((a0, h0)), Some((a1, h1))) => {
                Some((a1.saturating_sub(a0), h1.saturating_sub(h0)))
            }
            _ => None,
        };
        entries.push(Entry {
            client,
            tally: Tally::default(),
            first_call,
            cpu: Some(Duration::ZERO),
            server_conns: target.local.as_ref().map(|_| 0),
            server_versions,
            tls_group,
            opened_before: None,
            attempts_before: (0, 0),
        });
    }

    let quiet = ProgressBar::hidden();
    if warmup > 0 {
        for e in &entries {
            workload::run_slice(
                e.client.clone(),
                shape,
                Amount::Calls(warmup),
                lambda_vpce_bench::no_progress(),
                u64::MAX,
            )
            .await?;
        }
    }
    for e in &mut entries {
        e.opened_before = e.client.opened();
        e.attempts_before = attempts(&e.client);
    }

    let progress = progress_bar(amount, a.rounds, entries.len());
    let clients: Vec<Arc<BenchClient>> = entries.iter().map(|e| e.client.clone()).collect();
    let mut hooks = Hooks {
        entries: &mut entries,
        target: &target,
        amount,
        progress: &progress,
        quiet,
        before: (0, None),
    };
    let runs = lambda_vpce_bench::run_rounds(&clients, shape, amount, a.rounds, &mut hooks).await?;
    progress.finish_and_clear();
    for (e, run) in entries.iter_mut().zip(runs) {
        e.tally = run.tally;
        e.cpu = run.cpu;
    }

    let https = target.url.starts_with("https://");
    let reports: Vec<ClientReport> = entries
        .iter()
        .map(|e| {
            let (att0, ret0) = e.attempts_before;
            let (att1, ret1) = attempts(&e.client);
            let counted = e.client.attempts.is_some();
            let connections_opened = match (e.opened_before, e.client.opened()) {
                (Some(b), Some(after)) => Some(after.saturating_sub(b)),
                _ => e.server_conns,
            };
            let mut r = ClientReport::new(
                e.client.kind.as_str(),
                &e.tally,
                Extras {
                    retried: counted.then(|| ret1.saturating_sub(ret0)),
                    attempts: counted.then(|| att1.saturating_sub(att0)),
                    first_call: e.first_call,
                    connections_opened,
                    cpu: e.cpu,
                    addresses: e.client.addresses(),
                },
            );
            let (protocol, seen_by) = negotiated(e);
            (r.protocol, r.protocol_seen_by) = (protocol.map(Into::into), seen_by.map(Into::into));
            r.tls_provider = https.then(|| e.client.kind.tls_provider().to_owned());
            r.tls_group = e.tls_group.clone();
            r
        })
        .collect();
    let report = RunReport {
        schema_version: 1,
        mode: if a.rate.is_some() { "open" } else { "closed" }.to_owned(),
        endpoint: if external {
            target.url.clone()
        } else {
            "embedded".to_owned()
        },
        concurrency: a.concurrency,
        payload_bytes: call.payload.len(),
        invocation_type: call.invocation_type.as_str().to_owned(),
        function: a.function.clone(),
        rounds: a.rounds,
        warmup,
        requests_per_client: match amount {
            Amount::Calls(n) => Some(n),
            Amount::For(_) => None,
        },
        duration_s: match amount {
            Amount::Calls(_) => None,
            Amount::For(d) => Some(d.as_secs_f64()),
        },
        rate_rps: a.rate,
        think_time_ms: a.think_time.map(|(lo, hi)| [lo, hi]),
        max_attempts: a.max_attempts,
        min_idle,
        server: (!external).then_some(ServerReport {
            idle_close_ms: knobs.idle_close_ms,
            max_requests: knobs.max_requests,
            latency_ms: knobs.latency_ms,
            http2: target
                .local
                .as_ref()
                .is_some_and(|_| !a.server_http1_only && knobs.allow_http2()),
            threads: server_threads,
        }),
        server_cpus: target.server_cpus.clone(),
        client_cpus: a.client_cpus.as_ref().map(|_| pin::current()).transpose()?,
        protocol: a.protocol.map(|p| p.as_str().to_owned()),
        h2_connections: a.h2_connections,
        cpu_includes_server: !external,
        allocator: crate::ALLOCATOR.to_owned(),
        clients: reports,
        resolve: (!a.resolve.is_empty())
            .then(|| a.resolve.iter().map(ToString::to_string).collect()),
        runs: 1,
    };
    print!("{}", report.text());
    if let Some(old) = &baseline {
        print!("{}", baseline::text(old, &report));
    }
    if let Some(path) = &a.json {
        report.write_json(path)?;
    }
    if let Some(path) = &a.plot {
        let series: Vec<_> = entries
            .iter()
            .map(|e| (e.client.kind.as_str(), &e.tally.hist))
            .collect();
        plot::write_cdf(path, &report_title(&report), &series)?;
    }
    if let Some(local) = target.local {
        if let Ok(local) = Arc::try_unwrap(local) {
            local.shutdown().await;
        }
    }
    let failed = report.clients.iter().any(|c| c.errors > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Times a freshly built client's first call, made from a spawned task as the workload's
/// calls are (a call made from the runtime's `block_on` thread waits for cross-thread wake-ups
/// the workers don't, and would not be comparable with their percentiles). Fails if the task
/// panicked.
async fn first_call(client: Arc<BenchClient>) -> Result<(Duration, bool), CmdError> {
    use lambda_vpce_bench::Client as _;
    tokio::spawn(async move {
        let began = Instant::now();
        let ok = client.call(0).await.is_ok();
        (began.elapsed(), ok)
    })
    .await
    .map_err(|e| format!("the first call failed: {e}").into())
}

/// The protocol a client negotiated and who saw it: the crate's clients from their responses'
/// `ConnectionInfo`, raw-hyper from its connections; the SDK's clients from the embedded
/// endpoint's ALPN counts around their first call (their first connection; an external
/// endpoint cannot tell).
fn negotiated(e: &Entry) -> (Option<&'static str>, Option<&'static str>) {
    if let Some(label) = e.client.versions.label() {
        return (Some(label), Some("client"));
    }
    match e.server_versions {
        Some((accepted, h2)) => match clients::server_label(accepted, h2) {
            Some(label) => (Some(label), Some("server")),
            None => (None, None),
        },
        None => (None, None),
    }
}

/// The clients asked for, deduplicated in the order given; all available ones by default.
fn client_list(asked: &[ClientKind]) -> Vec<ClientKind> {
    if asked.is_empty() {
        return ClientKind::AVAILABLE.to_vec();
    }
    let mut out = Vec::with_capacity(asked.len());
    for k in asked {
        if !out.contains(k) {
            out.push(*k);
        }
    }
    out
}

fn attempts(c: &BenchClient) -> (u64, u64) {
    c.attempts.as_ref().map_or((0, 0), |a| {
        (
            a.attempts.load(Ordering::Relaxed),
            a.retried.load(Ordering::Relaxed),
        )
    })
}

/// What `bench` does around each slice: the progress bar, and the embedded endpoint's new
/// connections attributed to the client whose slice ran (less those that clients opening
/// connections in the background opened meanwhile).
struct Hooks<'a> {
    entries: &'a mut [Entry],
    target: &'a Target,
    amount: Amount,
    progress: &'a ProgressBar,
    quiet: ProgressBar,
    /// Background-opened and accepted connections when the slice started.
    before: (u64, Option<u64>),
}

impl SliceHooks for Hooks<'_> {
    fn progress(&mut self, _: Slice) -> Progress {
        progress_of(match self.amount {
            Amount::Calls(_) => self.progress.clone(),
            Amount::For(_) => self.quiet.clone(),
        })
    }

    fn before(&mut self, _: Slice) {
        self.before = (
            background_opened(self.entries),
            self.target.server_connections(),
        );
    }

    fn after(&mut self, slice: Slice, _: &Tally) {
        if matches!(self.amount, Amount::For(_)) {
            self.progress.inc(1);
        }
        let (bg_before, server_before) = self.before;
        let bg_after = background_opened(self.entries);
        if let (Some(b), Some(after)) = (server_before, self.target.server_connections()) {
            let bg = bg_after.saturating_sub(bg_before);
            if let Some(e) = self.entries.get_mut(slice.client) {
                e.server_conns = e
                    .server_conns
                    .map(|s| s + after.saturating_sub(b).saturating_sub(bg));
            }
        }
    }
}

/// Connections opened so far by clients that open them in the background.
fn background_opened(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .filter(|e| e.client.opens_in_background())
        .filter_map(|e| e.client.opened())
        .sum()
}

/// The harness's progress callback, ticking `bar`.
fn progress_of(bar: ProgressBar) -> Progress {
    Arc::new(move |n| bar.inc(n))
}

fn progress_bar(amount: Amount, rounds: u32, clients: usize) -> ProgressBar {
    let (len, unit) = match amount {
        Amount::Calls(n) => (n * clients as u64, "calls"),
        Amount::For(_) => (u64::from(rounds) * clients as u64, "slices"),
    };
    let bar = ProgressBar::new(len);
    let template = format!("{{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} {unit} ({{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

fn report_title(r: &RunReport) -> String {
    format!(
        "lambda-vpce bench: {} loop, concurrency {}, {} B, {}",
        r.mode, r.concurrency, r.payload_bytes, r.endpoint
    )
}
