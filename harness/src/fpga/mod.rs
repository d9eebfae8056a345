//! The open FPGA flow for Lattice ECP5: Yosys synthesis ([`synth`]), nextpnr placement and
//! routing ([`pnr`]), and simulation of the mapped netlist ([`post_synth`]).
//!
//! Input: SystemVerilog files, a top module, a device; nothing model-specific. Output: one
//! [`FpgaRow`] of resources, Fmax and whether the design fits. A design that does not fit is a
//! row with `fits: false` and the reason; a tool that fails or times out is a row with
//! `fpga_error` and `fits: null`. Neither is a crash. See docs/fpga.md.

pub mod device;
pub mod multipliers;
pub mod pnr;
pub mod post_synth;
pub mod synth;
pub mod tools;

pub use device::Device;
pub use tools::Tools;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use synth::{Stats, Synthesis};

/// What to implement for and with.
#[derive(Debug, Clone)]
pub struct FpgaSettings {
    pub device: Device,
    /// The clock nextpnr aims for; Fmax is measured whatever it is.
    pub freq_mhz: f64,
    pub tools: Tools,
}

/// Resources, speed and fit of one design on one device: the FPGA columns of a report row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FpgaRow {
    pub fpga_device: String,
    /// `LUT4` cells after synthesis (each `CCU2C` carry cell, counted in `carry`, holds 2 more).
    pub lut: Option<u64>,
    /// `TRELLIS_FF` flip-flops.
    pub ff: Option<u64>,
    /// `MULT18X18D` multipliers.
    pub dsp: Option<u64>,
    /// `DP16KD` block RAMs.
    pub bram: Option<u64>,
    /// Maximum clock frequency after routing (the slowest clock).
    pub fmax_mhz: Option<f64>,
    /// Cycles from go to done at `fmax_mhz`.
    pub latency_us: Option<f64>,
    /// Placed and routed on the device; false with the reason in `fpga_error`; null when a
    /// tool failed before that could be known.
    pub fits: Option<bool>,
    pub fpga_error: Option<String>,
    pub synth_ms: Option<f64>,
    pub pnr_ms: Option<f64>,
    /// `CCU2C` carry cells.
    pub carry: Option<u64>,
    /// `TRELLIS_DPR16X4` LUT RAMs.
    pub lutram: Option<u64>,
    /// I/O pins the top module needs.
    pub io: Option<u64>,
    /// Start and end of the path that bounds Fmax.
    pub critical_path: Option<String>,
}

impl FpgaRow {
    fn new(device: &Device) -> FpgaRow {
        FpgaRow {
            fpga_device: device.name.to_string(),
            ..FpgaRow::default()
        }
    }

    fn set_stats(&mut self, s: &Stats) {
        self.lut = Some(s.lut());
        self.ff = Some(s.ff());
        self.dsp = Some(s.dsp());
        self.bram = Some(s.bram());
        self.carry = Some(s.carry());
        self.lutram = Some(s.lutram());
        self.io = Some(s.port_bits);
    }

    /// Fills in `latency_us` for a run of `cycles`.
    pub fn set_cycles(&mut self, cycles: u64) {
        self.latency_us = self.fmax_mhz.map(|f| cycles as f64 / f);
    }
}

/// Synthesizes `sources` (top module `top`) into `dir`, then places and routes the result on
/// the device. With `netlist`, synthesis also writes the mapped netlist (returned with the
/// synthesis, for [`post_synth`]).
pub fn implement(
    settings: &FpgaSettings,
    sources: &[PathBuf],
    top: &str,
    dir: &Path,
    netlist: bool,
) -> (FpgaRow, Option<Synthesis>) {
    let mut row = FpgaRow::new(&settings.device);
    let synthesis = match synth::synthesize(&settings.tools, sources, top, dir, netlist) {
        Ok(s) => s,
        Err(e) => {
            row.fpga_error = Some(format!("{e:#}"));
            return (row, None);
        }
    };
    row.synth_ms = Some(synthesis.ms);
    row.set_stats(&synthesis.stats);
    if let Some(reason) = exceeds(&synthesis.stats, &settings.device) {
        row.fits = Some(false);
        row.fpga_error = Some(reason);
        return (row, Some(synthesis));
    }
    match pnr::place_and_route(
        &settings.tools,
        &synthesis.design_json,
        &settings.device,
        settings.freq_mhz,
        dir,
    ) {
        Ok((pnr::Pnr::Placed(p), ms)) => {
            row.pnr_ms = Some(ms);
            row.fits = Some(true);
            row.fmax_mhz = p.fmax_mhz;
            row.critical_path = p.critical_path;
        }
        Ok((pnr::Pnr::DoesNotFit(reason), ms)) => {
            row.pnr_ms = Some(ms);
            row.fits = Some(false);
            row.fpga_error = Some(reason);
        }
        Err(e) => row.fpga_error = Some(format!("{e:#}")),
    }
    (row, Some(synthesis))
}

/// Why a synthesized design cannot fit `device`, judged from its cell counts alone (before
/// spending a place-and-route run on it); None when nextpnr has to decide.
pub fn exceeds(stats: &Stats, device: &Device) -> Option<String> {
    let checks = [
        (stats.dsp(), device.dsps, "MULT18X18D multipliers"),
        (stats.bram(), device.brams, "DP16KD block RAMs"),
        (stats.port_bits, device.ios, "I/O pins"),
        (stats.lut(), device.luts, "LUT4s"),
        (stats.ff(), device.luts, "flip-flops"),
    ];
    let over: Vec<String> = checks
        .iter()
        .filter(|(need, have, _)| need > have)
        .map(|(need, have, what)| format!("{need} {what} (the device has {have})"))
        .collect();
    (!over.is_empty()).then(|| format!("does not fit {}: needs {}", device.name, over.join(", ")))
}

/// Builds the post-synthesis simulation model of `synthesis` (which must hold a netlist) with
/// top `top`, in `dir`.
pub fn build_netlist_model(
    tools: &Tools,
    verilator: &mlcalyx_sim::Verilator,
    synthesis: &Synthesis,
    top: &str,
    dir: &Path,
) -> Result<mlcalyx_sim::Model> {
    let netlist = synthesis
        .netlist
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("synthesis wrote no netlist"))?;
    let cells = post_synth::cell_library(tools)?;
    let source = post_synth::simulation_source(netlist, &cells, &synthesis.stats, dir)?;
    Ok(verilator.build(&source, top, &dir.join("verilator"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_beyond_the_device_do_not_fit() {
        let mut s = Stats {
            port_bits: 82,
            ..Stats::default()
        };
        s.cells.insert("MULT18X18D".into(), 30);
        let small = Device::named("ecp5-25k").unwrap();
        assert_eq!(
            exceeds(&s, &small).as_deref(),
            Some("does not fit ecp5-25k: needs 30 MULT18X18D multipliers (the device has 28)")
        );
        assert_eq!(exceeds(&s, &Device::named("ecp5-45k").unwrap()), None);
        s.port_bits = 429;
        assert_eq!(
            exceeds(&s, &Device::named("ecp5-85k").unwrap()).as_deref(),
            Some("does not fit ecp5-85k: needs 429 I/O pins (the device has 365)")
        );
    }

    #[test]
    fn latency_is_cycles_over_fmax() {
        let mut row = FpgaRow {
            fmax_mhz: Some(200.0),
            ..FpgaRow::default()
        };
        row.set_cycles(1000);
        assert_eq!(row.latency_us, Some(5.0));
        let mut no_clock = FpgaRow::default();
        no_clock.set_cycles(1000);
        assert_eq!(no_clock.latency_us, None);
    }
}
