//! The layer suite: one small PyTorch model per layer case of hls4ml's PyTorch API tests
//! (`tests/layers/*.py`: convolutions with padding 0 and 1, stride 2, depthwise, 1x1 and
//! kernel = input; pools on odd sizes with padding 0 and 1; batch norm folded and not; each
//! activation; flatten after conv; dropout; softmax), each run through the command line as a
//! user would, `mlcalyx run FILE --banking ... --json`, and required bit-exact at every factor.
//!
//! `scripts/layer_suite.py` prints the live status of every case (the error of those listed in
//! [`PENDING`]). Needs the `.venv` of scripts/setup.sh; `MLCALYX_SKIP_TORCH_TESTS=1` skips it.

mod common;

use common::{describe, run_cli};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The cases that run bit-exact, with the banking factors each is checked at.
const WORKING: &[(&str, &str)] = &[("act_relu", "1,2,4"), ("dropout", "1,2,4")];

/// The cases that do not run yet, with what they fail on today.
const PENDING: &[(&str, &str)] = &[
    ("act_elu", "export: aten.elu unsupported"),
    ("act_gelu", "export: aten.gelu unsupported"),
    ("act_hardtanh", "export: aten.hardtanh unsupported"),
    ("act_leaky_relu", "export: aten.leaky_relu unsupported"),
    ("act_prelu", "export: aten.prelu unsupported"),
    ("act_prelu_channels", "export: aten.conv1d unsupported"),
    ("act_relu6", "export: aten.hardtanh unsupported"),
    ("act_sigmoid", "export: aten.sigmoid unsupported"),
    ("act_sigmoid_after_conv", "export: aten.conv2d unsupported"),
    ("act_silu", "export: aten.silu unsupported"),
    ("act_softplus", "export: aten.softplus unsupported"),
    ("act_tanh", "export: aten.tanh unsupported"),
    ("act_threshold", "export: aten.threshold unsupported"),
    ("adaptive_avgpool2d", "export: aten.conv2d unsupported"),
    ("avgpool1d_pad0", "export: aten.avg_pool1d unsupported"),
    ("avgpool1d_pad1", "export: aten.avg_pool1d unsupported"),
    ("avgpool2d_pad0", "export: aten.avg_pool2d unsupported"),
    ("avgpool2d_pad1", "export: aten.avg_pool2d unsupported"),
    ("batchnorm1d_after_linear", "export: batch norm unsupported"),
    ("batchnorm1d_after_relu", "export: batch norm unsupported"),
    ("batchnorm2d_after_conv", "export: aten.conv2d unsupported"),
    ("batchnorm2d_after_relu", "export: aten.conv2d unsupported"),
    ("conv1d_kernel_eq_input", "export: aten.conv1d unsupported"),
    ("conv1d_pad0", "export: aten.conv1d unsupported"),
    ("conv1d_pad1", "export: aten.conv1d unsupported"),
    ("conv1d_stride2", "export: aten.conv1d unsupported"),
    ("conv1d_unbatched", "export: aten.conv1d unsupported"),
    ("conv2d_1x1", "export: aten.conv2d unsupported"),
    ("conv2d_depthwise", "export: aten.conv2d unsupported"),
    ("conv2d_depthwise_multiplier", "export: aten.conv2d unsupported"),
    ("conv2d_kernel_eq_input", "export: aten.conv2d unsupported"),
    ("conv2d_pad0", "export: aten.conv2d unsupported"),
    ("conv2d_pad1", "export: aten.conv2d unsupported"),
    ("conv2d_rect_no_bias", "export: aten.conv2d unsupported"),
    ("conv2d_stride2", "export: aten.conv2d unsupported"),
    ("dropout2d_after_conv", "export: aten.conv2d unsupported"),
    ("flatten_after_conv", "export: aten.conv2d unsupported"),
    ("flatten_after_pool", "export: aten.conv2d unsupported"),
    ("maxpool1d_pad0", "export: aten.max_pool1d unsupported"),
    ("maxpool1d_pad1", "export: aten.max_pool1d unsupported"),
    ("maxpool2d_pad0", "export: aten.max_pool2d unsupported"),
    ("maxpool2d_pad1", "export: aten.max_pool2d unsupported"),
    ("softmax_output", "export: aten.softmax unsupported"),
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
    let mut listed: Vec<String> = WORKING
        .iter()
        .chain(PENDING)
        .map(|(n, _)| n.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "tests/layers/*.py and WORKING + PENDING must name the same cases, each once"
    );
}

/// `mlcalyx run tests/layers/<name>.py --banking <factors> --json`: the problems found.
fn check_case(name: &str, factors: &str) -> Vec<String> {
    let model = layers_dir().join(format!("{name}.py"));
    let cwd = tempfile::tempdir().unwrap();
    let o = run_cli(
        cwd.path(),
        [
            "run".as_ref(),
            model.as_os_str(),
            "--banking".as_ref(),
            factors.as_ref(),
            "--json".as_ref(),
        ],
    );
    let rows: Vec<Value> = match serde_json::from_slice(&o.stdout) {
        Ok(Value::Array(rows)) => rows,
        _ => return vec![format!("{name}: no JSON rows\n{}", describe(&o))],
    };
    let expected: Vec<u64> = factors.split(',').map(|f| f.parse().unwrap()).collect();
    let got: Vec<u64> = rows.iter().filter_map(|r| r["banking"].as_u64()).collect();
    if got != expected {
        return vec![format!("{name}: rows for banking {got:?}, expected {expected:?}")];
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
