//! The SDK client's `sigv4` auth scheme: the signer the lean path uses too (`crate::sign`:
//! cached signing key, streamed canonical request) for every request it can sign exactly as
//! aws-runtime's `SigV4Signer` would, and that signer itself for the rest.
//!
//! [`LeanSigV4`] replaces the SDK's scheme under the same id (`sigv4`), so the SDK's auth
//! resolution, identity resolver and identity cache (credential refresh) are unchanged: the
//! signer is handed the SDK's resolved credentials, reads its signing region and name where the
//! SDK's signer reads them (the endpoint's auth-scheme properties — none for Lambda — then the
//! config bag's `SigningRegion`/`SigningName`, then the operation's signing config), takes the
//! time from the runtime components' time source shifted by the clock skew (see [`skew`]), and
//! writes `x-amz-date`, `Authorization` and `x-amz-security-token` as `sign()` does.
//!
//! It signs only under the settings it reproduces byte for byte: header signature, double URI
//! encoding, path normalisation on, session token included, no payload override, no
//! `x-amz-content-sha256`, no presigning, no session-token name override, no chunk or event
//! signer, a body in memory. Anything else — `InvokeAsync`'s streaming body, an endpoint with
//! auth-scheme properties, a path aws-sigv4 would normalise — is signed by aws-runtime's
//! `SigV4Signer`, never differently.

mod canonical;
mod skew;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_runtime::auth::sigv4::{SigV4Signer, SCHEME_ID};
use aws_runtime::auth::{
    HttpSignatureType, PayloadSigningOverride, SigV4OperationSigningConfig,
    SigV4SessionTokenNameOverride,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::auth::{
    AuthScheme, AuthSchemeEndpointConfig, AuthSchemeId, Sign,
};
use aws_smithy_runtime_api::client::identity::{Identity, SharedIdentityResolver};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{GetIdentityResolver, RuntimeComponents};
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::region::SigningRegion;
use aws_types::SigningName;

use crate::sign::{self, AmzDate, SigningMac};
use crate::wire::header;
use skew::AttemptSkew;
pub(crate) use skew::SkewMirror;

/// Which signer the SDK client built by [`LambdaVpce`](crate::LambdaVpce) signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Signer {
    /// The default: the lean path's SigV4 (signing key cached per day, canonical request
    /// streamed), byte-identical to the SDK's, as the SDK's `sigv4` auth scheme. Requests it
    /// cannot sign exactly as the SDK would (a streaming body, presigning, signing options it
    /// does not reproduce) are signed by the SDK's own signer.
    #[default]
    Lean,
    /// The SDK's own `sigv4` scheme (aws-runtime's `SigV4Signer`) for every request.
    Sdk,
}

/// Hex SHA-256 of an empty body, the payload hash of every bodiless request.
const EMPTY_SHA256: &[u8; 64] = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Installs the lean `sigv4` scheme (the skew it signs with is measured by the client's
/// interceptor, `super::interceptor::CallInterceptor::new(true)`).
pub(crate) fn install(
    conf: aws_sdk_lambda::config::Builder,
    scheme: LeanSigV4,
) -> aws_sdk_lambda::config::Builder {
    conf.push_auth_scheme(scheme)
}

/// How many requests each signer signed (tests and measurements).
#[derive(Debug, Default)]
pub(crate) struct SignCounts {
    pub(crate) lean: AtomicU64,
    pub(crate) sdk: AtomicU64,
}

/// The `sigv4` auth scheme with the lean signer.
#[derive(Debug, Clone, Default)]
pub(crate) struct LeanSigV4 {
    signer: LeanSigner,
}

impl LeanSigV4 {
    /// What it has signed so far, by signer.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> Arc<SignCounts> {
        self.signer.counts.clone()
    }
}

impl AuthScheme for LeanSigV4 {
    fn scheme_id(&self) -> AuthSchemeId {
        SCHEME_ID
    }

    fn identity_resolver(
        &self,
        identity_resolvers: &dyn GetIdentityResolver,
    ) -> Option<SharedIdentityResolver> {
        identity_resolvers.identity_resolver(self.scheme_id())
    }

    fn signer(&self) -> &dyn Sign {
        &self.signer
    }
}

/// The signing key of one (secret, date, region, service), as an HMAC ready to clone.
struct DayKey {
    secret: String,
    date: [u8; 8],
    region: String,
    service: String,
    mac: SigningMac,
}

#[derive(Debug, Clone, Default)]
struct LeanSigner {
    key: Arc<Mutex<Option<DayKey>>>,
    counts: Arc<SignCounts>,
    fallback: Arc<SigV4Signer>,
}

impl std::fmt::Debug for DayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DayKey")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl LeanSigner {
    fn mac(
        &self,
        secret: &str,
        date: &AmzDate,
        time: SystemTime,
        region: &str,
        service: &str,
    ) -> SigningMac {
        let day = date.date();
        let mut cached = self.key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = cached.as_ref().filter(|k| {
            k.date == day && k.region == region && k.service == service && k.secret == secret
        }) {
            return k.mac.clone();
        }
        let mac = sign::keyed_mac(&sign::signing_key_for(secret, time, region, service));
        *cached = Some(DayKey {
            secret: secret.to_owned(),
            date: day,
            region: region.to_owned(),
            service: service.to_owned(),
            mac: mac.clone(),
        });
        mac
    }

    /// Signs `request` as aws-runtime's signer would; `false` (request untouched) when it
    /// cannot reproduce that signature exactly.
    fn try_sign(
        &self,
        request: &mut HttpRequest,
        identity: &Identity,
        endpoint_config: &AuthSchemeEndpointConfig<'_>,
        rc: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> bool {
        let Some(creds) = identity.data::<Credentials>() else {
            return false;
        };
        // Endpoint auth-scheme properties (Lambda's rules have none) change the signing name,
        // region or options: the SDK's signer reads them.
        if endpoint_config.as_document().is_some()
            || [
                "signingName",
                "signingRegion",
                "disableDoubleEncoding",
                "disableNormalizePath",
            ]
            .iter()
            .any(|k| endpoint_config.get(k).is_some())
        {
            return false;
        }
        let Some(op) = cfg.load::<SigV4OperationSigningConfig>() else {
            return false;
        };
        let o = &op.signing_options;
        if !o.double_uri_encode
            || o.content_sha256_header
            || !o.normalize_uri_path
            || o.omit_session_token
            || o.payload_override.is_some()
            || o.signature_type != HttpSignatureType::HttpRequestHeaders
            || o.expires_in.is_some()
            || cfg.load::<SigV4SessionTokenNameOverride>().is_some()
            || cfg.load::<PayloadSigningOverride>().is_some()
            || cfg
                .load::<aws_runtime::content_encoding::DeferredSignerSender>()
                .is_some()
            || cfg
                .load::<aws_smithy_types::event_stream::DeferredSignerSender>()
                .is_some()
        {
            return false;
        }
        let region = cfg.load::<SigningRegion>().or(op.region.as_ref());
        let service = cfg.load::<SigningName>().or(op.name.as_ref());
        let (Some(region), Some(service)) = (region, service) else {
            return false;
        };
        let (region, service) = (region.as_ref(), service.as_ref());
        // A streaming body is signed UNSIGNED-PAYLOAD by the SDK's signer.
        let Some(body) = request.body().bytes() else {
            return false;
        };
        let payload_sha256 = if body.is_empty() {
            *EMPTY_SHA256
        } else {
            sign::sha256_hex(body)
        };
        let now = rc.time_source().unwrap_or_default().now();
        let time = cfg.load::<AttemptSkew>().map_or(now, |s| s.0.apply(now));
        let Some(date) = AmzDate::new(time) else {
            return false;
        };
        let Ok(date_time) = std::str::from_utf8(date.date_time()) else {
            return false;
        };
        let token = creds.session_token();
        // aws-sigv4 refuses a token that is no header value: its signer reports that.
        if token.is_some_and(|t| http::HeaderValue::from_str(t).is_err()) {
            return false;
        }
        let Some(uri) = canonical::split_uri(request.uri()) else {
            return false;
        };

        let access_key = creds.access_key_id();
        let mut auth = String::with_capacity(
            sign::SIGV4_ALGORITHM.len() + access_key.len() + region.len() + service.len() + 320,
        );
        auth.push_str(sign::SIGV4_ALGORITHM);
        auth.push_str(" Credential=");
        auth.push_str(access_key);
        auth.push('/');
        auth.push_str(&date_time[..8]);
        auth.push('/');
        auth.push_str(region);
        auth.push('/');
        auth.push_str(service);
        auth.push_str("/aws4_request, SignedHeaders=");
        let added = canonical::Added {
            host: uri.host,
            date_time,
            security_token: token,
        };
        let Some(creq) = canonical::hash(
            request.method(),
            &uri,
            request.headers().iter(),
            &added,
            &payload_sha256,
            &mut auth,
        ) else {
            return false;
        };
        let mac = self.mac(creds.secret_access_key(), &date, time, region, service);
        let signature = sign::signature_for(mac, &date, region, service, &creq);
        auth.push_str(", Signature=");
        auth.push_str(std::str::from_utf8(&signature).unwrap_or_default());

        // The order and the replacing inserts of aws-runtime's `apply_signing_instructions`.
        let headers = request.headers_mut();
        headers.insert(header::AMZ_DATE, date_time.to_owned());
        headers.insert("authorization", auth);
        if let Some(token) = token {
            headers.insert(header::SECURITY_TOKEN, token.to_owned());
        }
        true
    }
}

impl Sign for LeanSigner {
    fn sign_http_request(
        &self,
        request: &mut HttpRequest,
        identity: &Identity,
        endpoint_config: AuthSchemeEndpointConfig<'_>,
        rc: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        if self.try_sign(request, identity, &endpoint_config, rc, cfg) {
            self.counts.lean.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        self.counts.sdk.fetch_add(1, Ordering::Relaxed);
        self.fallback
            .sign_http_request(request, identity, endpoint_config, rc, cfg)
    }
}
