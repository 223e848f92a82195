//! `lambda-vpce doctor` (being written).

use clap::Args;

use crate::common::CmdResult;

/// Flags of `lambda-vpce doctor`.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {}

pub(crate) async fn run(_args: DoctorArgs) -> CmdResult {
    Err("not implemented yet".into())
}
