//! `lambda-vpce serve`: the embedded Lambda-compatible endpoint alone, so that other clients
//! (the AWS CLI, other SDKs, wrk) can be measured against the same server as `bench`.
//!
//! It prints the URL, the CA file, the region and the credentials it accepts (fixed test
//! credentials, not secrets) as `export` lines, then serves until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use std::time::Duration;

use lambda_vpce::local::{
    AbruptGoaway, LocalEndpoint, RefuseStreams, H2_INTERNAL_ERROR, LONG_RUN_CALL_LEDGER_LIMIT,
};

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
    /// Kept for compatibility: HTTP/2 is now offered by default. As before, refused with
    /// --plain-http, --server-idle-close and --server-max-requests.
    #[arg(long, conflicts_with_all = ["plain_http", "server_idle_close", "server_max_requests", "http1_only"])]
    http2: bool,
    /// Serve HTTP/1.1 only: ALPN offers `http/1.1` alone (and plain HTTP does not serve h2c).
    #[arg(long)]
    http1_only: bool,
    /// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (default 128, as Lambda).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    h2_max_concurrent_streams: Option<u32>,
    /// HTTP/2: graceful GOAWAY once a connection accepted N streams.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    h2_goaway_after_streams: Option<u32>,
    /// HTTP/2, like nginx's keepalive_requests: serve N streams per connection, refuse later
    /// ones (REFUSED_STREAM), then one GOAWAY(last stream received, NO_ERROR) and close.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    h2_close_after_streams: Option<u32>,
    /// HTTP/2: graceful GOAWAY once a connection had no open stream for MS milliseconds.
    #[arg(long, value_name = "MS")]
    h2_goaway_on_idle: Option<u64>,
    /// HTTP/2: abrupt GOAWAY(INTERNAL_ERROR), then close, once a connection accepted N streams.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    h2_abrupt_goaway_after: Option<u32>,
    /// HTTP/2: reset every K-th stream of each connection with REFUSED_STREAM.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "h2_refuse_first")]
    h2_refuse_every: Option<u32>,
    /// HTTP/2: reset the first N streams of each connection with REFUSED_STREAM.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    h2_refuse_first: Option<u32>,
    /// HTTP/2: send each response's headers and part of its body, then RST_STREAM(INTERNAL_ERROR).
    #[arg(long)]
    h2_reset_mid_response: bool,
    /// Restart gracefully every MS milliseconds: GOAWAY on every HTTP/2 connection,
    /// `Connection: close` on every HTTP/1.1 one (`LocalEndpoint::drain_connections`).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    drain_every: Option<u64>,
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
    let mut faults = knobs.fault_config();
    faults.h2_goaway_after_streams = a.h2_goaway_after_streams;
    faults.h2_close_after_streams = a.h2_close_after_streams;
    faults.h2_goaway_on_idle = a.h2_goaway_on_idle.map(Duration::from_millis);
    faults.h2_abrupt_goaway = a
        .h2_abrupt_goaway_after
        .map(|n| AbruptGoaway::new(n, H2_INTERNAL_ERROR));
    faults.h2_refuse = match (a.h2_refuse_every, a.h2_refuse_first) {
        (Some(k), _) => Some(RefuseStreams::EveryNth(k)),
        (None, Some(n)) => Some(RefuseStreams::FirstPerConnection(n)),
        (None, None) => None,
    };
    faults.h2_reset_mid_response = a.h2_reset_mid_response;
    let http2 = !a.http1_only;
    let mut builder = LocalEndpoint::builder()
        .port(a.port)
        .verify_signatures(!a.no_verify_signatures)
        .plain_http(a.plain_http)
        .http2(http2)
        .call_ledger_limit(LONG_RUN_CALL_LEDGER_LIMIT)
        .faults(faults);
    if let Some(n) = a.h2_max_concurrent_streams {
        builder = builder.h2_max_concurrent_streams(n);
    }
    let endpoint = builder
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
        match (http2, a.plain_http) {
            (true, false) => "h2, http/1.1",
            (true, true) => "h2c (prior knowledge), http/1.1",
            (false, _) => "http/1.1",
        }
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
    if let Some(ms) = a.drain_every {
        let mut tick = tokio::time::interval(Duration::from_millis(ms));
        tick.tick().await;
        let drains = async {
            loop {
                tick.tick().await;
                endpoint.drain_connections();
            }
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?,
            () = drains => {}
        }
        return finish(endpoint).await;
    }
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    finish(endpoint).await
}

async fn finish(endpoint: LocalEndpoint) -> CmdResult {
    let stats = endpoint.stats();
    eprintln!(
        "stopping: {} connections, {} requests, {} executions",
        stats.connections_accepted, stats.requests, stats.executions
    );
    endpoint.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
