//! Stopping cleanly when a job scheduler or a user stops `mlcalyx` (SIGTERM, SIGINT, SIGHUP):
//! the export child's process group is terminated, every temporary folder still registered is
//! removed, and the process exits with `128 + signal` (143 for SIGTERM).
//!
//! Temporary folders and child process groups register here for as long as they exist (the
//! guards unregister them when dropped); a dedicated thread waits for the signals.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Registry {
    next: u64,
    dirs: Vec<(u64, PathBuf)>,
    groups: Vec<(u64, i32)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next: 0,
    dirs: Vec::new(),
    groups: Vec::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves plain data behind: still usable.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs the handler for SIGTERM, SIGINT and SIGHUP. Call once, early in `main`.
pub fn install() -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                stop(signal);
            }
        })?;
    Ok(())
}

/// Terminates the registered process groups, removes the registered folders and exits.
fn stop(signal: i32) -> ! {
    let r = registry();
    for &(_, group) in &r.groups {
        terminate_group(group, Duration::from_secs(2));
    }
    for (_, dir) in &r.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    let name = match signal {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        _ => "SIGHUP",
    };
    eprintln!("mlcalyx: stopped by {name}; temporary folders removed");
    std::process::exit(128 + signal)
}

/// Sends SIGTERM to process group `group`, then SIGKILL if it is still there after `grace`.
pub fn terminate_group(group: i32, grace: Duration) {
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names a group.
    let send = |signal| unsafe { libc::kill(-group, signal) } == 0;
    if !send(libc::SIGTERM) {
        return; // already gone
    }
    let start = Instant::now();
    while start.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(20));
        if !send(0) {
            return;
        }
    }
    send(libc::SIGKILL);
}

/// A temporary folder removed on a stopping signal while this guard lives (dropping the guard
/// only unregisters it; the folder's owner removes it as usual).
pub struct DirGuard(u64);

pub fn register_dir(dir: &Path) -> DirGuard {
    let mut r = registry();
    r.next += 1;
    let id = r.next;
    r.dirs.push((id, dir.to_path_buf()));
    DirGuard(id)
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        registry().dirs.retain(|(id, _)| *id != self.0);
    }
}

/// A child process group terminated on a stopping signal while this guard lives.
pub struct GroupGuard(u64);

pub fn register_group(group: i32) -> GroupGuard {
    let mut r = registry();
    r.next += 1;
    let id = r.next;
    r.groups.push((id, group));
    GroupGuard(id)
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        registry().groups.retain(|(id, _)| *id != self.0);
    }
}
