//! The patch engine's error: structured fields, and a `Display` a person
//! can act on (lowercase, no trailing period, paths in backticks).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::apply::Closest;

/// A patch that could not be read, parsed or applied.
///
/// The `Display` text is the full message a person reads: which patch file,
/// which target file, which hunk, the lines expected and the closest lines
/// found, and what to do. The accessors give the same facts to programs.
///
/// ```
/// use build_patch::patch::{apply_to_dir, ApplyOptions, PatchErrorKind, PatchFile};
///
/// let dir = std::env::temp_dir().join(format!("bp-doc-error-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.txt"), "one\ntwo\nthree\n").unwrap();
/// let patch = PatchFile {
///     display: "fix.patch".to_string(),
///     bytes: b"--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-TWO\n+2\n three\n".to_vec(),
///     strip: None,
/// };
/// let err = apply_to_dir(&dir, &[patch], &ApplyOptions::new()).unwrap_err();
/// let e = &err;
/// assert_eq!(e.kind(), PatchErrorKind::HunkFailed);
/// assert_eq!(e.kind_name(), "hunk-failed");
/// assert_eq!((e.patch_file(), e.target(), e.hunk_number()), (Some("fix.patch"), Some("a.txt"), Some(1)));
/// assert_eq!(e.closest_lines(), [&b"one\n"[..], b"two\n", b"three\n"]); // with their line breaks
/// assert!(err.to_string().starts_with("patch `fix.patch` does not apply to `a.txt`: hunk #1 failed"));
/// // The file is as it was.
/// assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "one\ntwo\nthree\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct PatchError {
    inner: Box<Inner>,
}

/// What kind of failure a [`PatchError`] is, for programs to act on (the
/// `Display` text is for people). New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatchErrorKind {
    /// The file is not a patch (no diff in it, or it is empty).
    NotAPatch,
    /// A patch this engine refuses: binary, or a format it does not take.
    Unsupported,
    /// The patch is damaged: counts, headers or names that do not add up.
    Malformed,
    /// A name in the patch could reach outside the directory.
    UnsafePath,
    /// A hunk does not apply.
    HunkFailed,
    /// The change the patch makes is already there.
    AlreadyApplied,
    /// A file the patch changes, deletes, renames or copies does not exist.
    MissingFile,
    /// A file the patch creates, or renames or copies to, already exists.
    FileExists,
    /// The patch deletes a file whose content is not what it removes.
    DeleteMismatch,
    /// The path goes through a symbolic link.
    Symlink,
    /// The path is not a regular file (a device, socket or pipe).
    SpecialFile,
    /// A file is where a directory must be, or the other way round.
    Conflict,
    /// Placing a hunk needs more work than any real patch does.
    TooExpensive,
    /// A quilt `series` file, or a listed directory, is wrong.
    Series,
    /// Reading or writing a file or directory failed; [`PatchError::path`]
    /// says which and [`std::error::Error::source`] gives the
    /// [`io::Error`].
    Io,
}

pub(crate) use PatchErrorKind as Kind;

struct Inner {
    kind: Kind,
    patch: Option<String>,
    target: Option<String>,
    patch_line: Option<usize>,
    reason: String,
    hunk: Option<HunkDetail>,
    help: Option<String>,
    /// For [`Kind::Io`]: the path on disk, and what the system said.
    path: Option<PathBuf>,
    source: Option<io::Error>,
}

/// What a failed hunk expected and what was found instead.
pub(crate) struct HunkDetail {
    /// 1-based hunk number within its file.
    pub(crate) number: usize,
    pub(crate) header: String,
    pub(crate) expected_line: usize,
    pub(crate) expected: Vec<Vec<u8>>,
    pub(crate) searched: String,
    pub(crate) closest: Option<Closest>,
}

impl PatchError {
    pub(crate) fn new(kind: Kind, reason: impl Into<String>) -> PatchError {
        PatchError::with_reason(kind, reason.into())
    }

    /// [`PatchError::new`] without the generic conversion (one copy).
    fn with_reason(kind: Kind, reason: String) -> PatchError {
        PatchError {
            inner: Box::new(Inner {
                kind,
                patch: None,
                target: None,
                patch_line: None,
                reason,
                hunk: None,
                help: None,
                path: None,
                source: None,
            }),
        }
    }

    /// A failed filesystem operation on `path`, outside any one file of the
    /// tree (a patch of the list, or the tree being written): its message is
    /// `failed to {action} `{path}`: {source}`.
    pub(crate) fn io(action: &str, path: &Path, source: io::Error) -> PatchError {
        let reason = format!("failed to {action} `{}`: {source}", path.display());
        PatchError::new(Kind::Io, reason).with_source(path, source)
    }

    /// Keeps the path and the system's error of an I/O failure.
    pub(crate) fn with_source(mut self, path: &Path, source: io::Error) -> PatchError {
        self.inner.path = Some(path.to_path_buf());
        self.inner.source = Some(source);
        self
    }

    pub(crate) fn with_patch(mut self, patch: &str) -> PatchError {
        self.inner.patch = Some(patch.to_string());
        self
    }

    pub(crate) fn with_target(mut self, target: &str) -> PatchError {
        self.inner.target = Some(target.to_string());
        self
    }

    pub(crate) fn with_line(mut self, line: usize) -> PatchError {
        if line > 0 {
            self.inner.patch_line = Some(line);
        }
        self
    }

    pub(crate) fn with_hunk(mut self, hunk: HunkDetail) -> PatchError {
        self.inner.hunk = Some(hunk);
        self
    }

    pub(crate) fn with_help(self, help: impl Into<String>) -> PatchError {
        self.with_help_string(help.into())
    }

    fn with_help_string(mut self, help: String) -> PatchError {
        self.inner.help = Some(help);
        self
    }

    /// A short, stable name for what went wrong: `not-a-patch`,
    /// `unsupported`, `malformed`, `unsafe-path`, `hunk-failed`,
    /// `already-applied`, `missing-file`, `file-exists`, `delete-mismatch`,
    /// `symlink`, `special-file`, `conflict`, `too-expensive`, `series` or
    /// `io`: the name of [`PatchError::kind`].
    pub fn kind_name(&self) -> &'static str {
        match self.inner.kind {
            Kind::NotAPatch => "not-a-patch",
            Kind::Unsupported => "unsupported",
            Kind::Malformed => "malformed",
            Kind::UnsafePath => "unsafe-path",
            Kind::HunkFailed => "hunk-failed",
            Kind::AlreadyApplied => "already-applied",
            Kind::MissingFile => "missing-file",
            Kind::FileExists => "file-exists",
            Kind::DeleteMismatch => "delete-mismatch",
            Kind::Symlink => "symlink",
            Kind::SpecialFile => "special-file",
            Kind::Conflict => "conflict",
            Kind::TooExpensive => "too-expensive",
            Kind::Series => "series",
            Kind::Io => "io",
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> PatchErrorKind {
        self.inner.kind
    }

    /// For an I/O failure ([`PatchErrorKind::Io`]), the path it was about,
    /// as on disk.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// How the patch file is named (as given in [`super::PatchFile::display`]).
    pub fn patch_file(&self) -> Option<&str> {
        self.inner.patch.as_deref()
    }

    /// The file of the tree the error is about, relative to the tree's root.
    pub fn target(&self) -> Option<&str> {
        self.inner.target.as_deref()
    }

    /// The 1-based line of the patch file the error is about, if any.
    pub fn patch_line(&self) -> Option<usize> {
        self.inner.patch_line
    }

    /// The reason, in a few words, without the patch and target names.
    pub fn reason(&self) -> &str {
        &self.inner.reason
    }

    /// The 1-based number of the hunk that failed, within its file.
    pub fn hunk_number(&self) -> Option<usize> {
        let h = self.inner.hunk.as_ref()?;
        Some(h.number)
    }

    /// The `@@` header line of the hunk that failed.
    pub fn hunk_header(&self) -> Option<&str> {
        match &self.inner.hunk {
            Some(h) => Some(&h.header),
            None => None,
        }
    }

    /// The 1-based line of the target where the failed hunk was expected.
    pub fn expected_line(&self) -> Option<usize> {
        let h = self.inner.hunk.as_ref()?;
        Some(h.expected_line)
    }

    /// The lines the failed hunk expected to find (with line terminators).
    pub fn expected_lines(&self) -> Vec<&[u8]> {
        match &self.inner.hunk {
            Some(h) => slices(&h.expected),
            None => Vec::new(),
        }
    }

    /// The 1-based line of the target where the lines most like the failed
    /// hunk's start, if any line was alike.
    pub fn closest_line(&self) -> Option<usize> {
        let c = self.closest()?;
        Some(c.line)
    }

    /// The lines of the target at [`PatchError::closest_line`].
    pub fn closest_lines(&self) -> Vec<&[u8]> {
        match self.closest() {
            Some(c) => slices(&c.lines),
            None => Vec::new(),
        }
    }

    fn closest(&self) -> Option<&Closest> {
        match &self.inner.hunk {
            Some(h) => h.closest.as_ref(),
            None => None,
        }
    }

    /// What to do about it, when there is something to suggest.
    pub fn help(&self) -> Option<&str> {
        self.inner.help.as_deref()
    }
}

/// The lines, borrowed.
fn slices(lines: &[Vec<u8>]) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        out.push(l.as_slice());
    }
    out
}

/// Renders one line of a file for a message: without its terminator, a
/// carriage return shown as `^M`, long lines cut.
fn show_line(line: &[u8]) -> String {
    let line = match line.last() {
        Some(b'\n') => &line[..line.len() - 1],
        _ => line,
    };
    let mut s = String::new();
    for c in String::from_utf8_lossy(line).chars() {
        if s.len() > 160 {
            s.push_str(" ...");
            break;
        }
        match c {
            '\r' => s.push_str("^M"),
            '\t' => s.push_str("    "),
            c if c.is_control() => push_control_escape(&mut s, c),
            c => s.push(c),
        }
    }
    s
}

/// Appends a control character as `\x` and two hex digits (`\x1b`), as
/// `format!("\x{:02x}")` would: control characters are below U+00A0.
pub(crate) fn push_control_escape(s: &mut String, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let c = c as usize;
    s.push_str("\\x");
    s.push(char::from(HEX[(c >> 4) & 15]));
    s.push(char::from(HEX[c & 15]));
}

const SHOWN_LINES: usize = 12;

/// Appends every part to `s`.
fn cat(s: &mut String, parts: &[&str]) {
    for p in parts {
        s.push_str(p);
    }
}

/// Appends a numbered line of a file: `\n{mark}{number:>9} | {line}`.
fn numbered(s: &mut String, mark: &str, number: usize, line: &[u8]) {
    let num = number.to_string();
    s.push('\n');
    for _ in mark.len() + num.len()..9 {
        s.push(' ');
    }
    cat(s, &[mark, &num, " | ", &show_line(line)]);
}

/// Appends the line that says how many more lines there are.
fn more(s: &mut String, shown: usize) {
    if shown > SHOWN_LINES {
        let n = (shown - SHOWN_LINES).to_string();
        cat(s, &["\n          | ... ", &n, " more"]);
    }
}

impl PatchError {
    /// The whole message (built as one string: it compiles to far less than
    /// a chain of `write!`s).
    pub(crate) fn message(&self) -> String {
        let i = &*self.inner;
        let mut s = String::new();
        let patch = match &i.patch {
            Some(p) => p.as_str(),
            None => "<patch>",
        };
        // `patch `P` VERB `T``, or `patch `P`, line N` when the error is
        // about no file of the tree (a series names no target), then the
        // reason; an I/O error about no file of the tree is its reason alone
        // (which names its path).
        let target = match &i.target {
            Some(t) if i.kind != Kind::Series => Some(t.as_str()),
            _ => None,
        };
        if let Some(t) = target {
            let verb = match i.kind {
                Kind::HunkFailed => "` does not apply to `",
                Kind::AlreadyApplied => "` seems already applied to `",
                _ => "` cannot be applied to `",
            };
            cat(&mut s, &["patch `", patch, verb, t, "`"]);
        } else if i.kind != Kind::Io {
            s.push_str(if i.kind == Kind::Series {
                "patch series `"
            } else {
                "patch `"
            });
            s.push_str(patch);
            s.push('`');
            if let Some(l) = i.patch_line {
                s.push_str(", line ");
                s.push_str(&l.to_string());
            }
        }
        if i.kind == Kind::HunkFailed && target.is_some() {
            let n = match &i.hunk {
                Some(h) => h.number,
                None => 0,
            };
            cat(&mut s, &[": hunk #", &n.to_string(), " failed"]);
        }
        if i.kind == Kind::Io && target.is_none() {
            s.push_str(&i.reason);
        } else if i.kind != Kind::HunkFailed || target.is_none() || i.hunk.is_none() {
            cat(&mut s, &[": ", &i.reason]);
        }
        if let Some(h) = &i.hunk {
            let at = h.expected_line.to_string();
            cat(
                &mut s,
                &[
                    "\n  ",
                    &h.header,
                    "\n  expected at line ",
                    &at,
                    " (",
                    &h.searched,
                    "):",
                ],
            );
            let mut k = 0;
            while k < h.expected.len() && k < SHOWN_LINES {
                numbered(&mut s, "", h.expected_line + k, &h.expected[k]);
                k += 1;
            }
            more(&mut s, h.expected.len());
            match &h.closest {
                Some(c) => {
                    let (line, differing) = (c.line.to_string(), c.differing.to_string());
                    let of = h.expected.len().to_string();
                    cat(
                        &mut s,
                        &[
                            "\n  closest match found at line ",
                            &line,
                            " (",
                            &differing,
                            " of ",
                            &of,
                            " lines differ):",
                        ],
                    );
                    let mut k = 0;
                    while k < c.lines.len() && k < SHOWN_LINES {
                        // The hunk's lines are the ones expected.
                        let l = &c.lines[k];
                        let mark = if l.as_slice() != h.expected[k].as_slice() {
                            "! "
                        } else {
                            ""
                        };
                        numbered(&mut s, mark, c.line + k, l);
                        k += 1;
                    }
                    more(&mut s, c.lines.len());
                }
                None if !h.expected.is_empty() => {
                    s.push_str("\n  no similar lines found in the file")
                }
                None => {}
            }
        }
        if let Some(help) = &i.help {
            cat(&mut s, &["\n  help: ", help]);
        }
        s
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Debug for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for PatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.source {
            Some(e) => Some(e),
            None => None,
        }
    }
}
