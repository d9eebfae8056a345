//! # mlcalyx-fuzz-readers
//!
//! Fuzz targets for every reader of user input, and a stable-Rust driver that runs them.
//!
//! | target           | reads                                                                 |
//! |------------------|-----------------------------------------------------------------------|
//! | `bundle`         | `model.json` and its `.npy` files: `Bundle::load`, `Golden::load`, then the compiler front end (graph validation, `lower_graph`, `check_conflicts`, loop IR text, manifest, Calyx text), stopping before the Calyx crates |
//! | `npy`            | one `.npy` file against an arbitrary declared shape: `read_int_tensor`, `read_float_tensor` |
//! | `banking-config` | a `--banking-config` file (`BankingConfig::load`) applied to an example bundle through the same front end |
//!
//! Inputs are structure-aware: fuzzer bytes drive mutations of the real bundles, `.npy` files and
//! banking configs in `examples/` (see [`mutate`]), so most inputs get past the JSON parser and
//! many through the whole front end. A [`Case`] is the materialized input, a folder of files;
//! crashing cases are saved as such folders and replayed by the regression tests.
//!
//! The property: no input panics, runs longer than a time budget, or allocates more than a cap
//! (counted by [`alloc::Counting`], the global allocator of every binary linking this crate).
//! Errors are the expected outcome for most inputs. The same target bodies serve the stable
//! driver ([`driver`], the `fuzz-readers` binary, `cargo test`) and the libFuzzer targets in
//! `fuzz/fuzz_targets/` (`cargo +nightly fuzz run bundle`).

pub mod alloc;
pub mod case;
pub mod driver;
pub mod mutate;
pub mod seeds;
pub mod targets;

pub use case::Case;
pub use targets::{fuzz_one, Target};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// The unit tests of this crate run one at a time: the allocator's counters are process-wide, so
/// another test allocating (a panic message, a backtrace) would move the measured peak.
#[cfg(test)]
fn serial_test() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
