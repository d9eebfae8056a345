//! `lower-graph` for sliding windows: `conv`, `maxpool` and `avgpool` become loop nests.
//!
//! Padding is a padded copy: a kernel `pad_<x>` fills a tensor with the padded spatial extents
//! (zeros for conv and avgpool, the format's minimum for maxpool, which then never wins) and
//! copies `x` into its interior, so every window access is in bounds with non-negative affine
//! offsets (`docs/ir.md`).
//!
//! Banking follows `linear`: at factor `B`, `P = min(B, O)` output channels are computed in lock
//! step (weights and bias banked on dim 0, one accumulator each) and the channel reduction steps
//! through `Q = min(B, C)` input-channel banks, all `P x Q` products of a step in one adder tree
//! (the input read is shared by the output copies). A depthwise conv (groups = C = O) and a pool
//! run `min(B, C)` channels in lock step, each copy in its own bank. Other groupings run
//! unbanked. When a tensor arrives in another layout, it is copied (`rebanked`), and an output
//! that must live in another layout is computed into a twin and copied after the op.
//!
//! `conv(x: [1, 1, 3, 3], w: [1, 1, 2, 2]) -> y: [1, 1, 2, 2]`, stride 1, at B = 1:
//! ```text
//! kernel conv (conv)
//!   for i0 in 0..2 {
//!     for i1 in 0..2 {
//!       acc0 = 0
//!       for i2 in 0..2 {
//!         for i3 in 0..2 {
//!           acc0 += x[3*i0 + i1 + 3*i2 + i3] * w[2*i2 + i3]
//!         }
//!       }
//!       y[2*i0 + i1] = requant(acc0 >> 8)
//!     }
//!   }
//! ```

use super::check_conflicts::step_conflict;
use super::lower_graph::{identifier, par, Lowering};
use super::unroll::{cartesian, DimIndex, LoopDim};
use crate::banking::{DimBanking, Layout, Scheme};
use crate::error::{Error, Result};
use crate::ir::graph::{PoolReduce, TensorId, TensorInfo, Window};
use crate::ir::loops::{Acc, Affine, Kernel, MapOp, ReduceOp, Stmt};
use crate::ir::window::RECIPROCAL_FRAC;

/// The layouts a conv computes in at banking factor `B`; `choose-layouts` gives its weight and
/// bias these, and its activations the same channel banking.
pub struct ConvLayouts {
    pub x: Layout,
    pub weight: Layout,
    pub bias: Layout,
    pub y: Layout,
}

/// `shape` cyclic by `min(factor, extent)` on each of `dims`.
pub(super) fn cyclic(name: &str, shape: &[usize], dims: &[usize], factor: usize) -> Result<Layout> {
    let banked = dims
        .iter()
        .map(|&dim| DimBanking {
            dim,
            scheme: Scheme::Cyclic,
            factor: factor.min(shape[dim]),
        })
        .collect();
    Layout::new(shape, banked).map_err(|m| Error::tensor(name, m))
}

impl ConvLayouts {
    pub fn new(
        t: &[TensorInfo],
        x: TensorId,
        weight: TensorId,
        y: TensorId,
        groups: usize,
        factor: usize,
    ) -> Result<ConvLayouts> {
        let (c, o) = (t[weight].shape[1] * groups, t[weight].shape[0]);
        let cd = channel_dim(&t[x], t[weight].shape.len() - 2);
        // Dense (groups = 1) and depthwise (one input and one output channel per group) keep
        // every bank static; other groupings would need a bank per group: unbanked.
        let f = if groups == 1 || (groups == c && groups == o) {
            factor
        } else {
            1
        };
        let name = |i: TensorId| t[i].name.as_str();
        let wdims: &[usize] = if groups == 1 { &[0, 1] } else { &[0] };
        Ok(ConvLayouts {
            x: cyclic(name(x), &t[x].shape, &[cd], f)?,
            weight: cyclic(name(weight), &t[weight].shape, wdims, f)?,
            bias: cyclic(name(weight), &[o], &[0], f)?,
            y: cyclic(name(y), &t[y].shape, &[cd], f)?,
        })
    }
}

/// The channel dimension of a tensor read by a window of `r` spatial dims.
fn channel_dim(x: &TensorInfo, r: usize) -> usize {
    x.shape.len() - r - 1
}

/// Loops over the leading dims `x` and `y` share (indexed alike in both).
fn shared_dims(extents: &[usize], x: TensorId, y: TensorId) -> Vec<LoopDim> {
    extents
        .iter()
        .enumerate()
        .map(|(d, &extent)| LoopDim {
            extent,
            uses: vec![(x, d), (y, d)],
        })
        .collect()
}

/// `sum(coefficient * index)` over the dimensions of extent > 1, keeping the bank information
/// when it is a single index (the only case where the indexed dimension may be banked).
fn combine(parts: &[(usize, &DimIndex, usize)]) -> DimIndex {
    let live: Vec<&(usize, &DimIndex, usize)> = parts.iter().filter(|p| p.2 > 1).collect();
    match live.as_slice() {
        [(1, ix, _)] => (*ix).clone(),
        _ => DimIndex::plain(live.iter().fold(Affine::constant(0), |a, (c, ix, _)| {
            a.plus(&ix.value().scale(*c))
        })),
    }
}

/// The window position `stride * out + dilation * k` of each spatial dim.
fn window_index(w: &Window, out: &[DimIndex], k: &[DimIndex]) -> Vec<DimIndex> {
    (0..w.rank())
        .map(|i| {
            DimIndex::plain(
                out[i]
                    .value()
                    .scale(w.stride[i])
                    .plus(&k[i].value().scale(w.dilation[i])),
            )
        })
        .collect()
}

impl Lowering {
    /// The op's output `y` in `layout`: `y` itself, or a twin whose copy into `y` runs right
    /// after the op.
    fn output_in(&mut self, y: TensorId, layout: Layout) -> Result<TensorId> {
        if self.layouts[y] == layout {
            return Ok(y);
        }
        let twin = self.twin(y, layout, "banked");
        let copy = self.copy_kernel(twin, y)?;
        self.after.push(copy);
        Ok(twin)
    }

    /// `x` with its spatial dims padded by `window.padding` on both sides, the border filled
    /// with `fill`: a copy made by a kernel before the op (or `x` itself without padding).
    fn padded(&mut self, x: TensorId, window: &Window, fill: i64) -> Result<TensorId> {
        if !window.padded() {
            return Ok(x);
        }
        let shape = self.tensors[x].shape.clone();
        let cd = channel_dim(&self.tensors[x], window.rank());
        let mut padded_shape = shape.clone();
        for (i, p) in window.padding.iter().enumerate() {
            padded_shape[cd + 1 + i] += 2 * p;
        }
        let layout = Layout::new(&padded_shape, self.layouts[x].dims.clone())
            .map_err(|m| Error::tensor(&self.tensors[x].name, m))?;
        let id = self.twin(x, layout, "padded");
        let saved = self.next_var;
        self.next_var = 0;
        let dims = |shape: &[usize], ts: &[TensorId]| -> Vec<LoopDim> {
            shape
                .iter()
                .enumerate()
                .map(|(d, &extent)| LoopDim {
                    extent,
                    uses: ts.iter().map(|&t| (t, d)).filter(|_| d <= cd).collect(),
                })
                .collect()
        };
        let mut fill_body = |me: &mut Self, copies: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
            let fills = cartesian(copies)
                .iter()
                .map(|c| {
                    Ok(Stmt::Map {
                        dst: me.access(id, c)?,
                        op: MapOp::Fill(fill),
                        args: Vec::new(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(vec![par(fills)])
        };
        let mut body = self.expand(&dims(&padded_shape, &[id]), &mut Vec::new(), &mut fill_body)?;
        let pads = window.padding.clone();
        let mut copy_body = |me: &mut Self, copies: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
            let moves =
                cartesian(copies)
                    .iter()
                    .map(|c| {
                        let mut at = c[..=cd].to_vec();
                        at.extend(c[cd + 1..].iter().zip(&pads).map(|(ix, &p)| {
                            DimIndex::plain(ix.value().plus(&Affine::constant(p)))
                        }));
                        Ok(Stmt::Map {
                            dst: me.access(id, &at)?,
                            op: MapOp::Copy,
                            args: vec![me.access(x, c)?],
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
            Ok(vec![par(moves)])
        };
        body.extend(self.expand(&dims(&shape, &[x, id]), &mut Vec::new(), &mut copy_body)?);
        self.next_var = saved;
        self.kernels.push(Kernel {
            name: identifier(&format!("pad_{}", self.tensors[x].name)),
            origin: format!("padding for {} (border {fill})", self.op),
            body,
        });
        Ok(id)
    }

    pub(super) fn conv(
        &mut self,
        x: TensorId,
        weight: TensorId,
        bias: Option<TensorId>,
        y: TensorId,
        window: &Window,
        groups: usize,
    ) -> Result<Vec<Stmt>> {
        let want = ConvLayouts::new(&self.tensors, x, weight, y, groups, self.factor)?;
        let x = self.rebanked(x, want.x)?;
        let weight = self.rebanked(weight, want.weight)?;
        let bias = match bias {
            Some(b) => Some(self.rebanked(b, want.bias)?),
            None => None,
        };
        let x = self.padded(x, window, 0)?;
        let y = self.output_in(y, want.y)?;
        self.next_var = 0;

        let t = &self.tensors;
        let r = window.rank();
        let cd = channel_dim(&t[y], r);
        let (og, cg) = (t[weight].shape[0] / groups, t[weight].shape[1]);
        let product_frac = t[x].format.frac + t[weight].format.frac;
        let bias = bias.map(|b| (b, product_frac - t[b].format.frac));
        let shift = product_frac - t[y].format.frac;
        let (lead, spatial) = (&t[y].shape[..cd], t[y].shape[cd + 1..].to_vec());
        let mut out_dims = shared_dims(lead, x, y);
        let mut channel_uses = vec![(y, cd), (weight, 0)];
        channel_uses.extend(bias.map(|(b, _)| (b, 0)));
        let depthwise = og == 1 && cg == 1;
        let mut group_uses = Vec::new();
        if depthwise {
            group_uses = channel_uses.clone();
            group_uses.push((x, cd));
        }
        out_dims.push(LoopDim {
            extent: groups,
            uses: group_uses,
        });
        out_dims.push(LoopDim {
            extent: og,
            uses: if groups == 1 {
                channel_uses
            } else {
                Vec::new()
            },
        });
        out_dims.extend(spatial.iter().enumerate().map(|(i, &extent)| LoopDim {
            extent,
            uses: vec![(y, cd + 1 + i)],
        }));
        let mut red_dims = vec![LoopDim {
            extent: cg,
            uses: if groups == 1 {
                vec![(x, cd), (weight, 1)]
            } else {
                Vec::new()
            },
        }];
        red_dims.extend(window.kernel.iter().map(|&extent| LoopDim {
            extent,
            uses: Vec::new(),
        }));

        let window = window.clone();
        let mut body = |me: &mut Self, copies: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
            let combos = cartesian(copies);
            // Per output combination: (y index, x index without channel and spatial, channel
            // parts) with `o = og*grp + ol`.
            let out_index = |c: &[DimIndex]| {
                let o = combine(&[(og, &c[cd], groups), (1, &c[cd + 1], og)]);
                let mut yi = c[..cd].to_vec();
                yi.push(o.clone());
                yi.extend(c[cd + 2..].iter().cloned());
                (yi, o)
            };
            let init = combos
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let bias = match bias {
                        Some((b, s)) => Some((me.access(b, &[out_index(c).1])?, s)),
                        None => None,
                    };
                    Ok(Stmt::InitAcc { acc: Acc(j), bias })
                })
                .collect::<Result<Vec<_>>>()?;
            let mut stmts = vec![par(init)];
            let mut reduce = |me: &mut Self, kc: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
                let kcombos = cartesian(kc);
                let term = |me: &Self, c: &[DimIndex], k: &[DimIndex]| {
                    let (_, o) = out_index(c);
                    let ch = combine(&[(cg, &c[cd], groups), (1, &k[0], cg)]);
                    let mut xi = c[..cd].to_vec();
                    xi.push(ch);
                    xi.extend(window_index(&window, &c[cd + 2..], &k[1..]));
                    let mut wi = vec![o, k[0].clone()];
                    wi.extend(k[1..].iter().cloned());
                    Ok((me.access(x, &xi)?, me.access(weight, &wi)?))
                };
                let macs = |me: &Self, ks: &[&Vec<DimIndex>]| -> Result<Vec<Stmt>> {
                    combos
                        .iter()
                        .enumerate()
                        .map(|(j, c)| {
                            let terms = ks.iter().map(|k| term(me, c, k)).collect::<Result<_>>()?;
                            Ok(Stmt::Mac { acc: Acc(j), terms })
                        })
                        .collect()
                };
                let all: Vec<&Vec<DimIndex>> = kcombos.iter().collect();
                let tree = macs(me, &all)?;
                if all.len() == 1 || step_conflict(&me.memories, &tree).is_none() {
                    return Ok(vec![par(tree)]);
                }
                // Reduction copies that share a bank run one after another.
                all.iter().map(|k| Ok(par(macs(me, &[k])?))).collect()
            };
            stmts.extend(me.expand(&red_dims, &mut Vec::new(), &mut reduce)?);
            let ys: Vec<Vec<DimIndex>> = combos.iter().map(|c| out_index(c).0).collect();
            stmts.push(me.requants(y, &ys, shift, None)?);
            Ok(stmts)
        };
        self.expand(&out_dims, &mut Vec::new(), &mut body)
    }

    pub(super) fn pool(
        &mut self,
        x: TensorId,
        y: TensorId,
        window: &Window,
        reduce: PoolReduce,
    ) -> Result<Vec<Stmt>> {
        let r = window.rank();
        let cd = channel_dim(&self.tensors[x], r);
        let f = self.factor;
        let wx = cyclic(&self.tensors[x].name, &self.tensors[x].shape, &[cd], f)?;
        let wy = cyclic(&self.tensors[y].name, &self.tensors[y].shape, &[cd], f)?;
        let (fx, fy) = (self.tensors[x].format, self.tensors[y].format);
        let (op, init, shift, scale) = match reduce {
            PoolReduce::Max => (ReduceOp::Max, Some(fx.min_raw()), 0, None),
            PoolReduce::Avg { divisor } => (
                ReduceOp::Sum,
                None,
                RECIPROCAL_FRAC + fx.frac - fy.frac,
                Some(PoolReduce::reciprocal(divisor)),
            ),
        };
        let x = self.rebanked(x, wx)?;
        let x = self.padded(x, window, init.unwrap_or(0))?;
        let y = self.output_in(y, wy)?;
        self.next_var = 0;
        let shape = self.tensors[y].shape.clone();
        let mut out_dims = shared_dims(&shape[..=cd], x, y);
        out_dims.extend(
            shape[cd + 1..]
                .iter()
                .enumerate()
                .map(|(i, &extent)| LoopDim {
                    extent,
                    uses: vec![(y, cd + 1 + i)],
                }),
        );
        let red_dims: Vec<LoopDim> = window
            .kernel
            .iter()
            .map(|&extent| LoopDim {
                extent,
                uses: Vec::new(),
            })
            .collect();
        let window = window.clone();
        let mut body = |me: &mut Self, copies: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
            let combos = cartesian(copies);
            let inits = (0..combos.len())
                .map(|j| match init {
                    Some(value) => Stmt::InitConst { acc: Acc(j), value },
                    None => Stmt::InitAcc {
                        acc: Acc(j),
                        bias: None,
                    },
                })
                .collect();
            let mut stmts = vec![par(inits)];
            let mut step = |me: &mut Self, kc: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
                let k: Vec<DimIndex> = kc.iter().map(|c| c[0].clone()).collect();
                let reads = combos
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let mut xi = c[..=cd].to_vec();
                        xi.extend(window_index(&window, &c[cd + 1..], &k));
                        Ok(Stmt::Reduce {
                            acc: Acc(j),
                            op,
                            args: vec![me.access(x, &xi)?],
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(vec![par(reads)])
            };
            stmts.extend(me.expand(&red_dims, &mut Vec::new(), &mut step)?);
            stmts.push(me.requants(y, &combos, shift, scale)?);
            Ok(stmts)
        };
        self.expand(&out_dims, &mut Vec::new(), &mut body)
    }
}

#[cfg(test)]
mod tests {
    use super::super::lower_graph::lower_graph;
    use crate::bundle::Role;
    use crate::ir::graph::{Graph, Op, OpKind, PoolReduce, TensorInfo, Window};
    use crate::numerics::FixedFormat;

    fn tensor(name: &str, role: Role, shape: &[usize]) -> TensorInfo {
        TensorInfo {
            name: name.into(),
            role,
            shape: shape.to_vec(),
            format: FixedFormat::Q8_8,
        }
    }

    fn window(k: usize, stride: usize, padding: usize) -> Window {
        Window {
            kernel: vec![k, k],
            stride: vec![stride; 2],
            padding: vec![padding; 2],
            dilation: vec![1; 2],
        }
    }

    fn graph(tensors: Vec<TensorInfo>, kind: OpKind) -> Graph {
        Graph {
            name: "t".into(),
            inputs: vec![0],
            outputs: vec![tensors.len() - 1],
            tensors,
            ops: vec![Op {
                name: kind.name().into(),
                origin: String::new(),
                kind,
            }],
        }
    }

    fn conv_graph(c: usize, o: usize, s: usize, k: usize, padding: usize) -> Graph {
        let out = s + 2 * padding - k + 1;
        graph(
            vec![
                tensor("x", Role::Input, &[1, c, s, s]),
                tensor("w", Role::Weight, &[o, c, k, k]),
                tensor("y", Role::Output, &[1, o, out, out]),
            ],
            OpKind::Conv {
                x: 0,
                weight: 1,
                bias: None,
                y: 2,
                window: window(k, 1, padding),
                groups: 1,
            },
        )
    }

    fn kernels(g: &Graph, factor: usize) -> String {
        let text = lower_graph(g, factor, None).expect("lowers").to_string();
        text[text.find("kernel").expect("a kernel")..].to_string()
    }

    #[test]
    fn a_conv_at_banking_1_is_a_window_of_affine_reads() {
        assert_eq!(
            kernels(&conv_graph(1, 1, 3, 2, 0), 1),
            "kernel conv (conv)
  for i0 in 0..2 {
    for i1 in 0..2 {
      acc0 = 0
      for i2 in 0..2 {
        for i3 in 0..2 {
          acc0 += x[3*i0 + i1 + 3*i2 + i3] * w[2*i2 + i3]
        }
      }
      y[2*i0 + i1] = requant(acc0 >> 8)
    }
  }
"
        );
    }

    #[test]
    fn banking_2_computes_two_output_channels_from_two_input_banks_per_step() {
        let text = kernels(&conv_graph(2, 2, 2, 1, 0), 2);
        assert!(
            text.contains(
                "acc0 += x_b0[2*i0 + i1] * w_b0[0] + x_b1[2*i0 + i1] * w_b1[0]
        acc1 += x_b0[2*i0 + i1] * w_b2[0] + x_b1[2*i0 + i1] * w_b3[0]"
            ),
            "{text}"
        );
    }

    #[test]
    fn padding_is_a_padded_copy_filled_before_the_interior_is_copied() {
        let text = kernels(&conv_graph(1, 1, 2, 3, 1), 1);
        assert!(
            text.starts_with(
                "kernel pad_x (padding for conv (border 0))
  for i0 in 0..4 {
    for i1 in 0..4 {
      x_padded[4*i0 + i1] = 0
    }
  }
  for i2 in 0..2 {
    for i3 in 0..2 {
      x_padded[4*i2 + i3 + 5] = copy(x[2*i2 + i3])
    }
  }
kernel conv (conv)"
            ),
            "{text}"
        );
    }

    #[test]
    fn maxpool_reduces_with_max_from_the_format_minimum_and_avgpool_scales_by_the_reciprocal() {
        let pool = |reduce| {
            graph(
                vec![
                    tensor("x", Role::Input, &[1, 4, 4]),
                    tensor("y", Role::Output, &[1, 2, 2]),
                ],
                OpKind::Pool {
                    x: 0,
                    y: 1,
                    window: window(2, 2, 0),
                    reduce,
                },
            )
        };
        let max = kernels(&pool(PoolReduce::Max), 1);
        assert!(max.contains("acc0 = -32768\n"), "{max}");
        assert!(
            max.contains("acc0 = max(acc0, x[8*i0 + 2*i1 + 4*i2 + i3])"),
            "{max}"
        );
        assert!(max.contains("y[2*i0 + i1] = requant(acc0 >> 0)"), "{max}");
        let avg = kernels(&pool(PoolReduce::Avg { divisor: 4 }), 1);
        assert!(avg.contains("acc0 += x[8*i0 + 2*i1 + 4*i2 + i3]"), "{avg}");
        assert!(
            avg.contains("y[2*i0 + i1] = requant(acc0 * 16384 >> 16)"),
            "{avg}"
        );
    }
}
