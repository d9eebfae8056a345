//! `mlcalyx fuzz`: random differential testing. Random models ([`generate`]) are exported by a
//! long-lived Python helper ([`exporter`]), compiled at random bankings, simulated, and compared
//! bit for bit with the NumPy reference. Rejections the compiler explains are counted apart; a
//! mismatch, an error or a panic is a failure, shrunk ([`shrink`]) into a reproducer folder.

pub mod exporter;
pub mod generate;
pub mod shrink;
pub mod spec;

use crate::parallel::{self, panic_message};
use crate::pipeline::{self, RunSettings};
use anyhow::{Context, Result};
use exporter::{Export, Exporter};
use generate::Limits;
use mlcalyx_compiler::error::Error as CompileError;
use mlcalyx_compiler::Bundle;
use mlcalyx_sim::Verilator;
use serde::Serialize;
use spec::{Banking, Case};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What `mlcalyx fuzz` was asked to do.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub models: usize,
    pub seed: u64,
    pub jobs: usize,
    /// Runs per model: one at a random factor, the others with a random banking config.
    pub configs: usize,
    pub limits: Limits,
    /// Reproducer folders go here (created only when something fails).
    pub out: PathBuf,
    /// Go on after the first failure (otherwise the models not yet started are skipped).
    pub keep_going: bool,
    /// Candidates tried per shrink, and how many failures are shrunk.
    pub shrink_tries: usize,
    pub shrink_failures: usize,
    pub max_cycles: u64,
}

/// The verdict of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    BitExact,
    Mismatch,
    /// Refused with an explanation (a conflicting banking config, an accumulator that could
    /// overflow, a documented limit): not a failure.
    Rejected,
    Error,
    Panic,
}

impl Verdict {
    pub fn is_failure(self) -> bool {
        matches!(self, Verdict::Mismatch | Verdict::Error | Verdict::Panic)
    }
}

/// One run's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub verdict: Verdict,
    /// For a rejection: the check that refused it (export, bundle, tensor, node, conflict,
    /// unsupported).
    pub rejected_by: Option<String>,
    pub message: Option<String>,
    pub cycles: Option<u64>,
}

impl Outcome {
    fn new(verdict: Verdict, message: String) -> Outcome {
        Outcome {
            verdict,
            rejected_by: None,
            message: Some(message),
            cycles: None,
        }
    }

    fn rejected(by: &str, message: String) -> Outcome {
        Outcome {
            rejected_by: Some(by.into()),
            ..Outcome::new(Verdict::Rejected, message)
        }
    }
}

/// A failure, shrunk (or not, past the first few) into a reproducer folder.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub model: String,
    pub verdict: Verdict,
    pub message: Option<String>,
    pub case: Case,
    pub shrunk: Case,
    pub shrink_tries: usize,
    pub reproducer: Option<PathBuf>,
    pub replay: Option<String>,
}

/// Rejections by the check that refused them, with one example message.
#[derive(Debug, Clone, Serialize)]
pub struct Rejections {
    pub count: usize,
    pub example: String,
}

/// The `--json` report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub seed: u64,
    pub models: usize,
    pub runs: usize,
    pub bit_exact: usize,
    pub mismatches: usize,
    pub errors: usize,
    pub panics: usize,
    pub rejected: usize,
    pub rejected_by: BTreeMap<String, Rejections>,
    pub failures: Vec<Failure>,
}

impl Report {
    /// No mismatch, error or panic.
    pub fn passed(&self) -> bool {
        self.mismatches + self.errors + self.panics == 0
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "fuzz seed {}: {} models, {} runs: {} bit-exact, {} rejected, {} mismatches, {} errors, {} panics",
            self.seed,
            self.models,
            self.runs,
            self.bit_exact,
            self.rejected,
            self.mismatches,
            self.errors,
            self.panics
        );
        for (by, r) in &self.rejected_by {
            let _ = writeln!(out, "  rejected by {by}: {} (e.g. {})", r.count, r.example);
        }
        for f in &self.failures {
            let b = &f.case.banking;
            let _ = writeln!(
                out,
                "\nFAILED {} at banking {}{}: {:?}: {}",
                f.model,
                b.factor,
                if b.config.is_some() {
                    " with a config"
                } else {
                    ""
                },
                f.verdict,
                f.message.as_deref().unwrap_or("")
            );
            if let (Some(dir), Some(replay)) = (&f.reproducer, &f.replay) {
                let _ = writeln!(
                    out,
                    "  reproducer {} ({} shrink tries): {replay}",
                    dir.display(),
                    f.shrink_tries
                );
            }
        }
        out
    }
}

/// What every worker shares.
struct Shared<'a> {
    options: &'a FuzzOptions,
    verilator: &'a Verilator,
    scratch: &'a Path,
}

/// Generates, runs, shrinks and reports `options.models` random models.
pub fn fuzz(options: &FuzzOptions, verilator: &Verilator) -> Result<Report> {
    let scratch = tempfile::tempdir().context("creating a temporary folder")?;
    // Fuzz designs run a few thousand cycles once: the C++ compiler's time matters, not the
    // simulation speed (-O0 builds in about half the time of the usual -O2).
    let verilator = verilator
        .clone()
        .with_extra_args(["-MAKEFLAGS", "OPT_FAST=-O0"]);
    let ctx = Shared {
        options,
        verilator: &verilator,
        scratch: scratch.path(),
    };
    let stop = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let per_model = parallel::map(
        (0..options.models as u64).collect(),
        options.jobs,
        "fuzz",
        || None,
        |exporter: &mut Option<Exporter>, index| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let runs = fuzz_model(&ctx, exporter, index);
            for (case, o) in runs.iter().filter(|(_, o)| o.verdict.is_failure()) {
                eprintln!(
                    "mlcalyx fuzz: {} at banking {}: {:?}: {}",
                    case.model.name,
                    case.banking.factor,
                    o.verdict,
                    o.message.as_deref().unwrap_or("")
                );
                if !options.keep_going {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            // Where no progress bar shows (a log file), a line now and then.
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(10) && !std::io::stderr().is_terminal() {
                eprintln!("mlcalyx fuzz: {n} of {} models done", options.models);
            }
            Some(runs)
        },
    );

    let mut report = Report {
        seed: options.seed,
        models: 0,
        runs: 0,
        bit_exact: 0,
        mismatches: 0,
        errors: 0,
        panics: 0,
        rejected: 0,
        rejected_by: BTreeMap::new(),
        failures: Vec::new(),
    };
    let mut failed = Vec::new();
    for (index, runs) in per_model.into_iter().enumerate() {
        let runs = match runs {
            Ok(Some(runs)) => runs,
            Ok(None) => continue,
            // A panic outside any run (in generation or export handling) is the model's one run.
            Err(panic) => {
                let spec = generate::model(options.seed, index as u64, &options.limits);
                let case = Case {
                    model: spec,
                    banking: Banking {
                        factor: 1,
                        config: None,
                    },
                };
                vec![(case, Outcome::new(Verdict::Panic, panic))]
            }
        };
        report.models += 1;
        for (case, outcome) in runs {
            report.runs += 1;
            match outcome.verdict {
                Verdict::BitExact => report.bit_exact += 1,
                Verdict::Mismatch => report.mismatches += 1,
                Verdict::Error => report.errors += 1,
                Verdict::Panic => report.panics += 1,
                Verdict::Rejected => {
                    report.rejected += 1;
                    let by = outcome.rejected_by.clone().unwrap_or_default();
                    report
                        .rejected_by
                        .entry(by)
                        .or_insert_with(|| Rejections {
                            count: 0,
                            example: outcome.message.clone().unwrap_or_default(),
                        })
                        .count += 1;
                }
            }
            if outcome.verdict.is_failure() {
                failed.push((case, outcome));
            }
        }
    }

    let mut exporter = None;
    for (k, (case, outcome)) in failed.into_iter().enumerate() {
        let (shrunk, shrink_tries) = if k < options.shrink_failures {
            shrink::shrink(case.clone(), options.shrink_tries, |c| {
                let dir = ctx.scratch.join("shrink");
                let verdict = run_case(&ctx, &mut exporter, c, &dir).map(|o| o.verdict);
                let _ = std::fs::remove_dir_all(&dir);
                verdict.is_ok_and(|v| v == outcome.verdict)
            })
        } else {
            (case.clone(), 0)
        };
        let dir = options
            .out
            .join(format!("{}-{k}", case.model.name.replace('/', "_")));
        let written = write_reproducer(&mut exporter, &shrunk, &outcome, options.max_cycles, &dir);
        report.failures.push(Failure {
            model: case.model.name.clone(),
            verdict: outcome.verdict,
            message: match &written {
                Ok(_) => outcome.message.clone(),
                Err(e) => Some(format!(
                    "{} (writing the reproducer failed: {e:#})",
                    outcome.message.clone().unwrap_or_default()
                )),
            },
            case,
            shrunk,
            shrink_tries,
            reproducer: written.is_ok().then_some(dir),
            replay: written.ok(),
        });
    }
    Ok(report)
}

/// Exports `spec` with this worker's helper (started on first use, restarted after it failed).
fn export(exporter: &mut Option<Exporter>, spec: &spec::ModelSpec, dir: &Path) -> Result<Export> {
    if exporter.is_none() {
        *exporter = Some(Exporter::start()?);
    }
    let result = exporter.as_mut().map(|e| e.export(spec, dir));
    match result {
        Some(Ok(export)) => Ok(export),
        Some(Err(e)) => {
            *exporter = None;
            Err(e)
        }
        None => unreachable!("started above"),
    }
}

/// Every run of model `index`: exported once, compiled and simulated at each generated banking.
fn fuzz_model(ctx: &Shared, exporter: &mut Option<Exporter>, index: u64) -> Vec<(Case, Outcome)> {
    let o = ctx.options;
    let spec = generate::model(o.seed, index, &o.limits);
    let dir = ctx.scratch.join(&spec.name);
    let exported = export(exporter, &spec, &dir);
    let first = |outcome: Outcome| {
        let banking = Banking {
            factor: 1,
            config: None,
        };
        vec![(
            Case {
                model: spec.clone(),
                banking,
            },
            outcome,
        )]
    };
    let runs = match exported {
        Err(e) => first(Outcome::new(Verdict::Error, format!("export: {e:#}"))),
        Ok(Export::Rejected(m)) => first(Outcome::rejected("export", m)),
        Ok(Export::Failed(m)) => first(Outcome::new(Verdict::Error, format!("export: {m}"))),
        Ok(Export::Done) => match Bundle::load(&dir.join("bundle")) {
            Err(e) => first(Outcome::new(
                Verdict::Error,
                format!("loading the fresh bundle: {e:#}"),
            )),
            Ok(bundle) => {
                let tensors = &bundle.model.tensors;
                generate::bankings(o.seed, index, tensors, o.configs, &o.limits)
                    .into_iter()
                    .enumerate()
                    .map(|(k, banking)| {
                        let run_dir = dir.join(format!("run-{k}"));
                        let outcome = simulate(ctx, &bundle, &banking, &run_dir);
                        let case = Case {
                            model: spec.clone(),
                            banking,
                        };
                        (case, outcome)
                    })
                    .collect()
            }
        },
    };
    let _ = std::fs::remove_dir_all(&dir);
    runs
}

/// Exports, compiles and simulates one case from scratch in `dir` (shrinking does this).
fn run_case(
    ctx: &Shared,
    exporter: &mut Option<Exporter>,
    case: &Case,
    dir: &Path,
) -> Result<Outcome> {
    Ok(match export(exporter, &case.model, dir)? {
        Export::Done => {
            let bundle = Bundle::load(&dir.join("bundle"))?;
            simulate(ctx, &bundle, &case.banking, &dir.join("run"))
        }
        Export::Rejected(m) => Outcome::rejected("export", m),
        Export::Failed(m) => Outcome::new(Verdict::Error, format!("export: {m}")),
    })
}

/// Compiles and simulates one banking of a bundle; a panic is caught and reported.
fn simulate(ctx: &Shared, bundle: &Bundle, banking: &Banking, dir: &Path) -> Outcome {
    let settings = RunSettings {
        banking_config: banking.config.clone(),
        max_cycles: ctx.options.max_cycles,
        ..RunSettings::default()
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        pipeline::run(bundle, banking.factor, dir, ctx.verilator, &settings)
    }));
    match result {
        Err(panic) => Outcome::new(Verdict::Panic, panic_message(panic.as_ref())),
        Ok(Ok(r)) if r.bit_exact => Outcome {
            cycles: r.cycles,
            ..Outcome::new(Verdict::BitExact, String::new())
        },
        Ok(Ok(r)) => {
            let diffs: Vec<String> = r
                .outputs
                .iter()
                .filter(|c| !c.bit_exact)
                .map(|c| {
                    format!(
                        "output '{}' differs in {} of {} elements (first (index, expected, simulated): {:?})",
                        c.tensor, c.mismatches, c.elements, c.first_mismatch
                    )
                })
                .collect();
            Outcome {
                cycles: r.cycles,
                ..Outcome::new(Verdict::Mismatch, diffs.join("; "))
            }
        }
        Ok(Err(e)) => classify(&e),
    }
}

/// A compiler error that explains a refusal is a rejection; anything else is an error.
fn classify(e: &anyhow::Error) -> Outcome {
    let message = format!("{e:#}");
    let by = match e.downcast_ref::<CompileError>() {
        Some(CompileError::Bundle { .. }) => "bundle",
        Some(CompileError::Tensor { .. }) => "tensor",
        Some(CompileError::Node { .. }) => "node",
        Some(CompileError::Conflict(_)) => "conflict",
        Some(CompileError::Unsupported(_)) => "unsupported",
        Some(CompileError::Calyx(_) | CompileError::Io { .. }) | None => {
            return Outcome::new(Verdict::Error, message)
        }
    };
    Outcome::rejected(by, message)
}

/// Writes `case`'s model file, bundle, banking config, spec and replay script into `dir`, and
/// returns the replay command.
fn write_reproducer(
    exporter: &mut Option<Exporter>,
    case: &Case,
    outcome: &Outcome,
    max_cycles: u64,
    dir: &Path,
) -> Result<String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("replacing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    export(exporter, &case.model, dir)?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    let mut args = format!(
        "--banking {} --max-cycles {max_cycles}",
        case.banking.factor
    );
    if let Some(config) = &case.banking.config {
        write("banking.json", serde_json::to_string_pretty(config)? + "\n")?;
        args.push_str(" --banking-config banking.json");
    }
    write("case.json", serde_json::to_string_pretty(case)? + "\n")?;
    write(
        "replay.sh",
        format!(
            "#!/bin/sh\n# Replays an mlcalyx fuzz failure; MLCALYX names the mlcalyx binary.\ncd \"$(dirname \"$0\")\" && exec \"${{MLCALYX:-mlcalyx}}\" run model.py {args}\n"
        ),
    )?;
    set_executable(&dir.join("replay.sh"))?;
    let replay = format!(
        "mlcalyx run {0}/model.py {1}",
        dir.display(),
        args.replace("banking.json", &format!("{}/banking.json", dir.display()))
    );
    write(
        "README.md",
        format!(
            "# mlcalyx fuzz failure: {name}\n\n{verdict:?}: {message}\n\nReplay (or run `./replay.sh`):\n\n```sh\n{replay}\n```\n\n\
             `model.py` is the model (its `MLCALYX_FORMAT` is the fixed-point format), `bundle/` its export,\n\
             `case.json` the shrunk fuzz case (model spec and banking){config}.\n",
            name = case.model.name,
            verdict = outcome.verdict,
            message = outcome.message.as_deref().unwrap_or(""),
            config = if case.banking.config.is_some() { ", `banking.json` the banking config" } else { "" },
        ),
    )?;
    Ok(replay)
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<()> {
    Ok(())
}
