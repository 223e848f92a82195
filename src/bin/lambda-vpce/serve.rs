//! `lambda-vpce serve` (being written).

use clap::Args;

use crate::common::CmdResult;

/// Flags of `lambda-vpce serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {}

pub(crate) async fn run(_args: ServeArgs) -> CmdResult {
    Err("not implemented yet".into())
}
