//! A build either has the patch, or fails and says why: shims whose
//! configuration disagrees with what Cargo builds, and the messages of a
//! failed patch, with the real `cargo` against the local registry.

use support::{assert_contains, assert_lacks, unified_diff, Package, Shim, TestEnv};

const GREET: &str = "pub fn greet(name: &str) -> String {\n    format!(\"Hello {}\", name)\n}\n";
const GREET_FIXED: &str =
    "pub fn greet(name: &str) -> String {\n    format!(\"Hello, {}!\", name)\n}\n";

/// `greet` at `version`, whose `VERSION` constant says which one it is.
fn greet(version: &str) -> Package {
    Package::lib(
        "greet",
        version,
        &format!("{GREET}pub const VERSION: &str = \"{version}\";\n"),
    )
}

/// The comma fix, made with `diff -u` against any `greet`.
fn comma_patch() -> String {
    unified_diff("src/lib.rs", GREET, GREET_FIXED)
}

/// The comma fix with the header `cargo build-patch save` writes, recording
/// the version it was made for.
fn saved_comma_patch(version: &str) -> String {
    format!(
        "Description: a comma\nApplies-to: greet {version}\n\n{}",
        comma_patch()
    )
}

/// The workspace's `app`, which prints what it got from `greet`, wired to
/// the graph-wide shim in `patched/greet`.
/// The graph-wide shim of greet `version` listing the patch `patch`,
/// wired by [`graph_wide_app`].
fn wired_shim(env: &TestEnv, version: &str, patch: &str) {
    env.shim(
        "patched/greet",
        &Shim::graph_wide("greet", version).patch(patch),
    );
    graph_wide_app(env);
}

fn graph_wide_app(env: &TestEnv) {
    env.app(
        "greet = \"1.0\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    )
    .file(
        "src/main.rs",
        "fn main() {\n    println!(\"{} {}\", greet::greet(\"app\"), greet::VERSION);\n}\n",
    );
}

#[test]
fn a_graph_wide_shim_that_stages_another_version_than_its_own_fails() {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    env.publish(&greet("1.0.1"));
    env.file("patches/comma.patch", &comma_patch());
    // Named and versioned `greet 1.0.1`, configured for 1.0.0: rustc would
    // compile 1.0.0's code as `greet v1.0.1`.
    env.shim(
        "patched/greet",
        &Shim::graph_wide("greet", "1.0.1")
            .patch("../../patches/comma.patch")
            .metadata_extra("crate = \"greet\"\nversion = \"1.0.0\"\n"),
    );
    graph_wide_app(&env);
    let err = env.fails(&["build"]).stderr;
    let manifest = env.ws.join("patched/greet/Cargo.toml");
    assert_contains(
        &err,
        &[&format!(
            "the graph-wide shim `{}` is `greet 1.0.1`, but its `[package.metadata.build-patch]` \
             says `version = \"1.0.0\"`",
            manifest.display()
        )],
    );
    let dir = env.ws.join("patched/greet");
    assert_contains(
        &err,
        &[
            &format!("`cargo build-patch upgrade {} 1.0.1`", dir.display()),
            "make `version` match",
        ],
    );

    // With the versions agreeing, it builds 1.0.1, patched.
    env.shim(
        "patched/greet",
        &Shim::graph_wide("greet", "1.0.1")
            .patch("../../patches/comma.patch")
            .metadata_extra("crate = \"greet\"\nversion = \"1.0.1\"\n"),
    );
    env.assert_prints("Hello, app! 1.0.1\n");
}

#[test]
fn a_renamed_shim_may_patch_another_version_than_its_own() {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    env.file("patches/comma.patch", &comma_patch());
    // `greet-patched 1.0.1`, patching greet 1.0.0: a renamed shim has its
    // own name and version.
    let mut shim =
        Shim::renamed("greet-patched", "greet", "1.0.0").patch("../../patches/comma.patch");
    shim.version = "1.0.1".into();
    env.shim("patched/greet", &shim);
    env.app(
        "greet = { package = \"greet-patched\", path = \"patched/greet\" }",
        "",
    )
    .file(
        "src/main.rs",
        "fn main() {\n    println!(\"{} {}\", greet::greet(\"app\"), greet::VERSION);\n}\n",
    );
    env.assert_prints("Hello, app! 1.0.0\n");
}

#[test]
fn a_patch_made_for_another_version_says_so_when_it_fails() {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    // 1.1.0 rewrote the line the patch changes.
    env.publish(&Package::lib(
        "greet",
        "1.1.0",
        &format!(
            "{}pub const VERSION: &str = \"1.1.0\";\n",
            GREET.replace("Hello {}", "Hello there {}")
        ),
    ));
    env.file("patches/comma.patch", &saved_comma_patch("1.0.0"));
    wired_shim(&env, "1.1.0", "../../patches/comma.patch");
    let err = env.fails(&["build"]).stderr;
    // Cargo indents the build script's output by two spaces.
    let failure = "error: patch `../../patches/comma.patch` does not apply to `src/lib.rs`: \
                   hunk #1 failed\n    note: `../../patches/comma.patch` was made for `greet 1.0.0` \
                   (its `Applies-to:` line), and this is `greet 1.1.0`\n";
    assert!(err.contains(failure), "{err}");
}

#[test]
fn a_missing_patch_is_shown_normalised_with_the_close_name_that_exists() {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    env.file("patches/greet-comma.patch", &comma_patch());
    wired_shim(&env, "1.0.0", "./../../patches/greet-coma.patch");
    let err = env.fails(&["build"]).stderr;
    assert_contains(
        &err,
        &[&format!(
            "error: patch `../../patches/greet-coma.patch` does not exist: there is no `{}`\n    \
             help: did you mean `../../patches/greet-comma.patch`?\n",
            env.ws.join("patches/greet-coma.patch").display()
        )],
    );
    assert_lacks(&err, &["patched/greet/."]);

    // One `..` short: the same path from the directory above.
    env.shim(
        "patched/greet",
        &Shim::graph_wide("greet", "1.0.0").patch("../patches/greet-comma.patch"),
    );
    let err = env.fails(&["build"]).stderr;
    assert_contains(
        &err,
        &["help: did you mean `../../patches/greet-comma.patch`?"],
    );
}

#[test]
fn a_wrong_strip_level_suggests_strip_in_the_metadata_and_in_a_series() {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    // Made from inside the crate: `src/lib.rs`, no `a/` and `b/`.
    let p0 = comma_patch()
        .replace("--- a/", "--- ")
        .replace("+++ b/", "+++ ");
    env.file("patches/comma.patch", &p0);
    wired_shim(&env, "1.0.0", "../../patches/comma.patch");
    let err = env.fails(&["build"]).stderr;
    assert_contains(
        &err,
        &[
            "help: `src/lib.rs` exists: this patch needs strip level 0, not 1: set `strip = 0` \
             in `[package.metadata.build-patch]` (for every patch of the shim), or write `-p0` \
             after its name in a quilt series (for this one)",
        ],
    );
    // As it says, it builds.
    env.shim(
        "patched/greet",
        &Shim::graph_wide("greet", "1.0.0")
            .patch("../../patches/comma.patch")
            .metadata_extra("strip = 0\n"),
    );
    env.assert_prints("Hello, app! 1.0.0\n");
}

/// `greet 1.0.1`: the same code as 1.0.0, and a new feature in its manifest.
fn greet_with_a_feature() -> Package {
    greet("1.0.1").feature("extra", &[])
}

/// Bumps the version in the manifest of the shim at `patched/greet` by hand.
fn bump(env: &TestEnv, from: &str, to: &str) {
    let path = env.ws.join("patched/greet/Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let old = format!("version = \"{from}\"");
    assert!(text.contains(&old), "{text}");
    std::fs::write(
        &path,
        text.replacen(&old, &format!("version = \"{to}\""), 1),
    )
    .unwrap();
}

#[test]
fn a_hand_bumped_shim_version_points_at_upgrade_not_sync() {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    env.publish(&greet_with_a_feature());
    env.file("patches/comma.patch", &saved_comma_patch("1.0.0"));
    wired_shim(&env, "1.0.0", "../../patches/comma.patch");
    env.assert_prints("Hello, app! 1.0.0\n");

    bump(&env, "1.0.0", "1.0.1");
    let err = env.fails(&["build"]).stderr;
    let dir = env.ws.join("patched/greet");
    assert_contains(
        &err,
        &[
            "the shim was made for `greet 1.0.0` (the `Applies-to:` line of \
             `../../patches/comma.patch`), and its version is now 1.0.1",
            &format!(
                "help: `cargo build-patch upgrade {} 1.0.1` moves a shim to another version",
                dir.display()
            ),
        ],
    );
    assert_lacks(&err, &["build-patch sync"]);
}

#[test]
fn a_hand_bumped_shim_version_is_seen_from_the_header_new_writes() {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    env.publish(&greet_with_a_feature());
    // A patch of the user's own, with no `Applies-to:`, and the header line
    // `cargo build-patch new` writes.
    env.file("patches/comma.patch", &comma_patch());
    env.shim(
        "patched/greet",
        &Shim::graph_wide("greet", "1.0.0").patch("../../patches/comma.patch"),
    );
    let path = env.ws.join("patched/greet/Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!(
            "# A build-patch shim: compiles greet 1.0.0 with the patches below applied.\n{text}"
        ),
    )
    .unwrap();
    graph_wide_app(&env);
    bump(&env, "1.0.0", "1.0.1");
    let err = env.fails(&["build"]).stderr;
    assert_contains(&err, &[&format!(
            "the shim was made for `greet 1.0.0` (the header comment of `{}`), and its version is now 1.0.1",
            path.display()
        ), &format!(
            "`cargo build-patch upgrade {} 1.0.1`",
            env.ws.join("patched/greet").display()
        )]);
    assert_lacks(&err, &["build-patch sync"]);
}
