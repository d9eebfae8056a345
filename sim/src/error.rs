//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong while finding Verilator, building a design or simulating it.
///
/// Messages name the file, memory or limit involved, so they can be shown to a user as they are.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No usable `verilator` executable.
    #[error(
        "Verilator not found: install it with scripts/setup.sh or set VERILATOR=... ({detail})"
    )]
    VerilatorNotFound {
        /// What was tried.
        detail: String,
    },

    /// `verilator --version` ran but its answer could not be understood.
    #[error("could not read the version of {}: {detail}", .path.display())]
    VerilatorVersion {
        /// The executable that was run.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },

    /// The Verilator found is older than 5.0 (the shim uses the Verilator 5 context API).
    #[error(
        "{} is Verilator {major}.{minor:03}; mlcalyx-sim needs Verilator 5.0 or newer \
         (install it with scripts/setup.sh or set VERILATOR=...)",
        .path.display()
    )]
    VerilatorTooOld {
        /// The executable that was run.
        path: PathBuf,
        /// Its major version.
        major: u32,
        /// Its minor version.
        minor: u32,
    },

    /// A file-system operation failed.
    // The OS error is part of the message and deliberately not also a `source()`: `{:#}` chains
    // would print its text twice.
    #[error("{action} {}: {error}", .path.display())]
    Io {
        /// What was being done, e.g. "reading".
        action: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },

    /// The top module name is not a plain SystemVerilog identifier.
    #[error("invalid top module name {top:?}: expected a SystemVerilog identifier like `main`")]
    InvalidTop {
        /// The name given.
        top: String,
    },

    /// Verilator (or the C++ compiler it runs) failed; `log` holds its diagnostics.
    #[error(
        "Verilator failed to build {} (top module `{top}`, {status}):\n{log}",
        .sv.display()
    )]
    Build {
        /// The design file.
        sv: PathBuf,
        /// The top module.
        top: String,
        /// How the process ended, e.g. "exit status: 1".
        status: String,
        /// Verilator's standard error (or the end of its standard output when that is empty).
        log: String,
    },

    /// The built shared library could not be loaded, or lacks a `sim_*` symbol.
    #[error("could not load the simulation library {}: {error}", .path.display())]
    Load {
        /// The shared library.
        path: PathBuf,
        /// The loader's error (in the message, not also a `source()`).
        error: libloading::Error,
    },

    /// `sim_new` failed (the C++ model constructor threw).
    #[error("could not instantiate the model of {}", .path.display())]
    Instantiate {
        /// The shared library.
        path: PathBuf,
    },

    /// No public memory array at that hierarchical path.
    #[error(
        "unknown memory `{memory}` (no variable `mem` in scope `TOP.{memory}`); \
         memories of this design: {}",
        known_list(.known)
    )]
    UnknownMemory {
        /// The path asked for, e.g. `main.x`.
        memory: String,
        /// The memories the design does have.
        known: Vec<String>,
    },

    /// The memory exists but cannot be accessed as words of 1..=64 bits.
    #[error("memory `{memory}` is not supported: {reason}")]
    UnsupportedMemory {
        /// The path asked for.
        memory: String,
        /// Why.
        reason: String,
    },

    /// A write whose length is not the memory's depth.
    #[error("memory `{memory}` has {depth} words, but {len} were given")]
    LengthMismatch {
        /// The path asked for.
        memory: String,
        /// The number of words of the memory.
        depth: usize,
        /// The number of words given.
        len: usize,
    },

    /// `done` was not seen within the cycle budget.
    #[error("the design did not raise `done` within {max_cycles} cycles")]
    Timeout {
        /// The budget given to [`crate::Instance::run`].
        max_cycles: u64,
    },

    /// The design executed `$finish`, `$stop`, `$fatal` or `$error`. The instance cannot be
    /// evaluated again; make a new one.
    #[error("the design stopped after {cycles} rising edges: {}", stop_reason(*.error))]
    Stopped {
        /// Rising edges clocked in the call that stopped (0 if it had stopped before).
        cycles: u64,
        /// True for `$fatal`, `$error` or `$stop`, false for `$finish`.
        error: bool,
    },

    /// A shim function reported an unexpected failure (a C++ exception or a bad handle).
    #[error("internal error in the simulation library {}: {operation} returned {code}", .path.display())]
    Shim {
        /// The shared library.
        path: PathBuf,
        /// The shim function.
        operation: &'static str,
        /// Its return code.
        code: i64,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none (are the memory modules named *_mem_d* with an array `mem`?)".to_string()
    } else {
        known.join(", ")
    }
}

fn stop_reason(error: bool) -> &'static str {
    if error {
        "it executed $fatal, $error or $stop"
    } else {
        "it executed $finish"
    }
}

impl SimError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        error: std::io::Error,
    ) -> Self {
        SimError::Io {
            action,
            path: path.into(),
            error,
        }
    }
}
