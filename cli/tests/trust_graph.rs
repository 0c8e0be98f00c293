//! A wired shim is in the graph at the version it claims, or a command
//! fails and says why: `check`, `upgrade` and `new` against the graph the
//! real `cargo` resolves.

use support::cli::{cli, fails, fails_with, ok, ok_with};

use support::{
    assert_contains, assert_lacks, hash_tree, repo_root, unified_diff, Package, TestEnv,
};

const LIB: &str = "pub fn greet(name: &str) -> String {\n    format!(\"Hello {}\", name)\n}\n";
const FIXED: &str = "pub fn greet(name: &str) -> String {\n    format!(\"Hi {}\", name)\n}\n";

/// The `[patch]` table wiring the shim in `patched/greet`.
const WIRED: &str = "[patch.crates-io]\ngreet = { path = \"patched/greet\" }";

fn greet(version: &str) -> Package {
    Package::lib("greet", version, LIB)
}

/// The shim of greet `version` in `patched/greet`, wired for the app
/// depending on `deps`.
fn wire_shim(env: &TestEnv, version: &str, deps: &str) {
    shim(env, version, "patched/greet");
    env.app(deps, WIRED);
}

/// The shim of greet 1.0.1 wired for an app depending on greet 1 and on
/// `user 0.1.0`, which depends on greet by `req`.
fn wire_shim_beside(env: &TestEnv, user: &str, req: &str) {
    env.publish(&greet_user(user, req, user));
    wire_shim(env, "1.0.1", &format!("greet = \"1\"\n{user} = \"0.1\""));
}

/// A fixture `name 0.1.0` depending on greet by `req`, with a `hello()`
/// greeting `who`.
fn greet_user(name: &str, req: &str, who: &str) -> Package {
    Package::new(name, "0.1.0").dep("greet", req).file(
        "src/lib.rs",
        &format!("pub fn hello() -> String {{ greet::greet({who:?}) }}\n"),
    )
}

/// The app depending on `deps`, its lock file written.
fn locked(env: &TestEnv, deps: &str) {
    env.app(deps, "");
    env.ok(&["generate-lockfile"]);
}

/// A registry with greet 1.0.0 and 1.0.1, a patch for both, and a program
/// printing `greet("you")`.
fn env_with_greet() -> TestEnv {
    let env = TestEnv::new();
    env.publish(&greet("1.0.0"));
    env.publish(&greet("1.0.1"));
    env.file("patches/hi.patch", &unified_diff("src/lib.rs", LIB, FIXED));
    env.main_printing(&["greet::greet(\"you\")"]);
    env
}

/// Writes the shim of greet `version` under `dir`, with the patch, without
/// wiring it.
fn shim(env: &TestEnv, version: &str, dir: &str) {
    let root = repo_root().display().to_string();
    ok(
        env,
        &[
            "new",
            &format!("greet@{version}"),
            "--path",
            dir,
            "--patch",
            "patches/hi.patch",
            "--build-patch-path",
            &root,
            "--no-wire",
        ],
    );
}

#[test]
fn an_upgrade_past_an_exact_requirement_fails_and_check_names_the_requirement() {
    let env = env_with_greet();
    wire_shim(&env, "1.0.0", "greet = \"=1.0.0\"");
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));
    ok(&env, &["check"]);

    // Moving the shim to 1.0.1 would leave the graph on the registry's
    // 1.0.0: the upgrade fails and changes nothing.
    let before = hash_tree(&env.ws.join("patched"));
    let lock = std::fs::read(env.ws.join("Cargo.lock")).unwrap();
    let out = fails_with(
        &env,
        &["upgrade", "patched/greet", "1.0.1"],
        &[
            "the graph would not use",
            "`app 0.1.0` requires `greet = \"=1.0.0\"`",
            "nothing was changed",
        ],
    );
    assert_lacks(&out, &["Upgraded"]);
    assert_eq!(hash_tree(&env.ws.join("patched")), before);
    assert_eq!(std::fs::read(env.ws.join("Cargo.lock")).unwrap(), lock);
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));

    // The requirement moved by hand: now the shim is unused, which check says.
    env.app("greet = \"=1.0.1\"", WIRED);
    fails_with(
        &env,
        &["check"],
        &[
            "the graph does not use this shim",
            "`app 0.1.0` requires `greet = \"=1.0.1\"`",
            "`greet = \"=1.0.0\"`",
        ],
    );
    // What Cargo does meanwhile: the build succeeds without the patch.
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hello you"));
    // Unused now, the shim cannot be judged before the upgrade: moving it
    // to a version the graph still excludes is found after writing, and
    // every file is put back.
    env.publish(&greet("1.0.2"));
    let before = hash_tree(&env.ws.join("patched"));
    fails_with(
        &env,
        &["upgrade", "patched/greet", "1.0.2"],
        &["the build would not use", "nothing was changed in"],
    );
    assert_eq!(hash_tree(&env.ws.join("patched")), before);
    // The upgrade now lands, and the build has the patch again.
    ok_with(&env, &["upgrade", "patched/greet", "1.0.1"], &["Upgraded"]);
    ok(&env, &["check"]);
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));
}

/// The greet registry, a shim of greet 1.0.1 in `patched/greet` and one of
/// `other 0.3.0` (which nothing depends on) in `patched/other`, neither wired.
fn greet_and_other() -> TestEnv {
    let env = env_with_greet();
    env.publish(&Package::lib("other", "0.3.0", "pub fn x() {}\n"));
    shim(&env, "1.0.1", "patched/greet");
    let root = repo_root().display().to_string();
    ok(
        &env,
        &[
            "new",
            "other@0.3.0",
            "--build-patch-path",
            &root,
            "--no-wire",
        ],
    );
    env
}

#[test]
fn check_fails_for_an_unused_shim_even_beside_a_used_one() {
    let env = greet_and_other();
    // Only the unused shim: check used to say the workspace had none.
    env.app(
        "greet = \"1\"",
        "[patch.crates-io]\nother = { path = \"patched/other\" }",
    );
    fails_with(
        &env,
        &["check"],
        &["nothing in the graph depends on `other`"],
    );
    // Beside a used one: check used to pass.
    env.app(
        "greet = \"1\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }\nother = { path = \"patched/other\" }",
    );
    fails_with(
        &env,
        &["check"],
        &[
            "Checked `patched/greet`",
            "shim `patched/other`",
            "1 of 2 shim(s) failed",
        ],
    );
    // Naming the unused shim checks it too.
    fails_with(
        &env,
        &["check", "other"],
        &["nothing in the graph depends on `other`"],
    );
}

#[test]
fn a_shim_the_lock_file_passes_over_is_reported_with_the_update_command() {
    let env = env_with_greet();
    // Locked to the registry's 1.0.0 before the shim of 1.0.1 exists.
    locked(&env, "greet = \"1\"");
    env.ok(&["update", "-p", "greet", "--precise", "1.0.0"]);
    wire_shim(&env, "1.0.1", "greet = \"1\"");
    fails_with(
        &env,
        &["check"],
        &[
            "`Cargo.lock` locks `greet 1.0.0`",
            "cargo update -p greet@1.0.0 --precise 1.0.1",
        ],
    );
    env.ok(&["update", "-p", "greet@1.0.0", "--precise", "1.0.1"]);
    ok(&env, &["check"]);
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));
}

#[test]
fn a_dependency_pinning_another_version_is_named() {
    let env = env_with_greet();
    // `pinned` keeps greet at =1.0.0 (Cargo then takes 1.0.0 for the whole
    // 1.x series); the shim is 1.0.1.
    wire_shim_beside(&env, "pinned", "=1.0.0");
    let out = fails(&env, &["check"]);
    assert_contains(
        &out,
        &[
            "`pinned 0.1.0` requires `greet = \"=1.0.0\"`, which 1.0.1 does not match",
            "in a dependency's manifest",
        ],
    );
}

#[test]
fn an_unpatched_copy_of_another_series_is_a_warning() {
    let env = env_with_greet();
    env.publish(&greet("0.9.0"));
    wire_shim_beside(&env, "old-user", "0.9");
    ok_with(
        &env,
        &["check"],
        &[
            "warning: shim `patched/greet`: the graph also builds `greet 0.9.0`",
            "`old-user 0.1.0` (`greet = \"^0.9\"`)",
            "cargo build-patch new greet@0.9.0",
        ],
    );
    fails_with(
        &env,
        &["check", "--strict"],
        &["error: shim `patched/greet`: the graph also builds `greet 0.9.0`"],
    );
}

/// `new` with the wiring written for it, as a user runs it.
fn new(env: &TestEnv, args: &[&str]) -> (bool, String) {
    let root = repo_root().display().to_string();
    let mut all: Vec<&str> = vec!["new"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--build-patch-path", &root]);
    cli(env, &all)
}

/// [`new`], which must succeed; its output.
fn new_ok(env: &TestEnv, args: &[&str]) -> String {
    let (ok, out) = new(env, args);
    assert!(ok, "{out}");
    out
}

/// `new` arguments for the shim of greet 1.0.1 as `greet-patched`, with the
/// patch.
const RENAMED: &[&str] = &[
    "greet@1.0.1",
    "--rename",
    "greet-patched",
    "--patch",
    "patches/hi.patch",
];

/// [`new`], which must fail; its output.
fn new_fails(env: &TestEnv, args: &[&str]) -> String {
    let (ok, out) = new(env, args);
    assert!(!ok, "{out}");
    out
}

fn manifest(env: &TestEnv) -> String {
    std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap()
}

#[test]
fn new_wires_the_shim_keeping_the_manifest_and_takes_the_locked_version() {
    let env = env_with_greet();
    env.app("greet = \"1\" # the greeter", "# patches go here\n");
    env.ok(&["generate-lockfile"]);
    let out = new_ok(&env, &["greet", "--patch", "patches/hi.patch"]);
    assert_contains(
        &out,
        &[
            "Using greet 1.0.1, the version in `Cargo.lock`",
            "Wired `greet = { path = \"patched/greet\" }`",
        ],
    );
    // A small crate: no advice about incremental compilation.
    assert_lacks(&out, &["incremental"]);
    let text = manifest(&env);
    assert_contains(&text, &["greet = \"1\" # the greeter"]);
    assert!(
        text.contains(
            "# patches go here\n\n[patch.crates-io]\ngreet = { path = \"patched/greet\" }\n"
        ) || text.contains("[patch.crates-io]\ngreet = { path = \"patched/greet\" }\n"),
        "{text}"
    );
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));
    ok_check(&env);
}

fn ok_check(env: &TestEnv) {
    let out = ok(env, &["check"]);
    assert_lacks(&out, &["warning"]);
}

#[test]
fn new_fails_for_a_shim_the_graph_will_not_use() {
    let env = env_with_greet();
    env.publish(&Package::lib("other", "0.3.0", "pub fn x() {}\n"));
    locked(&env, "greet = \"1\"");
    // Nothing depends on `other`.
    let out = new_fails(&env, &["other@0.3.0"]);
    assert_contains(
        &out,
        &[
            "the build will not use it",
            "nothing in the graph depends on `other`",
        ],
    );
    // The lock holds greet 1.0.1: a shim of 1.0.0 is passed over.
    let out = new_fails(&env, &["greet@1.0.0", "--patch", "patches/hi.patch"]);
    assert_contains(&out, &["cargo update -p greet@1.0.1 --precise 1.0.0"]);
    // Without a version, and a crate the graph does not have.
    let out = new_fails(&env, &["absent"]);
    assert_contains(&out, &["the workspace's graph has no `absent`"]);
}

#[test]
fn two_shims_of_one_crate_are_wired_side_by_side_and_both_used() {
    let env = env_with_greet();
    env.publish(&greet("0.9.0"));
    env.publish(&greet_user("old-user", "0.9", "old"));
    env.app("greet = \"1\"\nold-user = \"0.1\"", "");
    env.file(
        "src/main.rs",
        "fn main() { println!(\"{} / {}\", greet::greet(\"you\"), old_user::hello()); }\n",
    );
    env.ok(&["generate-lockfile"]);
    // Without a version: the graph has two.
    let out = new_fails(&env, &["greet", "--patch", "patches/hi.patch"]);
    assert_contains(&out, &["has 2 of them: 0.9.0, 1.0.1"]);
    new_ok(&env, &["greet@1.0.1", "--patch", "patches/hi.patch"]);
    // Now only 0.9.0 comes from the registry; `patched/greet` is taken.
    let out = new_ok(&env, &["greet", "--patch", "patches/hi.patch"]);
    assert_contains(&out, &["Using greet 0.9.0", "in `patched/greet-0.9.0`"]);
    let text = manifest(&env);
    assert_contains(&text, &["[patch.crates-io]\ngreet = { path = \"patched/greet\" }\ngreet09 = { package = \"greet\", path = \"patched/greet-0.9.0\" }\n"]);
    env.assert_prints("Hi you / Hi old\n");
    ok_check(&env);

    // Each shim's releases are its own series'.
    let (_, out) = cli(&env, &["outdated", "greet@0.9.0"]);
    assert_contains(&out, &["newest compatible 0.9.0"]);
    // Both list `patches/hi.patch`: upgrading one would rewrite it under
    // the other.
    let out = fails(&env, &["upgrade", "greet@1.0.1", "1.0.1"]);
    assert!(
        out.contains("is a patch of `") && out.contains("too"),
        "{out}"
    );
    // A third shim of a series that is patched already is not wired over it.
    let before = manifest(&env);
    let out = new_fails(
        &env,
        &[
            "greet@1.0.1",
            "--path",
            "patched/greet-b",
            "--patch",
            "patches/hi.patch",
        ],
    );
    assert_contains(&out, &["already patches `greet` with `patched/greet`"]);
    assert_eq!(manifest(&env), before);
}

#[test]
fn new_wires_a_renamed_shim_in_place_of_the_dependency() {
    let env = env_with_greet();
    locked(
        &env,
        "greet = { version = \"1\", default-features = false }",
    );
    new_ok(&env, RENAMED);
    let text = manifest(&env);
    assert_contains(&text, &["greet = { package = \"greet-patched\", path = \"patched/greet\", default-features = false }"]);
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));
    ok_check(&env);
}

#[test]
fn a_graph_wide_shim_claiming_another_version_fails_check_and_sync() {
    let env = env_with_greet();
    locked(&env, "greet = \"1\"");
    new_ok(&env, &["greet@1.0.1", "--patch", "patches/hi.patch"]);
    // By hand: the metadata says 1.0.0 while the package stays 1.0.1.
    let path = env.ws.join("patched/greet/Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace(
        "[package.metadata.build-patch]\n",
        "[package.metadata.build-patch]\nversion = \"1.0.0\"\n",
    );
    std::fs::write(&path, &text).unwrap();
    let out = fails(&env, &["check"]);
    assert_contains(
        &out,
        &[
            "is `greet 1.0.1`, but its `[package.metadata.build-patch]` says `version = \"1.0.0\"`",
            "cargo build-patch upgrade",
        ],
    );
    fails_with(
        &env,
        &["sync", "patched/greet"],
        &["does not move a shim to another version"],
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn a_shim_that_is_a_workspace_member_is_still_reported_unused() {
    let env = env_with_greet();
    shim(&env, "1.0.0", "patched/greet");
    // A member of the workspace: `cargo metadata` lists it whatever the
    // graph takes for `greet`.
    env.app(
        "greet = \"=1.0.1\"",
        "[workspace]\nmembers = [\".\", \"patched/greet\"]\n\n[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    );
    fails_with(
        &env,
        &["check"],
        &[
            "the graph does not use this shim",
            "`app 0.1.0` requires `greet = \"=1.0.1\"`",
        ],
    );
}

#[test]
fn a_renamed_shim_beside_an_unpatched_registry_copy_is_a_warning() {
    let env = env_with_greet();
    env.publish(&greet_user("other-user", "1", "other"));
    locked(&env, "greet = \"1\"\nother-user = \"0.1\"");
    let out = new_ok(&env, RENAMED);
    assert_contains(
        &out,
        &["the graph also builds `greet 1.0.1` unpatched, for `other-user 0.1.0`"],
    );
    ok_with(
        &env,
        &["check"],
        &["warning: shim `patched/greet`: the graph also builds"],
    );
}

#[test]
fn check_fails_for_a_shim_with_no_patch_and_strict_for_unsaved_edits() {
    let env = env_with_greet();
    locked(&env, "greet = \"1\"");
    new_ok(&env, &["greet@1.0.1"]);
    fails_with(
        &env,
        &["check"],
        &["the shim lists no patch, so its build compiles the pristine `greet 1.0.1`"],
    );
    // Edited, not saved: a warning, an error with --strict.
    ok(&env, &["edit", "greet"]);
    let lib = env
        .ws
        .join("patched/greet/.build-patch-edit/tree/src/lib.rs");
    let text = std::fs::read_to_string(&lib)
        .unwrap()
        .replace("Hello", "Hi");
    std::fs::write(&lib, text).unwrap();
    fails_with(&env, &["check"], &["holds edits not saved as a patch"]);
    fails_with(
        &env,
        &["check", "--strict"],
        &["holds edits that are not saved as a patch"],
    );
    ok(&env, &["save", "greet", "-m", "Say hi"]);
    ok(&env, &["check", "--strict"]);
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));
}

#[test]
fn a_shim_configured_in_its_build_script_is_refused_not_misread() {
    let env = env_with_greet();
    locked(&env, "greet = \"1\"");
    new_ok(&env, &["greet@1.0.1", "--patch", "patches/hi.patch"]);
    // The list in code wins over the table's: the CLI would read the wrong one.
    env.file(
        "patched/greet/build.rs",
        "fn main() {\n    build_patch::Config::new().patch(\"../../patches/hi.patch\").build();\n}\n",
    );
    fails_with(
        &env,
        &["check"],
        &["gives build-patch settings in code (`patch(…)`)"],
    );
    fails_with(
        &env,
        &["edit", "greet"],
        &["move the settings into `[package.metadata.build-patch]`"],
    );
    fails(&env, &["upgrade", "greet", "1.0.0"]);
    fails(&env, &["sync", "patched/greet"]);
    // The git setters by their names.
    env.file(
        "patched/greet/build.rs",
        "fn main() {\n    build_patch::Config::new().git(\"https://example.org/greet\").git_tag(\"v1\").build();\n}\n",
    );
    fails_with(
        &env,
        &["check"],
        &["gives build-patch settings in code (`git(…)`, `git_tag(…)`)"],
    );
}

#[test]
fn new_never_wires_a_shim_beside_another_patch_of_the_series() {
    let env = env_with_greet();
    // A vendored fork of greet 1.0.1, not a shim, wired already; and the
    // same source named by its index URL.
    env.file(
        "vendor/greet-fork/Cargo.toml",
        "[package]\nname = \"greet\"\nversion = \"1.0.1\"\nedition = \"2021\"\n",
    );
    env.file("vendor/greet-fork/src/lib.rs", FIXED);
    for table in [
        "crates-io",
        "\"https://github.com/rust-lang/crates.io-index\"",
    ] {
        env.app(
            "greet = \"1\"",
            &format!("[patch.{table}]\ngreet = {{ path = \"vendor/greet-fork\" }}"),
        );
        let before = manifest(&env);
        let out = new_fails(
            &env,
            &[
                "greet@1.0.1",
                "--path",
                "patched/g",
                "--patch",
                "patches/hi.patch",
                "--no-wire",
            ],
        );
        assert_contains(
            &out,
            &["already patches `greet` with `vendor/greet-fork` (greet 1.0.1)"],
        );
        assert_eq!(manifest(&env), before);
        std::fs::remove_dir_all(env.ws.join("patched/g")).unwrap();
    }
}

#[test]
fn check_fails_for_patches_the_graph_ignores_outside_the_root_manifest() {
    let env = greet_and_other();
    env.app("greet = \"1\"", WIRED);
    ok(&env, &["check"]);
    // A shim wired in `.cargo/config.toml`, where check does not read
    // wiring: Cargo.lock still says its patch is unused.
    env.file(
        ".cargo/config.toml",
        "[patch.crates-io]\nother = { path = \"patched/other\" }\n",
    );
    fails_with(
        &env,
        &["check"],
        &["records a `[patch]` of `other 0.3.0` that the graph does not use"],
    );
    std::fs::remove_file(env.ws.join(".cargo/config.toml")).unwrap();
    // A `[patch]` in a member's manifest, which Cargo ignores.
    env.file(
        "member/Cargo.toml",
        "[package]\nname = \"member\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ngreet = \"1\"\n\n[patch.crates-io]\nother = { path = \"../patched/other\" }\n",
    );
    env.file("member/src/lib.rs", "");
    env.app(
        "greet = \"1\"\nmember = { path = \"member\" }",
        "[workspace]\n\n[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    );
    fails_with(
        &env,
        &["check"],
        &["has `[patch.crates-io] other`, which Cargo ignores"],
    );
}

#[test]
fn check_from_inside_a_shim_checks_the_workspace_around_it() {
    let env = env_with_greet();
    wire_shim(&env, "1.0.1", "greet = \"1\"");
    env.ok(&["generate-lockfile"]);
    let shim_dir = env.ws.join("patched/greet");
    let out = support::cli::command()
        .args(["check"])
        .current_dir(&shim_dir)
        .env("CARGO_HOME", &env.home)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_contains(&text, &["Checked `.`"]);
    assert!(!shim_dir.join("Cargo.lock").exists(), "{text}");
}

#[test]
fn a_shim_wired_in_cargo_config_and_used_passes_check() {
    let env = env_with_greet();
    shim(&env, "1.0.1", "patched/greet");
    env.app("greet = \"1\"", "");
    env.file(
        ".cargo/config.toml",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }\n",
    );
    ok_with(&env, &["check"], &["Checked `patched/greet`"]);
    assert!(env.ok(&["run", "-q"]).stdout.contains("Hi you"));
}

/// `new NAME` without a version once a graph-wide shim of it is wired: the
/// graph holds only the shim, and the error says so.
#[test]
fn new_without_a_version_names_the_shim_the_graph_already_takes() {
    let env = env_with_greet();
    locked(&env, "greet = \"1\"");
    new_ok(&env, &["greet@1.0.1", "--patch", "patches/hi.patch"]);
    let (ok, out) = new(&env, &["greet", "--path", "patched/again"]);
    assert!(!ok, "{out}");
    assert_contains(
        &out,
        &[&format!(
            "the workspace's graph takes `greet` only from `{}` (a path package, such as a \
             shim wired in already)",
            env.ws.join("patched/greet").display()
        )],
    );
}
