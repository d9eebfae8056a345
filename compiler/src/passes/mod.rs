//! Compiler passes, one per file. Each says what it does with a before/after example.
//!
//! The pipeline (`crate::compile`): `choose-layouts` (inside `lower-graph`) -> `lower-graph` ->
//! `check-conflicts` -> Calyx emission.

pub mod check_conflicts;
pub mod choose_layouts;
pub mod lower_graph;
