//! Every committed example bundle compiles; the tiny one's Calyx is snapshotted.

use mlcalyx_compiler::{compile, Bundle, Options};
use std::path::PathBuf;

fn example(name: &str) -> Bundle {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(format!("{name}.bundle"));
    Bundle::load(&dir).expect("example bundle loads")
}

#[test]
fn tiny_mlp_calyx_snapshot() {
    let a = compile(&example("tiny_mlp"), &Options::default()).expect("compiles");
    insta::assert_snapshot!("tiny_mlp_loops", a.loops);
    insta::assert_snapshot!("tiny_mlp_futil", a.futil);
}

#[test]
fn every_example_compiles_to_verilog() {
    for name in [
        "tiny_mlp",
        "mlp",
        "residual_mlp",
        "uneven_mlp",
        "matmul",
        "matmul4",
    ] {
        for banking in [1, 2, 4, 8] {
            let a = compile(
                &example(name),
                &Options {
                    banking,
                    banking_config: None,
                },
            )
            .expect(name);
            assert!(a.verilog.contains("module main"), "{name}");
            assert!(a.verilog.contains("module mlc_requant"), "{name}");
            assert!(a.verilog.contains("module std_reg"), "{name}");
        }
    }
}

#[test]
fn matmul4_banked_by_2_snapshot() {
    let a = compile(
        &example("matmul4"),
        &Options {
            banking: 2,
            banking_config: None,
        },
    )
    .expect("compiles");
    insta::assert_snapshot!("matmul4_cyclic2_loops", a.loops);
    insta::assert_snapshot!("matmul4_cyclic2_futil", a.futil);
}
