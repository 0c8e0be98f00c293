//! Fuzzes one reader of untrusted input: see `check::toml` in `fuzz/checks.rs`
//! (shared with the corpus replay of `tests/fuzz_replay.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::toml(data));
