//! The `cargo:` lines a build script prints, and nothing else prints them.
//!
//! Directives are collected first and printed at the very end, so a failing
//! build script never leaves half a set behind (for example a
//! `rustc-env=CARGO_MANIFEST_DIR` pointing at a tree that was not finished).

use std::io::{self, Write};
use std::path::Path;

/// Directives for Cargo, in the order they were added.
#[derive(Default)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Directives {
    lines: Vec<String>,
}

impl Directives {
    /// `cargo:rerun-if-changed=PATH`: rerun the build script when the file
    /// (or anything under the directory) at `path` changes.
    pub fn rerun_if_changed(&mut self, path: &Path) {
        self.push("rerun-if-changed", &path.display().to_string());
    }

    /// `cargo:rustc-env=KEY=VALUE`: an environment variable that `env!`
    /// sees while the crate compiles. Directives are line based, so line
    /// breaks in the value become spaces (Cargo's own `CARGO_PKG_DESCRIPTION`
    /// keeps them; see docs/limits.md).
    pub fn rustc_env(&mut self, key: &str, value: &str) {
        let mut line = format!("{key}=");
        for c in value.chars() {
            line.push(if c == '\r' || c == '\n' { ' ' } else { c });
        }
        self.push("rustc-env", &line);
    }

    /// `cargo:warning=MESSAGE`, one directive per line of the message.
    pub fn warning(&mut self, message: &str) {
        for line in message.lines() {
            self.push("warning", line);
        }
    }

    /// A line as it is: what the upstream build script printed.
    #[cfg(feature = "upstream-build-script")]
    pub fn raw(&mut self, line: &str) {
        self.lines.push(line.to_string());
    }

    fn push(&mut self, directive: &str, value: &str) {
        debug_assert!(
            !value.as_bytes().contains(&b'\n'),
            "{directive} value has a newline"
        );
        // The single-colon form: Cargo refuses `cargo::` in a package whose
        // `rust-version` is older than 1.77, and a shim mirrors the
        // upstream's `rust-version`.
        self.lines.push(format!("cargo:{directive}={value}"));
    }

    /// The lines, without the trailing newlines.
    pub fn into_lines(self) -> Vec<String> {
        self.lines
    }
}

/// Prints every directive (`lines`, from [`Directives::into_lines`]) to `out`.
pub(crate) fn emit(lines: &[String], out: &mut dyn Write) -> io::Result<()> {
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
}
