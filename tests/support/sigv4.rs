//! The tests' one reference SigV4 signer: aws-sigv4's `sign()`, the SDK's own signer library,
//! with the settings the SDK uses for Lambda unless told otherwise. What the crate's signers
//! (the lean path's, the SDK adapter's cached one) and the embedded endpoint's verifier are
//! checked against.
//!
//! The same file serves the library's unit tests (`src/reference_sigv4.rs` includes it), so it
//! uses nothing but the library's own dependencies.
#![allow(dead_code, unreachable_pub)]

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SigningInstructions, SigningSettings,
};
use aws_sigv4::sign::v4;

/// Who signs, for which service and region, at what time, with which settings.
#[derive(Debug, Clone)]
pub struct ReferenceSigner {
    credentials: Credentials,
    region: String,
    service: &'static str,
    time: SystemTime,
    settings: SigningSettings,
}

impl ReferenceSigner {
    /// `credentials` signing for Lambda (another with [`service`](Self::service)) in `region`,
    /// now, with aws-sigv4's default settings (the SDK's for Lambda).
    pub fn new(credentials: Credentials, region: &str) -> Self {
        ReferenceSigner {
            credentials,
            region: region.to_owned(),
            service: "lambda",
            time: SystemTime::now(),
            settings: SigningSettings::default(),
        }
    }

    /// Signs for another service (`iam`, ...).
    pub fn service(mut self, service: &'static str) -> Self {
        self.service = service;
        self
    }

    /// Signs as if at `time`.
    pub fn at(mut self, time: SystemTime) -> Self {
        self.time = time;
        self
    }

    /// Signs with `settings`.
    pub fn settings(mut self, settings: SigningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// What aws-sigv4 adds to a request of `method` to `uri` with `headers` (which must not
    /// hold the ones it adds itself: `authorization`, `x-amz-date`, `x-amz-security-token`)
    /// and `body`, and the signature it computes.
    pub fn sign<'a>(
        &self,
        method: &'a str,
        uri: &'a str,
        headers: impl Iterator<Item = (&'a str, &'a str)>,
        body: SignableBody<'a>,
    ) -> Result<(SigningInstructions, String), String> {
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(self.time)
            .settings(self.settings.clone())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let signable =
            SignableRequest::new(method, uri, headers, body).map_err(|e| e.to_string())?;
        Ok(sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts())
    }

    /// The `Authorization` value for a request as [`sign`](Self::sign) takes it.
    pub fn authorization<'a>(
        &self,
        method: &'a str,
        uri: &'a str,
        headers: impl Iterator<Item = (&'a str, &'a str)>,
        body: &'a [u8],
    ) -> String {
        let (instructions, _) = self
            .sign(method, uri, headers, SignableBody::Bytes(body))
            .expect("aws-sigv4 signs");
        let authorization = instructions
            .headers()
            .find(|(name, _)| *name == "authorization")
            .map(|(_, value)| value.to_owned());
        authorization.expect("an authorization header")
    }

    /// Signs `request` — its method, `uri` (the URL it is sent to; `request`'s own URI may be
    /// only a path), every header it carries, `body` as its payload — and adds the headers.
    pub fn sign_request<B>(&self, request: &mut http::Request<B>, uri: &str, body: &[u8]) {
        let method = request.method().as_str().to_owned();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| {
                let v = v.to_str().expect("a header the signer can read is ASCII");
                (k.as_str().to_owned(), v.to_owned())
            })
            .collect();
        let (instructions, _) = self
            .sign(
                &method,
                uri,
                headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                SignableBody::Bytes(body),
            )
            .expect("aws-sigv4 signs");
        instructions.apply_to_request_http1x(request);
    }
}
