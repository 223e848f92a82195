//! The SigV4 canonical request of any request the SDK sends, streamed into SHA-256.
//!
//! What `aws_sigv4`'s `CanonicalRequest` builds as strings and a `HeaderMap` (with the SDK's
//! settings: double-encoded, normalised path; header signature; default excluded headers),
//! computed here without materialising it: the path is encoded as it is hashed, query
//! parameters and headers are sorted as slices on the stack, and the `SignedHeaders` list is
//! written straight into the `Authorization` value it ends up in.
//!
//! A request outside what this reproduces exactly returns `None` and goes to the SDK's signer:
//! a path with dot segments or `//` (aws-sigv4 normalises those), a URI with user info, an IPv6
//! literal or a fragment, more than [`MAX_HEADERS`] headers or [`MAX_QUERY_PARAMS`] parameters.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::sign::{hash_trimmed, is_unreserved, HEX_UPPER};
use crate::wire::header;

/// The most headers a request may have for the lean signer (the SDK's Lambda requests carry
/// about ten); more go to the SDK's signer.
pub(crate) const MAX_HEADERS: usize = 32;
/// The most query parameters a request may have for the lean signer (Lambda's list calls send
/// up to five); more go to the SDK's signer.
pub(crate) const MAX_QUERY_PARAMS: usize = 16;

/// Headers aws-sigv4 leaves out of the signature by default.
const EXCLUDED: [&str; 4] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "transfer-encoding",
];

/// The pieces of an absolute URI the canonical request needs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UriParts<'a> {
    /// `Host` as aws-sigv4 derives it: the host, with the port only when it is not the
    /// scheme's default.
    pub(crate) host: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
}

/// Splits an absolute `http`/`https` URI; `None` for anything else, or for a URI whose
/// authority or path this module does not reproduce aws-sigv4's handling of.
pub(crate) fn split_uri(uri: &str) -> Option<UriParts<'_>> {
    if uri.contains('#') {
        return None;
    }
    let (scheme, rest) = uri.split_once("://")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(end);
    if authority.is_empty() || authority.contains(['@', '[', ']']) {
        return None;
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port => host,
        _ => authority,
    };
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    Some(UriParts { host, path, query })
}

/// Hashes the canonical URI: the (already encoded) path encoded once more, `/` kept. `None`
/// when aws-sigv4 would normalise the path first (dot segments, empty segments).
fn hash_path(h: &mut Sha256, path: &str) -> Option<()> {
    if path.is_empty() {
        h.update(b"/");
        return Some(());
    }
    if !path.starts_with('/') || path.contains('.') || path.contains("//") {
        return None;
    }
    let mut rest = path.as_bytes();
    while !rest.is_empty() {
        let run = rest
            .iter()
            .position(|&b| !(is_unreserved(b) || b == b'/'))
            .unwrap_or(rest.len());
        h.update(&rest[..run]);
        if let Some(&b) = rest.get(run) {
            h.update([
                b'%',
                HEX_UPPER[usize::from(b >> 4)],
                HEX_UPPER[usize::from(b & 0x0f)],
            ]);
            rest = &rest[run + 1..];
        } else {
            rest = &[];
        }
    }
    Some(())
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether `s` is already what decoding it (`application/x-www-form-urlencoded`) and encoding
/// it again with the SDK's query set gives: unreserved bytes and upper-case `%XX` of ASCII
/// bytes that set encodes.
fn is_canonical_query_part(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_unreserved(b[i]) {
            i += 1;
            continue;
        }
        if b[i] != b'%' {
            return false;
        }
        let (Some(&hi), Some(&lo)) = (b.get(i + 1), b.get(i + 2)) else {
            return false;
        };
        let upper = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
        if !upper(hi) || !upper(lo) {
            return false;
        }
        let v = (hex_value(hi).unwrap_or(0) << 4) | hex_value(lo).unwrap_or(0);
        if v >= 0x80 || is_unreserved(v) {
            return false;
        }
        i += 3;
    }
    true
}

/// One query key or value as aws-sigv4 canonicalises it: form-decoded (`+` is a space, bad
/// `%` escapes kept), read as UTF-8 lossily, percent-encoded with the SDK's query set.
fn canonical_query_part(s: &str) -> Cow<'_, str> {
    if is_canonical_query_part(s) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut decoded = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                decoded.push(b' ');
                i += 1;
            }
            b'%' => match (
                b.get(i + 1).copied().and_then(hex_value),
                b.get(i + 2).copied().and_then(hex_value),
            ) {
                (Some(hi), Some(lo)) => {
                    decoded.push((hi << 4) | lo);
                    i += 3;
                }
                _ => {
                    decoded.push(b'%');
                    i += 1;
                }
            },
            other => {
                decoded.push(other);
                i += 1;
            }
        }
    }
    let text = String::from_utf8_lossy(&decoded);
    let mut out = String::with_capacity(text.len() * 3);
    for &c in text.as_bytes() {
        if is_unreserved(c) {
            out.push(char::from(c));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(c >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(c & 0x0f)]));
        }
    }
    Cow::Owned(out)
}

/// Hashes the canonical query string (sorted `key=value` pairs joined by `&`). `None` past
/// [`MAX_QUERY_PARAMS`].
fn hash_query(h: &mut Sha256, query: Option<&str>) -> Option<()> {
    let Some(query) = query else {
        return Some(());
    };
    let mut params: [(Cow<'_, str>, Cow<'_, str>); MAX_QUERY_PARAMS] =
        std::array::from_fn(|_| (Cow::Borrowed(""), Cow::Borrowed("")));
    let mut n = 0;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let slot = params.get_mut(n)?;
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        *slot = (canonical_query_part(k), canonical_query_part(v));
        n += 1;
    }
    let params = &mut params[..n];
    params.sort();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            h.update(b"&");
        }
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
    }
    Some(())
}

/// What the signer adds to the request's own headers.
#[derive(Debug)]
pub(crate) struct Added<'a> {
    /// `Host` derived from the URI (used when the request has none).
    pub(crate) host: &'a str,
    /// `x-amz-date`.
    pub(crate) date_time: &'a str,
    /// `x-amz-security-token`, when the credentials have one.
    pub(crate) security_token: Option<&'a str>,
}

/// Streams the canonical request of a request into SHA-256 and writes its `SignedHeaders`
/// list onto `signed_headers_out`. `headers` are the request's own (name, value) pairs, in
/// order; `payload_sha256` the lowercase hex SHA-256 of the body. `None`: not reproducible
/// here, sign with the SDK's signer.
pub(crate) fn hash<'a>(
    method: &str,
    uri: &UriParts<'_>,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    added: &Added<'a>,
    payload_sha256: &[u8; 64],
    signed_headers_out: &mut String,
) -> Option<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    hash_path(&mut h, uri.path)?;
    h.update(b"\n");
    hash_query(&mut h, uri.query)?;
    h.update(b"\n");

    let mut list: [(&str, &str); MAX_HEADERS] = [("", ""); MAX_HEADERS];
    let mut n = 0;
    let mut has_host = false;
    for (name, value) in headers {
        // aws-sigv4 replaces these with its own; excluded headers are not signed at all.
        if name == header::AMZ_DATE
            || (name == header::SECURITY_TOKEN && added.security_token.is_some())
            || EXCLUDED.contains(&name)
        {
            continue;
        }
        has_host |= name == "host";
        *list.get_mut(n)? = (name, value);
        n += 1;
    }
    if !has_host {
        *list.get_mut(n)? = ("host", added.host);
        n += 1;
    }
    *list.get_mut(n)? = (header::AMZ_DATE, added.date_time);
    n += 1;
    if let Some(token) = added.security_token {
        *list.get_mut(n)? = (header::SECURITY_TOKEN, token);
        n += 1;
    }
    let list = &mut list[..n];
    // Stable: the values of one name keep their order, as `HeaderMap::get_all` gives them.
    list.sort_by(|a, b| a.0.cmp(b.0));

    let start = signed_headers_out.len();
    let mut prev: Option<&str> = None;
    for &(name, value) in list.iter() {
        if prev == Some(name) {
            h.update(b",");
        } else {
            if prev.is_some() {
                h.update(b"\n");
                signed_headers_out.push(';');
            }
            h.update(name.as_bytes());
            h.update(b":");
            signed_headers_out.push_str(name);
        }
        hash_trimmed(&mut h, value.as_bytes());
        prev = Some(name);
    }
    h.update(b"\n\n");
    h.update(&signed_headers_out.as_bytes()[start..]);
    h.update(b"\n");
    h.update(payload_sha256);
    Some(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_into_signing_host_path_and_query() {
        let p = split_uri("https://lambda.us-east-1.amazonaws.com:443/a/b?x=1").expect("ok");
        assert_eq!(p.host, "lambda.us-east-1.amazonaws.com");
        assert_eq!(p.path, "/a/b");
        assert_eq!(p.query, Some("x=1"));
        let p = split_uri("http://127.0.0.1:9001?x").expect("ok");
        assert_eq!((p.host, p.path, p.query), ("127.0.0.1:9001", "", Some("x")));
        assert_eq!(
            split_uri("http://h:443/").map(|p| p.host),
            Some("h:443"),
            "443 is not http's default"
        );
        assert!(split_uri("https://user@h/").is_none());
        assert!(split_uri("https://[::1]:8443/").is_none());
        assert!(split_uri("https://h/#frag").is_none());
        assert!(split_uri("ftp://h/").is_none());
    }

    #[test]
    fn query_parts_are_canonicalised_as_aws_sigv4_does() {
        // Expected: form-decode, then `aws_smithy_http::query::fmt_string`.
        for (raw, canonical) in [
            ("Qualifier", "Qualifier"),
            ("%24LATEST", "%24LATEST"),
            ("%24latest", "%24latest"),
            ("%2a", "%2A"),
            ("a+b", "a%20b"),
            ("%7E", "~"),
            ("%", "%25"),
            ("%zz", "%25zz"),
            ("%C3%A9", "%C3%A9"),
            ("%FF", "%EF%BF%BD"),
            ("a:b", "a%3Ab"),
        ] {
            assert_eq!(canonical_query_part(raw), canonical, "{raw}");
        }
    }
}
