//! The doctor's report: checks with a status, printed as a table or as JSON.

use std::fmt::Write as _;
use std::time::Duration;

use lambda_vpce::endpoint::Endpoint;
use serde_json::{json, Value};

/// `--help` text: statuses, exit codes and the JSON schema.
pub(super) const HELP: &str = "\
Checks, in order: configuration (the AWS settings the client was built with and where each came from: builder = a flag, sdk_config, service_environment = AWS_ENDPOINT_URL_LAMBDA, environment, services_section, profile, default), endpoint (what was configured), dns (every address classified: private = \
RFC 1918, 100.64/10 or IPv6 ULA fc00::/7, traffic stays in the VPC; public = traffic leaves \
through a NAT or internet gateway; loopback = this machine, a local endpoint or proxy; \
link-local / reserved = not an endpoint address), tcp (every address, timed), tls (handshake \
timed, verified; the key-exchange group negotiated, the crypto provider and its FIPS mode), \
certificate (subjectAltNames, and whether they cover the TLS name), calls \
(two ListFunctions calls, or Invoke DryRun of --function), reuse (the second call must reuse \
the first's connection), access (a refusal by the VPC endpoint policy, explained), zone (zonal names, zone \
ids, use1-az3).

Statuses: ok, info, warn, fail, skip. Exit codes: 0 no check failed; 1 a check failed; 2 usage \
or configuration error.

--json prints one object:
  {\"schema\": 1,
   \"endpoint\": {\"url\", \"kind\", \"connect_host\", \"port\", \"sni\", \"signing_host\",
                \"fallback_connect_host\", \"region\", \"availability_zone\"},
   \"checks\": [{\"check\": NAME, \"status\": STATUS, \"message\": TEXT, \"data\": {...}}],
   \"summary\": {\"status\": \"ok\"|\"warn\"|\"fail\", \"failed\": N, \"warnings\": N}}
data by check: configuration {region, endpoint_url: {value, source} (null when unset), use_fips and use_dual_stack: {value, source}, ca_bundle: {path, source, certificates} (null when unset)}; dns {host, addresses: [{ip, class}], reach, elapsed_ms}; tcp {attempts: \
[{address, elapsed_ms, error}]}; tls {address, sni, elapsed_ms, protocol, alpn, \
key_exchange_group, cipher_suite, provider, fips, offered_groups, error}; http {alpn, version, \
max_concurrent_streams, error}; \
certificate {sni, dns_names, ip_addresses, covers_sni}; calls and reuse {operation, calls, succeeded, \
opened, reused, error, error_class, error_code}; access {explicit_deny, action, resource}; \
endpoint and zone {}. Times are milliseconds (floats); absent values are null.";

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    Info,
    Warn,
    Fail,
    Skip,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Info => "info",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One row of the report.
#[derive(Debug)]
pub(crate) struct Check {
    name: &'static str,
    status: Status,
    message: String,
    data: Value,
}

impl Check {
    pub(crate) fn new(name: &'static str, status: Status, message: String, data: Value) -> Self {
        Check {
            name,
            status,
            message,
            data,
        }
    }
}

/// All checks of one run.
#[derive(Debug)]
pub(crate) struct Report {
    endpoint: Value,
    url: String,
    checks: Vec<Check>,
}

impl Report {
    pub(crate) fn new(e: &Endpoint) -> Self {
        Report {
            endpoint: json!({
                "url": e.url(),
                "kind": format!("{:?}", e.kind()),
                "connect_host": e.connect_host(),
                "port": e.port(),
                "sni": e.sni(),
                "signing_host": e.signing_host(),
                "fallback_connect_host": e.fallback_connect_host(),
                "region": e.region(),
                "availability_zone": e.availability_zone(),
            }),
            url: e.url(),
            checks: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    pub(crate) fn failed(&self) -> usize {
        self.count(Status::Fail)
    }

    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    fn overall(&self) -> Status {
        if self.failed() > 0 {
            Status::Fail
        } else if self.count(Status::Warn) > 0 {
            Status::Warn
        } else {
            Status::Ok
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| json!({"check": c.name, "status": c.status.as_str(), "message": c.message, "data": c.data}))
            .collect();
        json!({
            "schema": 1,
            "endpoint": self.endpoint,
            "checks": checks,
            "summary": {
                "status": self.overall().as_str(),
                "failed": self.failed(),
                "warnings": self.count(Status::Warn),
            },
        })
    }

    pub(crate) fn to_table(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut out = format!("lambda-vpce doctor: {}\n", self.url);
        let _ = writeln!(out, "{:width$}  {:6}  DETAIL", "CHECK", "STATUS");
        for c in &self.checks {
            let _ = writeln!(
                out,
                "{:width$}  {:6}  {}",
                c.name,
                c.status.as_str(),
                c.message
            );
        }
        let _ = writeln!(
            out,
            "summary: {} ({} failed, {} warnings)",
            self.overall().as_str(),
            self.failed(),
            self.count(Status::Warn)
        );
        out
    }
}

/// Milliseconds as a float, for tables and JSON.
pub(crate) fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
