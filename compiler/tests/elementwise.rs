//! The elementwise ops with parameters at the graph and loop-IR level: validation errors name the
//! node, the attribute or tensor and the rule; the loop IR banks per-channel parameters like x's
//! channel dimension and gives each lock-step copy of a `lut` its own table ROM. (Bit-exact
//! hardware: `harness/tests/elementwise_hw.rs`.)

use mlcalyx_compiler::bundle::Bundle;
use mlcalyx_compiler::ir::graph::Graph;
use mlcalyx_compiler::ir::loops::{MapOp, Stmt};
use mlcalyx_compiler::passes::check_conflicts::check_conflicts;
use mlcalyx_compiler::passes::lower_graph::lower_graph;
use serde_json::{json, Value};

const Q8_8: Value = Value::Null;

fn format(width: u32, frac: u32) -> Value {
    json!({"signed": true, "width": width, "frac": frac})
}

/// A one-node bundle (no files are needed before ROM generation): `x` [2, 4] in, `y` out,
/// `params` weights, formats Q8.8 unless given.
fn bundle(op: &str, attrs: Value, params: &[(&str, &[usize], Value)], y_format: Value) -> Bundle {
    let q = |f: &Value| {
        if f.is_null() {
            format(16, 8)
        } else {
            f.clone()
        }
    };
    let mut tensors =
        vec![json!({"name": "x", "role": "input", "shape": [2, 4], "format": format(16, 8)})];
    for (name, shape, f) in params {
        tensors.push(json!({"name": name, "role": "weight", "shape": shape, "format": q(f), "file": format!("weights/{name}.npy")}));
    }
    tensors.push(json!({"name": "y", "role": "output", "shape": [2, 4], "format": q(&y_format)}));
    let mut inputs = vec!["x".to_string()];
    inputs.extend(params.iter().map(|p| p.0.to_string()));
    let model = json!({
        "schema": "mlcalyx.bundle", "version": 1,
        "model": {"name": "t", "source": "t.py"},
        "tensors": tensors,
        "nodes": [{"name": "act", "op": op, "inputs": inputs, "outputs": ["y"], "attrs": attrs,
                   "source": {"module": "act", "type": "Test", "location": "t.py:3"}}],
        "inputs": ["x"], "outputs": ["y"],
        "golden": {"inputs": {}, "outputs": {}},
    });
    Bundle {
        dir: "t.bundle".into(),
        model: serde_json::from_value(model).expect("a valid model.json"),
    }
}

fn error(b: &Bundle) -> String {
    Graph::from_bundle(b)
        .expect_err("expected an error")
        .to_string()
}

fn loops(b: &Bundle, factor: usize) -> String {
    let graph = Graph::from_bundle(b).expect("valid graph");
    let program = lower_graph(&graph, factor, None).expect("lowers");
    check_conflicts(&program).expect("no bank conflict");
    let text = program.to_string();
    text[text.find("kernel").expect("a kernel")..].to_string()
}

#[test]
fn bad_attributes_and_parameters_are_named() {
    let cases = [
        (
            bundle("clamp", json!({"min": -40000, "max": 256}), &[], Q8_8),
            "attribute 'min' = -40000 is outside the format s8.8 (-32768..=32767)",
        ),
        (
            bundle("clamp", json!({"min": 0.5, "max": null}), &[], Q8_8),
            "attribute 'min' is 0.5, expected an integer in raw units of s8.8 or null",
        ),
        (
            bundle("threshold", json!({"threshold": 0}), &[], Q8_8),
            "attribute 'value' is missing",
        ),
        (
            bundle("threshold", json!({"threshold": 0, "value": 40000}), &[], Q8_8),
            "attribute 'value' = 40000 is outside the format s8.8 (-32768..=32767)",
        ),
        (
            bundle("prelu", json!({"axis": 2}), &[("a", &[4], Q8_8)], Q8_8),
            "attribute 'axis' is 2, expected a dimension of 'x' (0..2) or null",
        ),
        (
            bundle("prelu", json!({"axis": 0}), &[("a", &[4], Q8_8)], Q8_8),
            "shape mismatch: 'a' has shape [4], expected [2] (one per channel of 'x' along axis 0)",
        ),
        (
            bundle("prelu", json!({"axis": null}), &[("a", &[4], Q8_8)], Q8_8),
            "shape mismatch: 'a' has shape [4], expected [1] (one value for every element, as axis is null)",
        ),
        (
            bundle("scale_shift", json!({}), &[("s", &[4], Q8_8), ("b", &[4], Q8_8)], Q8_8),
            "attribute 'axis' is missing, expected a dimension of 'x' (0..2)",
        ),
        (
            bundle("scale_shift", json!({"axis": 1}), &[("s", &[4], format(16, 0)), ("b", &[4], format(16, 0))], format(16, 14)),
            "output format s2.14 has more fractional bits than the product s8.8 x s16.0",
        ),
        (
            bundle("lut", json!({"lo": 0, "shift": 0, "above": "identity"}), &[("t", &[8], format(16, 14))], format(16, 14)),
            "format mismatch: with above = \"identity\" the output is x itself, but 'x' is s8.8 and 'y' is s2.14",
        ),
        (
            bundle("lut", json!({"lo": 0, "shift": 0, "above": "clamp"}), &[("t", &[8], Q8_8)], format(16, 14)),
            "format mismatch: table 't' is s8.8 but output 'y' is s2.14 (the table holds output values)",
        ),
        (
            bundle("lut", json!({"lo": i64::MIN, "shift": 0, "above": "clamp"}), &[("t", &[8], Q8_8)], Q8_8),
            "attribute 'lo' = -9223372036854775808 is beyond the largest supported constant magnitude 2147483647",
        ),
        (
            bundle("threshold", json!({"threshold": 2147483648i64, "value": 0}), &[], Q8_8),
            "attribute 'threshold' = 2147483648 is beyond the largest supported constant magnitude 2147483647",
        ),
        (
            bundle("lut", json!({"lo": 0, "shift": 0, "above": "wrap"}), &[("t", &[8], Q8_8)], Q8_8),
            "attribute 'above' is \"wrap\", expected \"clamp\" or \"identity\"",
        ),
        (
            bundle("lut", json!({"lo": 0, "shift": 0, "above": "clamp"}), &[("t", &[4097], Q8_8)], Q8_8),
            "table 't' has shape [4097], expected [T] with T <= 4096",
        ),
    ];
    for (b, message) in cases {
        let op = &b.model.nodes[0].op;
        assert_eq!(
            error(&b),
            format!("node 'act' ({op}, from act (Test) at t.py:3): {message}")
        );
    }
}

#[test]
fn per_channel_parameters_are_banked_like_the_channel() {
    // Channels on the last dimension, which banking 2 splits: the slope is split the same way,
    // so each copy reads its own bank.
    let b = bundle("prelu", json!({"axis": 1}), &[("a", &[4], Q8_8)], Q8_8);
    assert_eq!(
        loops(&b, 2),
        "kernel act (prelu; act (Test) at t.py:3)
  for i0 in 0..2 {
    for i1 in 0..2 {
      par {
        y_b0[2*i0 + i1] = prelu[>> 8](x_b0[2*i0 + i1], a_b0[i1])
        y_b1[2*i0 + i1] = prelu[>> 8](x_b1[2*i0 + i1], a_b1[i1])
      }
    }
  }
"
    );
    // Channels on dimension 0, which is not banked: both copies share one read of the scale and
    // of the shift.
    let b = bundle(
        "scale_shift",
        json!({"axis": 0}),
        &[("s", &[2], Q8_8), ("b", &[2], format(16, 4))],
        Q8_8,
    );
    assert_eq!(
        loops(&b, 2),
        "kernel act (scale_shift; act (Test) at t.py:3)
  for i0 in 0..2 {
    for i1 in 0..2 {
      par {
        y_b0[2*i0 + i1] = scale_shift[<< 12, >> 8](x_b0[2*i0 + i1], s[i0], b[i0])
        y_b1[2*i0 + i1] = scale_shift[<< 12, >> 8](x_b1[2*i0 + i1], s[i0], b[i0])
      }
    }
  }
"
    );
}

#[test]
fn each_lock_step_copy_of_a_lut_reads_its_own_table() {
    let b = bundle(
        "lut",
        json!({"lo": -512, "shift": 7, "above": "identity"}),
        &[("t", &[8], Q8_8)],
        Q8_8,
    );
    assert_eq!(
        loops(&b, 4),
        "kernel act (lut; act (Test) at t.py:3)
  for i0 in 0..2 {
    par {
      y_b0[i0] = lut[t, lo -512, >> 7, 8 words, identity above](x_b0[i0])
      y_b1[i0] = lut[t_c1, lo -512, >> 7, 8 words, identity above](x_b1[i0])
      y_b2[i0] = lut[t_c2, lo -512, >> 7, 8 words, identity above](x_b2[i0])
      y_b3[i0] = lut[t_c3, lo -512, >> 7, 8 words, identity above](x_b3[i0])
    }
  }
"
    );
    let graph = Graph::from_bundle(&b).unwrap();
    let program = lower_graph(&graph, 4, None).unwrap();
    assert_eq!(
        program.notes,
        ["node 'act': the lookup table 't' is replicated, one ROM per lock-step copy, because each copy reads it at an address computed from its own element"]
    );
    // A step whose copies shared one table would be a conflict on its single read port.
    let mut shared = program.clone();
    let table = shared.memories.iter().position(|m| m.name == "t").unwrap();
    let Stmt::For { body, .. } = &mut shared.kernels[0].body[0] else {
        panic!("a loop")
    };
    let Stmt::Par(copies) = &mut body[0] else {
        panic!("a par")
    };
    for s in copies.iter_mut() {
        if let Stmt::Map {
            op: MapOp::Lut { table: t, .. },
            ..
        } = s
        {
            *t = table;
        }
    }
    assert_eq!(
        check_conflicts(&shared).unwrap_err().to_string(),
        "bank conflict on tensor 't', bank 0 (memory 't'): t[lut(x_b0[i0])] and t[lut(x_b1[i0])] are accessed in the same step of kernel 'act'"
    );
}
