//! `--precision`, `--calibrate` and `--formats` through the `mlcalyx` command line (they need the
//! `.venv` of scripts/setup.sh; `MLCALYX_SKIP_TORCH_TESTS=1` skips them): the exporter gets the
//! flags, the calibrated bundle runs bit-exact, and `run` reports the per-layer ranges.

mod common;

use common::{describe, root, run_cli, stderr};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

/// `mlcalyx export examples/tiny_mlp.py BUNDLE FLAGS...` in `cwd`.
fn export_tiny(cwd: &Path, bundle: &Path, flags: &[&str]) -> Output {
    let model = root().join("examples/tiny_mlp.py");
    let mut args: Vec<&OsStr> = vec!["export".as_ref(), model.as_os_str(), bundle.as_os_str()];
    args.extend(flags.iter().map(OsStr::new));
    run_cli(cwd, args)
}

#[test]
fn a_calibrated_export_runs_bit_exact_and_reports_its_ranges() {
    if common::torch_python().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("tiny.bundle");
    std::fs::write(
        tmp.path().join("formats.json"),
        r#"{"fc2.weight": {"width": 12, "frac": 9}}"#,
    )
    .unwrap();
    let flags = [
        "--precision",
        "14,7",
        "--calibrate",
        "--formats",
        "formats.json",
    ];
    let o = export_tiny(tmp.path(), &bundle, &flags);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let doc: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("model.json")).unwrap()).unwrap();
    let format_of = |name: &str| {
        let t = doc["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no tensor {name}"));
        (t["format"]["width"].as_u64(), t["format"]["frac"].as_u64())
    };
    // The inputs lie in (-1, 1): no integer bits beyond the sign at 14 bits.
    assert_eq!(format_of("x"), (Some(14), Some(13)));
    assert_eq!(format_of("fc2.weight"), (Some(12), Some(9)));
    assert_eq!(format_of("linear"), format_of("relu"));

    let o = run_cli(
        tmp.path(),
        ["run".as_ref(), bundle.as_os_str(), "--json".as_ref()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = &rows[0];
    assert_eq!(row["bit_exact"], true, "{}", describe(&o));
    let ranges = row["ranges"].as_array().expect("ranges in the row");
    let tensors: Vec<&str> = ranges
        .iter()
        .map(|r| r["tensor"].as_str().unwrap())
        .collect();
    assert_eq!(tensors, ["x", "flatten", "linear", "relu", "linear_1"]);
    assert_eq!(ranges[0]["op"], "input");
    assert_eq!(ranges[0]["format"], "s1.13");
    assert_eq!(ranges[2]["op"], "linear");
    assert_eq!(ranges[2]["module"], "fc1");
    assert_eq!(ranges[2]["count"], 6);
    assert!(ranges.iter().all(|r| r["saturated"] == 0), "{ranges:?}");
    let (lo, hi) = (ranges[3]["min"].as_f64(), ranges[3]["max"].as_f64());
    assert_eq!(lo, Some(0.0), "relu's minimum");
    assert!(hi.is_some_and(|h| h > 0.0), "{ranges:?}");

    // A bundle folder is already exported: the flags are a user error, not ignored.
    let o = run_cli(
        tmp.path(),
        ["run".as_ref(), bundle.as_os_str(), "--calibrate".as_ref()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        stderr(&o).contains("is a bundle folder, already exported"),
        "{}",
        describe(&o)
    );
}

#[test]
fn a_bad_precision_is_reported_by_the_exporter() {
    if common::torch_python().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("b");
    let o = export_tiny(tmp.path(), &bundle, &["--precision", "40,8"]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        stderr(&o).contains("--precision: format s40.8 is outside the compiler's limits"),
        "{}",
        describe(&o)
    );
    assert!(!bundle.exists());
}
