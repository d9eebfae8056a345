//! `rewrite-accesses`: turns an element index into `(bank, offset)` under the tensor's layout, with
//! the bank a compile-time constant and the offset an affine expression of the loop variables.
//! Each unrolled copy is then wired straight to its bank: no run-time bank multiplexer.
//!
//! Before: `x[k]` with `x: [13]` cyclic by 4 and `k = 4*i0 + 3` (copy 3 of the strip-mined loop).
//! After: `x_b3[i0]` (bank `3 mod 4`, offset `(4*i0 + 3) div 4`).

use super::lower_graph::Lowering;
use super::unroll::{DimIndex, Split};
use crate::banking::Scheme;
use crate::error::{Error, Result};
use crate::ir::graph::TensorId;
use crate::ir::loops::{Access, Affine};

impl Lowering {
    /// The element of `t` at per-dimension indices, as (bank, offset): both follow from the
    /// layout, the bank as a constant.
    pub(super) fn access(&self, t: TensorId, index: &[DimIndex]) -> Result<Access> {
        let layout = &self.layouts[t];
        let mut bank = 0;
        let mut local = Vec::with_capacity(index.len());
        for (d, ix) in index.iter().enumerate() {
            let banking = layout.dims.iter().find(|b| b.dim == d);
            let (b, l) = match (banking, ix.split) {
                (None, _) => (None, ix.value()),
                (Some(b), Split::Cyclic(u)) if b.scheme != Scheme::Block && u % b.factor == 0 => (
                    Some((ix.copy % b.factor, b.factor)),
                    ix.outer.clone().scale(u / b.factor).plus(&Affine::constant(ix.copy / b.factor)),
                ),
                (Some(b), Split::Block { factor, .. }) if b.scheme == Scheme::Block && factor == b.factor => {
                    (Some((ix.copy, b.factor)), ix.outer.clone())
                }
                _ => {
                    return Err(Error::Unsupported(format!(
                        "node '{}': the bank of '{}' along dimension {d} is not a compile-time constant under this schedule",
                        self.op, self.tensors[t].name
                    )))
                }
            };
            local.push((b, l));
        }
        // Banks combine mixed-radix in the order the layout lists its dimensions.
        for bd in &layout.dims {
            let part = local[bd.dim].0.map_or(0, |(b, _)| b);
            bank = bank * bd.factor + part;
        }
        let shape = layout.bank_shape(bank);
        let mut offset = Affine::constant(0);
        let mut stride = 1;
        for d in (0..shape.len()).rev() {
            offset = offset.plus(&local[d].1.clone().scale(stride));
            stride *= shape[d];
        }
        Ok(Access {
            mem: self.memory_of[t][bank],
            offset,
        })
    }
}
