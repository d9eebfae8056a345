//! A short seeded run of each target, part of `cargo test`: no panic, no input over the time
//! budget or the allocation cap, and mutations that neither leave the examples intact nor break
//! every input (otherwise the fuzzer would not reach past the first check). The long run is
//! `fuzz-readers --seconds 600` (see fuzz/README.md).

use mlcalyx_fuzz_readers::driver::{run, Options, Report, Stop};
use mlcalyx_fuzz_readers::Target;
use std::time::Duration;

fn short_run(target: Target, inputs: u64) -> Report {
    let crash_dir = tempfile::tempdir().expect("a temporary folder");
    let report = run(&Options {
        target,
        seed: 1,
        stop: Stop::Inputs(inputs),
        max_len: 1024,
        budget: Duration::from_secs(20),
        alloc_cap: 256 << 20,
        crash_dir: crash_dir.path().to_path_buf(),
    })
    .expect("the driver runs");
    println!("{report}");
    assert!(report.crashes.is_empty(), "{report}");
    assert_eq!(report.inputs, inputs);
    report
}

/// The share of inputs every reader accepted, in percent.
fn accepted(report: &Report) -> f64 {
    100.0 * report.accepted as f64 / report.inputs as f64
}

#[test]
fn bundle_reader_survives_mutated_bundles() {
    let report = short_run(Target::Bundle, 600);
    assert!((5.0..95.0).contains(&accepted(&report)), "{report}");
}

#[test]
fn npy_reader_survives_mutated_files() {
    let report = short_run(Target::Npy, 3000);
    assert!((5.0..95.0).contains(&accepted(&report)), "{report}");
}

#[test]
fn banking_config_reader_survives_mutated_configs() {
    let report = short_run(Target::BankingConfig, 600);
    assert!((5.0..95.0).contains(&accepted(&report)), "{report}");
}
