//! `cargo build-patch unify`: one copy of a shared crate across a stack of
//! fixture crates whose requirements on it disagree (`>=`, `*`, an old
//! caret), with the real `cargo`.

use support::cli as common;

use support::{assert_contains, assert_lacks, hash_tree, repo_root, Dep, Package, TestEnv};

fn unify(env: &TestEnv, args: &[&str]) -> (bool, String) {
    let root = repo_root().display().to_string();
    let mut all = vec!["unify"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--build-patch-path", &root]);
    common::cli(env, &all)
}

/// `shared` in four series; `low` (`>=0.8.0`), `star` (`*`) and `old`
/// (`0.10`) each hand out a `shared::Handle`; `mid` (`^0.11`) takes one.
/// The program passes each to `mid`: it compiles only when the graph holds
/// one `shared`.
fn stack() -> TestEnv {
    let env = TestEnv::new();
    for v in ["0.8.0", "0.10.0", "0.11.0", "0.12.0"] {
        env.publish(&Package::lib(
            "shared",
            v,
            &format!("pub struct Handle(pub u32);\npub const VERSION: &str = \"{v}\";\n"),
        ));
    }
    let maker = |name: &str, req: &str| {
        Package::new(name, "1.0.0").dep("shared", req).file(
            "src/lib.rs",
            "pub fn make() -> shared::Handle { shared::Handle(1) }\n",
        )
    };
    env.publish(&maker("low", ">=0.8.0"));
    env.publish(&maker("star", "*"));
    env.publish(&maker("old", "0.10"));
    env.publish(
        &Package::new("mid", "1.0.0")
            .dep("shared", "0.11")
            .dep("low", "1")
            .file(
                "src/lib.rs",
                "pub fn take(h: shared::Handle) -> u32 { h.0 }\npub fn version() -> &'static str { shared::VERSION }\n",
            ),
    );
    env.app("mid = \"1\"\nlow = \"1\"\nstar = \"1\"\nold = \"1\"", "");
    env.file(
        "src/main.rs",
        "fn main() {\n    let n = mid::take(low::make()) + mid::take(star::make()) + mid::take(old::make());\n    println!(\"{n} with shared {}\", mid::version());\n}\n",
    );
    env
}

/// Replaces `from` with `to` in the workspace's root `Cargo.toml`.
fn edit_manifest(env: &TestEnv, from: &str, to: &str) {
    let manifest = std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(from), "{manifest}");
    env.file("Cargo.toml", &manifest.replace(from, to));
}

/// Publishes `NAME 1.0.0` with the one dependency `dep` for each of
/// `dependents`, and makes the workspace depend on them.
fn add_dependents(env: &TestEnv, dependents: &[(&str, Dep)]) {
    let mut lines = String::from("old = \"1\"");
    for (name, dep) in dependents {
        env.publish(
            &Package::new(name, "1.0.0")
                .dep_full(dep.clone())
                .file("src/lib.rs", "pub fn n() -> u32 { 1 }\n"),
        );
        lines.push_str(&format!("\n{name} = \"1\""));
    }
    edit_manifest(env, "old = \"1\"", &lines);
}

fn shared_versions(env: &TestEnv) -> String {
    let r = env.ok(&["tree", "-i", "shared", "--depth", "0", "-e", "normal"]);
    let mut v: Vec<&str> = r.stdout.lines().collect();
    v.sort();
    v.join("\n")
}

#[test]
fn unify_patches_every_dependent_and_the_program_compiles() {
    let env = stack();
    // Two copies: the program does not compile.
    let r = env.fails(&["build"]);
    assert_contains(&r.stderr, &["E0308"]);

    // --dry-run prints and writes nothing.
    let before = hash_tree(&env.ws);
    let (ok, out) = unify(&env, &["shared@0.11", "--dry-run"]);
    assert!(ok, "{out}");
    assert_contains(
        &out,
        &[
            "low 1.0.0: `shared = \">=0.8.0\"` → `\"0.11\"`",
            "star 1.0.0",
            "old 1.0.0",
        ],
    );
    assert_lacks(&out, &["mid 1.0.0:"]);
    assert_contains(
        &out,
        &[
            "-shared = { version = \">=0.8.0\" }\n+shared = { version = \"0.11\" }",
            "Applies-to: low 1.0.0",
        ],
    );
    assert_eq!(hash_tree(&env.ws), before);

    let (ok, out) = unify(&env, &["shared@0.11"]);
    assert!(ok, "{out}");
    assert_contains(
        &out,
        &[
            "shared in the graph: before 0.10.0, 0.11.0, 0.12.0; after 0.11.0",
            "dependent",
        ],
    );
    let patch = std::fs::read_to_string(env.ws.join("patches/low-1.0.0-require-shared-0.11.patch"))
        .unwrap();
    assert!(
        patch.starts_with("Description: require shared `0.11` (was `>=0.8.0`)\n"),
        "{patch}"
    );
    assert_contains(&patch, &["\ndiff --git a/Cargo.toml b/Cargo.toml\n"]);
    let manifest = std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap();
    assert_contains(&manifest, &["low = { path = \"patched/low\" }"]);
    env.assert_prints("3 with shared 0.11.0\n");
    assert_eq!(
        shared_versions(&env)
            .lines()
            .filter(|l| l.starts_with("shared"))
            .count(),
        1
    );

    // Again: nothing to do, nothing written.
    let before = hash_tree(&env.ws.join("patched"));
    let manifest = std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap();
    let (ok, out) = unify(&env, &["shared@0.11"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["no dependent to patch"]);
    assert_eq!(hash_tree(&env.ws.join("patched")), before);
    assert_eq!(
        std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap(),
        manifest
    );
}

#[test]
fn a_dependent_with_a_shim_gets_the_patch_added_and_a_member_is_reported() {
    let env = stack();
    // `low` has a shim already (no patch yet).
    support::cli::new_shim(&env, "low@1.0.0");
    // A member of the workspace asks for the old series itself.
    edit_manifest(&env, "old = \"1\"", "old = \"1\"\nshared = \"0.10\"");
    let (ok, out) = unify(&env, &["shared@0.11"]);
    assert!(!ok, "{out}");
    assert_contains(&out, &["low 1.0.0: `shared = \">=0.8.0\"` → `\"0.11\"` (added to its shim)", "not patched, a workspace package: `app 0.1.0` requires `shared = \"^0.10\"` in `Cargo.toml`", "`app 0.1.0` keeps shared 0.10.0", "Updated `patched/low/Cargo.toml`"]);
    let shim = std::fs::read_to_string(env.ws.join("patched/low/Cargo.toml")).unwrap();
    assert_contains(
        &shim,
        &["patches = [\"../../patches/low-1.0.0-require-shared-0.11.patch\"]"],
    );
    // The shim's manifest mirrors the patched requirement.
    assert_contains(&shim, &["shared = { version = \"0.11\" }"]);

    // The member edited as it says: one copy, and the program builds.
    edit_manifest(&env, "shared = \"0.10\"", "shared = \"0.11\"");
    let (ok, out) = unify(&env, &["shared"]);
    assert!(ok, "{out}");
    env.assert_prints("3 with shared 0.11.0\n");
}

#[test]
fn new_with_require_writes_the_requirement_patch_for_one_shim() {
    let env = stack();
    let root = repo_root().display().to_string();
    let (ok, out) = common::cli(
        &env,
        &[
            "new",
            "old@1.0.0",
            "--require",
            "nothere=1",
            "--build-patch-path",
            &root,
        ],
    );
    assert!(!ok, "{out}");
    assert_contains(&out, &["old 1.0.0 has no dependency `nothere`"]);
    assert!(!env.ws.join("patched/old").exists(), "{out}");
    let (ok, out) = common::cli(
        &env,
        &[
            "new",
            "old@1.0.0",
            "--require",
            "shared=0.11",
            "--build-patch-path",
            &root,
        ],
    );
    assert!(ok, "{out}");
    let patch = std::fs::read_to_string(env.ws.join("patches/old-1.0.0-require-shared-0.11.patch"))
        .unwrap();
    assert_contains(
        &patch,
        &["-shared = { version = \"0.10\" }\n+shared = { version = \"0.11\" }"],
    );
    let shim = std::fs::read_to_string(env.ws.join("patched/old/Cargo.toml")).unwrap();
    assert_contains(&shim, &["shared = { version = \"0.11\" }"]);
    let tree = env
        .ok(&["tree", "-i", "shared@0.11.0", "-e", "normal"])
        .stdout;
    assert_contains(&tree, &["old v1.0.0"]);
}

/// A dependent whose dependency on the shared crate is optional and that
/// no feature turns on builds no copy of it: nothing to patch, no shim, and
/// its requirement is not the series to unify on (found on crates.io:
/// vm-memory 0.18.0's optional vmm-sys-util, vfio-bindings 0.7.0's optional
/// `^0.15.0`).
#[test]
fn an_optional_dependency_no_feature_turns_on_is_not_patched() {
    let env = stack();
    add_dependents(
        &env,
        &[
            ("opt", Dep::new("shared", ">=0.8.0").optional()),
            ("later", Dep::new("shared", "0.12").optional()),
        ],
    );
    // No version: the highest caret requirement of the graph Cargo builds.
    let (ok, out) = unify(&env, &["shared", "--dry-run"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["Unifying shared on `0.11`"]);
    let (ok, out) = unify(&env, &["shared@0.11", "--dry-run"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["low 1.0.0: `shared"]);
    assert_lacks(&out, &["opt 1.0.0", "Applies-to: opt"]);
    // Turned on, it is patched.
    edit_manifest(
        &env,
        "opt = \"1\"",
        "opt = { version = \"1\", features = [\"shared\"] }",
    );
    let (ok, out) = unify(&env, &["shared@0.11", "--dry-run"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["Applies-to: opt 1.0.0"]);
}

/// Two versions of one dependent, and only the newer one does not compile
/// against the unified series: the report names the version (found on
/// crates.io: kvm-ioctls 0.11's `kvm-bindings >=0.5.0` brings kvm-bindings
/// 0.14.2 next to 0.5.0, and only 0.14.2 needs vmm-sys-util 0.12+).
#[test]
fn a_dependent_that_does_not_compile_is_named_with_its_version() {
    let env = stack();
    // 1.0.0 compiles with any `shared`; 2.0.0 only with 0.12.
    env.publish(
        &Package::new("dual", "1.0.0")
            .dep("shared", ">=0.8.0")
            .file("src/lib.rs", "pub use shared::Handle;\n"),
    );
    env.publish(&Package::new("dual", "2.0.0").dep("shared", "0.12").file(
        "src/lib.rs",
        "pub const NEEDS_0_12: [(); 1] = [(); (shared::VERSION.as_bytes()[3] == b'2') as usize];\n",
    ));
    edit_manifest(
        &env,
        "old = \"1\"",
        "old = \"1\"\ndual1 = { package = \"dual\", version = \"1\" }\n\
         dual2 = { package = \"dual\", version = \"2\" }",
    );
    let (ok, out) = unify(&env, &["shared@0.11"]);
    assert!(!ok, "{out}");
    assert_contains(&out, &["the graph is unified, but the workspace does not compile against it:\n  `dual 2.0.0`: mismatched types"]);
    assert_lacks(&out, &["`dual 1.0.0`"]);
    // Said before it is built: 2.0.0 is moved back from the series it asks for.
    assert_contains(&out, &["Patch dual 2.0.0: `shared = \"^0.12\"` → `\"0.11\"` (back from the later series it asks for", "Patch dual 1.0.0: `shared = \">=0.8.0\"` → `\"0.11\"`\n"]);
    // Both versions of `dual` have a shim once unify is done: no warning
    // that one of them is left unpatched.
    assert_lacks(&out, &["unpatched"]);
    // Where: the staged upstream file and line.
    assert_contains(&out, &["/out/build-patch/dual-2.0.0/src/"]);
}

/// A dependent that asks for a later release of the series unified on
/// (`^0.11.1`, `=0.11.1` when unifying on `0.11`) already keeps to it:
/// not patched, since `0.11` would only loosen it (found on crates.io:
/// parking_lot_core 0.8.6's `redox_syscall = "^0.2.8"` under `unify
/// redox_syscall@0.2`).
#[test]
fn a_requirement_on_a_later_release_of_the_series_is_kept() {
    let env = stack();
    env.publish(&Package::lib(
        "shared",
        "0.11.1",
        "pub struct Handle(pub u32);\npub const VERSION: &str = \"0.11.1\";\n",
    ));
    add_dependents(
        &env,
        &[
            ("later", Dep::new("shared", "0.11.1")),
            ("pinned", Dep::new("shared", "=0.11.1")),
        ],
    );
    let (ok, out) = unify(&env, &["shared@0.11", "--dry-run"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["low 1.0.0: `shared"]);
    assert_lacks(&out, &["later 1.0.0", "pinned 1.0.0"]);
}

/// A shim that cannot be written (here: both folders it could go in hold a
/// crate) puts back everything written before it: the rerun starts clean,
/// in `patched/low`, not beside a leftover.
#[test]
fn a_shim_that_cannot_be_written_puts_back_everything() {
    let env = stack();
    for dir in ["patched/star", "patched/star-1.0.0"] {
        env.file(
            &format!("{dir}/Cargo.toml"),
            "[package]\nname = \"taken\"\nversion = \"0.1.0\"\n",
        );
    }
    // The lock as any cargo command leaves it: `unify` puts it back too.
    env.ok(&["generate-lockfile"]);
    let before = hash_tree(&env.ws);
    let (ok, out) = unify(&env, &["shared@0.11"]);
    assert!(!ok, "{out}");
    assert_contains(
        &out,
        &[
            "Created shim `low` in `patched/low`",
            "`patched/star-1.0.0` already holds a crate",
            "note: `unify` changed nothing: it put back every file it had written",
        ],
    );
    assert_eq!(hash_tree(&env.ws), before);
    assert!(!env.ws.join("patched/low").exists());
    assert!(!env.ws.join("patches").exists());

    std::fs::remove_dir_all(env.ws.join("patched/star")).unwrap();
    let (ok, out) = unify(&env, &["shared@0.11"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["Created shim `low` in `patched/low`"]);
    assert!(!env.ws.join("patched/low-1.0.0").exists(), "{out}");
}
