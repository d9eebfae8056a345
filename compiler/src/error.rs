//! Compiler errors. Each names the place it arose: the bundle file, the tensor, or the node with
//! the PyTorch module and source line it came from.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bundle itself is unreadable or malformed.
    #[error("bundle {}: {message}", path.display())]
    Bundle { path: PathBuf, message: String },
    /// A tensor declaration is inconsistent (shape, format, file).
    #[error("tensor '{tensor}': {message}")]
    Tensor { tensor: String, message: String },
    /// A graph node cannot be compiled.
    #[error("node '{node}' ({op}{origin}): {message}")]
    Node {
        node: String,
        op: String,
        /// ", from fc1 (Linear) at mlp.py:21" or empty.
        origin: String,
        message: String,
    },
    /// Two accesses in one parallel step need the same memory port.
    #[error("{0}")]
    Conflict(Box<BankConflict>),
    /// A request the compiler cannot honour yet.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The Calyx compiler rejected the generated program (a bug in mlcalyx).
    #[error("Calyx compilation failed (this is an mlcalyx bug, please report it): {0}")]
    Calyx(String),
    /// Writing artifacts failed. The OS error is in the message and deliberately not also a
    /// `source()`, which `{:#}` chains would print a second time.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            error,
        }
    }

    pub(crate) fn tensor(tensor: &str, message: impl Into<String>) -> Error {
        Error::Tensor {
            tensor: tensor.to_string(),
            message: message.into(),
        }
    }
}

/// Two accesses that would need one bank's single port in the same step.
#[derive(Debug, thiserror::Error)]
#[error("bank conflict on tensor '{tensor}', bank {bank} (memory '{memory}'): {first} and {second} are accessed in the same step of kernel '{kernel}'")]
pub struct BankConflict {
    pub tensor: String,
    pub bank: usize,
    pub memory: String,
    pub first: String,
    pub second: String,
    pub kernel: String,
}

pub type Result<T> = std::result::Result<T, Error>;
