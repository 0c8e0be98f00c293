//! `cargo build-patch`: the command-line companion of the build-patch library.
//!
//! Cargo runs an external subcommand `cargo build-patch ARGS` as
//! `cargo-build-patch build-patch ARGS`, hence the outer `cargo` command with
//! one subcommand. Errors exit with status 101, like Cargo's.

mod apply;
mod check;
mod diff;
mod edit;
mod fetch;
mod shell;
mod shim;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use shell::Shell;

#[derive(Parser, Debug)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Patch Cargo dependencies with ordinary patch files.
    #[command(name = "build-patch", version, about, long_about = None)]
    BuildPatch(BuildPatch),
}

#[derive(Args, Debug)]
struct BuildPatch {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Apply patches to a directory, all or nothing, as `patch -p1 -d DIR` would.
    Apply(ApplyArgs),
    /// Write a shim crate for CRATE@VERSION with the given patches applied.
    New(NewArgs),
    /// Bring a shim's manifest and `src/lib.rs` back in line with the patched upstream.
    Sync(SyncArgs),
    /// Open an editable copy of a shim's upstream with its patches applied.
    Edit(EditArgs),
    /// Write the edits made since `edit` as a new patch of the shim.
    Save(SaveArgs),
    /// Check that shims build: patches apply, manifests in sync, recorded versions match.
    Check(CheckArgs),
    /// Move a shim to another upstream version, refreshing its patches.
    Upgrade(UpgradeArgs),
    /// Download the pristine source of every shim into Cargo's cache, for offline builds.
    Fetch,
}

#[derive(Args, Debug)]
struct EditArgs {
    /// The shim: its directory, or NAME or NAME@VERSION (package or upstream name, upstream version).
    shim: String,
    /// Throw away unsaved edits and start again.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct SaveArgs {
    /// The shim: its directory, or NAME or NAME@VERSION (package or upstream name, upstream version).
    shim: String,
    /// The patch's file name, without number or extension [default: from the message].
    #[arg(long)]
    name: Option<String>,
    /// What the patch does, recorded in its header.
    #[arg(long, short = 'm', value_name = "TEXT")]
    message: Option<String>,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Shims to check, each as for `edit` [default: every shim the workspace uses].
    shims: Vec<String>,
}

#[derive(Args, Debug)]
struct UpgradeArgs {
    /// The shim: its directory, or NAME or NAME@VERSION (package or upstream name, upstream version).
    shim: String,
    /// The exact upstream version to move to.
    version: String,
}

#[derive(Args, Debug)]
struct NewArgs {
    /// The upstream crate and its exact version, e.g. `shlex@1.1.0`.
    #[arg(value_name = "CRATE@VERSION")]
    spec: String,
    /// Where to write the shim [default: patched/CRATE in the workspace root].
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// A patch file, directory of patches or quilt series; repeat for more, in order.
    #[arg(long = "patch", value_name = "FILE")]
    pub patches: Vec<PathBuf>,
    /// Name the shim NAME (a renamed shim, for the workspace's own code) instead of
    /// the upstream's name (a graph-wide shim, for `[patch.crates-io]`).
    #[arg(long, value_name = "NAME")]
    rename: Option<String>,
    /// Depend on build-patch by path instead of by version (for developing build-patch).
    #[arg(long, value_name = "DIR", hide = true)]
    build_patch_path: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct SyncArgs {
    /// The shim's directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Leading path components to strip from names in the patches.
    #[arg(short = 'p', long = "strip", value_name = "N", default_value_t = 1)]
    pub strip: usize,
    /// Context lines a hunk may ignore when it does not match exactly.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fuzz: usize,
    /// Check that everything applies, without changing DIR.
    #[arg(long)]
    pub dry_run: bool,
    /// The directory to patch.
    dir: PathBuf,
    /// Patch files, directories of patches, or quilt `series` files, in order.
    #[arg(required = true, value_name = "PATCH")]
    patches: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let Cargo::BuildPatch(args) = Cargo::parse();
    let shell = Shell::new();
    let result = match args.command {
        Command::Apply(a) => apply::apply(&shell, &a),
        Command::New(a) => new(&shell, &a),
        Command::Sync(a) => shim::sync(&shell, &a.dir),
        Command::Edit(a) => cwd().and_then(|cwd| edit::edit(&shell, &cwd, &a.shim, a.force)),
        Command::Save(a) => cwd().and_then(|cwd| {
            edit::save(
                &shell,
                &cwd,
                &a.shim,
                a.name.as_deref(),
                a.message.as_deref(),
            )
        }),
        Command::Check(a) => cwd().and_then(|cwd| check::check(&shell, &cwd, &a.shims)),
        Command::Upgrade(a) => {
            cwd().and_then(|cwd| check::upgrade(&shell, &cwd, &a.shim, &a.version))
        }
        Command::Fetch => cwd().and_then(|cwd| fetch::fetch(&shell, &cwd)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            shell.error(&e);
            ExitCode::from(101)
        }
    }
}

fn cwd() -> Result<PathBuf, String> {
    std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))
}

fn new(shell: &Shell, args: &NewArgs) -> Result<(), String> {
    let (name, version) = args.spec.split_once('@').ok_or_else(|| {
        format!(
            "`{}` names no version\n  help: write the crate and its exact version, e.g. `shlex@1.1.0`",
            args.spec
        )
    })?;
    // By default under the workspace root, wherever in the workspace it runs.
    let dir = match &args.path {
        Some(p) => p.clone(),
        None => {
            let cwd = cwd()?;
            let root = shim::locate_manifest(&cwd, true);
            let base = root.as_deref().and_then(|m| m.parent()).unwrap_or(&cwd);
            PathBuf::from(shim::relative_path(&cwd, &base.join("patched").join(name)))
        }
    };
    shim::new(
        shell,
        &shim::NewShim {
            name,
            version,
            dir: &dir,
            patches: &args.patches,
            rename: args.rename.as_deref(),
            build_patch_path: args.build_patch_path.as_deref(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cargo::command().debug_assert();
    }
}
