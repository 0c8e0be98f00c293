//! Upstream build scripts run through the shim as they do from the registry:
//! cfgs, code generated into `OUT_DIR`, environment variables, features,
//! build-dependencies, `links` metadata, link directives, failures, and
//! reruns only when Cargo would rerun them.
//!
//! The shims' build files are written with the library's own
//! `Output::shim_build_files` (what `cargo build-patch new` writes), from a
//! staged copy of the fixture crate.

use std::path::{Path, PathBuf};

use support::{assert_contains, assert_lacks, unified_diff, write, Package, Shim, TestEnv};

/// Writes the build files of the shim at `dir` for `name version` with the
/// patches (paths relative to the shim), as `cargo build-patch new` would:
/// the upstream build script with its `main` renamed and the glue, and the
/// files it reads.
fn write_build_files(env: &TestEnv, dir: &str, name: &str, version: &str, patches: &[&str]) {
    let pristine = env.unpack(name, version);
    let scratch = tempfile::tempdir().unwrap();
    let shim_dir = env.ws.join(dir);
    let mut cfg = build_patch::Config::new();
    cfg.upstream(name, version)
        .source(&pristine)
        .manifest_dir(&shim_dir)
        .out_dir(scratch.path());
    for p in patches {
        cfg.patch(p);
    }
    let out = cfg.stage().unwrap();
    let plain = shim_dir.join("build.rs");
    let _ = std::fs::remove_file(&plain);
    for (rel, bytes) in out.shim_build_files(None).unwrap() {
        write(&shim_dir.join(rel), &String::from_utf8(bytes).unwrap());
    }
}

const PROBE_BUILD: &str = r#"use std::collections::HashMap; // unused: warns
use std::env;
use std::fs;
use std::path::Path;

fn main() {
    // As Cargo runs it: no arguments, nothing of build-patch's.
    assert_eq!(env::args().count(), 1);
    assert!(env::vars().all(|(k, _)| !k.contains("BUILD_PATCH")));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=data");
    println!("cargo:rerun-if-env-changed=PROBE_GREETING");
    println!("cargo:rustc-check-cfg=cfg(probe_rustc, probe_fast)");
    // A version probe, as autocfg and friends do.
    let rustc = env::var("RUSTC").expect("RUSTC");
    let out = std::process::Command::new(rustc).arg("--version").output().unwrap();
    if out.status.success() {
        println!("cargo:rustc-cfg=probe_rustc");
    }
    if env::var_os("CARGO_FEATURE_FAST").is_some() {
        println!("cargo:rustc-cfg=probe_fast");
    }
    // Read from the crate (the working directory) and through
    // CARGO_MANIFEST_DIR; generate code into OUT_DIR.
    let words = fs::read_to_string("data/words.txt").unwrap();
    let dir = env::var("CARGO_MANIFEST_DIR").unwrap();
    assert_eq!(fs::read_to_string(Path::new(&dir).join("data/words.txt")).unwrap(), words);
    let list: Vec<&str> = words.lines().collect();
    let out_dir = env::var("OUT_DIR").unwrap();
    fs::write(
        Path::new(&out_dir).join("words.rs"),
        format!("pub const WORDS: &[&str] = &{:?};\n", list),
    )
    .unwrap();
    println!(
        "cargo:rustc-env=PROBE_SAW={} {} profile={}",
        env::var("CARGO_PKG_NAME").unwrap(),
        env::var("CARGO_PKG_VERSION").unwrap(),
        env::var("PROFILE").unwrap(),
    );
}
"#;

const PROBE_LIB: &str = r#"include!(concat!(env!("OUT_DIR"), "/words.rs"));

pub fn report() -> String {
    format!(
        "rustc={} fast={} saw={} words={}",
        cfg!(probe_rustc),
        cfg!(probe_fast),
        env!("PROBE_SAW"),
        WORDS.join(",")
    )
}
"#;

fn probe_crate() -> Package {
    Package::new("probe", "1.0.0")
        .manifest_extra("build = \"build.rs\"\n")
        .feature("fast", &[])
        .file("build.rs", PROBE_BUILD)
        .file("src/lib.rs", PROBE_LIB)
        .file("data/words.txt", "alpha\nbeta\n")
}

/// `patches/build.patch`: probe's build script sets `probe_fast` with or
/// without the feature.
fn write_fast_always_patch(env: &TestEnv) {
    let fast_always = PROBE_BUILD.replace(
        "println!(\"cargo:rustc-cfg=probe_fast\");",
        "println!(\"cargo:rustc-cfg=probe_fast\");\n    } else {\n        println!(\"cargo:rustc-cfg=probe_fast\");",
    );
    env.file(
        "patches/build.patch",
        &unified_diff("build.rs", PROBE_BUILD, &fast_always),
    );
}

fn app(env: &TestEnv, dep: &str, patch: bool) {
    let patch = if patch {
        "\n[patch.crates-io]\nprobe = { path = \"patched/probe\" }\n"
    } else {
        ""
    };
    env.app_manifest(&format!("probe = {dep}\n{patch}"))
        .main_printing(&["probe::report()"]);
}

fn probe_shim(env: &TestEnv, patches: &[&str]) {
    env.shim("patched/probe", &probe_shim_manifest(patches));
    write_build_files(env, "patched/probe", "probe", "1.0.0", patches);
}

/// The shim of probe 1.0.0 (its `fast` feature, its build script) listing
/// `patches`.
fn probe_shim_manifest(patches: &[&str]) -> Shim {
    let mut shim = Shim::graph_wide("probe", "1.0.0")
        .runs_upstream_build_script()
        .manifest_extra("\n[features]\nfast = []\n")
        .package_extra("build = \"build.rs\"\n");
    for p in patches {
        shim = shim.patch(p);
    }
    shim
}

#[test]
fn cfgs_generated_code_env_and_features_match_the_registry_build() {
    let env = TestEnv::new().isolated_target();
    env.publish(&probe_crate());
    app(&env, "\"1\"", false);
    let registry = env.ok(&["run", "-q"]).stdout;
    assert_eq!(
        registry,
        "rustc=true fast=false saw=probe 1.0.0 profile=debug words=alpha,beta\n"
    );

    probe_shim(&env, &[]);
    app(&env, "\"1\"", true);
    let shim = env.ok(&["run"]);
    assert_eq!(shim.stdout, registry);
    // The upstream script's warnings are capped, as for a registry crate.
    assert_lacks(&shim.stderr, &["warning"]);

    // Features reach the upstream script as CARGO_FEATURE_*.
    app(&env, "{ version = \"1\", features = [\"fast\"] }", true);
    env.assert_prints("rustc=true fast=true saw=probe 1.0.0 profile=debug words=alpha,beta\n");
    assert_eq!(
        env.ok(&["run", "-q", "--release"]).stdout,
        "rustc=true fast=true saw=probe 1.0.0 profile=release words=alpha,beta\n"
    );

    // Nothing changed: Cargo does not rerun the shim's build script, even
    // though the upstream one watches files of its own.
    let noop = env.ok(&["build", "-v"]);
    assert!(!noop.ran_build_script_of("probe"), "{}", noop.stderr);

    // A variable the upstream script watches reruns it, once.
    let with_var = || {
        let out = env
            .cargo(&["build", "-v"])
            .env("PROBE_GREETING", "hi")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).contains("build-script-build")
    };
    assert!(with_var(), "PROBE_GREETING did not rerun the script");
    assert!(!with_var(), "PROBE_GREETING reran the script twice");
}

#[test]
fn a_patch_to_the_build_script_and_its_data_takes_effect_once_the_shim_is_synced() {
    let env = TestEnv::new().isolated_target();
    env.publish(&probe_crate());
    env.file(
        "patches/words.patch",
        &unified_diff("data/words.txt", "alpha\nbeta\n", "alpha\nbeta\ngamma\n"),
    );
    probe_shim(&env, &["../../patches/words.patch"]);
    app(&env, "\"1\"", true);
    // A patch to a file the script reads at run time: no sync needed.
    env.assert_prints(
        "rustc=true fast=false saw=probe 1.0.0 profile=debug words=alpha,beta,gamma\n",
    );
    let noop = env.ok(&["build", "-v"]);
    assert!(!noop.ran_build_script_of("probe"), "{}", noop.stderr);

    // A patch to the build script itself: the shim's compiled copy is now
    // stale, and the build says so.
    write_fast_always_patch(&env);
    let shim = probe_shim_manifest(&["../../patches/words.patch", "../../patches/build.patch"]);
    let old_build = std::fs::read_to_string(env.ws.join("patched/probe/build.rs")).unwrap();
    env.shim("patched/probe", &shim);
    env.file("patched/probe/build.rs", &old_build);
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &[
            "the shim's copy of the build script of the patched `probe 1.0.0` is out of date",
            "`build.rs`: differs from the patched upstream's",
            "cargo build-patch sync",
        ],
    );
    write_build_files(
        &env,
        "patched/probe",
        "probe",
        "1.0.0",
        &["../../patches/words.patch", "../../patches/build.patch"],
    );
    env.assert_prints(
        "rustc=true fast=true saw=probe 1.0.0 profile=debug words=alpha,beta,gamma\n",
    );
}

#[test]
fn a_shim_that_does_not_run_the_upstream_build_script_is_an_error() {
    let env = TestEnv::new();
    env.publish(&probe_crate());
    env.shim("patched/probe", &probe_shim_manifest(&[]));
    app(&env, "\"1\"", true);
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &[
            "the patched `probe 1.0.0` has a build script (`build.rs`)",
            "cargo build-patch sync",
        ],
    );
}

#[test]
fn a_failing_build_script_fails_the_build_with_its_own_output() {
    let env = TestEnv::new();
    env.publish(
        &Package::new("failing", "1.0.0")
            .file(
                "build.rs",
                "fn main() {\n    println!(\"checking for libfrob\");\n    \
                 eprintln!(\"libfrob not found: install libfrob-dev\");\n    std::process::exit(3);\n}\n",
            )
            .file("src/lib.rs", ""),
    );
    env.publish(
        &Package::new("erring", "1.0.0")
            .file(
                "build.rs",
                "fn main() -> Result<(), String> {\n    Err(\"no frobnicator\".to_string())\n}\n",
            )
            .file("src/lib.rs", ""),
    );
    for (name, expected) in [
        ("failing", "libfrob not found: install libfrob-dev"),
        ("erring", "Error: \"no frobnicator\""),
    ] {
        env.shim(
            &format!("patched/{name}"),
            &Shim::graph_wide(name, "1.0.0").runs_upstream_build_script(),
        );
        write_build_files(&env, &format!("patched/{name}"), name, "1.0.0", &[]);
        env.app_manifest(&format!(
            "{name} = \"1\"\n\n[patch.crates-io]\n{name} = {{ path = \"patched/{name}\" }}\n"
        ))
        .file("src/main.rs", "fn main() {}\n");
        let run = env.fails(&["build"]);
        assert_contains(
            &run.stderr,
            &[
                expected,
                &format!("the build script of `{name} 1.0.0` failed"),
            ],
        );
        if name == "failing" {
            assert_contains(&run.stderr, &["checking for libfrob"]);
        }
    }
}

#[test]
fn edition_2015_build_dependencies_and_local_modules() {
    let env = TestEnv::new();
    let twice = "pub fn twice(x: u32) -> u32 { x * 2 }\n";
    env.publish(&Package::lib("twice", "1.0.0", twice).edition("2015"));
    // A 2015 build script at `build/main.rs` with `extern crate`, `use` of
    // the extern crate, a local module and an include_str!.
    let manifest =
        "[package]\nname = \"gencode\"\nversion = \"0.5.0\"\nbuild = \"build/main.rs\"\n\n\
                    [build-dependencies]\ntwice = \"1\"\n";
    env.publish(
        &Package::new("gencode", "0.5.0")
            .file("Cargo.toml", manifest)
            .file(
                "build/main.rs",
                "#![allow(unused)]\nextern crate twice;\n\nuse std::env;\nuse twice::twice;\n\nmod table;\n\n\
                 fn main() {\n    let out = env::var(\"OUT_DIR\").unwrap();\n    \
                 let code = format!(\"pub const N: u32 = {};\\npub const NAME: &'static str = {:?};\\n\", twice(table::BASE), table::NAME.trim());\n    \
                 std::fs::write(std::path::Path::new(&out).join(\"gen.rs\"), code).unwrap();\n}\n",
            )
            .file(
                "build/table.rs",
                "pub const BASE: u32 = 21;\npub const NAME: &'static str = include_str!(\"name.txt\");\n",
            )
            .file("build/name.txt", "the table\n")
            .file(
                "src/lib.rs",
                "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n",
            ),
    );
    env.add_build_dep_to_index("gencode", "twice", "^1");
    let shim = Shim::graph_wide("gencode", "0.5.0")
        .runs_upstream_build_script()
        .edition("2015")
        .manifest_extra("twice = \"1\"\n")
        .package_extra("build = \"build/main.rs\"\n");
    env.shim("patched/gencode", &shim);
    write_build_files(&env, "patched/gencode", "gencode", "0.5.0", &[]);
    for f in ["build/table.rs", "build/name.txt"] {
        assert!(
            env.ws.join("patched/gencode").join(f).is_file(),
            "{f} not copied"
        );
    }
    env.app_manifest("gencode = \"0.5\"\n")
        .main_printing(&["gencode::N", "gencode::NAME"]);
    let registry = env.ok(&["run", "-q"]).stdout;
    assert_eq!(registry, "42 the table\n");
    let mut text = std::fs::read_to_string(env.ws.join("Cargo.toml")).unwrap();
    text.push_str("\n[patch.crates-io]\ngencode = { path = \"patched/gencode\" }\n");
    env.file("Cargo.toml", &text);
    assert_eq!(env.ok(&["run", "-q"]).stdout, registry);

    // Another requirement for the build-dependency: the manifest check
    // says so. (Without it at all, the shim's build script would not
    // compile: Cargo's "can't find crate for `twice`".)
    let shim = Shim::graph_wide("gencode", "0.5.0")
        .runs_upstream_build_script()
        .edition("2015")
        .manifest_extra("twice = \"1.0\"\n")
        .package_extra("build = \"build/main.rs\"\n");
    env.shim("patched/gencode", &shim);
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &["[build-dependencies] `twice`: requirement upstream `^1`, the shim `^1.0`"],
    );
}

#[test]
fn links_metadata_reaches_dependents_and_link_directives_apply() {
    let env = TestEnv::new();
    // `native` links a C library (zlib, present on the test machines) and
    // tells its dependents where its headers are, through `links`.
    env.publish(
        &Package::new("native", "1.0.0")
            .manifest_extra("links = \"native\"\n")
            .file(
                "build.rs",
                "fn main() {\n    println!(\"cargo:rustc-link-lib=z\");\n    \
                 println!(\"cargo:include=/opt/native/include\");\n    \
                 println!(\"cargo::metadata=version=1.2.3\");\n}\n",
            )
            .file(
                "src/lib.rs",
                "extern \"C\" { fn zlibVersion() -> *const std::os::raw::c_char; }\n\
                 pub fn zlib_version() -> String {\n    \
                 unsafe { std::ffi::CStr::from_ptr(zlibVersion()) }.to_string_lossy().into_owned()\n}\n",
            ),
    );
    env.publish(
        &Package::new("uses-native", "1.0.0")
            .manifest_extra("build = \"build.rs\"\n")
            .dep("native", "1")
            .file(
                "build.rs",
                "fn main() {\n    println!(\"cargo:rustc-env=NATIVE_INCLUDE={}\", std::env::var(\"DEP_NATIVE_INCLUDE\").unwrap());\n    \
                 println!(\"cargo:rustc-env=NATIVE_VERSION={}\", std::env::var(\"DEP_NATIVE_VERSION\").unwrap());\n}\n",
            )
            .file(
                "src/lib.rs",
                "pub fn info() -> String { format!(\"{} {} zlib={}\", env!(\"NATIVE_INCLUDE\"), env!(\"NATIVE_VERSION\"), !native::zlib_version().is_empty()) }\n",
            ),
    );
    let shim = Shim::graph_wide("native", "1.0.0")
        .runs_upstream_build_script()
        .package_extra("links = \"native\"\n");
    env.shim("patched/native", &shim);
    write_build_files(&env, "patched/native", "native", "1.0.0", &[]);
    env.app_manifest(
        "uses-native = \"1\"\n\n[patch.crates-io]\nnative = { path = \"patched/native\" }\n",
    )
    .main_printing(&["uses_native::info()"]);
    env.assert_prints("/opt/native/include 1.2.3 zlib=true\n");

    // The other way round: a shimmed crate's build script reads the
    // DEP_* metadata of a registry `links` crate it depends on.
    let shim = Shim::graph_wide("uses-native", "1.0.0")
        .runs_upstream_build_script()
        .manifest_extra("\n[dependencies]\nnative = \"1\"\n")
        .package_extra("build = \"build.rs\"\n");
    env.shim("patched/uses-native", &shim);
    write_build_files(&env, "patched/uses-native", "uses-native", "1.0.0", &[]);
    env.app_manifest("uses-native = \"1\"\n\n[patch.crates-io]\nuses-native = { path = \"patched/uses-native\" }\n");
    env.assert_prints("/opt/native/include 1.2.3 zlib=true\n");
}

#[test]
fn shim_build_files_of_a_crate_without_a_build_script_is_the_plain_one() {
    let env = TestEnv::new();
    env.publish(&Package::lib("plain", "1.0.0", ""));
    let pristine = env.unpack("plain", "1.0.0");
    let scratch = tempfile::tempdir().unwrap();
    let out = build_patch::Config::new()
        .upstream("plain", "1.0.0")
        .source(&pristine)
        .manifest_dir(Path::new(&env.ws))
        .out_dir(scratch.path())
        .stage()
        .unwrap();
    assert_eq!(out.upstream_build_script(), None);
    let files = out.shim_build_files(None).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, PathBuf::from("build.rs"));
    assert!(String::from_utf8_lossy(&files[0].1).contains("build_patch::build()"));
}

/// A crate whose build script prints a million directives, then the cfg its
/// library needs.
fn chatty_crate() -> Package {
    Package::new("chatty", "1.0.0")
        .file(
            "build.rs",
            "use std::io::Write;\nfn main() {\n    let mut out = std::io::BufWriter::new(std::io::stdout().lock());\n    \
             for i in 0..1_000_000 {\n        writeln!(out, \"cargo:rerun-if-env-changed=CHATTY_{i}\").unwrap();\n    }\n    \
             writeln!(out, \"cargo:rustc-check-cfg=cfg(chatty_done)\").unwrap();\n    \
             writeln!(out, \"cargo:rustc-cfg=chatty_done\").unwrap();\n}\n",
        )
        .file(
            "src/lib.rs",
            "#[cfg(chatty_done)]\npub fn done() -> &'static str { \"all directives read\" }\n",
        )
}

#[test]
fn a_build_script_printing_a_million_directives_builds_as_from_the_registry() {
    let env = TestEnv::new();
    env.publish(&chatty_crate());
    env.shim(
        "patched/chatty",
        &Shim::graph_wide("chatty", "1.0.0").runs_upstream_build_script(),
    );
    write_build_files(&env, "patched/chatty", "chatty", "1.0.0", &[]);
    env.app(
        "chatty = \"1\"",
        "[patch.crates-io]\nchatty = { path = \"patched/chatty\" }",
    )
    .main_printing(&["chatty::done()"]);
    let start = std::time::Instant::now();
    env.assert_prints("all directives read\n");
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(60), "took {took:?}");
    // Nothing changed: the million watched variables do not rerun it.
    let run = env.ok(&["build", "-v"]);
    assert!(!run.ran_build_script_of("chatty"), "{}", run.stderr);
}

/// A build script that never exits runs as long as it would from the registry:
/// build-patch adds no timeout of its own (docs/limits.md says why), and stopping
/// the build as a terminal's Ctrl-C does (SIGINT to the process group) stops the
/// upstream script too, leaving nothing running.
#[cfg(unix)]
#[test]
fn a_build_script_that_never_exits_stops_with_the_build() {
    use std::time::Duration;
    use support::reliability::{spawn_group, wait_at_most};
    let env = TestEnv::new();
    let pid_file = env.root.join("hang.pid");
    env.publish(
        &Package::new("hang", "1.0.0")
            .file(
                "build.rs",
                "fn main() {\n    let file = std::env::var(\"HANG_PID_FILE\").unwrap();\n    \
                 std::fs::write(file, std::process::id().to_string()).unwrap();\n    \
                 loop {\n        std::thread::sleep(std::time::Duration::from_secs(1));\n    }\n}\n",
            )
            .file("src/lib.rs", ""),
    );
    env.shim(
        "patched/hang",
        &Shim::graph_wide("hang", "1.0.0").runs_upstream_build_script(),
    );
    write_build_files(&env, "patched/hang", "hang", "1.0.0", &[]);
    env.app(
        "hang = \"1\"",
        "[patch.crates-io]\nhang = { path = \"patched/hang\" }",
    )
    .file("src/main.rs", "fn main() {}\n");
    let mut cmd = env.cargo(&["build"]);
    cmd.env("HANG_PID_FILE", &pid_file);
    let mut cargo = spawn_group(cmd, &env.root.join("cargo.log"));
    let log = || std::fs::read_to_string(env.root.join("cargo.log")).unwrap_or_default();
    // The upstream script runs (in the child process build-patch starts).
    let mut waited = Duration::ZERO;
    while !pid_file.exists() {
        assert!(
            cargo.try_wait().unwrap().is_none(),
            "cargo ended before the script ran:\n{}",
            log()
        );
        assert!(waited < Duration::from_secs(120), "{}", log());
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    // Still running a while later: no timeout.
    assert!(
        wait_at_most(&mut cargo, Duration::from_secs(3)).is_none(),
        "{}",
        log()
    );
    let alive = |pid: &str| {
        std::process::Command::new("kill")
            .args(["-0", pid])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    assert!(alive(&pid));
    // Ctrl-C.
    std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{}", cargo.id())])
        .status()
        .unwrap();
    let status = wait_at_most(&mut cargo, Duration::from_secs(20));
    assert!(status.is_some_and(|s| !s.success()), "{}", log());
    let mut waited = Duration::ZERO;
    while alive(&pid) {
        assert!(
            waited < Duration::from_secs(10),
            "the upstream build script (pid {pid}) outlived the build"
        );
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
}

/// Cargo compiles build-patch with the features of every shim's manifest
/// together, but decides nothing from the staged upstream: a shim whose
/// upstream has a build script must enable `upstream-build-script` itself.
/// Without it the build fails, also when another shim enables the feature
/// for the whole build, so that its outcome does not depend on the other.
#[test]
fn a_shim_without_the_build_script_feature_fails_even_when_another_enables_it() {
    let env = TestEnv::new();
    env.publish(&probe_crate());
    env.publish(
        &Package::new("other", "1.0.0")
            .file(
                "build.rs",
                "fn main() {\n    println!(\"cargo:rustc-env=OTHER=ran\");\n}\n",
            )
            .file(
                "src/lib.rs",
                "pub fn ran() -> &'static str { env!(\"OTHER\") }\n",
            ),
    );
    let mut probe = probe_shim_manifest(&[]);
    probe.build_patch_features.clear();
    env.shim("patched/probe", &probe);
    write_build_files(&env, "patched/probe", "probe", "1.0.0", &[]);
    env.app_manifest("probe = \"1\"\n\n[patch.crates-io]\nprobe = { path = \"patched/probe\" }\n")
        .main_printing(&["probe::report()"]);
    let missing = "[build-dependencies] `build-patch`: feature `upstream-build-script` missing \
                   (the patched upstream has a build script, `build.rs`, which build-patch runs \
                   only with that feature)";
    let alone = env.fails(&["build"]);
    assert_contains(&alone.stderr, &[missing, "cargo build-patch sync"]);

    env.shim(
        "patched/other",
        &Shim::graph_wide("other", "1.0.0").runs_upstream_build_script(),
    );
    write_build_files(&env, "patched/other", "other", "1.0.0", &[]);
    env.app_manifest(
        "probe = \"1\"\nother = \"1\"\n\n[patch.crates-io]\nprobe = { path = \"patched/probe\" }\n\
         other = { path = \"patched/other\" }\n",
    )
    .main_printing(&["probe::report()", "other::ran()"]);
    let with_other = env.fails(&["build"]);
    assert_contains(&with_other.stderr, &[missing]);

    env.shim("patched/probe", &probe_shim_manifest(&[]));
    write_build_files(&env, "patched/probe", "probe", "1.0.0", &[]);
    env.assert_prints("rustc=true fast=false saw=probe 1.0.0 profile=debug words=alpha,beta ran\n");
}

/// `Config::verify_only` is for tools: in a shim's own build script it would
/// compile the crate without the upstream build script, so the build fails.
#[test]
fn verify_only_in_a_shim_build_script_fails_the_build() {
    let env = TestEnv::new();
    env.publish(&probe_crate());
    probe_shim(&env, &[]);
    let script = env.ws.join("patched/probe/build.rs");
    let text = std::fs::read_to_string(&script).unwrap();
    let call = ".upstream_build_script(__build_patch_upstream_main_report)";
    assert!(text.contains(call), "{text}");
    write(
        &script,
        &text.replace(call, &format!("{call}\n        .verify_only(true)")),
    );
    app(&env, "\"1\"", true);
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &[
            "`Config::verify_only` is for tools",
            "remove `.verify_only(...)`",
        ],
    );
}

/// A patch that deletes the build script but leaves the `build` key: the
/// build says which, rather than failing to read a file.
#[test]
fn a_patch_removing_the_build_script_but_not_the_build_key_is_named() {
    let env = TestEnv::new();
    env.publish(&probe_crate());
    let mut removal = String::from("--- a/build.rs\n+++ /dev/null\n");
    removal.push_str(&format!("@@ -1,{} +0,0 @@\n", PROBE_BUILD.lines().count()));
    for line in PROBE_BUILD.lines() {
        removal.push('-');
        removal.push_str(line);
        removal.push('\n');
    }
    env.file("patches/no-script.patch", &removal);
    // What `new` and `sync` say, then the build of the shim made before.
    let mut cfg = build_patch::Config::new();
    cfg.upstream("probe", "1.0.0")
        .source(env.unpack("probe", "1.0.0"))
        .manifest_dir(&env.ws)
        .out_dir(env.ws.join("scratch"))
        .patch("patches/no-script.patch");
    let staged = cfg.stage().unwrap();
    let named = "cannot prepare the upstream build script `build.rs` for the shim: the patched \
                 `Cargo.toml` names it (`build`), but the patched crate has no such file";
    let e = staged.shim_build_files(None).unwrap_err().to_string();
    assert!(e.contains(named), "{e}");
    probe_shim(&env, &[]);
    let manifest = env.ws.join("patched/probe/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    write(
        &manifest,
        &text.replace(
            "patches = []",
            "patches = [\"../../patches/no-script.patch\"]",
        ),
    );
    app(&env, "\"1\"", true);
    let run = env.fails(&["build"]);
    assert_contains(&run.stderr, &[named]);
}

/// Two workspaces with a shim at the same place, one target directory:
/// Cargo reuses the first one's compiled shim build script for the second
/// (rust-lang/cargo#12516), with the first one's patched copy of the
/// upstream build script in it. The glue says which shim it was compiled
/// for, and the build fails instead of running the other's script.
#[test]
fn a_shim_build_script_compiled_for_another_workspace_is_refused() {
    let older = TestEnv::new().isolated_target();
    let newer = TestEnv::new().isolated_target();
    for env in [&older, &newer] {
        env.publish(&probe_crate());
    }
    probe_shim(&older, &[]);
    app(&older, "\"1\"", true);
    // Its files predate the other workspace's build.
    support::tree::backdate(&older.ws);
    write_fast_always_patch(&newer);
    probe_shim(&newer, &["../../patches/build.patch"]);
    app(&newer, "\"1\"", true);
    assert!(newer.ok(&["run", "-q"]).stdout.contains("fast=true"));

    let mut older = older;
    older.target_dir = newer.target_dir.clone();
    let run = older.fails(&["build"]);
    let shim = older.ws.join("patched/probe");
    assert_contains(
        &run.stderr,
        &[
            &format!(
                "the shim's build script was compiled for the shim in `{}`, and Cargo runs it \
                 for the one in `{}`",
                newer.ws.join("patched/probe").display(),
                shim.display()
            ),
            "rust-lang/cargo#12516",
        ],
    );
    // As the help says: touched, it is compiled from this workspace's copy.
    std::fs::File::options()
        .write(true)
        .open(shim.join("build.rs"))
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    assert!(older.ok(&["run", "-q"]).stdout.contains("fast=false"));
}
