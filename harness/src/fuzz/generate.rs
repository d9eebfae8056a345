//! Random model specs and bankings from a seed. Everything is drawn from [`Rng`], a SplitMix64
//! stream owned by this module, so a seed names the same models on every machine and version.

use super::spec::{Banking, Format, Layer, ModelSpec};
use mlcalyx_compiler::banking::{BankingConfig, DimBanking, Scheme};
use mlcalyx_compiler::bundle::{Role, Tensor};

/// Size limits of generated models and bankings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Widest layer (and input feature count).
    pub max_width: usize,
    /// Most layers.
    pub max_depth: usize,
    /// Largest banking factor.
    pub max_factor: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_width: 70,
            max_depth: 5,
            max_factor: 16,
        }
    }
}

/// SplitMix64: tiny, fast, and fixed forever (the sequence is part of what a seed means).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent stream for item `index` of this seed.
    pub fn fork(seed: u64, index: u64) -> Rng {
        let mut base = Rng(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        Rng(base.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() - 1)]
    }
}

const PRIMES: [usize; 19] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67,
];

/// A layer width: 1, primes, 63/64/65, powers of two, or uniform; at most `max`.
fn width(rng: &mut Rng, max: usize) -> usize {
    let w = match rng.range(0, 9) {
        0 => 1,
        1 | 2 => rng.pick(&PRIMES),
        3 => rng.pick(&[63, 64, 65]),
        4 => rng.pick(&[2, 4, 8, 16, 32]),
        5 => rng.range(1, max),
        _ => rng.range(1, 16),
    };
    w.clamp(1, max)
}

fn format(rng: &mut Rng) -> Format {
    if rng.chance(30) {
        return Format::DEFAULT;
    }
    // Up to 20 bits: a 70-term dot product of saturated values still fits the 48-bit accumulator.
    let width = rng.range(4, 20) as u32;
    let frac = match rng.range(0, 19) {
        0 => 0,
        1 => width - 1,
        _ => rng.range(1, width as usize - 2) as u32,
    };
    Format { width, frac }
}

/// The model `index` of `seed`.
pub fn model(seed: u64, index: u64, limits: &Limits) -> ModelSpec {
    let mut rng = Rng::fork(seed, index);
    let format = format(&mut rng);
    let mut input_shape = vec![1];
    // Leading dimensions, at most 6 rows in all.
    let mut rows = 1;
    for _ in 0..rng.pick(&[0, 0, 1, 1, 2]) {
        let d = rng.range(1, 6 / rows);
        rows *= d;
        input_shape.push(d);
    }
    input_shape.push(width(&mut rng, limits.max_width));
    let mut spec = ModelSpec {
        name: format!("s{seed}-m{index}"),
        seed: rng.next_u64() % (1 << 31),
        format,
        input_shape: input_shape.clone(),
        // Some inputs and weights far beyond the format's range: saturation everywhere.
        input_scale: format.range() * rng.pick(&[0.25, 0.9, 2.0, 16.0]),
        weight_scale: rng.pick(&[1.0, 1.0, 4.0, format.range(), format.range() * 16.0]),
        layers: Vec::new(),
    };
    let depth = rng.range(1, limits.max_depth);
    let mut shape = input_shape;
    while spec.layers.len() < depth {
        let Some(layer) = layer(&mut rng, &shape, spec.layers.last(), limits) else {
            continue;
        };
        spec.layers.push(layer);
        shape = spec
            .shapes()
            .ok()
            .and_then(|s| s.last().cloned())
            .unwrap_or(shape);
    }
    if spec.shapes().is_err() {
        // Only reshapes: give them something to compute.
        spec.layers.push(Layer::Relu);
    }
    spec
}

/// A random layer that fits `shape`, or None when the draw does not fit (the caller draws again).
fn layer(
    rng: &mut Rng,
    shape: &[usize],
    previous: Option<&Layer>,
    limits: &Limits,
) -> Option<Layer> {
    let after_reshape = matches!(previous, Some(Layer::Flatten | Layer::Reshape { .. }));
    Some(match rng.range(0, 19) {
        0..=7 => Layer::Linear {
            out: width(rng, limits.max_width),
            bias: rng.chance(70),
        },
        8..=10 => Layer::Relu,
        11 | 12 => Layer::AddSelf,
        13..=15 => Layer::Residual {
            bias: rng.chance(50),
            relu: rng.chance(50),
        },
        16 | 17 if shape.len() >= 3 && !after_reshape => Layer::Flatten,
        _ if !after_reshape => {
            let count: usize = shape[1..].iter().product();
            let divisors: Vec<usize> = (2..count).filter(|&d| count.is_multiple_of(d)).collect();
            let to = if divisors.is_empty() || (shape.len() >= 3 && rng.chance(30)) {
                vec![1, count]
            } else {
                let a = rng.pick(&divisors);
                vec![1, a, count / a]
            };
            if to == shape {
                return None;
            }
            Layer::Reshape { shape: to }
        }
        _ => return None,
    })
}

/// A banking factor, mostly small (large factors build slowly).
fn factor(rng: &mut Rng, max: usize) -> u32 {
    let f = match rng.range(0, 3) {
        0 => 1,
        1 => rng.range(2, 4),
        2 => rng.range(5, 8),
        _ => rng.range(9, 16),
    };
    f.min(max) as u32
}

/// The bankings to run a model with: the first by factor alone, the others with a random
/// `--banking-config` over the bundle's tensors.
pub fn bankings(
    seed: u64,
    index: u64,
    tensors: &[Tensor],
    count: usize,
    limits: &Limits,
) -> Vec<Banking> {
    let mut rng = Rng::fork(seed ^ 0xBA4C, index);
    (0..count)
        .map(|k| {
            if k == 0 {
                return Banking {
                    factor: factor(&mut rng, limits.max_factor),
                    config: None,
                };
            }
            Banking {
                factor: factor(&mut rng, 4),
                config: Some(config(&mut rng, tensors, limits)),
            }
        })
        .collect()
}

/// The dimensions the default rule banks: the last of data tensors, both of a weight matrix.
fn natural_dims(t: &Tensor) -> Vec<usize> {
    match t.role {
        Role::Weight => (0..t.shape.len()).collect(),
        _ => vec![t.shape.len() - 1],
    }
}

/// The largest factor up to `want` that `scheme` accepts on an extent `e` (1: do not bank).
fn fit(scheme: Scheme, e: usize, want: usize) -> usize {
    match scheme {
        Scheme::Complete => e,
        Scheme::Cyclic => want.min(e),
        Scheme::Block => (1..=want.min(e))
            .rev()
            .find(|&f| e.div_ceil(e.div_ceil(f)) == f)
            .unwrap_or(1),
    }
}

fn scheme(rng: &mut Rng) -> Scheme {
    rng.pick(&[Scheme::Cyclic, Scheme::Block, Scheme::Complete])
}

/// One scheme and factor on every tensor's natural dimensions (agreeing loops), then perhaps one
/// tensor re-banked at random (copies, conflicts), or a few random tensors only (several
/// dimensions, uneven and impossible layouts).
fn config(rng: &mut Rng, tensors: &[Tensor], limits: &Limits) -> BankingConfig {
    let mut config = BankingConfig::default();
    let mode = rng.range(0, 2);
    if mode < 2 {
        let s = scheme(rng);
        let f = rng.range(2, limits.max_factor);
        for t in tensors {
            let dims = natural_dims(t)
                .into_iter()
                .filter_map(|dim| {
                    let e = t.shape[dim];
                    // Complete banking of a long dimension would be thousands of banks.
                    let s = if s == Scheme::Complete && e > limits.max_factor {
                        Scheme::Cyclic
                    } else {
                        s
                    };
                    let factor = fit(s, e, f);
                    (factor > 1).then_some(DimBanking {
                        dim,
                        scheme: s,
                        factor,
                    })
                })
                .collect();
            config.tensors.insert(t.name.clone(), dims);
        }
    }
    if mode > 0 {
        for _ in 0..rng.range(1, 3) {
            let t = &tensors[rng.range(0, tensors.len() - 1)];
            config
                .tensors
                .insert(t.name.clone(), random_dims(rng, &t.shape, limits));
        }
    }
    config
}

/// Random banked dimensions of one tensor; rarely one that `Layout::new` rejects.
fn random_dims(rng: &mut Rng, shape: &[usize], limits: &Limits) -> Vec<DimBanking> {
    let mut dims: Vec<usize> = (0..shape.len()).filter(|&d| shape[d] > 1).collect();
    let mut out = Vec::new();
    for _ in 0..rng.range(0, dims.len().min(2)) {
        let dim = dims.remove(rng.range(0, dims.len() - 1));
        let e = shape[dim];
        let mut s = scheme(rng);
        if s == Scheme::Complete && e > limits.max_factor {
            s = Scheme::Cyclic;
        }
        let want = rng.range(2, limits.max_factor.min(e).max(2));
        let mut factor = fit(s, e, want);
        if rng.chance(5) {
            factor = want + 1; // impossible (too many banks or an empty block): must be rejected
        }
        if factor > 1 {
            out.push(DimBanking {
                dim,
                scheme: s,
                factor,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlcalyx_compiler::banking::Layout;
    use mlcalyx_compiler::numerics::FixedFormat;

    fn specs(seed: u64, n: u64) -> Vec<ModelSpec> {
        (0..n).map(|i| model(seed, i, &Limits::default())).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_models() {
        assert_eq!(specs(42, 50), specs(42, 50));
        assert_ne!(specs(42, 50), specs(43, 50));
        // A model does not depend on how many come before it (parallel workers draw any index).
        assert_eq!(model(42, 37, &Limits::default()), specs(42, 50)[37]);
    }

    /// The generator reaches every op, the width edge cases, leading dimensions, non-default
    /// formats and saturating scales, and only makes valid specs.
    #[test]
    fn models_cover_every_op_and_edge_case() {
        let all = specs(1, 400);
        let layers: Vec<&Layer> = all.iter().flat_map(|s| &s.layers).collect();
        let has = |f: &dyn Fn(&Layer) -> bool| layers.iter().any(|l| f(l));
        assert!(has(&|l| matches!(l, Layer::Linear { bias: true, .. })));
        assert!(has(&|l| matches!(l, Layer::Linear { bias: false, .. })));
        assert!(has(&|l| matches!(l, Layer::Relu)));
        assert!(has(&|l| matches!(l, Layer::AddSelf)));
        assert!(has(&|l| matches!(l, Layer::Residual { .. })));
        assert!(has(&|l| matches!(l, Layer::Flatten)));
        assert!(has(&|l| matches!(l, Layer::Reshape { .. })));
        for w in [1, 2, 63, 64, 65] {
            assert!(
                has(&|l| matches!(l, Layer::Linear { out, .. } if *out == w)),
                "{w}"
            );
        }
        assert!(has(
            &|l| matches!(l, Layer::Linear { out, .. } if *out > 65)
        ));
        for s in &all {
            s.shapes().unwrap_or_else(|e| panic!("{}: {e}", s.name));
            assert!((1..=5).contains(&s.layers.len()));
        }
        assert!(all.iter().any(|s| s.input_shape.len() == 4));
        assert!(all.iter().any(|s| s.input_shape.len() == 2));
        assert!(all.iter().any(|s| s.format != Format::DEFAULT));
        assert!(all.iter().any(|s| s.input_scale > s.format.range()));
        assert!(all.iter().any(|s| s.weight_scale > s.format.range()));
        // Every format is one the compiler accepts.
        for s in &all {
            let f = FixedFormat {
                signed: true,
                width: s.format.width,
                frac: s.format.frac,
            };
            f.check().unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
    }

    #[test]
    fn limits_bound_the_models() {
        let limits = Limits {
            max_width: 5,
            max_depth: 2,
            max_factor: 3,
        };
        for i in 0..200 {
            let s = model(9, i, &limits);
            // A final relu may follow reshapes only.
            assert!(s.layers.len() <= 3, "{s:?}");
            assert!(*s.input_shape.last().unwrap() <= 5);
            assert!(s
                .layers
                .iter()
                .all(|l| !matches!(l, Layer::Linear { out, .. } if *out > 5)));
        }
    }

    /// Whether every dimension of `config` fits its tensor's shape (what `Layout::new` accepts).
    fn config_fits(config: &BankingConfig, tensors: &[Tensor]) -> bool {
        config.tensors.iter().all(|(name, dims)| {
            tensors
                .iter()
                .find(|t| &t.name == name)
                .is_some_and(|t| Layout::new(&t.shape, dims.clone()).is_ok())
        })
    }

    fn tensor(name: &str, role: Role, shape: &[usize]) -> Tensor {
        serde_json::from_value(serde_json::json!({
            "name": name, "role": role, "shape": shape,
            "format": {"signed": true, "width": 16, "frac": 8},
        }))
        .expect("a tensor")
    }

    #[test]
    fn bankings_are_deterministic_and_fit_their_tensors_mostly() {
        let tensors = [
            tensor("x", Role::Input, &[1, 3, 13]),
            tensor("fc.weight", Role::Weight, &[29, 13]),
            tensor("fc.bias", Role::Weight, &[29]),
            tensor("linear", Role::Output, &[1, 3, 29]),
        ];
        let limits = Limits::default();
        let all: Vec<Banking> = (0..100)
            .flat_map(|i| bankings(5, i, &tensors, 3, &limits))
            .collect();
        let again: Vec<Banking> = (0..100)
            .flat_map(|i| bankings(5, i, &tensors, 3, &limits))
            .collect();
        assert_eq!(all, again);
        assert!(all.iter().step_by(3).all(|b| b.config.is_none()));
        let configs: Vec<&BankingConfig> = all.iter().filter_map(|b| b.config.as_ref()).collect();
        let fitting = configs.iter().filter(|c| config_fits(c, &tensors)).count();
        // Most layouts are possible; a few are impossible on purpose (they must be rejected).
        assert!(
            fitting * 10 >= configs.len() * 8,
            "{fitting} of {}",
            configs.len()
        );
        assert!(fitting < configs.len());
        let schemes: Vec<Scheme> = configs
            .iter()
            .flat_map(|c| c.tensors.values().flatten().map(|d| d.scheme))
            .collect();
        for s in [Scheme::Cyclic, Scheme::Block, Scheme::Complete] {
            assert!(schemes.contains(&s), "{s:?}");
        }
        // Several dimensions of one tensor at once.
        assert!(configs
            .iter()
            .any(|c| c.tensors.values().any(|d| d.len() == 2)));
    }
}
