//! `lambda-vpce doctor` against the embedded endpoint: the table, the JSON schema, and
//! failures that exit 1.

use std::process::{Output, Stdio};

use serde_json::Value;

#[path = "../../../tests/support/mod.rs"]
mod support;

use support::cli;

use cli::CliFixture as Fixture;
use lambda_vpce::local::LocalEndpoint;

impl Fixture {
    async fn doctor(&self, url: &str, trust_ca: bool, args: &[&str]) -> Output {
        let mut cmd = self.command(true);
        cmd.args([
            "doctor",
            "--endpoint-url",
            url,
            "--region",
            self.endpoint.region(),
        ])
        .args(args)
        .stdin(Stdio::null());
        if trust_ca {
            cmd.arg("--ca-cert").arg(self.dir.join("ca.pem"));
        }
        tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"))
            .await
            .expect("runner")
    }
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["check"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {report:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_local_endpoint_is_loopback_verified_and_reuses_its_connection() {
    let f = Fixture::start("cli-doctor").await;
    let out = f.doctor(&f.endpoint.url(), true, &["--json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["schema"], 1);
    assert_eq!(report["endpoint"]["connect_host"], "localhost");
    let dns = check(&report, "dns");
    assert_eq!(dns["data"]["reach"], "local");
    assert!(dns["data"]["addresses"]
        .as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x["class"] == "loopback")));
    assert_eq!(check(&report, "tls")["status"], "ok");
    let cert = &check(&report, "certificate")["data"];
    assert_eq!(cert["covers_sni"], true);
    assert_eq!(cert["dns_names"], serde_json::json!(["localhost"]));
    let reuse = check(&report, "reuse");
    assert_eq!(reuse["status"], "ok");
    assert!(
        reuse["data"]["reused"].as_u64().is_some_and(|n| n >= 1),
        "{reuse}"
    );
    assert_eq!(reuse["data"]["operation"], "ListFunctions");
    assert_eq!(report["summary"]["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_the_crypto_provider_its_fips_mode_and_the_negotiated_group() {
    let f = Fixture::start("cli-doctor").await;
    let out = f.doctor(&f.endpoint.url(), true, &["--json"]).await;
    let report = json_of(&out);
    let tls = &check(&report, "tls")["data"];
    let provider = lambda_vpce::tls::TlsProvider::current();
    assert_eq!(tls["provider"], provider.name, "{tls}");
    assert_eq!(tls["fips"], provider.fips, "{tls}");
    assert_eq!(
        tls["offered_groups"],
        serde_json::json!(provider.key_exchange_groups)
    );
    // The group the endpoint itself recorded for the doctor's handshake.
    let seen = f.endpoint.tls_handshakes();
    let first = seen.first().expect("the endpoint saw the handshake");
    assert_eq!(
        tls["key_exchange_group"].as_str(),
        first.key_exchange_group.as_deref(),
        "{tls}"
    );
    assert_eq!(tls["cipher_suite"].as_str(), first.cipher_suite.as_deref());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_has_one_row_per_check_and_a_summary() {
    let f = Fixture::start("cli-doctor").await;
    let out = f
        .doctor(&f.endpoint.url(), true, &["--function", "echo"])
        .await;
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    for row in [
        "endpoint",
        "dns ",
        "tcp ",
        "tls ",
        "certificate",
        "calls",
        "reuse",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(row)),
            "no {row} row:\n{table}"
        );
    }
    assert!(table.contains("Invoke (DryRun)"), "{table}");
    assert!(table.contains("summary: ok"), "{table}");
    assert_eq!(f.endpoint.ledger().total(), 0, "DryRun runs no function");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_tls_but_its_names_are_still_reported() {
    let f = Fixture::start("cli-doctor").await;
    let out = f.doctor(&f.endpoint.url(), false, &["--json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    let tls = check(&report, "tls");
    assert_eq!(tls["status"], "fail");
    assert!(tls["message"]
        .as_str()
        .is_some_and(|m| m.contains("--ca-cert")));
    assert_eq!(check(&report, "certificate")["data"]["covers_sni"], true);
    assert_eq!(report["summary"]["status"], "fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_fails_tcp_and_the_calls_as_not_sent() {
    let f = Fixture::start("cli-doctor").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let out = f
        .doctor(&format!("https://127.0.0.1:{port}"), true, &["--json"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    assert_eq!(check(&report, "tcp")["status"], "fail");
    assert_eq!(check(&report, "tls")["status"], "skip");
    assert_eq!(check(&report, "calls")["data"]["error_class"], "not_sent");
    assert_eq!(check(&report, "reuse")["status"], "skip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_function_fails_the_calls_check_with_its_service_error() {
    let f = Fixture::start("cli-doctor").await;
    let out = f
        .doctor(&f.endpoint.url(), true, &["--json", "--function", "nosuch"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    let calls = check(&report, "calls");
    assert_eq!(calls["status"], "fail");
    assert_eq!(calls["data"]["error_code"], "ResourceNotFoundException");
    assert_eq!(check(&report, "reuse")["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http2_doctor_reports_the_protocol_and_the_servers_stream_limit() {
    let f = Fixture::start_with("cli-doctor-h2", LocalEndpoint::builder().http2(true)).await;
    let out = f.doctor(&f.endpoint.url(), true, &["--json"]).await;
    let report = json_of(&out);
    let http = check(&report, "http");
    assert_eq!(http["status"], "info", "{http}");
    assert_eq!(http["data"]["alpn"], "h2");
    assert_eq!(http["data"]["version"], "HTTP/2");
    assert!(
        http["data"]["max_concurrent_streams"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "the embedded endpoint announces a stream limit: {http}"
    );
    assert!(http["data"]["error"].is_null(), "{http}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http1_doctor_reports_the_protocol_and_no_stream_limit() {
    let f = Fixture::start_with("cli-doctor-h1", LocalEndpoint::builder().http2(false)).await;
    let out = f.doctor(&f.endpoint.url(), true, &["--json"]).await;
    let report = json_of(&out);
    let http = check(&report, "http");
    assert_eq!(http["data"]["alpn"], "http/1.1", "{http}");
    assert_eq!(http["data"]["version"], "HTTP/1.1");
    assert!(http["data"]["max_concurrent_streams"].is_null(), "{http}");
}

/// `doctor` says which source each AWS setting came from: here the endpoint URL from the
/// `services` section, FIPS from the profile turned off by `--fips=false`, the CA bundle from
/// `AWS_CA_BUNDLE`, the region from `--region`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_check_names_the_source_of_every_setting() {
    let f = Fixture::start("cli-doctor-config").await;
    let config = f.dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[default]\nuse_fips_endpoint = true\nservices = local\n[services local]\nlambda =\n  endpoint_url = {}\n",
            f.endpoint.url()
        ),
    )
    .unwrap();
    let mut cmd = f.command(true);
    cmd.env("AWS_CONFIG_FILE", &config)
        .env("AWS_CA_BUNDLE", f.dir.join("ca.pem"))
        .args([
            "doctor",
            "--json",
            "--fips=false",
            "--region",
            f.endpoint.region(),
        ])
        .stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"))
        .await
        .expect("runner");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let data = &check(&report, "configuration")["data"];
    assert_eq!(data["endpoint_url"]["value"], f.endpoint.url());
    assert_eq!(data["endpoint_url"]["source"], "services_section");
    assert_eq!(data["use_fips"]["value"], false);
    assert_eq!(data["use_fips"]["source"], "builder");
    assert_eq!(data["use_dual_stack"]["source"], "default");
    assert_eq!(data["ca_bundle"]["source"], "environment");
    assert_eq!(data["region"]["source"], "builder");
    assert_eq!(check(&report, "tls")["status"], "ok");
}
