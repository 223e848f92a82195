//! `bench --baseline OLD.json` (and `bench merge --baseline`): the summary table with each
//! figure's change against an earlier run, so a user tuning settings sees what moved.

use std::fmt::Write as _;

use crate::report::{ClientReport, RunReport};

/// The comparison table: per client of `new`, each figure as `new (±x.x%)` against the same
/// client in `old` (`new (was -)` where `old` did not measure it), then a note for every field
/// in which the runs measured different things.
pub fn text(old: &RunReport, new: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nagainst the baseline (change in %, + is higher):");
    let _ = writeln!(
        out,
        "{:<18} {:>16} {:>16} {:>16} {:>18} {:>14} {:>12}",
        "client", "p50 µs", "p99 µs", "p99.9 µs", "calls/s", "CPU µs/call", "errors"
    );
    for c in &new.clients {
        let Some(o) = old.clients.iter().find(|o| o.client == c.client) else {
            let _ = writeln!(out, "{:<18} (not in the baseline)", c.client);
            continue;
        };
        let _ = writeln!(
            out,
            "{:<18} {:>16} {:>16} {:>16} {:>18} {:>14} {:>12}",
            c.client,
            cell(c.p50_us as f64, o.p50_us as f64, 0),
            cell(c.p99_us as f64, o.p99_us as f64, 0),
            cell(c.p999_us as f64, o.p999_us as f64, 0),
            cell(c.throughput_rps, o.throughput_rps, 0),
            opt_cell(c, o, |r| r.cpu_us_per_call),
            cell(c.errors as f64, o.errors as f64, 0),
        );
    }
    for (field, was, now) in crate::merge::baseline_differences(old, new) {
        let _ = writeln!(
            out,
            "note: the runs measured different things: `{field}` was {was}, is {now}"
        );
    }
    out
}

fn cell(new: f64, old: f64, decimals: usize) -> String {
    let change = if old == 0.0 {
        if new == 0.0 {
            "=".to_owned()
        } else {
            "new".to_owned()
        }
    } else {
        format!("{:+.1}%", (new - old) / old * 100.0)
    };
    format!("{new:.decimals$} ({change})")
}

fn opt_cell(c: &ClientReport, o: &ClientReport, f: fn(&ClientReport) -> Option<f64>) -> String {
    match (f(c), f(o)) {
        (Some(n), Some(p)) => cell(n, p, 1),
        (Some(n), None) => format!("{n:.1} (was -)"),
        (None, _) => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_percentages_of_the_baseline() {
        assert_eq!(cell(110.0, 100.0, 0), "110 (+10.0%)");
        assert_eq!(cell(45.0, 50.0, 0), "45 (-10.0%)");
        assert_eq!(cell(0.0, 0.0, 0), "0 (=)");
        assert_eq!(cell(3.0, 0.0, 0), "3 (new)");
    }
}
