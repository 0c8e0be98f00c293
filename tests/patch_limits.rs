//! Hostile and huge input: the engine must answer (apply or refuse) without
//! panicking, in bounded time and memory, and never change the tree when it
//! refuses. Timings are printed, not asserted (no test depends on timing);
//! run with `--release -- --nocapture` to read them.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

use build_patch::patch::{apply_to_dir, ApplyOptions, PatchFile};

fn patch(bytes: Vec<u8>) -> Vec<PatchFile> {
    vec![PatchFile {
        display: "p.patch".into(),
        bytes,
        strip: None,
    }]
}

fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    eprintln!("{what}: {:.2?}", start.elapsed());
    out
}

#[test]
fn unmatched_hunk_against_a_million_line_file() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..1_000_000)
        .map(|i| format!("line {}\n", i % 1000))
        .collect();
    fs::write(dir.path().join("big"), &text).unwrap();
    let p = "--- a/big\n+++ b/big\n@@ -500000,3 +500000,3 @@\n line 998\n-line 999 not here\n+x\n line 0\n";
    let err = timed("unmatched hunk, 1M lines", || {
        apply_to_dir(dir.path(), &patch(p.into()), &ApplyOptions::new()).unwrap_err()
    });
    let pe = &err;
    assert_eq!(pe.kind_name(), "hunk-failed");
    assert!(pe.closest_line().is_some());
    // With fuzz the search is repeated per level; still bounded.
    let err = timed("unmatched hunk, 1M lines, fuzz 2", || {
        apply_to_dir(dir.path(), &patch(p.into()), ApplyOptions::new().fuzz(2)).unwrap_err()
    });
    assert_ne!(err.kind_name(), "io");
}

#[test]
fn identical_lines_everywhere() {
    // Every window of the file looks like the hunk but for one line.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), "a\n".repeat(500_000)).unwrap();
    let mut p = String::from("--- a/f\n+++ b/f\n@@ -250000,2001 +250000,2001 @@\n");
    for _ in 0..1000 {
        p += " a\n";
    }
    p += "-b\n+c\n";
    for _ in 0..1000 {
        p += " a\n";
    }
    let err = timed("2001-line hunk against 500k identical lines", || {
        apply_to_dir(dir.path(), &patch(p.into_bytes()), &ApplyOptions::new()).unwrap_err()
    });
    assert_eq!(err.kind_name(), "hunk-failed");
}

#[test]
fn two_hundred_thousand_hunks() {
    let dir = tempfile::tempdir().unwrap();
    let n = 600_000;
    let text: String = (0..n).map(|i| format!("{i}\n")).collect();
    fs::write(dir.path().join("f"), &text).unwrap();
    let mut p = String::from("--- a/f\n+++ b/f\n");
    for k in 0..n / 3 {
        let line = 3 * k + 2;
        p += &format!("@@ -{line} +{line} @@\n-{}\n+x{}\n", line - 1, line - 1);
    }
    let applied = timed("200k hunks", || {
        apply_to_dir(dir.path(), &patch(p.into_bytes()), &ApplyOptions::new()).unwrap()
    });
    assert_eq!(applied.patches()[0].hunks().len(), n / 3);
    let out = fs::read_to_string(dir.path().join("f")).unwrap();
    assert!(out.starts_with("0\nx1\n2\n3\nx4\n"));
}

#[test]
fn huge_single_line() {
    let dir = tempfile::tempdir().unwrap();
    let long = "y".repeat(20_000_000);
    fs::write(dir.path().join("f"), format!("a\n{long}\nb\n")).unwrap();
    let p = format!("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-{long}\n+short\n b\n");
    timed("20 MB line", || {
        apply_to_dir(dir.path(), &patch(p.into_bytes()), &ApplyOptions::new()).unwrap()
    });
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"a\nshort\nb\n");
}

#[test]
fn huge_counts_in_headers() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), "a\n").unwrap();
    for h in [
        "@@ -1,4611686018427387903 +1 @@\n-a\n",
        "@@ -4611686018427387903,1 +1 @@\n-a\n+b\n",
        "@@ -1 +1,18446744073709551615 @@\n-a\n",
        "@@ -0,0 +4611686018427387903,1 @@\n+b\n",
        "@@ -4611686018427387903,0 +1 @@\n+b\n",
        "@@ -4611686018427387902,0 +1 @@\n+b\n@@ -4611686018427387903,0 +1 @@\n+c\n",
    ] {
        let p = format!("--- a/f\n+++ b/f\n{h}");
        let r = apply_to_dir(
            dir.path(),
            &patch(p.clone().into_bytes()),
            &ApplyOptions::new(),
        );
        if let Ok(a) = &r {
            // Only a pure insertion far past the end may apply (at the end,
            // as GNU patch does).
            assert_eq!(a.changed().len(), 1, "{p}");
            fs::write(dir.path().join("f"), "a\n").unwrap();
        }
    }
}

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n",
    "diff --git a/f b/g\nsimilarity index 90%\nrename from f\nrename to g\n--- a/f\n+++ b/g\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n",
    "diff --git a/n b/n\nnew file mode 100755\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n",
    "--- a/f\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-1\n-2\n-3\n",
    "diff --git \"a/q\\tx\" \"b/q\\tx\"\nnew file mode 100644\n",
    "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n 1\n+x\n 2\n 3\n@@ -3 +4,0 @@\n-3\n",
];

/// Mutated and random patches: never a panic, never a change to the tree
/// when refused, never a file outside it.
#[test]
fn fuzzed_patches_never_panic_or_escape() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("tree");
    fs::create_dir(&root).unwrap();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    const ALPHABET: &[u8] = b"-+ @,0123456789\n\\/.abfgn\"\tdx";
    let cases: usize = std::env::var("PATCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for _ in 0..cases {
        fs::write(root.join("f"), "1\n2\n3\n").unwrap();
        let mut bytes = SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(4) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 if at < bytes.len() => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
                2 => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                _ => bytes.insert(at, rng.next() as u8),
            }
        }
        let before = snapshot(&root);
        let fuzz = rng.below(4);
        let result = apply_to_dir(&root, &patch(bytes), ApplyOptions::new().fuzz(fuzz));
        if result.is_err() {
            assert_eq!(snapshot(&root), before);
        }
        // Nothing ever appears next to the tree.
        let siblings: Vec<_> = fs::read_dir(outer.path()).unwrap().collect();
        assert_eq!(siblings.len(), 1);
        for e in fs::read_dir(&root).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap() != "f" {
                if p.is_dir() {
                    fs::remove_dir_all(&p).unwrap();
                } else {
                    fs::remove_file(&p).unwrap();
                }
            }
        }
    }
    for _ in 0..cases {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(apply_to_dir(&root, &patch(bytes), &ApplyOptions::new()).is_err() || root.exists());
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "spends the whole work budget, slow without optimisations: run with --release"
)]
fn hunks_that_each_search_the_whole_file() {
    // Every hunk names a line half a file away from where it is, so each
    // search walks ~500,000 positions: the work budget stops it.
    let dir = tempfile::tempdir().unwrap();
    let n: i64 = 1_000_000;
    let text: String = (0..n).map(|i| format!("{i}\n")).collect();
    fs::write(dir.path().join("f"), &text).unwrap();
    let mut p = String::from("--- a/f\n+++ b/f\n");
    let hunks: i64 = 2000;
    let mut offset: i64 = 0;
    for k in 0..hunks {
        let actual = 1 + k * (n / hunks);
        // Claim a start so that the guess (claim + offset so far) is far.
        let far = if k % 2 == 0 { n / 2 } else { -(n / 2) };
        let guess = (actual + far).clamp(1, n);
        let claim = (guess - offset).max(1);
        offset = actual - claim;
        p += &format!("@@ -{claim} +{claim} @@\n-{}\n+x\n", actual - 1);
    }
    let result = timed("2000 hunks each half a file from their guess", || {
        apply_to_dir(dir.path(), &patch(p.into_bytes()), &ApplyOptions::new())
    });
    let err = result.unwrap_err();
    eprintln!("  {}", err.to_string().lines().next().unwrap_or(""));
    assert_eq!(err.kind_name(), "too-expensive", "{err}");
}
