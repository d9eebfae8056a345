//! Reading the `.npy` files of a bundle (quantized weights, golden tensors).
//!
//! Files are read into memory and viewed in place, so a header that claims a huge shape is
//! rejected by the length check instead of triggering a huge allocation. Only regular files are
//! read, and at most the bytes the declared shape needs ([`max_npy_bytes`]).

use crate::files::read_regular_file;
use ndarray::ArrayViewD;
use ndarray_npy::{ViewElement, ViewNpyError, ViewNpyExt};
use std::path::Path;

/// Reads an integer `.npy` file (int8, int16, int32 or int64) in C order and checks its shape.
/// Returns the values flattened row-major; the error says what is wrong with which file.
pub fn read_int_tensor(path: &Path, shape: &[usize]) -> Result<Vec<i64>, String> {
    let bytes = read(path, shape)?;
    check_header(path, &bytes)?;
    macro_rules! try_dtype {
        ($t:ty) => {
            match view::<$t>(&bytes) {
                Ok(a) => {
                    return checked(path, a.shape(), shape, || {
                        a.iter().map(|&v| i64::from(v)).collect()
                    })
                }
                Err(ViewNpyError::WrongDescriptor(_)) => {}
                Err(e) => return Err(describe(path, e)),
            }
        };
    }
    try_dtype!(i16);
    try_dtype!(i32);
    try_dtype!(i64);
    try_dtype!(i8);
    Err(format!(
        "{} is not an integer array (int8/16/32/64 expected: weights and golden values are stored quantized)",
        path.display()
    ))
}

/// Reads a float32 `.npy` file in C order and checks its shape.
pub fn read_float_tensor(path: &Path, shape: &[usize]) -> Result<Vec<f32>, String> {
    let bytes = read(path, shape)?;
    check_header(path, &bytes)?;
    let a = view::<f32>(&bytes).map_err(|e| match e {
        ViewNpyError::WrongDescriptor(_) => format!("{} is not a float32 array", path.display()),
        e => describe(path, e),
    })?;
    checked(path, a.shape(), shape, || a.iter().copied().collect())
}

/// The largest `.npy` header accepted (format version 1 allows up to 64 KiB, plus the preamble).
const MAX_HEADER_BYTES: u64 = 65_536 + 16;

/// The most bytes an `.npy` file of `shape` can need: the largest header and 8-byte elements
/// (int64, the widest dtype read).
pub fn max_npy_bytes(shape: &[usize]) -> u64 {
    let elements = shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    elements.saturating_mul(8).saturating_add(MAX_HEADER_BYTES)
}

fn read(path: &Path, shape: &[usize]) -> Result<Vec<u8>, String> {
    let what = format!("a .npy file of shape {shape:?}");
    read_regular_file(path, max_npy_bytes(shape), &what)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks what `ndarray-npy` trusts in a header: the header length field (it allocates that many
/// bytes before reading, up to 4 GB from a 12-byte preamble) and the shape (it panics on a shape
/// whose non-zero extents overflow when another extent is 0). Other header errors are left to
/// `ndarray-npy`, which reports them.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |what: String| Err(format!("{} cannot be read as .npy: {what}", path.display()));
    let (len, preamble) = match (bytes.get(..6), bytes.get(6)) {
        (Some(b"\x93NUMPY"), Some(1)) => (
            bytes
                .get(8..10)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize),
            10,
        ),
        (Some(b"\x93NUMPY"), Some(2 | 3)) => (
            bytes
                .get(8..12)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
            12,
        ),
        _ => return Ok(()),
    };
    let Some(len) = len else { return Ok(()) };
    let Some(header) = bytes.get(preamble..preamble + len) else {
        return fail(format!(
            "its header length is {len} bytes, the file has {}",
            bytes.len()
        ));
    };
    // Every `'shape': (...)` in the header, in case a key is repeated.
    let header = String::from_utf8_lossy(header);
    for (at, _) in header.match_indices("'shape'") {
        let rest = header[at + 7..].trim_start();
        let Some(tuple) = rest.strip_prefix(':').map(str::trim_start) else {
            continue;
        };
        let Some(tuple) = tuple.strip_prefix('(').and_then(|t| t.split(')').next()) else {
            continue;
        };
        let dims: Option<Vec<usize>> = tuple
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| d.parse().ok())
            .collect();
        let Some(dims) = dims else {
            return fail(format!("its shape ({tuple}) is not a tuple of integers"));
        };
        let size = dims
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(1usize, |n, &d| n.checked_mul(d));
        if size.is_none_or(|n| n > isize::MAX as usize) {
            return fail(format!("its shape {dims:?} is too large to address"));
        }
    }
    Ok(())
}

fn view<'a, T: ViewElement>(bytes: &'a [u8]) -> Result<ArrayViewD<'a, T>, ViewNpyError> {
    ArrayViewD::<T>::view_npy(bytes)
}

fn checked<T>(
    path: &Path,
    found: &[usize],
    shape: &[usize],
    values: impl FnOnce() -> Vec<T>,
) -> Result<Vec<T>, String> {
    if found != shape {
        return Err(format!(
            "{} has shape {found:?}, the bundle declares {shape:?}",
            path.display()
        ));
    }
    Ok(values())
}

fn describe(path: &Path, e: ViewNpyError) -> String {
    format!("{} cannot be read as .npy: {e}", path.display())
}
