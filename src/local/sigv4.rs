//! SigV4 verification of incoming requests, computed by hand with `hmac`/`sha2`.
//!
//! The canonical request is rebuilt from what arrived: the method, the path as sent
//! percent-encoded once more (SigV4's double encoding for every service but S3), the query
//! decoded, re-encoded and sorted, exactly the headers named in `SignedHeaders` (values
//! trimmed, inner runs of spaces collapsed, repeated headers joined by `,`), and the body's
//! SHA-256. A unit test proves agreement with aws-sigv4's `sign()`.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::wire::header as headers;

/// Largest accepted difference between a request's `X-Amz-Date` and the server clock.
pub(crate) const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "lambda";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Why a request was refused, in Lambda's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// No `Authorization` header.
    Missing,
    /// A malformed `Authorization` header or scope.
    Incomplete(String),
    /// The access key id is not the one configured.
    UnknownKey,
    /// The signature does not match.
    BadSignature,
    /// `X-Amz-Date` is too far from now.
    Expired(String),
}

impl AuthError {
    /// The `x-amzn-ErrorType` and message Lambda uses for this refusal.
    pub(crate) fn code_and_message(&self) -> (&'static str, String) {
        match self {
            AuthError::Missing => (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".to_owned(),
            ),
            AuthError::Incomplete(m) => ("IncompleteSignatureException", m.clone()),
            AuthError::UnknownKey => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_owned(),
            ),
            AuthError::BadSignature => (
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details."
                    .to_owned(),
            ),
            AuthError::Expired(m) => ("InvalidSignatureException", m.clone()),
        }
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, AuthError> {
    let incomplete =
        |what: &str| AuthError::Incomplete(format!("Authorization header requires {what}."));
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| AuthError::Incomplete("Unsupported signature algorithm.".to_owned()))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or_else(|| incomplete("'Credential' parameter"))?;
    let signed_headers = signed_headers.ok_or_else(|| incomplete("'SignedHeaders' parameter"))?;
    let signature = signature.ok_or_else(|| incomplete("'Signature' parameter"))?;
    let mut scope = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some("aws4_request"), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(AuthError::Incomplete(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            credential.split('/').nth(2).unwrap_or_default()
        )));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// Checks signatures against one configured credential.
#[derive(Debug)]
pub(crate) struct Verifier {
    access_key_id: String,
    secret_access_key: String,
    region: String,
    enabled: bool,
    /// The signing key of the last date seen (`YYYYMMDD`, key).
    key_cache: Mutex<Option<(String, [u8; 32])>>,
}

impl Verifier {
    pub(crate) fn new(access_key_id: &str, secret: &str, region: &str, enabled: bool) -> Self {
        Verifier {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret.to_owned(),
            region: region.to_owned(),
            enabled,
            key_cache: Mutex::new(None),
        }
    }

    /// Cheap checks that need no body: present, well formed, known key, fresh.
    pub(crate) fn precheck(
        &self,
        head: &http::request::Parts,
        now: SystemTime,
    ) -> Result<(), AuthError> {
        if !self.enabled {
            return Ok(());
        }
        let auth =
            header_str(head, http::header::AUTHORIZATION.as_str()).ok_or(AuthError::Missing)?;
        let auth = parse_authorization(auth)?;
        if auth.access_key_id != self.access_key_id {
            return Err(AuthError::UnknownKey);
        }
        if auth.region != self.region || auth.service != SERVICE {
            return Err(AuthError::BadSignature);
        }
        let amz_date = header_str(head, headers::AMZ_DATE).ok_or_else(|| {
            AuthError::Incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".to_owned())
        })?;
        let signed_at = parse_amz_date(amz_date).ok_or(AuthError::BadSignature)?;
        let skew = match now.duration_since(signed_at) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        if skew > MAX_CLOCK_SKEW {
            return Err(AuthError::Expired(format!(
                "Signature expired: {amz_date} is now earlier than the allowed skew of {} min \
                 around the server's time.",
                MAX_CLOCK_SKEW.as_secs() / 60
            )));
        }
        if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
            return Err(AuthError::BadSignature);
        }
        Ok(())
    }

    /// Full verification (after [`Verifier::precheck`]) with the body.
    pub(crate) fn verify(&self, head: &http::request::Parts, body: &[u8]) -> Result<(), AuthError> {
        if !self.enabled {
            return Ok(());
        }
        let auth =
            header_str(head, http::header::AUTHORIZATION.as_str()).ok_or(AuthError::Missing)?;
        let auth = parse_authorization(auth)?;
        let amz_date = header_str(head, headers::AMZ_DATE).ok_or(AuthError::BadSignature)?;
        let body_hash = hex::encode(Sha256::digest(body));
        let payload_hash = match header_str(head, headers::CONTENT_SHA256) {
            Some(UNSIGNED_PAYLOAD) => UNSIGNED_PAYLOAD,
            Some(sent) if sent != body_hash => return Err(AuthError::BadSignature),
            _ => body_hash.as_str(),
        };
        let canonical = canonical_request(head, auth.signed_headers, payload_hash)?;
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
            auth.date,
            auth.region,
            auth.service,
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = self.signing_key(auth.date);
        let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
            Ok(())
        } else {
            Err(AuthError::BadSignature)
        }
    }

    fn signing_key(&self, date: &str) -> [u8; 32] {
        let mut cache = self.key_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached_date, key)) = cache.as_ref() {
            if cached_date == date {
                return *key;
            }
        }
        let k_date = hmac(
            format!("AWS4{}", self.secret_access_key).as_bytes(),
            date.as_bytes(),
        );
        let k_region = hmac(&k_date, self.region.as_bytes());
        let k_service = hmac(&k_region, SERVICE.as_bytes());
        let key = hmac(&k_service, b"aws4_request");
        *cache = Some((date.to_owned(), key));
        key
    }
}

fn header_str<'a>(head: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    head.headers.get(name).and_then(|v| v.to_str().ok())
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let dt = time::PrimitiveDateTime::parse(value, &format).ok()?;
    let secs = dt.assume_utc().unix_timestamp();
    let secs = u64::try_from(secs).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

fn canonical_request(
    head: &http::request::Parts,
    signed_headers: &str,
    payload_hash: &str,
) -> Result<String, AuthError> {
    let mut out = String::with_capacity(512);
    out.push_str(head.method.as_str());
    out.push('\n');
    let path = head.uri.path();
    if path.is_empty() {
        out.push('/');
    } else {
        encode_into(&mut out, path.as_bytes(), true);
    }
    out.push('\n');
    out.push_str(&canonical_query(head.uri.query().unwrap_or_default()));
    out.push('\n');
    for name in signed_headers.split(';') {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(AuthError::BadSignature);
        }
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for value in head.headers.get_all(name) {
            let value = value.to_str().map_err(|_| AuthError::BadSignature)?;
            if !first {
                out.push(',');
            }
            first = false;
            push_trimmed(&mut out, value);
        }
        if first && name != "host" {
            // A signed header that did not arrive can never verify.
            return Err(AuthError::BadSignature);
        }
        if first {
            // HTTP/1 always carries Host; an absent one can only come from the URI.
            if let Some(authority) = head.uri.authority() {
                out.push_str(authority.as_str());
            } else {
                return Err(AuthError::BadSignature);
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

/// Trims spaces at both ends and collapses inner runs of spaces to one.
fn push_trimmed(out: &mut String, value: &str) {
    let mut prev_space = false;
    for c in value.trim_matches(' ').chars() {
        if c == ' ' {
            if !prev_space {
                out.push(c);
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes every byte but the unreserved ones (and `/` when `keep_slash`).
fn encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space; bad escapes stay as they are).
fn form_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| char::from(*b).to_digit(16));
                let lo = bytes.get(i + 2).and_then(|b| char::from(*b).to_digit(16));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    // Two hex digits make at most 0xff.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let mut key = String::new();
            encode_into(&mut key, &form_decode(k), false);
            let mut value = String::new();
            encode_into(&mut value, &form_decode(v), false);
            (key, value)
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference_sigv4::ReferenceSigner;
    use aws_credential_types::Credentials;

    const AKID: &str = "AKIDLOCALTEST";
    const SECRET: &str = "local/secret/key";

    fn signed(
        uri: &str,
        body: &[u8],
        token: Option<&str>,
        time: SystemTime,
    ) -> http::request::Parts {
        let mut req = http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("host", "localhost:4443")
            .header("content-type", "application/json")
            .header(headers::INVOCATION_TYPE, "RequestResponse")
            .header("x-amz-user-agent", "aws-sdk-rust  test   agent")
            .body(())
            .expect("valid test request");
        let credentials = Credentials::new(AKID, SECRET, token.map(str::to_owned), None, "test");
        ReferenceSigner::new(credentials, "us-east-1")
            .at(time)
            .sign_request(&mut req, uri, body);
        req.into_parts().0
    }

    fn verifier() -> Verifier {
        Verifier::new(AKID, SECRET, "us-east-1", true)
    }

    #[test]
    fn signatures_made_by_aws_sigv4_verify() {
        let now = SystemTime::now();
        for uri in [
            "https://localhost:4443/2015-03-31/functions/echo/invocations",
            "https://localhost:4443/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aecho/invocations?Qualifier=%24LATEST",
            "https://localhost:4443/2015-03-31/functions/?MaxItems=2&Marker=a%20b",
        ] {
            for token in [None, Some("session/token+==")] {
                let head = signed(uri, b"{\"k\": 1}", token, now);
                let v = verifier();
                assert_eq!(v.precheck(&head, now), Ok(()), "{uri}");
                assert_eq!(v.verify(&head, b"{\"k\": 1}"), Ok(()), "{uri}");
                assert_eq!(v.verify(&head, b"{\"k\": 2}"), Err(AuthError::BadSignature));
            }
        }
    }

    #[test]
    fn wrong_secret_unknown_key_and_old_date_are_refused() {
        let now = SystemTime::now();
        let uri = "https://localhost:4443/2015-03-31/functions/echo/invocations";
        let head = signed(uri, b"", None, now);
        let wrong_secret = Verifier::new(AKID, "other", "us-east-1", true);
        assert_eq!(
            wrong_secret.verify(&head, b""),
            Err(AuthError::BadSignature)
        );
        let other_key = Verifier::new("AKIDOTHER", SECRET, "us-east-1", true);
        assert_eq!(other_key.precheck(&head, now), Err(AuthError::UnknownKey));
        let later = now + MAX_CLOCK_SKEW + Duration::from_secs(60);
        assert!(matches!(
            verifier().precheck(&head, later),
            Err(AuthError::Expired(_))
        ));
    }

    #[test]
    fn missing_and_malformed_authorization_are_refused() {
        let now = SystemTime::now();
        let (head, ()) = http::Request::builder()
            .uri("/x")
            .body(())
            .expect("valid request")
            .into_parts();
        assert_eq!(verifier().precheck(&head, now), Err(AuthError::Missing));
        for bad in [
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/2024",
            "AWS4-HMAC-SHA256 ",
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(AuthError::Incomplete(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn disabled_verifier_accepts_anything() {
        let (head, ()) = http::Request::builder()
            .uri("/x")
            .body(())
            .expect("valid")
            .into_parts();
        let v = Verifier::new(AKID, SECRET, "us-east-1", false);
        assert_eq!(v.precheck(&head, SystemTime::now()), Ok(()));
        assert_eq!(v.verify(&head, b"x"), Ok(()));
    }
}
