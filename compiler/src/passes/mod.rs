//! Compiler passes, one per file. Each says what it does with a before/after example.
//!
//! The pipeline (`crate::compile`): `choose-layouts` -> `lower-graph` (which builds kernels with
//! `agree-layouts`, `unroll` and `rewrite-accesses`) -> `check-conflicts` -> Calyx emission.

pub mod agree_layouts;
pub mod check_conflicts;
pub mod choose_layouts;
pub mod lower_conv;
pub mod lower_elementwise;
pub mod lower_graph;
pub mod lower_softmax;
pub mod rewrite_accesses;
pub mod unroll;
