//! One model, one banking factor: compile -> build with Verilator -> drive with the golden
//! inputs -> compare -> cycles.

use anyhow::{anyhow, Context, Result};
use mlcalyx_compiler::banking::BankingConfig;
use mlcalyx_compiler::bundle::Role;
use mlcalyx_compiler::{compile, Artifacts, Bundle, Manifest, Options};
use mlcalyx_golden::{compare, Comparison, Golden};
use mlcalyx_sim::{Instance, Verilator};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// Settings shared by every run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Tolerance for |simulated - float PyTorch| in real units, reported as `within_tolerance`
    /// (pass/fail is bit-exactness against the fixed-point reference).
    pub tolerance: f64,
    /// A simulation still running after this many cycles is stopped and reported.
    pub max_cycles: u64,
    /// Per-tensor banking from `--banking-config`, applied at every factor.
    pub banking_config: Option<BankingConfig>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            tolerance: 0.05,
            max_cycles: 500_000_000,
            banking_config: None,
        }
    }
}

/// The outcome of one (model, banking factor) run: one row of the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub model: String,
    pub banking: u32,
    /// "ok", "mismatch" or "error".
    pub status: String,
    pub cycles: Option<u64>,
    pub bit_exact: bool,
    /// Largest |simulated - float PyTorch| over all outputs, in real units.
    pub max_abs_err: Option<f64>,
    pub within_tolerance: Option<bool>,
    pub compile_ms: Option<f64>,
    pub verilator_build_ms: Option<f64>,
    pub simulate_ms: Option<f64>,
    pub outputs: Vec<Comparison>,
    /// What the compiler decided that the user should know (re-banking copies).
    pub notes: Vec<String>,
    pub error: Option<String>,
}

impl RunResult {
    pub fn failed(model: &str, banking: u32, error: &anyhow::Error) -> RunResult {
        RunResult {
            model: model.to_string(),
            banking,
            status: "error".into(),
            cycles: None,
            bit_exact: false,
            max_abs_err: None,
            within_tolerance: None,
            compile_ms: None,
            verilator_build_ms: None,
            simulate_ms: None,
            outputs: Vec::new(),
            notes: Vec::new(),
            error: Some(format!("{error:#}")),
        }
    }

    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

/// Runs a bundle at one banking factor, keeping artifacts in `work_dir`. Never panics on bad
/// input: failures become a row with status "error".
pub fn run_bundle(
    bundle: &Bundle,
    banking: u32,
    work_dir: &Path,
    verilator: &Verilator,
    settings: &RunSettings,
) -> RunResult {
    let name = bundle.model.model.name.clone();
    run(bundle, banking, work_dir, verilator, settings)
        .unwrap_or_else(|e| RunResult::failed(&name, banking, &e))
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// [`run_bundle`] with the error kept as an error (the fuzzer tells rejections from bugs by it).
pub fn run(
    bundle: &Bundle,
    banking: u32,
    work_dir: &Path,
    verilator: &Verilator,
    settings: &RunSettings,
) -> Result<RunResult> {
    let t = Instant::now();
    let options = Options {
        banking,
        banking_config: settings.banking_config.clone(),
    };
    let design = Design::prepare(bundle, &options, work_dir, verilator)?;
    let (compile_ms, verilator_build_ms) = (design.compile_ms, design.verilator_build_ms);
    let (cycles, outputs) = design.simulate(settings)?;
    let simulate_ms = ms(t) - compile_ms - verilator_build_ms;

    // Bit-exact means every output element was read from the design and matched.
    let bit_exact = !outputs.is_empty() && outputs.iter().all(|c| c.bit_exact);
    Ok(RunResult {
        model: bundle.model.model.name.clone(),
        banking,
        status: if bit_exact { "ok" } else { "mismatch" }.into(),
        cycles: Some(cycles),
        bit_exact,
        max_abs_err: Some(outputs.iter().map(|c| c.max_abs_err).fold(0.0, f64::max)),
        within_tolerance: Some(outputs.iter().all(|c| c.within_tolerance)),
        compile_ms: Some(compile_ms),
        verilator_build_ms: Some(verilator_build_ms),
        simulate_ms: Some(simulate_ms),
        outputs,
        notes: design.notes.clone(),
        error: None,
    })
}

/// A compiled and Verilator-built design with its golden data, ready to simulate (repeatedly).
pub struct Design {
    golden: Golden,
    manifest: Manifest,
    /// What to write into each input, weight and output memory before a run: (instance, words).
    loads: Vec<(String, Vec<u64>)>,
    model: mlcalyx_sim::Model,
    pub compile_ms: f64,
    pub verilator_build_ms: f64,
    pub notes: Vec<String>,
}

impl Design {
    /// Compiles `bundle` with `options` into `work_dir` and builds it with Verilator.
    pub fn prepare(
        bundle: &Bundle,
        options: &Options,
        work_dir: &Path,
        verilator: &Verilator,
    ) -> Result<Design> {
        let t = Instant::now();
        let artifacts = compile(bundle, options)?;
        let compile_ms = ms(t);
        let mut design = Design::build(bundle, artifacts, work_dir, verilator)?;
        design.compile_ms = compile_ms;
        Ok(design)
    }

    /// Writes compiled `artifacts` of `bundle` into `work_dir` and builds them with Verilator
    /// (`compile_ms` is left 0).
    pub fn build(
        bundle: &Bundle,
        artifacts: Artifacts,
        work_dir: &Path,
        verilator: &Verilator,
    ) -> Result<Design> {
        let golden = Golden::load(bundle)?;
        artifacts.write_to(work_dir)?;
        let t = Instant::now();
        let model = verilator
            .build(
                &work_dir.join(Artifacts::VERILOG),
                "main",
                &work_dir.join("verilator"),
            )
            .context("building the design with Verilator")?;
        // Weights are read and scattered over their banks once, not once per bank and run.
        let loads = memory_loads(bundle, &golden, &artifacts.manifest)?;
        Ok(Design {
            loads,
            golden,
            notes: artifacts.notes,
            manifest: artifacts.manifest,
            model,
            compile_ms: 0.0,
            verilator_build_ms: ms(t),
        })
    }

    /// One inference on the golden inputs: cycles from go to done, and each output compared.
    pub fn simulate(&self, settings: &RunSettings) -> Result<(u64, Vec<Comparison>)> {
        let mut sim = self.model.instantiate()?;
        for (instance, words) in &self.loads {
            sim.write_memory(instance, words)
                .with_context(|| format!("loading memory '{instance}'"))?;
        }
        sim.reset(2)?;
        let cycles = sim.run(settings.max_cycles)?;
        let mut outputs = Vec::new();
        for expected in &self.golden.outputs {
            let values = gather(
                &sim,
                &self.manifest,
                &expected.fixed.name,
                expected.fixed.values.len(),
            )?;
            outputs.push(compare(expected, &values, settings.tolerance));
        }
        Ok((cycles, outputs))
    }
}

/// Reads a tensor back from its banks, in row-major order.
fn gather(sim: &Instance<'_>, manifest: &Manifest, tensor: &str, len: usize) -> Result<Vec<i64>> {
    let mut values = vec![None; len];
    for mem in manifest.memories_of(tensor) {
        let words = sim.read_memory(&mem.instance)?;
        for (i, &w) in words.iter().enumerate() {
            let slot = values.get_mut(mem.element(i)).ok_or_else(|| {
                anyhow!(
                    "memory '{}' word {i} lies outside tensor '{tensor}'",
                    mem.name
                )
            })?;
            *slot = Some(mem.format.from_bits(w));
        }
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| anyhow!("element {i} of '{tensor}' is in no memory")))
        .collect()
}

/// The words of every input, weight and output memory: golden inputs and quantized weights,
/// scattered over their banks, and in output memories a poison word that differs from the
/// expected value in every bit, so an element the design never writes cannot match by chance.
fn memory_loads(
    bundle: &Bundle,
    golden: &Golden,
    manifest: &Manifest,
) -> Result<Vec<(String, Vec<u64>)>> {
    let mut weights: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut loads = Vec::new();
    for mem in &manifest.memories {
        // Poisoned memories hold the bitwise complement of each expected value.
        let mut poison = false;
        let values: &[i64] = match mem.role {
            Role::Input => {
                let input = golden
                    .inputs
                    .iter()
                    .find(|i| mem.tensors.contains(&i.name))
                    .ok_or_else(|| anyhow!("no golden input for memory '{}'", mem.name))?;
                &input.values
            }
            Role::Weight => {
                let name = mem.tensors[0].as_str();
                if !weights.contains_key(name) {
                    let tensor = bundle
                        .tensor(name)
                        .ok_or_else(|| anyhow!("memory '{}' names an unknown tensor", mem.name))?;
                    weights.insert(name, bundle.weight_values(tensor)?);
                }
                &weights[name]
            }
            Role::Output => {
                let expected = golden
                    .outputs
                    .iter()
                    .find(|o| mem.tensors.contains(&o.fixed.name))
                    .ok_or_else(|| anyhow!("no golden output for memory '{}'", mem.name))?;
                poison = true;
                &expected.fixed.values
            }
            Role::Activation => continue,
        };
        let words = (0..mem.depth)
            .map(|i| {
                let v = values.get(mem.element(i)).ok_or_else(|| {
                    anyhow!("memory '{}' word {i} lies outside its tensor", mem.name)
                })?;
                Ok(mem.format.to_bits(if poison { !*v } else { *v }))
            })
            .collect::<Result<Vec<u64>>>()?;
        loads.push((mem.instance.clone(), words));
    }
    Ok(loads)
}
