//! Writing patches: the git-style unified diff between two directory trees.
//!
//! Files in byte order of their paths, `a/` and `b/` prefixes, no
//! timestamps, `new file mode` / `deleted file mode` / `old mode` lines
//! where they apply, three lines of context. diffy computes the hunks;
//! build-patch's own engine applies the result.

use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::path::Path;

use build_patch::is_executable;
use build_patch::patch::ChangedFile;

/// A file of a tree: its bytes and whether it is executable.
struct Entry {
    bytes: Vec<u8>,
    executable: bool,
}

/// Names that are never part of a patch: the edit folder's git repository
/// and the compile root build-patch writes into staged copies.
const IGNORED: &[&str] = &[".git", build_patch::ROOT_FILE];

/// The diff from `old` to `new`; empty when the trees are the same.
pub fn diff_trees(old: &Path, new: &Path) -> Result<String> {
    let old_files = read_tree(old)?;
    let new_files = read_tree(new)?;
    let mut paths: Vec<&String> = old_files.keys().chain(new_files.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = String::new();
    for path in paths {
        out.push_str(&diff_file(path, old_files.get(path), new_files.get(path))?);
    }
    Ok(out)
}

/// The diff that `files` (changes the patch engine made in memory) make to
/// the tree at `root`: what `diff_trees` gives between `root` and `root`
/// with them written, without writing or reading anything else.
pub fn diff_changes(root: &Path, files: &[ChangedFile]) -> Result<String> {
    let mut out = String::new();
    for f in files {
        let path = f.path();
        let mut parts = path.split('/');
        if parts.clone().next() == Some("target") || parts.any(|p| IGNORED.contains(&p)) {
            continue;
        }
        let on_disk = root.join(path);
        let old = match std::fs::symlink_metadata(&on_disk) {
            Ok(meta) if meta.is_file() => Some(Entry {
                bytes: crate::fs::read(&on_disk)?,
                executable: is_executable(&meta),
            }),
            _ => None,
        };
        let new = f.bytes().map(|bytes| Entry {
            bytes: bytes.to_vec(),
            executable: f.executable(),
        });
        out.push_str(&diff_file(path, old.as_ref(), new.as_ref())?);
    }
    Ok(out)
}

/// The diff of one text file of a tree, from `old` to `new`; empty when they
/// are the same.
pub fn diff_text(path: &str, old: &str, new: &str) -> Result<String> {
    let entry = |text: &str| Entry {
        bytes: text.as_bytes().to_vec(),
        executable: false,
    };
    diff_file(path, Some(&entry(old)), Some(&entry(new)))
}

fn mode(executable: bool) -> &'static str {
    if executable {
        "100755"
    } else {
        "100644"
    }
}

fn diff_file(path: &str, old: Option<&Entry>, new: Option<&Entry>) -> Result<String> {
    let mut header = format!("diff --git a/{path} b/{path}\n");
    let (old_bytes, new_bytes, old_name, new_name): (&[u8], &[u8], String, String) =
        match (old, new) {
            (Some(o), Some(n)) => {
                if o.bytes == n.bytes && o.executable == n.executable {
                    return Ok(String::new());
                }
                if o.executable != n.executable {
                    header.push_str(&format!(
                        "old mode {}\nnew mode {}\n",
                        mode(o.executable),
                        mode(n.executable)
                    ));
                }
                (&o.bytes, &n.bytes, format!("a/{path}"), format!("b/{path}"))
            }
            (None, Some(n)) => {
                header.push_str(&format!("new file mode {}\n", mode(n.executable)));
                (&[], &n.bytes, "/dev/null".to_string(), format!("b/{path}"))
            }
            (Some(o), None) => {
                header.push_str(&format!("deleted file mode {}\n", mode(o.executable)));
                (&o.bytes, &[], format!("a/{path}"), "/dev/null".to_string())
            }
            (None, None) => return Ok(String::new()),
        };
    if old_bytes.contains(&0) || new_bytes.contains(&0) {
        return Err(anyhow!(
            "`{path}` is a binary file and it changed: patches can only change text\n  \
             help: undo the change to `{path}` in the edit folder"
        ));
    }
    if old_bytes == new_bytes {
        // A mode change, or an empty file created or deleted: no hunks.
        return Ok(header);
    }
    let mut options = diffy::DiffOptions::new();
    options
        .set_context_len(3)
        .set_original_filename(old_name)
        .set_modified_filename(new_name);
    let patch = options.create_patch_bytes(old_bytes, new_bytes);
    let body = String::from_utf8(patch.to_bytes()).map_err(|_| {
        anyhow!("`{path}` is not UTF-8 text: build-patch writes patches for text files only")
    })?;
    Ok(header + &body)
}

/// Every regular file under `root`, by its `/`-separated relative path.
fn read_tree(root: &Path) -> Result<BTreeMap<String, Entry>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in crate::fs::read_dir(&dir)? {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            // A `cargo build` in the edit tree leaves `target/`: never a
            // patch (a published crate holds no `target/` either).
            if IGNORED.contains(&name.as_str()) || (dir == root && name == "target") {
                continue;
            }
            let meta = crate::fs::symlink_metadata(&path)?;
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = crate::fs::read(&path)?;
                out.insert(
                    rel,
                    Entry {
                        bytes,
                        executable: is_executable(&meta),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Copies the regular files of `from` into `to` (created), leaving out the
/// ignored names, keeping the executable bit. Not `build_patch::copy_tree`
/// (the staging copy): an edit tree leaves out `.git` and the staged
/// compile root (`ROOT_FILE`, beside the upstream's library root) at every
/// depth and links altogether, so that `diff_trees` of two copies sees the
/// upstream's files only; failures are said in the CLI's words.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    crate::fs::create_dir_all(to)?;
    for entry in crate::fs::read_dir(from)? {
        let name = entry.file_name();
        if IGNORED.iter().any(|i| name == *i) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let meta = crate::fs::symlink_metadata(&src)?;
        if meta.is_dir() {
            copy_tree(&src, &dst)?;
        } else if meta.is_file() {
            crate::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use build_patch::patch::{apply_to_dir, ApplyOptions, PatchFile};
    use support::{assert_contains, assert_lacks};

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn a_diff_of_two_trees_applies_back_with_the_engine() {
        let old = tempfile::tempdir().unwrap();
        let new = tempfile::tempdir().unwrap();
        write(old.path(), "src/lib.rs", "a\nb\nc\n");
        write(old.path(), "gone.txt", "bye\n");
        write(old.path(), "no-newline.txt", "x");
        write(new.path(), "src/lib.rs", "a\nB\nc\n");
        write(new.path(), "src/new.rs", "fresh\n");
        write(new.path(), "no-newline.txt", "y");
        write(new.path(), ".git/HEAD", "ignored\n");
        let text = diff_trees(old.path(), new.path()).unwrap();
        assert_contains(
            &text,
            &[
                "diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n",
                "new file mode 100644\n--- /dev/null\n+++ b/src/new.rs\n",
                "\\ No newline at end of file",
            ],
        );
        assert_lacks(&text, &[".git"]);
        // Files in byte order of their paths.
        let order: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("diff --git"))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);

        let target = tempfile::tempdir().unwrap();
        copy_tree(old.path(), target.path()).unwrap();
        apply_to_dir(
            target.path(),
            &[PatchFile {
                display: "t.patch".into(),
                bytes: text.into_bytes(),
                strip: None,
            }],
            &ApplyOptions::new(),
        )
        .unwrap();
        assert_eq!(diff_trees(target.path(), new.path()).unwrap(), "");
    }

    #[test]
    fn in_memory_changes_diff_as_the_written_trees_do() {
        let old = tempfile::tempdir().unwrap();
        write(old.path(), "src/lib.rs", "a\nb\nc\n");
        write(old.path(), "gone.txt", "bye\n");
        write(old.path(), "same.txt", "same\n");
        let new = tempfile::tempdir().unwrap();
        copy_tree(old.path(), new.path()).unwrap();
        write(new.path(), "src/lib.rs", "a\nB\nc\n");
        write(new.path(), "src/new.rs", "fresh\n");
        std::fs::remove_file(new.path().join("gone.txt")).unwrap();
        let text = diff_trees(old.path(), new.path()).unwrap();
        let patch = PatchFile {
            display: "t.patch".into(),
            bytes: text.clone().into_bytes(),
            strip: None,
        };
        let changes = build_patch::patch::apply_in_memory(
            old.path(),
            std::slice::from_ref(&patch),
            &ApplyOptions::new(),
        )
        .unwrap();
        assert_eq!(diff_changes(old.path(), changes.files()).unwrap(), text);
    }

    #[test]
    fn identical_trees_have_an_empty_diff_and_binaries_are_refused() {
        let a = tempfile::tempdir().unwrap();
        write(a.path(), "x.rs", "same\n");
        assert_eq!(diff_trees(a.path(), a.path()).unwrap(), "");
        let b = tempfile::tempdir().unwrap();
        write(b.path(), "x.rs", "same\n\0binary");
        let err = diff_trees(a.path(), b.path()).unwrap_err();
        assert!(err.to_string().contains("binary"), "{err}");
    }
}
