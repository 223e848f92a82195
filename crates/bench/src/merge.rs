//! Merging the reports of a fleet of load generators (`lambda-vpce bench merge A.json B.json …`)
//! into one report, with exact percentiles from the merged HDR histograms.
//!
//! Runs merge when they measured the same thing: the same clients, `mode`, `payload_bytes`,
//! `invocation_type`, `function`, `think_time_ms`, `max_attempts`, embedded `server`
//! knobs and the endpoint's CPUs (`server_cpus`). Concurrency, rate, amount, rounds, endpoint
//! URL and the runners' own CPUs may differ per runner (`client_cpus` merges as the union of
//! every runner's, null unless all were pinned). Anything else is refused, naming the field.
//!
//! Per client: counts are summed; percentiles, max and mean come from the merged histogram;
//! `first_call_us` is the slowest runner's first call; `cpu_us_per_call` is the calls-weighted
//! mean; `connections_opened` the sum. `started_unix_s` / `ended_unix_s` are the earliest
//! start and the latest end over the runs, `wall_s` the window between them, and
//! `throughput_rps` = all runs' calls ÷ `wall_s`: the fleet's calls per second over the common
//! wall window, from the first runner's start to the last runner's end (a runner that started
//! late lowers it; it is never the sum of rates measured over different windows).

use hdrhistogram::Histogram;

use crate::histogram;
use crate::report::{ClientReport, ErrorsByKind, RunReport};
use crate::workload::new_histogram;
use crate::Error;

/// A merged report and its clients' merged histograms (in the report's client order).
#[derive(Debug)]
pub struct Merged {
    pub report: RunReport,
    pub histograms: Vec<Histogram<u64>>,
}

/// A report field by name, as text to compare and print.
type Field = (&'static str, fn(&RunReport) -> String);

/// The fields two runs must agree on to be merged: they say what was measured.
const MEASURED: &[Field] = &[
    ("mode", |r| r.mode.clone()),
    ("payload_bytes", |r| r.payload_bytes.to_string()),
    ("invocation_type", |r| r.invocation_type.clone()),
    ("function", |r| r.function.clone()),
    ("think_time_ms", |r| format!("{:?}", r.think_time_ms)),
    ("max_attempts", |r| format!("{:?}", r.max_attempts)),
    ("server", |r| format!("{:?}", r.server)),
    ("server_cpus", |r| format!("{:?}", r.server_cpus)),
    ("clients", |r| {
        let mut v: Vec<&str> = r.clients.iter().map(|c| c.client.as_str()).collect();
        v.sort_unstable();
        v.join(",")
    }),
];

/// Fields of one runner's own setup: runners of a fleet may differ in them and still merge,
/// but a run compared with its baseline is noted when they do.
const RUNNER: &[Field] = &[("client_cpus", |r| format!("{:?}", r.client_cpus))];

/// The `fields` in which `a` and `b` differ, with both values.
fn compare(fields: &[Field], a: &RunReport, b: &RunReport) -> Vec<(&'static str, String, String)> {
    fields
        .iter()
        .filter_map(|(name, value)| {
            let (x, y) = (value(a), value(b));
            (x != y).then_some((*name, x, y))
        })
        .collect()
}

/// The fields two reports must agree on to be merged, with both values where they differ.
pub fn differences(a: &RunReport, b: &RunReport) -> Vec<(&'static str, String, String)> {
    compare(MEASURED, a, b)
}

/// Every field in which a run differs from its baseline: [`differences`], then the runner's
/// own setup.
pub fn baseline_differences(
    old: &RunReport,
    new: &RunReport,
) -> Vec<(&'static str, String, String)> {
    let mut notes = differences(old, new);
    notes.extend(compare(RUNNER, old, new));
    notes
}

/// Merges `runs` (name, report); refuses runs that measured different things.
pub fn merge(runs: &[(String, RunReport)]) -> Result<Merged, Error> {
    let [(first_name, first), rest @ ..] = runs else {
        return Err("bench merge needs at least one report".into());
    };
    for (name, r) in rest {
        if let Some((field, x, y)) = differences(first, r).into_iter().next() {
            return Err(format!(
                "cannot merge {name} with {first_name}: they measured different things: \
                 `{field}` is {y} there and {x} here"
            )
            .into());
        }
    }
    let all = |f: &dyn Fn(&RunReport) -> Option<f64>| -> Option<Vec<f64>> {
        runs.iter().map(|(_, r)| f(r)).collect()
    };
    let same_or = |f: &dyn Fn(&RunReport) -> String, other: &str| {
        let v = f(first);
        if runs.iter().all(|(_, r)| f(r) == v) {
            v
        } else {
            other.to_owned()
        }
    };
    let mut clients = Vec::with_capacity(first.clients.len());
    let mut histograms = Vec::with_capacity(first.clients.len());
    for c in &first.clients {
        let parts: Vec<(&str, &ClientReport)> = runs
            .iter()
            .filter_map(|(n, r)| {
                r.clients
                    .iter()
                    .find(|x| x.client == c.client)
                    .map(|x| (n.as_str(), x))
            })
            .collect();
        let (report, hist) = merge_client(&parts)?;
        clients.push(report);
        histograms.push(hist);
    }
    let report = RunReport {
        schema_version: first.schema_version,
        mode: first.mode.clone(),
        endpoint: same_or(&|r| r.endpoint.clone(), "mixed"),
        concurrency: runs.iter().map(|(_, r)| r.concurrency).sum(),
        payload_bytes: first.payload_bytes,
        invocation_type: first.invocation_type.clone(),
        function: first.function.clone(),
        protocol: first
            .protocol
            .as_ref()
            .map(|_| same_or(&|r| r.protocol.clone().unwrap_or_default(), "mixed")),
        h2_connections: first
            .h2_connections
            .filter(|n| runs.iter().all(|(_, r)| r.h2_connections == Some(*n))),
        rounds: first.rounds,
        warmup: runs.iter().map(|(_, r)| r.warmup).sum(),
        requests_per_client: all(&|r| r.requests_per_client.map(|n| n as f64))
            .map(|v| v.iter().sum::<f64>() as u64),
        duration_s: all(&|r| r.duration_s).map(|v| v.iter().cloned().fold(0.0, f64::max)),
        rate_rps: all(&|r| r.rate_rps).map(|v| v.iter().sum()),
        think_time_ms: first.think_time_ms,
        max_attempts: first.max_attempts,
        min_idle: runs.iter().map(|(_, r)| r.min_idle).sum(),
        server: first.server,
        cpu_includes_server: runs.iter().any(|(_, r)| r.cpu_includes_server),
        server_cpus: first.server_cpus.clone(),
        client_cpus: client_cpus(runs),
        allocator: same_or(&|r| r.allocator.clone(), "mixed"),
        clients,
        // Each runner's own resolver; kept when every runner used the same addresses.
        resolve: first
            .resolve
            .clone()
            .filter(|v| runs.iter().all(|(_, r)| r.resolve.as_ref() == Some(v))),
        runs: runs.iter().map(|(_, r)| r.runs).sum(),
    };
    Ok(Merged { report, histograms })
}

/// Every runner's addresses, their counts summed per address (`None` when no runner
/// reported any).
fn merge_addresses(parts: &[(&str, &ClientReport)]) -> Option<Vec<crate::report::AddressReport>> {
    let mut out: Vec<crate::report::AddressReport> = Vec::new();
    for a in parts
        .iter()
        .filter_map(|(_, c)| c.addresses.as_ref())
        .flatten()
    {
        match out.iter_mut().find(|o| o.address == a.address) {
            Some(o) => {
                o.connects += a.connects;
                o.connections += a.connections;
                o.connect_failures += a.connect_failures;
                o.ejections += a.ejections;
            }
            None => out.push(a.clone()),
        }
    }
    parts
        .iter()
        .any(|(_, c)| c.addresses.is_some())
        .then_some(out)
}

/// Every runner's CPUs together when every runner was pinned (runners on one host pinned
/// apart merge); `None` when any was not.
fn client_cpus(runs: &[(String, RunReport)]) -> Option<Vec<usize>> {
    let mut all = Vec::new();
    for (_, r) in runs {
        all.extend_from_slice(r.client_cpus.as_deref()?);
    }
    all.sort_unstable();
    all.dedup();
    Some(all)
}

fn merge_client(parts: &[(&str, &ClientReport)]) -> Result<(ClientReport, Histogram<u64>), Error> {
    let mut hist = new_histogram();
    let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
    for (name, c) in parts {
        let field = |f: &str| format!("{name}: clients[{}].{f}", c.client);
        let text = c.histogram.as_deref().ok_or_else(|| {
            format!(
                "{} is missing (a report from before it existed)",
                field("histogram")
            )
        })?;
        let h = histogram::decode(text, &field("histogram"))?;
        hist.add(&h)
            .map_err(|e| format!("{}: cannot be merged ({e:?})", field("histogram")))?;
        let (s, e) = match (c.started_unix_s, c.ended_unix_s) {
            (Some(s), Some(e)) => (s, e),
            _ => return Err(format!("{} is missing", field("started_unix_s")).into()),
        };
        start = start.min(s);
        end = end.max(e);
    }
    let sum = |f: &dyn Fn(&ClientReport) -> u64| parts.iter().map(|(_, c)| f(c)).sum::<u64>();
    let sum_opt = |f: &dyn Fn(&ClientReport) -> Option<u64>| {
        parts
            .iter()
            .map(|(_, c)| f(c))
            .collect::<Option<Vec<u64>>>()
            .map(|v| v.iter().sum::<u64>())
    };
    let requests = sum(&|c| c.requests);
    let ok = sum(&|c| c.ok);
    let q = |p: f64| {
        if ok == 0 {
            0
        } else {
            hist.value_at_quantile(p)
        }
    };
    let wall = (end - start).max(0.0);
    let connections_opened = sum_opt(&|c| c.connections_opened);
    let cpu = parts
        .iter()
        .map(|(_, c)| c.cpu_us_per_call.map(|v| v * c.requests as f64))
        .collect::<Option<Vec<f64>>>()
        .map(|v| v.iter().sum::<f64>() / requests.max(1) as f64);
    let first = parts[0].1;
    let same_protocol = parts
        .iter()
        .all(|(_, c)| c.protocol == first.protocol && c.protocol_seen_by == first.protocol_seen_by);
    let same = |f: &dyn Fn(&ClientReport) -> &Option<String>| {
        if parts.iter().all(|(_, c)| f(c) == f(first)) {
            f(first).clone()
        } else {
            Some("mixed".into())
        }
    };
    let report = ClientReport {
        tls_provider: same(&|c| &c.tls_provider),
        tls_group: same(&|c| &c.tls_group),
        addresses: merge_addresses(parts),
        protocol: if same_protocol {
            first.protocol.clone()
        } else {
            Some("mixed".into())
        },
        protocol_seen_by: first.protocol_seen_by.clone().filter(|_| same_protocol),
        client: first.client.clone(),
        requests,
        ok,
        errors: sum(&|c| c.errors),
        errors_by_kind: ErrorsByKind {
            not_sent: sum(&|c| c.errors_by_kind.not_sent),
            maybe_executed: sum(&|c| c.errors_by_kind.maybe_executed),
            service: sum(&|c| c.errors_by_kind.service),
            other: sum(&|c| c.errors_by_kind.other),
            invalid_input: sum(&|c| c.errors_by_kind.invalid_input),
        },
        retried: sum_opt(&|c| c.retried),
        attempts: sum_opt(&|c| c.attempts),
        p50_us: q(0.5),
        p90_us: q(0.9),
        p99_us: q(0.99),
        p999_us: q(0.999),
        max_us: if ok == 0 { 0 } else { hist.max() },
        mean_us: if ok == 0 { 0.0 } else { hist.mean() },
        first_call_us: parts.iter().filter_map(|(_, c)| c.first_call_us).max(),
        first_call_ok: parts.iter().all(|(_, c)| c.first_call_ok),
        throughput_rps: if wall > 0.0 {
            requests as f64 / wall
        } else {
            0.0
        },
        connections_opened,
        reuse_ratio: connections_opened
            .map(|o| (1.0 - o as f64 / requests.max(1) as f64).clamp(0.0, 1.0)),
        cpu_us_per_call: cpu,
        wall_s: wall,
        histogram: Some(histogram::encode(&hist)?),
        started_unix_s: Some(start),
        ended_unix_s: Some(end),
    };
    Ok((report, hist))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Extras;
    use crate::workload::Tally;
    use std::time::{Duration, SystemTime};

    fn tally(samples: &[u64], start_s: u64, end_s: u64) -> Tally {
        let mut t = Tally::default();
        for &v in samples {
            t.hist.record(v).unwrap();
        }
        t.calls = samples.len() as u64;
        t.ok = t.calls;
        t.wall = Duration::from_secs(end_s - start_s);
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        t.window = Some((at(start_s), at(end_s)));
        t
    }

    fn run(clients: &[(&str, &Tally)], payload_bytes: usize, concurrency: usize) -> RunReport {
        RunReport {
            protocol: None,
            h2_connections: None,
            schema_version: 1,
            mode: "closed".into(),
            endpoint: "embedded".into(),
            concurrency,
            payload_bytes,
            invocation_type: "RequestResponse".into(),
            function: "echo".into(),
            rounds: 10,
            warmup: 0,
            requests_per_client: Some(0),
            duration_s: None,
            rate_rps: None,
            think_time_ms: None,
            max_attempts: None,
            min_idle: 1,
            server: None,
            cpu_includes_server: true,
            server_cpus: None,
            client_cpus: None,
            allocator: "system".into(),
            clients: clients
                .iter()
                .map(|(n, t)| ClientReport::new(n, t, Extras::default()))
                .collect(),
            resolve: None,
            runs: 1,
        }
    }

    /// Latencies spread over three decades, different in each run.
    fn samples(seed: u64, n: u64) -> Vec<u64> {
        (0..n)
            .map(|i| 20 + (i * 7919 + seed * 104_729) % 50_000 / (1 + i % 7))
            .collect()
    }

    #[test]
    fn two_runs_merged_equal_one_histogram_of_both_sample_sets() {
        let (a, b) = (samples(1, 3000), samples(2, 1700));
        let ra = run(&[("lambda-vpce-lean", &tally(&a, 100, 110))], 1024, 4);
        let rb = run(&[("lambda-vpce-lean", &tally(&b, 104, 120))], 1024, 16);
        let merged = merge(&[("a.json".into(), ra), ("b.json".into(), rb)]).unwrap();

        let mut both = new_histogram();
        for v in a.iter().chain(&b) {
            both.record(*v).unwrap();
        }
        let c = &merged.report.clients[0];
        assert_eq!(merged.histograms[0], both);
        assert_eq!(c.requests, 4700);
        for (got, q) in [
            (c.p50_us, 0.5),
            (c.p90_us, 0.9),
            (c.p99_us, 0.99),
            (c.p999_us, 0.999),
        ] {
            assert_eq!(got, both.value_at_quantile(q), "q {q}");
        }
        assert_eq!(c.max_us, both.max());
        // The common window runs from the first start (100) to the last end (120).
        assert_eq!(c.wall_s, 20.0);
        assert!((c.throughput_rps - 4700.0 / 20.0).abs() < 1e-9);
        assert_eq!(merged.report.concurrency, 20);
        assert_eq!(merged.report.runs, 2);
        let back = histogram::decode(c.histogram.as_deref().unwrap(), "merged").unwrap();
        assert_eq!(back, both);
    }

    #[test]
    fn runs_that_measured_different_payloads_are_refused_naming_the_field() {
        let t = tally(&[50, 60], 0, 1);
        let ra = run(&[("sdk-default", &t)], 1024, 1);
        let rb = run(&[("sdk-default", &t)], 2048, 1);
        let e = merge(&[("a.json".into(), ra), ("b.json".into(), rb)]).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("`payload_bytes`") && e.contains("2048") && e.contains("b.json"),
            "{e}"
        );
    }

    #[test]
    fn runs_of_different_clients_functions_or_pinning_are_refused() {
        let t = tally(&[50], 0, 1);
        let ra = run(&[("sdk-default", &t)], 1024, 1);
        let rb = run(&[("lambda-vpce", &t)], 1024, 1);
        let e = merge(&[("a".into(), ra.clone()), ("b".into(), rb)]).unwrap_err();
        assert!(e.to_string().contains("`clients`"), "{e}");
        let mut rc = ra.clone();
        rc.function = "other".into();
        let e = merge(&[("a".into(), ra.clone()), ("c".into(), rc)]).unwrap_err();
        assert!(e.to_string().contains("`function`"), "{e}");
        let mut rd = ra.clone();
        rd.server_cpus = Some(vec![1]);
        let e = merge(&[("a".into(), ra), ("d".into(), rd)]).unwrap_err();
        assert!(e.to_string().contains("`server_cpus`"), "{e}");
    }

    #[test]
    fn runners_pinned_to_their_own_cpus_merge_into_the_union_of_them() {
        let t = tally(&[50], 0, 1);
        let mut ra = run(&[("sdk-default", &t)], 1024, 1);
        let mut rb = ra.clone();
        ra.client_cpus = Some(vec![0, 1]);
        rb.client_cpus = Some(vec![3]);
        let runs = [("a".into(), ra.clone()), ("b".into(), rb)];
        let merged = merge(&runs).expect("merges").report;
        assert_eq!(merged.client_cpus, Some(vec![0, 1, 3]));
        let unpinned = run(&[("sdk-default", &t)], 1024, 1);
        let merged = merge(&[("a".into(), ra), ("c".into(), unpinned)])
            .expect("merges")
            .report;
        assert_eq!(merged.client_cpus, None);
    }

    #[test]
    fn a_report_without_histograms_is_refused_naming_the_field() {
        let t = tally(&[50], 0, 1);
        let ra = run(&[("raw-hyper", &t)], 1024, 1);
        let mut rb = ra.clone();
        rb.clients[0].histogram = None;
        let e = merge(&[("a".into(), ra), ("old.json".into(), rb)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("old.json: clients[raw-hyper].histogram"),
            "{e}"
        );
    }
}
