//! The generated hardware implements the documented fixed-point rules (compiler/src/numerics.rs,
//! scripts/numerics.py) bit for bit, at the edges: rounding ties, saturation, bias alignment,
//! relu and saturating add at the extremes of the format.
//!
//! Every bundle here is written by the test, and every expected value is a literal worked out by
//! hand from the specification (the arithmetic is in the comments), never computed by the code
//! under test. The rules, for an output of format s(W-F).F:
//!
//! * linear: `acc = sum_k x[k] * w[n, k] + (b[n] << (Fx + Fw - Fb))`, exact in 48 bits;
//!   `y = saturate((acc + 2^(s-1)) >> s)` with `s = Fx + Fw - Fy` and an arithmetic shift, i.e.
//!   round half toward +infinity, then clamp to [-2^(W-1), 2^(W-1) - 1].
//! * relu: `max(x, 0)`; add: `saturate(a + b)`.
//!
//! Each bundle is simulated twice: with `run_bundle` (the harness compares with the golden
//! files, which hold the literals), and by driving the kept core through its I/O port with the
//! literal inputs (its ROMs hold the literal weights), asserting the values read back.

mod common;

use common::{BundleSpec, Fmt, Q8_8};
use mlcalyx_compiler::bundle::Role;
use mlcalyx_compiler::{Artifacts, Bundle, Manifest};
use mlcalyx_harness::{io, run_bundle, RunSettings};
use mlcalyx_sim::Verilator;
use std::collections::BTreeMap;
use std::path::Path;

/// s12.4: 16 bits, 4 fractional. A Q8.8 x Q8.8 product has 16 fractional bits: shift 12.
const S12_4: Fmt = Fmt::new(16, 4);
/// s16.0: integers. As a bias of a Q8.8 x Q8.8 product it is shifted left by 16.
const S16_0: Fmt = Fmt::new(16, 0);
/// s16.16 in 32 bits (stored as int32). As a bias it is aligned with shift 0.
const S16_16: Fmt = Fmt::new(32, 16);

/// Writes `spec`, runs it through `run_bundle` at banking 1 and then drives the kept design
/// directly; returns the raw output values read from the simulation.
fn simulate(spec: &BundleSpec) -> BTreeMap<String, Vec<i64>> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spec.write(&tmp.path().join(format!("{}.bundle", spec.name)));
    let bundle = Bundle::load(&dir).unwrap_or_else(|e| panic!("loading {}: {e}", spec.name));
    let verilator = Verilator::find().expect("Verilator 5 is needed: run scripts/setup.sh");
    let work = tmp.path().join("work");
    let r = run_bundle(&bundle, 1, &work, &verilator, &RunSettings::default());
    assert_eq!(r.status, "ok", "{}: {r:#?}", spec.name);
    assert!(r.bit_exact, "{}: {r:#?}", spec.name);
    assert!(r.outputs.iter().all(|c| c.mismatches == 0));
    assert_eq!(
        r.outputs.len(),
        spec.tensors.iter().filter(|t| t.role == "output").count()
    );
    // The float goldens are the expected values dequantized, so a bit-exact design is exact.
    assert_eq!(r.max_abs_err, Some(0.0), "{}: {r:#?}", spec.name);

    let (cycles, values) = drive(&work, spec, &verilator);
    assert_eq!(
        Some(cycles),
        r.cycles,
        "{}: the same design took another number of cycles",
        spec.name
    );
    values
}

/// Builds (a cache hit) and runs the core `run_bundle` left in `work` through its ports only:
/// the literal inputs of `spec` written through the I/O port at the manifest's addresses (the
/// weights are the core's ROMs), the outputs read back the same way.
fn drive(
    work: &Path,
    spec: &BundleSpec,
    verilator: &Verilator,
) -> (u64, BTreeMap<String, Vec<i64>>) {
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(work.join(Artifacts::MANIFEST)).expect("manifest.json is kept"),
    )
    .expect("manifest.json parses");
    let model = verilator
        .build(
            &work.join(Artifacts::VERILOG),
            &manifest.top.module,
            &work.join("verilator"),
        )
        .expect("building the kept model.sv");
    let mut sim = model.instantiate().unwrap();
    sim.reset(2).unwrap();
    for t in spec.tensors.iter().filter(|t| t.role == "input") {
        let words =
            io::tensor_words(&manifest, &t.name, t.values.as_ref().unwrap(), Role::Input).unwrap();
        io::write_words(&mut sim, &manifest, &words).unwrap();
    }
    let cycles = sim.run(10_000_000).unwrap();
    let mut out = BTreeMap::new();
    for t in spec.tensors.iter().filter(|t| t.role == "output") {
        let len = t.shape.iter().product();
        let values = io::read_tensor(&mut sim, &manifest, &t.name, len).unwrap();
        out.insert(t.name.clone(), values);
    }
    (cycles, out)
}

/// Splits `(inputs..., expected)` rows into a flat weight matrix and the expected column.
fn rows<const K: usize>(table: &[([i64; K], i64)]) -> (Vec<i64>, Vec<i64>) {
    let w = table.iter().flat_map(|(w, _)| w.iter().copied()).collect();
    let y = table.iter().map(|&(_, y)| y).collect();
    (w, y)
}

#[test]
fn linear_rounds_half_up_and_saturates() {
    // x = [64.0, 1.0, 1/256, -128.0, -128.0] in Q8.8, so for a weight row w (raw):
    //   acc = 16384*w0 + 256*w1 + w2 - 32768*w3 - 32768*w4
    // y (Q8.8, shift 8) = sat16((acc + 128) >> 8)
    let x = [16384, 256, 1, -32768, -32768];
    #[rustfmt::skip]
    let q8_8: &[([i64; 5], i64)] = &[
        // ties and their neighbours
        ([0, 0, 128, 0, 0], 1),    // acc 128 = +0.5 LSB: (128+128)>>8 = 1
        ([0, 0, -128, 0, 0], 0),   // acc -128 = -0.5 LSB: (-128+128)>>8 = 0 (toward +inf)
        ([0, 0, 127, 0, 0], 0),    // acc 127: 255>>8 = 0
        ([0, 0, 129, 0, 0], 1),    // acc 129: 257>>8 = 1
        ([0, 0, -127, 0, 0], 0),   // acc -127: 1>>8 = 0
        ([0, 0, -129, 0, 0], -1),  // acc -129: -1>>8 = -1
        ([0, 1, 128, 0, 0], 2),    // acc 384 = 1.5 LSB: 512>>8 = 2
        ([0, -1, -128, 0, 0], -1), // acc -384 = -1.5 LSB: -256>>8 = -1
        ([0, 100, 128, 0, 0], 101),   // acc 25728 = 100.5 LSB: 25856>>8 = 101
        ([0, -100, -128, 0, 0], -100), // acc -25728 = -100.5 LSB: -25600>>8 = -100
        ([1, 2, 3, 0, 0], 66),     // acc 16384+512+3 = 16899: 17027>>8 = 66
        // the top of the range
        ([512, 0, -129, 0, 0], 32767), // acc 8388608-129 = 8388479: 8388607>>8 = 32767
        ([512, 0, -128, 0, 0], 32767), // acc 8388480 = 32767.5 LSB: 8388608>>8 = 32768 -> sat 32767 (wrap: -32768)
        ([1024, 5, 0, 0, 0], 32767),   // acc 16777216+1280 = 16778496: 16778624>>8 = 65541 -> sat (wrap: 5)
        // the bottom of the range
        ([-512, 0, 0, 0, 0], -32768),    // acc -8388608: -8388480>>8 = floor(-32767.5) = -32768
        ([-512, 0, -128, 0, 0], -32768), // acc -8388736 = -32768.5 LSB: -8388608>>8 = -32768 (no clamp needed)
        ([-512, 0, -129, 0, 0], -32768), // acc -8388737: -8388609>>8 = -32769 -> sat -32768 (wrap: 32767)
        ([-1024, -5, 0, 0, 0], -32768),  // acc -16778496: -16778368>>8 = -65541 -> sat (wrap: -5)
        // extreme products and sums beyond 32 bits (the accumulator is 48 bits wide)
        ([0, 0, 0, -32768, 0], 32767),  // acc (-32768)*(-32768) = 2^30: 4194304 -> sat 32767
        ([0, 0, 0, 32767, 0], -32768),  // acc -32768*32767 = -1073709056: -4194176 -> sat -32768
        // acc 16384*32767 + 256*32767 + 32767 + 2*2^30 = 545275647 + 2147483648 = 2692759295 > 2^31
        ([32767, 32767, 32767, -32768, -32768], 32767),
        // acc -16641*32768 - 2*32768*32767 = -545292288 - 2147418112 = -2692710400 < -2^31
        ([-32768, -32768, -32768, 32767, 32767], -32768),
    ];
    // The same input through a second layer with an s12.4 output: shift 12,
    //   y = sat16((acc + 2048) >> 12)
    #[rustfmt::skip]
    let s12_4: &[([i64; 5], i64)] = &[
        ([0, 8, 0, 0, 0], 1),      // acc 2048 = +0.5 LSB: 4096>>12 = 1
        ([0, -8, 0, 0, 0], 0),     // acc -2048 = -0.5 LSB: 0>>12 = 0
        ([0, 7, 255, 0, 0], 0),    // acc 1792+255 = 2047: 4095>>12 = 0
        ([0, -8, -1, 0, 0], -1),   // acc -2049: -1>>12 = -1
        ([0, 24, 0, 0, 0], 2),     // acc 6144 = 1.5 LSB: 8192>>12 = 2
        ([0, -24, 0, 0, 0], -1),   // acc -6144 = -1.5 LSB: -4096>>12 = -1
        ([0, 3, 0, 0, 0], 0),      // acc 768: 2816>>12 = 0 (a shift of 8 would give 3)
        ([1, 0, 0, 0, 0], 4),      // acc 16384: 18432>>12 = 4 (a shift of 8 would give 64)
        ([8191, 55, 255, 0, 0], 32767), // acc 134201344+14080+255 = 134215679: 134217727>>12 = 32767
        ([8192, 0, 0, 0, 0], 32767),    // acc 134217728 = 32768 LSB: 134219776>>12 = 32768 -> sat (wrap: -32768)
        ([-8192, 0, 0, 0, 0], -32768),  // acc -134217728: -134215680>>12 = floor(-32767.5) = -32768
        ([-8192, -8, -1, 0, 0], -32768), // acc -134219777: -134217729>>12 = -32769 -> sat (wrap: 32767)
    ];
    let (w8, y8) = rows(q8_8);
    let (w4, y4) = rows(s12_4);
    let (n8, n4) = (y8.len(), y4.len());
    let mut spec = BundleSpec::new("requant");
    spec.input("x", &[1, 5], Q8_8, &x)
        .weight("w8", &[n8, 5], Q8_8, &w8)
        .weight("w4", &[n4, 5], Q8_8, &w4)
        .output("y8", &[1, n8], Q8_8, &y8)
        .output("y4", &[1, n4], S12_4, &y4)
        .node("fc8", "linear", &["x", "w8"], "y8")
        .node("fc4", "linear", &["x", "w4"], "y4");
    let got = simulate(&spec);
    assert_eq!(got["y8"], y8, "Q8.8 output (shift 8)");
    assert_eq!(got["y4"], y4, "s12.4 output (shift 12)");
}

#[test]
fn linear_bias_is_aligned_by_a_left_shift() {
    // x = [1.0, 1/256] in Q8.8: acc = 256*w0 + w1 + (b << (16 - Fb)); Q8.8 output, shift 8.
    let x = [256, 1];
    // Bias in Q8.8: shifted left by 8.
    #[rustfmt::skip]
    let q8_8: &[([i64; 3], i64)] = &[
        // [w0, w1, b]
        ([0, 0, 1], 1),          // acc 1<<8 = 256: 384>>8 = 1 (unshifted: 0; shifted by 16: 256)
        ([0, 128, -1], 0),       // acc -256+128 = -128 (-0.5 LSB): 0>>8 = 0
        ([0, 127, -1], -1),      // acc -129: -1>>8 = -1
        ([-50, 0, 100], 50),     // acc -12800+25600 = 12800: 12928>>8 = 50
        ([0, 127, -5], -5),      // acc -1280+127 = -1153: -1025>>8 = floor(-4.004) = -5
        ([0, 0, -32768], -32768), // acc -32768<<8 = -8388608 (sign-extended): -32768
        ([32767, 0, 32767], 32767),   // acc 2*8388352 = 16776704: 16776832>>8 = 65534 -> sat (wrap: -2)
        ([-32768, 0, -32768], -32768), // acc -16777216: -16777088>>8 = -65536 -> sat (wrap: 0)
    ];
    // Bias in s16.0 (integers): shifted left by 16.
    #[rustfmt::skip]
    let s16_0: &[([i64; 3], i64)] = &[
        ([0, 0, 3], 768),          // acc 3<<16 = 196608: 196736>>8 = 768 (3.0)
        ([0, 0, -1], -256),        // acc -65536: -65408>>8 = -256 (-1.0)
        ([255, 128, -1], 0),       // acc -65536+65280+128 = -128: 0>>8 = 0
        ([0, 0, 127], 32512),      // acc 127<<16 = 8323072: 8323200>>8 = 32512 (127.0)
        ([0, 0, 128], 32767),      // acc 128<<16 = 8388608: 8388736>>8 = 32768 -> sat (wrap: -32768)
        ([-1, -128, -128], -32768), // acc -8388608-256-128 = -8388992: -8388864>>8 = -32769 -> sat (wrap: 32767)
        ([0, 0, 32767], 32767),    // acc 32767<<16 = 2147418112: 8388352 -> sat 32767
        ([0, 0, -32768], -32768),  // acc -32768<<16 = -2^31: -8388608 -> sat -32768
    ];
    // Bias in s16.16 (32 bits wide, an int32 file): shift 0.
    #[rustfmt::skip]
    let s16_16: &[([i64; 3], i64)] = &[
        ([0, 0, 65536], 256),        // acc 65536 (1.0): 65664>>8 = 256
        ([0, 0, -128], 0),           // acc -128 (-0.5 LSB): 0
        ([0, 0, -129], -1),          // acc -129: -1
        ([3, 0, 640], 6),                   // acc 768+640 = 1408 (5.5 LSB): 1536>>8 = 6
        ([0, 0, 2147483647], 32767), // acc 2^31-1: 2147483775>>8 = 8388608 -> sat (needs more than 32 bits)
        ([0, 0, -2147483648], -32768), // acc -2^31: -2147483520>>8 = -8388608 -> sat
        ([-1, 0, -8388608], -32768), // acc -8388608-256 = -8388864: -8388736>>8 = -32769 -> sat (wrap: 32767)
    ];
    let split = |t: &[([i64; 3], i64)]| -> (Vec<i64>, Vec<i64>, Vec<i64>) {
        (
            t.iter().flat_map(|(r, _)| [r[0], r[1]]).collect(),
            t.iter().map(|(r, _)| r[2]).collect(),
            t.iter().map(|&(_, y)| y).collect(),
        )
    };
    let (wa, ba, ya) = split(q8_8);
    let (wb, bb, yb) = split(s16_0);
    let (wc, bc, yc) = split(s16_16);
    let (na, nb, nc) = (ya.len(), yb.len(), yc.len());
    let mut spec = BundleSpec::new("bias");
    spec.input("x", &[1, 2], Q8_8, &x)
        .weight("wa", &[na, 2], Q8_8, &wa)
        .weight("ba", &[na], Q8_8, &ba)
        .weight("wb", &[nb, 2], Q8_8, &wb)
        .weight("bb", &[nb], S16_0, &bb)
        .weight("wc", &[nc, 2], Q8_8, &wc)
        .weight("bc", &[nc], S16_16, &bc)
        .output("ya", &[1, na], Q8_8, &ya)
        .output("yb", &[1, nb], Q8_8, &yb)
        .output("yc", &[1, nc], Q8_8, &yc)
        .node("fca", "linear", &["x", "wa", "ba"], "ya")
        .node("fcb", "linear", &["x", "wb", "bb"], "yb")
        .node("fcc", "linear", &["x", "wc", "bc"], "yc");
    let got = simulate(&spec);
    assert_eq!(got["ya"], ya, "Q8.8 bias (<< 8)");
    assert_eq!(got["yb"], yb, "s16.0 bias (<< 16)");
    assert_eq!(got["yc"], yc, "32-bit s16.16 bias (<< 0)");
}

#[test]
fn relu_at_the_extremes() {
    let x = [-32768, -1, 0, 32767, 1, -256, 256, 12345];
    // max(x, 0), elementwise; the shape [2, 4] is walked row-major.
    let y = [0, 0, 0, 32767, 1, 0, 256, 12345];
    let mut spec = BundleSpec::new("relu");
    spec.input("x", &[2, 4], Q8_8, &x)
        .output("y", &[2, 4], Q8_8, &y)
        .node("act", "relu", &["x"], "y");
    assert_eq!(simulate(&spec)["y"], y);
}

#[test]
fn add_saturates_in_both_directions() {
    #[rustfmt::skip]
    let cases: &[(i64, i64, i64)] = &[
        (32767, 1, 32767),         // 32768 -> sat (wrap: -32768)
        (32767, 32767, 32767),     // 65534 -> sat (wrap: -2)
        (16384, 16384, 32767),     // 32768 -> sat
        (32766, 1, 32767),         // exactly the maximum
        (-32768, -1, -32768),      // -32769 -> sat (wrap: 32767)
        (-32768, -32768, -32768),  // -65536 -> sat (wrap: 0)
        (-16384, -16385, -32768),  // -32769 -> sat
        (-32767, -1, -32768),      // exactly the minimum
        (32767, -32768, -1),       // no overflow
        (100, -300, -200),
        (-1, 1, 0),
    ];
    let a: Vec<i64> = cases.iter().map(|c| c.0).collect();
    let b: Vec<i64> = cases.iter().map(|c| c.1).collect();
    let y: Vec<i64> = cases.iter().map(|c| c.2).collect();
    let n = cases.len();
    let mut spec = BundleSpec::new("sat_add");
    spec.input("a", &[1, n], Q8_8, &a)
        .input("b", &[1, n], Q8_8, &b)
        .output("y", &[1, n], Q8_8, &y)
        .node("sum", "add", &["a", "b"], "y");
    assert_eq!(simulate(&spec)["y"], y);
}

#[test]
fn saturated_values_flow_through_relu_and_add() {
    // x = [1.0, -1.0, 1/256]; h = linear(x, w); r = relu(h); y = r + x (saturating).
    let x = [256, -256, 1];
    #[rustfmt::skip]
    let w = [
        32767, 0, 0,   // h0 = (256*32767 + 128)>>8 = 32767; r0 = 32767; y0 = 32767+256 -> sat 32767
        0, 32767, 0,   // h1 = (-256*32767 + 128)>>8 = -32767; r1 = 0; y1 = 0 + -256 = -256
        -32768, 0, 0,  // h2 = (256*-32768 + 128)>>8 = -32768; r2 = 0; y2 = 0 + 1 = 1
    ];
    let y = [32767, -256, 1];
    let mut spec = BundleSpec::new("chain");
    spec.input("x", &[1, 3], Q8_8, &x)
        .weight("w", &[3, 3], Q8_8, &w)
        .activation("h", &[1, 3], Q8_8)
        .activation("r", &[1, 3], Q8_8)
        .output("y", &[1, 3], Q8_8, &y)
        .node("fc", "linear", &["x", "w"], "h")
        .node("act", "relu", &["h"], "r")
        .node("res", "add", &["r", "x"], "y");
    assert_eq!(simulate(&spec)["y"], y);
}
