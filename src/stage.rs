//! Staging: the patched copy of the upstream crate inside `OUT_DIR`.
//!
//! Layout, all under `OUT_DIR/build-patch/`:
//!
//! ```text
//! NAME-VERSION/              the staged copy: pristine source + patches + compile root
//!     src/.build-patch-root.rs   the compile root (the library root, minus what include! rejects)
//! NAME-VERSION.stamp         what the staged copy was made from; written last
//! lib.rs                     the file the shim's include! line names
//! .lock                      held while staging, so two builds never race
//! fetch/                     the nested Cargo call's private manifest, when one is needed
//! ```
//!
//! A staged copy is built in a temporary sibling folder and renamed into
//! place only when every patch applied; its stamp is written after the
//! rename. A build killed at any point leaves either no stamp (the next build
//! restages) or a complete tree with its stamp. The pristine source is only
//! ever read.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::patch::{self, ApplyOptions, PatchFile};
use crate::source::{Origin, Pristine};
use crate::upstream::UpstreamManifest;
use crate::{fs, root};

/// The name of the compile root, written next to the upstream library root
/// so that its `mod` declarations resolve inside the staged copy (`include!`
/// resolves modules relative to the included file).
pub(crate) const ROOT_FILE: &str = ".build-patch-root.rs";

/// What staging needs.
pub(crate) struct StageRequest<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub pristine: &'a Pristine,
    pub patches: &'a [PatchFile],
    pub strip: usize,
    pub fuzz: usize,
    /// `OUT_DIR/build-patch`.
    pub work_dir: &'a Path,
}

/// A staged copy, ready to compile.
pub(crate) struct Staged {
    /// The staged crate root (what `CARGO_MANIFEST_DIR` becomes).
    pub dir: PathBuf,
    /// The patched upstream manifest.
    pub manifest: UpstreamManifest,
    /// The patched upstream library root, split.
    pub root: root::SplitRoot,
    /// The patched upstream build script, relative to `dir`, if it has one.
    pub build_script: Option<PathBuf>,
    /// The file the shim's `include!` line names.
    pub entry: PathBuf,
    /// Whether this run staged anew (false: an up-to-date copy was there).
    pub restaged: bool,
    /// Files in the pristine source that were not copied, with the reason.
    pub skipped: Vec<String>,
    /// Hunks that applied only with fuzz (allowed by `fuzz`), described.
    pub fuzzed: Vec<String>,
}

/// Creates the work directory and takes its lock (held until the file is
/// dropped): two builds never stage into one directory at once.
fn lock_work_dir(work_dir: &Path) -> Result<File> {
    fs::create_dir_all(work_dir)?;
    let lock_path = work_dir.join(".lock");
    let lock = File::create(&lock_path).map_err(crate::fs::io_error("create", &lock_path))?;
    lock.lock()
        .map_err(crate::fs::io_error("lock", &lock_path))?;
    Ok(lock)
}

/// Builds the patched copy anew into `dir` and writes its `stamp`.
fn restage(
    req: &StageRequest<'_>,
    dir_name: &str,
    dir: &Path,
    stamp_path: &Path,
    stamp: &str,
    skipped: &mut Vec<String>,
    fuzzed: &mut Vec<String>,
) -> Result<(UpstreamManifest, root::SplitRoot)> {
    let tmp = req
        .work_dir
        .join(format!(".{dir_name}.tmp-{}", std::process::id()));
    // Invalidate first: from here until the new stamp is written, a
    // killed build leaves no stamp and the next one restages.
    fs::remove_file(stamp_path)?;
    remove_leftovers(req.work_dir, dir_name)?;
    let built = match build_tree(req, &tmp, skipped, fuzzed) {
        Ok(built) => built,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    replace_dir(&tmp, dir)?;
    fs::write_if_changed(stamp_path, stamp.as_bytes())?;
    Ok(built)
}

/// Stages the patched copy, or reuses an up-to-date one.
pub(crate) fn stage(req: &StageRequest<'_>) -> Result<Staged> {
    let lock = lock_work_dir(req.work_dir)?;
    let dir_name = format!("{}-{}", req.name, req.version);
    let dir = req.work_dir.join(dir_name.as_str());
    let stamp_path = req.work_dir.join(format!("{dir_name}.stamp"));
    let stamp = stamp_text(req)?;

    let up_to_date = dir.is_dir()
        && match std::fs::read(&stamp_path) {
            Ok(existing) => existing == stamp.as_bytes(),
            Err(_) => false,
        };
    let mut skipped = Vec::new();
    let mut fuzzed = Vec::new();
    let (manifest, split) = if up_to_date {
        let manifest = read_manifest(&dir)?;
        let split = split_root_file(&dir.join(&manifest.lib_path))?;
        (manifest, split)
    } else {
        restage(
            req,
            &dir_name,
            &dir,
            &stamp_path,
            &stamp,
            &mut skipped,
            &mut fuzzed,
        )?
    };

    let entry = req.work_dir.join("lib.rs");
    fs::write_if_changed(&entry, entry_file(&dir_name, &manifest).as_bytes())?;
    drop(lock);
    let build_script = crate::build_script::script_path(&manifest.model.build, &dir);
    Ok(Staged {
        dir,
        manifest,
        root: split,
        build_script,
        entry,
        restaged: !up_to_date,
        skipped,
        fuzzed,
    })
}

/// Reads and splits a library root (the upstream's or the shim's).
pub(crate) fn split_root_file(path: &Path) -> Result<root::SplitRoot> {
    // Matches rather than `map_err` with a closure, here and below: each
    // closure compiles its own `map_err`.
    match root::split_root(&fs::read_to_string(path)?) {
        Ok(split) => Ok(split),
        Err(e) => Err(Error::new(
            ErrorKind::Root,
            format!("cannot read the attributes of `{}`: {e}", path.display()),
        )),
    }
}

/// The patched manifest of the tree at `dir`.
fn read_manifest(dir: &Path) -> Result<UpstreamManifest> {
    let manifest_path = dir.join("Cargo.toml");
    UpstreamManifest::parse(&fs::read_to_string(&manifest_path)?, &manifest_path, dir)
}

/// Copies, patches and writes the compile root into `tmp`; returns the
/// patched manifest and library root. Both are the same read from the tree
/// once it is renamed into place (the manifest's paths are relative).
fn build_tree(
    req: &StageRequest<'_>,
    tmp: &Path,
    skipped: &mut Vec<String>,
    fuzzed: &mut Vec<String>,
) -> Result<(UpstreamManifest, root::SplitRoot)> {
    let git_checkout = match &req.pristine.pinned {
        Some(p) => p.starts_with("git+"),
        None => false,
    };
    let skip_top: &[&str] = match req.pristine.origin {
        // A path source may be a working copy with build output in it.
        Origin::Local => &[".cargo-ok", ".cargo-checksum.json", "target", ".git"],
        // Cargo's git checkouts hold the repository's `.git`.
        _ if git_checkout => &[".cargo-ok", ".cargo-checksum.json", ".git"],
        _ => &[".cargo-ok", ".cargo-checksum.json"],
    };
    copy_tree(&req.pristine.dir, tmp, skip_top, skipped)?;
    let mut options = ApplyOptions::new();
    options.strip(req.strip).fuzz(req.fuzz);
    let applied = patch::apply_to_dir(tmp, req.patches, &options)?;
    for p in applied.patches() {
        for h in p.hunks() {
            if h.fuzz() == 0 {
                continue;
            }
            fuzzed.push(format!(
                "hunk #{} of `{}` applied to `{}` at line {} only with fuzz {}",
                h.number(),
                p.display(),
                h.file(),
                h.line(),
                h.fuzz()
            ));
        }
    }

    let manifest = read_manifest(tmp)?;
    let split = write_compile_root(tmp, &manifest.lib_path)?;
    Ok((manifest, split))
}

/// Writes the compile root beside the patched library root; returns the
/// root, split.
fn write_compile_root(tree: &Path, lib_path: &Path) -> Result<root::SplitRoot> {
    let lib = tree.join(lib_path);
    let text = fs::read_to_string(&lib)?;
    let split = match root::split_root(&text) {
        Ok(split) => split,
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Root,
                format!(
                    "cannot read the leading attributes of the upstream library root `{}`: {e}",
                    lib_path.display()
                ),
            ))
        }
    };
    let root_path = lib.with_file_name(ROOT_FILE);
    fs::write_if_changed(&root_path, split.body.as_bytes())?;
    Ok(split)
}

/// The file the shim includes: one `include!` of the compile root, by a
/// path relative to itself, so nothing absolute is baked into it.
fn entry_file(dir_name: &str, manifest: &UpstreamManifest) -> String {
    let root = manifest.lib_path.with_file_name(ROOT_FILE);
    let mut rel = String::new();
    for c in root.components() {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str(&c.as_os_str().to_string_lossy());
    }
    format!(
        "// @generated by build-patch: the patched `{} {}`, compiled as this crate.\n\
         // Do not edit: it is rewritten on every build. Edit the patches instead.\n\
         include!(\"{dir_name}/{}\");\n",
        manifest.name, manifest.version, rel
    )
}

/// Removes the temporary and replaced trees a killed build left behind. Safe
/// because the caller holds the staging lock: no other build is using them.
fn remove_leftovers(work_dir: &Path, dir_name: &str) -> Result<()> {
    let tmp_prefix = format!(".{dir_name}.tmp-");
    let old_prefix = format!("{dir_name}.old-");
    for (path, meta) in &read_dir_sorted(work_dir)? {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if meta.is_dir() && (name.starts_with(&tmp_prefix) || name.starts_with(&old_prefix)) {
            fs::remove_dir_all(path)?;
        }
    }
    Ok(())
}

/// Moves the finished `tmp` tree to `dir`, replacing whatever is there.
fn replace_dir(tmp: &Path, dir: &Path) -> Result<()> {
    if dir.exists() {
        // Not `with_extension`: `shlex-1.1.0` has the "extension" `0`.
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let old = dir.with_file_name(format!("{name}.old-{}", std::process::id()).as_str());
        fs::remove_dir_all(&old)?;
        fs::rename(dir, &old)?;
        fs::rename(tmp, dir)?;
        fs::remove_dir_all(&old)?;
    } else {
        fs::rename(tmp, dir)?;
    }
    Ok(())
}

/// Everything the staged copy is a function of. Equal stamps mean the copy
/// on disk is the one these inputs make.
fn stamp_text(req: &StageRequest<'_>) -> Result<String> {
    let mut s = String::new();
    let _ = writeln!(s, "build-patch {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "compile root format {}", root::FORMAT);
    let _ = writeln!(s, "crate {} {}", req.name, req.version);
    let _ = writeln!(s, "source {}", req.pristine.dir.display());
    if let Some(pinned) = &req.pristine.pinned {
        // A git commit or an alternative registry: another one restages.
        let _ = writeln!(s, "from {pinned}");
    }
    if req.pristine.origin == Origin::Local {
        // A local source can change: fingerprint its files.
        let _ = writeln!(
            s,
            "fingerprint {:016x}",
            fingerprint_dir(&req.pristine.dir)?
        );
    }
    let _ = writeln!(s, "strip {} fuzz {}", req.strip, req.fuzz);
    for p in req.patches {
        let _ = writeln!(
            s,
            "patch {} -p{:?} {} {:016x}",
            p.display,
            p.strip,
            p.bytes.len(),
            fnv1a(&p.bytes)
        );
    }
    Ok(s)
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike
/// `DefaultHasher`. Not a defence against crafted collisions; it only has to
/// notice edits.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Paths, sizes and modification times of every file under `dir`.
fn fingerprint_dir(dir: &Path) -> Result<u64> {
    let mut acc = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for (path, meta) in &read_dir_sorted(&d)? {
            if meta.is_dir() {
                let _ = writeln!(acc, "{}/", path.display());
                stack.push(path.clone());
            } else {
                // Matches, not `ok().and_then().map_or()` with closures.
                let mtime = match meta.modified() {
                    Ok(t) => match t.duration_since(std::time::UNIX_EPOCH) {
                        Ok(d) => d.as_nanos(),
                        Err(_) => 0,
                    },
                    Err(_) => 0,
                };
                let _ = writeln!(acc, "{} {} {mtime}", path.display(), meta.len());
            }
        }
    }
    Ok(fnv1a(acc.as_bytes()))
}

/// The entries of `dir` with their metadata, by path.
fn read_dir_sorted(dir: &Path) -> Result<Vec<(PathBuf, std::fs::Metadata)>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return Err(Error::io("read directory", dir, e)),
    };
    for entry in rd {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => return Err(Error::io("read directory", dir, e)),
        };
        let path = entry.path();
        // Not following links, like `symlink_metadata`, but relative to the
        // open directory: no walk of the whole path for every entry.
        match entry.metadata() {
            Ok(meta) => out.push((path, meta)),
            Err(e) => return Err(Error::io("inspect", &path, e)),
        }
    }
    Ok(sorted_by_path(out))
}

/// `entries` in the order of their paths: a plain merge sort of their
/// indices, a small fraction of the code `sort_by` compiles to, then the
/// entries moved into that order in place.
fn sorted_by_path(
    mut entries: Vec<(PathBuf, std::fs::Metadata)>,
) -> Vec<(PathBuf, std::fs::Metadata)> {
    let n = entries.len();
    let mut order = Vec::with_capacity(n);
    for i in 0..n {
        order.push(i);
    }
    let mut merged = vec![0; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut a, mut b) = (start, mid);
            for slot in &mut merged[start..end] {
                // Stable: on a tie the left run's entry goes first.
                let take_b = a == mid || (b < end && entries[order[b]].0 < entries[order[a]].0);
                if take_b {
                    *slot = order[b];
                    b += 1;
                } else {
                    *slot = order[a];
                    a += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    // Slot `k` takes the entry `order[k]`: one cycle of that permutation
    // at a time, each swap putting one entry in its place, and its slot
    // marked done (`order[k] == k`). Swaps rather than a vector of
    // `Option`s taken from: less code for every type involved.
    for start in 0..n {
        let mut k = start;
        while order[k] != start {
            let next = order[k];
            entries.swap(k, next);
            order[k] = k;
            k = next;
        }
        order[k] = k;
    }
    entries
}

/// Copies the regular files and directories of `src` into `dst` (created).
///
/// Links are never followed out of the tree: a symbolic link to a file
/// inside the tree is copied as that file; any other link, and any special
/// file, is left out and reported in `skipped`. Copied files get mode 644 or
/// 755 (keeping only the executable bit), so the staged copy is writable and
/// the same on every machine.
///
/// Every file is a new, independent copy (never a hard link), so nothing
/// written to the staged copy can reach the pristine source. One thread
/// copies the files, in walk order. Up to four threads were tried
/// (docs/benchmarks.md, "4. Staging"): on 2 cores they staged `windows`
/// (702 files) in about 0.7 of the time, but only crates of more than 128
/// files used them, while their code was some 4 % of what every user
/// compiles of build-patch, on every clean build.
pub(crate) fn copy_tree(
    src: &Path,
    dst: &Path,
    skip_top: &[&str],
    skipped: &mut Vec<String>,
) -> Result<()> {
    let canonical_src = std::fs::canonicalize(src).map_err(crate::fs::io_error("open", src))?;
    fs::create_dir_all(dst)?;
    // The directories still to copy, and where to: two stacks in step, as
    // a stack of tuples would compile its own vector and drop code. The
    // first one popped is the top directory.
    let mut from_dirs = vec![src.to_path_buf()];
    let mut to_dirs = vec![dst.to_path_buf()];
    let mut top = true;
    while let Some(from_dir) = from_dirs.pop() {
        let Some(to_dir) = to_dirs.pop() else {
            break;
        };
        // By reference (a directory's path is cloned onto the stack): a
        // by-value walk compiles its own iterator code for the entries.
        for (from, meta) in &read_dir_sorted(&from_dir)? {
            let name = from.file_name().unwrap_or_default();
            if top && skip_top.contains(&&*name.to_string_lossy()) {
                continue;
            }
            // (`&Path` and `&str` arguments, as elsewhere in the crate: std's generic
            // file and path functions compile once for each argument type.)
            let to = to_dir.join(Path::new(name));
            let ft = meta.file_type();
            let why = if ft.is_dir() {
                std::fs::create_dir(&to).map_err(crate::fs::io_error("create directory", &to))?;
                from_dirs.push(from.clone());
                to_dirs.push(to);
                continue;
            } else if ft.is_file() {
                copy_file(from, &to, meta)?;
                continue;
            } else if ft.is_symlink() {
                match std::fs::canonicalize(from.as_path()) {
                    Ok(target)
                        if target.starts_with(canonical_src.as_path()) && target.is_file() =>
                    {
                        let meta = std::fs::metadata(target.as_path())
                            .map_err(crate::fs::io_error("inspect", &target))?;
                        copy_file(&target, &to, &meta)?;
                        continue;
                    }
                    _ => "is a symbolic link that does not lead to a file inside the crate",
                }
            } else {
                "is not a regular file"
            };
            let rel = match from.strip_prefix(src) {
                Ok(rel) => rel,
                Err(_) => from,
            };
            skipped.push(format!("`{}` {why}", rel.display()));
        }
        top = false;
    }
    Ok(())
}

/// Copies one file (`std::fs::copy`: `copy_file_range` on Linux, which
/// shares blocks copy-on-write where the filesystem can, and `clonefile` on
/// macOS; either way a separate file) and gives it its normal mode.
fn copy_file(from: &Path, to: &Path, meta: &std::fs::Metadata) -> Result<()> {
    std::fs::copy(from, to).map_err(crate::fs::io_error("copy", from))?;
    let executable = is_executable(meta);
    if !has_normal_mode(meta, executable) {
        set_normal_mode(to, executable)?;
    }
    Ok(())
}

/// Whether a copy of this file already has mode 644 or 755: on Unix
/// `std::fs::copy` gives the copy exactly the source's permissions, so the
/// usual registry file needs no second `chmod`.
#[cfg(unix)]
fn has_normal_mode(meta: &std::fs::Metadata, executable: bool) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777 == if executable { 0o755 } else { 0o644 }
}

#[cfg(not(unix))]
fn has_normal_mode(meta: &std::fs::Metadata, _executable: bool) -> bool {
    !meta.permissions().readonly()
}

#[cfg(unix)]
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub(crate) fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn set_normal_mode(path: &Path, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(crate::fs::io_error("set permissions of", path))
}

#[cfg(not(unix))]
fn set_normal_mode(path: &Path, _executable: bool) -> Result<()> {
    let mut perms = std::fs::metadata(path)
        .map_err(crate::fs::io_error("inspect", path))?
        .permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).map_err(crate::fs::io_error("set permissions of", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_notices_one_byte() {
        assert_ne!(fnv1a(b"abc"), fnv1a(b"abd"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn entries_are_sorted_by_path() {
        let dir = tempfile::tempdir().unwrap();
        for n in [0usize, 1, 2, 3, 7, 8, 9, 33] {
            let d = dir.path().join(format!("n{n}"));
            std::fs::create_dir(&d).unwrap();
            for i in 0..n {
                // Names whose creation order is not their sorted order.
                let name = format!("{}-{i}", (i * 7919) % 31);
                std::fs::write(d.join(name), "").unwrap();
            }
            let paths: Vec<PathBuf> = read_dir_sorted(&d)
                .unwrap()
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            let mut expected = paths.clone();
            expected.sort();
            assert_eq!(paths, expected);
            assert_eq!(paths.len(), n);
        }
    }

    #[test]
    fn entry_file_is_relative() {
        let m = UpstreamManifest {
            name: "foo".into(),
            version: "1.0.0".into(),
            lib_path: PathBuf::from("src/lib.rs"),
            ..Default::default()
        };
        let text = entry_file("foo-1.0.0", &m);
        assert!(text.ends_with("include!(\"foo-1.0.0/src/.build-patch-root.rs\");\n"));
        let m = UpstreamManifest {
            lib_path: PathBuf::from("lib.rs"),
            ..m
        };
        assert!(
            entry_file("foo-1.0.0", &m).contains("include!(\"foo-1.0.0/.build-patch-root.rs\")")
        );
    }

    /// The staged copy is made of new files: writing to every one of them
    /// (as patches do) leaves the pristine source byte-identical, with its
    /// modes and link counts.
    #[cfg(unix)]
    #[test]
    fn copy_tree_makes_independent_copies() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let src = tempfile::tempdir().unwrap();
        let n = 512;
        for i in 0..n {
            let dir = src
                .path()
                .join(format!("d{}", i % 7))
                .join(format!("e{}", i % 3));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("f{i}.rs"));
            std::fs::write(&path, format!("file {i}\n").repeat(i % 50 + 1)).unwrap();
            let mode = [0o644, 0o755, 0o444, 0o600, 0o700][i % 5];
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let snapshot = |root: &Path| {
            let mut files = Vec::new();
            let mut stack = vec![root.to_path_buf()];
            while let Some(d) = stack.pop() {
                for (path, meta) in read_dir_sorted(&d).unwrap() {
                    if meta.is_dir() {
                        stack.push(path);
                    } else {
                        let rel = path.strip_prefix(root).unwrap().to_path_buf();
                        let bytes = std::fs::read(&path).unwrap();
                        files.push((rel, bytes, meta.mode(), meta.nlink(), meta.ino()));
                    }
                }
            }
            files.sort();
            files
        };
        let before = snapshot(src.path());
        assert_eq!(before.len(), n);

        let dst = tempfile::tempdir().unwrap();
        let out = dst.path().join("copy");
        let mut skipped = Vec::new();
        copy_tree(src.path(), &out, &[], &mut skipped).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        let copied = snapshot(&out);
        assert_eq!(copied.len(), n);
        for (s, c) in before.iter().zip(&copied) {
            assert_eq!((&s.0, &s.1), (&c.0, &c.1), "content of {}", s.0.display());
            let normal = if s.2 & 0o111 != 0 { 0o755 } else { 0o644 };
            assert_eq!(c.2 & 0o7777, normal, "mode of {}", c.0.display());
            assert_eq!(c.3, 1, "{} is a hard link", c.0.display());
            assert_ne!(s.4, c.4, "{} shares its inode", c.0.display());
        }

        // Patch every staged file, in place and by replacement.
        for (i, c) in copied.iter().enumerate() {
            let path = out.join(&c.0);
            if i % 2 == 0 {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                std::io::Write::write_all(&mut f, b"patched\n").unwrap();
            } else {
                std::fs::write(&path, b"replaced\n").unwrap();
            }
        }
        assert_eq!(snapshot(src.path()), before);
    }

    #[cfg(unix)]
    #[test]
    fn copy_tree_never_follows_links_out() {
        let src = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::fs::create_dir(src.path().join("src")).unwrap();
        std::fs::write(src.path().join("src/lib.rs"), "x").unwrap();
        std::fs::write(src.path().join(".cargo-ok"), "").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), src.path().join("leak")).unwrap();
        std::os::unix::fs::symlink(outside.path(), src.path().join("leakdir")).unwrap();
        std::os::unix::fs::symlink("src/lib.rs", src.path().join("alias.rs")).unwrap();
        let dst = tempfile::tempdir().unwrap();
        let out = dst.path().join("copy");
        let mut skipped = Vec::new();
        copy_tree(src.path(), &out, &[".cargo-ok"], &mut skipped).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("alias.rs")).unwrap(), "x");
        assert!(!out.join("leak").exists() && !out.join("leakdir").exists());
        assert!(!out.join(".cargo-ok").exists());
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(!std::fs::symlink_metadata(out.join("alias.rs"))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
