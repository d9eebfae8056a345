//! `lower-graph`: tensor graph -> banked loop nests over memories.
//!
//! Every tensor has a [`Layout`] (from `choose_layouts`) and one memory per bank; each op becomes a
//! kernel. The kernel's loop dimensions are made to agree (`agree_layouts`), split and unrolled
//! (`unroll`) so that every access names its bank at compile time (`rewrite_accesses`): no
//! run-time bank multiplexer. A `linear` computes all its output copies in lock step (`par`: one
//! accumulator and one multiplier each); its reduction copies become one multiply-accumulate with
//! several terms (parallel multipliers and an adder tree) when their operands sit in distinct
//! banks, and otherwise run one after another, each pinned to a bank. Elementwise ops run their
//! copies in lock step. Loops of extent 1 are not emitted.
//!
//! With the default rule for `--banking B` (activations cyclic on the last dimension, weights on
//! their rows), a linear computes `P = min(B, N)` outputs at once, sharing one broadcast input
//! read, and steps through the `Q = min(B, K)` input banks in turn.
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
//! With B = 2 the two outputs are computed together, two products each per step (the weight is
//! banked on rows and columns, so the four products read four banks):
//! ```text
//!   par {
//!     acc0 = fc_bias_b0[0] << 8
//!     acc1 = fc_bias_b1[0] << 8
//!   }
//!   par {
//!     acc0 += x_b0[0] * fc_weight_b0[0] + x_b1[0] * fc_weight_b1[0]
//!     acc1 += x_b0[0] * fc_weight_b2[0] + x_b1[0] * fc_weight_b3[0]
//!   }
//!   ... (then the remainder step with x_b0[1])
//! ```

use super::check_conflicts::step_conflict;
use super::choose_layouts::choose_layouts;
use super::unroll::{cartesian, DimIndex, LoopDim};
use crate::banking::{BankingConfig, Layout};
use crate::error::Result;
use crate::ir::graph::{Graph, OpKind, TensorId};
use crate::ir::loops::{Acc, Access, Kernel, MapOp, MemId, Memory, Program, Stmt};

/// Lowers a validated graph to the loop IR with banking factor `factor`, and the user's per-tensor
/// banking where `config` gives one.
pub fn lower_graph(
    graph: &Graph,
    factor: usize,
    config: Option<&BankingConfig>,
) -> Result<Program> {
    let layouts = choose_layouts(graph, factor, config)?;
    let mut lowering = Lowering::new(graph, layouts, factor);
    for op in &graph.ops {
        lowering.next_var = 0;
        lowering.op = op.name.clone();
        let body = match op.kind {
            OpKind::Linear { x, weight, bias, y } => lowering.linear(x, weight, bias, y)?,
            OpKind::Relu { x, y } => lowering.map(MapOp::Relu, &[x], y)?,
            OpKind::Add { a, b, y } => lowering.map(MapOp::SaturatingAdd, &[a, b], y)?,
            OpKind::Conv {
                x,
                weight,
                bias,
                y,
                ref window,
                groups,
            } => lowering.conv(x, weight, bias, y, window, groups)?,
            OpKind::Pool {
                x,
                y,
                ref window,
                reduce,
            } => lowering.pool(x, y, window, reduce)?,
            // Layouts made the output share its input's memories where they place every element
            // alike; otherwise the elements move with a copy.
            OpKind::Reshape { x, y } => {
                if lowering.memory_of[x] != lowering.memory_of[y] {
                    let copy = lowering.copy_kernel(x, y)?;
                    lowering.kernels.push(copy);
                }
                continue;
            }
            OpKind::Elementwise(e) => lowering.elementwise(e)?,
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
        let after = std::mem::take(&mut lowering.after);
        lowering.kernels.extend(after);
    }
    Ok(Program {
        name: graph.name.clone(),
        memories: lowering.memories,
        kernels: lowering.kernels,
        notes: lowering.notes,
    })
}

pub(super) struct Lowering {
    /// The graph's tensors, plus re-banked copies this pass adds.
    pub(super) tensors: Vec<crate::ir::graph::TensorInfo>,
    pub(super) layouts: Vec<Layout>,
    pub(super) memories: Vec<Memory>,
    /// The memories (banks) of each tensor.
    pub(super) memory_of: Vec<Vec<MemId>>,
    pub(super) kernels: Vec<Kernel>,
    /// Kernels that run right after the op being lowered (copies of its output).
    pub(super) after: Vec<Kernel>,
    /// The banking factor `B`.
    pub(super) factor: usize,
    /// What the user should know: re-banking copies inserted.
    pub(super) notes: Vec<String>,
    pub(super) next_var: usize,
    /// The op being lowered, for error messages.
    pub(super) op: String,
}

impl Lowering {
    pub(super) fn new(
        graph: &Graph,
        choice: super::choose_layouts::Layouts,
        factor: usize,
    ) -> Self {
        let mut lowering = Lowering {
            tensors: graph.tensors.clone(),
            layouts: choice.layouts,
            memories: Vec::new(),
            memory_of: vec![Vec::new(); graph.tensors.len()],
            kernels: Vec::new(),
            after: Vec::new(),
            factor,
            notes: Vec::new(),
            next_var: 0,
            op: String::new(),
        };
        // Memories in declaration order of the tensors that own them, so names are stable.
        for id in 0..graph.tensors.len() {
            if choice.storage[id] == id {
                let sharing: Vec<TensorId> = (0..graph.tensors.len())
                    .filter(|&u| choice.storage[u] == id)
                    .collect();
                lowering.allocate(id, &sharing);
            }
        }
        lowering
    }

    /// Creates the banks of tensor `id`'s layout, shared by the tensors in `sharing`.
    pub(super) fn allocate(&mut self, id: TensorId, sharing: &[TensorId]) {
        let layout = &self.layouts[id];
        let banks = layout.banks();
        let t = &self.tensors[id];
        let base = identifier(&t.name);
        let role = sharing
            .iter()
            .map(|&u| self.tensors[u].role)
            .max_by_key(|r| role_rank(*r))
            .unwrap_or(t.role);
        let names: Vec<String> = sharing
            .iter()
            .map(|&u| self.tensors[u].name.clone())
            .collect();
        let mut ids = Vec::new();
        for (bank, elements) in layout.elements().into_iter().enumerate() {
            let stem = if banks == 1 {
                base.clone()
            } else {
                format!("{base}_b{bank}")
            };
            let used: Vec<String> = self.memories.iter().map(|m| m.name.clone()).collect();
            ids.push(self.memories.len());
            self.memories.push(Memory {
                name: unique(stem, &used),
                tensors: names.clone(),
                role,
                shape: layout.shape.clone(),
                bank,
                banks,
                len: elements.len(),
                elements,
                format: t.format,
            });
        }
        for &u in sharing {
            self.memory_of[u] = ids.clone();
        }
    }

    pub(super) fn linear(
        &mut self,
        x: TensorId,
        weight: TensorId,
        bias: Option<TensorId>,
        y: TensorId,
    ) -> Result<Vec<Stmt>> {
        let t = &self.tensors;
        let rank = t[y].shape.len();
        let (n, k) = (t[weight].shape[0], t[weight].shape[1]);
        let product_frac = t[x].format.frac + t[weight].format.frac;
        let bias = bias.map(|b| (b, product_frac - t[b].format.frac));
        let shift = product_frac - t[y].format.frac;
        let mut out_dims: Vec<LoopDim> = (0..rank - 1)
            .map(|d| LoopDim {
                extent: t[y].shape[d],
                uses: vec![(x, d), (y, d)],
            })
            .collect();
        let mut n_uses = vec![(y, rank - 1), (weight, 0)];
        n_uses.extend(bias.map(|(b, _)| (b, 0)));
        out_dims.push(LoopDim {
            extent: n,
            uses: n_uses,
        });
        out_dims.push(LoopDim {
            extent: k,
            uses: vec![(x, rank - 1), (weight, 1)],
        });
        let x = self.agree(&mut out_dims, &[x])?[0];
        let k_dim = [out_dims
            .pop()
            .expect("the reduction dimension was pushed last")];
        let mut body = |me: &mut Self, copies: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
            // Every combination of output copies computes one output element, in lock step.
            let combos = cartesian(copies);
            let init = combos
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let bias = match bias {
                        Some((b, s)) => Some((me.access(b, &c[rank - 1..])?, s)),
                        None => None,
                    };
                    Ok(Stmt::InitAcc { acc: Acc(j), bias })
                })
                .collect::<Result<Vec<_>>>()?;
            let mut stmts = vec![par(init)];
            let mut reduce = |me: &mut Self, kc: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
                let kc = &kc[0];
                let term = |me: &Self, c: &[DimIndex], ki: &DimIndex| -> Result<(Access, Access)> {
                    let mut xi = c[..rank - 1].to_vec();
                    xi.push(ki.clone());
                    let wi = [c[rank - 1].clone(), ki.clone()];
                    Ok((me.access(x, &xi)?, me.access(weight, &wi)?))
                };
                // Unrolled reduction copies run in parallel into an adder tree when their
                // operands are in distinct banks; otherwise one after another.
                let tree = combos
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let terms = kc
                            .iter()
                            .map(|ki| term(me, c, ki))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(Stmt::Mac { acc: Acc(j), terms })
                    })
                    .collect::<Result<Vec<_>>>()?;
                if kc.len() == 1 || step_conflict(&me.memories, &tree).is_none() {
                    return Ok(vec![par(tree)]);
                }
                kc.iter()
                    .map(|ki| {
                        let macs = combos
                            .iter()
                            .enumerate()
                            .map(|(j, c)| {
                                Ok(Stmt::Mac {
                                    acc: Acc(j),
                                    terms: vec![term(me, c, ki)?],
                                })
                            })
                            .collect::<Result<Vec<_>>>()?;
                        Ok(par(macs))
                    })
                    .collect()
            };
            stmts.extend(me.expand(&k_dim, &mut Vec::new(), &mut reduce)?);
            stmts.push(me.requants(y, &combos, shift, None)?);
            Ok(stmts)
        };
        self.expand(&out_dims, &mut Vec::new(), &mut body)
    }

    /// Output copy `j` stores accumulator `j` into `y` at `indices[j]`, all in one step.
    pub(super) fn requants(
        &self,
        y: TensorId,
        indices: &[Vec<DimIndex>],
        shift: u32,
        scale: Option<u64>,
    ) -> Result<Stmt> {
        let stores = indices
            .iter()
            .enumerate()
            .map(|(j, c)| {
                Ok(Stmt::Requant {
                    dst: self.access(y, c)?,
                    acc: Acc(j),
                    shift,
                    scale,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(par(stores))
    }

    pub(super) fn map(&mut self, op: MapOp, args: &[TensorId], y: TensorId) -> Result<Vec<Stmt>> {
        self.map_with(y, args, &[], None, |_, _| Ok(op))
    }
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
pub(super) fn par(mut stmts: Vec<Stmt>) -> Stmt {
    if stmts.len() == 1 {
        stmts.remove(0)
    } else {
        Stmt::Par(stmts)
    }
}

/// Identifiers longer than this are shortened: Verilator hashes long names (so a host could not
/// find a memory by its name), and Calyx derives longer port names from cell names.
const MAX_IDENTIFIER: usize = 48;

/// A Calyx/Verilog-safe identifier for a tensor or node name: other characters become `_`, and a
/// long name keeps a readable prefix plus a hash of the whole name (deterministic; the manifest
/// keeps the original name).
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
        || calyx_ir::RESERVED_NAMES.contains(&s.as_str())
        || looks_generated
    {
        s = format!("t_{s}");
    }
    if s.len() > MAX_IDENTIFIER {
        // The prefix is ASCII, so any byte index is a character boundary.
        s = format!("{}_h{:012x}", &s[..MAX_IDENTIFIER - 15], fnv1a(name) >> 16);
    }
    s
}

/// 64-bit FNV-1a: a stable hash (unlike `std`'s, which may change between Rust releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub(super) fn unique(name: String, used: &[String]) -> String {
    if !used.contains(&name) {
        return name;
    }
    (1..)
        .map(|i| format!("{name}_{i}"))
        .find(|n| !used.contains(n))
        .expect("some suffix is free")
}
