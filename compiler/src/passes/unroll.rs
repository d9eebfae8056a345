//! `unroll`: splits each loop dimension so that every bank it touches is a compile-time constant,
//! and unrolls the copies.
//!
//! The split of a dimension follows from the layouts of the tensors it indexes:
//!
//! | layouts on the dimension       | split                                   | copy `c`'s index                |
//! |--------------------------------|-----------------------------------------|---------------------------------|
//! | none                           | plain loop                              | `i = outer`                     |
//! | cyclic (or complete) by `F_i`  | strip-mine by `U = lcm(F_i)`, remainder | `i = outer * U + c`             |
//! | block by `F` (size `S`)        | one copy per block, shared inner loop   | `i = c * S + outer`             |
//!
//! Sizes that do not divide evenly get an extra phase with fewer copies (cyclic: a remainder after
//! the main loop; block: a loop over the tail of the longer blocks). Cyclic and block on the same
//! dimension cannot both be constant: `agree_layouts` resolves that before this pass runs.
//!
//! Before: `for k in 0..13 { acc += x[k] * w[k] }`, `x` cyclic by 4.
//! After (`i0` the outer loop; the copies read banks 0..3, then the remainder reads bank 0):
//! ```text
//! for i0 in 0..3 { acc += x_b0[i0] * w[4*i0] ... acc += x_b3[i0] * w[4*i0 + 3] }
//! acc += x_b0[3] * w[12]
//! ```

use super::lower_graph::Lowering;
use crate::banking::Scheme;
use crate::error::Result;
use crate::ir::graph::TensorId;
use crate::ir::loops::{Affine, Stmt, Var};

/// How the loop over one dimension is split so that every bank it touches is a compile-time
/// constant: a loop over `outer`, and unrolled copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Split {
    /// No layout banks this dimension: `i = outer`.
    Plain,
    /// Strip-mined: `i = outer * U + copy`, for cyclic (and complete) banking by divisors of `U`.
    Cyclic(usize),
    /// `i = copy * size + outer`: one copy per block.
    Block { factor: usize, size: usize },
}

/// One unrolled copy's index along one dimension.
#[derive(Debug, Clone)]
pub(super) struct DimIndex {
    pub(super) outer: Affine,
    pub(super) copy: usize,
    pub(super) split: Split,
}

impl DimIndex {
    /// The index this copy stands for, as an affine expression of the loop variables.
    pub(super) fn value(&self) -> Affine {
        match self.split {
            Split::Plain => self.outer.clone(),
            Split::Cyclic(u) => self
                .outer
                .clone()
                .scale(u)
                .plus(&Affine::constant(self.copy)),
            Split::Block { size, .. } => Affine::constant(self.copy * size).plus(&self.outer),
        }
    }

    /// An index into a dimension no layout banks (its bank is always 0).
    pub(super) fn plain(value: Affine) -> DimIndex {
        DimIndex {
            outer: value,
            copy: 0,
            split: Split::Plain,
        }
    }
}

/// A loop dimension and who indexes it: `(tensor, tensor dimension)` pairs.
pub(super) struct LoopDim {
    pub(super) extent: usize,
    pub(super) uses: Vec<(TensorId, usize)>,
}

/// A use of a loop dimension: (tensor, tensor dimension).
pub(super) type Use = (TensorId, usize);

/// Builds the statements of a loop body from the active copies of each dimension.
pub(super) type Body<'a> = dyn FnMut(&mut Lowering, &[Vec<DimIndex>]) -> Result<Vec<Stmt>> + 'a;

/// One phase of a split loop: a loop (or none) and the copies active in it.
pub(super) struct Phase {
    pub(super) var: Option<Var>,
    pub(super) extent: usize,
    pub(super) copies: Vec<DimIndex>,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Lowering {
    /// A fresh loop variable, or `None` for an extent-1 loop (which is not emitted).
    pub(super) fn var(&mut self, extent: usize) -> Option<Var> {
        (extent > 1).then(|| {
            self.next_var += 1;
            Var(self.next_var - 1)
        })
    }

    /// The split of a loop dimension that keeps every use's bank static, or the first two uses
    /// that no split can satisfy together.
    pub(super) fn split(&self, dim: &LoopDim) -> std::result::Result<Split, (Use, Use)> {
        let mut split = Split::Plain;
        let mut first: Option<(TensorId, usize)> = None;
        for &(t, d) in &dim.uses {
            let Some(b) = self.layouts[t].dims.iter().find(|b| b.dim == d) else {
                continue;
            };
            let wanted = match b.scheme {
                Scheme::Cyclic | Scheme::Complete => Split::Cyclic(b.factor),
                Scheme::Block => Split::Block {
                    factor: b.factor,
                    size: dim.extent.div_ceil(b.factor),
                },
            };
            split = match (split, wanted) {
                (Split::Plain, w) => w,
                (Split::Cyclic(u), Split::Cyclic(f)) => Split::Cyclic(u / gcd(u, f) * f),
                (a, b) if a == b => a,
                _ => return Err((first.expect("a banked use came first"), (t, d))),
            };
            first.get_or_insert((t, d));
        }
        Ok(split)
    }

    /// The loop phases of one dimension.
    pub(super) fn phases(&mut self, dim: &LoopDim) -> Result<Vec<Phase>> {
        let split = self.split(dim).map_err(|(a, b)| self.incompatible(a, b))?;
        let e = dim.extent;
        let phase = |var: Option<Var>, extent: usize, base: usize, copies: Vec<usize>| Phase {
            var,
            extent,
            copies: copies
                .into_iter()
                .map(|copy| DimIndex {
                    outer: Affine::var(var).plus(&Affine::constant(base)),
                    copy,
                    split,
                })
                .collect(),
        };
        Ok(match split {
            Split::Plain => {
                let v = self.var(e);
                vec![phase(v, e, 0, vec![0])]
            }
            Split::Cyclic(u) => {
                let mut out = Vec::new();
                if e / u > 0 {
                    let v = self.var(e / u);
                    out.push(phase(v, e / u, 0, (0..u).collect()));
                }
                if !e.is_multiple_of(u) {
                    out.push(phase(None, 1, e / u, (0..e % u).collect()));
                }
                out
            }
            Split::Block { factor, size } => {
                let sizes: Vec<usize> = (0..factor).map(|c| size.min(e - c * size)).collect();
                let shortest = sizes.iter().copied().min().unwrap_or(size);
                let v = self.var(shortest);
                let mut out = vec![phase(v, shortest, 0, (0..factor).collect())];
                if shortest < size {
                    let v = self.var(size - shortest);
                    let full = (0..factor).filter(|&c| sizes[c] == size).collect();
                    out.push(phase(v, size - shortest, shortest, full));
                }
                out
            }
        })
    }

    /// Expands loop dimensions into nested phases; `body` gets the active copies per dimension.
    pub(super) fn expand(
        &mut self,
        dims: &[LoopDim],
        chosen: &mut Vec<Vec<DimIndex>>,
        body: &mut Body<'_>,
    ) -> Result<Vec<Stmt>> {
        let Some((dim, rest)) = dims.split_first() else {
            return body(self, chosen);
        };
        let mut out = Vec::new();
        for phase in self.phases(dim)? {
            chosen.push(phase.copies);
            let inner = self.expand(rest, chosen, body)?;
            chosen.pop();
            out.extend(nest(phase.var, phase.extent, inner));
        }
        Ok(out)
    }
}

/// Every combination of one copy per dimension, first dimension slowest.
pub(super) fn cartesian(copies: &[Vec<DimIndex>]) -> Vec<Vec<DimIndex>> {
    copies.iter().fold(vec![Vec::new()], |acc, dim| {
        acc.iter()
            .flat_map(|prefix| {
                dim.iter().map(move |c| {
                    let mut v = prefix.clone();
                    v.push(c.clone());
                    v
                })
            })
            .collect()
    })
}

/// `for v in 0..extent { body }`, or the body itself when the loop has extent 1.
pub(super) fn nest(var: Option<Var>, extent: usize, body: Vec<Stmt>) -> Vec<Stmt> {
    match var {
        Some(var) => vec![Stmt::For { var, extent, body }],
        None => body,
    }
}
