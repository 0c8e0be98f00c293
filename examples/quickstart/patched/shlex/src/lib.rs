// The crate-level attribute of shlex 1.1.0 that changes compilation; the
// build fails and prints the exact lines if these ever disagree.
#![cfg_attr(not(feature = "std"), no_std)]
// Cargo caps lints of registry dependencies; a shim is a path dependency, so
// say it here: warnings in upstream code are not ours to fix.
#![allow(warnings)]

include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));
