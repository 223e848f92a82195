//! The `bench` and `serve` commands of the `lambda-vpce` binary, run as a user would.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[path = "../../../tests/support/mod.rs"]
mod support;

use support::cli::bin_path;

/// Every field of a client's entry in the JSON report (schema version 1).
const CLIENT_FIELDS: [&str; 15] = [
    "client",
    "requests",
    "ok",
    "errors",
    "retried",
    "p50_us",
    "p90_us",
    "p99_us",
    "p999_us",
    "max_us",
    "first_call_us",
    "throughput_rps",
    "connections_opened",
    "tls_provider",
    "tls_group",
];

/// Starts `lambda-vpce serve ARGS --ca-out CA` and returns it with the lines it printed before
/// `serving` (blocking reads of a few lines the child prints at once).
fn spawn_serve(args: &[&str], ca: &std::path::Path) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(bin_path())
        .arg("serve")
        .args(args)
        .arg("--ca-out")
        .arg(ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let lines = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("serving"))
        .collect();
    (child, lines)
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "lambda-vpce-cli-bench-{}-{name}",
        std::process::id()
    ))
}

/// Runs `lambda-vpce bench ARGS --json FILE`, asserts it exited 0, and returns its stdout and
/// the JSON report.
fn bench_report(args: &[&str]) -> (String, serde_json::Value) {
    let json = temp_path(&format!("report-{}.json", args.join("_").replace('/', "")));
    let out = Command::new(bin_path())
        .arg("bench")
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).expect("the JSON report was written");
    let _ = std::fs::remove_file(&json);
    (
        stdout,
        serde_json::from_str(&text).expect("the report is JSON"),
    )
}

/// Runs `lambda-vpce ARGS` and asserts it was refused: exit code 2, `says` on stderr.
fn assert_refused(args: &[&str], says: &str) {
    let out = Command::new(bin_path())
        .args(args)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(says), "{args:?}: {stderr}");
}

/// The report's clients, asserting each made `calls` calls, all ok.
fn clients_all_ok(report: &serde_json::Value, calls: u64) -> &Vec<serde_json::Value> {
    let clients = report["clients"].as_array().expect("clients is an array");
    for c in clients {
        assert_eq!(
            (&c["requests"], &c["ok"], &c["errors"]),
            (&calls.into(), &calls.into(), &0.into()),
            "{c}"
        );
    }
    clients
}

#[test]
fn bench_writes_a_json_report_with_every_schema_field_and_all_calls_ok() {
    let (stdout, report) = bench_report(&[
        "--requests",
        "200",
        "--warmup",
        "10",
        "--concurrency",
        "4",
        "--client",
        "lambda-vpce,sdk-default",
    ]);
    assert_eq!(report["mode"], "closed");
    assert_eq!(report["concurrency"], 4);
    assert_eq!(report["payload_bytes"], 1024);
    // The binary under test is built with this test's features.
    let allocator = if cfg!(feature = "mimalloc") {
        "mimalloc"
    } else {
        "system"
    };
    assert_eq!(report["allocator"], allocator);
    let clients = clients_all_ok(&report, 200);
    let names: Vec<&str> = clients
        .iter()
        .filter_map(|c| c["client"].as_str())
        .collect();
    assert_eq!(names, ["lambda-vpce", "sdk-default"]);
    for c in clients {
        for field in CLIENT_FIELDS {
            assert!(c.get(field).is_some(), "{} lacks {field}: {c}", c["client"]);
        }
        assert!(c["p50_us"].as_u64().unwrap_or(0) > 0, "{c}");
        assert!(c["connections_opened"].is_u64(), "{c}");
    }
    assert!(
        stdout.contains("lambda-vpce") && stdout.contains("p99"),
        "{stdout}"
    );
}

#[test]
fn bench_runs_all_five_clients_and_draws_their_latency_cdf() {
    let plot = temp_path("cdf.svg");
    let plot_arg = plot.to_str().expect("a UTF-8 temp path");
    let (_, report) = bench_report(&[
        "--requests",
        "40",
        "--warmup",
        "4",
        "--concurrency",
        "2",
        "--plot",
        plot_arg,
    ]);
    let svg = std::fs::read_to_string(&plot).unwrap_or_default();
    let _ = std::fs::remove_file(&plot);
    let clients = clients_all_ok(&report, 40);
    let names: Vec<&str> = clients
        .iter()
        .filter_map(|c| c["client"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "lambda-vpce",
            "lambda-vpce-lean",
            "sdk-default",
            "smithy-pool",
            "raw-hyper"
        ]
    );
    for c in clients {
        let counted = c["client"] != "raw-hyper";
        assert_eq!(c["retried"].is_u64(), counted, "attempts are counted: {c}");
        assert_eq!(c["first_call_ok"], true, "{c}");
    }
    assert!(svg.contains("<svg"), "an SVG was drawn");
    for name in names {
        assert!(svg.contains(name), "the plot names {name}");
    }
}

#[test]
fn bench_with_a_rate_runs_an_open_loop_and_says_so() {
    let (stdout, report) = bench_report(&[
        "--rate",
        "400",
        "--requests",
        "40",
        "--client",
        "lambda-vpce-lean,raw-hyper",
    ]);
    assert_eq!(
        (&report["mode"], &report["rate_rps"]),
        (&"open".into(), &400.0.into())
    );
    clients_all_ok(&report, 40);
    assert!(stdout.starts_with("open loop"), "{stdout}");
}

#[test]
fn bench_workload_flags_reach_the_report_and_the_calls() {
    let (_, report) = bench_report(&[
        "--duration",
        "300ms",
        "--rounds",
        "2",
        "--think-time",
        "1..3",
        "--max-attempts",
        "1",
        "--invocation-type",
        "Event",
        "--payload-bytes",
        "100",
        "--client",
        "lambda-vpce,lambda-vpce-lean",
    ]);
    assert_eq!(report["requests_per_client"], serde_json::Value::Null);
    assert_eq!(report["duration_s"], 0.3);
    assert_eq!(report["think_time_ms"], serde_json::json!([1, 3]));
    assert_eq!(report["max_attempts"], 1);
    assert_eq!(report["invocation_type"], "Event");
    assert_eq!(report["payload_bytes"], 100);
    for c in report["clients"].as_array().expect("clients") {
        let ok = c["ok"].as_u64().unwrap_or(0);
        assert!(ok > 10, "calls were made for 300 ms: {c}");
        assert!(ok <= 310, "at least 1 ms of think time between calls: {c}");
        assert_eq!(c["errors"], 0, "{c}");
    }
}

#[test]
fn bench_server_knobs_shape_what_the_embedded_endpoint_does() {
    let (_, closing) = bench_report(&[
        "--server-max-requests",
        "5",
        "--requests",
        "50",
        "--warmup",
        "0",
        "--client",
        "lambda-vpce-lean",
    ]);
    let c = &clients_all_ok(&closing, 50)[0];
    let opened = c["connections_opened"].as_u64().unwrap_or(0);
    assert!(opened >= 9, "a connection per 5 requests: {c}");
    assert_eq!(closing["server"]["max_requests"], 5);

    let (_, slow) = bench_report(&[
        "--server-latency",
        "20",
        "--requests",
        "3",
        "--warmup",
        "0",
        "--client",
        "lambda-vpce-lean",
    ]);
    let c = &clients_all_ok(&slow, 3)[0];
    assert!(
        c["p50_us"].as_u64().unwrap_or(0) >= 20_000,
        "20 ms added: {c}"
    );
}

#[test]
fn bench_measures_an_external_endpoint_with_credentials_from_the_standard_chain() {
    let ca = temp_path("external-ca.pem");
    let (mut child, lines) = spawn_serve(&[], &ca);
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("url: "))
        .unwrap_or_default()
        .to_owned();
    // serve's credentials reach the bench only through the environment (the chain's first
    // provider); region and CA through flags.
    let env: Vec<(String, String)> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("export AWS_"))
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| k.ends_with("ACCESS_KEY_ID") || k.ends_with("SECRET_ACCESS_KEY"))
        .map(|(k, v)| (format!("AWS_{k}"), v.to_owned()))
        .collect();
    let json = temp_path("external.json");
    let out = Command::new(bin_path())
        .args(["bench", "--endpoint-url", &url, "--ca-cert"])
        .arg(&ca)
        .args(["--region", "us-east-1", "--requests", "30", "--warmup", "3"])
        .args([
            "--client",
            "lambda-vpce,lambda-vpce-lean,sdk-default",
            "--json",
        ])
        .arg(&json)
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .envs(env)
        .output()
        .expect("the binary runs");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&ca);
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let _ = std::fs::remove_file(&json);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&text).expect("the report is JSON");
    assert_eq!(report["endpoint"], url.as_str());
    assert_eq!(clients_all_ok(&report, 30).len(), 3);
}

#[test]
fn bench_serves_the_embedded_endpoint_on_a_runtime_of_its_own_unless_told_to_share() {
    let flags = [
        "--requests",
        "50",
        "--warmup",
        "5",
        "--client",
        "lambda-vpce-lean",
    ];
    let (stdout, own) = bench_report(&flags);
    clients_all_ok(&own, 50);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(own["server"]["threads"], cores as u64, "{}", own["server"]);
    let threads = if cores == 1 {
        "1 thread".to_owned()
    } else {
        format!("{cores} threads")
    };
    assert!(
        stdout.contains(&format!("server on {threads} of its own")),
        "{stdout}"
    );

    let (stdout, shared) = bench_report(&[&flags[..], &["--server-threads", "0"]].concat());
    clients_all_ok(&shared, 50);
    assert_eq!(shared["server"]["threads"], 0);
    assert!(stdout.contains("server on the bench's runtime"), "{stdout}");
}

/// The CPUs this process may run on (the test pins the bench to some of them).
#[cfg(target_os = "linux")]
fn allowed_cpus() -> Vec<usize> {
    let set = rustix::thread::sched_getaffinity(None).expect("reads the affinity");
    (0..rustix::thread::CpuSet::MAX_CPU)
        .filter(|&c| set.is_set(c))
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn bench_pins_the_clients_and_the_endpoint_to_their_cpus_and_reports_where_they_ran() {
    let allowed = allowed_cpus();
    // One CPU for each side when there are two; both on the one CPU otherwise.
    let (client, server) = (allowed[0], allowed[allowed.len() - 1]);
    let calls = [
        "--requests",
        "50",
        "--warmup",
        "5",
        "--client",
        "lambda-vpce-lean,raw-hyper",
    ];
    let (client_flag, server_flag) = (client.to_string(), server.to_string());
    let (stdout, report) = bench_report(
        &[
            &calls[..],
            &["--client-cpus", &client_flag, "--server-cpus", &server_flag],
        ]
        .concat(),
    );
    clients_all_ok(&report, 50);
    assert_eq!(
        report["client_cpus"],
        serde_json::json!([client]),
        "{report}"
    );
    assert_eq!(
        report["server_cpus"],
        serde_json::json!([server]),
        "{report}"
    );
    // One endpoint worker per CPU it is pinned to.
    assert_eq!(report["server"]["threads"], 1, "{}", report["server"]);
    assert!(
        stdout.contains(&format!(
            "server on CPUs {server}, clients on CPUs {client}"
        )),
        "{stdout}"
    );

    // Unpinned, against the pinned run as a baseline: nulls, and the difference noted.
    let baseline = temp_path("pinned-baseline.json");
    std::fs::write(&baseline, report.to_string()).expect("writes the baseline");
    let (stdout, unpinned) = bench_report(
        &[
            &calls[..],
            &["--baseline", baseline.to_str().expect("a UTF-8 path")],
        ]
        .concat(),
    );
    let _ = std::fs::remove_file(&baseline);
    assert_eq!(
        (&unpinned["client_cpus"], &unpinned["server_cpus"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );
    for field in ["server_cpus", "client_cpus"] {
        assert!(
            stdout.contains(&format!("`{field}` was Some(")),
            "{field} not noted:\n{stdout}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn bench_refuses_cpu_lists_it_cannot_pin_to_naming_the_flag() {
    for (flags, says) in [
        (
            &["--client-cpus", "1023"][..],
            "outside the CPUs this process started with",
        ),
        (&["--server-cpus", "0-x"][..], "is not a CPU number"),
        (
            &["--server-cpus", "1023", "--server-threads", "0"][..],
            "not with --server-threads 0",
        ),
    ] {
        assert_refused(&[&["bench", "--requests", "10"][..], flags].concat(), says);
    }
}

#[test]
fn bench_refuses_server_knobs_for_an_external_endpoint() {
    for knob in [
        ["--server-idle-close", "1000"],
        ["--server-threads", "1"],
        // A CPU no machine here has: the misplaced flag is refused first, not the list.
        ["--server-cpus", "1023"],
    ] {
        let args = [
            &["bench", "--endpoint-url", "https://127.0.0.1:9"][..],
            &knob,
        ]
        .concat();
        assert_refused(&args, "--server-");
    }
}

#[test]
fn serve_prints_its_url_ca_and_credentials_then_keeps_serving() {
    let ca = temp_path("ca.pem");
    let (mut child, lines) = spawn_serve(&[], &ca);
    let still_running = child.try_wait().expect("status").is_none();
    let _ = child.kill();
    let _ = child.wait();
    let pem = std::fs::read_to_string(&ca).unwrap_or_default();
    let _ = std::fs::remove_file(&ca);
    assert!(still_running, "serve exited early: {lines:?}");
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("url: "))
        .expect("a url line");
    assert!(url.starts_with("https://localhost:"), "{url}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("export AWS_ACCESS_KEY_ID=")));
    assert!(pem.contains("BEGIN CERTIFICATE"), "the CA was written");
}

#[tokio::test]
async fn serve_with_http2_negotiates_h2_in_alpn() {
    let ca = temp_path("h2-ca.pem");
    let (mut child, lines) = spawn_serve(&["--http2"], &ca);
    let pem = std::fs::read_to_string(&ca).unwrap_or_default();
    let alpn = match lines.iter().find_map(|l| l.strip_prefix("url: https://")) {
        Some(authority) => negotiated_alpn(authority, &pem).await,
        None => None,
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&ca);
    assert!(
        lines.iter().any(|l| l == "protocols: h2, http/1.1"),
        "{lines:?}"
    );
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
}

/// The protocol a TLS client offering `h2` and `http/1.1` gets from `authority`.
async fn negotiated_alpn(authority: &str, ca_pem: &str) -> Option<Vec<u8>> {
    let tls = support::tls::try_connect(authority, ca_pem, &[b"h2", b"http/1.1"])
        .await
        .ok()?;
    tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
}

#[test]
fn serve_refuses_http2_with_an_http1_only_server_knob() {
    for knob in [
        ["--server-max-requests", "3"],
        ["--server-idle-close", "1000"],
    ] {
        assert_refused(
            &[&["serve", "--http2"][..], &knob].concat(),
            "cannot be used with",
        );
    }
}

/// Two runs of a "fleet" (different concurrency, same workload) merged: the counts add up,
/// the merged histogram holds every call, the window spans both runs; `--baseline` prints
/// each figure's change; a run of another payload size is refused naming the field.
#[test]
fn bench_merge_adds_up_two_runs_and_refuses_one_that_measured_something_else() {
    let run = |concurrency: &str, payload: &str| {
        bench_report(&[
            "--requests",
            "120",
            "--warmup",
            "5",
            "--rounds",
            "2",
            "--concurrency",
            concurrency,
            "--payload-bytes",
            payload,
            "--client",
            "lambda-vpce-lean",
        ])
        .1
    };
    let (a, b, other) = (run("1", "1024"), run("3", "1024"), run("1", "2048"));
    let paths: Vec<_> = ["a", "b", "other", "merged"]
        .iter()
        .map(|n| temp_path(&format!("merge-{n}.json")))
        .collect();
    for (p, r) in paths.iter().zip([&a, &b, &other]) {
        std::fs::write(p, r.to_string()).expect("report written");
        let c = &r["clients"][0];
        assert!(
            c["histogram"]
                .as_str()
                .is_some_and(|h| h.starts_with("HISTFAAA")),
            "{c}"
        );
        assert!(
            c["started_unix_s"].as_f64() < c["ended_unix_s"].as_f64(),
            "{c}"
        );
    }
    let out = Command::new(bin_path())
        .args(["bench", "merge"])
        .args([&paths[0], &paths[1]])
        .arg("--json")
        .arg(&paths[3])
        .arg("--baseline")
        .arg(&paths[0])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("against the baseline"), "{stdout}");
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&paths[3]).expect("merged JSON")).unwrap();
    assert_eq!(merged["runs"], 2);
    assert_eq!(merged["concurrency"], 4);
    let c = &merged["clients"][0];
    assert_eq!(c["requests"], 240);
    let (a0, b0) = (&a["clients"][0], &b["clients"][0]);
    let start = a0["started_unix_s"]
        .as_f64()
        .unwrap()
        .min(b0["started_unix_s"].as_f64().unwrap());
    let end = a0["ended_unix_s"]
        .as_f64()
        .unwrap()
        .max(b0["ended_unix_s"].as_f64().unwrap());
    assert_eq!(c["started_unix_s"].as_f64(), Some(start));
    assert_eq!(c["ended_unix_s"].as_f64(), Some(end));
    let max = a0["max_us"]
        .as_u64()
        .unwrap()
        .max(b0["max_us"].as_u64().unwrap());
    assert_eq!(c["max_us"].as_u64(), Some(max));

    let path = |i: usize| paths[i].to_str().expect("a UTF-8 path");
    assert_refused(&["bench", "merge", path(0), path(2)], "`payload_bytes`");
    for p in &paths {
        let _ = std::fs::remove_file(p);
    }
}

/// A bench run of 40 calls per client (4 warm-up, one round) at `concurrency`, with `flags`.
fn forty_calls(concurrency: &str, flags: &[&str]) -> (String, serde_json::Value) {
    let mut args = vec![
        "--requests",
        "40",
        "--warmup",
        "4",
        "--concurrency",
        concurrency,
        "--rounds",
        "1",
    ];
    args.extend_from_slice(flags);
    bench_report(&args)
}

#[test]
fn bench_names_each_clients_tls_provider_and_the_group_the_endpoint_negotiated() {
    let (stdout, report) = forty_calls(
        "2",
        &[
            "--min-idle",
            "0",
            "--client",
            "lambda-vpce,lambda-vpce-lean,sdk-default,smithy-pool,raw-hyper",
        ],
    );
    let ours = lambda_vpce::tls::TlsProvider::current();
    let hybrid = ours
        .key_exchange_groups
        .iter()
        .any(|g| g == "X25519MLKEM768");
    for c in clients_all_ok(&report, 40) {
        let group = c["tls_group"].as_str().unwrap_or_default();
        match c["client"].as_str() {
            // The SDK's default client: rustls on aws-lc-rs whatever the crate was built with;
            // the embedded endpoint (the crate's provider) picks among the groups it supports.
            Some("sdk-default" | "smithy-pool") => {
                assert_eq!(c["tls_provider"], "aws-lc-rs", "{c}");
                if hybrid {
                    assert_eq!(group, "X25519MLKEM768", "{c}");
                } else {
                    assert!(ours.key_exchange_groups.iter().any(|g| g == group), "{c}");
                }
            }
            _ => {
                assert_eq!(c["tls_provider"], ours.name, "{c}");
                assert_eq!(group, ours.key_exchange_groups[0], "{c}");
            }
        }
    }
    assert!(stdout.contains("key exchange"), "{stdout}");
}

#[test]
fn bench_names_the_protocol_each_client_negotiated() {
    // The embedded endpoint offers h2 and http/1.1, as Lambda does: the crate's clients and
    // the raw-hyper floor speak what --protocol says, sdk-default picks h2 on its own.
    for (flag, crate_version) in [
        ("http1", "HTTP/1.1"),
        ("auto", "HTTP/2"),
        ("http2", "HTTP/2"),
    ] {
        let (stdout, report) = forty_calls(
            "2",
            &[
                "--protocol",
                flag,
                "--client",
                "lambda-vpce,lambda-vpce-lean,sdk-default,raw-hyper",
            ],
        );
        assert_eq!(report["protocol"], flag);
        assert_eq!(report["server"]["http2"], true);
        let clients = clients_all_ok(&report, 40);
        for c in clients {
            let (want, by) = if c["client"] == "sdk-default" {
                ("HTTP/2", "server")
            } else {
                (crate_version, "client")
            };
            assert_eq!(
                (&c["protocol"], &c["protocol_seen_by"]),
                (&want.into(), &by.into()),
                "{flag}: {c}"
            );
        }
        assert!(stdout.contains("protocol"), "{stdout}");
    }
    // The crate's HTTP/2 pools spread over as many connections as asked; the report says so.
    for n in ["1", "2"] {
        let (stdout, report) = forty_calls(
            "4",
            &[
                "--protocol",
                "http2",
                "--h2-connections",
                n,
                "--client",
                "lambda-vpce,lambda-vpce-lean",
            ],
        );
        assert_eq!(report["h2_connections"].to_string(), n, "{report}");
        assert!(
            stdout.contains(&format!("--h2-connections {n}")),
            "{stdout}"
        );
        for c in clients_all_ok(&report, 40) {
            assert_eq!(c["protocol"], "HTTP/2", "{c}");
        }
    }
    // Offering only http/1.1, every client speaks it.
    let (_, report) = bench_report(&[
        "--requests",
        "20",
        "--warmup",
        "2",
        "--rounds",
        "1",
        "--server-http1-only",
        "--client",
        "lambda-vpce,sdk-default",
    ]);
    assert_eq!(report["server"]["http2"], false);
    for c in clients_all_ok(&report, 20) {
        assert_eq!(c["protocol"], "HTTP/1.1", "{c}");
    }
}

#[test]
fn bench_resolve_sends_every_client_to_the_given_addresses_and_names_each_one_used() {
    // 127.0.0.2 refuses (the embedded endpoint listens on 127.0.0.1 only), and comes first.
    let (_, report) = bench_report(&[
        "--requests",
        "100",
        "--warmup",
        "10",
        "--concurrency",
        "4",
        "--resolve",
        "127.0.0.2,127.0.0.1",
        "--client",
        "lambda-vpce,sdk-default,smithy-pool",
    ]);
    assert_eq!(
        report["resolve"],
        serde_json::json!(["127.0.0.2", "127.0.0.1"])
    );
    let clients = clients_all_ok(&report, 100);
    let crate_client = &clients[0];
    assert_eq!(crate_client["client"], "lambda-vpce");
    let addresses = crate_client["addresses"]
        .as_array()
        .unwrap_or_else(|| panic!("addresses in {crate_client}"));
    let of = |ip: &str| {
        addresses
            .iter()
            .find(|a| a["address"].as_str().is_some_and(|s| s.starts_with(ip)))
    };
    let healthy = of("127.0.0.1:").unwrap_or_else(|| panic!("{addresses:?}"));
    assert!(healthy["connects"].as_u64() >= Some(1), "{healthy}");
    if let Some(refusing) = of("127.0.0.2:") {
        assert_eq!(refusing["connects"], 0, "{refusing}");
        assert!(refusing["ejections"].as_u64() >= Some(1), "{refusing}");
    }
    for other in &clients[1..] {
        assert!(other.get("addresses").is_none(), "{other}");
    }
}

#[test]
fn bench_refuses_a_resolve_list_that_is_not_ip_addresses() {
    assert_refused(
        &["bench", "--resolve", "10.0.0.1,lambda.example"],
        "--resolve",
    );
}
