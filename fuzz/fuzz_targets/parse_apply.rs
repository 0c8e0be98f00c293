//! Fuzzes the patch engine through its public API: see `check::parse_apply` in
//! `fuzz/checks.rs` (shared with the corpus replay of `tests/fuzz_replay.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::parse_apply(data));
