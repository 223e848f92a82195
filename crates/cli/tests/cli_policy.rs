//! `lambda-vpce policy`: the printed JSON is the library's policy, and refusals exit 2.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::process::Output;

const ROLE: &str = "arn:aws:iam::123456789012:role/caller";
const USER: &str = "arn:aws:iam::123456789012:user/ops";
const F1: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders:prod";
const F2: &str = "arn:aws:lambda:us-east-1:123456789012:function:billing";

fn policy(args: &[&str]) -> Output {
    support::cli::bin()
        .arg("policy")
        .args(args)
        .env_clear()
        .output()
        .expect("binary runs")
}

#[test]
fn the_printed_policy_round_trips_to_the_librarys_json() {
    let out = policy(&[
        "--principal",
        ROLE,
        "--principal",
        USER,
        "--function",
        F1,
        F2,
        "--action",
        "lambda:InvokeFunction",
        "lambda:GetFunction",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let printed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let expected = lambda_vpce::policy::endpoint_policy(
        &[ROLE, USER],
        &[F1, F2],
        &["lambda:InvokeFunction", "lambda:GetFunction"],
    )
    .expect("valid policy");
    assert_eq!(printed, expected);
    let again = serde_json::to_string_pretty(&printed).expect("serialises");
    assert_eq!(again.trim_end(), text.trim_end());
}

#[test]
fn every_function_gets_its_unqualified_and_qualified_resource() {
    let out = policy(&["--principal", ROLE, "--function", F1]);
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(
        printed["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:lambda:us-east-1:123456789012:function:orders",
            "arn:aws:lambda:us-east-1:123456789012:function:orders:*",
        ])
    );
    assert_eq!(
        printed["Statement"][0]["Action"],
        serde_json::json!(["lambda:InvokeFunction"])
    );
}

#[test]
fn refused_arns_and_actions_exit_2_naming_the_field_and_print_nothing() {
    for (args, field) in [
        (
            vec!["--principal", ROLE, "--function", "orders"],
            "function_arn",
        ),
        (vec!["--principal", "bob", "--function", F2], "principal"),
        (
            vec![
                "--principal",
                ROLE,
                "--function",
                F2,
                "--action",
                "s3:GetObject",
            ],
            "action",
        ),
    ] {
        let out = policy(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("invalid {field}")), "{args:?}: {err}");
    }
}

#[test]
fn principal_and_function_are_required() {
    let out = policy(&["--function", F2]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
