//! Expanding the user's list of patches: files, directories and quilt
//! `series` files.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::{Kind, PatchError};
use super::PatchFile;

/// One entry of a quilt series: the patch path and its `-pN`, if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeriesEntry {
    pub(crate) path: String,
    pub(crate) strip: Option<usize>,
}

/// Parses a quilt `series` file: one patch per line, `#` starts a comment
/// (at the start of a line or after whitespace), blank lines are skipped,
/// and a `-pN` after the name sets the strip level for that patch.
pub(crate) fn parse_series(text: &str) -> Result<Vec<SeriesEntry>, (usize, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = match raw.find('#') {
            Some(0) => "",
            Some(p) if raw[..p].ends_with([' ', '\t']) => &raw[..p],
            _ => raw,
        };
        let mut words = line.split_whitespace();
        let Some(path) = words.next() else { continue };
        let mut strip = None;
        for w in words {
            match w.strip_prefix("-p").map(str::parse::<usize>) {
                Some(Ok(n)) if n < 64 => strip = Some(n),
                _ => {
                    return Err((
                        i + 1,
                        format!("unsupported option `{w}` for `{path}` (only `-pN` is understood)"),
                    ))
                }
            }
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
            let s: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            s.join("/")
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
    fn file(&mut self, path: &Path, strip: Option<usize>) -> Result<(), crate::Error> {
        let bytes = crate::fs::read(path)?;
        self.read.push(path.to_path_buf());
        self.files.push(PatchFile {
            display: display_name(self.base, path),
            bytes,
            strip,
        });
        Ok(())
    }

    fn series(&mut self, path: &Path) -> Result<(), crate::Error> {
        let text = crate::fs::read_to_string(path)?;
        self.read.push(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new("."));
        let entries = parse_series(&text).map_err(|(line, msg)| {
            PatchError::new(Kind::Series, msg)
                .with_patch(&display_name(self.base, path))
                .with_line(line)
        })?;
        for e in entries {
            self.file(&dir.join(&e.path), e.strip)?;
        }
        Ok(())
    }

    fn dir(&mut self, path: &Path) -> Result<(), crate::Error> {
        let series = path.join("series");
        if series.is_file() {
            self.read.push(path.to_path_buf());
            return self.series(&series);
        }
        let rd = fs::read_dir(path).map_err(|e| crate::Error::io("read directory", path, e))?;
        let mut names = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| crate::Error::io("read directory", path, e))?;
            let name = entry.file_name();
            let ok = name.to_str().is_some_and(is_patch_name);
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if ok && is_file {
                names.push(name);
            }
        }
        // Byte-wise order, the same on every platform and locale.
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        self.read.push(path.to_path_buf());
        for n in names {
            self.file(&path.join(n), None)?;
        }
        Ok(())
    }
}

pub(crate) fn load(
    base: &Path,
    entries: &[PathBuf],
) -> Result<(Vec<PatchFile>, Vec<PathBuf>), crate::Error> {
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
        let meta = fs::metadata(&path).map_err(|err| crate::Error::io("read", &path, err))?;
        if meta.is_dir() {
            l.dir(&path)?;
        } else if path.file_name().is_some_and(|n| n == "series") {
            l.series(&path)?;
        } else {
            l.file(&path, None)?;
        }
    }
    Ok((l.files, l.read))
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
        check(
            "a.patch -R\n",
            "error at 1: unsupported option `-R` for `a.patch` (only `-pN` is understood)\n",
        );
        check("", "");
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
