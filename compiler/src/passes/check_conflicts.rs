//! `check-conflicts`: proves at compile time that no memory port is asked for two things at once.
//!
//! A memory bank has one port. In one step (a `par` block, or a lone statement) every bank may be
//! read at one offset (several readers of the same element share the read) or written once. Since
//! every access names its bank statically, this is a check over the IR text, no simulation needed;
//! a failure names the tensor, the bank and the two accesses.
//!
//! Accepted: `par { acc0 += x_b0[i0] * w_b0[i0]; acc1 += x_b0[i0] * w_b1[i0] }` (`x_b0` read once).
//! Rejected: `par { acc0 += x_b0[i0] * w_b0[i0]; acc1 += x_b0[i0 + 1] * w_b1[i0] }`.

use crate::error::{Error, Result};
use crate::ir::loops::{Access, Program, Stmt};

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
        Stmt::Par(stmts)
            if stmts
                .iter()
                .any(|s| matches!(s, Stmt::For { .. } | Stmt::Par(_))) =>
        {
            // Nested control: each branch is checked on its own.
            stmts.iter().try_for_each(|s| check(program, kernel, s))
        }
        Stmt::Par(stmts) => step(program, kernel, stmts),
        leaf => step(program, kernel, std::slice::from_ref(leaf)),
    }
}

/// The reads and writes of one leaf statement.
fn accesses(stmt: &Stmt) -> (Vec<&Access>, Option<&Access>) {
    match stmt {
        Stmt::InitAcc { bias, .. } => (bias.iter().map(|(a, _)| a).collect(), None),
        Stmt::Mac { a, b, .. } => (vec![a, b], None),
        Stmt::Requant { dst, .. } => (Vec::new(), Some(dst)),
        Stmt::Map { dst, args, .. } => (args.iter().collect(), Some(dst)),
        Stmt::For { .. } | Stmt::Par(_) => (Vec::new(), None),
    }
}

fn step(program: &Program, kernel: &str, stmts: &[Stmt]) -> Result<()> {
    // (access, is_write) in program order.
    let mut seen: Vec<(&Access, bool)> = Vec::new();
    for s in stmts {
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
                    let m = &program.memories[a.mem];
                    return Err(Error::Conflict {
                        tensor: m.tensors.join("/"),
                        bank: m.bank,
                        memory: m.name.clone(),
                        first: format!("{}[{}]", m.name, b.offset),
                        second: format!("{}[{}]", m.name, a.offset),
                        kernel: kernel.to_string(),
                    });
                }
            }
            seen.push((a, is_write));
        }
    }
    Ok(())
}
