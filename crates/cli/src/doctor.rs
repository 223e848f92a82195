//! `lambda-vpce doctor`: checks an endpoint the way the Lambda guide's warnings suggest, with
//! the library's [`lambda_vpce::doctor`] checks. A human table by default, `--json` for
//! machines (schema in `report.rs` and `--help`).

mod calls;
mod report;

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use lambda_vpce::doctor::{self as checks, Reach, Severity};
use lambda_vpce::validate;
use serde_json::json;

use crate::common::{lambda_builder, trusted_pem, CmdResult, EndpointArgs};
use report::{Check, Report, Status};

/// Default `--timeout`: how long each of DNS, TCP and TLS may take, in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 5;
/// Exit code when any check failed.
const EXIT_CHECK_FAILED: u8 = 1;

/// Flags of `lambda-vpce doctor`.
#[derive(Debug, Args)]
#[command(after_help = report::HELP)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// Check with `Invoke` (InvocationType DryRun: permissions only, the function does not
    /// run) of this function instead of `ListFunctions`.
    #[arg(long, value_name = "NAME|ARN")]
    function: Option<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Limit for each of DNS, TCP connect and TLS handshake, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    timeout: u64,
}

pub(crate) async fn run(args: DoctorArgs) -> CmdResult {
    if let Some(f) = &args.function {
        validate::function_name(f)?;
    }
    // One SDK attempt per call, so that the pool statistics count exactly two requests.
    let lambda = lambda_builder(&args.endpoint, lambda_vpce::pool::PoolBuilder::new())
        .await?
        .max_attempts(1)
        .build()
        .await?;
    let ca_pem = trusted_pem(&args.endpoint, &lambda)?;
    let endpoint = lambda.endpoint().clone();
    let timeout = Duration::from_secs(args.timeout.max(1));
    let mut report = Report::new(&endpoint);

    report.push(configuration_check(lambda.settings()));
    report.push(endpoint_check(&endpoint));
    let probe = checks::probe(&endpoint, ca_pem.as_deref(), timeout).await?;
    report.push(dns_check(&probe));
    if let Some(c) = tcp_check(&probe) {
        report.push(c);
    }
    if endpoint.scheme() == "https" {
        report.push(tls_check(&probe));
        if let Some(check) = http_check(&probe) {
            report.push(check);
        }
        report.push(certificate_check(&probe));
    }
    for c in calls::reuse_checks(&lambda, args.function.as_deref()).await {
        report.push(c);
    }
    for note in checks::zone_notes(&endpoint) {
        let status = match note.severity {
            Severity::Warning => Status::Warn,
            _ => Status::Info,
        };
        report.push(Check::new("zone", status, note.message, json!({})));
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(if report.failed() > 0 {
        ExitCode::from(EXIT_CHECK_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Which AWS settings the client was built with and where each came from.
fn configuration_check(s: &lambda_vpce::Settings) -> Check {
    let url = s.endpoint_url();
    let bundle = s.ca_bundle();
    let bundle_source = bundle.map(|b| match b.source() {
        lambda_vpce::CaBundleSource::Env => "environment",
        _ => "profile",
    });
    let region = s.region();
    let message =
        format!(
        "region {} ({}), endpoint URL {} ({}), FIPS {} ({}), dual-stack {} ({}), CA bundle {} ({})",
        region.map_or("none", |r| r.value().as_str()),
        region.map_or("unset", |r| r.source().as_str()),
        url.map_or("none", |u| u.value().as_str()),
        url.map_or("unset", |u| u.source().as_str()),
        if *s.use_fips().value() { "on" } else { "off" },
        s.use_fips().source(),
        if *s.use_dual_stack().value() { "on" } else { "off" },
        s.use_dual_stack().source(),
        bundle.map_or("none".to_owned(), |b| b.path().display().to_string()),
        bundle_source.unwrap_or("unset"),
    );
    let data = json!({
        "region": region.map(|r| json!({"value": r.value(), "source": r.source().as_str()})),
        "endpoint_url": url.map(|u| json!({"value": u.value(), "source": u.source().as_str()})),
        "use_fips": {"value": s.use_fips().value(), "source": s.use_fips().source().as_str()},
        "use_dual_stack": {"value": s.use_dual_stack().value(), "source": s.use_dual_stack().source().as_str()},
        "ca_bundle": bundle.map(|b| json!({"path": b.path().display().to_string(), "source": bundle_source, "certificates": b.certificates()})),
    });
    Check::new("configuration", Status::Info, message, data)
}

fn endpoint_check(e: &lambda_vpce::endpoint::Endpoint) -> Check {
    let mut message = format!(
        "{:?}: connect {}:{}, TLS name {}, signs {}",
        e.kind(),
        e.connect_host(),
        e.port(),
        e.sni(),
        e.signing_host()
    );
    if let Some(fallback) = e.fallback_connect_host() {
        message.push_str(&format!(", falls back to {fallback}"));
    }
    Check::new("endpoint", Status::Info, message, json!({}))
}

fn dns_check(probe: &checks::Probe) -> Check {
    let ms = report::millis(probe.resolve_time);
    match &probe.resolved {
        Err(e) => Check::new(
            "dns",
            Status::Fail,
            format!("{} did not resolve: {e}", probe.host),
            json!({"host": probe.host, "addresses": [], "reach": Reach::Unresolved.as_str(), "elapsed_ms": ms}),
        ),
        Ok(ips) => {
            let reach = checks::reach(ips.iter().copied());
            let status = match reach {
                Reach::InVpc => Status::Ok,
                Reach::Local => Status::Info,
                Reach::LeavesVpc => Status::Warn,
                _ => Status::Fail,
            };
            let listed: Vec<String> = ips
                .iter()
                .map(|ip| format!("{ip} ({})", checks::classify_ip(*ip)))
                .collect();
            let addresses: Vec<_> = ips
                .iter()
                .map(|ip| json!({"ip": ip.to_string(), "class": checks::classify_ip(*ip).as_str()}))
                .collect();
            Check::new(
                "dns",
                status,
                format!(
                    "{} -> {} in {ms:.1} ms: {}",
                    probe.host,
                    listed.join(", "),
                    reach.advice()
                ),
                json!({"host": probe.host, "addresses": addresses, "reach": reach.as_str(), "elapsed_ms": ms}),
            )
        }
    }
}

fn tcp_check(probe: &checks::Probe) -> Option<Check> {
    if probe.tcp.is_empty() {
        return None;
    }
    let ok = probe.tcp.iter().filter(|t| t.result.is_ok()).count();
    let status = match ok {
        0 => Status::Fail,
        n if n < probe.tcp.len() => Status::Warn,
        _ => Status::Ok,
    };
    let parts: Vec<String> = probe
        .tcp
        .iter()
        .map(|t| match &t.result {
            Ok(d) => format!("{} in {:.1} ms", t.address, report::millis(*d)),
            Err(e) => format!("{} failed: {e}", t.address),
        })
        .collect();
    let attempts: Vec<_> = probe
        .tcp
        .iter()
        .map(|t| match &t.result {
            Ok(d) => json!({"address": t.address.to_string(), "elapsed_ms": report::millis(*d), "error": null}),
            Err(e) => json!({"address": t.address.to_string(), "elapsed_ms": null, "error": e}),
        })
        .collect();
    let mut message = parts.join("; ");
    if status == Status::Warn
        && probe
            .tcp
            .iter()
            .any(|t| t.address.is_ipv6() && t.result.is_err())
    {
        message.push_str(" (an IPv6 address refused while IPv4 worked: the endpoint may not listen on IPv6; the pool tries the next address)");
    }
    Some(Check::new(
        "tcp",
        status,
        message,
        json!({"attempts": attempts}),
    ))
}

fn tls_check(probe: &checks::Probe) -> Check {
    let Some(tls) = &probe.tls else {
        return Check::new(
            "tls",
            Status::Skip,
            "no TCP connection to run a handshake over".to_owned(),
            json!(null),
        );
    };
    let ms = report::millis(tls.elapsed);
    let provider = lambda_vpce::tls::TlsProvider::current();
    let data = json!({
        "address": tls.address.to_string(),
        "sni": probe.sni,
        "elapsed_ms": ms,
        "protocol": tls.protocol,
        "alpn": tls.alpn,
        "key_exchange_group": tls.key_exchange_group,
        "cipher_suite": tls.cipher_suite,
        "provider": provider.name,
        "fips": provider.fips,
        "offered_groups": provider.key_exchange_groups,
        "error": tls.result.as_ref().err(),
    });
    match &tls.result {
        Ok(()) => Check::new(
            "tls",
            Status::Ok,
            format!(
                "{} with SNI {}, ALPN {}, key exchange {}, {} (FIPS mode {}), in {ms:.1} ms",
                tls.protocol.as_deref().unwrap_or("?"),
                probe.sni,
                tls.alpn.as_deref().unwrap_or("none"),
                tls.key_exchange_group.as_deref().unwrap_or("?"),
                provider.name,
                if provider.fips { "on" } else { "off" },
            ),
            data,
        ),
        Err(e) => {
            let hint = if e.contains("UnknownIssuer") {
                " (the certificate's CA is not trusted: pass it with --ca-cert)"
            } else {
                ""
            };
            Check::new(
                "tls",
                Status::Fail,
                format!(
                    "handshake with SNI {} failed after {ms:.1} ms: {e}{hint}",
                    probe.sni
                ),
                data,
            )
        }
    }
}

/// The HTTP version ALPN picked (of `h2`, `http/1.1` offered) and, for HTTP/2, the server's
/// stream limit from its first SETTINGS frame. None without a successful handshake.
fn http_check(probe: &checks::Probe) -> Option<Check> {
    let tls = probe.tls.as_ref().filter(|t| t.result.is_ok())?;
    let version = match tls.alpn.as_deref() {
        Some("h2") => "HTTP/2",
        // No ALPN answer: the server speaks HTTP/1.1 (RFC 7301 §3.2).
        _ => "HTTP/1.1",
    };
    let limit = tls
        .http2
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .and_then(|s| s.max_concurrent_streams);
    let error = tls.http2.as_ref().and_then(|s| s.as_ref().err());
    let data = json!({
        "alpn": tls.alpn,
        "version": version,
        "max_concurrent_streams": limit,
        "error": error,
    });
    let (status, message) = match (&tls.http2, limit) {
        (None, _) => (
            Status::Info,
            format!(
                "{version}: the server picked {} of h2, http/1.1 (one request per connection at a time)",
                tls.alpn.as_deref().unwrap_or("no ALPN protocol")
            ),
        ),
        (Some(Ok(_)), Some(n)) => (
            Status::Info,
            format!("HTTP/2: the server allows {n} concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS)"),
        ),
        (Some(Ok(_)), None) => (
            Status::Info,
            "HTTP/2: the server announced no stream limit (SETTINGS_MAX_CONCURRENT_STREAMS unset)".to_owned(),
        ),
        (Some(Err(e)), _) => (
            Status::Warn,
            format!("HTTP/2 picked in ALPN, but its SETTINGS could not be read: {e}"),
        ),
    };
    Some(Check::new("http", status, message, data))
}

fn certificate_check(probe: &checks::Probe) -> Check {
    let Some(names) = probe.tls.as_ref().and_then(|t| t.names.as_ref()) else {
        return Check::new(
            "certificate",
            Status::Skip,
            "no certificate was received".to_owned(),
            json!(null),
        );
    };
    let covers = names.covers(&probe.sni);
    let ips: Vec<String> = names
        .ip_addresses()
        .iter()
        .map(|ip| ip.to_string())
        .collect();
    let sans = format!(
        "DNS [{}], IP [{}]",
        names.dns_names().join(", "),
        ips.join(", ")
    );
    let data = json!({
        "sni": probe.sni,
        "dns_names": names.dns_names(),
        "ip_addresses": ips,
        "covers_sni": covers,
    });
    if covers {
        Check::new(
            "certificate",
            Status::Ok,
            format!("names cover {}: {sans}", probe.sni),
            data,
        )
    } else {
        Check::new(
            "certificate",
            Status::Fail,
            format!(
                "names do not cover {}: {sans}. A VPC endpoint's certificate covers \
                 lambda.REGION.amazonaws.com and *.lambda.REGION.vpce.amazonaws.com; \
                 connect to one of those names (or use --connect-only for a peered VPC)",
                probe.sni
            ),
            data,
        )
    }
}
