//! The loop IR: kernels of loop nests over flat memories.
//!
//! Every tensor lives in one [`Memory`] per bank (`Memory::elements` says which element each word
//! holds; a reshape shares its input's memories when the layouts agree). Every access names its
//! bank statically, and its offset is an [`Affine`] expression of the enclosing loop variables, so later passes
//! can reason about which element each access touches. Its text form (the `Display` impls) is what
//! `docs/ir.md` and the snapshot tests show:
//!
//! ```text
//! kernel linear (linear; fc1 (Linear) at mlp.py:18)
//!   for i0 in 0..64 {
//!     acc0 = fc1_bias[i0] << 8
//!     for i1 in 0..16 {
//!       acc0 += x[i1] * fc1_weight[16*i0 + i1]
//!     }
//!     linear[i0] = requant(acc0 >> 8)
//!   }
//! ```

use crate::bundle::Role;
use crate::numerics::FixedFormat;
use std::fmt;

/// Index of a memory in [`Program::memories`].
pub type MemId = usize;

#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub name: String,
    pub memories: Vec<Memory>,
    pub kernels: Vec<Kernel>,
    /// Decisions the user should hear about (re-banking copies the compiler inserted).
    pub notes: Vec<String>,
}

/// A flat buffer of `len` words in one fixed-point format: one bank of a tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    /// A valid Calyx identifier, unique in the program.
    pub name: String,
    /// The bundle tensors stored here (more than one when reshapes alias it).
    pub tensors: Vec<String>,
    pub role: Role,
    /// Shape of the tensor that defines the memory's layout.
    pub shape: Vec<usize>,
    /// This memory is bank `bank` of `banks`.
    pub bank: usize,
    pub banks: usize,
    /// The row-major flat tensor index held by each word.
    pub elements: Vec<usize>,
    pub len: usize,
    pub format: FixedFormat,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    pub name: String,
    /// The graph op it implements and where that op came from.
    pub origin: String,
    pub body: Vec<Stmt>,
}

/// A loop variable, numbered within its kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub usize);

/// A 48-bit accumulator register, numbered within its kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Acc(pub usize);

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `for var in 0..extent { body }`, executed in order.
    For {
        var: Var,
        extent: usize,
        body: Vec<Stmt>,
    },
    /// `acc = bias << shift`, or `acc = 0` without a bias.
    InitAcc {
        acc: Acc,
        bias: Option<(Access, u32)>,
    },
    /// `acc += a0 * b0 + a1 * b1 + ...` with exact products: one term is a plain
    /// multiply-accumulate; several are an unrolled reduction (parallel multipliers, an adder tree).
    Mac {
        acc: Acc,
        terms: Vec<(Access, Access)>,
    },
    /// `acc = value` (a constant, e.g. the smallest value before a max reduction).
    InitConst { acc: Acc, value: i64 },
    /// `acc = max(acc, a0, a1, ...)` or `acc += a0 + a1 + ...`: a reduction without products,
    /// each operand sign-extended to the accumulator.
    Reduce {
        acc: Acc,
        op: ReduceOp,
        args: Vec<Access>,
    },
    /// `dst = requant(acc >> shift)`, or `requant(acc * scale >> shift)` with a constant integer
    /// scale (the average pool's reciprocal): round half up, saturate into `dst`'s format.
    Requant {
        dst: Access,
        acc: Acc,
        shift: u32,
        scale: Option<u64>,
    },
    /// The statements run at the same time (each touching other banks: see `check_conflicts`).
    Par(Vec<Stmt>),
    /// `dst = op(args)`, elementwise.
    Map {
        dst: Access,
        op: MapOp,
        args: Vec<Access>,
    },
}

impl Stmt {
    /// A statement with no control inside it: one group's worth of work.
    pub fn is_leaf(&self) -> bool {
        !matches!(self, Stmt::For { .. } | Stmt::Par(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapOp {
    Relu,
    SaturatingAdd,
    /// Moves an element between layouts (re-banking).
    Copy,
    /// Writes a constant (raw units of `dst`'s format): the border of a padded copy.
    Fill(i64),
    /// `min(max(x, min), max)`, constants in x's raw units.
    Clamp {
        min: i64,
        max: i64,
    },
    /// `x > threshold ? x : value`.
    Threshold {
        threshold: i64,
        value: i64,
    },
    /// Arguments `x, scale, shift`: `saturate(round_right((x * scale) + (shift << align)))`, one
    /// multiplier.
    ScaleShift {
        align: u32,
        right: u32,
    },
    /// Arguments `x, slope`: `x >= 0 ? x : saturate(round_right(x * slope))`, one multiplier.
    Prelu {
        right: u32,
    },
    /// `table[clamp((x - lo) >> shift, 0, len - 1)]`, or `x` from `lo + (len << shift)` on when
    /// `identity`. The table (a ROM holding the whole table) is read at an address computed from
    /// the argument's value, not from loop variables: each lock-step copy reads its own ROM.
    Lut {
        table: MemId,
        lo: i64,
        shift: u32,
        len: usize,
        identity: bool,
    },
    /// Arguments `x, m` (softmax's row maximum, x's format): `d = x - m`, then
    /// `d >= lo ? table[min((d - lo) >> shift, len - 1)] : 0`, the table a ROM read at an address
    /// computed from the data.
    SoftmaxExp {
        table: MemId,
        lo: i64,
        shift: u32,
        len: usize,
    },
    /// Arguments `e, s` (both >= 0, `s > 0`): `saturate((e << frac + s / 2) / s)`, an unsigned
    /// `width`-bit division (one shared divider per kernel, about `width` cycles).
    Divide {
        frac: u32,
        width: u32,
    },
}

impl MapOp {
    /// The table a lookup reads at an address computed from the data.
    pub fn table(&self) -> Option<MemId> {
        match *self {
            MapOp::Lut { table, .. } | MapOp::SoftmaxExp { table, .. } => Some(table),
            _ => None,
        }
    }
}

/// The operator of a [`Stmt::Reduce`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    Max,
    Sum,
}

/// One element of a memory: `mem[offset]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Access {
    pub mem: MemId,
    pub offset: Affine,
}

/// `constant + sum(coefficient * var)`, with non-negative coefficients.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Affine {
    pub terms: Vec<(Var, usize)>,
    pub constant: usize,
}

impl Affine {
    pub fn constant(c: usize) -> Affine {
        Affine {
            terms: Vec::new(),
            constant: c,
        }
    }

    /// The value of a loop variable; a loop that was not emitted (extent 1) contributes 0.
    pub fn var(var: Option<Var>) -> Affine {
        Affine {
            terms: var.map(|v| (v, 1)).into_iter().collect(),
            constant: 0,
        }
    }

    /// `c * self`.
    pub fn scale(mut self, c: usize) -> Affine {
        self.constant *= c;
        self.terms.iter_mut().for_each(|t| t.1 *= c);
        self.terms.retain(|t| t.1 != 0);
        self
    }

    /// `self + other`, merging terms of the same variable.
    pub fn plus(mut self, other: &Affine) -> Affine {
        self.constant += other.constant;
        for &(v, c) in &other.terms {
            match self.terms.iter_mut().find(|t| t.0 == v) {
                Some(t) => t.1 += c,
                None => self.terms.push((v, c)),
            }
        }
        self.terms.sort();
        self
    }
}

impl fmt::Display for Affine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .terms
            .iter()
            .map(|(v, c)| {
                if *c == 1 {
                    format!("i{}", v.0)
                } else {
                    format!("{c}*i{}", v.0)
                }
            })
            .collect();
        if self.constant != 0 || parts.is_empty() {
            parts.push(self.constant.to_string());
        }
        write!(f, "{}", parts.join(" + "))
    }
}

impl Program {
    fn access(&self, a: &Access) -> String {
        format!("{}[{}]", self.memories[a.mem].name, a.offset)
    }

    fn write_stmt(&self, f: &mut fmt::Formatter<'_>, s: &Stmt, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        match s {
            Stmt::For { var, extent, body } => {
                writeln!(f, "{pad}for i{} in 0..{extent} {{", var.0)?;
                for s in body {
                    self.write_stmt(f, s, depth + 1)?;
                }
                writeln!(f, "{pad}}}")
            }
            Stmt::InitAcc { acc, bias: None } => writeln!(f, "{pad}acc{} = 0", acc.0),
            Stmt::InitAcc {
                acc,
                bias: Some((b, shift)),
            } => writeln!(f, "{pad}acc{} = {} << {shift}", acc.0, self.access(b)),
            Stmt::Mac { acc, terms } => {
                let terms: Vec<String> = terms
                    .iter()
                    .map(|(a, b)| format!("{} * {}", self.access(a), self.access(b)))
                    .collect();
                writeln!(f, "{pad}acc{} += {}", acc.0, terms.join(" + "))
            }
            Stmt::InitConst { acc, value } => writeln!(f, "{pad}acc{} = {value}", acc.0),
            Stmt::Reduce { acc, op, args } => {
                let args: Vec<String> = args.iter().map(|a| self.access(a)).collect();
                match op {
                    ReduceOp::Max => {
                        writeln!(f, "{pad}acc{0} = max(acc{0}, {1})", acc.0, args.join(", "))
                    }
                    ReduceOp::Sum => writeln!(f, "{pad}acc{} += {}", acc.0, args.join(" + ")),
                }
            }
            Stmt::Requant {
                dst,
                acc,
                shift,
                scale,
            } => {
                let scale = scale.map_or(String::new(), |s| format!(" * {s}"));
                writeln!(
                    f,
                    "{pad}{} = requant(acc{}{scale} >> {shift})",
                    self.access(dst),
                    acc.0
                )
            }
            Stmt::Par(stmts) => {
                writeln!(f, "{pad}par {{")?;
                for s in stmts {
                    self.write_stmt(f, s, depth + 1)?;
                }
                writeln!(f, "{pad}}}")
            }
            Stmt::Map {
                dst,
                op: MapOp::Fill(value),
                ..
            } => writeln!(f, "{pad}{} = {value}", self.access(dst)),
            Stmt::Map { dst, op, args } => {
                let args: Vec<String> = args.iter().map(|a| self.access(a)).collect();
                let op = match *op {
                    MapOp::Relu => "relu".to_string(),
                    MapOp::SaturatingAdd => "sat_add".to_string(),
                    MapOp::Copy => "copy".to_string(),
                    MapOp::Fill(_) => unreachable!("written above"),
                    MapOp::Clamp { min, max } => format!("clamp[{min}, {max}]"),
                    MapOp::Threshold { threshold, value } => {
                        format!("threshold[> {threshold} else {value}]")
                    }
                    MapOp::ScaleShift { align, right } => {
                        format!("scale_shift[<< {align}, >> {right}]")
                    }
                    MapOp::Prelu { right } => format!("prelu[>> {right}]"),
                    MapOp::Lut {
                        table,
                        lo,
                        shift,
                        len,
                        identity,
                    } => format!(
                        "lut[{}, lo {lo}, >> {shift}, {len} words, {}]",
                        self.memories[table].name,
                        if identity {
                            "identity above"
                        } else {
                            "clamp above"
                        }
                    ),
                    MapOp::SoftmaxExp {
                        table,
                        lo,
                        shift,
                        len,
                    } => format!(
                        "softmax_exp[{}, lo {lo}, >> {shift}, {len} words]",
                        self.memories[table].name
                    ),
                    MapOp::Divide { frac, width } => format!("divide[<< {frac}, {width} bits]"),
                };
                writeln!(f, "{pad}{} = {op}({})", self.access(dst), args.join(", "))
            }
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "program {}", self.name)?;
        for m in &self.memories {
            let bank = if m.banks > 1 {
                format!("; bank {} of {}", m.bank, m.banks)
            } else {
                String::new()
            };
            writeln!(
                f,
                "  memory {}: {} x {} ({:?}; tensors {}; shape {:?}{bank})",
                m.name,
                m.len,
                m.format,
                m.role,
                m.tensors.join(", "),
                m.shape
            )?;
        }
        for k in &self.kernels {
            writeln!(f, "kernel {} ({})", k.name, k.origin)?;
            for s in &k.body {
                self.write_stmt(f, s, 1)?;
            }
        }
        Ok(())
    }
}
