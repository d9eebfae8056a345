//! Compiler passes, one per file. Each says what it does with a before/after example.

pub mod lower_graph;
