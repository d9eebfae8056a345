//! The tensor graph IR: validated ops over typed tensors.
//!
//! Built from a [`Bundle`] by [`Graph::from_bundle`], which checks every invariant the later stages
//! rely on: each tensor is declared once and produced before it is used, operand shapes agree,
//! formats are supported and the arithmetic cannot overflow the accumulator.

use super::elementwise::Elementwise;
use crate::bundle::{Bundle, Node, Role};
use crate::error::{Error, Result};
use crate::numerics::{FixedFormat, ACCUMULATOR_WIDTH};
use std::collections::HashMap;

pub use super::window::{PoolReduce, Window};

/// Index of a tensor in [`Graph::tensors`].
pub type TensorId = usize;

#[derive(Debug, Clone)]
pub struct Graph {
    pub name: String,
    pub tensors: Vec<TensorInfo>,
    pub ops: Vec<Op>,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
}

#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    pub role: Role,
    pub shape: Vec<usize>,
    pub format: FixedFormat,
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone)]
pub struct Op {
    /// The bundle node's name.
    pub name: String,
    /// Where it came from in the PyTorch model, e.g. "fc1 (Linear) at mlp.py:21" (may be empty).
    pub origin: String,
    pub kind: OpKind,
}

#[derive(Debug, Clone)]
pub enum OpKind {
    /// `y[..., n] = requant(sum_k x[..., k] * weight[n, k] + bias[n])`.
    Linear {
        x: TensorId,
        weight: TensorId,
        bias: Option<TensorId>,
        y: TensorId,
    },
    /// `y = max(x, 0)`.
    Relu { x: TensorId, y: TensorId },
    /// `y = saturate(a + b)`.
    Add {
        a: TensorId,
        b: TensorId,
        y: TensorId,
    },
    /// `y` is `x` with another shape (row-major; a copy only when the layouts differ).
    Reshape { x: TensorId, y: TensorId },
    /// `y[.., o, os] = requant(sum_{ci, k} x_pad[.., grp*C/g + ci, os*s + k*d - p] * w[o, ci, k] + b[o])`.
    Conv {
        x: TensorId,
        weight: TensorId,
        bias: Option<TensorId>,
        y: TensorId,
        window: Window,
        groups: usize,
    },
    /// Max or average over each channel's windows.
    Pool {
        x: TensorId,
        y: TensorId,
        window: Window,
        reduce: PoolReduce,
    },
    /// `scale_shift`, `clamp`, `threshold`, `prelu`, `lut`: one output element per input element,
    /// with per-channel or constant parameters (`ir::elementwise`).
    Elementwise(Elementwise),
}

impl OpKind {
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Linear { .. } => "linear",
            OpKind::Relu { .. } => "relu",
            OpKind::Add { .. } => "add",
            OpKind::Reshape { .. } => "flatten",
            OpKind::Conv { .. } => "conv",
            OpKind::Pool {
                reduce: PoolReduce::Max,
                ..
            } => "maxpool",
            OpKind::Pool { .. } => "avgpool",
            OpKind::Elementwise(e) => e.op.name(),
        }
    }
}

impl Graph {
    /// Validates a bundle's graph and builds the IR.
    pub fn from_bundle(bundle: &Bundle) -> Result<Graph> {
        let model = &bundle.model;
        let mut ids = HashMap::new();
        let mut tensors = Vec::new();
        for t in &model.tensors {
            if ids.insert(t.name.clone(), tensors.len()).is_some() {
                return Err(Error::tensor(&t.name, "declared twice"));
            }
            t.format
                .check()
                .map_err(|m| Error::tensor(&t.name, format!("format {}: {m}", t.format)))?;
            if t.shape.is_empty() || t.shape.contains(&0) {
                return Err(Error::tensor(
                    &t.name,
                    format!(
                        "shape {:?} is empty: tensors need at least one element",
                        t.shape
                    ),
                ));
            }
            tensors.push(TensorInfo {
                name: t.name.clone(),
                role: t.role,
                shape: t.shape.clone(),
                format: t.format,
            });
        }
        let lookup = |name: &str, what: &str| -> Result<TensorId> {
            ids.get(name).copied().ok_or_else(|| Error::Bundle {
                path: bundle.dir.join("model.json"),
                message: format!("{what} names tensor '{name}', which is not declared"),
            })
        };
        let inputs = model
            .inputs
            .iter()
            .map(|n| lookup(n, "the input list"))
            .collect::<Result<Vec<_>>>()?;
        let outputs = model
            .outputs
            .iter()
            .map(|n| lookup(n, "the output list"))
            .collect::<Result<Vec<_>>>()?;

        // A tensor is available once it is an input or a weight, or a node has produced it.
        let mut available: Vec<bool> = tensors
            .iter()
            .map(|t| matches!(t.role, Role::Input | Role::Weight))
            .collect();
        for &i in &inputs {
            if tensors[i].role != Role::Input {
                return Err(Error::tensor(
                    &tensors[i].name,
                    "listed as an input but its role is not 'input'",
                ));
            }
        }
        let mut ops = Vec::new();
        for node in &model.nodes {
            let ctx = NodeCtx::new(node);
            let ins = node
                .inputs
                .iter()
                .map(|n| lookup(n, &format!("node '{}'", node.name)))
                .collect::<Result<Vec<_>>>()?;
            let outs = node
                .outputs
                .iter()
                .map(|n| lookup(n, &format!("node '{}'", node.name)))
                .collect::<Result<Vec<_>>>()?;
            for &i in &ins {
                if !available[i] {
                    return Err(ctx.error(format!(
                        "reads tensor '{}' before any node produces it",
                        tensors[i].name
                    )));
                }
            }
            for &o in &outs {
                if available[o] {
                    return Err(ctx.error(format!(
                        "writes tensor '{}', which is already an input, a weight or another node's output",
                        tensors[o].name
                    )));
                }
                available[o] = true;
            }
            let kind = ctx.op_kind(&ins, &outs, &tensors)?;
            ops.push(Op {
                name: node.name.clone(),
                origin: ctx.origin.clone(),
                kind,
            });
        }
        Ok(Graph {
            name: model.model.name.clone(),
            tensors,
            ops,
            inputs,
            outputs,
        })
    }
}

/// A node being validated: knows how to word errors about it.
pub(super) struct NodeCtx<'n> {
    pub(super) node: &'n Node,
    origin: String,
}

impl<'n> NodeCtx<'n> {
    pub(super) fn new(node: &'n Node) -> Self {
        let origin = node
            .source
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default();
        NodeCtx { node, origin }
    }

    pub(super) fn error(&self, message: impl Into<String>) -> Error {
        Error::Node {
            node: self.node.name.clone(),
            op: self.node.op.clone(),
            origin: if self.origin.is_empty() {
                String::new()
            } else {
                format!(", from {}", self.origin)
            },
            message: message.into(),
        }
    }

    pub(super) fn arity(
        &self,
        ins: &[TensorId],
        outs: &[TensorId],
        inputs: &[usize],
    ) -> Result<()> {
        if !inputs.contains(&ins.len()) {
            let want: Vec<String> = inputs.iter().map(|n| n.to_string()).collect();
            return Err(self.error(format!(
                "takes {} inputs, the bundle gives {}",
                want.join(" or "),
                ins.len()
            )));
        }
        if outs.len() != 1 {
            return Err(self.error(format!("has one output, the bundle gives {}", outs.len())));
        }
        Ok(())
    }

    fn op_kind(&self, ins: &[TensorId], outs: &[TensorId], t: &[TensorInfo]) -> Result<OpKind> {
        let shape = |i: TensorId| &t[i].shape;
        match self.node.op.as_str() {
            "linear" => {
                self.arity(ins, outs, &[2, 3])?;
                let (x, weight, y) = (ins[0], ins[1], outs[0]);
                let bias = ins.get(2).copied();
                let (xs, ws, ys) = (shape(x), shape(weight), shape(y));
                if ws.len() != 2 {
                    return Err(self.error(format!(
                        "weight '{}' has shape {ws:?}, expected [out_features, in_features]",
                        t[weight].name
                    )));
                }
                let (n, k) = (ws[0], ws[1]);
                if xs.last() != Some(&k) {
                    return Err(self.error(format!(
                        "shape mismatch: input '{}' has shape {xs:?} but weight '{}' has {k} input features",
                        t[x].name, t[weight].name
                    )));
                }
                let mut expected = xs.clone();
                *expected.last_mut().expect("x has a last dim") = n;
                if *ys != expected {
                    return Err(self.error(format!(
                        "shape mismatch: output '{}' has shape {ys:?}, expected {expected:?}",
                        t[y].name
                    )));
                }
                if let Some(b) = bias {
                    if *shape(b) != [n] {
                        return Err(self.error(format!(
                            "shape mismatch: bias '{}' has shape {:?}, expected [{n}]",
                            t[b].name,
                            shape(b)
                        )));
                    }
                }
                for w in [weight].into_iter().chain(bias) {
                    if t[w].role != Role::Weight {
                        return Err(self.error(format!(
                            "'{}' must be a weight (a parameter of the model)",
                            t[w].name
                        )));
                    }
                }
                self.check_linear_numerics(x, weight, bias, y, k, t)?;
                Ok(OpKind::Linear { x, weight, bias, y })
            }
            "relu" => {
                self.arity(ins, outs, &[1])?;
                self.same_shape_and_format(&[ins[0], outs[0]], t)?;
                Ok(OpKind::Relu {
                    x: ins[0],
                    y: outs[0],
                })
            }
            "add" => {
                self.arity(ins, outs, &[2])?;
                self.same_shape_and_format(&[ins[0], ins[1], outs[0]], t)?;
                Ok(OpKind::Add {
                    a: ins[0],
                    b: ins[1],
                    y: outs[0],
                })
            }
            "flatten" => {
                self.arity(ins, outs, &[1])?;
                let (x, y) = (ins[0], outs[0]);
                if t[x].len() != t[y].len() {
                    return Err(self.error(format!(
                        "shape mismatch: reshaping {:?} ({} elements) into {:?} ({} elements)",
                        t[x].shape,
                        t[x].len(),
                        t[y].shape,
                        t[y].len()
                    )));
                }
                if t[x].format != t[y].format {
                    return Err(self.error("a reshape cannot change the number format"));
                }
                Ok(OpKind::Reshape { x, y })
            }
            "conv" => self.conv(ins, outs, t),
            "maxpool" => self.pool(true, ins, outs, t),
            "avgpool" => self.pool(false, ins, outs, t),
            op @ ("scale_shift" | "clamp" | "threshold" | "prelu" | "lut" | "softmax") => {
                Ok(OpKind::Elementwise(self.elementwise(op, ins, outs, t)?))
            }
            other => Err(self.error(format!(
                "unsupported op '{other}' (supported: linear, relu, add, flatten, conv, maxpool, avgpool, scale_shift, clamp, threshold, prelu, lut, softmax)"
            ))),
        }
    }

    pub(super) fn same_shape_and_format(&self, ids: &[TensorId], t: &[TensorInfo]) -> Result<()> {
        let first = &t[ids[0]];
        for &i in &ids[1..] {
            if t[i].shape != first.shape {
                return Err(self.error(format!(
                    "shape mismatch: '{}' has shape {:?} but '{}' has {:?}",
                    first.name, first.shape, t[i].name, t[i].shape
                )));
            }
            if t[i].format != first.format {
                return Err(self.error(format!(
                    "format mismatch: '{}' is {} but '{}' is {}",
                    first.name, first.format, t[i].name, t[i].format
                )));
            }
        }
        Ok(())
    }

    pub(super) fn check_linear_numerics(
        &self,
        x: TensorId,
        weight: TensorId,
        bias: Option<TensorId>,
        y: TensorId,
        k: usize,
        t: &[TensorInfo],
    ) -> Result<()> {
        let (fx, fw, fy) = (t[x].format, t[weight].format, t[y].format);
        let product_width = fx.width + fw.width;
        if product_width > ACCUMULATOR_WIDTH {
            return Err(self.error(format!(
                "a {fx} x {fw} product needs {product_width} bits, more than the {ACCUMULATOR_WIDTH}-bit accumulator"
            )));
        }
        // Worst case |sum| = k * 2^(wx-1) * 2^(ww-1) + 2^(wb-1) << (fx+fw-fb) must stay below
        // 2^(ACC-1). Computed in i128 so the check itself cannot overflow.
        let products = (k as i128) << (product_width - 2);
        let bias_bound = bias.map_or(0i128, |b| {
            let fb = t[b].format;
            let shift = (fx.frac + fw.frac).saturating_sub(fb.frac);
            1i128 << (fb.width - 1 + shift).min(100)
        });
        if products + bias_bound >= 1i128 << (ACCUMULATOR_WIDTH - 1) {
            return Err(self.error(format!(
                "{k} products of {fx} x {fw}{} could overflow the {ACCUMULATOR_WIDTH}-bit accumulator",
                if bias.is_some() { " plus the bias" } else { "" }
            )));
        }
        let product_frac = fx.frac + fw.frac;
        if fy.frac > product_frac {
            return Err(self.error(format!(
                "output format {fy} has more fractional bits than the product {fx} x {fw}"
            )));
        }
        if let Some(b) = bias {
            if t[b].format.frac > product_frac {
                return Err(self.error(format!(
                    "bias format {} has more fractional bits than the product {fx} x {fw}",
                    t[b].format
                )));
            }
        }
        Ok(())
    }
}
