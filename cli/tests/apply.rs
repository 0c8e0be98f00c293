//! `cargo build-patch apply`: the engine on any directory, all or nothing.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use support::{assert_contains, hash_tree, unified_diff, write};

/// `cargo build-patch apply ARGS` in `cwd`.
fn apply_command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = support::cli::command();
    cmd.arg("apply").args(args).current_dir(cwd);
    cmd
}

fn apply(cwd: &Path, args: &[&str]) -> (bool, String) {
    let out = apply_command(cwd, args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `rel` under the fixture folder.
fn put(tmp: &TempDir, rel: &str, text: &str) {
    write(&tmp.path().join(rel), text);
}

/// What `run` returns; panics if it changed the fixture's `tree/`.
fn leaves_tree_alone<T>(tmp: &TempDir, run: impl FnOnce() -> T) -> T {
    let before = hash_tree(&tmp.path().join("tree"));
    let out = run();
    assert_eq!(
        hash_tree(&tmp.path().join("tree")),
        before,
        "the tree changed"
    );
    out
}

const OLD: &str = "one\ntwo\nthree\nfour\nfive\n";

fn fixture() -> TempDir {
    let tmp = tempfile::tempdir().unwrap();
    put(&tmp, "tree/a.txt", OLD);
    put(&tmp, "tree/b.txt", OLD);
    put(
        &tmp,
        "patches/1-a.patch",
        &unified_diff("a.txt", OLD, &OLD.replace("three", "THREE")),
    );
    put(
        &tmp,
        "patches/2-b.patch",
        &unified_diff("b.txt", OLD, &OLD.replace("two", "TWO")),
    );
    tmp
}

#[test]
fn applies_a_directory_of_patches_in_name_order() {
    let tmp = fixture();
    let (ok, out) = apply(tmp.path(), &["tree", "patches"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["Applied patches/1-a.patch (1 hunk)"]);
    let a = std::fs::read_to_string(tmp.path().join("tree/a.txt")).unwrap();
    let b = std::fs::read_to_string(tmp.path().join("tree/b.txt")).unwrap();
    assert!(a.contains("THREE") && b.contains("TWO"), "{a}{b}");
}

#[test]
fn a_dry_run_changes_nothing() {
    let tmp = fixture();
    let (ok, out) = leaves_tree_alone(&tmp, || {
        apply(tmp.path(), &["--dry-run", "tree", "patches"])
    });
    assert!(ok, "{out}");
    assert_contains(&out, &["Checked patches/2-b.patch"]);
}

#[test]
fn a_failing_patch_changes_nothing_and_exits_101() {
    let tmp = fixture();
    // The second patch fails: the first must not be left applied.
    let failing = unified_diff("b.txt", "not\nwhat\nis\nthere\n", "x\n");
    put(&tmp, "patches/2-b.patch", &failing);
    let out = leaves_tree_alone(&tmp, || {
        apply_command(tmp.path(), &["tree", "patches"])
            .output()
            .unwrap()
    });
    assert_eq!(out.status.code(), Some(101));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`patches/2-b.patch`") && stderr.contains("hunk #1"),
        "{stderr}"
    );
}

#[test]
fn a_quilt_series_and_a_strip_level() {
    let tmp = fixture();
    // -p0 names, listed in a series in reverse name order.
    put(
        &tmp,
        "q/x.patch",
        &unified_diff("a.txt", OLD, &OLD.replace("one", "ONE"))
            .replace("a/a.txt", "a.txt")
            .replace("b/a.txt", "a.txt"),
    );
    put(
        &tmp,
        "q/w.patch",
        &unified_diff(
            "a.txt",
            &OLD.replace("one", "ONE"),
            &OLD.replace("one", "ONE!"),
        )
        .replace("a/a.txt", "a.txt")
        .replace("b/a.txt", "a.txt"),
    );
    put(&tmp, "q/series", "x.patch\nw.patch\n");
    let (ok, out) = apply(tmp.path(), &["-p", "0", "tree", "q/series"]);
    assert!(ok, "{out}");
    assert!(std::fs::read_to_string(tmp.path().join("tree/a.txt"))
        .unwrap()
        .starts_with("ONE!\n"));
}
