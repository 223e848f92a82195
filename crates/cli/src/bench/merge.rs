//! `lambda-vpce bench merge A.json B.json …`: the runs of a fleet of load generators as one
//! report (the merge itself: [`lambda_vpce_bench::merge`]).

use std::path::PathBuf;

use clap::Args;
use lambda_vpce_bench::report::RunReport;

use crate::common::CmdResult;

/// Flags of `lambda-vpce bench merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The JSON reports (`bench --json`) of runs of the same clients, two or more.
    #[arg(value_name = "REPORT.json", num_args = 2.., required = true)]
    pub(crate) reports: Vec<PathBuf>,

    /// Write the merged report as JSON (the same schema, `runs` = how many were merged).
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,

    /// Write the merged latency CDF of every client as an SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,

    /// Also print each figure's change against this earlier report.
    #[arg(long, value_name = "OLD.json")]
    pub(crate) baseline: Option<PathBuf>,
}

/// Runs `bench merge`.
pub(crate) fn run(a: MergeArgs) -> CmdResult {
    let mut runs = Vec::with_capacity(a.reports.len());
    for path in &a.reports {
        runs.push((path.display().to_string(), RunReport::read_json(path)?));
    }
    let merged = lambda_vpce_bench::merge::merge(&runs)?;
    print!("{}", merged.report.text());
    if let Some(path) = &a.baseline {
        let old = RunReport::read_json(path)?;
        print!(
            "{}",
            lambda_vpce_bench::baseline::text(&old, &merged.report)
        );
    }
    if let Some(path) = &a.json {
        merged.report.write_json(path)?;
    }
    if let Some(path) = &a.plot {
        let series: Vec<_> = merged
            .report
            .clients
            .iter()
            .zip(&merged.histograms)
            .map(|(c, h)| (c.client.as_str(), h))
            .collect();
        let title = format!(
            "bench merge of {} runs: latency CDF of successful calls",
            merged.report.runs
        );
        lambda_vpce_bench::plot::write_cdf(path, &title, &series)?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
