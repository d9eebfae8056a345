//! # mlcalyx-compiler
//!
//! Model bundle in; Calyx (`model.futil`), SystemVerilog (`model.sv`) and `manifest.json` out.
//!
//! ```text
//! bundle/ (model.json + .npy)      front: parse and check files            bundle
//!   -> ir::graph::Graph            validate shapes, formats, numerics      ir::graph
//!   -> ir::loops::Program          passes::lower_graph                     ir::loops, passes
//!   -> Calyx text                  calyx::emit_futil                       calyx
//!   -> SystemVerilog               the Calyx crates: default passes,       calyx::futil_to_verilog
//!                                  Verilog back end
//! ```
//!
//! The compiler knows nothing of simulators: `manifest.json` tells any host which memories to load
//! and read. Number formats and their arithmetic are in [`numerics`] (spec: `docs/numerics.md`).

pub mod banking;
pub mod bundle;
pub mod calyx;
pub mod error;
pub mod files;
pub mod ir;
pub mod manifest;
pub mod numerics;
pub mod passes;

use error::{Error, Result};
use std::path::{Path, PathBuf};

pub use bundle::Bundle;
pub use manifest::Manifest;

/// What the user chose for this compilation.
#[derive(Debug, Clone)]
pub struct Options {
    /// Memory banking factor `B`: activations get `min(B, L)` banks on their feature dimension,
    /// weights `min(B, N) x min(B, K)`, and loops are unrolled to match. A factor above the
    /// model's longest dimension is capped at it, with a note.
    pub banking: u32,
    /// Per-tensor banking chosen by the user; it wins over `banking` for the tensors it names.
    pub banking_config: Option<banking::BankingConfig>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            banking: 1,
            banking_config: None,
        }
    }
}

/// Everything one compilation produces, in memory.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// The loop IR in its text form.
    pub loops: String,
    pub futil: String,
    pub verilog: String,
    pub manifest: Manifest,
    /// Decisions the user should hear about, e.g. re-banking copies the compiler inserted.
    pub notes: Vec<String>,
}

/// Compiles a loaded bundle.
pub fn compile(bundle: &Bundle, options: &Options) -> Result<Artifacts> {
    let graph = ir::graph::Graph::from_bundle(bundle)?;
    // No layout uses more banks than a dimension has elements, so a larger factor builds the same
    // design; capping it keeps absurd factors from unrolling for minutes.
    let longest = graph
        .tensors
        .iter()
        .flat_map(|t| t.shape.iter().copied())
        .max()
        .unwrap_or(1);
    let banking = options
        .banking
        .min(u32::try_from(longest).unwrap_or(u32::MAX));
    let mut program = passes::lower_graph::lower_graph(
        &graph,
        banking as usize,
        options.banking_config.as_ref(),
    )?;
    if banking < options.banking {
        program.notes.insert(
            0,
            format!(
                "banking factor {}: no dimension of model '{}' has more than {longest} elements, so the largest useful factor is {longest}; compiled with {longest}",
                options.banking, graph.name
            ),
        );
    }
    passes::check_conflicts::check_conflicts(&program)?;
    let futil = calyx::emit_futil(&program);
    let verilog = calyx::futil_to_verilog(&futil)?;
    Ok(Artifacts {
        loops: program.to_string(),
        futil,
        verilog,
        manifest: Manifest::new(&program, banking),
        notes: program.notes.clone(),
    })
}

impl Artifacts {
    pub const FUTIL: &'static str = "model.futil";
    pub const VERILOG: &'static str = "model.sv";
    pub const MANIFEST: &'static str = "manifest.json";
    pub const LOOPS: &'static str = "loops.txt";

    /// Writes the artifacts into `out` (created if missing). On failure, the files written so far
    /// are removed again, so `out` never holds a partial set.
    pub fn write_to(&self, out: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let manifest = serde_json::to_string_pretty(&self.manifest)
            .map_err(|e| Error::Calyx(format!("manifest serialization: {e}")))?;
        let files = [
            (Self::LOOPS, self.loops.as_str()),
            (Self::FUTIL, self.futil.as_str()),
            (Self::VERILOG, self.verilog.as_str()),
            (Self::MANIFEST, manifest.as_str()),
        ];
        let mut written = Vec::new();
        for (name, text) in files {
            let path = out.join(name);
            if let Err(e) = std::fs::write(&path, text) {
                for p in &written {
                    let _ = std::fs::remove_file(p);
                }
                return Err(Error::io(path, e));
            }
            written.push(path);
        }
        Ok(written)
    }
}
