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
use crate::numerics::ACCUMULATOR_WIDTH;
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
    /// Over each row along `axis`: `d = x - max(row)`, `e = d >= lo ? table[(d - lo) >> shift]
    /// : 0`, `y = saturate((e << Fy + S / 2) / S)` with `S` the row's sum of `e` (integer
    /// division). Not elementwise in its data flow (lowered by `passes::lower_softmax`), but
    /// banked like one.
    Softmax {
        table: TensorId,
        lo: i64,
        shift: u32,
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
            ElemOp::Softmax { .. } => "softmax",
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
            ElemOp::Lut { table, .. } | ElemOp::Softmax { table, .. } => Some(table),
            _ => None,
        }
    }
}

/// The largest magnitude of a compile-time constant: Calyx passes primitive parameters as 32-bit
/// signed integers, and constants go in as a sign and a magnitude.
pub const MAX_CONSTANT: i64 = i32::MAX as i64;

/// The largest lookup table (words of one ROM, replicated per lock-step copy).
pub const MAX_TABLE: usize = 4096;

/// The width of softmax's row-sum memory (signed, the table's fractional bits).
pub const SUM_WIDTH: u32 = 32;

/// Bits needed to hold values `0..=n`.
fn bits(n: usize) -> u32 {
    (usize::BITS - n.leading_zeros()).max(1)
}

/// The unsigned width of softmax's division for a row of `n` table values `e` (`table_width`
/// bits, signed, `e >= 0`) into `frac_y` fractional bits: the numerator `e << frac_y + S / 2`
/// is below `2^(table_width - 1 + frac_y) + n * 2^(table_width - 2)`, plus a zero sign bit so the
/// quotient reads as a non-negative signed value.
pub fn division_width(table_width: u32, frac_y: u32, n: usize) -> u32 {
    (table_width - 1 + frac_y).max(table_width - 2 + bits(n)) + 2
}

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
            "prelu" | "lut" | "softmax" => 2,
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
            "softmax" => {
                let axis = self.axis(x, t, false)?;
                (self.softmax(x, ins[1], y, t)?, axis)
            }
            _ => (self.lut(x, ins[1], y, t)?, None),
        };
        Ok(Elementwise { x, y, op, axis })
    }

    /// The length of a 1-D lookup table.
    fn table_len(&self, table: TensorId, t: &[TensorInfo]) -> Result<usize> {
        match t[table].shape.as_slice() {
            [n] if *n <= MAX_TABLE => Ok(*n),
            s => Err(self.error(format!(
                "table '{}' has shape {s:?}, expected [T] with T <= {MAX_TABLE}",
                t[table].name
            ))),
        }
    }

    /// The `shift` attribute of a table lookup.
    fn table_shift(&self) -> Result<u32> {
        match self.attr("shift")? {
            Value::Number(n) if n.as_u64().is_some_and(|s| s < 32) => {
                Ok(n.as_u64().unwrap_or(0) as u32)
            }
            v => Err(self.error(format!(
                "attribute 'shift' is {v}, expected an integer in 0..32"
            ))),
        }
    }

    fn softmax(
        &self,
        x: TensorId,
        table: TensorId,
        y: TensorId,
        t: &[TensorInfo],
    ) -> Result<ElemOp> {
        self.table_len(table, t)?;
        let shift = self.table_shift()?;
        let lo = self.constant("lo", false, t[x].format)?.expect("required");
        if lo > 0 {
            return Err(self.error(format!(
                "attribute 'lo' = {lo} must be <= 0 (x - max(x) is never positive)"
            )));
        }
        // The row sum lives in a SUM_WIDTH-bit register; the division's numerator
        // e << Fy + S / 2 in at most ACCUMULATOR_WIDTH bits.
        let axis = self.axis(x, t, false)?.expect("not nullable");
        let n = t[x].shape[axis];
        let (fe, fy) = (t[table].format, t[y].format);
        if division_width(fe.width, fy.frac, n) > ACCUMULATOR_WIDTH
            || u64::from(fe.width - 1) + u64::from(bits(n)) > u64::from(SUM_WIDTH - 1)
        {
            return Err(self.error(format!(
                "a row of {n} values of the table's format {fe} into the output format {fy} needs a sum of up to {} bits and a division of {} bits, beyond {} and {ACCUMULATOR_WIDTH}",
                fe.width - 1 + bits(n),
                division_width(fe.width, fy.frac, n),
                SUM_WIDTH - 1
            )));
        }
        Ok(ElemOp::Softmax { table, lo, shift })
    }

    fn lut(&self, x: TensorId, table: TensorId, y: TensorId, t: &[TensorInfo]) -> Result<ElemOp> {
        let len = self.table_len(table, t)?;
        if t[table].format != t[y].format {
            return Err(self.error(format!(
                "format mismatch: table '{}' is {} but output '{}' is {} (the table holds output values)",
                t[table].name, t[table].format, t[y].name, t[y].format
            )));
        }
        let shift = self.table_shift()?;
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

#[cfg(test)]
mod softmax_tests {
    use crate::bundle::{Bundle, Model};
    use crate::ir::graph::Graph;
    use serde_json::{json, Value};

    /// `softmax(x: [2, 3] s8.8, table) -> y` with the table's shape, formats and attributes
    /// as given; the validation error.
    fn error(
        table_shape: &[usize],
        table_fmt: (u32, u32),
        y_fmt: (u32, u32),
        attrs: Value,
    ) -> String {
        let fmt = |(width, frac): (u32, u32)| json!({"signed": true, "width": width, "frac": frac});
        let model: Model = serde_json::from_value(json!({
            "schema": "mlcalyx-bundle",
            "version": 1,
            "model": {"name": "m", "source": "m.py"},
            "tensors": [
                {"name": "x", "role": "input", "shape": [2, 3], "format": fmt((16, 8))},
                {"name": "t", "role": "weight", "shape": table_shape, "format": fmt(table_fmt),
                 "file": "weights/t.npy"},
                {"name": "y", "role": "output", "shape": [2, 3], "format": fmt(y_fmt)}
            ],
            "nodes": [{"name": "sm", "op": "softmax", "inputs": ["x", "t"], "outputs": ["y"],
                       "attrs": attrs}],
            "inputs": ["x"],
            "outputs": ["y"],
            "golden": {"inputs": {}, "outputs": {}}
        }))
        .expect("a well-formed model.json");
        let bundle = Bundle {
            dir: "b".into(),
            model,
        };
        match Graph::from_bundle(&bundle) {
            Ok(_) => panic!("expected a validation error"),
            Err(e) => e.to_string(),
        }
    }

    const Q: (u32, u32) = (16, 8);
    const E: (u32, u32) = (16, 14);

    #[test]
    fn softmax_validation_errors_name_the_node_and_the_cause() {
        let ok = json!({"axis": 1, "lo": -1024, "shift": 8});
        let with = |k: &str, v: Value| {
            let mut a = ok.clone();
            a[k] = v;
            a
        };
        assert_eq!(
            error(&[5], E, Q, with("axis", json!(2))),
            "node 'sm' (softmax): attribute 'axis' is 2, expected a dimension of 'x' (0..2)"
        );
        assert_eq!(
            error(&[5], E, Q, with("lo", json!(256))),
            "node 'sm' (softmax): attribute 'lo' = 256 must be <= 0 (x - max(x) is never positive)"
        );
        assert_eq!(
            error(&[5], E, Q, with("shift", json!(-1))),
            "node 'sm' (softmax): attribute 'shift' is -1, expected an integer in 0..32"
        );
        assert_eq!(
            error(&[5], E, Q, json!({"axis": 1, "lo": -1024})),
            "node 'sm' (softmax): attribute 'shift' is missing"
        );
        assert_eq!(
            error(&[5, 1], E, Q, ok.clone()),
            "node 'sm' (softmax): table 't' has shape [5, 1], expected [T] with T <= 4096"
        );
        // s2.30 into s1.31: e << 31 alone needs 62 bits.
        assert_eq!(
            error(&[5], (32, 30), (32, 31), ok),
            "node 'sm' (softmax): a row of 3 values of the table's format s2.30 into the output format s1.31 needs a sum of up to 33 bits and a division of 64 bits, beyond 31 and 48"
        );
    }
}
