//! Filesystem helpers whose errors always name the path they were about.
//!
//! Everything in build-patch that touches the disk goes through here, so that
//! an error never says "No such file or directory" without saying which.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::error::{Error, Result};

pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io("read", path, e))
}

pub(crate) fn read_to_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io("read", path, e))
}

pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| Error::io("create directory", path, e))
}

pub(crate) fn remove_dir_all(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove directory", path, e)),
    }
}

pub(crate) fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove file", path, e)),
    }
}

pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| Error::io("rename into place", to, e))
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader never sees a half-written file. Does nothing when the file already
/// holds exactly these bytes (its mtime is left alone, so nothing that watches
/// it reruns). Returns whether it wrote.
///
/// The file gets mode 644 whatever the umask of the build, like the copied
/// files (see `stage::copy_tree`): the staged tree must be the same bytes and
/// modes on every machine.
pub(crate) fn write_if_changed(path: &Path, contents: &[u8]) -> Result<bool> {
    if let Ok(existing) = fs::read(path) {
        if existing == contents {
            return Ok(false);
        }
    }
    write_through_temporary(path, contents, true)?;
    Ok(true)
}

/// [`write_if_changed`] without the comparison and without waiting for the
/// disk (no `fsync`), for a caller that knows the file holds other bytes or
/// does not exist: the patch engine's overlay, which read it, and whose files
/// sit in the staged tree beside copies that are not synced either
/// (`stage::copy_tree`). The same temporary file, rename and mode.
pub(crate) fn write_replacing(path: &Path, contents: &[u8]) -> Result<()> {
    write_through_temporary(path, contents, false)
}

fn write_through_temporary(path: &Path, contents: &[u8], sync: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // Unique to this call, not only to this process: threads of one process
    // (the library called twice at once) write the same files.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let mut f = fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    normal_mode(&f).map_err(|e| Error::io("set permissions of", &tmp, e))?;
    f.write_all(contents)
        .and_then(|()| if sync { f.sync_all() } else { Ok(()) })
        .map_err(|e| Error::io("write", &tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("rename into place", path, e)
    })
}

#[cfg(unix)]
fn normal_mode(f: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn normal_mode(_f: &fs::File) -> io::Result<()> {
    Ok(())
}
