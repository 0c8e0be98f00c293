//! The harness never lets a test pass on another test's build.
//!
//! Tests that do not call `isolated_target` share target directories (so
//! that build-patch is compiled once per folder, not per test; the harness
//! gives each environment one alone and keeps only build-patch's
//! fingerprints when it takes it), and Cargo names a unit of a path
//! package by its path relative to the workspace root: two test workspaces
//! of one layout have the same `deps/app-HASH` and fingerprint, which Cargo
//! finds fresh when the sources are older than the outputs. Each test here
//! builds two workspaces of one layout and different contents, the second
//! with its files older than the first's outputs (set explicitly), and
//! checks that the second runs its own program.
//!
//! A registry package's fingerprint holds the absolute path of its unpacked
//! source (in each environment's own `CARGO_HOME`), and a shim's build
//! script prints absolute `rerun-if-changed` paths (Cargo reruns it when
//! they change): those two tests guard what Cargo does today.

use support::{unified_diff, Package, Shim, TestEnv};

/// A workspace whose program prints `word`: the package `app` alone.
fn app_printing(word: &str) -> TestEnv {
    let env = TestEnv::new();
    env.app("", "").main_printing(&[&format!("{word:?}")]);
    env
}

#[test]
fn a_workspace_built_after_another_of_its_layout_runs_its_own_program() {
    let first = app_printing("first");
    let second = app_printing("second");
    first.assert_prints("first\n");
    support::tree::backdate(&second.ws);
    second.assert_prints("second\n");
    // And the first one's is still its own.
    first.assert_prints("first\n");
}

#[test]
fn a_workspace_made_after_another_was_dropped_runs_its_own_program() {
    app_printing("gone").assert_prints("gone\n");
    let later = app_printing("later");
    support::tree::backdate(&later.ws);
    later.assert_prints("later\n");
}

/// A workspace with `greet 1.0.0` (whose `src/lib.rs` is `lib`) published,
/// a graph-wide shim of it in `patched/greet` whose patch turns `from` into
/// `to`, and a program printing `greet::greet()`.
fn patched_greet(lib: &str, from: &str, to: &str) -> TestEnv {
    let env = TestEnv::new();
    env.publish(&Package::lib("greet", "1.0.0", lib));
    env.file(
        "patches/greet.patch",
        &unified_diff("src/lib.rs", lib, &lib.replace(from, to)),
    );
    env.wire_graph_wide("greet", "1.0.0", "greet.patch", "greet = \"1\"")
        .main_printing(&["greet::greet()"]);
    env
}

/// The same pristine source with another patch: only the patch differs, and
/// the second shim's build script must run (its inputs are its own).
#[test]
fn a_shim_with_another_patch_is_staged_again() {
    let lib = "pub fn greet() -> &'static str { \"hello\" }\n";
    let first = patched_greet(lib, "hello", "hello, one");
    let second = patched_greet(lib, "hello", "hello, two");
    first.assert_prints("hello, one\n");
    support::tree::backdate(&second.ws);
    let run = second.ok(&["build", "-v"]);
    assert!(run.ran_build_script_of("greet"), "{}", run.stderr);
    second.assert_prints("hello, two\n");
}

#[test]
fn a_registry_package_of_another_content_is_compiled_again() {
    let word = |w: &str| {
        let env = TestEnv::new();
        env.publish(&Package::lib(
            "word",
            "1.0.0",
            &format!("pub fn word() -> &'static str {{ {w:?} }}\n"),
        ));
        env.app("word = \"1\"", "").main_printing(&["word::word()"]);
        env
    };
    let first = word("first");
    let second = word("second");
    first.assert_prints("first\n");
    support::tree::backdate(&second.ws);
    second.assert_prints("second\n");
}

/// The same patch on another pristine source: only the registry differs.
#[test]
fn a_shim_over_another_registry_source_with_the_same_patch_is_staged_again() {
    let lib = |w: &str| format!("pub fn greet() -> &'static str {{ \"{w}\" }}\n// end\n");
    let patch = unified_diff(
        "src/lib.rs",
        "// end\n",
        "// end\npub fn patched() -> bool { true }\n",
    );
    let make = |word: &str| {
        let env = TestEnv::new();
        env.publish(&Package::lib("greet", "1.0.0", &lib(word)));
        env.file("patches/greet.patch", &patch);
        env.shim(
            "patched/greet",
            &Shim::graph_wide("greet", "1.0.0").patch("../../patches/greet.patch"),
        );
        env.app(
            "greet = \"1\"",
            "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
        )
        .main_printing(&["greet::greet()", "greet::patched()"]);
        env
    };
    let first = make("one");
    let second = make("two");
    first.assert_prints("one true\n");
    support::tree::backdate(&second.ws);
    second.assert_prints("two true\n");
}
