//! The deployable core (docs/interface.md): a host that knows only `manifest.json` and `model.sv`
//! loads the inputs, runs the core and reads the outputs through the one I/O port, bit-exact;
//! every example's core lints clean under `verilator --lint-only -Wall`.

mod common;

use common::example_bundle;
use mlcalyx_compiler::bundle::Role;
use mlcalyx_compiler::{compile, Artifacts, Bundle, Manifest, Options};
use mlcalyx_golden::Golden;
use mlcalyx_harness::io;
use mlcalyx_sim::Verilator;

fn verilator() -> Verilator {
    Verilator::find().expect("Verilator 5 is needed: run scripts/setup.sh")
}

fn compile_into(name: &str, banking: u32, dir: &std::path::Path) -> Bundle {
    let bundle = Bundle::load(&example_bundle(name)).expect("example bundle");
    let options = Options {
        banking,
        banking_config: None,
    };
    compile(&bundle, &options)
        .unwrap_or_else(|e| panic!("{name} at banking {banking}: {e}"))
        .write_to(dir)
        .expect("artifacts written");
    bundle
}

fn read_manifest(dir: &std::path::Path) -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(dir.join(Artifacts::MANIFEST)).unwrap())
        .expect("manifest.json parses")
}

#[test]
fn a_host_with_only_the_manifest_runs_the_core_through_its_port() {
    // matmul4 at banking 2: its input and its output are split over two buffers each.
    let tmp = tempfile::tempdir().unwrap();
    let bundle = compile_into("matmul4", 2, tmp.path());
    let golden = Golden::load(&bundle).unwrap();
    let manifest = read_manifest(tmp.path());
    assert_eq!(manifest.top.module, "mlcalyx_core");
    assert_eq!(manifest.multipliers, 4);

    // The buffers tile the port's address space in manifest order; nothing else is on it.
    let mut next = 0;
    for m in &manifest.memories {
        match m.role {
            Role::Input | Role::Output => {
                assert_eq!(m.address, Some(next), "{}", m.name);
                next += m.depth;
            }
            Role::Weight | Role::Activation => assert_eq!(m.address, None, "{}", m.name),
        }
    }
    assert_eq!((manifest.io.words, manifest.io.addr_width), (next, 5));

    let model = verilator()
        .build(
            &tmp.path().join(Artifacts::VERILOG),
            &manifest.top.module,
            &tmp.path().join("verilator"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sim = model.instantiate().unwrap();
    let port = &manifest.io;
    assert_eq!(sim.port_width(&port.addr).unwrap(), port.addr_width);
    assert_eq!(sim.port_width(&port.wdata).unwrap(), port.data_width);
    assert_eq!(sim.port_width(&port.rdata).unwrap(), port.data_width);
    assert_eq!(sim.port_width(&port.we).unwrap(), 1);
    sim.reset(2).unwrap();

    let mut loaded = Vec::new();
    for input in &golden.inputs {
        let words = io::tensor_words(&manifest, &input.name, &input.values, Role::Input).unwrap();
        io::write_words(&mut sim, &manifest, &words).unwrap();
        loaded.extend(words);
    }
    assert_eq!(loaded.len(), 16);
    // A load returns what was stored, two edges after its address and not one earlier (the
    // previous load's word is still there); past the map the port reads zero.
    let mut previous = None;
    for &(addr, bits) in &loaded {
        sim.set_port(&port.addr, addr).unwrap();
        sim.step(1).unwrap();
        if let Some(p) = previous.filter(|&p| p != bits) {
            assert_eq!(
                sim.port(&port.rdata).unwrap(),
                p,
                "address {addr} after one edge"
            );
        }
        sim.step(1).unwrap();
        assert_eq!(sim.port(&port.rdata).unwrap(), bits, "address {addr}");
        previous = Some(bits);
    }
    for addr in manifest.io.words as u64..1 << port.addr_width {
        assert_eq!(
            io::read_word(&mut sim, &manifest, addr).unwrap(),
            0,
            "address {addr}"
        );
    }

    // Twice, with a reset between: the buffers keep their words across it, and go -> done is
    // the pinned cycle count each time.
    for run in 0..2 {
        if run > 0 {
            sim.reset(1).unwrap();
        }
        assert_eq!(sim.run(1_000_000).unwrap(), 260, "run {run}");
        for out in &golden.outputs {
            let values =
                io::read_tensor(&mut sim, &manifest, &out.fixed.name, out.fixed.values.len())
                    .unwrap();
            assert_eq!(values, out.fixed.values, "run {run}, '{}'", out.fixed.name);
        }
    }
}

#[test]
fn every_example_core_lints_clean() {
    let verilator = verilator();
    for name in [
        "tiny_mlp",
        "mlp",
        "residual_mlp",
        "uneven_mlp",
        "matmul",
        "matmul4",
    ] {
        for banking in [1, 2, 4, 8] {
            let tmp = tempfile::tempdir().unwrap();
            compile_into(name, banking, tmp.path());
            let manifest = read_manifest(tmp.path());
            verilator
                .lint(&tmp.path().join(Artifacts::VERILOG), &manifest.top.module)
                .unwrap_or_else(|e| panic!("{name} at banking {banking}: {e}"));
        }
    }
}
