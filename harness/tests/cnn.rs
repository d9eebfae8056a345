//! Convolution and pooling end to end: hand-made bundles whose expected outputs come from a
//! reference written here from the op contract (`docs/ir.md`, `docs/numerics.md`), independent
//! of the compiler, compiled at banking 1, 2, 4 and 8, simulated and compared bit for bit.

mod common;

use common::{BundleSpec, Fmt, Q8_8};
use mlcalyx_compiler::Bundle;
use mlcalyx_harness::{run_bundle, RunSettings};
use mlcalyx_sim::Verilator;
use serde_json::json;

/// A deterministic generator of raw test values (64-bit LCG).
struct Values(u64);

impl Values {
    fn take(&mut self, n: usize, lo: i64, hi: i64) -> Vec<i64> {
        (0..n)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                lo + ((self.0 >> 33) % (hi - lo + 1) as u64) as i64
            })
            .collect()
    }
}

fn round_shift(v: i64, s: u32) -> i64 {
    if s == 0 {
        v
    } else {
        (v + (1 << (s - 1))) >> s
    }
}

fn saturate(v: i64, f: Fmt) -> i64 {
    let max = (1i64 << (f.width - 1)) - 1;
    v.clamp(-max - 1, max)
}

/// A window op's geometry over `r` spatial dims of `x: [C, S...]` (one batch).
#[derive(Clone)]
struct Geom {
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
}

impl Geom {
    fn new(kernel: &[usize], stride: usize, padding: usize, dilation: usize) -> Geom {
        let r = kernel.len();
        Geom {
            kernel: kernel.to_vec(),
            stride: vec![stride; r],
            padding: vec![padding; r],
            dilation: vec![dilation; r],
        }
    }

    fn out(&self, s: &[usize]) -> Vec<usize> {
        (0..s.len())
            .map(|i| {
                (s[i] + 2 * self.padding[i] - self.dilation[i] * (self.kernel[i] - 1) - 1)
                    / self.stride[i]
                    + 1
            })
            .collect()
    }

    /// Every (output position, window offsets) -> the input position, or `None` in the padding.
    fn at(&self, s: &[usize], os: &[usize], k: &[usize]) -> Option<usize> {
        let mut flat = 0;
        for i in 0..s.len() {
            let p =
                (os[i] * self.stride[i] + k[i] * self.dilation[i]) as i64 - self.padding[i] as i64;
            if p < 0 || p >= s[i] as i64 {
                return None;
            }
            flat = flat * s[i] + p as usize;
        }
        Some(flat)
    }
}

/// Row-major multi-indices of `shape`.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|mut f| {
            let mut ix = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                ix[d] = f % shape[d];
                f /= shape[d];
            }
            ix
        })
        .collect()
}

/// The contract's conv on one batch: `x: [C, S...]`, `w: [O, C/g, K...]`, all formats `f`.
#[allow(clippy::too_many_arguments)]
fn conv_ref(
    x: &[i64],
    c: usize,
    s: &[usize],
    w: &[i64],
    o: usize,
    b: Option<&[i64]>,
    g: &Geom,
    groups: usize,
    f: Fmt,
) -> Vec<i64> {
    let os = g.out(s);
    let (cg, og) = (c / groups, o / groups);
    let ksize: usize = g.kernel.iter().product();
    let ssize: usize = s.iter().product();
    let mut y = Vec::new();
    for oc in 0..o {
        for pos in indices(&os) {
            let mut acc: i64 = b.map_or(0, |b| b[oc] << f.frac);
            for ci in 0..cg {
                let ch = (oc / og) * cg + ci;
                for (kf, k) in indices(&g.kernel).iter().enumerate() {
                    if let Some(p) = g.at(s, &pos, k) {
                        acc += x[ch * ssize + p] * w[(oc * cg + ci) * ksize + kf];
                    }
                }
            }
            y.push(saturate(round_shift(acc, f.frac), f));
        }
    }
    y
}

/// The contract's maxpool (`divisor: None`) or avgpool on one batch.
fn pool_ref(
    x: &[i64],
    c: usize,
    s: &[usize],
    g: &Geom,
    divisor: Option<usize>,
    f: Fmt,
) -> Vec<i64> {
    let ssize: usize = s.iter().product();
    let mut y = Vec::new();
    for ch in 0..c {
        for pos in indices(&g.out(s)) {
            let vals: Vec<i64> = indices(&g.kernel)
                .iter()
                .map(|k| g.at(s, &pos, k).map(|p| x[ch * ssize + p]))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|v| v.unwrap_or(if divisor.is_some() { 0 } else { i64::MIN }))
                .collect();
            y.push(match divisor {
                None => *vals.iter().max().unwrap(),
                Some(d) => {
                    let r = ((1i64 << 16) + d as i64 / 2) / d as i64;
                    saturate(round_shift(vals.iter().sum::<i64>() * r, 16), f)
                }
            });
        }
    }
    y
}

fn window_attrs(g: &Geom) -> serde_json::Value {
    json!({"stride": g.stride, "padding": g.padding, "dilation": g.dilation})
}

/// A one-conv model `x: [1, C, S...] -> y` (batch dim 1), with its expected output.
fn conv_model(
    name: &str,
    c: usize,
    s: &[usize],
    o: usize,
    g: Geom,
    groups: usize,
    bias: bool,
) -> BundleSpec {
    let mut v = Values(name.len() as u64 * 7919 + 1);
    let x = v.take(c * s.iter().product::<usize>(), -400, 400);
    let k = g.kernel.clone();
    let wlen = o * (c / groups) * k.iter().product::<usize>();
    let w = v.take(wlen, -300, 300);
    let b = v.take(o, -500, 500);
    let y = conv_ref(&x, c, s, &w, o, bias.then_some(&b[..]), &g, groups, Q8_8);
    let mut xs = vec![1, c];
    xs.extend(s);
    let mut ws = vec![o, c / groups];
    ws.extend(&k);
    let mut ys = vec![1, o];
    ys.extend(g.out(s));
    let mut spec = BundleSpec::new(name);
    spec.input("x", &xs, Q8_8, &x)
        .weight("conv.weight", &ws, Q8_8, &w);
    let mut ins = vec!["x", "conv.weight"];
    if bias {
        spec.weight("conv.bias", &[o], Q8_8, &b);
        ins.push("conv.bias");
    }
    let mut attrs = window_attrs(&g);
    attrs["groups"] = json!(groups);
    spec.output("y", &ys, Q8_8, &y)
        .node_with("conv", "conv", &ins, "y", attrs);
    spec
}

fn pool_model(name: &str, c: usize, s: &[usize], g: Geom, divisor: Option<usize>) -> BundleSpec {
    let mut v = Values(name.len() as u64 * 104729 + 3);
    let x = v.take(c * s.iter().product::<usize>(), -32768, 32767);
    let y = pool_ref(&x, c, s, &g, divisor, Q8_8);
    let mut xs = vec![c];
    xs.extend(s);
    let mut ys = vec![c];
    ys.extend(g.out(s));
    let mut attrs = window_attrs(&g);
    attrs["kernel"] = json!(g.kernel);
    let op = match divisor {
        None => "maxpool",
        Some(d) => {
            attrs["divisor"] = json!(d);
            "avgpool"
        }
    };
    let mut spec = BundleSpec::new(name);
    spec.input("x", &xs, Q8_8, &x)
        .output("y", &ys, Q8_8, &y)
        .node_with("pool", op, &["x"], "y", attrs);
    spec
}

/// A small CNN: conv (padding 1) -> relu -> maxpool 2 -> conv (stride 2) -> avgpool -> flatten
/// -> linear, on `x: [1, 2, 9, 9]`.
fn small_cnn() -> BundleSpec {
    let mut v = Values(42);
    let f = Q8_8;
    let x = v.take(2 * 81, -256, 256);
    let w1 = v.take(4 * 2 * 9, -100, 100);
    let b1 = v.take(4, -200, 200);
    let c1 = conv_ref(
        &x,
        2,
        &[9, 9],
        &w1,
        4,
        Some(&b1),
        &Geom::new(&[3, 3], 1, 1, 1),
        1,
        f,
    );
    let r1: Vec<i64> = c1.iter().map(|&v| v.max(0)).collect();
    let p1 = pool_ref(&r1, 4, &[9, 9], &Geom::new(&[2, 2], 2, 0, 1), None, f);
    let w2 = v.take(6 * 4 * 4, -100, 100);
    let c2 = conv_ref(
        &p1,
        4,
        &[4, 4],
        &w2,
        6,
        None,
        &Geom::new(&[2, 2], 2, 0, 1),
        1,
        f,
    );
    let a2 = pool_ref(&c2, 6, &[2, 2], &Geom::new(&[2, 2], 2, 0, 1), Some(4), f);
    let wl = v.take(3 * 6, -200, 200);
    let out: Vec<i64> = (0..3)
        .map(|n| {
            let acc: i64 = (0..6).map(|k| a2[k] * wl[n * 6 + k]).sum();
            saturate(round_shift(acc, 8), f)
        })
        .collect();
    let mut spec = BundleSpec::new("small_cnn");
    spec.input("x", &[1, 2, 9, 9], f, &x)
        .weight("c1.weight", &[4, 2, 3, 3], f, &w1)
        .weight("c1.bias", &[4], f, &b1)
        .weight("c2.weight", &[6, 4, 2, 2], f, &w2)
        .weight("fc.weight", &[3, 6], f, &wl)
        .activation("c1", &[1, 4, 9, 9], f)
        .activation("r1", &[1, 4, 9, 9], f)
        .activation("p1", &[1, 4, 4, 4], f)
        .activation("c2", &[1, 6, 2, 2], f)
        .activation("a2", &[1, 6, 1, 1], f)
        .activation("flat", &[1, 6], f)
        .output("out", &[1, 3], f, &out);
    let g1 = window_attrs(&Geom::new(&[3, 3], 1, 1, 1));
    let g2 = window_attrs(&Geom::new(&[2, 2], 2, 0, 1));
    let mut pool = g2.clone();
    pool["kernel"] = json!([2, 2]);
    spec.node_with("c1", "conv", &["x", "c1.weight", "c1.bias"], "c1", g1)
        .node("r1", "relu", &["c1"], "r1")
        .node_with("p1", "maxpool", &["r1"], "p1", pool.clone())
        .node_with("c2", "conv", &["p1", "c2.weight"], "c2", g2);
    pool["divisor"] = json!(4);
    spec.node_with("a2", "avgpool", &["c2"], "a2", pool)
        .node_with("flat", "flatten", &["a2"], "flat", json!({"shape": [1, 6]}))
        .node("fc", "linear", &["flat", "fc.weight"], "out");
    spec
}

/// A residual block ending in a classifier: conv (padding 1) -> relu -> conv (padding 1) -> add
/// -> flatten -> linear on `x: [3, 4, 4]`. The flatten meets a linear banked on features: a
/// re-banking copy at every factor above 1.
fn residual_cnn() -> BundleSpec {
    let mut v = Values(7);
    let f = Q8_8;
    let g = Geom::new(&[3, 3], 1, 1, 1);
    let x = v.take(3 * 16, -256, 256);
    let w1 = v.take(3 * 3 * 9, -80, 80);
    let b1 = v.take(3, -200, 200);
    let w2 = v.take(3 * 3 * 9, -80, 80);
    let c1: Vec<i64> = conv_ref(&x, 3, &[4, 4], &w1, 3, Some(&b1), &g, 1, f)
        .iter()
        .map(|&v| v.max(0))
        .collect();
    let c2 = conv_ref(&c1, 3, &[4, 4], &w2, 3, None, &g, 1, f);
    let sum: Vec<i64> = c1
        .iter()
        .zip(&c2)
        .map(|(a, b)| saturate(a + b, f))
        .collect();
    let wl = v.take(5 * 48, -60, 60);
    let out: Vec<i64> = (0..5)
        .map(|n| {
            let acc: i64 = (0..48).map(|k| sum[k] * wl[n * 48 + k]).sum();
            saturate(round_shift(acc, 8), f)
        })
        .collect();
    let mut spec = BundleSpec::new("residual_cnn");
    spec.input("x", &[3, 4, 4], f, &x)
        .weight("c1.weight", &[3, 3, 3, 3], f, &w1)
        .weight("c1.bias", &[3], f, &b1)
        .weight("c2.weight", &[3, 3, 3, 3], f, &w2)
        .weight("fc.weight", &[5, 48], f, &wl)
        .activation("c1", &[3, 4, 4], f)
        .activation("r1", &[3, 4, 4], f)
        .activation("c2", &[3, 4, 4], f)
        .activation("sum", &[3, 4, 4], f)
        .activation("flat", &[48], f)
        .output("out", &[5], f, &out);
    let attrs = window_attrs(&g);
    spec.node_with(
        "c1",
        "conv",
        &["x", "c1.weight", "c1.bias"],
        "c1",
        attrs.clone(),
    )
    .node("r1", "relu", &["c1"], "r1")
    .node_with("c2", "conv", &["r1", "c2.weight"], "c2", attrs)
    .node("sum", "add", &["r1", "c2"], "sum")
    .node_with("flat", "flatten", &["sum"], "flat", json!({"shape": [48]}))
    .node("fc", "linear", &["flat", "fc.weight"], "out");
    spec
}

/// Runs `spec` at each factor; returns the cycles, or the problems found.
fn run_factors(spec: &BundleSpec, factors: &[u32]) -> Result<Vec<u64>, String> {
    let verilator = Verilator::find().expect("Verilator 5 is needed: run scripts/setup.sh");
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::load(&spec.write(&dir.path().join("model.bundle"))).unwrap();
    let mut cycles = Vec::new();
    for &b in factors {
        let work = tempfile::tempdir().unwrap();
        let r = run_bundle(&bundle, b, work.path(), &verilator, &RunSettings::default());
        if r.status != "ok" || !r.bit_exact {
            return Err(format!(
                "{} at banking {b}: status {}, error {:?}, outputs {:?}",
                spec.name, r.status, r.error, r.outputs
            ));
        }
        cycles.push(r.cycles.unwrap());
    }
    Ok(cycles)
}

#[test]
fn edge_shapes_of_conv_and_pool_are_bit_exact_at_banking_1_and_2() {
    let cases = vec![
        conv_model(
            "conv_1x1",
            3,
            &[4, 4],
            2,
            Geom::new(&[1, 1], 1, 0, 1),
            1,
            true,
        ),
        conv_model(
            "conv_full",
            2,
            &[3, 3],
            3,
            Geom::new(&[3, 3], 1, 0, 1),
            1,
            true,
        ),
        conv_model(
            "conv_odd_stride2_pad1",
            3,
            &[7, 5],
            5,
            Geom::new(&[3, 3], 2, 1, 1),
            1,
            true,
        ),
        conv_model(
            "conv_dilation2",
            2,
            &[7, 7],
            3,
            Geom::new(&[3, 3], 1, 0, 2),
            1,
            false,
        ),
        conv_model(
            "conv_depthwise",
            4,
            &[5, 5],
            4,
            Geom::new(&[3, 3], 1, 1, 1),
            4,
            true,
        ),
        conv_model(
            "conv_groups2",
            4,
            &[4, 4],
            6,
            Geom::new(&[2, 2], 1, 0, 1),
            2,
            true,
        ),
        conv_model("conv1d_pad1", 3, &[9], 4, Geom::new(&[3], 2, 1, 1), 1, true),
        pool_model(
            "maxpool_odd_pad1",
            3,
            &[5, 5],
            Geom::new(&[3, 3], 2, 1, 1),
            None,
        ),
        pool_model("maxpool1d_dil2", 2, &[9], Geom::new(&[2], 1, 0, 2), None),
        pool_model(
            "avgpool_odd_pad1",
            3,
            &[5, 7],
            Geom::new(&[3, 3], 2, 1, 1),
            Some(9),
        ),
        pool_model(
            "avgpool_global",
            5,
            &[4, 4],
            Geom::new(&[4, 4], 4, 0, 1),
            Some(16),
        ),
    ];
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|spec| run_factors(spec, &[1, 2]).err())
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_small_cnn_is_bit_exact_at_banking_1_2_4_8_with_exact_cycles() {
    let cycles = run_factors(&small_cnn(), &[1, 2, 4, 8]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cycles, vec![82389, 23710, 12262, 11950]);
}

#[test]
fn a_residual_block_flattened_into_a_linear_is_bit_exact_at_banking_1_2_4_8() {
    let cycles = run_factors(&residual_cnn(), &[1, 2, 4, 8]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cycles, vec![35181, 15767, 4849, 4699]);
}
