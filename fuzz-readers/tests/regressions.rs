//! Every input the fuzzer found crashing a reader, replayed: `regressions/TARGET/NAME/` is the saved
//! case folder, and its `expected.txt` the readers' verdict now (`accepted` or `error: ...`, with
//! the case folder written as `CASE`). Each runs under the fuzzer's allocation cap, so an input
//! that made a reader allocate without bound aborts this test.

use mlcalyx_fuzz_readers::driver::catch;
use mlcalyx_fuzz_readers::{alloc, Target};
use std::path::Path;

#[test]
fn saved_crashes_now_give_the_expected_verdict() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut replayed = 0;
    for target in Target::ALL {
        let Ok(cases) = std::fs::read_dir(root.join(target.name())) else {
            continue;
        };
        for case in cases {
            let dir = case.expect("a case folder").path();
            let expected = std::fs::read_to_string(dir.join("expected.txt"))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let base = alloc::begin(256 << 20);
            let verdict = match catch(|| target.run(&dir)) {
                Ok(Ok(())) => "accepted".to_string(),
                Ok(Err(e)) => format!("error: {e}"),
                Err(panic) => panic!("{} still crashes: {panic}", dir.display()),
            };
            alloc::end(base);
            let verdict = verdict.replace(&dir.display().to_string(), "CASE");
            assert_eq!(verdict, expected.trim_end(), "{}", dir.display());
            replayed += 1;
        }
    }
    println!("{replayed} saved crashes replayed");
}
