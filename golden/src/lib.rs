//! # mlcalyx-golden
//!
//! The golden side of a bundle: the quantized inputs to drive a design with, the expected
//! fixed-point outputs (computed by `scripts/numerics.py`, the bit-exact target), the float PyTorch
//! outputs, and the comparison of simulated outputs against both.

use approx::abs_diff_eq;
use mlcalyx_compiler::bundle::{read_float_tensor, read_int_tensor, Bundle};
use mlcalyx_compiler::numerics::FixedFormat;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    #[error("golden tensor '{tensor}': {message}")]
    Tensor { tensor: String, message: String },
}

fn err(tensor: &str, message: impl Into<String>) -> GoldenError {
    GoldenError::Tensor {
        tensor: tensor.to_string(),
        message: message.into(),
    }
}

/// A tensor of raw fixed-point values.
#[derive(Debug, Clone)]
pub struct FixedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub format: FixedFormat,
    /// Row-major raw values.
    pub values: Vec<i64>,
}

/// An expected output: the bit-exact fixed-point target and the float reference.
#[derive(Debug, Clone)]
pub struct ExpectedOutput {
    pub fixed: FixedTensor,
    pub float: Vec<f32>,
}

/// The golden tensors of a bundle.
#[derive(Debug, Clone)]
pub struct Golden {
    pub inputs: Vec<FixedTensor>,
    pub outputs: Vec<ExpectedOutput>,
}

impl Golden {
    /// Reads every golden file the bundle names, checking shapes against the declared tensors,
    /// fixed values against their format and float values for NaN and inf (a NaN would compare
    /// as "no error").
    pub fn load(bundle: &Bundle) -> Result<Golden, GoldenError> {
        let model = &bundle.model;
        let fixed = |name: &str, file: &str| -> Result<FixedTensor, GoldenError> {
            let t = bundle
                .tensor(name)
                .ok_or_else(|| err(name, "is not a declared tensor"))?;
            let values = read_int_tensor(&bundle.path(file), &t.shape).map_err(|m| err(name, m))?;
            t.format
                .check_values(&values, file)
                .map_err(|m| err(name, m))?;
            Ok(FixedTensor {
                name: name.to_string(),
                shape: t.shape.clone(),
                format: t.format,
                values,
            })
        };
        let mut inputs = Vec::new();
        for name in &model.inputs {
            let files = model
                .golden
                .inputs
                .get(name)
                .ok_or_else(|| err(name, "the bundle has no golden values for this input"))?;
            inputs.push(fixed(name, &files.fixed)?);
        }
        let mut outputs = Vec::new();
        for name in &model.outputs {
            let files = model
                .golden
                .outputs
                .get(name)
                .ok_or_else(|| err(name, "the bundle has no golden values for this output"))?;
            let fixed = fixed(name, &files.fixed)?;
            let float = read_float_tensor(&bundle.path(&files.float), &fixed.shape)
                .map_err(|m| err(name, m))?;
            if let Some((i, v)) = float.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(err(
                    name,
                    format!(
                        "{v} at flat index {i} of {}: golden float values must be finite",
                        files.float
                    ),
                ));
            }
            outputs.push(ExpectedOutput { fixed, float });
        }
        Ok(Golden { inputs, outputs })
    }
}

/// How one simulated output compares with its golden values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub tensor: String,
    pub elements: usize,
    /// Every element equals the fixed-point reference.
    pub bit_exact: bool,
    pub mismatches: usize,
    /// The first differing element: (flat index, expected raw, simulated raw).
    pub first_mismatch: Option<(usize, i64, i64)>,
    /// Largest |simulated - float PyTorch|, in real units.
    pub max_abs_err: f64,
    pub mean_abs_err: f64,
    /// Every element is within `tolerance` of the float output.
    pub within_tolerance: bool,
    pub tolerance: f64,
}

/// Compares simulated raw values with an expected output. `tolerance` is the largest accepted
/// absolute difference from the float PyTorch output, in real units.
pub fn compare(expected: &ExpectedOutput, simulated: &[i64], tolerance: f64) -> Comparison {
    let fixed = &expected.fixed;
    let mut mismatches = 0;
    let mut first_mismatch = None;
    let mut max_abs_err: f64 = 0.0;
    let mut sum_abs_err = 0.0;
    let mut within_tolerance = simulated.len() == fixed.values.len();
    for (i, (&want, &got)) in fixed.values.iter().zip(simulated).enumerate() {
        if want != got {
            mismatches += 1;
            first_mismatch.get_or_insert((i, want, got));
        }
        let real = fixed.format.to_f64(got);
        let reference = f64::from(expected.float[i]);
        let e = (real - reference).abs();
        max_abs_err = max_abs_err.max(e);
        sum_abs_err += e;
        within_tolerance &= abs_diff_eq!(real, reference, epsilon = tolerance);
    }
    let missing = fixed.values.len().abs_diff(simulated.len());
    mismatches += missing;
    Comparison {
        tensor: fixed.name.clone(),
        elements: fixed.values.len(),
        // Comparing nothing proves nothing.
        bit_exact: mismatches == 0 && !fixed.values.is_empty(),
        mismatches,
        first_mismatch,
        max_abs_err,
        mean_abs_err: sum_abs_err / fixed.values.len().max(1) as f64,
        within_tolerance,
        tolerance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(fixed: Vec<i64>, float: Vec<f32>) -> ExpectedOutput {
        ExpectedOutput {
            fixed: FixedTensor {
                name: "y".into(),
                shape: vec![fixed.len()],
                format: FixedFormat::Q8_8,
                values: fixed,
            },
            float,
        }
    }

    #[test]
    fn identical_values_are_bit_exact() {
        let e = expected(vec![256, -128], vec![1.0, -0.5]);
        let c = compare(&e, &[256, -128], 0.01);
        assert!(c.bit_exact && c.within_tolerance);
        assert_eq!(c.mismatches, 0);
        assert_eq!(c.max_abs_err, 0.0);
    }

    #[test]
    fn one_lsb_off_is_a_mismatch_but_within_tolerance() {
        let e = expected(vec![256, -128], vec![1.0, -0.5]);
        let c = compare(&e, &[256, -127], 0.01);
        assert!(!c.bit_exact);
        assert_eq!(c.first_mismatch, Some((1, -128, -127)));
        assert!(c.within_tolerance);
        assert!((c.max_abs_err - 1.0 / 256.0).abs() < 1e-12);
    }

    #[test]
    fn float_error_beyond_tolerance_is_reported() {
        let e = expected(vec![256], vec![1.5]);
        let c = compare(&e, &[256], 0.25);
        assert!(c.bit_exact);
        assert!(!c.within_tolerance);
        assert_eq!(c.max_abs_err, 0.5);
    }

    #[test]
    fn comparing_no_elements_is_not_bit_exact() {
        let c = compare(&expected(vec![], vec![]), &[], 1.0);
        assert!(!c.bit_exact);
    }

    #[test]
    fn extra_simulated_elements_are_mismatches() {
        let c = compare(&expected(vec![1], vec![0.0]), &[1, 2], 1.0);
        assert!(!c.bit_exact);
        assert_eq!(c.mismatches, 1);
    }

    #[test]
    fn missing_elements_count_as_mismatches() {
        let e = expected(vec![1, 2, 3], vec![0.0; 3]);
        let c = compare(&e, &[1, 2], 1.0);
        assert!(!c.bit_exact);
        assert_eq!(c.mismatches, 1);
        assert!(!c.within_tolerance);
    }
}
