//! Putting files back: a command that writes several files and then finds
//! that the result is wrong (a shim the graph will not use, a patch that
//! does not compile) restores every one of them, so that it changes all or
//! nothing.

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

/// The contents of files (or their absence) at one moment, to restore.
#[derive(Default)]
pub struct Snapshot {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// Folders whose files and folders created after the snapshot are
    /// removed again.
    trees: Vec<PathBuf>,
    /// The folders under `trees` at the snapshot.
    dirs: Vec<PathBuf>,
}

impl Snapshot {
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// Records `path` as it is now: its bytes, or that it does not exist.
    pub fn file(&mut self, path: &Path) -> Result<()> {
        if self.files.iter().any(|(p, _)| p == path) {
            return Ok(());
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(anyhow!("cannot read `{}`: {e}", path.display())),
        };
        self.files.push((path.to_path_buf(), bytes));
        Ok(())
    }

    /// Records every file under `dir` (not following links, skipping
    /// `target`, `.git` and a shim's edit folder), and that files created there later are to be
    /// removed by [`Snapshot::restore`].
    pub fn tree(&mut self, dir: &Path) -> Result<()> {
        let (files, dirs) = walk(dir)?;
        for f in files {
            self.file(&f)?;
        }
        self.dirs.extend(dirs);
        self.trees.push(dir.to_path_buf());
        Ok(())
    }

    /// Puts every recorded file back as it was, and removes the files
    /// created since in the recorded trees.
    pub fn restore(&self) -> Result<()> {
        for tree in &self.trees {
            let (files, dirs) = walk(tree)?;
            for f in files {
                if !self.files.iter().any(|(p, _)| *p == f) {
                    crate::fs::remove_file(&f)?;
                }
            }
            for d in dirs.iter().rev() {
                if !self.dirs.contains(d) && d != tree {
                    let _ = std::fs::remove_dir_all(d);
                }
            }
        }
        for (path, bytes) in &self.files {
            match bytes {
                Some(b) => {
                    if std::fs::read(path).ok().as_deref() != Some(&b[..]) {
                        crate::fs::write_creating(path, b)?;
                    }
                }
                None => {
                    if path.exists() {
                        crate::fs::remove_file(path)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The regular files and the folders under `dir` (itself included),
/// without `target/`, `.git/` and a shim's edit folder.
fn walk(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(anyhow!("cannot read `{}`: {e}", d.display())),
        };
        dirs.push(d.clone());
        for e in entries {
            let e = e.map_err(|e| anyhow!("cannot read `{}`: {e}", d.display()))?;
            let kind = e
                .file_type()
                .map_err(|err| anyhow!("cannot read `{}`: {err}", e.path().display()))?;
            let name = e.file_name();
            if kind.is_dir() {
                if name != "target" && name != ".git" && name != crate::workspace::EDIT_DIR {
                    stack.push(e.path());
                }
            } else if kind.is_file() {
                files.push(e.path());
            }
        }
    }
    files.sort();
    dirs.sort();
    Ok((files, dirs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_puts_back_changed_removed_and_created_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c, d) = (
            dir.path().join("a"),
            dir.path().join("sub/b"),
            dir.path().join("sub/c"),
            dir.path().join("new/d"),
        );
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        let outside = tempfile::tempdir().unwrap();
        let o = outside.path().join("o");
        let mut snap = Snapshot::new();
        snap.tree(dir.path()).unwrap();
        snap.file(&o).unwrap();
        std::fs::write(&a, "changed").unwrap();
        std::fs::remove_file(&b).unwrap();
        std::fs::write(&c, "new").unwrap();
        std::fs::create_dir_all(dir.path().join("new")).unwrap();
        std::fs::write(&d, "new").unwrap();
        std::fs::write(&o, "new outside").unwrap();
        snap.restore().unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "b");
        assert!(!c.exists());
        assert!(!dir.path().join("new").exists());
        assert!(!o.exists());
    }
}
