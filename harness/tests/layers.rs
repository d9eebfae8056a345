//! The layer suite: one small PyTorch model per layer case of hls4ml's PyTorch API tests
//! (`tests/layers/*.py`: convolutions with padding 0 and 1, stride 2, depthwise, 1x1 and
//! kernel = input; pools on odd sizes with padding 0 and 1; batch norm folded and not; each
//! activation; flatten after conv; dropout; softmax), each run through the command line as a
//! user would, `mlcalyx run FILE --banking ... --json`, and required bit-exact at every factor.
//!
//! `scripts/layer_suite.py` prints the live status of every case (cycles, or the error a case
//! fails on). Needs the `.venv` of scripts/setup.sh; `MLCALYX_SKIP_TORCH_TESTS=1` skips it.

mod common;

use common::{describe, run_json};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The cases that run bit-exact, with the banking factors each is checked at.
const WORKING: &[(&str, &str)] = &[
    ("act_elu", "1,2"),
    ("act_gelu", "1,2"),
    ("act_hardtanh", "1,2"),
    ("act_leaky_relu", "1,2"),
    ("act_prelu", "1,2"),
    ("act_prelu_channels", "1,2"),
    ("act_relu", "1,2,4"),
    ("act_relu6", "1,2"),
    ("act_sigmoid", "1,2"),
    ("act_sigmoid_after_conv", "1,2"),
    ("act_silu", "1,2"),
    ("act_softplus", "1,2"),
    ("act_tanh", "1,2"),
    ("act_threshold", "1,2"),
    ("adaptive_avgpool2d", "1,2"),
    ("avgpool1d_pad0", "1,2"),
    ("avgpool1d_pad1", "1,2"),
    ("avgpool2d_pad0", "1,2"),
    ("avgpool2d_pad1", "1,2"),
    ("batchnorm1d_after_linear", "1,2"),
    ("batchnorm1d_after_relu", "1,2"),
    ("batchnorm2d_after_conv", "1,2"),
    ("batchnorm2d_after_relu", "1,2"),
    ("conv1d_kernel_eq_input", "1,2"),
    ("conv1d_pad0", "1,2"),
    ("conv1d_pad1", "1,2"),
    ("conv1d_stride2", "1,2"),
    ("conv1d_unbatched", "1,2"),
    ("conv2d_1x1", "1,2"),
    ("conv2d_depthwise", "1,2"),
    ("conv2d_depthwise_multiplier", "1,2"),
    ("conv2d_kernel_eq_input", "1,2"),
    ("conv2d_pad0", "1,2"),
    ("conv2d_pad1", "1,2"),
    ("conv2d_rect_no_bias", "1,2"),
    ("conv2d_stride2", "1,2"),
    ("dropout", "1,2,4"),
    ("dropout2d_after_conv", "1,2"),
    ("flatten_after_conv", "1,2"),
    ("flatten_after_pool", "1,2"),
    ("maxpool1d_pad0", "1,2"),
    ("maxpool1d_pad1", "1,2"),
    ("maxpool2d_pad0", "1,2"),
    ("maxpool2d_pad1", "1,2"),
    ("softmax_output", "1,2"),
];

fn layers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layers")
}

#[test]
fn every_layer_case_is_listed_once() {
    let mut files: Vec<String> = std::fs::read_dir(layers_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = WORKING.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "tests/layers/*.py and WORKING must name the same cases, each once"
    );
}

/// `mlcalyx run tests/layers/<name>.py --banking <factors> --json`: the problems found.
fn check_case(name: &str, factors: &str) -> Vec<String> {
    let model = layers_dir().join(format!("{name}.py"));
    let cwd = tempfile::tempdir().unwrap();
    let o = run_json(cwd.path(), &model, factors);
    let rows: Vec<Value> = match serde_json::from_slice(&o.stdout) {
        Ok(Value::Array(rows)) => rows,
        _ => return vec![format!("{name}: no JSON rows\n{}", describe(&o))],
    };
    let expected: Vec<u64> = factors.split(',').map(|f| f.parse().unwrap()).collect();
    let got: Vec<u64> = rows.iter().filter_map(|r| r["banking"].as_u64()).collect();
    if got != expected {
        return vec![format!(
            "{name}: rows for banking {got:?}, expected {expected:?}"
        )];
    }
    let mut problems = Vec::new();
    for r in &rows {
        let ok = r["status"] == "ok"
            && r["bit_exact"] == true
            && r["cycles"].as_u64().is_some_and(|c| c > 0);
        if !ok {
            problems.push(format!(
                "{name} at banking {}: status {}, bit_exact {}, error {}",
                r["banking"], r["status"], r["bit_exact"], r["error"]
            ));
        }
    }
    if o.status.code() != Some(0) {
        problems.push(format!("{name}: exit status {:?}", o.status.code()));
    }
    problems
}

#[test]
fn working_layer_cases_are_bit_exact_through_mlcalyx_run() {
    if common::torch_python().is_none() {
        return;
    }
    // Two cases at a time: each spends its time in one torch export and a few Verilator builds.
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(name, factors)) = WORKING.get(i) else {
                    break;
                };
                let found = check_case(name, factors);
                problems.lock().unwrap().extend(found);
            });
        }
    });
    let problems = problems.into_inner().unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
