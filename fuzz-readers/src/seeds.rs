//! The seeds the mutators start from: the example bundles and banking configs of the repository.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct SeedBundle {
    pub name: String,
    pub model: Value,
    /// Every other file of the bundle (weights, golden tensors) by bundle-relative path.
    pub files: Vec<(String, Vec<u8>)>,
}

pub struct Seeds {
    pub bundles: Vec<SeedBundle>,
    /// `examples/banking/*.json`, parsed.
    pub configs: Vec<Value>,
    /// Every `.npy` file of every example bundle.
    pub npys: Vec<Vec<u8>>,
}

/// The repository's `examples/` folder.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The seeds, read once per process. Panics if `examples/` is unreadable: the fuzzer cannot run
/// without its seeds, and that is a broken checkout, not a finding.
pub fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = examples_dir();
        load(&dir).unwrap_or_else(|e| panic!("the seeds in {}: {e}", dir.display()))
    })
}

fn load(examples: &Path) -> std::io::Result<Seeds> {
    let mut bundles = Vec::new();
    let mut configs = Vec::new();
    for entry in sorted_entries(examples)? {
        let name = entry.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name.and_then(|n| n.strip_suffix(".bundle").map(str::to_string)) else {
            continue;
        };
        let model = std::fs::read(entry.join("model.json"))?;
        let model = serde_json::from_slice(&model).map_err(std::io::Error::other)?;
        let mut files = Vec::new();
        collect_files(&entry, &entry, &mut files)?;
        files.retain(|(path, _)| path != "model.json");
        bundles.push(SeedBundle { name, model, files });
    }
    for entry in sorted_entries(&examples.join("banking"))? {
        let text = std::fs::read(&entry)?;
        configs.push(serde_json::from_slice(&text).map_err(std::io::Error::other)?);
    }
    let npys = bundles
        .iter()
        .flat_map(|b| &b.files)
        .filter(|(path, _)| path.ends_with(".npy"))
        .map(|(_, bytes)| bytes.clone())
        .collect();
    Ok(Seeds {
        bundles,
        configs,
        npys,
    })
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    paths.sort();
    Ok(paths)
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).map_err(std::io::Error::other)?;
            out.push((
                relative.to_string_lossy().into_owned(),
                std::fs::read(&path)?,
            ));
        }
    }
    Ok(())
}
