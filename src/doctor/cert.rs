//! The names a server certificate covers: its subjectAltName DNS names and IP addresses,
//! read with a small DER walker, and the RFC 6125 match of a server name against them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const TAG_SEQUENCE: u8 = 0x30;
const TAG_OID: u8 = 0x06;
const TAG_BOOLEAN: u8 = 0x01;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_EXTENSIONS: u8 = 0xa3;
const TAG_SAN_DNS: u8 = 0x82;
const TAG_SAN_IP: u8 = 0x87;
/// 2.5.29.17, subjectAltName.
const OID_SUBJECT_ALT_NAME: [u8; 3] = [0x55, 0x1d, 0x11];

/// The subjectAltName entries of a certificate that TLS clients check: DNS names (wildcards
/// kept as written) and IP addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateNames {
    dns: Vec<String>,
    ips: Vec<IpAddr>,
}

impl CertificateNames {
    /// Reads the names from a DER X.509 certificate. `None` when it is not one; a certificate
    /// without a subjectAltName extension gives empty lists (and covers no name: clients no
    /// longer fall back to the subject's common name).
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (tag, cert, _) = tlv(der)?;
        if tag != TAG_SEQUENCE {
            return None;
        }
        let (tag, mut tbs, _) = tlv(cert)?;
        if tag != TAG_SEQUENCE {
            return None;
        }
        let mut names = CertificateNames::default();
        while !tbs.is_empty() {
            let (tag, content, rest) = tlv(tbs)?;
            tbs = rest;
            if tag == TAG_EXTENSIONS {
                let (tag, mut exts, _) = tlv(content)?;
                if tag != TAG_SEQUENCE {
                    return None;
                }
                while !exts.is_empty() {
                    let (_, ext, rest) = tlv(exts)?;
                    exts = rest;
                    if let Some(san) = san_extension_value(ext) {
                        names.read_general_names(san)?;
                    }
                }
            }
        }
        Some(names)
    }

    fn read_general_names(&mut self, value: &[u8]) -> Option<()> {
        let (tag, mut list, _) = tlv(value)?;
        if tag != TAG_SEQUENCE {
            return None;
        }
        while !list.is_empty() {
            let (tag, content, rest) = tlv(list)?;
            list = rest;
            match tag {
                TAG_SAN_DNS => self.dns.push(String::from_utf8_lossy(content).into_owned()),
                TAG_SAN_IP => {
                    if let Ok(v4) = <[u8; 4]>::try_from(content) {
                        self.ips.push(Ipv4Addr::from(v4).into());
                    } else if let Ok(v6) = <[u8; 16]>::try_from(content) {
                        self.ips.push(Ipv6Addr::from(v6).into());
                    }
                }
                _ => {}
            }
        }
        Some(())
    }

    /// The DNS names, as written (`*.lambda.us-east-1.vpce.amazonaws.com` stays a wildcard).
    pub fn dns_names(&self) -> &[String] {
        &self.dns
    }

    /// The IP addresses.
    pub fn ip_addresses(&self) -> &[IpAddr] {
        &self.ips
    }

    /// Whether `server_name` (a DNS name or an IP address, as sent in SNI) is covered: an IP
    /// must equal an IP entry; a DNS name must equal a DNS entry (ASCII case-insensitive, a
    /// trailing dot ignored) or match a wildcard entry `*.REST` as one whole leftmost label.
    pub fn covers(&self, server_name: &str) -> bool {
        let literal = server_name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return self.ips.contains(&ip);
        }
        let name = server_name.strip_suffix('.').unwrap_or(server_name);
        self.dns.iter().any(|pattern| dns_matches(pattern, name))
    }
}

fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    if let Some(rest) = pattern.strip_prefix("*.") {
        return match name.split_once('.') {
            Some((label, tail)) => !label.is_empty() && tail.eq_ignore_ascii_case(rest),
            None => false,
        };
    }
    pattern.eq_ignore_ascii_case(name)
}

/// The OCTET STRING value of an Extension when its OID is subjectAltName.
fn san_extension_value(ext: &[u8]) -> Option<&[u8]> {
    let (tag, oid, rest) = tlv(ext)?;
    if tag != TAG_OID || oid != OID_SUBJECT_ALT_NAME {
        return None;
    }
    let (mut tag, mut value, rest) = tlv(rest)?;
    if tag == TAG_BOOLEAN {
        (tag, value, _) = tlv(rest)?;
    }
    (tag == TAG_OCTET_STRING).then_some(value)
}

/// One DER tag-length-value: (tag, content, what follows). Single-byte tags and definite
/// lengths of up to four bytes; anything else is `None`.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let (content, after) = rest.split_at(len);
    Some((tag, content, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dns: &[&str], ips: &[&str]) -> CertificateNames {
        CertificateNames {
            dns: dns.iter().map(|s| (*s).to_owned()).collect(),
            ips: ips.iter().filter_map(|s| s.parse().ok()).collect(),
        }
    }

    #[test]
    fn the_aws_endpoint_certificate_names_cover_private_dns_and_vpce_names() {
        let aws = names(
            &[
                "lambda.us-east-1.amazonaws.com",
                "*.lambda.us-east-1.vpce.amazonaws.com",
            ],
            &[],
        );
        assert!(aws.covers("lambda.us-east-1.amazonaws.com"));
        assert!(aws.covers("LAMBDA.us-east-1.amazonaws.com."));
        assert!(aws.covers(
            "vpce-0123456789abcdef0-1a2b3c4d-us-east-1a.lambda.us-east-1.vpce.amazonaws.com"
        ));
        assert!(!aws.covers("lambda.us-west-2.amazonaws.com"));
        assert!(!aws.covers("lambda.us-east-1.vpce.amazonaws.com"));
        assert!(!aws.covers("a.b.lambda.us-east-1.vpce.amazonaws.com"));
    }

    #[test]
    fn an_ip_server_name_is_covered_only_by_an_ip_entry() {
        let local = names(&["localhost", "127.0.0.1"], &["127.0.0.1", "::1"]);
        assert!(local.covers("127.0.0.1"));
        assert!(local.covers("[::1]"));
        assert!(!local.covers("127.0.0.2"));
        assert!(!names(&["127.0.0.1"], &[]).covers("127.0.0.1"));
    }

    #[cfg(feature = "local")]
    #[test]
    fn an_rcgen_certificate_yields_its_dns_and_ip_names() {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec![
            "localhost".to_owned(),
            "*.lambda.us-east-1.vpce.amazonaws.com".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .expect("params");
        let cert = params.self_signed(&key).expect("cert");
        let parsed = CertificateNames::from_der(cert.der()).expect("parsed");
        assert_eq!(
            parsed.dns_names(),
            ["localhost", "*.lambda.us-east-1.vpce.amazonaws.com"]
        );
        let ips: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
        assert_eq!(parsed.ip_addresses(), ips.as_slice());
        assert!(parsed.covers("localhost") && parsed.covers("::1"));
    }

    #[cfg(feature = "local")]
    #[test]
    fn garbage_and_truncated_input_are_refused_without_panicking() {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let der = cert.der().to_vec();
        for cut in 0..der.len() {
            let _ = CertificateNames::from_der(&der[..cut]);
        }
        assert!(CertificateNames::from_der(&[]).is_none());
        assert!(CertificateNames::from_der(b"not a certificate").is_none());
        assert!(CertificateNames::from_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
    }

    proptest::proptest! {
        #[test]
        fn no_input_makes_the_parser_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = CertificateNames::from_der(&bytes);
        }
    }
}
