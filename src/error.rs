//! The one public error type.
//!
//! Every failure build-patch can report is an [`Error`]. Its kind is private so
//! that context can grow without breaking users; [`Error::kind_name`] and the
//! `Display` text are what a person or a test looks at. Messages follow one
//! style: lowercase, no trailing period, paths in backticks, and a last line
//! that says what to do next where there is something to do.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while finding, staging or patching a crate.
///
/// Its `Display` text is the whole message, worded for a person;
/// [`Error::kind_name`] says which kind of failure it is:
///
/// ```
/// let err = build_patch::Config::new().stage().unwrap_err();
/// assert_eq!(err.kind_name(), "config");
/// assert!(err.to_string().contains("call `Config::upstream`"));
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
    Message { what: &'static str, text: String },
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

    /// An error of category `what` (a short machine-friendly name, see
    /// [`Error::kind_name`]) with a message worded for a person.
    pub(crate) fn msg(what: &'static str, text: impl Into<String>) -> Error {
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

    /// A short, stable name for the category of this error: `io`, `patch`,
    /// `config`, `source`, `manifest`, `root`, `cargo`.
    ///
    /// Meant for tests and tools; the `Display` text is for people.
    pub fn kind_name(&self) -> &'static str {
        match &self.inner.kind {
            Kind::Io { .. } => "io",
            // An I/O failure of the engine's (reading the patches, writing
            // the tree) is one like the others.
            Kind::Patch(p) if p.kind() == crate::patch::PatchErrorKind::Io => "io",
            Kind::Patch(_) => "patch",
            Kind::Message { what, .. } => what,
        }
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
            Kind::Patch(p) => p.to_string(),
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
