//! What the fuzzer generates: a model spec (turned into an `nn.Module` by
//! `scripts/fuzz_models.py`) and the banking it is compiled with. Both are plain serde data, so a
//! case can be printed, stored next to its reproducer, and shrunk by editing it.

use mlcalyx_compiler::banking::BankingConfig;
use serde::{Deserialize, Serialize};

/// One layer applied to the running tensor `x` (always `[1, ..., features]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Layer {
    /// `x = Linear(features, out, bias)(x)`, on the last dimension.
    Linear { out: usize, bias: bool },
    /// `x = relu(x)`.
    Relu,
    /// `x = x + x`: an add whose two operands are one tensor.
    AddSelf,
    /// `x = x + [relu](Linear(features, features, bias)(x))`: a residual add.
    Residual { bias: bool, relu: bool },
    /// `x = flatten(x, 1)`.
    Flatten,
    /// `x = x.reshape(shape)` (same element count, leading 1).
    Reshape { shape: Vec<usize> },
}

/// A fixed-point format, as `MLCALYX_FORMAT` in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub width: u32,
    pub frac: u32,
}

impl Format {
    pub const DEFAULT: Format = Format { width: 16, frac: 8 };

    /// The largest representable magnitude, in real units (about).
    pub fn range(&self) -> f64 {
        2f64.powi(self.width as i32 - 1 - self.frac as i32)
    }
}

/// A random model: everything `scripts/fuzz_models.py` needs to write its model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    /// Torch seed for the weights and the example input.
    pub seed: u64,
    pub format: Format,
    /// `[1, leading..., features]`.
    pub input_shape: Vec<usize>,
    /// The example input is uniform in `[-input_scale, input_scale]`.
    pub input_scale: f64,
    /// Every parameter is multiplied by this after PyTorch's default initialization.
    pub weight_scale: f64,
    pub layers: Vec<Layer>,
}

impl ModelSpec {
    /// The shape after each layer, or why the spec is not a valid model (a layer that does not
    /// fit its input, two reshapes in a row, nothing computed).
    pub fn shapes(&self) -> Result<Vec<Vec<usize>>, String> {
        let input = &self.input_shape;
        if input.len() < 2 || input[0] != 1 || input.contains(&0) {
            return Err(format!("input shape {input:?} is not [1, ..., features]"));
        }
        if !self.layers.iter().any(Layer::computes) {
            return Err("no layer computes anything".into());
        }
        let mut shape = input.clone();
        let mut shapes = Vec::new();
        let mut reshaped = false;
        for (i, layer) in self.layers.iter().enumerate() {
            let moves = matches!(layer, Layer::Flatten | Layer::Reshape { .. });
            if moves && reshaped {
                return Err(format!("layer {i}: two reshapes in a row"));
            }
            reshaped = moves;
            shape = match layer {
                Layer::Linear { out: 0, .. } => return Err(format!("layer {i}: linear to 0")),
                Layer::Linear { out, .. } => {
                    let mut s = shape.clone();
                    *s.last_mut().expect("rank >= 2") = *out;
                    s
                }
                Layer::Flatten if shape.len() < 3 => {
                    return Err(format!("layer {i}: flatten of a rank-2 tensor"))
                }
                Layer::Flatten => vec![1, shape[1..].iter().product()],
                Layer::Reshape { shape: to } => {
                    let same_count =
                        to.iter().product::<usize>() == shape.iter().product::<usize>();
                    if to.len() < 2 || to[0] != 1 || !same_count || *to == shape {
                        return Err(format!("layer {i}: cannot reshape {shape:?} to {to:?}"));
                    }
                    to.clone()
                }
                Layer::Relu | Layer::AddSelf | Layer::Residual { .. } => shape,
            };
            shapes.push(shape.clone());
        }
        Ok(shapes)
    }

    /// Number of weight elements plus activation elements: a size to shrink.
    pub fn size(&self) -> usize {
        let shapes = self.shapes().unwrap_or_default();
        self.input_shape.iter().product::<usize>()
            + shapes
                .iter()
                .map(|s| s.iter().product::<usize>())
                .sum::<usize>()
            + self.layers.len()
    }
}

impl Layer {
    /// Whether the layer computes values (a model of reshapes only computes nothing).
    fn computes(&self) -> bool {
        !matches!(self, Layer::Flatten | Layer::Reshape { .. })
    }
}

/// How one run compiles a model: the `--banking` factor and an optional `--banking-config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Banking {
    pub factor: u32,
    pub config: Option<BankingConfig>,
}

/// One fuzz case: a model and one banking to compile it with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub model: ModelSpec,
    pub banking: Banking,
}
