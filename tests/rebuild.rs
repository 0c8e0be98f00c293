//! Rebuilds: what reruns, what restages, and what survives `cargo clean`, a
//! killed build, or a patch that does not apply. The pristine source stays
//! byte-identical through all of it.

use std::path::PathBuf;

use support::{assert_contains, hash_tree, unified_diff, Package, TestEnv};

const V1: &str = "pub fn value() -> u32 {\n    1\n}\n";

fn setup(env: &TestEnv, patched: &str) {
    env.publish(&Package::lib("counter", "2.0.0", V1));
    env.file(
        "patches/value.patch",
        &unified_diff("src/lib.rs", V1, patched),
    );
    env.wire_graph_wide("counter", "2.0.0", "value.patch", "counter = \"2\"")
        .main_printing(&["counter::value()"]);
}

/// The staged copy in the (isolated) target directory.
fn staged_dir(env: &TestEnv) -> PathBuf {
    let build = env.target_dir.join("debug").join("build");
    std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path().join("out/build-patch/counter-2.0.0"))
        .find(|p| p.is_dir())
        .expect("no staged copy")
}

#[test]
fn noop_rebuild_reruns_nothing_and_a_changed_patch_restages() {
    let env = TestEnv::new().isolated_target();
    setup(&env, "pub fn value() -> u32 {\n    2\n}\n");
    env.assert_prints("2\n");
    let pristine = env
        .cached_source("counter", "2.0.0")
        .expect("fetched by the shim");
    let before = hash_tree(&pristine);

    // Nothing changed: the build script does not run again.
    let noop = env.ok(&["build", "-v"]);
    assert!(!noop.ran_build_script_of("counter"), "{}", noop.stderr);
    assert_contains(&noop.stderr, &["Fresh counter"]);

    // A one-byte change to the patch restages and recompiles.
    env.file(
        "patches/value.patch",
        &unified_diff("src/lib.rs", V1, "pub fn value() -> u32 {\n    3\n}\n"),
    );
    let rerun = env.ok(&["run", "-v"]);
    assert!(rerun.ran_build_script_of("counter"), "{}", rerun.stderr);
    assert_eq!(rerun.stdout, "3\n");

    // `cargo clean`, then a release build, then an offline one.
    env.ok(&["clean"]);
    assert_eq!(env.ok(&["run", "-q", "--release"]).stdout, "3\n");
    assert_eq!(env.ok(&["run", "-q", "--offline"]).stdout, "3\n");

    assert_eq!(hash_tree(&pristine), before, "the pristine source changed");
}

#[test]
fn a_patch_that_does_not_apply_fails_the_build_and_keeps_the_last_good_copy() {
    let env = TestEnv::new().isolated_target();
    setup(&env, "pub fn value() -> u32 {\n    2\n}\n");
    env.assert_prints("2\n");
    let staged = staged_dir(&env);
    let good = hash_tree(&staged);

    // A patch against other content.
    env.file(
        "patches/value.patch",
        &unified_diff(
            "src/lib.rs",
            "pub fn value() -> u32 {\n    7\n}\n",
            "pub fn value() -> u32 {\n    8\n}\n",
        ),
    );
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &[
            "patches/value.patch",
            "src/lib.rs",
            "hunk #1",
            "@@ -1,3 +1,3 @@",
        ],
    );
    // Nothing was half-applied: the last good copy is intact, and a fixed
    // patch builds again.
    assert_eq!(hash_tree(&staged), good);
    setup(&env, "pub fn value() -> u32 {\n    4\n}\n");
    env.assert_prints("4\n");
}

#[test]
fn leftovers_of_a_killed_build_are_restaged() {
    let env = TestEnv::new().isolated_target();
    setup(&env, "pub fn value() -> u32 {\n    2\n}\n");
    env.ok(&["build", "-q"]);
    let staged = staged_dir(&env);
    let work = staged.parent().unwrap().to_path_buf();
    let good = hash_tree(&staged);

    // What a build killed after the rename but before the stamp leaves: a
    // tree (here damaged) and no stamp; plus a half-copied temporary folder
    // of another process.
    std::fs::remove_file(work.join("counter-2.0.0.stamp")).unwrap();
    std::fs::write(staged.join("src/lib.rs"), "garbage").unwrap();
    std::fs::create_dir_all(work.join(".counter-2.0.0.tmp-99999/src")).unwrap();
    // Cargo reruns a build script that did not finish; touching an input
    // makes it rerun here.
    let patch = env.ws.join("patches/value.patch");
    let text = std::fs::read_to_string(&patch).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(&patch, text).unwrap();

    env.assert_prints("2\n");
    assert_eq!(hash_tree(&staged), good);
    assert!(!work.join(".counter-2.0.0.tmp-99999").exists());
}

#[test]
fn missing_version_is_a_clear_error() {
    let env = TestEnv::new();
    env.publish(&Package::lib("counter", "2.0.0", V1));
    env.file(
        "patches/value.patch",
        &unified_diff("src/lib.rs", V1, V1.replace('1', "5").as_str()),
    );
    env.wire_renamed("counter", "2.0.9", "value.patch")
        .file("src/main.rs", "fn main() {}\n");
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &["cannot get the pristine source of `counter 2.0.9`", "help:"],
    );
}
