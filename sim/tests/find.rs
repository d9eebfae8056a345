//! How `Verilator::find` reports a missing or too old Verilator.
//!
//! This file holds a single test because it changes environment variables of the process.

use std::os::unix::fs::PermissionsExt;

use mlcalyx_sim::{SimError, Verilator};

#[test]
fn find_reports_missing_and_old_verilator_clearly() {
    let real = Verilator::find().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("temporary folder");

    // VERILATOR pointing nowhere.
    std::env::set_var("VERILATOR", dir.path().join("no-such-verilator"));
    let err = Verilator::find().expect_err("must fail");
    assert!(matches!(err, SimError::VerilatorNotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "Verilator not found: install it with scripts/setup.sh or set VERILATOR=..."
        ),
        "{msg}"
    );
    assert!(msg.contains("no-such-verilator"), "{msg}");

    // VERILATOR pointing to a Verilator 4.
    let old = dir.path().join("verilator4");
    std::fs::write(
        &old,
        "#!/bin/sh\necho 'Verilator 4.228 2022-10-01 rev v4.228'\n",
    )
    .expect("write");
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::env::set_var("VERILATOR", &old);
    let err = Verilator::find().expect_err("must fail");
    assert!(
        matches!(
            err,
            SimError::VerilatorTooOld {
                major: 4,
                minor: 228,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("needs Verilator 5.0 or newer"),
        "{err}"
    );

    // Something that is not Verilator at all.
    let other = dir.path().join("other");
    std::fs::write(&other, "#!/bin/sh\necho 'hello'\n").expect("write");
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::env::set_var("VERILATOR", &other);
    let err = Verilator::find().expect_err("must fail");
    assert!(matches!(err, SimError::VerilatorVersion { .. }), "{err:?}");

    // No VERILATOR and nothing on PATH.
    std::env::remove_var("VERILATOR");
    let path = std::env::var_os("PATH");
    std::env::set_var("PATH", dir.path());
    let err = Verilator::find().expect_err("must fail");
    assert!(err.to_string().starts_with("Verilator not found"), "{err}");

    // VERILATOR as a full path to the real one works even with an empty PATH.
    std::env::set_var("VERILATOR", real.path());
    let found = Verilator::find();
    if let Some(p) = path {
        std::env::set_var("PATH", p);
    }
    std::env::remove_var("VERILATOR");
    let found = found.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.version(), real.version());
}
