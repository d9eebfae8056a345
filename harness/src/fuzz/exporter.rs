//! A long-lived `scripts/fuzz_models.py --serve` child: torch is imported once per worker, not
//! once per model. One JSON request and one JSON answer per line.

use super::spec::ModelSpec;
use crate::python;
use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// What exporting one spec gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Export {
    /// `DIR/model.py` and `DIR/bundle` are written.
    Done,
    /// export.py refused the model with a user-facing error (e.g. an accumulator overflow risk).
    Rejected(String),
    /// export.py failed with an internal error: a bug.
    Failed(String),
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    error: String,
}

pub struct Exporter {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Exporter {
    pub fn start() -> Result<Exporter> {
        let python = python::python()?;
        let script = python::project_root().join("scripts/fuzz_models.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Torch warnings and tracebacks of internal errors (their gist is in the answer).
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot run {} {}", python.display(), script.display()))?;
        let stdin = child.stdin.take().context("exporter stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("exporter stdout")?);
        Ok(Exporter {
            child,
            stdin,
            stdout,
        })
    }

    /// Writes `dir/model.py` for `spec` and exports it into `dir/bundle`.
    pub fn export(&mut self, spec: &ModelSpec, dir: &Path) -> Result<Export> {
        let request = serde_json::json!({ "spec": spec, "dir": dir });
        writeln!(self.stdin, "{request}")
            .and_then(|()| self.stdin.flush())
            .context("the model exporter (scripts/fuzz_models.py) is gone")?;
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line)?;
        if n == 0 {
            let status = self.child.try_wait().ok().flatten();
            bail!("the model exporter (scripts/fuzz_models.py) exited ({status:?})");
        }
        let answer: Answer = serde_json::from_str(&line)
            .map_err(|e| anyhow!("the model exporter answered {line:?}: {e}"))?;
        Ok(match (answer.ok, answer.kind.as_str()) {
            (true, _) => Export::Done,
            (false, "rejected") => Export::Rejected(answer.error),
            (false, _) => Export::Failed(answer.error),
        })
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
