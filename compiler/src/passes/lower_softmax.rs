//! Lowering of `softmax` (`ElemOp::Softmax`): per row along the axis, four passes over the row's
//! elements, one element at a time. When x and y are one memory each holding the rows in order
//! along the last dim (banking 1), the rows and passes are loops; otherwise every access names
//! the bank and offset that hold its element (straight-line code, correct at every banking).
//!
//! Scratch memories of the kernel: `<y>_max` (one word, x's format), `<y>_exp` (the row's `e`, the
//! table's format) and `<y>_sum` (one word, `SUM_WIDTH` bits).
//!
//! Before (graph): `softmax(x: [1, 3], exp_table: [2049], axis 1, lo -4096, shift 1) -> y`.
//! After (loops), banking 1:
//! ```text
//! kernel softmax (softmax)
//!   acc0 = -32768
//!   for i0 in 0..3 {
//!     acc0 = max(acc0, x[i0])
//!   }
//!   y_max[0] = requant(acc0 >> 0)
//!   for i1 in 0..3 {
//!     y_exp[i1] = softmax_exp[exp_table, lo -4096, >> 1, 2049 words](x[i1], y_max[0])
//!   }
//!   acc1 = 0
//!   for i2 in 0..3 {
//!     acc1 += y_exp[i2]
//!   }
//!   y_sum[0] = requant(acc1 >> 0)
//!   for i3 in 0..3 {
//!     y[i3] = divide[<< 8, 25 bits](y_exp[i3], y_sum[0])
//!   }
//! ```
//! With banking 2 the same statements are written out per element: `x_b0[0]`, `x_b1[0]`,
//! `x_b0[1]`, ...

use super::lower_graph::{identifier, unique, Lowering};
use crate::bundle::Role;
use crate::error::{Error, Result};
use crate::ir::elementwise::{division_width, SUM_WIDTH};
use crate::ir::graph::TensorId;
use crate::ir::loops::{Acc, Access, Affine, MapOp, MemId, Memory, Stmt};
use crate::numerics::FixedFormat;

impl Lowering {
    pub(super) fn softmax(
        &mut self,
        x: TensorId,
        table: TensorId,
        y: TensorId,
        axis: usize,
        lo: i64,
        shift: u32,
    ) -> Result<Vec<Stmt>> {
        let [table_mem] = self.memory_of[table][..] else {
            return Err(Error::Unsupported(format!(
                "node '{}': the exp table '{}' is banked; a table is read at an address computed from the data, so it must be one memory",
                self.op, self.tensors[table].name
            )));
        };
        let shape = self.tensors[x].shape.clone();
        let n = shape[axis];
        let inner: usize = shape[axis + 1..].iter().product();
        let rows = shape.iter().product::<usize>() / n;
        let (fx, fe, fy) = (
            self.tensors[x].format,
            self.tensors[table].format,
            self.tensors[y].format,
        );
        let name = identifier(&self.tensors[y].name);
        let max = self.scratch(&format!("{name}_max"), 1, fx);
        let exp = self.scratch(&format!("{name}_exp"), n, fe);
        let sum = self.scratch(
            &format!("{name}_sum"),
            1,
            FixedFormat {
                signed: true,
                width: SUM_WIDTH,
                frac: fe.frac,
            },
        );
        let word = |mem: MemId, offset: Affine| Access { mem, offset };
        let exp_op = MapOp::SoftmaxExp {
            table: table_mem,
            lo,
            shift,
            len: self.tensors[table].len(),
        };
        let divide = MapOp::Divide {
            frac: fy.frac,
            width: division_width(fe.width, fy.frac, n),
        };
        // Unbanked rows along the last dim, stored in order, run as loops; any other layout
        // names each element's word (straight-line code).
        let plain = |t: TensorId| match self.memory_of[t][..] {
            [mem] => self.memories[mem]
                .elements
                .iter()
                .enumerate()
                .all(|(i, &e)| i == e),
            _ => false,
        };
        let rolled = inner == 1 && plain(x) && plain(y);
        let (m, s) = (Acc(0), Acc(1));
        let row_var = if rolled { self.var(rows) } else { None };
        let mut body = Vec::new();
        for row in 0..if rolled { 1 } else { rows } {
            let base = (row / inner) * n * inner + row % inner;
            // Element j (a constant, or a loop variable when rolled) of this row of tensor t.
            let at = |me: &Self, t: TensorId, j: &Affine| -> Result<Access> {
                if rolled {
                    Ok(Access {
                        mem: me.memory_of[t][0],
                        offset: Affine::var(row_var).scale(n).plus(j),
                    })
                } else {
                    me.element(t, base + j.constant * inner)
                }
            };
            body.push(Stmt::InitConst {
                acc: m,
                value: fx.min_raw(),
            });
            body.extend(self.each(n, rolled, |me, j| {
                Ok(Stmt::Reduce {
                    acc: m,
                    op: crate::ir::loops::ReduceOp::Max,
                    args: vec![at(me, x, j)?],
                })
            })?);
            body.push(Stmt::Requant {
                dst: word(max, Affine::constant(0)),
                acc: m,
                shift: 0,
                scale: None,
            });
            body.extend(self.each(n, rolled, |me, j| {
                Ok(Stmt::Map {
                    dst: word(exp, j.clone()),
                    op: exp_op,
                    args: vec![at(me, x, j)?, word(max, Affine::constant(0))],
                })
            })?);
            body.push(Stmt::InitAcc { acc: s, bias: None });
            body.extend(self.each(n, rolled, |_, j| {
                Ok(Stmt::Reduce {
                    acc: s,
                    op: crate::ir::loops::ReduceOp::Sum,
                    args: vec![word(exp, j.clone())],
                })
            })?);
            body.push(Stmt::Requant {
                dst: word(sum, Affine::constant(0)),
                acc: s,
                shift: 0,
                scale: None,
            });
            body.extend(self.each(n, rolled, |me, j| {
                Ok(Stmt::Map {
                    dst: at(me, y, j)?,
                    op: divide,
                    args: vec![word(exp, j.clone()), word(sum, Affine::constant(0))],
                })
            })?);
        }
        Ok(match (rolled, row_var) {
            (true, Some(var)) => vec![Stmt::For {
                var,
                extent: rows,
                body,
            }],
            _ => body,
        })
    }

    /// `stmt(j)` for j in 0..n: one loop (a fresh variable) when `rolled`, else n statements.
    fn each(
        &mut self,
        n: usize,
        rolled: bool,
        stmt: impl Fn(&Self, &Affine) -> Result<Stmt>,
    ) -> Result<Vec<Stmt>> {
        if !rolled {
            return (0..n).map(|j| stmt(self, &Affine::constant(j))).collect();
        }
        let var = self.var(n);
        let inner = stmt(self, &Affine::var(var))?;
        Ok(match var {
            Some(var) => vec![Stmt::For {
                var,
                extent: n,
                body: vec![inner],
            }],
            None => vec![inner],
        })
    }

    /// The word of tensor `t` that holds its row-major element `flat`.
    fn element(&self, t: TensorId, flat: usize) -> Result<Access> {
        self.memory_of[t]
            .iter()
            .find_map(|&mem| {
                let offset = self.memories[mem]
                    .elements
                    .iter()
                    .position(|&e| e == flat)?;
                Some(Access {
                    mem,
                    offset: Affine::constant(offset),
                })
            })
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "node '{}': element {flat} of '{}' is in none of its memories",
                    self.op, self.tensors[t].name
                ))
            })
    }

    /// A kernel-private memory of `len` words.
    fn scratch(&mut self, name: &str, len: usize, format: FixedFormat) -> MemId {
        let used: Vec<String> = self.memories.iter().map(|m| m.name.clone()).collect();
        self.memories.push(Memory {
            name: unique(name.to_string(), &used),
            tensors: Vec::new(),
            role: Role::Activation,
            shape: vec![len],
            bank: 0,
            banks: 1,
            elements: (0..len).collect(),
            len,
            format,
        });
        self.memories.len() - 1
    }
}
