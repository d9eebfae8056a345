//! Malformed or adversarial bundles give errors that name the cause, never a panic, an abort or a
//! silently wrong design.

use mlcalyx_compiler::{compile, Bundle, Options};
use ndarray::{ArrayD, IxDyn};
use ndarray_npy::WriteNpyExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A copy of the tiny_mlp example bundle whose model.json `edit` may change.
fn bundle_with(edit: impl FnOnce(&mut Value, &Path)) -> (tempfile::TempDir, PathBuf) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/tiny_mlp.bundle");
    let tmp = tempfile::tempdir().expect("temporary folder");
    let dir = tmp.path().join("b");
    for sub in ["", "weights", "golden"] {
        std::fs::create_dir_all(dir.join(sub)).expect("folder");
        for entry in std::fs::read_dir(src.join(sub)).expect("example bundle") {
            let entry = entry.expect("entry");
            if entry.path().is_file() {
                std::fs::copy(entry.path(), dir.join(sub).join(entry.file_name())).expect("copy");
            }
        }
    }
    let path = dir.join("model.json");
    let mut model: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    edit(&mut model, &dir);
    std::fs::write(&path, model.to_string()).expect("write");
    (tmp, dir)
}

fn compile_error(dir: &Path, banking: u32) -> String {
    let result = Bundle::load(dir).and_then(|b| {
        compile(
            &b,
            &Options {
                banking,
                banking_config: None,
            },
        )
    });
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn tensor<'a>(model: &'a mut Value, name: &str) -> &'a mut Value {
    model["tensors"]
        .as_array_mut()
        .expect("tensors")
        .iter_mut()
        .find(|t| t["name"] == name)
        .expect("tensor")
}

#[test]
fn impossible_formats_are_reported_not_panicked_on() {
    let (_t, dir) = bundle_with(|m, _| {
        tensor(m, "x")["format"] = json!({"signed": true, "width": 16, "frac": 20})
    });
    assert_eq!(
        compile_error(&dir, 1),
        "tensor 'x': format s-4.20: 20 fractional bits do not fit in 16 bits"
    );
    let (_t, dir) = bundle_with(|m, _| {
        tensor(m, "x")["format"] = json!({"signed": true, "width": 0, "frac": 8})
    });
    assert!(compile_error(&dir, 1).contains("width 0 is outside 2..=32"));
}

#[test]
fn huge_shapes_are_rejected_before_any_allocation() {
    let (_t, dir) =
        bundle_with(|m, _| tensor(m, "x")["shape"] = json!([1u64 << 40, 1u64 << 40, 4]));
    assert!(compile_error(&dir, 1).contains("more than 4194304 elements in all"));
}

#[test]
fn an_npy_header_claiming_a_huge_shape_is_rejected_without_allocating() {
    let (_t, dir) = bundle_with(|_, dir| {
        let mut header =
            "{'descr': '<i2', 'fortran_order': False, 'shape': (1099511627776,), }".to_string();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        std::fs::write(dir.join("weights/fc1.weight.npy"), bytes).expect("write");
    });
    let e = compile_error(&dir, 1);
    assert!(
        e.contains("fc1.weight.npy cannot be read as .npy: missing"),
        "{e}"
    );
}

#[test]
fn weight_values_outside_their_format_are_rejected() {
    let (_t, dir) = bundle_with(|_, dir| {
        let mut w = ArrayD::<i64>::zeros(IxDyn(&[6, 8]));
        w[[2, 3]] = 40000;
        let file = std::fs::File::create(dir.join("weights/fc1.weight.npy")).expect("create");
        w.write_npy(file).expect("write npy");
    });
    assert_eq!(
        compile_error(&dir, 1),
        "tensor 'fc1.weight': value 40000 at flat index 19 of weights/fc1.weight.npy does not fit the format s8.8"
    );
}

#[test]
fn names_that_calyx_reserves_and_control_characters_compile() {
    let (_t, dir) = bundle_with(|m, _| {
        m["model"]["name"] = json!("a\nb");
        m["nodes"][0]["source"]["location"] = json!("x\nbogus");
        // Rename the relu output to a Calyx keyword.
        tensor(m, "relu")["name"] = json!("function");
        m["nodes"][2]["outputs"] = json!(["function"]);
        m["nodes"][3]["inputs"][0] = json!("function");
    });
    let bundle = Bundle::load(&dir).expect("loads");
    let a = compile(&bundle, &Options::default()).expect("compiles");
    assert!(
        a.futil.contains("t_function = comb_mem_d1"),
        "the keyword is escaped"
    );
}

#[test]
fn an_input_reshaped_twice_into_other_layouts_is_rejected_not_miscompiled() {
    let (_t, dir) = bundle_with(|m, _| {
        m["tensors"].as_array_mut().expect("tensors").push(json!(
            {"name": "flat2", "role": "output", "shape": [8], "format": {"signed": true, "width": 16, "frac": 8}}
        ));
        m["nodes"].as_array_mut().expect("nodes").push(json!(
            {"name": "flatten2", "op": "flatten", "inputs": ["x"], "outputs": ["flat2"], "attrs": {"shape": [8]}}
        ));
        m["outputs"]
            .as_array_mut()
            .expect("outputs")
            .push(json!("flat2"));
        m["golden"]["outputs"]["flat2"] =
            json!({"fixed": "golden/x.npy", "float": "golden/x.float.npy"});
    });
    let e = compile_error(&dir, 3);
    assert!(e.contains("reshaping 'x' [1, 2, 4] into"), "{e}");
    assert!(
        e.contains("would move elements between banks at banking factor 3"),
        "{e}"
    );
}
