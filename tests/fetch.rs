//! The nested Cargo call that fetches a pristine source the outer build never
//! downloaded: under every Cargo command, in parallel, offline, and never
//! deadlocking with the outer build.

use support::{assert_contains, unified_diff, Package, Shim, TestEnv};

/// Two crates, each behind a graph-wide shim, so that neither is ever
/// unpacked by the outer build: both shims must ask Cargo for them.
fn two_shims(env: &TestEnv) {
    for (name, value) in [("alpha", 1), ("beta", 2)] {
        let old = format!("pub fn value() -> u32 {{ {value} }}\n");
        let new = format!("pub fn value() -> u32 {{ {value}0 }}\n");
        env.publish(
            &Package::lib(name, "1.0.0", &old)
                .file("tests/upstream.rs", "#[test] fn never_run() { panic!() }\n"),
        );
        env.file(
            &format!("patches/{name}.patch"),
            &unified_diff("src/lib.rs", &old, &new),
        );
        env.shim(
            &format!("patched/{name}"),
            &Shim::graph_wide(name, "1.0.0").patch(&format!("../../patches/{name}.patch")),
        );
    }
    env.app(
        "alpha = \"1\"\nbeta = \"1\"",
        "[patch.crates-io]\nalpha = { path = \"patched/alpha\" }\nbeta = { path = \"patched/beta\" }",
    )
    .file(
        "src/lib.rs",
        "pub fn sum() -> u32 { alpha::value() + beta::value() }\n\
         #[test] fn patched() { assert_eq!(sum(), 30); }\n",
    );
}

#[test]
fn first_command_can_be_test_doc_or_check_with_two_shims_fetching_at_once() {
    for first in [
        &["test", "-q"][..],
        &["doc", "-q"],
        &["check", "-q"],
        &["build", "-q", "-j2"],
    ] {
        let env = TestEnv::new().isolated_target();
        two_shims(&env);
        assert!(env.cached_source("alpha", "1.0.0").is_none());
        let run = env.ok(first);
        if first[0] == "test" {
            assert_contains(&run.stdout, &["1 passed"]);
        }
        // Both were fetched through the nested call, into the same Cargo home.
        assert!(env.cached_source("alpha", "1.0.0").is_some());
        assert!(env.cached_source("beta", "1.0.0").is_some());
    }
}

#[test]
fn an_offline_build_never_lets_the_nested_call_go_online() {
    let env = TestEnv::new();
    env.publish(&Package::lib("gamma", "1.0.0", "pub fn g() {}\n"));
    env.file(
        "patches/g.patch",
        &unified_diff("src/lib.rs", "pub fn g() {}\n", "pub fn g() { }\n"),
    );
    env.wire_renamed("gamma", "1.0.1", "g.patch")
        .file("src/lib.rs", "");
    // `--offline` on the command line is seen, and said in the error.
    let run = env.fails(&["build", "--offline"]);
    assert_contains(&run.stderr, &["(this build is offline)", "gamma 1.0.1"]);
}

#[test]
fn a_vendored_source_is_used_as_configured() {
    let env = TestEnv::new();
    // A copy of the crate in the workspace, as `cargo vendor` leaves it; the
    // registry does not have it at all.
    env.file(
        "vendor/delta/Cargo.toml",
        "[package]\nname = \"delta\"\nversion = \"0.4.0\"\nedition = \"2021\"\n",
    )
    .file(
        "vendor/delta/src/lib.rs",
        "pub fn d() -> &'static str { \"vendored\" }\n",
    )
    .file(
        "vendor/delta/.cargo-checksum.json",
        "{\"files\":{},\"package\":null}",
    );
    env.file(
        "patches/d.patch",
        &unified_diff(
            "src/lib.rs",
            "pub fn d() -> &'static str { \"vendored\" }\n",
            "pub fn d() -> &'static str { \"vendored, patched\" }\n",
        ),
    );
    env.shim(
        "patched/delta",
        &Shim::renamed("delta-patched", "delta", "0.4.0")
            .patch("../../patches/d.patch")
            .metadata_extra("source = \"../../vendor/delta\"\n"),
    );
    env.app(
        "delta = { package = \"delta-patched\", path = \"patched/delta\" }",
        "[workspace]\nexclude = [\"vendor\"]",
    )
    .main_printing(&["delta::d()"]);
    env.assert_prints("vendored, patched\n");

    // A source of another version is refused with both versions named.
    env.file(
        "vendor/delta/Cargo.toml",
        "[package]\nname = \"delta\"\nversion = \"0.5.0\"\nedition = \"2021\"\n",
    );
    let run = env.fails(&["build"]);
    assert_contains(&run.stderr, &["is `delta 0.5.0`, not `delta 0.4.0`"]);
}
