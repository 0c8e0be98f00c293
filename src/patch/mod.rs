//! The patch engine: parse patch files and apply them to a directory, all or
//! nothing, the way GNU patch does at fuzz 0.
//!
//! - [`load_patch_list`] turns the user's list (files, directories, quilt
//!   `series` files) into [`PatchFile`]s, in order.
//! - [`apply_to_dir`] applies them to a directory: every change is computed
//!   in memory first, and the directory is written only when every hunk of
//!   every patch applies.
//! - [`apply_in_memory`] computes the same changes and writes nothing: every
//!   created, changed or deleted file, with its new bytes.
//!
//! ```no_run
//! use std::path::{Path, PathBuf};
//! use build_patch::patch::{apply_to_dir, load_patch_list, ApplyOptions};
//!
//! # fn main() -> Result<(), build_patch::patch::PatchError> {
//! let shim = Path::new("shim");
//! let (patches, read) = load_patch_list(shim, &[PathBuf::from("patches")])?;
//! for path in &read {
//!     println!("cargo::rerun-if-changed={}", path.display());
//! }
//! let applied = apply_to_dir(Path::new("staged"), &patches, &ApplyOptions::new())?;
//! for warning in applied.warnings() {
//!     println!("cargo::warning={warning}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Unified diffs are understood in all the usual flavours (`diff -u`, git
//! diffs with renames, copies, modes, creations and deletions, `git
//! format-patch` mails, quilt and Debian DEP-3 patches). Hunks are placed as
//! GNU patch places them: at the line they name, or at the nearest offset
//! where their context matches exactly; fuzz is opt-in with
//! [`ApplyOptions::fuzz`].
//!
//! Names in patches are untrusted: a name that could reach outside the
//! directory (`..`, absolute, drive letters, backslashes, `.git`) is refused,
//! and nothing is read or written through a symbolic link.
//!
//! The reference is GNU patch 2.7.6 (`patch -p1 -F0`): same decision to
//! apply or not, same bytes when applied, tested differentially and on
//! Debian's patches for Rust crates (`docs/conformance.md`). Where GNU patch
//! would go on, this engine refuses: a rename or copy onto an existing file,
//! an empty patch file, binary patches, body lines past a hunk's counts, any
//! hunk that fails (GNU patch writes the rest and a `.rej` file).
//!
//! Codemap (pure functions on bytes, then one thin filesystem layer):
//!
//! - `parse.rs`: patch bytes to per-file changes and hunks; refuses other
//!   formats.
//! - `apply.rs`: one file's old bytes plus hunks to new bytes; GNU patch's
//!   hunk placement, fuzz, closest-match search for errors; bounded work.
//! - `paths.rs`: a name from a patch to a safe relative path, or a refusal.
//! - `fs.rs`: the in-memory overlay over the directory, and the writer of
//!   its changes; the only code that reads or writes the directory, and it
//!   writes only after every patch has applied. Its temporary-file writer is
//!   also the rest of the crate's.
//! - `series.rs`: expanding files, directories and quilt `series` files.
//! - `header.rs`: the text before the first diff, and its DEP-3 fields.
//! - `error.rs`: [`PatchError`], its [`PatchErrorKind`] and its message.
//!
//! The engine is self-contained: nothing here uses the rest of the crate
//! (whose `Error` wraps a [`PatchError`]). It runs unoptimised in build
//! scripts, so its code prefers plain loops and matches to iterator chains,
//! closures and maps, which compile to many more functions.
//! - this file: the public API, and the rules for creating, deleting,
//!   renaming and copying files.

mod apply;
mod error;
mod fs;
pub mod header;
mod parse;
mod paths;
mod series;

use std::path::{Path, PathBuf};

pub use error::{PatchError, PatchErrorKind};
pub(crate) use fs::write_through_temporary;
pub(crate) use parse::{find_byte, first_word, trim_whitespace};

use apply::Failure;
use error::{HunkDetail, Kind};
use fs::{FileState, Overlay};
use parse::{FilePatch, GitHeader, HeaderName, Hunk, ParseErrorKind};

/// How patches are applied.
///
/// The default strips one leading path component (`-p1`, as for `a/` and
/// `b/` prefixes) and allows no fuzz.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    strip: usize,
    fuzz: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { strip: 1, fuzz: 0 }
    }
}

impl ApplyOptions {
    /// The default options: strip 1, fuzz 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Leading path components to strip from names in the patches, like
    /// `patch -pN`. A [`PatchFile::strip`] overrides it for one file.
    pub fn strip(&mut self, n: usize) -> &mut Self {
        self.strip = n;
        self
    }

    /// Context lines that may be ignored at each end of a hunk to make it
    /// match, like `patch -F N`. Every position is tried without fuzz first.
    pub fn fuzz(&mut self, n: usize) -> &mut Self {
        self.fuzz = n;
        self
    }
}

/// One patch file to apply, in order.
#[derive(Debug, Clone)]
pub struct PatchFile {
    /// How errors name the patch, e.g. `patches/fix.patch`, relative to the
    /// shim.
    pub display: String,
    /// The patch's bytes.
    pub bytes: Vec<u8>,
    /// A strip level for this patch only (from a quilt series `-pN`),
    /// overriding [`ApplyOptions::strip`].
    pub strip: Option<usize>,
}

/// Expands the user's list of patches.
///
/// Each entry is resolved against `base` when relative:
///
/// - a file is itself;
/// - a directory contributes its `*.patch` and `*.diff` files in byte-wise
///   name order, or, if it contains a `series` file, that series;
/// - a file named `series` is a quilt series: one patch per line, relative to
///   the series file's directory, `#` comments, blank lines skipped, and an
///   optional `-pN` per line.
///
/// Returns the patches in order, and every path that was read (files and the
/// directories listed), for `cargo::rerun-if-changed`. Each
/// [`PatchFile::display`] is its path relative to `base`.
pub fn load_patch_list(
    base: &Path,
    entries: &[PathBuf],
) -> Result<(Vec<PatchFile>, Vec<PathBuf>), PatchError> {
    series::load(base, entries)
}

/// Where one hunk was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkReport {
    file: String,
    number: usize,
    line: usize,
    offset: isize,
    fuzz: usize,
}

impl HunkReport {
    /// The file the hunk changed, relative to the directory.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The hunk's 1-based number within its file's part of the patch.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The 1-based line of the file (before this patch) where the hunk's
    /// first line was found.
    pub fn line(&self) -> usize {
        self.line
    }

    /// How many lines away from where the hunk said (after the offset of
    /// earlier hunks in the same file) it was found; 0 for an exact fit.
    pub fn offset(&self) -> isize {
        self.offset
    }

    /// Context lines ignored to make it fit; 0 unless fuzz was allowed.
    pub fn fuzz(&self) -> usize {
        self.fuzz
    }
}

/// What one patch file did.
#[derive(Debug, Clone)]
pub struct PatchReport {
    display: String,
    hunks: Vec<HunkReport>,
}

impl PatchReport {
    /// The patch, as [`PatchFile::display`] names it.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Every hunk of the patch, in order, with where it was applied.
    pub fn hunks(&self) -> &[HunkReport] {
        &self.hunks
    }
}

/// The outcome of [`apply_to_dir`] (and part of [`apply_in_memory`]'s):
/// which files changed and where each hunk was applied.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    patches: Vec<PatchReport>,
    created: Vec<PathBuf>,
    changed: Vec<PathBuf>,
    deleted: Vec<PathBuf>,
}

impl Applied {
    /// One report per patch file, in the order applied.
    pub fn patches(&self) -> &[PatchReport] {
        &self.patches
    }

    /// Files that did not exist and now do, relative to the directory.
    pub fn created(&self) -> &[PathBuf] {
        &self.created
    }

    /// Files whose content or executable bit changed.
    pub fn changed(&self) -> &[PathBuf] {
        &self.changed
    }

    /// Files that were deleted.
    pub fn deleted(&self) -> &[PathBuf] {
        &self.deleted
    }

    /// One line per hunk that did not apply exactly where it said, e.g.
    /// ``hunk #2 of `patches/fix.patch` applied to `src/lib.rs` at offset 3
    /// (line 43)``, for a build script to show as warnings.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.patches {
            for h in &p.hunks {
                if h.offset == 0 && h.fuzz == 0 {
                    continue;
                }
                let mut s = format!(
                    "hunk #{} of `{}` applied to `{}`",
                    h.number, p.display, h.file
                );
                if h.offset != 0 {
                    s += &format!(" at offset {}", h.offset);
                }
                if h.fuzz != 0 {
                    s += &format!(" with fuzz {}", h.fuzz);
                }
                s += &format!(" (line {})", h.line);
                out.push(s);
            }
        }
        out
    }
}

/// A file as the patches leave it: created, changed or deleted. Part of
/// [`Changes`], from [`apply_in_memory`].
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq))]
pub struct ChangedFile {
    path: String,
    bytes: Option<Vec<u8>>,
    executable: bool,
    /// Whether the bytes differ from the file's on disk (false when only the
    /// executable bit changed): the writer leaves such a file's content,
    /// and its mtime, alone.
    content_changed: bool,
}

impl ChangedFile {
    /// The file, relative to the directory, with `/` between components on
    /// every platform (as [`HunkReport::file`] names it).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's new content, or `None` when the patches delete it.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.bytes.as_deref()
    }

    /// The file's new content, taken out, or `None` when it is deleted.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        self.bytes
    }

    /// Whether the file is to be executable (false for a deleted file).
    pub fn executable(&self) -> bool {
        self.executable
    }
}

/// The outcome of [`apply_in_memory`]: what [`apply_to_dir`] would write,
/// and the reports it would return.
#[derive(Debug, Clone)]
pub struct Changes {
    applied: Applied,
    files: Vec<ChangedFile>,
}

impl Changes {
    /// The reports: where each hunk was applied, and which files are
    /// created, changed and deleted, as [`apply_to_dir`] returns them.
    pub fn applied(&self) -> &Applied {
        &self.applied
    }

    /// Every file created, changed (content or executable bit) or deleted,
    /// in byte-wise path order.
    pub fn files(&self) -> &[ChangedFile] {
        &self.files
    }

    /// The reports and the files, taken apart.
    pub fn into_parts(self) -> (Applied, Vec<ChangedFile>) {
        (self.applied, self.files)
    }

    /// Writes the files to `dir`, the directory [`apply_in_memory`] read (or
    /// an unchanged copy of it): the one write [`apply_to_dir`] does after
    /// computing everything in memory, so applying in memory and then
    /// writing is exactly `apply_to_dir`, and nothing is computed twice.
    ///
    /// Deletions come first, then files in path order; directories are
    /// created as needed and removed when a deletion leaves them empty.
    /// Nothing is written through a symbolic link, and a file whose content
    /// is unchanged (only its executable bit changes) keeps its bytes and
    /// mtime. A failure here is an I/O failure ([`PatchErrorKind::Io`]) or a
    /// path that is no longer a regular file or directory.
    ///
    /// ```
    /// use build_patch::patch::{apply_in_memory, ApplyOptions, PatchFile};
    ///
    /// let dir = std::env::temp_dir().join(format!("bp-doc-write-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("hello.txt"), "hello\nworld\n").unwrap();
    ///
    /// let patch = PatchFile {
    ///     display: "greet.patch".to_string(),
    ///     bytes: b"--- a/hello.txt\n+++ b/hello.txt\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"
    ///         .to_vec(),
    ///     strip: None,
    /// };
    /// let changes = apply_in_memory(&dir, &[patch], &ApplyOptions::new()).unwrap();
    /// changes.write_to(&dir).unwrap();
    /// assert_eq!(std::fs::read_to_string(dir.join("hello.txt")).unwrap(), "hello\nthere\n");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn write_to(&self, dir: &Path) -> Result<(), PatchError> {
        fs::write(dir, &self.files)
    }
}

/// Applies `patches` in order to the directory `dir` in memory, writing
/// nothing: returns every file as the patches leave it, and the reports.
///
/// The same engine as [`apply_to_dir`] (which is this, then a write), with
/// the same checks: an error here is the error `apply_to_dir` would return,
/// and the files are the bytes it would write. The directory is only read.
///
/// ```
/// use build_patch::patch::{apply_in_memory, ApplyOptions, PatchFile};
///
/// let dir = std::env::temp_dir().join(format!("bp-doc-memory-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("hello.txt"), "hello\nworld\n").unwrap();
///
/// let patch = PatchFile {
///     display: "greet.patch".to_string(),
///     bytes: b"--- a/hello.txt\n+++ b/hello.txt\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"
///         .to_vec(),
///     strip: None,
/// };
/// let changes = apply_in_memory(&dir, &[patch], &ApplyOptions::new()).unwrap();
/// let file = &changes.files()[0];
/// assert_eq!((file.path(), file.bytes()), ("hello.txt", Some(&b"hello\nthere\n"[..])));
/// assert_eq!(changes.applied().patches()[0].hunks()[0].line(), 1);
/// // The directory is as it was.
/// assert_eq!(std::fs::read_to_string(dir.join("hello.txt")).unwrap(), "hello\nworld\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn apply_in_memory(
    dir: &Path,
    patches: &[PatchFile],
    options: &ApplyOptions,
) -> Result<Changes, PatchError> {
    let mut overlay = Overlay::new(dir);
    let mut budget = apply::WORK_BUDGET;
    let mut reports = Vec::with_capacity(patches.len());
    for patch in patches {
        match apply_patch(&mut overlay, patch, options, &mut budget) {
            Ok(report) => reports.push(report),
            Err(e) => return Err(e.with_patch(&patch.display)),
        }
    }
    let mut changes = overlay.finish();
    changes.applied.patches = reports;
    Ok(changes)
}

/// Applies `patches` in order to the directory `dir`, all or nothing.
///
/// Every change is computed in memory first ([`apply_in_memory`]), with
/// later patches seeing what earlier ones did; the directory is written only
/// if every hunk of every patch applies. Nothing outside `dir` is read or
/// written, nothing is read or written through a symbolic link, and only
/// regular files and directories are touched. On error the directory is
/// unchanged.
/// ```
/// use build_patch::patch::{apply_to_dir, ApplyOptions, PatchErrorKind, PatchFile};
///
/// let dir = std::env::temp_dir().join(format!("bp-doc-apply-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("hello.txt"), "hello\nworld\n").unwrap();
///
/// let patch = PatchFile {
///     display: "greet.patch".to_string(),
///     bytes: b"--- a/hello.txt\n+++ b/hello.txt\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"
///         .to_vec(),
///     strip: None,
/// };
/// let applied = apply_to_dir(&dir, &[patch.clone()], &ApplyOptions::new()).unwrap();
/// assert_eq!(std::fs::read_to_string(dir.join("hello.txt")).unwrap(), "hello\nthere\n");
/// assert_eq!(applied.changed(), [std::path::PathBuf::from("hello.txt")]);
/// assert_eq!(applied.patches()[0].hunks()[0].line(), 1);
///
/// // Applied twice, the patch is recognised as already there, and nothing changes.
/// let err = apply_to_dir(&dir, &[patch], &ApplyOptions::new()).unwrap_err();
/// assert_eq!(err.kind(), PatchErrorKind::AlreadyApplied);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn apply_to_dir(
    dir: &Path,
    patches: &[PatchFile],
    opts: &ApplyOptions,
) -> Result<Applied, PatchError> {
    let changes = apply_in_memory(dir, patches, opts)?;
    changes.write_to(dir)?;
    Ok(changes.applied)
}

fn apply_patch(
    overlay: &mut Overlay<'_>,
    patch: &PatchFile,
    opts: &ApplyOptions,
    budget: &mut u64,
) -> Result<PatchReport, PatchError> {
    let parsed = match parse::parse(&patch.bytes) {
        Ok(parsed) => parsed,
        Err(e) => return Err(parse_error(e, &patch.bytes)),
    };
    let strip = patch.strip.unwrap_or(opts.strip);
    let mut report = PatchReport {
        display: patch.display.clone(),
        hunks: Vec::new(),
    };
    for fp in &parsed.files {
        let level = Level {
            strip,
            from_series: patch.strip.is_some(),
        };
        if let Err(e) = apply_file(overlay, fp, level, opts.fuzz, budget, &mut report) {
            return Err(if e.patch_line().is_none() {
                e.with_line(fp.line)
            } else {
                e
            });
        }
    }
    Ok(report)
}

fn parse_error(e: parse::ParseError, bytes: &[u8]) -> PatchError {
    let kind = match e.kind {
        ParseErrorKind::NotAPatch => Kind::NotAPatch,
        ParseErrorKind::Unsupported => Kind::Unsupported,
        ParseErrorKind::Malformed => Kind::Malformed,
    };
    let err = PatchError::new(kind, e.message).with_line(e.line);
    if e.kind != ParseErrorKind::NotAPatch {
        return err;
    }
    let mut blank = true;
    for b in bytes {
        blank &= b.is_ascii_whitespace();
    }
    err.with_help(if blank {
        "the file is empty; remove it from the patch list"
    } else {
        "check that the file is a unified diff (`diff -u` or `git diff` output)"
    })
}

/// What a file patch does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Modify,
    Create,
    Delete,
    Rename,
    Copy,
}

/// What a file patch does, with its names resolved and checked: `target`
/// is the file changed, created or deleted, or the new name of a rename or
/// copy, whose old name is `source` (empty otherwise).
struct Op {
    kind: OpKind,
    source: String,
    target: String,
}

fn op(kind: OpKind, target: String) -> Op {
    Op {
        kind,
        source: String::new(),
        target,
    }
}

fn checked(name: &[u8], strip: usize) -> Result<String, PatchError> {
    match paths::safe_path(name, strip) {
        Ok(p) => Ok(p),
        Err(u) => Err(PatchError::new(
            Kind::UnsafePath,
            format!("unsafe file name `{}`: {}", u.name, u.reason),
        )
        .with_help("build-patch only changes files inside the crate; fix the file names in the patch (or the strip level)")),
    }
}

/// A `---`/`+++` name that is not `/dev/null`.
fn real_name(name: &Option<HeaderName>) -> Option<&[u8]> {
    match name {
        Some(n) if !n.dev_null => Some(&n.raw),
        _ => None,
    }
}

fn is_dev_null(name: &Option<HeaderName>) -> bool {
    matches!(name, Some(n) if n.dev_null)
}

/// The operation `kind` on `name`, checked; a git diff may give no name
/// for a side, which is an error when that side is needed. (One function
/// for both checks: each `?` of a caller compiles to several blocks.)
fn checked_op(kind: OpKind, name: Option<&[u8]>, strip: usize) -> Result<Op, PatchError> {
    let Some(name) = name else {
        return Err(PatchError::new(
            Kind::Malformed,
            "the `diff --git` line names no file that can be told apart",
        ));
    };
    match checked(name, strip) {
        Ok(target) => Ok(op(kind, target)),
        Err(e) => Err(e),
    }
}

fn resolve_git(fp: &FilePatch, g: &GitHeader, strip: usize) -> Result<Op, PatchError> {
    // `rename from`/`copy from` names carry no `a/` prefix.
    let bare = strip.saturating_sub(1);
    let (kind, from, to) = match (&g.rename_from, &g.rename_to, &g.copy_from, &g.copy_to) {
        (Some(f), Some(t), _, _) => (OpKind::Rename, f, t),
        (_, _, Some(f), Some(t)) => (OpKind::Copy, f, t),
        _ => {
            let old = match real_name(&fp.old) {
                Some(n) => Some(n),
                None => g.a.as_deref(),
            };
            let new = match real_name(&fp.new) {
                Some(n) => Some(n),
                None => g.b.as_deref(),
            };
            if g.new_file_mode.is_some() || is_dev_null(&fp.old) {
                return checked_op(OpKind::Create, new, strip);
            }
            if g.deleted_file_mode.is_some() || is_dev_null(&fp.new) {
                return checked_op(OpKind::Delete, old, strip);
            }
            // Between two names without a rename header, GNU patch patches
            // the old name; so do we. The new name must still be safe.
            let modify = checked_op(OpKind::Modify, old, strip)?;
            checked_op(OpKind::Modify, new, strip)?;
            return Ok(modify);
        }
    };
    let source = checked(from, bare)?;
    Ok(Op {
        kind,
        source,
        target: checked(to, bare)?,
    })
}

/// Whether GNU patch prefers the name `a` to `b` for a file: fewer
/// components, then a shorter base name, then a shorter name.
fn preferred(a: &str, b: &str) -> bool {
    let (a, b) = (name_key(a), name_key(b));
    let mut i = 0;
    while i < 3 {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    false
}

/// A name's components, base name length and length.
fn name_key(p: &str) -> [usize; 3] {
    let bytes = p.as_bytes();
    let (mut components, mut base) = (1, bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' {
            components += 1;
            base = bytes.len() - i - 1;
        }
        i += 1;
    }
    [components, base, bytes.len()]
}

fn resolve(overlay: &mut Overlay<'_>, fp: &FilePatch, strip: usize) -> Result<Op, PatchError> {
    if let Some(g) = &fp.git {
        return resolve_git(fp, g, strip);
    }
    let (Some(old), Some(new)) = (&fp.old, &fp.new) else {
        return Err(PatchError::new(
            Kind::Malformed,
            "file header without names",
        ));
    };
    let mut no_old_lines = true;
    let mut no_new_lines = true;
    for h in &fp.hunks {
        no_old_lines &= h.old_count == 0;
        no_new_lines &= h.new_count == 0;
    }
    let creates = old.dev_null || (old.epoch && no_old_lines);
    let deletes = new.dev_null || (new.epoch && no_new_lines);
    if creates && deletes {
        return Err(PatchError::new(
            Kind::Malformed,
            "the diff has no file on either side",
        ));
    }
    if creates {
        return checked_op(OpKind::Create, Some(&new.raw), strip);
    }
    if deletes {
        return checked_op(OpKind::Delete, Some(&old.raw), strip);
    }
    let old_p = checked(&old.raw, strip)?;
    let new_p = checked(&new.raw, strip)?;
    // As GNU patch: among the names that exist, the one with the fewest
    // components, then the shortest base name, then the shortest name (the
    // old one on a tie). Like GNU patch, a quilt `Index:` name is not used
    // when `---`/`+++` name files.
    let old_exists = overlay.get(&old_p)?.is_some();
    let new_exists = overlay.get(&new_p)?.is_some();
    if new_exists && (!old_exists || preferred(&new_p, &old_p)) {
        return Ok(op(OpKind::Modify, new_p));
    }
    if !old_exists && no_old_lines {
        // Only additions, to a file that does not exist: GNU patch creates it.
        return Ok(op(OpKind::Create, new_p));
    }
    Ok(op(OpKind::Modify, old_p))
}

/// For a patch whose file is missing: another strip level (0 to 3) under
/// which one of its names exists, and that name.
fn strip_hint(overlay: &mut Overlay<'_>, fp: &FilePatch, strip: usize) -> Option<(usize, String)> {
    let mut names: Vec<&[u8]> = Vec::new();
    if let Some(n) = real_name(&fp.old) {
        names.push(n);
    }
    if let Some(n) = real_name(&fp.new) {
        names.push(n);
    }
    if let Some(g) = &fp.git {
        if let Some(a) = &g.a {
            names.push(a);
        }
        if let Some(b) = &g.b {
            names.push(b);
        }
    }
    for n in 0..4 {
        if n == strip {
            continue;
        }
        for name in &names {
            if let Ok(p) = paths::safe_path(name, n) {
                if let Ok(Some(_)) = overlay.get(&p) {
                    return Some((n, p));
                }
            }
        }
    }
    None
}

/// The strip level a patch is applied at, and whether its quilt series gave
/// it (`-pN`), for the hint when it is the wrong one.
#[derive(Clone, Copy)]
struct Level {
    strip: usize,
    from_series: bool,
}

/// The help for a patch whose names exist only at another strip level, or
/// `None` when none makes them exist.
fn strip_help(overlay: &mut Overlay<'_>, fp: &FilePatch, level: Level) -> Option<String> {
    let (n, name) = strip_hint(overlay, fp, level.strip)?;
    let how = if level.from_series {
        format!(
            "change its `-p{}` to `-p{n}` in the quilt series",
            level.strip
        )
    } else {
        format!(
            "set `strip = {n}` in `[package.metadata.build-patch]` (for every patch of the \
             shim), or write `-p{n}` after its name in a quilt series (for this one)"
        )
    };
    Some(format!(
        "`{name}` exists: this patch needs strip level {n}, not {}: {how}",
        level.strip
    ))
}

/// [`strip_help`], or `otherwise`.
fn strip_help_or(
    overlay: &mut Overlay<'_>,
    fp: &FilePatch,
    level: Level,
    otherwise: &str,
) -> String {
    match strip_help(overlay, fp, level) {
        Some(help) => help,
        None => otherwise.to_string(),
    }
}

/// Whether a git mode is executable; `otherwise` without one.
fn exec_bit(mode: Option<u32>, otherwise: bool) -> bool {
    match mode {
        Some(m) => m & 0o111 != 0,
        None => otherwise,
    }
}

/// An error about the file `target`, with what to do (`help`, unless
/// empty).
fn refusal(kind: Kind, reason: &str, target: &str, help: &str) -> PatchError {
    let e = PatchError::new(kind, reason).with_target(target);
    if help.is_empty() {
        e
    } else {
        e.with_help(help)
    }
}

const REFRESH: &str = "refresh the patch against this version of the crate";
const ALREADY_THERE: &str =
    "the crate already contains this change; remove this patch from the list";

fn apply_file(
    overlay: &mut Overlay<'_>,
    fp: &FilePatch,
    level: Level,
    fuzz: usize,
    budget: &mut u64,
    report: &mut PatchReport,
) -> Result<(), PatchError> {
    let op = match resolve(overlay, fp, level.strip) {
        Ok(op) => op,
        // A name with fewer components than the strip level, say.
        Err(e) if e.kind() == Kind::UnsafePath => {
            return Err(match strip_help(overlay, fp, level) {
                Some(help) => e.with_help(help),
                None => e,
            })
        }
        Err(e) => return Err(e),
    };
    let t = op.target.as_str();
    let hunks = &fp.hunks;
    let (new_mode, new_file_mode) = match &fp.git {
        Some(g) => (g.new_mode, g.new_file_mode),
        None => (None, None),
    };
    match op.kind {
        OpKind::Create => {
            let cur = overlay.get(t)?;
            let bytes = run_hunks(b"", hunks, false, t, fuzz, budget, report)?;
            match cur {
                Some(c) if !c.bytes.is_empty() => Err(if c.bytes == bytes {
                    refusal(
                        Kind::AlreadyApplied,
                        "the file it creates already exists with the same content",
                        t,
                        ALREADY_THERE,
                    )
                } else {
                    refusal(
                        Kind::FileExists,
                        "the patch creates the file, but it already exists",
                        t,
                        REFRESH,
                    )
                }),
                _ => {
                    let exec = exec_bit(new_file_mode, false);
                    overlay.set(t, Some(FileState { bytes, exec }))
                }
            }
        }
        OpKind::Delete => {
            let Some(cur) = overlay.get(t)? else {
                let help = strip_help_or(
                    overlay,
                    fp,
                    level,
                    "if the crate no longer has this file, remove the patch from the list",
                );
                return Err(refusal(
                    Kind::MissingFile,
                    "the patch deletes the file, but it does not exist",
                    t,
                    &help,
                ));
            };
            let reason = match run_hunks(&cur.bytes, hunks, false, t, fuzz, budget, report) {
                Ok(rest) if rest.is_empty() => return overlay.set(t, None),
                Ok(_) => "the patch deletes the file, but the file has content the patch does not remove",
                Err(e) if e.kind() == Kind::HunkFailed => "the patch deletes the file, but its content differs from what the patch removes",
                Err(e) => return Err(e),
            };
            Err(refusal(Kind::DeleteMismatch, reason, t, REFRESH))
        }
        // Modify, rename, copy: the source's bytes, patched, at `t`.
        kind => {
            let moves = kind != OpKind::Modify;
            let from = if moves { op.source.as_str() } else { t };
            if moves && from == t {
                return Err(refusal(
                    Kind::Malformed,
                    "renames or copies a file onto itself",
                    t,
                    "",
                ));
            }
            let Some(cur) = overlay.get(from)? else {
                return Err(if moves {
                    refusal(
                        Kind::MissingFile,
                        "the file to rename or copy from does not exist",
                        from,
                        "",
                    )
                } else {
                    let help = strip_help_or(
                        overlay,
                        fp,
                        level,
                        "check the strip level and that the patch was made against this crate",
                    );
                    refusal(Kind::MissingFile, "the file does not exist", t, &help)
                });
            };
            if moves && overlay.get(t)?.is_some() {
                return Err(refusal(
                    Kind::FileExists,
                    "the patch renames or copies a file to this name, but it already exists",
                    t,
                    "",
                ));
            }
            let bytes = run_hunks(&cur.bytes, hunks, true, t, fuzz, budget, report)?;
            if kind == OpKind::Rename {
                overlay.set(from, None)?;
            }
            let exec = exec_bit(new_mode, cur.exec);
            overlay.set(t, Some(FileState { bytes, exec }))
        }
    }
}

/// Applies the hunks to one file's bytes, recording where they went, or
/// explains why not (including when the patch is already applied).
fn run_hunks(
    old: &[u8],
    hunks: &[Hunk],
    detect_applied: bool,
    target: &str,
    fuzz: usize,
    budget: &mut u64,
    report: &mut PatchReport,
) -> Result<Vec<u8>, PatchError> {
    let text = apply::Text::new(old);
    match apply::apply_hunks(&text, hunks, false, fuzz, budget) {
        Ok((bytes, places)) => {
            let mut i = 0;
            while i < places.len() {
                let p = places[i];
                i += 1;
                report.hunks.push(HunkReport {
                    file: target.to_string(),
                    number: i,
                    line: p.line,
                    offset: p.offset,
                    fuzz: p.fuzz,
                });
            }
            Ok(bytes)
        }
        Err(failure) => {
            // Reversed, a hunk that adds nothing would match anywhere; only
            // a patch whose every hunk adds lines can be recognised.
            let mut recognisable = !hunks.is_empty();
            for h in hunks {
                recognisable &= h.new_count > 0;
            }
            if detect_applied
                && recognisable
                && apply::apply_hunks(&text, hunks, true, 0, budget).is_ok()
            {
                return Err(PatchError::new(
                    Kind::AlreadyApplied,
                    "every hunk matches the file as it is after the change",
                )
                .with_target(target)
                .with_help(
                    "the crate already contains this change; remove this patch from the list",
                ));
            }
            Err(hunk_error(failure, hunks, target, fuzz))
        }
    }
}

fn hunk_error(failure: Failure, hunks: &[Hunk], target: &str, fuzz: usize) -> PatchError {
    let fuzz_help = if fuzz == 0 {
        "refresh the patch against this version of the crate, or allow fuzz with `fuzz = 2` in [package.metadata.build-patch]"
    } else {
        "refresh the patch against this version of the crate"
    };
    match failure {
        Failure::NoMatch(m) => {
            let m = *m;
            let hunk = m.hunk;
            let h = &hunks[hunk];
            let searched = searched_text(hunks, hunk, fuzz);
            let e = PatchError::new(Kind::HunkFailed, "no match")
                .with_target(target)
                .with_line(h.line)
                .with_hunk(HunkDetail {
                    number: hunk + 1,
                    header: h.header.clone(),
                    expected_line: m.expected_line,
                    expected: m.expected,
                    searched,
                    closest: m.closest,
                });
            if m.line_endings_differ {
                e.with_help("the patch and the file use different line endings (CRLF vs LF); regenerate the patch from the file as it is")
            } else if let Some((f, line)) = m.fits_with {
                e.with_help(format!("refresh the patch against this version of the crate, or allow fuzz with `fuzz = {f}` in [package.metadata.build-patch] (this hunk would then apply at line {line})"))
            } else if fuzz < apply::MAX_SUGGESTED_FUZZ {
                e.with_help(format!("refresh the patch against this version of the crate (fuzz up to {} would not make this hunk apply)", apply::MAX_SUGGESTED_FUZZ))
            } else {
                e.with_help(fuzz_help)
            }
        }
        Failure::Reversed { hunk, line } => PatchError::new(
            Kind::AlreadyApplied,
            format!(
                "hunk #{} does not match, but matches reversed at line {line}: the change it makes seems already there",
                hunk + 1
            ),
        )
        .with_target(target)
        .with_line(hunks[hunk].line)
        .with_help("if the crate already contains this change, remove this patch from the list; otherwise refresh the patch against this version of the crate"),
        Failure::Misordered { hunk, line } => PatchError::new(
            Kind::HunkFailed,
            format!(
                "hunk #{} only matches at line {line}, before the changes of the hunk before it",
                hunk + 1
            ),
        )
        .with_target(target)
        .with_line(hunks[hunk].line)
        .with_help(fuzz_help),
        Failure::TooExpensive { hunk } => PatchError::new(
            Kind::TooExpensive,
            format!(
                "gave up placing hunk #{}: the patch needs more matching work than any real patch does",
                hunk + 1
            ),
        )
        .with_target(target)
        .with_line(hunks[hunk].line),
    }
}

fn searched_text(hunks: &[Hunk], index: usize, fuzz: usize) -> String {
    let h = &hunks[index];
    let lines = &h.lines;
    let mut lead = 0;
    while lead < lines.len() && lines[lead].kind == parse::LineKind::Context {
        lead += 1;
    }
    let mut trail = 0;
    while trail < lines.len() && lines[lines.len() - 1 - trail].kind == parse::LineKind::Context {
        trail += 1;
    }
    let mut s = String::new();
    if lead + fuzz < trail && h.old_start <= 1 {
        s.push_str("the hunk starts the file, so it must match there; ");
    } else if trail + fuzz < lead {
        s.push_str("the hunk ends the file, so it must match there; ");
    } else if index > 0 {
        s.push_str("searched the file after hunk #");
        s.push_str(&index.to_string());
        s.push_str(", ");
    } else {
        s.push_str("searched the whole file, ");
    }
    if fuzz == 0 {
        s.push_str("no exact match");
    } else {
        s.push_str("no match with fuzz up to ");
        s.push_str(&fuzz.to_string());
    }
    s
}

#[cfg(test)]
mod tests;
