//! The TLS crypto provider: the one place the crate chooses one (user's guide: `docs/tls.md`).
//!
//! Everything in the crate that speaks TLS takes its rustls [`CryptoProvider`] from
//! [`crypto_provider`]: the pool's connections (and with them the SDK adapter and the lean
//! path), `doctor`'s handshake, the embedded endpoint ([`local`](crate::local)), and the HTTP
//! client of the credential chain. No other module names a crypto crate.
//!
//! A cargo feature picks the provider; when more than one is on, `fips` wins over `ring` and
//! `ring` over `aws-lc-rs`:
//!
//! | feature | provider | key exchange offered, in order |
//! |---|---|---|
//! | `aws-lc-rs` (default) | aws-lc-rs, rustls's default provider | X25519MLKEM768, secp384r1, X25519, secp256r1 |
//! | `ring` | *ring* | secp384r1, X25519, secp256r1 (no post-quantum group) |
//! | `fips` | aws-lc-rs's FIPS 140-3 module | the FIPS-approved ones: X25519MLKEM768, secp384r1, secp256r1 |
//!
//! The default is what aws-sdk-lambda's default HTTPS client (aws-smithy-http-client's
//! `rustls-aws-lc`) offers: the hybrid post-quantum group first, so that a server supporting
//! it protects the session's keys against a future quantum computer ("harvest now, decrypt
//! later"). The groups are the provider's own defaults, never a list of the crate's.
//!
//! Under `fips`, configurations are checked to be FIPS-only when built (rustls's
//! `ClientConfig::fips` / `ServerConfig::fips`); a configuration that is not is refused with a
//! [`BuildError`](crate::BuildError) rather than used. [`TlsProvider::current`] tells at run
//! time which provider is in use and whether it runs in FIPS mode (`lambda-vpce doctor` prints
//! it).

use std::sync::{Arc, OnceLock};

pub use rustls::crypto::CryptoProvider;

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring", feature = "fips")))]
compile_error!(
    "lambda-vpce needs a TLS crypto provider: enable its `aws-lc-rs` (default), `ring` or `fips` feature"
);

/// The rustls crypto provider this build of the crate uses for every TLS connection it makes
/// or accepts (see the [module docs](self)). Build your own rustls configurations with it to
/// match the crate's.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(build())).clone()
}

#[cfg(feature = "fips")]
fn build() -> CryptoProvider {
    // aws-lc-rs's default provider, its groups and suites filtered to the FIPS-approved ones.
    rustls::crypto::default_fips_provider()
}

#[cfg(all(feature = "ring", not(feature = "fips")))]
#[allow(deprecated)] // rustls 0.23.48: "no support for post-quantum algorithms" — the known cost of `ring`.
fn build() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

#[cfg(all(feature = "aws-lc-rs", not(any(feature = "ring", feature = "fips"))))]
fn build() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// The provider's name, as reports print it.
const NAME: &str = if cfg!(feature = "fips") {
    "aws-lc-rs (FIPS module)"
} else if cfg!(feature = "ring") {
    "ring"
} else {
    "aws-lc-rs"
};

/// The crypto mode of aws-smithy-http-client's rustls for the same provider (the credential
/// chain's HTTP client).
pub(crate) fn smithy_crypto_mode() -> aws_smithy_http_client::tls::rustls_provider::CryptoMode {
    use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
    #[cfg(feature = "fips")]
    let mode = CryptoMode::AwsLcFips;
    #[cfg(all(feature = "ring", not(feature = "fips")))]
    let mode = CryptoMode::Ring;
    #[cfg(all(feature = "aws-lc-rs", not(any(feature = "ring", feature = "fips"))))]
    let mode = CryptoMode::AwsLc;
    mode
}

/// Which provider is in use and what it offers: a run-time view for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsProvider {
    /// `aws-lc-rs`, `aws-lc-rs (FIPS module)` or `ring`.
    pub name: &'static str,
    /// Whether the provider runs in FIPS mode, as the provider itself reports it
    /// (`CryptoProvider::fips`): only under the `fips` feature.
    pub fips: bool,
    /// The key-exchange groups offered, in order (IANA names, such as `X25519MLKEM768`).
    pub key_exchange_groups: Vec<String>,
    /// The cipher suites offered, in order (IANA names).
    pub cipher_suites: Vec<String>,
}

impl TlsProvider {
    /// The provider of this build ([`crypto_provider`]).
    pub fn current() -> TlsProvider {
        let p = crypto_provider();
        TlsProvider {
            name: NAME,
            fips: p.fips(),
            key_exchange_groups: p.kx_groups.iter().map(|g| group_name(g.name())).collect(),
            cipher_suites: p
                .cipher_suites
                .iter()
                .map(|s| suite_name(s.suite()))
                .collect(),
        }
    }
}

impl std::fmt::Display for TlsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, FIPS mode {}, key exchange {}",
            self.name,
            if self.fips { "on" } else { "off" },
            self.key_exchange_groups.join(", ")
        )
    }
}

/// A key-exchange group's IANA name (`X25519MLKEM768`, `secp256r1`).
pub(crate) fn group_name(g: rustls::NamedGroup) -> String {
    format!("{g:?}")
}

/// A cipher suite's IANA name (`TLS13_AES_128_GCM_SHA256`).
pub(crate) fn suite_name(s: rustls::CipherSuite) -> String {
    format!("{s:?}")
}

/// Refuses a configuration that is not FIPS-only under the `fips` feature (a no-op otherwise).
pub(crate) fn check_fips(is_fips: bool, what: &str) -> Result<(), crate::BuildError> {
    if cfg!(feature = "fips") && !is_fips {
        return Err(crate::BuildError::new(
            "tls",
            format!("{what} is not FIPS-only"),
            "a FIPS-approved configuration (cargo feature `fips`)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_is_built_once_and_shared() {
        assert!(Arc::ptr_eq(&crypto_provider(), &crypto_provider()));
    }

    #[cfg(all(feature = "aws-lc-rs", not(any(feature = "ring", feature = "fips"))))]
    #[test]
    fn aws_lc_rs_offers_the_hybrid_post_quantum_group_first() {
        let p = TlsProvider::current();
        assert_eq!(p.name, "aws-lc-rs");
        assert!(!p.fips);
        assert_eq!(p.key_exchange_groups[0], "X25519MLKEM768", "{p}");
    }

    #[cfg(all(feature = "ring", not(feature = "fips")))]
    #[test]
    fn ring_offers_only_classical_groups() {
        let p = TlsProvider::current();
        assert_eq!(p.name, "ring");
        assert!(
            p.key_exchange_groups.iter().all(|g| !g.contains("MLKEM")),
            "{p}"
        );
    }

    #[cfg(feature = "fips")]
    #[test]
    fn fips_runs_the_provider_in_fips_mode() {
        let p = TlsProvider::current();
        assert!(p.fips, "{p}");
        assert!(!p.key_exchange_groups.contains(&"X25519".to_owned()), "{p}");
    }
}
