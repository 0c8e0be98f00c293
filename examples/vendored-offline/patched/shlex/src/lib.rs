// A build-patch shim: rustc compiles the patched upstream crate as this one.
// The crate-level attributes of the upstream root that change compilation
// (`include!` cannot carry them); the build checks they stay in sync.
#![cfg_attr(not(feature = "std"), no_std)]
// Cargo caps the lints of registry dependencies (`--cap-lints allow`); a
// shim is a path dependency, so it allows them itself, deny-by-default
// ones included (such as `$crate::` paths to exported macros, which rustc
// refuses inside `include!` unless allowed).
#![allow(warnings, future_incompatible, rust_2024_compatibility)]
#![allow(macro_expanded_macro_exports_accessed_by_absolute_paths, dangerous_implicit_autorefs)]

include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));
