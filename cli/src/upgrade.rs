//! `upgrade`: moving a shim to another upstream version.
//!
//! Every patch is re-applied to the new version one at a time; upstreamed
//! ones are dropped; the rest are refreshed. Nothing in the shim changes
//! unless all of them apply. A patch that no longer applies leaves an edit
//! folder at it, for `edit`/`save` to finish by hand.

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

use build_patch::patch::{self, ApplyOptions, PatchFile};
use toml_edit::{value, Item};

use crate::diff::{copy_tree, diff_changes};
use crate::edit::{commit_tree, fresh_edit_dir, lay_out, refresh, write_upgrade_marker};
use crate::shell::Shell;
use crate::undo::Snapshot;
use crate::workspace::{read_doc, ShimInfo, Upstream, Workspace, GIT_REFS};

/// Which version `upgrade` moves a shim to.
pub enum Target<'a> {
    /// This exact version.
    Exact(&'a str),
    /// The newest the graph's requirements admit.
    Compatible,
    /// The newest release.
    Latest,
    /// For a git shim: another `rev`, `tag` or `branch` (key and value),
    /// at the version the repository holds there.
    Git(&'static str, &'a str),
}

pub fn upgrade(shell: &Shell, cwd: &Path, arg: &str, target: Target<'_>) -> Result<()> {
    let ws = Workspace::load(cwd)?;
    let mut shim = ShimInfo::read(&ws.find(cwd, arg)?)?;
    let chosen;
    let version = match target {
        Target::Exact(v) => v,
        Target::Git(key, reference) => {
            chosen = git_target(&ws, &shim, key, reference)?;
            if let Upstream::Git { url, .. } = &shim.from {
                shim.from = Upstream::Git {
                    url: url.clone(),
                    reference: Some((key.to_string(), reference.to_string())),
                };
            }
            chosen.as_str()
        }
        Target::Compatible | Target::Latest if matches!(shim.from, Upstream::Git { .. }) => {
            return Err(anyhow!(
                "`{}` patches {}{}, which has no releases to pick from\n  help: name the \
                 commit to move to: `cargo build-patch upgrade {} --rev REV` (or `--tag TAG`, \
                 `--branch BRANCH`)",
                shim.dir.display(),
                shim.upstream,
                shim.from.describe(),
                ws.arg_for(cwd, &shim)
            ))
        }
        Target::Compatible | Target::Latest => {
            let latest = matches!(target, Target::Latest);
            chosen =
                crate::outdated::newest_release(&ws, &shim, latest)?.ok_or_else(|| {
                    anyhow!(
                    "no release of `{}` found to upgrade `{}` to{}\n  help: `cargo build-patch \
                     outdated` shows the releases; `upgrade SHIM VERSION` names one",
                    shim.upstream,
                    shim.dir.display(),
                    if latest { "" } else { " within the graph's requirements" }
                )
                })?;
            if chosen == shim.version {
                shell.status(
                    "Fresh",
                    &format!(
                        "`{}` is at {} {chosen}, the newest {}",
                        shim.name,
                        shim.upstream,
                        if latest {
                            "release"
                        } else {
                            "the graph's requirements admit (`--latest`: the newest of all)"
                        }
                    ),
                );
                return Ok(());
            }
            chosen.as_str()
        }
    };
    let listed: Vec<PathBuf> = shim.patches.iter().map(PathBuf::from).collect();
    let (files, _) = patch::load_patch_list(&shim.dir, &listed).map_err(crate::opaque)?;
    refuse_before_upgrade(&ws, &shim, version, &files)?;
    shell.status(
        "Upgrading",
        &format!(
            "`{}` from {} {} to {version}",
            shim.name, shim.upstream, shim.version
        ),
    );

    // Re-apply each patch to the new version, one at a time, in a scratch
    // tree; nothing of the shim changes until all of them apply.
    let scratch = crate::fs::scratch_dir()?;
    let tree = scratch.path().join("tree");
    lay_out(&shim, &tree, &[], version)?;
    let mut options = ApplyOptions::new();
    options
        .strip(shim.strip.unwrap_or(1))
        .fuzz(shim.fuzz.unwrap_or(0));
    let mut outcomes: Vec<(PatchFile, Option<String>)> = Vec::new();
    for f in &files {
        if let Some(since) = crate::outdated::applied_upstream(f, version) {
            shell.status(
                "Dropped",
                &format!(
                    "`{}`: its header says `Applied-Upstream: {since}`",
                    f.display
                ),
            );
            outcomes.push((f.clone(), None));
            continue;
        }
        // In memory first: `tree` stays as the patches before left it
        // until this one applies.
        match patch::apply_in_memory(&tree, std::slice::from_ref(f), &options) {
            Ok(changes) => {
                let diff = diff_changes(&tree, changes.files())?;
                let refreshed = refresh(&f.bytes, &diff, &shim.upstream, version);
                let moved = changes.applied().warnings().len();
                // The next patch applies on top of this one.
                changes.write_to(&tree).map_err(crate::opaque)?;
                let note = if moved == 0 {
                    String::new()
                } else {
                    format!(", {moved} hunk(s) moved")
                };
                shell.status("Refreshed", &format!("`{}`{note}", f.display));
                outcomes.push((f.clone(), Some(refreshed)));
            }
            Err(e) if e.kind() == patch::PatchErrorKind::AlreadyApplied => {
                shell.status(
                    "Dropped",
                    &format!(
                        "`{}`: {} {version} already has it",
                        f.display, shim.upstream
                    ),
                );
                outcomes.push((f.clone(), None));
            }
            Err(e) => {
                // Leave an edit folder at the failing patch, to resolve by hand.
                let dir = fresh_edit_dir(&shim, false)?;
                let edit_tree = dir.join("tree");
                copy_tree(&tree, &edit_tree)?;
                copy_tree(&tree, &dir.join("base"))?;
                let tree = edit_tree;
                commit_tree(
                    &tree,
                    &format!(
                        "{} {version} with the patches before {}",
                        shim.upstream, f.display
                    ),
                );
                write_upgrade_marker(&dir, &f.display, version)?;
                return Err(anyhow!(
                    "{e}\n  nothing was changed in `{}`\n  help: `{}` holds {} {version} with the \
                     patches before `{}` applied: redo that patch's change there by hand, then \
                     `cargo build-patch save {}` writes it over `{}`; then run `cargo build-patch \
                     upgrade {} {version}` again",
                    shim.dir.display(),
                    tree.display(),
                    shim.upstream,
                    f.display,
                    ws.arg_for(cwd, &shim),
                    f.display,
                    ws.arg_for(cwd, &shim),
                ));
            }
        }
    }

    // All applied: write the refreshed patches, drop the upstreamed ones,
    // move the shim to the new version, and check that the graph takes it;
    // on any failure every file is put back.
    let mut snapshot = Snapshot::new();
    snapshot.tree(&shim.dir)?;
    for entry in &shim.patches {
        let p = shim.dir.join(entry);
        if p.is_dir() {
            snapshot.tree(&p)?;
        } else {
            snapshot.file(&p)?;
        }
    }
    for (f, _) in &outcomes {
        snapshot.file(&shim.dir.join(&f.display))?;
    }
    snapshot.file(&ws.metadata.workspace_root.as_std_path().join("Cargo.lock"))?;
    if let Err(e) = write_upgrade(shell, cwd, &shim, version, &outcomes) {
        snapshot.restore()?;
        return Err(anyhow!(
            "{e:#}\n  nothing was changed in `{}`",
            shim.dir.display()
        ));
    }
    shell.status(
        "Upgraded",
        &format!("`{}` to {} {version}", shim.name, shim.upstream),
    );
    Ok(())
}

/// The version the git repository of `shim` holds at `key = reference`
/// (`rev`, `tag` or `branch`), as Cargo resolves it.
fn git_target(ws: &Workspace, shim: &ShimInfo, key: &str, reference: &str) -> Result<String> {
    let Upstream::Git { url, .. } = &shim.from else {
        return Err(anyhow!(
            "`{}` does not patch a git repository ({} {} comes from {}), so `--{key}` does \
             not apply\n  help: give the version to move to, or `--compatible` / `--latest`",
            shim.dir.display(),
            shim.upstream,
            shim.version,
            match &shim.from {
                Upstream::Registry(r) => format!("the registry `{r}`"),
                _ => "crates.io".to_string(),
            }
        ));
    };
    let dependency = format!("{{ git = {url:?}, {key} = {reference:?} }}");
    let resolve =
        |offline| crate::outdated::resolve_version(ws, &shim.upstream, &dependency, offline);
    let found = match resolve(true) {
        Ok(Some(v)) => Some(v),
        _ => resolve(false)?,
    };
    found.map(|v| v.to_string()).ok_or_else(|| {
        anyhow!(
            "`{url}` has no package `{}` at the {key} `{reference}`\n  help: check the {key} \
             (`git ls-remote {url}`)",
            shim.upstream
        )
    })
}

/// What stops an upgrade before it starts, so that it neither leaves a
/// tree to redo a patch for a version the graph will not take, nor rewrites
/// a patch another shim lists, nor builds on unsaved edits.
fn refuse_before_upgrade(
    ws: &Workspace,
    shim: &ShimInfo,
    version: &str,
    files: &[PatchFile],
) -> Result<()> {
    if shim.graph_wide() {
        if let Ok(v) = cargo_metadata::semver::Version::parse(version) {
            let excluded = crate::graph::excluded_by(&ws.metadata, &shim.dir, &shim.name, &v);
            if !excluded.is_empty() {
                return Err(anyhow!(
                    "the graph would not use `{}` at {} {version}: {}\n  nothing was changed\n  \
                     help: make those requirements admit {version} first (for a dependency's, \
                     `cargo build-patch unify {}@{version}` or `new --require`), then upgrade",
                    shim.dir.display(),
                    shim.upstream,
                    excluded.join(", "),
                    shim.upstream
                ));
            }
        }
    }
    // A patch file another shim lists too would change under it.
    let mine: Vec<PathBuf> = files
        .iter()
        .map(|f| crate::workspace::canonical(&shim.dir.join(&f.display)))
        .collect();
    for other in &ws.shims {
        if crate::workspace::canonical(other) == crate::workspace::canonical(&shim.dir) {
            continue;
        }
        let Ok(info) = ShimInfo::read(other) else {
            continue;
        };
        let listed: Vec<PathBuf> = info.patches.iter().map(PathBuf::from).collect();
        let Ok((theirs, _)) = patch::load_patch_list(&info.dir, &listed) else {
            continue;
        };
        for f in theirs {
            let path = crate::workspace::canonical(&info.dir.join(&f.display));
            if mine.contains(&path) {
                return Err(anyhow!(
                    "`{}` is a patch of `{}` too: upgrading `{}` would rewrite or remove it \
                     under the other shim\n  nothing was changed\n  help: give each shim its \
                     own copy of the patch (copy the file and list the copy), then upgrade",
                    path.display(),
                    info.dir.display(),
                    shim.dir.display()
                ));
            }
        }
    }
    let edits = crate::edit::edit_dir(shim);
    if crate::edit::has_unsaved_edits(&edits).unwrap_or(false) {
        return Err(anyhow!(
            "`{}` holds unsaved edits (not saved as a patch); an upgrade would make them edits \
             of another version\n  nothing was changed\n  help: `cargo build-patch save` them first, or \
             `cargo build-patch edit --force` throws them away",
            edits.join("tree").display()
        ));
    }
    Ok(())
}

/// Writes an upgrade whose patches all applied: refreshed patches, dropped
/// ones removed, the manifest at the new version and synced; then resolves
/// the workspace, which must use the shim.
fn write_upgrade(
    shell: &Shell,
    cwd: &Path,
    shim: &ShimInfo,
    version: &str,
    outcomes: &[(PatchFile, Option<String>)],
) -> Result<()> {
    let mut dropped: Vec<String> = Vec::new();
    for (f, refreshed) in outcomes {
        let path = shim.dir.join(&f.display);
        match refreshed {
            Some(text) => crate::fs::write(&path, text)?,
            None => {
                crate::fs::remove_file(&path)?;
                dropped.push(f.display.clone());
            }
        }
    }
    let manifest_path = shim.dir.join("Cargo.toml");
    let mut doc = read_doc(&manifest_path)?;
    // The header comment `new` wrote names the version.
    if let Some(prefix) = doc
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .map(str::to_string)
    {
        let old = format!("{} {}", shim.upstream, shim.version);
        let new = format!("{} {version}", shim.upstream);
        doc.decor_mut().set_prefix(prefix.replace(&old, &new));
    }
    if shim.graph_wide() {
        doc["package"]["version"] = value(version);
    }
    let meta = doc["package"]["metadata"]["build-patch"]
        .as_table_like_mut()
        .ok_or_else(|| anyhow!("`{}` has no build-patch table", manifest_path.display()))?;
    if meta.contains_key("version") || !shim.graph_wide() {
        meta.insert("version", value(version));
    }
    if let Upstream::Git { .. } = shim.from {
        // `upgrade --rev/--tag/--branch`: the new reference.
        for key in GIT_REFS {
            meta.remove(key);
        }
        for (key, v) in shim.from.metadata_keys() {
            meta.insert(key, value(v));
        }
    }
    remove_dropped(meta, shim, &dropped)?;
    crate::fs::write(&manifest_path, doc.to_string())?;
    crate::shim::sync(shell, &shim.dir)?;
    // The shim moved; the graph must take it at its new version.
    match crate::graph::verify(&Workspace::load(cwd)?, &shim.dir) {
        Ok(warnings) => {
            for w in warnings {
                shell.warn(&w);
            }
            Ok(())
        }
        Err(e) => Err(anyhow!(
            "at {} {version}, the build would not use `{}`: {e:#}\n  help: make the graph admit \
             {version} first (the requirements named above), then run the upgrade again",
            shim.upstream,
            shim.dir.display(),
        )),
    }
}

/// Takes dropped patches out of the shim's list or series.
fn remove_dropped(
    meta: &mut dyn toml_edit::TableLike,
    shim: &ShimInfo,
    dropped: &[String],
) -> Result<()> {
    if dropped.is_empty() {
        return Ok(());
    }
    if let Some(Item::Value(toml_edit::Value::Array(list))) = meta.get_mut("patches") {
        list.retain(|v| {
            !v.as_str()
                .is_some_and(|s| dropped.iter().any(|d| Path::new(d) == Path::new(s)))
        });
        list.fmt();
    }
    // Series files that list them.
    for entry in &shim.patches {
        if let Some(series) = crate::workspace::series_file(&shim.dir.join(entry)) {
            let dir = series.parent().unwrap_or(&shim.dir);
            let text = crate::fs::read_to_string(&series)?;
            let kept: Vec<&str> = text
                .lines()
                .filter(|line| {
                    let name = line.split_whitespace().next().unwrap_or("");
                    name.is_empty()
                        || name.starts_with('#')
                        || !dropped.iter().any(|d| shim.dir.join(d) == dir.join(name))
                })
                .collect();
            crate::fs::write(&series, kept.join("\n") + "\n")?;
        }
    }
    Ok(())
}
