//! The checks behind `lambda-vpce doctor`, for library users too.
//!
//! Each answers one question the Lambda guide raises about interface VPC endpoints:
//!
//! - *Does traffic stay in the VPC?* [`classify_ip`] and [`reach`]: every resolved address
//!   private (RFC 1918, `100.64/10`, IPv6 ULA `fc00::/7`) means yes; a public one means calls
//!   leave through a NAT or internet gateway (private DNS off, or the wrong name).
//! - *Does TLS work, and does the certificate cover the name?* [`probe`] times DNS, TCP and
//!   TLS; [`CertificateNames`] reads the subjectAltNames and matches a server name.
//! - *Which HTTP version, and how many streams per connection?* [`probe`] offers `h2` then
//!   `http/1.1` in ALPN (as aws-sdk-lambda's default client does) and, when the server picks
//!   `h2`, reads its first SETTINGS frame: [`Http2Settings`].
//! - *Which zone?* [`zone_notes`]: zonal VPCE names, zone ids in names, and the
//!   capacity-constrained `use1-az3`.
//! - *Why AccessDenied?* [`EndpointPolicyDenial`]: a denial by the endpoint's policy, with the
//!   guide's note on listing both unqualified and qualified (`ARN:*`) function ARNs.
//!
//! Everything but [`probe`] is pure.

mod access;
mod address;
mod cert;
mod h2_settings;
mod handshake;
mod zone;

pub use access::EndpointPolicyDenial;
pub use address::{classify_ip, reach, AddressClass, Reach};
pub use cert::CertificateNames;
pub use h2_settings::Http2Settings;
pub use handshake::{probe, Probe, TcpProbe, TlsProbe};
pub use zone::{az_ids_in, zone_notes, Severity, ZoneNote, CAPACITY_CONSTRAINED_AZ_IDS};
