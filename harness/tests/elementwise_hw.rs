//! The elementwise ops with parameters (`clamp`, `threshold`, `scale_shift`, `prelu`, `lut`;
//! `docs/numerics.md`, "Elementwise ops") are bit-exact in hardware at their edges, at banking 1,
//! 2 and 4: saturation, rounding ties, x equal to the threshold, x at the table's bounds lo and hi,
//! negative values around zero.
//!
//! Every bundle is written by the test and every expected value is a literal worked out from the
//! contract (the arithmetic is in the comments), never computed by the code under test. Formats:
//! Q8.8 unless said otherwise; `round_s(v) = (v + 2^(s-1)) >> s` (half toward +infinity), then
//! saturation to the output's range.

mod common;

use common::{BundleSpec, Fmt, Q8_8};
use mlcalyx_compiler::{Artifacts, Bundle, Manifest};
use mlcalyx_harness::{run_bundle, RunSettings};
use mlcalyx_sim::Verilator;
use serde_json::json;

/// s2.14: 16 bits, 14 fractional.
const S2_14: Fmt = Fmt::new(16, 14);
/// s4.12.
const S4_12: Fmt = Fmt::new(16, 12);
/// s12.4.
const S12_4: Fmt = Fmt::new(16, 4);

/// Runs `spec` at banking 1, 2 and 4; every run must be bit-exact against the literal goldens,
/// and every core lint clean (`verilator --lint-only -Wall`).
/// Returns `(cycles, multipliers)` per factor.
fn run_factors(spec: &BundleSpec) -> Vec<(u64, u64)> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = spec.write(&tmp.path().join(format!("{}.bundle", spec.name)));
    let bundle = Bundle::load(&dir).unwrap_or_else(|e| panic!("loading {}: {e}", spec.name));
    let verilator = Verilator::find().expect("Verilator 5 is needed: run scripts/setup.sh");
    [1, 2, 4]
        .into_iter()
        .map(|factor| {
            let work = tmp.path().join(format!("work{factor}"));
            let r = run_bundle(&bundle, factor, &work, &verilator, &RunSettings::default());
            assert_eq!(r.status, "ok", "{} at {factor}: {r:#?}", spec.name);
            assert!(r.bit_exact, "{} at {factor}: {r:#?}", spec.name);
            assert_eq!(
                r.max_abs_err,
                Some(0.0),
                "{} at {factor}: {r:#?}",
                spec.name
            );
            // The new primitives and the replicated ROMs lint clean, like every example.
            let manifest: Manifest = serde_json::from_str(
                &std::fs::read_to_string(work.join(Artifacts::MANIFEST)).unwrap(),
            )
            .unwrap();
            verilator
                .lint(&work.join(Artifacts::VERILOG), &manifest.top.module)
                .unwrap_or_else(|e| panic!("{} at {factor}: {e}", spec.name));
            (
                r.cycles.expect("a run has cycles"),
                r.multipliers.expect("a run counts multipliers"),
            )
        })
        .collect()
}

#[test]
fn clamp_and_threshold_at_their_bounds() {
    #[rustfmt::skip]
    let x = [
        -32768, -257, -256, -255, -1, 0, 1, 255,
        256, 1535, 1536, 1537, 32767, -100, 100, 6,
    ];
    // ReLU6: clamp(0, 6.0 = 1536).
    #[rustfmt::skip]
    let relu6 = [
        0, 0, 0, 0, 0, 0, 1, 255,
        256, 1535, 1536, 1536, 1536, 0, 100, 6,
    ];
    // Hardtanh(-1, 1): clamp(-256, 256); -256 and 256 themselves pass.
    #[rustfmt::skip]
    let hardtanh = [
        -256, -256, -256, -255, -1, 0, 1, 255,
        256, 256, 256, 256, 256, -100, 100, 6,
    ];
    // clamp(max = 100), min null: nothing is raised, even -32768.
    #[rustfmt::skip]
    let at_most = [
        -32768, -257, -256, -255, -1, 0, 1, 100,
        100, 100, 100, 100, 100, -100, 100, 6,
    ];
    // threshold 1, value -512: x > 1 ? x : -512; x == 1 takes the value.
    #[rustfmt::skip]
    let thresholded = [
        -512, -512, -512, -512, -512, -512, -512, 255,
        256, 1535, 1536, 1537, 32767, -512, 100, 6,
    ];
    // threshold -40000, below the format: every x is above it (compared in 64 bits, not wrapped
    // into 16, where -40000 would read as 25536).
    let mut spec = BundleSpec::new("clamp_threshold");
    spec.input("x", &[2, 8], Q8_8, &x)
        .output("relu6", &[2, 8], Q8_8, &relu6)
        .output("hardtanh", &[2, 8], Q8_8, &hardtanh)
        .output("at_most", &[2, 8], Q8_8, &at_most)
        .output("thresholded", &[2, 8], Q8_8, &thresholded)
        .output("all_above", &[2, 8], Q8_8, &x)
        .node_with(
            "r6",
            "clamp",
            &["x"],
            "relu6",
            json!({"min": 0, "max": 1536}),
        )
        .node_with(
            "ht",
            "clamp",
            &["x"],
            "hardtanh",
            json!({"min": -256, "max": 256}),
        )
        .node_with(
            "cm",
            "clamp",
            &["x"],
            "at_most",
            json!({"min": null, "max": 100}),
        )
        .node_with(
            "th",
            "threshold",
            &["x"],
            "thresholded",
            json!({"threshold": 1, "value": -512}),
        )
        .node_with(
            "th_low",
            "threshold",
            &["x"],
            "all_above",
            json!({"threshold": -40000, "value": 0}),
        );
    let runs = run_factors(&spec);
    // (cycles, multipliers) at banking 1, 2, 4.
    assert_eq!(runs, [(350, 0), (340, 0), (220, 0)]);
}

#[test]
fn scale_shift_and_prelu_per_channel() {
    // ss1: scale_shift over x1 [2, 4], channels on the last (banked) axis; scale and shift Q8.8,
    // so y = sat16(round_8(x * s + (b << 8))).
    let x1 = [256, -256, 384, 32767, -32768, 1, -1, 100];
    let scale1 = [256, 128, -384, 512]; // 1.0, 0.5, -1.5, 2.0
    let shift1 = [0, 1, -256, 0]; // 0, 1/256, -1.0, 0
    #[rustfmt::skip]
    let y1 = [
        256,    // c0: 65536 -> 256
        -127,   // c1: -32768 + 256 = -32512 = -127.0 LSB ... (-32512 + 128) >> 8 = -127
        -832,   // c2: -147456 - 65536 = -212992: (-212864) >> 8 = floor(-831.5) = -832
        32767,  // c3: 16776704: 65534 -> sat
        -32768, // c0: -8388608: (-8388480) >> 8 = floor(-32767.5) = -32768
        2,      // c1: 128 + 256 = 384 (1.5 LSB): 512 >> 8 = 2
        -254,   // c2: 384 - 65536 = -65152: -65024 >> 8 = -254
        200,    // c3: 51200: 51328 >> 8 = 200
    ];
    // ss2: x2 [1, 3, 4], channels on axis 1 (not banked: the copies share one parameter read);
    // scale s4.12, shift Q8.8, output s12.4: product frac 20, the shift aligned by << 12, the sum
    // rounded by >> 16.
    #[rustfmt::skip]
    let x2 = [
        0, 256, -256, 8,
        -32768, 32767, 16, -16,
        32767, -32768, 1000, -1000,
    ];
    let scale2 = [4096, -2048, 6144]; // 1.0, -0.5, 1.5
    let shift2 = [256, 0, -128]; // 1.0, 0, -0.5
    #[rustfmt::skip]
    let y2 = [
        16,    // 1048576 (1.0): (1048576 + 32768) >> 16 = 16
        32,    // 1048576 + 1048576: 32
        0,     // -1048576 + 1048576 = 0
        17,    // 32768 + 1048576 = 16.5 LSB: 17
        1024,  // 67108864: 1024
        -1024, // -67106816: (-67074048) >> 16 = floor(-1023.47) = -1024
        0,     // -32768 = -0.5 LSB: 0
        1,     // 32768 = +0.5 LSB: 1
        3064,  // 201320448 - 524288 = 200796160: 3064
        -3080, // -201326592 - 524288 = -201850880 = -3080 exactly
        86,    // 6144000 - 524288 = 5619712: 5652480 >> 16 = 86
        -102,  // -6144000 - 524288 = -6668288: -6635520 >> 16 = floor(-101.25) = -102
    ];
    // pr1: prelu over xp [3, 4], slope per channel on the last axis, Q8.8:
    // y = x >= 0 ? x : sat16(round_8(x * a)).
    let slope1 = [128, -256, 512, 0]; // 0.5, -1.0, 2.0, 0
    #[rustfmt::skip]
    let xp = [
        -1, -32768, -32768, -2,
        -3, -1, -3, -32768,
        0, 5, 32767, 1,
    ];
    #[rustfmt::skip]
    let yp = [
        0,      // -128 = -0.5 LSB: 0
        32767,  // 8388608: 32768 -> sat
        -32768, // -16777216: -65536 -> sat
        0,      // slope 0
        -1,     // -384 = -1.5 LSB: -1
        1,      // 256: 1
        -6,     // -1536: (-1408) >> 8 = floor(-5.5) = -6
        0,      // slope 0
        0, 5, 32767, 1, // x >= 0 passes
    ];
    // pr2: LeakyReLU(0.01) on x2: one slope (axis null) 164 in s2.14, y = round_14(x * 164).
    #[rustfmt::skip]
    let y_leaky = [
        0, 256, -3, 8,   // -256: -41984: (-33792) >> 14 = floor(-2.06) = -3
        -328, 32767, 16, 0, // -32768: -5373952: -5365760 >> 14 = -327.5.. floor -> -328; -16: -2624: 5568 >> 14 = 0
        32767, -328, 1000, -10, // -1000: -164000: -155808 >> 14 = floor(-9.51) = -10
    ];
    let mut spec = BundleSpec::new("per_channel");
    spec.input("x1", &[2, 4], Q8_8, &x1)
        .input("x2", &[1, 3, 4], Q8_8, &x2)
        .input("xp", &[3, 4], Q8_8, &xp)
        .weight("scale1", &[4], Q8_8, &scale1)
        .weight("shift1", &[4], Q8_8, &shift1)
        .weight("scale2", &[3], S4_12, &scale2)
        .weight("shift2", &[3], Q8_8, &shift2)
        .weight("slope1", &[4], Q8_8, &slope1)
        .weight("leak", &[1], S2_14, &[164])
        .output("y1", &[2, 4], Q8_8, &y1)
        .output("y2", &[1, 3, 4], S12_4, &y2)
        .output("yp", &[3, 4], Q8_8, &yp)
        .output("y_leaky", &[1, 3, 4], Q8_8, &y_leaky)
        .node_with(
            "bn1",
            "scale_shift",
            &["x1", "scale1", "shift1"],
            "y1",
            json!({"axis": 1}),
        )
        .node_with(
            "bn2",
            "scale_shift",
            &["x2", "scale2", "shift2"],
            "y2",
            json!({"axis": 1}),
        )
        .node_with("pr1", "prelu", &["xp", "slope1"], "yp", json!({"axis": 1}))
        .node_with(
            "pr2",
            "prelu",
            &["x2", "leak"],
            "y_leaky",
            json!({"axis": null}),
        );
    let runs = run_factors(&spec);
    // (cycles, multipliers) at banking 1, 2, 4: one multiplier per op and lock-step copy.
    assert_eq!(runs, [(456, 4), (280, 8), (104, 16)]);
}

#[test]
fn lut_at_the_table_bounds() {
    // lut1: 8 words of s2.14, lo = -1024 (-4.0), shift 8 (one word per 1.0): hi = 1024; clamp
    // above. index = (x + 1024) >> 8.
    let table1 = [0, 2048, 4096, 8192, 12288, 14336, 16000, 16383];
    #[rustfmt::skip]
    let x = [
        -32768, -1025, -1024, -769, -768, -1, 0, 1023,
        1024, 32767, 255, 256, 767, 768, -513, -512,
    ];
    #[rustfmt::skip]
    let y1 = [
        0, 0,        // below lo: word 0
        0, 0,        // lo and lo + 255: word 0
        2048,        // -768: word 1
        8192, 12288, // -1: 1023 >> 8 = 3; 0: word 4
        16383,       // hi - 1: word 7
        16383, 16383, // hi and above: word 7 (clamp)
        12288, 14336, 16000, 16383, 2048, 4096, // 255: 4, 256: 5, 767: 6, 768: 7, -513: 1, -512: 2
    ];
    // lut2: ELU-like, 16 words, lo = -256 (-1.0), shift 4: hi = 0, x itself at and above 0.
    // word i = -16 * (16 - i). index = (x + 256) >> 4.
    let table2: Vec<i64> = (0..16).map(|i| -16 * (16 - i)).collect();
    #[rustfmt::skip]
    let x2 = [
        -32768, -257, -256, -241, -240, -1, 0, 1,
        32767, -17, -16, -128, -129, -127, 100, -2,
    ];
    #[rustfmt::skip]
    let y2 = [
        -256, -256,  // below lo: word 0
        -256, -256,  // lo, lo + 15: word 0
        -240,        // -240: word 1
        -16,         // hi - 1: word 15
        0, 1, 32767, // hi and above: x
        -32, -16,    // -17: 239 >> 4 = 14; -16: 15
        -128, -144, -128, // -128: 8; -129: 127 >> 4 = 7; -127: 8
        100, -16,    // 100: x; -2: 15
    ];
    let mut spec = BundleSpec::new("lut");
    spec.input("x", &[2, 8], Q8_8, &x)
        .input("x2", &[2, 8], Q8_8, &x2)
        .weight("table1", &[8], S2_14, &table1)
        .weight("table2", &[16], Q8_8, &table2)
        .output("y1", &[2, 8], S2_14, &y1)
        .output("y2", &[2, 8], Q8_8, &y2)
        .node_with(
            "sig",
            "lut",
            &["x", "table1"],
            "y1",
            json!({"lo": -1024, "shift": 8, "above": "clamp"}),
        )
        .node_with(
            "elu",
            "lut",
            &["x2", "table2"],
            "y2",
            json!({"lo": -256, "shift": 4, "above": "identity"}),
        );
    let runs = run_factors(&spec);
    // (cycles, multipliers) at banking 1, 2, 4.
    assert_eq!(runs, [(140, 0), (136, 0), (88, 0)]);
}
