//! Runs the real Calyx compiler (crates.io `calyx-*` 0.7.1) on our `.futil`: parse, the default
//! pass pipeline (`all`), and the Verilog back end.

use super::emit::MULTIPLIER;
use super::rom::ROMS_FILE;
use crate::error::{Error, Result};
use calyx_backend::{Backend, VerilogBackend};
use calyx_frontend::Workspace;
use calyx_opt::pass_manager::PassManager;
use calyx_utils::OutputFile;
use std::path::Path;

/// The Calyx crates keep global mutable state (calyx-utils' `PositionTable` is a `static mut`
/// singleton), so two compilations on different threads corrupt each other's memory. Every use of
/// the crates holds this lock.
static CALYX_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

const OUR_PRIMITIVES_FUTIL: &str = include_str!("../../primitives/mlcalyx.futil");
const OUR_PRIMITIVES_SV: &str = include_str!("../../primitives/mlcalyx.sv");

/// What the Calyx compiler made of a program.
#[derive(Debug, Clone)]
pub struct CalyxOutput {
    /// The primitives (ours, Calyx's, the ROMs) and `main`, whose `@external` memories are ports.
    pub verilog: String,
    /// Multiplier cells instantiated after Calyx's optimizations (which may share cells).
    pub multipliers: usize,
}

/// Compiles Calyx program text to SystemVerilog (synthesis mode: no `$readmemh` file I/O), with
/// `roms` (the ROM modules its `extern` names) beside it. The `externalize` pass turns every
/// `@external` memory into ports of `main`. Scratch files live in a temporary folder removed on
/// return.
pub fn futil_to_verilog(futil: &str, roms: &str) -> Result<CalyxOutput> {
    let scratch = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let lib = scratch.path().join("lib");
    write_library(&lib)?;
    let program = scratch.path().join("model.futil");
    write(&program, futil)?;
    write(&scratch.path().join(ROMS_FILE), roms)?;

    let _guard = CALYX_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let calyx = |e: calyx_utils::Error| Error::Calyx(format!("{e:?}"));
    let ws = Workspace::construct(&Some(program), &lib).map_err(calyx)?;
    let mut ctx = calyx_ir::from_ast::ast_to_ir(ws).map_err(calyx)?;
    ctx.bc = calyx_ir::BackendConf {
        synthesis_mode: true,
        enable_verification: false,
        flat_assign: true,
        emit_primitive_extmodules: false,
    };
    let pm = PassManager::default_passes().map_err(calyx)?;
    pm.execute_plan(
        &mut ctx,
        &["all".to_string(), "externalize".to_string()],
        &[],
        false,
    )
    .map_err(calyx)?;
    let multipliers = ctx
        .components
        .iter()
        .flat_map(|c| c.cells.iter())
        .filter(|c| c.borrow().type_name() == Some(MULTIPLIER.into()))
        .count();

    // `OutputFile::File` truncates on every write phase, so the linked primitives and the design
    // are written to two files and joined here.
    let prims_path = scratch.path().join("primitives.sv");
    let design_path = scratch.path().join("design.sv");
    VerilogBackend::validate(&ctx).map_err(calyx)?;
    VerilogBackend::link_externs(&ctx, &mut OutputFile::File(prims_path.clone())).map_err(calyx)?;
    VerilogBackend::emit(&ctx, &mut OutputFile::File(design_path.clone())).map_err(calyx)?;
    let mut sv = format!("{ONE_FILE_WAIVER}\n");
    sv.push_str(&read(&prims_path)?);
    sv.push_str(&waived(&read(&design_path)?, CALYX_MAIN_WAIVERS));
    if !sv.contains("module std_reg") || !sv.contains("module main") {
        return Err(Error::Calyx(
            "the Verilog output lacks the linked primitives or the main module".into(),
        ));
    }
    Ok(CalyxOutput {
        verilog: sv,
        multipliers,
    })
}

/// `verilator --lint-only -Wall` classes waived in Calyx's own code, each with its reason in
/// `docs/interface.md` ("Lint"); our primitives, ROMs and top are not waived.
/// Calyx's standard library: parameterized modules leave bits of their inputs unused (e.g.
/// `std_slice` keeps only the low bits).
const CALYX_STDLIB_WAIVERS: &[&str] = &["UNUSEDSIGNAL"];
/// Calyx's generated `main`: done signals and guards it computes but does not read, and the
/// `write_data` ports of input memories, which it never writes.
const CALYX_MAIN_WAIVERS: &[&str] = &["UNUSEDSIGNAL", "UNDRIVEN"];
/// The core is one file of many modules by design.
const ONE_FILE_WAIVER: &str = "/* verilator lint_off DECLFILENAME */";

/// `text` between `lint_off` and `lint_on` comments for `rules`.
fn waived(text: &str, rules: &[&str]) -> String {
    let mut out = String::new();
    for r in rules {
        out.push_str(&format!("/* verilator lint_off {r} */\n"));
    }
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    for r in rules {
        out.push_str(&format!("/* verilator lint_on {r} */\n"));
    }
    out
}

/// Writes Calyx's standard library (embedded in `calyx-stdlib`) and our primitives to `lib`.
fn write_library(lib: &Path) -> Result<()> {
    for (_, files) in calyx_stdlib::KNOWN_LIBS {
        for (loc, src) in files {
            let path = lib.join("primitives").join(loc);
            if loc.ends_with(".sv") {
                write(&path, &waived(src, CALYX_STDLIB_WAIVERS))?;
            } else {
                write(&path, src)?;
            }
        }
    }
    let (loc, src) = calyx_stdlib::COMPILE_LIB;
    write(&lib.join(loc), src)?;
    write(&lib.join("mlcalyx.futil"), OUR_PRIMITIVES_FUTIL)?;
    write(&lib.join("mlcalyx.sv"), OUR_PRIMITIVES_SV)
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}
