//! What build-patch reads from the patched upstream `Cargo.toml`: where the
//! library root is, and the package fields that become `CARGO_PKG_*`.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::patch::find_byte;
use crate::toml::{self, Value};

/// The parts of the upstream manifest the pipeline uses.
#[cfg_attr(any(test, feature = "__fuzz"), derive(Debug))]
#[cfg_attr(test, derive(Clone, Default, PartialEq))]
pub(crate) struct UpstreamManifest {
    pub name: String,
    pub version: String,
    /// `[lib] path`, relative to the crate root; Cargo's default is
    /// `src/lib.rs`.
    pub lib_path: PathBuf,
    #[cfg(test)]
    pub edition: String,
    /// The `CARGO_PKG_*` variables Cargo would set when compiling this
    /// package from the registry, in the order of [`PKG_FIELDS`] after
    /// the name and the version's parts.
    pub pkg_env: Vec<(&'static str, String)>,
    /// What the manifest says Cargo builds.
    pub model: crate::manifest::Model,
    /// The first key it inherits from a workspace (`workspace = true`),
    /// which a published crate's normalised manifest never has.
    pub inherited: Option<String>,
}

/// The `[package]` strings that become `CARGO_PKG_*` as they are (an
/// absent one is empty).
const PKG_FIELDS: [(&str, &str); 6] = [
    ("CARGO_PKG_DESCRIPTION", "description"),
    ("CARGO_PKG_HOMEPAGE", "homepage"),
    ("CARGO_PKG_REPOSITORY", "repository"),
    ("CARGO_PKG_LICENSE", "license"),
    ("CARGO_PKG_LICENSE_FILE", "license-file"),
    ("CARGO_PKG_RUST_VERSION", "rust-version"),
];

impl UpstreamManifest {
    /// Reads the manifest text of the staged crate at `root` (`path` names the
    /// file in messages).
    pub fn parse(text: &str, path: &Path, root: &Path) -> Result<UpstreamManifest> {
        let doc = match toml::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Manifest,
                    format!(
                        "failed to parse the upstream manifest `{}`: {e}",
                        path.display()
                    ),
                ))
            }
        };
        let package = match doc.get("package") {
            Some(Value::Table(package)) => Some(package),
            _ => None,
        };
        let field = |key: &str| match package_value(package, key) {
            Some(Value::String(s)) => s.as_str(),
            _ => "",
        };
        let name = field("name");
        let lib_path = match toml::get(&doc, &["lib", "path"]).and_then(Value::as_str) {
            Some(p) => PathBuf::from(p),
            None if root.join("src/lib.rs").is_file() => PathBuf::from("src/lib.rs"),
            None => {
                return Err(Error::new(
                    ErrorKind::Manifest,
                    format!(
                        "`{name}` has no library target (no `[lib]` in `{}` and no `src/lib.rs`)\n  \
                         help: build-patch compiles a patched library; a binary-only crate cannot be \
                         patched this way",
                        path.display()
                    ),
                ))
            }
        };
        let version = field("version");
        let mut pkg_env = Vec::with_capacity(8 + PKG_FIELDS.len());
        pkg_env.push(("CARGO_PKG_NAME", name.to_string()));
        pkg_env.push(("CARGO_PKG_VERSION", version.to_string()));
        // MAJOR.MINOR.PATCH-PRE+BUILD: the build metadata starts at the
        // first `+`, the pre-release at the first `-` before it. (Byte
        // searches, and the arrays below walked by reference: less code
        // than `split_once`, `map_or` and arrays' by-value iterators.)
        let release = match find_byte(version.as_bytes(), 0, b'+') {
            Some(plus) => &version[..plus],
            None => version,
        };
        let (core, pre) = match find_byte(release.as_bytes(), 0, b'-') {
            Some(dash) => (&release[..dash], &release[dash + 1..]),
            None => (release, ""),
        };
        let mut parts = core.split('.');
        for var in &[
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_PKG_VERSION_MINOR",
            "CARGO_PKG_VERSION_PATCH",
        ] {
            pkg_env.push((*var, parts.next().unwrap_or("").to_string()));
        }
        pkg_env.push(("CARGO_PKG_VERSION_PRE", pre.to_string()));
        let mut authors = String::new();
        if let Some(Value::Array(items)) = package_value(package, "authors") {
            for item in items {
                if let Value::String(a) = item {
                    if !authors.is_empty() {
                        authors.push(':');
                    }
                    authors.push_str(a);
                }
            }
        }
        pkg_env.push(("CARGO_PKG_AUTHORS", authors));
        for &(var, key) in &PKG_FIELDS {
            pkg_env.push((var, field(key).to_string()));
        }
        let readme = match package_value(package, "readme") {
            Some(Value::String(r)) => r.as_str(),
            Some(Value::Boolean(false)) => "",
            _ if root.join("README.md").is_file() => "README.md",
            _ => "",
        };
        pkg_env.push(("CARGO_PKG_README", readme.to_string()));
        Ok(UpstreamManifest {
            name: name.to_string(),
            version: version.to_string(),
            lib_path,
            #[cfg(test)]
            edition: match field("edition") {
                "" => "2015".to_string(),
                e => e.to_string(),
            },
            pkg_env,
            model: crate::manifest::model(&doc),
            inherited: inherited_key(&doc, ""),
        })
    }
}

/// The value of `key` in `[package]`, if there is one.
fn package_value<'a>(package: Option<&'a toml::Table>, key: &str) -> Option<&'a Value> {
    match package {
        Some(package) => package.get(key),
        None => None,
    }
}

/// The first dotted key of a manifest that is `{ workspace = true }`
/// (`package.version`, `dependencies.serde`), outside `[workspace]`. A
/// loop: `find_map` with a closure compiled to some 270 lines of LLVM IR.
fn inherited_key(table: &toml::Table, prefix: &str) -> Option<String> {
    for (k, v) in table {
        let toml::Value::Table(t) = v else {
            continue;
        };
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if key == "workspace" {
            continue;
        }
        if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
            return Some(key);
        }
        if let Some(found) = inherited_key(t, &key) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_keys_are_found_outside_the_workspace_table() {
        let cases = [
            ("[package]\nname = 'a'\nversion = '1.0.0'\n", None),
            (
                "[workspace]\nmembers = ['a']\n[workspace.package]\nversion = '1'\n",
                None,
            ),
            (
                "[package]\nedition.workspace = true\n",
                Some("package.edition"),
            ),
            (
                "[dependencies]\nserde = { workspace = true }\n",
                Some("dependencies.serde"),
            ),
            (
                "[target.'cfg(unix)'.dependencies]\nlibc = { workspace = true }\n",
                Some("target.cfg(unix).dependencies.libc"),
            ),
        ];
        for (text, expected) in cases {
            let found = inherited_key(&toml::parse(text).unwrap(), "");
            assert_eq!(found.as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn reads_fields_and_pkg_env() {
        let dir = tempfile::tempdir().unwrap();
        let m = UpstreamManifest::parse(
            r#"
[package]
name = "foo"
version = "1.2.3-rc.1+meta"
edition = "2018"
authors = ["A <a@x>", "B"]
description = "d"
readme = false
[lib]
path = "lib/root.rs"
"#,
            Path::new("foo/Cargo.toml"),
            dir.path(),
        )
        .unwrap();
        assert_eq!(m.lib_path, PathBuf::from("lib/root.rs"));
        assert_eq!(m.edition, "2018");
        let env = &m.pkg_env;
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("CARGO_PKG_VERSION_MAJOR"), "1");
        assert_eq!(get("CARGO_PKG_VERSION_PATCH"), "3");
        assert_eq!(get("CARGO_PKG_VERSION_PRE"), "rc.1");
        assert_eq!(get("CARGO_PKG_AUTHORS"), "A <a@x>:B");
        assert_eq!(get("CARGO_PKG_README"), "");
        assert_eq!(get("CARGO_PKG_DESCRIPTION"), "d");
        assert_eq!(get("CARGO_PKG_HOMEPAGE"), "");

        // Build metadata may hold a `-`: it is no pre-release.
        let text =
            "[package]\nname = \"foo\"\nversion = \"1.2.3+build-7\"\n[lib]\npath = \"x.rs\"\n";
        let m = UpstreamManifest::parse(text, Path::new("Cargo.toml"), dir.path()).unwrap();
        let pre = m
            .pkg_env
            .iter()
            .find(|(n, _)| *n == "CARGO_PKG_VERSION_PRE");
        let patch = m
            .pkg_env
            .iter()
            .find(|(n, _)| *n == "CARGO_PKG_VERSION_PATCH");
        assert_eq!(pre.unwrap().1, "");
        assert_eq!(patch.unwrap().1, "3");
    }

    #[test]
    fn default_lib_path_and_missing_lib() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[package]\nname = \"bin-only\"\nversion = \"1.0.0\"\n";
        let err = UpstreamManifest::parse(text, Path::new("Cargo.toml"), dir.path()).unwrap_err();
        assert!(err.to_string().contains("has no library target"), "{err}");
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        let m = UpstreamManifest::parse(text, Path::new("Cargo.toml"), dir.path()).unwrap();
        assert_eq!(m.lib_path, PathBuf::from("src/lib.rs"));
        assert_eq!(m.edition, "2015");
    }
}
