//! Lowering of `softmax` (`ElemOp::Softmax`): per row along the axis, four passes over the row's
//! elements, one element at a time, each access naming the bank and offset that hold the element
//! (so every banking factor is correct; the rows run serially, elements one per step).
//!
//! Scratch memories of the kernel: `<y>_max` (one word, x's format), `<y>_exp` (the row's `e`, the
//! table's format) and `<y>_sum` (one word, `SUM_WIDTH` bits).
//!
//! Before (graph): `softmax(x: [1, 3], exp_table: [2049], axis 1, lo -4096, shift 1) -> y`.
//! After (loops):
//! ```text
//! kernel softmax (softmax)
//!   acc0 = -32768
//!   acc0 = max(acc0, x[0])
//!   acc0 = max(acc0, x[1])
//!   acc0 = max(acc0, x[2])
//!   y_max[0] = requant(acc0 >> 0)
//!   y_exp[0] = softmax_exp[exp_table, lo -4096, >> 1, 2049 words](x[0], y_max[0])
//!   ... (elements 1, 2)
//!   acc1 = 0
//!   acc1 += y_exp[0]
//!   ... (elements 1, 2)
//!   y_sum[0] = requant(acc1 >> 0)
//!   y[0] = divide[<< 8, 25 bits](y_exp[0], y_sum[0])
//!   ... (elements 1, 2)
//! ```

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
        let word = |mem: MemId, offset: usize| Access {
            mem,
            offset: Affine::constant(offset),
        };
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
        let (m, s) = (Acc(0), Acc(1));
        let mut body = Vec::new();
        for row in 0..rows {
            // Flat index of element j of this row.
            let base = (row / inner) * n * inner + row % inner;
            let xs = (0..n)
                .map(|j| self.element(x, base + j * inner))
                .collect::<Result<Vec<_>>>()?;
            let ys = (0..n)
                .map(|j| self.element(y, base + j * inner))
                .collect::<Result<Vec<_>>>()?;
            body.push(Stmt::InitConst {
                acc: m,
                value: fx.min_raw(),
            });
            body.extend(xs.iter().map(|a| Stmt::Reduce {
                acc: m,
                op: crate::ir::loops::ReduceOp::Max,
                args: vec![a.clone()],
            }));
            body.push(Stmt::Requant {
                dst: word(max, 0),
                acc: m,
                shift: 0,
                scale: None,
            });
            body.extend(xs.iter().enumerate().map(|(j, a)| Stmt::Map {
                dst: word(exp, j),
                op: exp_op,
                args: vec![a.clone(), word(max, 0)],
            }));
            body.push(Stmt::InitAcc { acc: s, bias: None });
            body.extend((0..n).map(|j| Stmt::Reduce {
                acc: s,
                op: crate::ir::loops::ReduceOp::Sum,
                args: vec![word(exp, j)],
            }));
            body.push(Stmt::Requant {
                dst: word(sum, 0),
                acc: s,
                shift: 0,
                scale: None,
            });
            body.extend(ys.into_iter().enumerate().map(|(j, dst)| Stmt::Map {
                dst,
                op: divide,
                args: vec![word(exp, j), word(sum, 0)],
            }));
        }
        Ok(body)
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
