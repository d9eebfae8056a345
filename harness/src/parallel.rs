//! Independent designs side by side: a pool of `jobs` threads maps items in order. Verilator
//! builds and simulations overlap; the Calyx step stays serialized by the compiler's own lock
//! (the Calyx crates keep global state). A panic on one item becomes that item's error, not a
//! crash, and a progress bar appears on stderr once a sweep has run for two seconds.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

/// How long a sweep runs before its progress bar appears.
const QUIET: Duration = Duration::from_secs(2);

/// `f` applied to every item on up to `jobs` threads, results in item order. Each thread first
/// makes its own state with `init` (e.g. a helper process). `Err` holds a panic's message.
pub fn map<T, R, S>(
    items: Vec<T>,
    jobs: usize,
    label: &str,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, T) -> R + Sync,
) -> Vec<Result<R, String>>
where
    T: Send,
    R: Send,
{
    let total = items.len();
    let queue: Mutex<_> = Mutex::new(items.into_iter().enumerate());
    let results: Mutex<Vec<Option<Result<R, String>>>> =
        Mutex::new((0..total).map(|_| None).collect());
    let bar = progress_bar(total, label);
    let (finished, finish_signal) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let shown = bar.clone(); // a handle to the same bar
        scope.spawn(move || {
            // Short sweeps stay silent; longer ones show the bar (stderr terminals only).
            if finish_signal.recv_timeout(QUIET).is_err() {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(250));
            }
        });
        let workers: Vec<_> = (0..jobs.clamp(1, total.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                        let Some((i, item)) = next else { break };
                        let r = catch_unwind(AssertUnwindSafe(|| f(&mut state, item)))
                            .map_err(|p| panic_message(p.as_ref()));
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                        bar.inc(1);
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        let _ = finished.send(());
    });
    bar.finish_and_clear();
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not run".into())))
        .collect()
}

fn progress_bar(total: usize, label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_prefix(label.to_string());
    bar
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_item_order_and_panics_become_errors() {
        let items: Vec<u64> = (0..20).collect();
        let out = map(
            items,
            3,
            "test",
            || 100,
            |base, i| {
                if i == 7 {
                    panic!("item {i} is bad");
                }
                // Later items finish first: order must still follow the items.
                std::thread::sleep(Duration::from_millis(20 - i));
                *base + i
            },
        );
        assert_eq!(out.len(), 20);
        for (i, r) in out.iter().enumerate() {
            if i == 7 {
                assert_eq!(r, &Err("item 7 is bad".to_string()));
            } else {
                assert_eq!(r, &Ok(100 + i as u64));
            }
        }
    }

    #[test]
    fn an_empty_sweep_is_empty() {
        let out = map(Vec::<u8>::new(), 4, "test", || (), |_, x| x);
        assert!(out.is_empty());
    }
}
