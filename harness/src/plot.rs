//! `--plot FILE.svg`: what each banking factor costs and gains, as four scatter panels
//! (cycles and latency against DSPs and against LUTs), one labelled point per factor.

use crate::pipeline::RunResult;
use anyhow::{anyhow, bail, Result};
use plotters::prelude::*;
use std::path::Path;

/// One banking factor's point.
struct Point {
    banking: u32,
    dsp: f64,
    lut: f64,
    cycles: f64,
    latency_us: Option<f64>,
}

/// Draws the rows that have cycles and FPGA resources into the SVG file `path`. On failure no
/// file is left behind.
pub fn plot(results: &[RunResult], path: &Path) -> Result<()> {
    let points: Vec<Point> = results
        .iter()
        .filter_map(|r| {
            let fpga = r.fpga.as_ref()?;
            Some(Point {
                banking: r.banking,
                dsp: fpga.dsp? as f64,
                lut: fpga.lut? as f64,
                cycles: r.cycles? as f64,
                latency_us: fpga.latency_us,
            })
        })
        .collect();
    if points.is_empty() {
        bail!("--plot: no row has both cycles and FPGA resources to draw");
    }
    let title = match results.first().and_then(|r| r.fpga.as_ref()) {
        Some(f) => format!(
            "{} on {}: per banking factor",
            results[0].model, f.fpga_device
        ),
        None => format!("{}: per banking factor", results[0].model),
    };
    draw(&points, &title, path).map_err(|e| {
        let _ = std::fs::remove_file(path);
        anyhow!("drawing {}: {e}", path.display())
    })
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw(points: &[Point], title: &str, path: &Path) -> DrawResult {
    let root = SVGBackend::new(path, (1100, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let panels = root.split_evenly((2, 2));
    let dsp = |p: &Point| Some(p.dsp);
    let lut = |p: &Point| Some(p.lut);
    let cycles = |p: &Point| Some(p.cycles);
    let latency = |p: &Point| p.latency_us;
    type Axis<'a> = (&'a str, &'a dyn Fn(&Point) -> Option<f64>);
    let layout: [(Axis, Axis); 4] = [
        (("DSPs (MULT18X18D)", &dsp), ("cycles", &cycles)),
        (("DSPs (MULT18X18D)", &dsp), ("latency (us)", &latency)),
        (("LUT4s", &lut), ("cycles", &cycles)),
        (("LUT4s", &lut), ("latency (us)", &latency)),
    ];
    for (area, ((x_name, x), (y_name, y))) in panels.iter().zip(layout) {
        let xy: Vec<(f64, f64, u32)> = points
            .iter()
            .filter_map(|p| Some((x(p)?, y(p)?, p.banking)))
            .collect();
        panel(area, &xy, x_name, y_name)?;
    }
    root.present()?;
    Ok(())
}

/// One scatter panel: points (x, y, banking factor) joined in factor order, y on a log scale.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    xy: &[(f64, f64, u32)],
    x_name: &str,
    y_name: &str,
) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let caption = format!("{y_name} vs {x_name}");
    if xy.is_empty() {
        area.titled(&format!("{caption}: no data"), ("sans-serif", 16))?;
        return Ok(());
    }
    let (x_min, x_max) = bounds(xy.iter().map(|p| p.0));
    let (y_min, y_max) = bounds(xy.iter().map(|p| p.1));
    let x_pad = ((x_max - x_min) * 0.1).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(&caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (x_min - x_pad).max(0.0)..x_max + x_pad,
            (y_min * 0.7..y_max * 1.4).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc(x_name)
        .y_desc(y_name)
        .draw()?;
    chart.draw_series(LineSeries::new(xy.iter().map(|p| (p.0, p.1)), &BLUE))?;
    chart.draw_series(xy.iter().map(|&(x, y, b)| {
        EmptyElement::at((x, y))
            + Circle::new((0, 0), 4, BLUE.filled())
            + Text::new(format!("b={b}"), (6, -14), ("sans-serif", 13))
    }))?;
    Ok(())
}

/// Smallest and largest value, kept positive for the log scale.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo.max(1e-3), hi.max(lo.max(1e-3)))
}
