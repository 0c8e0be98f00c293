//! Making and maintaining patches with the CLI: edit, save, check, upgrade,
//! on throwaway workspaces built by the real `cargo`.

use support::cli::{fails_changing_nothing, fails_with, ok, ok_with, replace_in, wire_greet};

use std::path::PathBuf;
use support::{assert_contains, assert_lacks, assert_starts, read, Package, TestEnv};

/// `greet` with `pad` filler lines above the function, so that versions
/// can move it around (and a hunk has context above it).
fn greet(version: &str, pad: usize, body: &str) -> Package {
    let mut lib = String::new();
    for _ in 0..pad {
        lib.push_str("// filler\n");
    }
    lib.push_str(&format!(
        "pub fn greet(name: &str) -> String {{\n    {body}\n}}\n\npub fn version() -> &'static str {{\n    env!(\"CARGO_PKG_VERSION\")\n}}\n"
    ));
    Package::lib("greet", version, &lib)
}

const V1_BODY: &str = "format!(\"Hello {}\", name)";

/// A workspace with a graph-wide shim of greet 1.0.0, made with `new`.
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0", 3, V1_BODY));
    wire_greet(
        &env,
        "fn main() { println!(\"{} ({})\", greet::greet(\"you\"), greet::version()); }\n",
    );
    env
}

fn edit_tree(env: &TestEnv) -> PathBuf {
    support::cli::edit_tree(env, "patched/greet")
}

/// Edit twice and save twice: two ordered patches, and the shim builds.
/// [`setup`] with [`make_two_patches`]; the shim's folder.
fn with_two_patches() -> (TestEnv, PathBuf) {
    let env = setup();
    make_two_patches(&env);
    let shim = env.ws.join("patched/greet");
    (env, shim)
}

fn make_two_patches(env: &TestEnv) {
    ok_with(env, &["edit", "greet"], &["Editing greet 1.0.0"]);
    let lib = edit_tree(env).join("src/lib.rs");
    replace_in(&lib, "Hello {}", "Hello, {}");
    ok(env, &["save", "greet", "--message", "Add a comma"]);
    replace_in(&lib, "Hello, {}", "Hello, {}!");
    ok(
        env,
        &[
            "save",
            "greet",
            "-m",
            "Exclaim",
            "--forwarded",
            "https://example.org/greet/pull/2",
            "--bug",
            "https://example.org/greet/issues/1",
        ],
    );
}

#[test]
fn edit_then_save_makes_ordered_patches_that_build() {
    let (env, shim) = with_two_patches();
    let first = read(shim.join("patches/0001-add-a-comma.patch"));
    assert_starts(
        &first,
        "Description: Add a comma\nApplies-to: greet 1.0.0\n",
    );
    assert_contains(
        &first,
        &["diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n"],
    );
    let second = read(shim.join("patches/0002-exclaim.patch"));
    assert_starts(
        &second,
        "Description: Exclaim\nForwarded: https://example.org/greet/pull/2\n\
             Bug: https://example.org/greet/issues/1\nApplies-to: greet 1.0.0\n",
    );
    let manifest = read(shim.join("Cargo.toml"));
    assert_contains(
        &manifest,
        &["patches = [\"patches/0001-add-a-comma.patch\", \"patches/0002-exclaim.patch\"]"],
    );
    env.assert_prints("Hello, you! (1.0.0)\n");

    // Nothing more to save.
    fails_with(&env, &["save", "greet"], &["nothing changed"]);
    // A Cargo.toml edit updates the shim's manifest too.
    env.publish(&Package::lib("extra", "1.0.0", "pub const X: u8 = 1;\n"));
    let toml = edit_tree(&env).join("Cargo.toml");
    let mut text = read(&toml);
    text.push_str("\n[dependencies.extra]\nversion = \"1\"\n");
    std::fs::write(&toml, text).unwrap();
    ok(&env, &["save", "greet", "-m", "Depend on extra"]);
    let manifest = read(shim.join("Cargo.toml"));
    assert_contains(&manifest, &["extra"]);
    env.ok(&["build", "-q"]);
    ok(&env, &["check"]);
    // Everything is saved: `edit` opens the tree again instead of refusing.
    ok_with(&env, &["edit", "greet"], &["Editing"]);
    // Unsaved edits are kept unless thrown away on purpose.
    replace_in(&edit_tree(&env).join("src/lib.rs"), "Hello", "Hey");
    fails_with(&env, &["edit", "greet"], &["holds unsaved edits"]);
    ok(&env, &["edit", "greet", "--force"]);
}

#[test]
fn check_fails_for_each_reason() {
    let env = setup();
    make_two_patches(&env);
    ok(&env, &["check"]);
    let shim = env.ws.join("patched/greet");
    let first = shim.join("patches/0001-add-a-comma.patch");
    let original = read(&first);

    // A patch recorded against another version.
    std::fs::write(&first, original.replace("greet 1.0.0", "greet 0.9.0")).unwrap();
    fails_with(
        &env,
        &["check"],
        &["was made against `greet 0.9.0`, the shim is `greet 1.0.0`"],
    );

    // A patch that does not apply.
    std::fs::write(
        &first,
        original.replace("-    format!(\"Hello {}\"", "-    format!(\"Howdy {}\""),
    )
    .unwrap();
    fails_with(&env, &["check", "greet"], &["hunk #1"]);
    std::fs::write(&first, &original).unwrap();

    // A manifest out of sync.
    let manifest = shim.join("Cargo.toml");
    let text = read(&manifest);
    std::fs::write(&manifest, format!("{text}\n[features]\nsurprise = []\n")).unwrap();
    fails_with(
        &env,
        &["check", "patched/greet"],
        &[
            "[features] `surprise`: not in the upstream",
            "1 of 1 shim(s) failed the check",
        ],
    );
}

#[test]
fn upgrade_refreshes_drops_and_stops_on_a_conflict() {
    let (env, shim) = with_two_patches();

    // 1.1.0 moved the function down: both patches apply with an offset.
    env.publish(&greet("1.1.0", 8, V1_BODY));
    let out = ok(&env, &["upgrade", "greet", "1.1.0"]);
    assert!(
        out.contains("Refreshed") && out.contains("Upgraded"),
        "{out}"
    );
    let first = read(shim.join("patches/0001-add-a-comma.patch"));
    assert_contains(&first, &["Applies-to: greet 1.1.0", "@@ -7,7 +7,7 @@"]);
    env.assert_prints("Hello, you! (1.1.0)\n");
    ok(&env, &["check"]);

    // 2.0.0 rewrote the line: nothing may change, and an edit folder is left
    // (the app asks for 2, else the upgrade is refused before it starts).
    env.publish(&greet("2.0.0", 3, "format!(\"Hi {}\", name)"));
    fails_with(
        &env,
        &["upgrade", "greet", "2.0.0"],
        &["the graph would not use"],
    );
    env.app(
        "greet = \"2\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    );
    let out = fails_changing_nothing(
        &env,
        &shim,
        &["upgrade", "greet", "2.0.0"],
        &["hunk #1", "nothing was changed"],
    );
    assert!(edit_tree(&env).join("src/lib.rs").is_file());
    // The help says how to redo the patch (see the next test).
    assert_contains(&out, &["`cargo build-patch save greet` writes it over"]);
    // Going back to 1.x drops that unfinished upgrade.
    env.app(
        "greet = \"1\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    );
    ok(&env, &["edit", "greet", "--force"]);
    std::fs::remove_dir_all(env.ws.join("patched/greet/.build-patch-edit")).unwrap();

    // 1.2.0 took the first patch upstream: it is dropped, the second stays.
    env.publish(&greet("1.2.0", 3, "format!(\"Hello, {}\", name)"));
    let out = ok(&env, &["upgrade", "greet", "1.2.0"]);
    assert!(
        out.contains("Dropped") && out.contains("0001-add-a-comma.patch"),
        "{out}"
    );
    assert!(!shim.join("patches/0001-add-a-comma.patch").exists());
    let manifest = read(shim.join("Cargo.toml"));
    assert_contains(
        &manifest,
        &[
            "patches = [\"patches/0002-exclaim.patch\"]",
            "version = \"1.2.0\"",
        ],
    );
    env.assert_prints("Hello, you! (1.2.0)\n");
}

#[test]
fn a_patch_an_upgrade_stopped_at_is_redone_in_its_tree_and_saved_over() {
    let (env, shim) = with_two_patches();
    env.publish(&greet("2.0.0", 3, "format!(\"Hi {}\", name)"));
    let lib = edit_tree(&env).join("src/lib.rs");
    // The app asks for greet 1.x: the graph would not use a 2.0.0 shim.
    fails_with(
        &env,
        &["upgrade", "greet", "2.0.0"],
        &["requires `greet = \"^1\"`"],
    );
    env.app(
        "greet = \"2\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    );

    // The first patch stops the upgrade; redo it where the help says.
    fails_with(
        &env,
        &["upgrade", "greet", "2.0.0"],
        &["0001-add-a-comma.patch"],
    );
    fails_with(&env, &["edit", "greet"], &["waiting for"]);
    replace_in(&lib, "Hi {}", "Hi, {}");
    ok_with(&env, &["save", "greet"], &["Redone"]);
    let first = read(shim.join("patches/0001-add-a-comma.patch"));
    assert_starts(
        &first,
        "Description: Add a comma\nApplies-to: greet 2.0.0\n",
    );
    assert_contains(&first, &["+    format!(\"Hi, {}\", name)"]);

    // Again: now the second one stops it.
    fails_with(
        &env,
        &["upgrade", "greet", "2.0.0"],
        &["0002-exclaim.patch"],
    );
    replace_in(&lib, "Hi, {}", "Hi, {}!");
    ok(&env, &["save", "greet"]);
    ok_with(&env, &["upgrade", "greet", "2.0.0"], &["Upgraded"]);
    env.assert_prints("Hi, you! (2.0.0)\n");
    ok(&env, &["check"]);
}

/// A shim whose patches come from a quilt series: `save` writes the new
/// patch beside the series and appends it there, not to the manifest.
#[test]
fn save_appends_to_a_quilt_series() {
    let env = setup();
    let shim = env.ws.join("patched/greet");
    support::write(&shim.join("quilt/series"), "# the shim's patches\n");
    let manifest = shim.join("Cargo.toml");
    let text = read(&manifest).replace("patches = []", "patches = [\"quilt/series\"]");
    std::fs::write(&manifest, &text).unwrap();
    ok(&env, &["edit", "greet"]);
    replace_in(&edit_tree(&env).join("src/lib.rs"), "Hello {}", "Hello, {}");
    // What a `cargo build` in the tree leaves is not part of the patch.
    support::write(&edit_tree(&env).join("target/debug/.fingerprint/x"), "x");
    ok(&env, &["save", "greet", "-m", "Add a comma"]);
    let patch = read(shim.join("quilt/0001-add-a-comma.patch"));
    assert_lacks(&patch, &["target/"]);
    assert_eq!(
        read(shim.join("quilt/series")),
        "# the shim's patches\n0001-add-a-comma.patch\n"
    );
    assert_eq!(read(&manifest), text);
    env.assert_prints("Hello, you (1.0.0)\n");
}
