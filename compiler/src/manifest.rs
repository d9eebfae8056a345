//! `manifest.json`: what a host needs to drive the generated core, and nothing about how it was
//! made: its ports, and where each input and output tensor's banks sit on the I/O port
//! (`docs/interface.md`). The harness reads it to load inputs and read results.

use crate::bundle::Role;
use crate::calyx::top::{self, IoMap};
use crate::ir::loops::Program;
use crate::numerics::FixedFormat;
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "mlcalyx.manifest";
pub const VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub version: u32,
    pub model: String,
    /// The banking factor the design was compiled for.
    pub banking: u32,
    pub top: Top,
    /// The load/store port into the input and output buffers.
    pub io: IoPort,
    /// Multipliers instantiated in the core (each one DSP multiplier for operands up to 18 bits).
    pub multipliers: usize,
    pub memories: Vec<MemoryEntry>,
}

/// The core's one load/store port (`docs/interface.md`): used while `go` is low; a write takes
/// one rising edge with `we` high, a read is combinational (`rdata` follows `addr`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoPort {
    pub addr: String,
    pub wdata: String,
    pub we: String,
    pub rdata: String,
    pub addr_width: u32,
    /// Width of `wdata` and `rdata`; a narrower word sits in the low bits (read back
    /// zero-extended).
    pub data_width: u32,
    /// Addresses `0..words` hold buffer words; other addresses read as zero.
    pub words: usize,
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
    /// Hierarchical instance path, e.g. `mlcalyx_core.buf_x` (for debugging only: a host uses
    /// the I/O port).
    pub instance: String,
    /// `input` / `output`: an I/O buffer at `address`; `weight`: a ROM; `activation`: a memory
    /// inside the core.
    pub role: Role,
    /// I/O port address of word 0 (word `i` is at `address + i`); only inputs and outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<usize>,
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
    pub fn new(program: &Program, banking: u32, io: &IoMap, multipliers: usize) -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            version: VERSION,
            model: program.name.clone(),
            banking,
            top: Top {
                module: top::TOP_MODULE.into(),
                clock: "clk".into(),
                reset: "reset".into(),
                go: "go".into(),
                done: "done".into(),
            },
            io: IoPort {
                addr: top::IO_ADDR.into(),
                wdata: top::IO_WDATA.into(),
                we: top::IO_WE.into(),
                rdata: top::IO_RDATA.into(),
                addr_width: io.addr_width,
                data_width: io.data_width,
                words: io.words,
            },
            multipliers,
            memories: program
                .memories
                .iter()
                .enumerate()
                .map(|(i, m)| MemoryEntry {
                    name: m.name.clone(),
                    instance: top::instance_path(m),
                    role: m.role,
                    address: io.base(i),
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
