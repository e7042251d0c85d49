//! One SVG plot per workload: throughput against size, a line per series, both axes
//! logarithmic (sizes grow by powers of two and throughputs span decades).

use std::path::Path;

use plotters::prelude::*;

use super::report::{Workload, si};

/// Distinguishable on white, in a fixed order so a series keeps its colour across runs.
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws `workload` into `path`; a workload with no points gets no file.
pub fn draw(workload: &Workload, path: &Path) -> Result<(), String> {
    let points: Vec<(f64, f64)> = workload
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| (p.size as f64, p.items_per_second)))
        .collect();
    if points.is_empty() {
        return Ok(());
    }
    let (x_min, x_max) = bounds(points.iter().map(|p| p.0));
    let (y_min, y_max) = bounds(points.iter().map(|p| p.1));
    let error = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());

    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&workload.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(
            (x_min / 1.5..x_max * 1.5).log_scale(),
            (y_min / 2.0..y_max * 2.0).log_scale(),
        )
        .map_err(|e| error(&e))?;
    chart
        .configure_mesh()
        .x_desc(workload.size.as_str())
        .y_desc(format!("{} per second", workload.item))
        .x_label_formatter(&|v| si(*v).replace(".000", ""))
        .y_label_formatter(&|v| si(*v).replace(".000", ""))
        .draw()
        .map_err(|e| error(&e))?;
    for (i, series) in workload.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let line: Vec<(f64, f64)> = series
            .points
            .iter()
            .map(|p| (p.size as f64, p.items_per_second))
            .collect();
        chart
            .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))
            .map_err(|e| error(&e))?
            .label(&series.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        chart
            .draw_series(line.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| error(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| error(&e))?;
    root.present().map_err(|e| error(&e))
}

/// The smallest and largest of the positive values (a log axis has no room for others).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo <= hi { (lo, hi) } else { (1.0, 1.0) }
}
