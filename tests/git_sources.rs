//! Upstreams from git repositories and alternative registries: local git
//! repositories and a git index reached by `file://` URLs, the real `cargo`.

use support::{assert_contains, assert_lacks, unified_diff, GitRepo, Package, Shim, TestEnv};

const LIB: &str = "pub fn name() -> &'static str { \"pristine\" }\n\
                   pub fn value() -> u32 { 1 }\n";

/// `LIB` with `value` returning `value`.
fn lib(value: u32) -> String {
    LIB.replace("{ 1 }", &format!("{{ {value} }}"))
}

/// The patch every test applies: `name()` says "patched". It applies to
/// every `lib(N)`.
fn name_patch(env: &TestEnv) {
    env.file(
        "patches/foo.patch",
        &unified_diff(
            "src/lib.rs",
            "pub fn name() -> &'static str { \"pristine\" }\n",
            "pub fn name() -> &'static str { \"patched\" }\n",
        ),
    );
}

fn manifest(name: &str, version: &str, deps: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n{deps}")
}

/// A repository holding the one package `foo 1.0.0` whose `value()` is 1.
fn single_repo(env: &TestEnv) -> GitRepo {
    env.git_repo(
        "foo",
        &[
            ("Cargo.toml", &manifest("foo", "1.0.0", "")),
            ("src/lib.rs", &lib(1)),
        ],
    )
}

/// The app's test: what `foo` (through `path`) says.
fn app_test(path: &str, name: &str, value: u32) -> String {
    format!(
        "#[test] fn upstream() {{ assert_eq!(({path}::name(), {path}::value()), ({name:?}, {value})); }}\n"
    )
}

/// Runs `cargo ARGS` (a test run), which must pass its one test.
fn passes(env: &TestEnv, args: &[&str]) {
    let run = env.ok(args);
    assert_contains(&run.stdout, &["1 passed"]);
}

/// An environment that may fetch `file://` URLs, with the single-package
/// repository and the patch.
fn git_env() -> (TestEnv, GitRepo) {
    let env = TestEnv::new();
    env.allow_file_fetches("");
    let repo = single_repo(&env);
    name_patch(&env);
    (env, repo)
}

fn git_shim(url: &str, reference: &str) -> Shim {
    Shim::graph_wide("foo", "1.0.0")
        .patch("../../patches/foo.patch")
        .metadata_extra(&format!("git = {url:?}\n{reference}\n"))
}

#[test]
fn a_tagged_git_dependency_is_patched_graph_wide_and_builds_offline_after_clean() {
    let env = TestEnv::new().isolated_target();
    env.allow_file_fetches("");
    let repo = single_repo(&env);
    repo.git(&["tag", "v1"]);
    let url = repo.url();
    name_patch(&env);
    env.shim("patched/foo", &git_shim(&url, "tag = \"v1\""));
    env.app(
        &format!("foo = {{ git = {url:?}, tag = \"v1\" }}"),
        &format!("[patch.{url:?}]\nfoo = {{ path = \"patched/foo\" }}"),
    )
    .file("src/lib.rs", &app_test("foo", "patched", 1));
    passes(&env, &["test", "-q"]);
    // The source came from Cargo's git checkouts, not a registry, and the
    // checkout's `.git` is not part of the staged copy.
    assert!(env.home.join("git/checkouts").is_dir());
    assert!(env.cached_source("foo", "1.0.0").is_none());
    let staged: Vec<_> = std::fs::read_dir(env.target_dir.join("debug/build"))
        .unwrap()
        .map(|e| e.unwrap().path().join("out/build-patch/foo-1.0.0"))
        .filter(|d| d.is_dir())
        .collect();
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert!(staged[0].join("src/lib.rs").is_file() && !staged[0].join(".git").exists());

    // Offline, from a clean target directory: Cargo's git cache suffices.
    env.ok(&["clean"]);
    std::fs::remove_dir_all(&repo.dir).unwrap();
    passes(&env, &["test", "-q", "--offline"]);
}

#[test]
fn a_dependency_of_a_dependency_in_a_workspace_repository() {
    let env = TestEnv::new();
    env.allow_file_fetches("");
    let repo = env.git_repo(
        "tools",
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
            ("crates/foo/Cargo.toml", &manifest("foo", "1.0.0", "")),
            ("crates/foo/src/lib.rs", &lib(1)),
            (
                "crates/bar/Cargo.toml",
                &manifest(
                    "bar",
                    "0.3.0",
                    "[dependencies]\nfoo = { path = \"../foo\", version = \"1.0.0\" }\n",
                ),
            ),
            (
                "crates/bar/src/lib.rs",
                "pub fn name() -> &'static str { foo::name() }\npub fn value() -> u32 { foo::value() }\n",
            ),
        ],
    );
    let (url, rev) = (repo.url(), repo.git(&["rev-parse", "HEAD"]));
    name_patch(&env);
    env.shim("patched/foo", &git_shim(&url, &format!("rev = {rev:?}")));
    env.app(
        &format!("bar = {{ git = {url:?}, rev = {rev:?} }}"),
        &format!("[patch.{url:?}]\nfoo = {{ path = \"patched/foo\" }}"),
    )
    .file("src/lib.rs", &app_test("bar", "patched", 1));
    passes(&env, &["test", "-q"]);
    let lock = std::fs::read_to_string(env.ws.join("Cargo.lock")).unwrap();
    assert_lacks(&lock, &["[[patch.unused]]"]);
}

#[test]
fn a_renamed_shim_restages_when_its_rev_changes() {
    let (env, repo) = git_env();
    let first = repo.git(&["rev-parse", "HEAD"]);
    let second = repo.commit(&[("src/lib.rs", &lib(2))], "value 2");
    let url = repo.url();
    let shim = |rev: &str| {
        Shim::renamed("foo-patched", "foo", "1.0.0")
            .patch("../../patches/foo.patch")
            .metadata_extra(&format!("git = {url:?}\nrev = {rev:?}\n"))
    };
    env.shim("patched/foo", &shim(&first));
    env.app(
        "foo = { package = \"foo-patched\", path = \"patched/foo\" }",
        "",
    )
    .file("src/lib.rs", &app_test("foo", "patched", 1));
    env.ok(&["test", "-q"]);
    env.shim("patched/foo", &shim(&second));
    env.file("src/lib.rs", &app_test("foo", "patched", 2));
    passes(&env, &["test", "-q"]);
}

#[test]
fn a_branch_is_the_commit_the_workspace_locked() {
    for reference in [", branch = \"main\"", ""] {
        branch_follows_the_lock(reference);
    }
}

/// `reference` is what the git dependency adds to `git = URL`: a branch,
/// or nothing (the default branch).
fn branch_follows_the_lock(reference: &str) {
    let (env, repo) = git_env();
    let url = repo.url();
    // The app uses `foo` of the branch directly and through a renamed shim:
    // both must be the locked commit.
    env.shim(
        "patched/foo",
        &Shim::renamed("foo-patched", "foo", "1.0.0")
            .patch("../../patches/foo.patch")
            .metadata_extra(&format!(
                "git = {url:?}\n{}\n",
                reference.trim_start_matches(", ")
            )),
    );
    env.app(
        &format!(
            "foo = {{ git = {url:?}{reference} }}\n\
             patched = {{ package = \"foo-patched\", path = \"patched/foo\" }}"
        ),
        "",
    )
    .file(
        "src/lib.rs",
        "#[test] fn same() { assert_eq!((patched::name(), patched::value()), (\"patched\", foo::value())); }\n",
    );
    env.ok(&["generate-lockfile"]);
    // The branch moves, and Cargo's git cache learns of it (through another
    // workspace), but this workspace's lock still says the first commit.
    repo.commit(&[("src/lib.rs", &lib(2))], "value 2");
    let other = env.root.join("other");
    support::write(
        &other.join("Cargo.toml"),
        &format!(
            "{}[dependencies]\nfoo = {{ git = {url:?}{reference} }}\n",
            manifest("other", "0.1.0", "")
        ),
    );
    support::write(&other.join("src/lib.rs"), "");
    let mut fetch = support::cargo_command();
    fetch
        .args(["fetch"])
        .current_dir(&other)
        .env("CARGO_HOME", &env.home);
    support::succeeds(&mut fetch, "cargo fetch");
    passes(&env, &["test", "-q"]);
    // `cargo update` moves the lock to the new head: both follow it.
    env.ok(&["update", "-p", "foo@1.0.0"]);
    passes(&env, &["test", "-q"]);
    let run = env.ok(&["test", "-q", "--", "--list"]);
    assert!(
        run.stderr.is_empty() || !run.stderr.contains("warning"),
        "{}",
        run.stderr
    );
}

#[test]
fn git_errors_name_the_reference_the_package_and_the_version() {
    let (env, repo) = git_env();
    repo.git(&["tag", "v1"]);
    let url = repo.url();
    env.app(
        "foo = { package = \"foo-patched\", path = \"patched/foo\" }",
        "",
    )
    .file("src/lib.rs", "");
    let try_shim = |upstream: (&str, &str), reference: &str| {
        env.shim(
            "patched/foo",
            &Shim::renamed("foo-patched", upstream.0, upstream.1)
                .patch("../../patches/foo.patch")
                .metadata_extra(&format!("git = {url:?}\n{reference}\n")),
        );
        env.fails(&["build"]).stderr
    };
    let cases: [((&str, &str), &str, Vec<String>); 3] = [
        (
            ("foo", "1.0.0"),
            "tag = \"v9\"",
            vec![
                format!(
                    "cannot get the pristine source of `foo 1.0.0` from the git repository \
                     `{url}` (tag `v9`)"
                ),
                "has the tag `v9` (`git ls-remote".into(),
            ],
        ),
        (
            ("nope", "1.0.0"),
            "tag = \"v1\"",
            vec![
                "Cargo found no package named `nope` there".into(),
                "a package named `nope`".into(),
            ],
        ),
        (
            ("foo", "1.2.0"),
            "tag = \"v1\"",
            vec![
                format!(
                    "the package `foo` from the git repository `{url}` (tag `v1`) is \
                     `foo 1.0.0`, not `foo 1.2.0`"
                ),
                "set `version = \"1.0.0\"`".into(),
            ],
        ),
    ];
    for (upstream, reference, expected) in cases {
        let err = try_shim(upstream, reference);
        for e in expected {
            assert!(err.contains(&e), "{err}\n---\nwanted: {e}");
        }
    }
}

#[test]
fn a_package_that_inherits_from_its_repository_s_workspace_is_refused_with_the_reason() {
    let (env, _) = git_env();
    let repo = env.git_repo(
        "inherits",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"foo\"]\n[workspace.package]\nversion = \"1.0.0\"\n",
            ),
            (
                "foo/Cargo.toml",
                "[package]\nname = \"foo\"\nversion.workspace = true\nedition = \"2021\"\n",
            ),
            ("foo/src/lib.rs", &lib(1)),
        ],
    );
    env.shim("patched/foo", &git_shim(&repo.url(), ""));
    env.app(
        &format!("foo = {{ git = {:?} }}", repo.url()),
        &format!(
            "[patch.{:?}]\nfoo = {{ path = \"patched/foo\" }}",
            repo.url()
        ),
    )
    .file("src/lib.rs", "");
    let err = env.fails(&["build"]).stderr;
    assert_contains(
        &err,
        &["inherits `package.version` from its workspace (`workspace = true`)"],
    );
}

#[test]
fn an_unknown_registry_says_where_registries_are_named() {
    let (env, _) = git_env();
    env.shim(
        "patched/foo",
        &Shim::renamed("foo-patched", "foo", "1.0.0")
            .patch("../../patches/foo.patch")
            .metadata_extra("registry = \"nope\"\n"),
    );
    env.app(
        "foo = { package = \"foo-patched\", path = \"patched/foo\" }",
        "",
    )
    .file("src/lib.rs", "");
    let err = env.fails(&["build"]).stderr;
    for wanted in [
        "cannot get the pristine source of `foo 1.0.0` from the registry `nope`",
        "help: check that your Cargo config has `[registries.nope]`",
    ] {
        assert!(err.contains(wanted), "{err}\n---\nwanted: {wanted}");
    }
}

// `foo 1.0.0` in crates.io (the local registry) and in the alternative
// registry `corp`, with other code: a shim of corp's must never take
// crates.io's copy from Cargo's registry cache.
support::registry_tests!(alternative_registry:
    an_alternative_registry_shim_takes_that_registry_s_copy,
    a_sparse_registry_shim_takes_that_registry_s_copy);

/// `make` writes the registry `corp` and returns its Cargo config table.
fn alternative_registry(make: fn(&TestEnv, &str, &[Package]) -> String) {
    let env = TestEnv::new().isolated_target();
    env.publish(&Package::lib("foo", "1.0.0", &lib(1)));
    let corp = make(&env, "corp", &[Package::lib("foo", "1.0.0", &lib(2))]);
    env.allow_file_fetches(&corp);
    name_patch(&env);
    env.shim(
        "patched/foo",
        &Shim::graph_wide("foo", "1.0.0")
            .patch("../../patches/foo.patch")
            .metadata_extra("registry = \"corp\"\n"),
    );
    env.app(
        "foo = { version = \"1\", registry = \"corp\" }\npublic = { package = \"foo\", version = \"1\" }",
        "[patch.corp]\nfoo = { path = \"patched/foo\" }",
    )
    .file(
        "src/lib.rs",
        "#[test] fn both() {\n\
         assert_eq!((foo::name(), foo::value()), (\"patched\", 2));\n\
         assert_eq!((public::name(), public::value()), (\"pristine\", 1));\n}\n",
    );
    // crates.io's `foo 1.0.0` is unpacked before the shim's build runs.
    env.ok(&["fetch"]);
    assert!(env.cached_source("foo", "1.0.0").is_some());
    passes(&env, &["test", "-q"]);
    env.ok(&["clean"]);
    passes(&env, &["test", "-q", "--offline"]);
}
