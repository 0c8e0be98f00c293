//! What the CLI tests share: running `cargo build-patch` in a test
//! workspace, and looking at shims and their edit folders.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{hash_tree, TestEnv};

pub fn cli(env: &TestEnv, args: &[&str]) -> (bool, String) {
    env.cli(env!("CARGO_BIN_EXE_cargo-build-patch"), args)
}

pub fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (ok, out) = cli(env, args);
    assert!(ok, "`cargo build-patch {}` failed:\n{out}", args.join(" "));
    out
}

pub fn fails(env: &TestEnv, args: &[&str]) -> String {
    let (ok, out) = cli(env, args);
    assert!(
        !ok,
        "`cargo build-patch {}` succeeded:\n{out}",
        args.join(" ")
    );
    out
}

pub fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{from:?} not in {}:\n{text}",
        path.display()
    );
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// The editable tree `edit` lays out for the shim in `shim` (relative to
/// the workspace).
pub fn edit_tree(env: &TestEnv, shim: &str) -> PathBuf {
    env.ws.join(shim).join(".build-patch-edit/tree")
}

/// The files of a shim, without its edit folder.
pub fn shim_files(dir: &Path) -> BTreeMap<String, (String, u32)> {
    let mut files = hash_tree(dir);
    files.retain(|path, _| !path.starts_with(".build-patch-edit/"));
    files
}

/// A graph-wide shim of the published greet 1.0.0, made with `new`, and the
/// workspace's app using it with `main_rs` as its `src/main.rs`.
pub fn wire_greet(env: &TestEnv, main_rs: &str) {
    let root = crate::support::repo_root().display().to_string();
    ok(env, &["new", "greet@1.0.0", "--build-patch-path", &root]);
    env.app(
        "greet = \"1\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    )
    .file("src/main.rs", main_rs);
}
