//! A loaded design library ([`Model`]) and simulations of it ([`Instance`]).

use std::ffi::{c_char, c_int, c_void, CString};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use crate::SimError;

/// Name of the memory array inside every memory module (Calyx `comb_mem_d*` / `seq_mem_d*`).
const MEM_VAR: &str = "mem";

type NewFn = unsafe extern "C" fn(c_int, *const *const c_char) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type StatusFn = unsafe extern "C" fn(*mut c_void) -> c_int;
type ResetFn = unsafe extern "C" fn(*mut c_void, u32) -> c_int;
type RunFn = unsafe extern "C" fn(*mut c_void, u64, *mut u64) -> i64;
type MemInfoFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const c_char,
    *mut u32,
    *mut u64,
    *mut u32,
) -> c_int;
type MemReadFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut c_void, u64) -> c_int;
type MemWriteFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *const c_void, u64) -> c_int;
type ScopesFn = unsafe extern "C" fn(*mut c_void, *const c_char, *mut c_char, u64) -> i64;
type VersionFn = unsafe extern "C" fn() -> u64;

/// The shim's entry points, copied out of the library (valid while it stays loaded).
#[derive(Clone, Copy)]
struct Api {
    new: NewFn,
    free: FreeFn,
    status: StatusFn,
    reset: ResetFn,
    run: RunFn,
    mem_info: MemInfoFn,
    mem_read: MemReadFn,
    mem_write: MemWriteFn,
    scopes_with_var: ScopesFn,
    verilator_version: VersionFn,
}

/// A design built into a shared library and loaded into this process.
///
/// Make any number of [`Instance`]s from it; each has its own `VerilatedContext`.
pub struct Model {
    path: PathBuf,
    api: Api,
    build_output: String,
    // Declared last so that it is dropped after everything that could point into it.
    _library: libloading::Library,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads a library built by [`crate::Verilator::build`].
    pub(crate) fn load(path: PathBuf, build_output: String) -> Result<Model, SimError> {
        let load_err = |error| SimError::Load {
            path: path.clone(),
            error,
        };
        // SAFETY: the library is one of ours: its initialisers are Verilator's and the shim's,
        // which have no side effects beyond their own (symbol-local) statics.
        let library = unsafe { open(&path) }.map_err(load_err)?;
        // SAFETY: the types match the `extern "C"` declarations in shim.cpp.
        let api = unsafe {
            Api {
                new: *library.get::<NewFn>(b"sim_new\0").map_err(load_err)?,
                free: *library.get::<FreeFn>(b"sim_free\0").map_err(load_err)?,
                status: *library.get::<StatusFn>(b"sim_status\0").map_err(load_err)?,
                reset: *library.get::<ResetFn>(b"sim_reset\0").map_err(load_err)?,
                run: *library.get::<RunFn>(b"sim_run\0").map_err(load_err)?,
                mem_info: *library
                    .get::<MemInfoFn>(b"sim_mem_info\0")
                    .map_err(load_err)?,
                mem_read: *library
                    .get::<MemReadFn>(b"sim_mem_read\0")
                    .map_err(load_err)?,
                mem_write: *library
                    .get::<MemWriteFn>(b"sim_mem_write\0")
                    .map_err(load_err)?,
                scopes_with_var: *library
                    .get::<ScopesFn>(b"sim_scopes_with_var\0")
                    .map_err(load_err)?,
                verilator_version: *library
                    .get::<VersionFn>(b"sim_verilator_version\0")
                    .map_err(load_err)?,
            }
        };
        Ok(Model {
            path,
            api,
            build_output,
            _library: library,
        })
    }

    /// The shared library file.
    pub fn library_path(&self) -> &Path {
        &self.path
    }

    /// Verilator's warnings from the build that produced this model (empty on a cache hit).
    pub fn build_output(&self) -> &str {
        &self.build_output
    }

    /// `VERILATOR_VERSION_INTEGER` the library was compiled against, e.g. 5006000 (0 if unknown).
    pub fn verilator_version_integer(&self) -> u64 {
        // SAFETY: no arguments, returns a constant.
        unsafe { (self.api.verilator_version)() }
    }

    /// A new simulation: its own `VerilatedContext` and model, `initial` blocks already run,
    /// `clk`, `reset` and `go` low. Write memories after this, not before.
    pub fn instantiate(&self) -> Result<Instance<'_>, SimError> {
        self.instantiate_with_args(&[])
    }

    /// Like [`Model::instantiate`], with command-line arguments for the design's
    /// `$test$plusargs` / `$value$plusargs` (e.g. `"+DATA=/abs/folder"`).
    pub fn instantiate_with_args(&self, args: &[&str]) -> Result<Instance<'_>, SimError> {
        let mut owned = vec![CString::new("mlcalyx-sim").map_err(|_| self.instantiate_error())?];
        for a in args {
            owned.push(CString::new(*a).map_err(|_| self.instantiate_error())?);
        }
        let argv: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr()).collect();
        let argc = c_int::try_from(argv.len()).map_err(|_| self.instantiate_error())?;
        // SAFETY: argv points to `argc` NUL-terminated strings that outlive the call (the
        // context copies them).
        let handle = unsafe { (self.api.new)(argc, argv.as_ptr()) };
        let handle = NonNull::new(handle).ok_or_else(|| self.instantiate_error())?;
        Ok(Instance {
            model: self,
            handle,
        })
    }

    fn instantiate_error(&self) -> SimError {
        SimError::Instantiate {
            path: self.path.clone(),
        }
    }
}

#[cfg(unix)]
unsafe fn open(path: &Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // RTLD_NOW: a missing symbol is reported here rather than as a crash later.
    Library::open(Some(path), RTLD_NOW | RTLD_LOCAL).map(Into::into)
}

#[cfg(not(unix))]
unsafe fn open(path: &Path) -> Result<libloading::Library, libloading::Error> {
    libloading::Library::new(path)
}

/// Shape of a memory: element width in bits and number of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryInfo {
    /// Bits per word, 1..=64.
    pub width_bits: u32,
    /// Number of words (all unpacked dimensions, row-major).
    pub depth: usize,
}

/// Where a memory lives and how its words are stored.
struct Located {
    scope: CString,
    var: CString,
    info: MemoryInfo,
    bytes_per_word: usize,
}

/// One simulation of a [`Model`]: a `VerilatedContext` and a model instance.
///
/// Dropping it frees both (`final` blocks are not run).
pub struct Instance<'a> {
    model: &'a Model,
    handle: NonNull<c_void>,
}

// SAFETY: an instance owns its context and model, which are touched only through `&mut self` or
// `&self` calls, each of which first makes the instance's context the calling thread's context.
// It is not `Sync`: two threads must not evaluate one model at the same time.
unsafe impl Send for Instance<'_> {}

impl std::fmt::Debug for Instance<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("library", &self.model.path)
            .finish_non_exhaustive()
    }
}

impl Drop for Instance<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle came from sim_new of this library and is freed exactly once.
        unsafe { (self.model.api.free)(self.handle.as_ptr()) }
    }
}

impl Instance<'_> {
    /// The model this instance simulates.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// Width and depth of a memory, named by its hierarchical instance path below `TOP`:
    /// `"main.x"` is variable `mem` in scope `TOP.main.x`.
    pub fn memory_info(&self, memory: &str) -> Result<MemoryInfo, SimError> {
        Ok(self.locate(memory)?.info)
    }

    /// Overwrites a whole memory. Words are raw bit patterns: only the low `width_bits` bits are
    /// used (the rest are masked off, so sign-extended negative values are fine).
    /// Errors if `words.len()` is not the memory's depth or the memory is unknown.
    pub fn write_memory(&mut self, memory: &str, words: &[u64]) -> Result<(), SimError> {
        let m = self.locate(memory)?;
        if words.len() != m.info.depth {
            return Err(SimError::LengthMismatch {
                memory: memory.to_string(),
                depth: m.info.depth,
                len: words.len(),
            });
        }
        let mask = width_mask(m.info.width_bits);
        let mut bytes = Vec::with_capacity(words.len() * m.bytes_per_word);
        for &w in words {
            bytes.extend_from_slice(&(w & mask).to_ne_bytes()[word_range(m.bytes_per_word)]);
        }
        // SAFETY: `bytes` holds exactly depth * bytes_per_word bytes, as the shim checks again.
        let rc = unsafe {
            (self.model.api.mem_write)(
                self.handle.as_ptr(),
                m.scope.as_ptr(),
                m.var.as_ptr(),
                bytes.as_ptr().cast(),
                bytes.len() as u64,
            )
        };
        self.mem_rc(memory, "sim_mem_write", rc)
    }

    /// Reads a whole memory as raw bit patterns (upper bits beyond `width_bits` are zero; the
    /// caller sign-converts).
    pub fn read_memory(&self, memory: &str) -> Result<Vec<u64>, SimError> {
        let m = self.locate(memory)?;
        let mut bytes = vec![0u8; m.info.depth * m.bytes_per_word];
        // SAFETY: `bytes` has room for exactly depth * bytes_per_word bytes.
        let rc = unsafe {
            (self.model.api.mem_read)(
                self.handle.as_ptr(),
                m.scope.as_ptr(),
                m.var.as_ptr(),
                bytes.as_mut_ptr().cast(),
                bytes.len() as u64,
            )
        };
        self.mem_rc(memory, "sim_mem_read", rc)?;
        let mask = width_mask(m.info.width_bits);
        Ok(bytes
            .chunks_exact(m.bytes_per_word)
            .map(|chunk| {
                let mut word = [0u8; 8];
                word[word_range(m.bytes_per_word)].copy_from_slice(chunk);
                u64::from_ne_bytes(word) & mask
            })
            .collect())
    }

    /// Holds `reset` high (with `go` low) for `cycles` rising edges, at least one, then low.
    /// Memories keep their contents.
    pub fn reset(&mut self, cycles: u32) -> Result<(), SimError> {
        // SAFETY: valid handle.
        let rc = unsafe { (self.model.api.reset)(self.handle.as_ptr(), cycles.max(1)) };
        match rc {
            0 => Ok(()),
            -2 => Err(self.stopped(0)),
            code => Err(self.shim_error("sim_reset", code.into())),
        }
    }

    /// Raises `go`, clocks until `done` is seen after a rising edge, then drops `go`.
    /// Returns the number of rising edges from raising `go` to seeing `done`.
    ///
    /// [`SimError::Timeout`] if `done` is not seen within `max_cycles` edges (`go` is dropped;
    /// the design is mid-computation, so reset it before running again);
    /// [`SimError::Stopped`] if the design executes `$finish`, `$stop`, `$fatal` or `$error`.
    pub fn run(&mut self, max_cycles: u64) -> Result<u64, SimError> {
        let mut cycles = 0u64;
        // SAFETY: valid handle; `cycles` is a valid out pointer.
        let rc = unsafe { (self.model.api.run)(self.handle.as_ptr(), max_cycles, &mut cycles) };
        match rc {
            n if n >= 0 => Ok(n as u64),
            -1 => Err(SimError::Timeout { max_cycles }),
            -2 => Err(self.stopped(cycles)),
            code => Err(self.shim_error("sim_run", code)),
        }
    }

    /// The hierarchical paths (below `TOP`) of all memories of the design, sorted.
    pub fn memories(&self) -> Vec<String> {
        let var = c"mem";
        // SAFETY: a null buffer of length 0 asks for the length only.
        let needed = unsafe {
            (self.model.api.scopes_with_var)(
                self.handle.as_ptr(),
                var.as_ptr(),
                std::ptr::null_mut(),
                0,
            )
        };
        let Ok(needed) = usize::try_from(needed) else {
            return Vec::new();
        };
        let mut buf = vec![0u8; needed + 1];
        // SAFETY: `buf` has room for `needed` bytes and the NUL.
        let got = unsafe {
            (self.model.api.scopes_with_var)(
                self.handle.as_ptr(),
                var.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len() as u64,
            )
        };
        if got < 0 {
            return Vec::new();
        }
        buf.truncate(needed);
        let text = String::from_utf8_lossy(&buf);
        let mut names: Vec<String> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.strip_prefix("TOP.").unwrap_or(l).to_string())
            .collect();
        names.sort();
        names
    }

    fn locate(&self, memory: &str) -> Result<Located, SimError> {
        let unknown = || SimError::UnknownMemory {
            memory: memory.to_string(),
            known: self.memories(),
        };
        if memory.is_empty() {
            return Err(unknown());
        }
        let scope = CString::new(format!("TOP.{memory}")).map_err(|_| unknown())?;
        let var = CString::new(MEM_VAR).map_err(|_| unknown())?;
        let (mut width_bits, mut depth, mut bytes_per_word) = (0u32, 0u64, 0u32);
        // SAFETY: valid handle, NUL-terminated strings, valid out pointers.
        let rc = unsafe {
            (self.model.api.mem_info)(
                self.handle.as_ptr(),
                scope.as_ptr(),
                var.as_ptr(),
                &mut width_bits,
                &mut depth,
                &mut bytes_per_word,
            )
        };
        match rc {
            0 => {}
            -1 | -2 => return Err(unknown()),
            -3 => {
                return Err(SimError::UnsupportedMemory {
                    memory: memory.to_string(),
                    reason: "words wider than 64 bits".to_string(),
                })
            }
            code => return Err(self.shim_error("sim_mem_info", code.into())),
        }
        let unsupported = |reason: String| SimError::UnsupportedMemory {
            memory: memory.to_string(),
            reason,
        };
        if !(1..=64).contains(&width_bits) {
            return Err(unsupported(format!("word width {width_bits} bits")));
        }
        if !matches!(bytes_per_word, 1 | 2 | 4 | 8) || width_bits > bytes_per_word * 8 {
            return Err(unsupported(format!(
                "{width_bits}-bit words stored in {bytes_per_word} bytes"
            )));
        }
        let depth = usize::try_from(depth).map_err(|_| unsupported(format!("depth {depth}")))?;
        Ok(Located {
            scope,
            var,
            info: MemoryInfo { width_bits, depth },
            bytes_per_word: bytes_per_word as usize,
        })
    }

    fn mem_rc(&self, memory: &str, operation: &'static str, rc: c_int) -> Result<(), SimError> {
        match rc {
            0 => Ok(()),
            -1 | -2 => Err(SimError::UnknownMemory {
                memory: memory.to_string(),
                known: self.memories(),
            }),
            code => Err(self.shim_error(operation, code.into())),
        }
    }

    fn stopped(&self, cycles: u64) -> SimError {
        // SAFETY: valid handle.
        let status = unsafe { (self.model.api.status)(self.handle.as_ptr()) };
        SimError::Stopped {
            cycles,
            error: status == 2,
        }
    }

    fn shim_error(&self, operation: &'static str, code: i64) -> SimError {
        SimError::Shim {
            path: self.model.path.clone(),
            operation,
            code,
        }
    }
}

/// The low `width` bits set.
fn width_mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// The bytes of a native-endian `u64` that hold a word of `n` bytes (n = 1, 2, 4 or 8).
fn word_range(n: usize) -> std::ops::Range<usize> {
    if cfg!(target_endian = "little") {
        0..n
    } else {
        8 - n..8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(width_mask(1), 1);
        assert_eq!(width_mask(16), 0xffff);
        assert_eq!(width_mask(64), u64::MAX);
    }
}
