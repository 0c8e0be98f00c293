//! Expanding the user's list of patches: files, directories and quilt
//! `series` files.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::error::{Kind, PatchError};
use super::parse::first_word;
use super::PatchFile;

/// One entry of a quilt series: the patch path and its `-pN`, if given.
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) struct SeriesEntry {
    pub(crate) path: String,
    pub(crate) strip: Option<usize>,
}

/// Parses a quilt `series` file: one patch per line, `#` starts a comment
/// (at the start of a line or after whitespace), blank lines are skipped,
/// and a `-pN` after the name sets the strip level for that patch.
pub(crate) fn parse_series(text: &str) -> Result<Vec<SeriesEntry>, (usize, String)> {
    let mut out = Vec::new();
    // 1-based, for the error.
    let mut line_number = 0;
    for raw in text.lines() {
        line_number += 1;
        let line = match raw.find('#') {
            Some(0) => "",
            Some(p) if matches!(raw.as_bytes()[p - 1], b' ' | b'\t') => &raw[..p],
            _ => raw,
        };
        let Some((path, mut rest)) = first_word(line) else {
            continue;
        };
        let mut strip = None;
        while let Some((w, after)) = first_word(rest) {
            rest = after;
            let n = match w.strip_prefix("-p") {
                // Integers are read at one width in the crate (less code).
                Some(digits) => match digits.parse::<i64>() {
                    Ok(n) if !digits.starts_with('-') && n < 64 => Some(n as usize),
                    _ => None,
                },
                None => None,
            };
            let Some(n) = n else {
                return Err((
                    line_number,
                    format!("unsupported option `{w}` for `{path}` (only `-pN` is understood)"),
                ));
            };
            strip = Some(n);
        }
        out.push(SeriesEntry {
            path: path.to_string(),
            strip,
        });
    }
    Ok(out)
}

/// How errors name a patch file: relative to the shim with `/` on every
/// platform, or, outside it, the path as the platform writes it.
fn display_name(base: &Path, path: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) => {
            let mut s = String::new();
            for c in rel.components() {
                if !s.is_empty() {
                    s.push('/');
                }
                s.push_str(&c.as_os_str().to_string_lossy());
            }
            s
        }
        Err(_) => path.display().to_string(),
    }
}

fn is_patch_name(name: &str) -> bool {
    name.ends_with(".patch") || name.ends_with(".diff")
}

struct Loader<'a> {
    base: &'a Path,
    files: Vec<PatchFile>,
    read: Vec<PathBuf>,
}

impl Loader<'_> {
    fn file(&mut self, path: &Path, strip: Option<usize>) -> Result<(), PatchError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) => return Err(PatchError::io("read", path, e)),
        };
        self.read.push(path.to_path_buf());
        self.files.push(PatchFile {
            display: display_name(self.base, path),
            bytes,
            strip,
        });
        Ok(())
    }

    fn series(&mut self, path: &Path) -> Result<(), PatchError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return Err(PatchError::io("read", path, e)),
        };
        self.read.push(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new("."));
        let entries = match parse_series(&text) {
            Ok(entries) => entries,
            Err((line, msg)) => {
                return Err(PatchError::new(Kind::Series, msg)
                    .with_patch(&display_name(self.base, path))
                    .with_line(line))
            }
        };
        for e in &entries {
            // (`&Path` and `&str` arguments, as elsewhere in the crate: std's generic
            // file and path functions compile once for each argument type.)
            let patch = dir.join(e.path.as_str());
            if let Err(err) = fs::metadata(patch.as_path()) {
                let series = display_name(self.base, path);
                return Err(not_found(dir, &e.path, &patch, err, Some(&series)));
            }
            self.file(&patch, e.strip)?;
        }
        Ok(())
    }

    fn dir(&mut self, path: &Path) -> Result<(), PatchError> {
        let series = path.join("series");
        if series.is_file() {
            self.read.push(path.to_path_buf());
            return self.series(&series);
        }
        let rd = match fs::read_dir(path) {
            Ok(rd) => rd,
            Err(e) => return Err(PatchError::io("read directory", path, e)),
        };
        // Byte-wise order, the same on every platform and locale: each name
        // goes in its place (a directory holds few patches, and this
        // compiles to far less than a sort).
        let mut names: Vec<String> = Vec::new();
        for entry in rd {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => return Err(PatchError::io("read directory", path, e)),
            };
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let is_file = match entry.file_type() {
                Ok(t) => t.is_file(),
                Err(_) => false,
            };
            if is_patch_name(&name) && is_file {
                let mut at = names.len();
                while at > 0 && names[at - 1] > name {
                    at -= 1;
                }
                names.insert(at, name);
            }
        }
        // No patch in a listed directory is what a `.gitignore` of
        // `*.patch` leaves in a fresh clone (an empty series is a start, as
        // `save` appends to it, like an empty list).
        if names.is_empty() {
            return Err(lists_nothing(self.base, path));
        }
        self.read.push(path.to_path_buf());
        for n in &names {
            self.file(&path.join(n.as_str()), None)?;
        }
        Ok(())
    }
}

pub(crate) fn load(
    base: &Path,
    entries: &[PathBuf],
) -> Result<(Vec<PatchFile>, Vec<PathBuf>), PatchError> {
    let mut l = Loader {
        base,
        files: Vec::new(),
        read: Vec::new(),
    };
    for e in entries {
        let path = if e.is_absolute() {
            e.clone()
        } else {
            base.join(e)
        };
        let meta = match fs::metadata(path.as_path()) {
            Ok(m) => m,
            Err(err) => return Err(not_found(base, &e.to_string_lossy(), &path, err, None)),
        };
        if meta.is_dir() {
            l.dir(&path)?;
        } else if path.file_name() == Some("series".as_ref()) {
            l.series(&path)?;
        } else {
            l.file(&path, None)?;
        }
    }
    Ok((l.files, l.read))
}

/// A listed directory that holds no patch: the build would compile the
/// pristine crate while the list says it is patched (a `.gitignore` with
/// `*.patch` leaves exactly that in a fresh clone).
fn lists_nothing(base: &Path, path: &Path) -> PatchError {
    let shown = display_name(base, path);
    PatchError::new(
        Kind::Series,
        format!(
            "the directory `{shown}` holds no patch (no `*.patch` or `*.diff` file, and no \
             quilt `series`)"
        ),
    )
    .with_patch(&shown)
    .with_help(
        "put the patches there (check that `.gitignore` does not leave them out of the \
         repository), or remove the entry from `patches`",
    )
}

/// A listed patch path that cannot be read: shown normalised (no `a/../`),
/// with the path the user may have meant, when one exists.
fn not_found(
    base: &Path,
    listed: &str,
    path: &Path,
    err: io::Error,
    series: Option<&str>,
) -> PatchError {
    let abs = normalise(path);
    if err.kind() != io::ErrorKind::NotFound {
        return PatchError::io("read", &abs, err);
    }
    let listed = normalise(Path::new(listed));
    let mut text = String::from("patch `");
    text += &listed.display().to_string();
    text += "`";
    if let Some(series) = series {
        text += " (in the series `";
        text += series;
        text += "`)";
    }
    text += " does not exist";
    if abs != listed {
        text += ": there is no `";
        text += &abs.display().to_string();
        text += "`";
    }
    let e = PatchError::new(Kind::Io, text).with_source(&abs, err);
    match close_path(base, &listed) {
        Some(close) => e.with_help(format!("did you mean `{}`?", close.display())),
        None => e,
    }
}

/// `path` with `.` dropped and each `..` taking out the component before
/// it, without asking the filesystem (for messages only).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::ParentDir if out.has_root() => {}
            c => out.push(c),
        }
    }
    out
}

/// A path like `listed` (relative to `base`) that exists: a file of a close
/// name in the same directory, or the same path from a directory above
/// (`../../patches/x.patch` for `../patches/x.patch`).
fn close_path(base: &Path, listed: &Path) -> Option<PathBuf> {
    let name = listed.file_name()?.to_str()?;
    let parent = listed.parent().unwrap_or(Path::new(""));
    if let Some(close) = close_name(&base.join(parent), name) {
        return Some(parent.join(close));
    }
    if listed.is_absolute() {
        return None;
    }
    let mut up = 0usize;
    let mut tail = PathBuf::new();
    for c in listed.components() {
        if c == Component::ParentDir && tail.as_os_str().is_empty() {
            up += 1;
        } else {
            tail.push(c);
        }
    }
    for n in 0..up + 4 {
        if n == up {
            continue;
        }
        let mut candidate = PathBuf::new();
        for _ in 0..n {
            candidate.push("..");
        }
        candidate.push(&tail);
        if base.join(&candidate).exists() {
            return Some(candidate);
        }
    }
    None
}

/// The entry of `dir` whose name is closest to `name`: the same name but
/// for the extension (`fix.diff` for `fix.patch`), or a few letters apart.
fn close_name(dir: &Path, name: &str) -> Option<String> {
    let name_stem = Path::new(name).file_stem();
    let stem_len = match name_stem {
        Some(s) => s.to_string_lossy().chars().count(),
        None => 0,
    };
    // `(stem_len / 4).clamp(1, 3)`, as a match (less code).
    let limit = match stem_len / 4 {
        0 => 1,
        q @ 1..=3 => q,
        _ => 3,
    };
    let lower = name.to_lowercase();
    // The lowest score, then the first name in byte order.
    let mut best = String::new();
    let mut best_score = usize::MAX;
    let Ok(entries) = fs::read_dir(dir) else {
        return None;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            return None;
        };
        let Ok(candidate) = entry.file_name().into_string() else {
            continue;
        };
        if candidate == name {
            continue;
        }
        let stem = Path::new(&candidate).file_stem();
        let score = if stem == name_stem || stem == Some(name.as_ref()) {
            0
        } else {
            distance(&lower, &candidate.to_lowercase())
        };
        if score <= limit && (score < best_score || (score == best_score && candidate < best)) {
            best_score = score;
            best = candidate;
        }
    }
    if best_score == usize::MAX {
        return None;
    }
    Some(best)
}

/// The edit distance between two strings (insertions, deletions and
/// substitutions of one character each).
#[allow(clippy::explicit_counter_loop)] // a counter: less code to compile than `enumerate`
fn distance(a: &str, b: &str) -> usize {
    // One row of the table, over `b`'s characters (read again for each row:
    // names are short, and no vector of `char`s is compiled).
    let mut row = vec![0];
    for _ in b.chars() {
        row.push(row.len());
    }
    let mut i = 0;
    for ca in a.chars() {
        i += 1;
        let mut diagonal = row[0];
        row[0] = i;
        let mut j = 0;
        for cb in b.chars() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
            j += 1;
        }
    }
    row[row.len() - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let got = match parse_series(input) {
            Ok(v) => v
                .iter()
                .map(|e| format!("{} {:?}\n", e.path, e.strip))
                .collect::<String>(),
            Err((l, m)) => format!("error at {l}: {m}\n"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn series_files() {
        check("a.patch\nb.patch\n", "a.patch None\nb.patch None\n");
        check(
            "# comment\n\n  a.patch -p0 # why\nsub/b.diff\t-p2\n",
            "a.patch Some(0)\nsub/b.diff Some(2)\n",
        );
        check("a#b.patch\n", "a#b.patch None\n");
        for bad in ["-p-1", "-p64", "-px", "-p"] {
            check(
                &format!("a.patch {bad}\n"),
                &format!("error at 1: unsupported option `{bad}` for `a.patch` (only `-pN` is understood)\n"),
            );
        }
        check("a.patch -p63\n", "a.patch Some(63)\n");
        check(
            "a.patch -R\n",
            "error at 1: unsupported option `-R` for `a.patch` (only `-pN` is understood)\n",
        );
        check("", "");
    }

    #[test]
    fn normalised_paths_and_close_names() {
        let n = |p: &str| normalise(Path::new(p)).display().to_string();
        assert_eq!(
            n("/ws/patched/foo/../../patches/./a.patch"),
            "/ws/patches/a.patch"
        );
        assert_eq!(n("./a/../b.patch"), "b.patch");
        assert_eq!(n("../../p/x.patch"), "../../p/x.patch");
        assert_eq!(n("/../x"), "/x");
        assert_eq!(distance("greet-coma.patch", "greet-comma.patch"), 1);
        assert_eq!(distance("abc", "cba"), 2);
        assert_eq!(distance("", "ab"), 2);

        let tmp = std::env::temp_dir().join(format!("bp-close-{}", std::process::id()));
        let shim = tmp.join("patched/foo");
        for f in [
            "patched/foo/Cargo.toml",
            "patches/greet-comma.patch",
            "patches/fix.diff",
        ] {
            fs::create_dir_all(tmp.join(f).parent().unwrap()).unwrap();
            std::fs::write(tmp.join(f), "").unwrap();
        }
        let close =
            |listed: &str| close_path(&shim, Path::new(listed)).map(|p| p.display().to_string());
        assert_eq!(
            close("../../patches/greet-coma.patch").as_deref(),
            Some("../../patches/greet-comma.patch")
        );
        assert_eq!(
            close("../../patches/fix.patch").as_deref(),
            Some("../../patches/fix.diff")
        );
        assert_eq!(
            close("../patches/fix.diff").as_deref(),
            Some("../../patches/fix.diff")
        );
        assert_eq!(close("../../patches/other.patch"), None);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn display_names() {
        let base = Path::new("/ws/patched/foo");
        let name = |p: &str| display_name(base, Path::new(p));
        assert_eq!(name("/ws/patched/foo/patches/a.patch"), "patches/a.patch");
        assert_eq!(name("/ws/patched/foo/../../p/b.diff"), "../../p/b.diff");
        // Outside the shim: one leading slash, not `//ws/...`.
        assert_eq!(
            name("/srv/debian/series/c.diff"),
            "/srv/debian/series/c.diff"
        );
    }
}
