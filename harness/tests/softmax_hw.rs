//! `softmax` (`docs/numerics.md`, "softmax") is bit-exact in hardware at its edges, at banking 1,
//! 2 and 4: all-equal logits, one dominant logit (the others below the table's `lo`: e = 0), the
//! widest difference x - max (-65535 raw, past x's own range), d exactly at `lo` and one below,
//! rounding of the division, saturation of y = 1.0 in s0.15, and a softmax over a dimension that
//! is not the last.
//!
//! The bundle is written by the test and every expected value is a literal worked out from the
//! contract (the arithmetic is in the comments).

mod common;

use common::{describe, run_json, BundleSpec, Fmt, Q8_8};
use mlcalyx_compiler::Bundle;
use mlcalyx_harness::{run_bundle, RunSettings};
use mlcalyx_sim::Verilator;
use serde_json::{json, Value};
use std::path::Path;

/// s2.14: the exp table's format.
const S2_14: Fmt = Fmt::new(16, 14);
/// s0.15.
const S0_15: Fmt = Fmt::new(16, 15);

#[test]
fn softmax_at_its_edges() {
    // exp(-4), exp(-3), exp(-2), exp(-1), exp(0) in s2.14; lo = -1024 (-4.0), shift 8 (one word
    // per 1.0): index = (d + 1024) >> 8, d = 0 reads word 4 (1.0), d < -1024 gives e = 0.
    let table = [300, 816, 2217, 6027, 16384];
    #[rustfmt::skip]
    let x = [
        100, 100, 100, 100,          // all equal: d = 0, e = 16384 each, S = 65536
        0, 0, 0, 2560,               // dominant: d = -2560 < lo for the others, S = 16384
        -32768, 32767, 32511, 31743, // d = -65535 (e 0), 0 (16384), -256 (6027), -1024 (300)
        0, -1025, -1024, -1,         // d = 0 (16384), -1025 (0), -1024 = lo (300), -1 (6027)
    ];
    // Over rows (axis 1), y = (e * 256 + S / 2) / S:
    #[rustfmt::skip]
    let rows = [
        64, 64, 64, 64,   // (4194304 + 32768) / 65536 = 64.5 -> 64
        0, 0, 0, 256,     // 8192 / 16384 = 0; (4194304 + 8192) / 16384 = 256
        0, 185, 68, 3,    // S = 22711: 4205659 / S = 185.2, 1554267 / S = 68.4, 88155 / S = 3.9
        185, 0, 3, 68,
    ];
    // Over columns (axis 0). Column 0: x = [100, 0, -32768, 0], d = [0, -100, -32868, -100],
    // e = [16384, 6027, 0, 6027], S = 28438: 147, 54, 0, 54. Columns 1..3: row 2 is the maximum
    // and every other d is below lo: y = 256 there, 0 elsewhere.
    #[rustfmt::skip]
    let cols = [
        147, 0, 0, 0,
        54, 0, 0, 0,
        0, 256, 256, 256,
        54, 0, 0, 0,
    ];
    // Rows into s0.15: y = (e * 32768 + S / 2) / S; 1.0 = 32768 saturates to 32767.
    #[rustfmt::skip]
    let rows15 = [
        8192, 8192, 8192, 8192,
        0, 0, 0, 32767,
        0, 23639, 8696, 433, // (536870912 + 11355) / 22711 = 23639.4, 6027: 8696.4, 300: 433.3
        23639, 0, 433, 8696,
    ];
    let mut spec = BundleSpec::new("softmax");
    let attrs = |axis: usize| json!({"axis": axis, "lo": -1024, "shift": 8});
    spec.input("x", &[4, 4], Q8_8, &x)
        .weight("exp_table", &[5], S2_14, &table)
        .output("rows", &[4, 4], Q8_8, &rows)
        .output("cols", &[4, 4], Q8_8, &cols)
        .output("rows15", &[4, 4], S0_15, &rows15)
        .node_with("sm_rows", "softmax", &["x", "exp_table"], "rows", attrs(1))
        .node_with("sm_cols", "softmax", &["x", "exp_table"], "cols", attrs(0))
        .node_with(
            "sm_rows15",
            "softmax",
            &["x", "exp_table"],
            "rows15",
            attrs(1),
        );
    let tmp = tempfile::tempdir().unwrap();
    let dir = spec.write(&tmp.path().join("softmax.bundle"));
    let bundle = Bundle::load(&dir).unwrap_or_else(|e| panic!("loading: {e}"));
    let verilator = Verilator::find().expect("Verilator 5 is needed: run scripts/setup.sh");
    let cycles: Vec<u64> = [1, 2, 4]
        .into_iter()
        .map(|factor| {
            let work = tmp.path().join(format!("work{factor}"));
            let r = run_bundle(&bundle, factor, &work, &verilator, &RunSettings::default());
            assert_eq!(r.status, "ok", "at {factor}: {r:#?}");
            assert!(r.bit_exact, "at {factor}: {r:#?}");
            assert_eq!(r.max_abs_err, Some(0.0), "at {factor}: {r:#?}");
            assert_eq!(r.multipliers, Some(0), "at {factor}: {r:#?}");
            r.cycles.expect("a run has cycles")
        })
        .collect();
    // Elements one at a time at every factor: loops at banking 1 (the rows are stored in order;
    // loop control costs cycles), straight-line code over the banks at 2 and 4.
    assert_eq!(cycles, [2176, 1696, 1696]);
}

/// The layer case `softmax_output` (Linear(10, 6) then Softmax over the last dim, Q8.8) through
/// `mlcalyx run --banking 1,2 --json`: bit-exact, the cycles pinned (the linear's 2 outputs per
/// step halve its part; the softmax's 6 elements run one at a time at both factors, in loops at
/// banking 1).
#[test]
fn softmax_output_layer_case_through_mlcalyx_run() {
    if common::torch_python().is_none() {
        return;
    }
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layers/softmax_output.py");
    let cwd = tempfile::tempdir().unwrap();
    let o = run_json(cwd.path(), &model, "1,2");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).expect("JSON rows");
    let got: Vec<(u64, bool, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["banking"].as_u64().unwrap(),
                r["bit_exact"] == true,
                r["cycles"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [(1, true, 809), (2, true, 356)], "{}", describe(&o));
}
