//! Measures build time (cold, warm ccache, cache hit) and simulation speed of the test design.
//!
//! `cargo run --release -p mlcalyx-sim --example sim_speed`
//! For a truly cold build, point ccache at an empty folder: `CCACHE_DIR=$(mktemp -d) cargo run ...`.

use std::path::Path;
use std::time::Instant;

use mlcalyx_sim::{SimError, Verilator};

fn main() -> Result<(), SimError> {
    let designs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/designs");
    let v = Verilator::find()?;
    println!("{} at {}", v.version_text(), v.path().display());

    let work = tempfile::tempdir().map_err(|e| SimError::Io {
        action: "creating",
        path: std::env::temp_dir(),
        error: e,
    })?;
    let sum8 = designs.join("sum8.sv");

    let t = Instant::now();
    let model = v.build(&sum8, "main", &work.path().join("a"))?;
    println!(
        "build (new work dir):      {:.2} s",
        t.elapsed().as_secs_f64()
    );
    drop(model);
    let t = Instant::now();
    let model = v.build(&sum8, "main", &work.path().join("b"))?;
    println!(
        "build again (other dir):   {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let model2 = v.build(&sum8, "main", &work.path().join("b"))?;
    println!(
        "build again (cache hit):   {:.4} s",
        t.elapsed().as_secs_f64()
    );
    drop(model2);
    // A design ccache has never seen (a fresh constant): only its own C++ is compiled.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos());
    let source = std::fs::read_to_string(&sum8)
        .map_err(|e| SimError::Io {
            action: "reading",
            path: sum8.clone(),
            error: e,
        })?
        .replace(
            "acc <= 32'd0;\n        end",
            &format!("acc <= 32'd{nanos};\n        end"),
        );
    let edited = work.path().join("edited.sv");
    std::fs::write(&edited, source).map_err(|e| SimError::Io {
        action: "writing",
        path: edited.clone(),
        error: e,
    })?;
    let t = Instant::now();
    drop(v.build(&edited, "main", &work.path().join("b"))?);
    println!(
        "build of an edited design: {:.2} s",
        t.elapsed().as_secs_f64()
    );

    // Complete runs: 8 writes, reset, run, read.
    let mut sim = model.instantiate()?;
    let n = 200_000u64;
    let t = Instant::now();
    let mut check = 0i64;
    for k in 0..n {
        let xs: Vec<u64> = (0..8).map(|i| (k + i) & 0xffff).collect();
        sim.write_memory("main.x", &xs)?;
        sim.reset(1)?;
        sim.run(100)?;
        check = check.wrapping_add(sim.read_memory("main.out")?[0] as i64);
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "complete runs (write 8 words, reset, 10-cycle run, read): {:.0} runs/s ({:.2} us each, checksum {check})",
        n as f64 / dt,
        dt / n as f64 * 1e6
    );

    // Raw clock speed: a design that never finishes.
    let never = v.build(&designs.join("never.sv"), "main", &work.path().join("b"))?;
    let mut sim = never.instantiate()?;
    sim.write_memory("main.x", &[1, 2])?;
    sim.reset(1)?;
    let cycles = 20_000_000u64;
    let t = Instant::now();
    let r = sim.run(cycles);
    let dt = t.elapsed().as_secs_f64();
    assert!(matches!(r, Err(SimError::Timeout { .. })));
    println!(
        "clock loop: {cycles} cycles in {dt:.2} s = {:.1} Mcycles/s",
        cycles as f64 / dt / 1e6
    );
    Ok(())
}
