//! The flags of `lambda-vpce bench` (a stable interface) and their parsing.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::clients::ClientKind;
use crate::common::EndpointArgs;

/// Calls per client by default in a closed loop without think time: about 10–20 s for all
/// clients on 2 cores in a release build against the embedded endpoint.
pub(crate) const DEFAULT_REQUESTS: u64 = 50_000;
/// Calls per client by default when `--think-time` is given (each worker idles between calls,
/// so a run takes about requests × mean think time / concurrency per client).
pub(crate) const DEFAULT_THINK_REQUESTS: u64 = 200;
/// Seconds of schedule per client by default in open-loop mode (`--rate`).
pub(crate) const DEFAULT_OPEN_SECONDS: f64 = 5.0;
/// Warm-up calls per client by default (not counted).
pub(crate) const DEFAULT_WARMUP: u64 = 500;
/// Rounds the measured workload is split into, each running every client in turn.
pub(crate) const DEFAULT_ROUNDS: u32 = 10;
/// Payload size by default, bytes.
pub(crate) const DEFAULT_PAYLOAD_BYTES: usize = 1024;
/// Function invoked by default (one of the embedded endpoint's functions: echoes its payload).
pub(crate) const DEFAULT_FUNCTION: &str = "echo";
/// Seed of the think-time generator by default.
pub(crate) const DEFAULT_SEED: u64 = 1;
/// Most workers (`--concurrency`): the pool's default waiter cap, which bounds how many calls
/// can queue for its connections at once.
pub(crate) const MAX_CONCURRENCY: usize = lambda_vpce::pool::DEFAULT_MAX_WAITERS_PER_HOST;
/// Largest `--min-idle`: the pool's default connection cap per origin.
pub(crate) const MAX_MIN_IDLE: usize = lambda_vpce::pool::DEFAULT_MAX_CONNECTIONS_PER_HOST;
/// Most worker threads of the embedded endpoint's own runtime (`--server-threads`).
pub(crate) const MAX_SERVER_THREADS: usize = 256;
/// Largest payload (`--payload-bytes`): Lambda's synchronous request limit.
pub(crate) const MAX_PAYLOAD_BYTES: usize = lambda_vpce::wire::MAX_SYNC_PAYLOAD_BYTES;
/// Slowest open-loop rate (`--rate`), calls per second: one call every 1000 s.
pub(crate) const MIN_RATE: f64 = 0.001;
/// Fastest open-loop rate (`--rate`), calls per second.
pub(crate) const MAX_RATE: f64 = 1e7;
/// Longest open-loop schedule (`--requests` ÷ `--rate`), seconds: one day.
pub(crate) const MAX_SCHEDULE_SECONDS: f64 = 86_400.0;

/// Lambda's invocation types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum InvocationTypeArg {
    /// Synchronous: the response carries the function's result.
    #[value(name = "RequestResponse")]
    RequestResponse,
    /// Asynchronous: queued, answered 202.
    #[value(name = "Event")]
    Event,
    /// Validation only, answered 204.
    #[value(name = "DryRun")]
    DryRun,
}

impl InvocationTypeArg {
    /// The SDK's value.
    pub(crate) fn sdk(self) -> aws_sdk_lambda::types::InvocationType {
        use aws_sdk_lambda::types::InvocationType as T;
        match self {
            InvocationTypeArg::RequestResponse => T::RequestResponse,
            InvocationTypeArg::Event => T::Event,
            InvocationTypeArg::DryRun => T::DryRun,
        }
    }
}

/// Flags of `lambda-vpce bench`.
///
/// Exit status: 0 when every measured call of every client succeeded, 1 when any failed
/// (the report is still printed and written), 2 when the run could not be set up.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BenchArgs {
    /// `merge`: several runs' JSON reports as one (see `bench merge --help`).
    #[command(subcommand)]
    pub(crate) action: Option<BenchAction>,

    /// Measure this endpoint instead of starting the embedded one (credentials and region then
    /// come from the standard AWS chain).
    #[command(flatten)]
    pub(crate) endpoint: EndpointArgs,

    /// Clients to compare, interleaved in the same run (comma list): lambda-vpce,
    /// lambda-vpce-lean, sdk-default, smithy-pool, raw-hyper. Default: every client this
    /// build has.
    #[arg(long, value_delimiter = ',', value_enum, value_name = "LIST")]
    pub(crate) client: Vec<ClientKind>,

    /// Measured calls per client. Default: 50000; 200 with --think-time; rate × 5 s with
    /// --rate.
    #[arg(long, value_name = "N", conflicts_with = "duration",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) requests: Option<u64>,

    /// Measure each client for this long instead of a number of calls (`10s`, `500ms`, `2m`).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub(crate) duration: Option<Duration>,

    /// Warm-up calls per client before measuring, same workload, not counted. Default: 500;
    /// 2 × concurrency with --think-time or --rate.
    #[arg(long, value_name = "N")]
    pub(crate) warmup: Option<u64>,

    /// Workers making calls at once (closed loop), or the most calls in flight (open loop);
    /// 1 to 4096.
    #[arg(long, value_name = "C", default_value_t = 1,
          value_parser = bounded_usize::<1, MAX_CONCURRENCY>)]
    pub(crate) concurrency: usize,

    /// Payload size in bytes (a JSON object padded to this size); 2 to 6291456 (Lambda's
    /// synchronous limit).
    #[arg(long, value_name = "B", default_value_t = DEFAULT_PAYLOAD_BYTES,
          value_parser = bounded_usize::<2, MAX_PAYLOAD_BYTES>)]
    pub(crate) payload_bytes: usize,

    /// Invocation type of every call.
    #[arg(
        long,
        value_enum,
        value_name = "TYPE",
        default_value = "RequestResponse"
    )]
    pub(crate) invocation_type: InvocationTypeArg,

    /// Function name or ARN to invoke.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_FUNCTION)]
    pub(crate) function: String,

    /// The tenant every call is made for (`X-Amz-Tenant-Id`), to measure a function in
    /// tenant-isolation mode; 1 to 256 letters, digits, spaces or `. _ : / = + - @`. Every
    /// client sends it (the raw clients sign it too). Default: none.
    #[arg(long, value_name = "TENANT", value_parser = parse_tenant_id)]
    pub(crate) tenant_id: Option<String>,

    /// Idle time between one worker's calls, uniform in MIN..MAX milliseconds (or a single
    /// value).
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_range)]
    pub(crate) think_time: Option<(u64, u64)>,

    /// The SDK's attempt limit for every SDK-based client (1 = no retries). Default: each
    /// client's own default.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_attempts: Option<u32>,

    /// Open loop: this many calls per second per client on a fixed schedule (0.001 to 1e7).
    /// A call that starts late because every worker was busy is timed from its scheduled start
    /// (coordinated omission corrected); one whose worker was early is timed from the
    /// scheduled wake-up (the timer's own lateness is not charged to the client). Not with
    /// --think-time (the schedule sets the gaps).
    #[arg(long, value_name = "R", value_parser = parse_rate, conflicts_with = "think_time")]
    pub(crate) rate: Option<f64>,

    /// Rounds the workload is split into; each round runs a slice of every client, the order
    /// rotated each round.
    #[arg(long, value_name = "K", default_value_t = DEFAULT_ROUNDS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) rounds: u32,

    /// Embedded endpoint: close idle keep-alive connections after MS milliseconds.
    #[arg(long, value_name = "MS")]
    pub(crate) server_idle_close: Option<u64>,

    /// Embedded endpoint: close each connection after N requests.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) server_max_requests: Option<u32>,

    /// Embedded endpoint: delay every invoke response by MS milliseconds.
    #[arg(long, value_name = "MS")]
    pub(crate) server_latency: Option<u64>,

    /// Embedded endpoint: offer only `http/1.1` in ALPN. Without it the endpoint offers `h2`
    /// then `http/1.1`, as Lambda does, unless --server-idle-close or --server-max-requests (faults
    /// of HTTP/1 only) is given.
    #[arg(long)]
    pub(crate) server_http1_only: bool,

    /// Embedded endpoint: serve on a tokio runtime of its own with N worker threads, as a
    /// server in another process would, so that the bench's runtime schedules only the clients;
    /// 0 to 256. 0 serves on the bench's runtime, whose workers then run the clients' and the
    /// server's tasks together (every run before this flag existed). Default: the machine's
    /// available parallelism, the worker count of `serve`'s runtime (with --server-cpus, one
    /// per CPU listed; with only --client-cpus, one per client CPU).
    #[arg(long, value_name = "N", value_parser = bounded_usize::<0, MAX_SERVER_THREADS>)]
    pub(crate) server_threads: Option<usize>,

    /// Embedded endpoint: run its own runtime's threads only on these CPUs (`0`, `2-3`,
    /// `0,2`; Linux). Not with --server-threads 0. With --client-cpus on other CPUs, every
    /// call crosses between CPUs the same way, for every client: use both to compare clients
    /// at --concurrency 1 on a small VM (docs/performance.md). Default: not pinned.
    #[arg(long, value_name = "LIST", value_parser = super::pin::CpuList::parse)]
    pub(crate) server_cpus: Option<super::pin::CpuList>,

    /// Run the bench's own threads (the clients, and the embedded endpoint unless it has
    /// threads of its own) only on these CPUs (`0`, `0-3`, `0,2`; Linux). The bench's runtime
    /// then has one worker per CPU listed, and so do the defaults that follow the worker count
    /// (the crate's HTTP/2 connections per origin, the endpoint's threads without
    /// --server-cpus). Default: not pinned.
    #[arg(long, value_name = "LIST", value_parser = super::pin::CpuList::parse)]
    pub(crate) client_cpus: Option<super::pin::CpuList>,

    /// HTTP version of the crate's clients (lambda-vpce, lambda-vpce-lean) and of the raw-hyper
    /// floor: http1, http2, or auto (ALPN offers both, the server decides). sdk-default and
    /// smithy-pool speak what they always do. Default: the pool's default (auto; the embedded
    /// endpoint, like Lambda, picks h2 unless --server-http1-only).
    #[arg(long, value_name = "P", value_parser = parse_protocol)]
    pub(crate) protocol: Option<lambda_vpce::pool::Protocol>,

    /// HTTP/2 connections per origin the crate's clients spread concurrent streams over
    /// (`PoolBuilder::h2_connections`); 1 to 512. Default: the pool's (the runtime's worker
    /// threads).
    #[arg(long, value_name = "N", value_parser = bounded_usize::<1, MAX_MIN_IDLE>)]
    pub(crate) h2_connections: Option<usize>,

    /// Every endpoint name resolves to these addresses, in this order (comma list of IP
    /// addresses; the port stays the endpoint's): measure a chosen set of an interface
    /// endpoint's ENIs, or a set with one of them black-holed. The crate's clients race them
    /// by health; sdk-default and smithy-pool get the same list from their DNS resolver;
    /// raw-hyper connects to the first. The report names the addresses each crate client's
    /// connections used. Default: the system resolver.
    #[arg(long, value_delimiter = ',', value_name = "ADDR,...")]
    pub(crate) resolve: Vec<std::net::IpAddr>,

    /// `min_idle` of the lambda-vpce clients' pools, which are prewarmed to it before the
    /// first call and kept topped up; 0 to 512 (the pool's connection cap). Default: the
    /// concurrency, at most 512 (0 disables prewarm).
    #[arg(long, value_name = "N",
          value_parser = bounded_usize::<0, MAX_MIN_IDLE>)]
    pub(crate) min_idle: Option<usize>,

    /// Write the report as JSON (schema: docs/cli.md, "The JSON report").
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,

    /// Write the latency CDF of every client as an SVG (log-scale latency).
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,

    /// Also print the summary with each figure's change against this earlier report (a
    /// previous run's `--json`); read before the run starts.
    #[arg(long, value_name = "OLD.json")]
    pub(crate) baseline: Option<PathBuf>,

    /// Seed of the think-time generator (the same seed gives the same idle gaps).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub(crate) seed: u64,
}

/// What `bench` does instead of a run.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum BenchAction {
    /// Merge the JSON reports of runs of the same clients (a fleet of load generators) into
    /// one report with exact percentiles; refuses runs that measured different things.
    Merge(super::merge::MergeArgs),
}

/// Parses `http1`, `http2` or `auto`.
pub(crate) fn parse_protocol(s: &str) -> Result<lambda_vpce::pool::Protocol, String> {
    s.parse()
        .map_err(|e: lambda_vpce::BuildError| e.to_string())
}

/// Parses `10s`, `500ms`, `2m`, `1h` or a plain number of seconds (`1.5`).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (like 10s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit `{other}` (ms, s, m or h)")),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("`{s}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `MIN..MAX` (or a single value) of milliseconds.
pub(crate) fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let parse = |v: &str| {
        v.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{v}` is not a whole number of milliseconds"))
    };
    let (lo, hi) = match s.split_once("..") {
        Some((lo, hi)) => (parse(lo)?, parse(hi.trim_start_matches('='))?),
        None => {
            let v = parse(s)?;
            (v, v)
        }
    };
    if lo > hi {
        return Err(format!("MIN {lo} is above MAX {hi}"));
    }
    Ok((lo, hi))
}

/// Parses a rate from [`MIN_RATE`] to [`MAX_RATE`] calls per second.
pub(crate) fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (MIN_RATE..=MAX_RATE).contains(&r) => Ok(r),
        _ => Err(format!(
            "`{s}` is not a rate in calls per second ({MIN_RATE} ≤ R ≤ {MAX_RATE:e})"
        )),
    }
}

/// Parses a whole number from `MIN` to `MAX`.
pub(crate) fn bounded_usize<const MIN: usize, const MAX: usize>(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (MIN..=MAX).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a whole number from {MIN} to {MAX}")),
    }
}

/// A JSON payload of exactly `bytes` bytes (at least 2): `{"p":"aaa…"}`, or `{}` padded with
/// spaces below 8 bytes.
pub(crate) fn payload(bytes: usize) -> bytes::Bytes {
    let bytes = bytes.max(2);
    let mut out = Vec::with_capacity(bytes);
    if bytes >= 8 {
        out.extend_from_slice(b"{\"p\":\"");
        out.resize(bytes - 2, b'a');
        out.extend_from_slice(b"\"}");
    } else {
        out.extend_from_slice(b"{}");
        out.resize(bytes, b' ');
    }
    bytes::Bytes::from(out)
}

/// `--tenant-id`, checked as Lambda checks `TenantId`.
fn parse_tenant_id(s: &str) -> Result<String, String> {
    lambda_vpce::validate::tenant_id(s)
        .map(|()| s.to_owned())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_plain_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3 fortnights").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn think_time_ranges_are_ordered_and_a_single_value_is_fixed() {
        assert_eq!(parse_range("0..2000"), Ok((0, 2000)));
        assert_eq!(parse_range("5..=7"), Ok((5, 7)));
        assert_eq!(parse_range("250"), Ok((250, 250)));
        assert!(parse_range("9..3").is_err());
        assert!(parse_range("a..b").is_err());
    }

    #[test]
    fn payloads_are_valid_json_of_the_requested_size() {
        for n in [0, 2, 7, 8, 1024] {
            let p = payload(n);
            assert_eq!(p.len(), n.max(2), "{n}");
            assert!(
                serde_json::from_slice::<serde_json::Value>(&p).is_ok(),
                "{n}"
            );
        }
    }

    #[test]
    fn rates_must_be_positive_and_finite() {
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("NaN").is_err());
        assert!(parse_rate("-5").is_err());
        assert!(
            parse_rate("1e-20").is_err(),
            "a schedule longer than the clock can hold"
        );
        assert!(parse_rate("1e8").is_err());
    }

    #[test]
    fn bounded_numbers_refuse_what_is_outside_their_range() {
        assert_eq!(bounded_usize::<2, 10>("10"), Ok(10));
        for bad in [
            "1",
            "11",
            "18446744073709551615",
            "99999999999999999999",
            "-1",
            "x",
        ] {
            assert!(bounded_usize::<2, 10>(bad).is_err(), "{bad}");
        }
    }
}
