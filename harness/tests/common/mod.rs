//! Shared helpers of the end-to-end tests: paths, the `mlcalyx` binary, and a writer for small
//! hand-made bundles (`model.json` + `.npy` files) whose golden values are literals of the test.
//!
//! Each test binary uses only some of these helpers.
#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::WriteNpyExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (`harness/..`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_path_buf()
}

/// `examples/<name>.bundle`.
pub fn example_bundle(name: &str) -> PathBuf {
    root().join("examples").join(format!("{name}.bundle"))
}

/// The `mlcalyx` binary built for this test run.
pub fn mlcalyx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlcalyx"))
}

/// Runs `mlcalyx ARGS` in `cwd` and returns its output.
pub fn run_cli<I, S>(cwd: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    mlcalyx()
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("cannot start the mlcalyx binary")
}

/// `mlcalyx run MODEL --banking FACTORS --json` in `cwd`.
pub fn run_json(cwd: &Path, model: &Path, factors: &str) -> Output {
    run_cli(
        cwd,
        [
            "run".as_ref(),
            model.as_os_str(),
            "--banking".as_ref(),
            factors.as_ref(),
            "--json".as_ref(),
        ],
    )
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A one-paragraph description of a finished command, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        stdout(o),
        stderr(o)
    )
}

/// A signed fixed-point format `{signed: true, width, frac}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fmt {
    pub width: u32,
    pub frac: u32,
}

/// Signed Q8.8, the default format.
pub const Q8_8: Fmt = Fmt { width: 16, frac: 8 };

impl Fmt {
    pub const fn new(width: u32, frac: u32) -> Fmt {
        Fmt { width, frac }
    }

    fn json(self) -> Value {
        json!({"signed": true, "width": self.width, "frac": self.frac})
    }

    /// The real value of a raw integer.
    pub fn real(self, raw: i64) -> f64 {
        raw as f64 / f64::from(1u32 << self.frac)
    }
}

/// One tensor of a hand-made bundle.
#[derive(Debug, Clone)]
pub struct TensorSpec {
    pub name: String,
    pub role: &'static str,
    pub shape: Vec<usize>,
    pub format: Fmt,
    /// Inputs and weights: the values loaded; outputs: the expected (golden) values.
    pub values: Option<Vec<i64>>,
}

/// A small bundle written by a test: every value is given by the test itself.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    pub name: String,
    pub tensors: Vec<TensorSpec>,
    pub nodes: Vec<Value>,
}

impl BundleSpec {
    pub fn new(name: &str) -> BundleSpec {
        BundleSpec {
            name: name.to_string(),
            tensors: Vec::new(),
            nodes: Vec::new(),
        }
    }

    fn tensor(
        &mut self,
        name: &str,
        role: &'static str,
        shape: &[usize],
        format: Fmt,
        values: Option<&[i64]>,
    ) -> &mut Self {
        if let Some(v) = values {
            assert_eq!(
                v.len(),
                shape.iter().product::<usize>(),
                "test bug: tensor '{name}' has {} values for shape {shape:?}",
                v.len()
            );
        }
        self.tensors.push(TensorSpec {
            name: name.to_string(),
            role,
            shape: shape.to_vec(),
            format,
            values: values.map(<[i64]>::to_vec),
        });
        self
    }

    /// A model input with the raw values the design is driven with.
    pub fn input(&mut self, name: &str, shape: &[usize], format: Fmt, raw: &[i64]) -> &mut Self {
        self.tensor(name, "input", shape, format, Some(raw))
    }

    /// A weight (written to `weights/<name>.npy`).
    pub fn weight(&mut self, name: &str, shape: &[usize], format: Fmt, raw: &[i64]) -> &mut Self {
        self.tensor(name, "weight", shape, format, Some(raw))
    }

    /// An intermediate tensor.
    pub fn activation(&mut self, name: &str, shape: &[usize], format: Fmt) -> &mut Self {
        self.tensor(name, "activation", shape, format, None)
    }

    /// A model output with its expected raw values (the golden fixed file; the golden float file
    /// holds the same values dequantized).
    pub fn output(
        &mut self,
        name: &str,
        shape: &[usize],
        format: Fmt,
        expected: &[i64],
    ) -> &mut Self {
        self.tensor(name, "output", shape, format, Some(expected))
    }

    /// A node with one output tensor (named like the node's output).
    pub fn node(&mut self, name: &str, op: &str, inputs: &[&str], output: &str) -> &mut Self {
        self.node_with(name, op, inputs, output, json!({}))
    }

    pub fn node_with(
        &mut self,
        name: &str,
        op: &str,
        inputs: &[&str],
        output: &str,
        attrs: Value,
    ) -> &mut Self {
        self.nodes.push(json!({
            "name": name,
            "op": op,
            "inputs": inputs,
            "outputs": [output],
            "attrs": attrs,
            "source": {"module": name, "type": "Test", "location": format!("{}.py:1", self.name)},
        }));
        self
    }

    pub fn get(&self, name: &str) -> &TensorSpec {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("test bug: no tensor '{name}'"))
    }

    /// The file name stem of a tensor's `.npy` files: its name, or `t<index>` for a name too long
    /// for a file system.
    fn stem(&self, name: &str) -> String {
        if name.len() <= 100 {
            return name.to_string();
        }
        let i = self.tensors.iter().position(|t| t.name == name).unwrap();
        format!("t{i}")
    }

    fn names(&self, role: &str) -> Vec<String> {
        self.tensors
            .iter()
            .filter(|t| t.role == role)
            .map(|t| t.name.clone())
            .collect()
    }

    /// The `model.json` document.
    pub fn model_json(&self) -> Value {
        let tensors: Vec<Value> = self
            .tensors
            .iter()
            .map(|t| {
                let mut v = json!({
                    "name": t.name, "role": t.role, "shape": t.shape, "format": t.format.json(),
                });
                if t.role == "weight" {
                    v["file"] = json!(format!("weights/{}.npy", self.stem(&t.name)));
                }
                v
            })
            .collect();
        let golden = |role: &str| -> BTreeMap<String, Value> {
            self.names(role)
                .into_iter()
                .map(|n| {
                    let stem = self.stem(&n);
                    let files = json!({
                        "fixed": format!("golden/{stem}.npy"),
                        "float": format!("golden/{stem}.float.npy"),
                    });
                    (n, files)
                })
                .collect()
        };
        json!({
            "schema": "mlcalyx.bundle",
            "version": 1,
            "model": {"name": self.name, "source": format!("{}.py", self.name)},
            "tensors": tensors,
            "nodes": self.nodes,
            "inputs": self.names("input"),
            "outputs": self.names("output"),
            "golden": {"inputs": golden("input"), "outputs": golden("output")},
        })
    }

    /// Writes the bundle into `dir` (created): model.json, weights/*.npy, golden/*.npy.
    pub fn write(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir.join("weights")).unwrap();
        std::fs::create_dir_all(dir.join("golden")).unwrap();
        let text = serde_json::to_string_pretty(&self.model_json()).unwrap();
        std::fs::write(dir.join("model.json"), text).unwrap();
        for t in &self.tensors {
            let Some(values) = &t.values else { continue };
            let folder = if t.role == "weight" {
                "weights"
            } else {
                "golden"
            };
            let stem = self.stem(&t.name);
            write_int_npy(
                &dir.join(folder).join(format!("{stem}.npy")),
                &t.shape,
                t.format,
                values,
            );
            if t.role != "weight" {
                let reals: Vec<f32> = values.iter().map(|&v| t.format.real(v) as f32).collect();
                write_f32_npy(
                    &dir.join("golden").join(format!("{stem}.float.npy")),
                    &t.shape,
                    &reals,
                );
            }
        }
        dir.to_path_buf()
    }
}

/// Writes raw values as `<i2` (width <= 16) or `<i4` (width <= 32), like `scripts/numerics.py`.
pub fn write_int_npy(path: &Path, shape: &[usize], format: Fmt, values: &[i64]) {
    let file = std::fs::File::create(path).unwrap();
    let shape = IxDyn(shape);
    if format.width <= 16 {
        let v: Vec<i16> = values
            .iter()
            .map(|&x| i16::try_from(x).expect("test bug: value outside int16"))
            .collect();
        ArrayD::from_shape_vec(shape, v)
            .unwrap()
            .write_npy(file)
            .unwrap();
    } else {
        assert!(format.width <= 32, "test bug: width {}", format.width);
        let v: Vec<i32> = values
            .iter()
            .map(|&x| i32::try_from(x).expect("test bug: value outside int32"))
            .collect();
        ArrayD::from_shape_vec(shape, v)
            .unwrap()
            .write_npy(file)
            .unwrap();
    }
}

pub fn write_f32_npy(path: &Path, shape: &[usize], values: &[f32]) {
    let file = std::fs::File::create(path).unwrap();
    ArrayD::from_shape_vec(IxDyn(shape), values.to_vec())
        .unwrap()
        .write_npy(file)
        .unwrap();
}

/// Every file below `dir`, as sorted paths relative to it.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The project's Python (with torch) for the tests that export models, or `None` when they are
/// skipped with `MLCALYX_SKIP_TORCH_TESTS=1`. Without it, and without the skip, the test fails:
/// a missing environment must not pass silently.
pub fn torch_python() -> Option<PathBuf> {
    if std::env::var_os("MLCALYX_SKIP_TORCH_TESTS").is_some_and(|v| v == "1") {
        eprintln!("skipping a torch test: MLCALYX_SKIP_TORCH_TESTS=1");
        return None;
    }
    let missing = |why: String| -> ! {
        panic!(
            "{why}\nThe torch tests need the project's Python environment: run scripts/setup.sh \
             (or set MLCALYX_SKIP_TORCH_TESTS=1 to skip them)."
        )
    };
    match mlcalyx_harness::python::python() {
        Ok(p) if p.is_file() => Some(p),
        Ok(p) => missing(format!("{} does not exist", p.display())),
        Err(e) => missing(format!("{e:#}")),
    }
}
