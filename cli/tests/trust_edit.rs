//! `edit` and `save` write into the shim the user named, and only when it
//! compiles: two shims of one crate, `cargo clean` between edit and save,
//! a save that does not compile or does not stage. Throwaway workspaces
//! built by the real `cargo` against the fixture registry.

use support::cli::{
    fails, fails_changing_nothing, fails_with, ok, ok_with, replace_in, wire_greet,
};

use std::path::PathBuf;
use std::process::Command;

use support::{assert_contains, assert_lacks, hash_tree, repo_root, Package, TestEnv};

fn tree(env: &TestEnv, shim: &str) -> PathBuf {
    support::cli::edit_tree(env, shim)
}

fn lib(version: &str, value: u32) -> Package {
    Package::lib(
        "foo",
        version,
        &format!("pub fn value() -> u32 {{\n    {value}\n}}\n"),
    )
}

/// foo 1.0.0 and foo 0.9.0 in one graph (through `bar` and `baz`), each
/// patched graph-wide by its own shim: `patched/foo` and `patched/foo09`.
fn two_shims_of_one_crate() -> TestEnv {
    let env = TestEnv::new();
    env.publish(&lib("1.0.0", 1));
    env.publish(&lib("0.9.0", 9));
    env.publish(
        &Package::new("bar", "1.0.0")
            .dep("foo", "1")
            .file("src/lib.rs", "pub fn bar() -> u32 { foo::value() }\n"),
    );
    env.publish(
        &Package::new("baz", "1.0.0")
            .dep("foo", "0.9")
            .file("src/lib.rs", "pub fn baz() -> u32 { foo::value() }\n"),
    );
    let root = repo_root().display().to_string();
    ok(&env, &["new", "foo@1.0.0", "--build-patch-path", &root]);
    ok(
        &env,
        &[
            "new",
            "foo@0.9.0",
            "--path",
            "patched/foo09",
            "--build-patch-path",
            &root,
        ],
    );
    env.app(
        "bar = \"1\"\nbaz = \"1\"",
        "[patch.crates-io]\nfoo = { path = \"patched/foo\" }\n\
         foo09 = { package = \"foo\", path = \"patched/foo09\" }",
    )
    .file(
        "src/main.rs",
        "fn main() { println!(\"{} {}\", bar::bar(), baz::baz()); }\n",
    );
    env
}

#[test]
fn two_shims_of_one_crate_are_named_apart_and_edited_apart() {
    let env = two_shims_of_one_crate();
    env.assert_prints("1 9\n");

    // A bare name that matches both is refused, both listed.
    let out = fails(&env, &["edit", "foo"]);
    assert!(
        out.contains("`foo` names 2 shims of this workspace")
            && out.contains("`patched/foo` (`foo@1.0.0`)")
            && out.contains("`patched/foo09` (`foo@0.9.0`)"),
        "{out}"
    );

    // Each has its own edit tree, and `edit` says the exact `save` command.
    ok_with(
        &env,
        &["edit", "foo@0.9.0"],
        &["cargo build-patch save foo@0.9.0"],
    );
    ok(&env, &["edit", "patched/foo"]);
    let (old, old09) = (tree(&env, "patched/foo"), tree(&env, "patched/foo09"));
    replace_in(&old09.join("src/lib.rs"), "    9\n", "    90\n");
    assert!(std::fs::read_to_string(old.join("src/lib.rs"))
        .unwrap()
        .contains("    1\n"));

    let other = hash_tree(&env.ws.join("patched/foo"));
    fails_with(&env, &["save", "foo", "-m", "Ninety"], &["names 2 shims"]);
    ok_with(&env, &["save", "foo@0.9.0", "-m", "Ninety"], &["Saved"]);
    // Only the 0.9 shim changed; the 1.x one (its edit tree included) did not.
    assert_eq!(hash_tree(&env.ws.join("patched/foo")), other);
    assert!(env
        .ws
        .join("patched/foo09/patches/0001-ninety.patch")
        .is_file());
    assert!(!env.ws.join("patched/foo/patches").exists());
    env.assert_prints("1 90\n");

    // The 1.x tree was untouched by all that: its save goes to its shim.
    replace_in(&old.join("src/lib.rs"), "    1\n", "    10\n");
    ok(&env, &["save", "foo@1.0.0", "-m", "Ten"]);
    env.assert_prints("10 90\n");
    ok(&env, &["check", "foo@1.0.0", "patched/foo09"]);
    fails_with(&env, &["check", "foo"], &["names 2 shims"]);
}

/// A workspace with a graph-wide shim of greet 1.0.0, made with `new`.
fn greet() -> TestEnv {
    let env = TestEnv::new();
    env.publish(&Package::lib(
        "greet",
        "1.0.0",
        "pub fn greet(name: &str) -> String {\n    format!(\"Hello {}\", name)\n}\n",
    ));
    wire_greet(
        &env,
        "fn main() { println!(\"{}\", greet::greet(\"you\")); }\n",
    );
    env
}

#[test]
fn edits_survive_cargo_clean_and_git_ignores_them() {
    let env = greet();
    ok(&env, &["edit", "greet"]);
    let lib = tree(&env, "patched/greet").join("src/lib.rs");
    replace_in(&lib, "Hello {}", "Hello, {}");
    // `cargo clean` of the target directory the CLI uses.
    let clean = env
        .cargo(&["clean"])
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(clean.status.success());
    assert!(!env.ws.join("target").exists());
    ok_with(&env, &["save", "greet", "-m", "Comma"], &["Saved"]);
    env.assert_prints("Hello, you\n");

    // The edit folder is not an input of the shim's build...
    env.ok(&["build", "-q"]);
    replace_in(&lib, "Hello, {}", "Hello there, {}");
    assert!(!env.ok(&["build", "-v"]).ran_build_script_of("greet"));
    // ...git ignores it, and Cargo does not package it (listing files
    // itself, then through git).
    let ignore = env.ws.join("patched/greet/.build-patch-edit/.gitignore");
    assert!(std::fs::read_to_string(ignore).unwrap().contains("\n*\n"));
    for git in [false, true] {
        if git {
            let init = Command::new("git")
                .args(["init", "-q"])
                .current_dir(&env.ws)
                .status()
                .unwrap();
            assert!(init.success());
        }
        let list = env
            .cargo(&["package", "--list", "--allow-dirty", "--no-verify"])
            .current_dir(env.ws.join("patched/greet"))
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&list.stdout);
        assert!(list.status.success(), "{list:?}");
        assert_contains(&listed, &["build.rs"]);
        assert_lacks(&listed, &[".build-patch-edit"]);
    }
    if let Ok(out) = Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--ignored=no",
            "--untracked-files=all",
        ])
        .current_dir(&env.ws)
        .output()
    {
        let status = String::from_utf8_lossy(&out.stdout);
        assert_lacks(&status, &[".build-patch-edit"]);
    }
}

#[test]
fn a_save_that_does_not_compile_changes_nothing_and_keeps_the_edits() {
    let env = greet();
    ok(&env, &["edit", "greet"]);
    let shim = env.ws.join("patched/greet");
    let lib = tree(&env, "patched/greet").join("src/lib.rs");
    replace_in(
        &lib,
        "format!(\"Hello {}\", name)",
        "format!(\"Hi {}\", name",
    );
    fails_changing_nothing(
        &env,
        &shim,
        &["save", "greet", "-m", "Hi"],
        &[
            "does not compile with",
            "error",
            "help:",
            "nothing was changed",
        ],
    );
    assert!(std::fs::read_to_string(&lib)
        .unwrap()
        .contains("\"Hi {}\", name\n"));

    // Fixed, it saves.
    replace_in(&lib, "\"Hi {}\", name\n", "\"Hi {}\", name)\n");
    ok(&env, &["save", "greet", "-m", "Hi"]);
    assert!(shim.join("patches/0001-hi.patch").is_file());
    env.assert_prints("Hi you\n");
}

#[test]
fn a_save_that_does_not_stage_writes_no_patch_and_no_list_entry() {
    let env = greet();
    let shim = env.ws.join("patched/greet");
    ok(&env, &["edit", "greet"]);
    let lib = tree(&env, "patched/greet").join("src/lib.rs");
    replace_in(&lib, "Hello {}", "Hello, {}");
    ok(&env, &["save", "greet", "-m", "Comma"]);
    // The next change is made on top of the first patch, which the shim
    // then stops listing: the new patch no longer applies.
    replace_in(&lib, "Hello, {}", "Hello, {}!");
    replace_in(
        &shim.join("Cargo.toml"),
        "patches = [\"patches/0001-comma.patch\"]",
        "patches = []",
    );
    fails_changing_nothing(
        &env,
        &shim,
        &["save", "greet", "-m", "Exclaim"],
        &["does not build with", "nothing was changed"],
    );
    assert!(!shim.join("patches/0002-exclaim.patch").exists());
}

#[test]
fn an_upgrade_that_stops_keeps_unsaved_edits() {
    let env = greet();
    ok(&env, &["edit", "greet"]);
    let lib = tree(&env, "patched/greet").join("src/lib.rs");
    replace_in(&lib, "Hello {}", "Hello, {}");
    ok(&env, &["save", "greet", "-m", "Comma"]);
    replace_in(&lib, "Hello, {}", "Hello, {}!");
    // 1.1.0 rewrote the line: the upgrade stops at the patch, and would
    // leave its tree where the unsaved edit is.
    env.publish(&Package::lib(
        "greet",
        "1.1.0",
        "pub fn greet(name: &str) -> String {\n    format!(\"Hi {}\", name)\n}\n",
    ));
    fails_with(
        &env,
        &["upgrade", "greet", "1.1.0"],
        &["holds unsaved edits"],
    );
    assert!(std::fs::read_to_string(&lib)
        .unwrap()
        .contains("Hello, {}!"));
}

#[test]
fn a_tree_left_under_target_by_an_older_version_is_named() {
    let env = greet();
    std::fs::create_dir_all(env.ws.join("target/build-patch/edit/greet/tree/src")).unwrap();
    let out = fails(&env, &["save", "greet"]);
    assert!(
        out.contains("target/build-patch/edit/greet/tree")
            && out.contains("it is no longer read")
            && out.contains("help: run `cargo build-patch edit greet` first"),
        "{out}"
    );
}
