//! Elementwise ops with per-channel or constant parameters: their validation and shape rules.
//!
//! `scale_shift` (a BatchNorm that was not folded), `clamp` (ReLU6, Hardtanh), `threshold`,
//! `prelu` (and LeakyReLU) and `lut` (Sigmoid, Tanh, ELU, ... as a table). Each output element
//! depends on the input element at the same index and on parameters that are either constants
//! (compile-time, in x's raw units) or weight tensors indexed by the element's channel. The
//! numerics are those of `docs/numerics.md` ("Elementwise ops"); lowering is in
//! `passes::lower_elementwise`.

use super::graph::{NodeCtx, TensorId, TensorInfo};
use crate::bundle::Role;
use crate::error::Result;
use serde_json::Value;

/// An elementwise op: `y[i] = op(x[i], params[channel(i)])`.
#[derive(Debug, Clone, Copy)]
pub struct Elementwise {
    pub x: TensorId,
    pub y: TensorId,
    pub op: ElemOp,
    /// The channel dimension of x that indexes the per-channel parameters (`None`: the
    /// parameters have one element, shared by every element of x).
    pub axis: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
pub enum ElemOp {
    /// `y = saturate(round_{Fx+Fs-Fy}(x * scale[c] + (shift[c] << (Fx+Fs-Fb))))`.
    ScaleShift { scale: TensorId, shift: TensorId },
    /// `y = min(max(x, min), max)`; a missing bound is the format's own.
    Clamp { min: i64, max: i64 },
    /// `y = x > threshold ? x : value`.
    Threshold { threshold: i64, value: i64 },
    /// `y = x >= 0 ? x : saturate(round_{Fa}(x * slope[c]))`.
    Prelu { slope: TensorId },
    /// `y = table[clamp((x - lo) >> shift, 0, T-1)]`, or `x` itself at and above
    /// `hi = lo + (T << shift)` when `identity`.
    Lut {
        table: TensorId,
        lo: i64,
        shift: u32,
        identity: bool,
    },
}

impl ElemOp {
    pub fn name(&self) -> &'static str {
        match self {
            ElemOp::ScaleShift { .. } => "scale_shift",
            ElemOp::Clamp { .. } => "clamp",
            ElemOp::Threshold { .. } => "threshold",
            ElemOp::Prelu { .. } => "prelu",
            ElemOp::Lut { .. } => "lut",
        }
    }

    /// Parameter tensors indexed by the channel (by `axis`, or element 0 when it is `None`).
    pub fn per_channel(&self) -> Vec<TensorId> {
        match *self {
            ElemOp::ScaleShift { scale, shift } => vec![scale, shift],
            ElemOp::Prelu { slope } => vec![slope],
            _ => Vec::new(),
        }
    }

    /// A table read at an address computed from x (not from loop variables).
    pub fn table(&self) -> Option<TensorId> {
        match *self {
            ElemOp::Lut { table, .. } => Some(table),
            _ => None,
        }
    }
}

/// The largest magnitude of a compile-time constant: Calyx passes primitive parameters as 32-bit
/// signed integers, and constants go in as a sign and a magnitude.
pub const MAX_CONSTANT: i64 = i32::MAX as i64;

/// The largest lookup table (words of one ROM, replicated per lock-step copy).
pub const MAX_TABLE: usize = 4096;

impl NodeCtx<'_> {
    pub(super) fn elementwise(
        &self,
        op: &str,
        ins: &[TensorId],
        outs: &[TensorId],
        t: &[TensorInfo],
    ) -> Result<Elementwise> {
        let arity = match op {
            "scale_shift" => 3,
            "prelu" | "lut" => 2,
            _ => 1,
        };
        self.arity(ins, outs, &[arity])?;
        let (x, y) = (ins[0], outs[0]);
        if t[x].shape != t[y].shape {
            return Err(self.error(format!(
                "shape mismatch: output '{}' has shape {:?}, expected the input's {:?}",
                t[y].name, t[y].shape, t[x].shape
            )));
        }
        for &p in &ins[1..] {
            if t[p].role != Role::Weight {
                return Err(self.error(format!(
                    "'{}' must be a weight (a parameter of the model)",
                    t[p].name
                )));
            }
        }
        let fx = t[x].format;
        let (op, axis) = match op {
            "scale_shift" => {
                let (scale, shift) = (ins[1], ins[2]);
                let axis = self.axis(x, t, false)?;
                self.channel_param(scale, x, axis, t)?;
                self.channel_param(shift, x, axis, t)?;
                self.check_linear_numerics(x, scale, Some(shift), y, 1, t)?;
                (ElemOp::ScaleShift { scale, shift }, axis)
            }
            "clamp" => {
                self.same_shape_and_format(&[x, y], t)?;
                let min = self.constant("min", true, t[x].format)?;
                let max = self.constant("max", true, t[x].format)?;
                let op = ElemOp::Clamp {
                    min: min.unwrap_or(fx.min_raw()),
                    max: max.unwrap_or(fx.max_raw()),
                };
                (op, None)
            }
            "threshold" => {
                self.same_shape_and_format(&[x, y], t)?;
                let threshold = self.constant("threshold", false, fx)?;
                let value = self.constant("value", false, fx)?;
                let op = ElemOp::Threshold {
                    threshold: threshold.expect("required"),
                    value: value.expect("required"),
                };
                (op, None)
            }
            "prelu" => {
                self.same_shape_and_format(&[x, y], t)?;
                let slope = ins[1];
                let axis = self.axis(x, t, true)?;
                self.channel_param(slope, x, axis, t)?;
                self.check_linear_numerics(x, slope, None, y, 1, t)?;
                (ElemOp::Prelu { slope }, axis)
            }
            _ => (self.lut(x, ins[1], y, t)?, None),
        };
        Ok(Elementwise { x, y, op, axis })
    }

    fn lut(&self, x: TensorId, table: TensorId, y: TensorId, t: &[TensorInfo]) -> Result<ElemOp> {
        let len = match t[table].shape.as_slice() {
            [n] if *n <= MAX_TABLE => *n,
            s => {
                return Err(self.error(format!(
                    "table '{}' has shape {s:?}, expected [T] with T <= {MAX_TABLE}",
                    t[table].name
                )))
            }
        };
        if t[table].format != t[y].format {
            return Err(self.error(format!(
                "format mismatch: table '{}' is {} but output '{}' is {} (the table holds output values)",
                t[table].name, t[table].format, t[y].name, t[y].format
            )));
        }
        let shift = match self.attr("shift")? {
            Value::Number(n) if n.as_u64().is_some_and(|s| s < 32) => {
                n.as_u64().unwrap_or(0) as u32
            }
            v => {
                return Err(self.error(format!(
                    "attribute 'shift' is {v}, expected an integer in 0..32"
                )))
            }
        };
        let identity = match self.attr("above")? {
            Value::String(s) if s == "clamp" => false,
            Value::String(s) if s == "identity" => true,
            v => {
                return Err(self.error(format!(
                    "attribute 'above' is {v}, expected \"clamp\" or \"identity\""
                )))
            }
        };
        if identity && t[x].format != t[y].format {
            return Err(self.error(format!(
                "format mismatch: with above = \"identity\" the output is x itself, but '{}' is {} and '{}' is {}",
                t[x].name, t[x].format, t[y].name, t[y].format
            )));
        }
        let lo = self.constant("lo", false, t[x].format)?.expect("required");
        // lo and hi only enter a comparison; hi must be a constant the hardware can hold too.
        let hi = lo + ((len as i64) << shift);
        if hi > MAX_CONSTANT {
            return Err(self.error(format!(
                "the table's upper end lo + (T << shift) = {hi} is beyond the largest supported constant {MAX_CONSTANT}"
            )));
        }
        Ok(ElemOp::Lut {
            table,
            lo,
            shift,
            identity,
        })
    }

    fn attr(&self, name: &str) -> Result<&Value> {
        self.node
            .attrs
            .get(name)
            .ok_or_else(|| self.error(format!("attribute '{name}' is missing")))
    }

    /// An integer attribute in raw units of `format` (null allowed when `nullable`): a value
    /// outside the format could not be an output (`clamp`, `threshold`'s value), so it is
    /// rejected; `lo` and `threshold` are only compared with x, so they may lie beyond it.
    fn constant(
        &self,
        name: &str,
        nullable: bool,
        format: crate::numerics::FixedFormat,
    ) -> Result<Option<i64>> {
        let v = match (self.attr(name), nullable) {
            (Err(_), true) | (Ok(Value::Null), true) => return Ok(None),
            (a, _) => a?,
        };
        let Some(c) = v.as_i64() else {
            return Err(self.error(format!(
                "attribute '{name}' is {v}, expected an integer in raw units of {format}{}",
                if nullable { " or null" } else { "" }
            )));
        };
        if c.unsigned_abs() > MAX_CONSTANT.unsigned_abs() {
            return Err(self.error(format!(
                "attribute '{name}' = {c} is beyond the largest supported constant magnitude {MAX_CONSTANT}"
            )));
        }
        let in_range = (format.min_raw()..=format.max_raw()).contains(&c);
        let comparison_only = matches!(name, "lo" | "threshold");
        if !in_range && !comparison_only {
            return Err(self.error(format!(
                "attribute '{name}' = {c} is outside the format {format} ({}..={})",
                format.min_raw(),
                format.max_raw()
            )));
        }
        Ok(Some(c))
    }

    /// The `axis` attribute: x's channel dimension (`null` allowed for a one-element parameter
    /// when `nullable`).
    fn axis(&self, x: TensorId, t: &[TensorInfo], nullable: bool) -> Result<Option<usize>> {
        let rank = t[x].shape.len();
        match self.node.attrs.get("axis") {
            None | Some(Value::Null) if nullable => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some_and(|a| (a as usize) < rank) => {
                Ok(n.as_u64().map(|a| a as usize))
            }
            v => Err(self.error(format!(
                "attribute 'axis' is {}, expected a dimension of '{}' (0..{rank}){}",
                v.map_or("missing".to_string(), |v| v.to_string()),
                t[x].name,
                if nullable { " or null" } else { "" }
            ))),
        }
    }

    /// A per-channel parameter has one element per channel of x along `axis`, or one in all.
    fn channel_param(
        &self,
        p: TensorId,
        x: TensorId,
        axis: Option<usize>,
        t: &[TensorInfo],
    ) -> Result<()> {
        let expected = axis.map_or(1, |a| t[x].shape[a]);
        if t[p].shape != [expected] {
            return Err(self.error(format!(
                "shape mismatch: '{}' has shape {:?}, expected [{expected}] ({})",
                t[p].name,
                t[p].shape,
                match axis {
                    Some(a) => format!("one per channel of '{}' along axis {a}", t[x].name),
                    None => "one value for every element, as axis is null".to_string(),
                }
            )));
        }
        Ok(())
    }
}
