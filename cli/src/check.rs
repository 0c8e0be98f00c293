//! `check` and `upgrade`: keeping patches from rotting.
//!
//! `check` stages every shim as its build would (patches apply, manifest and
//! crate attributes in sync) and compares the version each patch records
//! with the shim's. `upgrade` moves a shim to another upstream version:
//! every patch is re-applied to the new version one at a time; upstreamed
//! ones are dropped; the rest are refreshed. Nothing in the shim changes
//! unless all of them apply.

use std::path::{Path, PathBuf};

use build_patch::patch::{self, ApplyOptions, PatchFile};
use build_patch::recorded_version;
use toml_edit::{value, Item};

use crate::diff::{copy_tree, diff_trees};
use crate::edit::{commit_tree, fresh_edit_dir, lay_out, write_upgrade_marker};
use crate::shell::Shell;
use crate::workspace::{read_doc, ShimInfo, Workspace};

pub fn check(shell: &Shell, cwd: &Path, args: &[String]) -> Result<(), String> {
    let ws = Workspace::load(cwd)?;
    let dirs: Vec<PathBuf> = if args.is_empty() {
        ws.shims.clone()
    } else {
        args.iter()
            .map(|a| ws.find(cwd, a))
            .collect::<Result<_, _>>()?
    };
    if dirs.is_empty() {
        return Err(
            "this workspace uses no build-patch shim\n  help: name shim directories, or run from \
             the workspace that uses them"
                .to_string(),
        );
    }
    let mut failed = 0;
    for dir in &dirs {
        let reasons = check_one(dir);
        let label = dir.strip_prefix(cwd).unwrap_or(dir).display().to_string();
        if reasons.is_empty() {
            shell.status("Checked", &format!("`{label}`"));
        } else {
            failed += 1;
            for r in reasons {
                shell.error(&format!("shim `{label}`: {r}"));
            }
        }
    }
    if failed > 0 {
        return Err(format!(
            "{failed} of {} shim(s) failed the check",
            dirs.len()
        ));
    }
    Ok(())
}

/// Every reason the shim in `dir` would not build as it is.
fn check_one(dir: &Path) -> Vec<String> {
    let shim = match ShimInfo::read(dir) {
        Ok(s) => s,
        Err(e) => return vec![e],
    };
    let mut reasons = Vec::new();
    let expected = format!("{} {}", shim.upstream, shim.version);
    match patch::load_patch_list(
        &shim.dir,
        &shim.patches.iter().map(PathBuf::from).collect::<Vec<_>>(),
    ) {
        Ok((files, _)) => {
            for f in files {
                if let Some(recorded) = recorded_version(&f.bytes) {
                    if recorded != expected {
                        reasons.push(format!(
                            "`{}` was made against `{recorded}`, the shim is `{expected}`\n  \
                             help: `cargo build-patch upgrade` refreshes patches for a new version",
                            f.display
                        ));
                    }
                }
            }
        }
        Err(e) => return vec![e.to_string()],
    }
    match tempfile::tempdir() {
        Ok(scratch) => {
            if let Err(e) = shim.config(scratch.path()).try_build() {
                reasons.push(e.to_string());
            }
        }
        Err(e) => reasons.push(format!("cannot create a scratch folder: {e}")),
    }
    reasons
}

pub fn upgrade(shell: &Shell, cwd: &Path, arg: &str, version: &str) -> Result<(), String> {
    let ws = Workspace::load(cwd)?;
    let shim = ShimInfo::read(&ws.find(cwd, arg)?)?;
    let listed: Vec<PathBuf> = shim.patches.iter().map(PathBuf::from).collect();
    let (files, _) = patch::load_patch_list(&shim.dir, &listed).map_err(|e| e.to_string())?;
    shell.status(
        "Upgrading",
        &format!(
            "`{}` from {} {} to {version}",
            shim.name, shim.upstream, shim.version
        ),
    );

    // Re-apply each patch to the new version, one at a time, in a scratch
    // tree; nothing of the shim changes until all of them apply.
    let scratch =
        tempfile::tempdir().map_err(|e| format!("cannot create a scratch folder: {e}"))?;
    let tree = scratch.path().join("tree");
    lay_out(&shim, &tree, &[], version)?;
    let mut options = ApplyOptions::new();
    options
        .strip(shim.strip.unwrap_or(1))
        .fuzz(shim.fuzz.unwrap_or(0));
    let mut outcomes: Vec<(PatchFile, Option<String>)> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let before = scratch.path().join(format!("before-{i}"));
        copy_tree(&tree, &before)?;
        match patch::apply_to_dir(&tree, std::slice::from_ref(f), &options) {
            Ok(applied) => {
                let refreshed = refresh(
                    &f.bytes,
                    &diff_trees(&before, &tree)?,
                    &shim.upstream,
                    version,
                );
                let moved = applied.warnings().len();
                let note = if moved == 0 {
                    String::new()
                } else {
                    format!(", {moved} hunk(s) moved")
                };
                shell.status("Refreshed", &format!("`{}`{note}", f.display));
                outcomes.push((f.clone(), Some(refreshed)));
            }
            Err(e)
                if e.as_patch_error()
                    .is_some_and(|p| p.kind_name() == "already-applied") =>
            {
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
                let tree = dir.join("tree");
                copy_tree(&before, &tree)?;
                copy_tree(&before, &dir.join("base"))?;
                commit_tree(
                    &tree,
                    &format!(
                        "{} {version} with the patches before {}",
                        shim.upstream, f.display
                    ),
                );
                write_upgrade_marker(&dir, &f.display, version)?;
                return Err(format!(
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
    // and move the shim to the new version.
    let mut dropped: Vec<String> = Vec::new();
    for (f, refreshed) in &outcomes {
        let path = shim.dir.join(&f.display);
        match refreshed {
            Some(text) => std::fs::write(&path, text)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?,
            None => {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove `{}`: {e}", path.display()))?;
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
        .ok_or_else(|| format!("`{}` has no build-patch table", manifest_path.display()))?;
    if meta.contains_key("version") || !shim.graph_wide() {
        meta.insert("version", value(version));
    }
    remove_dropped(meta, &shim, &dropped)?;
    std::fs::write(&manifest_path, doc.to_string())
        .map_err(|e| format!("cannot write `{}`: {e}", manifest_path.display()))?;
    crate::shim::sync(shell, &shim.dir)?;
    shell.status(
        "Upgraded",
        &format!("`{}` to {} {version}", shim.name, shim.upstream),
    );
    Ok(())
}

/// Takes dropped patches out of the shim's list or series.
fn remove_dropped(
    meta: &mut dyn toml_edit::TableLike,
    shim: &ShimInfo,
    dropped: &[String],
) -> Result<(), String> {
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
        let p = shim.dir.join(entry);
        let series = if p.is_dir() {
            p.join("series")
        } else {
            p.clone()
        };
        if series.file_name().is_some_and(|n| n == "series") && series.is_file() {
            let dir = series.parent().unwrap_or(&shim.dir);
            let text = std::fs::read_to_string(&series)
                .map_err(|e| format!("cannot read `{}`: {e}", series.display()))?;
            let kept: Vec<&str> = text
                .lines()
                .filter(|line| {
                    let name = line.split_whitespace().next().unwrap_or("");
                    name.is_empty()
                        || name.starts_with('#')
                        || !dropped.iter().any(|d| shim.dir.join(d) == dir.join(name))
                })
                .collect();
            std::fs::write(&series, kept.join("\n") + "\n")
                .map_err(|e| format!("cannot write `{}`: {e}", series.display()))?;
        }
    }
    Ok(())
}

/// A patch's header (everything before its first diff) with `Applies-to`
/// set to the new version, followed by the freshly computed diff.
pub fn refresh(original: &[u8], diff: &str, name: &str, version: &str) -> String {
    let text = String::from_utf8_lossy(original);
    // The header ends where the first file's diff starts: its `diff`
    // command line (`diff --git`, `diff -ruN ...`), `Index:` or `---` line.
    // A patch that recorded no version keeps its header as it was.
    let mut header = String::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("diff --git ")
            || line.starts_with("diff -")
            || line.starts_with("--- ")
            || line.starts_with("Index: ")
        {
            break;
        }
        if line.starts_with("Applies-to:") {
            header.push_str(&format!("Applies-to: {name} {version}\n"));
        } else {
            header.push_str(line);
        }
    }
    header + diff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_keeps_the_header_and_updates_the_version() {
        let old = "Description: fix\nApplies-to: foo 1.0.0\n\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
        let new = refresh(old.as_bytes(), "diff --git a/x b/x\nNEW\n", "foo", "1.1.0");
        assert_eq!(
            new,
            "Description: fix\nApplies-to: foo 1.1.0\n\ndiff --git a/x b/x\nNEW\n"
        );
        // A `diff -ruN` command line is the diff's, not the header's.
        let old = "Fix it.\n\ndiff -ruN a/x b/x\n--- a/x\t2020-01-01\n+++ b/x\t2020-01-01\n@@ -1 +1 @@\n-a\n+b\n";
        let new = refresh(old.as_bytes(), "diff --git a/x b/x\nNEW\n", "foo", "1.1.0");
        assert_eq!(new, "Fix it.\n\ndiff --git a/x b/x\nNEW\n");
    }
}
