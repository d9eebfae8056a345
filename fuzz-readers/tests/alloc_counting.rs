//! The counting allocator counts an allocation until it is freed, and reports the peak on top of
//! the base. A `harness = false` test: `main` is the only thread, so nothing else moves the
//! process-wide counters while this measures.

use mlcalyx_fuzz_readers::alloc::{begin, end, live};

fn main() {
    let base = begin(usize::MAX);
    let v = vec![1u8; 10 << 20];
    assert!(live() >= base + (10 << 20), "live {} base {base}", live());
    drop(v);
    assert!(live() < base + (1 << 20), "live {} base {base}", live());
    let peak = end(base);
    assert!((10 << 20..11 << 20).contains(&peak), "peak {peak}");
    println!("alloc_counting: ok (peak {peak} bytes)");
}
