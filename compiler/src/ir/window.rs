//! Sliding-window ops of the tensor graph: `conv`, `maxpool` and `avgpool` (the contract is
//! `docs/ir.md`'s op table). Validation and shape rules live here; `graph` dispatches to them.
//!
//! An op over `r` spatial dims reads `x: [lead..., C, S_1..S_r]` (`lead` is the batch, or nothing
//! when unbatched) and writes `y: [lead..., O, OS_1..OS_r]` with
//! `OS_i = (S_i + 2*p_i - d_i*(K_i - 1) - 1) // s_i + 1`.

use super::graph::{NodeCtx, OpKind, TensorId, TensorInfo};
use crate::bundle::Role;
use crate::error::Result;
use crate::numerics::ACCUMULATOR_WIDTH;

/// The window of a conv or pool along its `r` spatial dimensions (one entry per dimension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub dilation: Vec<usize>,
}

impl Window {
    /// Number of spatial dimensions.
    pub fn rank(&self) -> usize {
        self.kernel.len()
    }

    /// Output extent along spatial dim `i` of an input extent `s`, or `None` when the window does
    /// not fit even once.
    pub fn out_extent(&self, i: usize, s: usize) -> Option<usize> {
        let span = self.dilation[i] * (self.kernel[i] - 1) + 1;
        let padded = s + 2 * self.padding[i];
        (padded >= span).then(|| (padded - span) / self.stride[i] + 1)
    }

    /// Elements in one window.
    pub fn size(&self) -> usize {
        self.kernel.iter().product()
    }

    pub fn padded(&self) -> bool {
        self.padding.iter().any(|&p| p > 0)
    }
}

/// The reduction of a pooling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolReduce {
    /// The largest in-bounds element (padding is minus infinity).
    Max,
    /// `round(sum * R >> 16)` with `R = (2^16 + D/2) // D` (`docs/numerics.md`).
    Avg { divisor: usize },
}

impl PoolReduce {
    /// The fixed-point reciprocal `R` of the divisor (16 fractional bits).
    pub fn reciprocal(divisor: usize) -> u64 {
        ((1u64 << RECIPROCAL_FRAC) + divisor as u64 / 2) / divisor as u64
    }
}

/// Fractional bits of the average pool's reciprocal.
pub const RECIPROCAL_FRAC: u32 = 16;

impl NodeCtx<'_> {
    /// One list of `r` non-negative ints (a single int stands for all dimensions).
    fn ints(&self, key: &str, r: usize, default: Option<usize>) -> Result<Vec<usize>> {
        let Some(v) = self.node.attrs.get(key) else {
            return default
                .map(|d| vec![d; r])
                .ok_or_else(|| self.error(format!("attribute '{key}' is missing")));
        };
        let bad = || {
            self.error(format!(
                "attribute '{key}' is {v}, expected a list of {r} non-negative integers"
            ))
        };
        let list: Vec<usize> = match v {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_u64()
                        .and_then(|i| usize::try_from(i).ok())
                        .ok_or_else(bad)
                })
                .collect::<Result<_>>()?,
            other => vec![other
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(bad)?],
        };
        match list.len() {
            1 => Ok(vec![list[0]; r]),
            n if n == r => Ok(list),
            _ => Err(bad()),
        }
    }

    /// An optional attribute that must be an integer >= 1.
    fn positive(&self, key: &str) -> Result<Option<usize>> {
        let Some(v) = self.node.attrs.get(key) else {
            return Ok(None);
        };
        v.as_u64()
            .and_then(|g| usize::try_from(g).ok())
            .filter(|&g| g >= 1)
            .map(Some)
            .ok_or_else(|| {
                self.error(format!(
                    "attribute '{key}' is {v}, expected an integer >= 1"
                ))
            })
    }

    fn window(&self, kernel: Vec<usize>, with_dilation: bool) -> Result<Window> {
        let r = kernel.len();
        let window = Window {
            stride: self.ints("stride", r, None)?,
            padding: self.ints("padding", r, Some(0))?,
            dilation: if with_dilation {
                self.ints("dilation", r, Some(1))?
            } else {
                vec![1; r]
            },
            kernel,
        };
        for (key, list) in [
            ("kernel", &window.kernel),
            ("stride", &window.stride),
            ("dilation", &window.dilation),
        ] {
            if list.contains(&0) {
                return Err(self.error(format!("attribute '{key}' is {list:?}: must be >= 1")));
            }
        }
        Ok(window)
    }

    /// `x`'s spatial extents and leading dims, checked against a window of rank `r`.
    fn spatial<'t>(
        &self,
        x: &'t TensorInfo,
        r: usize,
    ) -> Result<(&'t [usize], usize, &'t [usize])> {
        let rank = x.shape.len();
        if !(1..=2).contains(&r) {
            return Err(self.error(format!(
                "{r} spatial dimensions: only 1d and 2d windows are supported"
            )));
        }
        if rank != r + 1 && rank != r + 2 {
            return Err(self.error(format!(
                "input '{}' has shape {:?}: a {r}d window needs [N, C, ...] or [C, ...] ({} or {} dims)",
                x.name,
                x.shape,
                r + 2,
                r + 1
            )));
        }
        let c = rank - r - 1;
        Ok((&x.shape[..c], x.shape[c], &x.shape[c + 1..]))
    }

    fn out_shape(
        &self,
        lead: &[usize],
        channels: usize,
        s: &[usize],
        w: &Window,
    ) -> Result<Vec<usize>> {
        let mut shape = lead.to_vec();
        shape.push(channels);
        for (i, &e) in s.iter().enumerate() {
            shape.push(w.out_extent(i, e).ok_or_else(|| {
                self.error(format!(
                    "the window (kernel {}, dilation {}) is larger than spatial dim {i} ({e}) plus padding {}",
                    w.kernel[i], w.dilation[i], w.padding[i]
                ))
            })?);
        }
        Ok(shape)
    }

    fn expect_shape(&self, y: &TensorInfo, expected: &[usize]) -> Result<()> {
        if y.shape != expected {
            return Err(self.error(format!(
                "shape mismatch: output '{}' has shape {:?}, expected {expected:?}",
                y.name, y.shape
            )));
        }
        Ok(())
    }

    pub(super) fn conv(
        &self,
        ins: &[TensorId],
        outs: &[TensorId],
        t: &[TensorInfo],
    ) -> Result<OpKind> {
        self.arity(ins, outs, &[2, 3])?;
        let (x, weight, y) = (ins[0], ins[1], outs[0]);
        let bias = ins.get(2).copied();
        let ws = &t[weight].shape;
        if ws.len() < 3 {
            return Err(self.error(format!(
                "weight '{}' has shape {ws:?}, expected [out_channels, in_channels/groups, kernel...]",
                t[weight].name
            )));
        }
        let r = ws.len() - 2;
        let window = self.window(ws[2..].to_vec(), true)?;
        let (lead, c, s) = self.spatial(&t[x], r)?;
        let o = ws[0];
        let groups = self.positive("groups")?.unwrap_or(1);
        if !c.is_multiple_of(groups) || !o.is_multiple_of(groups) {
            return Err(self.error(format!(
                "groups = {groups} must divide the {c} input and {o} output channels"
            )));
        }
        if ws[1] != c / groups {
            return Err(self.error(format!(
                "shape mismatch: input '{}' has {c} channels, so weight '{}' {ws:?} needs {} in dim 1 (groups = {groups})",
                t[x].name,
                t[weight].name,
                c / groups
            )));
        }
        let expected = self.out_shape(lead, o, s, &window)?;
        self.expect_shape(&t[y], &expected)?;
        if let Some(b) = bias {
            if t[b].shape != [o] {
                return Err(self.error(format!(
                    "shape mismatch: bias '{}' has shape {:?}, expected [{o}]",
                    t[b].name, t[b].shape
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
        self.check_linear_numerics(x, weight, bias, y, ws[1] * window.size(), t)?;
        Ok(OpKind::Conv {
            x,
            weight,
            bias,
            y,
            window,
            groups,
        })
    }

    pub(super) fn pool(
        &self,
        max: bool,
        ins: &[TensorId],
        outs: &[TensorId],
        t: &[TensorInfo],
    ) -> Result<OpKind> {
        self.arity(ins, outs, &[1])?;
        let (x, y) = (ins[0], outs[0]);
        let r = match self.node.attrs.get("kernel") {
            Some(serde_json::Value::Array(k)) => k.len(),
            Some(_) => t[x].shape.len().saturating_sub(2).max(1),
            None => return Err(self.error("attribute 'kernel' is missing")),
        };
        let window = self.window(self.ints("kernel", r, None)?, max)?;
        if let Some(i) = (0..r).find(|&i| 2 * window.padding[i] > window.kernel[i]) {
            return Err(self.error(format!(
                "padding {} is more than half the kernel {} in spatial dim {i}",
                window.padding[i], window.kernel[i]
            )));
        }
        let (lead, c, s) = self.spatial(&t[x], r)?;
        let expected = self.out_shape(lead, c, s, &window)?;
        self.expect_shape(&t[y], &expected)?;
        let (fx, fy) = (t[x].format, t[y].format);
        let reduce = if max {
            if fx != fy {
                return Err(self.error(format!(
                    "format mismatch: '{}' is {fx} but '{}' is {fy} (max pooling keeps the format)",
                    t[x].name, t[y].name
                )));
            }
            PoolReduce::Max
        } else {
            let divisor = self.positive("divisor")?.unwrap_or(window.size());
            if fy.frac > fx.frac + RECIPROCAL_FRAC {
                return Err(self.error(format!(
                    "output format {fy} has more than {RECIPROCAL_FRAC} fractional bits beyond the input's {fx}"
                )));
            }
            // |sum * R| <= size * 2^(wx-1) * 2^16 must stay below 2^(ACC-1).
            let bound = (window.size() as i128) << (fx.width - 1 + RECIPROCAL_FRAC);
            if bound >= 1i128 << (ACCUMULATOR_WIDTH - 1) {
                return Err(self.error(format!(
                    "a window of {} {fx} values times the reciprocal could overflow the {ACCUMULATOR_WIDTH}-bit accumulator",
                    window.size()
                )));
            }
            PoolReduce::Avg { divisor }
        };
        Ok(OpKind::Pool {
            x,
            y,
            window,
            reduce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{Node, Source};
    use crate::numerics::FixedFormat;

    fn tensor(name: &str, role: Role, shape: &[usize], width: u32) -> TensorInfo {
        TensorInfo {
            name: name.into(),
            role,
            shape: shape.to_vec(),
            format: FixedFormat {
                signed: true,
                width,
                frac: 8,
            },
        }
    }

    /// Validates one node over `tensors` (numbered in order; the last is the output).
    fn check(op: &str, attrs: serde_json::Value, tensors: &[TensorInfo]) -> Result<OpKind> {
        let node = Node {
            name: "n".into(),
            op: op.into(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            attrs: serde_json::from_value(attrs).expect("an object"),
            source: Some(Source {
                module: Some("features.0".into()),
                module_type: Some("Conv2d".into()),
                location: Some("cnn.py:9".into()),
            }),
        };
        let ctx = NodeCtx::new(&node);
        let ins: Vec<TensorId> = (0..tensors.len() - 1).collect();
        let outs = [tensors.len() - 1];
        match op {
            "conv" => ctx.conv(&ins, &outs, tensors),
            _ => ctx.pool(op == "maxpool", &ins, &outs, tensors),
        }
    }

    fn conv_tensors(c: usize, o: usize, cg: usize, out: usize) -> Vec<TensorInfo> {
        vec![
            tensor("x", Role::Input, &[1, c, 5, 5], 16),
            tensor("w", Role::Weight, &[o, cg, 3, 3], 16),
            tensor("y", Role::Output, &[1, o, out, out], 16),
        ]
    }

    #[test]
    fn the_output_shape_follows_stride_padding_and_dilation() {
        let w = Window {
            kernel: vec![3],
            stride: vec![2],
            padding: vec![1],
            dilation: vec![2],
        };
        // (7 + 2 - 2*2 - 1) // 2 + 1 = 3
        assert_eq!(w.out_extent(0, 7), Some(3));
        assert_eq!(w.out_extent(0, 2), None);
        assert_eq!(PoolReduce::reciprocal(9), 7282);
        assert_eq!(PoolReduce::reciprocal(4), 16384);
    }

    #[test]
    fn a_valid_depthwise_conv_is_accepted() {
        let attrs = serde_json::json!({"stride": [1, 1], "padding": [1, 1], "groups": 4});
        let kind = check("conv", attrs, &conv_tensors(4, 4, 1, 5)).expect("valid");
        assert!(matches!(kind, OpKind::Conv { groups: 4, .. }));
    }

    #[test]
    fn bad_conv_and_pool_nodes_are_rejected_naming_the_node_and_its_module() {
        let err = |op: &str, attrs: serde_json::Value, t: &[TensorInfo]| {
            check(op, attrs, t).expect_err("invalid").to_string()
        };
        let prefix = "node 'n' (conv, from features.0 (Conv2d) at cnn.py:9): ";
        assert_eq!(
            err(
                "conv",
                serde_json::json!({"stride": [1, 1], "groups": 3}),
                &conv_tensors(4, 4, 1, 3)
            ),
            format!("{prefix}groups = 3 must divide the 4 input and 4 output channels")
        );
        assert_eq!(
            err(
                "conv",
                serde_json::json!({"stride": [1, 1]}),
                &conv_tensors(4, 2, 4, 4)
            ),
            format!(
                "{prefix}shape mismatch: output 'y' has shape [1, 2, 4, 4], expected [1, 2, 3, 3]"
            )
        );
        assert_eq!(
            err("conv", serde_json::json!({"stride": [1, 1], "dilation": [3, 3]}), &conv_tensors(4, 2, 4, 1)),
            format!("{prefix}the window (kernel 3, dilation 3) is larger than spatial dim 0 (5) plus padding 0")
        );
        assert_eq!(
            err(
                "conv",
                serde_json::json!({"stride": [0, 1]}),
                &conv_tensors(4, 2, 4, 3)
            ),
            format!("{prefix}attribute 'stride' is [0, 1]: must be >= 1")
        );
        let pool = [
            tensor("x", Role::Input, &[2, 5, 5], 16),
            tensor("y", Role::Output, &[2, 3, 3], 16),
        ];
        assert_eq!(
            err("maxpool", serde_json::json!({"kernel": [2, 2], "stride": [2, 2], "padding": [2, 2]}), &pool),
            "node 'n' (maxpool, from features.0 (Conv2d) at cnn.py:9): padding 2 is more than half the kernel 2 in spatial dim 0"
        );
        let wide = [
            tensor("x", Role::Input, &[2, 5, 5], 32),
            tensor("y", Role::Output, &[2, 1, 1], 32),
        ];
        assert_eq!(
            err("avgpool", serde_json::json!({"kernel": [5, 5], "stride": [5, 5]}), &wide),
            "node 'n' (avgpool, from features.0 (Conv2d) at cnn.py:9): a window of 25 s24.8 values times the reciprocal could overflow the 48-bit accumulator"
        );
    }
}
