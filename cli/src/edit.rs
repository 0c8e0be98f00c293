//! `edit` and `save`: making a patch is editing files.
//!
//! `edit` lays out, in the shim's own directory, `.build-patch-edit/`
//! (ignored by git through the `.gitignore` inside it, and never read by
//! Cargo or by the shim's build, which watch named files only):
//!
//! ```text
//! tree/   the upstream with the shim's patches applied: edit here. A git
//!         repository (when git is installed) whose commits are the pristine
//!         source and then each patch.
//! base/   the same tree as it was after the last patch: `save` diffs against it
//! ```
//!
//! One folder per shim, so two shims of one crate never share one, and
//! outside the target directory, so `cargo clean` keeps unsaved edits.
//!
//! `save` writes the difference between `base/` and `tree/` as a new patch,
//! adds it to the shim's list, updates the shim's manifest if `Cargo.toml`
//! changed, checks that the shim stages and that `cargo check` compiles it,
//! and only then moves `base/` forward. When any of that fails, every file
//! it wrote is put back as it was, and the tree is kept.

use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use build_patch::patch::{self, ApplyOptions};

use crate::diff::{copy_tree, diff_trees};
use crate::shell::Shell;
use crate::undo::Snapshot;
use crate::workspace::{PatchTarget, ShimInfo, Workspace, EDIT_DIR};

/// The edit folder of a shim.
pub fn edit_dir(shim: &ShimInfo) -> PathBuf {
    shim.dir.join(EDIT_DIR)
}

/// The shim's edit folder, emptied and ignored by git. Unsaved edits in it
/// are refused unless `discard` says to throw them away.
pub fn fresh_edit_dir(shim: &ShimInfo, discard: bool) -> Result<PathBuf> {
    let dir = edit_dir(shim);
    if !discard && has_unsaved_edits(&dir)? {
        return Err(anyhow!(
            "`{}` holds unsaved edits of `{}`, which this would throw away\n  nothing was \
             changed\n  help: save them (`cargo build-patch save {}`) or throw them away \
             (`cargo build-patch edit {} --force`), then run this again",
            dir.join("tree").display(),
            shim.name,
            shim.dir.display(),
            shim.dir.display()
        ));
    }
    if dir.exists() {
        crate::fs::remove_dir_all(&dir)?;
    }
    crate::fs::create_dir_all(&dir)?;
    let ignore = dir.join(".gitignore");
    crate::fs::write(
        &ignore,
        "# written by cargo build-patch: the edit folder is never committed\n*\n",
    )?;
    Ok(dir)
}

/// Where cargo-build-patch 0.1 kept a shim's edit folder, under the target
/// directory (which `cargo clean` deletes). It is no longer read.
fn old_edit_dir(ws: &Workspace, shim: &ShimInfo) -> Option<PathBuf> {
    let dir = ws
        .target_dir
        .join("build-patch")
        .join("edit")
        .join(&shim.name);
    dir.join("tree").is_dir().then_some(dir)
}

/// A line about an edit folder at the old place, if there is one.
fn old_edit_dir_note(ws: &Workspace, shim: &ShimInfo) -> Option<String> {
    old_edit_dir(ws, shim).map(|old| {
        format!(
            "`{}` is an edit tree left by an older cargo-build-patch, which kept them under the \
             target directory; it is no longer read: carry its changes over by hand \
             (`diff -r {} {}` shows them), then delete it",
            old.join("tree").display(),
            old.join("base").display(),
            old.join("tree").display()
        )
    })
}

pub fn edit(shell: &Shell, cwd: &Path, arg: &str, force: bool) -> Result<()> {
    let ws = Workspace::load(cwd)?;
    let shim = ShimInfo::read(&ws.find(cwd, arg)?)?;
    let arg = ws.arg_for(cwd, &shim);
    let dir = edit_dir(&shim);
    if dir.exists() {
        // An open tree whose edits are all saved is laid out again, so that
        // it follows the shim's patch list as it is now.
        if let (false, Some((patch, version))) = (force, read_upgrade_marker(&dir)) {
            return Err(anyhow!(
                "`{}` holds {} {version} for an upgrade, waiting for `{patch}` to be redone\n  \
                 help: redo it there and run `cargo build-patch save {arg}`; `--force` throws the \
                 upgrade's tree away and starts an edit",
                dir.join("tree").display(),
                shim.upstream,
            ));
        }
        if !force && has_unsaved_edits(&dir)? {
            return Err(anyhow!(
                "`{}` holds unsaved edits of `{}`\n  help: keep editing there, then \
                 `cargo build-patch save {arg}` writes them as a patch; `--force` throws them \
                 away and starts again",
                dir.join("tree").display(),
                shim.name,
            ));
        }
    }
    shell.status("Staging", &format!("{} {}", shim.upstream, shim.version));
    let patches = patch::load_patch_list(
        &shim.dir,
        &shim.patches.iter().map(PathBuf::from).collect::<Vec<_>>(),
    )
    .map_err(crate::opaque)?
    .0;
    // (Unsaved edits were refused above, unless `--force`.)
    let dir = fresh_edit_dir(&shim, true)?;
    let tree = dir.join("tree");
    lay_out(&shim, &tree, &patches, &shim.version)?;
    copy_tree(&tree, &dir.join("base"))?;
    shell.status(
        "Editing",
        &format!("{} {} in `{}`", shim.upstream, shim.version, tree.display()),
    );
    if let Some(note) = old_edit_dir_note(&ws, &shim) {
        shell.warn(&note);
    }
    shell.note(&format!(
        "edit the files there, then run `cargo build-patch save {arg} --message \"...\"`"
    ));
    Ok(())
}

/// The file in an edit folder that says it holds an upgrade's tree, stopped
/// at a patch to redo: the patch (as the shim lists it) and the version.
const UPGRADE_MARKER: &str = "upgrade";

/// Marks the edit folder `dir` as an upgrade to `version` stopped at `patch`.
pub fn write_upgrade_marker(dir: &Path, patch: &str, version: &str) -> Result<()> {
    let path = dir.join(UPGRADE_MARKER);
    crate::fs::write(&path, format!("{patch}\n{version}\n"))
}

fn read_upgrade_marker(dir: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(dir.join(UPGRADE_MARKER)).ok()?;
    let mut lines = text.lines();
    Some((lines.next()?.to_string(), lines.next()?.to_string()))
}

/// `save` after an upgrade stopped: the redone change replaces the diff of
/// the patch that stopped it (its header kept, its version updated), and
/// the upgrade's tree is dropped. The shim itself is not built: it is still
/// at its old version until the upgrade runs again. The patch is replaced
/// in one rename, so it is either the old one or the new one.
fn save_over(
    shell: &Shell,
    shim: &ShimInfo,
    arg: &str,
    dir: &Path,
    patch: &str,
    version: &str,
    diff: &str,
) -> Result<()> {
    let path = shim.dir.join(patch);
    let original = crate::fs::read(&path)?;
    let text = refresh(&original, diff, &shim.upstream, version);
    let folder = path.parent().unwrap_or(&shim.dir);
    let mut temp = tempfile::NamedTempFile::new_in(folder)
        .map_err(|e| anyhow!("cannot create a file in `{}`: {e}", folder.display()))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())
        .map_err(|e| anyhow!("cannot write `{}`: {e}", temp.path().display()))?;
    temp.persist(&path)
        .map_err(|e| anyhow!("cannot write `{}`: {e}", path.display()))?;
    crate::fs::remove_dir_all(dir)?;
    shell.status(
        "Redone",
        &format!("`{patch}` against {} {version}", shim.upstream),
    );
    shell.note(&format!(
        "run `cargo build-patch upgrade {arg} {version}` again"
    ));
    Ok(())
}

/// Makes `tree` a git repository with its content as the first commit
/// (when git is installed), so that `git diff` shows what is edited next.
pub fn commit_tree(tree: &Path, message: &str) {
    Git::init(tree).commit(tree, message);
}

/// Whether the edit folder `dir` has changes that `save` has not written.
pub fn has_unsaved_edits(dir: &Path) -> Result<bool> {
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
) -> Result<()> {
    let scratch = crate::fs::scratch_dir()?;
    let pristine = shim
        .config_with(scratch.path(), &[], version)
        .stage()
        .map_err(crate::opaque)?;
    copy_tree(pristine.staged_dir(), tree)?;
    let git = Git::init(tree);
    git.commit(tree, &format!("{} {} (pristine)", shim.upstream, version));
    let mut options = ApplyOptions::new();
    options
        .strip(shim.strip.unwrap_or(1))
        .fuzz(shim.fuzz.unwrap_or(0));
    for p in patches {
        patch::apply_to_dir(tree, std::slice::from_ref(p), &options).map_err(crate::opaque)?;
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
    provenance: &[(&str, Option<&str>)],
) -> Result<()> {
    let ws = Workspace::load(cwd)?;
    let shim = ShimInfo::read(&ws.find(cwd, arg)?)?;
    let arg = ws.arg_for(cwd, &shim);
    let dir = edit_dir(&shim);
    let (tree, base) = (dir.join("tree"), dir.join("base"));
    if !tree.is_dir() || !base.is_dir() {
        let mut text = format!(
            "no edits of `{}` to save (`{}` has none)",
            shim.name,
            tree.display()
        );
        if let Some(note) = old_edit_dir_note(&ws, &shim) {
            text.push_str(&format!("\n  note: {note}"));
        }
        text.push_str(&format!(
            "\n  help: run `cargo build-patch edit {arg}` first"
        ));
        return Err(anyhow!(text));
    }
    let diff = diff_trees(&base, &tree)?;
    if diff.is_empty() {
        return Err(anyhow!(
            "nothing changed in `{}` since the last patch\n  help: edit the files there first",
            tree.display()
        ));
    }
    if let Some((patch, version)) = read_upgrade_marker(&dir) {
        return save_over(shell, &shim, &arg, &dir, &patch, &version, &diff);
    }
    // `cargo check` compiles the shim in the workspace, so the workspace
    // must build it.
    let Some(spec) = ws.package_spec(&shim.dir).map(str::to_string) else {
        return Err(anyhow!(
            "the workspace does not build the shim in `{}` (the graph `cargo metadata` resolves \
             in `{}` does not use it: `cargo build-patch check` says why), so `save` cannot check that it compiles with the new patch\n  nothing \
             was changed; the edits are kept in `{}`\n  help: wire the shim into the workspace \
             (the lines `cargo build-patch new` printed), then run `cargo build-patch save \
             {arg}` again",
            shim.dir.display(),
            ws.root.display(),
            tree.display()
        ));
    };
    let message = message.unwrap_or("Changes made with cargo build-patch edit");
    // DEP-3 fields: what it does, where it went and came from, what for.
    let mut fields = format!("Description: {}\n", message.replace('\n', "\n "));
    for (field, value) in provenance {
        if let Some(value) = value {
            fields.push_str(&format!("{field}: {value}\n"));
        }
    }
    let text = format!(
        "{fields}Applies-to: {} {}\nGenerated-by: cargo build-patch save\n\n{diff}",
        shim.upstream, shim.version
    );

    // All or nothing: every file of the shim (and of the folder the patch
    // goes to) is put back as it was when any step fails.
    let target = PatchTarget::of(&shim);
    let mut snapshot = Snapshot::new();
    snapshot.tree(&shim.dir)?;
    snapshot.tree(&target.folder)?;
    let written = (|| {
        let (file, rel) = add_patch(&shim, &target, name.unwrap_or(&slug(message)), &text)?;
        // The shim mirrors the patched upstream's manifest, crate attributes
        // and build script: whatever the patch changed of them is synced.
        crate::shim::sync(shell, &shim.dir)
            .with_context(|| format!("the shim does not build with `{rel}`"))?;
        // The shim must stage with the new patch, as a build would...
        let scratch = crate::fs::scratch_dir()?;
        ShimInfo::read(&shim.dir)?
            .config(scratch.path())
            .try_build()
            .with_context(|| format!("the shim does not build with `{rel}`"))?;
        // ...and compile.
        shell.status("Checking", &format!("`{spec}` with `{rel}`"));
        cargo_check(&ws, &spec, &rel, &tree)?;
        Ok::<_, anyhow::Error>(file)
    })();
    let file = match written {
        Ok(file) => file,
        Err(e) => {
            let restored = snapshot.restore();
            return Err(match restored {
                Ok(()) => anyhow!(
                    "{e:#}\n  nothing was changed in `{}`; the edits are kept in `{}`\n  help: \
                     fix them there and run `cargo build-patch save {arg}` again",
                    shim.dir.display(),
                    tree.display()
                ),
                Err(r) => anyhow!("{e:#}\n  and putting the shim back failed: {r:#}"),
            });
        }
    };

    let git = Git::open(&tree);
    git.commit(&tree, message);
    crate::fs::remove_dir_all(&base)?;
    copy_tree(&tree, &base)?;
    let files = diff
        .lines()
        .filter(|l| l.starts_with("diff --git "))
        .count();
    let shown = crate::fs::relative_path(cwd, &file);
    shell.status("Saved", &format!("`{shown}` ({files} file(s))"));
    Ok(())
}

/// `cargo check -p SPEC` in the workspace: the shim compiles with the new
/// patch. On failure, the first lines of what Cargo and rustc said.
fn cargo_check(ws: &Workspace, spec: &str, rel: &str, tree: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = ws.root.join("Cargo.toml");
    let out = Command::new(&cargo)
        .args(["check", "--quiet", "-p", spec, "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .map_err(|e| {
            anyhow!(
                "cannot run `{} check`: {e}\n  help: set `CARGO` to the cargo binary",
                Path::new(&cargo).display()
            )
        })?;
    if out.status.success() {
        return Ok(());
    }
    const SHOWN: usize = 40;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("error"))
        .unwrap_or(0);
    let mut said = String::new();
    for line in lines.iter().skip(start).take(SHOWN) {
        said.push_str("    ");
        said.push_str(line);
        said.push('\n');
    }
    if lines.len() > start + SHOWN {
        said.push_str(&format!(
            "    ... ({} more lines)\n",
            lines.len() - start - SHOWN
        ));
    }
    Err(anyhow!(
        "`{spec}` does not compile with `{rel}`: `cargo check -p {spec} --manifest-path {}` \
         failed\n  cargo said:\n{said}  note: rustc names the file in the staged copy \
         (`…/out/build-patch/NAME-VERSION/…`); the same path in `{}` is the one to fix",
        manifest.display(),
        tree.display()
    ))
}

/// Writes a patch next to the shim's others and lists it (see
/// [`PatchTarget`]). Returns the file and its path relative to the shim.
fn add_patch(
    shim: &ShimInfo,
    target: &PatchTarget,
    name: &str,
    text: &str,
) -> Result<(PathBuf, String)> {
    let folder = &target.folder;
    crate::fs::create_dir_all(folder)?;
    let count = std::fs::read_dir(folder)
        .map_err(|e| anyhow!("cannot read `{}`: {e}", folder.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".patch") || n.ends_with(".diff")
        })
        .count();
    let file_name = format!("{:04}-{name}.patch", count + 1);
    let file = folder.join(&file_name);
    crate::fs::write(&file, text)?;
    target.list(shim, &file)?;
    let rel = crate::fs::relative_path(&shim.dir, &file);
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

/// A patch's header (everything before its first diff) with `Applies-to`
/// set to the new version, followed by the freshly computed diff.
pub fn refresh(original: &[u8], diff: &str, name: &str, version: &str) -> String {
    // A patch that recorded no version keeps its header as it was.
    let header = String::from_utf8_lossy(&original[..patch::header::header_len(original)]);
    let mut out = String::new();
    for line in header.split_inclusive('\n') {
        if line.starts_with("Applies-to:") {
            out.push_str(&format!("Applies-to: {name} {version}\n"));
        } else {
            out.push_str(line);
        }
    }
    out + diff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for (message, want) in [
            ("Fix the parser!", "fix-the-parser"),
            ("!!!", "edit"),
            ("a b c d e f g h", "a-b-c-d-e-f"),
        ] {
            assert_eq!(slug(message), want, "{message}");
        }
    }

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
