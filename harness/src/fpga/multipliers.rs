//! How many multipliers a compiled design instantiates: the number its `dsp` count must match.
//!
//! The one place that knows where the count comes from: the manifest's `multipliers` field
//! when the compiler writes one, else the multiplier cells of the emitted Calyx program.

use anyhow::{Context, Result};
use mlcalyx_compiler::Artifacts;
use std::path::Path;

/// Multiplier cells of the artifacts in `dir` (`manifest.json`, `model.futil`).
pub fn multipliers(dir: &Path) -> Result<u64> {
    let manifest = dir.join(Artifacts::MANIFEST);
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", manifest.display()))?;
    if let Some(n) = value.get("multipliers").and_then(serde_json::Value::as_u64) {
        return Ok(n);
    }
    let futil = dir.join(Artifacts::FUTIL);
    let program =
        std::fs::read_to_string(&futil).with_context(|| format!("reading {}", futil.display()))?;
    Ok(count_in_futil(&program))
}

/// Cells declared as a Calyx multiplier (`name = std_mult_pipe(...)`, signed or not).
fn count_in_futil(program: &str) -> u64 {
    program
        .lines()
        .filter_map(|l| l.split_once('=').map(|(_, rhs)| rhs.trim_start()))
        .filter(|rhs| rhs.starts_with("std_mult_pipe(") || rhs.starts_with("std_smult_pipe("))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_cells_are_counted() {
        let futil = "cells {\n    mul0 = std_mult_pipe(32);\n    @external x = comb_mem_d1(16, 4, 3);\n    \
                     mul1 = std_mult_pipe(32);\n    ext0 = std_signext(32, 48);\n  }\n  \
                     wires { mul0.go = 1'd1; }\n";
        assert_eq!(count_in_futil(futil), 2);
    }

    #[test]
    fn the_manifest_count_wins_when_there_is_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.json"), r#"{"multipliers": 7}"#).unwrap();
        assert_eq!(multipliers(dir.path()).unwrap(), 7);
        std::fs::write(dir.path().join("manifest.json"), "{}").unwrap();
        std::fs::write(dir.path().join("model.futil"), "m = std_mult_pipe(32);\n").unwrap();
        assert_eq!(multipliers(dir.path()).unwrap(), 1);
    }
}
