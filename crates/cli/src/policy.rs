//! `lambda-vpce policy`: prints a VPC endpoint policy from
//! [`lambda_vpce::policy::endpoint_policy`], pretty-printed JSON on stdout.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Args;

use crate::common::CmdResult;

/// Flags of `lambda-vpce policy`.
#[derive(Debug, Args)]
#[command(after_help = "\
Every function yields two resources, the unqualified ARN and `ARN:*`: the Lambda guide warns \
that a policy with only one of them denies either qualified (version, alias) or unqualified \
invokes. A qualified --function ARN is reduced to its unqualified form first.

Exit codes: 0 printed; 2 an ARN or action was refused (nothing printed on stdout).")]
pub(crate) struct PolicyArgs {
    /// An IAM principal allowed to call through the endpoint: arn:aws:iam::ACCOUNT:root,
    /// ...:user/NAME or ...:role/NAME, or `*` alone. Repeat for several.
    #[arg(long = "principal", value_name = "ARN", required = true, num_args = 1..)]
    principals: Vec<String>,
    /// A function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]). Repeat for
    /// several.
    #[arg(long = "function", value_name = "ARN", required = true, num_args = 1..)]
    functions: Vec<String>,
    /// An action to allow (`lambda:` + name, or `lambda:*`). Repeat for several.
    /// Default: lambda:InvokeFunction.
    #[arg(long = "action", value_name = "ACTION", num_args = 1..)]
    actions: Vec<String>,
}

pub(crate) async fn run(args: PolicyArgs) -> CmdResult {
    let principals: Vec<&str> = args.principals.iter().map(String::as_str).collect();
    let functions: Vec<&str> = args.functions.iter().map(String::as_str).collect();
    let actions: Vec<&str> = args.actions.iter().map(String::as_str).collect();
    let policy = lambda_vpce::policy::endpoint_policy(&principals, &functions, &actions)?;
    let text = serde_json::to_string_pretty(&policy)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
