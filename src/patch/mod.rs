//! The patch engine: parse patch files and apply them to a directory,
//! all or nothing, the way GNU patch does at fuzz 0.
//!
//! (Being written; see the engine issue.)

use std::fmt;

/// A patch that did not parse or did not apply.
#[derive(Debug)]
pub struct PatchError {
    message: String,
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatchError {}
