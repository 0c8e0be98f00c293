//! The CLI on shims of git repositories and alternative registries: `new`
//! (with flags, or the source the graph takes), the `[patch."URL"]` and
//! `[patch.NAME]` wiring, edit/save, check, fetch, upgrade --tag, outdated.

use support::cli::{edit_tree, fails, ok, ok_with, replace_in};

use support::{assert_contains, assert_lacks, GitRepo, Package, TestEnv};

const LIB: &str = "pub fn greet() -> &'static str {\n    \"hello\"\n}\n";

fn manifest(version: &str) -> String {
    format!("[package]\nname = \"greet\"\nversion = \"{version}\"\nedition = \"2021\"\n")
}

fn build_patch_path() -> String {
    support::repo_root().display().to_string()
}

/// An environment that may fetch `file://` URLs, with a repository holding
/// `greet 1.0.0` (tagged `v1`), and an app depending on it as `dep` says
/// (`{url}` stands for the repository's URL).
fn git_env(dep: &str) -> (TestEnv, GitRepo) {
    let env = TestEnv::new();
    env.allow_file_fetches("");
    let repo = env.git_repo(
        "greet",
        &[("Cargo.toml", &manifest("1.0.0")), ("src/lib.rs", LIB)],
    );
    repo.git(&["tag", "v1"]);
    env.app(&dep.replace("{url}", &repo.url()), "")
        .main_printing(&["greet::greet()"]);
    (env, repo)
}

/// `new greet@1.0.0 --git URL --tag v1`.
fn new_at_v1(env: &TestEnv, url: &str) -> String {
    let bp = build_patch_path();
    let args = [
        "new",
        "greet@1.0.0",
        "--git",
        url,
        "--tag",
        "v1",
        "--build-patch-path",
        &bp,
    ];
    ok(env, &args)
}

/// Asserts that the workspace's file `rel` holds `needle`.
fn file_has(env: &TestEnv, rel: &str, needle: &str) {
    let text = std::fs::read_to_string(env.ws.join(rel)).unwrap();
    assert!(
        text.contains(needle),
        "{rel}:\n{text}\n---\nwanted: {needle}"
    );
}

/// `edit greet`, make it greet with `greeting`, `save greet`: the app says it.
fn edit_and_save(env: &TestEnv, greeting: &str) {
    edit_and_save_file(env, "greet", "\"hello\"", &format!("{greeting:?}"));
    assert_eq!(run_app(env), format!("{greeting}\n"));
}

/// `edit SHIM`, replace `from` by `to` in its `src/lib.rs`, `save SHIM`.
fn edit_and_save_file(env: &TestEnv, shim: &str, from: &str, to: &str) {
    ok(env, &["edit", shim]);
    replace_in(
        &edit_tree(env, &format!("patched/{shim}")).join("src/lib.rs"),
        from,
        to,
    );
    ok(env, &["save", shim, "-m", "Patch it"]);
}

fn run_app(env: &TestEnv) -> String {
    env.ok(&["run", "-q"]).stdout
}

#[test]
fn new_with_git_flags_wires_the_repository_s_patch_table_and_edit_save_check_fetch_work() {
    let (env, repo) = git_env("greet = { git = \"{url}\", tag = \"v1\" }");
    let url = repo.url();
    let out = new_at_v1(&env, &url);
    assert_contains(
        &out,
        &[
            &format!("Staging greet 1.0.0 from the git repository `{url}` (tag `v1`)"),
            &format!("under `[patch.\"{url}\"]`"),
        ],
    );
    file_has(
        &env,
        "Cargo.toml",
        &format!("[patch.\"{url}\"]\ngreet = {{ path = \"patched/greet\" }}"),
    );
    file_has(
        &env,
        "patched/greet/Cargo.toml",
        &format!("git = \"{url}\"\ntag = \"v1\"\n"),
    );

    edit_and_save(&env, "hello, patched");
    let out = ok(&env, &["check"]);
    assert_lacks(&out, &["warning"]);
    ok(&env, &["fetch"]);

    // Another tag: the patch is re-applied there, the shim names the tag.
    let v2 = format!("{LIB}\n\n\npub fn tag() -> &'static str {{ \"v2\" }}\n");
    repo.commit(&[("src/lib.rs", &v2)], "v2");
    repo.git(&["tag", "v2"]);
    ok_with(&env, &["upgrade", "greet", "--tag", "v2"], &["Upgraded"]);
    file_has(&env, "patched/greet/Cargo.toml", "tag = \"v2\"");
    env.main_printing(&["greet::greet()", "greet::tag()"]);
    assert_eq!(run_app(&env), "hello, patched v2\n");
    // A tag of another version: the shim moves to it.
    let v3 = v2.replace("v2", "v3");
    repo.commit(
        &[("Cargo.toml", &manifest("1.1.0")), ("src/lib.rs", &v3)],
        "1.1.0",
    );
    repo.git(&["tag", "v3"]);
    ok_with(
        &env,
        &["upgrade", "greet", "--tag", "v3"],
        &["Upgraded `greet` to greet 1.1.0"],
    );
    file_has(&env, "patched/greet/Cargo.toml", "version = \"1.1.0\"");
    assert_eq!(run_app(&env), "hello, patched v3\n");
    let err = fails(&env, &["upgrade", "greet", "--compatible"]);
    assert_contains(
        &err,
        &["has no releases to pick from", "upgrade greet --rev REV"],
    );
}

#[test]
fn new_without_flags_takes_the_git_source_of_the_graph_and_a_renamed_shim_too() {
    let (env, repo) = git_env("greet = { git = \"{url}\", branch = \"main\" }");
    let url = repo.url();
    let out = ok(
        &env,
        &["new", "greet", "--build-patch-path", &build_patch_path()],
    );
    assert_contains(&out, &[&format!(
            "Using greet 1.0.0 from the git repository `{url}` (branch `main`), the source in `Cargo.lock`"
        )]);
    file_has(&env, "Cargo.toml", &format!("[patch.\"{url}\"]"));
    assert_eq!(run_app(&env), "hello\n");

    // A renamed shim of the same source, as a dependency of the app.
    let out = ok(
        &env,
        &[
            "new",
            "greet@1.0.0",
            "--rename",
            "greet-own",
            "--path",
            "patched/greet-own",
            "--build-patch-path",
            &build_patch_path(),
            "--no-wire",
        ],
    );
    assert_contains(&out, &["from the git repository"]);
    file_has(
        &env,
        "patched/greet-own/Cargo.toml",
        &format!("git = \"{url}\"\nbranch = \"main\""),
    );
}

#[test]
fn check_names_a_git_patch_that_no_dependency_from_that_repository_needs() {
    let (env, repo) = git_env("greet = { git = \"{url}\", tag = \"v1\" }");
    let url = repo.url();
    new_at_v1(&env, &url);
    // The app moves to crates.io's greet: the `[patch."URL"]` entry is
    // left over, and the build is unpatched.
    env.publish(&Package::lib("greet", "1.0.0", LIB));
    replace_in(
        &env.ws.join("Cargo.toml"),
        &format!("greet = {{ git = \"{url}\", tag = \"v1\" }}"),
        "greet = \"1\"",
    );
    let err = fails(&env, &["check"]);
    assert_contains(&err, &["the graph does not use this shim", &format!(
            "nothing in the graph depends on `greet` from `{url}`, the only source a `[patch.\"{url}\"]` entry stands for; `app 0.1.0` (`greet = \"^1\"`) takes it from elsewhere"
        )]);
}

support::registry_tests!(alternative_registry:
    an_alternative_registry_shim_from_the_graph_with_patch_name_and_outdated,
    a_sparse_registry_shim_from_the_graph_with_patch_name_and_outdated);

/// `make` writes the registry `corp` and returns its Cargo config table.
fn alternative_registry(make: fn(&TestEnv, &str, &[Package]) -> String) {
    let env = TestEnv::new();
    let corp = make(
        &env,
        "corp",
        &[
            Package::lib("greet", "1.0.0", LIB),
            Package::lib("greet", "1.1.0", LIB),
        ],
    );
    env.allow_file_fetches(&corp);
    env.app("greet = { version = \"=1.0.0\", registry = \"corp\" }", "")
        .main_printing(&["greet::greet()"]);
    let out = ok(
        &env,
        &["new", "greet", "--build-patch-path", &build_patch_path()],
    );
    assert_contains(
        &out,
        &["Using greet 1.0.0 from the registry `corp`, the source in `Cargo.lock`"],
    );
    file_has(
        &env,
        "Cargo.toml",
        "[patch.corp]\ngreet = { path = \"patched/greet\" }",
    );
    file_has(&env, "patched/greet/Cargo.toml", "registry = \"corp\"");
    edit_and_save(&env, "hello, corp");
    ok(&env, &["check"]);
    // `outdated` asks corp, not crates.io (which has no greet at all).
    let (_, out) = support::cli::cli(&env, &["outdated"]);
    assert_contains(&out, &[", newest 1.1.0"]);

    // A release published since: `--offline` answers from the index Cargo
    // has (without it), the next online look sees it.
    let dir = env.root.join("registry-corp");
    Package::lib("greet", "1.2.0", LIB).publish_to(&dir);
    if dir.join("index/.git").is_dir() {
        for args in [&["add", "-A"][..], &["commit", "-q", "-m", "1.2.0"]] {
            let st = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .current_dir(dir.join("index"))
                .status()
                .unwrap();
            assert!(st.success());
        }
    }
    let (_, out) = support::cli::cli(&env, &["outdated", "--offline"]);
    assert_contains(&out, &[", newest 1.1.0"]);
    let (_, out) = support::cli::cli(&env, &["outdated"]);
    assert_contains(&out, &[", newest 1.2.0"]);
}

#[test]
fn new_refuses_to_guess_between_two_sources_of_one_version() {
    let (env, repo) = git_env(
        "greet = { git = \"{url}\", tag = \"v1\" }\npublic = { package = \"greet\", version = \"1\" }",
    );
    env.publish(&Package::lib("greet", "1.0.0", LIB));
    let err = fails(
        &env,
        &[
            "new",
            "greet@1.0.0",
            "--build-patch-path",
            &build_patch_path(),
        ],
    );
    let git = format!("the git repository `{}` (tag `v1`)", repo.url());
    for wanted in [
        "the workspace's graph has `greet 1.0.0` from 2 sources: ",
        "crates.io",
        &git,
    ] {
        assert!(err.contains(wanted), "{err}\n---\nwanted: {wanted}");
    }
    assert_contains(&err, &["`--registry crates-io` for crates.io's"]);
    assert!(!env.ws.join("patched/greet").exists());
    let out = ok(
        &env,
        &[
            "new",
            "greet@1.0.0",
            "--registry",
            "crates-io",
            "--build-patch-path",
            &build_patch_path(),
        ],
    );
    assert_contains(
        &out,
        &[
            "under `[patch.crates-io]`",
            &format!(
            "the shim stands in for its crate from crates.io only\n  help: if that copy needs the \
             fix too, add a shim of it: `cargo build-patch new greet@1.0.0 --git {} --tag v1`",
            repo.url()
        ),
        ],
    );
}

/// A shim written by hand (`new` would fetch the repository itself), in a
/// Cargo home that has never fetched it: `cargo fetch` and `cargo
/// build-patch fetch`, then the repository is gone and the build is
/// offline.
#[test]
fn fetch_then_an_offline_build_of_a_git_shim() {
    let (env, repo) = git_env("greet = { git = \"{url}\", tag = \"v1\" }");
    let url = repo.url();
    env.file(
        "patches/greet.patch",
        &support::unified_diff("src/lib.rs", LIB, &LIB.replace("hello", "hello, fetched")),
    );
    env.shim(
        "patched/greet",
        &support::Shim::graph_wide("greet", "1.0.0")
            .patch("../../patches/greet.patch")
            .metadata_extra(&format!("git = {url:?}\ntag = \"v1\"\n")),
    );
    env.app(
        &format!("greet = {{ git = {url:?}, tag = \"v1\" }}"),
        &format!("[patch.{url:?}]\ngreet = {{ path = \"patched/greet\" }}"),
    );
    env.ok(&["fetch"]);
    ok_with(
        &env,
        &["fetch"],
        &["Fetched greet 1.0.0 for `patched/greet`"],
    );
    std::fs::remove_dir_all(&repo.dir).unwrap();
    let run = env.ok(&["run", "-q", "--offline"]);
    assert_eq!(run.stdout, "hello, fetched\n");
}

/// The branch moved on to 1.1.0 after the lock: the branch still stands
/// for the locked 1.0.0, and a shim of the new commit is not used until the
/// lock moves; both say how (no `--precise VERSION`: that takes a commit
/// for a git package).
#[test]
fn a_shim_of_a_newer_branch_head_names_the_update_that_moves_the_lock() {
    let (env, repo) = git_env("greet = { git = \"{url}\", branch = \"main\" }");
    let url = repo.url();
    env.ok(&["generate-lockfile"]);
    let head = repo.commit(&[("Cargo.toml", &manifest("1.1.0"))], "1.1.0");
    let bp = build_patch_path();
    let new = |reference: &str, value: &str| {
        let args = [
            "new",
            "greet@1.1.0",
            "--git",
            &url,
            reference,
            value,
            "--build-patch-path",
            &bp,
        ];
        let err = fails(&env, &args);
        let _ = std::fs::remove_dir_all(env.ws.join("patched"));
        err
    };
    let err = new("--branch", "main");
    for wanted in [
        "is `greet 1.0.0`, not `greet 1.1.0`",
        "note: the branch `main` stands for the commit ",
        "`cargo update -p greet` moves the lock to the branch's head",
    ] {
        assert!(err.contains(wanted), "{err}\n---\nwanted: {wanted}");
    }
    let err = new("--rev", &head);
    for wanted in [
        "the build will not use it",
        &format!("`Cargo.lock` locks `greet 1.0.0` from `git+{url}?branch=main#"),
        "help: `cargo update -p greet@1.0.0` moves the lock to the shim",
    ] {
        assert!(err.contains(wanted), "{err}\n---\nwanted: {wanted}");
    }
}

/// A repository's workspace: `bar` depends on its sibling `foo` by path.
/// A shim of `bar` names `foo` by the repository (as Cargo takes it), so
/// the graph holds one `foo`.
#[test]
fn a_shim_of_a_package_with_a_sibling_path_dependency() {
    let env = TestEnv::new();
    env.allow_file_fetches("");
    let foo = "pub fn name() -> &'static str { \"foo\" }\n";
    let bar = "pub fn name() -> String { format!(\"bar+{}\", foo::name()) }\n";
    let repo = env.git_repo(
        "tools",
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"foo\", \"bar\"]\n"),
            (
                "foo/Cargo.toml",
                "[package]\nname = \"foo\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
            ),
            ("foo/src/lib.rs", foo),
            (
                "bar/Cargo.toml",
                "[package]\nname = \"bar\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\
                 [dependencies]\nfoo = { path = \"../foo\", version = \"1.0.0\" }\n",
            ),
            ("bar/src/lib.rs", bar),
        ],
    );
    let url = repo.url();
    env.app(
        &format!(
            "bar = {{ git = {url:?}, tag = \"v3\" }}\nfoo = {{ git = {url:?}, tag = \"v3\" }}"
        ),
        "",
    )
    .main_printing(&["bar::name()", "foo::name()"]);
    repo.git(&["tag", "v3"]);
    let out = ok(
        &env,
        &[
            "new",
            "bar@0.3.0",
            "--build-patch-path",
            &build_patch_path(),
        ],
    );
    assert_contains(&out, &["(tag `v3`), the source in `Cargo.lock`"]);
    file_has(
        &env,
        "patched/bar/Cargo.toml",
        &format!("foo = {{ version = \"1.0.0\", git = \"{url}\", tag = \"v3\" }}"),
    );
    edit_and_save_file(&env, "bar", "\"bar+{}\"", "\"patched bar+{}\"");
    assert_eq!(run_app(&env), "patched bar+foo foo\n");
    let lock = std::fs::read_to_string(env.ws.join("Cargo.lock")).unwrap();
    assert_eq!(lock.matches("name = \"foo\"").count(), 1, "{lock}");
    ok(&env, &["check"]);
}
