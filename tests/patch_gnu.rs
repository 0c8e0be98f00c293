//! Differential tests: `apply_to_dir` against GNU patch (`patch -p1 -F0`).
//!
//! For every case the same tree and patch go to both; they must agree on
//! whether the patch applies, and when it does, on every byte of the result.
//! Cases are generated (random files with many repeated lines, edited, diffed
//! with the real `diff`, then applied to a shifted or altered copy) and
//! hand-made (the tricky placements, a table in
//! `tests/fixtures/patch_gnu_cases.txt`). Skipped, with a note, when `patch`
//! or `diff` is not installed.

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

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("{i}\n")).collect()
}

/// One case of `tests/fixtures/patch_gnu_cases.txt`.
struct Case {
    name: String,
    fuzz: usize,
    tree: Tree,
    patch: String,
    /// For a deliberate divergence: what our refusal says.
    refused: Option<String>,
}

/// The hand-made cases (the file's head says the format).
fn hand_made() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch_gnu_cases.txt");
    let text = fs::read_to_string(&path).unwrap();
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "case" {
            cases.push(Case {
                name: value.to_string(),
                fuzz: 0,
                tree: Tree::new(),
                patch: String::new(),
                refused: None,
            });
            continue;
        }
        let case = cases.last_mut().expect("a `case` line first");
        match key {
            "fuzz" => case.fuzz = value.parse().unwrap(),
            "file" => {
                let (file, content) = value.split_once(' ').unwrap_or((value, ""));
                case.tree
                    .insert(file.to_string(), unescape(content).into_bytes());
            }
            "patch" => case.patch = unescape(value),
            "refused" => case.refused = Some(value.to_string()),
            _ => panic!("{}: unknown line `{line}`", path.display()),
        }
    }
    cases
}

/// A case file's TEXT: its escapes and stand-ins expanded.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("{block}") {
            out.push_str("a\nb\nc\n");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{numbered ") {
            let (n, after) = after.split_once('}').unwrap();
            out.push_str(&numbered(n.parse().unwrap()));
            rest = after;
        } else if let Some(after) = rest.strip_prefix('\\') {
            let escaped = after.chars().next().unwrap();
            out.push(match escaped {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                '\\' => '\\',
                other => panic!("unknown escape `\\{other}` in `{text}`"),
            });
            rest = &after[1..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[test]
fn hand_made_cases_agree_with_gnu_patch() {
    if !have("patch") {
        return;
    }
    for case in hand_made() {
        if case.fuzz == 0 && case.refused.is_none() {
            agree(&case.name, &case.tree, case.patch.as_bytes());
        }
    }
}

#[test]
fn hand_made_fuzz_cases_agree_with_gnu_patch() {
    if !have("patch") {
        return;
    }
    for case in hand_made() {
        if case.fuzz > 0 && case.refused.is_none() {
            agree_at(&case.name, &case.tree, case.patch.as_bytes(), case.fuzz);
        }
    }
}

/// Where build-patch refuses on purpose what GNU patch does: each case must
/// be applied by GNU patch and refused by us, with the reason given.
#[test]
fn deliberate_divergences_from_gnu_patch() {
    if !have("patch") {
        return;
    }
    for case in hand_made() {
        let (Some(reason), name) = (&case.refused, &case.name) else {
            continue;
        };
        let patch = case.patch.as_bytes();
        assert!(
            gnu(&case.tree, patch, case.fuzz).is_some(),
            "{name}: GNU patch now refuses"
        );
        match ours(&case.tree, patch, case.fuzz) {
            Ok(_) => panic!("{name}: applied"),
            Err(e) => assert!(e.contains(reason.as_str()), "{name}: {e}"),
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
