//! `cargo build-patch fetch`: after `cargo fetch` and it, an offline build
//! of a fresh Cargo home needs nothing more. The registry is the local
//! fixture one, with the network allowed: removing a crate file from it
//! afterwards stands for a machine that cannot download any more.

use support::cli::{fails, ok_with};

use support::{assert_contains, unified_diff, Package, TestEnv};

const OLD: &str = "pub fn value() -> u32 {\n    1\n}\n";
const NEW: &str = "pub fn value() -> u32 {\n    10\n}\n";

/// `app` → `bar` → `foo`, with foo patched graph-wide by a shim written by
/// hand (`new` would fetch foo itself), in a Cargo home that is not
/// offline and has never unpacked anything.
fn workspace() -> TestEnv {
    let env = TestEnv::new();
    std::fs::write(
        env.home.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"fixtures\"\n\n\
             [source.fixtures]\nlocal-registry = {:?}\n",
            env.registry.display().to_string()
        ),
    )
    .unwrap();
    env.publish(&Package::lib("foo", "1.0.0", OLD));
    env.publish(
        &Package::new("bar", "1.0.0")
            .dep("foo", "1")
            .file("src/lib.rs", "pub fn bar() -> u32 { foo::value() }\n"),
    );
    env.file("patches/foo.patch", &unified_diff("src/lib.rs", OLD, NEW));
    env.wire_graph_wide("foo", "1.0.0", "foo.patch", "bar = \"1\"")
        .main_printing(&["bar::bar()"]);
    env
}

/// What the machine can no longer download: foo's crate file.
fn cut_the_network(env: &TestEnv) {
    std::fs::remove_file(env.registry.join("foo-1.0.0.crate")).unwrap();
}

#[test]
fn cargo_fetch_then_build_patch_fetch_is_enough_for_an_offline_build() {
    let env = workspace();
    env.ok(&["fetch"]);
    // `cargo fetch` never gets the upstream of a graph-wide shim.
    assert!(env.cached_source("foo", "1.0.0").is_none());
    ok_with(&env, &["fetch"], &["Fetched foo 1.0.0 for `patched/foo`"]);
    assert!(env.cached_source("foo", "1.0.0").is_some());
    cut_the_network(&env);
    let run = env.ok(&["run", "-q", "--offline"]);
    assert_eq!(run.stdout, "10\n");
}

#[test]
fn without_build_patch_fetch_the_offline_build_fails() {
    let env = workspace();
    env.ok(&["fetch"]);
    cut_the_network(&env);
    let run = env.fails(&["build", "--offline"]);
    assert_contains(
        &run.stderr,
        &["cannot get the pristine source of `foo 1.0.0`"],
    );
    // And `fetch` says so too, naming the shim.
    let out = fails(&env, &["fetch"]);
    assert!(
        out.contains("shim `patched/foo`") && out.contains("1 of 1 shim(s)"),
        "{out}"
    );
}
