//! The `mlcalyx` command line.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use mlcalyx_compiler::banking::BankingConfig;
use mlcalyx_compiler::{compile, Bundle, Options};
use mlcalyx_harness::fpga::{Device, FpgaSettings, Tools};
use mlcalyx_harness::fuzz::{generate::Limits, FuzzOptions};
use mlcalyx_harness::{
    fuzz, interrupt, merge, parallel, python, report, run_bundle, RunResult, RunSettings,
};
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
        /// Build and simulate this many banking factors side by side.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        jobs: u32,
        /// Stop exporting a model file (its build() and torch.export) after this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = python::DEFAULT_EXPORT_TIMEOUT_S,
              value_parser = clap::value_parser!(u64).range(1..))]
        export_timeout: u64,
        #[command(flatten)]
        formats: FormatArgs,
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
    /// Random differential testing: random models at random bankings, each simulated and
    /// compared bit for bit with the NumPy reference; failures are shrunk into reproducers.
    Fuzz(FuzzArgs),
    /// Merge the JSON rows of several `run --json` outputs (e.g. the tasks of a cluster sweep).
    Merge {
        #[arg(required = true, value_name = "ROWS.json")]
        files: Vec<PathBuf>,
        /// Print the merged rows as one JSON array.
        #[arg(long)]
        json: bool,
        /// Draw the merged rows' cycles and latency against DSPs and LUTs into an SVG file (rows
        /// of `run --fpga`: a sweep's factors measured as separate tasks make one plot).
        #[arg(long, value_name = "FILE.svg")]
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
        #[command(flatten)]
        formats: FormatArgs,
    },
}

/// How a model file's tensors get their fixed-point formats (passed to scripts/export.py; see
/// docs/numerics.md).
#[derive(clap::Args)]
struct FormatArgs {
    /// The default format of every tensor: W bits, F of them fractional (default 16,8).
    #[arg(long, value_name = "W,F")]
    precision: Option<String>,
    /// Per group of tensors that share a format, the fewest integer bits (at the default width)
    /// that hold every float value seen on the example inputs; per weight, from its values.
    #[arg(long)]
    calibrate: bool,
    /// Per-tensor formats: {"tensor": {"width": W, "frac": F}, ...}, names as in model.json.
    #[arg(long, value_name = "FILE.json")]
    formats: Option<PathBuf>,
}

impl FormatArgs {
    fn options(self) -> python::ExportOptions {
        python::ExportOptions {
            precision: self.precision,
            calibrate: self.calibrate,
            formats: self.formats,
        }
    }
}

#[derive(clap::Args)]
struct FuzzArgs {
    /// How many random models.
    #[arg(long, default_value_t = 100)]
    models: usize,
    /// The seed: the same seed gives the same models and bankings.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Models exported, built and simulated side by side.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    jobs: u32,
    /// Runs per model: the first at a random --banking factor, the others with a random
    /// --banking-config.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    configs: u32,
    /// Widest layer.
    #[arg(long, default_value_t = Limits::default().max_width as u32, value_parser = clap::value_parser!(u32).range(1..))]
    max_width: u32,
    /// Most layers.
    #[arg(long, default_value_t = Limits::default().max_depth as u32, value_parser = clap::value_parser!(u32).range(1..))]
    max_depth: u32,
    /// Largest banking factor.
    #[arg(long, default_value_t = Limits::default().max_factor as u32, value_parser = clap::value_parser!(u32).range(1..))]
    max_factor: u32,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Reproducer folders of failures go here (created only when something fails).
    #[arg(long, default_value = "mlcalyx-fuzz")]
    out: PathBuf,
    /// Run every model even after a failure (otherwise models not yet started are skipped).
    #[arg(long)]
    keep_going: bool,
    /// Candidates a shrink may try.
    #[arg(long, default_value_t = 200)]
    shrink_tries: usize,
    /// How many failures are shrunk (the others get unshrunk reproducers).
    #[arg(long, default_value_t = 3)]
    shrink_failures: usize,
    /// Stop a simulation that runs longer than this.
    #[arg(long, default_value_t = 50_000_000)]
    max_cycles: u64,
}

impl FuzzArgs {
    fn options(&self) -> FuzzOptions {
        FuzzOptions {
            models: self.models,
            seed: self.seed,
            jobs: self.jobs as usize,
            configs: self.configs as usize,
            limits: Limits {
                max_width: self.max_width as usize,
                max_depth: self.max_depth as usize,
                max_factor: self.max_factor as usize,
            },
            out: self.out.clone(),
            keep_going: self.keep_going,
            shrink_tries: self.shrink_tries,
            shrink_failures: self.shrink_failures,
            max_cycles: self.max_cycles,
        }
    }
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
            formats,
        } => {
            check_out_dir(&out, "OUT")?;
            let timeout = Duration::from_secs(export_timeout);
            python::export(&model, &out, timeout, &formats.options())?;
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
            jobs,
            export_timeout,
            formats,
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
            let timeout = Duration::from_secs(export_timeout);
            let bundle_dir = bundle_for(&model, &out, timeout, &formats.options())?;
            let bundle = Bundle::load(&bundle_dir)?;
            let settings = RunSettings {
                banking_config,
                tolerance,
                max_cycles,
                fpga,
                post_synth,
            };
            let rows = parallel::map(
                factors.clone(),
                jobs as usize,
                "run",
                || (),
                |(), f| {
                    let dir = out.join(format!("banking-{f}"));
                    let result = run_bundle(&bundle, f, &dir, &verilator, &settings);
                    // A failed compile leaves nothing behind in its folder; a later failure keeps the
                    // artifacts for inspection.
                    if !dir.join(mlcalyx_compiler::Artifacts::MANIFEST).exists() {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    result
                },
            );
            let results: Vec<RunResult> = rows
                .into_iter()
                .zip(factors)
                .map(|(row, f)| {
                    row.unwrap_or_else(|panic| {
                        let e = anyhow::anyhow!("internal error: mlcalyx panicked: {panic}");
                        RunResult::failed(&bundle.model.model.name, f, &e)
                    })
                })
                .collect();
            write_plot(&results, plot.as_deref())?;
            print_rows(&results, json)
        }
        Command::Fuzz(args) => {
            let verilator = mlcalyx_sim::Verilator::find()?;
            let report = fuzz::fuzz(&args.options(), &verilator)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.text());
            }
            Ok(report.passed())
        }
        Command::Merge { files, json, plot } => {
            let rows = merge::read_rows(&files)?;
            write_plot(&rows, plot.as_deref())?;
            print_rows(&rows, json)
        }
    }
}

/// Writes the `--plot` SVG of `rows` when one was asked for.
fn write_plot(rows: &[RunResult], svg: Option<&Path>) -> Result<()> {
    if let Some(svg) = svg {
        mlcalyx_harness::plot::plot(rows, svg)?;
        eprintln!("mlcalyx: plot written to {}", svg.display());
    }
    Ok(())
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

/// Prints run rows as a table or JSON; errors in any row make the exit status 2, a mismatch 1.
fn print_rows(results: &[RunResult], json: bool) -> Result<bool> {
    if json {
        println!("{}", report::json(results));
    } else {
        print!("{}", report::table(results));
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

fn load_config(path: Option<&Path>) -> Result<Option<BankingConfig>> {
    path.map(|p| BankingConfig::load(p).map_err(anyhow::Error::msg))
        .transpose()
}

/// A bundle folder for `model`: itself if it is one, else the export of the model file into
/// `out/bundle`.
fn bundle_for(
    model: &Path,
    out: &Path,
    export_timeout: Duration,
    formats: &python::ExportOptions,
) -> Result<PathBuf> {
    if model.is_dir() {
        if formats.any() {
            bail!(
                "--precision, --calibrate and --formats choose formats when exporting a model \
                 file; {} is a bundle folder, already exported",
                model.display()
            );
        }
        return Ok(model.to_path_buf());
    }
    if model.extension().is_some_and(|e| e == "py") {
        let dir = out.join("bundle");
        python::export(model, &dir, export_timeout, formats)?;
        return Ok(dir);
    }
    bail!(
        "{} is neither a model file (.py) nor a bundle folder",
        model.display()
    )
}
