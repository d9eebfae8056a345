//! `check-conflicts`: proves at compile time that no memory port is asked for two things at once.
//!
//! A memory bank has one port. In one step (a `par` block, or a lone statement) every bank may be
//! read at one offset (several readers of the same element share the read) or written once. Since
//! every access names its bank statically, this is a check over the IR text, no simulation needed;
//! a failure names the tensor, the bank and the two accesses.
//!
//! Accepted: `par { acc0 += x_b0[i0] * w_b0[i0]; acc1 += x_b0[i0] * w_b1[i0] }` (`x_b0` read once).
//! Rejected: `par { acc0 += x_b0[i0] * w_b0[i0]; acc1 += x_b0[i0 + 1] * w_b1[i0] }`.

use crate::error::{BankConflict, Error, Result};
use crate::ir::loops::{Access, Memory, Program, Stmt};

pub fn check_conflicts(program: &Program) -> Result<()> {
    for kernel in &program.kernels {
        for s in &kernel.body {
            check(program, &kernel.name, s)?;
        }
    }
    Ok(())
}

fn check(program: &Program, kernel: &str, stmt: &Stmt) -> Result<()> {
    match stmt {
        Stmt::For { body, .. } => body.iter().try_for_each(|s| check(program, kernel, s)),
        Stmt::Par(stmts) if stmts.iter().any(|s| !s.is_leaf()) => {
            // Nested control: each branch is checked on its own.
            stmts.iter().try_for_each(|s| check(program, kernel, s))
        }
        Stmt::Par(stmts) => step(&program.memories, kernel, stmts),
        leaf => step(&program.memories, kernel, std::slice::from_ref(leaf)),
    }
}

/// The reads and writes of one leaf statement.
fn accesses(stmt: &Stmt) -> (Vec<&Access>, Option<&Access>) {
    match stmt {
        Stmt::InitAcc { bias, .. } => (bias.iter().map(|(a, _)| a).collect(), None),
        Stmt::Mac { terms, .. } => (terms.iter().flat_map(|(a, b)| [a, b]).collect(), None),
        Stmt::InitConst { .. } => (Vec::new(), None),
        Stmt::Reduce { args, .. } => (args.iter().collect(), None),
        Stmt::Requant { dst, .. } => (Vec::new(), Some(dst)),
        Stmt::Map { dst, args, .. } => (args.iter().collect(), Some(dst)),
        Stmt::For { .. } | Stmt::Par(_) => (Vec::new(), None),
    }
}

/// Checks one parallel step against a program's memories (used by `lower-graph` to decide whether
/// an unrolled reduction can run in parallel).
pub fn step_conflict(memories: &[Memory], stmts: &[Stmt]) -> Option<BankConflict> {
    match step(memories, "", stmts) {
        Err(Error::Conflict(c)) => Some(*c),
        _ => None,
    }
}

fn step(memories: &[Memory], kernel: &str, stmts: &[Stmt]) -> Result<()> {
    // (access, is_write) in program order.
    let mut seen: Vec<(&Access, bool)> = Vec::new();
    // Tables read at addresses computed from data: one reader per table per step.
    let mut tables: Vec<(usize, &Access)> = Vec::new();
    for s in stmts {
        if let Some((table, args)) = match s {
            Stmt::Map { op, args, .. } => op.table().map(|t| (t, args)),
            _ => None,
        } {
            if let Some((_, other)) = tables.iter().find(|(t, _)| *t == table) {
                let m = &memories[table];
                let read =
                    |a: &Access| format!("{}[lut({}[{}])]", m.name, memories[a.mem].name, a.offset);
                return Err(Error::Conflict(Box::new(BankConflict {
                    tensor: m.tensors.join("/"),
                    bank: m.bank,
                    memory: m.name.clone(),
                    first: read(other),
                    second: read(&args[0]),
                    kernel: kernel.to_string(),
                })));
            }
            tables.push((table, &args[0]));
        }
        let (reads, write) = accesses(s);
        let all = reads
            .into_iter()
            .map(|a| (a, false))
            .chain(write.map(|a| (a, true)));
        for (a, is_write) in all {
            for &(b, b_write) in &seen {
                let same_port = a.mem == b.mem;
                let shared_read = !is_write && !b_write && a.offset == b.offset;
                if same_port && !shared_read {
                    let m = &memories[a.mem];
                    return Err(Error::Conflict(Box::new(BankConflict {
                        tensor: m.tensors.join("/"),
                        bank: m.bank,
                        memory: m.name.clone(),
                        first: format!("{}[{}]", m.name, b.offset),
                        second: format!("{}[{}]", m.name, a.offset),
                        kernel: kernel.to_string(),
                    })));
                }
            }
            seen.push((a, is_write));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Role;
    use crate::ir::loops::{Acc, Affine, Kernel, Memory, Var};
    use crate::numerics::FixedFormat;

    fn memory(name: &str, bank: usize) -> Memory {
        Memory {
            name: name.into(),
            tensors: vec!["x".into()],
            role: Role::Input,
            shape: vec![8],
            bank,
            banks: 2,
            elements: vec![0, 2, 4, 6],
            len: 4,
            format: FixedFormat::Q8_8,
        }
    }

    fn program(second_x: Affine) -> Program {
        let i = Affine::var(Some(Var(0)));
        let at = |mem, offset: Affine| Access { mem, offset };
        let par = Stmt::Par(vec![
            Stmt::Mac {
                acc: Acc(0),
                terms: vec![(at(0, i.clone()), at(1, i.clone()))],
            },
            Stmt::Mac {
                acc: Acc(1),
                terms: vec![(at(0, second_x), at(2, i.clone()))],
            },
        ]);
        Program {
            name: "t".into(),
            memories: vec![memory("x_b0", 0), memory("w_b0", 0), memory("w_b1", 1)],
            notes: Vec::new(),
            kernels: vec![Kernel {
                name: "k".into(),
                origin: String::new(),
                body: vec![Stmt::For {
                    var: Var(0),
                    extent: 4,
                    body: vec![par],
                }],
            }],
        }
    }

    #[test]
    fn a_shared_read_of_one_element_is_not_a_conflict() {
        assert!(check_conflicts(&program(Affine::var(Some(Var(0))))).is_ok());
    }

    #[test]
    fn two_elements_of_one_bank_in_one_step_are_rejected_with_both_accesses() {
        let other = Affine::var(Some(Var(0))).plus(&Affine::constant(1));
        let e = check_conflicts(&program(other)).unwrap_err().to_string();
        assert_eq!(
            e,
            "bank conflict on tensor 'x', bank 0 (memory 'x_b0'): x_b0[i0] and x_b0[i0 + 1] are accessed in the same step of kernel 'k'"
        );
    }
}
