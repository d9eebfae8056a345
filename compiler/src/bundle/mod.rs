//! The model bundle: what `scripts/export.py` writes and the compiler reads.
//!
//! A bundle is a folder with `model.json` (schema `mlcalyx.bundle`, version 1), quantized weights as
//! integer `.npy` files and golden tensors. The format is specified in `docs/ir.md`.

mod npy;

use crate::error::{Error, Result};
use crate::files::{check_regular_file, read_regular_file};
use crate::numerics::FixedFormat;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use npy::{read_float_tensor, read_int_tensor};

pub const SCHEMA: &str = "mlcalyx.bundle";
/// The most elements a bundle's tensors may have in all, far above what on-chip memories hold.
/// A bound on the whole bundle, not per tensor: the compiler's memory and time grow with the total.
pub const MAX_ELEMENTS: usize = 1 << 22;
pub const VERSION: u32 = 1;
/// The largest `model.json` read: far above any real graph's description.
pub const MAX_MODEL_JSON_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub schema: String,
    pub version: u32,
    pub model: ModelInfo,
    pub tensors: Vec<Tensor>,
    pub nodes: Vec<Node>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub golden: Golden,
    /// Per tensor, the float values the exporter saw on the example inputs (written with
    /// `--calibrate`, `--precision` or `--formats`); informational, the compiler ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<BTreeMap<String, Calibration>>,
}

/// One tensor's float range on the example inputs and how many of its values saturate in its
/// format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub min: f64,
    pub max: f64,
    pub count: u64,
    pub saturated: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    pub name: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Input,
    Weight,
    Activation,
    Output,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tensor {
    pub name: String,
    pub role: Role,
    pub shape: Vec<usize>,
    pub format: FixedFormat,
    /// Bundle-relative `.npy` file with the quantized values (weights only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub name: String,
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    #[serde(default)]
    pub attrs: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub source: Option<Source>,
}

/// Where a node came from in the user's PyTorch model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Source {
    #[serde(default)]
    pub module: Option<String>,
    #[serde(default, rename = "type")]
    pub module_type: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        match (&self.module, &self.module_type) {
            (Some(m), Some(t)) if !m.is_empty() => parts.push(format!("{m} ({t})")),
            (Some(m), _) if !m.is_empty() => parts.push(m.clone()),
            (_, Some(t)) => parts.push(t.clone()),
            _ => {}
        }
        if let Some(loc) = &self.location {
            parts.push(format!("at {loc}"));
        }
        write!(f, "{}", parts.join(" "))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Golden {
    pub inputs: BTreeMap<String, GoldenFiles>,
    pub outputs: BTreeMap<String, GoldenFiles>,
}

/// A golden tensor: its fixed-point values (bit-exact target) and its float values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenFiles {
    pub fixed: String,
    pub float: String,
}

/// A loaded bundle: the parsed `model.json` and the folder it lives in.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub model: Model,
}

impl Bundle {
    /// Reads and checks `DIR/model.json`: schema, version, and that every file it names exists.
    /// Shapes and graph structure are checked later, by `ir::graph` validation.
    pub fn load(dir: &Path) -> Result<Bundle> {
        let json_path = dir.join("model.json");
        let bytes = read_regular_file(&json_path, MAX_MODEL_JSON_BYTES, "a model.json").map_err(
            |message| Error::Bundle {
                path: json_path.clone(),
                message,
            },
        )?;
        let model: Model = serde_json::from_slice(&bytes).map_err(|e| Error::Bundle {
            path: json_path.clone(),
            message: format!("malformed model.json: {e}"),
        })?;
        if model.schema != SCHEMA {
            return Err(Error::Bundle {
                path: json_path,
                message: format!("schema is '{}', expected '{SCHEMA}'", model.schema),
            });
        }
        if model.version != VERSION {
            return Err(Error::Bundle {
                path: json_path,
                message: format!(
                    "version {} is not supported (this mlcalyx reads version {VERSION})",
                    model.version
                ),
            });
        }
        let bundle = Bundle {
            dir: dir.to_path_buf(),
            model,
        };
        bundle.check_outputs()?;
        bundle.check_files()?;
        Ok(bundle)
    }

    /// Absolute path of a bundle-relative file.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.model.tensors.iter().find(|t| t.name == name)
    }

    /// Reads a weight tensor's quantized values, checking dtype, shape and that every value fits
    /// the declared format.
    pub fn weight_values(&self, tensor: &Tensor) -> Result<Vec<i64>> {
        let file = tensor
            .file
            .as_deref()
            .ok_or_else(|| Error::tensor(&tensor.name, "weight has no file"))?;
        let values = read_int_tensor(&self.path(file), &tensor.shape)
            .map_err(|message| Error::tensor(&tensor.name, message))?;
        tensor
            .format
            .check_values(&values, file)
            .map_err(|message| Error::tensor(&tensor.name, message))?;
        Ok(values)
    }

    /// A run must compare something, and only what the design computed: an input or a weight
    /// named as an output would be compared with the values the host loaded, and always match.
    fn check_outputs(&self) -> Result<()> {
        let model = &self.model;
        if model.outputs.is_empty() {
            return Err(Error::Bundle {
                path: self.dir.join("model.json"),
                message: "the model has no outputs: nothing to verify".into(),
            });
        }
        for name in &model.outputs {
            if !model.nodes.iter().any(|n| n.outputs.contains(name)) {
                let what = match self.tensor(name).map(|t| t.role) {
                    Some(Role::Input) => " (it is an input)",
                    Some(Role::Weight) => " (it is a weight)",
                    _ => "",
                };
                return Err(Error::tensor(
                    name,
                    format!("is a model output but no node computes it{what}"),
                ));
            }
        }
        Ok(())
    }

    fn check_files(&self) -> Result<()> {
        let mut total = 0usize;
        for t in &self.model.tensors {
            // Checked before any file is read, so a huge shape never reaches an allocation.
            let elements = t.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            match elements.and_then(|n| total.checked_add(n)) {
                Some(n) if n <= MAX_ELEMENTS => total = n,
                _ => {
                    return Err(Error::tensor(
                        &t.name,
                        format!(
                            "shape {:?} brings the bundle to more than {MAX_ELEMENTS} elements in all, more than on-chip memories hold",
                            t.shape
                        ),
                    ))
                }
            }
            match (t.role, &t.file) {
                (Role::Weight, None) => {
                    return Err(Error::tensor(&t.name, "weight tensor names no file"))
                }
                (Role::Weight, Some(_)) => {
                    // Reading checks existence, dtype and shape up front, so a broken weight file
                    // is reported at compile time rather than at simulation.
                    self.weight_values(t)?;
                }
                _ => {}
            }
        }
        let golden = self
            .model
            .golden
            .inputs
            .iter()
            .chain(&self.model.golden.outputs);
        for (name, files) in golden {
            for f in [&files.fixed, &files.float] {
                if let Err(e) = check_regular_file(&self.path(f)) {
                    return Err(Error::tensor(
                        name,
                        format!("golden file {}: {e}", self.path(f).display()),
                    ));
                }
            }
        }
        Ok(())
    }
}
