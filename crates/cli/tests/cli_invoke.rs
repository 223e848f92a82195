//! `lambda-vpce invoke` against the embedded endpoint: output streams and exit codes.

use std::process::{Command, Output, Stdio};

use lambda_vpce::local::CloseKind;

#[path = "../../../tests/support/mod.rs"]
mod support;

use support::cli;

use cli::CliFixture as Fixture;

impl Fixture {
    /// Runs `invoke ARGS` against `url` (the endpoint's by default), with `stdin` piped in.
    async fn invoke_at(&self, url: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.command(true);
        cmd.arg("invoke")
            .args(args)
            .args(["--endpoint-url", url, "--region", self.endpoint.region()])
            .arg("--ca-cert")
            .arg(self.dir.join("ca.pem"));
        run(cmd, stdin).await
    }

    async fn invoke(&self, args: &[&str]) -> Output {
        self.invoke_at(&self.endpoint.url(), args, None).await
    }
}

async fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("binary runs");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write as _;
            pipe.write_all(input.as_bytes()).expect("stdin written");
        }
        child.wait_with_output().expect("binary finishes")
    })
    .await
    .expect("runner")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payload_goes_to_stdout_byte_for_byte_and_metadata_to_stderr() {
    let f = Fixture::start("cli-invoke").await;
    let out = f
        .invoke(&["--function", "echo", "--payload", r#"{"a": [1, 2]}"#])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, br#"{"a": [1, 2]}"#);
    let err = stderr(&out);
    assert!(err.contains("status: 200"), "{err}");
    assert!(err.contains("executed version: $LATEST"), "{err}");
    assert!(err.contains("request id: "), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_error_exits_1_with_its_error_payload_and_the_decoded_log_tail() {
    let f = Fixture::start("cli-invoke").await;
    let out = f
        .invoke(&[
            "--function",
            "fail",
            "--payload",
            "{}",
            "--log-type",
            "Tail",
        ])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let payload: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON error");
    assert_eq!(payload["errorType"], "Exception");
    let err = stderr(&out);
    assert!(err.contains("function error: Unhandled"), "{err}");
    assert!(
        err.contains("log tail:") && err.contains("START RequestId: "),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qualifier_client_context_and_event_type_reach_the_function() {
    let f = Fixture::start("cli-invoke").await;
    let out = f
        .invoke(&[
            "--function",
            "echo",
            "--qualifier",
            "7",
            "--payload",
            "{}",
            "--log-type",
            "Tail",
            "--client-context",
            r#"{"custom":{"k":"v"}}"#,
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("executed version: 7"), "{err}");
    assert!(
        err.contains(r#"ClientContext: {"custom":{"k":"v"}}"#),
        "{err}"
    );

    let event = f
        .invoke(&[
            "--function",
            "echo",
            "--payload",
            "{}",
            "--invocation-type",
            "Event",
        ])
        .await;
    assert_eq!(event.status.code(), Some(0), "{}", stderr(&event));
    assert!(event.stdout.is_empty());
    assert!(stderr(&event).contains("status: 202"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payload_is_read_from_a_file_or_stdin() {
    let f = Fixture::start("cli-invoke").await;
    let file = f.dir.join("payload.json");
    std::fs::write(&file, br#"{"from":"file"}"#).expect("payload file");
    let at = format!("@{}", file.display());
    let out = f.invoke(&["--function", "echo", "--payload", &at]).await;
    assert_eq!(out.stdout, br#"{"from":"file"}"#, "{}", stderr(&out));

    let url = f.endpoint.url();
    let out = f
        .invoke_at(
            &url,
            &["--function", "echo", "--payload", "-"],
            Some(r#"{"from":"stdin"}"#),
        )
        .await;
    assert_eq!(out.stdout, br#"{"from":"stdin"}"#, "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_inputs_exit_2_and_nothing_reaches_the_endpoint() {
    let f = Fixture::start("cli-invoke").await;
    for (args, field) in [
        (
            vec!["--function", "bad name", "--payload", "{}"],
            "function_name",
        ),
        (
            vec!["--function", "echo", "--qualifier", "no/slash"],
            "qualifier",
        ),
        (
            vec!["--function", "echo", "--payload", "{not json"],
            "payload",
        ),
        (
            vec!["--function", "echo", "--payload", "@/nonexistent/file"],
            "payload",
        ),
        (
            vec!["--function", "echo", "--client-context", "[1]"],
            "client_context",
        ),
    ] {
        let out = f.invoke(&args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("invalid {field}")),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(f.endpoint.ledger().total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_exit_2_as_a_configuration_error() {
    let f = Fixture::start("cli-invoke").await;
    let mut cmd = f.command(false);
    cmd.args(["invoke", "--function", "echo", "--endpoint-url"])
        .arg(f.endpoint.url())
        .args(["--region", f.endpoint.region(), "--ca-cert"])
        .arg(f.dir.join("ca.pem"));
    let out = run(cmd, None).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no usable AWS credentials"));
    assert_eq!(f.endpoint.ledger().total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_function_exits_5_as_a_service_error() {
    let f = Fixture::start("cli-invoke").await;
    let out = f.invoke(&["--function", "nosuch", "--payload", "{}"]).await;
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("ResourceNotFoundException"), "{err}");
    assert!(err.contains("class: service"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_exits_3_as_not_sent() {
    let f = Fixture::start("cli-invoke").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let url = format!("https://127.0.0.1:{port}");
    let out = f
        .invoke_at(&url, &["--function", "echo", "--payload", "{}"], None)
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("class: not sent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_after_the_request_exits_4_as_maybe_executed() {
    let f = Fixture::start("cli-invoke").await;
    f.endpoint.faults().die_after_request(CloseKind::Reset);
    let out = f.invoke(&["--function", "echo", "--payload", "{}"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("class: may have executed"));
    assert_eq!(f.endpoint.ledger().total(), 1, "ran once, never resent");
}

/// The new user's path: start `serve`, paste its `export` lines (endpoint URL, `AWS_CA_BUNDLE`,
/// region, credentials) and run `invoke` with no endpoint or CA flag: it trusts the CA the
/// variable names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_works_after_pasting_serves_export_lines() {
    use std::io::BufRead as _;
    let f = Fixture::start("serve-exports").await;
    let mut serve = f.command(false);
    serve
        .args(["serve", "--port", "0", "--ca-out"])
        .arg(f.dir.join("serve-ca.pem"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = serve.spawn().expect("serve runs");
    let stdout = child.stdout.take().expect("piped");
    let exports = tokio::task::spawn_blocking(move || {
        let mut exports = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.expect("serve's stdout");
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                exports.push((k.to_owned(), v.to_owned()));
            }
            if line.starts_with("serving until") {
                break;
            }
        }
        exports
    })
    .await
    .expect("reader");
    assert!(
        exports.iter().any(|(k, _)| k == "AWS_CA_BUNDLE"),
        "{exports:?}"
    );

    let mut invoke = f.command(false);
    invoke
        .envs(exports.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args([
            "invoke",
            "--function",
            "echo",
            "--payload",
            r#"{"pasted":true}"#,
        ]);
    let out = run(invoke, None).await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, br#"{"pasted":true}"#, "piped: no newline added");
}

/// A bundle named by `AWS_CA_BUNDLE` that does not exist stops the command before anything
/// is sent, naming the variable and the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_aws_ca_bundle_exits_2_naming_the_file() {
    let f = Fixture::start("missing-bundle").await;
    let mut cmd = f.command(true);
    cmd.env("AWS_CA_BUNDLE", f.dir.join("no-such.pem"))
        .args(["invoke", "--function", "echo", "--payload", "{}"])
        .args([
            "--endpoint-url",
            &f.endpoint.url(),
            "--region",
            f.endpoint.region(),
        ]);
    let out = run(cmd, None).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("AWS_CA_BUNDLE") && err.contains("no-such.pem"),
        "{err}"
    );
    assert_eq!(f.endpoint.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_and_durable_execution_name_flags_are_sent_and_bad_ones_exit_2_unsent() {
    let f = Fixture::start("cli-invoke").await;
    let out = f
        .invoke(&[
            "--function",
            "echo",
            "--payload",
            "{}",
            "--tenant-id",
            "blue",
            "--durable-execution-name",
            "order-1",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ledger = f.endpoint.ledger().snapshot();
    let id = ledger.keys().next().expect("one execution");
    assert_eq!(f.endpoint.ledger().tenants(id), ["blue"]);
    for bad in [
        ["--tenant-id", "semi;colon"],
        ["--durable-execution-name", "has space"],
    ] {
        let out = f
            .invoke(&["--function", "echo", "--payload", "{}", bad[0], bad[1]])
            .await;
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    assert_eq!(f.endpoint.ledger().total(), 1, "nothing more was sent");
}

/// The profile alone — its `endpoint_url` and `ca_bundle`, no endpoint or CA flag — is enough,
/// as it is for aws-sdk-lambda: the CLI goes where the profile says and trusts what it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profiles_endpoint_url_and_ca_bundle_are_honoured_without_flags() {
    let f = Fixture::start("profile-config").await;
    let config = f.dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = {}\nendpoint_url = {}\nca_bundle = {}\n",
            f.endpoint.region(),
            f.endpoint.url(),
            f.dir.join("ca.pem").display()
        ),
    )
    .unwrap();
    let mut cmd = f.command(true);
    cmd.env("AWS_CONFIG_FILE", &config).args([
        "invoke",
        "--function",
        "echo",
        "--payload",
        r#"{"from":"profile"}"#,
    ]);
    let out = run(cmd, None).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, br#"{"from":"profile"}"#);
}

/// FIPS turned on in the environment with an endpoint URL is refused before anything is sent
/// (exit 2, naming the setting), as aws-sdk-lambda refuses it — not reported as "may have
/// executed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fips_from_the_environment_with_an_endpoint_url_exits_2_unsent() {
    let f = Fixture::start("fips-url").await;
    let mut cmd = f.command(true);
    cmd.env("AWS_USE_FIPS_ENDPOINT", "true");
    cmd.args(["invoke", "--function", "echo", "--payload", "{}"])
        .args([
            "--endpoint-url",
            &f.endpoint.url(),
            "--region",
            f.endpoint.region(),
        ])
        .arg("--ca-cert")
        .arg(f.dir.join("ca.pem"));
    let out = run(cmd, None).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("use_fips"), "{}", stderr(&out));
    assert_eq!(f.endpoint.stats().requests, 0);
    // `--fips=false` overrides the environment, and the call goes through.
    let mut cmd = f.command(true);
    cmd.env("AWS_USE_FIPS_ENDPOINT", "true");
    cmd.args([
        "invoke",
        "--function",
        "echo",
        "--payload",
        "{}",
        "--fips=false",
    ])
    .args([
        "--endpoint-url",
        &f.endpoint.url(),
        "--region",
        f.endpoint.region(),
    ])
    .arg("--ca-cert")
    .arg(f.dir.join("ca.pem"));
    let out = run(cmd, None).await;
    assert!(out.status.success(), "{}", stderr(&out));
}
