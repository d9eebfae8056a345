//! Driving a core only through its top-level ports: load words through a narrow load/store
//! port, run, read the results back the same way.

use mlcalyx_sim::{SimError, Verilator};
use std::path::Path;

fn design() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/designs/port_core.sv"
    ))
}

#[test]
fn a_core_is_loaded_run_and_read_through_its_ports() {
    let verilator = Verilator::find()
        .expect("Verilator (run scripts/setup.sh)")
        .with_ports(["io_addr", "io_wdata", "io_we", "io_rdata"]);
    let work = tempfile::tempdir().expect("temporary folder");
    let model = verilator
        .build(design(), "port_core", work.path())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sim = model.instantiate().expect("instance");
    sim.reset(2).expect("reset");
    for (addr, value) in [(0u64, 3u64), (1, 0x7fff), (2, 0x8001), (3, 0)] {
        sim.set_port("io_addr", addr).unwrap();
        sim.set_port("io_wdata", value).unwrap();
        sim.set_port("io_we", 1).unwrap();
        sim.step(1).unwrap();
    }
    sim.set_port("io_we", 0).unwrap();
    assert_eq!(sim.run(100).unwrap(), 6);
    let mut words = Vec::new();
    for addr in 0..4 {
        sim.set_port("io_addr", addr).unwrap();
        sim.step(1).unwrap();
        words.push(sim.port("io_rdata").unwrap());
    }
    // Doubling wraps at 16 bits; writing 0x1_ffff to a 16-bit port keeps the low 16 bits.
    assert_eq!(words, [6, 0xfffe, 0x0002, 0]);
    sim.set_port("io_wdata", 0x1_ffff).unwrap();
    assert_eq!(sim.port("io_wdata").unwrap(), 0xffff);

    let err = sim.port("no_such_port").unwrap_err();
    assert!(matches!(err, SimError::UnknownPort { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "unknown port `no_such_port` of `port_core` (ports are reachable when the model is built \
         with `Verilator::with_ports` naming them)"
    );
}
