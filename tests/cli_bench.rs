//! The `bench` and `serve` commands of the `lambda-vpce` binary, run as a user would.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_lambda-vpce");

/// Every field of a client's entry in the JSON report (schema version 1).
const CLIENT_FIELDS: [&str; 13] = [
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
];

/// Starts `lambda-vpce serve ARGS --ca-out CA` and returns it with the lines it printed before
/// `serving` (blocking reads of a few lines the child prints at once).
fn spawn_serve(args: &[&str], ca: &std::path::Path) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(BIN)
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

#[test]
fn bench_writes_a_json_report_with_every_schema_field_and_all_calls_ok() {
    let json = temp_path("report.json");
    let out = Command::new(BIN)
        .args([
            "bench",
            "--requests",
            "200",
            "--warmup",
            "10",
            "--concurrency",
            "4",
            "--client",
            "lambda-vpce,sdk-default",
            "--json",
        ])
        .arg(&json)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).expect("the JSON report was written");
    let _ = std::fs::remove_file(&json);
    let report: serde_json::Value = serde_json::from_str(&text).expect("the report is JSON");
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
    let clients = report["clients"].as_array().expect("clients is an array");
    let names: Vec<&str> = clients
        .iter()
        .filter_map(|c| c["client"].as_str())
        .collect();
    assert_eq!(names, ["lambda-vpce", "sdk-default"]);
    for c in clients {
        for field in CLIENT_FIELDS {
            assert!(c.get(field).is_some(), "{} lacks {field}: {c}", c["client"]);
        }
        assert_eq!(c["requests"], 200, "{c}");
        assert_eq!(c["ok"], 200, "{c}");
        assert_eq!(c["errors"], 0, "{c}");
        assert!(c["p50_us"].as_u64().unwrap_or(0) > 0, "{c}");
        assert!(c["connections_opened"].is_u64(), "{c}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("lambda-vpce") && stdout.contains("p99"),
        "{stdout}"
    );
}

#[test]
fn bench_refuses_server_knobs_for_an_external_endpoint() {
    let out = Command::new(BIN)
        .args([
            "bench",
            "--endpoint-url",
            "https://127.0.0.1:9",
            "--server-idle-close",
            "1000",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server-"));
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
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(cert.ok()?).ok()?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(authority).await.ok()?;
    let name = rustls::pki_types::ServerName::try_from("localhost").ok()?;
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
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
        let out = Command::new(BIN)
            .args(["serve", "--http2"])
            .args(knob)
            .output()
            .expect("the binary runs");
        assert_eq!(out.status.code(), Some(2), "{knob:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
            "{knob:?}"
        );
    }
}
