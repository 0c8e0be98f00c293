//! What build-patch reads from the patched upstream `Cargo.toml`: where the
//! library root is, and the package fields that become `CARGO_PKG_*`.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
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
    pub authors: Vec<String>,
    pub description: String,
    pub homepage: String,
    pub repository: String,
    pub license: String,
    pub license_file: String,
    pub rust_version: String,
    pub readme: String,
    /// What the manifest says Cargo builds.
    pub model: crate::manifest::Model,
    /// The first key it inherits from a workspace (`workspace = true`),
    /// which a published crate's normalised manifest never has.
    pub inherited: Option<String>,
}

impl UpstreamManifest {
    /// Reads the manifest text of the staged crate at `root` (`path` names the
    /// file in messages).
    pub fn parse(text: &str, path: &Path, root: &Path) -> Result<UpstreamManifest> {
        let doc = toml::parse(text).map_err(|e| {
            Error::new(
                ErrorKind::Manifest,
                format!(
                    "failed to parse the upstream manifest `{}`: {e}",
                    path.display()
                ),
            )
        })?;
        let s = |keys: &[&str]| {
            toml::get(&doc, keys)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let name = s(&["package", "name"]);
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
        let mut authors = Vec::new();
        if let Some(Value::Array(items)) = toml::get(&doc, &["package", "authors"]) {
            for item in items {
                if let Value::String(a) = item {
                    authors.push(a.clone());
                }
            }
        }
        let readme = match toml::get(&doc, &["package", "readme"]) {
            Some(Value::String(r)) => r.clone(),
            Some(Value::Boolean(false)) => String::new(),
            _ if root.join("README.md").is_file() => "README.md".to_string(),
            _ => String::new(),
        };
        Ok(UpstreamManifest {
            name,
            version: s(&["package", "version"]),
            lib_path,
            #[cfg(test)]
            edition: {
                let e = s(&["package", "edition"]);
                if e.is_empty() {
                    "2015".to_string()
                } else {
                    e
                }
            },
            authors,
            description: s(&["package", "description"]),
            homepage: s(&["package", "homepage"]),
            repository: s(&["package", "repository"]),
            license: s(&["package", "license"]),
            license_file: s(&["package", "license-file"]),
            rust_version: s(&["package", "rust-version"]),
            readme,
            model: crate::manifest::model(&doc),
            inherited: inherited_key(&doc, ""),
        })
    }

    /// The `CARGO_PKG_*` variables Cargo would set when compiling this
    /// package from the registry.
    pub fn pkg_env(&self) -> Vec<(&'static str, String)> {
        let core = self.version.split(['-', '+']).next().unwrap_or("");
        let mut parts = core.split('.');
        let mut part = || parts.next().unwrap_or("").to_string();
        let (major, minor, patch) = (part(), part(), part());
        let pre = self
            .version
            .split_once('-')
            .map(|(_, rest)| rest.split('+').next().unwrap_or(""))
            .unwrap_or("")
            .to_string();
        vec![
            ("CARGO_PKG_NAME", self.name.clone()),
            ("CARGO_PKG_VERSION", self.version.clone()),
            ("CARGO_PKG_VERSION_MAJOR", major),
            ("CARGO_PKG_VERSION_MINOR", minor),
            ("CARGO_PKG_VERSION_PATCH", patch),
            ("CARGO_PKG_VERSION_PRE", pre),
            ("CARGO_PKG_AUTHORS", crate::error::join(&self.authors, ":")),
            ("CARGO_PKG_DESCRIPTION", self.description.clone()),
            ("CARGO_PKG_HOMEPAGE", self.homepage.clone()),
            ("CARGO_PKG_REPOSITORY", self.repository.clone()),
            ("CARGO_PKG_LICENSE", self.license.clone()),
            ("CARGO_PKG_LICENSE_FILE", self.license_file.clone()),
            ("CARGO_PKG_RUST_VERSION", self.rust_version.clone()),
            ("CARGO_PKG_README", self.readme.clone()),
        ]
    }
}

/// The first dotted key of a manifest that is `{ workspace = true }`
/// (`package.version`, `dependencies.serde`), outside `[workspace]`.
fn inherited_key(table: &toml::Table, prefix: &str) -> Option<String> {
    table.into_iter().find_map(|(k, v)| {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(_) if key == "workspace" => None,
            toml::Value::Table(t)
                if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
            {
                Some(key)
            }
            toml::Value::Table(t) => inherited_key(t, &key),
            _ => None,
        }
    })
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
        let env = m.pkg_env();
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("CARGO_PKG_VERSION_MAJOR"), "1");
        assert_eq!(get("CARGO_PKG_VERSION_PATCH"), "3");
        assert_eq!(get("CARGO_PKG_VERSION_PRE"), "rc.1");
        assert_eq!(get("CARGO_PKG_AUTHORS"), "A <a@x>:B");
        assert_eq!(get("CARGO_PKG_README"), "");
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
