//! What the user's AWS configuration says about where Lambda calls go and whom to trust:
//! [`Settings`], read from the `SdkConfig` aws-config's loader yields — never re-derived.
//!
//! # One source of truth
//!
//! `aws_config::defaults(..).load()` resolves the environment, the shared config and
//! credentials files, the selected profile and its `services` section. The resulting `SdkConfig`
//! carries `endpoint_url()`, `use_fips()`, `use_dual_stack()` and, through its
//! `service_config()`, every other key of the same environment and profile. [`Settings`] reads:
//!
//! | setting | read as | precedence (first wins) |
//! |---|---|---|
//! | endpoint URL | exactly as `aws_sdk_lambda::config::Builder::from(&SdkConfig)` does | builder / CLI; `SdkConfig` set in code; `AWS_ENDPOINT_URL_LAMBDA`; `AWS_ENDPOINT_URL`; the profile's `services` section `lambda = endpoint_url`; the profile's `endpoint_url` — none of the configured ones when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` / `ignore_configured_endpoint_urls` is true |
//! | FIPS | `SdkConfig::use_fips()` | builder / CLI; `AWS_USE_FIPS_ENDPOINT`; profile `use_fips_endpoint`; off |
//! | dual-stack | `SdkConfig::use_dual_stack()` | builder / CLI; `AWS_USE_DUALSTACK_ENDPOINT`; profile `use_dualstack_endpoint`; off |
//! | CA bundle | `service_config()` with the key `AWS_CA_BUNDLE` / `ca_bundle` | `AWS_CA_BUNDLE`; profile `ca_bundle` (the AWS CLI's order) |
//! | region | `SdkConfig::region()` | builder / CLI; the SDK's region chain |
//!
//! A hand-built `SdkConfig` (`SdkConfig::builder()`, or [`build_sync`](crate::LambdaVpceBuilder::build_sync)
//! without one) has no `service_config()`: then only what it was given counts, and neither the
//! environment nor the files are read.
//!
//! Which *source* a value came from ([`SettingSource`]) is told by asking the same
//! `service_config()` once per source (the environment alone, the profile alone, global or
//! service-specific) and seeing which one gives the value the SDK chose: the answer is always the
//! loader's, only the attribution is this module's.
//!
//! # Where the endpoint comes from
//!
//! [`choose_endpoint`] turns settings into one [`Endpoint`]: an explicit builder or CLI endpoint,
//! else the configured endpoint URL, else [`Endpoint::regional`] (aws-sdk-lambda's own resolver
//! for the region, FIPS and dual-stack). FIPS or dual-stack with an endpoint that cannot honour
//! it is refused with a [`BuildError`] that names the setting, its source and why — never picked
//! silently:
//!
//! | endpoint | FIPS on | dual-stack on |
//! |---|---|---|
//! | none given (the region's) | `lambda-fips.…` | `lambda.REGION.api.aws` (partition's dual-stack suffix) |
//! | a URL (builder, CLI or configuration) | refused (`use_fips`): aws-sdk-lambda refuses it too ("FIPS and custom endpoint are not supported") | refused (`use_dual_stack`), as the SDK does |
//! | a VPCE name (regional, zonal, connect-only) | refused (`use_fips`): a VPC endpoint DNS name has no FIPS form | refused (`use_dual_stack`): a VPCE name has no dual-stack form (it answers both address families itself when the endpoint's IP address type is dualstack) |
//! | `Endpoint::private_dns` (or `regional`) given explicitly | refused unless the endpoint given is that FIPS name | refused unless it is that dual-stack name |

use std::fmt;
use std::path::{Path, PathBuf};

use aws_config::SdkConfig;
use aws_types::origin::Origin;
use aws_types::service_config::ServiceConfigKey;

use super::ca_bundle::{CaBundle, CaBundleSource};
use crate::endpoint::{Endpoint, EndpointKind};
use crate::BuildError;

/// The environment variable naming a PEM file of CA certificates to trust.
pub const CA_BUNDLE_ENV: &str = "AWS_CA_BUNDLE";
/// The shared config file's profile key naming a PEM file of CA certificates to trust.
pub const CA_BUNDLE_PROFILE_KEY: &str = "ca_bundle";

/// The service id aws-sdk-lambda gives aws-config for service-specific settings
/// (`AWS_ENDPOINT_URL_LAMBDA`, a `services` section's `lambda =`).
const SERVICE_ID: &str = "Lambda";
/// A service id matching no service: asks `service_config()` for the global keys only.
const NO_SERVICE: &str = "";
/// An environment variable name or profile key that is never set: asks for the other half only.
const NOWHERE: &str = "";

const ENDPOINT_URL_ENV: &str = "AWS_ENDPOINT_URL";
const ENDPOINT_URL_KEY: &str = "endpoint_url";
const USE_FIPS_ENV: &str = "AWS_USE_FIPS_ENDPOINT";
const USE_FIPS_KEY: &str = "use_fips_endpoint";
const USE_DUAL_STACK_ENV: &str = "AWS_USE_DUALSTACK_ENDPOINT";
const USE_DUAL_STACK_KEY: &str = "use_dualstack_endpoint";

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SettingSource {
    /// [`LambdaVpceBuilder`](crate::LambdaVpceBuilder) (or a CLI flag).
    Builder,
    /// Set in code on the `SdkConfig` (or its `ConfigLoader`).
    SdkConfig,
    /// A service-specific environment variable (`AWS_ENDPOINT_URL_LAMBDA`).
    ServiceEnvironment,
    /// A global environment variable (`AWS_ENDPOINT_URL`, `AWS_USE_FIPS_ENDPOINT`, …).
    Environment,
    /// The selected profile's `services` section (`lambda =` then `endpoint_url = …`).
    ServicesSection,
    /// A key of the selected profile (`endpoint_url`, `use_fips_endpoint`, `ca_bundle`, …).
    Profile,
    /// Nothing set it: the SDK's default.
    Default,
}

impl SettingSource {
    /// A short, stable name: `builder`, `sdk_config`, `service_environment`, `environment`,
    /// `services_section`, `profile` or `default`.
    pub fn as_str(self) -> &'static str {
        match self {
            SettingSource::Builder => "builder",
            SettingSource::SdkConfig => "sdk_config",
            SettingSource::ServiceEnvironment => "service_environment",
            SettingSource::Environment => "environment",
            SettingSource::ServicesSection => "services_section",
            SettingSource::Profile => "profile",
            SettingSource::Default => "default",
        }
    }
}

impl fmt::Display for SettingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    value: T,
    source: SettingSource,
}

impl<T> Setting<T> {
    pub(crate) fn new(value: T, source: SettingSource) -> Self {
        Setting { value, source }
    }
    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }
    /// Where it came from.
    pub fn source(&self) -> SettingSource {
        self.source
    }
}

/// The configuration a [`LambdaVpce`](crate::LambdaVpce) was built with, each value with its
/// [`SettingSource`]; `lambda-vpce doctor` prints it.
///
/// Read from the `SdkConfig` aws-config's loader yields, as aws-sdk-lambda reads it (first wins):
///
/// | setting | precedence |
/// |---|---|
/// | endpoint URL | builder / CLI; `SdkConfig` set in code; `AWS_ENDPOINT_URL_LAMBDA`; `AWS_ENDPOINT_URL`; the profile's `services` section (`lambda =` / `endpoint_url`); the profile's `endpoint_url` — the configured ones dropped when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` / `ignore_configured_endpoint_urls` is true |
/// | FIPS | builder / CLI; `AWS_USE_FIPS_ENDPOINT`; profile `use_fips_endpoint`; off |
/// | dual-stack | builder / CLI; `AWS_USE_DUALSTACK_ENDPOINT`; profile `use_dualstack_endpoint`; off |
/// | CA bundle | `AWS_CA_BUNDLE`; profile `ca_bundle` (added to the usual roots and to `add_ca_pem`'s) |
/// | region | builder / CLI; the SDK's region chain |
///
/// With no endpoint URL, calls go to the region's endpoint as aws-sdk-lambda's resolver names it
/// for FIPS and dual-stack ([`Endpoint::regional`]). FIPS or dual-stack with an endpoint that has
/// no such form (a URL, a VPC endpoint name) fails the build with a [`BuildError`] naming the
/// setting, where it was set and why. A hand-built `SdkConfig` (no `service_config()`) gives only
/// what it holds: the environment and the shared files are not read.
#[derive(Debug, Clone)]
pub struct Settings {
    region: Option<Setting<String>>,
    endpoint_url: Option<Setting<String>>,
    use_fips: Setting<bool>,
    use_dual_stack: Setting<bool>,
    ca_bundle: Option<CaBundle>,
}

impl Settings {
    /// The region.
    pub fn region(&self) -> Option<&Setting<String>> {
        self.region.as_ref()
    }
    /// The configured endpoint URL, when one is (an explicit [`Endpoint`] given to the builder
    /// is not a URL setting: see [`LambdaVpce::endpoint`](crate::LambdaVpce::endpoint)).
    pub fn endpoint_url(&self) -> Option<&Setting<String>> {
        self.endpoint_url.as_ref()
    }
    /// Whether to use the FIPS endpoint.
    pub fn use_fips(&self) -> &Setting<bool> {
        &self.use_fips
    }
    /// Whether to use the dual-stack endpoint.
    pub fn use_dual_stack(&self) -> &Setting<bool> {
        &self.use_dual_stack
    }
    /// The CA bundle the configuration names (`AWS_CA_BUNDLE` or the profile's `ca_bundle`),
    /// read and checked.
    pub fn ca_bundle(&self) -> Option<&CaBundle> {
        self.ca_bundle.as_ref()
    }

    /// Reads `sdk` (see the module docs). With `read_ca_bundle`, the named CA bundle file is
    /// read; a missing or empty one is a [`BuildError`] naming the variable or key and the file.
    pub(crate) fn from_sdk_config(
        sdk: &SdkConfig,
        read_ca_bundle: bool,
    ) -> Result<Self, BuildError> {
        let probe = Probe(sdk);
        let region = sdk
            .region()
            .map(|r| Setting::new(r.to_string(), SettingSource::SdkConfig));
        let endpoint_url = endpoint_url(sdk, &probe);
        let use_fips = flag(sdk.use_fips(), &probe, USE_FIPS_ENV, USE_FIPS_KEY);
        let use_dual_stack = flag(
            sdk.use_dual_stack(),
            &probe,
            USE_DUAL_STACK_ENV,
            USE_DUAL_STACK_KEY,
        );
        let ca_bundle = if read_ca_bundle {
            ca_bundle(&probe)?
        } else {
            None
        };
        Ok(Settings {
            region,
            endpoint_url,
            use_fips,
            use_dual_stack,
            ca_bundle,
        })
    }

    /// Applies the builder's (or CLI's) explicit values, which win over the configuration.
    pub(crate) fn override_with(
        &mut self,
        region: Option<&str>,
        use_fips: Option<bool>,
        use_dual_stack: Option<bool>,
    ) {
        if let Some(r) = region {
            self.region = Some(Setting::new(r.to_owned(), SettingSource::Builder));
        }
        if let Some(v) = use_fips {
            self.use_fips = Setting::new(v, SettingSource::Builder);
        }
        if let Some(v) = use_dual_stack {
            self.use_dual_stack = Setting::new(v, SettingSource::Builder);
        }
    }
}

/// Asks the `SdkConfig`'s own `service_config()` (aws-config's environment and profile
/// resolution, `ignore_configured_endpoint_urls` included) for one key.
struct Probe<'a>(&'a SdkConfig);

impl Probe<'_> {
    fn get(&self, service_id: &str, env: &str, profile: &str) -> Option<String> {
        let key = ServiceConfigKey::builder()
            .service_id(service_id)
            .env(env)
            .profile(profile)
            .build()
            .ok()?;
        self.0.service_config()?.load_config(key)
    }

    /// Which source gives `value` for (`env`, `profile`): the environment, then the profile,
    /// service-specific before global when `service_specific`.
    fn source_of(
        &self,
        value: &str,
        env: &str,
        profile: &str,
        service_specific: bool,
        parse: impl Fn(&str) -> String,
    ) -> Option<SettingSource> {
        let is = |v: Option<String>| v.is_some_and(|v| parse(&v) == value);
        if is(self.get(service(service_specific), env, NOWHERE)) {
            return Some(
                if service_specific && !is(self.get(NO_SERVICE, env, NOWHERE)) {
                    SettingSource::ServiceEnvironment
                } else {
                    SettingSource::Environment
                },
            );
        }
        if is(self.get(service(service_specific), NOWHERE, profile)) {
            return Some(
                if service_specific && !is(self.get(NO_SERVICE, NOWHERE, profile)) {
                    SettingSource::ServicesSection
                } else {
                    SettingSource::Profile
                },
            );
        }
        None
    }
}

#[allow(non_snake_case)]
fn service(service_specific: bool) -> &'static str {
    if service_specific {
        SERVICE_ID
    } else {
        NO_SERVICE
    }
}

/// The endpoint URL aws-sdk-lambda's `Config` takes from `sdk` (the same steps as its
/// `Builder::from(&SdkConfig)`), with its source.
fn endpoint_url(sdk: &SdkConfig, probe: &Probe<'_>) -> Option<Setting<String>> {
    let origin = sdk.get_origin("endpoint_url");
    if origin.is_client_config() {
        return sdk
            .endpoint_url()
            .map(|u| Setting::new(u.to_owned(), SettingSource::SdkConfig));
    }
    let url = probe
        .get(SERVICE_ID, ENDPOINT_URL_ENV, ENDPOINT_URL_KEY)
        .or_else(|| sdk.endpoint_url().map(str::to_owned))?;
    let source = probe
        .source_of(
            &url,
            ENDPOINT_URL_ENV,
            ENDPOINT_URL_KEY,
            true,
            str::to_owned,
        )
        .unwrap_or(if origin == Origin::unknown() {
            SettingSource::SdkConfig
        } else if origin == Origin::shared_environment_variable() {
            SettingSource::Environment
        } else {
            SettingSource::Profile
        });
    Some(Setting::new(url, source))
}

/// A boolean the SDK config resolved (`use_fips`, `use_dual_stack`), with its source.
fn flag(value: Option<bool>, probe: &Probe<'_>, env: &str, key: &str) -> Setting<bool> {
    let Some(v) = value else {
        return Setting::new(false, SettingSource::Default);
    };
    let shown = v.to_string();
    let source = probe
        .source_of(&shown, env, key, false, |s| s.trim().to_ascii_lowercase())
        .unwrap_or(SettingSource::SdkConfig);
    Setting::new(v, source)
}

/// The CA bundle the configuration names: `AWS_CA_BUNDLE`, else the profile's `ca_bundle`.
fn ca_bundle(probe: &Probe<'_>) -> Result<Option<CaBundle>, BuildError> {
    let Some(path) = probe
        .get(NO_SERVICE, CA_BUNDLE_ENV, CA_BUNDLE_PROFILE_KEY)
        .filter(|p| !p.trim().is_empty())
    else {
        return Ok(None);
    };
    let from_env = probe
        .get(NO_SERVICE, CA_BUNDLE_ENV, NOWHERE)
        .is_some_and(|v| v == path);
    if from_env {
        CaBundle::from_file(&path, CaBundleSource::Env).map(Some)
    } else {
        CaBundle::from_file(expand_home(path.trim()), CaBundleSource::Profile).map(Some)
    }
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// The endpoint for these settings: `explicit` (builder or CLI) first, else the configured
/// endpoint URL, else the region's own endpoint by aws-sdk-lambda's resolver; FIPS and
/// dual-stack refused where the endpoint cannot honour them (module docs).
pub(crate) fn choose_endpoint(
    explicit: Option<Endpoint>,
    settings: &Settings,
) -> Result<Endpoint, BuildError> {
    let endpoint = match explicit {
        Some(e) => e,
        None => match &settings.endpoint_url {
            Some(url) => Endpoint::from_url(url.value()).map_err(|e| {
                BuildError::new(
                    "endpoint_url",
                    e.got().to_owned(),
                    format!("{} (set in: {})", e.expected(), url.source()),
                )
            })?,
            None => {
                let region = settings.region.as_ref().ok_or_else(|| {
                    BuildError::new(
                        "region",
                        "",
                        "a region (AWS_REGION, a profile, or .region())",
                    )
                })?;
                return Endpoint::regional(
                    region.value(),
                    settings.use_fips.value,
                    settings.use_dual_stack.value,
                );
            }
        },
    };
    refuse_unhonoured(
        &endpoint,
        "use_fips",
        &settings.use_fips,
        Endpoint::is_fips,
        "FIPS",
    )?;
    refuse_unhonoured(
        &endpoint,
        "use_dual_stack",
        &settings.use_dual_stack,
        Endpoint::is_dual_stack,
        "dual-stack",
    )?;
    Ok(endpoint)
}

fn refuse_unhonoured(
    endpoint: &Endpoint,
    field: &'static str,
    setting: &Setting<bool>,
    honoured: fn(&Endpoint) -> bool,
    what: &str,
) -> Result<(), BuildError> {
    if !setting.value || honoured(endpoint) {
        return Ok(());
    }
    let why = match endpoint.kind() {
        EndpointKind::Url => format!(
            "{field} off with an endpoint URL ({endpoint}): a URL names one host, so the \
             {what} endpoint cannot be chosen, and aws-sdk-lambda refuses the combination too \
             (\"{what} and custom endpoint are not supported\"); remove the endpoint URL or \
             turn {what} off for this client"
        ),
        EndpointKind::PrivateDns => format!(
            "{field} off with the endpoint {endpoint}, which is not the region's {what} \
             endpoint; leave the endpoint unset (the region's {what} endpoint is chosen) or \
             turn {what} off"
        ),
        _ => format!(
            "{field} off with a VPC endpoint name ({endpoint}): a VPC endpoint DNS name has no \
             {what} form; leave the endpoint unset to use the region's {what} endpoint (through \
             the interface endpoint's private DNS), or turn {what} off for this client"
        ),
    };
    Err(BuildError::new(
        field,
        format!("true (set in: {})", setting.source),
        why,
    ))
}
