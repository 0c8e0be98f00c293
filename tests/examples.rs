//! Every example workspace under `examples/` builds and runs, against the
//! real crates.io (through the machine's own Cargo cache), as a user would.

mod support;

/// Runs `cargo run` in `examples/<name>` and returns what the program printed.
fn run_example(name: &str) -> String {
    let dir = support::repo_root().join("examples").join(name);
    let target = support::repo_root()
        .join("target")
        .join("examples")
        .join(name);
    let out = support::cargo_command()
        .args(["run", "-q", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
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
    assert!(!stderr.contains("warning"), "{stderr}");
    stdout
}

#[test]
fn quickstart() {
    let out = run_example("quickstart");
    assert!(out.contains("shlex::quote(\"{a,b}\") = \"{a,b}\""), "{out}");
    assert!(
        out.contains("ok: the patched shlex 1.1.0 quotes braces"),
        "{out}"
    );
}

#[test]
fn transitive() {
    let out = run_example("transitive");
    assert!(out.contains("feature1: echo \"{a,b}\""), "{out}");
    assert!(out.contains("feature2: cp \"{x,y}\" dest"), "{out}");
}
