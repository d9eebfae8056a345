//! Memory banking: how a tensor's elements are spread over several memories (banks), each with its
//! own port, so that unrolled loop copies can read and write in the same cycle.
//!
//! A [`Layout`] banks any set of dimensions, each with a scheme and a factor:
//!
//! | scheme   | bank of index `i` in a dim of extent `E` | offset within the bank's dim | extent of bank `b`'s dim |
//! |----------|------------------------------------------|------------------------------|--------------------------|
//! | cyclic   | `i mod F`                                | `i div F`                    | `ceil((E - b) / F)`      |
//! | block    | `i div S`, `S = ceil(E / F)`             | `i mod S`                    | `min(S, E - b*S)`        |
//! | complete | `i` (`F = E`)                            | `0`                          | `1`                      |
//!
//! The bank number is the mixed-radix combination of the per-dimension banks (first banked dim
//! most significant); the offset is the row-major position of the per-dimension local indices
//! within the bank's own extents. Sizes need not divide evenly: banks are then uneven (no padding),
//! and the map stays a bijection between the tensor's indices and (bank, offset) pairs, which the
//! tests check exhaustively. `docs/banking.md` works an example.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Cyclic,
    Block,
    Complete,
}

/// The most banks one tensor may have: 64 x 64, far beyond what unrolled loops can use in
/// hardware, and a bound on the compiler's time and memory.
pub const MAX_BANKS: usize = 4096;

/// Banking of one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimBanking {
    pub dim: usize,
    pub scheme: Scheme,
    pub factor: usize,
}

/// A tensor's banking: its shape and the banked dimensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub dims: Vec<DimBanking>,
}

impl Layout {
    /// One bank holding the whole tensor row-major.
    pub fn unbanked(shape: &[usize]) -> Layout {
        Layout {
            shape: shape.to_vec(),
            dims: Vec::new(),
        }
    }

    /// Checks the banking against the shape; the message says what is impossible.
    pub fn new(shape: &[usize], dims: Vec<DimBanking>) -> Result<Layout, String> {
        for (i, d) in dims.iter().enumerate() {
            let extent = *shape
                .get(d.dim)
                .ok_or_else(|| format!("dimension {} does not exist in shape {shape:?}", d.dim))?;
            if dims[..i].iter().any(|e| e.dim == d.dim) {
                return Err(format!("dimension {} is banked twice", d.dim));
            }
            match d.scheme {
                Scheme::Complete if d.factor != extent => {
                    return Err(format!(
                    "complete banking of dimension {} needs factor {extent} (its extent), not {}",
                    d.dim, d.factor
                ))
                }
                _ if d.factor == 0 => return Err(format!("dimension {}: factor 0", d.dim)),
                _ if d.factor > extent => {
                    return Err(format!(
                        "dimension {} has {extent} elements, too few for {} banks",
                        d.dim, d.factor
                    ))
                }
                Scheme::Block => {
                    let size = extent.div_ceil(d.factor);
                    let used = extent.div_ceil(size);
                    if used != d.factor {
                        return Err(format!(
                            "block banking {extent} elements of dimension {} by {} gives blocks of {size}, which fill only {used} banks",
                            d.dim, d.factor
                        ));
                    }
                }
                _ => {}
            }
        }
        // A factor of 1 (including complete banking of an extent-1 dimension) does not bank.
        let dims: Vec<DimBanking> = dims.into_iter().filter(|d| d.factor > 1).collect();
        let banks = dims.iter().try_fold(1usize, |n, d| n.checked_mul(d.factor));
        if banks.is_none_or(|n| n > MAX_BANKS) {
            return Err(format!(
                "{} banks, more than the {MAX_BANKS} one tensor may have (every bank is a memory, and loops are unrolled across them)",
                dims.iter().map(|d| d.factor.to_string()).collect::<Vec<_>>().join(" x ")
            ));
        }
        Ok(Layout {
            shape: shape.to_vec(),
            dims,
        })
    }

    /// Number of banks.
    pub fn banks(&self) -> usize {
        self.dims.iter().map(|d| d.factor).product()
    }

    fn dim_banking(&self, dim: usize) -> Option<&DimBanking> {
        self.dims.iter().find(|d| d.dim == dim)
    }

    /// Per-dimension bank numbers of `bank` (in `dims` order).
    fn split_bank(&self, mut bank: usize) -> Vec<usize> {
        let mut parts = vec![0; self.dims.len()];
        for (i, d) in self.dims.iter().enumerate().rev() {
            parts[i] = bank % d.factor;
            bank /= d.factor;
        }
        parts
    }

    /// Extent of dimension `dim` inside bank-part `b` of that dimension.
    fn local_extent(&self, dim: usize, b: usize) -> usize {
        let e = self.shape[dim];
        match self.dim_banking(dim) {
            None => e,
            Some(d) => match d.scheme {
                Scheme::Cyclic => (e - b).div_ceil(d.factor),
                Scheme::Block => {
                    let s = e.div_ceil(d.factor);
                    s.min(e - b * s)
                }
                Scheme::Complete => 1,
            },
        }
    }

    /// The local extents of every dimension inside `bank`.
    pub fn bank_shape(&self, bank: usize) -> Vec<usize> {
        let parts = self.split_bank(bank);
        (0..self.shape.len())
            .map(|dim| match self.dims.iter().position(|d| d.dim == dim) {
                Some(i) => self.local_extent(dim, parts[i]),
                None => self.shape[dim],
            })
            .collect()
    }

    /// Number of elements in `bank`.
    pub fn bank_len(&self, bank: usize) -> usize {
        self.bank_shape(bank).iter().product()
    }

    /// Where element `index` lives: (bank, offset within the bank).
    pub fn locate(&self, index: &[usize]) -> (usize, usize) {
        let mut bank = 0;
        let mut local = index.to_vec();
        for d in &self.dims {
            let i = index[d.dim];
            let (b, l) = match d.scheme {
                Scheme::Cyclic => (i % d.factor, i / d.factor),
                Scheme::Block => {
                    let s = self.shape[d.dim].div_ceil(d.factor);
                    (i / s, i % s)
                }
                Scheme::Complete => (i, 0),
            };
            bank = bank * d.factor + b;
            local[d.dim] = l;
        }
        let shape = self.bank_shape(bank);
        let offset = local
            .iter()
            .zip(&shape)
            .fold(0, |acc, (&i, &e)| acc * e + i);
        (bank, offset)
    }

    /// For each bank, the row-major flat tensor index of every word, in offset order: what a host
    /// needs to scatter a tensor into banks and gather it back.
    pub fn elements(&self) -> Vec<Vec<usize>> {
        let mut banks: Vec<Vec<usize>> = (0..self.banks())
            .map(|b| vec![usize::MAX; self.bank_len(b)])
            .collect();
        for (flat, index) in row_major_indices(&self.shape).enumerate() {
            let (b, o) = self.locate(&index);
            banks[b][o] = flat;
        }
        banks
    }
}

/// Every index of a tensor of `shape`, in row-major order.
pub fn row_major_indices(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    (0..shape.iter().product::<usize>()).map(move |mut flat| {
        let mut index = vec![0; shape.len()];
        for d in (0..shape.len()).rev() {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        index
    })
}

/// A user's banking choices (`--banking-config FILE.json`): per tensor, the banked dimensions.
///
/// ```json
/// {"tensors": {"x": [{"dim": 2, "scheme": "cyclic", "factor": 2}],
///              "proj.weight": [{"dim": 0, "scheme": "block", "factor": 2},
///                              {"dim": 1, "scheme": "cyclic", "factor": 2}]}}
/// ```
/// Tensors it does not name keep the layout `--banking N` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankingConfig {
    pub tensors: std::collections::BTreeMap<String, Vec<DimBanking>>,
}

impl BankingConfig {
    /// The largest config file read.
    pub const MAX_BYTES: u64 = 16 << 20;

    /// Reads and parses a config file; the error names the file and what is wrong.
    pub fn load(path: &std::path::Path) -> Result<BankingConfig, String> {
        let bytes = crate::files::read_regular_file(path, Self::MAX_BYTES, "a banking config")
            .map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: malformed banking config: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive bijection check: every index maps to a distinct in-range (bank, offset) and
    /// every word of every bank is used.
    fn assert_bijection(layout: &Layout) {
        let banks = layout.elements();
        let total: usize = layout.shape.iter().product();
        let mut seen = vec![false; total];
        let mut words = 0;
        for bank in &banks {
            for &flat in bank {
                assert!(flat < total, "{layout:?}: unused word");
                assert!(!seen[flat], "{layout:?}: element {flat} stored twice");
                seen[flat] = true;
                words += 1;
            }
        }
        assert_eq!(words, total, "{layout:?}");
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn every_scheme_is_a_bijection_on_even_and_uneven_shapes() {
        let shapes: [&[usize]; 6] = [&[16], &[13], &[1, 29], &[7, 5], &[4, 4, 3], &[16, 16]];
        for shape in shapes {
            for dim in 0..shape.len() {
                for factor in 1..=8 {
                    for scheme in [Scheme::Cyclic, Scheme::Block] {
                        if let Ok(l) = Layout::new(
                            shape,
                            vec![DimBanking {
                                dim,
                                scheme,
                                factor,
                            }],
                        ) {
                            assert_bijection(&l);
                        }
                    }
                }
                let complete = DimBanking {
                    dim,
                    scheme: Scheme::Complete,
                    factor: shape[dim],
                };
                assert_bijection(&Layout::new(shape, vec![complete]).expect("complete is valid"));
            }
        }
    }

    #[test]
    fn several_dimensions_at_once_is_a_bijection() {
        for (f0, f1) in [(2, 3), (4, 2), (3, 5)] {
            for (s0, s1) in [
                (Scheme::Cyclic, Scheme::Block),
                (Scheme::Block, Scheme::Cyclic),
                (Scheme::Cyclic, Scheme::Cyclic),
            ] {
                let dims = vec![
                    DimBanking {
                        dim: 1,
                        scheme: s0,
                        factor: f0,
                    },
                    DimBanking {
                        dim: 0,
                        scheme: s1,
                        factor: f1,
                    },
                ];
                if let Ok(l) = Layout::new(&[9, 11], dims) {
                    assert_eq!(l.banks(), f0 * f1);
                    assert_bijection(&l);
                }
            }
        }
    }

    proptest::proptest! {
        /// Random shapes (up to 3 dims) with random schemes and factors on random subsets of
        /// dimensions: every valid layout is a bijection, and `locate` agrees with `elements`.
        #[test]
        fn random_layouts_are_bijections(
            shape in proptest::collection::vec(1usize..9, 1..4),
            picks in proptest::collection::vec((0usize..3, 0u8..3, 1usize..9), 0..3),
        ) {
            let dims: Vec<DimBanking> = picks
                .iter()
                .map(|&(dim, scheme, factor)| {
                    let dim = dim % shape.len();
                    let scheme = [Scheme::Cyclic, Scheme::Block, Scheme::Complete][usize::from(scheme)];
                    let factor = if scheme == Scheme::Complete { shape[dim] } else { factor };
                    DimBanking { dim, scheme, factor }
                })
                .collect();
            if let Ok(layout) = Layout::new(&shape, dims) {
                assert_bijection(&layout);
                let banks = layout.elements();
                for (flat, index) in row_major_indices(&shape).enumerate() {
                    let (b, o) = layout.locate(&index);
                    proptest::prop_assert_eq!(banks[b][o], flat);
                }
            }
        }
    }

    #[test]
    fn row_major_indices_count_up_from_the_last_dimension() {
        let all: Vec<Vec<usize>> = row_major_indices(&[2, 3]).collect();
        assert_eq!(
            all,
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert_eq!(row_major_indices(&[4]).count(), 4);
    }

    #[test]
    fn cyclic_uneven_worked_example() {
        // 13 elements over 4 banks: bank 0 gets 0,4,8,12; the others three each.
        let l = Layout::new(
            &[13],
            vec![DimBanking {
                dim: 0,
                scheme: Scheme::Cyclic,
                factor: 4,
            }],
        )
        .expect("valid");
        assert_eq!(
            l.elements(),
            vec![
                vec![0, 4, 8, 12],
                vec![1, 5, 9],
                vec![2, 6, 10],
                vec![3, 7, 11]
            ]
        );
        assert_eq!(l.locate(&[9]), (1, 2));
    }

    #[test]
    fn block_uneven_worked_example() {
        // 13 elements in blocks of 4: 0..4, 4..8, 8..12, 12..13.
        let l = Layout::new(
            &[13],
            vec![DimBanking {
                dim: 0,
                scheme: Scheme::Block,
                factor: 4,
            }],
        )
        .expect("valid");
        assert_eq!(l.bank_len(3), 1);
        assert_eq!(l.locate(&[9]), (2, 1));
        assert_eq!(l.elements()[3], vec![12]);
    }

    #[test]
    fn impossible_configurations_are_rejected_with_reasons() {
        let cyc = |dim, factor| DimBanking {
            dim,
            scheme: Scheme::Cyclic,
            factor,
        };
        assert!(Layout::new(&[4], vec![cyc(1, 2)])
            .unwrap_err()
            .contains("does not exist"));
        assert!(Layout::new(&[4], vec![cyc(0, 8)])
            .unwrap_err()
            .contains("too few"));
        assert!(Layout::new(&[4], vec![cyc(0, 0)])
            .unwrap_err()
            .contains("factor 0"));
        assert!(Layout::new(&[4, 4], vec![cyc(0, 2), cyc(0, 2)])
            .unwrap_err()
            .contains("twice"));
        let block = DimBanking {
            dim: 0,
            scheme: Scheme::Block,
            factor: 4,
        };
        assert!(Layout::new(&[5], vec![block])
            .unwrap_err()
            .contains("fill only 3"));
        let complete = DimBanking {
            dim: 0,
            scheme: Scheme::Complete,
            factor: 3,
        };
        assert!(Layout::new(&[5], vec![complete])
            .unwrap_err()
            .contains("needs factor 5"));
    }
}
