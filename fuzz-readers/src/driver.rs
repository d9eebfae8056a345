//! The stable-Rust fuzzing loop: seeded random bytes through a target, each input under a time
//! budget (a watchdog thread) and an allocation cap ([`crate::alloc`]), panics caught and saved.
//!
//! Input `i` of seed `s` is a pure function of `(s, i)`, so a run is reproducible; each crash is
//! saved as a case folder (replay with `fuzz-readers --target T --replay DIR`) together with its
//! raw bytes (`input.bin`, which `cargo fuzz run T input.bin` also takes).

use crate::alloc;
use crate::targets::{run_case, Target};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    Inputs(u64),
    Time(Duration),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub seed: u64,
    pub stop: Stop,
    /// Inputs are 0..=max_len random bytes.
    pub max_len: usize,
    /// The longest one input may run before it counts as a hang (the process then exits).
    pub budget: Duration,
    /// The most bytes one input may have allocated at once (beyond that the process aborts).
    pub alloc_cap: usize,
    /// Where crashing inputs are saved.
    pub crash_dir: PathBuf,
}

/// The first input that panicked at one location.
#[derive(Debug, Clone)]
pub struct Crash {
    pub index: u64,
    /// The panic location and message.
    pub message: String,
    /// The saved case folder.
    pub saved: PathBuf,
    /// How many inputs panicked at this location.
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub target: Target,
    pub seed: u64,
    pub inputs: u64,
    /// Inputs every reader accepted (no error).
    pub accepted: u64,
    pub elapsed: Duration,
    pub slowest: Duration,
    pub slowest_index: u64,
    /// The most bytes any one input had allocated at once.
    pub peak_alloc: usize,
    pub crashes: Vec<Crash>,
}

impl Report {
    pub fn execs_per_sec(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} inputs in {:.1} s ({:.0}/s, seed {}), {:.1}% accepted by every reader, \
             {} crashing inputs at {} places; slowest input #{} took {:.1} ms; \
             largest allocation by one input {:.1} MB",
            self.target.name(),
            self.inputs,
            self.elapsed.as_secs_f64(),
            self.execs_per_sec(),
            self.seed,
            100.0 * self.accepted as f64 / self.inputs.max(1) as f64,
            self.crashes.iter().map(|c| c.count).sum::<u64>(),
            self.crashes.len(),
            self.slowest_index,
            self.slowest.as_secs_f64() * 1e3,
            self.peak_alloc as f64 / 1e6,
        )?;
        for c in &self.crashes {
            write!(
                f,
                "\n  CRASH input #{} (and {} more): {}\n    saved in {}",
                c.index,
                c.count - 1,
                c.message,
                c.saved.display()
            )?;
        }
        Ok(())
    }
}

/// The bytes of input `index` of run `seed`.
pub fn input_bytes(seed: u64, index: u64, max_len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let len = rng.usize(0..=max_len);
    (0..len).map(|_| rng.u8(..)).collect()
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook (once per process) with one that keeps the message and location for
/// the report instead of printing it.
fn quiet_panics() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info.to_string().replace('\n', " ");
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(message));
        }))
    });
}

/// Runs `f`, turning a panic into `Err(message)`.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    quiet_panics();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panic without a message".into())
    })
}

/// The watchdog's view of the input being run.
struct Running {
    index: AtomicU64,
    /// Nanoseconds since `epoch` when the input started; 0 while no input runs.
    started: AtomicU64,
    epoch: Instant,
    /// Set when the run ends, to stop its watchdog.
    finished: std::sync::atomic::AtomicBool,
}

impl Running {
    fn now(&self) -> u64 {
        (self.epoch.elapsed().as_nanos() as u64).max(1)
    }
}

/// Exits the process (status 3) with a message if one input runs longer than `budget`, after
/// saving the case being run.
fn watchdog(running: Arc<Running>, budget: Duration, case_dir: PathBuf, options: Options) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(50).min(budget));
        if running.finished.load(Relaxed) {
            return;
        }
        let started = running.started.load(Relaxed);
        if started == 0 || running.now() - started < budget.as_nanos() as u64 {
            continue;
        }
        let index = running.index.load(Relaxed);
        let saved = options
            .crash_dir
            .join(format!("{}-{index}-timeout", options.target.name()));
        let _ = copy_dir(&case_dir, &saved);
        let _ = std::fs::write(
            saved.join("input.bin"),
            input_bytes(options.seed, index, options.max_len),
        );
        eprintln!(
            "fuzz-readers: CRASH: input #{index} of target {} (seed {}) ran longer than {:?}; case saved in {}",
            options.target.name(),
            options.seed,
            budget,
            saved.display()
        );
        std::process::exit(3);
    });
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Fuzzes one target until `options.stop`. The error is an I/O failure of the driver itself.
pub fn run(options: &Options) -> std::io::Result<Report> {
    let scratch = crate::case::scratch()?;
    let case_dir = scratch.path().join("case");
    std::fs::create_dir_all(&options.crash_dir)?;
    // Written before each input, so an input that aborts the process (allocation cap) is kept:
    // the scratch folder outlives an abort.
    let current = scratch.path().join("current-input");
    eprintln!(
        "fuzz-readers: {}: the input being run is kept in {}",
        options.target.name(),
        current.display()
    );
    let running = Arc::new(Running {
        index: AtomicU64::new(0),
        started: AtomicU64::new(0),
        epoch: Instant::now(),
        finished: false.into(),
    });
    watchdog(
        running.clone(),
        options.budget,
        case_dir.clone(),
        options.clone(),
    );
    let start = Instant::now();
    let mut report = Report {
        target: options.target,
        seed: options.seed,
        inputs: 0,
        accepted: 0,
        elapsed: Duration::ZERO,
        slowest: Duration::ZERO,
        slowest_index: 0,
        peak_alloc: 0,
        crashes: Vec::new(),
    };
    for index in 0.. {
        let done = match options.stop {
            Stop::Inputs(n) => index >= n,
            Stop::Time(t) => start.elapsed() >= t,
        };
        if done {
            break;
        }
        let bytes = input_bytes(options.seed, index, options.max_len);
        std::fs::write(&current, &bytes)?;
        running.index.store(index, Relaxed);
        running.started.store(running.now(), Relaxed);
        let base = alloc::begin(options.alloc_cap);
        let t0 = Instant::now();
        let outcome =
            catch(|| run_case(options.target, &options.target.generate(&bytes), &case_dir));
        let took = t0.elapsed();
        report.peak_alloc = report.peak_alloc.max(alloc::end(base));
        running.started.store(0, Relaxed);
        report.inputs += 1;
        if took > report.slowest {
            report.slowest = took;
            report.slowest_index = index;
        }
        match outcome {
            Ok(written) => report.accepted += u64::from(written?.is_ok()),
            Err(message) => {
                // One saved case per panic location; the message starts with it.
                let location = |m: &str| m.split(": ").next().unwrap_or_default().to_string();
                let here = location(&message);
                if let Some(c) = report
                    .crashes
                    .iter_mut()
                    .find(|c| location(&c.message) == here)
                {
                    c.count += 1;
                    continue;
                }
                let saved = options
                    .crash_dir
                    .join(format!("{}-{index}", options.target.name()));
                // A panic while generating the case leaves no folder to copy: the bytes suffice.
                if case_dir.exists() {
                    copy_dir(&case_dir, &saved)?;
                } else {
                    std::fs::create_dir_all(&saved)?;
                }
                std::fs::write(saved.join("input.bin"), &bytes)?;
                std::fs::write(saved.join("panic.txt"), &message)?;
                report.crashes.push(Crash {
                    index,
                    message,
                    saved,
                    count: 1,
                });
            }
        }
    }
    report.elapsed = start.elapsed();
    running.finished.store(true, Relaxed);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_location_and_message() {
        let _serial = crate::serial_test();
        let e = catch(|| panic!("boom {}", 1)).unwrap_err();
        assert!(
            e.starts_with("panicked at fuzz-readers/src/driver.rs:"),
            "{e}"
        );
        assert!(e.ends_with(": boom 1"), "{e}");
        assert_eq!(catch(|| 7), Ok(7));
    }

    #[test]
    fn inputs_are_a_function_of_seed_and_index() {
        let _serial = crate::serial_test();
        assert_eq!(input_bytes(1, 5, 64), input_bytes(1, 5, 64));
        assert_ne!(input_bytes(1, 5, 64), input_bytes(2, 5, 64));
        assert_ne!(input_bytes(1, 5, 64), input_bytes(1, 6, 64));
        assert!(input_bytes(3, 9, 16).len() <= 16);
    }
}
