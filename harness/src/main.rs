//! The `mlcalyx` command line.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use mlcalyx_compiler::banking::BankingConfig;
use mlcalyx_compiler::{compile, Bundle, Options};
use mlcalyx_harness::fpga::{Device, FpgaSettings, Tools};
use mlcalyx_harness::{interrupt, python, report, run_bundle, RunSettings};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "mlcalyx",
    version,
    about = "PyTorch models to verified Calyx/SystemVerilog accelerators"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Export (for a .py model file), compile, simulate with Verilator, compare, count cycles.
    Run {
        /// A model file defining build(), or an exported bundle folder.
        model: PathBuf,
        /// Banking factors, comma separated (e.g. 1,2,4,8): one row each.
        #[arg(long, default_value = "1")]
        banking: String,
        /// Per-tensor banking (dimensions, schemes, factors) as JSON; see docs/banking.md.
        #[arg(long, value_name = "FILE.json")]
        banking_config: Option<PathBuf>,
        /// Print the results as a JSON array on stdout.
        #[arg(long)]
        json: bool,
        /// Keep every artifact here (default: a temporary folder, removed afterwards).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Tolerance for |simulated - float PyTorch|, in real units: reported per output as
        /// `within_tolerance`. Pass/fail (the exit status) is bit-exactness against the
        /// fixed-point reference.
        #[arg(long, default_value_t = RunSettings::default().tolerance)]
        tolerance: f64,
        /// Stop a simulation that runs longer than this.
        #[arg(long, default_value_t = RunSettings::default().max_cycles)]
        max_cycles: u64,
        /// Stop exporting a model file (its build() and torch.export) after this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = python::DEFAULT_EXPORT_TIMEOUT_S,
              value_parser = clap::value_parser!(u64).range(1..))]
        export_timeout: u64,
        /// Synthesize (Yosys), place and route (nextpnr) every design for this Lattice ECP5:
        /// ecp5-25k, ecp5-45k or ecp5-85k. Adds lut, ff, dsp, bram, fmax_mhz, latency_us, fits.
        #[arg(long, value_name = "DEVICE")]
        fpga: Option<String>,
        /// The clock frequency nextpnr aims for, in MHz (Fmax is measured whatever it is).
        #[arg(long, default_value_t = 100.0, requires = "fpga")]
        fpga_freq: f64,
        /// Stop Yosys or nextpnr after this many seconds (the row reports it).
        #[arg(long, default_value_t = 3600, requires = "fpga")]
        fpga_timeout: u64,
        /// Also simulate the synthesized netlist and compare it with the golden:
        /// post_synth_bit_exact (needs --fpga).
        #[arg(long, requires = "fpga")]
        post_synth: bool,
        /// Draw cycles and latency against DSPs and LUTs per banking factor into an SVG file
        /// (needs --fpga).
        #[arg(long, value_name = "FILE.svg", requires = "fpga")]
        plot: Option<PathBuf>,
    },
    /// Compile a bundle into OUT: model.sv (the deployable core), manifest.json, model.futil,
    /// roms.sv, loops.txt.
    Compile {
        bundle: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
        /// One banking factor.
        #[arg(long, default_value = "1")]
        banking: String,
        /// Per-tensor banking (dimensions, schemes, factors) as JSON; see docs/banking.md.
        #[arg(long, value_name = "FILE.json")]
        banking_config: Option<PathBuf>,
    },
    /// Export a PyTorch model file into a bundle folder.
    Export {
        model: PathBuf,
        out: PathBuf,
        /// Stop exporting (the model's build() and torch.export) after this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = python::DEFAULT_EXPORT_TIMEOUT_S,
              value_parser = clap::value_parser!(u64).range(1..))]
        export_timeout: u64,
    },
}

fn main() -> ExitCode {
    if let Err(e) = interrupt::install() {
        eprintln!("mlcalyx: error: cannot install signal handlers: {e}");
        return ExitCode::from(2);
    }
    match real_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("mlcalyx: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The `--banking` list of `run` and `compile`: comma-separated positive whole numbers (digits
/// only, no spaces), each given once.
fn parse_banking(text: &str) -> Result<Vec<u32>> {
    let mut factors = Vec::new();
    let mut seen = BTreeSet::new();
    for part in text.split(',') {
        if part.is_empty() {
            bail!("--banking '{text}': an empty factor (expected e.g. 1,2,4)");
        }
        let f: u32 = part
            .parse()
            .ok()
            .filter(|_| part.bytes().all(|b| b.is_ascii_digit()))
            .with_context(|| format!("--banking: '{part}' is not a positive whole number"))?;
        if f == 0 {
            bail!("--banking 0: a banking factor is at least 1");
        }
        if !seen.insert(f) {
            bail!("--banking '{text}': factor {f} is given twice");
        }
        factors.push(f);
    }
    Ok(factors)
}

/// Checks that `out` (an output folder, `flag` in messages) can be a folder: the nearest path at
/// or above it that exists must be a folder, so a file there is reported as the user's mistake.
fn check_out_dir(out: &Path, flag: &str) -> Result<()> {
    let mut existing = Some(out);
    while let Some(p) = existing {
        match std::fs::symlink_metadata(p) {
            Ok(_) => break,
            Err(_) => existing = p.parent().filter(|q| !q.as_os_str().is_empty()),
        }
    }
    if let Some(p) = existing {
        if !p.is_dir() {
            bail!(
                "{flag} {}: {} is a file, not a folder",
                out.display(),
                p.display()
            );
        }
    }
    Ok(())
}

fn real_main() -> Result<bool> {
    match Cli::parse().command {
        Command::Export {
            model,
            out,
            export_timeout,
        } => {
            check_out_dir(&out, "OUT")?;
            python::export(&model, &out, Duration::from_secs(export_timeout))?;
            println!("exported {} -> {}", model.display(), out.display());
            Ok(true)
        }
        Command::Compile {
            bundle,
            out,
            banking,
            banking_config,
        } => {
            let banking = match parse_banking(&banking)?[..] {
                [one] => one,
                _ => bail!(
                    "--banking '{banking}': compile takes one banking factor (run takes a list)"
                ),
            };
            check_out_dir(&out, "-o")?;
            let banking_config = load_config(banking_config.as_deref())?;
            let bundle = Bundle::load(&bundle)?;
            let options = Options {
                banking,
                banking_config,
            };
            let artifacts = compile(&bundle, &options)?;
            for note in &artifacts.notes {
                eprintln!("mlcalyx: note: {note}");
            }
            for path in artifacts.write_to(&out)? {
                println!("wrote {}", path.display());
            }
            Ok(true)
        }
        Command::Run {
            model,
            banking,
            banking_config,
            json,
            out,
            tolerance,
            max_cycles,
            export_timeout,
            fpga,
            fpga_freq,
            fpga_timeout,
            post_synth,
            plot,
        } => {
            let factors = parse_banking(&banking)?;
            if let Some(dir) = &out {
                check_out_dir(dir, "--out")?;
            }
            let fpga = fpga_settings(fpga.as_deref(), fpga_freq, fpga_timeout)?;
            let banking_config = load_config(banking_config.as_deref())?;
            let verilator = mlcalyx_sim::Verilator::find()?;
            let scratch;
            let _scratch_guard;
            let out = match out {
                Some(dir) => dir,
                None => {
                    scratch = tempfile::tempdir().context("creating a temporary folder")?;
                    _scratch_guard = interrupt::register_dir(scratch.path());
                    scratch.path().to_path_buf()
                }
            };
            let bundle_dir = bundle_for(&model, &out, Duration::from_secs(export_timeout))?;
            let bundle = Bundle::load(&bundle_dir)?;
            let settings = RunSettings {
                banking_config,
                tolerance,
                max_cycles,
                fpga,
                post_synth,
            };
            let mut results = Vec::new();
            for f in factors {
                let dir = out.join(format!("banking-{f}"));
                results.push(run_bundle(&bundle, f, &dir, &verilator, &settings));
                // A failed compile leaves nothing behind in its folder; a later failure keeps the
                // artifacts for inspection.
                if !dir.join(mlcalyx_compiler::Artifacts::MANIFEST).exists() {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
            if json {
                println!("{}", report::json(&results));
            } else {
                print!("{}", report::table(&results));
            }
            if let Some(svg) = plot {
                mlcalyx_harness::plot::plot(&results, &svg)?;
                eprintln!("mlcalyx: plot written to {}", svg.display());
            }
            let errors: Vec<String> = results
                .iter()
                .filter_map(|r| {
                    r.error
                        .as_ref()
                        .map(|e| format!("banking {}: {e}", r.banking))
                })
                .collect();
            if !errors.is_empty() {
                bail!("{}", errors.join("\n"));
            }
            Ok(results.iter().all(|r| r.ok()))
        }
    }
}

/// `--fpga DEVICE`: the device and the tools (checked before any work starts).
fn fpga_settings(
    device: Option<&str>,
    freq_mhz: f64,
    timeout_s: u64,
) -> Result<Option<FpgaSettings>> {
    let Some(device) = device else {
        return Ok(None);
    };
    if !(freq_mhz.is_finite() && freq_mhz > 0.0) {
        bail!("--fpga-freq {freq_mhz}: a clock frequency is a positive number of MHz");
    }
    Ok(Some(FpgaSettings {
        device: Device::named(device).context("--fpga")?,
        freq_mhz,
        tools: Tools::find(Duration::from_secs(timeout_s))?,
    }))
}

fn load_config(path: Option<&Path>) -> Result<Option<BankingConfig>> {
    path.map(|p| BankingConfig::load(p).map_err(anyhow::Error::msg))
        .transpose()
}

/// A bundle folder for `model`: itself if it is one, else the export of the model file into
/// `out/bundle`.
fn bundle_for(model: &Path, out: &Path, export_timeout: Duration) -> Result<PathBuf> {
    if model.is_dir() {
        return Ok(model.to_path_buf());
    }
    if model.extension().is_some_and(|e| e == "py") {
        let dir = out.join("bundle");
        python::export(model, &dir, export_timeout)?;
        return Ok(dir);
    }
    bail!(
        "{} is neither a model file (.py) nor a bundle folder",
        model.display()
    )
}
