//! Every committed example bundle compiles; the tiny one's Calyx is snapshotted.

use mlcalyx_compiler::banking::BankingConfig;
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

fn config(name: &str) -> BankingConfig {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/banking")
        .join(format!("{name}.json"));
    BankingConfig::load(&path).expect("example banking config")
}

fn with_config(name: &str) -> Options {
    Options {
        banking: 1,
        banking_config: Some(config(name)),
    }
}

#[test]
fn matmul4_block_by_2_snapshot() {
    let a = compile(&example("matmul4"), &with_config("matmul4_block")).expect("compiles");
    assert!(a.notes.is_empty());
    insta::assert_snapshot!("matmul4_block2_loops", a.loops);
    insta::assert_snapshot!("matmul4_block2_futil", a.futil);
}

#[test]
fn a_weight_banked_on_both_dims_turns_the_reduction_into_an_adder_tree() {
    let a = compile(&example("matmul4"), &with_config("matmul4_cyclic_2d")).expect("compiles");
    // Two outputs at once, each summing two products in one step.
    assert!(a.loops.contains(
        "acc0 += x_b0[2*i0 + i2] * proj_weight_b0[2*i1 + i2] + x_b1[2*i0 + i2] * proj_weight_b1[2*i1 + i2]"
    ), "{}", a.loops);
}

#[test]
fn incompatible_input_banking_gets_a_reported_rebanking_copy() {
    let a = compile(&example("matmul4"), &with_config("matmul4_rebank")).expect("compiles");
    assert_eq!(
        a.notes,
        vec!["node 'linear': re-banked 'x' (dim 2 cyclic by 2) into 'x_rebanked' (dim 2 block by 2) with a copy kernel of 9 steps, so that every access has a constant bank".to_string()]
    );
    assert!(a
        .loops
        .contains("kernel rebank_x (re-banking copy for linear)"));
}

#[test]
fn colliding_configuration_names_tensor_bank_and_both_accesses() {
    let e = compile(&example("matmul4"), &with_config("matmul4_conflict")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bank conflict on tensor 'proj.weight', bank 0 (memory 'proj_weight'): proj_weight[8*i1 + i2] and proj_weight[8*i1 + i2 + 4] are accessed in the same step of kernel 'linear'"
    );
}

#[test]
fn impossible_configurations_are_rejected_naming_the_tensor() {
    let e = compile(&example("matmul4"), &with_config("matmul4_impossible")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tensor 'x': impossible banking in the banking config: block banking 4 elements of dimension 2 by 3 gives blocks of 2, which fill only 2 banks"
    );
    let unknown: BankingConfig = serde_json::from_str(
        r#"{"tensors": {"nope": [{"dim": 0, "scheme": "cyclic", "factor": 2}]}}"#,
    )
    .expect("parses");
    let options = Options {
        banking: 1,
        banking_config: Some(unknown),
    };
    let e = compile(&example("matmul4"), &options).unwrap_err();
    assert!(
        e.to_string()
            .contains("tensor 'nope': the banking config names this tensor"),
        "{e}"
    );
    let weight_vs_output: BankingConfig = serde_json::from_str(
        r#"{"tensors": {"proj.weight": [{"dim": 0, "scheme": "block", "factor": 2}], "linear": [{"dim": 2, "scheme": "cyclic", "factor": 2}]}}"#,
    )
    .expect("parses");
    let options = Options {
        banking: 1,
        banking_config: Some(weight_vs_output),
    };
    let e = compile(&example("matmul4"), &options).unwrap_err();
    assert!(
        e.to_string()
            .contains("banked incompatibly (cyclic by 2 vs block by 2), and neither is an input"),
        "{e}"
    );
}
