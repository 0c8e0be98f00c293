// The crate-level attribute of shlex 1.1.0 that changes compilation; the
// build fails and prints the exact lines if these ever disagree.
#![cfg_attr(not(feature = "std"), no_std)]

include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));
