//! One model, one banking factor: compile -> build with Verilator -> drive with the golden
//! inputs -> compare -> cycles.

use crate::fpga::{FpgaRow, FpgaSettings};
use crate::io;
use anyhow::{anyhow, Context, Result};
use mlcalyx_compiler::banking::BankingConfig;
use mlcalyx_compiler::bundle::Role;
use mlcalyx_compiler::{compile, Artifacts, Bundle, Manifest, Options};
use mlcalyx_golden::{compare, Comparison, Golden};
use mlcalyx_sim::Verilator;
use serde::{Deserialize, Serialize};
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
    /// `--fpga`: synthesize, place and route every design for this device.
    pub fpga: Option<FpgaSettings>,
    /// `--post-synth` (with `fpga`): also simulate the synthesized netlist against the golden.
    pub post_synth: bool,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            tolerance: 0.05,
            max_cycles: 500_000_000,
            banking_config: None,
            fpga: None,
            post_synth: false,
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
    /// Multipliers the design instantiates (each should become one DSP).
    pub multipliers: Option<u64>,
    /// With `--fpga`: resources, Fmax, latency and fit (see docs/fpga.md).
    #[serde(flatten)]
    pub fpga: Option<FpgaRow>,
    /// With `--post-synth`: the synthesized netlist, simulated, gives the golden outputs bit for
    /// bit in the same number of cycles.
    pub post_synth_bit_exact: Option<bool>,
    /// Per layer, the float range on the example inputs and the saturated values, when the
    /// bundle records them (exported with --calibrate, --precision or --formats).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<crate::ranges::LayerRange>,
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
            multipliers: None,
            fpga: None,
            post_synth_bit_exact: None,
            ranges: Vec::new(),
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
    let mut result = RunResult {
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
        multipliers: crate::fpga::multipliers::multipliers(work_dir).ok(),
        fpga: None,
        post_synth_bit_exact: None,
        ranges: crate::ranges::layer_ranges(bundle),
    };
    if let Some(fpga) = &settings.fpga {
        fpga_stage(&design, &mut result, work_dir, verilator, settings, fpga);
    }
    Ok(result)
}

/// `--fpga` and `--post-synth`: synthesis, place and route, and a simulation of the netlist.
/// Whatever fails here is reported in the row; the RTL results stay.
fn fpga_stage(
    design: &Design,
    r: &mut RunResult,
    work_dir: &Path,
    verilator: &Verilator,
    settings: &RunSettings,
    fpga: &FpgaSettings,
) {
    let top = design.manifest.top.module.clone();
    let dir = work_dir.join("fpga");
    let sources = [work_dir.join(Artifacts::VERILOG)];
    let (mut row, synthesis) =
        crate::fpga::implement(fpga, &sources, &top, &dir, settings.post_synth);
    if let Some(cycles) = r.cycles {
        row.set_cycles(cycles);
    }
    r.fpga = Some(row);
    if !settings.post_synth {
        return;
    }
    let check = synthesis
        .ok_or_else(|| anyhow!("synthesis failed, so there is no netlist"))
        .and_then(|s| {
            let model = crate::fpga::build_netlist_model(&fpga.tools, verilator, &s, &top, &dir)?;
            design.simulate_model(&model, settings)
        });
    match check {
        Ok((cycles, outputs)) => {
            let mut same = true;
            if Some(cycles) != r.cycles {
                same = false;
                r.notes.push(format!(
                    "post-synthesis simulation took {cycles} cycles, the RTL {:?}",
                    r.cycles
                ));
            }
            for c in outputs.iter().filter(|c| !c.bit_exact) {
                same = false;
                r.notes.push(format!(
                    "post-synthesis simulation: output '{}' differs from the fixed-point reference in {} of {} elements",
                    c.tensor, c.mismatches, c.elements
                ));
            }
            r.post_synth_bit_exact = Some(same);
            if !same && r.status == "ok" {
                r.status = "mismatch".into();
            }
        }
        Err(e) => {
            r.status = "error".into();
            r.error = Some(format!("post-synthesis simulation: {e:#}"));
        }
    }
}

/// A compiled and Verilator-built design with its golden data, ready to simulate (repeatedly).
pub struct Design {
    golden: Golden,
    manifest: Manifest,
    /// The I/O port words (address, bits) stored before a run: the golden inputs, and in the
    /// output buffers a poison word that differs from the expected value in every bit, so an
    /// element the design never writes cannot match by chance.
    loads: Vec<(u64, u64)>,
    model: mlcalyx_sim::Model,
    pub compile_ms: f64,
    pub verilator_build_ms: f64,
    pub notes: Vec<String>,
}

impl Design {
    /// Compiles `bundle` with `options` into `work_dir` and builds its core with Verilator.
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
                &artifacts.manifest.top.module,
                &work_dir.join("verilator"),
            )
            .context("building the design with Verilator")?;
        // Scattered over the buffers once, not once per run.
        let mut loads = Vec::new();
        for input in &golden.inputs {
            loads.extend(io::tensor_words(
                &artifacts.manifest,
                &input.name,
                &input.values,
                Role::Input,
            )?);
        }
        for expected in &golden.outputs {
            let poison: Vec<i64> = expected.fixed.values.iter().map(|v| !v).collect();
            loads.extend(io::tensor_words(
                &artifacts.manifest,
                &expected.fixed.name,
                &poison,
                Role::Output,
            )?);
        }
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

    /// One inference on the golden inputs, driven only through the core's ports: the inputs
    /// (and the outputs' poison) written through the I/O port, cycles from go to done, each
    /// output read back through the port and compared. The weights are in the core's ROMs.
    pub fn simulate(&self, settings: &RunSettings) -> Result<(u64, Vec<Comparison>)> {
        self.simulate_model(&self.model, settings)
    }

    /// [`Design::simulate`] on another build of the same design, e.g. its synthesized netlist.
    pub fn simulate_model(
        &self,
        model: &mlcalyx_sim::Model,
        settings: &RunSettings,
    ) -> Result<(u64, Vec<Comparison>)> {
        let mut sim = model.instantiate()?;
        sim.reset(2)?;
        io::write_words(&mut sim, &self.manifest, &self.loads).context("loading the inputs")?;
        let cycles = sim.run(settings.max_cycles)?;
        let mut outputs = Vec::new();
        for expected in &self.golden.outputs {
            let values = io::read_tensor(
                &mut sim,
                &self.manifest,
                &expected.fixed.name,
                expected.fixed.values.len(),
            )?;
            outputs.push(compare(expected, &values, settings.tolerance));
        }
        Ok((cycles, outputs))
    }
}
