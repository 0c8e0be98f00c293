//! Staging through the library's own API, with every input given on the
//! builder: no work when nothing changed, the same tree wherever it is
//! staged, and safe when two stagings of one `OUT_DIR` run at once.

use std::path::{Path, PathBuf};

use build_patch::Config;
use support::{assert_contains, hash_tree, unified_diff, write};

const LIB: &str = "pub fn f() -> u32 {\n    1\n}\n";

/// A pristine crate, a shim that patches it, and a folder for outputs.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        write(
            &root.join("pristine/Cargo.toml"),
            "[package]\nname = \"lib1\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
        );
        write(&root.join("pristine/src/lib.rs"), LIB);
        write(&root.join("pristine/src/data/blob.bin"), "\u{0}\u{1}binary");
        write(
            &root.join("shim/Cargo.toml"),
            "[package]\nname = \"lib1\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n\
             [package.metadata.build-patch]\npatches = [\"fix.patch\"]\nsource = \"../pristine\"\n",
        );
        write(
            &root.join("shim/src/lib.rs"),
            "include!(concat!(env!(\"OUT_DIR\"), \"/build-patch/lib.rs\"));\n",
        );
        write(
            &root.join("shim/fix.patch"),
            &unified_diff("src/lib.rs", LIB, &LIB.replace('1', "2")),
        );
        Fixture { _tmp: tmp, root }
    }

    fn config(&self, out: &str) -> Config {
        let mut cfg = Config::new();
        cfg.manifest_dir(self.root.join("shim"))
            .out_dir(self.root.join(out))
            .cargo_home(self.root.join("no-cargo-home"))
            .cargo_directives(false);
        cfg
    }
}

#[test]
fn a_rerun_with_nothing_changed_does_no_work() {
    let fx = Fixture::new();
    let first = fx.config("out").try_build().unwrap();
    assert!(first.restaged());
    let staged = first.staged_dir().to_path_buf();
    let marker = std::fs::metadata(staged.join("src/lib.rs"))
        .unwrap()
        .modified()
        .unwrap();

    let second = fx.config("out").try_build().unwrap();
    assert!(!second.restaged());
    assert_eq!(
        std::fs::metadata(staged.join("src/lib.rs"))
            .unwrap()
            .modified()
            .unwrap(),
        marker,
        "the staged copy was rewritten"
    );

    // A one-byte change to the patch restages.
    write(
        &fx.root.join("shim/fix.patch"),
        &unified_diff("src/lib.rs", LIB, &LIB.replace('1', "3")),
    );
    let third = fx.config("out").try_build().unwrap();
    assert!(third.restaged());
    assert!(std::fs::read_to_string(staged.join("src/lib.rs"))
        .unwrap()
        .contains('3'));
}

#[test]
fn the_staged_tree_is_the_same_wherever_it_is_staged() {
    let fx = Fixture::new();
    let a = fx.config("out-a").try_build().unwrap();
    let b = fx.config("deeper/out-b").try_build().unwrap();
    assert_eq!(hash_tree(a.staged_dir()), hash_tree(b.staged_dir()));
    // Generated files name nothing absolute.
    for out in [&a, &b] {
        let entry = std::fs::read_to_string(out.entry()).unwrap();
        assert!(!entry.contains(fx.root.to_str().unwrap()), "{entry}");
    }
    assert_eq!(
        std::fs::read(a.entry()).unwrap(),
        std::fs::read(b.entry()).unwrap()
    );
}

#[test]
fn directives_watch_every_input_and_give_the_upstream_identity() {
    let fx = Fixture::new();
    let out = fx.config("out").try_build().unwrap();
    let d = out.directives().join("\n");
    assert_contains(
        &d,
        &[
            "cargo:rerun-if-changed=",
            "fix.patch",
            "shim/Cargo.toml",
            "shim/src/lib.rs",
            "pristine",
            "cargo:rustc-env=CARGO_PKG_NAME=lib1",
            "cargo:rustc-env=CARGO_PKG_VERSION=1.0.0",
            "cargo:rustc-env=CARGO_MANIFEST_DIR=",
        ],
    );
}

#[test]
fn two_stagings_of_one_out_dir_at_once_both_end_complete() {
    let fx = Fixture::new();
    let results: Vec<(bool, PathBuf)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let out = fx.config("shared-out").try_build().unwrap();
                    (out.restaged(), out.staged_dir().to_path_buf())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // The lock serialises them: one stages, the others find it up to date.
    assert_eq!(results.iter().filter(|(restaged, _)| *restaged).count(), 1);
    let reference = fx.config("reference").try_build().unwrap();
    assert_eq!(hash_tree(&results[0].1), hash_tree(reference.staged_dir()));
}

#[test]
fn a_failing_patch_leaves_the_last_good_copy_and_the_pristine_source() {
    let fx = Fixture::new();
    let pristine_before = hash_tree(&fx.root.join("pristine"));
    let good = fx.config("out").try_build().unwrap();
    let good_tree = hash_tree(good.staged_dir());

    write(
        &fx.root.join("shim/fix.patch"),
        &unified_diff("src/lib.rs", "something else\n", "entirely\n"),
    );
    let err = fx.config("out").try_build().unwrap_err();
    assert_eq!(err.kind_name(), "patch", "{err}");
    // The last line says how to redo it.
    let shim = fx.root.join("shim");
    assert!(
        err.to_string().ends_with(&format!(
            "\n  help: `cargo build-patch upgrade {} 1.0.0` re-applies the patches one by one \
             and leaves a tree to redo this one in",
            shim.display()
        )),
        "{err}"
    );
    assert_eq!(hash_tree(good.staged_dir()), good_tree);
    assert_eq!(hash_tree(&fx.root.join("pristine")), pristine_before);
    assert_no_temporary_folders(good.staged_dir().parent().unwrap());
}

fn assert_no_temporary_folders(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.contains(".tmp-") && !name.contains(".old-"),
            "left behind: {name}"
        );
    }
}

#[test]
fn a_patch_recorded_against_another_version_warns_or_fails_as_configured() {
    let fx = Fixture::new();
    let patch = std::fs::read_to_string(fx.root.join("shim/fix.patch")).unwrap();
    write(
        &fx.root.join("shim/fix.patch"),
        &format!("Description: fix\nApplies-to: lib1 0.9.0\n\n{patch}"),
    );
    let out = fx.config("out").try_build().unwrap();
    let warning = out
        .directives()
        .iter()
        .find(|d| d.starts_with("cargo:warning="))
        .expect("a warning");
    assert_contains(
        warning,
        &["`fix.patch` was made against `lib1 0.9.0`, and is applied to `lib1 1.0.0`"],
    );

    let manifest = fx.root.join("shim/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    write(&manifest, &format!("{text}version-mismatch = \"error\"\n"));
    let err = fx.config("out").try_build().unwrap_err().to_string();
    assert_contains(&err, &["cargo build-patch upgrade"]);
}

#[test]
fn a_hunk_that_applies_only_with_fuzz_is_warned_about() {
    let fx = Fixture::new();
    // The patch was made against a first line that has changed since.
    let old = LIB.replace("pub fn f()", "pub fn f_old()");
    write(
        &fx.root.join("shim/fix.patch"),
        &unified_diff("src/lib.rs", &old, &old.replace("    1", "    2")),
    );
    assert!(
        fx.config("out").try_build().is_err(),
        "fuzz 0 must refuse it"
    );
    let out = fx.config("out").fuzz(1).try_build().unwrap();
    let staged = std::fs::read_to_string(out.staged_dir().join("src/lib.rs")).unwrap();
    assert_eq!(staged, LIB.replace("    1", "    2"));
    let warnings: Vec<&String> = out
        .directives()
        .iter()
        .filter(|d| d.starts_with("cargo:warning="))
        .collect();
    assert!(
        warnings.iter().any(|w| w
            .contains("hunk #1 of `fix.patch` applied to `src/lib.rs` at line 1 only with fuzz 1")
            && w.contains("cargo build-patch upgrade")),
        "{warnings:?}"
    );
}

#[test]
fn a_missing_patch_file_says_where_paths_start() {
    let fx = Fixture::new();
    std::fs::remove_file(fx.root.join("shim/fix.patch")).unwrap();
    let err = fx.config("out").try_build().unwrap_err().to_string();
    assert_contains(&err, &["fix.patch"]);
    assert!(
        err.ends_with(&format!(
            "help: patch paths are relative to `{}` (those in a quilt `series`, to the series' directory): check the list of patches",
            fx.root.join("shim").display()
        )),
        "{err}"
    );
}

#[test]
fn a_graph_wide_shim_must_stage_its_own_version_and_tools_may_stage_another() {
    let fx = Fixture::new();
    let manifest = fx.root.join("shim/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    // The shim is `lib1 1.0.0`, graph-wide; its table says 0.9.0.
    write(&manifest, &format!("{text}version = \"0.9.0\"\n"));
    let err = fx.config("out").try_build().unwrap_err();
    assert_eq!(err.kind_name(), "config");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "the graph-wide shim `{}` is `lib1 1.0.0`, but its `[package.metadata.build-patch]` \
             says `version = \"0.9.0\"`: rustc would compile 0.9.0's code as `lib1 v1.0.0`",
            manifest.display()
        )),
        "{text}"
    );
    // What a tool calls to check the shim says the same, without staging.
    let check = Config::new()
        .manifest_dir(fx.root.join("shim"))
        .check_shim()
        .unwrap_err();
    assert_eq!(check.to_string(), text);
    assert!(!fx.root.join("out").exists());

    // A tool that stages another version on purpose (`upgrade`, `edit`).
    write(
        &manifest,
        &std::fs::read_to_string(&manifest)
            .unwrap()
            .replace("version = \"0.9.0\"\n", ""),
    );
    Config::new()
        .manifest_dir(fx.root.join("shim"))
        .check_shim()
        .unwrap();
    write(
        &fx.root.join("pristine09/Cargo.toml"),
        "[package]\nname = \"lib1\"\nversion = \"0.9.0\"\nedition = \"2021\"\n",
    );
    write(&fx.root.join("pristine09/src/lib.rs"), LIB);
    fx.config("out")
        .upstream("lib1", "0.9.0")
        .patch("fix.patch")
        .source("../pristine09")
        .stage()
        .unwrap();

    // A renamed shim's version is its own.
    let renamed = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace(
            "name = \"lib1\"\nversion = \"1.0.0\"",
            "name = \"lib1-patched\"\nversion = \"0.9.0\"",
        )
        .replace(
            "[package.metadata.build-patch]\n",
            "[package.metadata.build-patch]\ncrate = \"lib1\"\nversion = \"1.0.0\"\n",
        );
    write(&manifest, &renamed);
    Config::new()
        .manifest_dir(fx.root.join("shim"))
        .check_shim()
        .unwrap();
    fx.config("out").try_build().unwrap();
}
