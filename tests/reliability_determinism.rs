//! Determinism with real builds: the staged tree and the generated files are
//! byte-identical across runs, checkout paths and machines (another
//! `CARGO_HOME`, another target directory), and hold no absolute path.
#![cfg(unix)]

use std::collections::BTreeMap;

use support::reliability::*;
use support::tree::tree_difference;
use support::{assert_lacks, hash_tree, TestEnv};

/// The staged tree and the entry file, as bytes and modes.
fn outputs(env: &TestEnv) -> (BTreeMap<String, (String, u32)>, Vec<u8>, String) {
    let work = work_dir(&env.target_dir, "bulky").expect("staged");
    let staged = work.join("bulky-1.0.0");
    let root = std::fs::read_to_string(staged.join("src/.build-patch-root.rs")).unwrap();
    (
        hash_tree(&staged),
        std::fs::read(work.join("lib.rs")).unwrap(),
        root,
    )
}

fn assert_no_absolute_paths(text: &str, env: &TestEnv) {
    for path in [&env.root, &env.home, &env.ws, &env.target_dir] {
        let p = path.display().to_string();
        assert!(!text.contains(&p), "`{p}` in a generated file:\n{text}");
    }
    assert_lacks(text, &["/tmp/"]);
}

#[test]
fn staged_tree_and_generated_files_are_identical_across_runs_paths_and_machines() {
    // Two "machines": each its own Cargo home, registry copy and target
    // directory, with the workspace checked out at different depths.
    let a = TestEnv::new().isolated_target();
    let mut b = TestEnv::new().isolated_target();
    let deep = b.root.join("some/much/deeper checkout path");
    std::fs::create_dir_all(&deep).unwrap();
    b.ws = deep.join("ws");
    std::fs::create_dir_all(&b.ws).unwrap();
    for env in [&a, &b] {
        env.publish(&bulky(60, 0));
        bulky_workspace(env, 314);
        env.assert_prints("314\n");
    }
    let pa = a.cached_source("bulky", "1.0.0").unwrap();
    let pb = b.cached_source("bulky", "1.0.0").unwrap();
    assert_eq!(hash_tree(&pa), hash_tree(&pb));
    let pristine_hash = hash_tree(&pa);

    let first = outputs(&a);
    assert_eq!(first, outputs(&b), "two machines");
    assert_eq!(first.0, reference_tree(&pa, &lib_with(314)));
    let entry = String::from_utf8(first.1.clone()).unwrap();
    assert_eq!(
        entry.lines().last(),
        Some("include!(\"bulky-1.0.0/src/.build-patch-root.rs\");")
    );
    for env in [&a, &b] {
        assert_no_absolute_paths(&entry, env);
        assert_no_absolute_paths(&first.2, env);
    }

    // Another run from scratch, and a restage after a patch went back and
    // forth: the same bytes.
    a.ok(&["clean"]);
    a.assert_prints("314\n");
    assert_eq!(outputs(&a), first, "a clean rebuild");
    a.file("patches/value.patch", &value_patch(315));
    a.assert_prints("315\n");
    a.file("patches/value.patch", &value_patch(314));
    a.assert_prints("314\n");
    assert_eq!(outputs(&a), first, "a restage");
    assert_eq!(hash_tree(&pa), pristine_hash);
    assert_same_modes_regardless_of_umask(&a, &first.0);
}

/// Staged modes are 644/755 whatever the umask of the build.
fn assert_same_modes_regardless_of_umask(
    env: &TestEnv,
    expected: &BTreeMap<String, (String, u32)>,
) {
    for v in [316, 314] {
        env.file("patches/value.patch", &value_patch(v));
        let (ok, _, stderr) = output(in_sh("umask 077", &env.cargo(&["build", "-q"])));
        assert!(ok, "{stderr}");
    }
    let work = work_dir(&env.target_dir, "bulky").unwrap();
    let tree = hash_tree(&work.join("bulky-1.0.0"));
    assert!(
        &tree == expected,
        "umask 077: {}",
        tree_difference(&tree, expected)
    );
}
