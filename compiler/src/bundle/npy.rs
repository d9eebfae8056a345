//! Reading the `.npy` files of a bundle (quantized weights, golden tensors).
//!
//! Files are read into memory and viewed in place, so a header that claims a huge shape is
//! rejected by the length check instead of triggering a huge allocation.

use ndarray::ArrayViewD;
use ndarray_npy::{ViewElement, ViewNpyError, ViewNpyExt};
use std::path::Path;

/// Reads an integer `.npy` file (int8, int16, int32 or int64) in C order and checks its shape.
/// Returns the values flattened row-major; the error says what is wrong with which file.
pub fn read_int_tensor(path: &Path, shape: &[usize]) -> Result<Vec<i64>, String> {
    let bytes = read(path)?;
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
    let bytes = read(path)?;
    let a = view::<f32>(&bytes).map_err(|e| match e {
        ViewNpyError::WrongDescriptor(_) => format!("{} is not a float32 array", path.display()),
        e => describe(path, e),
    })?;
    checked(path, a.shape(), shape, || a.iter().copied().collect())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{} is missing", path.display()),
        _ => format!("{}: {e}", path.display()),
    })
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
