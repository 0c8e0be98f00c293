//! `cargo build-patch new` on real crates.io crates, as users run it: each
//! scaffolded shim replaces the crate graph-wide, and a small program that
//! uses the crate builds and runs. Needs crates.io (or a warm Cargo cache).
//!
//! Together they cover: editions 2015 to 2024, features with `dep:` and
//! `?/`, optional, target-specific and renamed dependencies, a proc-macro
//! crate, a library name other than the package's, a library root outside
//! `src/`, upstream code that warns under today's rustc, and `extern crate`
//! items that rustc refuses inside `include!`.

use support::repo_root;

struct Case {
    spec: &'static str,
    /// The app's dependencies.
    deps: &'static str,
    main: &'static str,
    expected: &'static str,
}

const CASES: &[Case] = &[
    // Edition 2024; features with `dep:` and `?/`; target-specific deps.
    Case {
        spec: "indexmap@2.14.2",
        deps: "indexmap = \"2\"",
        main: "let mut m = indexmap::IndexMap::new(); m.insert(\"b\", 2); m.insert(\"a\", 1); \
               println!(\"{:?}\", m.keys().collect::<Vec<_>>());",
        expected: "[\"b\", \"a\"]",
    },
    // Edition 2015, no `[lib]` table at all.
    Case {
        spec: "scopeguard@1.2.0",
        deps: "scopeguard = \"1\"",
        main: "let _g = scopeguard::guard((), |_| println!(\"deferred\"));",
        expected: "deferred",
    },
    // A library name (`md5`) other than the package name; edition 2018.
    Case {
        spec: "md-5@0.10.6",
        deps: "md-5 = \"0.10\"",
        main: "use md5::Digest; println!(\"{:x}\", md5::Md5::digest(b\"abc\"));",
        expected: "900150983cd24fb0d6963f7d28e17f72",
    },
    // A proc-macro crate, used through serde's derive feature.
    Case {
        spec: "serde_derive@1.0.229",
        deps: "serde = { version = \"=1.0.229\", features = [\"derive\"] }",
        main: "#[derive(serde::Serialize)] struct S; let _ = S; println!(\"derived\");",
        expected: "derived",
    },
    // Renamed dependencies (`package = ...`) and optional features.
    Case {
        spec: "hashbrown@0.15.5",
        deps: "hashbrown = \"0.15\"",
        main: "let mut m = hashbrown::HashMap::new(); m.insert(1, 1); println!(\"{}\", m.len());",
        expected: "1",
    },
    // The library root at the crate root (`path = \"lib.rs\"`).
    Case {
        spec: "fnv@1.0.7",
        deps: "fnv = \"1\"",
        main:
            "let mut m = fnv::FnvHashMap::default(); m.insert(1, 2); println!(\"{:?}\", m.get(&1));",
        expected: "Some(2)",
    },
    // Upstream code that warns under today's rustc (elided lifetimes): the
    // shim must be as quiet as the registry crate.
    Case {
        spec: "shlex@1.1.0",
        deps: "shlex = \"1\"",
        main: "println!(\"{}\", shlex::quote(\"a b\"));",
        expected: "\"a b\"",
    },
    // `#[macro_use] extern crate alloc;` after `extern crate std;`: inside
    // `include!`, rustc refuses it ("`vec` is already in scope"), so the
    // shim's root carries the `extern crate` items.
    Case {
        spec: "iso8601@0.4.1",
        deps: "iso8601 = \"=0.4.1\"",
        main: "println!(\"{}\", iso8601::date(\"2015-06-26\").is_ok());",
        expected: "true",
    },
    // `extern crate serial_core as core;`, which rustc refuses inside
    // `include!` ("cannot shadow names passed with `--extern`").
    Case {
        spec: "serial-unix@0.4.0",
        deps: "serial-unix = \"=0.4.0\"",
        main: "println!(\"{}\", serial_unix::TTYPort::open(std::path::Path::new(\"/nonexistent\")).is_err());",
        expected: "true",
    },
];

#[test]
fn scaffolded_shims_of_real_crates_build_and_run() {
    let target = repo_root().join("target").join("real-crates");
    let mut failures = Vec::new();
    for case in CASES {
        if let Err(e) = run_case(case, &target) {
            failures.push(format!("{}: {e}", case.spec));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn run_case(case: &Case, target: &std::path::Path) -> Result<(), String> {
    let ws = tempfile::tempdir().unwrap();
    let (name, _) = case.spec.split_once('@').unwrap();
    let out = support::cli::command()
        .args(["new", case.spec, "--build-patch-path"])
        .arg(repo_root())
        .current_dir(ws.path())
        .env(
            "CARGO",
            std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        )
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "`new` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    support::write(
        &ws.path().join("Cargo.toml"),
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{}\n\n[patch.crates-io]\n{name} = {{ path = \"patched/{name}\" }}\n",
            case.deps
        ),
    );
    support::write(
        &ws.path().join("src/main.rs"),
        &format!("fn main() {{ {} }}\n", case.main),
    );
    let run = support::cargo_command()
        .args(["run", "-q"])
        .current_dir(ws.path())
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    if !run.status.success() {
        return Err(format!("build failed:\n{stderr}"));
    }
    if stdout.trim() != case.expected {
        return Err(format!("printed {stdout:?}, expected {:?}", case.expected));
    }
    if stderr.contains("warning") {
        return Err(format!("the shim's build warned:\n{stderr}"));
    }
    // The patch really replaced the registry crate in the graph.
    let tree = support::cargo_command()
        .args(["tree", "-q", "-i", name, "--prefix", "none"])
        .current_dir(ws.path())
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&tree.stdout);
    if !tree.lines().next().unwrap_or("").contains("patched") {
        return Err(format!("the shim is not in the graph:\n{tree}"));
    }
    Ok(())
}
