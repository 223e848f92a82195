//! TLS as the SDK does it: the crate's client handshakes with the embedded endpoint on the
//! crate's crypto provider, and the endpoint records what each ClientHello offered and what was
//! negotiated. Which provider depends on the cargo features: the default build (aws-lc-rs)
//! negotiates the post-quantum hybrid X25519MLKEM768, `--features ring` a classical group,
//! `--features fips` offers only FIPS-approved algorithms.
#![cfg(feature = "local")]

mod support;

use lambda_vpce::local::{LocalEndpoint, TlsHandshake};
use lambda_vpce::tls::TlsProvider;
use support::ClientOpts;

/// One invoke through the crate's client (its pool) on a fresh endpoint; returns the endpoint's
/// record of the handshakes, which must all have succeeded.
async fn handshakes_of_one_invoke() -> Vec<TlsHandshake> {
    let ep = LocalEndpoint::start().await.expect("endpoint starts");
    let client = support::client(&ep, &ClientOpts::default());
    let out = support::invoke(&client, "echo", "{}").await;
    assert!(out.output.is_some(), "{out:?}");
    let seen = ep.tls_handshakes();
    assert!(!seen.is_empty(), "the endpoint saw no handshake");
    assert_eq!(ep.stats().tls_handshakes, seen.len() as u64);
    for h in &seen {
        assert!(h.key_exchange_group.is_some(), "a handshake failed: {h:?}");
    }
    seen
}

#[tokio::test]
async fn the_client_offers_its_providers_groups_in_order_and_the_first_is_negotiated() {
    let provider = TlsProvider::current();
    for h in handshakes_of_one_invoke().await {
        assert_eq!(h.offered_groups, provider.key_exchange_groups, "{h:?}");
        assert_eq!(
            h.key_exchange_group.as_ref(),
            provider.key_exchange_groups.first(),
            "{h:?}"
        );
        assert_eq!(h.protocol.as_deref(), Some("TLSv1_3"), "{h:?}");
    }
}

#[cfg(all(feature = "aws-lc-rs", not(any(feature = "ring", feature = "fips"))))]
#[tokio::test]
async fn by_default_the_handshake_negotiates_the_post_quantum_hybrid_group() {
    for h in handshakes_of_one_invoke().await {
        assert_eq!(
            h.offered_groups.first().map(String::as_str),
            Some("X25519MLKEM768"),
            "{h:?}"
        );
        assert_eq!(
            h.key_exchange_group.as_deref(),
            Some("X25519MLKEM768"),
            "{h:?}"
        );
    }
}

/// `bench`'s `sdk-default`: aws-sdk-lambda's default HTTP client (aws-smithy-http-client,
/// rustls on aws-lc-rs) offers the hybrid group first too, and gets it from the endpoint.
#[cfg(all(feature = "aws-lc-rs", not(any(feature = "ring", feature = "fips"))))]
#[tokio::test]
async fn the_sdks_default_client_negotiates_the_same_hybrid_group() {
    use aws_sdk_lambda::primitives::Blob;
    let ep = LocalEndpoint::start().await.expect("endpoint starts");
    let sdk = support::tls::sdk_default_client(&ep);
    sdk.invoke()
        .function_name("echo")
        .payload(Blob::new("{}"))
        .send()
        .await
        .expect("invokes");
    let seen = ep.tls_handshakes();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].offered_groups.first().map(String::as_str),
        Some("X25519MLKEM768")
    );
    assert_eq!(
        seen[0].key_exchange_group.as_deref(),
        Some("X25519MLKEM768")
    );
}

#[cfg(all(feature = "ring", not(feature = "fips")))]
#[tokio::test]
async fn with_ring_the_handshake_negotiates_a_classical_group() {
    const CLASSICAL: [&str; 3] = ["X25519", "secp256r1", "secp384r1"];
    for h in handshakes_of_one_invoke().await {
        assert!(
            h.offered_groups
                .iter()
                .all(|g| CLASSICAL.contains(&g.as_str())),
            "{h:?}"
        );
        let group = h.key_exchange_group.as_deref().unwrap_or_default();
        assert!(CLASSICAL.contains(&group), "{h:?}");
    }
}

/// Under `fips`, every algorithm the ClientHello offers is FIPS-approved (lists written out
/// here, not taken from rustls, so that a provider offering more fails the test).
#[cfg(feature = "fips")]
#[tokio::test]
async fn under_fips_the_client_hello_offers_only_approved_algorithms() {
    // SP 800-56A curves and the SP 800-56C hybrid with ML-KEM (FIPS 203); no X25519 alone.
    const GROUPS: [&str; 7] = [
        "secp256r1",
        "secp384r1",
        "secp521r1",
        "X25519MLKEM768",
        "SECP256R1MLKEM768",
        "MLKEM768",
        "MLKEM1024",
    ];
    // AES-GCM only: no ChaCha20-Poly1305.
    const SUITES: [&str; 6] = [
        "TLS13_AES_128_GCM_SHA256",
        "TLS13_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ];
    // FIPS 186-5 signatures (ECDSA on P-curves, RSA PKCS#1 v1.5 and PSS, EdDSA) and FIPS 204's
    // ML-DSA.
    const SIGNATURES: [&str; 13] = [
        "ECDSA_NISTP256_SHA256",
        "ECDSA_NISTP384_SHA384",
        "ECDSA_NISTP521_SHA512",
        "RSA_PSS_SHA256",
        "RSA_PSS_SHA384",
        "RSA_PSS_SHA512",
        "RSA_PKCS1_SHA256",
        "RSA_PKCS1_SHA384",
        "RSA_PKCS1_SHA512",
        "ED25519",
        "ML_DSA_44",
        "ML_DSA_65",
        "ML_DSA_87",
    ];
    let provider = TlsProvider::current();
    assert!(provider.fips, "{provider}");
    for h in handshakes_of_one_invoke().await {
        for g in &h.offered_groups {
            assert!(GROUPS.contains(&g.as_str()), "group {g} offered: {h:?}");
        }
        for s in &h.offered_cipher_suites {
            // TLS_EMPTY_RENEGOTIATION_INFO_SCSV is a signalling value, not a suite.
            assert!(
                SUITES.contains(&s.as_str()) || s == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
                "suite {s} offered: {h:?}"
            );
        }
        for s in &h.offered_signature_schemes {
            assert!(
                SIGNATURES.contains(&s.as_str()),
                "signature {s} offered: {h:?}"
            );
        }
    }
}
