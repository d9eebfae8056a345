//! Reading files named by user input (`model.json`, `.npy` files, banking configs): only regular
//! files, and never more bytes than the caller can use.
//!
//! A FIFO would block a plain `open` forever and `/dev/zero` would be read until memory runs out,
//! so the file type is checked before opening (and again on the open handle, which is opened
//! non-blocking, in case the path was swapped in between), and the read stops at `max_bytes`.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why `path` is not a regular file ("a FIFO", "a folder", ...), or `None` if it is one.
fn special_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a folder")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("a special file")
    }
}

/// Checks, without opening it, that `path` (after symbolic links) is a regular file. The error is
/// a clause about the file, e.g. "missing" or "not a regular file (a FIFO)"; callers prefix the
/// path.
pub fn check_regular_file(path: &Path) -> Result<Metadata, String> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "missing".to_string(),
        _ => format!("cannot be read: {e}"),
    })?;
    match special_kind(&meta) {
        None => Ok(meta),
        Some(kind) => Err(format!("not a regular file ({kind})")),
    }
}

/// Reads a regular file of at most `max_bytes` bytes. Errors as for [`check_regular_file`], plus
/// "too large: N bytes, more than the M bytes <what> needs".
pub fn read_regular_file(path: &Path, max_bytes: u64, what: &str) -> Result<Vec<u8>, String> {
    let too_large =
        |n: u64| format!("too large: {n} bytes, more than the {max_bytes} bytes {what} needs");
    let meta = check_regular_file(path)?;
    if meta.len() > max_bytes {
        return Err(too_large(meta.len()));
    }
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if let Some(kind) = special_kind(&meta) {
        return Err(format!("not a regular file ({kind})"));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(max_bytes) as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > max_bytes {
        // The file grew after the size check.
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read_whole() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = tmp.path().join("f");
        std::fs::write(&p, b"12345").expect("write");
        assert_eq!(read_regular_file(&p, 5, "it").expect("read"), b"12345");
        assert_eq!(
            read_regular_file(&p, 4, "the test").unwrap_err(),
            "too large: 5 bytes, more than the 4 bytes the test needs"
        );
        assert_eq!(
            read_regular_file(&tmp.path().join("nope"), 4, "it").unwrap_err(),
            "missing"
        );
        assert_eq!(
            read_regular_file(tmp.path(), 4, "it").unwrap_err(),
            "not a regular file (a folder)"
        );
    }
}
