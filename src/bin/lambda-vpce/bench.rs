//! `lambda-vpce bench` (being written).

use clap::Args;

use crate::common::CmdResult;

/// Flags of `lambda-vpce bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {}

pub(crate) async fn run(_args: BenchArgs) -> CmdResult {
    Err("not implemented yet".into())
}
