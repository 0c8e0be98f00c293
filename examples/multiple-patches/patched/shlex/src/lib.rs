// A build-patch shim: rustc compiles the patched upstream crate as this one.
// The crate-level attributes of the upstream root that change compilation
// (`include!` cannot carry them); the build checks they stay in sync.
#![cfg_attr(not(feature = "std"), no_std)]
// Cargo caps the lints of registry dependencies; a shim is a path
// dependency, so it says so itself.
#![allow(warnings)]

include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));
