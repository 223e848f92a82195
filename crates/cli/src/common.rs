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
    /// The AWS region, overriding the AWS configuration's. With no endpoint flag, calls go
    /// where aws-sdk-lambda would send them: the configured endpoint URL, else the region's
    /// endpoint (`lambda.REGION.amazonaws.com`, or its FIPS / dual-stack name).
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,
    /// Use the region's FIPS endpoint (`--fips=false` turns off what the AWS configuration
    /// turns on: `AWS_USE_FIPS_ENDPOINT`, the profile's `use_fips_endpoint`). Refused with an
    /// endpoint URL or a VPC endpoint name, which have no FIPS form.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) fips: Option<bool>,
    /// Use the region's dual-stack endpoint (`--dual-stack=false` turns off what the AWS
    /// configuration turns on: `AWS_USE_DUALSTACK_ENDPOINT`, the profile's
    /// `use_dualstack_endpoint`). Refused with an endpoint URL or a VPC endpoint name.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) dual_stack: Option<bool>,
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

    /// The endpoint these flags name, or `None` when none is given (then the library chooses
    /// it from the AWS configuration, as for any library user).
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
        Ok(None)
    }

    /// The PEM of `--ca-cert`, read. (The bundle the AWS configuration names is the library's
    /// to read: see `LambdaVpce::settings`.)
    pub(crate) fn ca_cert_pem(&self) -> Result<Option<Vec<u8>>, CmdError> {
        match &self.ca_cert {
            Some(path) => {
                Ok(Some(std::fs::read(path).map_err(|e| {
                    format!("cannot read --ca-cert {}: {e}", path.display())
                })?))
            }
            None => Ok(None),
        }
    }
}

/// Every CA PEM a built client trusts beyond the usual roots: `--ca-cert`'s and the bundle of
/// its AWS configuration (`AWS_CA_BUNDLE`, else the profile's `ca_bundle`), for checks that open
/// their own connections (`doctor`'s probe).
pub(crate) fn trusted_pem(
    args: &EndpointArgs,
    lambda: &lambda_vpce::LambdaVpce,
) -> Result<Option<Vec<u8>>, CmdError> {
    let mut pem = args.ca_cert_pem()?;
    if let Some(bundle) = lambda.settings().ca_bundle() {
        let all = pem.get_or_insert_with(Vec::new);
        if !all.is_empty() && !all.ends_with(b"\n") {
            all.push(b'\n');
        }
        all.extend_from_slice(bundle.pem());
    }
    Ok(pem)
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

/// A builder of [`lambda_vpce::LambdaVpce`] for `args`: the endpoint they name (else the
/// library's choice from the AWS configuration), `--ca-cert`, `--region`, `--fips` and
/// `--dual-stack`; everything else (credentials, endpoint URL, FIPS, dual-stack, the CA bundle
/// of `AWS_CA_BUNDLE` or the profile's `ca_bundle`) comes from the AWS configuration at `build`,
/// through the same code path as any library user's.
pub(crate) async fn lambda_builder(
    args: &EndpointArgs,
    pool: lambda_vpce::pool::PoolBuilder,
) -> Result<lambda_vpce::LambdaVpceBuilder, CmdError> {
    let mut builder = lambda_vpce::LambdaVpce::builder().pool(pool);
    if let Some(pem) = args.ca_cert_pem()? {
        builder = builder.add_ca_pem(pem);
    }
    if let Some(endpoint) = args.endpoint()? {
        builder = builder.endpoint(endpoint);
    }
    if let Some(region) = &args.region {
        builder = builder.region(region.clone());
    }
    if let Some(fips) = args.fips {
        builder = builder.use_fips(fips);
    }
    if let Some(dual_stack) = args.dual_stack {
        builder = builder.use_dual_stack(dual_stack);
    }
    Ok(builder)
}
