//! `mlcalyx fuzz`, `run --jobs` and `mlcalyx merge` end to end. The fuzz tests need the Python
//! environment with torch (scripts/setup.sh), like tests/torch.rs.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}\n{}", describe(o)))
}

/// A seeded set of 25 small random models, each at a random banking factor and with a random
/// banking config: every run that compiles is bit-exact, and nothing errs or panics.
#[test]
fn twenty_five_random_models_are_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_cli(
        tmp.path(),
        [
            "fuzz",
            "--models",
            "25",
            "--seed",
            "10",
            "--jobs",
            "2",
            "--configs",
            "2",
            "--max-width",
            "9",
            "--max-depth",
            "3",
            "--max-factor",
            "4",
            "--json",
        ],
    );
    let report = json_of(&o);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(report["models"], 25, "{report:#}");
    assert_eq!(report["runs"], 50, "{report:#}");
    for key in ["mismatches", "errors", "panics"] {
        assert_eq!(report[key], 0, "{key}: {report:#}");
    }
    assert_eq!(report["failures"], Value::Array(vec![]));
    let (bit_exact, rejected) = (report["bit_exact"].as_u64(), report["rejected"].as_u64());
    assert_eq!(bit_exact.unwrap() + rejected.unwrap(), 50, "{report:#}");
    // Not vacuous: most runs compile and are compared (32 of 50 today; the rejections are
    // reshapes that would move elements between banks, and conflicting configs).
    assert!(bit_exact.unwrap() >= 30, "{report:#}");
    // No failure, no reproducer folder.
    assert!(!tmp.path().join("mlcalyx-fuzz").exists());
}

/// A failure (here every simulation is cut off after 5 cycles) is shrunk to the smallest model
/// and banking that still fails, and written as a reproducer whose replay command fails the
/// same way.
#[test]
fn a_failure_is_shrunk_into_a_reproducer() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_cli(
        tmp.path(),
        [
            "fuzz",
            "--models",
            "3",
            "--seed",
            "3",
            "--configs",
            "1",
            "--max-width",
            "6",
            "--max-cycles",
            "5",
            "--shrink-tries",
            "60",
            "--json",
            "--out",
            "repro",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let report = json_of(&o);
    // Without --keep-going the models after the first failure are skipped.
    assert_eq!(report["models"], 1, "{report:#}");
    assert_eq!(report["errors"], 1, "{report:#}");
    let failure = &report["failures"][0];
    assert_eq!(failure["verdict"], "error");
    assert!(
        failure["message"].as_str().unwrap().contains("5 cycles"),
        "{failure:#}"
    );
    let shrunk = &failure["shrunk"];
    assert_eq!(
        shrunk["banking"],
        serde_json::json!({"factor": 1, "config": null})
    );
    assert_eq!(shrunk["model"]["input_shape"], serde_json::json!([1, 1]));
    assert_eq!(
        shrunk["model"]["layers"].as_array().unwrap().len(),
        1,
        "{shrunk:#}"
    );

    let dir = Path::new(failure["reproducer"].as_str().unwrap());
    let dir = tmp.path().join(dir);
    for file in [
        "model.py",
        "bundle/model.json",
        "case.json",
        "replay.sh",
        "README.md",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let replay = failure["replay"].as_str().unwrap();
    assert_eq!(
        replay,
        format!(
            "mlcalyx run {}/model.py --banking 1 --max-cycles 5",
            Path::new("repro").join("s3-m0-0").display()
        )
    );
    // The replay fails the same way; with room to finish, the same model is bit-exact.
    let args: Vec<&str> = replay.split(' ').skip(1).collect();
    let again = run_cli(tmp.path(), &args);
    assert_eq!(again.status.code(), Some(2), "{}", describe(&again));
    assert!(stderr(&again).contains("5 cycles"), "{}", describe(&again));
    let fine = run_cli(tmp.path(), ["run", "repro/s3-m0-0/model.py", "--json"]);
    assert!(fine.status.success(), "{}", describe(&fine));
}

/// The rows of a run without their timings (which differ from run to run).
fn rows_without_timings(o: &std::process::Output) -> Vec<Value> {
    let mut rows = json_of(o).as_array().expect("an array of rows").clone();
    for row in &mut rows {
        let row = row.as_object_mut().unwrap();
        for key in ["compile_ms", "verilator_build_ms", "simulate_ms"] {
            assert!(row.remove(key).is_some(), "{key}");
        }
    }
    rows
}

#[test]
fn jobs_2_gives_the_same_rows_as_jobs_1() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = example_bundle("residual_mlp");
    let run = |jobs: &str| {
        let o = run_cli(
            tmp.path(),
            [
                "run".as_ref(),
                bundle.as_os_str(),
                "--banking".as_ref(),
                "1,2,4,8".as_ref(),
                "--json".as_ref(),
                "--jobs".as_ref(),
                jobs.as_ref(),
            ],
        );
        assert!(o.status.success(), "{}", describe(&o));
        rows_without_timings(&o)
    };
    let one = run("1");
    let two = run("2");
    assert_eq!(one, two);
    let cycles: Vec<&Value> = one.iter().map(|r| &r["cycles"]).collect();
    // The pinned cycle counts of harness/tests/banking.rs, in factor order.
    assert_eq!(cycles, [2085, 682, 220, 44]);
}

#[test]
fn merge_joins_the_rows_of_several_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = example_bundle("tiny_mlp");
    let mut files = Vec::new();
    for factors in ["1", "2,4"] {
        let o = run_cli(
            tmp.path(),
            [
                "run".as_ref(),
                bundle.as_os_str(),
                "--banking".as_ref(),
                factors.as_ref(),
                "--json".as_ref(),
            ],
        );
        assert!(o.status.success(), "{}", describe(&o));
        let file = tmp.path().join(format!("rows-{factors}.json"));
        std::fs::write(&file, &o.stdout).unwrap();
        files.push(file);
    }
    let merged = run_cli(
        tmp.path(),
        [
            "merge".as_ref(),
            files[0].as_os_str(),
            files[1].as_os_str(),
            "--json".as_ref(),
        ],
    );
    assert!(merged.status.success(), "{}", describe(&merged));
    let all = run_cli(
        tmp.path(),
        [
            "run".as_ref(),
            bundle.as_os_str(),
            "--banking".as_ref(),
            "1,2,4".as_ref(),
            "--json".as_ref(),
        ],
    );
    assert_eq!(rows_without_timings(&merged), rows_without_timings(&all));

    // The table names every row.
    let table = run_cli(
        tmp.path(),
        ["merge".as_ref(), files[0].as_os_str(), files[1].as_os_str()],
    );
    assert!(table.status.success(), "{}", describe(&table));
    assert_eq!(
        stdout(&table)
            .lines()
            .filter(|l| l.starts_with("tiny_mlp"))
            .count(),
        3
    );

    // Malformed input: exit 2, naming the file and what is wrong.
    let cases = [
        ("garbage.json", "not json"),
        ("object.json", "{\"model\": \"tiny_mlp\"}"),
        (
            "missing.json",
            "[{\"model\": \"tiny_mlp\", \"banking\": 1}]",
        ),
    ];
    for (name, text) in cases {
        std::fs::write(tmp.path().join(name), text).unwrap();
        let o = run_cli(tmp.path(), ["merge", "rows-1.json", name]);
        assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
        assert!(
            stderr(&o).contains(&format!(
                "mlcalyx: error: {name}: not the JSON array of rows that `mlcalyx run --json` prints"
            )),
            "{}",
            describe(&o)
        );
        assert!(stdout(&o).is_empty());
    }
    let o = run_cli(tmp.path(), ["merge", "nope.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        stderr(&o).contains("cannot read nope.json"),
        "{}",
        describe(&o)
    );
}
