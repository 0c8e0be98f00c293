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
mod fs;
mod graph;
mod outdated;
mod require;
mod shell;
mod shim;
mod undo;
mod unify;
mod upgrade;
mod wire;
mod workspace;

use anyhow::{anyhow, Result};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use fs::current_dir as cwd;
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
    /// Make the graph hold one semver series of CRATE, patching the requirements of its dependents.
    Unify(UnifyArgs),
    /// Show newer releases of each shim's crate and what each patch does against them.
    ///
    /// Exits with 1 when something can be dropped or moved: a patch the release has
    /// already, or a newer release every patch applies to.
    Outdated(OutdatedArgs),
}

#[derive(Args, Debug)]
struct OutdatedArgs {
    /// Shims to look at [default: every shim the workspace wires].
    shims: Vec<String>,
    /// Use only what Cargo has already downloaded.
    #[arg(long)]
    offline: bool,
    /// How to print the result.
    #[arg(long, value_enum, default_value = "table")]
    format: outdated::Format,
}

#[derive(Args, Debug)]
struct UnifyArgs {
    /// The shared crate and the series to unify on, e.g. `vmm-sys-util@0.11`
    /// [default series: the highest a caret requirement in the graph names].
    #[arg(value_name = "CRATE[@VERSION]")]
    spec: String,
    /// Print the patches and what would change, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Depend on build-patch by path instead of by version (for developing build-patch).
    #[arg(long, value_name = "DIR", hide = true)]
    build_patch_path: Option<PathBuf>,
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
    /// Where the change was sent upstream (a pull request), recorded as `Forwarded:`.
    #[arg(long, value_name = "URL")]
    forwarded: Option<String>,
    /// The bug the patch fixes, recorded as `Bug:`.
    #[arg(long, value_name = "URL")]
    bug: Option<String>,
    /// Where the change comes from (an upstream commit), recorded as `Origin:`.
    #[arg(long, value_name = "URL")]
    origin: Option<String>,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Shims to check, each as for `edit` [default: every shim the workspace wires].
    shims: Vec<String>,
    /// Also fail on a patch whose header does not say what it does (`Description:`), on
    /// unsaved edits, and on an unpatched copy of the crate beside a shim.
    #[arg(long)]
    strict: bool,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("to").required(true).args(["version", "compatible", "latest", "rev", "tag", "branch"]))]
struct UpgradeArgs {
    /// The shim: its directory, or NAME or NAME@VERSION (package or upstream name, upstream version).
    shim: String,
    /// The exact upstream version to move to.
    version: Option<String>,
    /// Move to the newest release the graph's requirements admit.
    #[arg(long)]
    compatible: bool,
    /// Move to the newest release.
    #[arg(long)]
    latest: bool,
    /// For a shim of a git repository: move to this commit (at the version it holds).
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// For a shim of a git repository: move to this tag.
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// For a shim of a git repository: move to this branch.
    #[arg(long, value_name = "BRANCH")]
    branch: Option<String>,
}

#[derive(Args, Debug)]
struct NewArgs {
    /// The upstream crate and its exact version, e.g. `shlex@1.1.0` [default version: the one in `Cargo.lock`].
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
    /// Also write a patch making the crate require REQ of its dependency DEP
    /// (e.g. `vmm-sys-util=0.11`); repeat for more.
    #[arg(long = "require", value_name = "DEP=REQ", value_parser = parse_require)]
    requires: Vec<(String, String)>,
    /// Take the crate from this git repository (as a Cargo git dependency), not crates.io
    /// [default: the source the workspace's graph takes it from].
    #[arg(long, value_name = "URL", conflicts_with = "registry")]
    git: Option<String>,
    /// With `--git`: the commit.
    #[arg(long, value_name = "REV", requires = "git", conflicts_with_all = ["tag", "branch"])]
    rev: Option<String>,
    /// With `--git`: the tag.
    #[arg(long, value_name = "TAG", requires = "git", conflicts_with = "branch")]
    tag: Option<String>,
    /// With `--git`: the branch (the build patches the commit `Cargo.lock` records for it).
    #[arg(long, value_name = "BRANCH", requires = "git")]
    branch: Option<String>,
    /// Take the crate from this alternative registry (a `[registries.NAME]` of the Cargo config).
    #[arg(long, value_name = "NAME")]
    registry: Option<String>,
    /// Do not add the wiring to the workspace's manifests: only print it.
    #[arg(long)]
    no_wire: bool,
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
    // The one command whose success has two answers: 0 nothing to do, 1
    // something can be dropped or moved.
    if let Command::Outdated(a) = &args.command {
        let found =
            cwd().and_then(|cwd| outdated::outdated(&shell, &cwd, &a.shims, a.offline, a.format));
        return match found {
            Ok(found) => ExitCode::from(u8::from(found)),
            Err(e) => {
                shell.error(&message(&e));
                ExitCode::from(101)
            }
        };
    }
    let result = match args.command {
        Command::Outdated(_) => unreachable!("handled above"),
        Command::Apply(a) => apply::apply(&shell, &a),
        Command::New(a) => new(&shell, &a),
        Command::Sync(a) => shim::sync(&shell, &a.dir),
        Command::Edit(a) => cwd().and_then(|cwd| edit::edit(&shell, &cwd, &a.shim, a.force)),
        Command::Save(a) => cwd().and_then(|cwd| {
            let provenance = [
                ("Forwarded", a.forwarded.as_deref()),
                ("Bug", a.bug.as_deref()),
                ("Origin", a.origin.as_deref()),
            ];
            edit::save(
                &shell,
                &cwd,
                &a.shim,
                a.name.as_deref(),
                a.message.as_deref(),
                &provenance,
            )
        }),
        Command::Check(a) => cwd().and_then(|cwd| check::check(&shell, &cwd, &a.shims, a.strict)),
        Command::Upgrade(a) => {
            let git = [("rev", &a.rev), ("tag", &a.tag), ("branch", &a.branch)]
                .into_iter()
                .find_map(|(k, v)| v.as_deref().map(|v| (k, v)));
            let target = match (&a.version, a.latest, git) {
                (_, _, Some((key, reference))) => upgrade::Target::Git(key, reference),
                (Some(v), _, _) => upgrade::Target::Exact(v),
                (None, true, _) => upgrade::Target::Latest,
                (None, false, _) => upgrade::Target::Compatible,
            };
            cwd().and_then(|cwd| upgrade::upgrade(&shell, &cwd, &a.shim, target))
        }
        Command::Fetch => cwd().and_then(|cwd| fetch::fetch(&shell, &cwd)),
        Command::Unify(a) => cwd().and_then(|cwd| {
            unify::unify(
                &shell,
                &cwd,
                &unify::Request {
                    spec: &a.spec,
                    dry_run: a.dry_run,
                    build_patch_path: a.build_patch_path.as_deref(),
                },
            )
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            shell.error(&message(&e));
            ExitCode::from(101)
        }
    }
}

/// A foreign error (the library's, cargo_metadata's, ...) as the CLI's
/// error, printed by its own text alone: its `source()` chain is part of
/// that text already, and printing it again would repeat it. It can still
/// be downcast (`downcast_ref::<Opaque<E>>()`) to act on its kind.
#[derive(Debug)]
pub struct Opaque<E>(pub E);

impl<E: std::fmt::Display> std::fmt::Display for Opaque<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for Opaque<E> {}

/// `e` as the CLI's error, by its text alone (see [`Opaque`]).
pub fn opaque<E>(e: E) -> anyhow::Error
where
    E: std::fmt::Debug + std::fmt::Display + Send + Sync + 'static,
{
    anyhow::Error::new(Opaque(e))
}

/// The text of an error as the user sees it: each context, then the error
/// it wraps, joined by `: `.
pub fn message(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

fn new(shell: &Shell, args: &NewArgs) -> Result<()> {
    let (name, version) = match args.spec.split_once('@') {
        Some((name, version)) => (name, version.to_string()),
        None => (args.spec.as_str(), locked_version(shell, &args.spec)?),
    };
    let version = version.as_str();
    // By default under the workspace root, wherever in the workspace it runs.
    let dir = match &args.path {
        Some(p) => p.clone(),
        None => {
            let cwd = cwd()?;
            let root = workspace::locate_manifest(&cwd, true);
            let base = root.as_deref().and_then(|m| m.parent()).unwrap_or(&cwd);
            // A second shim of the crate goes beside the first.
            let mut dir = base.join("patched").join(name);
            if dir.join("Cargo.toml").exists() {
                dir = base.join("patched").join(format!("{name}-{version}"));
            }
            PathBuf::from(fs::relative_path(&cwd, &dir))
        }
    };
    let from = match (&args.git, &args.registry) {
        (Some(url), _) => workspace::Upstream::Git {
            url: url.clone(),
            reference: [
                ("rev", &args.rev),
                ("tag", &args.tag),
                ("branch", &args.branch),
            ]
            .into_iter()
            .find_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.clone()))),
        },
        (None, Some(r)) if r == "crates-io" => workspace::Upstream::CratesIo,
        (None, Some(r)) => workspace::Upstream::Registry(r.clone()),
        (None, None) => graph_source(shell, name, version)?,
    };
    shim::new(
        shell,
        &shim::NewShim {
            name,
            version,
            from: &from,
            dir: &dir,
            patches: &args.patches,
            rename: args.rename.as_deref(),
            build_patch_path: args.build_patch_path.as_deref(),
            wire: !args.no_wire,
            requires: &args.requires,
            graph_warnings: true,
        },
    )
}

/// `DEP=REQ` of `--require`.
///
/// A clap value parser: its error is the plain message clap prints.
fn parse_require(text: &str) -> std::result::Result<(String, String), String> {
    let (dep, req) = text
        .split_once('=')
        .filter(|(d, r)| !d.is_empty() && !r.is_empty())
        .ok_or_else(|| format!("`{text}` is not DEP=REQ, e.g. `vmm-sys-util=0.11`"))?;
    cargo_metadata::semver::VersionReq::parse(req)
        .map_err(|e| format!("`{req}` is not a version requirement: {e}"))?;
    Ok((dep.to_string(), req.to_string()))
}

/// Where the workspace's graph takes `name version` from, for `new`
/// without `--git` or `--registry`: crates.io unless the graph has it from
/// one git repository or alternative registry, or a shim of it wired there
/// does (said, since it changes the shim). No workspace, or no such
/// package: crates.io.
fn graph_source(shell: &Shell, name: &str, version: &str) -> Result<workspace::Upstream> {
    let Ok(ws) = cwd().and_then(|cwd| workspace::Workspace::load(&cwd)) else {
        return Ok(workspace::Upstream::CratesIo);
    };
    let cwd = cwd()?;
    let mut found: Vec<workspace::Upstream> = Vec::new();
    for p in &ws.metadata.packages {
        if p.source.is_none() || p.name.as_str() != name || p.version.to_string() != version {
            continue;
        }
        let from = workspace::Upstream::of_package(p, &cwd)?;
        if !found.contains(&from) {
            found.push(from);
        }
    }
    // A shim of it already stands in for the graph's copy: its source.
    for w in &ws.wired {
        let Ok(shim) = workspace::ShimInfo::read(&w.dir) else {
            continue;
        };
        if shim.upstream == name && shim.version == version && !found.contains(&shim.from) {
            found.push(shim.from);
        }
    }
    match found.as_slice() {
        [] | [workspace::Upstream::CratesIo] => Ok(workspace::Upstream::CratesIo),
        [one] => {
            shell.status(
                "Using",
                &format!(
                    "{name} {version}{}, the source in `Cargo.lock`",
                    one.describe()
                ),
            );
            Ok(one.clone())
        }
        many => Err(anyhow!(
            "the workspace's graph has `{name} {version}` from {} sources: {}\n  help: say which \
             one the shim patches: `--git URL` (with `--rev`, `--tag` or `--branch`) or \
             `--registry NAME` (`--registry crates-io` for crates.io's)",
            many.len(),
            many.iter()
                .map(|u| match u {
                    workspace::Upstream::CratesIo => "crates.io".to_string(),
                    other => other.describe().trim_start_matches(" from ").to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The one version of `name` the workspace's graph holds (from a registry or
/// git), for `new NAME` without a version.
fn locked_version(shell: &Shell, name: &str) -> Result<String> {
    let help = "help: write the crate and its exact version, e.g. `shlex@1.1.0`";
    let ws = cwd().and_then(|cwd| workspace::Workspace::load(&cwd)).map_err(|e| {
        anyhow!("`{name}` names no version, and there is no workspace to take it from: {e:#}\n  {help}")
    })?;
    let mut versions: Vec<String> = ws
        .metadata
        .packages
        .iter()
        .filter(|p| p.name.as_str() == name && p.source.is_some())
        .map(|p| p.version.to_string())
        .collect();
    versions.sort();
    versions.dedup();
    match versions.as_slice() {
        [one] => {
            shell.status(
                "Using",
                &format!("{name} {one}, the version in `Cargo.lock`"),
            );
            Ok(one.clone())
        }
        [] => {
            // A graph-wide shim already wired: the graph has only that one.
            let local: Vec<String> = ws
                .metadata
                .packages
                .iter()
                .filter(|p| p.name.as_str() == name)
                .filter_map(|p| p.manifest_path.parent())
                .map(|dir| format!("`{dir}`"))
                .collect();
            if local.is_empty() {
                Err(anyhow!(
                    "`{name}` names no version, and the workspace's graph has no `{name}` to take it from\n  {help}"
                ))
            } else {
                Err(anyhow!(
                    "`{name}` names no version, and the workspace's graph takes `{name}` only from \
                     {} (a path package, such as a shim wired in already), not from a registry \
                     or git\n  {help}",
                    local.join(", ")
                ))
            }
        }
        many => Err(anyhow!(
            "`{name}` names no version, and the workspace's graph has {} of them: {}\n  help: name \
             one, e.g. `{name}@{}`",
            many.len(),
            many.join(", "),
            many[0]
        )),
    }
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
