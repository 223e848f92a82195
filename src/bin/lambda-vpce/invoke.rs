//! `lambda-vpce invoke` (being written).

use clap::Args;

use crate::common::CmdResult;

/// Flags of `lambda-vpce invoke`.
#[derive(Debug, Args)]
pub(crate) struct InvokeArgs {}

pub(crate) async fn run(_args: InvokeArgs) -> CmdResult {
    Err("not implemented yet".into())
}
