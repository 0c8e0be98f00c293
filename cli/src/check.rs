//! `check`: keeping patches from rotting.
//!
//! `check` stages every shim as its build would (patches apply, manifest and
//! crate attributes in sync) and compares the version each patch records
//! with the shim's. Moving a shim to another version is `upgrade`'s
//! (`upgrade.rs`).

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

use build_patch::patch;
use build_patch::recorded_version;

use crate::shell::Shell;
use crate::workspace::{ShimInfo, Workspace};

pub fn check(shell: &Shell, cwd: &Path, args: &[String], strict: bool) -> Result<()> {
    let ws = Workspace::load(cwd)?;
    let dirs: Vec<PathBuf> = if args.is_empty() {
        ws.shims.clone()
    } else {
        args.iter()
            .map(|a| ws.find(cwd, a).map(|d| crate::workspace::canonical(&d)))
            .collect::<Result<_, _>>()?
    };
    // Wiring that patches nothing, outside the shims checked below.
    let problems = crate::graph::workspace_problems(&ws);
    for p in &problems {
        shell.error(p);
    }
    if dirs.is_empty() && !problems.is_empty() {
        return Err(anyhow!(
            "{} problem(s) with the workspace's `[patch]`",
            problems.len()
        ));
    }
    if dirs.is_empty() {
        return Err(anyhow!(
            "this workspace wires no build-patch shim (no `[patch]` entry or dependency names \
             one)\n  help: name shim directories, or run from the workspace that uses them"
        ));
    }
    let findings = crate::graph::findings(&ws.metadata, &ws.wired);
    let mut failed = 0;
    for dir in &dirs {
        let mut reasons = check_one(dir, strict);
        if !strict {
            if let Ok(shim) = ShimInfo::read(dir) {
                let edits = crate::edit::edit_dir(&shim);
                if crate::edit::has_unsaved_edits(&edits).unwrap_or(false) {
                    shell.warn(&format!(
                        "`{}` holds edits not saved as a patch: no build has them (`--strict` \
                         makes this an error)",
                        edits.join("tree").display()
                    ));
                }
            }
        }
        let label = match crate::fs::relative_path(cwd, dir) {
            rel if rel.is_empty() => ".".to_string(),
            rel => rel,
        };
        // Wired where check does not read wiring (`.cargo/config.toml`) but
        // in the graph all the same: used.
        let in_graph = crate::workspace::depended_on(&ws.metadata, dir);
        if !in_graph && !ws.wired.iter().any(|w| w.dir == *dir) {
            reasons.push(
                "no `[patch]` entry or dependency of this workspace names this shim, so no build \
                 uses it\n  help: `cargo build-patch new` prints the wiring; a graph-wide shim \
                 goes under `[patch.crates-io]` of the workspace root's `Cargo.toml`"
                    .to_string(),
            );
        }
        for f in findings.iter().filter(|f| f.dir == *dir) {
            // `--strict` (for CI): an unpatched copy of the crate beside the
            // shim fails too; a security fix often concerns every series.
            if f.error || strict {
                reasons.push(f.text.clone());
            } else {
                shell.warn(&format!("shim `{label}`: {}", f.text));
            }
        }
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
        return Err(anyhow!(
            "{failed} of {} shim(s) failed the check",
            dirs.len()
        ));
    }
    if !problems.is_empty() {
        return Err(anyhow!(
            "{} problem(s) with the workspace's `[patch]`",
            problems.len()
        ));
    }
    Ok(())
}

/// Every reason the shim in `dir` would not build as it is.
fn check_one(dir: &Path, strict: bool) -> Vec<String> {
    let shim = match ShimInfo::read(dir) {
        Ok(s) => s,
        Err(e) => return vec![crate::message(&e)],
    };
    if let Some(e) = shim.settings_in_code() {
        return vec![e];
    }
    let mut reasons = Vec::new();
    let expected = format!("{} {}", shim.upstream, shim.version);
    // Edits made with `edit` are in no build until `save` writes them.
    if strict && crate::edit::has_unsaved_edits(&crate::edit::edit_dir(&shim)).unwrap_or(false) {
        reasons.push(format!(
            "`{}` holds edits that are not saved as a patch: no build has them\n  help: `cargo \
             build-patch save` writes them, or `cargo build-patch edit --force` throws them away",
            crate::edit::edit_dir(&shim).join("tree").display()
        ));
    }
    match patch::load_patch_list(
        &shim.dir,
        &shim.patches.iter().map(PathBuf::from).collect::<Vec<_>>(),
    ) {
        Ok((files, _)) => {
            if files.is_empty() {
                reasons.push(format!(
                    "the shim lists no patch, so its build compiles the pristine `{expected}`\n  \
                     help: make one (`cargo build-patch edit`, then `save`), list the patch files \
                     in `patches`, or remove the shim"
                ));
            }
            for f in files {
                let described = ["Description", "Subject"]
                    .iter()
                    .any(|k| patch::header::field(&f.bytes, k).is_some_and(|d| !d.is_empty()));
                if strict && !described {
                    reasons.push(format!(
                        "`{}` says nothing of what it does or why (no `Description:` or \
                         `Subject:` in its header)\n  help: add a `Description:` line above its \
                         first diff (DEP-3); `cargo build-patch save -m TEXT` writes one",
                        f.display
                    ));
                }
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
