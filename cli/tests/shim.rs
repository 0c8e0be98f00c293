//! `cargo build-patch new` and `sync` on throwaway workspaces: the shims
//! they write build with the real `cargo`, against a local registry.

use support::cli::cli;
use support::{assert_contains, repo_root, unified_diff, Dep, Package, TestEnv};

const RICH_LIB: &str = r#"//! A crate whose manifest uses everything a shim must mirror.
#![cfg_attr(not(feature = "std"), no_std)]

pub fn describe() -> &'static str {
    if cfg!(feature = "extra") { "rich with extra" } else { "rich" }
}

#[cfg(feature = "extra")]
pub fn helper() -> u32 { helper_dep::value() }
"#;

/// `rich 1.2.3`: edition 2018, a lib name other than the package's, a
/// custom lib path, features with `dep:` and `?/`, optional,
/// target-specific and renamed dependencies.
fn publish_rich(env: &TestEnv) {
    env.publish(
        &Package::lib("helper", "1.0.0", "pub fn value() -> u32 { 7 }\n").feature("std", &[]),
    );
    env.publish(&Package::lib("unix-only", "0.2.0", ""));
    env.publish(&Package::lib("never-used", "0.1.0", ""));
    env.publish(
        &Package::new("rich", "1.2.3")
            .edition("2018")
            .manifest_extra("\n[lib]\nname = \"rich_lib\"\npath = \"lib/root.rs\"\n")
            .dep_full(Dep::new("helper_dep", "1").package("helper").optional())
            .dep_full(
                Dep::new("never-used", "0.1")
                    .optional()
                    .no_default_features(),
            )
            .dep_full(Dep::new("unix-only", "0.2").target("cfg(unix)"))
            .feature("default", &["std"])
            .feature("std", &["helper_dep?/std"])
            .feature("extra", &["dep:helper_dep"])
            .file("lib/root.rs", RICH_LIB),
    );
}

fn app(env: &TestEnv, deps: &str, patch: &str) {
    env.app(deps, patch);
}

#[test]
fn new_writes_a_graph_wide_shim_that_builds() {
    let env = TestEnv::new();
    publish_rich(&env);
    env.file(
        "patches/describe.patch",
        &unified_diff(
            "lib/root.rs",
            RICH_LIB,
            &RICH_LIB.replace("\"rich\" }", "\"rich, patched\" }"),
        ),
    );
    let root = repo_root().display().to_string();
    let (ok, out) = cli(
        &env,
        &[
            "new",
            "rich@1.2.3",
            "--patch",
            "patches/describe.patch",
            "--build-patch-path",
            &root,
        ],
    );
    assert!(ok, "{out}");
    assert_contains(
        &out,
        &["[patch.crates-io]\n    rich = { path = \"patched/rich\" }"],
    );
    let manifest = std::fs::read_to_string(env.ws.join("patched/rich/Cargo.toml")).unwrap();
    assert_contains(
        &manifest,
        &[
            "name = \"rich\"",
            "edition = \"2018\"",
            "name = \"rich_lib\"",
            "patches = [\"../../patches/describe.patch\"]",
            "extra = [\"dep:helper_dep\"]",
            "helper_dep = { version = \"1\", optional = true, package = \"helper\" }",
        ],
    );
    let lib = std::fs::read_to_string(env.ws.join("patched/rich/src/lib.rs")).unwrap();
    assert_contains(&lib, &["#![cfg_attr(not(feature = \"std\"), no_std)]\n"]);

    app(
        &env,
        "rich = { version = \"1.2\", features = [\"extra\"] }",
        "[patch.crates-io]\nrich = { path = \"patched/rich\" }",
    );
    env.main_printing(&["rich_lib::describe()", "rich_lib::helper()"]);
    env.assert_prints("rich with extra 7\n");
    // Without features, the patched branch shows.
    app(
        &env,
        "rich = \"1.2\"",
        "[patch.crates-io]\nrich = { path = \"patched/rich\" }",
    );
    env.main_printing(&["rich_lib::describe()"]);
    env.assert_prints("rich, patched\n");
}

#[test]
fn new_writes_a_renamed_shim_and_refuses_to_overwrite() {
    let env = TestEnv::new();
    publish_rich(&env);
    let root = repo_root().display().to_string();
    let args = [
        "new",
        "rich@1.2.3",
        "--rename",
        "rich-patched",
        "--path",
        "shims/rich",
        "--build-patch-path",
        &root,
    ];
    let (ok, out) = cli(&env, &args);
    assert!(ok, "{out}");
    assert_contains(
        &out,
        &["rich = { package = \"rich-patched\", path = \"shims/rich\" }"],
    );
    app(
        &env,
        "rich = { package = \"rich-patched\", path = \"shims/rich\" }",
        "",
    );
    env.main_printing(&["rich::describe()"]);
    env.assert_prints("rich\n");

    let (ok, out) = cli(&env, &args);
    assert!(!ok);
    assert_contains(&out, &["already holds a crate"]);
}

#[test]
fn sync_follows_a_manifest_patch_and_keeps_the_users_additions() {
    let env = TestEnv::new();
    env.publish(&Package::lib("base", "0.8.0", "pub const V: u32 = 8;\n"));
    env.publish(&Package::lib("base", "0.11.0", "pub const V: u32 = 11;\n"));
    let manifest = "[package]\nname = \"uses-base\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[dependencies]\nbase = \"0.8\"\n";
    env.publish(
        &Package::new("uses-base", "1.0.0")
            .file("Cargo.toml", manifest)
            .file("src/lib.rs", "#![no_std]\npub fn v() -> u32 { base::V }\n"),
    );
    support::cli::new_shim(&env, "uses-base@1.0.0");
    app(
        &env,
        "uses-base = \"1\"",
        "[patch.crates-io]\nuses-base = { path = \"patched/uses-base\" }",
    );
    env.main_printing(&["uses_base::v()"]);
    env.assert_prints("8\n");

    // The user adds to the shim; then a patch to the upstream manifest.
    let shim_manifest = env.ws.join("patched/uses-base/Cargo.toml");
    let mut text = std::fs::read_to_string(&shim_manifest).unwrap();
    text = text.replace("patches = []", "patches = [\"../../patches/caret.patch\"]");
    text.push_str("\n# mine: keep\n[package.metadata.other-tool]\nsetting = 1\n");
    std::fs::write(&shim_manifest, &text).unwrap();
    env.file(
        "patches/caret.patch",
        &unified_diff(
            "Cargo.toml",
            manifest,
            &manifest.replace("\"0.8\"", "\"0.11\""),
        ),
    );
    app(
        &env,
        "uses-base = \"1\"",
        "[patch.crates-io]\nuses-base = { path = \"patched/uses-base\" }",
    );
    let run = env.fails(&["build"]);
    assert_contains(&run.stderr, &["cargo build-patch sync"]);

    let (ok, out) = cli(&env, &["sync", "patched/uses-base"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["Updated"]);
    let synced = std::fs::read_to_string(&shim_manifest).unwrap();
    assert_contains(
        &synced,
        &[
            "base = \"0.11\"",
            "# mine: keep\n[package.metadata.other-tool]\nsetting = 1",
        ],
    );
    env.assert_prints("11\n");

    // A second sync has nothing to do.
    let (ok, out) = cli(&env, &["sync", "patched/uses-base"]);
    assert!(ok && out.contains("Fresh"), "{out}");
}

#[test]
fn new_writes_a_shim_for_a_crate_that_calls_its_exported_macros_by_crate_paths() {
    // serde_core does this: rustc refuses `$crate::name!` to a
    // `#[macro_export]` macro defined inside `include!`d code, unless the
    // lint is allowed, which the generated `src/lib.rs` does.
    let macros = "#[macro_export]\nmacro_rules! inner { () => { 20 } }\n\
                  #[macro_export]\nmacro_rules! outer { () => { $crate::inner!() + 1 } }\n\
                  pub fn via_path() -> u32 { crate::outer!() * 2 }\n";
    let env = TestEnv::new();
    env.publish(&Package::lib("macros", "1.0.0", macros));
    support::cli::new_shim(&env, "macros@1.0.0");
    app(
        &env,
        "macros = \"1\"",
        "[patch.crates-io]\nmacros = { path = \"patched/macros\" }",
    );
    env.main_printing(&["macros::outer!()", "macros::via_path()"]);
    env.assert_prints("21 42\n");
}

#[test]
fn new_and_sync_carry_the_roots_extern_crate_items() {
    // rustc refuses, inside `include!`, a `#[macro_use] extern crate` whose
    // macro shadows one in scope (iso8601, failure_derive) and an
    // `extern crate x as core;` (serial-unix): the shim's root carries them.
    let vecmac = "#[macro_export]\nmacro_rules! vec { () => { \"vecmac's vec\" } }\n\
                  pub fn name() -> &'static str { \"vecmac\" }\n";
    let env = TestEnv::new();
    env.publish(&Package::lib("vecmac", "1.0.0", vecmac));
    let lib = "#![no_std]\n\n#[macro_use]\nextern crate vecmac;\n\npub fn made() -> &'static str { vec![] }\n";
    env.publish(
        &Package::new("oldroot", "0.1.0")
            .dep("vecmac", "1")
            .file("src/lib.rs", lib),
    );
    support::cli::new_shim(&env, "oldroot@0.1.0");
    let lib_rs = env.ws.join("patched/oldroot/src/lib.rs");
    let written = std::fs::read_to_string(&lib_rs).unwrap();
    assert!(
        written.contains("#![no_std]\n")
            && written.contains("\n#[macro_use]\nextern crate vecmac;\n\ninclude!"),
        "{written}"
    );
    app(
        &env,
        "oldroot = \"0.1\"",
        "[patch.crates-io]\noldroot = { path = \"patched/oldroot\" }",
    );
    env.main_printing(&["oldroot::made()"]);
    env.assert_prints("vecmac's vec\n");

    // A patch renames the crate to `core`; the user's comment in the shim stays.
    let patched = lib.replace(
        "\n#[macro_use]\nextern crate vecmac;\n",
        "\n#[macro_use]\nextern crate vecmac;\nextern crate vecmac as core;\n",
    ) + "pub fn name() -> &'static str { core::name() }\n";
    env.file(
        "patched/oldroot/as-core.patch",
        &unified_diff("src/lib.rs", lib, &patched),
    );
    let manifest = env.ws.join("patched/oldroot/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("patches = []", "patches = [\"as-core.patch\"]"),
    )
    .unwrap();
    // A shim written before `new` carried `extern crate` items lacks them all.
    let older = written.replace("#[macro_use]\nextern crate vecmac;\n", "");
    std::fs::write(&lib_rs, format!("// mine: keep\n{older}")).unwrap();
    env.main_printing(&["oldroot::made()", "oldroot::name()"]);
    let run = env.fails(&["build"]);
    assert!(
        run.stderr.contains("extern crate vecmac as core;")
            && run.stderr.contains("cargo build-patch sync"),
        "{}",
        run.stderr
    );
    let (ok, out) = cli(&env, &["sync", "patched/oldroot"]);
    assert!(ok && out.contains("Updated"), "{out}");
    let synced = std::fs::read_to_string(&lib_rs).unwrap();
    assert!(
        synced.starts_with("// mine: keep\n// A build-patch shim")
            && synced.contains(
                "\n#[macro_use]\nextern crate vecmac;\nextern crate vecmac as core;\ninclude!"
            ),
        "{synced}"
    );
    env.assert_prints("vecmac's vec vecmac\n");
}

#[test]
fn new_from_a_subdirectory_writes_under_the_root_and_words_the_wiring_for_the_manifest() {
    let env = TestEnv::new();
    publish_rich(&env);
    app(&env, "rich = \"1.2\"", "[patch.crates-io]\n");
    env.file("src/lib.rs", "");
    let root = repo_root().display().to_string();
    let out = support::cli::command()
        .args(["new", "rich@1.2.3", "--build-patch-path"])
        .arg(&root)
        .current_dir(env.ws.join("src"))
        .env("CARGO_HOME", &env.home)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(env.ws.join("patched/rich/Cargo.toml").exists(), "{text}");
    // The table exists already: the entry goes under it, with the path
    // relative to the root manifest.
    assert_contains(&text, &["Wired `rich = { path = \"patched/rich\" }` under `[patch.crates-io]` of `../Cargo.toml`"]);
    let manifest = std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap();
    assert_contains(
        &manifest,
        &["[patch.crates-io]\nrich = { path = \"patched/rich\" }\n"],
    );
    env.ok(&["build", "-q"]);

    // Another shim of the same version is not wired over the first.
    let root_arg = ["--build-patch-path", root.as_str()];
    let (ok, out) = cli(
        &env,
        &[
            &["new", "rich@1.2.3", "--path", "patched/rich2"][..],
            &root_arg,
        ]
        .concat(),
    );
    assert!(!ok, "{out}");
    assert_contains(
        &out,
        &["`[patch.crates-io] rich` already patches `rich` with `patched/rich` (rich 1.2.3)"],
    );
    assert_eq!(
        std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap(),
        manifest
    );
    // A renamed shim replaces the dependency of the package; with
    // `--no-wire`, `new` only says so.
    let (ok, out) = cli(
        &env,
        &[
            &[
                "new",
                "rich@1.2.3",
                "--rename",
                "rich-patched",
                "--path",
                "patched/rich3",
                "--no-wire",
            ][..],
            &root_arg,
        ]
        .concat(),
    );
    assert!(ok, "{out}");
    assert_contains(&out, &["replace the `rich` dependency of `Cargo.toml` (and of each other package whose own code should see the patch):\n\n    rich = { package = \"rich-patched\", path = \"patched/rich3\" }"]);
}

/// The shim `patched/NAME` wired graph-wide, with `main` printing `exprs`.
fn wire(env: &TestEnv, name: &str, exprs: &[&str]) -> std::path::PathBuf {
    app(
        env,
        &format!("{name} = \"1\""),
        &format!("[patch.crates-io]\n{name} = {{ path = \"patched/{name}\" }}"),
    );
    env.main_printing(exprs);
    env.ws.join(format!("patched/{name}/Cargo.toml"))
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The build refuses the shim in `patched/DIR`, saying `line`; then `sync`
/// updates it.
#[track_caller]
fn build_refuses_then_sync_updates(env: &TestEnv, dir: &str, line: &str) {
    let run = env.fails(&["build"]);
    assert_contains(&run.stderr, &[line]);
    let out = support::cli::ok(env, &["sync", &format!("patched/{dir}")]);
    assert_contains(&out, &["Updated"]);
}

#[test]
fn sync_fixes_what_the_build_reads_from_an_underscored_build_dependencies_table() {
    // Cargo still reads `[build_dependencies]` (before edition 2024), and so
    // does the build's comparison: a stale entry there is one `sync` removes.
    let env = TestEnv::new();
    env.publish(&Package::lib(
        "helper",
        "1.0.0",
        "pub fn value() -> u32 { 7 }\n",
    ));
    env.publish(&Package::lib("plain", "1.0.0", "pub fn v() -> u32 { 1 }\n"));
    support::cli::new_shim(&env, "plain@1.0.0");
    let manifest = wire(&env, "plain", &["plain::v()"]);
    env.assert_prints("1\n");
    support::cli::replace_in(
        &manifest,
        "[build-dependencies]\n",
        "[build_dependencies]\nhelper = \"1\"\n",
    );
    build_refuses_then_sync_updates(
        &env,
        "plain",
        "[build-dependencies] `helper`: not in the upstream",
    );
    let text = read(&manifest);
    assert_contains(&text, &["[build_dependencies]\nbuild-patch = "]);
    support::assert_lacks(&text, &["helper"]);
    env.assert_prints("1\n");
}

#[test]
fn sync_moves_a_build_dependency_out_of_the_table_cargo_ignores() {
    // With both spellings, Cargo reads `[build-dependencies]` and ignores
    // `[build_dependencies]`: a requirement there is none, for Cargo and for
    // the build's comparison, and `sync` puts it where Cargo reads it.
    let env = TestEnv::new();
    env.publish(&Package::lib(
        "helper",
        "1.0.0",
        "pub fn value() -> u32 { 7 }\n",
    ));
    let manifest = "[package]\nname = \"scripted\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n\
                    [build-dependencies]\nhelper = \"1\"\n";
    env.publish(
        &Package::new("scripted", "1.0.0")
            .file("Cargo.toml", manifest)
            .file("src/lib.rs", "pub fn v() -> u32 { 2 }\n")
            .file("build.rs", "fn main() {}\n"),
    );
    support::cli::new_shim(&env, "scripted@1.0.0");
    let shim = wire(&env, "scripted", &["scripted::v()"]);
    env.assert_prints("2\n");
    support::cli::replace_in(&shim, "helper = \"1\"\n", "");
    let text = read(&shim) + "\n[build_dependencies]\nhelper = \"1\"\n";
    std::fs::write(&shim, text).unwrap();
    build_refuses_then_sync_updates(&env, "scripted", "`helper`: missing in the shim");
    let text = read(&shim);
    assert_contains(
        &text,
        &["[build-dependencies]\nbuild-patch = ", "\nhelper = \"1\"\n"],
    );
    support::assert_lacks(&text, &["[build_dependencies]"]);
    env.assert_prints("2\n");
}

#[test]
fn sync_keeps_a_dependency_the_shim_takes_from_a_local_copy() {
    // The build does not compare the requirement or package of a `path`
    // dependency (a deliberate override): `sync` keeps it, and fixes what the
    // build does compare.
    let env = TestEnv::new();
    env.publish(&Package::lib("base", "0.8.0", "pub const V: u32 = 8;\n").feature("extra", &[]));
    let manifest = "[package]\nname = \"uses-base\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n\
                    [dependencies]\nbase = \"0.8\"\n";
    env.publish(
        &Package::new("uses-base", "1.0.0")
            .file("Cargo.toml", manifest)
            .file("src/lib.rs", "pub fn v() -> u32 { base::V }\n"),
    );
    env.file(
        "local/base/Cargo.toml",
        "[package]\nname = \"base\"\nversion = \"0.8.5\"\nedition = \"2021\"\n\
         [features]\nextra = []\n",
    );
    env.file(
        "local/base/src/lib.rs",
        "pub const V: u32 = if cfg!(feature = \"extra\") { 81 } else { 85 };\n",
    );
    support::cli::new_shim(&env, "uses-base@1.0.0");
    let shim = wire(&env, "uses-base", &["uses_base::v()"]);
    support::cli::replace_in(
        &shim,
        "base = \"0.8\"",
        "base = { path = \"../../local/base\" } # mine",
    );
    env.assert_prints("85\n");
    let before = read(&shim);
    let out = support::cli::ok(&env, &["sync", "patched/uses-base"]);
    assert_contains(&out, &["Fresh"]);
    assert_eq!(read(&shim), before);

    // A patch asks for a feature of `base`: `sync` adds it, keeping the path.
    env.file(
        "patches/extra.patch",
        &unified_diff(
            "Cargo.toml",
            manifest,
            &manifest.replace("\"0.8\"", "{ version = \"0.8\", features = [\"extra\"] }"),
        ),
    );
    support::cli::replace_in(
        &shim,
        "patches = []",
        "patches = [\"../../patches/extra.patch\"]",
    );
    build_refuses_then_sync_updates(
        &env,
        "uses-base",
        "[dependencies] `base`: features upstream [\"extra\"], the shim []",
    );
    assert_contains(
        &read(&shim),
        &["base = { path = \"../../local/base\", features = [\"extra\"] } # mine"],
    );
    env.assert_prints("81\n");
}

#[test]
fn sync_is_fresh_when_the_shim_says_the_same_in_other_words() {
    // What the build accepts, `sync` leaves as written: a requirement with
    // `^`, features in another order, another spelling of a key.
    let env = TestEnv::new();
    env.publish(&Package::lib("base", "0.8.0", "pub const V: u32 = 8;\n"));
    env.publish(
        &Package::lib("multi", "1.0.0", "pub fn v() -> u32 { base::V }\n")
            .dep_full(Dep::new("base", "0.8").no_default_features())
            .feature("both", &["a", "b"])
            .feature("a", &[])
            .feature("b", &[]),
    );
    support::cli::new_shim(&env, "multi@1.0.0");
    let shim = wire(&env, "multi", &["multi::v()"]);
    let text = read(&shim);
    let reworded = text
        .replace("both = [\"a\", \"b\"]", "both = [\"b\", \"a\"] # mine")
        .replace("version = \"0.8\"", "version = \"^0.8\"")
        .replace("default-features = false", "default_features = false");
    assert_ne!(reworded, text);
    std::fs::write(&shim, &reworded).unwrap();
    env.assert_prints("8\n");
    let out = support::cli::ok(&env, &["sync", "patched/multi"]);
    assert_contains(&out, &["Fresh"]);
    assert_eq!(read(&shim), reworded);
}

#[test]
fn sync_fails_listing_what_it_cannot_make_agree() {
    // `features` that is not a table: `sync` does not write over what it
    // cannot read, and says what the build would still refuse.
    let env = TestEnv::new();
    env.publish(&Package::lib("feat", "1.0.0", "").feature("a", &[]));
    support::cli::new_shim(&env, "feat@1.0.0");
    let dir = env.ws.join("patched/feat");
    support::cli::replace_in(&dir.join("Cargo.toml"), "[features]\na = []\n", "");
    let text = read(&dir.join("Cargo.toml"));
    std::fs::write(
        dir.join("Cargo.toml"),
        text.replacen("[package]\n", "features = \"a\"\n[package]\n", 1),
    )
    .unwrap();
    let out = support::cli::fails_changing_nothing(
        &env,
        &dir,
        &["sync", "patched/feat"],
        &[
            "does not agree with the patched manifest of `feat 1.0.0`",
            "\n  - [features] `a`: missing in the shim (upstream: [])",
        ],
    );
    support::assert_lacks(&out, &["Fresh", "Updated"]);
}

#[test]
fn sync_moves_a_git_shims_sibling_dependencies_to_its_reference() {
    // A generation choice, not a build check: the packages a git upstream
    // names by `path` come from the shim's repository at the shim's tag.
    let env = TestEnv::new();
    env.allow_file_fetches("");
    let repo = env.git_repo(
        "tools",
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"foo\", \"bar\"]\n"),
            (
                "foo/Cargo.toml",
                "[package]\nname = \"foo\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
            ),
            ("foo/src/lib.rs", ""),
            (
                "bar/Cargo.toml",
                "[package]\nname = \"bar\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\
                 [dependencies]\nfoo = { path = \"../foo\", version = \"1.0.0\" }\n",
            ),
            ("bar/src/lib.rs", ""),
        ],
    );
    let url = repo.url();
    env.app(&format!("bar = {{ git = {url:?}, tag = \"v3\" }}"), "");
    repo.git(&["tag", "v3"]);
    repo.git(&["tag", "v4"]);
    let root = repo_root().display().to_string();
    let args = ["new", "bar@0.3.0", "--git", &url, "--tag", "v3"];
    support::cli::ok(&env, &[&args[..], &["--build-patch-path", &root]].concat());
    let shim = env.ws.join("patched/bar/Cargo.toml");
    let pinned =
        |tag: &str| format!("foo = {{ version = \"1.0.0\", git = \"{url}\", tag = \"{tag}\" }}");
    assert_contains(&read(&shim), &[&pinned("v3")]);
    support::cli::replace_in(&shim, "tag = \"v3\"\n", "tag = \"v4\"\n");
    let out = support::cli::ok(&env, &["sync", "patched/bar"]);
    assert_contains(&out, &["Updated"]);
    assert_contains(&read(&shim), &[&pinned("v4")]);
    let out = support::cli::ok(&env, &["sync", "patched/bar"]);
    assert_contains(&out, &["Fresh"]);
}

#[test]
fn new_mirrors_the_build_dependencies_cargo_reads_of_an_old_manifest() {
    // With both `[build-dependencies]` and `[build_dependencies]`, Cargo
    // reads the first and ignores the second (it warns that it is
    // redundant); so does the build's comparison, and so does what `new`
    // writes: the ignored table would make the shim depend on more.
    let env = TestEnv::new();
    env.publish(&Package::lib("cc", "1.0.0", ""));
    env.publish(&Package::lib("helper", "1.0.0", ""));
    let manifest = "[package]\nname = \"old\"\nversion = \"1.0.0\"\nedition = \"2018\"\n\n\
                    [build-dependencies]\ncc = \"1.0\"\n\n[build_dependencies]\nhelper = \"1\"\n";
    env.publish(
        &Package::new("old", "1.0.0")
            .file("Cargo.toml", manifest)
            .file("src/lib.rs", "pub fn v() -> u32 { 3 }\n")
            .file("build.rs", "fn main() {}\n"),
    );
    support::cli::new_shim(&env, "old@1.0.0");
    let shim = wire(&env, "old", &["old::v()"]);
    let text = read(&shim);
    assert_contains(
        &text,
        &["[build-dependencies]\ncc = \"1.0\"\nbuild-patch = "],
    );
    support::assert_lacks(&text, &["helper"]);
    env.assert_prints("3\n");
}

// A dependency's source is the shim's to mirror: a patch that moves a
// dependency to a git fork, then goes, must leave the shim on the registry
// (found by review: `sync` said "Fresh" and the app ran the fork).
#[test]
fn sync_takes_a_dependency_back_to_the_registry_when_the_patch_that_moved_it_goes() {
    let env = TestEnv::new();
    env.allow_file_fetches("");
    env.publish(&Package::lib("base", "1.0.0", "pub const V: u32 = 1;\n"));
    let repo = env.git_repo(
        "base",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"base\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
            ),
            ("src/lib.rs", "pub const V: u32 = 42;\n"),
        ],
    );
    let manifest = "[package]\nname = \"uses-base\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n\
                    [dependencies]\nbase = \"1\"\n";
    env.publish(
        &Package::new("uses-base", "1.0.0")
            .file("Cargo.toml", manifest)
            .file("src/lib.rs", "pub fn v() -> u32 { base::V }\n"),
    );
    let to_git = manifest.replace(
        "base = \"1\"",
        &format!("base = {{ git = \"{}\" }}", repo.url()),
    );
    env.file(
        "patches/git.patch",
        &unified_diff("Cargo.toml", manifest, &to_git),
    );
    support::cli::new_shim(&env, "uses-base@1.0.0");
    env.app(
        "uses-base = \"1\"",
        "[patch.crates-io]\nuses-base = { path = \"patched/uses-base\" }",
    );
    env.main_printing(&["uses_base::v()"]);
    let shim = env.ws.join("patched/uses-base/Cargo.toml");
    env.assert_prints("1\n");
    // The patch moves `base` to the git fork: sync writes it, the app says 42.
    support::cli::replace_in(
        &shim,
        "patches = []",
        "patches = [\"../../patches/git.patch\"]",
    );
    // The build refuses the shim until it follows; sync writes the git source.
    build_refuses_then_sync_updates(&env, "uses-base", "`base`: source upstream git");
    env.assert_prints("42\n");
    // The patch is dropped (the patched upstream is the registry's again).
    support::cli::replace_in(
        &shim,
        "patches = [\"../../patches/git.patch\"]",
        "patches = []",
    );
    // A shim left on the fork is refused (it would build the fork), and
    // sync takes it back to the registry: no "Fresh" on a stale source.
    build_refuses_then_sync_updates(
        &env,
        "uses-base",
        "`base`: source upstream crates.io, the shim git",
    );
    let text = read(&shim);
    assert_contains(&text, &["base = \"1\""]);
    support::assert_lacks(&text, &["git ="]);
    env.assert_prints("1\n");
}
