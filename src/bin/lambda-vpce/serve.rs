//! `lambda-vpce serve`: the embedded Lambda-compatible endpoint alone, so that other clients
//! (the AWS CLI, other SDKs, wrk) can be measured against the same server as `bench`.
//!
//! It prints the URL, the CA file, the region and the credentials it accepts (fixed test
//! credentials, not secrets) as `export` lines, then serves until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use lambda_vpce::local::LocalEndpoint;

use crate::bench::ServerKnobs;
use crate::common::CmdResult;

/// Where the CA certificate is written when --ca-out is not given (in the temp directory).
pub(crate) const DEFAULT_CA_FILE: &str = "lambda-vpce-serve-ca.pem";

/// Flags of `lambda-vpce serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Port on 127.0.0.1 (0: an ephemeral port, printed).
    #[arg(long, value_name = "P", default_value_t = 0)]
    port: u16,
    /// Close idle keep-alive connections after MS milliseconds.
    #[arg(long, value_name = "MS")]
    server_idle_close: Option<u64>,
    /// Close each connection after N requests.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    server_max_requests: Option<u32>,
    /// Delay every invoke response by MS milliseconds.
    #[arg(long, value_name = "MS")]
    server_latency: Option<u64>,
    /// Accept unsigned requests (for wrk, curl): signatures are not checked.
    #[arg(long)]
    no_verify_signatures: bool,
    /// Serve plain HTTP instead of HTTPS (loopback only; no CA is written).
    #[arg(long)]
    plain_http: bool,
    /// Also offer HTTP/2: ALPN `h2` before `http/1.1`; a client that picks `h2` is served over
    /// HTTP/2, any other over HTTP/1.1. HTTPS only; --server-idle-close and
    /// --server-max-requests are HTTP/1-only and refused with it.
    #[arg(long, conflicts_with_all = ["plain_http", "server_idle_close", "server_max_requests"])]
    http2: bool,
    /// Write the CA certificate (PEM) here. Default: `lambda-vpce-serve-ca.pem` in the
    /// temp directory.
    #[arg(long, value_name = "PATH")]
    ca_out: Option<PathBuf>,
}

pub(crate) async fn run(a: ServeArgs) -> CmdResult {
    let knobs = ServerKnobs {
        idle_close_ms: a.server_idle_close,
        max_requests: a.server_max_requests,
        latency_ms: a.server_latency,
    };
    let endpoint = LocalEndpoint::builder()
        .port(a.port)
        .verify_signatures(!a.no_verify_signatures)
        .plain_http(a.plain_http)
        .http2(a.http2)
        .faults(knobs.fault_config())
        .start()
        .await
        .map_err(|e| format!("cannot start the endpoint on port {}: {e}", a.port))?;
    let ca_path = a
        .ca_out
        .unwrap_or_else(|| std::env::temp_dir().join(DEFAULT_CA_FILE));
    if !a.plain_http {
        endpoint
            .write_ca_pem(&ca_path)
            .map_err(|e| format!("cannot write the CA to {}: {e}", ca_path.display()))?;
    }
    println!("url: {}", endpoint.url());
    if !a.plain_http {
        println!("ca: {}", ca_path.display());
    }
    println!(
        "protocols: {}",
        if a.http2 { "h2, http/1.1" } else { "http/1.1" }
    );
    println!("region: {}", endpoint.region());
    println!(
        "signatures: {}",
        if a.no_verify_signatures {
            "not checked"
        } else {
            "checked"
        }
    );
    println!("functions: echo, fail, sleep");
    println!("export AWS_ENDPOINT_URL_LAMBDA={}", endpoint.url());
    if !a.plain_http {
        println!("export AWS_CA_BUNDLE={}", ca_path.display());
    }
    println!("export AWS_REGION={}", endpoint.region());
    // Fixed test credentials of the local endpoint (DEFAULT_ACCESS_KEY_ID/SECRET), printed on
    // purpose so that other clients can sign for it; they grant nothing anywhere else.
    println!("export AWS_ACCESS_KEY_ID={}", endpoint.access_key_id());
    println!(
        "export AWS_SECRET_ACCESS_KEY={}",
        endpoint.secret_access_key()
    );
    println!("serving until Ctrl-C");
    // Let a reader that stops at the lines above see them now.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    let stats = endpoint.stats();
    eprintln!(
        "stopping: {} connections, {} requests, {} executions",
        stats.connections_accepted, stats.requests, stats.executions
    );
    endpoint.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
