//! Differential tests: `apply_to_dir` against GNU patch (`patch -p1 -F0`).
//!
//! For every case the same tree and patch go to both; they must agree on
//! whether the patch applies, and when it does, on every byte of the result.
//! Cases are generated (random files with many repeated lines, edited, diffed
//! with the real `diff`, then applied to a shifted or altered copy) and
//! hand-made (the tricky placements). Skipped, with a note, when `patch` or
//! `diff` is not installed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use build_patch::patch::{apply_to_dir, ApplyOptions, PatchFile};
use support::tree::{read_tree_marked, write_tree};
use support::Rng;

/// Path to content; a path ending in `*` is an executable file.
type Tree = BTreeMap<String, Vec<u8>>;

fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("note: `{tool}` is not installed; skipping the GNU patch differential test");
    }
    ok
}

/// The tree under `root` (without GNU patch's `.rej` and `.orig` files).
fn read_tree(root: &Path) -> Tree {
    let mut tree = read_tree_marked(root);
    tree.retain(|path, _| {
        let path = path.trim_end_matches('*');
        !path.ends_with(".rej") && !path.ends_with(".orig")
    });
    tree
}

/// GNU patch's result, or `None` if it reported any failure.
fn gnu(tree: &Tree, patch: &[u8], fuzz: usize) -> Option<Tree> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("t");
    fs::create_dir(&root).unwrap();
    write_tree(&root, tree);
    let pf = dir.path().join("p.patch");
    fs::write(&pf, patch).unwrap();
    let out = Command::new("patch")
        .arg(format!("-F{fuzz}"))
        .args(["-p1", "-N", "-s", "--no-backup-if-mismatch", "-i"])
        .arg(&pf)
        .current_dir(&root)
        .output()
        .unwrap();
    out.status.success().then(|| read_tree(&root))
}

/// Our result, or `None` with the error.
fn ours(tree: &Tree, patch: &[u8], fuzz: usize) -> Result<Tree, String> {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), tree);
    let pf = PatchFile {
        display: "p.patch".into(),
        bytes: patch.to_vec(),
        strip: None,
    };
    match apply_to_dir(dir.path(), &[pf], ApplyOptions::new().fuzz(fuzz)) {
        Ok(_) => Ok(read_tree(dir.path())),
        Err(e) => {
            assert_eq!(
                read_tree(dir.path()),
                *tree,
                "failed apply changed the tree"
            );
            Err(e.to_string())
        }
    }
}

fn show(t: &Tree) -> String {
    t.iter()
        .map(|(k, v)| format!("== {k}\n{}", String::from_utf8_lossy(v)))
        .collect()
}

/// Asserts that GNU patch and `apply_to_dir` agree; returns whether it applied.
fn agree(name: &str, tree: &Tree, patch: &[u8]) -> bool {
    agree_at(name, tree, patch, 0)
}

/// [`agree`] with `patch -F<fuzz>` and [`ApplyOptions::fuzz`].
fn agree_at(name: &str, tree: &Tree, patch: &[u8], fuzz: usize) -> bool {
    let g = gnu(tree, patch, fuzz);
    let o = ours(tree, patch, fuzz);
    match (&g, &o) {
        (Some(g), Ok(o)) => {
            assert!(
                g == o,
                "{name}: results differ\npatch:\n{}\ntree:\n{}\nGNU:\n{}\nours:\n{}",
                String::from_utf8_lossy(patch),
                show(tree),
                show(g),
                show(o)
            );
            true
        }
        (None, Err(_)) => false,
        (Some(g), Err(e)) => panic!(
            "{name}: GNU patch applies, we refuse: {e}\npatch:\n{}\ntree:\n{}\nGNU:\n{}",
            String::from_utf8_lossy(patch),
            show(tree),
            show(g)
        ),
        (None, Ok(o)) => panic!(
            "{name}: GNU patch fails, we apply\npatch:\n{}\ntree:\n{}\nours:\n{}",
            String::from_utf8_lossy(patch),
            show(tree),
            show(o)
        ),
    }
}

/// A line from a small vocabulary, so that blocks repeat and the nearest
/// match matters; sometimes a unique line.
fn random_line(rng: &mut Rng, serial: &mut usize) -> Vec<u8> {
    if rng.chance(30) {
        *serial += 1;
        format!("unique {serial}\n").into_bytes()
    } else {
        const WORDS: [&str; 6] = ["a", "b", "c", "{", "}", ""];
        format!("{}\n", WORDS[rng.below(WORDS.len())]).into_bytes()
    }
}

fn random_file(rng: &mut Rng, serial: &mut usize) -> Vec<Vec<u8>> {
    let n = rng.below(40);
    (0..n).map(|_| random_line(rng, serial)).collect()
}

/// Random edits: deletions, insertions, replacements.
fn edit(rng: &mut Rng, lines: &[Vec<u8>], serial: &mut usize, edits: usize) -> Vec<Vec<u8>> {
    let mut out = lines.to_vec();
    for _ in 0..edits {
        let at = rng.below(out.len() + 1);
        match rng.below(3) {
            0 if at < out.len() => {
                out.remove(at);
            }
            1 if at < out.len() => out[at] = random_line(rng, serial),
            _ => out.insert(at, random_line(rng, serial)),
        }
    }
    out
}

fn join(lines: &[Vec<u8>], drop_last_newline: bool) -> Vec<u8> {
    let mut v: Vec<u8> = lines.concat();
    if drop_last_newline && v.last() == Some(&b'\n') {
        v.pop();
    }
    v
}

/// `diff -ruN -U<context> a b` over two trees.
fn diff(old: &Tree, new: &Tree, context: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write_tree(&dir.path().join("a"), old);
    write_tree(&dir.path().join("b"), new);
    fs::create_dir_all(dir.path().join("a")).unwrap();
    fs::create_dir_all(dir.path().join("b")).unwrap();
    let out = Command::new("diff")
        .arg("-ruN")
        .arg(format!("-U{context}"))
        .args(["a", "b"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.code() != Some(2),
        "diff failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One generated case: a tree, and a `diff -ruN` patch made against a
/// slightly different version of it (so hunks move, or stop matching).
fn generate_case(rng: &mut Rng, large: bool) -> (Tree, Vec<u8>) {
    let mut serial = 0;
    let mut old = Tree::new();
    let mut new = Tree::new();
    let mut target = Tree::new();
    let files = if large { 1 } else { 1 + rng.below(3) };
    for f in 0..files {
        let name = format!("d{}/f{f}.txt", rng.below(2));
        let mut lines = random_file(rng, &mut serial);
        if large {
            // Long files with many hunks: offsets accumulate between hunks.
            for _ in 0..3 {
                lines.extend(random_file(rng, &mut serial));
            }
        }
        let n = if large {
            3 + rng.below(12)
        } else {
            1 + rng.below(5)
        };
        let newer = edit(rng, &lines, &mut serial, n);
        let no_eol_old = rng.chance(10);
        let no_eol_new = rng.chance(10);
        // The file the patch meets: the old one, shifted or altered.
        let mut moved = if rng.chance(70) {
            let n = if large { rng.below(8) } else { rng.below(4) };
            edit(rng, &lines, &mut serial, n)
        } else {
            lines.clone()
        };
        for _ in 0..if large { 3 } else { 1 } {
            duplicate_block(rng, &mut moved);
        }
        if rng.chance(8) {
            new.insert(name.clone(), join(&newer, no_eol_new));
            continue; // a created file
        }
        old.insert(name.clone(), join(&lines, no_eol_old));
        target.insert(name.clone(), join(&moved, no_eol_old));
        if !rng.chance(5) {
            new.insert(name, join(&newer, no_eol_new));
        }
    }
    let mut patch = diff(&old, &new, rng.below(4));
    if rng.chance(10) {
        // Some files use CRLF; sometimes the patch file itself was
        // converted to CRLF (GNU patch then drops the CRs of its lines).
        let crlf = |b: &[u8]| -> Vec<u8> {
            let mut out = Vec::with_capacity(b.len() * 2);
            for &c in b {
                if c == b'\n' {
                    out.push(b'\r');
                }
                out.push(c);
            }
            out
        };
        if rng.chance(50) {
            patch = crlf(&patch);
        } else {
            for (_, bytes) in old.iter_mut().chain(new.iter_mut()) {
                *bytes = crlf(bytes);
            }
            for (_, bytes) in target.iter_mut() {
                *bytes = crlf(bytes);
            }
            patch = diff(&old, &new, rng.below(4));
            if rng.chance(30) {
                patch = crlf(&patch);
            }
        }
    }
    (target, patch)
}

/// Sometimes copies a block of lines elsewhere, so the nearest copy of a
/// hunk's context must win.
fn duplicate_block(rng: &mut Rng, moved: &mut Vec<Vec<u8>>) {
    if rng.chance(30) && !moved.is_empty() {
        let from = rng.below(moved.len());
        let len = 1 + rng.below((moved.len() - from).min(8));
        let block: Vec<Vec<u8>> = moved[from..from + len].to_vec();
        let at = rng.below(moved.len() + 1);
        moved.splice(at..at, block);
    }
}

fn run_generated(fuzz: usize, default_cases: usize, seed: u64, large: bool) {
    if !have("patch") || !have("diff") {
        return;
    }
    // `PATCH_GNU_CASES=5000` for a longer run; `PATCH_GNU_SEED` to vary.
    let cases: usize = env_or("PATCH_GNU_CASES", default_cases);
    let mut rng = Rng::new(env_or("PATCH_GNU_SEED", seed));
    let (mut applied, mut refused) = (0, 0);
    for case in 0..cases {
        let (target, patch) = generate_case(&mut rng, large);
        if patch.is_empty() {
            continue;
        }
        if agree_at(&format!("case {case} (fuzz {fuzz})"), &target, &patch, fuzz) {
            applied += 1;
        } else {
            refused += 1;
        }
    }
    let size = if large { "large " } else { "" };
    eprintln!("generated {size}at fuzz {fuzz}: {applied} applied, {refused} refused, all agreeing with GNU patch");
    assert!(
        applied > cases / 8 && refused > cases / 20,
        "{applied} applied, {refused} refused"
    );
}

#[test]
fn generated_cases_agree_with_gnu_patch() {
    run_generated(0, 400, 0x9e37_79b9_7f4a_7c15, false);
}

#[test]
fn generated_cases_agree_with_gnu_patch_with_fuzz() {
    run_generated(1, 200, 0x0123_4567_89ab_cdef, false);
    run_generated(2, 200, 0x0fed_cba9_8765_4321, false);
}

#[test]
fn generated_large_cases_agree_with_gnu_patch() {
    run_generated(0, 150, 0x7777_1111_2222_3333, true);
    run_generated(2, 100, 0x4444_5555_6666_7777, true);
}

#[test]
fn diff_output_applied_to_old_gives_new() {
    if !have("diff") {
        return;
    }
    let mut rng = Rng::new(0x1234_5678_9abc_def1);
    for case in 0..300 {
        let mut serial = 0;
        let lines = random_file(&mut rng, &mut serial);
        let n = 1 + rng.below(8);
        let newer = edit(&mut rng, &lines, &mut serial, n);
        let mut old = Tree::new();
        let mut new = Tree::new();
        old.insert("f".into(), join(&lines, rng.chance(15)));
        new.insert("f".into(), join(&newer, rng.chance(15)));
        let patch = diff(&old, &new, rng.below(5));
        if patch.is_empty() {
            continue;
        }
        let got = ours(&old, &patch, 0).unwrap_or_else(|e| {
            panic!(
                "case {case}: {e}\npatch:\n{}",
                String::from_utf8_lossy(&patch)
            )
        });
        let mut expected = new.clone();
        if new["f"].is_empty() && !old["f"].is_empty() {
            // `diff -N` marks nothing as deleted: an emptied file stays.
            expected.insert("f".into(), Vec::new());
        }
        assert_eq!(
            got,
            expected,
            "case {case}\npatch:\n{}",
            String::from_utf8_lossy(&patch)
        );
    }
}

fn tree(files: &[(&str, &str)]) -> Tree {
    files
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("{i}\n")).collect()
}

#[test]
fn hand_made_cases_agree_with_gnu_patch() {
    if !have("patch") {
        return;
    }
    let block = "a\nb\nc\n";
    let cases: Vec<(&str, Tree, String)> = vec![
        (
            "nearest of two repeated blocks, forward",
            tree(&[("f", &format!("{block}4\n5\n6\n7\n8\n{block}"))]),
            "--- a/f\n+++ b/f\n@@ -6,3 +6,3 @@\n a\n-b\n+B\n c\n".into(),
        ),
        (
            "nearest of two repeated blocks, equal distance prefers after",
            tree(&[("f", &format!("{block}4\n5\n{block}"))]),
            "--- a/f\n+++ b/f\n@@ -4,3 +4,3 @@\n a\n-b\n+B\n c\n".into(),
        ),
        (
            "three repeated blocks, guess on the middle one",
            tree(&[("f", &format!("{block}x\n{block}y\n{block}"))]),
            "--- a/f\n+++ b/f\n@@ -5,3 +5,3 @@\n a\n-b\n+B\n c\n".into(),
        ),
        (
            "second hunk follows the first hunk's offset",
            tree(&[("f", &format!("new\nnew\n{}", numbered(30)))]),
            "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n@@ -20,3 +20,3 @@\n 20\n-21\n+x\n 22\n".into(),
        ),
        (
            "overlapping context of consecutive hunks",
            tree(&[("f", &numbered(10))]),
            "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+3x\n 4\n@@ -3,3 +3,3 @@\n 3\n-4\n+4x\n 5\n".into(),
        ),
        (
            "second hunk's context overlaps the first hunk's change, far guess",
            tree(&[("f", &numbered(20))]),
            "--- a/f\n+++ b/f\n@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\n@@ -10,3 +10,3 @@\n 5\n-6\n+six\n 7\n".into(),
        ),
        (
            "hunks out of order",
            tree(&[("f", &numbered(20))]),
            "--- a/f\n+++ b/f\n@@ -15,3 +15,3 @@\n 15\n-16\n+x\n 17\n@@ -2,3 +2,3 @@\n 2\n-3\n+y\n 4\n".into(),
        ),
        (
            "start-of-file hunk on a file with a new first line",
            tree(&[("f", &format!("0\n{}", numbered(5)))]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-1\n+one\n 2\n 3\n".into(),
        ),
        (
            "end-of-file hunk on a file with a new last line",
            tree(&[("f", &format!("{}6\n", numbered(5)))]),
            "--- a/f\n+++ b/f\n@@ -3,3 +3,3 @@\n 3\n 4\n-5\n+five\n".into(),
        ),
        (
            "end-of-file hunk, exact",
            tree(&[("f", &numbered(5))]),
            "--- a/f\n+++ b/f\n@@ -3,3 +3,3 @@\n 3\n 4\n-5\n+five\n".into(),
        ),
        (
            "zero context insertion after a moved line",
            tree(&[("f", &format!("x\n{}", numbered(5)))]),
            "--- a/f\n+++ b/f\n@@ -3,0 +4,2 @@\n+p\n+q\n".into(),
        ),
        (
            "zero context replacement that moved",
            tree(&[("f", &format!("x\ny\n{}", numbered(9)))]),
            "--- a/f\n+++ b/f\n@@ -5 +5 @@\n-5\n+five\n@@ -8,0 +9 @@\n+after8\n".into(),
        ),
        (
            "insertion at the top of an empty-context hunk",
            tree(&[("f", &numbered(3))]),
            "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+top\n+top2\n".into(),
        ),
        (
            "hunk beyond the end of the file",
            tree(&[("f", &numbered(5))]),
            "--- a/f\n+++ b/f\n@@ -40,3 +40,3 @@\n 3\n-4\n+four\n 5\n".into(),
        ),
        (
            "zero-context insertion far past the end",
            tree(&[("f", &numbered(5))]),
            "--- a/f\n+++ b/f\n@@ -40,0 +41 @@\n+x\n".into(),
        ),
        (
            "two zero-context insertions past the end",
            tree(&[("f", &numbered(5))]),
            "--- a/f\n+++ b/f\n@@ -40,0 +41 @@\n+x\n@@ -50,0 +52 @@\n+y\n".into(),
        ),
        (
            "no newline at end, changed",
            tree(&[("f", "1\n2\n3")]),
            "--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n 2\n-3\n\\ No newline at end of file\n+three\n".into(),
        ),
        (
            "no newline added",
            tree(&[("f", "1\n2\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n 2\n-3\n+3\n\\ No newline at end of file\n".into(),
        ),
        (
            "no-newline mismatch refused",
            tree(&[("f", "1\n2\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n 2\n-3\n\\ No newline at end of file\n+three\n".into(),
        ),
        (
            "crlf file",
            tree(&[("f", "1\r\n2\r\n3\r\n")]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\r\n-2\r\n+two\r\n 3\r\n".into(),
        ),
        (
            "patch file converted to crlf, lf file",
            tree(&[("f", "1\n2\n3\n")]),
            "--- a/f\r\n+++ b/f\r\n@@ -1,3 +1,3 @@\r\n 1\r\n-2\r\n+two\r\n 3\r\n".into(),
        ),
        (
            "patch file converted to crlf, crlf file",
            tree(&[("f", "1\r\n2\r\n3\r\n")]),
            "--- a/f\r\n+++ b/f\r\n@@ -1,3 +1,3 @@\r\n 1\r\n-2\r\n+two\r\n 3\r\n".into(),
        ),
        (
            "only the +++ line decides about crlf",
            tree(&[("f", "1\n2\n3\n")]),
            "--- a/f\r\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\r\n-2\r\n+two\r\n 3\r\n".into(),
        ),
        (
            "two files, the second with a crlf header",
            tree(&[("f", "1\n2\n3\n"), ("g", "1\n2\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n--- a/g\r\n+++ b/g\r\n@@ -1,3 +1,3 @@\r\n 1\r\n-2\r\n+two\r\n 3\r\n".into(),
        ),
        (
            "crlf patch, lf file",
            tree(&[("f", "1\n2\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\r\n-2\r\n+two\r\n 3\r\n".into(),
        ),
        (
            "omitted counts",
            tree(&[("f", &numbered(5))]),
            "--- a/f\n+++ b/f\n@@ -3 +3 @@\n-3\n+three\n".into(),
        ),
        (
            "empty context line written as an empty line",
            tree(&[("f", "1\n\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-1\n+one\n\n 3\n".into(),
        ),
        (
            "context line whose leading space became part of a tab",
            tree(&[("f", "1\n\tx\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n\tx\n-3\n+three\n".into(),
        ),
        (
            "git diff between two names without a rename header",
            tree(&[("x", &numbered(3)), ("y", &numbered(3))]),
            "diff --git a/x b/y\n--- a/x\n+++ b/y\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n".into(),
        ),
        (
            "create a new file",
            tree(&[("f", "x\n")]),
            "--- /dev/null\n+++ b/g/new\n@@ -0,0 +1,2 @@\n+1\n+2\n".into(),
        ),
        (
            "create over an existing empty file",
            tree(&[("f", "x\n"), ("g/new", "")]),
            "--- /dev/null\n+++ b/g/new\n@@ -0,0 +1,2 @@\n+1\n+2\n".into(),
        ),
        (
            "create over an existing non-empty file",
            tree(&[("f", "x\n"), ("g/new", "old\n")]),
            "--- /dev/null\n+++ b/g/new\n@@ -0,0 +1,2 @@\n+1\n+2\n".into(),
        ),
        (
            "delete with an epoch-dated new side",
            tree(&[("f", "x\n"), ("g", "1\n2\n")]),
            "--- a/g\t2020-01-01 00:00:00.000000000 +0000\n+++ b/g\t1970-01-01 00:00:00.000000000 +0000\n@@ -1,2 +0,0 @@\n-1\n-2\n".into(),
        ),
        (
            "create, epoch in another time zone",
            tree(&[("f", "x\n")]),
            "--- a/g\t1970-01-01 01:00:00.000000000 +0100\n+++ b/g\t2020-01-01 00:00:00.000000000 +0000\n@@ -0,0 +1 @@\n+1\n".into(),
        ),
        (
            "delete, epoch in another time zone",
            tree(&[("f", "x\n"), ("g", "1\n")]),
            "--- a/g\t2020-01-01 00:00:00.000000000 +0000\n+++ b/g\t1969-12-31 19:00:00.000000000 -0500\n@@ -1 +0,0 @@\n-1\n".into(),
        ),
        (
            "delete a file",
            tree(&[("f", "x\n"), ("g", "1\n2\n")]),
            "--- a/g\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-1\n-2\n".into(),
        ),
        (
            "git diff with description and two files",
            tree(&[("f", &numbered(6)), ("g", &numbered(3))]),
            "Subject: x\n\nSome text.\n---\n f | 2 +-\n\ndiff --git a/f b/f\nindex 1..2 100644\n--- a/f\n+++ b/f\n@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\ndiff --git a/g b/g\n--- a/g\n+++ b/g\n@@ -1,2 +1,2 @@\n-1\n+one\n 2\n-- \n2.30.0\n".into(),
        ),
        (
            "already applied",
            tree(&[("f", "1\ntwo\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n".into(),
        ),
        (
            "two sections for the same file",
            tree(&[("f", &numbered(20))]),
            "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n--- a/f\n+++ b/f\n@@ -10,3 +10,3 @@\n 10\n-11\n+eleven\n 12\n".into(),
        ),
        (
            "only additions to a missing file create it",
            tree(&[("f", "x\n")]),
            "--- a/g\n+++ b/g\n@@ -0,0 +1,2 @@\n+1\n+2\n".into(),
        ),
        (
            "git creation over an existing file",
            tree(&[("f", "x\n")]),
            "diff --git a/f b/f\nnew file mode 100644\n--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+y\n".into(),
        ),
        (
            "deleting a file whose content differs",
            tree(&[("f", "x\ny\n")]),
            "--- a/f\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-z\n".into(),
        ),
        (
            "old and new names differ, old exists",
            tree(&[("src/x", &numbered(3))]),
            "--- pkg.orig/src/x\n+++ pkg/src/x\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n".into(),
        ),
        (
            "quilt Index line",
            tree(&[("src/x", &numbered(3))]),
            "Index: pkg/src/x\n===================================================================\n--- pkg.orig/src/x\n+++ pkg/src/x\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n".into(),
        ),
        (
            "Index name is not used when the --- and +++ names are missing",
            tree(&[("x", &numbered(3))]),
            "Index: p/x\n--- a/src/x\n+++ b/src/x\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n".into(),
        ),
        (
            "zero-context insertion before an earlier hunk's change",
            tree(&[("f", &numbered(10))]),
            "--- a/f\n+++ b/f\n@@ -5 +5 @@\n-5\n+five\n@@ -1,0 +2 @@\n+new\n".into(),
        ),
        (
            "zero-context insertion right after an earlier hunk's change",
            tree(&[("f", &numbered(10))]),
            "--- a/f\n+++ b/f\n@@ -5 +5 @@\n-5\n+five\n@@ -5,0 +6 @@\n+new\n".into(),
        ),
        (
            "DEP-3 header then diff",
            tree(&[("Cargo.toml", "[dependencies]\nfoo = \"1\"\nbar = \"2\"\n")]),
            "Description: relax foo\nAuthor: someone\nForwarded: not-needed\n---\nThis patch header follows DEP-3.\n--- a/Cargo.toml\n+++ b/Cargo.toml\n@@ -1,3 +1,3 @@\n [dependencies]\n-foo = \"1\"\n+foo = \">= 1, < 3\"\n bar = \"2\"\n".into(),
        ),
        (
            "second hunk fails",
            tree(&[("f", &numbered(20))]),
            "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n@@ -12,3 +12,3 @@\n 12\n-nope\n+x\n 14\n".into(),
        ),
    ];
    for (name, t, patch) in cases {
        agree(name, &t, patch.as_bytes());
    }
}

#[test]
fn hand_made_fuzz_cases_agree_with_gnu_patch() {
    if !have("patch") {
        return;
    }
    let cases: Vec<(&str, usize, Tree, &str)> = vec![
        (
            // Forward it needs fuzz 1; reversed it matches exactly: GNU
            // patch calls it already applied before trying fuzz.
            "first hunk matches reversed before fuzz",
            1,
            tree(&[("f", "{\nx\nc\n")]),
            "--- a/f\n+++ b/f\n@@ -1,2 +1 @@\n c\n-c\n",
        ),
        (
            "one context line differs at each end",
            2,
            tree(&[("f", "0\nX\n2\n3\n4\nY\n6\n")]),
            "--- a/f\n+++ b/f\n@@ -1,7 +1,7 @@\n 0\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n",
        ),
        (
            "fuzz 1 is not enough",
            1,
            tree(&[("f", "0\nX\n2\n3\n4\nY\n6\n")]),
            "--- a/f\n+++ b/f\n@@ -1,7 +1,7 @@\n 0\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n",
        ),
        (
            "exact match far away beats a fuzzy match nearby",
            2,
            tree(&[(
                "f",
                "a\nX\nc\nd\ne\n1\n2\n3\n4\n5\n6\n7\n8\na\nb\nc\nd\ne\n",
            )]),
            "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n a\n b\n-c\n+C\n d\n e\n",
        ),
        (
            // GNU patch 2.7.6 does not let the second hunk start within the
            // lines the first one consumed, even as context.
            "end-anchored hunk after a fuzzed hunk",
            2,
            tree(&[("f", "c\n{\nb\nb\na\n{\nb\nb\nu1\nu2\nu3\nb\nc\n\nu4\nu5\nu6\na\n")]),
            "--- a/f\n+++ b/f\n@@ -1,4 +1,6 @@\n c\n+a\n+\n \n b\n b\n@@ -11,8 +13,8 @@\n u3\n b\n c\n-\n u4\n u5\n u6\n a\n+{\n",
        ),
        (
            "fuzz at the start of the file",
            2,
            tree(&[("f", "new\n1\n2\n3\n")]),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-1\n+one\n 2\n 3\n",
        ),
    ];
    for (name, fuzz, t, patch) in cases {
        agree_at(name, &t, patch.as_bytes(), fuzz);
    }
}

/// Where build-patch refuses on purpose what GNU patch does: each case must
/// be applied by GNU patch and refused by us, with the reason given.
#[test]
fn deliberate_divergences_from_gnu_patch() {
    if !have("patch") {
        return;
    }
    let cases: Vec<(&str, Tree, &str, &str)> = vec![
        (
            // GNU patch overwrites `g`; `git apply` refuses, and so do we:
            // silently losing a file is worse than asking.
            "git rename onto an existing file",
            tree(&[("f", "x\n"), ("g", "y\n")]),
            "diff --git a/f b/g\nsimilarity index 100%\nrename from f\nrename to g\n",
            "but it already exists",
        ),
        (
            "git copy onto an existing file",
            tree(&[("f", "x\n"), ("g", "y\n")]),
            "diff --git a/f b/g\nsimilarity index 100%\ncopy from f\ncopy to g\n",
            "but it already exists",
        ),
        (
            // GNU patch and quilt accept an empty patch file silently; an
            // entry in a patch list that does nothing is more likely a
            // mistake.
            "empty patch file",
            tree(&[("f", "x\n")]),
            "",
            "not a patch",
        ),
    ];
    for (name, t, patch, reason) in cases {
        assert!(
            gnu(&t, patch.as_bytes(), 0).is_some(),
            "{name}: GNU patch now refuses"
        );
        match ours(&t, patch.as_bytes(), 0) {
            Ok(_) => panic!("{name}: applied"),
            Err(e) => assert!(e.contains(reason), "{name}: {e}"),
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    let config = [
        "user.name=t",
        "user.email=t@example.com",
        "core.autocrlf=false",
        "color.ui=never",
    ];
    support::git(dir, &config, args)
}

/// A case made by git: a committed tree, then edits, renames, copies, mode
/// changes, deletions and creations, diffed with `git diff -M -C`.
fn generate_git_case(rng: &mut Rng) -> (Tree, Vec<u8>) {
    let mut serial = 0;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    let mut old = Tree::new();
    let count = 1 + rng.below(4);
    for f in 0..count {
        let star = if rng.chance(15) { "*" } else { "" };
        let mut lines = random_file(rng, &mut serial);
        // Enough unique lines for git to recognise renames and copies.
        for _ in 0..4 {
            lines.push(random_line(rng, &mut 1000));
            serial += 1;
            lines.push(format!("line {serial} of file {f}\n").into_bytes());
        }
        old.insert(
            format!("d{}/f{f}.txt{star}", rng.below(2)),
            join(&lines, rng.chance(10)),
        );
    }
    write_tree(repo, &old);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "old"]);
    let mut new = old.clone();
    for (name, bytes) in &old {
        let plain = name.trim_end_matches('*');
        let exec = name.ends_with('*');
        let lines: Vec<Vec<u8>> = bytes
            .split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        let edits = 1 + rng.below(2);
        let edited = join(&edit(rng, &lines, &mut serial, edits), false);
        match rng.below(10) {
            0..=3 => {
                new.insert(name.clone(), edited);
            }
            4 | 5 => {
                new.remove(name);
                let to = format!(
                    "r{}/g{}.txt{}",
                    rng.below(2),
                    rng.below(100),
                    if exec { "*" } else { "" }
                );
                new.insert(
                    to,
                    if rng.chance(50) {
                        edited
                    } else {
                        bytes.clone()
                    },
                );
            }
            6 => {
                new.remove(name);
                let flipped = if exec {
                    plain.to_string()
                } else {
                    format!("{plain}*")
                };
                new.insert(flipped, bytes.clone());
            }
            7 => {
                new.remove(name);
            }
            8 => {
                new.insert(format!("c/{}.copy", rng.below(100)), bytes.clone());
                new.insert(name.clone(), edited);
            }
            _ => {}
        }
    }
    if rng.chance(30) {
        let lines = random_file(rng, &mut serial);
        let star = if rng.chance(30) { "*" } else { "" };
        new.insert(
            format!("new/n{}.txt{star}", rng.below(10)),
            join(&lines, false),
        );
    }
    for entry in fs::read_dir(repo).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap() != ".git" {
            fs::remove_dir_all(&p).unwrap();
        }
    }
    write_tree(repo, &new);
    git(repo, &["add", "-A"]);
    let patch = git(repo, &["diff", "--cached", "-M", "-C"]);
    // The tree the patch meets: the old one, some files shifted down.
    let mut target = Tree::new();
    for (name, bytes) in old {
        let mut b = bytes;
        if rng.chance(25) {
            let mut shifted = b"inserted\nlines\n".to_vec();
            shifted.extend_from_slice(&b);
            b = shifted;
        }
        target.insert(name, b);
    }
    (target, patch)
}

#[test]
fn git_generated_cases_agree_with_gnu_patch() {
    if !have("patch") || !have("git") {
        return;
    }
    let cases: usize = env_or("PATCH_GNU_CASES", 150);
    let mut rng = Rng::new(env_or("PATCH_GNU_SEED", 0x5555_aaaa_1234_4321));
    let (mut applied, mut refused) = (0, 0);
    const FEATURES: [&str; 7] = [
        "rename from",
        "copy from",
        "new mode",
        "new file mode 100755",
        "new file mode 100644",
        "deleted file mode",
        "No newline",
    ];
    let mut seen = [0usize; FEATURES.len()];
    for case in 0..cases {
        let (target, patch) = generate_git_case(&mut rng);
        if patch.is_empty() {
            continue;
        }
        for (i, f) in FEATURES.iter().enumerate() {
            if patch.windows(f.len()).any(|w| w == f.as_bytes()) {
                seen[i] += 1;
            }
        }
        if agree(&format!("git case {case}"), &target, &patch) {
            applied += 1;
        } else {
            refused += 1;
        }
    }
    eprintln!("git-generated: {applied} applied, {refused} refused, all agreeing with GNU patch");
    for (f, n) in FEATURES.iter().zip(seen) {
        eprintln!("  patches with `{f}`: {n}");
    }
    assert!(applied > cases / 4, "{applied} applied, {refused} refused");
    assert!(
        seen.iter().all(|&n| n > 0),
        "every git feature is exercised"
    );
}
