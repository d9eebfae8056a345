//! `manifest.json`: what a host needs to drive the generated design, and nothing about how it was
//! made. The harness reads it to load memories and read results.

use crate::bundle::Role;
use crate::ir::loops::Program;
use crate::numerics::FixedFormat;
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "mlcalyx.manifest";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub version: u32,
    pub model: String,
    /// The banking factor the design was compiled for.
    pub banking: u32,
    pub top: Top,
    pub memories: Vec<MemoryEntry>,
}

/// The top module's handshake: hold `reset`, raise `go`, wait for `done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Top {
    pub module: String,
    pub clock: String,
    pub reset: String,
    pub go: String,
    pub done: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryEntry {
    /// The Calyx cell name.
    pub name: String,
    /// Hierarchical instance path below the top, e.g. `main.x`.
    pub instance: String,
    pub role: Role,
    /// Bundle tensors stored in this memory (word `i` holds element `element(i)` of each).
    pub tensors: Vec<String>,
    pub shape: Vec<usize>,
    /// Number of words.
    pub depth: usize,
    /// Bits per word.
    pub width: u32,
    pub format: FixedFormat,
    /// This memory is bank `bank` of `banks` of its tensors.
    pub bank: usize,
    pub banks: usize,
    /// The row-major flat tensor index held by each word; empty when word `i` holds element `i`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<usize>,
}

impl Manifest {
    pub fn new(program: &Program, banking: u32) -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            version: VERSION,
            model: program.name.clone(),
            banking,
            top: Top {
                module: "main".into(),
                clock: "clk".into(),
                reset: "reset".into(),
                go: "go".into(),
                done: "done".into(),
            },
            memories: program
                .memories
                .iter()
                .map(|m| MemoryEntry {
                    name: m.name.clone(),
                    instance: format!("main.{}", m.name),
                    role: m.role,
                    tensors: m.tensors.clone(),
                    shape: m.shape.clone(),
                    depth: m.len,
                    width: m.format.width,
                    format: m.format,
                    bank: m.bank,
                    banks: m.banks,
                    elements: if m.elements.iter().enumerate().all(|(i, &e)| i == e)
                        && m.len == m.shape.iter().product::<usize>()
                    {
                        Vec::new()
                    } else {
                        m.elements.clone()
                    },
                })
                .collect(),
        }
    }

    /// The memories (banks) that hold `tensor`, in bank order.
    pub fn memories_of<'m>(
        &'m self,
        tensor: &'m str,
    ) -> impl Iterator<Item = &'m MemoryEntry> + 'm {
        self.memories
            .iter()
            .filter(move |m| m.tensors.iter().any(|t| t == tensor))
    }
}

impl MemoryEntry {
    /// The flat tensor index held by word `word`.
    pub fn element(&self, word: usize) -> usize {
        if self.elements.is_empty() {
            word
        } else {
            self.elements[word]
        }
    }
}
