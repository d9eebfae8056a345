//! Lowering of the elementwise ops with parameters (`ir::elementwise`): one `Map` statement per
//! element, banked like `relu`/`add` (the copies of a step run in lock step, one per bank).
//!
//! - Per-channel parameters (`scale_shift`'s scale and shift, `prelu`'s slope) are indexed by the
//!   loop over x's channel dimension, so they are banked like x along that dimension
//!   ([`parameter_layouts`]): each copy reads its channel's bank, a compile-time constant. When the
//!   channel is not a banked dimension, the copies of a step share one read of one element.
//! - Constants (clamp bounds, thresholds, the table's range) are parameters of the primitives.
//! - A `lut` table is read at an address computed from x, so two copies of one step cannot share
//!   its port: copy `j` reads its own replica of the table (`<table>_c<j>`, one ROM each; tables
//!   are at most 4096 words). Replicas keep the op at one element per bank per step, like `relu`;
//!   running the copies one after another would instead cost the factor in cycles.
//!
//! Before (graph): `prelu(x: [1, 4], slope: [4], axis 1) -> y`, all s8.8, B = 2.
//! After (loops):
//! ```text
//! kernel act (prelu)
//!   for i0 in 0..2 {
//!     par {
//!       y_b0[i0] = prelu[>> 8](x_b0[i0], slope_b0[i0])
//!       y_b1[i0] = prelu[>> 8](x_b1[i0], slope_b1[i0])
//!     }
//!   }
//! ```

use super::lower_graph::{par, Lowering};
use super::unroll::{cartesian, DimIndex, LoopDim, Split};
use crate::banking::{DimBanking, Layout};
use crate::error::{Error, Result};
use crate::ir::elementwise::{ElemOp, Elementwise};
use crate::ir::graph::{Graph, OpKind, TensorId};
use crate::ir::loops::{Affine, MapOp, MemId, Memory, Stmt};

/// Banks the parameters of elementwise ops: per-channel ones like x along the channel
/// dimension, tables not at all (each lock-step copy gets its own replica). Only tensors for which
/// `free` holds are changed (not those the user's banking config names, nor linear weights).
pub(super) fn parameter_layouts(
    graph: &Graph,
    layouts: &mut [Layout],
    free: impl Fn(TensorId) -> bool,
) -> Result<()> {
    for op in &graph.ops {
        let OpKind::Elementwise(e) = op.kind else {
            continue;
        };
        for p in e.op.per_channel().into_iter().filter(|&p| free(p)) {
            let shape = &graph.tensors[p].shape;
            let dims: Vec<DimBanking> = e
                .axis
                .and_then(|a| layouts[e.x].dims.iter().find(|b| b.dim == a))
                .map(|b| DimBanking { dim: 0, ..*b })
                .into_iter()
                .collect();
            layouts[p] =
                Layout::new(shape, dims).map_err(|m| Error::tensor(&graph.tensors[p].name, m))?;
        }
        if let Some(t) = e.op.table().filter(|&t| free(t)) {
            layouts[t] = Layout::unbanked(&graph.tensors[t].shape);
        }
    }
    Ok(())
}

impl Lowering {
    pub(super) fn elementwise(&mut self, e: Elementwise) -> Result<Vec<Stmt>> {
        let (x, y) = (e.x, e.y);
        let t = &self.tensors;
        match e.op {
            ElemOp::Clamp { min, max } => {
                self.map_with(y, &[x], &[], None, |_, _| Ok(MapOp::Clamp { min, max }))
            }
            ElemOp::Threshold { threshold, value } => self.map_with(y, &[x], &[], None, |_, _| {
                Ok(MapOp::Threshold { threshold, value })
            }),
            ElemOp::ScaleShift { scale, shift } => {
                let product = t[x].format.frac + t[scale].format.frac;
                let op = MapOp::ScaleShift {
                    align: product - t[shift].format.frac,
                    right: product - t[y].format.frac,
                };
                self.map_with(y, &[x], &[scale, shift], e.axis, |_, _| Ok(op))
            }
            ElemOp::Prelu { slope } => {
                let op = MapOp::Prelu {
                    right: t[slope].format.frac,
                };
                self.map_with(y, &[x], &[slope], e.axis, |_, _| Ok(op))
            }
            ElemOp::Softmax { table, lo, shift } => {
                let axis = e.axis.expect("softmax has an axis (validated)");
                self.softmax(x, table, y, axis, lo, shift)
            }
            ElemOp::Lut {
                table,
                lo,
                shift,
                identity,
            } => {
                let [original] = self.memory_of[table][..] else {
                    return Err(Error::Unsupported(format!(
                        "node '{}': the lookup table '{}' is banked; a table is read at an address computed from the data, so it must be one memory (each lock-step copy gets its own replica)",
                        self.op, self.tensors[table].name
                    )));
                };
                let len = self.tensors[table].len();
                let mut replicas = vec![original];
                self.map_with(y, &[x], &[], None, |me, j| {
                    while replicas.len() <= j {
                        replicas.push(me.replicate(original, replicas.len()));
                    }
                    Ok(MapOp::Lut {
                        table: replicas[j],
                        lo,
                        shift,
                        len,
                        identity,
                    })
                })
            }
        }
    }

    /// Another ROM with the words of `memory`, for lock-step copy `copy`.
    fn replicate(&mut self, memory: MemId, copy: usize) -> MemId {
        let m = &self.memories[memory];
        let name = format!("{}_c{copy}", m.name);
        if copy == 1 {
            self.notes.push(format!(
                "node '{}': the lookup table '{}' is replicated, one ROM per lock-step copy, because each copy reads it at an address computed from its own element",
                self.op,
                m.tensors.join("/")
            ));
        }
        let replica = Memory {
            name: super::lower_graph::unique(
                name,
                &self
                    .memories
                    .iter()
                    .map(|m| m.name.clone())
                    .collect::<Vec<_>>(),
            ),
            ..m.clone()
        };
        self.memories.push(replica);
        self.memories.len() - 1
    }

    /// One `Map` per element of `y`: `y[i] = op(full[..][i], channel[..][c])`, where `c` is i's
    /// index along `axis` (element 0 of every `channel` tensor when `axis` is `None`). The copies
    /// of a step run in lock step; `op` gets the copy's position in the step.
    pub(super) fn map_with(
        &mut self,
        y: TensorId,
        full: &[TensorId],
        channel: &[TensorId],
        axis: Option<usize>,
        mut op: impl FnMut(&mut Self, usize) -> Result<MapOp>,
    ) -> Result<Vec<Stmt>> {
        let shape = self.tensors[y].shape.clone();
        let mut dims: Vec<LoopDim> = shape
            .iter()
            .enumerate()
            .map(|(d, &extent)| {
                let mut uses: Vec<(TensorId, usize)> = std::iter::once(y)
                    .chain(full.iter().copied())
                    .map(|t| (t, d))
                    .collect();
                if axis == Some(d) {
                    uses.extend(channel.iter().map(|&p| (p, 0)));
                }
                LoopDim { extent, uses }
            })
            .collect();
        let inputs: Vec<TensorId> = full.iter().chain(channel).copied().collect();
        let inputs = self.agree(&mut dims, &inputs)?;
        let (full, channel) = inputs.split_at(full.len());
        let mut body = |me: &mut Self, copies: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
            let maps = cartesian(copies)
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let at = match axis {
                        Some(a) => c[a].clone(),
                        None => DimIndex {
                            outer: Affine::constant(0),
                            copy: 0,
                            split: Split::Plain,
                        },
                    };
                    let mut args = full
                        .iter()
                        .map(|&a| me.access(a, c))
                        .collect::<Result<Vec<_>>>()?;
                    for &p in channel {
                        args.push(me.access(p, std::slice::from_ref(&at))?);
                    }
                    Ok(Stmt::Map {
                        dst: me.access(y, c)?,
                        op: op(me, j)?,
                        args,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(vec![par(maps)])
        };
        self.expand(&dims, &mut Vec::new(), &mut body)
    }
}
