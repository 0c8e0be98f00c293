//! The file-system calls of the CLI, each failure naming its path in the
//! CLI's words: ``cannot read `PATH`: CAUSE``. One place for the texts, so
//! every command says the same thing for the same failure. Also the path
//! arithmetic the messages and manifests need ([`relative_path`]).

use std::path::{Component, Path};

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

/// `to` relative to the directory `from`, both absolute, with `/`.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let from = normalize(from);
    let to = normalize(to);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// `path` with `.` and `..` resolved lexically (no filesystem access).
fn normalize(path: &Path) -> Vec<Component<'_>> {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(
                Path::new("/w/ex/b/patched/s"),
                Path::new("/w/ex/b/../../p/x.patch")
            ),
            "../../../../p/x.patch"
        );
        assert_eq!(
            relative_path(Path::new("/w/patched/foo"), Path::new("/w/patches/a.patch")),
            "../../patches/a.patch"
        );
        assert_eq!(relative_path(Path::new("/w"), Path::new("/w/p/x")), "p/x");
    }
}
