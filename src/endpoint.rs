//! Where Lambda calls go: strings in, a validated origin out (no I/O).
//!
//! An [`Endpoint`] says four things: the host to open TCP to ([`Endpoint::connect_host`], with
//! a [`fallback`](Endpoint::fallback_connect_host) for zonal names), the TLS server name
//! ([`Endpoint::sni`]), the host SigV4 signs and the `Host` header carries
//! ([`Endpoint::signing_host`]), and the URL handed to the AWS SDK ([`Endpoint::url`]).
//!
//! # Which form to use
//!
//! | Situation | Constructor | Connect to | SNI and signed host |
//! |---|---|---|---|
//! | The interface endpoint has **private DNS enabled** (needs the VPC's `enableDnsHostnames` and `enableDnsSupport`) | [`Endpoint::private_dns`] / [`Endpoint::private_dns_fips`] | `lambda.REGION.amazonaws.com` | the same |
//! | Private DNS is **not** enabled: use the endpoint's own DNS name | [`Endpoint::vpce`] / [`Endpoint::vpce_name`] | `vpce-ID-SUFFIX.lambda.REGION.vpce.amazonaws.com` | the same |
//! | Keep traffic in the caller's **availability zone** | [`Endpoint::vpce_zonal`] / [`Endpoint::zonal`] | `vpce-ID-SUFFIX-AZ.lambda…`, falling back to the regional name | the zonal name |
//! | A **peered VPC** (or on-premises network) that reaches the endpoint but not its private DNS | [`Endpoint::vpce_connect_only`] | the VPCE name | `lambda.REGION.amazonaws.com` |
//! | A local endpoint, a proxy, a test server | [`Endpoint::from_url`] | the URL's host | the URL's host |
//!
//! AWS's certificate for an interface endpoint covers `lambda.REGION.amazonaws.com` and
//! `*.lambda.REGION.vpce.amazonaws.com`, so each form above verifies against the usual roots.
//! With no endpoint given, [`LambdaVpceBuilder`](crate::LambdaVpceBuilder) takes the endpoint
//! URL, FIPS and dual-stack settings from the user's AWS configuration (see
//! [`Settings`](crate::Settings)), and the region's own endpoint from
//! [`Endpoint::regional`].
//!
//! Partitions: the region's endpoint is whatever aws-sdk-lambda's own endpoint resolver
//! (`aws_sdk_lambda::config::endpoint::DefaultResolver`, with its partition table) answers for
//! the region, FIPS and dual-stack: nothing here formats a public host name. VPCE names are
//! `vpce.` + the DNS suffix of the region's partition, read from the same resolver's answer
//! (`lambda.REGION.SUFFIX`); this is AWS's published form for the commercial, China and
//! GovCloud partitions and is assumed for the others.
//!
//! Every malformed input is refused with a [`BuildError`] naming the field (`region`,
//! `vpce_id`, `vpce_dns_suffix`, `availability_zone`, `vpce_name`, `endpoint_url`) and the form
//! expected. No input makes a constructor panic.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::validate;
use crate::BuildError;

/// Longest host name accepted: 253 characters (RFC 1035, without a trailing dot).
pub const MAX_HOSTNAME_LEN: usize = 253;
/// Longest endpoint URL accepted: 2,048 characters.
pub const MAX_ENDPOINT_URL_LEN: usize = 2048;

const HTTPS_PORT: u16 = 443;
const HTTP_PORT: u16 = 80;
const MAX_LABEL_LEN: usize = 63;
const VPCE_ID_PREFIX: &str = "vpce-";
const VPCE_ID_HEX_LEN: usize = 17;
const VPCE_DNS_SUFFIX_LEN: usize = 8;

const EXPECT_VPCE_ID: &str =
    "`vpce-` followed by 17 lowercase hex digits, like vpce-0123456789abcdef0";
const EXPECT_VPCE_DNS_SUFFIX: &str =
    "the 8 lowercase letters and digits AWS puts after the endpoint \
    id in its DNS name, like 1a2b3c4d in vpce-0123456789abcdef0-1a2b3c4d.lambda.…";
const EXPECT_AZ: &str = "an availability zone name of the endpoint's region: the region followed \
    by one lowercase letter, like us-east-1a (zone ids such as use1-az1 are not accepted)";
const EXPECT_VPCE_NAME: &str = "a Lambda VPC endpoint DNS name, regional \
    vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com or zonal \
    vpce-0123456789abcdef0-1a2b3c4d-us-east-1a.lambda.us-east-1.vpce.amazonaws.com";
const EXPECT_URL: &str = "an https:// URL with a host and an optional port, like \
    https://example.com:8443 (http:// only to 127.0.0.0/8, [::1] or localhost)";

/// Which form an [`Endpoint`] was built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointKind {
    /// The region's own endpoint as aws-sdk-lambda resolves it (`lambda.REGION.amazonaws.com`,
    /// `lambda-fips.…`, the dual-stack `lambda.REGION.api.aws`, …), which a VPC whose interface
    /// endpoint has private DNS enabled resolves to the endpoint.
    PrivateDns,
    /// A regional VPC endpoint DNS name.
    Vpce,
    /// A zonal VPC endpoint DNS name, with the regional name as fallback.
    VpceZonal,
    /// Connect to a VPC endpoint name; TLS and SigV4 use `lambda.REGION.amazonaws.com`.
    VpceConnectOnly,
    /// Any URL (local endpoint, proxy).
    Url,
}

/// The parts of a Lambda VPC endpoint DNS name: endpoint id, DNS suffix, region and, for a
/// zonal name, availability zone.
///
/// Regional: `vpce-ID-SUFFIX.lambda.REGION.vpce.amazonaws.com`; zonal:
/// `vpce-ID-SUFFIX-AZ.lambda.REGION.vpce.amazonaws.com`. The AZ is a zone *name* such as
/// `us-east-1a`; zone ids such as `use1-az1` are refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VpceName {
    id: String,
    dns_suffix: String,
    region: String,
    availability_zone: Option<String>,
    /// The DNS suffix of the region's partition.
    domain: String,
}

impl VpceName {
    /// A regional VPCE name from its parts: `id` is `vpce-` + 17 lowercase hex digits,
    /// `dns_suffix` the 8 lowercase letters and digits AWS issues, `region` like `us-east-1`.
    pub fn new(id: &str, dns_suffix: &str, region: &str) -> Result<Self, BuildError> {
        if !is_vpce_id(id) {
            return Err(BuildError::new("vpce_id", id, EXPECT_VPCE_ID));
        }
        if !is_vpce_dns_suffix(dns_suffix) {
            return Err(BuildError::new(
                "vpce_dns_suffix",
                dns_suffix,
                EXPECT_VPCE_DNS_SUFFIX,
            ));
        }
        validate::region(region)?;
        let domain = partition_domain(region).ok_or_else(|| {
            BuildError::new(
                "region",
                region,
                "a region aws-sdk-lambda's endpoint resolver places in a partition",
            )
        })?;
        Ok(VpceName {
            id: id.to_owned(),
            dns_suffix: dns_suffix.to_owned(),
            region: region.to_owned(),
            availability_zone: None,
            domain,
        })
    }

    /// The zonal name in availability zone `az` (the region plus one lowercase letter).
    pub fn zonal(mut self, az: &str) -> Result<Self, BuildError> {
        if !is_az_of(az, &self.region) {
            return Err(BuildError::new("availability_zone", az, EXPECT_AZ));
        }
        self.availability_zone = Some(az.to_owned());
        Ok(self)
    }

    /// Parses a full VPCE DNS name, regional or zonal; case-insensitive, one trailing dot
    /// allowed. Anything else is refused naming the field `vpce_name`.
    pub fn parse(hostname: &str) -> Result<Self, BuildError> {
        parse_vpce_name(hostname)
            .ok_or_else(|| BuildError::new("vpce_name", hostname, EXPECT_VPCE_NAME))
    }

    /// The endpoint id, `vpce-` + 17 hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The 8-character DNS suffix that follows the id.
    pub fn dns_suffix(&self) -> &str {
        &self.dns_suffix
    }
    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The availability zone of a zonal name.
    pub fn availability_zone(&self) -> Option<&str> {
        self.availability_zone.as_deref()
    }

    /// The DNS name: zonal when an AZ is set, regional otherwise.
    pub fn hostname(&self) -> String {
        match &self.availability_zone {
            Some(az) => self.name_with(&format!("-{az}")),
            None => self.regional_hostname(),
        }
    }

    /// The regional DNS name, with no AZ.
    pub fn regional_hostname(&self) -> String {
        self.name_with("")
    }

    fn name_with(&self, az_part: &str) -> String {
        format!(
            "{}-{}{az_part}.lambda.{}.vpce.{}",
            self.id, self.dns_suffix, self.region, self.domain
        )
    }
}

impl fmt::Display for VpceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hostname())
    }
}

impl FromStr for VpceName {
    type Err = BuildError;
    fn from_str(s: &str) -> Result<Self, BuildError> {
        VpceName::parse(s)
    }
}

/// A validated Lambda endpoint: what to connect to, what TLS names, what SigV4 signs.
///
/// Build it with one of the constructors (see the [module docs](self) for which to use).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    kind: EndpointKind,
    https: bool,
    port: u16,
    connect_host: String,
    fallback_connect_host: Option<String>,
    sni: String,
    signing_host: String,
    region: Option<String>,
    vpce: Option<VpceName>,
    fips: bool,
    dual_stack: bool,
}

impl Endpoint {
    /// The region's endpoint with neither FIPS nor dual-stack:
    /// `https://lambda.REGION.amazonaws.com` (`amazonaws.com.cn` in China, the partition's own
    /// domain elsewhere), for a VPC whose interface endpoint has private DNS enabled. See
    /// [`Endpoint::regional`].
    pub fn private_dns(region: &str) -> Result<Self, BuildError> {
        Self::regional(region, false, false)
    }

    /// The region's FIPS 140 endpoint (`https://lambda-fips.REGION.amazonaws.com`), as
    /// aws-sdk-lambda's resolver names it. See [`Endpoint::regional`].
    pub fn private_dns_fips(region: &str) -> Result<Self, BuildError> {
        Self::regional(region, true, false)
    }

    /// The region's endpoint as aws-sdk-lambda's own endpoint resolver
    /// (`aws_sdk_lambda::config::endpoint::DefaultResolver`) answers for `use_fips` and
    /// `use_dual_stack`: what `aws_sdk_lambda::Client` calls with no endpoint URL configured.
    /// A region the crate's [`validate::region`] refuses, or a combination the resolver refuses
    /// (a partition without FIPS or dual-stack), is a [`BuildError`] naming the `region`.
    pub fn regional(
        region: &str,
        use_fips: bool,
        use_dual_stack: bool,
    ) -> Result<Self, BuildError> {
        validate::region(region)?;
        let url = resolve_regional(region, use_fips, use_dual_stack)?;
        let mut e = parse_url(&url).map_err(|_| {
            BuildError::new(
                "region",
                region,
                format!("a region whose resolved endpoint is a plain https URL (got {url})"),
            )
        })?;
        e.kind = EndpointKind::PrivateDns;
        e.region = Some(region.to_owned());
        e.fips = use_fips;
        e.dual_stack = use_dual_stack;
        Ok(e)
    }

    /// The regional VPCE name `vpce-ID-SUFFIX.lambda.REGION.vpce.amazonaws.com`, from the
    /// endpoint id (`vpce-` + 17 lowercase hex digits), its DNS suffix (8 lowercase letters and
    /// digits) and the region. SNI and the signed host are that name too.
    pub fn vpce(id: &str, dns_suffix: &str, region: &str) -> Result<Self, BuildError> {
        Ok(Self::from_vpce(VpceName::new(id, dns_suffix, region)?))
    }

    /// The zonal VPCE name `vpce-ID-SUFFIX-AZ.lambda.REGION.vpce.amazonaws.com`, which keeps
    /// traffic in availability zone `az` (a zone name like `us-east-1a`, not a zone id). Its
    /// [`fallback_connect_host`](Self::fallback_connect_host) is the regional name; SNI and the
    /// signed host stay the zonal name even when falling back.
    pub fn vpce_zonal(
        id: &str,
        dns_suffix: &str,
        region: &str,
        az: &str,
    ) -> Result<Self, BuildError> {
        Ok(Self::from_vpce(
            VpceName::new(id, dns_suffix, region)?.zonal(az)?,
        ))
    }

    /// Makes a regional VPCE endpoint ([`EndpointKind::Vpce`]) zonal; see [`Self::vpce_zonal`].
    /// Any other kind is refused, naming the field `availability_zone`.
    pub fn zonal(self, az: &str) -> Result<Self, BuildError> {
        match (self.kind, self.vpce) {
            (EndpointKind::Vpce, Some(name)) => Ok(Self::from_vpce(name.zonal(az)?)),
            _ => Err(BuildError::new(
                "availability_zone",
                az,
                "to be set on a regional VPC endpoint (Endpoint::vpce or a regional vpce_name)",
            )),
        }
    }

    /// Parses a full VPCE DNS name, regional or zonal (case-insensitive, one trailing dot
    /// allowed); see [`VpceName::parse`].
    pub fn vpce_name(hostname: &str) -> Result<Self, BuildError> {
        Ok(Self::from_vpce(VpceName::parse(hostname)?))
    }

    /// The endpoint for a parsed VPCE name: [`EndpointKind::VpceZonal`] when it has an AZ,
    /// [`EndpointKind::Vpce`] otherwise.
    pub fn from_vpce(name: VpceName) -> Self {
        let host = name.hostname();
        let zonal = name.availability_zone.is_some();
        Endpoint {
            kind: if zonal {
                EndpointKind::VpceZonal
            } else {
                EndpointKind::Vpce
            },
            https: true,
            port: HTTPS_PORT,
            connect_host: host.clone(),
            fallback_connect_host: zonal.then(|| name.regional_hostname()),
            sni: host.clone(),
            signing_host: host,
            region: Some(name.region.clone()),
            vpce: Some(name),
            fips: false,
            dual_stack: false,
        }
    }

    /// Connects to the VPCE name `vpce_hostname` (regional or zonal), while TLS SNI and the
    /// SigV4 host stay `lambda.REGION.amazonaws.com`: what a peered VPC without the endpoint's
    /// private DNS needs. The name's region must be `region`. A zonal name falls back to the
    /// regional one.
    pub fn vpce_connect_only(vpce_hostname: &str, region: &str) -> Result<Self, BuildError> {
        validate::region(region)?;
        let name = VpceName::parse(vpce_hostname)?;
        if name.region != region {
            return Err(BuildError::new(
                "vpce_name",
                vpce_hostname,
                format!("a VPC endpoint DNS name in region {region}"),
            ));
        }
        let public = Self::private_dns(region)?;
        Ok(Endpoint {
            kind: EndpointKind::VpceConnectOnly,
            connect_host: name.hostname(),
            fallback_connect_host: name
                .availability_zone
                .is_some()
                .then(|| name.regional_hostname()),
            vpce: Some(name),
            ..public
        })
    }

    /// Any URL: `https://HOST[:PORT][/]`, or `http://` only when the host is loopback
    /// (127.0.0.0/8, `[::1]`, `localhost`). IPv6 literals go in brackets
    /// (`https://[::1]:8443`). The path must be empty or `/`; user info, query and fragment are
    /// refused. The host is lowercased and a trailing dot dropped. An IP-literal host gives an
    /// IP as [`sni`](Self::sni), which the TLS layer checks as an IP address.
    ///
    /// The kind is [`EndpointKind::Url`] even when the host is a VPCE name; use
    /// [`Endpoint::vpce_name`] for the VPCE kinds.
    pub fn from_url(url: &str) -> Result<Self, BuildError> {
        parse_url(url)
    }

    /// Which form this endpoint was built from.
    pub fn kind(&self) -> EndpointKind {
        self.kind
    }
    /// `"https"`, or `"http"` (loopback URLs only).
    pub fn scheme(&self) -> &str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }
    /// The TCP port: explicit in the URL, else 443 for https and 80 for http.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The DNS name or IP address to open TCP to (an IPv6 address without brackets).
    pub fn connect_host(&self) -> &str {
        &self.connect_host
    }
    /// For a zonal VPCE name, the regional VPCE name to connect to when the zonal one fails.
    pub fn fallback_connect_host(&self) -> Option<&str> {
        self.fallback_connect_host.as_deref()
    }
    /// The TLS server name (SNI and certificate check).
    pub fn sni(&self) -> &str {
        &self.sni
    }
    /// The `host[:port]` that SigV4 signs and the `Host` header carries; the port only when it
    /// is not the scheme's default. IPv6 addresses are bracketed.
    pub fn signing_host(&self) -> &str {
        &self.signing_host
    }
    /// The endpoint URL to give the AWS SDK, `scheme://signing_host`: the SDK signs the
    /// authority it sees, and the pool maps that authority to [`connect_host`](Self::connect_host)
    /// and [`sni`](Self::sni).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.signing_host)
    }
    /// The region, when the form names one (not for [`EndpointKind::Url`]).
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The availability zone of a zonal VPCE name.
    pub fn availability_zone(&self) -> Option<&str> {
        self.vpce.as_ref().and_then(VpceName::availability_zone)
    }
    /// The region's FIPS endpoint ([`Endpoint::regional`] with `use_fips`).
    pub fn is_fips(&self) -> bool {
        self.fips
    }
    /// The region's dual-stack endpoint ([`Endpoint::regional`] with `use_dual_stack`).
    pub fn is_dual_stack(&self) -> bool {
        self.dual_stack
    }
    /// The VPC endpoint id, for the VPCE forms.
    pub fn vpce_id(&self) -> Option<&str> {
        self.vpce.as_ref().map(VpceName::id)
    }
    /// The VPC endpoint's DNS suffix, for the VPCE forms.
    pub fn vpce_dns_suffix(&self) -> Option<&str> {
        self.vpce.as_ref().map(VpceName::dns_suffix)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.signing_host)
    }
}

impl FromStr for Endpoint {
    type Err = BuildError;

    /// A URL (anything containing `://`, see [`Endpoint::from_url`]) or a bare VPCE DNS name
    /// (see [`Endpoint::vpce_name`]).
    fn from_str(s: &str) -> Result<Self, BuildError> {
        if s.contains("://") {
            return Self::from_url(s);
        }
        Self::vpce_name(s).map_err(|_| {
            BuildError::new(
                "vpce_name",
                s,
                format!("an endpoint URL like https://host[:port], or {EXPECT_VPCE_NAME}"),
            )
        })
    }
}

/// The endpoint URL aws-sdk-lambda's own resolver gives `region` with these flags.
fn resolve_regional(
    region: &str,
    use_fips: bool,
    use_dual_stack: bool,
) -> Result<String, BuildError> {
    use aws_sdk_lambda::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let refused = |why: String| {
        BuildError::new(
            "region",
            region,
            format!("a region aws-sdk-lambda's endpoint resolver accepts ({why})"),
        )
    };
    let params = Params::builder()
        .region(region)
        .use_fips(use_fips)
        .use_dual_stack(use_dual_stack)
        .build()
        .map_err(|e| refused(e.to_string()))?;
    let resolver = DefaultResolver::new();
    let mut future = std::pin::pin!(resolver.resolve_endpoint(&params));
    // The default resolver answers at once (rules over a static partition table): one poll.
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(Ok(endpoint)) => Ok(endpoint.url().to_owned()),
        Poll::Ready(Err(e)) => Err(refused(e.to_string())),
        Poll::Pending => Err(refused("the resolver did not answer at once".to_owned())),
    }
}

/// The DNS suffix of a region's partition (`amazonaws.com`, `amazonaws.com.cn`, …), read from
/// aws-sdk-lambda's resolver: its endpoint for the region is `lambda.REGION.SUFFIX`.
fn partition_domain(region: &str) -> Option<String> {
    let url = resolve_regional(region, false, false).ok()?;
    let host = url.strip_prefix("https://")?;
    host.strip_prefix("lambda.")?
        .strip_prefix(region)?
        .strip_prefix('.')
        .map(str::to_owned)
}

fn is_vpce_id(s: &str) -> bool {
    s.strip_prefix(VPCE_ID_PREFIX).is_some_and(|hex| {
        hex.len() == VPCE_ID_HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn is_vpce_dns_suffix(s: &str) -> bool {
    s.len() == VPCE_DNS_SUFFIX_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `az` is `region` followed by exactly one lowercase letter.
fn is_az_of(az: &str, region: &str) -> bool {
    az.strip_prefix(region)
        .is_some_and(|rest| rest.len() == 1 && rest.bytes().all(|b| b.is_ascii_lowercase()))
}

fn parse_vpce_name(hostname: &str) -> Option<VpceName> {
    if !hostname.is_ascii() {
        return None;
    }
    let host = hostname
        .strip_suffix('.')
        .unwrap_or(hostname)
        .to_ascii_lowercase();
    if host.is_empty() || host.len() > MAX_HOSTNAME_LEN {
        return None;
    }
    let (first, rest) = host.split_once('.')?;
    let rest = rest.strip_prefix("lambda.")?;
    let (region, domain) = rest.split_once('.')?;
    validate::is_region(region).then_some(())?;
    if domain.strip_prefix("vpce.")? != partition_domain(region)? {
        return None;
    }
    // first = vpce-<17 hex>-<8 suffix>[-<az>]
    let id_len = VPCE_ID_PREFIX.len() + VPCE_ID_HEX_LEN;
    let id = first.get(..id_len)?;
    let suffix = first.get(id_len..)?.strip_prefix('-')?;
    let (dns_suffix, az) = match suffix.get(..VPCE_DNS_SUFFIX_LEN) {
        Some(s) if suffix.len() == VPCE_DNS_SUFFIX_LEN => (s, None),
        Some(s) => (
            s,
            Some(suffix.get(VPCE_DNS_SUFFIX_LEN..)?.strip_prefix('-')?),
        ),
        None => return None,
    };
    let name = VpceName::new(id, dns_suffix, region).ok()?;
    match az {
        Some(az) => name.zonal(az).ok(),
        None => Some(name),
    }
}

enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

fn parse_url(s: &str) -> Result<Endpoint, BuildError> {
    let err = |expected: &str| BuildError::new("endpoint_url", s, expected);
    if s.is_empty() {
        return Err(err(EXPECT_URL));
    }
    if s.len() > MAX_ENDPOINT_URL_LEN {
        return Err(err("a URL of at most 2048 characters"));
    }
    if !s.is_ascii() {
        return Err(err(
            "an ASCII URL (write an internationalised host name in its xn-- form)",
        ));
    }
    if s.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(err("a URL without spaces or control characters"));
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(err(EXPECT_URL));
    };
    let https = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err(err("the scheme https:// (or http:// to a loopback host)"));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if !(tail.is_empty() || tail == "/") {
        return Err(err(
            "no path, query or fragment after the host and port (a trailing / is fine)",
        ));
    }
    if authority.contains('@') {
        return Err(err(
            "no user info (user:password@) in the URL; credentials come from the AWS config",
        ));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| err(EXPECT_URL))?;
    let default_port = if https { HTTPS_PORT } else { HTTP_PORT };
    let port = match port {
        None => default_port,
        Some(p) => parse_port(p).ok_or_else(|| err("a port from 1 to 65535 after the colon"))?,
    };
    let loopback = match &host {
        Host::Name(n) => n == "localhost",
        Host::V4(ip) => ip.is_loopback(),
        Host::V6(ip) => ip.is_loopback(),
    };
    if !https && !loopback {
        return Err(err(
            "https:// (http:// is allowed only to 127.0.0.0/8, [::1] or localhost)",
        ));
    }
    let (bare, authority_host) = match host {
        Host::Name(n) => (n.clone(), n),
        Host::V4(ip) => (ip.to_string(), ip.to_string()),
        Host::V6(ip) => (ip.to_string(), format!("[{ip}]")),
    };
    let signing_host = if port == default_port {
        authority_host
    } else {
        format!("{authority_host}:{port}")
    };
    Ok(Endpoint {
        kind: EndpointKind::Url,
        https,
        port,
        connect_host: bare.clone(),
        fallback_connect_host: None,
        sni: bare,
        signing_host,
        region: None,
        vpce: None,
        fips: false,
        dual_stack: false,
    })
}

/// Splits `host[:port]` or `[v6][:port]`; `None` when the host is malformed.
fn split_host_port(authority: &str) -> Option<(Host, Option<&str>)> {
    if let Some(inner) = authority.strip_prefix('[') {
        let (v6, after) = inner.split_once(']')?;
        let ip = v6.parse::<Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((Host::V6(ip), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some((Host::V4(ip), port));
    }
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    is_hostname(&host).then_some((Host::Name(host), port))
}

/// Letters, digits, `-` and `_` in dot-separated labels of 1 to 63 characters that neither
/// start nor end with `-`; at most 253 characters; the last label not all digits (so a
/// malformed IPv4 address is not taken for a name).
fn is_hostname(h: &str) -> bool {
    if h.is_empty() || h.len() > MAX_HOSTNAME_LEN {
        return false;
    }
    let labels_ok = h.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= MAX_LABEL_LEN
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let last_numeric = h
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && !last_numeric
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&n| n != 0)
}

#[cfg(test)]
mod tests;
