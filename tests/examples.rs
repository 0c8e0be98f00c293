//! Every example workspace under `examples/` builds and runs, against the
//! real crates.io (through the machine's own Cargo cache), as a user would:
//! `cargo run` in the example's directory, as its README says. The
//! vendored-offline example builds with no Cargo cache and no network.

use std::ffi::OsStr;
use std::path::PathBuf;
use support::{assert_contains, assert_lacks};

/// The example's own directory: where its README says to run `cargo`.
fn example_dir(name: &str) -> PathBuf {
    support::repo_root().join("examples").join(name)
}

/// A target directory per example, under the repository's.
fn example_target(name: &str) -> PathBuf {
    support::repo_root()
        .join("target")
        .join("examples")
        .join(name)
}

/// Runs `cargo run -q` in `examples/<name>` and returns what the program printed.
fn run_example(name: &str) -> String {
    run_example_with(name, &[], &[])
}

/// Runs `cargo run -q ARGS` in `examples/<name>` with `envs` set, and
/// returns what the program printed.
fn run_example_with(name: &str, args: &[&str], envs: &[(&str, &OsStr)]) -> String {
    let out = support::cargo_command()
        .args(["run", "-q"])
        .args(args)
        .current_dir(example_dir(name))
        .env("CARGO_TARGET_DIR", example_target(name))
        .envs(envs.iter().copied())
        .output()
        .expect("cannot run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example `{name}` failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Upstream warnings are allowed in the shims: a clean build says nothing.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_lacks(&stderr, &["warning"]);
    stdout
}

#[test]
fn quickstart() {
    example_prints(
        "quickstart",
        &[
            "shlex::quote(\"{a,b}\") = \"{a,b}\"",
            "ok: the patched shlex 1.1.0 quotes braces",
        ],
    );
}

#[test]
fn transitive() {
    example_prints(
        "transitive",
        &["feature1: echo \"{a,b}\"", "feature2: cp \"{x,y}\" dest"],
    );
}

#[test]
fn relax_requirement() {
    let out = run_example("relax-requirement");
    assert!(
        out.contains("filetime works") && out.contains("getrandom works"),
        "{out}"
    );
    // One copy of cfg-if: the patched manifest of filetime reached Cargo.
    assert_one_copy("relax-requirement", "cfg-if");
}

/// `cargo tree -d` in `examples/<name>` does not list `krate`: the graph
/// holds one copy of it.
fn assert_one_copy(name: &str, krate: &str) {
    let tree = support::cargo_command()
        .args(["tree", "-d"])
        .current_dir(example_dir(name))
        .env("CARGO_TARGET_DIR", example_target(name))
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(
        !tree.contains(&format!("{krate} v")),
        "{krate} is in the graph twice:\n{tree}"
    );
}

#[test]
fn unify_rust_vmm() {
    // A fresh resolve, as in a new clone: a `Cargo.lock` left from an
    // earlier run locks vmm-sys-util 0.11 and would hide the second copy
    // the unpatched event-manager asks for.
    support::succeeds(
        support::cargo_command()
            .arg("generate-lockfile")
            .current_dir(example_dir("unify-rust-vmm")),
        "cargo generate-lockfile",
    );
    // event-manager's `EventSet` reaches vhost-user-backend's
    // `handle_event`: this compiles only with one vmm-sys-util.
    let out = run_example("unify-rust-vmm");
    assert_contains(
        &out,
        &[
            "device event 0: IN",
            "ok: event-manager and vhost-user-backend share one vmm-sys-util (1 event handled)",
        ],
    );
    // The requirement patch `unify` wrote reached Cargo: event-manager's
    // `>=0.8.0` no longer pulls in the newest vmm-sys-util.
    assert_one_copy("unify-rust-vmm", "vmm-sys-util");
}

/// Runs the example `name`; its output must contain every one of `parts`.
fn example_prints(name: &str, parts: &[&str]) {
    assert_contains(&run_example(name), parts);
}

#[test]
fn backport() {
    example_prints("backport", &["insert_many put 100 items in order"]);
}

#[test]
fn build_script() {
    example_prints(
        "build-script",
        &[
            "bzip2 round trip: 860 bytes -> 97 bytes -> 860 bytes",
            // Debian's patch to bzip2-sys's build script: the system library.
            "ok: linked against the system libbz2",
        ],
    );
}

#[test]
fn multiple_patches() {
    example_prints(
        "multiple-patches",
        &["ok: shlex 1.1.0 with 2 patches, applied in order"],
    );
}

#[test]
fn proc_macro() {
    // The program calls `new_http_server()`: that it compiled at all means
    // the patched paste named it.
    example_prints(
        "proc-macro",
        &[
            "HTTPServer -> fn new_http_server()",
            "IOError -> fn new_io_error()",
            "ok: the patched paste 1.0.15 snake-cases acronyms as one word",
        ],
    );
}

#[test]
fn vendored_offline() {
    let name = "vendored-offline";
    let vendored = example_dir(name).join("vendor/shlex");
    let before = support::hash_tree(&vendored);
    // No Cargo cache to fall back on and no network: every crate, and the
    // pristine source the shim patches, must come from `vendor/`.
    let empty_home = tempfile::tempdir().unwrap();
    let out = run_example_with(
        name,
        &["--offline"],
        &[
            ("CARGO_HOME", empty_home.path().as_os_str()),
            ("CARGO_NET_OFFLINE", OsStr::new("true")),
        ],
    );
    assert_contains(
        &out,
        &[
            "shlex::quote(\"{a,b}\") = \"{a,b}\"",
            "ok: the patched shlex 1.1.0, from vendor/, quotes braces",
        ],
    );

    // The stamp of the staged copy names the source it was made from.
    let build = example_target(name).join("debug/build");
    let stamps: Vec<String> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path().join("out/build-patch/shlex-1.1.0.stamp"))
        .filter_map(|stamp| std::fs::read_to_string(stamp).ok())
        .collect();
    assert!(
        !stamps.is_empty()
            && stamps
                .iter()
                .all(|s| s.contains(&*vendored.to_string_lossy())),
        "the shim did not stage from {}: {stamps:?}",
        vendored.display()
    );

    // The vendored copy is untouched, so `cargo vendor`'s checksums still hold.
    let after = support::hash_tree(&vendored);
    assert_eq!(after, before, "the vendored source changed");
    let checksums: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(vendored.join(".cargo-checksum.json")).unwrap(),
    )
    .unwrap();
    let files = checksums["files"].as_object().unwrap();
    assert!(!files.is_empty());
    for (file, sum) in files {
        assert_eq!(
            after.get(file).map(|(hash, _mode)| hash.as_str()),
            sum.as_str(),
            "{file}"
        );
    }
}
