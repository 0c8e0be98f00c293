//! Real-world conformance: Debian's patches for Rust crates, applied with
//! `apply_to_dir`, compared with what GNU patch made of them.
//!
//! The corpus is fetched separately (see `/work/shared/corpus/README.md`)
//! into `$CORPUS_DATA` (default `~/.cache/debian-rust-patches`); without it
//! this test prints a note and passes. For each package, the pristine crate is
//! copied to a temporary directory and its quilt series applied at fuzz 0;
//! the result is compared file by file (sha256 and executable bit) with the
//! oracle's manifest:
//!
//! - GNU applied every patch cleanly or with an offset: the trees must match;
//! - GNU needed fuzz for a patch: fuzz 0 must refuse, and fuzz 2 must then
//!   give GNU's tree;
//! - GNU failed a patch: we must refuse (all or nothing).
//!
//! `CORPUS_PKG=rust-foo` runs one package; `CORPUS_VERBOSE=1` prints each
//! package's outcome and our full error message. Results are recorded in `docs/conformance.md`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use build_patch::patch::{apply_to_dir, load_patch_list, ApplyOptions};
use support::tree::{entries, is_exec, sha256_hex};

type Manifest = BTreeMap<String, (char, String)>;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("CORPUS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/debian-rust-patches"),
    };
    dir.join("pkgs").is_dir().then_some(dir)
}

#[cfg(unix)]
fn copy_tree(from: &Path, to: &Path) {
    use std::os::unix::fs::symlink;
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        let dst = to.join(e.file_name());
        if ft.is_symlink() {
            symlink(fs::read_link(e.path()).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            fs::copy(e.path(), &dst).unwrap();
        }
    }
}

#[cfg(not(unix))]
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn manifest(root: &Path) -> Manifest {
    let mut out = Manifest::new();
    for (rel, p, meta) in entries(root) {
        let entry = if meta.file_type().is_symlink() {
            let target = fs::read_link(&p).unwrap();
            ('l', sha256_hex(target.to_string_lossy().as_bytes()))
        } else {
            let kind = if is_exec(&meta) { 'x' } else { 'f' };
            (kind, sha256_hex(&fs::read(&p).unwrap()))
        };
        out.insert(rel, entry);
    }
    out
}

fn read_manifest(path: &Path) -> Manifest {
    let text = fs::read_to_string(path).unwrap();
    let mut out = Manifest::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(h), Some(k), Some(p)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        out.insert(
            p.to_string(),
            (k.chars().next().unwrap_or('f'), h.to_string()),
        );
    }
    out
}

fn manifest_diff(expected: &Manifest, got: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for (p, e) in expected {
        match got.get(p) {
            None => out.push(format!("missing {p}")),
            Some(g) if g.0 != e.0 => out.push(format!("mode {p} ({} vs GNU {})", g.0, e.0)),
            Some(g) if g.1 != e.1 => out.push(format!("content {p}")),
            Some(_) => {}
        }
    }
    for p in got.keys() {
        if !expected.contains_key(p) {
            out.push(format!("extra {p}"));
        }
    }
    out
}

/// Applies the package's series at `fuzz`; the tree's manifest, or the
/// error's first line.
fn apply(pkg_dir: &Path, fuzz: usize) -> Result<Manifest, String> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("t");
    copy_tree(&pkg_dir.join("pristine"), &root);
    let patches = pkg_dir.join("patches");
    let (files, _) =
        load_patch_list(&patches, &[PathBuf::from("series")]).map_err(|e| e.to_string())?;
    match apply_to_dir(&root, &files, ApplyOptions::new().fuzz(fuzz)) {
        Ok(_) => Ok(manifest(&root)),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Default)]
struct Tally {
    rows: BTreeMap<&'static str, usize>,
    disagreements: Vec<String>,
}

impl Tally {
    fn add(&mut self, what: &'static str) {
        *self.rows.entry(what).or_default() += 1;
    }
}

/// One package's outcome: the table row, why it disagrees (if it does),
/// and our error (if any). `None` when the oracle has no result for it.
type Outcome = (&'static str, Option<String>, Option<String>);

fn judge(data: &Path, pkg: &str) -> Option<Outcome> {
    let oracle = data.join("oracle").join(pkg);
    let Ok(result) = fs::read_to_string(oracle.join("result.json")) else {
        return None;
    };
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    let statuses: Vec<String> = result["patches"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["status"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default();
    let gnu_failed = statuses
        .iter()
        .any(|s| s != "clean" && s != "offset" && s != "fuzz");
    // The oracle marks a series with a failed patch incomplete; its
    // statuses still say what GNU patch did.
    if statuses.is_empty()
        || (result["oracle_complete"] != serde_json::Value::Bool(true) && !gnu_failed)
    {
        return Some(("skipped: oracle incomplete", None, None));
    }
    let gnu_fuzz = statuses.iter().any(|s| s == "fuzz");
    let expected = read_manifest(&oracle.join("manifest.tsv"));
    let pkg_dir = data.join("pkgs").join(pkg);
    let ours = apply(&pkg_dir, 0);
    let outcome: (&'static str, Option<String>) = match (&ours, gnu_failed, gnu_fuzz) {
        (Ok(m), false, false) => {
            let d = manifest_diff(&expected, m);
            if d.is_empty() {
                ("agree: applied, same tree (GNU clean/offset)", None)
            } else {
                ("DISAGREE: applied, different tree", Some(d.join(", ")))
            }
        }
        // By design an empty patch file is an error (GNU patch and quilt
        // accept it silently): a patch list entry that does nothing is
        // more likely a mistake than an intent.
        (Err(e), false, false) if e.contains("not a patch:") => {
            ("by design: refused an empty patch file GNU accepts", None)
        }
        (Err(e), false, false) => ("DISAGREE: refused, GNU applies", Some(first_line(e))),
        (Err(_), false, true) => match apply(&pkg_dir, 2) {
            Ok(m) if manifest_diff(&expected, &m).is_empty() => (
                "agree: fuzz needed, refused at fuzz 0, same tree at fuzz 2",
                None,
            ),
            Ok(m) => (
                "DISAGREE: fuzz 2 gives a different tree",
                Some(manifest_diff(&expected, &m).join(", ")),
            ),
            Err(e) => (
                "DISAGREE: fuzz 2 refused, GNU applies with fuzz",
                Some(first_line(&e)),
            ),
        },
        (Ok(_), false, true) => ("DISAGREE: applied at fuzz 0, GNU needed fuzz", None),
        (Err(_), true, _) => ("agree: GNU fails a patch, refused", None),
        (Ok(_), true, _) => ("DISAGREE: applied, GNU fails a patch", None),
    };
    Some((outcome.0, outcome.1, ours.err()))
}

#[test]
fn debian_corpus_agrees_with_gnu_patch() {
    let Some(data) = corpus_dir() else {
        eprintln!("note: no corpus at $CORPUS_DATA or ~/.cache/debian-rust-patches; skipping (see /work/shared/corpus/README.md)");
        return;
    };
    let only = std::env::var("CORPUS_PKG").ok();
    let verbose = std::env::var_os("CORPUS_VERBOSE").is_some();
    let mut tally = Tally::default();
    let mut pkgs: Vec<String> = fs::read_dir(data.join("oracle"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|p| only.as_ref().is_none_or(|o| o == p))
        .collect();
    pkgs.sort();
    let start = std::time::Instant::now();
    // Packages are independent: judge them on every core, report in order.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = pkgs.len().div_ceil(threads).max(1);
    let outcomes: Vec<(String, Option<Outcome>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = pkgs
            .chunks(chunk)
            .map(|part| {
                let data = &data;
                scope.spawn(move || {
                    part.iter()
                        .map(|pkg| (pkg.clone(), judge(data, pkg)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    for (pkg, outcome) in outcomes {
        let Some((row, why, ours)) = outcome else {
            continue;
        };
        tally.add(row);
        if verbose {
            eprintln!("{pkg}: {row}");
            if let Some(e) = &ours {
                eprintln!("{e}\n");
            }
        }
        if let Some(why) = why.or_else(|| row.starts_with("DISAGREE").then(String::new)) {
            tally.disagreements.push(format!("{pkg}: {row}: {why}"));
        }
    }
    eprintln!("\n| outcome | packages |\n|---|---|");
    for (k, v) in &tally.rows {
        eprintln!("| {k} | {v} |");
    }
    eprintln!(
        "\n{} disagreements ({:.1}s)",
        tally.disagreements.len(),
        start.elapsed().as_secs_f64()
    );
    for d in &tally.disagreements {
        eprintln!("  {d}");
    }
    assert!(
        tally.disagreements.is_empty(),
        "{} packages disagree with GNU patch",
        tally.disagreements.len()
    );
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
