//! What to patch: the `[package.metadata.build-patch]` table of the shim's
//! `Cargo.toml`, merged with whatever the builder set in `build.rs`.
//!
//! ```toml
//! [package.metadata.build-patch]
//! crate = "shlex"        # upstream package; default: the shim's own name
//! version = "1.1.0"      # exact upstream version; default: the shim's own version
//! patches = ["patches/"] # files, directories or quilt `series` files, in order
//! strip = 1              # leading path components to strip (`patch -p`); default 1
//! fuzz = 0               # context lines a hunk may ignore (`patch -F`); default 0
//! source = "../vendor/shlex-1.1.0"  # optional: a local pristine source instead of Cargo's
//! version-mismatch = "warn"  # a patch recording another version: "warn" (default) or "error"
//! git = "https://example.com/shlex.git"  # optional: the upstream is in this git repository,
//! rev = "0123abc"        # at this commit (or `tag = "..."`, or `branch = "..."`)
//! registry = "company"   # optional: the upstream is in this `[registries.NAME]`, not crates.io
//! ```

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::toml::{self, Value};

/// The keys `[package.metadata.build-patch]` accepts.
const KEYS: &[&str] = &[
    "crate",
    "version",
    "patches",
    "strip",
    "fuzz",
    "source",
    "version-mismatch",
    "git",
    "rev",
    "tag",
    "branch",
    "registry",
];

/// Which commit of a git repository, as a Cargo git dependency says it.
#[derive(Clone, PartialEq, Debug)]
#[cfg_attr(test, derive(Eq))]
pub(crate) enum GitRef {
    /// `rev = "..."`: a commit (or any revision git can name).
    Rev(String),
    /// `tag = "..."`.
    Tag(String),
    /// `branch = "..."`.
    Branch(String),
}

impl GitRef {
    /// The key and its value, as a Cargo dependency writes them.
    pub fn key_value(&self) -> (&'static str, &str) {
        match self {
            GitRef::Rev(r) => ("rev", r),
            GitRef::Tag(t) => ("tag", t),
            GitRef::Branch(b) => ("branch", b),
        }
    }
}

/// What a patch whose `Applies-to:` line names another version does.
#[derive(Clone, Copy, PartialEq, Debug)]
#[cfg_attr(test, derive(Eq))]
pub(crate) enum VersionMismatch {
    /// `"warn"`, the default: a warning, and the build goes on.
    Warn,
    /// `"error"`: the build fails.
    Error,
}

/// Where Cargo takes the pristine upstream from.
#[derive(PartialEq, Clone)]
#[cfg_attr(test, derive(Debug, Eq))]
pub(crate) enum Remote {
    /// crates.io (or what the user's Cargo config replaces it with).
    CratesIo,
    /// An alternative registry, a `[registries.NAME]` of the Cargo config.
    Registry(String),
    /// A git repository at one reference (none: its default branch).
    Git {
        url: String,
        reference: Option<GitRef>,
    },
}

/// The settings of one shim, after merging the manifest with the builder.
#[derive(Default, Debug)]
pub(crate) struct Settings {
    pub crate_name: Option<String>,
    pub version: Option<String>,
    pub patches: Option<Vec<PathBuf>>,
    pub strip: Option<usize>,
    pub fuzz: Option<usize>,
    pub source: Option<PathBuf>,
    /// `version-mismatch`: what a patch that records another upstream
    /// version does (default: warn).
    pub version_mismatch: Option<VersionMismatch>,
    /// `git`: the repository holding the upstream.
    pub git: Option<String>,
    /// `rev`, `tag` or `branch` (at most one).
    pub git_ref: Option<GitRef>,
    /// `registry`: the alternative registry holding the upstream.
    pub registry: Option<String>,
}

/// Written out for `patches`: the derived clone of its `Vec<PathBuf>`
/// compiled `to_vec` into the crate, some 330 lines of LLVM IR.
impl Clone for Settings {
    fn clone(&self) -> Settings {
        let patches = match &self.patches {
            Some(list) => {
                let mut copy = Vec::with_capacity(list.len());
                for p in list {
                    copy.push(p.clone());
                }
                Some(copy)
            }
            None => None,
        };
        Settings {
            crate_name: self.crate_name.clone(),
            version: self.version.clone(),
            patches,
            strip: self.strip,
            fuzz: self.fuzz,
            source: self.source.clone(),
            version_mismatch: self.version_mismatch,
            git: self.git.clone(),
            git_ref: self.git_ref.clone(),
            registry: self.registry.clone(),
        }
    }
}

impl Settings {
    /// Fills every field the builder left unset from `other` (the manifest).
    pub fn or(self, other: Settings) -> Settings {
        // `$a.or($b)`, written out: `Option::or` compiled once for each of
        // the six field types, some 320 lines of LLVM IR.
        macro_rules! or {
            ($a:expr, $b:expr) => {
                match $a {
                    Some(v) => Some(v),
                    None => $b,
                }
            };
        }
        Settings {
            crate_name: or!(self.crate_name, other.crate_name),
            version: or!(self.version, other.version),
            patches: or!(self.patches, other.patches),
            strip: or!(self.strip, other.strip),
            fuzz: or!(self.fuzz, other.fuzz),
            source: or!(self.source, other.source),
            version_mismatch: or!(self.version_mismatch, other.version_mismatch),
            git: or!(self.git, other.git),
            git_ref: or!(self.git_ref, other.git_ref),
            registry: or!(self.registry, other.registry),
        }
    }

    /// Where the upstream comes from, refusing settings that contradict
    /// each other. `path` (the shim's manifest) is only used in messages.
    pub fn remote(&self, path: &Path) -> Result<Remote> {
        let git_help = "help: write `git = \"URL\"` with at most one of `rev`, `tag` or \
                        `branch`, as for a Cargo git dependency";
        match (&self.git, &self.registry) {
            (Some(_), Some(_)) => Err(config_error(
                path,
                format!(
                    "`git` and `registry` name two sources of the upstream; a crate comes \
                     from one\n  {git_help}, or `registry = \"NAME\"` alone"
                ),
            )),
            (Some(_), None) if self.source.is_some() => Err(config_error(
                path,
                "`git` and `source` name two sources of the upstream; a crate comes from one\n  \
                 help: remove `source` to take the repository's package through Cargo, or \
                 remove `git` to use the local copy"
                    .to_string(),
            )),
            (Some(url), None) => Ok(Remote::Git {
                url: url.clone(),
                reference: self.git_ref.clone(),
            }),
            (None, _) if self.git_ref.is_some() => {
                let (key, _) = self
                    .git_ref
                    .as_ref()
                    .map(GitRef::key_value)
                    .unwrap_or_default();
                Err(config_error(
                    path,
                    format!("`{key}` names a git reference, but there is no `git`\n  {git_help}"),
                ))
            }
            // Cargo's own name for crates.io.
            (None, Some(name)) if name == "crates-io" => Ok(Remote::CratesIo),
            (None, Some(name)) => Ok(Remote::Registry(name.clone())),
            (None, None) => Ok(Remote::CratesIo),
        }
    }
}

/// The parts of the shim's own manifest build-patch needs.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct ShimManifest {
    pub settings: Settings,
    /// The shim's `[lib] path`, relative to its manifest directory.
    pub lib_path: PathBuf,
    /// What the shim's manifest says Cargo builds, to compare with the
    /// patched upstream's.
    pub model: crate::manifest::Model,
    /// `[package] name` and `version` when written as plain strings (not
    /// inherited from a workspace): the defaults of `crate` and `version`.
    pub name: Option<String>,
    pub version: Option<String>,
    /// The `NAME VERSION` the header comment of `cargo build-patch new`
    /// (`# A build-patch shim: compiles NAME VERSION with ...`) names: what
    /// the shim was made for, or last upgraded to.
    pub made_for: Option<String>,
    /// Whether the manifest has a `[package.metadata.build-patch]` table.
    #[cfg(feature = "generate")]
    pub has_table: bool,
}

/// Reads the shim's manifest. `path` is only used in messages.
pub(crate) fn parse_shim_manifest(text: &str, path: &Path) -> Result<ShimManifest> {
    let doc = toml::parse(text).map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("failed to parse `{}`: {e}", path.display()),
        )
    })?;
    let lib_path = toml::get(&doc, &["lib", "path"])
        .and_then(Value::as_str)
        .unwrap_or("src/lib.rs");
    let table = toml::get(&doc, &["package", "metadata", "build-patch"]);
    let settings = match table {
        None => Settings::default(),
        Some(Value::Table(t)) => settings_from_table(t, path)?,
        Some(other) => {
            return Err(config_error(
                path,
                format!(
                    "`package.metadata.build-patch` must be a table, found {}",
                    other.type_name()
                ),
            ))
        }
    };
    Ok(ShimManifest {
        settings,
        lib_path: PathBuf::from(lib_path),
        model: crate::manifest::model(&doc),
        name: toml::get(&doc, &["package", "name"])
            .and_then(Value::as_str)
            .map(str::to_string),
        version: toml::get(&doc, &["package", "version"])
            .and_then(Value::as_str)
            .map(str::to_string),
        made_for: header_names(text),
        #[cfg(feature = "generate")]
        has_table: table.is_some(),
    })
}

/// The `NAME VERSION` of the header `cargo build-patch new` writes, among
/// the comments that open the manifest.
fn header_names(text: &str) -> Option<String> {
    for line in text.lines() {
        let line = crate::patch::trim_whitespace(line);
        if !line.is_empty() && !line.starts_with('#') {
            return None;
        }
        if let Some(rest) = line.strip_prefix("# A build-patch shim: compiles ") {
            if let Some((name, rest)) = crate::patch::first_word(rest) {
                if let Some((version, _)) = crate::patch::first_word(rest) {
                    return Some(format!("{name} {version}"));
                }
            }
        }
    }
    None
}

fn settings_from_table(t: &toml::Table, path: &Path) -> Result<Settings> {
    // Every check first, on borrowed values (an early return then has
    // nothing to drop), in the order the errors are reported.
    check_keys(t, path)?;
    let patches = patches(t, path)?;
    let version_mismatch = version_mismatch(t, path)?;
    let git_ref = git_ref(t, path)?;
    let git = string(t, "git", path)?;
    let registry = string(t, "registry", path)?;
    let crate_name = string(t, "crate", path)?;
    let version = string(t, "version", path)?;
    let strip = count(t, "strip", path)?;
    let fuzz = count(t, "fuzz", path)?;
    let source = string(t, "source", path)?;
    let git_ref = match git_ref {
        Some(("rev", value)) => Some(GitRef::Rev(value.to_string())),
        Some(("tag", value)) => Some(GitRef::Tag(value.to_string())),
        Some((_, value)) => Some(GitRef::Branch(value.to_string())),
        None => None,
    };
    Ok(Settings {
        version_mismatch,
        git: owned(git),
        git_ref,
        registry: owned(registry),
        crate_name: owned(crate_name),
        version: owned(version),
        patches: patches.map(paths),
        strip,
        fuzz,
        source: source.map(PathBuf::from),
    })
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

/// The paths of `patches` (its items are strings, checked).
fn paths(items: &[Value]) -> Vec<PathBuf> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Value::String(s) = item {
            out.push(PathBuf::from(s));
        }
    }
    out
}

/// Refuses a key the table does not have.
fn check_keys(t: &toml::Table, path: &Path) -> Result<()> {
    for (key, _) in t {
        if KEYS.contains(&key.as_str()) {
            continue;
        }
        let mut keys = String::new();
        for k in KEYS {
            if !keys.is_empty() {
                keys.push_str(", ");
            }
            keys.push('`');
            keys.push_str(k);
            keys.push('`');
        }
        return Err(config_error(
            path,
            format!(
                "unknown key `{key}` in `[package.metadata.build-patch]`\n  \
                 help: the keys are {keys}"
            ),
        ));
    }
    Ok(())
}

/// `patches`: one path or a list of them, checked.
fn patches<'a>(t: &'a toml::Table, path: &Path) -> Result<Option<&'a [Value]>> {
    let (items, what) = match t.get("patches") {
        None => return Ok(None),
        Some(v @ Value::String(_)) => return Ok(Some(std::slice::from_ref(v))),
        Some(Value::Array(items)) => (items.as_slice(), "an item that is "),
        Some(v) => (std::slice::from_ref(v), ""),
    };
    for item in items {
        match item {
            Value::String(_) if !what.is_empty() => {}
            v => {
                return Err(config_error(
                    path,
                    format!(
                        "`patches` must be a list of paths, found {what}{}",
                        v.type_name()
                    ),
                ))
            }
        }
    }
    Ok(Some(items))
}

/// `version-mismatch`: `warn` or `error`.
fn version_mismatch(t: &toml::Table, path: &Path) -> Result<Option<VersionMismatch>> {
    match string(t, "version-mismatch", path)? {
        None => Ok(None),
        Some("warn") => Ok(Some(VersionMismatch::Warn)),
        Some("error") => Ok(Some(VersionMismatch::Error)),
        Some(other) => Err(config_error(
            path,
            format!("`version-mismatch` must be \"warn\" or \"error\", found \"{other}\""),
        )),
    }
}

/// `rev`, `tag` or `branch` (at most one of them): the key and its value.
fn git_ref<'a>(t: &'a toml::Table, path: &Path) -> Result<Option<(&'static str, &'a str)>> {
    let mut git_ref = None;
    let mut ref_keys = String::new();
    let mut twice = false;
    for key in ["rev", "tag", "branch"] {
        let Some(value) = string(t, key, path)? else {
            continue;
        };
        if !ref_keys.is_empty() {
            ref_keys.push_str(" and ");
            twice = true;
        }
        ref_keys.push('`');
        ref_keys.push_str(key);
        ref_keys.push('`');
        if git_ref.is_some() {
            continue;
        }
        git_ref = Some((key, value));
    }
    if twice {
        return Err(config_error(
            path,
            format!(
                "{ref_keys} name the git reference twice; a Cargo git dependency takes one\n  \
                 help: keep one of `rev`, `tag` or `branch`"
            ),
        ));
    }
    Ok(git_ref)
}

/// The string at `key`, if any.
fn string<'a>(t: &'a toml::Table, key: &str, path: &Path) -> Result<Option<&'a str>> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(config_error(
            path,
            format!("`{key}` must be a string, found {}", v.type_name()),
        )),
    }
}

/// The small count at `key`, if any.
fn count(t: &toml::Table, key: &str, path: &Path) -> Result<Option<usize>> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::Integer(n @ 0..=1000)) => Ok(Some(*n as usize)),
        Some(v) => Err(config_error(
            path,
            format!(
                "`{key}` must be a small non-negative integer, found {}",
                describe(v)
            ),
        )),
    }
}

fn describe(v: &Value) -> String {
    match v {
        // `format!`, not `to_string`, which compiles its own integer
        // formatting here.
        Value::Integer(n) => format!("{n}"),
        other => other.type_name().to_string(),
    }
}

fn config_error(path: &Path, text: String) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "invalid build-patch configuration in `{}`: {text}",
            path.display()
        ),
    )
}

/// Whether `version` is one exact semver version (`1.2.3`, `1.2.3-rc.1`,
/// `0.1.11+1.0.8`), not a requirement.
pub(crate) fn is_exact_version(version: &str) -> bool {
    // Byte by byte up to the first `-` or `+`: three non-empty runs of
    // digits, separated by dots.
    let mut parts = 1;
    let mut digits = 0;
    for &b in version.as_bytes() {
        match b {
            b'-' | b'+' => break,
            b'.' if digits == 0 => return false,
            b'.' => {
                parts += 1;
                digits = 0;
            }
            b'0'..=b'9' => digits += 1,
            _ => return false,
        }
    }
    digits > 0 && parts == 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ShimManifest> {
        parse_shim_manifest(text, Path::new("shim/Cargo.toml"))
    }

    #[test]
    fn reads_the_table() {
        let m = parse(
            r#"
[package]
name = "shlex"
version = "1.1.0"
[package.metadata.build-patch]
crate = "shlex"
version = "1.1.0"
patches = ["a.patch", "dir/"]
strip = 0
fuzz = 2
"#,
        )
        .unwrap();
        let s = m.settings;
        assert_eq!(s.crate_name.as_deref(), Some("shlex"));
        assert_eq!(s.version.as_deref(), Some("1.1.0"));
        assert_eq!(
            s.patches.unwrap(),
            vec![PathBuf::from("a.patch"), PathBuf::from("dir/")]
        );
        assert_eq!((s.strip, s.fuzz), (Some(0), Some(2)));
        assert_eq!(m.lib_path, PathBuf::from("src/lib.rs"));
        assert_eq!(m.made_for, None);
        let header = "# A build-patch shim: compiles shlex 1.1.0 with the patches below applied.\n\
                      # `cargo build-patch sync` regenerates...\n[package]\nname = 'shlex'\n";
        assert_eq!(
            parse(header).unwrap().made_for.as_deref(),
            Some("shlex 1.1.0")
        );
    }

    #[test]
    fn custom_lib_path_and_no_table() {
        let m = parse("[package]\nname='x'\n[lib]\npath = 'lib.rs'\n").unwrap();
        assert_eq!(m.lib_path, PathBuf::from("lib.rs"));
        assert!(m.settings.patches.is_none());
    }

    #[test]
    fn errors_name_the_key_and_the_file() {
        let check = |text: &str, expected: &str| {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}\n---\nwanted: {expected}");
            assert!(err.contains("`shim/Cargo.toml`"), "{err}");
        };
        check(
            "[package.metadata.build-patch]\npatchs = []",
            "unknown key `patchs`",
        );
        check(
            "[package.metadata.build-patch]\npatches = 3",
            "`patches` must be a list of paths, found integer",
        );
        check(
            "[package.metadata.build-patch]\npatches = [1]",
            "found an item that is integer",
        );
        check(
            "[package.metadata.build-patch]\nstrip = -1",
            "`strip` must be a small non-negative integer, found -1",
        );
        check(
            "[package.metadata.build-patch]\nversion = 1",
            "`version` must be a string",
        );
        check("[package.metadata]\nbuild-patch = 1", "must be a table");
        check("[package\n", "failed to parse");
    }

    #[test]
    fn git_and_registry_sources() {
        let remote = |table: &str| {
            parse(&format!("[package.metadata.build-patch]\n{table}"))
                .and_then(|m| m.settings.remote(Path::new("shim/Cargo.toml")))
        };
        assert_eq!(remote("").unwrap(), Remote::CratesIo);
        assert_eq!(
            remote("registry = 'corp'").unwrap(),
            Remote::Registry("corp".into())
        );
        assert_eq!(
            remote("git = 'file:///r'\ntag = 'v1'").unwrap(),
            Remote::Git {
                url: "file:///r".into(),
                reference: Some(GitRef::Tag("v1".into()))
            }
        );
        let err = |table: &str, expected: &str| {
            let e = remote(table).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}\n---\nwanted: {expected}");
            assert!(e.contains("`shim/Cargo.toml`"), "{e}");
            assert!(e.contains("help:") || expected.contains("must be"), "{e}");
        };
        err(
            "git = 'u'\nrev = 'a'\nbranch = 'b'",
            "`rev` and `branch` name the git reference twice",
        );
        err(
            "tag = 'v1'",
            "`tag` names a git reference, but there is no `git`",
        );
        err(
            "git = 'u'\nregistry = 'corp'",
            "`git` and `registry` name two sources",
        );
        err(
            "git = 'u'\nsource = 'vendor/x'",
            "`git` and `source` name two sources",
        );
        err("git = 1", "`git` must be a string");
    }

    #[test]
    fn exact_versions() {
        for v in ["1.2.3", "0.0.1", "1.0.0-rc.1", "0.1.11+1.0.8"] {
            assert!(is_exact_version(v), "{v}");
        }
        for v in ["1.2", "^1.2.3", "=1.2.3", ">=0.8", "1.2.x", "", "1..3"] {
            assert!(!is_exact_version(v), "{v}");
        }
    }
}
