//! Finding Verilator and building a design into a cached shared library.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::Model;
use crate::SimError;

/// The generic C ABI shim compiled with every design.
pub(crate) const SHIM_CPP: &str = include_str!("shim.cpp");

/// Verilator configuration: only the memory arrays are public (`--public-flat-rw` would make
/// every signal public and the simulation several times slower).
/// A comment line here must not start with the word "verilator": it would be parsed as a directive.
const MEMS_VLT: &str = "`verilator_config\n\
// mlcalyx-sim: make only the memory arrays reachable by name\n\
public_flat_rw -module \"*_mem_d*\" -var \"mem\"\n";

/// Linker version script: export only the shim, so every library keeps its own Verilator runtime.
const EXPORTS_MAP: &str = "{ global: sim_*; local: *; };\n";

/// Model class name given to Verilator (`--prefix`), whatever the top module is called.
const PREFIX: &str = "Vdesign";

/// Flags that shape the library (hashed into its name). Files and paths are added per build.
const FLAGS: &[&str] = &[
    "--cc",
    "--exe",
    "--build",
    "--prefix",
    PREFIX,
    "-Wno-fatal",
    "--no-timing",
    "-MAKEFLAGS",
    "OPT_FAST=-O2",
    "-CFLAGS",
    "-fPIC",
    "-LDFLAGS",
    "-shared",
    "-LDFLAGS",
    "-Wl,--version-script=exports.map",
];

/// Bumped when the way a library is built changes in a way the hashed inputs do not show.
const CACHE_SCHEMA: &str = "mlcalyx-sim build 1";

/// A `verilator` executable and its version.
#[derive(Debug, Clone)]
pub struct Verilator {
    path: PathBuf,
    version: (u32, u32),
    version_text: String,
    extra_args: Vec<String>,
    /// Top-level ports made public, for [`crate::Instance::set_port`] / `port`.
    ports: Vec<String>,
}

impl Verilator {
    /// Finds `verilator` via the `VERILATOR` environment variable (a path, or a name looked up
    /// on `PATH`) or else on `PATH`, runs `--version`, and checks that it is 5.0 or newer.
    pub fn find() -> Result<Verilator, SimError> {
        match std::env::var_os("VERILATOR") {
            Some(v) if !v.is_empty() => {
                let path = if Path::new(&v).components().count() > 1 {
                    Some(PathBuf::from(&v))
                } else {
                    search_path(&v)
                };
                match path {
                    Some(p) if p.is_file() => Verilator::at(p),
                    _ => Err(SimError::VerilatorNotFound {
                        detail: format!(
                            "VERILATOR={} is not an executable file",
                            v.to_string_lossy()
                        ),
                    }),
                }
            }
            _ => match search_path(OsStr::new("verilator")) {
                Some(p) => Verilator::at(p),
                None => Err(SimError::VerilatorNotFound {
                    detail: "no `verilator` on PATH and VERILATOR is not set".to_string(),
                }),
            },
        }
    }

    /// Uses the given `verilator` executable: runs `--version` and checks it is 5.0 or newer.
    pub fn at(path: impl Into<PathBuf>) -> Result<Verilator, SimError> {
        let path = path.into();
        let out = Command::new(&path).arg("--version").output().map_err(|e| {
            SimError::VerilatorNotFound {
                detail: format!("could not run {} --version: {e}", path.display()),
            }
        })?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() {
            return Err(SimError::VerilatorVersion {
                path,
                detail: format!(
                    "`--version` failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            });
        }
        let version = parse_version(&text).ok_or_else(|| SimError::VerilatorVersion {
            path: path.clone(),
            detail: format!("unexpected answer to --version: {text:?}"),
        })?;
        if version.0 < 5 {
            return Err(SimError::VerilatorTooOld {
                path,
                major: version.0,
                minor: version.1,
            });
        }
        Ok(Verilator {
            path,
            version,
            version_text: text,
            extra_args: Vec::new(),
            ports: Vec::new(),
        })
    }

    /// The executable.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Major and minor version, e.g. `(5, 6)` for Verilator 5.006.
    pub fn version(&self) -> (u32, u32) {
        self.version
    }

    /// The full answer to `--version`, e.g. `Verilator 5.006 2023-01-22 rev (Debian 5.006-3)`.
    pub fn version_text(&self) -> &str {
        &self.version_text
    }

    /// Adds arguments to every Verilator command of [`Verilator::build`] (they are part of the
    /// library hash), e.g. `["+define+N=4"]`, or for a Verilator that needs it,
    /// `["-MAKEFLAGS", "CFG_CXXFLAGS_STD=-std=c++20"]`.
    pub fn with_extra_args<I, S>(mut self, args: I) -> Verilator
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Makes these ports of the top module reachable by name in every design built (they are
    /// part of the library hash): [`crate::Instance::set_port`], [`crate::Instance::port`].
    /// Names that are not identifiers are refused when building.
    pub fn with_ports<I, S>(mut self, ports: I) -> Verilator
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ports.extend(ports.into_iter().map(Into::into));
        self
    }

    /// The Verilator configuration: public memory arrays, plus the requested ports of `top`.
    fn config(&self, top: &str) -> String {
        let mut vlt = MEMS_VLT.to_string();
        for port in &self.ports {
            vlt += &format!("public_flat_rw -module \"{top}\" -var \"{port}\"\n");
        }
        vlt
    }

    /// Verilates `sv` with top module `top` into a shared library inside `work_dir` (created if
    /// missing) and loads it.
    ///
    /// The library is `work_dir/lib<top>-<hash>.so`, where the hash covers the contents of `sv`,
    /// the top name, the flags, the shim and the Verilator version: a rebuilt design never loads
    /// a stale library, and an identical one is reused without running Verilator (cache hit).
    /// Only `sv` itself is hashed and compiled (a copy of it, in the build folder), so it must
    /// be self-contained: no `` `include``. The build runs in a fresh folder
    /// `work_dir/build-<top>-<hash>-<pid>-<n>/` (Verilator's `-Mdir`, removed afterwards), so
    /// concurrent builds do not collide; the library is moved into place atomically. When
    /// `ccache` is on `PATH` and `OBJCACHE` is not set, the C++ compiles go through ccache.
    /// On failure the error holds Verilator's standard error.
    pub fn build(&self, sv: &Path, top: &str, work_dir: &Path) -> Result<Model, SimError> {
        if !is_identifier(top) {
            return Err(SimError::InvalidTop {
                top: top.to_string(),
            });
        }
        if let Some(port) = self.ports.iter().find(|p| !is_identifier(p)) {
            return Err(SimError::UnknownPort {
                port: port.clone(),
                top: top.to_string(),
            });
        }
        let sv = std::path::absolute(sv).map_err(|e| SimError::io("resolving", sv, e))?;
        let source = std::fs::read(&sv).map_err(|e| SimError::io("reading", &sv, e))?;
        std::fs::create_dir_all(work_dir).map_err(|e| SimError::io("creating", work_dir, e))?;
        let work_dir =
            std::path::absolute(work_dir).map_err(|e| SimError::io("resolving", work_dir, e))?;

        // Verilator compiles a copy of exactly the bytes that were hashed, under a relative path:
        // the generated C++ embeds that path, so an unchanged design hits ccache from any folder,
        // and an edit of the original during the build cannot end up under the old hash.
        let copy_name = match sv.file_name().and_then(|n| n.to_str()) {
            Some(n) if is_source_name(n) => format!("src/{n}"),
            _ => "src/design.sv".to_string(),
        };
        let hash = self.build_hash(&source, &copy_name, top);
        let lib_path = work_dir.join(format!("lib{top}-{hash}.so"));
        if lib_path.is_file() {
            return Model::load(lib_path, top, String::new());
        }

        static BUILD_COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = BUILD_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mdir = work_dir.join(format!("build-{top}-{hash}-{}-{n}", std::process::id()));
        let result = self.build_in(&sv, &source, &copy_name, top, &mdir, &lib_path);
        // The library has been moved out (or the build failed): the folder is no longer needed.
        let _ = std::fs::remove_dir_all(&mdir);
        let log = result?;
        Model::load(lib_path, top, log)
    }

    /// Runs Verilator in `mdir`, then moves the library to `lib_path`. Returns Verilator's stderr.
    fn build_in(
        &self,
        sv: &Path,
        source: &[u8],
        rel_sv: &str,
        top: &str,
        mdir: &Path,
        lib_path: &Path,
    ) -> Result<String, SimError> {
        let src_dir = mdir.join("src");
        std::fs::create_dir_all(&src_dir).map_err(|e| SimError::io("creating", &src_dir, e))?;
        let write = |name: &str, data: &[u8]| {
            let p = mdir.join(name);
            std::fs::write(&p, data).map_err(|e| SimError::io("writing", p, e))
        };
        write("mlcalyx_sim_shim.cpp", SHIM_CPP.as_bytes())?;
        write("mems.vlt", self.config(top).as_bytes())?;
        write("exports.map", EXPORTS_MAP.as_bytes())?;
        write(rel_sv, source)?;

        let built = mdir.join("libsim.so");
        let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut cmd = Command::new(&self.path);
        cmd.current_dir(mdir)
            .args(FLAGS)
            .args(&self.extra_args)
            .arg("-j")
            .arg(jobs.to_string())
            .arg("--top-module")
            .arg(top)
            .arg("-Mdir")
            .arg(".")
            .arg("-o")
            .arg("libsim.so")
            .arg("mems.vlt")
            .arg(rel_sv)
            .arg("mlcalyx_sim_shim.cpp")
            // A make jobserver of a calling make would confuse Verilator's own `make -j`.
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .env_remove("MAKELEVEL")
            // Paths below the build folder become relative for ccache, so they hit from any folder.
            .env("CCACHE_BASEDIR", mdir);
        if std::env::var_os("OBJCACHE").is_none() && search_path(OsStr::new("ccache")).is_some() {
            cmd.env("OBJCACHE", "ccache");
        }
        let out = cmd
            .output()
            .map_err(|e| SimError::io("running", self.path.clone(), e))?;
        if !out.status.success() || !built.is_file() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let log = if stderr.trim().is_empty() {
                tail(&String::from_utf8_lossy(&out.stdout), 60)
            } else {
                stderr.into_owned()
            };
            return Err(SimError::Build {
                sv: sv.to_path_buf(),
                top: top.to_string(),
                status: out.status.to_string(),
                // Diagnostics name the user's file, not the copy.
                log: log.replace(rel_sv, &sv.display().to_string()),
            });
        }
        std::fs::rename(&built, lib_path)
            .map_err(|e| SimError::io("moving into place", lib_path, e))?;
        Ok(String::from_utf8_lossy(&out.stderr).replace(rel_sv, &sv.display().to_string()))
    }

    /// Hex digest of everything that determines the built library.
    fn build_hash(&self, source: &[u8], copy_name: &str, top: &str) -> String {
        let mut h = Fnv128::new();
        h.field(CACHE_SCHEMA.as_bytes());
        h.field(self.version_text.as_bytes());
        h.field(self.path.as_os_str().as_encoded_bytes());
        h.field(top.as_bytes());
        h.field(&(self.extra_args.len() as u64).to_le_bytes());
        for arg in &self.extra_args {
            h.field(arg.as_bytes());
        }
        for flag in FLAGS {
            h.field(flag.as_bytes());
        }
        h.field(self.config(top).as_bytes());
        h.field(EXPORTS_MAP.as_bytes());
        h.field(SHIM_CPP.as_bytes());
        h.field(copy_name.as_bytes());
        h.field(source);
        format!("{:032x}", h.finish())
    }
}

/// `Verilator 5.006 2023-01-22 rev ...` -> (5, 6).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut words = text.split_whitespace();
    if words.next()? != "Verilator" {
        return None;
    }
    let (major, minor) = words.next()?.split_once('.')?;
    let minor: String = minor.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A file name that is safe to pass to Verilator as a source file as it is.
fn is_source_name(name: &str) -> bool {
    (name.ends_with(".sv") || name.ends_with(".v"))
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The first executable file called `name` in a `PATH` folder.
fn search_path(name: &OsStr) -> Option<PathBuf> {
    let path: OsString = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// 128-bit FNV-1a: stable across Rust releases (unlike `DefaultHasher`), ample for a cache key.
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;

    fn new() -> Self {
        Fnv128(Self::OFFSET)
    }

    fn bytes(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// A length-prefixed field, so that field boundaries are part of the hash.
    fn field(&mut self, data: &[u8]) {
        self.bytes(&(data.len() as u64).to_le_bytes());
        self.bytes(data);
    }

    fn finish(&self) -> u128 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            parse_version("Verilator 5.006 2023-01-22 rev (Debian 5.006-3)"),
            Some((5, 6))
        );
        assert_eq!(
            parse_version("Verilator 5.049 devel rev v5.048-12"),
            Some((5, 49))
        );
        assert_eq!(parse_version("Verilator 4.228 2022-10-01"), Some((4, 228)));
        assert_eq!(parse_version("verilator: command not found"), None);
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("main"));
        assert!(is_identifier("_top2"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("2main"));
        assert!(!is_identifier("main; rm"));
        assert!(!is_identifier("a/b"));
    }

    #[test]
    fn fnv_known_values() {
        // Reference values of 128-bit FNV-1a.
        let mut h = Fnv128::new();
        h.bytes(b"");
        assert_eq!(h.finish(), 0x6c62272e07bb014262b821756295c58d);
        let mut h = Fnv128::new();
        h.bytes(b"a");
        assert_eq!(h.finish(), 0xd228cb696f1a8caf78912b704e4a8964);
    }
}
