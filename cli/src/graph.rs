//! Is every shim the workspace wires in the resolved graph, at the version
//! it claims?
//!
//! Cargo quietly drops a `[patch]` entry the graph cannot use (a warning,
//! and a `[[patch.unused]]` table in `Cargo.lock`), and then builds the
//! registry crate, without the fix. Here every wired shim is looked up in
//! the graph `cargo metadata` resolved; one that is not there gets the
//! reason (the requirement that excludes its version, the lock file, an
//! optional dependency not enabled, nothing depending on the crate) and the
//! command that fixes it. A shim that is used while an unpatched copy of the
//! same crate, in a semver-compatible version, is also in the graph is
//! reported too: part of the graph builds without the fix.

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

use cargo_metadata::semver::Version;
use cargo_metadata::{DependencyKind, Metadata, Package};
use toml_edit::Item;

use crate::workspace::{patch_header, patches_source, ShimInfo, WiredShim, Wiring};

/// What is wrong with a wired shim; `error` is false for what only deserves
/// a warning.
#[derive(Debug, Clone)]
pub struct Finding {
    pub dir: PathBuf,
    pub error: bool,
    pub text: String,
}

/// What is wrong with the shims in `wired`: for each unused one, why and
/// what to do; for each used graph-wide one, the unpatched copies of its
/// crate that are also in the graph.
pub fn findings(metadata: &Metadata, wired: &[WiredShim]) -> Vec<Finding> {
    let mut out = Vec::new();
    for w in wired {
        let Ok(shim) = ShimInfo::read(&w.dir) else {
            continue;
        };
        if let Some(text) = claim_mismatch(w, &shim) {
            out.push(Finding {
                dir: w.dir.clone(),
                error: true,
                text,
            });
        }
        if !w.used {
            out.push(Finding {
                dir: w.dir.clone(),
                error: true,
                text: unused_reason(metadata, w, &shim),
            });
        } else if shim.graph_wide() {
            out.extend(unpatched_copies(metadata, w, &shim));
        } else {
            out.extend(beside_renamed(metadata, w, &shim));
        }
    }
    out
}

/// What is wrong with the shim in `dir`, in the workspace `ws` as resolved:
/// its errors joined into one message (`Err`), or its warnings (`Ok`). For
/// `new` and `upgrade`, which must not report success for a shim the graph
/// will not use.
pub fn verify(ws: &crate::workspace::Workspace, dir: &Path) -> Result<Vec<String>> {
    let dir = crate::workspace::canonical(dir);
    if !ws.wired.iter().any(|w| w.dir == dir) {
        return Err(
            anyhow!("no `[patch]` entry or dependency of this workspace names the shim, so no build uses it"),
        );
    }
    let (errors, warnings): (Vec<Finding>, Vec<Finding>) = findings(&ws.metadata, &ws.wired)
        .into_iter()
        .filter(|f| f.dir == dir)
        .partition(|f| f.error);
    if errors.is_empty() {
        Ok(warnings.into_iter().map(|f| f.text).collect())
    } else {
        Err(anyhow!(errors
            .into_iter()
            .map(|f| f.text)
            .collect::<Vec<_>>()
            .join("\n")))
    }
}

/// A shim wired through `[patch]` as another crate than the code it
/// compiles: Cargo puts the package's name in the graph. (Another version
/// than the package's is the library's check, `Config::check_shim`, which
/// the build and `check` run.)
fn claim_mismatch(w: &WiredShim, shim: &ShimInfo) -> Option<String> {
    match &w.wiring {
        Wiring::Patch { source, key } if shim.upstream != shim.name => Some(format!(
            "`{} {key}` puts this shim in the graph as `{} {}`, but it compiles `{} \
             {}` (its metadata says `crate = \"{}\"`)\n  help: a graph-wide shim has the \
             upstream's name and version; for your own code only, wire it as a dependency \
             (`{} = {{ package = \"{}\", path = … }}`) instead of a `[patch]`",
            patch_header(source),
            shim.name,
            shim.package_version,
            shim.upstream,
            shim.version,
            shim.upstream,
            shim.upstream,
            shim.name
        )),
        _ => None,
    }
}

/// Why the graph does not use the shim `w`, and the fix.
fn unused_reason(metadata: &Metadata, w: &WiredShim, shim: &ShimInfo) -> String {
    let name = shim.name.as_str();
    let Ok(version) = Version::parse(&shim.package_version) else {
        return format!(
            "the graph does not use this shim, and its version `{}` is not a version",
            shim.package_version
        );
    };
    let wiring = match &w.wiring {
        Wiring::Patch { source, key } => format!("`{} {key}`", patch_header(source)),
        Wiring::Dependency { dependent } => format!("the path dependency of `{dependent}`"),
    };
    let mut text = format!(
        "the graph does not use this shim: Cargo builds no `{name} {version}` from it, though \
         {wiring} wires it (Cargo only warns: \"patch was not used in the crate graph\"), so the \
         build does not have its patches"
    );
    if let Wiring::Dependency { .. } = w.wiring {
        text.push_str(
            "\n  help: the dependency is optional and not enabled, or for another target: \
             enable it, or remove the shim",
        );
        return text;
    }
    // Every dependency of the graph on the crate from the source the
    // `[patch]` table stands for.
    let table = match &w.wiring {
        Wiring::Patch { source, .. } => Some(source.as_str()),
        Wiring::Dependency { .. } => None,
    };
    let deps = dependents(metadata, name, table);
    if deps.is_empty() && table.is_some_and(|t| t != "crates-io") {
        let elsewhere: Vec<String> = dependents(metadata, name, None)
            .iter()
            .map(|(p, req, _)| format!("`{} {}` (`{name} = \"{req}\"`)", p.name, p.version))
            .collect();
        let source = table.unwrap_or_default();
        text.push_str(&format!(
            "\n  nothing in the graph depends on `{name}` from `{source}`, the only source a \
             `{}` entry stands for",
            patch_header(source)
        ));
        if !elsewhere.is_empty() {
            text.push_str(&format!(
                "; {} take{} it from elsewhere\n  help: wire the shim under the `[patch]` table \
                 of their source (`[patch.crates-io]` for crates.io), with a shim of that \
                 source's `{name}`",
                elsewhere.join(", "),
                if elsewhere.len() == 1 { "s" } else { "" }
            ));
        } else {
            text.push_str(&format!(
                "\n  help: depend on `{name}` from `{source}`, or remove the `[patch]` entry and \
                 the shim"
            ));
        }
        return text;
    }
    if deps.is_empty() {
        text.push_str(&format!(
            "\n  nothing in the graph depends on `{name}`\n  help: depend on `{name}` from a \
             workspace member, or remove the `[patch]` entry and the shim"
        ));
        return text;
    }
    let mut excluded = Vec::new();
    let mut not_enabled = Vec::new();
    let mut admitted = 0;
    for (pkg, req, optional_off) in &deps {
        let member = metadata.workspace_members.contains(&pkg.id);
        let what = requires(pkg, member, name, req);
        if !req.matches(&version) {
            excluded.push((what, member));
        } else if *optional_off {
            not_enabled.push(what);
        } else {
            admitted += 1;
        }
    }
    for (what, member) in &excluded {
        text.push_str(&format!("\n  {what}, which {version} does not match"));
        if *member {
            text.push_str(&format!(
                "\n  help: change that requirement to one {version} matches, e.g. `{name} = \"={version}\"`"
            ));
        } else {
            text.push_str(&format!(
                "\n  help: that requirement is in a dependency's manifest: shim the version it \
                 asks for instead (`cargo build-patch upgrade {} VERSION`), or patch that \
                 dependency's `Cargo.toml` too",
                shim.dir.display()
            ));
        }
    }
    for what in &not_enabled {
        text.push_str(&format!(
            "\n  {what} as an optional dependency that is not enabled"
        ));
    }
    // Every requirement admits the shim: the lock file holds another copy.
    // (With one that excludes it, moving the lock cannot work: Cargo keeps
    // the copy that requirement needs.)
    if admitted > 0 && excluded.is_empty() {
        let locked: Vec<&Package> = metadata
            .packages
            .iter()
            .filter(|p| p.name.as_str() == name && from_table(metadata, table, p.source.as_ref()))
            .collect();
        for p in &locked {
            let source = p.source.as_ref().map(|s| s.repr.as_str()).unwrap_or("?");
            // `--precise` names a commit for a git package, not a version.
            let update = if source.starts_with("git+") {
                format!("`cargo update -p {name}@{}`", p.version)
            } else {
                format!("`cargo update -p {name}@{} --precise {version}`", p.version)
            };
            text.push_str(&format!(
                "\n  `Cargo.lock` locks `{name} {}` from `{source}`\n  help: {update} moves the \
                 lock to the shim",
                p.version,
            ));
        }
        if locked.is_empty() {
            text.push_str(&format!(
                "\n  help: `cargo update -p {name}` lets Cargo take the shim"
            ));
        }
    }
    text
}

/// Whether a package or dependency from `source` is one the `[patch]`
/// table `table` stands for (any source but a path when `None`).
fn from_table(
    metadata: &Metadata,
    table: Option<&str>,
    source: Option<&cargo_metadata::Source>,
) -> bool {
    let id = source.map(|s| s.repr.as_str());
    match table {
        None => id.is_some(),
        Some(t) => patches_source(t, id, metadata.workspace_root.as_std_path()),
    }
}

/// The packages of the graph that depend on `name` from a registry or git
/// (not by path), from the source the `[patch]` table `table` stands for
/// when given, with the requirement and whether the dependency is optional
/// and not enabled. Dev-dependencies count only for workspace members
/// (Cargo resolves no others).
fn dependents<'m>(
    metadata: &'m Metadata,
    name: &str,
    table: Option<&str>,
) -> Vec<(&'m Package, &'m cargo_metadata::semver::VersionReq, bool)> {
    let mut out = Vec::new();
    for p in &metadata.packages {
        let member = metadata.workspace_members.contains(&p.id);
        for d in &p.dependencies {
            if d.name != name || d.path.is_some() || !from_table(metadata, table, d.source.as_ref())
            {
                continue;
            }
            if d.kind == DependencyKind::Development && !member {
                continue;
            }
            let enabled = !d.optional || depends_in_resolve(metadata, p, name);
            out.push((p, &d.req, !enabled));
        }
    }
    out
}

/// Whether the resolved graph has `pkg` depending on a package named `name`.
pub fn depends_in_resolve(metadata: &Metadata, pkg: &Package, name: &str) -> bool {
    let Some(resolve) = &metadata.resolve else {
        return true;
    };
    let Some(node) = resolve.nodes.iter().find(|n| n.id == pkg.id) else {
        return true;
    };
    node.deps.iter().any(|d| {
        metadata
            .packages
            .iter()
            .any(|p| p.id == d.pkg && p.name.as_str() == name)
    })
}

/// The copies of the crate of the used graph-wide shim `w` that the graph
/// takes from elsewhere (unpatched): an error when semver-compatible with
/// the shim (the graph meant to be patched builds that crate without the
/// fix), a warning otherwise (another major series, which this shim cannot
/// stand in for).
fn unpatched_copies(metadata: &Metadata, w: &WiredShim, shim: &ShimInfo) -> Vec<Finding> {
    let Ok(version) = Version::parse(&shim.package_version) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in &metadata.packages {
        if p.name.as_str() != shim.name || p.source.is_none() {
            continue;
        }
        let root = metadata.workspace_root.as_std_path();
        let id = p.source.as_ref().map(|s| s.repr.as_str());
        if !patches_source(shim.from.patch_table(), id, root) {
            // Another source: another crate for Cargo, which this shim's
            // `[patch]` table does not stand in for.
            let flags = crate::workspace::Upstream::of_package(p, root)
                .map(|u| u.flags())
                .unwrap_or_default();
            out.push(Finding {
                dir: w.dir.clone(),
                error: false,
                text: format!(
                    "the graph also builds `{} {}` from `{}`, unpatched: the shim stands in for \
                     its crate from {} only\n  help: if that copy needs the fix too, add a shim \
                     of it: `cargo build-patch new {}@{}{flags}`",
                    p.name,
                    p.version,
                    id.unwrap_or("?"),
                    match shim.from.patch_table() {
                        "crates-io" => "crates.io".to_string(),
                        t => format!("`{t}`"),
                    },
                    p.name,
                    p.version
                ),
            });
            continue;
        }
        let compatible = compatible(&p.version, &version);
        let who: Vec<String> = dependents(metadata, &shim.name, None)
            .into_iter()
            .filter(|(_, req, off)| !off && req.matches(&p.version) && !req.matches(&version))
            .map(|(d, req, _)| format!("`{} {}` (`{} = \"{req}\"`)", d.name, d.version, shim.name))
            .collect();
        let by = if who.is_empty() {
            String::new()
        } else {
            format!(", required by {}", who.join(", "))
        };
        let text = if compatible {
            format!(
                "the graph also builds `{} {}` from `{}`, unpatched{by}: that part of the build does \
                 not have the shim's patches\n  help: make those requirements admit {version}, \
                 or add a second shim for {} (`cargo build-patch new {}@{}`)",
                p.name,
                p.version,
                p.source.as_ref().map(|s| s.repr.as_str()).unwrap_or("?"),
                p.version,
                p.name,
                p.version
            )
        } else {
            format!(
                "the graph also builds `{} {}` (another semver series than the shim's {version}), \
                 unpatched{by}\n  help: if it needs the fix too, add a shim for it: `cargo \
                 build-patch new {}@{}`",
                p.name, p.version, p.name, p.version
            )
        };
        out.push(Finding {
            dir: w.dir.clone(),
            error: compatible,
            text,
        });
    }
    out
}

/// The registry copies of a renamed shim's crate that the graph also
/// builds: a renamed shim patches only the code that depends on it, so the
/// other dependents get the unpatched crate (a warning: that may be meant).
fn beside_renamed(metadata: &Metadata, w: &WiredShim, shim: &ShimInfo) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &metadata.packages {
        if p.name.as_str() != shim.upstream || p.source.is_none() {
            continue;
        }
        let users: Vec<String> = dependents(metadata, &shim.upstream, None)
            .into_iter()
            .filter(|(_, req, off)| !off && req.matches(&p.version))
            .map(|(d, _, _)| format!("`{} {}`", d.name, d.version))
            .collect();
        out.push(Finding {
            dir: w.dir.clone(),
            error: false,
            text: format!(
                "the graph also builds `{} {}` unpatched, for {}: a renamed shim patches only \
                 the code that depends on it by its own name\n  help: to patch it for the \
                 whole graph, use a graph-wide shim (`cargo build-patch new {}@{}`)",
                p.name,
                p.version,
                if users.is_empty() {
                    "other crates".to_string()
                } else {
                    users.join(", ")
                },
                p.name,
                p.version
            ),
        });
    }
    out
}

/// Before a graph-wide shim moves to `version`: the requirements of the
/// packages that use it now and that `version` would not match (the graph
/// would drop the shim and build the registry copy). Empty when it admits
/// it, or when the shim is not used now (the check after writing says why).
pub fn excluded_by(metadata: &Metadata, dir: &Path, name: &str, version: &Version) -> Vec<String> {
    let manifest = crate::workspace::canonical(&dir.join("Cargo.toml"));
    let Some(shim) = metadata
        .packages
        .iter()
        .find(|p| crate::workspace::canonical(p.manifest_path.as_std_path()) == manifest)
    else {
        return Vec::new();
    };
    let Some(resolve) = &metadata.resolve else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for node in &resolve.nodes {
        if !node.deps.iter().any(|d| d.pkg == shim.id) {
            continue;
        }
        let Some(p) = metadata.packages.iter().find(|p| p.id == node.id) else {
            continue;
        };
        for d in p
            .dependencies
            .iter()
            .filter(|d| d.name == name && d.path.is_none())
        {
            if d.req.matches(&shim.version) && !d.req.matches(version) {
                let member = metadata.workspace_members.contains(&p.id);
                out.push(requires(p, member, name, &d.req));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What is wrong with the workspace's wiring outside its wired shims: a
/// `[patch]` the graph does not use that is none of them (`Cargo.lock`'s
/// `[[patch.unused]]`: a vendored fork, a shim wired in
/// `.cargo/config.toml`), and `[patch]` tables of members' manifests, which
/// Cargo ignores (only the root's count).
pub fn workspace_problems(ws: &crate::workspace::Workspace) -> Vec<String> {
    let mut out = Vec::new();
    let root = ws.metadata.workspace_root.as_std_path();
    if let Ok(lock) = crate::workspace::read_doc(&root.join("Cargo.lock")) {
        let unused = lock
            .get("patch")
            .and_then(|p| p.get("unused"))
            .and_then(Item::as_array_of_tables);
        for entry in unused.into_iter().flat_map(|a| a.iter()) {
            let field = |k: &str| entry.get(k).and_then(Item::as_str).unwrap_or("?");
            let (name, version) = (field("name"), field("version"));
            let reported = ws.wired.iter().any(|w| {
                !w.used
                    && ShimInfo::read(&w.dir)
                        .is_ok_and(|s| s.name == name && s.package_version == version)
            });
            if !reported {
                out.push(format!(
                    "`Cargo.lock` records a `[patch]` of `{name} {version}` that the graph does not \
                     use (`[[patch.unused]]`), so the build has the registry's `{name}`, not that \
                     patch\n  help: see why with `cargo tree -i {name}`; if it is a shim wired \
                     in `.cargo/config.toml`, wire it in the workspace root's `Cargo.toml`, where \
                     `cargo build-patch check` sees it"
                ));
            }
        }
    }
    for p in &ws.metadata.packages {
        if !ws.metadata.workspace_members.contains(&p.id) {
            continue;
        }
        let manifest = p.manifest_path.as_std_path();
        if crate::workspace::canonical(manifest)
            == crate::workspace::canonical(&root.join("Cargo.toml"))
        {
            continue;
        }
        let Ok(doc) = crate::workspace::read_doc(manifest) else {
            continue;
        };
        if let Some(tables) = doc.get("patch").and_then(Item::as_table_like) {
            let entries: Vec<String> = tables
                .iter()
                .flat_map(|(source, t)| {
                    t.as_table_like()
                        .into_iter()
                        .flat_map(|t| t.iter().map(|(k, _)| k.to_string()))
                        .map(move |k| format!("`[patch.{source}] {k}`"))
                })
                .collect();
            out.push(format!(
                "`{}` has {}, which Cargo ignores: only the workspace root's `[patch]` \
                 counts, so they patch nothing\n  help: move them to `{}`",
                manifest.display(),
                entries.join(", "),
                root.join("Cargo.toml").display()
            ));
        }
    }
    out
}

/// Whether Cargo's caret rule treats `a` and `b` as one semver series.
pub fn compatible(a: &Version, b: &Version) -> bool {
    if a.major != b.major {
        false
    } else if a.major > 0 {
        true
    } else if a.minor != b.minor {
        false
    } else {
        a.minor > 0 || a.patch == b.patch
    }
}

/// "`PKG VERSION` requires `NAME = "REQ"`", with the manifest it is written
/// in when `pkg` is a workspace member (the one the user edits).
fn requires(pkg: &Package, member: bool, name: &str, req: &impl std::fmt::Display) -> String {
    let mut text = format!(
        "`{} {}` requires `{name} = \"{req}\"`",
        pkg.name, pkg.version
    );
    if member {
        text.push_str(&format!(" in `{}`", pkg.manifest_path));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_series() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(compatible(&v("1.2.3"), &v("1.9.0")));
        assert!(!compatible(&v("1.2.3"), &v("2.0.0")));
        assert!(compatible(&v("0.9.1"), &v("0.9.7")));
        assert!(!compatible(&v("0.9.1"), &v("0.10.0")));
        assert!(!compatible(&v("0.0.1"), &v("0.0.2")));
    }
}
