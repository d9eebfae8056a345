//! Banking end to end: every example at factors 1, 2, 4, 8 is bit-exact, with the exact cycle
//! counts below; cycles strictly decrease with the factor; the 16x16x16 matmul gains at least 5x.

mod common;

use common::example_bundle;
use mlcalyx_compiler::banking::BankingConfig;
use mlcalyx_compiler::Bundle;
use mlcalyx_harness::{run_bundle, RunSettings};
use mlcalyx_sim::Verilator;

/// (example, cycles at banking 1, 2, 4, 8). Deterministic: a change here is a schedule change.
const CYCLES: [(&str, [u64; 4]); 6] = [
    ("tiny_mlp", [640, 220, 64, 18]),
    ("mlp", [35660, 9786, 2790, 864]),
    ("residual_mlp", [2085, 682, 220, 44]),
    ("uneven_mlp", [5064, 1554, 500, 124]),
    ("matmul", [35204, 9860, 2948, 1028]),
    ("matmul4", [692, 260, 52, 52]),
];

#[test]
fn every_example_is_bit_exact_at_every_factor_with_exact_cycles() {
    let verilator = Verilator::find().expect("Verilator (run scripts/setup.sh)");
    let settings = RunSettings::default();
    let mut problems = Vec::new();
    for (name, expected) in CYCLES {
        let bundle = Bundle::load(&example_bundle(name)).expect("example bundle");
        let mut measured = Vec::new();
        for (i, factor) in [1u32, 2, 4, 8].into_iter().enumerate() {
            let work = tempfile::tempdir().expect("temporary folder");
            let r = run_bundle(&bundle, factor, work.path(), &verilator, &settings);
            if r.status != "ok" || !r.bit_exact {
                problems.push(format!(
                    "{name} at {factor}: {} {:?} {:?}",
                    r.status, r.error, r.outputs
                ));
            }
            if r.cycles != Some(expected[i]) {
                problems.push(format!(
                    "{name} at {factor}: {:?} cycles, expected {}",
                    r.cycles, expected[i]
                ));
            }
            measured.push(r.cycles.unwrap_or(u64::MAX));
        }
        // 4x4 matmul: a factor above the dimension (8 > 4) is capped at 4 banks.
        let distinct = if name == "matmul4" { 3 } else { 4 };
        if !measured[..distinct].windows(2).all(|w| w[1] < w[0]) {
            problems.push(format!(
                "{name}: cycles do not strictly decrease: {measured:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let matmul = CYCLES[4].1;
    assert!(
        matmul[0] >= 5 * matmul[3],
        "16x16x16 matmul gains less than 5x at factor 8"
    );
}

/// (example, banking config under examples/banking/, cycles). User layouts: block, complete,
/// two dimensions at once (adder trees), uneven blocks, and a re-banking copy.
const CONFIGS: [(&str, &str, u64); 4] = [
    ("matmul4", "matmul4_block", 260),
    ("matmul4", "matmul4_cyclic_2d", 260),
    ("matmul4", "matmul4_rebank", 452),
    ("uneven_mlp", "uneven_block", 544),
];

#[test]
fn user_banking_configurations_are_bit_exact_with_exact_cycles() {
    let verilator = Verilator::find().expect("Verilator (run scripts/setup.sh)");
    let mut problems = Vec::new();
    for (name, config, cycles) in CONFIGS {
        let bundle = Bundle::load(&example_bundle(name)).expect("example bundle");
        let path = common::root()
            .join("examples/banking")
            .join(format!("{config}.json"));
        let settings = RunSettings {
            banking_config: Some(BankingConfig::load(&path).expect("config")),
            ..RunSettings::default()
        };
        let work = tempfile::tempdir().expect("temporary folder");
        let r = run_bundle(&bundle, 1, work.path(), &verilator, &settings);
        if r.status != "ok" || !r.bit_exact || r.cycles != Some(cycles) {
            problems.push(format!(
                "{name} with {config}: {} {:?} cycles (want {cycles}) {:?}",
                r.status, r.cycles, r.error
            ));
        }
        if (config == "matmul4_rebank") == r.notes.is_empty() {
            problems.push(format!("{name} with {config}: notes {:?}", r.notes));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn cli_rejects_colliding_and_malformed_configurations_without_output() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let configs = common::root().join("examples/banking");
    let bundle = example_bundle("matmul4");
    std::fs::write(
        tmp.path().join("bad.json"),
        "{\"tensors\": {\"x\": [{\"dim\": 2}]}}",
    )
    .expect("write");
    for (config, needle) in [
        (
            configs.join("matmul4_conflict.json"),
            "bank conflict on tensor 'proj.weight', bank 0",
        ),
        (
            configs.join("matmul4_impossible.json"),
            "tensor 'x': impossible banking",
        ),
        (
            tmp.path().join("bad.json"),
            "bad.json: malformed banking config",
        ),
    ] {
        let out = tmp.path().join("out");
        let o = common::run_cli(
            tmp.path(),
            [
                "compile".as_ref(),
                bundle.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
                "--banking-config".as_ref(),
                config.as_os_str(),
            ],
        );
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{config:?}: {err}");
        assert!(err.contains(needle), "{config:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{config:?} left output behind");
    }
}
