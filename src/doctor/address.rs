//! Is an endpoint address inside the VPC? Pure classification of IP addresses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where an address sends traffic, as far as its number tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), shared address space `100.64/10`
    /// (RFC 6598), or IPv6 unique local `fc00::/7`: a VPC address, as an interface endpoint's
    /// ENIs have.
    Private,
    /// Loopback (`127/8`, `::1`): this machine, such as a local test endpoint or a proxy.
    Loopback,
    /// Link-local (`169.254/16`, `fe80::/10`): this network link only; never an interface
    /// endpoint's address.
    LinkLocal,
    /// Unspecified, multicast, broadcast, documentation or otherwise reserved: not an address
    /// a connection should go to.
    Reserved,
    /// Anything else: a public address, reached through a NAT or internet gateway.
    Public,
}

impl AddressClass {
    /// A short, stable name: `private`, `loopback`, `link-local`, `reserved` or `public`.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressClass::Private => "private",
            AddressClass::Loopback => "loopback",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Reserved => "reserved",
            AddressClass::Public => "public",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies one address. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is classified as its
/// IPv4 address.
///
/// ```
/// use lambda_vpce::doctor::{classify_ip, AddressClass};
/// assert_eq!(classify_ip("10.0.3.17".parse().unwrap()), AddressClass::Private);
/// assert_eq!(classify_ip("100.64.0.9".parse().unwrap()), AddressClass::Private);
/// assert_eq!(classify_ip("fd12:3456::1".parse().unwrap()), AddressClass::Private);
/// assert_eq!(classify_ip("52.94.1.1".parse().unwrap()), AddressClass::Public);
/// ```
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, _, _] = ip.octets();
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        AddressClass::Private
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

/// What a set of resolved addresses means for the traffic, worst address first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reach {
    /// Every address is private: traffic stays in the VPC.
    InVpc,
    /// Every address is loopback (or a mix of loopback and private): a local endpoint or proxy.
    Local,
    /// At least one address is public: traffic leaves through a NAT or internet gateway.
    LeavesVpc,
    /// An address is link-local or reserved, and none is public: not a usable endpoint.
    Unusable,
    /// Nothing resolved.
    Unresolved,
}

impl Reach {
    /// A short, stable name: `in-vpc`, `local`, `leaves-vpc`, `unusable` or `unresolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::InVpc => "in-vpc",
            Reach::Local => "local",
            Reach::LeavesVpc => "leaves-vpc",
            Reach::Unusable => "unusable",
            Reach::Unresolved => "unresolved",
        }
    }

    /// What this means for the operator, in one or two sentences.
    pub fn advice(self) -> &'static str {
        match self {
            Reach::InVpc => "every address is private: traffic stays in the VPC",
            Reach::Local => {
                "every address is on this machine (loopback): a local endpoint or proxy, \
                 not a VPC endpoint"
            }
            Reach::LeavesVpc => {
                "a public address: traffic leaves through a NAT or internet gateway. Enable \
                 private DNS on the interface endpoint (needs the VPC's enableDnsHostnames and \
                 enableDnsSupport) or use the VPCE hostname"
            }
            Reach::Unusable => {
                "a link-local or reserved address: not an interface endpoint's address; check \
                 the DNS records for this name"
            }
            Reach::Unresolved => "the name resolved to no address",
        }
    }
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on a whole address set: any public address wins, then link-local or reserved,
/// then loopback; all private means [`Reach::InVpc`].
pub fn reach<I: IntoIterator<Item = IpAddr>>(addresses: I) -> Reach {
    let mut seen = false;
    let (mut public, mut unusable, mut loopback) = (false, false, false);
    for ip in addresses {
        seen = true;
        match classify_ip(ip) {
            AddressClass::Public => public = true,
            AddressClass::LinkLocal | AddressClass::Reserved => unusable = true,
            AddressClass::Loopback => loopback = true,
            AddressClass::Private => {}
        }
    }
    if !seen {
        Reach::Unresolved
    } else if public {
        Reach::LeavesVpc
    } else if unusable {
        Reach::Unusable
    } else if loopback {
        Reach::Local
    } else {
        Reach::InVpc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> AddressClass {
        classify_ip(s.parse().expect("test address"))
    }

    #[test]
    fn rfc1918_shared_space_and_unique_local_addresses_are_private() {
        for ip in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "fc00::1",
            "fd00:ec2::23",
            "::ffff:10.1.2.3",
        ] {
            assert_eq!(class(ip), AddressClass::Private, "{ip}");
        }
    }

    #[test]
    fn neighbours_of_the_private_ranges_are_public() {
        for ip in [
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.0",
            "11.0.0.1",
            "192.169.0.1",
            "52.94.133.131",
            "2600:1f18::1",
            "fe00::1",
            "::ffff:52.1.2.3",
        ] {
            assert_eq!(class(ip), AddressClass::Public, "{ip}");
        }
    }

    #[test]
    fn loopback_link_local_and_reserved_addresses_have_their_own_classes() {
        assert_eq!(class("127.0.0.1"), AddressClass::Loopback);
        assert_eq!(class("127.8.9.10"), AddressClass::Loopback);
        assert_eq!(class("::1"), AddressClass::Loopback);
        assert_eq!(class("169.254.169.254"), AddressClass::LinkLocal);
        assert_eq!(class("fe80::1"), AddressClass::LinkLocal);
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::",
            "ff02::1",
            "2001:db8::1",
            "240.0.0.1",
        ] {
            assert_eq!(class(ip), AddressClass::Reserved, "{ip}");
        }
    }

    #[test]
    fn one_public_address_means_the_traffic_leaves_the_vpc() {
        let ips: Vec<IpAddr> = ["10.0.1.5", "52.94.1.1"]
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        assert_eq!(reach(ips), Reach::LeavesVpc);
    }

    #[test]
    fn all_private_addresses_mean_the_traffic_stays_in_the_vpc() {
        let ips: Vec<IpAddr> = ["10.0.1.5", "10.0.2.5", "fd00::5"]
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        assert_eq!(reach(ips), Reach::InVpc);
        assert!(Reach::InVpc.advice().contains("stays in the VPC"));
    }

    #[test]
    fn loopback_is_local_link_local_is_unusable_and_nothing_is_unresolved() {
        let lo: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
        assert_eq!(reach(lo), Reach::Local);
        let ll: Vec<IpAddr> = vec![Ipv4Addr::new(169, 254, 1, 1).into()];
        assert_eq!(reach(ll), Reach::Unusable);
        assert_eq!(reach(Vec::new()), Reach::Unresolved);
    }

    #[test]
    fn the_public_advice_names_private_dns_and_the_vpce_hostname() {
        let advice = Reach::LeavesVpc.advice();
        assert!(advice.contains("NAT or internet gateway"));
        assert!(advice.contains("enableDnsHostnames") && advice.contains("enableDnsSupport"));
        assert!(advice.contains("VPCE hostname"));
    }
}
