//! build-patch: patch any Cargo dependency with ordinary patch files.
#![deny(missing_docs)]

mod error;
mod fs;
pub mod patch;

pub use error::{Error, Result};
