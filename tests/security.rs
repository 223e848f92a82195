//! Security properties: no secret in any log line at TRACE level, TLS verification that
//! cannot be turned off, `http://` only to loopback, and a local endpoint that binds loopback
//! unless told otherwise.
#![cfg(feature = "local")]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_lambda::primitives::Blob;
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::{endpoint::Endpoint, pool::PoolBuilder};
use support::{client, client_with, invoke, Class, ClientOpts, HeaderLog};

const ACCESS_KEY_ID: &str = "AKIDSECURITYTEST0001";
const SECRET_KEY: &str = "s3cr3t+Security/Test+Key+0123456789abcdefXYZ";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjSESSIONTOKENsecurityTEST0123456789+/=";
const PAYLOAD_MARKER: &str = "payload-marker-7f3a9c";

/// Everything every subscriber-visible event and span wrote, at TRACE, from every crate.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buf = buf.clone();
            move || Capture(buf.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(writer)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buf
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn secret_endpoint() -> LocalEndpoint {
    LocalEndpoint::builder()
        .credentials(ACCESS_KEY_ID, SECRET_KEY)
        .start()
        .await
        .expect("starts")
}

/// The secrets that must never be logged: the secret key, the session token, every
/// `Authorization` value sent and its `Signature=` hex.
fn secrets(auths: &[String]) -> Vec<String> {
    let mut s = vec![SECRET_KEY.to_owned(), SESSION_TOKEN.to_owned()];
    for a in auths {
        s.push(a.clone());
        if let Some((_, sig)) = a.split_once("Signature=") {
            s.push(sig.trim().to_owned());
        }
    }
    s
}

fn find_leaks(log: &str, secrets: &[String]) -> Vec<String> {
    secrets
        .iter()
        .filter(|s| !s.is_empty() && log.contains(s.as_str()))
        .map(|s| format!("{}…", &s[..s.len().min(12)]))
        .collect()
}

/// Where the log mentions `needle`: the target that wrote the line and the text around it.
fn mentions(log: &str, needle: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            let at = l.find(needle)?;
            let target = l
                .split("}: ")
                .nth(1)
                .and_then(|t| t.split(':').next())
                .unwrap_or("?");
            let from = l[..at].char_indices().rev().nth(60).map_or(0, |(i, _)| i);
            Some(format!("[{target}] …{}…", &l[from..at]))
        })
        .take(2)
        .collect()
}

async fn run_calls_with_session_token() -> (String, Vec<String>) {
    let buf = captured();
    let ep = secret_endpoint().await;
    let opts = ClientOpts {
        session_token: Some(SESSION_TOKEN.to_owned()),
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let auths = HeaderLog::new("authorization");
    for payload in [format!("{{\"m\":\"{PAYLOAD_MARKER}\"}}"), "{}".to_owned()] {
        let out = c
            .client()
            .invoke()
            .function_name("echo")
            .payload(Blob::new(payload))
            .customize()
            .interceptor(auths.clone())
            .send()
            .await
            .expect("signed call with a session token succeeds");
        assert_eq!(out.status_code(), 200);
    }
    // A failing call too (the error paths log).
    ep.faults()
        .die_after_request(lambda_vpce::local::CloseKind::Reset);
    let o = invoke(&c, "echo", PAYLOAD_MARKER).await;
    assert_eq!(o.class, Class::MaybeExecuted);
    ep.faults().clear();
    c.client()
        .list_functions()
        .customize()
        .interceptor(auths.clone())
        .send()
        .await
        .expect("list");
    drop(c);
    ep.shutdown().await;
    let auths = auths.values();
    assert!(auths.len() >= 3, "the interceptor saw the signed requests");
    let log = String::from_utf8_lossy(&buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    (log, auths)
}

#[tokio::test]
async fn trace_logs_of_the_crate_and_its_stack_never_show_credentials_or_signatures() {
    let (log, auths) = run_calls_with_session_token().await;
    assert!(
        log.contains("lambda_vpce"),
        "the capture saw the crate's own events (TRACE on)"
    );
    let leaks = find_leaks(&log, &secrets(&auths));
    let mut examples = Vec::new();
    for s in secrets(&auths) {
        examples.extend(mentions(&log, &s));
    }
    assert!(
        leaks.is_empty(),
        "secrets in the TRACE log: {leaks:?}\nfor example:\n{}",
        examples.join("\n")
    );
}

#[tokio::test]
async fn the_crates_own_log_lines_never_show_credentials_signatures_or_payloads() {
    let (log, auths) = run_calls_with_session_token().await;
    let ours: String = log
        .lines()
        .filter(|l| l.contains("lambda_vpce"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!ours.is_empty());
    let mut secrets = secrets(&auths);
    secrets.push(PAYLOAD_MARKER.to_owned());
    let leaks = find_leaks(&ours, &secrets);
    assert!(
        leaks.is_empty(),
        "secrets in lambda_vpce's lines: {leaks:?}"
    );
}

#[tokio::test]
async fn debug_output_of_the_client_and_its_config_hides_the_secret() {
    let ep = secret_endpoint().await;
    let opts = ClientOpts {
        session_token: Some(SESSION_TOKEN.to_owned()),
        ..ClientOpts::default()
    };
    let c = client(&ep, &opts);
    let shown = format!("{c:?} {:?} {:?}", c.pool(), c.pool().config());
    assert!(!shown.contains(SECRET_KEY), "secret key in Debug output");
    assert!(
        !shown.contains(SESSION_TOKEN),
        "session token in Debug output"
    );
}

#[tokio::test]
async fn an_unknown_ca_is_always_refused_there_is_no_switch_to_skip_verification() {
    let ep = secret_endpoint().await;
    // Trusting only an unrelated CA: the endpoint's certificate cannot be verified.
    let other = LocalEndpoint::start().await.expect("another CA");
    let pool = PoolBuilder::new()
        .add_ca_pem(other.ca_pem())
        .only_added_roots(true);
    let opts = ClientOpts {
        trust_ca: false,
        max_attempts: 1,
        ..ClientOpts::default()
    };
    let c = client_with(&ep, pool, &opts);
    let o = invoke(&c, "echo", "{}").await;
    assert_eq!(o.class, Class::NotSent, "{}", o.message);
    assert!(o.tls, "{}", o.message);
    assert_eq!(ep.stats().requests, 0);
    assert_eq!(ep.ledger().total(), 0);
}

#[test]
fn plain_http_is_refused_unless_the_host_is_loopback() {
    for url in [
        "http://10.1.2.3",
        "http://10.1.2.3:8080",
        "http://192.168.1.1",
        "http://lambda.us-east-1.amazonaws.com",
        "http://[2001:db8::1]",
        "http://0.0.0.0",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ] {
        let e = Endpoint::from_url(url).expect_err(url);
        assert!(!e.field().is_empty(), "{url}: {e}");
    }
    for url in [
        "http://127.0.0.1:9000",
        "http://127.8.9.10",
        "http://localhost:9000",
        "http://[::1]:9000",
    ] {
        let e = Endpoint::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(e.scheme(), "http");
    }
}

#[tokio::test]
async fn the_local_endpoint_binds_loopback_unless_told_otherwise() {
    let ep = LocalEndpoint::start().await.expect("starts");
    assert!(ep.addr().ip().is_loopback(), "{}", ep.addr());
    assert!(ep.url().starts_with("https://"));
    let refused = LocalEndpoint::builder()
        .plain_http(true)
        .bind(std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
        .start()
        .await;
    assert!(
        refused.is_err(),
        "plain HTTP on a non-loopback address is refused"
    );
}
