//! Real crates.io crates with build scripts, through shims written by
//! `cargo build-patch new`: each is built once as a plain registry
//! dependency and once through a graph-wide shim, and what the two build
//! scripts told Cargo (cfgs, check-cfgs, link directives, `links` metadata,
//! environment variables) must be the same.
//!
//! Needs crates.io (through the machine's own Cargo home and cache), like
//! the examples. `REAL_CRATES=name@version,...` runs other crates, and
//! prints the comparison of each.

use std::collections::BTreeSet;
use std::path::Path;

use support::{cargo_command, repo_root};

/// serde_core, serde and proc-macro2 probe rustc and set cfgs; libc sets cfgs
/// from the target and rustc; anyhow compiles a probe file; typenum 1.15
/// generates code into OUT_DIR from `build/main.rs` and its modules;
/// rustversion (a proc-macro) writes a file from `build/build.rs` and
/// `mod rustc;`; libz-sys is a `links` crate that finds the system zlib
/// with pkg-config and passes its include path to dependents.
const CRATES: &[&str] = &[
    "serde_core@1.0.229",
    "serde@1.0.229",
    "proc-macro2@1.0.107",
    "libc@0.2.191",
    "anyhow@1.0.100",
    "typenum@1.15.0",
    "rustversion@1.0.23",
    "libz-sys@1.1.22",
];

fn cli(cwd: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = support::cli::command();
    cmd.args(args).current_dir(cwd);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO_") && k != "CARGO_HOME" {
            cmd.env_remove(&k);
        }
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Builds a workspace, returns the build script output of `name`.
fn build(ws: &Path, target: &Path, name: &str) -> Result<BTreeSet<String>, String> {
    let out = cargo_command()
        .arg("build")
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    // The newest build-script run of the package in this target directory.
    let build_dir = target.join("debug").join("build");
    let newest = std::fs::read_dir(&build_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}-"))
                && p.join("output").is_file()
        })
        .max_by_key(|p| p.join("output").metadata().unwrap().modified().unwrap())
        .ok_or_else(|| format!("no build script output for {name}"))?;
    let text = std::fs::read_to_string(newest.join("output")).unwrap();
    Ok(directives(&text, &newest.join("out")))
}

/// What a build script's output tells Cargo about the crate, normalised:
/// both forms (`cargo:` and `cargo::`), `OUT_DIR` as `$OUT_DIR`; without
/// `rerun-if-*` (the shim watches the pristine source and the patches) and
/// without build-patch's own `rustc-env` for the upstream's identity.
fn directives(output: &str, out_dir: &Path) -> BTreeSet<String> {
    let out_dir = out_dir.display().to_string();
    let mut set = BTreeSet::new();
    for line in output.lines() {
        let Some(rest) = line
            .strip_prefix("cargo::")
            .or_else(|| line.strip_prefix("cargo:"))
        else {
            continue;
        };
        let Some((key, value)) = rest.split_once('=') else {
            continue;
        };
        let known = [
            "rustc-cfg",
            "rustc-check-cfg",
            "rustc-env",
            "rustc-link-lib",
            "rustc-link-search",
            "rustc-link-arg",
            "rustc-flags",
            "warning",
            "error",
            "metadata",
            "rerun-if-changed",
            "rerun-if-env-changed",
        ];
        let (key, value) = if known.contains(&key) {
            (key.to_string(), value.to_string())
        } else {
            ("metadata".to_string(), rest.to_string())
        };
        if key.starts_with("rerun-if") {
            continue;
        }
        if key == "rustc-env"
            && ["CARGO_MANIFEST_DIR=", "CARGO_MANIFEST_PATH=", "CARGO_PKG_"]
                .iter()
                .any(|p| value.starts_with(p))
        {
            continue;
        }
        if key == "warning" && value.starts_with("build-patch:") {
            continue;
        }
        set.insert(format!("{key}={}", value.replace(&out_dir, "$OUT_DIR")));
    }
    set
}

fn app(ws: &Path, name: &str, version: &str, patch: bool) {
    std::fs::create_dir_all(ws.join("src")).unwrap();
    let mut manifest = format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{name} = \"={version}\"\n\n[workspace]\n"
    );
    if patch {
        manifest.push_str(&format!(
            "\n[patch.crates-io]\n{name} = {{ path = \"patched/{name}\" }}\n"
        ));
    }
    std::fs::write(ws.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(ws.join("src/main.rs"), "fn main() {}\n").unwrap();
}

/// Builds `name@version` both ways; `Ok(directives)` when they agree.
fn compare(spec: &str, scratch: &Path) -> Result<BTreeSet<String>, String> {
    let (name, version) = spec.split_once('@').unwrap();
    let targets = repo_root().join("target").join("real-build-scripts");
    let reg_ws = scratch.join(format!("{name}-registry"));
    app(&reg_ws, name, version, false);
    let registry = build(&reg_ws, &targets.join("registry"), name)
        .map_err(|e| format!("registry build failed:\n{e}"))?;

    let shim_ws = scratch.join(format!("{name}-shim"));
    app(&shim_ws, name, version, true);
    let root = repo_root().display().to_string();
    let (ok, out) = cli(&shim_ws, &["new", spec, "--build-patch-path", &root]);
    if !ok {
        return Err(format!("cargo build-patch new failed:\n{out}"));
    }
    let shim = build(&shim_ws, &targets.join("shim"), name)
        .map_err(|e| format!("shim build failed:\n{e}"))?;
    if registry != shim {
        let only_reg: Vec<_> = registry.difference(&shim).collect();
        let only_shim: Vec<_> = shim.difference(&registry).collect();
        return Err(format!(
            "directives differ:\n  registry only: {only_reg:?}\n  shim only: {only_shim:?}"
        ));
    }
    Ok(registry)
}

#[test]
fn real_build_scripts_tell_cargo_the_same_through_a_shim() {
    let specs: Vec<String> = match std::env::var("REAL_CRATES") {
        Ok(list) => list.split(',').map(str::to_string).collect(),
        Err(_) => CRATES.iter().map(|s| s.to_string()).collect(),
    };
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for spec in &specs {
        match compare(spec, scratch.path()) {
            Ok(set) => {
                let cfgs = set.iter().filter(|d| d.starts_with("rustc-cfg=")).count();
                println!(
                    "ok   {spec}: {} directives, {cfgs} cfgs, same as the registry build",
                    set.len()
                );
            }
            Err(e) => {
                println!("FAIL {spec}: {e}");
                failures.push(format!("{spec}: {e}"));
            }
        }
    }
    println!(
        "{} of {} crates: same build-script directives through a shim",
        specs.len() - failures.len(),
        specs.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
