//! `lower-graph`: tensor graph -> banked loop nests over memories.
//!
//! Given a banking factor `B`, every tensor gets a [`Layout`] (see `choose_layouts`) and one memory
//! per bank; each op becomes a kernel whose loops are strip-mined by the banking factor and whose
//! inner copies are unrolled, so that every access names its bank at compile time (no run-time
//! bank multiplexer). A `linear` computes `P = min(B, N)` outputs at once (one accumulator and one
//! multiplier each, in `par`), stepping through the reduction one input element at a time: the
//! copies share that input element (one read, broadcast) and read their own weight bank. The
//! input is banked cyclically on its last dimension by `Q = min(B, K)`, so the reduction loop is
//! strip-mined by `Q` with the `Q` steps unrolled in sequence, each reading a fixed bank. Sizes that
//! do not divide evenly get a remainder block after the main loop, with fewer copies: the banks are
//! uneven, nothing is padded. Loops of extent 1 are not emitted.
//!
//! Before (graph): `linear(x: [1, 3], fc.weight: [2, 3], fc.bias: [2]) -> y: [1, 2]`, all s8.8, B = 1.
//!
//! After (loops):
//! ```text
//! kernel linear (linear)
//!   for i0 in 0..2 {
//!     acc0 = fc_bias[i0] << 8
//!     for i1 in 0..3 {
//!       acc0 += x[i1] * fc_weight[3*i0 + i1]
//!     }
//!     y[i0] = requant(acc0 >> 8)
//!   }
//! ```
//! With B = 2 the two outputs are computed together:
//! ```text
//!   par {
//!     acc0 = fc_bias_b0[0] << 8
//!     acc1 = fc_bias_b1[0] << 8
//!   }
//!   par {
//!     acc0 += x_b0[0] * fc_weight_b0[0]
//!     acc1 += x_b0[0] * fc_weight_b1[0]
//!   }
//!   ... (x_b1[0] with weight offset 1, then the remainder step x_b0[1] with offset 2)
//! ```

use super::choose_layouts::choose_layouts;
use crate::banking::Layout;
use crate::error::Result;
use crate::ir::graph::{Graph, OpKind, TensorId};
use crate::ir::loops::{Acc, Access, Affine, Kernel, MapOp, MemId, Memory, Program, Stmt, Var};

/// Lowers a validated graph to the loop IR with banking factor `factor`.
pub fn lower_graph(graph: &Graph, factor: usize) -> Result<Program> {
    let layouts = choose_layouts(graph, factor)?;
    let mut lowering = Lowering::new(graph, layouts);
    for op in &graph.ops {
        lowering.next_var = 0;
        let body = match op.kind {
            OpKind::Linear { x, weight, bias, y } => lowering.linear(x, weight, bias, y),
            OpKind::Relu { x, y } => lowering.map(MapOp::Relu, &[x], y),
            OpKind::Add { a, b, y } => lowering.map(MapOp::SaturatingAdd, &[a, b], y),
            // Layouts already made the output share its input's memories.
            OpKind::Reshape { .. } => continue,
        };
        let origin = if op.origin.is_empty() {
            op.kind.name().to_string()
        } else {
            format!("{}; {}", op.kind.name(), op.origin)
        };
        lowering.kernels.push(Kernel {
            name: identifier(&op.name),
            origin,
            body,
        });
    }
    Ok(Program {
        name: graph.name.clone(),
        memories: lowering.memories,
        kernels: lowering.kernels,
    })
}

struct Lowering<'g> {
    graph: &'g Graph,
    layouts: Vec<Layout>,
    memories: Vec<Memory>,
    /// The memories (banks) of each tensor.
    memory_of: Vec<Vec<MemId>>,
    kernels: Vec<Kernel>,
    next_var: usize,
}

impl<'g> Lowering<'g> {
    fn new(graph: &'g Graph, choice: super::choose_layouts::Layouts) -> Self {
        let mut lowering = Lowering {
            graph,
            layouts: choice.layouts,
            memories: Vec::new(),
            memory_of: vec![Vec::new(); graph.tensors.len()],
            kernels: Vec::new(),
            next_var: 0,
        };
        let mut used_names: Vec<String> = Vec::new();
        // Memories in declaration order of the tensors that own them, so names are stable.
        for (id, t) in graph.tensors.iter().enumerate() {
            if choice.storage[id] != id {
                continue;
            }
            let layout = &lowering.layouts[id];
            let banks = layout.banks();
            let base = identifier(&t.name);
            let sharing: Vec<TensorId> = (0..graph.tensors.len())
                .filter(|&u| choice.storage[u] == id)
                .collect();
            let role = sharing
                .iter()
                .map(|&u| graph.tensors[u].role)
                .max_by_key(|r| role_rank(*r))
                .unwrap_or(t.role);
            for (bank, elements) in layout.elements().into_iter().enumerate() {
                let stem = if banks == 1 {
                    base.clone()
                } else {
                    format!("{base}_b{bank}")
                };
                let name = unique(stem, &used_names);
                used_names.push(name.clone());
                lowering.memories.push(Memory {
                    name,
                    tensors: sharing
                        .iter()
                        .map(|&u| graph.tensors[u].name.clone())
                        .collect(),
                    role,
                    shape: layout.shape.clone(),
                    bank,
                    banks,
                    len: elements.len(),
                    elements,
                    format: t.format,
                });
            }
        }
        for id in 0..graph.tensors.len() {
            let owner = choice.storage[id];
            lowering.memory_of[id] = lowering
                .memories
                .iter()
                .enumerate()
                .filter(|(_, m)| m.tensors.contains(&graph.tensors[owner].name))
                .map(|(i, _)| i)
                .collect();
        }
        lowering
    }

    /// A fresh loop variable, or `None` for an extent-1 loop (which is not emitted).
    fn var(&mut self, extent: usize) -> Option<Var> {
        (extent > 1).then(|| {
            self.next_var += 1;
            Var(self.next_var - 1)
        })
    }

    fn access(&self, tensor: TensorId, bank: usize, offset: Affine) -> Access {
        Access {
            mem: self.memory_of[tensor][bank],
            offset,
        }
    }

    /// Number of banks of a tensor.
    fn banks(&self, t: TensorId) -> usize {
        self.layouts[t].banks()
    }

    /// Words in bank `b` of `t` per row (the bank's extent of the banked last dimension).
    fn per_row(&self, t: TensorId, b: usize) -> usize {
        *self.layouts[t]
            .bank_shape(b)
            .last()
            .expect("tensors have at least one dimension")
    }

    fn linear(
        &mut self,
        x: TensorId,
        weight: TensorId,
        bias: Option<TensorId>,
        y: TensorId,
    ) -> Vec<Stmt> {
        let t = &self.graph.tensors;
        let (n, k) = (t[weight].shape[0], t[weight].shape[1]);
        let rows = t[x].len() / k;
        let product_frac = t[x].format.frac + t[weight].format.frac;
        let shape = LinearShape {
            x,
            weight,
            bias: bias.map(|b| (b, product_frac - t[b].format.frac)),
            y,
            k,
            shift: product_frac - t[y].format.frac,
            p: self.banks(y),
            q: self.banks(x),
        };
        let vm = self.var(rows);
        let row = Affine::var(vm);
        let vno = self.var(n / shape.p);
        let main = self.linear_block(&shape, &row, Affine::var(vno), shape.p);
        let mut body = nest(vno, n / shape.p, main);
        if !n.is_multiple_of(shape.p) {
            body.extend(self.linear_block(
                &shape,
                &row,
                Affine::constant(n / shape.p),
                n % shape.p,
            ));
        }
        nest(vm, rows, body)
    }

    /// Outputs `n = n_o * P + j` for `j < copies`, computed together.
    fn linear_block(
        &mut self,
        s: &LinearShape,
        row: &Affine,
        n_o: Affine,
        copies: usize,
    ) -> Vec<Stmt> {
        let init = par((0..copies)
            .map(|j| Stmt::InitAcc {
                acc: Acc(j),
                bias: s
                    .bias
                    .map(|(b, shift)| (self.access(b, j, n_o.clone()), shift)),
            })
            .collect());
        let vko = self.var(s.k / s.q);
        let steps = |me: &Self, k_o: &Affine, us: usize| -> Vec<Stmt> {
            (0..us)
                .map(|u| {
                    // Input element k = k_o * Q + u lives in bank u at row * per_row + k_o.
                    let x_at = me.access(s.x, u, row.clone().scale(me.per_row(s.x, u)).plus(k_o));
                    par((0..copies)
                        .map(|j| {
                            // Weight row n = n_o * P + j lives in bank j at n_o * K + k.
                            let w_off = n_o
                                .clone()
                                .scale(s.k)
                                .plus(&k_o.clone().scale(s.q))
                                .plus(&Affine::constant(u));
                            Stmt::Mac {
                                acc: Acc(j),
                                a: x_at.clone(),
                                b: me.access(s.weight, j, w_off),
                            }
                        })
                        .collect())
                })
                .collect()
        };
        let mut body = vec![init];
        body.extend(nest(vko, s.k / s.q, steps(self, &Affine::var(vko), s.q)));
        if !s.k.is_multiple_of(s.q) {
            body.extend(steps(self, &Affine::constant(s.k / s.q), s.k % s.q));
        }
        body.push(par((0..copies)
            .map(|j| Stmt::Requant {
                dst: self.access(s.y, j, row.clone().scale(self.per_row(s.y, j)).plus(&n_o)),
                acc: Acc(j),
                shift: s.shift,
            })
            .collect()));
        body
    }

    fn map(&mut self, op: MapOp, args: &[TensorId], y: TensorId) -> Vec<Stmt> {
        let t = &self.graph.tensors[y];
        let last = *t.shape.last().expect("tensors have at least one dimension");
        let rows = t.len() / last;
        let f = self.banks(y);
        let vm = self.var(rows);
        let row = Affine::var(vm);
        let block = |me: &Self, e_o: Affine, copies: usize| -> Stmt {
            par((0..copies)
                .map(|u| {
                    let at = |tensor| {
                        me.access(
                            tensor,
                            u,
                            row.clone().scale(me.per_row(tensor, u)).plus(&e_o),
                        )
                    };
                    Stmt::Map {
                        dst: at(y),
                        op,
                        args: args.iter().map(|&a| at(a)).collect(),
                    }
                })
                .collect())
        };
        let veo = self.var(last / f);
        let mut body = nest(veo, last / f, vec![block(self, Affine::var(veo), f)]);
        if !last.is_multiple_of(f) {
            body.push(block(self, Affine::constant(last / f), last % f));
        }
        nest(vm, rows, body)
    }
}

struct LinearShape {
    x: TensorId,
    weight: TensorId,
    /// The bias and how far to shift it into the product's fraction.
    bias: Option<(TensorId, u32)>,
    y: TensorId,
    k: usize,
    shift: u32,
    /// Outputs computed at once (banks of `y`, of the weight's rows and of the bias).
    p: usize,
    /// Banks of the input's last dimension.
    q: usize,
}

/// Inputs and outputs must stay reachable by a host, so they win when tensors share memories.
fn role_rank(role: crate::bundle::Role) -> u8 {
    use crate::bundle::Role::*;
    match role {
        Activation => 0,
        Weight => 1,
        Output => 2,
        Input => 3,
    }
}

/// Statements run together; a single one needs no `par`.
fn par(mut stmts: Vec<Stmt>) -> Stmt {
    if stmts.len() == 1 {
        stmts.remove(0)
    } else {
        Stmt::Par(stmts)
    }
}

/// `for v in 0..extent { body }`, or the body itself when the loop has extent 1.
fn nest(var: Option<Var>, extent: usize, body: Vec<Stmt>) -> Vec<Stmt> {
    match var {
        Some(var) => vec![Stmt::For { var, extent, body }],
        None => body,
    }
}

/// A Calyx/Verilog-safe identifier for a tensor or node name.
pub(crate) fn identifier(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let reserved = [
        "main",
        "input",
        "output",
        "inout",
        "reg",
        "wire",
        "logic",
        "module",
        "group",
        "cells",
        "wires",
        "control",
        "seq",
        "par",
        "while",
        "if",
        "with",
        "import",
        "extern",
        "component",
        "primitive",
        "comb",
        "static",
        "invoke",
        "repeat",
        "assign",
        "begin",
        "end",
        "always",
        "initial",
        "final",
        "int",
        "string",
        "ref",
        "clk",
        "reset",
        "go",
        "done",
    ];
    // Generated cells are named `k<N>_...`; tensors may not take those names.
    let looks_generated = s.starts_with('k') && s[1..].starts_with(|c: char| c.is_ascii_digit());
    if s.is_empty()
        || s.starts_with(|c: char| c.is_ascii_digit() || c == '_')
        || reserved.contains(&s.as_str())
        || looks_generated
    {
        s = format!("t_{s}");
    }
    s
}

fn unique(name: String, used: &[String]) -> String {
    if !used.contains(&name) {
        return name;
    }
    (1..)
        .map(|i| format!("{name}_{i}"))
        .find(|n| !used.contains(n))
        .expect("some suffix is free")
}
