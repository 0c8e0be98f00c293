//! Wiring a new shim into the workspace: the `[patch.crates-io]` entry of a
//! graph-wide shim in the workspace root's manifest (`[patch."URL"]` for a
//! git upstream, `[patch.NAME]` for an alternative registry's), or the dependency of a
//! renamed shim in the current package's, written with `toml_edit` so the
//! rest of the manifest keeps its formatting. Another shim's entry is never
//! replaced: a second shim of a crate gets an entry of its own, under
//! another key with `package = "…"`, which is how Cargo takes two patches
//! of one crate (for two semver series).

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

use toml_edit::{value, DocumentMut, InlineTable, Item, Table};

use crate::fs::relative_path;
use crate::workspace::{locate_manifest, patch_header, read_doc, table_header, Upstream};

/// A shim to wire: the upstream crate, its version, the shim's directory
/// (absolute) and, for a renamed shim, its package name.
pub struct Request<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub dir: &'a Path,
    pub rename: Option<&'a str>,
    /// Where the upstream comes from, which names the `[patch]` table.
    pub from: &'a Upstream,
}

/// What wiring a shim would write: the manifest, the table (`patch.crates-io`
/// or `dependencies`), the key and the entry.
pub struct Plan {
    pub manifest: PathBuf,
    table: Vec<String>,
    pub key: String,
    entry: InlineTable,
    /// The entry is there already, as it should be.
    pub present: bool,
    /// The existing dependency this one replaces (renamed shims only).
    replaces: bool,
}

/// Why a shim is not wired automatically; the text says what to do.
pub enum NotWired {
    /// No manifest here can take it (no workspace, a virtual manifest):
    /// the user wires it by hand.
    ByHand(String),
    /// Wiring it would replace another shim, or the manifest cannot be read.
    Conflict(String),
}

/// Works out where the wiring of `req` goes, from the directory `cwd`.
pub fn plan(req: &Request<'_>, cwd: &Path) -> Result<Plan, NotWired> {
    match req.rename {
        None => plan_patch(req, cwd),
        Some(r) => plan_dependency(req, r, cwd),
    }
}

fn plan_patch(req: &Request<'_>, cwd: &Path) -> Result<Plan, NotWired> {
    let source = req.from.patch_table();
    let table_path = vec!["patch".to_string(), source.to_string()];
    let header = patch_header(source);
    let manifest = locate_manifest(cwd, true).ok_or_else(|| {
        NotWired::ByHand(format!(
            "no Cargo workspace here to wire it into: add to the `Cargo.toml` of the workspace \
             root (the path is relative to this directory):\n\n    {header}\n    {} = \
             {{ path = \"{}\" }}\n",
            req.name,
            relative_path(cwd, req.dir)
        ))
    })?;
    let root = manifest.parent().unwrap_or(cwd);
    let doc = read_doc(&manifest).map_err(|e| NotWired::Conflict(crate::message(&e)))?;
    let path = relative_path(root, req.dir);
    let existing = doc
        .get("patch")
        .and_then(|p| p.get(source))
        .and_then(Item::as_table_like);
    let mut key = req.name.to_string();
    let mut entry = InlineTable::new();
    if let Some(table) = existing {
        // Already wired, under any key?
        for (k, v) in table.iter() {
            let p = v.get("path").and_then(Item::as_str);
            if p.is_some_and(|p| same_dir(&root.join(p), req.dir)) {
                return Ok(Plan {
                    manifest,
                    table: table_path,
                    key: k.to_string(),
                    entry: InlineTable::new(),
                    present: true,
                    replaces: false,
                });
            }
        }
    }
    // Another patch of the same semver series, shim or not, cannot stand
    // beside it (Cargo would drop one of them).
    if let Some(conflict) = same_series_patch(&doc, source, root, req) {
        return Err(NotWired::Conflict(format!(
            "{conflict} in `{}`, and Cargo takes one patch per semver series, so the new shim \
             is not wired\n  help: to use the new shim instead, point that entry at `{path}`; \
             to keep the old one, remove `{}`",
            manifest.display(),
            relative_path(cwd, req.dir),
        )));
    }
    if let Some(table) = existing {
        if table.contains_key(&key) {
            key = format!("{}{}", req.name, series_suffix(req.version));
            let mut n = 2;
            while table.contains_key(&key) {
                key = format!("{}{}-{n}", req.name, series_suffix(req.version));
                n += 1;
            }
            entry.insert("package", req.name.into());
        }
    }
    entry.insert("path", path.as_str().into());
    Ok(Plan {
        manifest,
        table: table_path,
        key,
        entry,
        present: false,
        replaces: false,
    })
}

/// The `[patch]` tables that stand for one source: crates.io answers to
/// `crates-io` and to its index URLs.
fn same_source_tables(source: &str) -> Vec<&str> {
    const CRATES_IO: &[&str] = &[
        "crates-io",
        "https://github.com/rust-lang/crates.io-index",
        "sparse+https://index.crates.io/",
    ];
    if CRATES_IO.contains(&source) {
        CRATES_IO.to_vec()
    } else {
        vec![source]
    }
}

/// An existing `[patch]` entry, for the same source, of the crate of `req`
/// in its semver series (a path of that series, or a git patch, whose
/// version cannot be known without resolving): what it is, for the error.
fn same_series_patch(
    doc: &DocumentMut,
    source: &str,
    root: &Path,
    req: &Request<'_>,
) -> Option<String> {
    for table_name in same_source_tables(source) {
        let Some(table) = doc
            .get("patch")
            .and_then(|p| p.get(table_name))
            .and_then(Item::as_table_like)
        else {
            continue;
        };
        for (k, v) in table.iter() {
            let crate_name = v.get("package").and_then(Item::as_str).unwrap_or(k);
            if crate_name != req.name {
                continue;
            }
            let header = patch_header(table_name);
            let Some(other) = v.get("path").and_then(Item::as_str) else {
                return Some(format!(
                    "`{header} {k}` already patches `{}` from another place (no `path`: a \
                     git or registry patch, of a version not known here)",
                    req.name
                ));
            };
            let version = read_doc(&root.join(other).join("Cargo.toml"))
                .ok()
                .and_then(|d| {
                    d.get("package")
                        .and_then(|p| p.get("version"))
                        .and_then(Item::as_str)
                        .map(str::to_string)
                });
            if version
                .as_deref()
                .is_none_or(|o| same_series(o, req.version))
            {
                return Some(format!(
                    "`{header} {k}` already patches `{}` with `{other}` ({} {})",
                    req.name,
                    req.name,
                    version.unwrap_or_else(|| "of an unknown version".to_string())
                ));
            }
        }
    }
    None
}

fn plan_dependency(req: &Request<'_>, rename: &str, cwd: &Path) -> Result<Plan, NotWired> {
    let entry_text = |base: &Path| {
        format!(
            "{} = {{ package = \"{rename}\", path = \"{}\" }}",
            req.name,
            relative_path(base, req.dir)
        )
    };
    let manifest = locate_manifest(cwd, false).ok_or_else(|| {
        NotWired::ByHand(format!(
            "no Cargo package here to wire it into: in the `Cargo.toml` of each package whose \
             own code should see the patch, replace its `{}` dependency with (the path relative \
             to that package):\n\n    {}\n",
            req.name,
            entry_text(cwd)
        ))
    })?;
    let base = manifest.parent().unwrap_or(cwd).to_path_buf();
    let doc = read_doc(&manifest).map_err(|e| NotWired::Conflict(crate::message(&e)))?;
    if !doc.contains_key("package") {
        return Err(NotWired::ByHand(format!(
            "`{}` is a virtual manifest, with no dependencies of its own: in the `Cargo.toml` of \
             each workspace member whose own code should see the patch, replace its `{}` \
             dependency with this line (its path is relative to the workspace root: make it \
             relative to the member):\n\n    {}\n",
            manifest.display(),
            req.name,
            entry_text(&base)
        )));
    }
    let mut entry = InlineTable::new();
    let old = doc.get("dependencies").and_then(|d| d.get(req.name));
    if let Some(old) = old {
        if old
            .get("path")
            .and_then(Item::as_str)
            .is_some_and(|p| same_dir(&base.join(p), req.dir))
        {
            return Ok(Plan {
                manifest,
                table: vec!["dependencies".to_string()],
                key: req.name.to_string(),
                entry,
                present: true,
                replaces: false,
            });
        }
    }
    entry.insert("package", rename.into());
    entry.insert("path", relative_path(&base, req.dir).as_str().into());
    // What the old dependency said about features stays.
    if let Some(old) = old.and_then(Item::as_table_like) {
        for k in [
            "features",
            "default-features",
            "default_features",
            "optional",
        ] {
            if let Some(v) = old.get(k).and_then(Item::as_value) {
                entry.insert(k, v.clone());
            }
        }
    }
    Ok(Plan {
        manifest,
        table: vec!["dependencies".to_string()],
        key: req.name.to_string(),
        entry,
        present: false,
        replaces: old.is_some(),
    })
}

impl Plan {
    /// The entry as a line of TOML.
    pub fn line(&self) -> String {
        let mut entry = self.entry.clone();
        entry.fmt();
        format!("{} = {}", self.key, entry)
    }

    /// The table the entry goes in, as a header.
    pub fn header(&self) -> String {
        table_header(&self.table)
    }

    /// Says, for `--no-wire`, what to add where.
    pub fn note(&self, cwd: &Path) -> String {
        let manifest = relative_path(cwd, &self.manifest);
        if self.present {
            format!("`{manifest}` wires it already, as `{}`\n", self.key)
        } else if self.replaces {
            format!(
                "replace the `{}` dependency of `{manifest}` (and of each other package whose \
                 own code should see the patch):\n\n    {}\n",
                self.key,
                self.line()
            )
        } else {
            format!(
                "add under the `{}` of `{manifest}`:\n\n    {}\n",
                self.header(),
                self.line()
            )
        }
    }

    /// Writes the entry into the manifest, keeping everything else as it
    /// is; returns the manifest's text before, to put it back with.
    pub fn write(&self) -> Result<String> {
        let before = crate::fs::read_to_string(&self.manifest)?;
        let mut doc: DocumentMut = before
            .parse()
            .map_err(|e| anyhow!("cannot parse `{}`: {e}", self.manifest.display()))?;
        let mut table = doc.as_table_mut();
        for (i, name) in self.table.iter().enumerate() {
            let implicit = i + 1 < self.table.len();
            table = table
                .entry(name.as_str())
                .or_insert_with(|| {
                    let mut t = Table::new();
                    t.set_implicit(implicit);
                    Item::Table(t)
                })
                .as_table_mut()
                .ok_or_else(|| {
                    anyhow!(
                        "`{}` in `{}` is not a table",
                        self.table[..=i].join("."),
                        self.manifest.display()
                    )
                })?;
        }
        let mut entry = self.entry.clone();
        entry.fmt();
        match table.get_mut(&self.key) {
            Some(item) => {
                // Keep the line's comments.
                let decor = item.as_value().map(|v| v.decor().clone());
                *item = value(entry);
                if let (Some(decor), Some(v)) = (decor, item.as_value_mut()) {
                    *v.decor_mut() = decor;
                }
            }
            None => {
                table.insert(&self.key, value(entry));
            }
        }
        crate::fs::write(&self.manifest, doc.to_string())?;
        Ok(before)
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    crate::workspace::canonical(a) == crate::workspace::canonical(b)
}

/// Whether two versions are one semver series for Cargo.
fn same_series(a: &str, b: &str) -> bool {
    use cargo_metadata::semver::Version;
    match (Version::parse(a), Version::parse(b)) {
        (Ok(a), Ok(b)) => crate::graph::compatible(&a, &b),
        _ => a == b,
    }
}

/// `1.4.2` → `1`, `0.9.3` → `09`, `0.0.3` → `003`: the part of a version
/// that names its semver series, for the key of a second shim of a crate.
fn series_suffix(version: &str) -> String {
    let parts: Vec<&str> = version.split(['.', '-', '+']).take(3).collect();
    match parts.as_slice() {
        ["0", "0", p, ..] => format!("00{p}"),
        ["0", m, ..] => format!("0{m}"),
        [major, ..] => major.to_string(),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_headers_quote_urls() {
        assert_eq!(patch_header("crates-io"), "[patch.crates-io]");
        assert_eq!(patch_header("corp"), "[patch.corp]");
        assert_eq!(
            patch_header("https://example.com/foo.git"),
            "[patch.\"https://example.com/foo.git\"]"
        );
    }

    #[test]
    fn series_suffixes() {
        assert_eq!(series_suffix("1.4.2"), "1");
        assert_eq!(series_suffix("0.9.3"), "09");
        assert_eq!(series_suffix("0.0.3"), "003");
        assert_eq!(series_suffix("12.0.0-rc.1"), "12");
    }
}
