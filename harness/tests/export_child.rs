//! The export child (`scripts/export.py` running the model's `build()`): a timeout, and a clean
//! stop when `mlcalyx` itself is stopped by a signal (the child's process group is terminated and
//! every temporary folder removed).

mod common;

use common::{describe, stderr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A copy of `scripts/testdata/build_sleeps.py` at a path no other test uses, so the processes
/// running it can be found by their command line.
fn sleeping_model(dir: &Path) -> PathBuf {
    let model = dir.join("sleeps_forever.py");
    std::fs::copy(
        common::root().join("scripts/testdata/build_sleeps.py"),
        &model,
    )
    .unwrap();
    model
}

/// Process ids whose command line mentions `needle` (live ones; zombies have none).
fn processes_mentioning(needle: &Path) -> Vec<u32> {
    let needle = needle.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
        })
        .collect()
}

/// Waits until `check` holds, up to `limit`.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn wait_with_limit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("mlcalyx did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_stops_the_export_child_and_removes_temporary_folders() {
    if common::torch_python().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let model = sleeping_model(tmp.path());
    let own_tmp = tmp.path().join("tmpdir");
    std::fs::create_dir(&own_tmp).unwrap();
    let pidfile = tmp.path().join("child.pid");
    let mut mlcalyx = common::mlcalyx()
        .current_dir(tmp.path())
        .args(["run".as_ref(), model.as_os_str()])
        .env("TMPDIR", &own_tmp)
        .env("MLCALYX_TEST_PIDFILE", &pidfile)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // build() has started once it wrote its process id.
    assert!(
        eventually(Duration::from_secs(180), || pidfile.exists()),
        "build() never started"
    );
    let child: u32 = std::fs::read_to_string(&pidfile).unwrap().parse().unwrap();
    assert!(
        !entries(&own_tmp).is_empty(),
        "run made its temporary folder"
    );
    let status = Command::new("kill")
        .args(["-TERM", &mlcalyx.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait_with_limit(&mut mlcalyx, Duration::from_secs(30));
    let mut err = String::new();
    std::io::Read::read_to_string(mlcalyx.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("stopped by SIGTERM"), "{err}");
    assert!(
        eventually(Duration::from_secs(10), || !Path::new(&format!(
            "/proc/{child}/cmdline"
        ))
        .exists()
            || processes_mentioning(&model).is_empty()),
        "the export child {child} still runs"
    );
    assert_eq!(processes_mentioning(&model), Vec::<u32>::new());
    assert_eq!(
        entries(&own_tmp),
        Vec::<PathBuf>::new(),
        "temporary folders left"
    );
    let mut expected = vec![pidfile, model.clone(), own_tmp];
    expected.sort();
    assert_eq!(entries(tmp.path()), expected);
}

#[test]
fn an_export_that_outlives_its_timeout_is_stopped_and_named() {
    if common::torch_python().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let model = sleeping_model(tmp.path());
    let out = tmp.path().join("out");
    for args in [
        vec![
            "run",
            model.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        vec!["export", model.to_str().unwrap(), out.to_str().unwrap()],
    ] {
        let o = common::mlcalyx()
            .current_dir(tmp.path())
            .args(&args)
            .arg("--export-timeout=1")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
        let expected = format!(
            "exporting {} timed out after 1 s (--export-timeout)",
            model.display()
        );
        assert!(stderr(&o).contains(&expected), "{}", describe(&o));
        assert_eq!(processes_mentioning(&model), Vec::<u32>::new());
        // No bundle, no staging folder: only what the user gave (run made --out itself).
        let left: Vec<PathBuf> = if out.exists() { entries(&out) } else { vec![] };
        assert_eq!(left, Vec::<PathBuf>::new(), "{}", describe(&o));
        assert_eq!(
            entries(tmp.path()).len(),
            1 + usize::from(out.exists()),
            "{:?}",
            entries(tmp.path())
        );
    }
}

#[test]
fn build_calling_sys_exit_is_reported_as_such() {
    if common::torch_python().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let model = common::root().join("scripts/testdata/build_exits.py");
    let o = common::run_cli(tmp.path(), ["run".as_ref(), model.as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        stderr(&o).contains("build() in build_exits.py called sys.exit(0)"),
        "{}",
        describe(&o)
    );
    assert!(!stderr(&o).contains("model.json"), "{}", describe(&o));
}
