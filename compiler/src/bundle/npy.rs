//! Reading the integer `.npy` files of a bundle (quantized weights and golden fixed-point tensors).

use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, ReadNpyExt};
use std::path::Path;

/// Reads an integer `.npy` file (int8, int16, int32 or int64) in C order and checks its shape.
/// Returns the values flattened row-major; the error says what is wrong with which file.
pub fn read_int_tensor(path: &Path, shape: &[usize]) -> Result<Vec<i64>, String> {
    let (values, found) = read_any_int(path)?;
    if found != shape {
        return Err(format!(
            "{} has shape {found:?}, the bundle declares {shape:?}",
            path.display()
        ));
    }
    Ok(values)
}

fn read_any_int(path: &Path) -> Result<(Vec<i64>, Vec<usize>), String> {
    macro_rules! try_dtype {
        ($t:ty) => {
            match read::<$t>(path) {
                Ok(a) => {
                    let shape = a.shape().to_vec();
                    return Ok((a.iter().map(|&v| i64::from(v)).collect(), shape));
                }
                Err(ReadNpyError::WrongDescriptor(_)) => {}
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

fn read<T: ndarray_npy::ReadableElement>(path: &Path) -> Result<ArrayD<T>, ReadNpyError> {
    let file = std::fs::File::open(path)?;
    ArrayD::<T>::read_npy(std::io::BufReader::new(file))
}

fn describe(path: &Path, e: ReadNpyError) -> String {
    match e {
        ReadNpyError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            format!("{} is missing", path.display())
        }
        other => format!("{} cannot be read as .npy: {other}", path.display()),
    }
}
