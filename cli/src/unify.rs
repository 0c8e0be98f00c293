//! `unify CRATE[@VERSION]`: one copy of a shared crate across the graph.
//!
//! When dependents say `>=0.8`, `*` or an old `^0.10` of a crate others
//! require as `^0.11`, Cargo builds two semver-incompatible copies, and
//! code passing a type from one dependent to another fails with E0308. For
//! every registry dependent whose requirement lets Cargo pick another
//! series, `unify` writes a requirement patch (a real `Cargo.toml` diff
//! with a DEP-3 header) into the workspace's `patches/`, a graph-wide shim
//! for the dependent (or adds the patch to its shim), and the wiring; then
//! it resolves again, prints what changed, and checks that the workspace
//! compiles.

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

use cargo_metadata::semver::{Version, VersionReq};
use cargo_metadata::{DependencyKind, Metadata, Package, PackageId};

use crate::fs::relative_path;
use crate::require::{above_series, keeps_to_series, patch_file_name, requirement_patch};
use crate::shell::Shell;
use crate::workspace::{ShimInfo, Workspace};

/// What `unify` was asked for.
pub struct Request<'a> {
    pub spec: &'a str,
    pub dry_run: bool,
    /// Depend on build-patch by this path in new shims (tests).
    pub build_patch_path: Option<&'a Path>,
}

/// One dependent to patch: the package, the requirements it has, and the
/// shim it has already (a graph-wide one), if any.
struct Dependent<'m> {
    package: &'m Package,
    old: Vec<String>,
    shim: Option<ShimInfo>,
    /// It asks for a later series only: the patch moves it back.
    later: bool,
}

pub fn unify(shell: &Shell, cwd: &Path, req: &Request<'_>) -> Result<()> {
    let ws = Workspace::load(cwd)?;
    let root = ws.metadata.workspace_root.as_std_path().to_path_buf();
    let (name, wanted) = match req.spec.split_once('@') {
        Some((n, v)) => (n, v.to_string()),
        None => (req.spec, highest_caret(&ws.metadata, req.spec)?),
    };
    let series = VersionReq::parse(&format!("^{wanted}")).map_err(|e| {
        anyhow!("`{wanted}` is not a version\n  help: write it as in a requirement, e.g. `{name}@0.11`: {e}")
    })?;
    let target = lowest(&wanted)?;
    let before = versions_in_graph(&ws.metadata, name);
    if before.is_empty() {
        return Err(anyhow!(
            "nothing in the workspace's graph depends on `{name}`\n  help: check the name (`cargo tree -i {name}`)"
        ));
    }

    // Who lets Cargo pick another series.
    let mut dependents: Vec<Dependent> = Vec::new();
    let mut members: Vec<String> = Vec::new();
    for p in &ws.metadata.packages {
        if !crate::graph::depends_in_resolve(&ws.metadata, p, name) {
            // Not in the graph, or an optional dependency on `name` that
            // no feature turns on: Cargo builds no copy of it for `p`.
            continue;
        }
        let member = ws.metadata.workspace_members.contains(&p.id);
        let reqs: Vec<&VersionReq> = p
            .dependencies
            .iter()
            .filter(|d| d.name == name && d.path.is_none() && d.kind != DependencyKind::Development)
            .map(|d| &d.req)
            .filter(|r| !keeps_to_series(r, &target))
            .collect();
        if reqs.is_empty() {
            continue;
        }
        let old: Vec<String> = reqs.iter().map(|r| r.to_string()).collect();
        let later = reqs.iter().any(|r| above_series(r, &target));
        // The user's own code (a member, or a path package that is not a
        // shim) is reported, not patched.
        let shim = if member { None } else { shim_of(&ws, p) };
        if member || (p.source.is_none() && shim.is_none()) {
            members.push(format!(
                "`{} {}`{} requires `{name} = \"{}\"` in `{}`: edit it to `\"{wanted}\"`",
                p.name,
                p.version,
                if member { "" } else { " (a path package)" },
                old.join(", "),
                relative_path(cwd, p.manifest_path.as_std_path())
            ));
            continue;
        }
        dependents.push(Dependent {
            package: p,
            old,
            shim,
            later,
        });
    }

    // The patches, computed before anything is written.
    let why =
        format!("So that the graph holds one {name} (`cargo build-patch unify {name}@{wanted}`).");
    let mut planned: Vec<(&Dependent, String, PathBuf)> = Vec::new();
    for d in &dependents {
        let manifest = current_manifest(d)?;
        let version = d.package.version.to_string();
        let Some(text) =
            requirement_patch(&d.package.name, &version, &manifest, name, &wanted, &why)?
        else {
            continue;
        };
        let file =
            root.join("patches")
                .join(patch_file_name(&d.package.name, &version, name, &wanted));
        planned.push((d, text, file));
    }

    shell.status(
        "Unifying",
        &format!("{name} on `{wanted}` ({} in the graph now)", list(&before)),
    );
    for (d, _, _) in &planned {
        shell.status(
            "Patch",
            &format!(
                "{} {}: `{name} = \"{}\"` → `\"{wanted}\"`{}{}",
                d.package.name,
                d.package.version,
                d.old.join(", "),
                if d.shim.is_some() {
                    " (added to its shim)"
                } else {
                    ""
                },
                if d.later {
                    " (back from the later series it asks for: its code may need that one)"
                } else {
                    ""
                }
            ),
        );
    }
    for m in &members {
        shell.warn(&format!("not patched, a workspace package: {m}"));
    }
    if req.dry_run {
        for (_, text, file) in &planned {
            println!("# {}\n{text}", relative_path(cwd, file));
        }
        shell.note("--dry-run: nothing was written");
        return Ok(());
    }
    if planned.is_empty() {
        shell.status(
            "Fresh",
            &format!("no dependent to patch for {name} `{wanted}`"),
        );
    }

    // All or nothing: a shim that cannot be written or wired puts back
    // every file written before it, so that a rerun starts clean.
    let undo = Undo::record(&root, &planned)?;
    let mut shims = Vec::new();
    let written = (|| {
        for (d, text, file) in &planned {
            write_patch(file, text)?;
            match &d.shim {
                Some(shim) => {
                    add_to_shim(shim, file)?;
                    // Named from the current directory, as `new` names its shims.
                    crate::shim::sync(shell, Path::new(&relative_path(cwd, &shim.dir)))?;
                    shims.push(shim.dir.clone());
                }
                None => shims.push(new_shim(
                    shell,
                    cwd,
                    &root,
                    d.package,
                    file,
                    req.build_patch_path,
                )?),
            }
        }
        // What the graph holds now, and what it says of the shims once all
        // are in (while they were written one by one, a version the next
        // one stands for still looked unpatched).
        let after_ws = Workspace::load(cwd)?;
        let mut warnings = Vec::new();
        for dir in &shims {
            warnings.extend(crate::graph::verify(&after_ws, dir)?);
        }
        Ok::<_, anyhow::Error>((after_ws, warnings))
    })();
    let after_ws = match written {
        Ok((after_ws, warnings)) => {
            for w in warnings {
                shell.warn(&w);
            }
            after_ws
        }
        Err(e) => {
            return Err(match undo.put_back() {
                Ok(()) => anyhow!(
                    "{e:#}\n  note: `unify` changed nothing: it put back every file it had written"
                ),
                Err(u) => anyhow!("{e:#}\n  and could not put back what it had written: {u:#}"),
            })
        }
    };
    let after = versions_in_graph(&after_ws.metadata, name);
    print_table(&ws.metadata, &after_ws.metadata, name, &planned);
    println!(
        "{name} in the graph: before {}; after {}",
        list(&before),
        list(&after)
    );
    if after.len() > 1 {
        let mut why = Vec::new();
        for v in &after {
            if series.matches(v) {
                continue;
            }
            for (p, r) in users_of(&after_ws.metadata, name, v) {
                let member = after_ws.metadata.workspace_members.contains(&p.id);
                why.push(format!(
                    "`{} {}` keeps {name} {v} (`{name} = \"{r}\"`{})",
                    p.name,
                    p.version,
                    if member {
                        ", a workspace member: edit its requirement"
                    } else {
                        ""
                    }
                ));
            }
        }
        return Err(anyhow!(
            "the graph still holds {} versions of `{name}`: {}\n  {}",
            after.len(),
            list(&after),
            why.join("\n  ")
        ));
    }
    if !planned.is_empty() {
        check_compiles(shell, &root)?;
    }
    Ok(())
}

/// The highest version required by a caret requirement on `name` in the
/// graph (`^0.11` → `0.11`, as written without the caret).
fn highest_caret(metadata: &Metadata, name: &str) -> Result<String> {
    let mut best: Option<(Version, String)> = None;
    for p in &metadata.packages {
        if !crate::graph::depends_in_resolve(metadata, p, name) {
            continue;
        }
        for d in p.dependencies.iter().filter(|d| d.name == name) {
            let [c] = d.req.comparators.as_slice() else {
                continue;
            };
            if c.op != cargo_metadata::semver::Op::Caret {
                continue;
            }
            let v = Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
            let text = match (c.minor, c.patch) {
                (Some(mi), Some(pa)) => format!("{}.{mi}.{pa}", c.major),
                (Some(mi), None) => format!("{}.{mi}", c.major),
                _ => c.major.to_string(),
            };
            if best.as_ref().is_none_or(|(b, _)| v > *b) {
                best = Some((v, text));
            }
        }
    }
    best.map(|(_, t)| t).ok_or_else(|| {
        anyhow!(
            "no caret requirement on `{name}` in the graph to unify on\n  help: name the version: `cargo build-patch unify {name}@VERSION`"
        )
    })
}

/// `0.11` → 0.11.0: the lowest version a requirement written so admits.
fn lowest(wanted: &str) -> Result<Version> {
    let mut parts: Vec<&str> = wanted.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    Version::parse(&parts.join(".")).map_err(|e| anyhow!("`{wanted}` is not a version: {e}"))
}

/// The versions of `name` in the resolved graph, lowest first.
fn versions_in_graph(metadata: &Metadata, name: &str) -> Vec<Version> {
    let Some(resolve) = &metadata.resolve else {
        return Vec::new();
    };
    let mut out: Vec<Version> = metadata
        .packages
        .iter()
        .filter(|p| p.name.as_str() == name && resolve.nodes.iter().any(|n| n.id == p.id))
        .filter(|p| depended_on(metadata, &p.id))
        .map(|p| p.version.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn depended_on(metadata: &Metadata, id: &PackageId) -> bool {
    metadata
        .resolve
        .as_ref()
        .is_some_and(|r| r.nodes.iter().any(|n| n.deps.iter().any(|d| d.pkg == *id)))
}

/// The packages whose resolved dependency on `name` is version `v`, with
/// their requirement.
fn users_of<'m>(metadata: &'m Metadata, name: &str, v: &Version) -> Vec<(&'m Package, String)> {
    let Some(resolve) = &metadata.resolve else {
        return Vec::new();
    };
    let ids: Vec<&PackageId> = metadata
        .packages
        .iter()
        .filter(|p| p.name.as_str() == name && p.version == *v)
        .map(|p| &p.id)
        .collect();
    let mut out = Vec::new();
    for n in &resolve.nodes {
        if !n.deps.iter().any(|d| ids.contains(&&d.pkg)) {
            continue;
        }
        let Some(p) = metadata.packages.iter().find(|p| p.id == n.id) else {
            continue;
        };
        let req = p
            .dependencies
            .iter()
            .find(|d| d.name == name && d.req.matches(v))
            .map(|d| d.req.to_string())
            .unwrap_or_default();
        out.push((p, req));
    }
    out
}

/// The graph-wide shim that stands for `p`, if the workspace has one.
fn shim_of(ws: &Workspace, p: &Package) -> Option<ShimInfo> {
    if p.source.is_some() {
        return None;
    }
    let dir = crate::workspace::canonical(p.manifest_path.parent()?.as_std_path());
    ws.wired
        .iter()
        .find(|w| w.dir == dir)
        .and_then(|w| ShimInfo::read(&w.dir).ok())
        .filter(ShimInfo::graph_wide)
}

/// The `Cargo.toml` the next patch of `d` applies to: the registry copy's,
/// or, for a shim, the patched upstream's as the shim stages it.
fn current_manifest(d: &Dependent) -> Result<String> {
    match &d.shim {
        None => {
            let path = d.package.manifest_path.as_std_path();
            crate::fs::read_to_string(path)
        }
        Some(shim) => {
            let scratch = crate::fs::scratch_dir()?;
            let out = shim.config(scratch.path()).stage().map_err(crate::opaque)?;
            let path = out.staged_dir().join("Cargo.toml");
            crate::fs::read_to_string(&path)
        }
    }
}

/// What the write of `planned` may change, recorded: the root manifest and
/// lock, the patch files, the shims that get a patch added (and the quilt
/// series they name); and the folders `patched/` holds now and whether
/// `patches/` exists, so that what is created can go.
struct Undo {
    snapshot: crate::undo::Snapshot,
    root: PathBuf,
    shims_before: Vec<PathBuf>,
    patched_existed: bool,
    patches_existed: bool,
}

impl Undo {
    fn record(root: &Path, planned: &[(&Dependent, String, PathBuf)]) -> Result<Undo> {
        let mut snapshot = crate::undo::Snapshot::new();
        snapshot.file(&root.join("Cargo.toml"))?;
        snapshot.file(&root.join("Cargo.lock"))?;
        for (d, _, file) in planned {
            snapshot.file(file)?;
            if let Some(shim) = &d.shim {
                snapshot.tree(&shim.dir)?;
                if let Some(last) = shim.patches.last().map(|l| shim.dir.join(l)) {
                    snapshot.file(&if last.is_dir() {
                        last.join("series")
                    } else {
                        last
                    })?;
                }
            }
        }
        Ok(Undo {
            snapshot,
            root: root.to_path_buf(),
            shims_before: dirs_in(&root.join("patched")),
            patched_existed: root.join("patched").exists(),
            patches_existed: root.join("patches").exists(),
        })
    }

    /// Puts back what was recorded and removes the shim folders (and the
    /// `patches/` folder) created since.
    fn put_back(&self) -> Result<()> {
        for dir in dirs_in(&self.root.join("patched")) {
            if !self.shims_before.contains(&dir) {
                crate::fs::remove_dir_all(&dir)?;
            }
        }
        self.snapshot.restore()?;
        // Empty once what was created is gone; left if anything else is in.
        if !self.patches_existed {
            let _ = std::fs::remove_dir(self.root.join("patches"));
        }
        if !self.patched_existed {
            let _ = std::fs::remove_dir(self.root.join("patched"));
        }
        Ok(())
    }
}

fn dirs_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

use crate::fs::write_creating as write_patch;

/// Appends `file` to the patch list of `shim` (its `patches` array, or the
/// quilt series it names last).
fn add_to_shim(shim: &ShimInfo, file: &Path) -> Result<()> {
    if shim.patches.iter().any(|p| {
        crate::workspace::canonical(&shim.dir.join(p)) == crate::workspace::canonical(file)
    }) {
        return Ok(());
    }
    crate::workspace::PatchTarget::of(shim).list(shim, file)
}

/// A graph-wide shim of `p` with the requirement patch `file`, wired; its
/// directory.
fn new_shim(
    shell: &Shell,
    cwd: &Path,
    root: &Path,
    p: &Package,
    file: &Path,
    build_patch_path: Option<&Path>,
) -> Result<PathBuf> {
    let version = p.version.to_string();
    let mut dir = root.join("patched").join(p.name.as_str());
    if dir.join("Cargo.toml").exists() {
        dir = root.join("patched").join(format!("{}-{version}", p.name));
    }
    let dir = PathBuf::from(relative_path(cwd, &dir));
    let patches = [PathBuf::from(relative_path(cwd, file))];
    let from = crate::workspace::Upstream::of_package(p, cwd)?;
    crate::shim::new(
        shell,
        &crate::shim::NewShim {
            name: &p.name,
            version: &version,
            from: &from,
            dir: &dir,
            patches: &patches,
            rename: None,
            build_patch_path,
            wire: true,
            requires: &[],
            graph_warnings: false,
        },
    )?;
    Ok(cwd.join(dir))
}

/// Each patched dependent, its requirement before and after, and the
/// version of `name` it resolved to before and after.
fn print_table(
    before: &Metadata,
    after: &Metadata,
    name: &str,
    planned: &[(&Dependent, String, PathBuf)],
) {
    if planned.is_empty() {
        return;
    }
    let resolved = |m: &Metadata, pkg: &str, version: &Version| -> String {
        let Some(resolve) = &m.resolve else {
            return "?".into();
        };
        let Some(p) = m
            .packages
            .iter()
            .find(|p| p.name.as_str() == pkg && p.version == *version)
        else {
            return "?".into();
        };
        let Some(node) = resolve.nodes.iter().find(|n| n.id == p.id) else {
            return "?".into();
        };
        node.deps
            .iter()
            .filter_map(|d| m.packages.iter().find(|q| q.id == d.pkg))
            .filter(|q| q.name.as_str() == name)
            .map(|q| q.version.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows: Vec<[String; 5]> = planned
        .iter()
        .map(|(d, _, _)| {
            let (pkg, v) = (d.package.name.as_str(), &d.package.version);
            let new_req = after
                .packages
                .iter()
                .find(|p| p.name.as_str() == pkg && p.version == *v)
                .and_then(|p| p.dependencies.iter().find(|x| x.name == name))
                .map(|x| x.req.to_string())
                .unwrap_or_else(|| "?".into());
            [
                format!("{pkg} {v}"),
                d.old.join(", "),
                new_req,
                resolved(before, pkg, v),
                resolved(after, pkg, v),
            ]
        })
        .collect();
    let head = [
        "dependent",
        "requirement before",
        "after",
        &format!("{name} before"),
        "after",
    ];
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(head);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
}

fn list(versions: &[Version]) -> String {
    if versions.is_empty() {
        return "none".into();
    }
    versions
        .iter()
        .map(Version::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `cargo check --workspace` of the unified graph; on failure, the first
/// error of each crate that does not compile.
fn check_compiles(shell: &Shell, root: &Path) -> Result<()> {
    shell.status("Checking", "the workspace compiles with the unified graph");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["check", "--workspace", "--message-format", "json"])
        .current_dir(root)
        .output()
        .map_err(|e| anyhow!("cannot run `cargo check`: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let mut firsts: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = first_error(line) else {
            continue;
        };
        if !firsts.iter().any(|(p, _)| *p == msg.0) {
            firsts.push(msg);
        }
    }
    let detail = if firsts.is_empty() {
        String::from_utf8_lossy(&out.stderr).trim_end().to_string()
    } else {
        firsts
            .iter()
            .map(|(p, m)| format!("`{p}`: {m}"))
            .collect::<Vec<_>>()
            .join("\n  ")
    };
    Err(anyhow!(
        "the graph is unified, but the workspace does not compile against it:\n  {detail}\n  \
         help: a dependent whose code needs another version of the shared crate needs a code \
         patch too (`cargo build-patch edit` its shim), or leave it out of the unification"
    ))
}

/// `NAME VERSION` of a package id, as `cargo tree` names it: a graph may
/// build two versions of one dependent, and only one may fail.
/// (`path+file:///…#name@1.0.0`, `registry+…#name@1.0.0`, or the older
/// `name 1.0.0 (source)`.)
fn package_of(id: &str) -> String {
    match id.rsplit_once('#') {
        Some((source, spec)) => match spec.split_once('@') {
            Some((name, version)) => format!("{name} {version}"),
            // `…/name#1.0.0`: the name is the source's last segment.
            None => {
                let name = source.rsplit('/').next().unwrap_or(source);
                format!("{name} {spec}")
            }
        },
        None => id.split(" (").next().unwrap_or(id).to_string(),
    }
}

/// The package and first line of an error of one `cargo check
/// --message-format json` line.
fn first_error(line: &str) -> Result<(String, String), ()> {
    let msg = cargo_metadata::Message::parse_stream(line.as_bytes())
        .next()
        .ok_or(())?
        .map_err(|_| ())?;
    match msg {
        cargo_metadata::Message::CompilerMessage(m)
            if m.message.level == cargo_metadata::diagnostic::DiagnosticLevel::Error =>
        {
            let build_script = m
                .target
                .kind
                .iter()
                .any(|k| k.to_string() == "custom-build");
            let mut text = if build_script {
                format!("its build script: {}", m.message.message)
            } else {
                m.message.message.clone()
            };
            if let Some(span) = m.message.spans.iter().find(|s| s.is_primary) {
                text.push_str(&format!(" (`{}:{}`)", span.file_name, span.line_start));
            }
            Ok((package_of(&m.package_id.repr), text))
        }
        _ => Err(()),
    }
}
