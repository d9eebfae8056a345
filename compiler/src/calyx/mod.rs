//! The Calyx back end: loop IR -> Calyx text -> the Calyx compiler (used as a library) ->
//! SystemVerilog.

mod backend;
mod emit;

pub use backend::futil_to_verilog;
pub use emit::emit_futil;
