//! Fixed-point number formats and the arithmetic rules the hardware and the NumPy reference share.
//!
//! `docs/numerics.md` is the specification; `scripts/numerics.py` implements the same rules in NumPy.

use serde::{Deserialize, Serialize};

/// Width of the signed accumulator of a dot product (a DSP48-style accumulator).
pub const ACCUMULATOR_WIDTH: u32 = 48;

/// A two's complement fixed-point format: `value = raw / 2^frac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedFormat {
    pub signed: bool,
    pub width: u32,
    pub frac: u32,
}

impl FixedFormat {
    /// The default activation and weight format: signed Q8.8.
    pub const Q8_8: FixedFormat = FixedFormat {
        signed: true,
        width: 16,
        frac: 8,
    };

    /// Smallest representable raw value.
    pub fn min_raw(&self) -> i64 {
        if self.signed {
            -(1i64 << (self.width - 1))
        } else {
            0
        }
    }

    /// Largest representable raw value.
    pub fn max_raw(&self) -> i64 {
        if self.signed {
            (1i64 << (self.width - 1)) - 1
        } else {
            (1i64 << self.width) - 1
        }
    }

    /// Converts a raw integer to its real value.
    pub fn to_f64(&self, raw: i64) -> f64 {
        raw as f64 / (1u64 << self.frac) as f64
    }

    /// The raw value as the low `width` bits (what a memory word holds).
    pub fn to_bits(&self, raw: i64) -> u64 {
        (raw as u64) & mask(self.width)
    }

    /// Reads a memory word of `width` bits back as a raw value (sign-extending when signed).
    pub fn from_bits(&self, bits: u64) -> i64 {
        let bits = bits & mask(self.width);
        if self.signed && self.width < 64 && bits >> (self.width - 1) & 1 == 1 {
            (bits | !mask(self.width)) as i64
        } else {
            bits as i64
        }
    }

    /// Clamps a raw value into the representable range.
    pub fn saturate(&self, raw: i64) -> i64 {
        raw.clamp(self.min_raw(), self.max_raw())
    }

    /// Checks that this format is one the hardware supports.
    pub fn check(&self) -> Result<(), String> {
        if !self.signed {
            return Err("unsigned formats are not supported yet".into());
        }
        if !(2..=32).contains(&self.width) {
            return Err(format!("width {} is outside 2..=32", self.width));
        }
        if self.frac >= self.width {
            return Err(format!(
                "{} fractional bits do not fit in {} bits",
                self.frac, self.width
            ));
        }
        Ok(())
    }

    /// Checks raw values read from `file` against this (valid) format; the error names the first
    /// value that does not fit and its flat index.
    pub fn check_values(&self, values: &[i64], file: &str) -> Result<(), String> {
        if self.check().is_err() {
            // Reported where the format itself is validated.
            return Ok(());
        }
        match values
            .iter()
            .enumerate()
            .find(|(_, &v)| v < self.min_raw() || v > self.max_raw())
        {
            Some((i, v)) => Err(format!(
                "value {v} at flat index {i} of {file} does not fit the format {self}"
            )),
            None => Ok(()),
        }
    }
}

impl std::fmt::Display for FixedFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.signed { "s" } else { "u" };
        // Integer bits may be negative in a malformed format that is being reported.
        let int = i64::from(self.width) - i64::from(self.frac);
        write!(f, "{s}{int}.{}", self.frac)
    }
}

fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Rounds a wide value right by `shift` bits, half toward +infinity, then saturates into `out`.
/// This is exactly what the `mlc_requant` hardware primitive computes.
pub fn requantize(acc: i64, shift: u32, out: FixedFormat) -> i64 {
    let rounded = if shift == 0 {
        acc
    } else {
        (acc + (1i64 << (shift - 1))) >> shift
    };
    out.saturate(rounded)
}

/// Adds two raw values of the same format and saturates: the `mlc_sat_add` primitive.
pub fn saturating_add(a: i64, b: i64, format: FixedFormat) -> i64 {
    format.saturate(a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: FixedFormat = FixedFormat::Q8_8;

    #[test]
    fn rounding_ties_go_toward_plus_infinity() {
        // 0x80 is exactly half an output LSB at shift 8.
        assert_eq!(requantize(0x80, 8, Q), 1);
        assert_eq!(requantize(-0x80, 8, Q), 0);
        assert_eq!(requantize(0x7f, 8, Q), 0);
        assert_eq!(requantize(-0x81, 8, Q), -1);
        assert_eq!(requantize(0x180, 8, Q), 2);
        assert_eq!(requantize(-0x180, 8, Q), -1);
    }

    #[test]
    fn requantize_saturates_at_both_ends() {
        assert_eq!(requantize(i64::from(i32::MAX), 8, Q), 32767);
        assert_eq!(requantize(32767 << 8, 8, Q), 32767);
        assert_eq!(requantize((32767 << 8) + 0x80, 8, Q), 32767);
        assert_eq!(requantize(-32768 << 8, 8, Q), -32768);
        assert_eq!(requantize((-32768 << 8) - 0x81, 8, Q), -32768);
        assert_eq!(requantize(-(1 << 46), 8, Q), -32768);
    }

    #[test]
    fn shift_zero_only_saturates() {
        assert_eq!(requantize(5, 0, Q), 5);
        assert_eq!(requantize(40000, 0, Q), 32767);
    }

    #[test]
    fn saturating_add_clamps() {
        assert_eq!(saturating_add(32767, 1, Q), 32767);
        assert_eq!(saturating_add(-32768, -1, Q), -32768);
        assert_eq!(saturating_add(100, -300, Q), -200);
    }

    #[test]
    fn bits_round_trip_sign_extends() {
        assert_eq!(Q.to_bits(-1), 0xffff);
        assert_eq!(Q.from_bits(0xffff), -1);
        assert_eq!(Q.from_bits(0x8000), -32768);
        assert_eq!(Q.from_bits(0x7fff), 32767);
        assert_eq!(Q.from_bits(0x1_0001), 1);
        assert_eq!(Q.to_f64(-384), -1.5);
    }

    #[test]
    fn format_checks() {
        assert!(Q.check().is_ok());
        let bad = FixedFormat {
            signed: true,
            width: 8,
            frac: 8,
        };
        assert!(bad.check().unwrap_err().contains("fractional"));
        assert_eq!(Q.to_string(), "s8.8");
    }
}
