//! `mlcalyx merge`: the rows of several `mlcalyx run --json` outputs (e.g. one per cluster task)
//! as one report.

use crate::pipeline::RunResult;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Every file's JSON array of run rows, in file order. A file that is not such an array is an
/// error naming the file and what is wrong.
pub fn read_rows(files: &[impl AsRef<Path>]) -> Result<Vec<RunResult>> {
    if files.is_empty() {
        bail!("merge: no files given");
    }
    let mut rows = Vec::new();
    for file in files {
        let file = file.as_ref();
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let file_rows: Vec<RunResult> = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not the JSON array of rows that `mlcalyx run --json` prints",
                file.display()
            )
        })?;
        rows.extend(file_rows);
    }
    Ok(rows)
}
