//! The one public error type.
//!
//! Every failure build-patch can report is an [`Error`]. What it holds is
//! private so that context can grow without breaking users; [`Error::kind`]
//! (a `#[non_exhaustive]` [`ErrorKind`]) is what code branches on, and the
//! `Display` text is what a person reads. Messages follow one
//! style: lowercase, no trailing period, paths in backticks, and a last line
//! that says what to do next where there is something to do.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while finding, staging or patching a crate.
///
/// Its `Display` text is the whole message, worded for a person;
/// [`Error::kind`] says which kind of failure it is:
///
/// ```
/// let err = build_patch::Config::new()
///     .manifest_dir("no/such/shim")
///     .out_dir(std::env::temp_dir())
///     .try_build()
///     .unwrap_err();
/// assert!(err.to_string().contains("no/such/shim"), "{err}");
/// assert_eq!(err.kind(), build_patch::ErrorKind::Io);
/// assert_eq!(err.kind_name(), "io");
/// ```
pub struct Error {
    // One pointer, so that `Result<T, Error>` stays small.
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    /// One more `help:` line, from the context the error was met in.
    help: Option<String>,
    /// Lines said right after the message's first line (`note: ...`), from
    /// the context the error was met in.
    notes: Vec<String>,
}

/// Which kind of failure an [`Error`] is. More kinds may come: match with a
/// `_` arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file or directory could not be read or written, or a listed patch
    /// does not exist.
    Io,
    /// A patch did not parse or did not apply ([`Error::as_patch_error`]
    /// has the details), or a patch records another version and
    /// `version-mismatch = "error"`.
    Patch,
    /// The configuration: `[package.metadata.build-patch]`, the builder, or
    /// a variable Cargo sets for build scripts.
    Config,
    /// The pristine source: not found, or not the package asked for.
    Source,
    /// The shim's or the upstream's `Cargo.toml`.
    Manifest,
    /// A library root: the shim's crate-level attributes, or a root that
    /// cannot be read.
    Root,
    /// The nested `cargo` call.
    Cargo,
    /// The upstream build script: the shim's copy of it, or its run.
    BuildScript,
}

impl ErrorKind {
    /// The short, stable name of the kind: `io`, `patch`, `config`,
    /// `source`, `manifest`, `root`, `cargo`, `build-script`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Patch => "patch",
            ErrorKind::Config => "config",
            ErrorKind::Source => "source",
            ErrorKind::Manifest => "manifest",
            ErrorKind::Root => "root",
            ErrorKind::Cargo => "cargo",
            ErrorKind::BuildScript => "build-script",
        }
    }
}

enum Kind {
    /// A filesystem operation failed on a path.
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A patch did not parse or did not apply; the message carries the patch
    /// file, the target file, the hunk and what was expected and found.
    Patch(crate::patch::PatchError),
    /// Anything else, already worded for a person.
    Message { what: ErrorKind, text: String },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Io {
                    action,
                    path: path.to_path_buf(),
                    source,
                },
                help: None,
                notes: Vec::new(),
            }),
        }
    }

    /// An error of kind `what` with a message worded for a person.
    pub(crate) fn new(what: ErrorKind, text: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Message {
                    what,
                    text: text.into(),
                },
                help: None,
                notes: Vec::new(),
            }),
        }
    }

    /// Which kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match &self.inner.kind {
            Kind::Io { .. } => ErrorKind::Io,
            // An I/O failure of the engine's (reading the patches, writing
            // the tree) is one like the others.
            Kind::Patch(p) if p.kind() == crate::patch::PatchErrorKind::Io => ErrorKind::Io,
            Kind::Patch(_) => ErrorKind::Patch,
            Kind::Message { what, .. } => *what,
        }
    }

    /// The short, stable name of [`Error::kind`] (see [`ErrorKind::name`]):
    /// `io`, `patch`, `config`, `source`, `manifest`, `root`, `cargo`,
    /// `build-script`.
    ///
    /// Meant for tests and tools; the `Display` text is for people.
    pub fn kind_name(&self) -> &'static str {
        self.kind().name()
    }

    /// Adds a `help:` line said after the message.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Error {
        self.inner.help = Some(help.into());
        self
    }

    /// Adds a line (`note: ...`, `help: ...`) said right after the first
    /// line of the message, where the reader looks first.
    pub(crate) fn with_note(mut self, line: impl Into<String>) -> Error {
        self.inner.notes.push(line.into());
        self
    }

    /// The patch error inside, when this error is about a patch.
    pub fn as_patch_error(&self) -> Option<&crate::patch::PatchError> {
        match &self.inner.kind {
            Kind::Patch(p) => Some(p),
            _ => None,
        }
    }
}

impl From<crate::patch::PatchError> for Error {
    fn from(e: crate::patch::PatchError) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Patch(e),
                help: None,
                notes: Vec::new(),
            }),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match &self.inner.kind {
            Kind::Io {
                action,
                path,
                source,
            } => format!("failed to {action} `{}`: {source}", path.display()),
            // Its `Display` text (`to_string` would compile its own copy).
            Kind::Patch(p) => p.message(),
            Kind::Message { text, .. } => text.clone(),
        };
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        f.write_str(first)?;
        for note in &self.inner.notes {
            write!(f, "\n  {note}")?;
        }
        if !rest.is_empty() {
            write!(f, "\n{rest}")?;
        }
        match &self.inner.help {
            Some(help) => write!(f, "\n  help: {help}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    // `fn main() -> Result<(), Error>` and `unwrap()` print Debug: make that
    // the readable message too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            Kind::Io { source, .. } => Some(source),
            Kind::Patch(p) => std::error::Error::source(p),
            _ => None,
        }
    }
}

/// `Result` with build-patch's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `items` with `sep` between them: `[String]::join` by hand, which would
/// instantiate `join_generic_copy` (a thousand lines of IR) for one call.
pub(crate) fn join(items: &[String], sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item);
    }
    out
}
