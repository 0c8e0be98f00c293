//! `cargo build-patch outdated`: newer releases of a shim's crate and what
//! each patch does against them, with the real `cargo` and a fixture
//! registry that gains releases one by one.

use support::cli as common;

use support::{assert_contains, repo_root, unified_diff, Package, TestEnv};

fn lib(pad: usize, body: &str) -> String {
    let mut lib = "// filler\n".repeat(pad);
    lib.push_str(&format!(
        "pub fn greet(name: &str) -> String {{\n    {body}\n}}\n\npub fn tail() {{}}\n"
    ));
    lib
}

const HELLO: &str = "format!(\"Hello {}\", name)";
const HI: &str = "format!(\"Hi {}\", name)";

fn greet(env: &TestEnv, version: &str, pad: usize, body: &str) {
    env.publish(&Package::lib("greet", version, &lib(pad, body)));
}

/// Runs `outdated ARGS`: exit code and output.
fn outdated(env: &TestEnv, args: &[&str]) -> (Option<i32>, String) {
    let out = support::cli::command()
        .arg("outdated")
        .args(args)
        .current_dir(&env.ws)
        .env("CARGO_HOME", &env.home)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs `outdated ARGS`, which must exit with `code` and say every one of
/// `parts`; its output.
#[track_caller]
fn outdated_says(env: &TestEnv, args: &[&str], code: Option<i32>, parts: &[&str]) -> String {
    let (got, out) = outdated(env, args);
    assert_eq!(got, code, "{out}");
    assert_contains(&out, parts);
    out
}

/// A shim of greet 1.0.0 with one patch (Hello → Hi), wired.
fn setup() -> TestEnv {
    setup_with(
        "Description: say hi\nForwarded: https://example.org/greet/pull/7\nApplies-to: greet 1.0.0\n\n",
        "fn main() { println!(\"{}\", greet::greet(\"you\")); }\n",
    )
}

/// [`setup`] with `header` before the patch's diff and `main` as the
/// app's `src/main.rs`.
fn setup_with(header: &str, main: &str) -> TestEnv {
    let env = TestEnv::new();
    greet(&env, "1.0.0", 3, HELLO);
    env.file(
        "patches/hi.patch",
        &format!(
            "{header}{}",
            unified_diff("src/lib.rs", &lib(3, HELLO), &lib(3, HI))
        ),
    );
    env.app("greet = \"1\"", "");
    env.file("src/main.rs", main);
    env.ok(&["generate-lockfile"]);
    let root = repo_root().display().to_string();
    common::ok(
        &env,
        &[
            "new",
            "greet@1.0.0",
            "--patch",
            "patches/hi.patch",
            "--build-patch-path",
            &root,
        ],
    );
    env
}

#[test]
fn outdated_reports_each_outcome_as_releases_appear() {
    let env = setup();
    outdated_says(&env, &[], Some(0), &["up to date"]);

    // The same code again: applies as is.
    greet(&env, "1.0.1", 3, HELLO);
    outdated_says(
        &env,
        &[],
        Some(1),
        &[
            "newest compatible 1.0.1, newest 1.0.1",
            "patches/hi.patch  applies",
            "Forwarded: https://example.org/greet/pull/7",
        ],
    );

    // Lines added above: applies with an offset.
    greet(&env, "1.0.2", 5, HELLO);
    let (_, out) = outdated(&env, &[]);
    assert_contains(&out, &["applies, moved 2 line(s)"]);

    // A release with the fix, and a major one that rewrote the line.
    greet(&env, "1.1.0", 3, HI);
    greet(&env, "2.0.0", 3, "format!(\"Hey {}\", name)");
    outdated_says(
        &env,
        &[],
        Some(1),
        &[
            "newest compatible 1.1.0, newest 2.0.0",
            "upstream has it",
            "conflicts",
        ],
    );

    // JSON, for bots: the same facts in a stable form.
    let (code, out) = outdated(&env, &["--format", "json"]);
    assert_eq!(code, Some(1), "{out}");
    let json = out.lines().find(|l| l.starts_with('{')).unwrap();
    assert_eq!(
        json,
        "{\"shims\":[{\"shim\":\"patched/greet\",\"crate\":\"greet\",\"version\":\"1.0.0\",\
         \"compatible\":\"1.1.0\",\"latest\":\"2.0.0\",\"actionable\":true,\"patches\":[{\
         \"file\":\"../../patches/hi.patch\",\"fields\":{\"Description\":\"say hi\",\
         \"Forwarded\":\"https://example.org/greet/pull/7\",\"Applies-to\":\"greet 1.0.0\"},\
         \"outcomes\":[{\"version\":\"1.1.0\",\"outcome\":\"upstream\"},\
         {\"version\":\"2.0.0\",\"outcome\":\"conflicts\"}]}]}]}"
    );
}

#[test]
fn outdated_offline_uses_only_the_cache() {
    let env = setup();
    greet(&env, "1.0.1", 3, HELLO);
    // The local registry is on disk, so "offline" still sees it: what is
    // checked is that --offline reaches Cargo and works without a network.
    outdated_says(&env, &["--offline"], Some(1), &["newest compatible 1.0.1"]);
}

#[test]
fn upgrade_compatible_lands_on_the_newest_in_range_and_drops_what_upstream_has() {
    let env = setup();
    // A second patch whose header says upstream took it in 1.1.0; against
    // 1.1.0 it would conflict, so only the header can drop it.
    env.file(
        "patches/bye.patch",
        &format!(
            "Description: add bye\nApplied-Upstream: 1.1.0, https://example.org/greet/commit/1\n\n{}",
            unified_diff(
                "src/lib.rs",
                &lib(3, HI),
                &format!("{}pub fn bye() {{}}\n", lib(3, HI))
            )
        ),
    );
    let manifest = env.ws.join("patched/greet/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "patches = [\"../../patches/hi.patch\"]",
        "patches = [\"../../patches/hi.patch\", \"../../patches/bye.patch\"]",
    );
    std::fs::write(&manifest, text).unwrap();
    env.ok(&["build", "-q"]);
    greet(&env, "1.0.1", 3, HELLO);
    env.publish(&Package::lib(
        "greet",
        "1.1.0",
        &format!("{}pub fn bye() {{ /* upstream's */ }}\n", lib(3, HI)),
    ));
    greet(&env, "2.0.0", 3, "format!(\"Hey {}\", name)");

    // --latest: the app asks for greet 1, so a 2.0.0 shim would go unused:
    // refused before any patch is tried, nothing of the shim changes.
    let shim_files = || {
        let mut files = support::hash_tree(&env.ws.join("patched"));
        files.retain(|k, _| !k.contains(".build-patch-edit"));
        files
    };
    let before = shim_files();
    let out = common::fails(&env, &["upgrade", "patched/greet", "--latest"]);
    assert_contains(
        &out,
        &[
            "the graph would not use",
            "at greet 2.0.0: `app 0.1.0` requires `greet = \"^1\"`",
        ],
    );
    assert!(
        !env.ws.join("patched/greet/.build-patch-edit").exists(),
        "{out}"
    );
    assert_eq!(shim_files(), before);

    // --compatible: 1.1.0, both patches dropped.
    let out = common::ok(&env, &["upgrade", "patched/greet", "--compatible"]);
    assert_contains(
        &out,
        &[
            "to 1.1.0",
            "Dropped `../../patches/hi.patch`",
            "Dropped `../../patches/bye.patch`: its header says `Applied-Upstream: 1.1.0`",
        ],
    );
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert_contains(&text, &["version = \"1.1.0\"", "patches = []"]);
    env.assert_prints("Hi you\n");
    // At the newest already.
    let out = common::ok(&env, &["upgrade", "patched/greet", "--compatible"]);
    assert_contains(&out, &["the newest the graph's requirements admit"]);
}

#[test]
fn check_strict_wants_every_patch_described() {
    let env = setup_with("", "fn main() {}\n");
    common::ok(&env, &["check"]);
    let out = common::fails(&env, &["check", "--strict"]);
    assert_contains(
        &out,
        &["`../../patches/hi.patch` says nothing of what it does"],
    );
    let text = std::fs::read_to_string(env.ws.join("patches/hi.patch")).unwrap();
    std::fs::write(
        env.ws.join("patches/hi.patch"),
        format!("Description: say hi\n\n{text}"),
    )
    .unwrap();
    common::ok(&env, &["check", "--strict"]);
}

#[test]
fn upgrade_latest_lands_on_the_newest_and_drops_the_upstreamed_patch() {
    let env = setup();
    greet(&env, "1.0.1", 3, HELLO);
    greet(&env, "1.2.0", 4, HI);
    let out = common::ok(&env, &["upgrade", "greet", "--latest"]);
    assert_contains(
        &out,
        &[
            "from greet 1.0.0 to 1.2.0",
            "Dropped `../../patches/hi.patch`: greet 1.2.0 already has it",
        ],
    );
    env.assert_prints("Hi you\n");
    let (code, out) = outdated(&env, &[]);
    assert_eq!(code, Some(0), "{out}");
}
