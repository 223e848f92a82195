//! A VPC endpoint policy for Lambda, generated from validated ARNs.
//!
//! An interface endpoint's policy decides which principals may call which functions through
//! it. The Lambda guide warns that a policy must list, for every function, both the unqualified
//! ARN and the qualified `ARN:*`: with only the first, invokes of a version or alias are denied;
//! with only the second, unqualified invokes are. [`endpoint_policy`] always writes both.
//!
//! ```
//! let policy = lambda_vpce::policy::endpoint_policy(
//!     &["arn:aws:iam::123456789012:role/caller"],
//!     &["arn:aws:lambda:us-east-1:123456789012:function:my-function:prod"],
//!     &[],
//! )?;
//! assert_eq!(
//!     policy["Statement"][0]["Resource"],
//!     serde_json::json!([
//!         "arn:aws:lambda:us-east-1:123456789012:function:my-function",
//!         "arn:aws:lambda:us-east-1:123456789012:function:my-function:*",
//!     ])
//! );
//! # Ok::<(), lambda_vpce::BuildError>(())
//! ```

use serde_json::{json, Value};

use crate::validate;
use crate::BuildError;

/// The action granted when none is given: `lambda:InvokeFunction`.
pub const DEFAULT_ACTION: &str = "lambda:InvokeFunction";
/// The policy language version written: `2012-10-17`.
pub const POLICY_VERSION: &str = "2012-10-17";

const MAX_IAM_NAME_LEN: usize = 512;
const ACCOUNT_ID_LEN: usize = 12;

const EXPECT_PRINCIPAL: &str = "`*` alone, or IAM ARNs arn:PARTITION:iam::ACCOUNT:root, \
    arn:PARTITION:iam::ACCOUNT:user/NAME or arn:PARTITION:iam::ACCOUNT:role/NAME (paths allowed), \
    ACCOUNT being 12 digits";
const EXPECT_ACTION: &str = "`lambda:` followed by an action name of letters, such as \
    lambda:InvokeFunction, or lambda:*";

/// Builds `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[...]},
/// "Action":[...],"Resource":[...]}]}`.
///
/// - `principals`: IAM ARNs of roots, users or roles, or `["*"]` alone (written as
///   `"Principal":"*"`); at least one.
/// - `functions`: full function ARNs, at least one; a qualified ARN is reduced to its
///   unqualified form, and each function yields both `ARN` and `ARN:*`.
/// - `actions`: `lambda:` + letters, or `lambda:*`; empty means [`DEFAULT_ACTION`].
///
/// Duplicates are removed, first occurrence kept. Refusals name the field `principal`,
/// `function_arn` or `action`.
pub fn endpoint_policy(
    principals: &[&str],
    functions: &[&str],
    actions: &[&str],
) -> Result<Value, BuildError> {
    let principal = principal_value(principals)?;

    if functions.is_empty() {
        return Err(BuildError::new(
            "function_arn",
            "",
            "at least one function ARN",
        ));
    }
    let mut resources = Vec::with_capacity(functions.len() * 2);
    for f in functions {
        let unqualified = validate::function_arn(f)?.unqualified();
        let all_qualifiers = format!("{unqualified}:*");
        push_unique(&mut resources, unqualified);
        push_unique(&mut resources, all_qualifiers);
    }

    let mut action_list = Vec::new();
    for a in actions {
        if !is_action(a) {
            return Err(BuildError::new("action", *a, EXPECT_ACTION));
        }
        push_unique(&mut action_list, (*a).to_owned());
    }
    if action_list.is_empty() {
        action_list.push(DEFAULT_ACTION.to_owned());
    }

    Ok(json!({
        "Version": POLICY_VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": principal,
            "Action": action_list,
            "Resource": resources,
        }],
    }))
}

fn principal_value(principals: &[&str]) -> Result<Value, BuildError> {
    match principals {
        [] => Err(BuildError::new("principal", "", EXPECT_PRINCIPAL)),
        ["*"] => Ok(json!("*")),
        _ => {
            let mut arns = Vec::with_capacity(principals.len());
            for p in principals {
                if !is_iam_principal(p) {
                    return Err(BuildError::new("principal", *p, EXPECT_PRINCIPAL));
                }
                push_unique(&mut arns, (*p).to_owned());
            }
            Ok(json!({ "AWS": arns }))
        }
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn is_action(a: &str) -> bool {
    match a.strip_prefix("lambda:") {
        Some("*") => true,
        Some(name) => !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()),
        None => false,
    }
}

/// `arn:PARTITION:iam::ACCOUNT:root`, `…:user/[PATH/]NAME` or `…:role/[PATH/]NAME`.
fn is_iam_principal(p: &str) -> bool {
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", account, resource] = parts.as_slice() else {
        return false;
    };
    let partition_ok = partition.starts_with("aws")
        && partition
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-');
    let account_ok = account.len() == ACCOUNT_ID_LEN && account.bytes().all(|b| b.is_ascii_digit());
    let resource_ok = *resource == "root"
        || resource
            .strip_prefix("user/")
            .or_else(|| resource.strip_prefix("role/"))
            .is_some_and(is_iam_path_and_name);
    partition_ok && account_ok && resource_ok
}

/// `[PATH/]NAME`: segments of IAM name characters (`[A-Za-z0-9+=,.@_-]`), none empty.
fn is_iam_path_and_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_IAM_NAME_LEN
        && s.split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/caller";
    const F1: &str = "arn:aws:lambda:us-east-1:123456789012:function:one";
    const F2: &str = "arn:aws:lambda:us-east-1:123456789012:function:two";

    fn resources(policy: &Value) -> Vec<&str> {
        policy["Statement"][0]["Resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }

    #[test]
    fn every_function_gets_both_its_unqualified_and_qualified_resource() {
        let p = endpoint_policy(&[ROLE], &[F1, F2], &[]).unwrap();
        assert_eq!(
            resources(&p),
            [F1, &format!("{F1}:*"), F2, &format!("{F2}:*")]
        );
        assert_eq!(p["Version"], "2012-10-17");
        assert_eq!(p["Statement"][0]["Effect"], "Allow");
        assert_eq!(p["Statement"][0]["Principal"], json!({ "AWS": [ROLE] }));
        assert_eq!(p["Statement"][0]["Action"], json!([DEFAULT_ACTION]));
    }

    #[test]
    fn qualified_arns_are_reduced_and_duplicates_removed() {
        let p = endpoint_policy(
            &[ROLE, ROLE],
            &[F1, &format!("{F1}:prod"), &format!("{F1}:$LATEST")],
            &[
                "lambda:InvokeFunction",
                "lambda:GetFunction",
                "lambda:InvokeFunction",
            ],
        )
        .unwrap();
        assert_eq!(resources(&p), [F1, &format!("{F1}:*")]);
        assert_eq!(p["Statement"][0]["Principal"]["AWS"], json!([ROLE]));
        assert_eq!(
            p["Statement"][0]["Action"],
            json!(["lambda:InvokeFunction", "lambda:GetFunction"])
        );
    }

    #[test]
    fn the_policy_round_trips_through_its_json_text() {
        let p = endpoint_policy(&["*"], &[F1], &["lambda:*"]).unwrap();
        assert_eq!(p["Statement"][0]["Principal"], "*");
        let text = serde_json::to_string_pretty(&p).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn users_roots_and_roles_with_paths_are_principals() {
        for p in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws-cn:iam::123456789012:role/service-role/my.role+x=y,z@w_v-u",
            "arn:aws-us-gov:iam::123456789012:role/r",
        ] {
            assert!(endpoint_policy(&[p], &[F1], &[]).is_ok(), "{p}");
        }
    }

    #[test]
    fn bad_principals_are_refused_naming_principal() {
        let cases: [&[&str]; 10] = [
            &[],
            &[""],
            &["*", ROLE],
            &["123456789012"],
            &["arn:aws:iam::12345678901:root"],
            &["arn:aws:iam:us-east-1:123456789012:root"],
            &["arn:aws:sts::123456789012:assumed-role/r/s"],
            &["arn:aws:iam::123456789012:group/g"],
            &["arn:aws:iam::123456789012:role/"],
            &["arn:aws:iam::123456789012:role/a//b"],
        ];
        for ps in cases {
            let e = endpoint_policy(ps, &[F1], &[]).unwrap_err();
            assert_eq!(e.field(), "principal", "{ps:?}");
        }
    }

    #[test]
    fn bad_function_arns_are_refused_naming_function_arn() {
        for fs in [
            &[][..],
            &["one"][..],
            &["123456789012:function:one"][..],
            &["arn:aws:lambda:us-east-1:123456789012:function:"][..],
            &[F1, "arn:aws:s3:::bucket"][..],
        ] {
            let e = endpoint_policy(&[ROLE], fs, &[]).unwrap_err();
            assert_eq!(e.field(), "function_arn", "{fs:?}");
        }
    }

    #[test]
    fn bad_actions_are_refused_naming_action() {
        for a in [
            "",
            "InvokeFunction",
            "lambda:",
            "lambda:Invoke*",
            "s3:GetObject",
            "lambda:Invoke Function",
        ] {
            let e = endpoint_policy(&[ROLE], &[F1], &[a]).unwrap_err();
            assert_eq!(e.field(), "action", "{a}");
        }
    }

    proptest! {
        #[test]
        fn no_input_makes_the_policy_builder_panic(a in any::<String>(), b in any::<String>(), c in any::<String>()) {
            let _ = endpoint_policy(&[&a], &[&b], &[&c]);
            let _ = endpoint_policy(&[ROLE], &[&b], &[]);
            let _ = endpoint_policy(&[&a], &[F1], &[]);
        }
    }
}
