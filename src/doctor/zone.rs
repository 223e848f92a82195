//! Availability zones in endpoint names: zonal VPCE names, zone ids, and use1-az3.

use crate::endpoint::Endpoint;

/// Zone ids the Lambda guide calls capacity-constrained for Lambda VPC functions: subnets
/// there should not be used. Only `use1-az3` (in us-east-1) today.
pub const CAPACITY_CONSTRAINED_AZ_IDS: [&str; 1] = ["use1-az3"];

/// How much a [`ZoneNote`] matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Info,
    /// Should be checked or changed.
    Warning,
}

/// One finding about availability zones.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZoneNote {
    /// How much it matters.
    pub severity: Severity,
    /// What was found and what to do, in a sentence or two.
    pub message: String,
}

impl ZoneNote {
    fn new(severity: Severity, message: String) -> Self {
        ZoneNote { severity, message }
    }
}

/// Zone ids (`use1-az3`, `euw1-az2`, `apne1-az4`) written anywhere in `host`, lowercased, in
/// order of appearance. AWS's own VPCE names carry zone *names* (`us-east-1a`), never ids;
/// an id appears only in names someone chose (a private hosted zone, a proxy).
pub fn az_ids_in(host: &str) -> Vec<String> {
    let host = host.to_ascii_lowercase();
    let bytes = host.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = host.get(from..).and_then(|s| s.find("-az")) {
        let at = from + pos;
        from = at + 3;
        let digits = bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let after = bytes.get(from + digits);
        if digits == 0 || after.is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        // The prefix: letters then digits (`use1`, `apne1`, `usgw1`), back to a separator.
        let start = bytes[..at]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric())
            .map_or(0, |p| p + 1);
        let prefix = &host[start..at];
        let letters = prefix.bytes().take_while(u8::is_ascii_lowercase).count();
        let rest = &prefix[letters..];
        if letters >= 2 && !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            found.push(host[start..from + digits].to_owned());
        }
    }
    found
}

/// What the endpoint's names say about zones: a zonal VPCE name and its AZ (with how to map
/// the AZ *name* to its zone *id*, and the use1-az3 warning in us-east-1), and any zone id
/// written in the connect host or SNI, warning for [`CAPACITY_CONSTRAINED_AZ_IDS`].
pub fn zone_notes(endpoint: &Endpoint) -> Vec<ZoneNote> {
    let mut notes = Vec::new();
    if let Some(az) = endpoint.availability_zone() {
        notes.push(ZoneNote::new(
            Severity::Info,
            format!(
                "zonal endpoint name: connections go to the endpoint's ENI in {az}, falling \
                 back to the regional name when it fails"
            ),
        ));
        if endpoint.region() == Some("us-east-1") {
            notes.push(ZoneNote::new(
                Severity::Warning,
                format!(
                    "{az} is an AZ name; AZ names map to different zone ids in every account. \
                     Check that it is not use1-az3 (capacity-constrained for Lambda VPC \
                     functions, per the Lambda guide): aws ec2 describe-availability-zones \
                     --zone-names {az} --query 'AvailabilityZones[].ZoneId'"
                ),
            ));
        }
    } else if endpoint.region() == Some("us-east-1") {
        notes.push(ZoneNote::new(
            Severity::Info,
            "us-east-1: use1-az3 is capacity-constrained for Lambda VPC functions (Lambda \
             guide); keep the endpoint's and functions' subnets out of it (AZ names map to \
             zone ids per account: aws ec2 describe-availability-zones)"
                .to_owned(),
        ));
    }
    let mut ids = az_ids_in(endpoint.connect_host());
    for id in az_ids_in(endpoint.sni()) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    for id in ids {
        if CAPACITY_CONSTRAINED_AZ_IDS.contains(&id.as_str()) {
            notes.push(ZoneNote::new(
                Severity::Warning,
                format!(
                    "the name carries zone id {id}, capacity-constrained for Lambda VPC \
                     functions (Lambda guide): do not use subnets there"
                ),
            ));
        } else {
            notes.push(ZoneNote::new(
                Severity::Info,
                format!("the name carries zone id {id}"),
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_are_found_inside_labels_and_nothing_else_is() {
        assert_eq!(az_ids_in("lambda-use1-az3.internal"), vec!["use1-az3"]);
        assert_eq!(az_ids_in("EUW1-AZ2.proxy.example"), vec!["euw1-az2"]);
        assert_eq!(
            az_ids_in("apne1-az4.a.usgw1-az1.b"),
            vec!["apne1-az4", "usgw1-az1"]
        );
        for none in [
            "vpce-0123456789abcdef0-1a2b3c4d-us-east-1a.lambda.us-east-1.vpce.amazonaws.com",
            "lambda.us-east-1.amazonaws.com",
            "use1-az.x",
            "use1-az3x.example",
            "1-az3.example",
            "-az3",
            "localhost",
            "",
        ] {
            assert!(az_ids_in(none).is_empty(), "{none}");
        }
    }

    #[test]
    fn a_zonal_name_in_us_east_1_warns_to_map_its_az_name_to_an_id() {
        let e = Endpoint::vpce_zonal(
            "vpce-0123456789abcdef0",
            "1a2b3c4d",
            "us-east-1",
            "us-east-1c",
        )
        .expect("valid zonal name");
        let notes = zone_notes(&e);
        assert!(notes[0].message.contains("us-east-1c"));
        let warn = notes
            .iter()
            .find(|n| n.severity == Severity::Warning)
            .expect("a warning");
        assert!(
            warn.message.contains("use1-az3") && warn.message.contains("--zone-names us-east-1c")
        );
    }

    #[test]
    fn a_zonal_name_elsewhere_has_no_warning() {
        let e = Endpoint::vpce_zonal(
            "vpce-0123456789abcdef0",
            "1a2b3c4d",
            "eu-west-1",
            "eu-west-1a",
        )
        .expect("valid zonal name");
        let notes = zone_notes(&e);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].severity, Severity::Info);
    }

    #[test]
    fn a_host_naming_use1_az3_is_warned_about() {
        let e = Endpoint::from_url("https://lambda-use1-az3.proxy.internal").expect("url");
        let notes = zone_notes(&e);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].severity, Severity::Warning);
        assert!(notes[0].message.contains("use1-az3"));
        let other = Endpoint::from_url("https://lambda-use1-az1.proxy.internal").expect("url");
        assert_eq!(zone_notes(&other)[0].severity, Severity::Info);
    }

    #[test]
    fn a_loopback_url_has_no_zone_notes() {
        let e = Endpoint::from_url("https://localhost:8443").expect("url");
        assert!(zone_notes(&e).is_empty());
    }
}
