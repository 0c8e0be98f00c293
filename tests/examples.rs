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

#[test]
fn relax_requirement() {
    let out = run_example("relax-requirement");
    assert!(
        out.contains("filetime works") && out.contains("getrandom works"),
        "{out}"
    );
    // One copy of cfg-if: the patched manifest of filetime reached Cargo.
    let dir = support::repo_root().join("examples/relax-requirement");
    let tree = support::cargo_command()
        .args(["tree", "-d", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env(
            "CARGO_TARGET_DIR",
            support::repo_root().join("target/examples/relax-requirement"),
        )
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(
        !tree.contains("cfg-if"),
        "cfg-if is in the graph twice:\n{tree}"
    );
}

#[test]
fn backport() {
    let out = run_example("backport");
    assert!(out.contains("insert_many put 100 items in order"), "{out}");
}

#[test]
fn build_script() {
    let out = run_example("build-script");
    assert!(
        out.contains("bzip2 round trip: 860 bytes -> 97 bytes -> 860 bytes"),
        "{out}"
    );
    // Debian's patch to bzip2-sys's build script: the system library.
    assert!(
        out.contains("ok: linked against the system libbz2"),
        "{out}"
    );
}

#[test]
fn multiple_patches() {
    let out = run_example("multiple-patches");
    assert!(
        out.contains("ok: shlex 1.1.0 with 2 patches, applied in order"),
        "{out}"
    );
}

#[test]
fn proc_macro() {
    let out = run_example("proc-macro");
    // The program calls `new_http_server()`: that it compiled at all means
    // the patched paste named it.
    assert!(out.contains("HTTPServer -> fn new_http_server()"), "{out}");
    assert!(out.contains("IOError -> fn new_io_error()"), "{out}");
    assert!(
        out.contains("ok: the patched paste 1.0.15 snake-cases acronyms as one word"),
        "{out}"
    );
}
