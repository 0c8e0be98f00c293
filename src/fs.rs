//! Filesystem helpers whose errors always name the path they were about.
//!
//! Everything in build-patch that touches the disk goes through here, so that
//! an error never says "No such file or directory" without saying which.

use std::fs;
use std::io;
use std::path::Path;

use crate::error::{Error, Result};

#[cfg(feature = "upstream-build-script")] // the build script's local files
pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(io_error("read", path))
}

pub(crate) fn read_to_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(io_error("read", path))
}

pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(io_error("create directory", path))
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
    fs::rename(from, to).map_err(io_error("rename into place", to))
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
    // One implementation, the patch engine's (which writes the patched files).
    crate::patch::write_through_temporary(path, contents, true)
        .map_err(|f| Error::io(f.action, &f.path, f.source))?;
    Ok(true)
}

/// The error of an I/O `action` on `path`, for `map_err`: one function for every
/// caller, so that `map_err` is instantiated once per result type, not per call.
pub(crate) fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> Error + 'a {
    move |e| Error::io(action, path, e)
}
