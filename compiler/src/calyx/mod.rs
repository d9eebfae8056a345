//! The Calyx back end: loop IR -> Calyx text -> the Calyx compiler (used as a library) ->
//! SystemVerilog, plus what makes it a deployable core: weight ROMs (`rom`) and the top module
//! with its I/O port (`top`).

mod backend;
mod emit;
pub mod rom;
pub mod top;

pub use backend::{futil_to_verilog, CalyxOutput};
pub use emit::{emit_futil, MULTIPLIER};
