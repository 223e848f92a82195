//! `lambda-vpce soak` (being written).

use clap::Args;

use crate::common::CmdResult;

/// Flags of `lambda-vpce soak`.
#[derive(Debug, Args)]
pub(crate) struct SoakArgs {}

pub(crate) async fn run(_args: SoakArgs) -> CmdResult {
    Err("not implemented yet".into())
}
