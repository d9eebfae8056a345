//! `agree-layouts`: makes every loop's uses agree on one split. Where two tensors indexed by the same
//! loop are banked incompatibly (cyclic against block, or blocks of different factors) and one of
//! them is an input of the op, the input is copied into a re-banked twin by a copy kernel placed
//! before the op (constant banks on both sides, packed into parallel steps), and a note says so.
//! Otherwise the configuration is rejected, naming both tensors.
//!
//! Before: `linear(x, w)` with `x` cyclic by 2 on its last dim and `w` block by 2 on dim 1.
//! After:
//! ```text
//! kernel rebank_x (re-banking copy for linear)
//!   x_rebanked_b0[0] = copy(x_b0[0])
//!   par {
//!     x_rebanked_b0[1] = copy(x_b1[0])
//!     x_rebanked_b1[0] = copy(x_b0[1])
//!   }
//!   ...
//! kernel linear  (reads x_rebanked, block by 2, like w)
//! ```

use super::check_conflicts::step_conflict;
use super::lower_graph::{identifier, par, Lowering};
use super::unroll::{LoopDim, Use};
use crate::banking::{row_major_indices, DimBanking, Layout};
use crate::error::{Error, Result};
use crate::ir::graph::TensorId;
use crate::ir::loops::{Access, Affine, Kernel, MapOp, Stmt};

/// The largest tensor a re-banking copy may move: the copy is unrolled element by element (about
/// 1 kB of IR each), so this bounds the compiler's memory and time.
pub const MAX_REBANK_ELEMENTS: usize = 1 << 16;

impl Lowering {
    /// Makes every loop dimension's uses agree on a split, copying an input of the op into a
    /// re-banked twin where two uses disagree. Returns the op's inputs after re-banking.
    pub(super) fn agree(
        &mut self,
        dims: &mut [LoopDim],
        inputs: &[TensorId],
    ) -> Result<Vec<TensorId>> {
        let mut inputs = inputs.to_vec();
        // Each round removes one disagreement; a dimension can disagree at most once per use.
        for _ in 0..=dims.iter().map(|d| d.uses.len()).sum::<usize>() {
            let Some(conflict) = dims.iter().find_map(|d| self.split(d).err()) else {
                return Ok(inputs);
            };
            let (keep, copy) = match conflict {
                (a, b) if inputs.contains(&b.0) => (a, b),
                (a, b) if inputs.contains(&a.0) => (b, a),
                (a, b) => return Err(self.incompatible(a, b)),
            };
            let twin = self.rebank(copy, keep)?;
            for d in dims.iter_mut() {
                for u in d.uses.iter_mut().filter(|u| u.0 == copy.0) {
                    u.0 = twin;
                }
            }
            for i in inputs.iter_mut().filter(|i| **i == copy.0) {
                *i = twin;
            }
        }
        Err(Error::Unsupported(format!(
            "node '{}': banking did not converge",
            self.op
        )))
    }

    pub(super) fn incompatible(&self, (t0, d0): Use, (t1, d1): Use) -> Error {
        Error::Unsupported(format!(
            "node '{}': '{}' (dimension {d0}) and '{}' (dimension {d1}) are indexed by the same loop but banked incompatibly ({}), and neither is an input the compiler can re-bank with a copy",
            self.op,
            self.tensors[t0].name,
            self.tensors[t1].name,
            describe(&self.layouts[t0], d0, &self.layouts[t1], d1),
        ))
    }

    /// A copy of tensor `copy.0` banked like `like` along dimension `copy.1`, filled by a copy
    /// kernel placed before the current op. Every element's source and destination bank is a
    /// constant; copies of different banks run in the same step.
    pub(super) fn rebank(
        &mut self,
        (t, d): (TensorId, usize),
        (like_t, like_d): (TensorId, usize),
    ) -> Result<TensorId> {
        let like = *self.layouts[like_t]
            .dims
            .iter()
            .find(|b| b.dim == like_d)
            .expect("a conflict involves two banked uses");
        let from = &self.layouts[t];
        let mut dims: Vec<DimBanking> = from.dims.iter().filter(|b| b.dim != d).copied().collect();
        dims.push(DimBanking { dim: d, ..like });
        let layout =
            Layout::new(&from.shape, dims).map_err(|m| Error::tensor(&self.tensors[t].name, m))?;
        self.rebanked(t, layout)
    }

    /// `t` in `layout`: `t` itself when it already has it, otherwise a twin with that layout,
    /// filled by a copy kernel placed before the current op.
    pub(super) fn rebanked(&mut self, t: TensorId, layout: Layout) -> Result<TensorId> {
        if self.layouts[t] == layout {
            return Ok(t);
        }
        let id = self.twin(t, layout, "rebanked");
        let kernel = self.copy_kernel(t, id)?;
        self.kernels.push(kernel);
        Ok(id)
    }

    /// A new activation tensor shaped and typed like `t`, in `layout`, with its memories.
    pub(super) fn twin(&mut self, t: TensorId, layout: Layout, suffix: &str) -> TensorId {
        let id = self.tensors.len();
        let mut info = self.tensors[t].clone();
        info.name = format!("{}_{suffix}", info.name);
        info.shape = layout.shape.clone();
        info.role = crate::bundle::Role::Activation;
        self.tensors.push(info);
        self.layouts.push(layout);
        self.memory_of.push(Vec::new());
        self.allocate(id, &[id]);
        id
    }

    /// A kernel copying `src` into `dst` element by element in row-major order (a reshape when
    /// the shapes differ), packed into parallel steps. Every source and destination bank is a
    /// constant, so any two layouts work; a note says what was copied.
    pub(super) fn copy_kernel(&mut self, src: TensorId, dst: TensorId) -> Result<Kernel> {
        let elements = self.tensors[src].len();
        if elements > MAX_REBANK_ELEMENTS {
            return Err(Error::Unsupported(format!(
                "node '{}': '{}' ({elements} elements) would need a re-banking copy, which is fully unrolled, and copies are limited to {MAX_REBANK_ELEMENTS} elements; bank it like the tensor it meets instead",
                self.op, self.tensors[src].name
            )));
        }
        let mut steps: Vec<Stmt> = Vec::new();
        let mut step: Vec<Stmt> = Vec::new();
        let (src_layout, dst_layout) = (&self.layouts[src], &self.layouts[dst]);
        let pairs = row_major_indices(&src_layout.shape).zip(row_major_indices(&dst_layout.shape));
        for (from, to) in pairs {
            let at = |layout: &Layout, tensor: TensorId, index: &[usize]| {
                let (bank, offset) = layout.locate(index);
                Access {
                    mem: self.memory_of[tensor][bank],
                    offset: Affine::constant(offset),
                }
            };
            let copy = Stmt::Map {
                dst: at(dst_layout, dst, &to),
                op: MapOp::Copy,
                args: vec![at(src_layout, src, &from)],
            };
            step.push(copy);
            if step_conflict(&self.memories, &step).is_some() {
                let last = step.pop().expect("just pushed");
                steps.push(par(std::mem::take(&mut step)));
                step.push(last);
            }
        }
        if !step.is_empty() {
            steps.push(par(step));
        }
        let source = &self.tensors[src].name;
        self.notes.push(format!(
            "node '{}': re-banked '{source}' ({}) into '{}' ({}) with a copy kernel of {} steps, so that every access has a constant bank",
            self.op,
            describe_layout(&self.layouts[src]),
            self.tensors[dst].name,
            describe_layout(&self.layouts[dst]),
            steps.len()
        ));
        Ok(Kernel {
            name: identifier(&format!("rebank_{source}")),
            origin: format!("re-banking copy for {}", self.op),
            body: steps,
        })
    }
}

/// "x: dim 2 cyclic by 2", for notes.
fn describe_layout(l: &Layout) -> String {
    if l.dims.is_empty() {
        return "unbanked".into();
    }
    let dims: Vec<String> = l
        .dims
        .iter()
        .map(|b| format!("dim {} {:?} by {}", b.dim, b.scheme, b.factor).to_lowercase())
        .collect();
    dims.join(", ")
}

/// "cyclic by 4 vs block by 2", for error messages.
fn describe(a: &Layout, da: usize, b: &Layout, db: usize) -> String {
    let one = |l: &Layout, d: usize| {
        l.dims
            .iter()
            .find(|x| x.dim == d)
            .map_or("unbanked".to_string(), |x| {
                format!("{:?} by {}", x.scheme, x.factor).to_lowercase()
            })
    };
    format!("{} vs {}", one(a, da), one(b, db))
}
