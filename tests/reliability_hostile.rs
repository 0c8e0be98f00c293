//! Hostile pristine sources: a vendored or path `source` holding symbolic
//! links out of the tree (absolute, relative, to folders, through other
//! links, in loops, dangling), FIFOs and sockets, and names that collide on
//! case-insensitive file systems. Nothing outside the tree is read through a
//! link or written; a FIFO never hangs the copy; the source is unchanged.
#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use build_patch::Config;
use support::reliability::*;
use support::{hash_tree, unified_diff, write, TestEnv};

const SENTINEL: &str = "SENTINEL: outside the crate, never to be copied\n";

/// A pristine `hostile 0.1.0` at `root/vendor/hostile`, with a sentinel
/// folder beside it (`root/outside`) that its links point at.
fn hostile_source(root: &Path) -> PathBuf {
    let src = root.join("vendor/hostile");
    let outside = root.join("outside");
    write(&outside.join("sentinel.txt"), SENTINEL);
    write(&outside.join("sub/inner.txt"), SENTINEL);
    write(
        &src.join("Cargo.toml"),
        "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&src.join("src/lib.rs"), LIB);
    write(&src.join("src/more/deep.rs"), "// deep\n");
    write(&src.join("README"), "upper\n");
    write(&src.join("readme"), "lower\n");
    write(&src.join("src/Mod.rs"), "// Mod\n");
    write(&src.join("src/mod.rs"), "// mod\n");
    // Links out of the tree, every way.
    symlink(outside.join("sentinel.txt"), src.join("abs_file")).unwrap();
    symlink(
        "../../../outside/sentinel.txt",
        src.join("src/more/rel_file"),
    )
    .unwrap();
    symlink(&outside, src.join("abs_dir")).unwrap();
    symlink("../outside", src.join("rel_dir_escape_one")).unwrap();
    symlink("../../outside/sub", src.join("rel_dir")).unwrap();
    symlink("../abs_file", src.join("src/chain")).unwrap();
    symlink("loop_b", src.join("loop_a")).unwrap();
    symlink("loop_a", src.join("loop_b")).unwrap();
    symlink("does-not-exist", src.join("dangling")).unwrap();
    // Special files, and links to them.
    let fifo = src.join("src/fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    symlink("fifo", src.join("src/fifo_link.rs")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(src.join("socket")).unwrap();
    symlink("/dev/zero", src.join("zero")).unwrap();
    // Links inside the tree: a file (copied as that file) and a folder.
    symlink("lib.rs", src.join("src/alias.rs")).unwrap();
    symlink("more", src.join("src/more_alias")).unwrap();
    src
}

/// The names the staging must leave out, relative to the crate.
const LEFT_OUT: &[&str] = &[
    "abs_file",
    "src/more/rel_file",
    "abs_dir",
    "rel_dir_escape_one",
    "rel_dir",
    "src/chain",
    "loop_a",
    "loop_b",
    "dangling",
    "src/fifo",
    "src/fifo_link.rs",
    "socket",
    "zero",
    "src/more_alias",
];

/// What a tree looks like to `ls -lR`: every entry with its type, a link's
/// target, a file's hash and mtime. Reading it never follows a link.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let ft = meta.file_type();
            if ft.is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&p).unwrap().display()
                ));
            } else if ft.is_dir() {
                out.push(format!("{rel}/"));
                stack.push(p);
            } else if ft.is_file() {
                out.push(format!(
                    "{rel} {:?} {:?}",
                    std::fs::read(&p).unwrap(),
                    meta.modified().unwrap()
                ));
            } else {
                out.push(format!("{rel} special {:?}", meta.modified().unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Every file under `dir` whose bytes hold the sentinel.
fn holding_sentinel(dir: &Path) -> Vec<String> {
    hash_tree(dir)
        .keys()
        .filter(|rel| {
            std::fs::read(dir.join(rel))
                .map(|b| String::from_utf8_lossy(&b).contains("SENTINEL"))
                .unwrap_or(false)
        })
        .cloned()
        .collect()
}

/// Stages in a thread, failing the test if that takes more than a minute (a
/// FIFO opened for reading blocks until a writer comes).
fn stage_within_a_minute(cfg: Config) -> build_patch::Result<build_patch::Output> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(cfg.try_build());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("staging hung (a FIFO was opened?)")
}

/// The shim of `hostile` in `root/shim`, staging `root/vendor/hostile`, with
/// `patches` (a `patches = [...]` line, or nothing) in its metadata.
fn write_shim(root: &Path, patches: &str) {
    write(
        &root.join("shim/Cargo.toml"),
        &format!(
            "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [package.metadata.build-patch]\n{patches}source = \"../vendor/hostile\"\n"
        ),
    );
    write(
        &root.join("shim/src/lib.rs"),
        "include!(concat!(env!(\"OUT_DIR\"), \"/build-patch/lib.rs\"));\n",
    );
}

/// The build of the shim in `root/shim` into `root/OUT`, without Cargo's
/// home or directives.
fn shim_config(root: &Path, out: &str) -> Config {
    let mut cfg = Config::new();
    cfg.manifest_dir(root.join("shim"))
        .out_dir(root.join(out))
        .cargo_home(root.join("no-cargo-home"))
        .cargo_directives(false);
    cfg
}

/// A temporary folder with [`hostile_source`] and [`write_shim`]`(patches)`;
/// the folder and the source.
fn hostile_shim(patches: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = hostile_source(tmp.path());
    write_shim(tmp.path(), patches);
    (tmp, src)
}

#[test]
fn links_out_of_the_tree_and_special_files_are_never_followed_or_copied() {
    let (tmp, src) = hostile_shim("patches = [\"fix.patch\", \"readme.patch\"]\n");
    let root = tmp.path();
    write(&root.join("shim/fix.patch"), &value_patch(5));
    write(
        &root.join("shim/readme.patch"),
        &unified_diff("readme", "lower\n", "lower, patched\n"),
    );
    let source_before = listing(&src);
    let outside_before = listing(&root.join("outside"));

    let cfg = shim_config(root, "out");
    let out = stage_within_a_minute(cfg.clone()).unwrap();
    let staged = out.staged_dir().to_path_buf();

    // Left out, each named in a warning; nothing of the outside copied.
    let warnings = out.directives().join("\n");
    for rel in LEFT_OUT {
        assert!(
            std::fs::symlink_metadata(staged.join(rel)).is_err(),
            "`{rel}` was copied"
        );
        assert!(
            warnings.contains(&format!("`{rel}`")),
            "no warning for `{rel}`:\n{warnings}"
        );
    }
    assert_eq!(holding_sentinel(&staged), Vec::<String>::new());
    assert_eq!(holding_sentinel(&root.join("out")), Vec::<String>::new());

    // What is there: regular files only, both case variants with their own
    // bytes, the in-tree file link as a file, the patches applied.
    let tree = hash_tree(&staged);
    let names: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "Cargo.toml",
            "README",
            "readme",
            "src/.build-patch-root.rs",
            "src/Mod.rs",
            "src/alias.rs",
            "src/lib.rs",
            "src/mod.rs",
            "src/more/deep.rs",
        ]
    );
    let read = |rel: &str| std::fs::read_to_string(staged.join(rel)).unwrap();
    assert_eq!(read("README"), "upper\n");
    assert_eq!(read("readme"), "lower, patched\n");
    assert_eq!(read("src/Mod.rs"), "// Mod\n");
    assert_eq!(read("src/mod.rs"), "// mod\n");
    assert_eq!(read("src/alias.rs"), LIB);
    assert_eq!(read("src/lib.rs"), lib_with(5));
    for rel in names {
        let meta = std::fs::symlink_metadata(staged.join(rel)).unwrap();
        assert!(meta.file_type().is_file(), "`{rel}` is not a regular file");
    }

    // A rerun with the hostile source (fingerprinted: a local source) does
    // no work, and nothing outside or in the source changed.
    assert!(!stage_within_a_minute(cfg).unwrap().restaged());
    assert_eq!(listing(&src), source_before);
    assert_eq!(listing(&root.join("outside")), outside_before);
}

/// A patch that reaches out through a link of the source (`abs_dir` leads
/// out of the tree and is not copied): refused, nothing written outside,
/// the sentinel untouched.
#[test]
fn a_patch_through_a_link_out_of_the_tree_writes_nothing_outside() {
    let (tmp, src) = hostile_shim("patches = [\"out.patch\"]\n");
    let root = tmp.path();
    let outside_before = listing(&root.join("outside"));
    let source_before = listing(&src);
    for (i, patch) in [
        unified_diff("abs_dir/sentinel.txt", SENTINEL, "overwritten\n"),
        unified_diff("abs_file", SENTINEL, "overwritten\n"),
        unified_diff("rel_dir/inner.txt", SENTINEL, "overwritten\n"),
        unified_diff("src/chain", SENTINEL, "overwritten\n"),
    ]
    .into_iter()
    .enumerate()
    {
        write(&root.join("shim/out.patch"), &patch);
        let err = stage_within_a_minute(shim_config(root, &format!("out{i}"))).unwrap_err();
        assert_eq!(err.kind_name(), "patch", "{err}");
        assert_eq!(listing(&root.join("outside")), outside_before, "{err}");
        assert_eq!(listing(&src), source_before, "{err}");
    }
}

/// A configured source whose `Cargo.toml` is a link out of the tree: its
/// name and version are not taken from outside.
#[test]
fn a_manifest_linked_from_outside_is_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        &root.join("outside/Cargo.toml"),
        "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&root.join("vendor/hostile/src/lib.rs"), LIB);
    symlink(
        root.join("outside/Cargo.toml"),
        root.join("vendor/hostile/Cargo.toml"),
    )
    .unwrap();
    write_shim(root, "");
    let err = shim_config(root, "out").try_build().unwrap_err();
    assert_eq!(err.kind_name(), "source", "{err}");
    assert!(err.to_string().contains("has no `Cargo.toml`"), "{err}");
}

/// The same hostile source behind a real `cargo build`: it builds, Cargo
/// shows a warning for each file left out, the sentinel is untouched.
#[test]
fn a_hostile_vendored_source_builds_with_cargo_and_warns() {
    let env = TestEnv::new();
    let src = hostile_source(&env.ws);
    vendored_workspace(&env, "hostile", "0.1.0", 9, &["vendor", "outside"]);
    let source_before = listing(&src);
    let outside_before = listing(&env.ws.join("outside"));
    let run = env.ok(&["run"]);
    assert_eq!(run.stdout, "9\n");
    for rel in LEFT_OUT {
        assert!(
            run.stderr
                .contains(&format!("not copied from `hostile 0.1.0`: `{rel}`")),
            "no warning for `{rel}`:\n{}",
            run.stderr
        );
    }
    assert_eq!(listing(&src), source_before);
    assert_eq!(listing(&env.ws.join("outside")), outside_before);
}
