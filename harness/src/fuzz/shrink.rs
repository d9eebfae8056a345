//! Shrinking a failing case: greedily take the first simpler case that still fails, until no
//! simpler case fails (or the budget of tries is spent). Simpler means, in this order: no banking
//! config, a smaller factor, fewer config entries, fewer layers, fewer leading dimensions,
//! narrower layers, the default format, unit scales.

use super::spec::{Banking, Case, Format, Layer};

/// The smallest case reached from `start` through `simpler` steps that all keep `fails` true,
/// and the number of candidates tried.
pub fn shrink(
    start: Case,
    max_tries: usize,
    mut fails: impl FnMut(&Case) -> bool,
) -> (Case, usize) {
    let mut current = start;
    let mut tries = 0;
    'progress: loop {
        for candidate in simpler(&current) {
            if tries == max_tries {
                break 'progress;
            }
            tries += 1;
            if fails(&candidate) {
                current = candidate;
                continue 'progress;
            }
        }
        break;
    }
    (current, tries)
}

/// Strictly smaller halves and steps down from `n` towards `to`.
fn smaller(n: usize, to: usize) -> Vec<usize> {
    let mut out = vec![to, to.max(n / 2), n.saturating_sub(1).max(to)];
    out.retain(|&m| m < n);
    out.dedup();
    out
}

/// Candidates one step simpler than `case`, each a valid model; the biggest cuts first.
pub fn simpler(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let with_banking = |banking: Banking| Case {
        banking,
        ..case.clone()
    };
    let b = &case.banking;
    if let Some(config) = &b.config {
        out.push(with_banking(Banking {
            config: None,
            ..b.clone()
        }));
        for name in config.tensors.keys() {
            let mut c = config.clone();
            c.tensors.remove(name);
            out.push(with_banking(Banking {
                config: Some(c),
                ..b.clone()
            }));
        }
        for (name, dims) in &config.tensors {
            for i in 0..dims.len() {
                let mut c = config.clone();
                if let Some(d) = c.tensors.get_mut(name) {
                    d.remove(i);
                }
                out.push(with_banking(Banking {
                    config: Some(c),
                    ..b.clone()
                }));
            }
        }
    }
    for f in smaller(b.factor as usize, 1) {
        out.push(with_banking(Banking {
            factor: f as u32,
            ..b.clone()
        }));
    }

    let mut models = Vec::new();
    let m = &case.model;
    for i in 0..m.layers.len() {
        let mut s = m.clone();
        s.layers.remove(i);
        models.push(s);
    }
    if m.input_shape.len() > 2 {
        for i in 1..m.input_shape.len() - 1 {
            let mut s = m.clone();
            s.input_shape.remove(i);
            models.push(s);
        }
    }
    for (i, layer) in m.layers.iter().enumerate() {
        match layer {
            Layer::Linear { out, bias } => {
                for n in smaller(*out, 1) {
                    let mut s = m.clone();
                    s.layers[i] = Layer::Linear {
                        out: n,
                        bias: *bias,
                    };
                    models.push(s);
                }
                if *bias {
                    let mut s = m.clone();
                    s.layers[i] = Layer::Linear {
                        out: *out,
                        bias: false,
                    };
                    models.push(s);
                }
            }
            Layer::Residual { bias, relu } if *bias || *relu => {
                let mut s = m.clone();
                s.layers[i] = Layer::Residual {
                    bias: false,
                    relu: false,
                };
                models.push(s);
            }
            _ => {}
        }
    }
    for (d, &n) in m.input_shape.iter().enumerate().skip(1) {
        for k in smaller(n, 1) {
            let mut s = m.clone();
            s.input_shape[d] = k;
            models.push(s);
        }
    }
    if m.format != Format::DEFAULT {
        let mut s = m.clone();
        s.format = Format::DEFAULT;
        models.push(s);
    }
    for (input, weight) in [(1.0, m.weight_scale), (m.input_scale, 1.0)] {
        if (input, weight) != (m.input_scale, m.weight_scale) {
            let mut s = m.clone();
            (s.input_scale, s.weight_scale) = (input, weight);
            models.push(s);
        }
    }
    out.extend(
        models
            .into_iter()
            .filter(|s| s.shapes().is_ok())
            .map(|model| Case {
                model,
                banking: b.clone(),
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::spec::ModelSpec;
    use mlcalyx_compiler::banking::{BankingConfig, DimBanking, Scheme};

    fn big_case() -> Case {
        let mut config = BankingConfig::default();
        config.tensors.insert(
            "x".into(),
            vec![DimBanking {
                dim: 2,
                scheme: Scheme::Block,
                factor: 3,
            }],
        );
        Case {
            model: ModelSpec {
                name: "big".into(),
                seed: 7,
                format: Format { width: 12, frac: 5 },
                input_shape: vec![1, 3, 20],
                input_scale: 40.0,
                weight_scale: 3.0,
                layers: vec![
                    Layer::Linear {
                        out: 33,
                        bias: true,
                    },
                    Layer::Relu,
                    Layer::Flatten,
                    Layer::Residual {
                        bias: true,
                        relu: true,
                    },
                    Layer::Linear { out: 9, bias: true },
                ],
            },
            banking: Banking {
                factor: 13,
                config: Some(config),
            },
        }
    }

    /// An injected failure: "any linear layer with at least 7 outputs, compiled at factor 3 or
    /// more". The shrinker must strip everything else and stop exactly at the boundary.
    #[test]
    fn shrinks_an_injected_failure_to_its_core() {
        let fails = |c: &Case| {
            c.banking.factor >= 3
                && c.model
                    .layers
                    .iter()
                    .any(|l| matches!(l, Layer::Linear { out, .. } if *out >= 7))
        };
        let start = big_case();
        assert!(fails(&start));
        let (small, tries) = shrink(start, 10_000, fails);
        assert!(fails(&small));
        assert_eq!(
            small,
            Case {
                model: ModelSpec {
                    name: "big".into(),
                    seed: 7,
                    format: Format::DEFAULT,
                    input_shape: vec![1, 1],
                    input_scale: 1.0,
                    weight_scale: 1.0,
                    layers: vec![Layer::Linear {
                        out: 7,
                        bias: false
                    }],
                },
                banking: Banking {
                    factor: 3,
                    config: None
                },
            }
        );
        assert!(tries > 10, "{tries}");
        // A fixpoint: no simpler candidate still fails.
        assert!(simpler(&small).iter().all(|c| !fails(c)));
    }

    #[test]
    fn the_budget_bounds_the_tries() {
        let mut calls = 0;
        let (_, tries) = shrink(big_case(), 5, |_| {
            calls += 1;
            false
        });
        assert_eq!((tries, calls), (5, 5));
    }

    #[test]
    fn every_candidate_is_a_valid_different_model() {
        let case = big_case();
        let candidates = simpler(&case);
        assert!(candidates.len() > 20);
        for c in candidates {
            assert!(c.model.shapes().is_ok());
            assert_ne!(c, case);
        }
    }
}
