//! A materialized fuzz input: a folder of files plus the parameters the readers take besides the
//! files (the banking factor, an `.npy` file's declared shape). Crashing cases are saved as such
//! folders, so a regression test replays the exact files whatever the mutators become.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file in a case folder that holds its [`Params`].
pub const PARAMS_FILE: &str = "fuzz-case.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// `--banking N` for the compiler front end.
    #[serde(default)]
    pub factor: usize,
    /// The shape an `.npy` file is read against.
    #[serde(default)]
    pub shape: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Case {
    /// Files by folder-relative path; a path ending in `/` is an (empty) folder.
    pub files: Vec<(String, Vec<u8>)>,
    pub params: Params,
}

impl Case {
    /// Replaces the content of `dir` with this case.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let params = serde_json::to_vec(&self.params).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(PARAMS_FILE), params)?;
        for (path, bytes) in &self.files {
            let target = dir.join(path);
            if path.ends_with('/') {
                std::fs::create_dir_all(&target)?;
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, bytes)?;
        }
        Ok(())
    }
}

/// Reads the parameters of a case folder.
pub fn params(dir: &Path) -> Result<Params, String> {
    let path = dir.join(PARAMS_FILE);
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A fresh scratch folder for cases, in memory (`/dev/shm`) where there is one: every input is
/// written out before it is read, and on disk the writes, not the readers, would set the pace.
pub fn scratch() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let parent = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("fuzz-readers-")
        .tempdir_in(parent)
}
