//! End to end on the committed example bundles: compile -> Verilator -> compare, through the
//! library (`run_bundle`) and through the `mlcalyx` command line.

mod common;

use common::{describe, example_bundle, run_cli};
use mlcalyx_compiler::Bundle;
use mlcalyx_harness::{run_bundle, RunSettings};
use mlcalyx_sim::Verilator;
use serde_json::Value;

/// Cycles of every example at banking factor 1. The generated schedule is deterministic, so any
/// change here is a change of the schedule: update the table deliberately, never loosen it.
const EXAMPLE_CYCLES: &[(&str, u64)] = &[
    ("tiny_mlp", 640),
    ("mlp", 35660),
    ("residual_mlp", 2085),
    ("uneven_mlp", 5064),
    ("matmul", 35204),
    ("matmul4", 692),
    ("digits_mlp", 22448),
    ("digits_cnn", 290116),
    ("lenet5", 2792536),
    ("residual_cnn", 879620),
];

#[test]
fn the_cycle_table_covers_every_example_bundle() {
    let mut bundles: Vec<String> = std::fs::read_dir(common::root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.extension().is_some_and(|e| e == "bundle"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    bundles.sort();
    let mut table: Vec<String> = EXAMPLE_CYCLES.iter().map(|(n, _)| n.to_string()).collect();
    table.sort();
    assert_eq!(
        bundles, table,
        "examples/*.bundle and EXAMPLE_CYCLES must list the same examples"
    );
}

#[test]
fn every_example_is_bit_exact_with_its_exact_cycle_count() {
    let verilator = Verilator::find().expect("Verilator 5 is needed: run scripts/setup.sh");
    let settings = RunSettings::default();
    // The examples run in parallel; every discrepancy is collected so that one run shows the whole
    // new table after a schedule change.
    let problems: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = EXAMPLE_CYCLES
            .iter()
            .map(|&(name, cycles)| {
                let (verilator, settings) = (&verilator, &settings);
                s.spawn(move || check_example(name, cycles, verilator, settings))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("example thread panicked"))
            .collect()
    });
    assert!(
        problems.is_empty(),
        "examples at banking 1:\n{}",
        problems.join("\n")
    );
}

fn check_example(
    name: &str,
    expected_cycles: u64,
    verilator: &Verilator,
    settings: &RunSettings,
) -> Vec<String> {
    let bundle = Bundle::load(&example_bundle(name))
        .unwrap_or_else(|e| panic!("loading the {name} example: {e}"));
    let work = tempfile::tempdir().unwrap();
    let r = run_bundle(&bundle, 1, work.path(), verilator, settings);
    let mut problems = Vec::new();
    if r.status != "ok" {
        problems.push(format!(
            "{name}: status '{}', error {:?}",
            r.status, r.error
        ));
    }
    if !r.bit_exact {
        problems.push(format!("{name}: not bit exact: {:?}", r.outputs));
    }
    if r.model != name || r.banking != 1 {
        problems.push(format!(
            "{name}: row names model '{}' banking {}",
            r.model, r.banking
        ));
    }
    if r.outputs.is_empty() || r.outputs.iter().any(|c| !c.bit_exact || c.mismatches != 0) {
        problems.push(format!("{name}: output comparisons {:?}", r.outputs));
    }
    if r.cycles != Some(expected_cycles) {
        problems.push(format!(
            "{name}: {:?} cycles, the table says {expected_cycles}",
            r.cycles
        ));
    }
    problems
}

#[test]
fn cli_run_json_reports_one_row_per_banking_factor() {
    let cwd = tempfile::tempdir().unwrap();
    let out = run_cli(
        cwd.path(),
        [
            "run".as_ref(),
            example_bundle("tiny_mlp").as_os_str(),
            "--json".as_ref(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let rows: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", describe(&out)));
    let rows = rows.as_array().expect("stdout is a JSON array");
    assert_eq!(rows.len(), 1, "one banking factor, one row: {rows:?}");
    let row = rows[0].as_object().expect("a row is a JSON object");
    for key in ["banking", "cycles", "bit_exact", "max_abs_err", "status"] {
        assert!(row.contains_key(key), "row lacks '{key}': {row:?}");
    }
    assert_eq!(row["banking"], 1);
    assert_eq!(row["cycles"], 640);
    assert_eq!(row["bit_exact"], true);
    assert_eq!(row["status"], "ok");
    let err = row["max_abs_err"]
        .as_f64()
        .expect("max_abs_err is a number");
    // Q8.8 rounding of a tiny MLP: a few LSBs (1 LSB = 0.0039) from float PyTorch.
    assert!((0.0..0.05).contains(&err), "max_abs_err {err}");
}

#[test]
fn cli_run_out_keeps_the_artifacts() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path().join("artifacts");
    let out = run_cli(
        cwd.path(),
        [
            "run".as_ref(),
            example_bundle("tiny_mlp").as_os_str(),
            "--out".as_ref(),
            dir.as_os_str(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let kept = dir.join("banking-1");
    for file in ["model.futil", "model.sv", "manifest.json"] {
        let path = kept.join(file);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{} is missing ({e})", path.display()))
            .len();
        assert!(len > 0, "{} is empty", path.display());
    }
    let sv = std::fs::read_to_string(kept.join("model.sv")).unwrap();
    assert!(sv.contains("module main"), "model.sv has no main module");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(kept.join("manifest.json")).unwrap())
            .expect("manifest.json is JSON");
    assert_eq!(manifest["banking"], 1, "{manifest}");
    assert_eq!(manifest["model"], "tiny_mlp", "{manifest}");
    // The table on stdout names the run.
    let table = common::stdout(&out);
    assert!(
        table.contains("tiny_mlp") && table.contains("640") && table.contains("ok"),
        "{table}"
    );
}
