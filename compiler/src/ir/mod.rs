//! The compiler's two intermediate representations.
//!
//! - [`graph`]: the tensor graph, a validated, typed copy of the bundle's nodes (one op per node,
//!   tensors with shapes and fixed-point formats). Everything the later stages rely on is checked
//!   once here, with errors that name the node and the PyTorch module it came from.
//! - [`loops`]: loop nests over flat memories, with affine index expressions. Each graph op becomes
//!   one kernel; a kernel is a tree of `for` loops around multiply-accumulate, requantize and
//!   elementwise statements. The Calyx back end (`crate::calyx`) lowers it to groups and control.
//!
//! `docs/ir.md` shows both on a worked example.

pub mod elementwise;
pub mod graph;
pub mod loops;
pub mod window;
