//! Per-layer value ranges: what the exporter recorded in the bundle's `calibration` (float
//! min/max on the example inputs, saturated values in each tensor's format), per node output,
//! for the run report.

use mlcalyx_compiler::bundle::Role;
use mlcalyx_compiler::Bundle;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One tensor's row: the node computing it (or its role), its format and what was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRange {
    pub tensor: String,
    /// The producing node's op, or "input".
    pub op: String,
    /// The PyTorch module path the node came from ("" for the root or an input).
    pub module: String,
    pub format: String,
    pub min: f64,
    pub max: f64,
    pub count: u64,
    pub saturated: u64,
}

/// The inputs and every node output of `bundle` with recorded ranges, in graph order; empty
/// when the bundle has none (exported without --calibrate, --precision or --formats).
pub fn layer_ranges(bundle: &Bundle) -> Vec<LayerRange> {
    let m = &bundle.model;
    let Some(calibration) = &m.calibration else {
        return Vec::new();
    };
    let row = |name: &str, op: &str, module: &str| {
        let t = m.tensors.iter().find(|t| t.name == name)?;
        let c = calibration.get(name)?;
        Some(LayerRange {
            tensor: name.to_string(),
            op: op.to_string(),
            module: module.to_string(),
            format: t.format.to_string(),
            min: c.min,
            max: c.max,
            count: c.count,
            saturated: c.saturated,
        })
    };
    let inputs = m
        .tensors
        .iter()
        .filter(|t| t.role == Role::Input)
        .filter_map(|t| row(&t.name, "input", ""));
    let nodes = m.nodes.iter().flat_map(|n| {
        let module = n
            .source
            .as_ref()
            .and_then(|s| s.module.clone())
            .unwrap_or_default();
        n.outputs
            .iter()
            .filter_map(move |o| row(o, &n.op, &module))
            .collect::<Vec<_>>()
    });
    inputs.chain(nodes).collect()
}

/// The ranges as a text table, or "" when there are none.
pub fn table(ranges: &[LayerRange]) -> String {
    if ranges.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nvalue ranges on the example inputs (float), per layer:"
    );
    let _ = writeln!(
        out,
        "{:<24} {:<12} {:<16} {:>8} {:>12} {:>12} {:>16}",
        "tensor", "op", "module", "format", "min", "max", "saturated"
    );
    for r in ranges {
        let _ = writeln!(
            out,
            "{:<24} {:<12} {:<16} {:>8} {:>12.6} {:>12.6} {:>16}",
            r.tensor,
            r.op,
            r.module,
            r.format,
            r.min,
            r.max,
            format!("{} of {}", r.saturated, r.count)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_line_per_tensor_and_nothing_without_ranges() {
        assert_eq!(table(&[]), "");
        let r = LayerRange {
            tensor: "conv2d".into(),
            op: "conv".into(),
            module: "features.0".into(),
            format: "s3.13".into(),
            min: -1.5,
            max: 2.25,
            count: 400,
            saturated: 3,
        };
        let text = table(&[r]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(
            lines[3].split_whitespace().collect::<Vec<_>>(),
            [
                "conv2d",
                "conv",
                "features.0",
                "s3.13",
                "-1.500000",
                "2.250000",
                "3",
                "of",
                "400"
            ]
        );
    }
}
