//! The thin filesystem layer: an in-memory overlay over the tree being
//! patched, and the writer that puts its changes on disk.
//!
//! Every file a patch touches is read once into the overlay; later patches
//! in the list see earlier patches' results there; nothing is written until
//! every patch has applied. Reads never go through a symbolic link: each
//! component of a path is checked with `symlink_metadata`, and only regular
//! files and directories are accepted.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::error::{Kind, PatchError};
use super::parse::find_byte;
use super::{Applied, ChangedFile, Changes};

/// A file's content and executable bit.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct FileState {
    pub(crate) bytes: Vec<u8>,
    pub(crate) exec: bool,
}

/// One path the patches touched.
struct Entry {
    path: String,
    /// State on disk when first touched; `None` = did not exist.
    original: Option<Rc<FileState>>,
    /// Current state; `None` = does not exist.
    current: Option<Rc<FileState>>,
}

/// The tree as the patches so far have left it: every path touched, in
/// byte-wise order (a sorted `Vec` compiles to far less than a map). A
/// file's content is shared (not copied) between the two states and the
/// callers of [`Overlay::get`].
pub(crate) struct Overlay<'a> {
    root: &'a Path,
    entries: Vec<Entry>,
}

/// Where `rel` is in `entries`, or where it would go.
fn find(entries: &[Entry], rel: &str) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0, entries.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match entries[mid].path.as_str().cmp(rel) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// A failed read of `rel`, a file or directory of the tree.
fn io_error(action: &str, root: &Path, rel: &str, e: io::Error) -> PatchError {
    PatchError::new(Kind::Io, format!("failed to {action}: {e}"))
        .with_target(rel)
        .with_source(&disk_path(root, rel), e)
}

#[cfg(unix)]
fn is_exec(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_exec(_meta: &fs::Metadata) -> bool {
    false
}

/// The index of the first `/` in `rel` at or after `from`: ancestors of a
/// path are the prefixes before each.
fn next_slash(rel: &str, from: usize) -> Option<usize> {
    find_byte(rel.as_bytes(), from, b'/')
}

fn disk_path(root: &Path, rel: &str) -> PathBuf {
    let mut p = root.to_path_buf();
    for part in rel.split('/') {
        p.push(part);
    }
    p
}

/// Checks that no proper ancestor of `rel` is a symlink, a special file or
/// a file, on disk or in the overlay's current states when given. Returns
/// false if an ancestor does not exist on disk (so neither does `rel`).
fn check_ancestors(root: &Path, rel: &str, entries: &[Entry]) -> Result<bool, PatchError> {
    let mut on_disk = true;
    let mut from = 0;
    while let Some(slash) = next_slash(rel, from) {
        from = slash + 1;
        let prefix = &rel[..slash];
        let state = match find(entries, prefix) {
            Ok(i) => Some(&entries[i].current),
            Err(_) => None,
        };
        if let Some(Some(_)) = state {
            return Err(PatchError::new(
                Kind::Conflict,
                format!("`{prefix}` is a file, so it cannot contain `{rel}`"),
            )
            .with_target(rel));
        }
        if !on_disk {
            continue;
        }
        // Every `symlink_metadata` here takes a `&Path`: one copy of it.
        match fs::symlink_metadata(disk_path(root, prefix).as_path()) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(PatchError::new(
                    Kind::Symlink,
                    format!("`{prefix}` is a symbolic link; build-patch never reads or writes through a link"),
                )
                .with_target(rel))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                // A file that the overlay has deleted no longer blocks.
                if let Some(None) = state {
                    on_disk = false;
                    continue;
                }
                return Err(PatchError::new(
                    Kind::Conflict,
                    format!("`{prefix}` is not a directory, so it cannot contain `{rel}`"),
                )
                .with_target(rel));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => on_disk = false,
            Err(e) => return Err(io_error("inspect", root, prefix, e)),
        }
    }
    Ok(on_disk)
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(root: &'a Path) -> Overlay<'a> {
        Overlay {
            root,
            entries: Vec::new(),
        }
    }

    fn check_ancestors(&self, rel: &str) -> Result<bool, PatchError> {
        check_ancestors(self.root, rel, &self.entries)
    }

    /// The current state of `rel`, reading it from disk the first time.
    pub(crate) fn get(&mut self, rel: &str) -> Result<Option<Rc<FileState>>, PatchError> {
        let at = match find(&self.entries, rel) {
            Ok(i) => return Ok(self.entries[i].current.clone()),
            Err(at) => at,
        };
        let state = self.read_disk(rel)?;
        if state.is_none() {
            // A directory created by the overlay makes `rel` unusable as a
            // file.
            let dir_prefix = format!("{rel}/");
            let (Ok(mut i) | Err(mut i)) = find(&self.entries, &dir_prefix);
            while let Some(e) = self.entries.get(i) {
                if !e.path.starts_with(&dir_prefix) {
                    break;
                }
                if e.current.is_some() {
                    return Err(
                        PatchError::new(Kind::Conflict, format!("`{rel}` is a directory"))
                            .with_target(rel),
                    );
                }
                i += 1;
            }
        }
        self.entries.insert(
            at,
            Entry {
                path: rel.to_string(),
                original: state.clone(),
                current: state.clone(),
            },
        );
        Ok(state)
    }

    fn read_disk(&self, rel: &str) -> Result<Option<Rc<FileState>>, PatchError> {
        if !self.check_ancestors(rel)? {
            return Ok(None);
        }
        let path = disk_path(self.root, rel);
        let meta = match fs::symlink_metadata(path.as_path()) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("inspect", self.root, rel, e)),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            return Err(PatchError::new(
                Kind::Symlink,
                "the file is a symbolic link; build-patch never reads or writes through a link",
            )
            .with_target(rel));
        }
        if ft.is_dir() {
            return Err(
                PatchError::new(Kind::Conflict, "it is a directory, not a file").with_target(rel),
            );
        }
        if !ft.is_file() {
            return Err(PatchError::new(
                Kind::SpecialFile,
                "it is not a regular file (a device, socket or pipe); only regular files are patched",
            )
            .with_target(rel));
        }
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) => return Err(io_error("read", self.root, rel, e)),
        };
        Ok(Some(Rc::new(FileState {
            bytes,
            exec: is_exec(&meta),
        })))
    }

    /// Sets `rel` to `state` (`None` deletes it). `rel` must have been read
    /// with [`Overlay::get`] first.
    pub(crate) fn set(&mut self, rel: &str, state: Option<FileState>) -> Result<(), PatchError> {
        self.get(rel)?;
        if state.is_some() {
            self.check_ancestors(rel)?;
        }
        if let Ok(i) = find(&self.entries, rel) {
            self.entries[i].current = state.map(Rc::new);
        }
        Ok(())
    }

    /// The changes: every file whose content or executable bit differs from
    /// what was on disk, and every file deleted, in path order, with the
    /// paths created, changed and deleted (the reports of the patches are
    /// the caller's to add).
    pub(crate) fn finish(self) -> Changes {
        let mut out = Changes {
            applied: Applied {
                patches: Vec::new(),
                created: Vec::new(),
                changed: Vec::new(),
                deleted: Vec::new(),
            },
            files: Vec::new(),
        };
        // Taken out of each entry in place (a loop over a borrowed list
        // compiles to less than one that consumes it).
        let mut entries = self.entries;
        for entry in &mut entries {
            let rel = std::mem::take(&mut entry.path);
            let orig = entry.original.take();
            let (bytes, executable, content_changed) = match (entry.current.take(), &orig) {
                (None, None) => continue,
                (Some(s), Some(o)) if *s == **o => continue,
                (None, Some(_)) => {
                    out.applied.deleted.push(PathBuf::from(&rel));
                    (None, false, true)
                }
                (Some(s), _) => {
                    let s = match Rc::try_unwrap(s) {
                        Ok(s) => s,
                        Err(shared) => (*shared).clone(),
                    };
                    // `orig` is what the file held when read: the writer
                    // need not read it again to see whether the bytes
                    // changed (a mode change alone leaves the file, and its
                    // mtime, alone).
                    let content_changed = match &orig {
                        Some(o) => o.bytes.as_slice() != s.bytes.as_slice(),
                        None => true,
                    };
                    match orig {
                        Some(_) => out.applied.changed.push(PathBuf::from(&rel)),
                        None => out.applied.created.push(PathBuf::from(&rel)),
                    }
                    (Some(s.bytes), s.exec, content_changed)
                }
            };
            out.files.push(ChangedFile {
                path: rel,
                bytes,
                executable,
                content_changed,
            });
        }
        out
    }
}

/// Writes `files` (an overlay's changes, in path order) under `root`:
/// deletions first, then files in path order. Directories are created as
/// needed (never through a link), and directories left empty by a deletion
/// are removed.
pub(crate) fn write(root: &Path, files: &[ChangedFile]) -> Result<(), PatchError> {
    for file in files {
        if file.bytes.is_some() {
            continue;
        }
        // Re-check right before acting: nothing must be a link.
        check_ancestors(root, &file.path, &[])?;
        let path = disk_path(root, &file.path);
        match fs::remove_file(path.as_path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(PatchError::io("remove file", &path, e))
            }
            _ => {}
        }
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == root || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    for file in files {
        let Some(bytes) = &file.bytes else { continue };
        let rel = &file.path;
        make_parents(root, rel)?;
        let path = disk_path(root, rel);
        if let Ok(m) = fs::symlink_metadata(path.as_path()) {
            if !m.is_file() {
                return Err(
                    PatchError::new(Kind::SpecialFile, "it is no longer a regular file")
                        .with_target(rel),
                );
            }
        }
        if file.content_changed {
            // Without waiting for the disk (no `fsync`), like the copies
            // beside these files in a staged tree.
            if let Err(failure) = write_through_temporary(&path, bytes, false) {
                return Err(failure.into_error());
            }
        }
        set_exec(&path, file.executable)?;
    }
    Ok(())
}

fn make_parents(root: &Path, rel: &str) -> Result<(), PatchError> {
    let mut path = root.to_path_buf();
    let mut from = 0;
    while let Some(slash) = next_slash(rel, from) {
        path.push(&rel[from..slash]);
        from = slash + 1;
        match fs::symlink_metadata(path.as_path()) {
            Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {}
            Ok(_) => {
                return Err(PatchError::new(
                    Kind::Symlink,
                    format!("`{}` is not a plain directory", path.display()),
                )
                .with_target(rel))
            }
            Err(_) => {
                if let Err(e) = fs::create_dir(&path) {
                    return Err(PatchError::io("create directory", &path, e));
                }
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_exec(path: &Path, exec: bool) -> Result<(), PatchError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return Err(PatchError::io("inspect", path, e)),
    };
    let mode = meta.permissions().mode();
    // Executable for whoever may read it, as `chmod +x` under a usual umask.
    let want = if exec {
        mode | ((mode & 0o444) >> 2)
    } else {
        mode & !0o111
    };
    if want != mode {
        if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(want)) {
            return Err(PatchError::io("set permissions of", path, e));
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_exec(_path: &Path, _exec: bool) -> Result<(), PatchError> {
    Ok(())
}

/// A failed filesystem operation: what was done, to which path, and what
/// the system said; for the crate's own errors as well as the engine's.
pub(crate) struct IoFailure {
    pub(crate) action: &'static str,
    pub(crate) path: PathBuf,
    pub(crate) source: io::Error,
}

impl IoFailure {
    fn new(action: &'static str, path: &Path, source: io::Error) -> IoFailure {
        IoFailure {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    fn into_error(self) -> PatchError {
        PatchError::io(self.action, &self.path, self.source)
    }
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader never sees a half-written file, waiting for the disk (`fsync`)
/// when `sync`. The file gets mode 644 whatever the umask of the build: the
/// staged tree must be the same bytes and modes on every machine.
pub(crate) fn write_through_temporary(
    path: &Path,
    contents: &[u8],
    sync: bool,
) -> Result<(), IoFailure> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = match path.file_name() {
        Some(n) => n.to_str().unwrap_or("file"),
        None => "file",
    };
    // Unique to this call, not only to this process: threads of one process
    // (the library called twice at once) write the same files.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let mut f = match fs::File::create(&tmp) {
        Ok(f) => f,
        Err(e) => return Err(IoFailure::new("create", &tmp, e)),
    };
    if let Err(e) = normal_mode(&f) {
        return Err(IoFailure::new("set permissions of", &tmp, e));
    }
    let mut written = f.write_all(contents);
    if sync && written.is_ok() {
        written = f.sync_all();
    }
    if let Err(e) = written {
        return Err(IoFailure::new("write", &tmp, e));
    }
    drop(f);
    // (`&Path` and `&str` arguments, as elsewhere in the crate: std's generic
    // file and path functions compile once for each argument type.)
    if let Err(e) = fs::rename(tmp.as_path(), path) {
        let _ = fs::remove_file(tmp.as_path());
        return Err(IoFailure::new("rename into place", path, e));
    }
    Ok(())
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
