//! What the CLI tests share: running `cargo build-patch` in a test
//! workspace, and looking at shims and their edit folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{hash_tree, TestEnv};

/// The `cargo-build-patch` binary Cargo built for the CLI's tests: where
/// Cargo says (`CARGO_BIN_EXE_cargo-build-patch`, set when the tests run), or
/// beside the test's own folder of executables (`target/debug/deps`).
pub fn bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("CARGO_BIN_EXE_cargo-build-patch") {
        return bin.into();
    }
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    profile.join(format!("cargo-build-patch{}", std::env::consts::EXE_SUFFIX))
}

/// A `cargo-build-patch` command, run as `cargo build-patch`.
pub fn command() -> std::process::Command {
    let mut cmd = std::process::Command::new(bin());
    cmd.arg("build-patch");
    cmd
}

/// Runs `cargo build-patch ARGS` in the workspace of `env`: whether it
/// succeeded, and stdout followed by stderr.
pub fn cli(env: &TestEnv, args: &[&str]) -> (bool, String) {
    env.cli(&bin().to_string_lossy(), args)
}

/// Runs `cargo build-patch ARGS`, panics unless it succeeded; its output.
pub fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (ok, out) = cli(env, args);
    assert!(ok, "`cargo build-patch {}` failed:\n{out}", args.join(" "));
    out
}

/// Runs `cargo build-patch ARGS`, panics unless it failed; its output.
pub fn fails(env: &TestEnv, args: &[&str]) -> String {
    let (ok, out) = cli(env, args);
    assert!(
        !ok,
        "`cargo build-patch {}` succeeded:\n{out}",
        args.join(" ")
    );
    out
}

/// Replaces `from` (which must be there) by `to` in a file.
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
    let root = crate::repo_root().display().to_string();
    ok(env, &["new", "greet@1.0.0", "--build-patch-path", &root]);
    env.app(
        "greet = \"1\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    )
    .file("src/main.rs", main_rs);
}

/// Runs `cargo build-patch ARGS`, panics unless it succeeded and its output
/// contains every one of `parts`; the output.
#[track_caller]
pub fn ok_with(env: &TestEnv, args: &[&str], parts: &[&str]) -> String {
    let out = ok(env, args);
    crate::assert_contains(&out, parts);
    out
}

/// Runs `cargo build-patch ARGS`, panics unless it failed and its output
/// contains every one of `parts`; the output.
#[track_caller]
pub fn fails_with(env: &TestEnv, args: &[&str], parts: &[&str]) -> String {
    let out = fails(env, args);
    crate::assert_contains(&out, parts);
    out
}

/// [`fails_with`], and the files of the shim in `shim` (its edit folder
/// aside) are what they were: the failure changed nothing.
#[track_caller]
pub fn fails_changing_nothing(env: &TestEnv, shim: &Path, args: &[&str], parts: &[&str]) -> String {
    let before = shim_files(shim);
    let out = fails_with(env, args, parts);
    assert_eq!(shim_files(shim), before, "the failure changed the shim");
    out
}

/// `cargo build-patch new SPEC` with this repository as the shim's
/// build-patch, which must succeed; its output.
#[track_caller]
pub fn new_shim(env: &TestEnv, spec: &str) -> String {
    let root = crate::repo_root().display().to_string();
    ok(env, &["new", spec, "--build-patch-path", &root])
}
