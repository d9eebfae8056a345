//! Finding the project's Python environment and running `scripts/export.py`.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root: `MLCALYX_HOME`, or where this crate was built from.
pub fn project_root() -> PathBuf {
    std::env::var_os("MLCALYX_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The Python interpreter `scripts/setup.sh` installed: `MLCALYX_PYTHON`, else `<root>/.venv`.
pub fn python() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("MLCALYX_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let venv = project_root().join(".venv/bin/python");
    if venv.is_file() {
        return Ok(venv);
    }
    bail!(
        "no Python environment with torch found at {}: run scripts/setup.sh (or set MLCALYX_PYTHON)",
        venv.display()
    )
}

/// Exports a PyTorch model file into a bundle folder with `scripts/export.py`.
pub fn export(model: &Path, out: &Path) -> Result<()> {
    let python = python()?;
    let script = project_root().join("scripts/export.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(model)
        .arg(out)
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "exporting {} failed:\n{}",
            model.display(),
            stderr.trim_end()
        );
    }
    Ok(())
}
