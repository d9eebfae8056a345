//! Tests that run PyTorch through `scripts/export.py` (they need the `.venv` of scripts/setup.sh;
//! `MLCALYX_SKIP_TORCH_TESTS=1` skips them):
//!
//! * re-exporting every `examples/*.py` reproduces its committed bundle;
//! * models the examples do not cover (`tests/models/*.py`) run bit-exact through `mlcalyx run`
//!   started from a folder outside the repository.

mod common;

use common::{describe, files_below, mlcalyx, root, run_cli};
use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every `examples/<name>.py`, sorted.
fn example_models() -> Vec<PathBuf> {
    let mut models: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    models.sort();
    models
}

fn read_f32(path: &Path) -> ArrayD<f32> {
    let file = std::fs::File::open(path).unwrap();
    ArrayD::<f32>::read_npy(std::io::BufReader::new(file))
        .unwrap_or_else(|e| panic!("{} is not a float32 .npy: {e}", path.display()))
}

/// Differences between a fresh export and the committed bundle: every file but the float
/// goldens byte for byte; float goldens (float32 PyTorch results, which may differ in the last
/// bits across CPUs) within 1e-5 relative.
fn bundle_differences(fresh: &Path, committed: &Path) -> Vec<String> {
    let name = committed
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let files = files_below(committed);
    let fresh_files = files_below(fresh);
    if files != fresh_files {
        return vec![format!(
            "{name}: the export has files {fresh_files:?}, the committed bundle {files:?}"
        )];
    }
    let mut problems = Vec::new();
    for f in &files {
        let (a, b) = (fresh.join(f), committed.join(f));
        if f.to_string_lossy().ends_with(".float.npy") {
            let (x, y) = (read_f32(&a), read_f32(&b));
            if x.shape() != y.shape() {
                problems.push(format!(
                    "{name}/{}: shape {:?} vs {:?}",
                    f.display(),
                    x.shape(),
                    y.shape()
                ));
                continue;
            }
            for (i, (&u, &v)) in x.iter().zip(y.iter()).enumerate() {
                // Relative to the larger magnitude; below 1e-3 the bound is absolute (1e-8).
                let scale = u.abs().max(v.abs()).max(1e-3);
                // Written so that a NaN on either side is a difference.
                let close = (u - v).abs() <= 1e-5 * scale;
                if !close {
                    problems.push(format!(
                        "{name}/{}[{i}]: exported {u}, committed {v}",
                        f.display()
                    ));
                    break;
                }
            }
        } else if std::fs::read(&a).unwrap() != std::fs::read(&b).unwrap() {
            problems.push(format!(
                "{name}/{}: differs from the committed file",
                f.display()
            ));
        }
    }
    problems
}

#[test]
fn reexporting_the_examples_reproduces_their_bundles() {
    if common::torch_python().is_none() {
        return;
    }
    let models = example_models();
    assert!(models.len() >= 5, "examples: {models:?}");
    let tmp = tempfile::tempdir().unwrap();
    // All exports at once (each takes seconds, mostly importing torch).
    let children: Vec<_> = models
        .iter()
        .map(|model| {
            let stem = model.file_stem().unwrap().to_string_lossy().into_owned();
            let out = tmp.path().join(format!("{stem}.bundle"));
            let child = mlcalyx()
                .current_dir(tmp.path())
                .arg("export")
                .arg(model)
                .arg(&out)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("cannot start mlcalyx");
            (stem, out, child)
        })
        .collect();
    let mut problems = Vec::new();
    for (stem, out, child) in children {
        let o = child.wait_with_output().unwrap();
        if !o.status.success() {
            problems.push(format!("exporting {stem} failed\n{}", describe(&o)));
            continue;
        }
        let committed = root().join("examples").join(format!("{stem}.bundle"));
        if !committed.is_dir() {
            problems.push(format!("examples/{stem}.py has no committed {stem}.bundle"));
            continue;
        }
        problems.extend(bundle_differences(&out, &committed));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `mlcalyx run MODEL --json` in `cwd`: one row, status ok, bit exact.
fn run_model(cwd: &Path, model: &Path, expected_name: &str) {
    let before = files_below(cwd);
    let o = run_cli(cwd, ["run".as_ref(), model.as_os_str(), "--json".as_ref()]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let rows: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(&o)));
    let rows = rows.as_array().expect("a JSON array");
    assert_eq!(rows.len(), 1, "{}", describe(&o));
    let row = &rows[0];
    assert_eq!(row["model"], expected_name, "{}", describe(&o));
    assert_eq!(row["banking"], 1, "{}", describe(&o));
    assert_eq!(row["status"], "ok", "{}", describe(&o));
    assert_eq!(row["bit_exact"], true, "{}", describe(&o));
    assert!(
        row["cycles"].as_u64().is_some_and(|c| c > 0),
        "{}",
        describe(&o)
    );
    // Q8.8 against float PyTorch: a few LSBs, well inside the default tolerance.
    assert_eq!(row["within_tolerance"], true, "{}", describe(&o));
    // Nothing is written into the folder the command was started from (nor next to the model).
    assert_eq!(
        files_below(cwd),
        before,
        "run wrote into its working folder"
    );
}

/// `harness/tests/models/<name>.py`, run from a temporary folder outside the repository.
fn run_test_model(name: &str) {
    if common::torch_python().is_none() {
        return;
    }
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/models")
        .join(format!("{name}.py"));
    assert!(model.is_file(), "{} is missing", model.display());
    let cwd = tempfile::tempdir().unwrap();
    run_model(cwd.path(), &model, name);
}

#[test]
fn odd_sized_mlp_7_19_3() {
    run_test_model("odd_mlp");
}

#[test]
fn residual_block_ending_in_an_add() {
    run_test_model("residual_block");
}

#[test]
fn cnn_with_batch_norm_depthwise_residual_and_padded_pools() {
    run_test_model("bn_cnn");
}

#[test]
fn deeper_mlp_with_a_layer_without_bias() {
    run_test_model("deep_mlp");
}

/// Also a model file outside the repository, named by a path relative to the working folder.
#[test]
fn flatten_of_a_1x3x5_input_from_a_relative_path() {
    if common::torch_python().is_none() {
        return;
    }
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("my models")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/flatten_mlp.py"),
        cwd.path().join("my models/flatten_mlp.py"),
    )
    .unwrap();
    run_model(
        cwd.path(),
        Path::new("my models/flatten_mlp.py"),
        "flatten_mlp",
    );
}
