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

use super::check_conflicts::step_conflict;
use super::choose_layouts::choose_layouts;
use crate::banking::{BankingConfig, DimBanking, Layout, Scheme};
use crate::error::{Error, Result};
use crate::ir::graph::{Graph, OpKind, TensorId};
use crate::ir::loops::{Acc, Access, Affine, Kernel, MapOp, MemId, Memory, Program, Stmt, Var};

/// Lowers a validated graph to the loop IR with banking factor `factor`, and the user's per-tensor
/// banking where `config` gives one.
pub fn lower_graph(
    graph: &Graph,
    factor: usize,
    config: Option<&BankingConfig>,
) -> Result<Program> {
    let layouts = choose_layouts(graph, factor, config)?;
    let mut lowering = Lowering::new(graph, layouts);
    for op in &graph.ops {
        lowering.next_var = 0;
        lowering.op = op.name.clone();
        let body = match op.kind {
            OpKind::Linear { x, weight, bias, y } => lowering.linear(x, weight, bias, y)?,
            OpKind::Relu { x, y } => lowering.map(MapOp::Relu, &[x], y)?,
            OpKind::Add { a, b, y } => lowering.map(MapOp::SaturatingAdd, &[a, b], y)?,
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
        notes: lowering.notes,
    })
}

struct Lowering {
    /// The graph's tensors, plus re-banked copies this pass adds.
    tensors: Vec<crate::ir::graph::TensorInfo>,
    layouts: Vec<Layout>,
    memories: Vec<Memory>,
    /// The memories (banks) of each tensor.
    memory_of: Vec<Vec<MemId>>,
    kernels: Vec<Kernel>,
    /// What the user should know: re-banking copies inserted.
    notes: Vec<String>,
    next_var: usize,
    /// The op being lowered, for error messages.
    op: String,
}

/// How the loop over one dimension is split so that every bank it touches is a compile-time
/// constant: a loop over `outer`, and unrolled copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// No layout banks this dimension: `i = outer`.
    Plain,
    /// Strip-mined: `i = outer * U + copy`, for cyclic (and complete) banking by divisors of `U`.
    Cyclic(usize),
    /// `i = copy * size + outer`: one copy per block.
    Block { factor: usize, size: usize },
}

/// One unrolled copy's index along one dimension.
#[derive(Debug, Clone)]
struct DimIndex {
    outer: Affine,
    copy: usize,
    split: Split,
}

/// A loop dimension and who indexes it: `(tensor, tensor dimension)` pairs.
struct LoopDim {
    extent: usize,
    uses: Vec<(TensorId, usize)>,
}

/// A use of a loop dimension: (tensor, tensor dimension).
type Use = (TensorId, usize);

/// Builds the statements of a loop body from the active copies of each dimension.
type Body<'a> = dyn FnMut(&mut Lowering, &[Vec<DimIndex>]) -> Result<Vec<Stmt>> + 'a;

/// One phase of a split loop: a loop (or none) and the copies active in it.
struct Phase {
    var: Option<Var>,
    extent: usize,
    copies: Vec<DimIndex>,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Lowering {
    fn new(graph: &Graph, choice: super::choose_layouts::Layouts) -> Self {
        let mut lowering = Lowering {
            tensors: graph.tensors.clone(),
            layouts: choice.layouts,
            memories: Vec::new(),
            memory_of: vec![Vec::new(); graph.tensors.len()],
            kernels: Vec::new(),
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
    fn allocate(&mut self, id: TensorId, sharing: &[TensorId]) {
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

    /// Makes every loop dimension's uses agree on a split, copying an input of the op into a
    /// re-banked twin where two uses disagree. Returns the op's inputs after re-banking.
    fn agree(&mut self, dims: &mut [LoopDim], inputs: &[TensorId]) -> Result<Vec<TensorId>> {
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

    fn incompatible(&self, (t0, d0): Use, (t1, d1): Use) -> Error {
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
    fn rebank(
        &mut self,
        (t, d): (TensorId, usize),
        (like_t, like_d): (TensorId, usize),
    ) -> Result<TensorId> {
        let like = *self.layouts[like_t]
            .dims
            .iter()
            .find(|b| b.dim == like_d)
            .expect("a conflict involves two banked uses");
        let from = self.layouts[t].clone();
        let mut dims: Vec<DimBanking> = from.dims.iter().filter(|b| b.dim != d).copied().collect();
        dims.push(DimBanking { dim: d, ..like });
        let layout =
            Layout::new(&from.shape, dims).map_err(|m| Error::tensor(&self.tensors[t].name, m))?;
        let id = self.tensors.len();
        let mut info = self.tensors[t].clone();
        info.name = format!("{}_rebanked", info.name);
        info.role = crate::bundle::Role::Activation;
        let source = self.tensors[t].name.clone();
        self.tensors.push(info);
        self.layouts.push(layout);
        self.memory_of.push(Vec::new());
        self.allocate(id, &[id]);

        let mut steps: Vec<Stmt> = Vec::new();
        let mut step: Vec<Stmt> = Vec::new();
        let (src_layout, dst_layout) = (&self.layouts[t], &self.layouts[id]);
        let shape = from.shape.clone();
        let mut index = vec![0; shape.len()];
        for _ in 0..shape.iter().product::<usize>() {
            let at = |layout: &Layout, tensor: TensorId| {
                let (bank, offset) = layout.locate(&index);
                Access {
                    mem: self.memory_of[tensor][bank],
                    offset: Affine::constant(offset),
                }
            };
            let copy = Stmt::Map {
                dst: at(dst_layout, id),
                op: MapOp::Copy,
                args: vec![at(src_layout, t)],
            };
            step.push(copy);
            if step_conflict(&self.memories, &step).is_some() {
                let last = step.pop().expect("just pushed");
                steps.push(par(std::mem::take(&mut step)));
                step.push(last);
            }
            for k in (0..index.len()).rev() {
                index[k] += 1;
                if index[k] < shape[k] {
                    break;
                }
                index[k] = 0;
            }
        }
        if !step.is_empty() {
            steps.push(par(step));
        }
        self.notes.push(format!(
            "node '{}': re-banked '{source}' ({}) into '{}' ({}) with a copy kernel of {} steps, so that every access has a constant bank",
            self.op,
            describe_layout(&self.layouts[t]),
            self.tensors[id].name,
            describe_layout(&self.layouts[id]),
            steps.len()
        ));
        self.kernels.push(Kernel {
            name: identifier(&format!("rebank_{source}")),
            origin: format!("re-banking copy for {}", self.op),
            body: steps,
        });
        Ok(id)
    }

    /// A fresh loop variable, or `None` for an extent-1 loop (which is not emitted).
    fn var(&mut self, extent: usize) -> Option<Var> {
        (extent > 1).then(|| {
            self.next_var += 1;
            Var(self.next_var - 1)
        })
    }

    /// The split of a loop dimension that keeps every use's bank static, or the first two uses
    /// that no split can satisfy together.
    fn split(&self, dim: &LoopDim) -> std::result::Result<Split, (Use, Use)> {
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
    fn phases(&mut self, dim: &LoopDim) -> Result<Vec<Phase>> {
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
    fn expand(
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

    /// The element of `t` at per-dimension indices, as (bank, offset): both follow from the
    /// layout, the bank as a constant.
    fn access(&self, t: TensorId, index: &[DimIndex]) -> Result<Access> {
        let layout = &self.layouts[t];
        let mut bank = 0;
        let mut local = Vec::with_capacity(index.len());
        for (d, ix) in index.iter().enumerate() {
            let banking = layout.dims.iter().find(|b| b.dim == d);
            let value = |ix: &DimIndex| match ix.split {
                Split::Plain => ix.outer.clone(),
                Split::Cyclic(u) => ix.outer.clone().scale(u).plus(&Affine::constant(ix.copy)),
                Split::Block { size, .. } => Affine::constant(ix.copy * size).plus(&ix.outer),
            };
            let (b, l) = match (banking, ix.split) {
                (None, _) => (None, value(ix)),
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

    fn linear(
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
            let stores = combos
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    Ok(Stmt::Requant {
                        dst: me.access(y, c)?,
                        acc: Acc(j),
                        shift,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            stmts.push(par(stores));
            Ok(stmts)
        };
        self.expand(&out_dims, &mut Vec::new(), &mut body)
    }

    fn map(&mut self, op: MapOp, args: &[TensorId], y: TensorId) -> Result<Vec<Stmt>> {
        let shape = self.tensors[y].shape.clone();
        let mut dims: Vec<LoopDim> = shape
            .iter()
            .enumerate()
            .map(|(d, &extent)| LoopDim {
                extent,
                uses: std::iter::once(y)
                    .chain(args.iter().copied())
                    .map(|t| (t, d))
                    .collect(),
            })
            .collect();
        let args = self.agree(&mut dims, args)?;
        let args = &args;
        let mut body = |me: &mut Self, copies: &[Vec<DimIndex>]| -> Result<Vec<Stmt>> {
            let maps = cartesian(copies)
                .iter()
                .map(|c| {
                    Ok(Stmt::Map {
                        dst: me.access(y, c)?,
                        op,
                        args: args
                            .iter()
                            .map(|&a| me.access(a, c))
                            .collect::<Result<_>>()?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(vec![par(maps)])
        };
        self.expand(&dims, &mut Vec::new(), &mut body)
    }
}

/// Every combination of one copy per dimension, first dimension slowest.
fn cartesian(copies: &[Vec<DimIndex>]) -> Vec<Vec<DimIndex>> {
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
