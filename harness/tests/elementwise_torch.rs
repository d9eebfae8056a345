//! PyTorch models with the elementwise ops (BatchNorm not folded, ReLU6, Hardtanh, PReLU,
//! LeakyReLU, Threshold, Sigmoid, Tanh, ELU, GELU, SiLU) exported by `scripts/export.py` and run
//! through `mlcalyx run --json` bit-exact at banking 1, 2 and 4 (they need the `.venv` of
//! scripts/setup.sh; `MLCALYX_SKIP_TORCH_TESTS=1` skips them).

mod common;

use common::{describe, run_cli};
use serde_json::Value;
use std::path::Path;

/// Exports `tests/models/<name>.py`, checks which ops its graph has, runs it at banking 1, 2, 4;
/// returns the cycles per factor.
fn export_and_run(name: &str, ops: &[&str]) -> Vec<u64> {
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/models")
        .join(format!("{name}.py"));
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join(format!("{name}.bundle"));
    let o = run_cli(
        tmp.path(),
        ["export".as_ref(), model.as_os_str(), bundle.as_os_str()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let graph: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("model.json")).unwrap()).unwrap();
    let exported: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["op"].as_str().unwrap())
        .collect();
    assert_eq!(exported, ops, "{name}: the exported graph");

    let o = run_cli(
        tmp.path(),
        [
            "run".as_ref(),
            bundle.as_os_str(),
            "--banking".as_ref(),
            "1,2,4".as_ref(),
            "--jobs".as_ref(),
            "2".as_ref(),
            "--json".as_ref(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let rows: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(&o)));
    let rows = rows.as_array().expect("a JSON array");
    assert_eq!(rows.len(), 3, "{}", describe(&o));
    rows.iter()
        .zip([1, 2, 4])
        .map(|(row, factor)| {
            assert_eq!(row["banking"], factor, "{}", describe(&o));
            assert_eq!(row["status"], "ok", "{}", describe(&o));
            assert_eq!(row["bit_exact"], true, "{}", describe(&o));
            assert_eq!(row["within_tolerance"], true, "{}", describe(&o));
            row["cycles"].as_u64().expect("cycles")
        })
        .collect()
}

#[test]
fn unfolded_batch_norm_and_clamping_activations() {
    if common::torch_python().is_none() {
        return;
    }
    #[rustfmt::skip]
    let ops = [
        "linear", "relu", "scale_shift", "prelu", "clamp", // fc1, ReLU, BatchNorm1d, PReLU(8), ReLU6
        "linear", "prelu", "threshold",                     // fc2, LeakyReLU, Threshold
        "linear", "clamp",                                  // fc3, Hardtanh
    ];
    let cycles = export_and_run("bn_activations", &ops);
    assert_eq!(cycles, [1728, 666, 254]);
}

#[test]
fn batch_norm_2d_and_lookup_tables() {
    if common::torch_python().is_none() {
        return;
    }
    #[rustfmt::skip]
    let ops = [
        "scale_shift", "prelu",                      // BatchNorm2d(3), PReLU(3) on [1, 3, 4, 5]
        "lut", "lut", "add", "lut", "add", "lut", "add", "lut", "add", // sigmoid, tanh, elu, gelu, silu
    ];
    let cycles = export_and_run("bn2d_tables", &ops);
    assert_eq!(cycles, [4052, 3248, 1352]);
}
