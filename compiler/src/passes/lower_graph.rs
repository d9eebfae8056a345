//! `lower-graph`: tensor graph -> loop nests over memories.
//!
//! Each tensor gets a flat row-major memory (a reshape reuses its input's memory, so it costs no
//! cycles), each op a kernel. Loops of extent 1 are not emitted.
//!
//! Before (graph): `linear(x: [1, 3], fc.weight: [2, 3], fc.bias: [2]) -> y: [1, 2]`, all s8.8.
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

use crate::bundle::Role;
use crate::ir::graph::{Graph, OpKind, TensorId};
use crate::ir::loops::{Acc, Access, Affine, Kernel, MapOp, MemId, Memory, Program, Stmt, Var};

/// Lowers a validated graph to the loop IR.
pub fn lower_graph(graph: &Graph) -> Program {
    let mut lowering = Lowering::new(graph);
    for op in &graph.ops {
        let body = match op.kind {
            OpKind::Linear { x, weight, bias, y } => lowering.linear(x, weight, bias, y),
            OpKind::Relu { x, y } => lowering.map(MapOp::Relu, &[x], y),
            OpKind::Add { a, b, y } => lowering.map(MapOp::SaturatingAdd, &[a, b], y),
            OpKind::Reshape { x, y } => {
                lowering.alias(y, x);
                continue;
            }
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
    Program {
        name: graph.name.clone(),
        memories: lowering.memories,
        kernels: lowering.kernels,
    }
}

struct Lowering<'g> {
    graph: &'g Graph,
    memories: Vec<Memory>,
    /// The memory of each tensor.
    memory_of: Vec<MemId>,
    kernels: Vec<Kernel>,
    next_var: usize,
}

impl<'g> Lowering<'g> {
    fn new(graph: &'g Graph) -> Self {
        let mut lowering = Lowering {
            graph,
            memories: Vec::new(),
            memory_of: vec![usize::MAX; graph.tensors.len()],
            kernels: Vec::new(),
            next_var: 0,
        };
        // Reshape outputs are aliased when their op is lowered; all other tensors get a memory now,
        // in declaration order, so memory names are stable.
        let reshaped: Vec<TensorId> = graph
            .ops
            .iter()
            .filter_map(|op| match op.kind {
                OpKind::Reshape { y, .. } => Some(y),
                _ => None,
            })
            .collect();
        let mut used_names = Vec::new();
        for (id, t) in graph.tensors.iter().enumerate() {
            if reshaped.contains(&id) {
                continue;
            }
            let name = unique(identifier(&t.name), &used_names);
            used_names.push(name.clone());
            lowering.memory_of[id] = lowering.memories.len();
            lowering.memories.push(Memory {
                name,
                tensors: vec![t.name.clone()],
                role: t.role,
                shape: t.shape.clone(),
                len: t.len(),
                format: t.format,
            });
        }
        lowering
    }

    fn alias(&mut self, y: TensorId, x: TensorId) {
        let mem = self.memory_of[x];
        self.memory_of[y] = mem;
        let memory = &mut self.memories[mem];
        memory.tensors.push(self.graph.tensors[y].name.clone());
        if self.graph.tensors[y].role == Role::Output && memory.role == Role::Activation {
            memory.role = Role::Output;
        }
    }

    /// A fresh loop variable, or `None` for an extent-1 loop (which is not emitted).
    fn var(&mut self, extent: usize) -> Option<Var> {
        (extent > 1).then(|| {
            self.next_var += 1;
            Var(self.next_var - 1)
        })
    }

    fn access(&self, tensor: TensorId, offset: Affine) -> Access {
        Access {
            mem: self.memory_of[tensor],
            offset,
        }
    }

    fn linear(
        &mut self,
        x: TensorId,
        weight: TensorId,
        bias: Option<TensorId>,
        y: TensorId,
    ) -> Vec<Stmt> {
        self.next_var = 0;
        let t = &self.graph.tensors;
        let (n, k) = (t[weight].shape[0], t[weight].shape[1]);
        let rows = t[x].len() / k;
        let (fx, fw, fy) = (t[x].format, t[weight].format, t[y].format);
        let product_frac = fx.frac + fw.frac;
        let acc = Acc(0);
        let (vm, vn, vk) = (self.var(rows), self.var(n), self.var(k));

        let row = |base: Affine, stride: usize| match vm {
            Some(v) => base.plus(v, stride),
            None => base,
        };
        let with = |a: Affine, v: Option<Var>, stride: usize| match v {
            Some(v) => a.plus(v, stride),
            None => a,
        };
        let x_at = self.access(x, with(row(Affine::default(), k), vk, 1));
        let w_at = self.access(weight, with(with(Affine::default(), vn, k), vk, 1));
        let y_at = self.access(y, with(row(Affine::default(), n), vn, 1));
        let bias = bias.map(|b| {
            let at = self.access(b, with(Affine::default(), vn, 1));
            (at, product_frac - t[b].format.frac)
        });

        let mac = Stmt::Mac {
            acc,
            a: x_at,
            b: w_at,
        };
        let per_output = vec![Stmt::InitAcc { acc, bias }];
        let per_output = [
            per_output,
            nest(vk, k, vec![mac]),
            vec![Stmt::Requant {
                dst: y_at,
                acc,
                shift: product_frac - fy.frac,
            }],
        ]
        .concat();
        nest(vm, rows, nest(vn, n, per_output))
    }

    fn map(&mut self, op: MapOp, args: &[TensorId], y: TensorId) -> Vec<Stmt> {
        self.next_var = 0;
        let len = self.graph.tensors[y].len();
        let v = self.var(len);
        let at = |t: TensorId, me: &Self| {
            let offset = match v {
                Some(v) => Affine::default().plus(v, 1),
                None => Affine::constant(0),
            };
            me.access(t, offset)
        };
        let stmt = Stmt::Map {
            dst: at(y, self),
            op,
            args: args.iter().map(|&a| at(a, self)).collect(),
        };
        nest(v, len, vec![stmt])
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
