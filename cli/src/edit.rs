//! `edit` and `save`: making a patch is editing files.
//!
//! `edit` lays out, under the workspace's target directory,
//! `build-patch/edit/<shim>/`:
//!
//! ```text
//! tree/   the upstream with the shim's patches applied: edit here. A git
//!         repository (when git is installed) whose commits are the pristine
//!         source and then each patch.
//! base/   the same tree as it was after the last patch: `save` diffs against it
//! ```
//!
//! `save` writes the difference between `base/` and `tree/` as a new patch,
//! adds it to the shim's list, updates the shim's manifest if `Cargo.toml`
//! changed, checks that the shim stages, and moves `base/` forward.

use std::path::{Path, PathBuf};
use std::process::Command;

use build_patch::patch::{self, ApplyOptions};
use toml_edit::{value, Array, Item};

use crate::diff::{copy_tree, diff_trees};
use crate::shell::Shell;
use crate::workspace::{read_doc, ShimInfo, Workspace};

/// The edit folder of a shim.
pub fn edit_dir(ws: &Workspace, shim: &ShimInfo) -> PathBuf {
    ws.target_dir
        .join("build-patch")
        .join("edit")
        .join(&shim.name)
}

pub fn edit(shell: &Shell, cwd: &Path, arg: &str, force: bool) -> Result<(), String> {
    let ws = Workspace::load(cwd)?;
    let shim = ShimInfo::read(&ws.find(cwd, arg)?)?;
    let dir = edit_dir(&ws, &shim);
    if dir.exists() {
        // An open tree whose edits are all saved is laid out again, so that
        // it follows the shim's patch list as it is now.
        if let (false, Some((patch, version))) = (force, read_upgrade_marker(&dir)) {
            return Err(format!(
                "`{}` holds {} {version} for an upgrade, waiting for `{patch}` to be redone\n  \
                 help: redo it there and run `cargo build-patch save {}`; `--force` throws the \
                 upgrade's tree away and starts an edit",
                dir.join("tree").display(),
                shim.upstream,
                shim.name
            ));
        }
        if !force && has_unsaved_edits(&dir)? {
            return Err(format!(
                "`{}` holds unsaved edits of `{}`\n  help: keep editing there, then \
                 `cargo build-patch save {}` writes them as a patch; `--force` throws them \
                 away and starts again",
                dir.join("tree").display(),
                shim.name,
                shim.name
            ));
        }
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot remove `{}`: {e}", dir.display()))?;
    }
    shell.status("Staging", &format!("{} {}", shim.upstream, shim.version));
    let patches = patch::load_patch_list(
        &shim.dir,
        &shim.patches.iter().map(PathBuf::from).collect::<Vec<_>>(),
    )
    .map_err(|e| e.to_string())?
    .0;
    let tree = dir.join("tree");
    lay_out(&shim, &tree, &patches, &shim.version)?;
    copy_tree(&tree, &dir.join("base"))?;
    shell.status(
        "Editing",
        &format!("{} {} in `{}`", shim.upstream, shim.version, tree.display()),
    );
    shell.note(&format!(
        "edit the files there, then run `cargo build-patch save {} --message \"...\"`",
        shim.name
    ));
    Ok(())
}

/// The file in an edit folder that says it holds an upgrade's tree, stopped
/// at a patch to redo: the patch (as the shim lists it) and the version.
const UPGRADE_MARKER: &str = "upgrade";

/// Marks the edit folder `dir` as an upgrade to `version` stopped at `patch`.
pub fn write_upgrade_marker(dir: &Path, patch: &str, version: &str) -> Result<(), String> {
    let path = dir.join(UPGRADE_MARKER);
    std::fs::write(&path, format!("{patch}\n{version}\n"))
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

fn read_upgrade_marker(dir: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(dir.join(UPGRADE_MARKER)).ok()?;
    let mut lines = text.lines();
    Some((lines.next()?.to_string(), lines.next()?.to_string()))
}

/// `save` after an upgrade stopped: the redone change replaces the diff of
/// the patch that stopped it (its header kept, its version updated), and
/// the upgrade's tree is dropped. The shim itself is not built: it is still
/// at its old version until the upgrade runs again.
fn save_over(
    shell: &Shell,
    shim: &ShimInfo,
    dir: &Path,
    patch: &str,
    version: &str,
    diff: &str,
) -> Result<(), String> {
    let path = shim.dir.join(patch);
    let original =
        std::fs::read(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let text = crate::check::refresh(&original, diff, &shim.upstream, version);
    std::fs::write(&path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    std::fs::remove_dir_all(dir).map_err(|e| format!("cannot remove `{}`: {e}", dir.display()))?;
    shell.status(
        "Redone",
        &format!("`{patch}` against {} {version}", shim.upstream),
    );
    shell.note(&format!(
        "run `cargo build-patch upgrade {} {version}` again",
        shim.name
    ));
    Ok(())
}

/// Makes `tree` a git repository with its content as the first commit
/// (when git is installed), so that `git diff` shows what is edited next.
pub fn commit_tree(tree: &Path, message: &str) {
    Git::init(tree).commit(tree, message);
}

/// Whether the edit folder `dir` has changes that `save` has not written.
fn has_unsaved_edits(dir: &Path) -> Result<bool, String> {
    let (tree, base) = (dir.join("tree"), dir.join("base"));
    if !tree.is_dir() {
        return Ok(false);
    }
    // Without its base a tree cannot be compared: keep it.
    Ok(!base.is_dir() || !diff_trees(&base, &tree)?.is_empty())
}

/// Stages the pristine `version` into `tree` and applies `patches` one at a
/// time, committing each to git when git is there.
pub fn lay_out(
    shim: &ShimInfo,
    tree: &Path,
    patches: &[patch::PatchFile],
    version: &str,
) -> Result<(), String> {
    let scratch =
        tempfile::tempdir().map_err(|e| format!("cannot create a scratch folder: {e}"))?;
    let pristine = shim
        .config_with(scratch.path(), &[], version)
        .stage()
        .map_err(|e| e.to_string())?;
    copy_tree(pristine.staged_dir(), tree)?;
    let git = Git::init(tree);
    git.commit(tree, &format!("{} {} (pristine)", shim.upstream, version));
    let mut options = ApplyOptions::new();
    options
        .strip(shim.strip.unwrap_or(1))
        .fuzz(shim.fuzz.unwrap_or(0));
    for p in patches {
        patch::apply_to_dir(tree, std::slice::from_ref(p), &options).map_err(|e| e.to_string())?;
        git.commit(tree, &p.display);
    }
    Ok(())
}

pub fn save(
    shell: &Shell,
    cwd: &Path,
    arg: &str,
    name: Option<&str>,
    message: Option<&str>,
) -> Result<(), String> {
    let ws = Workspace::load(cwd)?;
    let shim = ShimInfo::read(&ws.find(cwd, arg)?)?;
    let dir = edit_dir(&ws, &shim);
    let (tree, base) = (dir.join("tree"), dir.join("base"));
    if !tree.is_dir() || !base.is_dir() {
        return Err(format!(
            "no edits of `{}` to save\n  help: run `cargo build-patch edit {}` first",
            shim.name, shim.name
        ));
    }
    let diff = diff_trees(&base, &tree)?;
    if diff.is_empty() {
        return Err(format!(
            "nothing changed in `{}` since the last patch\n  help: edit the files there first",
            tree.display()
        ));
    }
    if let Some((patch, version)) = read_upgrade_marker(&dir) {
        return save_over(shell, &shim, &dir, &patch, &version, &diff);
    }
    let message = message.unwrap_or("Changes made with cargo build-patch edit");
    let text = format!(
        "Description: {}\nApplies-to: {} {}\nGenerated-by: cargo build-patch save\n\n{diff}",
        message.replace('\n', "\n "),
        shim.upstream,
        shim.version
    );

    let (file, rel) = add_patch(&shim, name.unwrap_or(&slug(message)), &text)?;
    let git = Git::open(&tree);
    git.commit(&tree, message);
    std::fs::remove_dir_all(&base)
        .map_err(|e| format!("cannot remove `{}`: {e}", base.display()))?;
    copy_tree(&tree, &base)?;
    let files = diff
        .lines()
        .filter(|l| l.starts_with("diff --git "))
        .count();
    let shown = crate::shim::relative_path(cwd, &file);
    shell.status("Saved", &format!("`{shown}` ({files} file(s))"));

    if diff.contains("diff --git a/Cargo.toml b/Cargo.toml") {
        crate::shim::sync(shell, &shim.dir)?;
    }
    // The shim must stage with the new patch, as a build would.
    let scratch =
        tempfile::tempdir().map_err(|e| format!("cannot create a scratch folder: {e}"))?;
    ShimInfo::read(&shim.dir)?
        .config(scratch.path())
        .try_build()
        .map_err(|e| format!("the shim does not build with `{rel}`: {e}"))?;
    Ok(())
}

/// Writes a patch next to the shim's others and lists it: into the series
/// or directory the shim's list names, else into `patches/` beside the
/// shim's manifest and into `patches = [...]`. Returns the file and its path
/// relative to the shim.
fn add_patch(shim: &ShimInfo, name: &str, text: &str) -> Result<(PathBuf, String), String> {
    let listed: Vec<PathBuf> = shim.patches.iter().map(|p| shim.dir.join(p)).collect();
    let (folder, series) = match listed.last() {
        Some(last) if last.is_dir() => {
            let series = last.join("series");
            (last.clone(), series.is_file().then_some(series))
        }
        Some(last) if last.file_name().is_some_and(|n| n == "series") => (
            last.parent().unwrap_or(&shim.dir).to_path_buf(),
            Some(last.clone()),
        ),
        _ => (shim.dir.join("patches"), None),
    };
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create `{}`: {e}", folder.display()))?;
    let count = std::fs::read_dir(&folder)
        .map_err(|e| format!("cannot read `{}`: {e}", folder.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".patch") || n.ends_with(".diff")
        })
        .count();
    let file_name = format!("{:04}-{name}.patch", count + 1);
    let file = folder.join(&file_name);
    std::fs::write(&file, text).map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
    let rel = crate::shim::relative_path(&shim.dir, &file);

    if let Some(series) = series {
        let mut s = std::fs::read_to_string(&series)
            .map_err(|e| format!("cannot read `{}`: {e}", series.display()))?;
        if !s.is_empty() && !s.ends_with('\n') {
            s.push('\n');
        }
        s.push_str(&file_name);
        s.push('\n');
        std::fs::write(&series, s)
            .map_err(|e| format!("cannot write `{}`: {e}", series.display()))?;
    } else if !listed.last().is_some_and(|l| l.is_dir()) {
        // A plain list: append the new file.
        let manifest_path = shim.dir.join("Cargo.toml");
        let mut doc = read_doc(&manifest_path)?;
        let meta = doc["package"]["metadata"]["build-patch"]
            .as_table_like_mut()
            .ok_or_else(|| format!("`{}` has no build-patch table", manifest_path.display()))?;
        let mut list = match meta.get("patches") {
            Some(Item::Value(toml_edit::Value::Array(a))) => a.clone(),
            Some(Item::Value(toml_edit::Value::String(s))) => {
                let mut a = Array::new();
                a.push(s.value().as_str());
                a
            }
            _ => Array::new(),
        };
        list.push(rel.as_str());
        meta.insert("patches", value(list));
        std::fs::write(&manifest_path, doc.to_string())
            .map_err(|e| format!("cannot write `{}`: {e}", manifest_path.display()))?;
    }
    Ok((file, rel))
}

/// A file-name-friendly form of a message: `Fix the parser!` → `fix-the-parser`.
fn slug(message: &str) -> String {
    let words: Vec<String> = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.is_empty() {
        "edit".to_string()
    } else {
        words.join("-")
    }
}

/// The edit folder's git repository, when git is installed: a record of
/// the pristine source and each patch, for the person editing. build-patch
/// itself never reads it.
struct Git {
    enabled: bool,
}

impl Git {
    fn init(tree: &Path) -> Git {
        let enabled = run_git(tree, &["init", "-q"]);
        Git { enabled }
    }

    fn open(tree: &Path) -> Git {
        Git {
            enabled: tree.join(".git").is_dir(),
        }
    }

    fn commit(&self, tree: &Path, message: &str) {
        if self.enabled {
            run_git(tree, &["add", "-A"]);
            run_git(
                tree,
                &[
                    "commit",
                    "-q",
                    "--allow-empty",
                    "--no-verify",
                    "-m",
                    message,
                ],
            );
        }
    }
}

fn run_git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args([
            "-c",
            "user.name=build-patch",
            "-c",
            "user.email=build-patch@localhost",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Fix the parser!"), "fix-the-parser");
        assert_eq!(slug("!!!"), "edit");
        assert_eq!(slug("a b c d e f g h"), "a-b-c-d-e-f");
    }
}
