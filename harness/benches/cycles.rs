//! Simulated cycles per inference, over the examples x banking factors 1, 2, 4, 8.
//!
//! The measurement is not wall time: a custom criterion [`Measurement`] whose value is the cycle
//! count the Verilator model reports from `go` to `done`. Cycles are deterministic, so every sample
//! is the same and criterion's "change" report flags any schedule regression exactly.
//! Run: `cargo bench -p mlcalyx-harness --bench cycles`.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mlcalyx_compiler::{Bundle, Options};
use mlcalyx_harness::{Design, RunSettings};
use std::path::PathBuf;
use std::time::Duration;

/// Simulated clock cycles.
struct Cycles;

impl Measurement for Cycles {
    type Intermediate = ();
    type Value = u64;

    fn start(&self) -> Self::Intermediate {}
    fn end(&self, _: Self::Intermediate) -> Self::Value {
        // Only `iter_custom` is used: it returns the cycles itself.
        0
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CycleFormatter
    }
}

struct CycleFormatter;

impl ValueFormatter for CycleFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "cycles"
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        if let Throughput::Elements(n) = throughput {
            values.iter_mut().for_each(|v| *v /= *n as f64);
        }
        "cycles/elem"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "cycles"
    }
}

fn bench(c: &mut Criterion<Cycles>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let verilator = mlcalyx_sim::Verilator::find().expect("Verilator (run scripts/setup.sh)");
    let settings = RunSettings::default();
    for name in ["tiny_mlp", "mlp", "residual_mlp", "uneven_mlp", "matmul"] {
        let bundle = Bundle::load(&root.join(format!("{name}.bundle"))).expect("example bundle");
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_millis(10));
        for factor in [1u32, 2, 4, 8] {
            let dir = tempfile::tempdir().expect("temporary folder");
            let design = Design::prepare(
                &bundle,
                &Options {
                    banking: factor,
                    banking_config: None,
                },
                dir.path(),
                &verilator,
            )
            .expect("design builds");
            let (cycles, outputs) = design.simulate(&settings).expect("simulates");
            assert!(
                outputs.iter().all(|o| o.bit_exact),
                "{name} at banking {factor} is not bit-exact"
            );
            println!("cycles {name} banking={factor}: {cycles}");
            group.bench_function(BenchmarkId::new("banking", factor), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| design.simulate(&settings).expect("simulates").0)
                        .sum()
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = cycles;
    // No plots: every sample is the same cycle count, and a density plot of constant data is NaN.
    config = Criterion::default().with_measurement(Cycles).without_plots();
    targets = bench
}
criterion_main!(cycles);
