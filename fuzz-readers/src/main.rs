//! `fuzz-readers`: runs the reader fuzz targets on stable Rust, one after another.
//!
//! ```sh
//! cargo run --release -p mlcalyx-fuzz-readers -- --seconds 600              # every target, 10 min each
//! cargo run --release -p mlcalyx-fuzz-readers -- --target npy --inputs 100000 --seed 7
//! cargo run --release -p mlcalyx-fuzz-readers -- --target bundle --replay fuzz-crashes/bundle-123
//! ```
//! Exit status: 0 without crashes, 1 with crashes (saved under `--crash-dir`), 2 on a driver
//! error, 3 on a hang (an input over `--budget-ms`); an input over `--alloc-cap-mb` aborts.

use clap::Parser;
use mlcalyx_fuzz_readers::driver::{self, Options, Stop};
use mlcalyx_fuzz_readers::{alloc, Target};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Fuzz the readers of user input (bundles, .npy files, banking configs)")]
struct Cli {
    /// Targets to run, one after another (default: all).
    #[arg(long = "target", value_enum)]
    targets: Vec<Target>,
    /// Run each target this long.
    #[arg(long, conflicts_with = "inputs")]
    seconds: Option<f64>,
    /// Run each target on this many inputs (default 10000).
    #[arg(long)]
    inputs: Option<u64>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Inputs are up to this many random bytes, which drive the mutations of the examples.
    #[arg(long, default_value_t = 1024)]
    max_len: usize,
    /// The longest one input may run before it counts as a hang. The largest bundles the readers
    /// accept take about 2 s on an idle core, so this leaves room for a loaded machine.
    #[arg(long, default_value_t = 20_000)]
    budget_ms: u64,
    /// The most memory one input may allocate.
    #[arg(long, default_value_t = 256)]
    alloc_cap_mb: usize,
    #[arg(long, default_value = "fuzz-crashes")]
    crash_dir: PathBuf,
    /// Instead of fuzzing, run one saved case folder through the target (one --target) and print
    /// what the readers say.
    #[arg(long, conflicts_with = "input")]
    replay: Option<PathBuf>,
    /// Instead of fuzzing, turn these raw input bytes (e.g. `current-input` after an abort, or a
    /// libFuzzer artifact) into a case folder under --crash-dir and replay it.
    #[arg(long)]
    input: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let targets = if cli.targets.is_empty() {
        Target::ALL.to_vec()
    } else {
        cli.targets.clone()
    };
    if cli.replay.is_some() || cli.input.is_some() {
        let [target] = targets[..] else {
            eprintln!("fuzz-readers: --replay and --input need exactly one --target");
            return ExitCode::from(2);
        };
        let dir = match (&cli.replay, &cli.input) {
            (Some(dir), _) => dir.clone(),
            (None, Some(input)) => match materialize(target, input, &cli.crash_dir) {
                Ok(dir) => dir,
                Err(e) => {
                    eprintln!("fuzz-readers: {}: {e}", input.display());
                    return ExitCode::from(2);
                }
            },
            (None, None) => unreachable!("checked above"),
        };
        println!("case folder: {}", dir.display());
        alloc::begin(cli.alloc_cap_mb << 20);
        return match driver::catch(|| target.run(&dir)) {
            Ok(Ok(())) => {
                println!("accepted");
                ExitCode::SUCCESS
            }
            Ok(Err(e)) => {
                println!("error: {e}");
                ExitCode::SUCCESS
            }
            Err(panic) => {
                println!("CRASH: {panic}");
                ExitCode::from(1)
            }
        };
    }
    let stop = match cli.seconds {
        Some(s) => Stop::Time(Duration::from_secs_f64(s)),
        None => Stop::Inputs(cli.inputs.unwrap_or(10_000)),
    };
    let mut crashed = false;
    for target in targets {
        let options = Options {
            target,
            seed: cli.seed,
            stop,
            max_len: cli.max_len,
            budget: Duration::from_millis(cli.budget_ms),
            alloc_cap: cli.alloc_cap_mb << 20,
            crash_dir: cli.crash_dir.clone(),
        };
        match driver::run(&options) {
            Ok(report) => {
                println!("{report}");
                crashed |= !report.crashes.is_empty();
            }
            Err(e) => {
                eprintln!("fuzz-readers: {}: {e}", target.name());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::from(u8::from(crashed))
}

/// Writes the case that `input`'s bytes give into a folder under `crash_dir`.
fn materialize(target: Target, input: &Path, crash_dir: &Path) -> std::io::Result<PathBuf> {
    let bytes = std::fs::read(input)?;
    let dir = crash_dir.join(format!("{}-from-input", target.name()));
    target.generate(&bytes).write_to(&dir)?;
    Ok(dir)
}
