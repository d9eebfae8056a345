//! A verdict of `bit_exact: true` means every output element was computed by the design and
//! compared: names of any length reach their memories, and an output element the design never
//! writes cannot match its golden value by chance.

mod common;

use common::{describe, run_cli, stdout, BundleSpec, Q8_8};
use mlcalyx_compiler::{compile, Bundle, Options};
use mlcalyx_harness::{Design, RunSettings};
use mlcalyx_sim::Verilator;
use serde_json::Value;

/// x -> linear (identity weight) -> relu -> y, with tensor names of `lengths` characters and an
/// activation whose name is not an identifier.
fn long_named(lengths: [usize; 3]) -> (BundleSpec, [String; 3]) {
    let name = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let (x, w, y) = (
        name(lengths[0], 'x'),
        name(lengths[1], 'w'),
        name(lengths[2], 'y'),
    );
    let mut spec = BundleSpec::new("long_names");
    let mut identity = vec![0; 16];
    for i in 0..4 {
        identity[5 * i] = 256;
    }
    spec.input(&x, &[1, 4], Q8_8, &[256, -512, 384, 128])
        .weight(&w, &[4, 4], Q8_8, &identity)
        .activation("proj out/é-1.0", &[1, 4], Q8_8)
        .output(&y, &[1, 4], Q8_8, &[256, 0, 384, 128])
        .node(&name(200, 'n'), "linear", &[&x, &w], "proj out/é-1.0")
        .node("act", "relu", &["proj out/é-1.0"], &y);
    (spec, [x, w, y])
}

#[test]
fn tensor_names_of_any_length_run_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    for lengths in [[128, 300, 5000], [5000, 128, 300]] {
        let (spec, names) = long_named(lengths);
        let bundle = spec.write(&tmp.path().join(format!("b{}", lengths[0])));
        let out = tmp.path().join(format!("out{}", lengths[0]));
        let o = run_cli(
            tmp.path(),
            [
                "run".as_ref(),
                bundle.as_os_str(),
                "--banking".as_ref(),
                "1,2".as_ref(),
                "--json".as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
        for row in rows.as_array().unwrap() {
            assert_eq!(row["status"], "ok", "{}", describe(&o));
            assert_eq!(row["bit_exact"], true, "{}", describe(&o));
            assert_eq!(row["outputs"][0]["tensor"], names[2].as_str());
            assert_eq!(row["outputs"][0]["elements"], 4);
        }
        // The manifest names the original tensors.
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("banking-1/manifest.json")).unwrap(),
        )
        .unwrap();
        for name in &names {
            assert!(
                manifest["memories"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["tensors"][0] == name.as_str()),
                "{name:.20}... is not in the manifest"
            );
        }
    }
}

#[test]
fn an_output_element_the_design_never_writes_is_a_mismatch() {
    // y = x * 0: every expected value is 0, what a memory holds before anything is written.
    let mut spec = BundleSpec::new("never_written");
    spec.input("x", &[1, 4], Q8_8, &[1, 2, 3, 4])
        .weight("w", &[4, 4], Q8_8, &[0; 16])
        .output("y", &[1, 4], Q8_8, &[0; 4])
        .node("fc", "linear", &["x", "w"], "y");
    let tmp = tempfile::tempdir().unwrap();
    let bundle = Bundle::load(&spec.write(&tmp.path().join("b"))).unwrap();
    let mut artifacts = compile(&bundle, &Options::default()).unwrap();
    // A broken design: every write of y (its I/O buffer, core side) goes to word 0, so words
    // 1..3 are never written.
    let port = ".addr0(buf_y_addr0)";
    assert_eq!(artifacts.verilog.matches(port).count(), 1, "test bug");
    artifacts.verilog = artifacts.verilog.replace(port, ".addr0('0)");
    let verilator = Verilator::find().expect("Verilator 5 is needed: run scripts/setup.sh");
    let design = Design::build(&bundle, artifacts, &tmp.path().join("work"), &verilator).unwrap();
    let (_, outputs) = design.simulate(&RunSettings::default()).unwrap();
    assert!(!outputs[0].bit_exact, "{outputs:#?}");
    assert_eq!(outputs[0].mismatches, 3, "{outputs:#?}");
    assert_eq!(outputs[0].first_mismatch.map(|m| m.0), Some(1));
}
