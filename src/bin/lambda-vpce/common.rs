//! What several commands share: endpoint flags, client construction, tracing, errors.

use std::path::PathBuf;

use clap::Args;
use lambda_vpce::{endpoint::Endpoint, BuildError};

/// A command's failure: printed with its causes, exit code 2.
pub(crate) type CmdError = Box<dyn std::error::Error + Send + Sync>;
/// A command's result: the exit code to return.
pub(crate) type CmdResult = Result<std::process::ExitCode, CmdError>;

/// Where to send calls. With none of these, commands that can use the embedded endpoint do.
/// Flags that would be ignored are refused: `--endpoint-url` with a VPCE flag, `--vpce-name`
/// with `--vpce-id`, `--vpce-dns-suffix` or `--az` without `--vpce-id`, `--connect-only`
/// without a VPCE name or id.
#[derive(Debug, Clone, Default, Args)]
#[command(group = clap::ArgGroup::new("vpce").args(["vpce_id", "vpce_name"]))]
pub(crate) struct EndpointArgs {
    /// Any endpoint URL (`https://...`; `http://` only to loopback).
    #[arg(long, value_name = "URL", conflicts_with = "vpce")]
    pub(crate) endpoint_url: Option<String>,
    /// A PEM file of CA certificates to trust in addition to the usual roots.
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// A VPC endpoint id (`vpce-` + 17 hex digits); needs --vpce-dns-suffix and --region.
    #[arg(long, value_name = "ID")]
    pub(crate) vpce_id: Option<String>,
    /// The 8-character DNS suffix of the VPC endpoint's names (`vpce-ID-SUFFIX...`).
    #[arg(long, value_name = "SUFFIX", requires = "vpce_id")]
    pub(crate) vpce_dns_suffix: Option<String>,
    /// A full VPC endpoint DNS name, regional or zonal.
    #[arg(long, value_name = "HOST")]
    pub(crate) vpce_name: Option<String>,
    /// Connect to the VPCE name but keep TLS SNI and the signed host
    /// `lambda.REGION.amazonaws.com` (a peered VPC without private DNS).
    #[arg(long, requires = "vpce")]
    pub(crate) connect_only: bool,
    /// The AWS region (also selects private DNS `lambda.REGION.amazonaws.com` when no other
    /// endpoint flag is given).
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,
    /// An availability zone name (`us-east-1a`): use the zonal VPCE name, falling back to the
    /// regional one. Only with --vpce-id (a --vpce-name names its zone itself).
    #[arg(long, value_name = "AZ", requires = "vpce_id")]
    pub(crate) az: Option<String>,
}

impl EndpointArgs {
    /// True when any flag names an endpoint.
    pub(crate) fn is_set(&self) -> bool {
        self.endpoint_url.is_some()
            || self.vpce_id.is_some()
            || self.vpce_name.is_some()
            || self.region.is_some()
    }

    /// The endpoint these flags name, or `None` when none is given.
    pub(crate) fn endpoint(&self) -> Result<Option<Endpoint>, BuildError> {
        if let Some(url) = &self.endpoint_url {
            return Endpoint::from_url(url).map(Some);
        }
        let region = self.region.as_deref();
        if let Some(name) = &self.vpce_name {
            let e = if self.connect_only {
                let region = region
                    .ok_or_else(|| BuildError::new("region", "", "--region with --connect-only"))?;
                Endpoint::vpce_connect_only(name, region)?
            } else {
                Endpoint::vpce_name(name)?
            };
            return Ok(Some(e));
        }
        if let Some(id) = &self.vpce_id {
            let suffix = self.vpce_dns_suffix.as_deref().ok_or_else(|| {
                BuildError::new("vpce_dns_suffix", "", "--vpce-dns-suffix with --vpce-id")
            })?;
            let region =
                region.ok_or_else(|| BuildError::new("region", "", "--region with --vpce-id"))?;
            let name = match &self.az {
                Some(az) => lambda_vpce::endpoint::VpceName::new(id, suffix, region)?.zonal(az)?,
                None => lambda_vpce::endpoint::VpceName::new(id, suffix, region)?,
            };
            let e = if self.connect_only {
                Endpoint::vpce_connect_only(&name.hostname(), region)?
            } else {
                Endpoint::from_vpce(name)
            };
            return Ok(Some(e));
        }
        if let Some(region) = region {
            return Endpoint::private_dns(region).map(Some);
        }
        Ok(None)
    }

    /// The CA PEM to trust in addition to the usual roots: --ca-cert's file and the bundle the
    /// AWS tools share (`AWS_CA_BUNDLE`, else the profile's `ca_bundle`), both added when both
    /// are given. A named file that is missing or holds no certificate is an error naming it.
    pub(crate) async fn ca_pem(&self) -> Result<Option<Vec<u8>>, CmdError> {
        let mut pem = match &self.ca_cert {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| format!("cannot read --ca-cert {}: {e}", path.display()))?,
            ),
            None => None,
        };
        if let Some(bundle) = lambda_vpce::CaBundle::from_environment().await? {
            let all = pem.get_or_insert_with(Vec::new);
            if !all.is_empty() && !all.ends_with(b"\n") {
                all.push(b'\n');
            }
            all.extend_from_slice(bundle.pem());
        }
        Ok(pem)
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings).
pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A builder of [`lambda_vpce::LambdaVpce`] for `args`: the endpoint they name (else the SDK's
/// environment variables, else private DNS for the region), the CAs of `--ca-cert` and of
/// `AWS_CA_BUNDLE` or the profile's `ca_bundle` ([`EndpointArgs::ca_pem`]), and the
/// `--region`; credentials and anything not given come from the standard AWS chain at `build`.
pub(crate) async fn lambda_builder(
    args: &EndpointArgs,
    pool: lambda_vpce::pool::PoolBuilder,
) -> Result<lambda_vpce::LambdaVpceBuilder, CmdError> {
    let mut pool = pool;
    if let Some(pem) = args.ca_pem().await? {
        pool = pool.add_ca_pem(pem);
    }
    // The environment's bundle is in `pool` already.
    let mut builder = lambda_vpce::LambdaVpce::builder()
        .pool(pool)
        .ca_bundle_from_environment(false);
    if let Some(endpoint) = args.endpoint()? {
        builder = builder.endpoint(endpoint);
    }
    if let Some(region) = &args.region {
        builder = builder.region(region.clone());
    }
    Ok(builder)
}
