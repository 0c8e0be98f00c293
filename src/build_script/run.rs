//! Running the patched upstream build script: this very executable again,
//! as a child process with the upstream's environment, its directives
//! forwarded.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::CHILD_ENV;
use crate::directives::Directives;
use crate::error::{Error, ErrorKind, Result};

/// What the child process needs.
pub(crate) struct Run<'a> {
    /// The staged copy: the script's working directory and
    /// `CARGO_MANIFEST_DIR`.
    pub staged: &'a Path,
    /// The pristine source, where `rerun-if-changed` paths point.
    pub pristine: &'a Path,
    /// `CARGO_PKG_*` of the upstream package.
    pub pkg_env: &'a [(&'static str, String)],
    /// For messages: `NAME VERSION`.
    pub what: &'a str,
}

/// Runs the upstream build script (this very executable, with [`CHILD_ENV`])
/// and adds its directives to `directives`. When it fails, returns an error
/// after printing its stdout (Cargo shows it with the error).
pub(crate) fn run(req: &Run<'_>, directives: &mut Directives) -> Result<()> {
    let exe = std::env::current_exe().map_err(crate::fs::io_error(
        "find",
        Path::new("the running build script"),
    ))?;
    let mut cmd = Command::new(&exe);
    cmd.env(CHILD_ENV, "1")
        .current_dir(req.staged)
        .env("CARGO_MANIFEST_DIR", req.staged)
        .env("CARGO_MANIFEST_PATH", req.staged.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in req.pkg_env {
        cmd.env(k, v);
    }
    let output = cmd.output().map_err(crate::fs::io_error("run", &exe))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // Cargo shows the build script's stdout and stderr when it fails;
        // the child's stderr went straight there.
        print!("{stdout}");
        return Err(Error::new(
            ErrorKind::BuildScript,
            format!(
                "the build script of `{}` failed ({}); its output is above",
                req.what, output.status
            ),
        ));
    }
    for line in stdout.lines() {
        directives.raw(&map_line(line, req.staged, req.pristine));
    }
    Ok(())
}

/// A line of the upstream build script's stdout as the shim's build script
/// prints it: `rerun-if-changed` paths inside the crate point at the
/// pristine source (Cargo reads relative ones against the shim's directory,
/// and the staged copy is rewritten when restaged); relative
/// `rustc-link-search` paths at the staged copy (rustc would read them
/// against the user's workspace); everything else as is.
pub(crate) fn map_line(line: &str, staged: &Path, pristine: &Path) -> String {
    let prefix_len = if line.starts_with("cargo::") {
        7
    } else if line.starts_with("cargo:") {
        6
    } else {
        return line.to_string();
    };
    let (prefix, directive) = line.split_at(prefix_len);
    if let Some(value) = directive.strip_prefix("rerun-if-changed=") {
        let path = map_watched(value, staged, pristine);
        return format!("{prefix}rerun-if-changed={}", path.display());
    }
    if let Some(value) = directive.strip_prefix("rustc-link-search=") {
        let (kind, path) = match value.find('=') {
            Some(i) => value.split_at(i + 1),
            None => ("", value),
        };
        if !path.is_empty() && Path::new(path).is_relative() {
            let path = staged.join(path);
            return format!("{prefix}rustc-link-search={kind}{}", path.display());
        }
    }
    line.to_string()
}

fn map_watched(value: &str, staged: &Path, pristine: &Path) -> PathBuf {
    let path = Path::new(value);
    let rel = if path.is_absolute() {
        match path.strip_prefix(staged) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => return path.to_path_buf(),
        }
    } else {
        path.to_path_buf()
    };
    let in_pristine = pristine.join(&rel);
    if in_pristine.exists() {
        return in_pristine;
    }
    // Made by a patch (the patches are watched already), or missing (Cargo
    // then reruns the script every time, as it would for the upstream).
    staged.join(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_watched_paths_to_the_pristine_source() {
        let dir = tempfile::tempdir().unwrap();
        let (staged, pristine) = (dir.path().join("staged"), dir.path().join("pristine"));
        std::fs::create_dir_all(pristine.join("src")).unwrap();
        std::fs::write(pristine.join("build.rs"), "").unwrap();
        let map = |l: &str| map_line(l, &staged, &pristine);
        assert_eq!(
            map("cargo:rerun-if-changed=build.rs"),
            format!(
                "cargo:rerun-if-changed={}",
                pristine.join("build.rs").display()
            )
        );
        assert_eq!(
            map(&format!(
                "cargo::rerun-if-changed={}",
                staged.join("src").display()
            )),
            format!("cargo::rerun-if-changed={}", pristine.join("src").display())
        );
        assert_eq!(
            map("cargo::rerun-if-changed=made-by-patch.rs"),
            format!(
                "cargo::rerun-if-changed={}",
                staged.join("made-by-patch.rs").display()
            )
        );
        assert_eq!(
            map("cargo:rerun-if-changed=/usr/include/zlib.h"),
            "cargo:rerun-if-changed=/usr/include/zlib.h"
        );
        assert_eq!(map("cargo:rustc-cfg=foo"), "cargo:rustc-cfg=foo");
        assert_eq!(
            map("cargo:rustc-link-search=native=lib/x86_64"),
            format!(
                "cargo:rustc-link-search=native={}",
                staged.join("lib/x86_64").display()
            )
        );
        assert_eq!(
            map("cargo::rustc-link-search=/usr/lib"),
            "cargo::rustc-link-search=/usr/lib"
        );
    }
}
