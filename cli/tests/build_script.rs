//! `cargo build-patch new` and `sync` for crates with a build script: the
//! shim gets the patched upstream build script (and the files it reads),
//! the upstream's build-dependencies, and `sync` follows a patch to the
//! script while keeping the shim's own glue.

use support::cli::cli;
use support::{assert_contains, assert_lacks, assert_starts, read, unified_diff, Package, TestEnv};

const BUILD: &str = r#"//! Generates the greeting.
#![allow(unused)]
extern crate twice;

mod words;

fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    let n = twice::twice(words::BASE);
    std::fs::write(
        std::path::Path::new(&out).join("greeting.rs"),
        format!("pub const GREETING: &str = \"{} x{}\";\n", words::WORD, n),
    )
    .unwrap();
    println!("cargo:rustc-cfg=greeting_generated");
    println!("cargo:rustc-check-cfg=cfg(greeting_generated)");
}
"#;

fn publish(env: &TestEnv) {
    env.publish(&Package::lib(
        "twice",
        "1.0.0",
        "pub fn twice(x: u32) -> u32 { x * 2 }\n",
    ));
    let manifest = "[package]\nname = \"greeter\"\nversion = \"0.3.0\"\nedition = \"2018\"\n\
                    build = \"build/main.rs\"\n\n[build-dependencies]\ntwice = \"1\"\n";
    env.publish(
        &Package::new("greeter", "0.3.0")
            .file("Cargo.toml", manifest)
            .file("build/main.rs", BUILD)
            .file(
                "build/words.rs",
                "pub const WORD: &str = \"hello\";\npub const BASE: u32 = 2;\n",
            )
            .file(
                "src/lib.rs",
                "include!(concat!(env!(\"OUT_DIR\"), \"/greeting.rs\"));\n\
                 pub fn generated() -> bool { cfg!(greeting_generated) }\n",
            ),
    );
    env.add_build_dep_to_index("greeter", "twice", "^1");
    env.app_manifest(
        "greeter = \"0.3\"\n\n[patch.crates-io]\ngreeter = { path = \"patched/greeter\" }\n",
    )
    .main_printing(&["greeter::GREETING", "greeter::generated()"]);
}

#[test]
fn new_copies_the_build_script_and_sync_follows_a_patch_to_it() {
    let env = TestEnv::new();
    publish(&env);
    let out = support::cli::new_shim(&env, "greeter@0.3.0");
    assert_contains(&out, &["build/main.rs"]);
    let shim = env.ws.join("patched/greeter");
    let manifest = read(shim.join("Cargo.toml"));
    assert_contains(
        &manifest,
        &[
            "build = \"build/main.rs\"",
            "twice = \"1\"",
            "build-patch = {",
            "features = [\"upstream-build-script\"] }",
        ],
    );
    let script = read(shim.join("build/main.rs"));
    assert_starts(
        &script,
        "#![allow(warnings)] //! Generates the greeting.\n#![allow(unused)]\n",
    );
    assert_contains(
        &script,
        &[
            "fn __build_patch_upstream_main() {",
            ".upstream_build_script(",
        ],
    );
    assert!(shim.join("build/words.rs").is_file());
    assert!(!shim.join("build.rs").exists());
    env.assert_prints("hello x4 true\n");

    // The user adds to the glue; then a patch to a file the script compiles in.
    let script_path = shim.join("build/main.rs");
    std::fs::write(
        &script_path,
        script.replace(
            "fn main() {\n    build_patch::Config::new()",
            "fn main() {\n    // mine: keep\n    build_patch::Config::new()",
        ),
    )
    .unwrap();
    let words = "pub const WORD: &str = \"hello\";\npub const BASE: u32 = 2;\n";
    env.file(
        "patches/words.patch",
        &unified_diff("build/words.rs", words, &words.replace("hello", "howdy")),
    );
    let manifest_path = shim.join("Cargo.toml");
    let text =
        read(&manifest_path).replace("patches = []", "patches = [\"../../patches/words.patch\"]");
    std::fs::write(&manifest_path, text).unwrap();
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &[
            "`build/words.rs`: differs from the patched upstream's",
            "cargo build-patch sync",
        ],
    );

    let (ok, out) = cli(&env, &["sync", "patched/greeter"]);
    assert!(ok, "{out}");
    assert_contains(&out, &["build/words.rs"]);
    let synced = read(&script_path);
    assert_contains(&synced, &["// mine: keep"]);
    env.assert_prints("howdy x4 true\n");

    let (ok, out) = cli(&env, &["sync", "patched/greeter"]);
    assert!(ok && out.contains("Fresh"), "{out}");

    // `check` and `save` see the shim as its build does (they used to fail:
    // a tool cannot run the upstream build script).
    let (ok, out) = cli(&env, &["check"]);
    assert!(ok, "{out}");
    let (ok, out) = cli(&env, &["edit", "greeter"]);
    assert!(ok, "{out}");
    let tree_words = shim.join(".build-patch-edit/tree/build/words.rs");
    let text = read(&tree_words);
    std::fs::write(&tree_words, text.replace("BASE: u32 = 2", "BASE: u32 = 3")).unwrap();
    let (ok, out) = cli(&env, &["save", "greeter", "-m", "Base three"]);
    assert!(ok, "{out}");
    env.assert_prints("howdy x6 true\n");
    // A shim whose build script does not run the upstream one fails check.
    std::fs::write(&script_path, "fn main() {\n    build_patch::build();\n}\n").unwrap();
    let (ok, out) = cli(&env, &["check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("out of date") || out.contains("does not run it"),
        "{out}"
    );
}

/// A patch that gives the upstream a build script makes the shim need
/// build-patch's `upstream-build-script` feature: the build says so, and
/// `sync` enables it with the script, in one step.
#[test]
fn sync_enables_the_build_script_feature_when_a_patch_adds_a_build_script() {
    let env = TestEnv::new();
    let lib = "pub fn configured() -> bool { cfg!(plain_configured) }\n";
    env.publish(&Package::lib("plain", "1.0.0", lib));
    env.app_manifest("plain = \"1\"\n\n[patch.crates-io]\nplain = { path = \"patched/plain\" }\n")
        .main_printing(&["plain::configured()"]);
    support::cli::new_shim(&env, "plain@1.0.0");
    let shim = env.ws.join("patched/plain");
    let manifest_path = shim.join("Cargo.toml");
    assert_lacks(&read(&manifest_path), &["upstream-build-script"]);
    env.assert_prints("false\n");

    let script =
        "fn main() {\n    println!(\"cargo:rustc-check-cfg=cfg(plain_configured)\");\n    \
                  println!(\"cargo:rustc-cfg=plain_configured\");\n}\n";
    env.file(
        "patches/script.patch",
        &unified_diff("build.rs", "", script),
    );
    let text =
        read(&manifest_path).replace("patches = []", "patches = [\"../../patches/script.patch\"]");
    std::fs::write(&manifest_path, text).unwrap();
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &[
            "[build-dependencies] `build-patch`: feature `upstream-build-script` missing",
            "cargo build-patch sync",
        ],
    );

    let (ok, out) = cli(&env, &["sync", "patched/plain"]);
    assert!(ok, "{out}");
    assert_contains(
        &read(&manifest_path),
        &["features = [\"upstream-build-script\"]"],
    );
    env.assert_prints("true\n");
    let (ok, out) = cli(&env, &["sync", "patched/plain"]);
    assert!(ok && out.contains("Fresh"), "{out}");
}
