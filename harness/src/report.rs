//! The user-facing report of a run: a table for people, JSON for tools.

use crate::fpga::FpgaRow;
use crate::pipeline::RunResult;
use std::fmt::Write;

/// One line per run: banking, cycles, speedup over the first row, bit_exact, error vs float.
pub fn table(results: &[RunResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:>7} {:>10} {:>8} {:>9} {:>12} {:>8} {:>10} {:>9}",
        "model",
        "banking",
        "cycles",
        "speedup",
        "bit_exact",
        "max_abs_err",
        "status",
        "compile_ms",
        "build_ms"
    );
    let base = results.first().and_then(|r| r.cycles);
    for r in results {
        let cycles = r.cycles.map_or("-".into(), |c| c.to_string());
        let speedup = match (base, r.cycles) {
            (Some(b), Some(c)) if c > 0 => format!("{:.2}x", b as f64 / c as f64),
            _ => "-".into(),
        };
        let err = r.max_abs_err.map_or("-".into(), |e| format!("{e:.5}"));
        let fmt_ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
        let _ = writeln!(
            out,
            "{:<14} {:>7} {:>10} {:>8} {:>9} {:>12} {:>8} {:>10} {:>9}",
            r.model,
            r.banking,
            cycles,
            speedup,
            r.bit_exact,
            err,
            r.status,
            fmt_ms(r.compile_ms),
            fmt_ms(r.verilator_build_ms)
        );
    }
    out += &fpga_table(results);
    if let Some(r) = results.iter().find(|r| !r.ranges.is_empty()) {
        out += &crate::ranges::table(&r.ranges);
    }
    for r in results {
        for n in &r.notes {
            let _ = writeln!(out, "\nbanking {}: note: {n}", r.banking);
        }
        if let Some(e) = &r.error {
            let _ = writeln!(out, "\nbanking {}: error: {e}", r.banking);
        }
        for c in r.outputs.iter().filter(|c| !c.bit_exact) {
            let _ = writeln!(
                out,
                "\nbanking {}: output '{}' differs from the fixed-point reference in {} of {} elements (first: {:?} as (index, expected, simulated))",
                r.banking, c.tensor, c.mismatches, c.elements, c.first_mismatch
            );
        }
    }
    out
}

/// With `--fpga`: what each row costs on the device, beside its cycles; empty otherwise.
fn fpga_table(results: &[RunResult]) -> String {
    let rows: Vec<(&RunResult, &FpgaRow)> = results
        .iter()
        .filter_map(|r| r.fpga.as_ref().map(|f| (r, f)))
        .collect();
    let Some((_, first)) = rows.first() else {
        return String::new();
    };
    let mut out = String::new();
    let _ = writeln!(out, "\non {}:", first.fpga_device);
    let _ = writeln!(
        out,
        "{:>7} {:>10} {:>5} {:>5} {:>7} {:>7} {:>5} {:>9} {:>11} {:>5} {:>11} {:>9} {:>9}",
        "banking",
        "cycles",
        "mults",
        "dsp",
        "lut",
        "ff",
        "bram",
        "fmax_mhz",
        "latency_us",
        "fits",
        "post_synth",
        "synth_ms",
        "pnr_ms"
    );
    let n = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
    let f = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    let b = |v: Option<bool>| v.map_or("-".into(), |v| v.to_string());
    for (r, x) in &rows {
        let _ = writeln!(
            out,
            "{:>7} {:>10} {:>5} {:>5} {:>7} {:>7} {:>5} {:>9} {:>11} {:>5} {:>11} {:>9} {:>9}",
            r.banking,
            n(r.cycles),
            n(r.multipliers),
            n(x.dsp),
            n(x.lut),
            n(x.ff),
            n(x.bram),
            f(x.fmax_mhz, 1),
            f(x.latency_us, 2),
            b(x.fits),
            b(r.post_synth_bit_exact),
            f(x.synth_ms, 0),
            f(x.pnr_ms, 0)
        );
    }
    for (r, x) in &rows {
        if let Some(e) = &x.fpga_error {
            let _ = writeln!(out, "\nbanking {}: fpga: {e}", r.banking);
        }
        if let Some(p) = &x.critical_path {
            let _ = writeln!(out, "banking {}: critical path {p}", r.banking);
        }
    }
    out
}

/// The rows as one JSON array.
pub fn json(results: &[RunResult]) -> String {
    serde_json::to_string_pretty(results)
        .unwrap_or_else(|e| format!("[{{\"status\": \"error\", \"error\": \"{e}\"}}]"))
}
