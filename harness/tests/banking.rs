//! Banking end to end: every example at factors 1, 2, 4, 8 is bit-exact, with the exact cycle
//! counts below; cycles strictly decrease with the factor; the 16x16x16 matmul gains at least 5x.

mod common;

use common::example_bundle;
use mlcalyx_compiler::Bundle;
use mlcalyx_harness::{run_bundle, RunSettings};
use mlcalyx_sim::Verilator;

/// (example, cycles at banking 1, 2, 4, 8). Deterministic: a change here is a schedule change.
const CYCLES: [(&str, [u64; 4]); 6] = [
    ("tiny_mlp", [640, 292, 128, 66]),
    ("mlp", [35660, 14074, 6054, 2768]),
    ("residual_mlp", [2085, 922, 400, 164]),
    ("uneven_mlp", [5064, 2138, 956, 400]),
    ("matmul", [35204, 13956, 6020, 2820]),
    ("matmul4", [692, 324, 100, 100]),
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
