//! The three targets: how fuzzer bytes become a [`Case`], and which readers a case goes through.

use crate::case::{self, Case, Params};
use crate::mutate;
use crate::seeds::seeds;
use arbitrary::Unstructured;
use mlcalyx_compiler::banking::BankingConfig;
use mlcalyx_compiler::bundle::{read_float_tensor, read_int_tensor, Bundle};
use mlcalyx_compiler::ir::graph::Graph;
use mlcalyx_compiler::passes::{check_conflicts::check_conflicts, lower_graph::lower_graph};
use mlcalyx_compiler::{calyx, Manifest};
use mlcalyx_golden::Golden;
use std::path::Path;

/// The `.npy` file of an `npy` case.
pub const NPY_FILE: &str = "tensor.npy";
/// The banking config of a `banking-config` case.
pub const CONFIG_FILE: &str = "banking.json";
/// The largest banking factor the targets use: enough to bank and unroll every example, small
/// enough that one input stays in milliseconds.
pub const MAX_FACTOR: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Bundle,
    Npy,
    BankingConfig,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Bundle, Target::Npy, Target::BankingConfig];

    pub fn name(self) -> &'static str {
        match self {
            Target::Bundle => "bundle",
            Target::Npy => "npy",
            Target::BankingConfig => "banking-config",
        }
    }

    /// Turns fuzzer bytes into a case by mutating the examples. Any bytes give a case.
    pub fn generate(self, data: &[u8]) -> Case {
        let mut u = Unstructured::new(data);
        let mut case = Case::default();
        // Running out of bytes ends the mutations early; what was built so far is the case.
        let _ = match self {
            Target::Bundle => bundle_case(&mut u, &mut case),
            Target::Npy => npy_case(&mut u, &mut case),
            Target::BankingConfig => config_case(&mut u, &mut case),
        };
        case
    }

    /// Runs the target's readers on a case folder. An error is a fine outcome; a panic is a bug.
    pub fn run(self, dir: &Path) -> Result<(), String> {
        let params = case::params(dir)?;
        match self {
            Target::Bundle => read_bundle(dir, params.factor, None),
            Target::Npy => {
                let path = dir.join(NPY_FILE);
                let ints = read_int_tensor(&path, &params.shape).map(drop);
                let floats = read_float_tensor(&path, &params.shape).map(drop);
                ints.or(floats)
            }
            Target::BankingConfig => {
                let config = BankingConfig::load(&dir.join(CONFIG_FILE))?;
                read_bundle(dir, params.factor, Some(&config))
            }
        }
    }
}

/// One input end to end, as libFuzzer runs it: generate the case, write it to this thread's
/// scratch folder, read it.
pub fn fuzz_one(target: Target, data: &[u8]) {
    thread_local! {
        static SCRATCH: tempfile::TempDir = case::scratch().expect("a scratch folder");
    }
    let dir = SCRATCH.with(|s| s.path().join("case"));
    // The verdict is not needed: libFuzzer looks for panics, hangs and memory blow-ups.
    let _verdict =
        run_case(target, &target.generate(data), &dir).expect("the scratch folder is writable");
}

/// Writes `case` into `dir` and runs the target on it; the outer error is a failure to write.
pub fn run_case(target: Target, case: &Case, dir: &Path) -> std::io::Result<Result<(), String>> {
    case.write_to(dir)?;
    Ok(target.run(dir))
}

/// The bundle readers, then the compiler front end up to (not including) the Calyx crates.
fn read_bundle(dir: &Path, factor: usize, config: Option<&BankingConfig>) -> Result<(), String> {
    let bundle = Bundle::load(dir).map_err(|e| e.to_string())?;
    // Both read the same bundle independently; a golden error must not hide the compiler's path.
    let golden = Golden::load(&bundle).map_err(|e| e.to_string());
    let front = front_end(&bundle, factor, config).map_err(|e| e.to_string());
    match (golden, front) {
        (Ok(_), Ok(())) => Ok(()),
        (Err(e), Ok(())) | (Ok(_), Err(e)) => Err(e),
        (Err(g), Err(f)) => Err(format!("{g}; {f}")),
    }
}

fn front_end(
    bundle: &Bundle,
    factor: usize,
    config: Option<&BankingConfig>,
) -> mlcalyx_compiler::error::Result<()> {
    let graph = Graph::from_bundle(bundle)?;
    let program = lower_graph(&graph, factor, config)?;
    check_conflicts(&program)?;
    let _ = program.to_string();
    let _ = Manifest::new(&program, factor as u32);
    let _ = calyx::emit_futil(&program);
    Ok(())
}

fn factor(u: &mut Unstructured) -> arbitrary::Result<usize> {
    u.int_in_range(1..=MAX_FACTOR)
}

fn bundle_case(u: &mut Unstructured, case: &mut Case) -> arbitrary::Result<()> {
    let seed = u.choose(&seeds().bundles)?;
    case.files = seed.files.clone();
    case.params = Params {
        factor: factor(u)?,
        shape: Vec::new(),
    };
    let mut model = seed.model.clone();
    // Written even when the bytes run out part way, so the case is what was mutated so far.
    let result = mutate::bundle(u, &mut model, &mut case.files);
    let text = serde_json::to_vec_pretty(&model).expect("a JSON value serializes");
    case.files.push(("model.json".into(), text));
    result?;
    if u.ratio(1, 8)? {
        let last = case.files.len() - 1;
        mutate::bytes(u, &mut case.files[last].1)?;
    }
    Ok(())
}

fn npy_case(u: &mut Unstructured, case: &mut Case) -> arbitrary::Result<()> {
    let (bytes, shape) = mutate::npy_with_shape(u)?;
    case.files = vec![(NPY_FILE.into(), bytes)];
    case.params.shape = shape;
    Ok(())
}

fn config_case(u: &mut Unstructured, case: &mut Case) -> arbitrary::Result<()> {
    let seed = u.choose(&seeds().bundles)?;
    case.files = seed.files.clone();
    case.params.factor = factor(u)?;
    // Other extents and formats than the examples', the bundle still consistent.
    let mut model = seed.model.clone();
    for _ in 0..u.int_in_range(0..=2)? {
        mutate::consistent(u, &mut model, &mut case.files)?;
    }
    case.files.push((
        "model.json".into(),
        serde_json::to_vec(&model).expect("a JSON value serializes"),
    ));
    let mut config = mutate::config(u, &model);
    let mut text = match &mut config {
        Ok(c) => serde_json::to_vec_pretty(c).expect("a JSON value serializes"),
        Err(_) => b"{\"tensors\": {}}".to_vec(),
    };
    if config.is_ok() && u.ratio(1, 8)? {
        mutate::bytes(u, &mut text)?;
    }
    case.files.push((CONFIG_FILE.into(), text));
    Ok(())
}
