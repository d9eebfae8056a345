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
fn an_input_reshaped_twice_into_other_layouts_is_copied_into_each() {
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
    let bundle = Bundle::load(&dir).expect("loads");
    let options = Options {
        banking: 3,
        banking_config: None,
    };
    let a = compile(&bundle, &options).expect("a reshape between layouts is a copy");
    let copies: Vec<&String> = a
        .notes
        .iter()
        .filter(|n| n.starts_with("node 'flatten") && n.contains("re-banked 'x'"))
        .collect();
    assert_eq!(copies.len(), 2, "{:?}", a.notes);
    assert!(a
        .loops
        .contains("kernel rebank_x (re-banking copy for flatten)"));
}

fn load_error(dir: &Path) -> String {
    match Bundle::load(dir) {
        Ok(_) => panic!("expected {} to be rejected", dir.display()),
        Err(e) => e.to_string(),
    }
}

/// Runs `f` on another thread and fails the test if it takes longer than `seconds` (a read that
/// blocks forever must fail the test, not hang it).
fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(seconds))
        .expect("the call blocked (a read of a special file?)")
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn a_model_without_outputs_is_rejected() {
    let (_t, dir) = bundle_with(|m, _| {
        m["outputs"] = json!([]);
        m["golden"]["outputs"] = json!({});
    });
    assert_eq!(
        compile_error(&dir, 1),
        format!(
            "bundle {}: the model has no outputs: nothing to verify",
            dir.join("model.json").display()
        )
    );
}

#[test]
fn outputs_that_no_node_computes_are_rejected() {
    for (name, role) in [("x", "an input"), ("fc1.weight", "a weight")] {
        let (_t, dir) = bundle_with(|m, _| {
            m["outputs"] = json!([name]);
            m["golden"]["outputs"] =
                json!({name: {"fixed": "golden/x.npy", "float": "golden/x.float.npy"}});
        });
        assert_eq!(
            compile_error(&dir, 1),
            format!("tensor '{name}': is a model output but no node computes it (it is {role})")
        );
    }
}

#[test]
fn a_fifo_as_a_weight_or_model_json_is_rejected_without_blocking() {
    let (_t, dir) = bundle_with(|_, dir| mkfifo(&dir.join("weights/fc1.weight.npy")));
    let e = within(10, move || load_error(&dir));
    assert!(
        e.contains("fc1.weight.npy: not a regular file (a FIFO)"),
        "{e}"
    );

    let (_t, dir) = bundle_with(|_, _| {});
    mkfifo(&dir.join("model.json"));
    let e = within(10, move || load_error(&dir));
    assert!(
        e.ends_with("model.json: not a regular file (a FIFO)"),
        "{e}"
    );
}

#[test]
fn a_symlink_to_dev_zero_is_rejected_without_reading_it() {
    let (_t, dir) = bundle_with(|_, dir| {
        let npy = dir.join("weights/fc1.weight.npy");
        std::fs::remove_file(&npy).expect("remove");
        std::os::unix::fs::symlink("/dev/zero", &npy).expect("symlink");
    });
    let e = within(10, move || load_error(&dir));
    assert!(
        e.contains("fc1.weight.npy: not a regular file (a character device)"),
        "{e}"
    );
}

#[test]
fn a_file_larger_than_its_declared_shape_needs_is_rejected() {
    let (_t, dir) = bundle_with(|_, dir| {
        // fc1.weight is [6, 8]: a valid header and 100000 elements of trailing data.
        let npy = dir.join("weights/fc1.weight.npy");
        let mut bytes = std::fs::read(&npy).expect("read");
        bytes.extend(std::iter::repeat_n(0u8, 800_000));
        std::fs::write(&npy, bytes).expect("write");
    });
    let e = load_error(&dir);
    assert!(
        e.contains("fc1.weight.npy: too large: 800") && e.contains("bytes, more than the"),
        "{e}"
    );
}

#[test]
fn a_special_file_as_banking_config_is_rejected_without_blocking() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fifo = tmp.path().join("config.json");
    mkfifo(&fifo);
    let e = within(10, move || {
        mlcalyx_compiler::banking::BankingConfig::load(&fifo).expect_err("a FIFO")
    });
    assert!(
        e.ends_with("config.json: not a regular file (a FIFO)"),
        "{e}"
    );
}

#[test]
fn banking_factors_beyond_every_dimension_are_capped_with_a_note() {
    let (_t, dir) = bundle_with(|_, _| {});
    let bundle = Bundle::load(&dir).expect("loads");
    let at = |banking| {
        compile(
            &bundle,
            &Options {
                banking,
                banking_config: None,
            },
        )
        .expect("compiles")
    };
    // tiny_mlp's longest dimension has 8 elements.
    let (capped, eight) = (at(1_000_000), at(8));
    assert_eq!(
        capped.notes,
        ["banking factor 1000000: no dimension of model 'tiny_mlp' has more than 8 elements, so the largest useful factor is 8; compiled with 8"]
    );
    assert!(eight.notes.is_empty(), "{:?}", eight.notes);
    assert_eq!(capped.verilog, eight.verilog);
    assert_eq!(capped.manifest.banking, 8);
}

#[test]
fn long_tensor_and_node_names_become_short_distinct_identifiers() {
    let long = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let (a, b, c) = (
        long(128, 'a'),
        long(300, 'b'),
        format!("{}.z", long(5000, 'c')),
    );
    let (a2, c2) = (a.clone(), c.clone());
    let (_t, dir) = bundle_with(move |m, _| {
        // Two names that agree on their first 5000 characters must still get distinct cells.
        tensor(m, "linear")["name"] = json!(c2.clone());
        m["nodes"][1]["outputs"] = json!([c2.clone()]);
        m["nodes"][2]["inputs"][0] = json!(c2.clone());
        m["nodes"][2]["name"] = json!(a2.clone());
        tensor(m, "relu")["name"] = json!(format!("{}.y", &c2[..5000]));
        m["nodes"][2]["outputs"] = json!([format!("{}.y", &c2[..5000])]);
        m["nodes"][3]["inputs"][0] = json!(format!("{}.y", &c2[..5000]));
        tensor(m, "fc2.weight")["name"] = json!(b.clone());
        m["nodes"][3]["inputs"][1] = json!(b.clone());
    });
    let bundle = Bundle::load(&dir).expect("loads");
    let art = compile(&bundle, &Options::default()).expect("compiles");
    let names: Vec<&str> = art
        .manifest
        .memories
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    for n in &names {
        assert!(n.len() <= 64, "identifier {n} is {} characters", n.len());
    }
    let mut distinct = names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), names.len(), "{names:?}");
    // The manifest keeps the original names, and shortening is deterministic.
    assert!(art
        .manifest
        .memories
        .iter()
        .any(|m| m.tensors == [c.clone()]));
    let again = compile(&bundle, &Options::default()).expect("compiles");
    assert_eq!(again.verilog, art.verilog);
    assert!(
        !art.futil.contains(&a),
        "the long node name is shortened too"
    );
}
