//! Writing, reading and comparing file trees: one walker under every
//! snapshot the tests take.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Writes a file, its parents created.
pub fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

/// Sets the modification time of every file under `dir` (a workspace, not
/// its `target`) to a day ago: older than any build of another workspace,
/// for tests of what Cargo reuses across workspaces.
pub fn backdate(dir: &Path) {
    let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(24 * 60 * 60);
    for (_, path, meta) in entries(dir) {
        if meta.is_file() {
            let file = fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(day_ago).unwrap();
        }
    }
}

/// The text of a file; panics naming it.
#[track_caller]
pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The mode bits of a file.
#[cfg(unix)]
pub fn mode(meta: &fs::Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&meta.permissions())
}

/// The mode bits of a file: none off Unix.
#[cfg(not(unix))]
pub fn mode(_meta: &fs::Metadata) -> u32 {
    0
}

/// Whether a file is executable by anyone (never, off Unix).
pub fn is_exec(meta: &fs::Metadata) -> bool {
    mode(meta) & 0o111 != 0
}

/// Makes a file executable (755) or not (644); nothing off Unix.
pub fn set_exec(path: &Path, exec: bool) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if exec { 0o755 } else { 0o644 };
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, exec);
}

/// Writes `files` under `root` (parents created); a path ending in `*` is
/// made executable.
pub fn write_tree<P: AsRef<str>, C: AsRef<[u8]>>(
    root: &Path,
    files: impl IntoIterator<Item = (P, C)>,
) {
    for (path, bytes) in files {
        let path = path.as_ref();
        let (path, exec) = match path.strip_suffix('*') {
            Some(p) => (p, true),
            None => (path, false),
        };
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
        set_exec(&p, exec);
    }
}

/// A temporary folder holding `files` (as [`write_tree`] writes them).
pub fn temp_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files.iter().copied());
    dir
}

/// Every entry under `root` that is not a folder (files, links, special
/// files: links not followed), sorted by its path relative to `root` with
/// `/` between the parts.
pub fn entries(root: &Path) -> Vec<(String, PathBuf, fs::Metadata)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, p, meta));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every file under `root` with its bytes.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    entries(root)
        .into_iter()
        .map(|(rel, p, _)| (rel, fs::read(p).unwrap()))
        .collect()
}

/// Every file under `root` with its bytes, keyed as [`write_tree`] takes
/// them (`*` after an executable's path).
pub fn read_tree_marked(root: &Path) -> BTreeMap<String, Vec<u8>> {
    entries(root)
        .into_iter()
        .map(|(rel, p, meta)| {
            let star = if is_exec(&meta) { "*" } else { "" };
            (format!("{rel}{star}"), fs::read(p).unwrap())
        })
        .collect()
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes`, in hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Every file under `dir` with its SHA-256 and mode: compare two of these to
/// show a tree did not change.
pub fn hash_tree(dir: &Path) -> BTreeMap<String, (String, u32)> {
    entries(dir)
        .into_iter()
        .map(|(rel, p, meta)| {
            let hash = sha256_hex(&fs::read(&p).unwrap_or_default());
            (rel, (hash, mode(&meta)))
        })
        .collect()
}

/// Names the first difference of two maps of a tree, for assertion messages.
pub fn tree_difference<V: PartialEq + std::fmt::Debug>(
    a: &BTreeMap<String, V>,
    b: &BTreeMap<String, V>,
) -> String {
    for (k, v) in a {
        match b.get(k) {
            None => return format!("`{k}` only in the first ({} vs {} files)", a.len(), b.len()),
            Some(w) if w != v => return format!("`{k}` differs: {v:?} vs {w:?}"),
            _ => {}
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            return format!(
                "`{k}` only in the second ({} vs {} files)",
                a.len(),
                b.len()
            );
        }
    }
    "no difference".into()
}
