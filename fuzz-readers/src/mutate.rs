//! Structure-aware mutations driven by fuzzer bytes: JSON-level edits of `model.json` (shapes,
//! names, formats, roles, files, node ops, inputs, outputs and attributes, golden entries, any
//! subtree), byte-level edits of `.npy` headers and data, generated and edited banking configs.
//!
//! Every choice reads bytes through [`Unstructured`]; when they run out, choices take their
//! first option (usually "stop mutating"), so any byte string gives a case.

use crate::seeds::seeds;
use arbitrary::{Result, Unstructured};
use serde_json::{json, Map, Value};

/// Numbers that sit on the edges of the readers' checks: 0 and 1, primes, powers of two and their
/// neighbours, the bundle's element cap `1 << 24`, and the integer limits.
const NUMBERS: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    7,
    8,
    13,
    16,
    29,
    47,
    48,
    49,
    63,
    64,
    65,
    127,
    128,
    255,
    256,
    1 << 16,
    (1 << 24) - 1,
    1 << 24,
    (1 << 24) + 1,
    1 << 31,
    1 << 32,
    1 << 62,
    i64::MAX as u64,
    u64::MAX,
];

const STRINGS: &[&str] = &[
    "",
    "x",
    "linear",
    "relu",
    "add",
    "flatten",
    "input",
    "weight",
    "activation",
    "output",
    "main",
    "comb",
    "group",
    "fc1.weight",
    "a b",
    "1x",
    "x\"y",
    "x\ny",
    "x/*y*/",
    "é",
    "\u{0}",
    "../model.json",
    "model.json",
    "weights",
    "weights/",
    "/dev/null",
    "/nonexistent/x.npy",
    "fuzz-case.json",
    "missing.npy",
];

const OPS: &[&str] = &["linear", "relu", "add", "flatten", "conv2d", "", "Linear"];
const ROLES: &[&str] = &["input", "weight", "activation", "output", "bias", ""];
const SCHEMES: &[&str] = &["cyclic", "block", "complete", "Cyclic", ""];
const DESCRS: &[&str] = &[
    "<i2", "<i4", "<i8", "|i1", "<f4", "<f8", ">i2", ">i4", ">f4", "<u2", "|u1", "|b1", "<c8",
    "<U3", "|O", "i2", "<i16", "", "<i", "<f2",
];

pub fn number(u: &mut Unstructured) -> Result<u64> {
    if u.ratio(1, 2)? {
        u.choose(NUMBERS).copied()
    } else {
        u.int_in_range(0..=70)
    }
}

fn small(u: &mut Unstructured) -> Result<usize> {
    if u.ratio(3, 4)? {
        u.int_in_range(1..=9)
    } else {
        Ok(number(u)? as usize)
    }
}

pub fn string(u: &mut Unstructured, names: &[String]) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 if !names.is_empty() => u.choose(names)?.clone(),
        1 => u.choose(STRINGS)?.to_string(),
        2 => "n".repeat(usize::from(u.int_in_range(100u8..=200)?)),
        _ => u.arbitrary::<String>()?.chars().take(40).collect(),
    })
}

/// Any JSON value, nested at most `depth` deep.
pub fn value(u: &mut Unstructured, depth: u32) -> Result<Value> {
    Ok(match u.int_in_range(0..=8)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(number(u)?),
        3 => json!(-(number(u)? as i64)),
        4 => json!(*u.choose(&[0.5, -0.0, 1e30, 1e308, -1.5, 3.0])?),
        5 => Value::String(string(u, &[])?),
        6 if depth > 0 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array((0..n).map(|_| value(u, depth - 1)).collect::<Result<_>>()?)
        }
        7 if depth > 0 => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                m.insert(string(u, &[])?, value(u, depth - 1)?);
            }
            Value::Object(m)
        }
        _ => json!(small(u)?),
    })
}

/// A shape near `old`: a dimension changed, added or removed, two swapped, one halved and its
/// neighbour doubled (same element count), or a new shape altogether.
fn shape(u: &mut Unstructured, old: &Value) -> Result<Value> {
    let mut dims: Vec<u64> = old
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let i = u.int_in_range(0..=dims.len())?;
    match u.int_in_range(0..=5)? {
        0 if i < dims.len() => dims[i] = number(u)?,
        1 => dims.insert(i, number(u)?),
        2 if i < dims.len() => {
            dims.remove(i);
        }
        3 if dims.len() >= 2 => {
            let last = dims.len() - 1;
            dims.swap(0, last)
        }
        4 if i + 1 < dims.len() && dims[i].is_multiple_of(2) => {
            dims[i] /= 2;
            dims[i + 1] = dims[i + 1].saturating_mul(2);
        }
        _ => {
            let n = u.int_in_range(0..=5)?;
            dims = (0..n)
                .map(|_| small(u).map(|d| d as u64))
                .collect::<Result<_>>()?;
        }
    }
    Ok(json!(dims))
}

fn format(u: &mut Unstructured, format: &mut Value) -> Result<()> {
    let widths: &[u64] = &[
        0, 1, 2, 7, 8, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 64, 65, 128,
    ];
    let Some(f) = format.as_object_mut() else {
        *format = json!({"signed": true, "width": 16, "frac": 8});
        return Ok(());
    };
    match u.int_in_range(0..=5)? {
        0 => {
            f.insert("width".into(), json!(*u.choose(widths)?));
        }
        1 => {
            f.insert("frac".into(), json!(*u.choose(widths)?));
        }
        2 => {
            f.insert("signed".into(), json!(u.arbitrary::<bool>()?));
        }
        3 => {
            let key = u.choose(&["width", "frac", "signed"])?;
            f.remove(*key);
        }
        4 => {
            let key = u.choose(&["width", "frac", "signed"])?;
            f.insert(key.to_string(), value(u, 1)?);
        }
        _ => {
            let w = *u.choose(widths)?;
            f.insert("width".into(), json!(w));
            f.insert("frac".into(), json!(u.int_in_range(0..=w)?));
        }
    }
    Ok(())
}

/// Edits a list of names: clears it, adds, removes, duplicates, replaces or swaps entries.
fn names_list(u: &mut Unstructured, list: &mut Value, names: &[String]) -> Result<()> {
    if !list.is_array() {
        *list = json!([]);
    }
    let a = list.as_array_mut().expect("made an array");
    let i = u.int_in_range(0..=a.len())?;
    match u.int_in_range(0..=5)? {
        0 => a.clear(),
        1 => a.insert(i, json!(string(u, names)?)),
        2 if i < a.len() => {
            a.remove(i);
        }
        3 if i < a.len() => {
            let v = a[i].clone();
            a.push(v);
        }
        4 if i < a.len() => a[i] = json!(string(u, names)?),
        _ if a.len() >= 2 => {
            let j = i.min(a.len() - 1);
            a.swap(0, j)
        }
        _ => a.push(json!(string(u, names)?)),
    }
    Ok(())
}

/// Removes, duplicates or swaps elements of an array.
fn reorder(u: &mut Unstructured, list: &mut Value) -> Result<()> {
    let Some(a) = list.as_array_mut().filter(|a| !a.is_empty()) else {
        return Ok(());
    };
    let i = u.int_in_range(0..=a.len() - 1)?;
    let j = u.int_in_range(0..=a.len() - 1)?;
    match u.int_in_range(0..=2)? {
        0 => {
            a.remove(i);
        }
        1 => {
            let v = a[i].clone();
            a.insert(j, v);
        }
        _ => a.swap(i, j),
    }
    Ok(())
}

/// The field `key` of an object (made null if missing); `None` if `v` is not an object (mutations
/// may have made it anything).
fn slot<'v>(v: &'v mut Value, key: &str) -> Option<&'v mut Value> {
    v.as_object_mut()
        .map(|m| m.entry(key.to_string()).or_insert(Value::Null))
}

fn set(v: &mut Value, key: &str, new: Value) {
    if let Some(field) = slot(v, key) {
        *field = new;
    }
}

/// An element of `root[key]` (an array), if there is one.
fn element<'v>(
    u: &mut Unstructured,
    root: &'v mut Value,
    key: &str,
) -> Result<Option<&'v mut Value>> {
    match root.get_mut(key).and_then(Value::as_array_mut) {
        Some(a) if !a.is_empty() => {
            let i = u.int_in_range(0..=a.len() - 1)?;
            Ok(Some(&mut a[i]))
        }
        _ => Ok(None),
    }
}

fn tensor_names(model: &Value) -> Vec<String> {
    model["tensors"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Renames every use of the string `from` in `v` (values and object keys) to `to`.
fn rename_everywhere(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s == from => *s = to.to_string(),
        Value::Array(a) => a.iter_mut().for_each(|v| rename_everywhere(v, from, to)),
        Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut v) in old {
                rename_everywhere(&mut v, from, to);
                m.insert(if k == from { to.to_string() } else { k }, v);
            }
        }
        _ => {}
    }
}

/// JSON pointers to every node of `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, e)| pointers(e, format!("{at}/{i}"), out)),
        Value::Object(m) => m.iter().for_each(|(k, e)| {
            pointers(
                e,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        _ => {}
    }
    out.push(at);
}

/// Replaces a random subtree with a random value, removes a random object key or adds an unknown
/// one.
pub fn any_subtree(u: &mut Unstructured, root: &mut Value) -> Result<()> {
    let mut all = Vec::new();
    pointers(root, String::new(), &mut all);
    let at = u.choose(&all)?.clone();
    let kind = u.int_in_range(0..=2)?;
    let replacement = value(u, 2)?;
    let key = string(u, &[])?;
    let Some(node) = root.pointer_mut(&at) else {
        return Ok(());
    };
    match (kind, node) {
        (1, Value::Object(m)) if !m.is_empty() => {
            let k = m.keys().nth(u.int_in_range(0..=m.len() - 1)?).cloned();
            k.map(|k| m.remove(&k));
        }
        (2, Value::Object(m)) => {
            m.insert(key, replacement);
        }
        (_, node) => *node = replacement,
    }
    Ok(())
}

/// A reference to a file: one of the case's files, or a path that is missing, a folder, or not
/// an `.npy` file.
fn file_ref(u: &mut Unstructured, files: &[(String, Vec<u8>)]) -> Result<Value> {
    if u.ratio(2, 3)? && !files.is_empty() {
        Ok(json!(u.choose(files)?.0))
    } else {
        Ok(json!(string(u, &[])?))
    }
}

/// Mutates a bundle: its `model.json` (as a JSON value) and its files.
pub fn bundle(
    u: &mut Unstructured,
    model: &mut Value,
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<()> {
    for _ in 0..u.int_in_range(0..=6)? {
        if u.ratio(1, 4)? {
            consistent(u, model, files)?;
        } else if u.ratio(1, 6)? {
            bundle_file(u, files)?;
        } else {
            model_json(u, model, files)?;
        }
    }
    Ok(())
}

fn bundle_file(u: &mut Unstructured, files: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let i = u.int_in_range(0..=files.len() - 1)?;
    match u.int_in_range(0..=4)? {
        0 => {
            files.remove(i);
        }
        // A folder where a file is expected.
        1 => files[i] = (format!("{}/", files[i].0), Vec::new()),
        // Another file's content, e.g. a weight of the wrong shape or a float golden as fixed.
        2 => {
            let j = u.int_in_range(0..=files.len() - 1)?;
            files[i].1 = files[j].1.clone();
        }
        _ => npy(u, &mut files[i].1)?,
    }
    Ok(())
}

/// Edits that keep a bundle consistent, so the compiler's later checks and passes are reached:
/// one extent replaced everywhere it occurs, or one number format for every tensor; the weight and
/// golden files whose tensors changed are rewritten to match (zeros, which fit every format).
pub fn consistent(
    u: &mut Unstructured,
    m: &mut Value,
    files: &mut [(String, Vec<u8>)],
) -> Result<()> {
    let Some(tensors) = m.get_mut("tensors").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    let mut changed = Vec::new();
    if u.ratio(2, 3)? {
        let mut extents: Vec<u64> = tensors
            .iter()
            .flat_map(|t| t["shape"].as_array().into_iter().flatten())
            .filter_map(Value::as_u64)
            .collect();
        extents.sort_unstable();
        extents.dedup();
        let from = *u.choose(&extents)?;
        let to = if u.ratio(1, 4)? {
            number(u)?
        } else {
            u.int_in_range(1..=70)?
        };
        for t in tensors.iter_mut() {
            let Some(dims) = t.get_mut("shape").and_then(Value::as_array_mut) else {
                continue;
            };
            if dims.contains(&json!(from)) {
                dims.iter_mut()
                    .filter(|d| **d == json!(from))
                    .for_each(|d| *d = json!(to));
                changed.push(t["name"].as_str().unwrap_or_default().to_string());
            }
        }
    } else {
        let width = u.int_in_range(2..=32)?;
        let format = json!({"signed": true, "width": width, "frac": u.int_in_range(0..=width)?});
        for t in tensors.iter_mut() {
            set(t, "format", format.clone());
            changed.push(t["name"].as_str().unwrap_or_default().to_string());
        }
    }
    for name in changed {
        rewrite_files(m, files, &name);
    }
    Ok(())
}

/// Rewrites the weight and golden files of tensor `name` as zeros of its declared shape (at most
/// 2^16 elements; larger tensors keep their now mismatched files).
fn rewrite_files(m: &Value, files: &mut [(String, Vec<u8>)], name: &str) {
    let Some(t) = m["tensors"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == name))
    else {
        return;
    };
    let dims: Vec<u64> = t["shape"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let Some(elements) = dims.iter().try_fold(1u64, |n, &d| n.checked_mul(d)) else {
        return;
    };
    if elements > 1 << 16 {
        return;
    }
    let shape = py_tuple(&dims);
    let zeros = |descr: &str, size: u64| {
        let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        npy_file(&dict, &vec![0; (elements * size) as usize], 1, false)
    };
    let mut targets = vec![(t["file"].as_str(), zeros("<i2", 2))];
    for side in ["inputs", "outputs"] {
        let entry = &m["golden"][side][name];
        targets.push((entry["fixed"].as_str(), zeros("<i2", 2)));
        targets.push((entry["float"].as_str(), zeros("<f4", 4)));
    }
    for (path, bytes) in targets {
        if let Some(file) = files.iter_mut().find(|(p, _)| Some(p.as_str()) == path) {
            file.1 = bytes;
        }
    }
}

fn model_json(u: &mut Unstructured, m: &mut Value, files: &[(String, Vec<u8>)]) -> Result<()> {
    let names = tensor_names(m);
    match u.int_in_range(0..=16)? {
        0 | 1 => {
            if let Some(t) = element(u, m, "tensors")? {
                let new = shape(u, &t["shape"])?;
                set(t, "shape", new);
            }
        }
        2 => {
            // Renames a tensor everywhere (a consistent bundle with a strange name) or only in
            // its declaration (dangling references).
            if !names.is_empty() {
                let from = u.choose(&names)?.clone();
                let to = string(u, &names)?;
                if u.ratio(2, 3)? {
                    rename_everywhere(m, &from, &to);
                } else if let Some(t) = element(u, m, "tensors")? {
                    set(t, "name", json!(to));
                }
            }
        }
        3 | 4 => {
            if let Some(t) = element(u, m, "tensors")? {
                if let Some(f) = slot(t, "format") {
                    format(u, f)?;
                }
            }
        }
        5 => {
            if let Some(t) = element(u, m, "tensors")? {
                set(t, "role", json!(*u.choose(ROLES)?));
            }
        }
        6 => {
            if let Some(t) = element(u, m, "tensors")?.and_then(Value::as_object_mut) {
                if u.ratio(1, 4)? {
                    t.remove("file");
                } else {
                    t.insert("file".into(), file_ref(u, files)?);
                }
            }
        }
        7 => {
            if let Some(n) = element(u, m, "nodes")? {
                set(n, "op", json!(*u.choose(OPS)?));
            }
        }
        8 | 9 => {
            let key = *u.choose(&["inputs", "outputs"])?;
            if let Some(list) = element(u, m, "nodes")?.and_then(|n| slot(n, key)) {
                names_list(u, list, &names)?;
            }
        }
        10 => {
            if let Some(n) = element(u, m, "nodes")? {
                set(n, "attrs", json!({ string(u, &[])?: value(u, 2)? }));
            }
        }
        11 => {
            if let Some(nodes) = slot(m, "nodes") {
                reorder(u, nodes)?;
            }
        }
        12 => {
            let key = *u.choose(&["inputs", "outputs"])?;
            if let Some(list) = slot(m, key) {
                names_list(u, list, &names)?;
            }
        }
        13 => golden(u, m, &names, files)?,
        14 => {
            let Some(ts) = slot(m, "tensors") else {
                return Ok(());
            };
            if u.ratio(1, 2)? {
                reorder(u, ts)?;
            } else if let Some(ts) = ts.as_array_mut() {
                ts.push(json!({
                    "name": string(u, &names)?,
                    "role": *u.choose(ROLES)?,
                    "shape": shape(u, &json!([]))?,
                    "format": {"signed": true, "width": 16, "frac": 8},
                }));
            }
        }
        15 => {
            let key = *u.choose(&["schema", "version"])?;
            set(m, key, value(u, 0)?);
        }
        _ => any_subtree(u, m)?,
    }
    Ok(())
}

fn golden(
    u: &mut Unstructured,
    m: &mut Value,
    names: &[String],
    files: &[(String, Vec<u8>)],
) -> Result<()> {
    let side = *u.choose(&["inputs", "outputs"])?;
    let entries = slot(m, "golden").and_then(|g| slot(g, side));
    let Some(entries) = entries
        .and_then(Value::as_object_mut)
        .filter(|e| !e.is_empty())
    else {
        return Ok(());
    };
    let key = entries
        .keys()
        .nth(u.int_in_range(0..=entries.len() - 1)?)
        .cloned()
        .expect("index in range");
    match u.int_in_range(0..=3)? {
        0 => {
            entries.remove(&key);
        }
        1 => {
            let v = entries.remove(&key).expect("present");
            entries.insert(string(u, names)?, v);
        }
        2 => {
            let which = *u.choose(&["fixed", "float"])?;
            set(&mut entries[&key], which, file_ref(u, files)?);
        }
        _ => {
            if let Some(e) = entries[&key].as_object_mut() {
                let fixed = e.remove("fixed");
                let float = e.remove("float");
                fixed.map(|f| e.insert("float".into(), f));
                float.map(|f| e.insert("fixed".into(), f));
            }
        }
    }
    Ok(())
}

/// Byte-level edits: truncation, flipped or random bytes, an inserted or repeated span.
pub fn bytes(u: &mut Unstructured, data: &mut Vec<u8>) -> Result<()> {
    for _ in 0..u.int_in_range(1..=3)? {
        let i = u.int_in_range(0..=data.len())?;
        match u.int_in_range(0..=4)? {
            0 => data.truncate(i),
            1 if i < data.len() => data[i] ^= 1 << u.int_in_range(0..=7)?,
            2 if i < data.len() => data[i] = u.arbitrary()?,
            3 => {
                let n = u.int_in_range(1..=8)?;
                let insert: Vec<u8> = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
                data.splice(i..i, insert);
            }
            _ => {
                let end = (i + u.int_in_range(1..=16)?).min(data.len());
                let span = data[i..end].to_vec();
                data.splice(i..i, span);
            }
        }
    }
    Ok(())
}

/// An `.npy` file's parts: where the data starts and the header dictionary text.
fn split_npy(data: &[u8]) -> Option<(usize, &[u8])> {
    let version = *data.get(6)?;
    let (len, start) = if version == 1 {
        (
            usize::from(u16::from_le_bytes([*data.get(8)?, *data.get(9)?])),
            10usize,
        )
    } else {
        let b = data.get(8..12)?;
        (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
    };
    let end = start.checked_add(len)?;
    Some((end, data.get(start..end)?))
}

/// An `.npy` file with the given header dictionary and data, in format `version` (1, 2 or 3),
/// padded to 64 bytes unless `unpadded`.
pub fn npy_file(dict: &str, data: &[u8], version: u8, unpadded: bool) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    let mut header = dict.as_bytes().to_vec();
    if !unpadded {
        let total = prefix + header.len() + 1;
        header.resize(header.len() + (64 - total % 64) % 64, b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header);
    out.extend(data);
    out
}

/// A header dictionary: a dtype, an order and a shape tuple, usually well formed.
fn npy_dict(u: &mut Unstructured, dims: &[u64]) -> Result<String> {
    let descr = *u.choose(DESCRS)?;
    let fortran = if u.ratio(1, 8)? { "True" } else { "False" };
    let shape = match u.int_in_range(0..=9)? {
        0 => u
            .choose(&[
                "(-1,)", "(1e3,)", "(3,4", "()", "(,)", "[3]", "(2, 'a')", "None",
            ])?
            .to_string(),
        _ => py_tuple(dims),
    };
    Ok(match u.int_in_range(0..=15)? {
        0 => format!("{{'descr': '{descr}', 'shape': {shape}, }}"),
        1 => format!(
            "{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, 'extra': 1, }}"
        ),
        2 => u.arbitrary::<String>()?,
        3 => {
            format!("{{\"descr\": \"{descr}\", \"fortran_order\": {fortran}, \"shape\": {shape}}}")
        }
        _ => format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"),
    })
}

/// Mutates an `.npy` file: a new header over the old data, a wrong header length or version, a
/// broken magic string, truncated or extended data, or byte-level edits.
pub fn npy(u: &mut Unstructured, data: &mut Vec<u8>) -> Result<()> {
    match u.int_in_range(0..=7)? {
        0 | 1 => {
            let body = split_npy(data)
                .map_or(&data[..], |(end, _)| &data[end..])
                .to_vec();
            let n = u.int_in_range(0..=4)?;
            let dims: Vec<u64> = (0..n)
                .map(|_| small(u).map(|d| d as u64))
                .collect::<Result<_>>()?;
            let dict = npy_dict(u, &dims)?;
            *data = npy_file(&dict, &body, version(u)?, u.ratio(1, 8)?);
        }
        2 if data.len() >= 10 => {
            let len: u16 = u.arbitrary()?;
            data[8..10].copy_from_slice(&len.to_le_bytes());
        }
        3 if data.len() >= 8 => data[6] = *u.choose(&[0, 1, 2, 3, 4, 255])?,
        4 if data.len() >= 6 => data[u.int_in_range(0..=5)?] = u.arbitrary()?,
        5 => {
            let n = u.int_in_range(0..=64)?;
            data.extend(
                (0..n)
                    .map(|_| u.arbitrary::<u8>())
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        _ => bytes(u, data)?,
    }
    Ok(())
}

fn version(u: &mut Unstructured) -> Result<u8> {
    Ok(*u.choose(&[1, 1, 1, 2, 3])?)
}

/// An `.npy` file (an example's, mutated, or a new one whose data may or may not match its header)
/// and the shape it is read against (usually its header's own).
pub fn npy_with_shape(u: &mut Unstructured) -> Result<(Vec<u8>, Vec<usize>)> {
    let (mut data, mut dims) = if u.ratio(1, 2)? {
        let data = u.choose(&seeds().npys)?.clone();
        let dims = split_npy(&data)
            .map(|(_, dict)| header_dims(dict))
            .unwrap_or_default();
        (data, dims)
    } else {
        let n = u.int_in_range(0..=4)?;
        let dims: Vec<u64> = (0..n)
            .map(|_| small(u).map(|d| d as u64))
            .collect::<Result<_>>()?;
        let item = *u.choose(&[1u64, 2, 4, 8])?;
        // The data the header promises, within 64 kB; a header may promise more than it has.
        let promised = dims
            .iter()
            .try_fold(item, |n, &d| n.checked_mul(d))
            .unwrap_or(u64::MAX);
        let mut len = promised.min(1 << 16) as usize;
        if u.ratio(1, 4)? {
            len =
                len.saturating_sub(u.int_in_range(0..=8)?) + usize::from(u.int_in_range(0u8..=8)?);
        }
        let body: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(37)).collect();
        let dict = npy_dict(u, &dims)?;
        (npy_file(&dict, &body, version(u)?, u.ratio(1, 8)?), dims)
    };
    for _ in 0..u.int_in_range(0..=2)? {
        npy(u, &mut data)?;
    }
    if u.ratio(1, 4)? {
        let n = u.int_in_range(0..=4)?;
        dims = (0..n)
            .map(|_| small(u).map(|d| d as u64))
            .collect::<Result<_>>()?;
    }
    let shape = dims
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
        .collect();
    Ok((data, shape))
}

/// The shape tuple of a header dictionary, e.g. `(16, 64)` -> [16, 64].
fn header_dims(dict: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(dict);
    let Some(start) = text.find("'shape': (") else {
        return Vec::new();
    };
    let rest = &text[start + 10..];
    rest[..rest.find(')').unwrap_or(0)]
        .split(',')
        .filter_map(|d| d.trim().parse().ok())
        .collect()
}

/// A banking config for `model`: an example's or a generated one (tensors of the model, real
/// dimensions, factors near their extents), then JSON-level edits.
pub fn config(u: &mut Unstructured, model: &Value) -> Result<Value> {
    let mut config = if u.ratio(1, 4)? {
        u.choose(&seeds().configs)?.clone()
    } else {
        generated_config(u, model)?
    };
    for _ in 0..u.int_in_range(0..=2)? {
        if u.ratio(1, 2)? {
            any_subtree(u, &mut config)?;
        } else if let Some(tensors) = config.get_mut("tensors").and_then(Value::as_object_mut) {
            // Points one entry at another tensor.
            if let Some(k) = tensors.keys().next().cloned() {
                let v = tensors.remove(&k).expect("present");
                tensors.insert(string(u, &tensor_names(model))?, v);
            }
        }
    }
    Ok(config)
}

fn generated_config(u: &mut Unstructured, model: &Value) -> Result<Value> {
    let tensors: Vec<(String, Vec<u64>)> = model["tensors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let dims = t["shape"]
                .as_array()?
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            Some((t["name"].as_str()?.to_string(), dims))
        })
        .collect();
    let mut out = Map::new();
    for _ in 0..u.int_in_range(0..=4)? {
        let (name, dims) = u.choose(&tensors)?.clone();
        let mut entries = Vec::new();
        for _ in 0..u.int_in_range(0..=3)? {
            let dim = u.int_in_range(0..=dims.len())?;
            let extent = dims.get(dim).copied().unwrap_or(4);
            let factor = match u.int_in_range(0..=5)? {
                0 => extent,
                1 => extent + 1,
                2 => extent.saturating_sub(1),
                3 => number(u)?,
                _ => u.int_in_range(1..=extent.clamp(1, 9))?,
            };
            entries.push(json!({"dim": dim, "scheme": *u.choose(SCHEMES)?, "factor": factor}));
        }
        out.insert(name, Value::Array(entries));
    }
    Ok(json!({ "tensors": out }))
}

/// `dims` as the Python tuple an `.npy` header writes: `(3,)`, `(2, 3)`.
fn py_tuple(dims: &[u64]) -> String {
    match dims {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            dims.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
