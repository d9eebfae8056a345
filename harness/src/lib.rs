//! # mlcalyx-harness
//!
//! The one crate that sees every stage: PyTorch model file -> bundle (`scripts/export.py`) ->
//! compiler -> Verilator (`mlcalyx-sim`) -> comparison with the golden tensors (`mlcalyx-golden`)
//! -> cycle counts, per banking factor. The `mlcalyx` binary is its command line.

pub mod fpga;
pub mod fuzz;
pub mod interrupt;
pub mod io;
pub mod merge;
pub mod parallel;
pub mod pipeline;
pub mod plot;
pub mod python;
pub mod ranges;
pub mod report;

pub use pipeline::{run_bundle, Design, RunResult, RunSettings};
