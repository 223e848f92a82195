//! Tests of endpoint parsing: each form's hosts, each bad input's field, and property tests.

use super::*;
use proptest::prelude::*;

const ID: &str = "vpce-0123456789abcdef0";
const SUFFIX: &str = "1a2b3c4d";
const REGIONAL: &str = "vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com";
const ZONAL: &str =
    "vpce-0123456789abcdef0-1a2b3c4d-us-east-1a.lambda.us-east-1.vpce.amazonaws.com";

fn field_of(r: Result<Endpoint, BuildError>) -> &'static str {
    r.expect_err("should be refused").field()
}

#[test]
fn private_dns_connects_signs_and_names_lambdas_regional_host() {
    let e = Endpoint::private_dns("us-east-1").unwrap();
    assert_eq!(e.kind(), EndpointKind::PrivateDns);
    assert_eq!(e.connect_host(), "lambda.us-east-1.amazonaws.com");
    assert_eq!(e.sni(), "lambda.us-east-1.amazonaws.com");
    assert_eq!(e.signing_host(), "lambda.us-east-1.amazonaws.com");
    assert_eq!(e.url(), "https://lambda.us-east-1.amazonaws.com");
    assert_eq!((e.scheme(), e.port()), ("https", 443));
    assert_eq!(e.region(), Some("us-east-1"));
    assert_eq!(e.fallback_connect_host(), None);
    assert_eq!(e.vpce_id(), None);
}

#[test]
fn private_dns_follows_the_partition_of_the_region() {
    let cn = Endpoint::private_dns("cn-north-1").unwrap();
    assert_eq!(cn.url(), "https://lambda.cn-north-1.amazonaws.com.cn");
    let gov = Endpoint::private_dns("us-gov-west-1").unwrap();
    assert_eq!(gov.url(), "https://lambda.us-gov-west-1.amazonaws.com");
    let iso = Endpoint::private_dns("eu-isoe-west-1").unwrap();
    assert_eq!(iso.url(), "https://lambda.eu-isoe-west-1.cloud.adc-e.uk");
}

#[test]
fn fips_and_dual_stack_names_are_the_sdk_resolvers() {
    let e = Endpoint::private_dns_fips("us-west-2").unwrap();
    assert_eq!(e.connect_host(), "lambda-fips.us-west-2.amazonaws.com");
    assert_eq!(e.sni(), e.connect_host());
    assert!(e.is_fips() && !e.is_dual_stack());
    let ds = Endpoint::regional("eu-west-1", false, true).unwrap();
    assert_eq!(ds.url(), "https://lambda.eu-west-1.api.aws");
    assert_eq!(ds.kind(), EndpointKind::PrivateDns);
    let both = Endpoint::regional("us-east-1", true, true).unwrap();
    assert_eq!(both.url(), "https://lambda-fips.us-east-1.api.aws");
    // The resolver's partition table gives China a FIPS name too; the crate follows it.
    let cn = Endpoint::private_dns_fips("cn-north-1").unwrap();
    assert_eq!(cn.url(), "https://lambda-fips.cn-north-1.amazonaws.com.cn");
}

#[test]
fn a_regional_vpce_connects_and_signs_with_its_own_name() {
    let e = Endpoint::vpce(ID, SUFFIX, "us-east-1").unwrap();
    assert_eq!(e.kind(), EndpointKind::Vpce);
    assert_eq!(e.connect_host(), REGIONAL);
    assert_eq!(e.sni(), REGIONAL);
    assert_eq!(e.signing_host(), REGIONAL);
    assert_eq!(e.url(), format!("https://{REGIONAL}"));
    assert_eq!(e.fallback_connect_host(), None);
    assert_eq!(e.vpce_id(), Some(ID));
    assert_eq!(e.vpce_dns_suffix(), Some(SUFFIX));
    assert_eq!(e.availability_zone(), None);
}

#[test]
fn a_zonal_vpce_falls_back_to_the_regional_name_but_keeps_its_own_sni() {
    let e = Endpoint::vpce_zonal(ID, SUFFIX, "us-east-1", "us-east-1a").unwrap();
    assert_eq!(e.kind(), EndpointKind::VpceZonal);
    assert_eq!(e.connect_host(), ZONAL);
    assert_eq!(e.fallback_connect_host(), Some(REGIONAL));
    assert_eq!(e.sni(), ZONAL);
    assert_eq!(e.signing_host(), ZONAL);
    assert_eq!(e.availability_zone(), Some("us-east-1a"));
    let via_method = Endpoint::vpce(ID, SUFFIX, "us-east-1")
        .unwrap()
        .zonal("us-east-1a");
    assert_eq!(via_method.unwrap(), e);
}

#[test]
fn only_a_regional_vpce_can_be_made_zonal() {
    let zonal = Endpoint::vpce_name(ZONAL).unwrap();
    assert_eq!(field_of(zonal.zonal("us-east-1b")), "availability_zone");
    let private = Endpoint::private_dns("us-east-1").unwrap();
    assert_eq!(field_of(private.zonal("us-east-1a")), "availability_zone");
}

#[test]
fn china_vpce_names_use_the_china_domain() {
    let e = Endpoint::vpce(ID, SUFFIX, "cn-north-1").unwrap();
    let name = "vpce-0123456789abcdef0-1a2b3c4d.lambda.cn-north-1.vpce.amazonaws.com.cn";
    assert_eq!(e.connect_host(), name);
    assert_eq!(Endpoint::vpce_name(name).unwrap(), e);
    let wrong = "vpce-0123456789abcdef0-1a2b3c4d.lambda.cn-north-1.vpce.amazonaws.com";
    assert_eq!(field_of(Endpoint::vpce_name(wrong)), "vpce_name");
}

#[test]
fn a_vpce_name_parses_case_insensitively_with_a_trailing_dot() {
    let upper = format!("{}.", ZONAL.to_ascii_uppercase());
    let e = Endpoint::vpce_name(&upper).unwrap();
    assert_eq!(e.connect_host(), ZONAL);
    assert_eq!(e.vpce_id(), Some(ID));
    assert_eq!(e.vpce_dns_suffix(), Some(SUFFIX));
    assert_eq!(e.region(), Some("us-east-1"));
    assert_eq!(e.availability_zone(), Some("us-east-1a"));
    assert_eq!(
        Endpoint::vpce_name(REGIONAL).unwrap().kind(),
        EndpointKind::Vpce
    );
}

#[test]
fn connect_only_dials_the_vpce_but_tls_and_sigv4_see_lambdas_public_name() {
    let e = Endpoint::vpce_connect_only(REGIONAL, "us-east-1").unwrap();
    assert_eq!(e.kind(), EndpointKind::VpceConnectOnly);
    assert_eq!(e.connect_host(), REGIONAL);
    assert_eq!(e.sni(), "lambda.us-east-1.amazonaws.com");
    assert_eq!(e.signing_host(), "lambda.us-east-1.amazonaws.com");
    assert_eq!(e.url(), "https://lambda.us-east-1.amazonaws.com");
    assert_eq!(e.vpce_id(), Some(ID));
    let z = Endpoint::vpce_connect_only(ZONAL, "us-east-1").unwrap();
    assert_eq!(z.fallback_connect_host(), Some(REGIONAL));
    assert_eq!(z.sni(), "lambda.us-east-1.amazonaws.com");
}

#[test]
fn connect_only_refuses_a_vpce_name_of_another_region() {
    assert_eq!(
        field_of(Endpoint::vpce_connect_only(REGIONAL, "us-west-2")),
        "vpce_name"
    );
    assert_eq!(
        field_of(Endpoint::vpce_connect_only(REGIONAL, "nowhere")),
        "region"
    );
    assert_eq!(
        field_of(Endpoint::vpce_connect_only(
            "lambda.us-east-1.amazonaws.com",
            "us-east-1"
        )),
        "vpce_name"
    );
}

#[test]
fn each_bad_vpce_part_is_refused_naming_its_field() {
    let cases: [(&str, &str, &str, &str, &str); 11] = [
        (
            "vpce-0123456789abcdef",
            SUFFIX,
            "us-east-1",
            "us-east-1a",
            "vpce_id",
        ),
        (
            "vpce-0123456789ABCDEF0",
            SUFFIX,
            "us-east-1",
            "us-east-1a",
            "vpce_id",
        ),
        (
            "vpc-0123456789abcdef01",
            SUFFIX,
            "us-east-1",
            "us-east-1a",
            "vpce_id",
        ),
        ("", SUFFIX, "us-east-1", "us-east-1a", "vpce_id"),
        (ID, "1a2b3c4", "us-east-1", "us-east-1a", "vpce_dns_suffix"),
        (ID, "1A2B3C4D", "us-east-1", "us-east-1a", "vpce_dns_suffix"),
        (ID, "1a2b-c4d", "us-east-1", "us-east-1a", "vpce_dns_suffix"),
        (ID, SUFFIX, "us_east_1", "us-east-1a", "region"),
        (ID, SUFFIX, "us-east-1", "use1-az1", "availability_zone"),
        (ID, SUFFIX, "us-east-1", "us-west-2a", "availability_zone"),
        (ID, SUFFIX, "us-east-1", "us-east-1ab", "availability_zone"),
    ];
    for (id, suffix, region, az, field) in cases {
        let got = field_of(Endpoint::vpce_zonal(id, suffix, region, az));
        assert_eq!(got, field, "{id} {suffix} {region} {az}");
    }
}

#[test]
fn malformed_vpce_names_are_refused_naming_vpce_name() {
    let long = format!("{}.{REGIONAL}", "a".repeat(250));
    for s in [
        "",
        ".",
        "lambda.us-east-1.amazonaws.com",
        "vpce-0123456789abcdef0-1a2b3c4d.ec2.us-east-1.vpce.amazonaws.com",
        "vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com..",
        "vpce-0123456789abcdef0-1a2b3c4d-.lambda.us-east-1.vpce.amazonaws.com",
        "vpce-0123456789abcdef0-1a2b3c4d-us-west-2a.lambda.us-east-1.vpce.amazonaws.com",
        "vpce-0123456789abcdef0-1a2b3c4d-use1-az1.lambda.us-east-1.vpce.amazonaws.com",
        "vpce-0123456789abcdef0_1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com",
        "vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.co",
        "vpce-0123456789abcdéf0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com",
        "https://vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com",
        &long,
    ] {
        assert_eq!(field_of(Endpoint::vpce_name(s)), "vpce_name", "{s}");
    }
}

#[test]
fn a_url_keeps_a_non_default_port_in_the_signed_host_only() {
    let e = Endpoint::from_url("https://Example.COM.:8443/").unwrap();
    assert_eq!(e.kind(), EndpointKind::Url);
    assert_eq!(e.connect_host(), "example.com");
    assert_eq!(e.sni(), "example.com");
    assert_eq!(e.port(), 8443);
    assert_eq!(e.signing_host(), "example.com:8443");
    assert_eq!(e.url(), "https://example.com:8443");
    assert_eq!(e.region(), None);
    let default_port = Endpoint::from_url("https://example.com:443").unwrap();
    assert_eq!(default_port.signing_host(), "example.com");
}

#[test]
fn http_is_allowed_only_to_loopback_hosts() {
    for (url, host, signing) in [
        ("http://127.0.0.1:9000", "127.0.0.1", "127.0.0.1:9000"),
        ("http://127.1.2.3", "127.1.2.3", "127.1.2.3"),
        ("http://localhost:80", "localhost", "localhost"),
        ("HTTP://[::1]:8080", "::1", "[::1]:8080"),
    ] {
        let e = Endpoint::from_url(url).unwrap();
        assert_eq!(
            (e.scheme(), e.connect_host(), e.signing_host()),
            ("http", host, signing),
            "{url}"
        );
    }
    for url in [
        "http://example.com",
        "http://10.0.0.1",
        "http://[::ffff:127.0.0.1]",
        "http://localhost.example",
    ] {
        assert_eq!(field_of(Endpoint::from_url(url)), "endpoint_url", "{url}");
    }
}

#[test]
fn an_ipv6_url_brackets_the_signed_host_but_not_the_connect_host() {
    let e = Endpoint::from_url("https://[::1]:8443").unwrap();
    assert_eq!(e.connect_host(), "::1");
    assert_eq!(e.sni(), "::1");
    assert_eq!(e.signing_host(), "[::1]:8443");
    assert_eq!(e.url(), "https://[::1]:8443");
}

#[test]
fn malformed_urls_are_refused_naming_endpoint_url() {
    let long = format!("https://{}.com", "a".repeat(MAX_ENDPOINT_URL_LEN));
    for s in [
        "",
        "example.com",
        "ftp://example.com",
        "https://",
        "https://:443",
        "https://example.com/path",
        "https://example.com?x=1",
        "https://example.com/?",
        "https://example.com#frag",
        "https://user:pw@example.com",
        "https://example.com:0",
        "https://example.com:65536",
        "https://example.com:",
        "https://example.com:+1",
        "https://::1",
        "https://[::1",
        "https://[::1]x",
        "https://[fe80::1%eth0]",
        "https://exa mple.com",
        "https://exämple.com",
        "https://-bad.com",
        "https://a..b",
        "https://256.1.1.1",
        "https://example.com\n",
        &long,
    ] {
        assert_eq!(field_of(Endpoint::from_url(s)), "endpoint_url", "{s:?}");
    }
}

#[test]
fn from_str_takes_a_url_or_a_bare_vpce_name() {
    let url: Endpoint = "https://127.0.0.1:4443".parse().unwrap();
    assert_eq!(url.kind(), EndpointKind::Url);
    let vpce: Endpoint = ZONAL.parse().unwrap();
    assert_eq!(vpce.kind(), EndpointKind::VpceZonal);
    assert_eq!(
        "lambda.us-east-1.amazonaws.com"
            .parse::<Endpoint>()
            .unwrap_err()
            .field(),
        "vpce_name"
    );
    assert_eq!(
        "ftp://x".parse::<Endpoint>().unwrap_err().field(),
        "endpoint_url"
    );
}

proptest! {
    #[test]
    fn no_parser_panics_on_arbitrary_strings(s in any::<String>()) {
        let _ = Endpoint::from_url(&s);
        let _ = Endpoint::vpce_name(&s);
        let _ = s.parse::<Endpoint>();
        let _ = Endpoint::private_dns(&s);
        let _ = Endpoint::private_dns_fips(&s);
        let _ = Endpoint::vpce(&s, &s, &s);
        let _ = Endpoint::vpce_zonal(ID, SUFFIX, "us-east-1", &s);
        let _ = Endpoint::vpce_connect_only(&s, "us-east-1");
        let _ = Endpoint::regional(&s, true, true);
    }

    #[test]
    fn no_parser_panics_on_url_and_vpce_shaped_strings(
        url in "(https?|HTTP)://(\\[[0-9a-f:.%]{0,20}\\]|[a-z0-9.:_-]{0,30})(:[0-9]{0,6})?[/?#@]?.{0,4}",
        name in "vpce-[0-9a-f]{15,18}-[a-z0-9-]{6,14}\\.lambda\\.[a-z0-9-]{5,14}\\.vpce\\.amazonaws\\.com(\\.cn)?\\.?",
    ) {
        let _ = Endpoint::from_url(&url);
        let _ = Endpoint::vpce_name(&name);
        let _ = name.parse::<Endpoint>();
    }

    #[test]
    fn a_generated_vpce_name_parses_back_to_the_same_parts(
        hex in "[0-9a-f]{17}",
        suffix in "[a-z0-9]{8}",
        region in "(us|eu|ap|cn|eusc)(-[a-z]{1,8}){1,2}-[0-9]{1,2}",
        zone in proptest::option::of("[a-z]"),
        upper in any::<bool>(),
        dot in any::<bool>(),
    ) {
        let id = format!("vpce-{hex}");
        let mut name = VpceName::new(&id, &suffix, &region).unwrap();
        if let Some(z) = &zone {
            name = name.zonal(&format!("{region}{z}")).unwrap();
        }
        let mut host = name.hostname();
        if upper { host = host.to_ascii_uppercase(); }
        if dot { host.push('.'); }
        let parsed = VpceName::parse(&host).unwrap();
        prop_assert_eq!(&parsed, &name);
        let e = Endpoint::vpce_name(&host).unwrap();
        prop_assert_eq!(e.vpce_id(), Some(id.as_str()));
        prop_assert_eq!(e.vpce_dns_suffix(), Some(suffix.as_str()));
        prop_assert_eq!(e.region(), Some(region.as_str()));
        prop_assert_eq!(e.availability_zone().is_some(), zone.is_some());
        prop_assert_eq!(e.sni(), name.hostname());
    }

    #[test]
    fn a_generated_https_url_signs_its_host_and_non_default_port(
        host in "[a-z][a-z0-9-]{0,10}[a-z0-9](\\.[a-z][a-z0-9]{0,10}){0,3}",
        port in 1u16..,
    ) {
        let e = Endpoint::from_url(&format!("https://{host}:{port}")).unwrap();
        prop_assert_eq!(e.connect_host(), host.as_str());
        prop_assert_eq!(e.port(), port);
        let expected = if port == 443 { host.clone() } else { format!("{host}:{port}") };
        prop_assert_eq!(e.signing_host(), expected.as_str());
    }
}
