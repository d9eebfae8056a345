//! Bad input through the `mlcalyx` command line: every error exits with status 2 (the README's
//! error status; 1 means a numeric mismatch) without a panic, names its cause and its place (file,
//! tensor or node) on stderr, and leaves no partial output behind.

mod common;

use common::{describe, example_bundle, run_cli, stderr, stdout, BundleSpec, Q8_8};
use mlcalyx_compiler::Bundle;
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Copies a folder tree.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of examples/tiny_mlp.bundle in `tmp`, to break.
fn tiny_copy(tmp: &Path, name: &str) -> PathBuf {
    let dir = tmp.join(name);
    copy_dir(&example_bundle("tiny_mlp"), &dir);
    dir
}

fn lower(text: &str) -> String {
    text.to_lowercase()
}

/// The command failed cleanly: a non-zero exit code (not a signal, not Rust's panic code 101)
/// and no panic message.
fn assert_clean_failure(o: &Output) {
    let code = o.status.code();
    assert!(
        matches!(code, Some(c) if c != 0 && c != 101),
        "expected a clean non-zero exit\n{}",
        describe(o)
    );
    assert!(
        !stderr(o).contains("panicked") && !stdout(o).contains("panicked"),
        "a panic\n{}",
        describe(o)
    );
}

/// Every needle occurs in `text` (case-insensitively).
fn assert_mentions(text: &str, needles: &[&str], o: &Output) {
    for n in needles {
        assert!(
            lower(text).contains(&lower(n)),
            "the message should mention {n:?}\n{}",
            describe(o)
        );
    }
}

/// At least one of `words` occurs in `text` (case-insensitively).
fn assert_mentions_any(text: &str, words: &[&str], o: &Output) {
    assert!(
        words.iter().any(|w| lower(text).contains(&lower(w))),
        "the message should say one of {words:?}\n{}",
        describe(o)
    );
}

/// A folder that does not exist or is empty.
fn assert_no_output(dir: &Path) {
    if dir.exists() {
        let left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "partial output left behind: {left:?}");
    }
}

/// `compile BUNDLE -o OUT` fails with exit 2, names every needle on stderr, and writes nothing.
fn check_compile_rejects(bundle: &Path, needles: &[&str]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("compiled");
    let o = run_cli(
        tmp.path(),
        [
            "compile".as_ref(),
            bundle.as_os_str(),
            "-o".as_ref(),
            out_dir.as_os_str(),
        ],
    );
    assert_clean_failure(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "errors exit with 2\n{}",
        describe(&o)
    );
    assert_mentions(&stderr(&o), needles, &o);
    assert_no_output(&out_dir);
    o
}

/// When `run` finds the problem.
#[derive(Clone, Copy, PartialEq)]
enum Found {
    /// Before any row runs (e.g. the bundle cannot be loaded): there is no report at all.
    BeforeTheReport,
    /// While running a row (e.g. the graph does not compile): the row says so too, with status
    /// "error" (in the table, and in the row's "error" with --json).
    InARow,
}

/// `run BUNDLE --out DIR` exits 2, names every needle on stderr, and leaves no DIR/banking-1;
/// `run BUNDLE --json` likewise, and its stdout is empty or a JSON array of one "error" row that
/// names the needles too.
fn check_run_rejects(bundle: &Path, needles: &[&str], found: Found) {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("run");
    let o = run_cli(
        tmp.path(),
        [
            "run".as_ref(),
            bundle.as_os_str(),
            "--out".as_ref(),
            out_dir.as_os_str(),
        ],
    );
    assert_clean_failure(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "errors exit with 2\n{}",
        describe(&o)
    );
    assert_mentions(&stderr(&o), needles, &o);
    if found == Found::InARow {
        assert_mentions(&stdout(&o), needles, &o);
        assert!(stdout(&o).contains("error"), "{}", describe(&o));
    }
    assert!(
        !out_dir.join("banking-1").exists(),
        "run left a partial {}",
        out_dir.join("banking-1").display()
    );

    let o = run_cli(
        tmp.path(),
        ["run".as_ref(), bundle.as_os_str(), "--json".as_ref()],
    );
    assert_clean_failure(&o);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_mentions(&stderr(&o), needles, &o);
    let text = stdout(&o);
    match found {
        Found::BeforeTheReport => assert!(text.trim().is_empty(), "{}", describe(&o)),
        Found::InARow => {
            let rows: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("--json stdout is not JSON ({e})\n{}", describe(&o)));
            let rows = rows.as_array().expect("a JSON array");
            assert_eq!(rows.len(), 1, "{}", describe(&o));
            assert_eq!(rows[0]["status"], "error", "{}", describe(&o));
            assert_eq!(rows[0]["bit_exact"], false, "{}", describe(&o));
            assert_eq!(rows[0]["cycles"], Value::Null, "{}", describe(&o));
            let error = rows[0]["error"].as_str().expect("the row has an error");
            assert_mentions(error, needles, &o);
        }
    }
}

#[test]
fn malformed_model_json() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tiny_copy(tmp.path(), "broken.bundle");
    // Line 3 has a stray comma.
    std::fs::write(
        b.join("model.json"),
        "{\n  \"schema\": \"mlcalyx.bundle\",\n  \"version\": 1,,\n  \"model\": {}\n}\n",
    )
    .unwrap();
    let file = b.join("model.json").display().to_string();
    let o = check_compile_rejects(&b, &[&file, "line 3"]);
    assert_mentions_any(
        &stderr(&o),
        &["malformed", "invalid", "syntax", "parse"],
        &o,
    );
    check_run_rejects(&b, &[&file, "line 3"], Found::BeforeTheReport);
}

#[test]
fn model_json_with_another_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tiny_copy(tmp.path(), "manifest_not_bundle.bundle");
    let text = std::fs::read_to_string(b.join("model.json")).unwrap();
    let wrong = text.replacen("\"mlcalyx.bundle\"", "\"mlcalyx.manifest\"", 1);
    assert_ne!(text, wrong, "test bug: no schema to replace");
    std::fs::write(b.join("model.json"), wrong).unwrap();
    let file = b.join("model.json").display().to_string();
    let needles = [
        file.as_str(),
        "schema",
        "mlcalyx.manifest",
        "mlcalyx.bundle",
    ];
    check_compile_rejects(&b, &needles);
    check_run_rejects(&b, &needles, Found::BeforeTheReport);
}

#[test]
fn missing_weight_file() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tiny_copy(tmp.path(), "no_weight.bundle");
    let npy = b.join("weights/fc2.weight.npy");
    std::fs::remove_file(&npy).unwrap();
    let needles = ["'fc2.weight'", "fc2.weight.npy"];
    let o = check_compile_rejects(&b, &needles);
    assert_mentions_any(&stderr(&o), &["missing", "not found", "no such file"], &o);
    check_run_rejects(&b, &needles, Found::BeforeTheReport);
}

/// A bundle whose node `squash_node` has op "sigmoid".
fn sigmoid_bundle(tmp: &Path) -> PathBuf {
    let mut spec = BundleSpec::new("squash");
    spec.input("x_in", &[1, 4], Q8_8, &[1, 2, 3, 4])
        .output("y_out", &[1, 4], Q8_8, &[0, 0, 0, 0])
        .node("squash_node", "sigmoid", &["x_in"], "y_out");
    spec.write(&tmp.join("squash.bundle"))
}

/// A bundle whose linear node `proj_layer` reads x_in [1, 5] with a weight [4, 3].
fn shape_mismatch_bundle(tmp: &Path) -> PathBuf {
    let mut spec = BundleSpec::new("misfit");
    spec.input("x_in", &[1, 5], Q8_8, &[1, 2, 3, 4, 5])
        .weight("proj_weight", &[4, 3], Q8_8, &[0; 12])
        .output("y_out", &[1, 4], Q8_8, &[0; 4])
        .node("proj_layer", "linear", &["x_in", "proj_weight"], "y_out");
    spec.write(&tmp.join("misfit.bundle"))
}

const SIGMOID_NEEDLES: &[&str] = &["squash_node", "sigmoid", "unsupported"];
const SHAPE_NEEDLES: &[&str] = &["proj_layer", "x_in", "proj_weight", "shape"];

#[test]
fn unsupported_op_in_a_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let b = sigmoid_bundle(tmp.path());
    check_compile_rejects(&b, SIGMOID_NEEDLES);
    check_run_rejects(&b, SIGMOID_NEEDLES, Found::InARow);
}

#[test]
fn shape_mismatch_in_a_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let b = shape_mismatch_bundle(tmp.path());
    check_compile_rejects(&b, SHAPE_NEEDLES);
    check_run_rejects(&b, SHAPE_NEEDLES, Found::InARow);
}

#[test]
fn unsupported_op_in_a_model_file() {
    let Some(_) = common::torch_python() else {
        return;
    };
    let model = common::root().join("scripts/testdata/cumsum_model.py");
    let source = std::fs::read_to_string(&model).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains("UNSUPPORTED-LINE"))
        .expect("the test model marks its unsupported line")
        + 1;
    let place = format!("cumsum_model.py:{line}");
    let needles = ["cumsum", "unsupported", place.as_str()];

    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("run");
    let o = run_cli(
        tmp.path(),
        [
            "run".as_ref(),
            model.as_os_str(),
            "--out".as_ref(),
            out_dir.as_os_str(),
        ],
    );
    assert_clean_failure(&o);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_mentions(&stderr(&o), &needles, &o);
    assert!(!out_dir.join("banking-1").exists(), "partial banking-1");
    assert!(!out_dir.join("bundle").exists(), "partial bundle");

    let bundle = tmp.path().join("exported/cumsum.bundle");
    let o = run_cli(
        tmp.path(),
        ["export".as_ref(), model.as_os_str(), bundle.as_os_str()],
    );
    assert_clean_failure(&o);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_mentions(&stderr(&o), &needles, &o);
    assert!(!bundle.exists(), "export left a partial bundle");
    // Nor any temporary sibling of it.
    assert_no_output(&tmp.path().join("exported"));
}

/// Tokens of `text` split at every character that is not alphanumeric.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn banking_factors_that_are_not_positive_whole_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = example_bundle("tiny_mlp");
    for (factor, bad) in [("0", "0"), ("x", "x"), ("1,0", "0"), ("1,x", "x")] {
        let out_dir = tmp.path().join(format!("run-{bad}"));
        let o = run_cli(
            tmp.path(),
            [
                "run".as_ref(),
                bundle.as_os_str(),
                "--banking".as_ref(),
                factor.as_ref(),
                "--out".as_ref(),
                out_dir.as_os_str(),
            ],
        );
        assert_clean_failure(&o);
        assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
        assert_mentions(&stderr(&o), &["--banking"], &o);
        assert!(
            words(&stderr(&o)).iter().any(|w| w == bad),
            "the message should quote the factor '{bad}'\n{}",
            describe(&o)
        );
        // Rejected up front: not even the valid factor 1 ran.
        assert_no_output(&out_dir);
        assert!(stdout(&o).trim().is_empty(), "{}", describe(&o));
    }
    for bad in ["0", "x"] {
        let out_dir = tmp.path().join(format!("compiled-{bad}"));
        let o = run_cli(
            tmp.path(),
            [
                "compile".as_ref(),
                bundle.as_os_str(),
                "-o".as_ref(),
                out_dir.as_os_str(),
                "--banking".as_ref(),
                bad.as_ref(),
            ],
        );
        assert_clean_failure(&o);
        assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
        assert_mentions(&stderr(&o), &["--banking"], &o);
        assert!(
            words(&stderr(&o)).iter().any(|w| w == bad),
            "the message should quote the factor '{bad}'\n{}",
            describe(&o)
        );
        assert_no_output(&out_dir);
    }
}

/// Edits `model.json` of a bundle in place.
fn edit_model(bundle: &Path, edit: impl FnOnce(&mut Value)) {
    let path = bundle.join("model.json");
    let mut model: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut model);
    std::fs::write(&path, model.to_string()).unwrap();
}

#[test]
fn a_model_without_outputs_verifies_nothing_and_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tiny_copy(tmp.path(), "no_outputs.bundle");
    edit_model(&b, |m| {
        m["outputs"] = serde_json::json!([]);
        m["golden"]["outputs"] = serde_json::json!({});
    });
    let needles = ["the model has no outputs: nothing to verify"];
    check_compile_rejects(&b, &needles);
    check_run_rejects(&b, &needles, Found::BeforeTheReport);
}

#[test]
fn an_output_that_is_an_input_is_not_compared_with_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tiny_copy(tmp.path(), "input_out.bundle");
    edit_model(&b, |m| {
        m["outputs"] = serde_json::json!(["x"]);
        m["golden"]["outputs"] =
            serde_json::json!({"x": {"fixed": "golden/x.npy", "float": "golden/x.float.npy"}});
    });
    let needles = ["'x'", "no node computes it", "an input"];
    check_compile_rejects(&b, &needles);
    check_run_rejects(&b, &needles, Found::BeforeTheReport);
}

#[test]
fn golden_floats_that_are_not_finite_are_rejected_with_their_place() {
    for (value, word) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let tmp = tempfile::tempdir().unwrap();
        let b = tiny_copy(tmp.path(), "nan.bundle");
        common::write_f32_npy(
            &b.join("golden/linear_1.float.npy"),
            &[1, 3],
            &[0.5, value, 0.25],
        );
        let needles = ["'linear_1'", "linear_1.float.npy", "flat index 1", word];
        check_run_rejects(&b, &needles, Found::InARow);
    }
}

#[test]
fn golden_fixed_values_outside_their_format_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tiny_copy(tmp.path(), "wide.bundle");
    let file = std::fs::File::create(b.join("golden/linear_1.npy")).unwrap();
    ndarray_npy::WriteNpyExt::write_npy(&ndarray::arr2(&[[1i32, 2, 70000]]).into_dyn(), file)
        .unwrap();
    let needles = [
        "'linear_1'",
        "70000",
        "flat index 2",
        "linear_1.npy",
        "s8.8",
    ];
    check_run_rejects(&b, &needles, Found::InARow);
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn special_files_in_a_bundle_fail_fast_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tiny_copy(tmp.path(), "fifo_weight.bundle");
    mkfifo(&b.join("weights/fc2.weight.npy"));
    check_run_rejects(
        &b,
        &["fc2.weight.npy", "not a regular file (a FIFO)"],
        Found::BeforeTheReport,
    );

    let b = tiny_copy(tmp.path(), "fifo_json.bundle");
    mkfifo(&b.join("model.json"));
    check_run_rejects(
        &b,
        &["model.json", "not a regular file (a FIFO)"],
        Found::BeforeTheReport,
    );

    let b = tiny_copy(tmp.path(), "zero.bundle");
    let npy = b.join("golden/x.npy");
    std::fs::remove_file(&npy).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &npy).unwrap();
    check_run_rejects(
        &b,
        &["x.npy", "not a regular file (a character device)"],
        Found::BeforeTheReport,
    );

    let model = tmp.path().join("model.py");
    mkfifo(&model);
    let o = run_cli(tmp.path(), ["run".as_ref(), model.as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_mentions(
        &stderr(&o),
        &["model.py", "not a regular file (a FIFO)"],
        &o,
    );

    let config = tmp.path().join("config.json");
    mkfifo(&config);
    let o = run_cli(
        tmp.path(),
        [
            "run".as_ref(),
            example_bundle("tiny_mlp").as_os_str(),
            "--banking-config".as_ref(),
            config.as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_mentions(&stderr(&o), &["config.json", "not a regular file"], &o);
}

#[test]
fn banking_lists_are_parsed_alike_by_run_and_compile() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = example_bundle("tiny_mlp");
    for (text, says) in [
        (" 2", "' 2' is not a positive whole number"),
        ("2 ", "'2 ' is not a positive whole number"),
        ("+2", "'+2' is not a positive whole number"),
        ("1,1", "factor 1 is given twice"),
        ("", "an empty factor"),
        ("1,,2", "an empty factor"),
        ("0", "a banking factor is at least 1"),
        ("two", "'two' is not a positive whole number"),
    ] {
        for command in ["run", "compile"] {
            let out_dir = tmp.path().join("out");
            let o = run_cli(
                tmp.path(),
                [
                    command.as_ref(),
                    bundle.as_os_str(),
                    "--banking".as_ref(),
                    text.as_ref(),
                    "--out".as_ref(),
                    out_dir.as_os_str(),
                ],
            );
            assert_eq!(
                o.status.code(),
                Some(2),
                "{command} {text:?}\n{}",
                describe(&o)
            );
            assert_mentions(&stderr(&o), &["--banking", says], &o);
            assert_no_output(&out_dir);
        }
    }
    let o = run_cli(
        tmp.path(),
        [
            "compile".as_ref(),
            bundle.as_os_str(),
            "--banking".as_ref(),
            "1,2".as_ref(),
            "--out".as_ref(),
            tmp.path().join("c").as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_mentions(&stderr(&o), &["compile takes one banking factor"], &o);
}

#[test]
fn a_banking_factor_no_dimension_can_use_is_capped_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_cli(
        tmp.path(),
        [
            "run".as_ref(),
            example_bundle("tiny_mlp").as_os_str(),
            "--banking".as_ref(),
            "1000000".as_ref(),
            "--json".as_ref(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let row = &rows[0];
    assert_eq!(row["banking"], 1_000_000, "{}", describe(&o));
    assert_eq!(row["bit_exact"], true, "{}", describe(&o));
    // The design of factor 8 (tiny_mlp's longest dimension), with its pinned cycle count.
    assert_eq!(row["cycles"], 18, "{}", describe(&o));
    assert_eq!(
        row["notes"][0],
        "banking factor 1000000: no dimension of model 'tiny_mlp' has more than 8 elements, so the largest useful factor is 8; compiled with 8",
        "{}",
        describe(&o)
    );
}

#[test]
fn out_pointing_at_a_file_is_a_user_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a_file");
    std::fs::write(&file, "keep me").unwrap();
    let bundle = example_bundle("tiny_mlp");
    for out in [file.clone(), file.join("below")] {
        let shown = out.display().to_string();
        let model = common::root().join("examples/tiny_mlp.py");
        for args in [
            [
                OsStr::new("run"),
                bundle.as_os_str(),
                OsStr::new("--out"),
                out.as_os_str(),
            ],
            [
                OsStr::new("compile"),
                bundle.as_os_str(),
                OsStr::new("-o"),
                out.as_os_str(),
            ],
            [
                OsStr::new("export"),
                model.as_os_str(),
                out.as_os_str(),
                OsStr::new("--export-timeout=600"),
            ],
        ] {
            let o = run_cli(tmp.path(), args);
            assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
            assert_mentions(
                &stderr(&o),
                &[&shown, "a_file", "is a file, not a folder"],
                &o,
            );
            assert!(!stderr(&o).contains("internal error"), "{}", describe(&o));
            assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
        }
    }
}

#[test]
fn os_errors_print_their_text_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a_file");
    std::fs::write(&file, "").unwrap();
    let bundle = Bundle::load(&example_bundle("tiny_mlp")).unwrap();
    let artifacts = mlcalyx_compiler::compile(&bundle, &Default::default()).unwrap();
    let e = anyhow::Error::from(artifacts.write_to(&file.join("out")).unwrap_err());
    let text = format!("{e:#}");
    assert_eq!(text.matches("os error").count(), 1, "{text}");
}
