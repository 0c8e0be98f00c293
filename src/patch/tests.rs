//! End-to-end tests of the engine on temporary directories: each case is a
//! tree, a list of patches, and the tree (or the error) that results.

use super::*;
use std::fs as stdfs;

use support::tree::{entries, is_exec, temp_tree as tree};

/// Lists the tree: `path[*]: content` per file, sorted.
fn dump(root: &Path) -> String {
    let mut out = Vec::new();
    for (rel, p, meta) in entries(root) {
        if meta.file_type().is_symlink() {
            out.push(format!("{rel} -> link"));
        } else {
            let star = if is_exec(&meta) { "*" } else { "" };
            let c = String::from_utf8_lossy(&stdfs::read(&p).unwrap()).replace('\n', "|");
            out.push(format!("{rel}{star}: {c}"));
        }
    }
    out.sort();
    out.join("\n")
}

fn patch_files(patches: &[&str]) -> Vec<PatchFile> {
    patches
        .iter()
        .enumerate()
        .map(|(i, p)| PatchFile {
            display: format!("patches/{}.patch", i + 1),
            bytes: p.as_bytes().to_vec(),
            strip: None,
        })
        .collect()
}

/// Applies `patches` to a tree of `files` and returns the resulting tree,
/// or `error: <message>` followed by the tree (which must be unchanged).
fn run(files: &[(&str, &str)], patches: &[&str]) -> String {
    let dir = tree(files);
    let before = dump(dir.path());
    match apply_to_dir(dir.path(), &patch_files(patches), &ApplyOptions::new()) {
        Ok(_) => dump(dir.path()),
        Err(e) => {
            assert_eq!(dump(dir.path()), before, "a failed apply changed the tree");
            format!("error: {e}")
        }
    }
}

fn check(files: &[(&str, &str)], patches: &[&str], expected: &str) {
    let got = run(files, patches);
    assert_eq!(got.trim_end(), expected.trim_end(), "\n--- got:\n{got}\n");
}

const MODIFY: &str = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";

#[test]
fn modify() {
    check(&[("f", "1\n2\n3\n")], &[MODIFY], "f: 1|two|3|");
}

#[test]
fn later_patches_see_earlier_results() {
    let second = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-two\n+TWO\n 3\n";
    check(&[("f", "1\n2\n3\n")], &[MODIFY, second], "f: 1|TWO|3|");
    // In the other order the second fails, and nothing is written.
    check(
        &[("f", "1\n2\n3\n")],
        &[second, MODIFY],
        "error: patch `patches/1.patch` does not apply to `f`: hunk #1 failed
  @@ -1,3 +1,3 @@
  expected at line 1 (searched the whole file, no exact match):
        1 | 1
        2 | two
        3 | 3
  closest match found at line 1 (1 of 3 lines differ):
        1 | 1
      ! 2 | 2
        3 | 3
  help: refresh the patch against this version of the crate (fuzz up to 2 would not make this hunk apply)",
    );
}

#[test]
fn all_or_nothing_over_the_list() {
    let bad = "--- a/g\n+++ b/g\n@@ -1 +1 @@\n-nope\n+x\n";
    let out = run(&[("f", "1\n2\n3\n"), ("g", "g\n")], &[MODIFY, bad]);
    assert!(
        out.starts_with("error: patch `patches/2.patch` does not apply to `g`: hunk #1 failed"),
        "{out}"
    );
}

#[test]
fn already_applied() {
    check(
        &[("f", "1\ntwo\n3\n")],
        &[MODIFY],
        "error: patch `patches/1.patch` seems already applied to `f`: every hunk matches the file as it is after the change
  help: the crate already contains this change; remove this patch from the list",
    );
}

#[test]
fn missing_file() {
    check(
        &[("g", "")],
        &[MODIFY],
        "error: patch `patches/1.patch` cannot be applied to `f`: the file does not exist
  help: check the strip level and that the patch was made against this crate",
    );
}

#[test]
fn missing_file_suggests_a_strip_level() {
    let p0 = "--- src/f\n+++ src/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    check(
        &[("src/f", "1\n2\n3\n")],
        &[p0],
        "error: patch `patches/1.patch` cannot be applied to `f`: the file does not exist
  help: `src/f` exists: this patch needs strip level 0, not 1: set `strip = 0` in `[package.metadata.build-patch]` (for every patch of the shim), or write `-p0` after its name in a quilt series (for this one)",
    );
    // A name with fewer components than the strip level.
    let bare = "--- f\n+++ f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    let err = apply_to_dir(
        tree(&[("f", "1\n2\n3\n")]).path(),
        &patch_files(&[bare]),
        &ApplyOptions::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.ends_with("help: `f` exists: this patch needs strip level 0, not 1: set `strip = 0` in `[package.metadata.build-patch]` (for every patch of the shim), or write `-p0` after its name in a quilt series (for this one)"),
        "{err}"
    );
    // The series gave the level: change it there.
    let mut files = patch_files(&[MODIFY]);
    files[0].strip = Some(2);
    let err = apply_to_dir(
        tree(&[("f", "1\n2\n3\n")]).path(),
        &files,
        &ApplyOptions::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.ends_with("help: `f` exists: this patch needs strip level 1, not 2: change its `-p2` to `-p1` in the quilt series"),
        "{err}"
    );
}

#[test]
fn create_and_delete() {
    let create = "--- /dev/null\n+++ b/d/new\n@@ -0,0 +1,2 @@\n+a\n+b\n";
    check(&[("f", "x\n")], &[create], "d/new: a|b|\nf: x|");
    let create_epoch = "--- a/new\t1970-01-01 00:00:00.000000000 +0000\n+++ b/new\t2024-01-01 00:00:00.000000000 +0000\n@@ -0,0 +1 @@\n+a\n";
    check(&[("f", "x\n")], &[create_epoch], "f: x|\nnew: a|");
    // Over an existing file: refused; over an empty one: fine.
    check(
        &[("d/new", "other\n")],
        &[create],
        "error: patch `patches/1.patch` cannot be applied to `d/new`: the patch creates the file, but it already exists
  help: refresh the patch against this version of the crate",
    );
    check(&[("d/new", "")], &[create], "d/new: a|b|");
    check(
        &[("d/new", "a\nb\n")],
        &[create],
        "error: patch `patches/1.patch` seems already applied to `d/new`: the file it creates already exists with the same content
  help: the crate already contains this change; remove this patch from the list",
    );
    let delete = "--- a/d/old\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n";
    check(&[("d/old", "a\nb\n"), ("f", "x\n")], &[delete], "f: x|");
    check(
        &[("d/old", "a\nb\nc\n")],
        &[delete],
        "error: patch `patches/1.patch` cannot be applied to `d/old`: the patch deletes the file, but the file has content the patch does not remove
  help: refresh the patch against this version of the crate",
    );
    check(
        &[("d/old", "a\nB\n")],
        &[delete],
        "error: patch `patches/1.patch` cannot be applied to `d/old`: the patch deletes the file, but its content differs from what the patch removes
  help: refresh the patch against this version of the crate",
    );
}

#[test]
fn git_create_delete_modes() {
    let p = "diff --git a/run.sh b/run.sh\nnew file mode 100755\nindex 0000000..1111111\n--- /dev/null\n+++ b/run.sh\n@@ -0,0 +1 @@\n+echo hi\n";
    check(&[("f", "")], &[p], "f: \nrun.sh*: echo hi|");
    let p = "diff --git a/empty b/empty\nnew file mode 100644\nindex 0000000..e69de29\n";
    check(&[("f", "")], &[p], "empty: \nf: ");
    let p = "diff --git a/f b/f\nold mode 100644\nnew mode 100755\n";
    check(&[("f", "x\n")], &[p], "f*: x|");
    let p = "diff --git a/f b/f\nold mode 100755\nnew mode 100644\n";
    check(&[("f*", "x\n")], &[p], "f: x|");
    // Modifying keeps the executable bit.
    check(&[("f*", "1\n2\n3\n")], &[MODIFY], "f*: 1|two|3|");
    let p = "diff --git a/gone b/gone\ndeleted file mode 100644\nindex e69de29..0000000\n";
    check(&[("gone", ""), ("f", "")], &[p], "f: ");
}

#[test]
fn git_rename_and_copy() {
    let rename =
        "diff --git a/old b/sub/new\nsimilarity index 100%\nrename from old\nrename to sub/new\n";
    check(&[("old*", "x\n")], &[rename], "sub/new*: x|");
    let rename_edit = "diff --git a/old b/new\nsimilarity index 80%\nrename from old\nrename to new\nindex 1..2 100644\n--- a/old\n+++ b/new\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    check(&[("old", "1\n2\n3\n")], &[rename_edit], "new: 1|two|3|");
    let copy = "diff --git a/old b/new\nsimilarity index 100%\ncopy from old\ncopy to new\n";
    check(&[("old", "x\n")], &[copy], "new: x|\nold: x|");
    check(
        &[("old", "x\n"), ("new", "y\n")],
        &[copy],
        "error: patch `patches/1.patch` cannot be applied to `new`: the patch renames or copies a file to this name, but it already exists",
    );
}

#[test]
fn unsafe_names_are_refused() {
    let cases: &[(&str, &str)] = &[
        (
            "--- a/../x\n+++ b/../x\n@@ -0,0 +1 @@\n+x\n",
            "unsafe file name `a/../x`: the name contains a `..` component",
        ),
        (
            "--- /dev/null\n+++ /etc/x\n@@ -0,0 +1 @@\n+x\n",
            "unsafe file name `/etc/x`: the name is an absolute path",
        ),
        (
            "--- /dev/null\n+++ b//etc/x\n@@ -0,0 +1 @@\n+x\n",
            "unsafe file name `b//etc/x`: the name is an absolute path once its prefix is stripped",
        ),
        (
            "--- /dev/null\n+++ b/C:/x\n@@ -0,0 +1 @@\n+x\n",
            "unsafe file name `b/C:/x`: the name starts with a Windows drive letter",
        ),
        (
            "--- /dev/null\n+++ \\\\server\\share\\x\n@@ -0,0 +1 @@\n+x\n",
            "unsafe file name `\\\\server\\share\\x`: the name contains a backslash",
        ),
        (
            "--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+x\n",
            "unsafe file name `b/.git/hooks/pre-commit`: the name contains a `.git` component",
        ),
        (
            "diff --git \"a/x\\ny\" \"b/x\\ny\"\nnew file mode 100644\n",
            "unsafe file name `b/x\\ny`: the name contains a line break",
        ),
        (
            "diff --git \"a/x\\000y\" \"b/x\\000y\"\nnew file mode 100644\n",
            "unsafe file name `b/x\\0y`: the name contains a NUL byte",
        ),
        (
            "diff --git \"a/..\\057x\" \"b/..\\057x\"\nnew file mode 100644\n",
            "unsafe file name `b/../x`: the name contains a `..` component",
        ),
        (
            "diff --git a/f b/f\nrename from f\nrename to ../f\n",
            "unsafe file name `../f`: the name contains a `..` component",
        ),
        (
            "diff --git a/f b/f\ncopy from /etc/passwd\ncopy to f2\n",
            "unsafe file name `/etc/passwd`: the name is an absolute path",
        ),
    ];
    for (patch, reason) in cases {
        let out = run(&[("f", "x\n")], &[patch]);
        assert!(out.contains(reason), "patch:\n{patch}\ngot: {out}");
        assert!(out.starts_with("error: patch `patches/1.patch`"), "{out}");
    }
}

#[test]
fn refused_formats_and_modes() {
    for (patch, needle) in [
        (
            "",
            "not a patch: no `---`/`+++` or `diff --git` header found",
        ),
        (
            "diff --git a/l b/l\nnew file mode 120000\n",
            "symbolic links (mode 120000)",
        ),
        (
            "diff --git a/m b/m\nnew file mode 160000\n",
            "git submodules (mode 160000)",
        ),
        (
            "diff --git a/b b/b\nindex 1..2 100644\nGIT binary patch\nliteral 1\n",
            "binary patch",
        ),
        ("1,2c1,2\n< a\n---\n> b\n", "unsupported format"),
        ("2d\nw /etc/passwd\n", "an ed script"),
        (
            "diff --git a/o b/n\nrename to n\n",
            "rename header names only one side",
        ),
        // Not octal numbers of a mode, however an integer parser reads them.
        (
            "diff --git a/f b/f\nnew file mode -100644\n",
            "malformed file mode",
        ),
        (
            "diff --git a/f b/f\nnew file mode 100648\n",
            "malformed file mode",
        ),
        (
            "diff --git a/f b/f\nold mode 77777777777\nnew mode 100644\n",
            "malformed file mode",
        ),
    ] {
        let out = run(&[("f", "x\n")], &[patch]);
        assert!(out.contains(needle), "patch:\n{patch}\ngot: {out}");
    }
}

#[cfg(unix)]
#[test]
fn symlinks_are_never_followed() {
    use std::os::unix::fs::symlink;
    let outside = tree(&[("f", "1\n2\n3\n")]);
    let dir = tree(&[("real/f", "1\n2\n3\n")]);
    symlink(outside.path(), dir.path().join("d")).unwrap();
    symlink("real/f", dir.path().join("lnk")).unwrap();
    let opts = ApplyOptions::new();
    let through_dir = "--- a/d/f\n+++ b/d/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    let err = apply_to_dir(dir.path(), &patch_files(&[through_dir]), &opts).unwrap_err();
    assert!(err.to_string().contains("`d` is a symbolic link"), "{err}");
    let create_through = "--- /dev/null\n+++ b/d/new\n@@ -0,0 +1 @@\n+x\n";
    let err = apply_to_dir(dir.path(), &patch_files(&[create_through]), &opts).unwrap_err();
    assert!(err.to_string().contains("`d` is a symbolic link"), "{err}");
    let the_link = "--- a/lnk\n+++ b/lnk\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    let err = apply_to_dir(dir.path(), &patch_files(&[the_link]), &opts).unwrap_err();
    assert!(
        err.to_string().contains("the file is a symbolic link"),
        "{err}"
    );
    assert_eq!(dump(outside.path()), "f: 1|2|3|");
    assert_eq!(dump(dir.path()), "d -> link\nlnk -> link\nreal/f: 1|2|3|");
}

#[cfg(unix)]
#[test]
fn special_files_are_refused() {
    let dir = tree(&[("f", "x\n")]);
    // A socket is the special file std can make; its path may be too long
    // for the platform's limit under some temporary directories.
    let Ok(_socket) = std::os::unix::net::UnixListener::bind(dir.path().join("sock")) else {
        eprintln!("note: cannot create a socket in the temporary directory; skipping");
        return;
    };
    let p = "--- a/sock\n+++ b/sock\n@@ -1 +1 @@\n-a\n+b\n";
    let err = apply_to_dir(dir.path(), &patch_files(&[p]), &ApplyOptions::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "patch `patches/1.patch` cannot be applied to `sock`: it is not a regular file (a device, socket or pipe); only regular files are patched"
    );
}

#[test]
fn file_and_directory_conflicts_in_a_series() {
    let make_file = "--- /dev/null\n+++ b/d\n@@ -0,0 +1 @@\n+x\n";
    let under_it = "--- /dev/null\n+++ b/d/x\n@@ -0,0 +1 @@\n+x\n";
    let out = run(&[("f", "")], &[make_file, under_it]);
    assert!(
        out.contains("`d` is a file, so it cannot contain `d/x`"),
        "{out}"
    );
}

#[test]
fn crlf_and_binary_bytes_are_kept() {
    let dir = tree(&[]);
    stdfs::write(dir.path().join("w"), b"a\r\n\xff\xfe\r\nc\r\n").unwrap();
    let p = b"--- a/w\n+++ b/w\n@@ -1,3 +1,3 @@\n a\r\n-\xff\xfe\r\n+\x00\x01\r\n c\r\n".to_vec();
    let pf = PatchFile {
        display: "p".into(),
        bytes: p,
        strip: None,
    };
    apply_to_dir(dir.path(), &[pf], &ApplyOptions::new()).unwrap();
    assert_eq!(
        stdfs::read(dir.path().join("w")).unwrap(),
        b"a\r\n\x00\x01\r\nc\r\n"
    );
}

#[test]
fn report_offsets_and_warnings() {
    let dir = tree(&[("f", "0\n1\n2\n3\n")]);
    let applied = apply_to_dir(dir.path(), &patch_files(&[MODIFY]), &ApplyOptions::new()).unwrap();
    assert_eq!(applied.changed(), &[PathBuf::from("f")]);
    let h = &applied.patches()[0].hunks()[0];
    assert_eq!(
        (h.file(), h.number(), h.line(), h.offset(), h.fuzz()),
        ("f", 1, 2, 1, 0)
    );
    assert_eq!(
        applied.warnings(),
        vec!["hunk #1 of `patches/1.patch` applied to `f` at offset 1 (line 2)".to_string()]
    );
}

#[test]
fn strip_levels() {
    let p0 = "--- f\n+++ f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    let dir = tree(&[("f", "1\n2\n3\n")]);
    let mut files = patch_files(&[p0]);
    files[0].strip = Some(0);
    apply_to_dir(dir.path(), &files, &ApplyOptions::new()).unwrap();
    assert_eq!(dump(dir.path()), "f: 1|two|3|");
    let dir = tree(&[("f", "1\n2\n3\n")]);
    apply_to_dir(
        dir.path(),
        &patch_files(&[p0]),
        ApplyOptions::new().strip(0),
    )
    .unwrap();
    assert_eq!(dump(dir.path()), "f: 1|two|3|");
}

#[test]
fn fuzz_option() {
    let p = "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n 1\n 2\n-3\n+three\n 4\n 5\n";
    let dir = tree(&[("f", "1\nX\n3\n4\n5\n")]);
    let err = apply_to_dir(dir.path(), &patch_files(&[p]), &ApplyOptions::new()).unwrap_err();
    assert_eq!(
        err.help(),
        Some("refresh the patch against this version of the crate, or allow fuzz with `fuzz = 2` in [package.metadata.build-patch] (this hunk would then apply at line 1)")
    );
    let applied =
        apply_to_dir(dir.path(), &patch_files(&[p]), ApplyOptions::new().fuzz(2)).unwrap();
    assert_eq!(dump(dir.path()), "f: 1|X|three|4|5|");
    assert_eq!(applied.patches()[0].hunks()[0].fuzz(), 2);
}

#[test]
fn deleting_the_last_file_removes_empty_directories() {
    let delete = "--- a/d/e/old\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n";
    check(&[("d/e/old", "a\n"), ("f", "")], &[delete], "f: ");
}

#[test]
fn load_list_of_files_dirs_and_series() {
    let dir = tree(&[
        ("patches/b.patch", "B"),
        ("patches/a.diff", "A"),
        ("patches/notes.txt", "N"),
        ("quilt/series", "# c\nx.patch -p0\n\nsub/y.patch\n"),
        ("quilt/x.patch", "X"),
        ("quilt/sub/y.patch", "Y"),
        ("one.patch", "O"),
    ]);
    let (files, read) = load_patch_list(
        dir.path(),
        &[
            PathBuf::from("one.patch"),
            PathBuf::from("patches"),
            PathBuf::from("quilt"),
        ],
    )
    .unwrap();
    let got: Vec<String> = files
        .iter()
        .map(|f| {
            format!(
                "{} {:?} {}",
                f.display,
                f.strip,
                String::from_utf8_lossy(&f.bytes)
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "one.patch None O",
            "patches/a.diff None A",
            "patches/b.patch None B",
            "quilt/x.patch Some(0) X",
            "quilt/sub/y.patch None Y",
        ]
    );
    assert!(read.contains(&dir.path().join("quilt/series")));
    assert!(read.contains(&dir.path().join("patches")));
    let (files, _) = load_patch_list(dir.path(), &[PathBuf::from("quilt/series")]).unwrap();
    assert_eq!(files.len(), 2);
    let err = load_patch_list(dir.path(), &[PathBuf::from("nope.patch")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "patch `nope.patch` does not exist: there is no `{}`",
            dir.path().join("nope.patch").display()
        )
    );
}

#[test]
fn error_accessors() {
    let dir = tree(&[("f", "1\n2\n3\n")]);
    let p = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-X\n+two\n 3\n";
    let err = apply_to_dir(dir.path(), &patch_files(&[p]), &ApplyOptions::new()).unwrap_err();
    let pe = &err;
    assert_eq!(pe.kind_name(), "hunk-failed");
    assert_eq!(pe.patch_file(), Some("patches/1.patch"));
    assert_eq!(pe.target(), Some("f"));
    assert_eq!(pe.hunk_number(), Some(1));
    assert_eq!(pe.hunk_header(), Some("@@ -1,3 +1,3 @@"));
    assert_eq!(pe.patch_line(), Some(3));
    assert_eq!(pe.expected_line(), Some(1));
    assert_eq!(pe.expected_lines(), vec![&b"1\n"[..], b"X\n", b"3\n"]);
    assert_eq!(pe.closest_line(), Some(1));
    assert_eq!(pe.closest_lines(), vec![&b"1\n"[..], b"2\n", b"3\n"]);
}

#[test]
fn a_listed_directory_that_holds_no_patch_is_an_error() {
    // A `.gitignore` with `*.patch` leaves a fresh clone with this.
    let dir = tree(&[
        ("patches/README", "the patches of the shim"),
        ("quilt/series", "# nothing yet\n\n"),
    ]);
    let err = load_patch_list(dir.path(), &[PathBuf::from("patches")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the directory `patches` holds no patch"),
        "{text}"
    );
    assert!(text.contains("remove the entry from `patches`"), "{text}");
    // An empty series is a start, like an empty list (`check` reports both).
    let (files, _) = load_patch_list(dir.path(), &[PathBuf::from("quilt")]).unwrap();
    assert!(files.is_empty());
}

#[test]
fn in_memory_is_what_apply_to_dir_writes() {
    let files = [
        ("f", "1\n2\n3\n"),
        ("mode", "x\n"),
        ("d/old", "a\nb\n"),
        ("old*", "r\n"),
    ];
    let patches = patch_files(&[
        MODIFY,
        "diff --git a/mode b/mode\nold mode 100644\nnew mode 100755\n",
        "--- a/d/old\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n",
        "--- /dev/null\n+++ b/e/new\n@@ -0,0 +1,2 @@\n+a\n+b\n",
        "diff --git a/old b/sub/new\nsimilarity index 100%\nrename from old\nrename to sub/new\n",
        // A later patch sees the earlier one's file.
        "--- a/e/new\n+++ b/e/new\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
    ]);
    let opts = ApplyOptions::new();
    let memory = tree(&files);
    let before = dump(memory.path());
    let changes = apply_in_memory(memory.path(), &patches, &opts).unwrap();
    assert_eq!(dump(memory.path()), before, "apply_in_memory wrote");

    let disk = tree(&files);
    let applied = apply_to_dir(disk.path(), &patches, &opts).unwrap();
    let got = changes.applied();
    assert_eq!(got.created(), applied.created());
    assert_eq!(got.changed(), applied.changed());
    assert_eq!(got.deleted(), applied.deleted());
    assert_eq!(got.warnings(), applied.warnings());
    assert_eq!(got.patches().len(), applied.patches().len());
    for (a, b) in got.patches().iter().zip(applied.patches()) {
        assert_eq!((a.display(), a.hunks()), (b.display(), b.hunks()));
    }

    // The files, laid over the tree as it was, are the tree apply_to_dir wrote.
    let mut listed: Vec<String> = before.lines().map(str::to_string).collect();
    let paths: Vec<&str> = changes.files().iter().map(ChangedFile::path).collect();
    assert_eq!(paths, ["d/old", "e/new", "f", "mode", "old", "sub/new"]);
    for file in changes.files() {
        listed.retain(|l| {
            let name = l.split(": ").next().unwrap();
            name.trim_end_matches('*') != file.path()
        });
        if let Some(bytes) = file.bytes() {
            let star = if file.executable() { "*" } else { "" };
            let c = String::from_utf8_lossy(bytes).replace('\n', "|");
            listed.push(format!("{}{star}: {c}", file.path()));
        }
    }
    listed.sort();
    let expected = if cfg!(unix) {
        "e/new: a|c|\nf: 1|two|3|\nmode*: x|\nsub/new*: r|"
    } else {
        "e/new: a|c|\nf: 1|two|3|\nmode: x|\nsub/new: r|"
    };
    assert_eq!(listed.join("\n"), expected);
    assert_eq!(dump(disk.path()), expected);

    // Writing the in-memory result is what apply_to_dir wrote, and the
    // tree read is then as the patches leave it.
    changes.write_to(memory.path()).unwrap();
    assert_eq!(dump(memory.path()), expected);
    let memory = tree(&files);

    // An error is the same error, and nothing is written either way.
    let failing = patch_files(&[MODIFY, MODIFY]);
    let memory_err = apply_in_memory(memory.path(), &failing, &opts).unwrap_err();
    let disk_err = apply_to_dir(memory.path(), &failing, &opts).unwrap_err();
    assert_eq!(memory_err.to_string(), disk_err.to_string());
    assert_eq!(dump(memory.path()), before);
}

#[test]
fn io_errors_keep_their_path_and_source() {
    use std::error::Error as _;
    let dir = tree(&[("patches/a.patch", MODIFY)]);
    let err = load_patch_list(dir.path(), &[PathBuf::from("patches/b.patch")]).unwrap_err();
    assert_eq!(err.kind(), PatchErrorKind::Io);
    assert_eq!(err.kind_name(), "io");
    assert_eq!(
        err.path(),
        Some(dir.path().join("patches/b.patch").as_path())
    );
    let source = err
        .source()
        .unwrap()
        .downcast_ref::<std::io::Error>()
        .unwrap();
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!(
            "patch `patches/b.patch` does not exist: there is no `{}`\n  help: did you mean `patches/a.patch`?",
            dir.path().join("patches/b.patch").display()
        )
    );
}

#[test]
fn searched_text_says_where_and_how() {
    let p = parse::parse(b"--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-1\n+one\n 2\n 3\n@@ -8,3 +8,3 @@\n 7\n 8\n-9\n+nine\n@@ -20,3 +20,3 @@\n 19\n-20\n+x\n 21\n").unwrap();
    let hunks = &p.files[0].hunks;
    let cases = [
        (
            0,
            0,
            "the hunk starts the file, so it must match there; no exact match",
        ),
        (0, 2, "searched the whole file, no match with fuzz up to 2"),
        (
            1,
            0,
            "the hunk ends the file, so it must match there; no exact match",
        ),
        (
            1,
            2,
            "searched the file after hunk #1, no match with fuzz up to 2",
        ),
        (2, 0, "searched the file after hunk #2, no exact match"),
    ];
    for (index, fuzz, text) in cases {
        assert_eq!(searched_text(hunks, index, fuzz), text);
    }
}
