//! Behaviour of mlcalyx-sim against real Verilator builds of the designs in `tests/designs/`.
//!
//! These tests need Verilator: without it they fail with the crate's "Verilator not found"
//! message (they are not skipped).

use std::path::{Path, PathBuf};
use std::time::Instant;

use mlcalyx_sim::{MemoryInfo, Model, SimError, Verilator};

fn verilator() -> Verilator {
    Verilator::find().unwrap_or_else(|e| panic!("{e}"))
}

fn design(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/designs")
        .join(name)
}

fn work_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mlcalyx-sim-test-")
        .tempdir()
        .expect("temporary folder")
}

fn build(sv: &Path, work: &Path) -> Model {
    verilator()
        .build(sv, "main", work)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Two's-complement bit pattern of `v` in `bits` bits.
fn bits_of(v: i64, bits: u32) -> u64 {
    (v as u64)
        & if bits == 64 {
            u64::MAX
        } else {
            (1 << bits) - 1
        }
}

/// Signed value of a `bits`-bit pattern.
fn signed(word: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((word << shift) as i64) >> shift
}

/// Cycles that sum8.sv takes from go to done (see the comment at its top).
const SUM8_CYCLES: u64 = 10;

fn run_sum8(sim: &mut mlcalyx_sim::Instance<'_>, xs: &[i64; 8]) -> (i64, u64) {
    let words: Vec<u64> = xs.iter().map(|&v| bits_of(v, 16)).collect();
    sim.write_memory("main.x", &words).expect("write x");
    sim.reset(1).expect("reset");
    let cycles = sim.run(1000).expect("run");
    let out = sim.read_memory("main.out").expect("read out");
    assert_eq!(out.len(), 1);
    (signed(out[0], 32), cycles)
}

#[test]
fn version_is_5_or_newer() {
    let v = verilator();
    assert!(v.version().0 >= 5, "{:?}", v.version());
    assert!(v.version_text().starts_with("Verilator 5."));
}

#[test]
fn sums_signed_words_in_exact_cycles_then_runs_again_after_reset() {
    let work = work_dir();
    let model = build(&design("sum8.sv"), work.path());
    assert!(model.library_path().starts_with(work.path()));
    let expected_version = {
        let (major, minor) = verilator().version();
        u64::from(major) * 1_000_000 + u64::from(minor) * 1000
    };
    assert_eq!(model.verilator_version_integer(), expected_version);

    let mut sim = model.instantiate().expect("instantiate");
    assert_eq!(
        sim.memory_info("main.x").expect("x"),
        MemoryInfo {
            width_bits: 16,
            depth: 8
        }
    );
    assert_eq!(
        sim.memory_info("main.out").expect("out"),
        MemoryInfo {
            width_bits: 32,
            depth: 1
        }
    );
    assert_eq!(sim.memories(), vec!["main.out", "main.x"]);

    // x[0] is read at the very first loop edge with address 0, unchanged since reset: this
    // checks that a write through the shim is seen by the combinational read.
    let xs = [1000, -2, 3, -4, 5, -32768, 32767, 100];
    let (sum, cycles) = run_sum8(&mut sim, &xs);
    assert_eq!(sum, xs.iter().sum::<i64>());
    assert_eq!(cycles, SUM8_CYCLES);

    // Memories keep their contents across runs and resets.
    let x_back = sim.read_memory("main.x").expect("read x");
    assert_eq!(
        x_back.iter().map(|&w| signed(w, 16)).collect::<Vec<_>>(),
        xs.to_vec()
    );

    let ys = [-1, -1, -1, -1, -1, -1, -1, -30000];
    sim.write_memory("main.x", &ys.map(|v| bits_of(v, 16)))
        .expect("write x");
    sim.reset(3).expect("reset");
    assert_eq!(sim.run(1000).expect("run"), SUM8_CYCLES);
    let out = sim.read_memory("main.out").expect("read out");
    assert_eq!(signed(out[0], 32), -30007);

    // Negative values may be passed sign-extended to 64 bits: the high bits are masked off.
    sim.write_memory("main.x", &[u64::MAX; 8]).expect("write x");
    assert_eq!(sim.read_memory("main.x").expect("read x"), vec![0xffff; 8]);
    sim.reset(1).expect("reset");
    assert_eq!(sim.run(1000).expect("run"), SUM8_CYCLES);
    assert_eq!(
        signed(sim.read_memory("main.out").expect("read out")[0], 32),
        -8
    );
}

#[test]
fn instances_of_one_model_are_independent() {
    let work = work_dir();
    let model = build(&design("sum8.sv"), work.path());
    let mut a = model.instantiate().expect("a");
    let mut b = model.instantiate().expect("b");

    a.write_memory("main.x", &[1; 8]).expect("write a");
    b.write_memory("main.x", &[2; 8]).expect("write b");
    a.reset(1).expect("reset a");
    assert_eq!(a.run(1000).expect("run a"), SUM8_CYCLES);
    assert_eq!(a.read_memory("main.out").expect("a out"), vec![8]);
    // b has not run: its output is still the initial zero, its input untouched by a.
    assert_eq!(b.read_memory("main.out").expect("b out"), vec![0]);
    assert_eq!(b.read_memory("main.x").expect("b x"), vec![2; 8]);

    // Interleave: reset b, clock a again in between, then run b.
    b.reset(1).expect("reset b");
    a.write_memory("main.x", &[3; 8]).expect("write a");
    a.reset(1).expect("reset a");
    assert_eq!(a.run(1000).expect("run a"), SUM8_CYCLES);
    assert_eq!(b.run(1000).expect("run b"), SUM8_CYCLES);
    assert_eq!(a.read_memory("main.out").expect("a out"), vec![24]);
    assert_eq!(b.read_memory("main.out").expect("b out"), vec![16]);

    // Dropping one instance does not disturb the other.
    drop(a);
    b.write_memory("main.x", &[5; 8]).expect("write b");
    b.reset(1).expect("reset b");
    b.run(1000).expect("run b");
    assert_eq!(b.read_memory("main.out").expect("b out"), vec![40]);
}

#[test]
fn instances_run_on_other_threads() {
    let work = work_dir();
    let model = build(&design("sum8.sv"), work.path());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2i64)
            .map(|t| {
                let model = &model;
                s.spawn(move || {
                    let mut sim = model.instantiate().expect("instantiate");
                    for k in 0..200i64 {
                        let xs = [t, k, -k, 7, t * k, -3, 2, 1];
                        let (sum, cycles) = run_sum8(&mut sim, &xs);
                        assert_eq!(sum, xs.iter().sum::<i64>());
                        assert_eq!(cycles, SUM8_CYCLES);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
    });
}

#[test]
fn two_designs_with_the_same_top_name_coexist() {
    let work = work_dir();
    let sum8 = build(&design("sum8.sv"), work.path());
    let weighted = build(&design("weighted.sv"), work.path());
    assert_ne!(sum8.library_path(), weighted.library_path());

    let mut s = sum8.instantiate().expect("sum8");
    let mut w = weighted.instantiate().expect("weighted");

    let bs = [-128i64, 127, -1, 5];
    w.write_memory("main.b", &bs.map(|v| bits_of(v, 8)))
        .expect("write b");
    w.reset(1).expect("reset");
    let (sum, cycles) = run_sum8(&mut s, &[10, 20, 30, 40, 50, 60, 70, 80]);
    assert_eq!((sum, cycles), (360, SUM8_CYCLES));
    assert_eq!(w.run(1000).expect("run weighted"), 6);
    let out = w.read_memory("main.out").expect("read out");
    let expected: i64 = bs
        .iter()
        .enumerate()
        .map(|(i, &b)| (i as i64 + 1) * b)
        .sum();
    assert_eq!(signed(out[0], 64), expected);
    assert_eq!(
        w.memories(),
        vec!["main.b", "main.bits", "main.five", "main.out", "main.wide"]
    );
}

#[test]
fn every_storage_size_round_trips_and_masks() {
    let work = work_dir();
    let model = build(&design("weighted.sv"), work.path());
    let mut sim = model.instantiate().expect("instantiate");
    let cases: [(&str, u32, usize); 5] = [
        ("main.bits", 1, 4),  // CData
        ("main.five", 5, 3),  // CData
        ("main.b", 8, 4),     // CData
        ("main.wide", 33, 2), // QData
        ("main.out", 64, 1),  // QData
    ];
    for (name, width_bits, depth) in cases {
        let info = sim.memory_info(name).expect(name);
        assert_eq!(info, MemoryInfo { width_bits, depth }, "{name}");
        let words: Vec<u64> = (0..depth as u64)
            .map(|i| 0xdead_beef_cafe_f00d_u64.rotate_left(7 * i as u32))
            .collect();
        sim.write_memory(name, &words).expect(name);
        let mask = if width_bits == 64 {
            u64::MAX
        } else {
            (1 << width_bits) - 1
        };
        let expected: Vec<u64> = words.iter().map(|w| w & mask).collect();
        assert_eq!(sim.read_memory(name).expect(name), expected, "{name}");
    }
    // SData and IData: sum8's 16-bit input and 32-bit output.
    let sum8 = build(&design("sum8.sv"), work.path());
    let mut s = sum8.instantiate().expect("instantiate");
    s.write_memory("main.out", &[0x1_2345_6789]).expect("out");
    assert_eq!(s.read_memory("main.out").expect("out"), vec![0x2345_6789]);
    s.write_memory("main.x", &[0x1_2345; 8]).expect("x");
    assert_eq!(s.read_memory("main.x").expect("x"), vec![0x2345; 8]);
}

#[test]
fn unknown_memory_is_an_error_naming_it() {
    let work = work_dir();
    let model = build(&design("sum8.sv"), work.path());
    let mut sim = model.instantiate().expect("instantiate");
    for name in ["main.nope", "x", "", "main.x.mem", "main.x\0"] {
        let err = sim.memory_info(name).expect_err(name);
        assert!(
            matches!(&err, SimError::UnknownMemory { memory, .. } if memory == name),
            "{err:?}"
        );
    }
    let err = sim.read_memory("main.nope").expect_err("read");
    let msg = err.to_string();
    assert!(msg.contains("`main.nope`"), "{msg}");
    assert!(msg.contains("main.out, main.x"), "{msg}");
    let err = sim.write_memory("main.y", &[0; 8]).expect_err("write");
    assert!(err.to_string().contains("`main.y`"), "{err}");
}

#[test]
fn wrong_length_is_an_error() {
    let work = work_dir();
    let model = build(&design("sum8.sv"), work.path());
    let mut sim = model.instantiate().expect("instantiate");
    for len in [0, 7, 9] {
        let err = sim
            .write_memory("main.x", &vec![1; len])
            .expect_err("length");
        assert!(
            matches!(err, SimError::LengthMismatch { ref memory, depth: 8, len: l } if memory == "main.x" && l == len),
            "{err:?}"
        );
        assert!(err.to_string().contains("has 8 words"), "{err}");
    }
    // Nothing was written.
    assert_eq!(sim.read_memory("main.x").expect("read"), vec![0; 8]);
}

#[test]
fn a_design_that_never_finishes_times_out() {
    let work = work_dir();
    let model = build(&design("never.sv"), work.path());
    let mut sim = model.instantiate().expect("instantiate");
    sim.write_memory("main.x", &[1, 2]).expect("write");
    sim.reset(1).expect("reset");
    let err = sim.run(1000).expect_err("must time out");
    assert!(
        matches!(err, SimError::Timeout { max_cycles: 1000 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("1000 cycles"), "{err}");
    // The instance is still usable.
    sim.reset(1).expect("reset after timeout");
    assert!(matches!(
        sim.run(0),
        Err(SimError::Timeout { max_cycles: 0 })
    ));
}

#[test]
fn finish_fatal_error_and_stop_are_reported_not_fatal_to_the_process() {
    let work = work_dir();
    let model = build(&design("stop.sv"), work.path());

    let mut sim = model.instantiate().expect("instantiate");
    sim.write_memory("main.ctl", &[0]).expect("ctl");
    sim.reset(1).expect("reset");
    assert_eq!(sim.run(100).expect("a normal run"), 3);

    for (mode, is_error) in [(1, false), (2, true), (3, true), (4, true)] {
        let mut sim = model.instantiate().expect("instantiate");
        sim.write_memory("main.ctl", &[mode]).expect("ctl");
        sim.reset(1).expect("reset");
        let err = sim.run(100).expect_err("must stop");
        assert!(
            matches!(err, SimError::Stopped { cycles: 3, error } if error == is_error),
            "mode {mode}: {err:?}"
        );
        // The instance stays stopped (a second $finish would exit the process).
        assert!(matches!(
            sim.run(100),
            Err(SimError::Stopped { cycles: 0, .. })
        ));
        assert!(matches!(sim.reset(1), Err(SimError::Stopped { .. })));
        // Memories can still be read.
        assert_eq!(sim.read_memory("main.ctl").expect("ctl"), vec![mode]);
    }
    // Other instances are unaffected.
    let mut sim = model.instantiate().expect("instantiate");
    sim.write_memory("main.ctl", &[0]).expect("ctl");
    sim.reset(1).expect("reset");
    assert_eq!(sim.run(100).expect("a normal run"), 3);
}

#[test]
fn syntax_error_gives_verilator_diagnostic() {
    let work = work_dir();
    let sv = work.path().join("broken.sv");
    std::fs::write(
        &sv,
        "module main(input logic go, input logic clk, input logic reset, output logic done);\n\
         assign done = go &&& ;\n\
         endmodule\n",
    )
    .expect("write");
    let err = verilator()
        .build(&sv, "main", &work.path().join("out"))
        .expect_err("must fail");
    assert!(matches!(err, SimError::Build { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("%Error"), "{msg}");
    assert!(msg.contains("broken.sv:2"), "{msg}");
    // No library and no build folder left behind.
    let left: Vec<_> = std::fs::read_dir(work.path().join("out"))
        .expect("out")
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A missing top module is reported too.
    let err = verilator()
        .build(&design("sum8.sv"), "nosuchtop", work.path())
        .expect_err("must fail");
    assert!(err.to_string().contains("nosuchtop"), "{err}");
    // A top name that is not an identifier never reaches Verilator.
    assert!(matches!(
        verilator().build(&design("sum8.sv"), "main -o x", work.path()),
        Err(SimError::InvalidTop { .. })
    ));
    // A missing file names the file.
    let err = verilator()
        .build(&work.path().join("missing.sv"), "main", work.path())
        .expect_err("must fail");
    assert!(err.to_string().contains("missing.sv"), "{err}");
}

/// A `main` whose done comes one cycle after go and which writes `K` to out[0].
fn constant_design(k: u32) -> String {
    format!(
        "module comb_mem_d1 #(parameter WIDTH = 32, SIZE = 1, IDX_SIZE = 1) (\n\
           input logic clk, input logic write_en, input logic [WIDTH-1:0] write_data);\n\
           logic [WIDTH-1:0] mem[SIZE-1:0];\n\
           always_ff @(posedge clk) if (write_en) mem[0] <= write_data;\n\
         endmodule\n\
         module main(input logic go, input logic clk, input logic reset, output logic done);\n\
           logic busy;\n\
           comb_mem_d1 #(.WIDTH(32)) out(.clk(clk), .write_en(go && !busy), .write_data(32'd{k}));\n\
           always_ff @(posedge clk) busy <= reset ? 1'b0 : (go && !busy);\n\
           assign done = busy;\n\
         endmodule\n"
    )
}

fn run_constant(model: &Model) -> u64 {
    let mut sim = model.instantiate().expect("instantiate");
    sim.reset(1).expect("reset");
    assert_eq!(sim.run(10).expect("run"), 1);
    sim.read_memory("main.out").expect("out")[0]
}

#[test]
fn rebuilding_an_edited_design_loads_the_new_one_and_identical_builds_hit_the_cache() {
    let work = work_dir();
    let sv = work.path().join("design.sv");
    let out = work.path().join("build");
    let v = verilator();

    std::fs::write(&sv, constant_design(11)).expect("write");
    let first = v.build(&sv, "main", &out).expect("first build");
    assert_eq!(run_constant(&first), 11);

    // Same file name and work dir, new contents: a new library, the new behaviour, while the
    // first model is still loaded and still behaves as before.
    std::fs::write(&sv, constant_design(22)).expect("write");
    let second = v.build(&sv, "main", &out).expect("second build");
    assert_ne!(first.library_path(), second.library_path());
    assert_eq!(run_constant(&second), 22);
    assert_eq!(run_constant(&first), 11);
    drop(first);

    // Back to the first contents: a cache hit (no Verilator run, no build output), correct.
    std::fs::write(&sv, constant_design(11)).expect("write");
    let t = Instant::now();
    let again = v.build(&sv, "main", &out).expect("cached build");
    let hit = t.elapsed();
    assert_eq!(run_constant(&again), 11);
    assert!(hit.as_millis() < 500, "cache hit took {hit:?}");

    // Only the two libraries are left in the work dir: build folders are removed.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names
        .iter()
        .all(|n| n.starts_with("libmain-") && n.ends_with(".so")));
}

#[test]
fn extra_arguments_reach_verilator_and_the_library_name() {
    let work = work_dir();
    let sv = work.path().join("macro.sv");
    let source = constant_design(0).replace("32'd0", "`K").replace(
        "module main",
        "`ifndef K\n`define K 32'd7\n`endif\nmodule main",
    );
    std::fs::write(&sv, source).expect("write");
    let plain = verilator().build(&sv, "main", work.path()).expect("plain");
    let defined = verilator()
        .with_extra_args(["+define+K=32'd33"])
        .build(&sv, "main", work.path())
        .expect("with a define");
    assert_ne!(plain.library_path(), defined.library_path());
    assert_eq!(run_constant(&plain), 7);
    assert_eq!(run_constant(&defined), 33);
}

#[test]
fn ports_are_driven_and_read_by_name_and_step_clocks() {
    let work = work_dir();
    let model = build(&design("ports.sv"), work.path());
    let mut sim = model.instantiate().unwrap();
    assert_eq!(sim.port_width("addr").unwrap(), 3);
    assert_eq!(sim.port_width("wdata").unwrap(), 40);
    assert_eq!(sim.port_width("we").unwrap(), 1);
    assert_eq!(sim.port_width("edges").unwrap(), 8);

    sim.reset(1).unwrap();
    assert_eq!(sim.port("edges").unwrap(), 0);
    sim.step(5).unwrap();
    assert_eq!(sim.port("edges").unwrap(), 5);

    // Store through the port: one rising edge per word, with `we` high.
    let words: Vec<u64> = (0..8u64)
        .map(|i| 0xAB_0000_0000 | (i * 0x0101_0101))
        .collect();
    for (a, &w) in words.iter().enumerate() {
        sim.set_port("addr", a as u64).unwrap();
        sim.set_port("wdata", w).unwrap();
        sim.set_port("we", 1).unwrap();
        sim.step(1).unwrap();
    }
    // Bits above a port's width are dropped: 2 is a `we` of 0, so this write does not happen.
    sim.set_port("we", 2).unwrap();
    sim.set_port("addr", 3).unwrap();
    sim.set_port("wdata", 0).unwrap();
    sim.step(1).unwrap();
    assert_eq!(sim.port("edges").unwrap(), 5 + 9);
    // A load: the address in, the data out at once (combinational read).
    for (a, &w) in words.iter().enumerate() {
        sim.set_port("addr", a as u64 | 0b1000).unwrap();
        assert_eq!(sim.port("rdata").unwrap(), w, "word {a}");
    }

    match sim.port("nonexistent") {
        Err(SimError::UnknownPort { port }) => assert_eq!(port, "nonexistent"),
        other => panic!("expected UnknownPort, got {other:?}"),
    }
    let e = sim.set_port("no_such_port", 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown port `no_such_port`: the top module has no port of that name"
    );
}

#[test]
fn lint_passes_a_clean_design_and_reports_warnings() {
    let v = verilator();
    let work = work_dir();
    // Named after its module, as -Wall's DECLFILENAME wants.
    let clean = work.path().join("main.sv");
    std::fs::copy(design("ports.sv"), &clean).unwrap();
    v.lint(&clean, "main").unwrap_or_else(|e| panic!("{e}"));
    let sv = work.path().join("main_unused.sv");
    std::fs::write(
        &sv,
        "module main (input logic a, input logic b, output logic y);\n  assign y = a;\nendmodule\n",
    )
    .unwrap();
    match v.lint(&sv, "main") {
        Err(SimError::Lint { log, top, .. }) => {
            assert_eq!(top, "main");
            assert!(log.contains("%Warning-UNUSEDSIGNAL"), "{log}");
            assert!(log.contains("'b'"), "{log}");
        }
        other => panic!("expected a lint failure, got {other:?}"),
    }
}
