//! Lambda's own input rules, checked before anything is sent — no stricter than Lambda.
//!
//! Client-side validation here exists to protect the caller: sizes (a 7 MB payload fails fast,
//! not after its upload), header injection (a value that would break the request's framing),
//! and the never-twice guarantees (a refused request provably did not run). It does not
//! second-guess the service: where Lambda's API model accepts a value, so does the crate, and
//! where the crate would be unsure, Lambda answers. Each check is a small hand parser (no
//! regular expressions) of the pattern below; a refusal is a [`BuildError`] naming the field
//! (`function_name`, `function_arn`, `qualifier`, `payload`, `client_context`,
//! `durable_execution_name`, `tenant_id`, `region`, `invocation_type`) and the form expected.
//! No input makes these functions panic.
//!
//! # Where each rule comes from
//!
//! "Model" is Lambda's current Smithy API model (the `Invoke` input shape as the AWS SDKs
//! generate it, aws-sdk-lambda 1.156 / API version 2015-03-31); the regular expressions are
//! quoted from it.
//!
//! | field | rule | source |
//! |---|---|---|
//! | `FunctionName` ([`function_name`]) | 1–256 characters of `^(arn:(aws[a-zA-Z-]*)?:lambda:R:\d{12}:\|((R:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?\|[a-zA-Z0-9-_]+))?$` with region `R` = `(eusc-)?[a-z]{2}((-gov)\|(-iso([a-z]?)))?-[a-z]+-\d{1}`; a bare name (no `:`) at most 64 characters | model (`NamespacedFunctionName`); the 64 from the API reference ("If you specify only the function name, it is limited to 64 characters") |
//! | `Qualifier` ([`qualifier`]) | 1–128 characters: `$LATEST`, `$LATEST.PUBLISHED`, or `[a-zA-Z0-9-_$]+` | model: `^\$(LATEST(\.PUBLISHED)?)\|[a-zA-Z0-9-_$]+$` (its two alternatives, each read as anchored at both ends, which is what the model means; anything else Lambda refuses itself) |
//! | `ClientContext` ([`client_context`]) | 1–3,583 bytes of standard base64 | the model has no pattern; the size is the API reference's ("up to 3,583 bytes of base64-encoded data"), the base64 alphabet keeps the `X-Amz-Client-Context` header well-formed. Whether the decoded bytes are the JSON object Lambda wants is Lambda's to say |
//! | `DurableExecutionName` ([`durable_execution_name`]) | 1–64 characters of `[a-zA-Z0-9-_]` | model: `^[a-zA-Z0-9-_]+$`, length 1–64 |
//! | `TenantId` ([`tenant_id`]) | 1–256 characters of `[a-zA-Z0-9._:/=+\-@ ]` | model: `^[a-zA-Z0-9\._:\/=+\-@ ]+$`, length 1–256 |
//! | `Payload` ([`payload`]) | at most 6 MB (`RequestResponse`, `DryRun`) or 1 MB (`Event`) | Lambda's quotas page (invocation payload, synchronous and asynchronous); the model has no limit. Refused early so that an oversized body is not uploaded to be refused |
//! | `InvocationType` ([`InvocationType`]) | `RequestResponse`, `Event`, `DryRun` | model enum; the type and the payload limits live in [`wire`](crate::wire), shared with the embedded endpoint |
//! | function ARN for policies ([`function_arn`]) | `arn:PARTITION:lambda:R:\d{12}:function:NAME(:QUALIFIER)?` as `FunctionName`'s ARN form, the partition named and `function:` present | model (`FunctionArn`); the stricter form is what an endpoint policy's `Resource` needs |
//! | region ([`region`]) | `[a-z]{2,4}(-[a-z]+)+-\d{1,2}`, at most 30 characters | not an API field: the crate's own rule for the regions it puts into host names (VPCE names); the region's endpoint itself is aws-sdk-lambda's resolver's |
//!
//! `$LATEST.PUBLISHED` (Lambda Managed Instances' published version) is a qualifier like any
//! other: its `$` is percent-encoded (`%24`) in the path and the query on both the SDK and the
//! lean path, its `.` is unreserved and stays.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

use crate::wire::InvocationType;
use crate::BuildError;

/// Longest function name given alone (no `:`): 64 characters.
pub const MAX_FUNCTION_NAME_LEN: usize = 64;
/// Longest `FunctionName` argument of `Invoke`, name or ARN with its qualifier: 256 characters.
pub const MAX_FUNCTION_REF_LEN: usize = 256;
/// Longest `Qualifier` (version or alias): 128 characters.
pub const MAX_QUALIFIER_LEN: usize = 128;
/// Longest `ClientContext`, counted after base64 encoding: 3,583 bytes.
pub const MAX_CLIENT_CONTEXT_BYTES: usize = 3583;
/// Longest region name accepted: 30 characters.
pub const MAX_REGION_LEN: usize = 30;
/// Longest `DurableExecutionName`: 64 characters.
pub const MAX_DURABLE_EXECUTION_NAME_LEN: usize = 64;
/// Longest `TenantId`: 256 characters.
pub const MAX_TENANT_ID_LEN: usize = 256;

const ACCOUNT_ID_LEN: usize = 12;
/// Lambda Managed Instances' published version, a qualifier of its own.
const LATEST_PUBLISHED: &str = "$LATEST.PUBLISHED";

const EXPECT_REGION: &str = "a region name like us-east-1, ap-southeast-2, us-gov-west-1 or \
    cn-north-1: lowercase letters, then hyphen-separated words, then a number of 1 or 2 digits; \
    at most 30 characters";
const EXPECT_FUNCTION_NAME: &str = "a function name (letters, digits, `-`, `_` or `.`; at most \
    64 alone), a partial ARN such as 123456789012:function:NAME, or an ARN \
    arn:aws:lambda:REGION:123456789012:function:NAME, each optionally followed by :VERSION, \
    :ALIAS, :$LATEST or :$LATEST.PUBLISHED; at most 256 characters";
const EXPECT_FUNCTION_ARN: &str =
    "a function ARN arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME \
    with an optional :VERSION, :ALIAS, :$LATEST or :$LATEST.PUBLISHED, where PARTITION is aws, \
    aws-cn, aws-us-gov, ..., ACCOUNT is 12 digits and NAME is letters, digits, `-`, `_` or `.`";
const EXPECT_QUALIFIER: &str = "a version or alias: $LATEST, $LATEST.PUBLISHED, or 1 to 128 \
    letters, digits, `$`, `_` or `-` (such as 7 or prod)";
const EXPECT_DURABLE_EXECUTION_NAME: &str =
    "a durable execution name: 1 to 64 letters, digits, `-` or `_`";
const EXPECT_TENANT_ID: &str = "a tenant id: 1 to 256 letters, digits, spaces or any of \
    `. _ : / = + - @`";
const EXPECT_CLIENT_CONTEXT: &str = "standard base64 (with padding), at most 3583 bytes once \
    encoded (Lambda wants a JSON object inside)";

/// Checks a region name such as `us-east-1`: two to four lowercase letters, one or more
/// hyphen-separated lowercase words, then a number of one or two digits; at most
/// [`MAX_REGION_LEN`] characters.
///
/// The partition prefix may have up to four letters so that `eusc-de-east-1` (the AWS European
/// Sovereign Cloud) is accepted beside `us-east-1`, `us-gov-west-1`, `cn-north-1` and
/// `eu-isoe-west-1`.
pub fn region(s: &str) -> Result<(), BuildError> {
    if is_region(s) {
        Ok(())
    } else {
        Err(BuildError::new("region", s, EXPECT_REGION))
    }
}

pub(crate) fn is_region(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_REGION_LEN {
        return false;
    }
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 3 {
        return false;
    }
    let (first, rest) = (parts[0], &parts[1..]);
    let (last, words) = match rest.split_last() {
        Some(split) => split,
        None => return false,
    };
    (2..=4).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !words.is_empty()
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&last.len())
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// Checks `Invoke`'s `FunctionName` against Lambda's model (module docs): a name
/// (`my-function`), a partial ARN (`123456789012:function:my-function`,
/// `us-east-1:123456789012:function:my-function`, ...) or a full ARN
/// (`arn:aws:lambda:us-east-1:123456789012:function:my-function`), each optionally followed by
/// `:VERSION`, `:ALIAS`, `:$LATEST` or `:$LATEST.PUBLISHED`; at most [`MAX_FUNCTION_REF_LEN`]
/// characters, a bare name at most [`MAX_FUNCTION_NAME_LEN`].
pub fn function_name(s: &str) -> Result<(), BuildError> {
    if is_function_ref(s) {
        Ok(())
    } else {
        Err(BuildError::new("function_name", s, EXPECT_FUNCTION_NAME))
    }
}

fn is_function_ref(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_FUNCTION_REF_LEN {
        return false;
    }
    let mut parts = [""; 8];
    let Some(n) = split_colons(s, &mut parts) else {
        return false;
    };
    let parts = &parts[..n];
    if let [name] = parts {
        return name.len() <= MAX_FUNCTION_NAME_LEN && is_name(name);
    }
    // `arn:(aws[a-zA-Z-]*)?:lambda:R:ACCOUNT:` then the tail ...
    if let ["arn", partition, "lambda", region, account, tail @ ..] = parts {
        if is_partition(partition, true)
            && is_model_region(region)
            && is_account(account)
            && is_tail(tail)
        {
            return true;
        }
    }
    // ... or `(R:)?(ACCOUNT:)?` then the tail.
    let after_region = match parts {
        [region, rest @ ..] if is_model_region(region) => Some(rest),
        _ => None,
    };
    let account_then_tail = |p: &[&str]| {
        is_tail(p) || matches!(p, [account, rest @ ..] if is_account(account) && is_tail(rest))
    };
    account_then_tail(parts) || after_region.is_some_and(account_then_tail)
}

/// `(function:)?NAME(:QUALIFIER)?`, split at the colons.
fn is_tail(p: &[&str]) -> bool {
    match p {
        [name] => is_name(name),
        [a, b] => (is_name(a) && is_name_qualifier(b)) || (*a == "function" && is_name(b)),
        ["function", name, q] => is_name(name) && is_name_qualifier(q),
        _ => false,
    }
}

/// Checks `Invoke`'s `Qualifier`: `$LATEST`, `$LATEST.PUBLISHED`, or 1 to
/// [`MAX_QUALIFIER_LEN`] characters from `[a-zA-Z0-9$_-]`.
pub fn qualifier(s: &str) -> Result<(), BuildError> {
    let ok = s == LATEST_PUBLISHED
        || (!s.is_empty()
            && s.len() <= MAX_QUALIFIER_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'$' | b'_' | b'-')));
    if ok {
        Ok(())
    } else {
        Err(BuildError::new("qualifier", s, EXPECT_QUALIFIER))
    }
}

/// Checks a request payload's length in bytes against Lambda's limit for the invocation type
/// ([`InvocationType::max_payload_bytes`]). The message names the limit in bytes and in MB.
pub fn payload(len: usize, invocation_type: InvocationType) -> Result<(), BuildError> {
    let max = invocation_type.max_payload_bytes();
    if len <= max {
        return Ok(());
    }
    Err(BuildError::new(
        "payload",
        format!("{len} bytes"),
        format!(
            "at most {max} bytes ({} MB) for an {} invoke",
            max / (1024 * 1024),
            invocation_type.as_str()
        ),
    ))
}

/// Checks `Invoke`'s `ClientContext`: standard base64 (with padding), at most
/// [`MAX_CLIENT_CONTEXT_BYTES`] (the `X-Amz-Client-Context` header carries it as is). Lambda
/// itself wants a JSON object inside ("Client context must be a valid Base64-encoded JSON
/// object") and says so when it is not; that is left to Lambda. The error never repeats the
/// value's decoded content, only the encoded text given.
pub fn client_context(s: &str) -> Result<(), BuildError> {
    let err = || BuildError::new("client_context", s, EXPECT_CLIENT_CONTEXT);
    if s.is_empty() || s.len() > MAX_CLIENT_CONTEXT_BYTES {
        return Err(err());
    }
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map(|_| ())
        .map_err(|_| err())
}

/// Checks `Invoke`'s `DurableExecutionName` (header `X-Amz-Durable-Execution-Name`): 1 to
/// [`MAX_DURABLE_EXECUTION_NAME_LEN`] characters of `[a-zA-Z0-9-_]`.
pub fn durable_execution_name(s: &str) -> Result<(), BuildError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_DURABLE_EXECUTION_NAME_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(BuildError::new(
            "durable_execution_name",
            s,
            EXPECT_DURABLE_EXECUTION_NAME,
        ))
    }
}

/// Checks `Invoke`'s `TenantId` (header `X-Amz-Tenant-Id`): 1 to [`MAX_TENANT_ID_LEN`]
/// characters of `[a-zA-Z0-9._:/=+\-@ ]` (the Lambda API reference's pattern; a space is
/// allowed).
pub fn tenant_id(s: &str) -> Result<(), BuildError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_TENANT_ID_LEN
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_' | b':' | b'/' | b'=' | b'+' | b'-' | b'@' | b' '
                )
        });
    if ok {
        Ok(())
    } else {
        Err(BuildError::new("tenant_id", s, EXPECT_TENANT_ID))
    }
}

/// Encodes a JSON object given as text into the `ClientContext` form (standard base64) and
/// checks it with [`client_context`]. Handy for a command-line flag that takes plain JSON.
pub fn encode_client_context(json: &str) -> Result<String, BuildError> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(_)) => {}
        _ => {
            return Err(BuildError::new(
                "client_context",
                json,
                "a JSON object such as {\"custom\":{\"key\":\"value\"}}",
            ))
        }
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
    if encoded.len() > MAX_CLIENT_CONTEXT_BYTES {
        return Err(BuildError::new(
            "client_context",
            format!("{} bytes once base64-encoded", encoded.len()),
            EXPECT_CLIENT_CONTEXT,
        ));
    }
    Ok(encoded)
}

/// A full function ARN, parsed: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FunctionArn {
    partition: String,
    region: String,
    account: String,
    name: String,
    qualifier: Option<String>,
}

impl FunctionArn {
    /// The partition, such as `aws`, `aws-cn` or `aws-us-gov`.
    pub fn partition(&self) -> &str {
        &self.partition
    }
    /// The region, such as `us-east-1`.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The 12-digit account id.
    pub fn account(&self) -> &str {
        &self.account
    }
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The version, alias or `$LATEST`, when the ARN is qualified.
    pub fn qualifier(&self) -> Option<&str> {
        self.qualifier.as_deref()
    }
    /// The ARN without its qualifier.
    pub fn unqualified(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account, self.name
        )
    }
}

impl fmt::Display for FunctionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unqualified())?;
        if let Some(q) = &self.qualifier {
            write!(f, ":{q}")?;
        }
        Ok(())
    }
}

impl FromStr for FunctionArn {
    type Err = BuildError;
    fn from_str(s: &str) -> Result<Self, BuildError> {
        function_arn(s)
    }
}

/// Parses a full function ARN, qualified or not (the form an endpoint policy's `Resource`
/// needs); the partition must be named (`aws`, `aws-cn`, ...). At most
/// [`MAX_FUNCTION_REF_LEN`] characters.
pub fn function_arn(s: &str) -> Result<FunctionArn, BuildError> {
    if s.len() <= MAX_FUNCTION_REF_LEN {
        if let Some(arn) = parse_arn(s, false) {
            return Ok(arn);
        }
    }
    Err(BuildError::new("function_arn", s, EXPECT_FUNCTION_ARN))
}

/// Parses `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`. Lambda's own pattern
/// lets the partition be empty; `allow_empty_partition` says whether to follow it.
fn parse_arn(s: &str, allow_empty_partition: bool) -> Option<FunctionArn> {
    let ArnParts {
        partition,
        region,
        account,
        name,
        qualifier,
    } = arn_parts(s, allow_empty_partition)?;
    Some(FunctionArn {
        partition: partition.to_owned(),
        region: region.to_owned(),
        account: account.to_owned(),
        name: name.to_owned(),
        qualifier: qualifier.map(str::to_owned),
    })
}

/// The fields of a valid function ARN, borrowed from it (validation allocates nothing: it runs
/// on every call).
struct ArnParts<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    name: &'a str,
    qualifier: Option<&'a str>,
}

/// Splits `s` at `:` into `out`; `None` when it has more parts than `out` holds.
fn split_colons<'a>(s: &'a str, out: &mut [&'a str]) -> Option<usize> {
    let mut n = 0;
    for part in s.split(':') {
        *out.get_mut(n)? = part;
        n += 1;
    }
    Some(n)
}

fn arn_parts(s: &str, allow_empty_partition: bool) -> Option<ArnParts<'_>> {
    let mut parts = [""; 8];
    let n = split_colons(s, &mut parts)?;
    let (head, qualifier) = match &parts[..n] {
        [a, b, c, d, e, f, g] => ([*a, *b, *c, *d, *e, *f, *g], None),
        [a, b, c, d, e, f, g, q] => ([*a, *b, *c, *d, *e, *f, *g], Some(*q)),
        _ => return None,
    };
    let ["arn", partition, "lambda", region, account, "function", name] = head else {
        return None;
    };
    let ok = is_partition(partition, allow_empty_partition)
        && is_model_region(region)
        && is_account(account)
        && is_name(name)
        && qualifier.is_none_or(is_name_qualifier);
    ok.then_some(ArnParts {
        partition,
        region,
        account,
        name,
        qualifier,
    })
}

/// A function name inside `FunctionName`: `[a-zA-Z0-9-_\.]+`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The qualifier inside a function name or ARN: `$LATEST`, `$LATEST.PUBLISHED` or
/// `[a-zA-Z0-9-_]+`.
fn is_name_qualifier(s: &str) -> bool {
    s == "$LATEST"
        || s == LATEST_PUBLISHED
        || (!s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// `(aws[a-zA-Z-]*)?`: empty only when `allow_empty`.
fn is_partition(s: &str, allow_empty: bool) -> bool {
    (allow_empty && s.is_empty())
        || (s.starts_with("aws") && s.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
}

/// The model's region inside a function ARN:
/// `(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}`.
fn is_model_region(s: &str) -> bool {
    let s = s.strip_prefix("eusc-").unwrap_or(s);
    let lower = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    let digit = |w: &str| w.len() == 1 && w.as_bytes()[0].is_ascii_digit();
    let mut parts = [""; 4];
    let Some(n) = split_dashes(s, &mut parts) else {
        return false;
    };
    match &parts[..n] {
        [cc, word, d] => cc.len() == 2 && lower(cc) && lower(word) && digit(d),
        [cc, mid, word, d] => {
            let mid_ok = *mid == "gov"
                || mid
                    .strip_prefix("iso")
                    .is_some_and(|x| x.len() <= 1 && x.bytes().all(|b| b.is_ascii_lowercase()));
            cc.len() == 2 && lower(cc) && mid_ok && lower(word) && digit(d)
        }
        _ => false,
    }
}

/// Splits `s` at `-` into `out`; `None` when it has more parts than `out` holds.
fn split_dashes<'a>(s: &'a str, out: &mut [&'a str]) -> Option<usize> {
    let mut n = 0;
    for part in s.split('-') {
        *out.get_mut(n)? = part;
        n += 1;
    }
    Some(n)
}

fn is_account(s: &str) -> bool {
    s.len() == ACCOUNT_ID_LEN && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{MAX_EVENT_PAYLOAD_BYTES, MAX_SYNC_PAYLOAD_BYTES};
    use proptest::prelude::*;

    #[test]
    fn durable_execution_names_are_1_to_64_of_letters_digits_dash_underscore() {
        for ok in ["a", "order-12345_retry", &"x".repeat(64)] {
            assert!(durable_execution_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "has space", "dot.name", "colon:", "é"] {
            let e = durable_execution_name(bad).expect_err(bad);
            assert_eq!(e.field(), "durable_execution_name");
        }
    }

    #[test]
    fn tenant_ids_are_1_to_256_of_lambdas_pattern_spaces_included() {
        for ok in ["blue", "tenant a/b:c=d+e-f@g.h_i", &"t".repeat(256)] {
            assert!(tenant_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            &"t".repeat(257),
            "tab\there",
            "new\nline",
            "semi;colon",
            "é",
        ] {
            let e = tenant_id(bad).expect_err(bad);
            assert_eq!(e.field(), "tenant_id");
        }
    }

    #[test]
    fn regions_of_every_partition_are_accepted() {
        for r in [
            "us-east-1",
            "ap-southeast-2",
            "us-gov-west-1",
            "cn-north-1",
            "eu-isoe-west-1",
            "us-isob-east-1",
            "eusc-de-east-1",
            "me-central-1",
        ] {
            assert!(region(r).is_ok(), "{r}");
        }
    }

    #[test]
    fn malformed_regions_are_refused_naming_the_region_field() {
        for r in [
            "",
            "us-east",
            "US-EAST-1",
            "us-east-123",
            "us--east-1",
            "u-east-1",
            "useast1",
            "us-east-1 ",
            "us-éast-1",
            "abcde-east-1",
            "us-eastttttttttttttttttttttttttt-1",
        ] {
            let e = region(r).expect_err(r);
            assert_eq!(e.field(), "region", "{r}");
        }
    }

    #[test]
    fn each_documented_function_name_form_is_accepted() {
        for s in [
            "my-function",
            "my_function",
            "my-function:v1",
            "my-function:$LATEST",
            "my-function:7",
            "123456789012:function:my-function",
            "123456789012:function:my-function:prod",
            "arn:aws:lambda:us-west-2:123456789012:function:my-function",
            "arn:aws:lambda:us-west-2:123456789012:function:my-function:$LATEST",
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:f:1",
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
            &"a".repeat(64),
        ] {
            assert!(function_name(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn latest_published_and_every_form_of_lambdas_model_are_accepted() {
        for s in [
            "my-fn:$LATEST.PUBLISHED",
            "123456789012:function:my-fn:$LATEST.PUBLISHED",
            "arn:aws:lambda:us-east-2:123456789012:function:my-fn:$LATEST.PUBLISHED",
            "my.function",
            "function:my-fn",
            "us-east-1:123456789012:function:my-fn",
            "us-east-1:my-fn",
            "123456789012:my-fn:prod",
            "arn:aws:lambda:us-east-1:123456789012:my-fn",
            "arn:aws:lambda:us-isob-east-1:123456789012:function:f",
            "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:f",
        ] {
            assert!(function_name(s).is_ok(), "{s}");
        }
        let arn =
            function_arn("arn:aws:lambda:us-east-2:123456789012:function:f:$LATEST.PUBLISHED")
                .unwrap();
        assert_eq!(arn.qualifier(), Some("$LATEST.PUBLISHED"));
        assert!(qualifier("$LATEST.PUBLISHED").is_ok());
    }

    #[test]
    fn malformed_function_names_are_refused_naming_the_field() {
        let long_name = "a".repeat(65);
        let too_long_arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}:{}",
            "a".repeat(64),
            "q".repeat(150)
        );
        for s in [
            "",
            "my function",
            "fn/../x",
            "fn:",
            ":fn",
            "fn:a:b",
            "fn:$latest",
            "12345678901:function:fn",
            "fn:$LATEST.published",
            "fn:$LATEST.PUBLISHED:x",
            "arn:aws:s3:us-east-1:123456789012:function:fn",
            "arn:aws:lambda:useast1:123456789012:function:fn",
            "arn:aws:lambda:us-east-1:123456789012:function:",
            "arn:aws:lambda:us-east-1:123456789012:function:fn:",
            "arn:azure:lambda:us-east-1:123456789012:function:fn",
            "fünction",
            &long_name,
            &too_long_arn,
        ] {
            let e = function_name(s).expect_err(s);
            assert_eq!(e.field(), "function_name", "{s}");
        }
    }

    #[test]
    fn lambda_allows_an_empty_partition_in_a_function_name_but_not_in_a_policy_arn() {
        let s = "arn::lambda:us-east-1:123456789012:function:fn";
        assert!(function_name(s).is_ok());
        assert_eq!(function_arn(s).unwrap_err().field(), "function_arn");
    }

    #[test]
    fn a_qualified_function_arn_reduces_to_its_unqualified_form() {
        let arn = function_arn("arn:aws:lambda:eu-west-1:123456789012:function:f:prod").unwrap();
        assert_eq!(arn.qualifier(), Some("prod"));
        assert_eq!(arn.name(), "f");
        assert_eq!(arn.account(), "123456789012");
        assert_eq!(arn.region(), "eu-west-1");
        assert_eq!(arn.partition(), "aws");
        assert_eq!(
            arn.unqualified(),
            "arn:aws:lambda:eu-west-1:123456789012:function:f"
        );
        assert_eq!(
            arn.to_string(),
            "arn:aws:lambda:eu-west-1:123456789012:function:f:prod"
        );
    }

    #[test]
    fn partial_arns_and_names_are_not_function_arns() {
        for s in ["f", "123456789012:function:f", ""] {
            assert_eq!(function_arn(s).unwrap_err().field(), "function_arn");
        }
    }

    #[test]
    fn qualifiers_follow_lambdas_pattern_and_length() {
        for q in [
            "1",
            "prod",
            "$LATEST",
            "$LATEST.PUBLISHED",
            "a_b-c",
            &"q".repeat(128),
        ] {
            assert!(qualifier(q).is_ok(), "{q}");
        }
        for q in ["", "a b", "a:b", "ä", "a.b", "$LATEST.", &"q".repeat(129)] {
            assert_eq!(qualifier(q).unwrap_err().field(), "qualifier", "{q}");
        }
    }

    #[test]
    fn payloads_at_the_limit_pass_and_one_byte_over_is_refused_with_the_limit_named() {
        assert!(payload(MAX_SYNC_PAYLOAD_BYTES, InvocationType::RequestResponse).is_ok());
        assert!(payload(MAX_SYNC_PAYLOAD_BYTES, InvocationType::DryRun).is_ok());
        assert!(payload(MAX_EVENT_PAYLOAD_BYTES, InvocationType::Event).is_ok());

        let e = payload(MAX_SYNC_PAYLOAD_BYTES + 1, InvocationType::RequestResponse).unwrap_err();
        assert_eq!(e.field(), "payload");
        assert!(e.expected().contains("6291456 bytes"), "{e}");
        assert!(e.expected().contains("6 MB"), "{e}");

        let e = payload(MAX_EVENT_PAYLOAD_BYTES + 1, InvocationType::Event).unwrap_err();
        assert!(e.expected().contains("1048576 bytes"), "{e}");
        assert!(e.expected().contains("1 MB"), "{e}");
        assert!(e.got().contains("1048577"), "{e}");
    }

    #[test]
    fn a_base64_json_object_is_a_valid_client_context() {
        let encoded = encode_client_context(r#"{"custom":{"k":"v"}}"#).unwrap();
        assert_eq!(encoded, "eyJjdXN0b20iOnsiayI6InYifX0=");
        assert!(client_context(&encoded).is_ok());
    }

    #[test]
    fn what_is_inside_the_base64_is_lambdas_to_judge() {
        for inner in ["[1,2]", "hello"] {
            let encoded = base64::engine::general_purpose::STANDARD.encode(inner);
            assert!(client_context(&encoded).is_ok(), "{inner}");
        }
    }

    #[test]
    fn malformed_or_oversized_client_contexts_are_refused() {
        let big = format!(r#"{{"custom":{{"k":"{}"}}}}"#, "x".repeat(2700));
        let big_encoded = base64::engine::general_purpose::STANDARD.encode(&big);
        assert!(big_encoded.len() > MAX_CLIENT_CONTEXT_BYTES);
        for s in [
            "",
            "not base64!",
            "e30",
            "eyJ9\r\nX-Injected: 1",
            &big_encoded,
        ] {
            assert_eq!(
                client_context(s).unwrap_err().field(),
                "client_context",
                "{s}"
            );
        }
        assert_eq!(
            encode_client_context(&big).unwrap_err().field(),
            "client_context"
        );
        assert_eq!(
            encode_client_context("[]").unwrap_err().field(),
            "client_context"
        );
    }

    proptest! {
        #[test]
        fn no_validator_panics_on_arbitrary_strings(s in any::<String>()) {
            let _ = region(&s);
            let _ = function_name(&s);
            let _ = function_arn(&s);
            let _ = qualifier(&s);
            let _ = client_context(&s);
            let _ = encode_client_context(&s);
            let _ = s.parse::<InvocationType>();
        }

        #[test]
        fn no_validator_panics_on_arn_shaped_strings(
            s in "(arn:)?[a-z-]{0,8}:(lambda)?:[a-z0-9-]{0,16}:[0-9]{0,13}:(function)?:[a-zA-Z0-9$_:-]{0,70}"
        ) {
            let _ = function_name(&s);
            let _ = function_arn(&s);
        }

        #[test]
        fn generated_valid_arns_parse_back_to_their_parts(
            partition in "aws(-cn|-us-gov)?",
            region_name in "[a-z]{2}-[a-z]{1,10}-[0-9]",
            account in "[0-9]{12}",
            name in "[a-zA-Z0-9_-]{1,64}",
            q in proptest::option::of("[a-zA-Z0-9_-]{1,20}|\\$LATEST|\\$LATEST\\.PUBLISHED"),
        ) {
            let mut s = format!("arn:{partition}:lambda:{region_name}:{account}:function:{name}");
            if let Some(q) = &q {
                s.push(':');
                s.push_str(q);
            }
            let arn = function_arn(&s).unwrap();
            prop_assert!(function_name(&s).is_ok());
            prop_assert_eq!(arn.name(), name.as_str());
            prop_assert_eq!(arn.qualifier(), q.as_deref());
            prop_assert_eq!(arn.to_string(), s);
        }
    }
}
