//! The file-system calls of the CLI, each failure naming its path in the
//! CLI's words: ``cannot read `PATH`: CAUSE``. One place for the texts, so
//! every command says the same thing for the same failure.

use std::path::Path;

use anyhow::{anyhow, Result};

fn fail(verb: &str, path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow!("cannot {verb} `{}`: {e}", path.display())
}

pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| fail("read", path, e))
}

pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| fail("read", path, e))
}

pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    std::fs::write(path, contents).map_err(|e| fail("write", path, e))
}

pub fn create_dir_all(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| fail("create", path, e))
}

pub fn remove_dir_all(path: &Path) -> Result<()> {
    std::fs::remove_dir_all(path).map_err(|e| fail("remove", path, e))
}

pub fn remove_file(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| fail("remove", path, e))
}

/// `write`, creating the parent folders first.
pub fn write_creating(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    if let Some(parent) = path.parent() {
        create_dir_all(parent)?;
    }
    write(path, contents)
}

/// The entries of `dir`, in the order the system gives them.
pub fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| fail("read", dir, e))? {
        out.push(entry.map_err(|e| fail("read", dir, e))?);
    }
    Ok(out)
}

pub fn symlink_metadata(path: &Path) -> Result<std::fs::Metadata> {
    std::fs::symlink_metadata(path).map_err(|e| fail("inspect", path, e))
}

/// Copies the file `from` to `to`; a failure names `from`.
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| fail("copy", from, e))
}

/// A fresh scratch folder, removed when dropped.
pub fn scratch_dir() -> Result<tempfile::TempDir> {
    tempfile::tempdir().map_err(|e| anyhow!("cannot create a scratch folder: {e}"))
}

pub fn current_dir() -> Result<std::path::PathBuf> {
    std::env::current_dir().map_err(|e| anyhow!("cannot read the current directory: {e}"))
}
