//! A counting global allocator: live and peak bytes, and a cap that aborts the process with a
//! message when one input would allocate beyond it (an unbounded allocation is a finding, and
//! letting it reach the kernel's OOM killer would lose the report).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Printed without allocating; the driver has already told where the input being run is kept.
const OVER_CAP: &[u8] =
    b"\nfuzz-readers: CRASH: the input being run allocated more than the cap (replay it with --input)\n";

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if grow(layout.size()) {
            System.alloc(layout)
        } else {
            over_cap()
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if grow(layout.size()) {
            System.alloc_zeroed(layout)
        } else {
            over_cap()
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !grow(new_size - old) {
            over_cap()
        }
        let p = System.realloc(ptr, layout, new_size);
        if new_size < old {
            LIVE.fetch_sub(old - new_size, Relaxed);
        }
        p
    }
}

/// Counts `size` more live bytes; false (and nothing counted) if that would pass the limit.
fn grow(size: usize) -> bool {
    let live = LIVE.fetch_add(size, Relaxed).saturating_add(size);
    if live > LIMIT.load(Relaxed) {
        LIVE.fetch_sub(size, Relaxed);
        return false;
    }
    PEAK.fetch_max(live, Relaxed);
    true
}

fn over_cap() -> ! {
    use std::io::Write;
    // Stderr is unbuffered: this writes the static bytes without allocating.
    let _ = std::io::stderr().write_all(OVER_CAP);
    std::process::abort()
}

/// Bytes allocated and not yet freed.
pub fn live() -> usize {
    LIVE.load(Relaxed)
}

/// Starts measuring one input: returns the live bytes now, resets the peak to them, and aborts the
/// process if the input makes more than `cap` bytes live on top.
pub fn begin(cap: usize) -> usize {
    let base = live();
    PEAK.store(base, Relaxed);
    LIMIT.store(base.saturating_add(cap), Relaxed);
    base
}

/// Ends measuring: the most bytes the input had live on top of `base`; lifts the limit.
pub fn end(base: usize) -> usize {
    LIMIT.store(usize::MAX, Relaxed);
    PEAK.load(Relaxed).saturating_sub(base)
}
