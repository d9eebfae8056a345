//! Finding the project's Python environment and running `scripts/export.py`.

use crate::interrupt;
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The default `--export-timeout`, in seconds.
pub const DEFAULT_EXPORT_TIMEOUT_S: u64 = 600;

/// How `scripts/export.py` chooses formats (its `--precision`, `--calibrate` and `--formats`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportOptions {
    /// `W,F`: the default format of every tensor.
    pub precision: Option<String>,
    /// Each tensor group's integer bits from the float values seen on the example inputs.
    pub calibrate: bool,
    /// A JSON file of per-tensor formats.
    pub formats: Option<PathBuf>,
}

impl ExportOptions {
    /// True when any option is set (so a bundle folder, already exported, cannot take them).
    pub fn any(&self) -> bool {
        *self != ExportOptions::default()
    }

    fn args(&self) -> Vec<std::ffi::OsString> {
        let mut args = Vec::new();
        if let Some(p) = &self.precision {
            args.extend(["--precision".into(), p.into()]);
        }
        if self.calibrate {
            args.push("--calibrate".into());
        }
        if let Some(f) = &self.formats {
            args.extend(["--formats".into(), f.into()]);
        }
        args
    }
}

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

/// Exports a PyTorch model file into a bundle folder with `scripts/export.py`, stopping it after
/// `timeout`.
///
/// The child runs in its own process group (so it and anything it starts can be stopped
/// together) and puts its temporary folders into a staging folder beside `out`, which is removed
/// afterwards, also when `mlcalyx` is stopped by a signal (see [`interrupt`]).
pub fn export(model: &Path, out: &Path, timeout: Duration, options: &ExportOptions) -> Result<()> {
    mlcalyx_compiler::files::check_regular_file(model)
        .map_err(|e| anyhow::anyhow!("model file {}: {e}", model.display()))?;
    let python = python()?;
    let script = project_root().join("scripts/export.py");
    let parent = std::path::absolute(out)
        .with_context(|| format!("resolving {}", out.display()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".mlcalyx-export-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a temporary folder in {}", parent.display()))?;
    let _staging_guard = interrupt::register_dir(staging.path());
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(model)
        .arg(out)
        .args(options.args())
        .env("MLCALYX_EXPORT_STAGING", staging.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot run {}", python.display()))?;
    let group = i32::try_from(child.id()).context("process id out of range")?;
    let group_guard = interrupt::register_group(group);
    let mut stderr = child.stderr.take().context("the child's stderr")?;
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for the export")? {
            break Some(status);
        }
        if start.elapsed() >= timeout {
            interrupt::terminate_group(group, Duration::from_secs(2));
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Blocks while a stopping signal is being handled, so a child killed by it is not reported
    // as a failed export.
    drop(group_guard);
    // A grandchild that kept the pipe open is gone with its group; read what was written.
    let stderr = reader.join().unwrap_or_default();
    let Some(status) = status else {
        bail!(
            "exporting {} timed out after {} s (--export-timeout): build() or the export did not finish",
            model.display(),
            timeout.as_secs_f64()
        );
    };
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        bail!(
            "exporting {} failed:\n{}",
            model.display(),
            stderr.trim_end()
        );
    }
    Ok(())
}
