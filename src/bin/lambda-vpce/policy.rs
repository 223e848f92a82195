//! `lambda-vpce policy` (being written).

use clap::Args;

use crate::common::CmdResult;

/// Flags of `lambda-vpce policy`.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {}

pub(crate) async fn run(_args: PolicyArgs) -> CmdResult {
    Err("not implemented yet".into())
}
