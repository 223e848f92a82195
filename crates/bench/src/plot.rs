//! `--plot FILE.svg`: the latency CDF of every client, latency on a log scale.

use std::path::Path;

use hdrhistogram::Histogram;
use plotters::prelude::*;

use crate::Error;

/// Width and height of the SVG, in pixels.
const SIZE: (u32, u32) = (960, 600);

/// Writes the CDF of each `(client, histogram)` to `path` as SVG.
pub fn write_cdf(
    path: &Path,
    title: &str,
    series: &[(&str, &Histogram<u64>)],
) -> Result<(), Error> {
    let present: Vec<_> = series.iter().filter(|(_, h)| !h.is_empty()).collect();
    let lo = present
        .iter()
        .map(|(_, h)| h.min())
        .min()
        .unwrap_or(1)
        .max(1);
    let hi = present
        .iter()
        .map(|(_, h)| h.max())
        .max()
        .unwrap_or(10)
        .max(lo * 10);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(((lo as f64) * 0.9..(hi as f64) * 1.1).log_scale(), 0.0..1.0)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("latency (µs, log scale)")
        .y_desc("fraction of calls ≤ latency")
        .draw()
        .map_err(plot_err)?;
    for (i, (name, h)) in present.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let total = h.len() as f64;
        let mut seen = 0u64;
        let points: Vec<(f64, f64)> = h
            .iter_recorded()
            .map(|v| {
                seen += v.count_at_value();
                (
                    h.highest_equivalent(v.value_iterated_to()) as f64,
                    seen as f64 / total,
                )
            })
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(plot_err)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)?;
    root.present().map_err(plot_err)?;
    Ok(())
}

fn plot_err<E: std::fmt::Display>(e: E) -> Error {
    format!("cannot draw the plot: {e}").into()
}
