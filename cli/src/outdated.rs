//! `outdated`: for each shim, the newest release its graph's requirements
//! admit and the newest overall, and what each patch does against each: it
//! applies as is, applies with hunks moved, is already upstream, or
//! conflicts. The question patch-package and Debian users ask most: which
//! patches can go, and which can move to a new release as they are.

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

use build_patch::patch::{self, ApplyOptions, PatchFile};
use cargo_metadata::semver::{Version, VersionReq};
use cargo_metadata::DependencyKind;

use crate::diff::copy_tree;
use crate::shell::Shell;
use crate::workspace::{ShimInfo, Upstream, Workspace};

/// What one patch does against one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every hunk applies where it says.
    Applies,
    /// Every hunk applies, some at an offset: the largest, in lines.
    Moved(usize),
    /// The release has the change already (the patch reverses cleanly).
    Upstream,
    /// A hunk does not apply.
    Conflicts,
    /// Not tried: an earlier patch did not apply, so its result is unknown.
    Skipped,
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Applies => "applies".into(),
            Outcome::Moved(n) => format!("applies, moved {n} line(s)"),
            Outcome::Upstream => "upstream has it".into(),
            Outcome::Conflicts => "conflicts".into(),
            Outcome::Skipped => "not tried".into(),
        }
    }

    fn key(&self) -> &'static str {
        match self {
            Outcome::Applies => "applies",
            Outcome::Moved(_) => "moved",
            Outcome::Upstream => "upstream",
            Outcome::Conflicts => "conflicts",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One shim's report.
pub struct Report {
    pub shim: ShimInfo,
    /// The newest release the graph's requirements admit, and the newest.
    pub compatible: Option<Version>,
    pub latest: Option<Version>,
    /// Each patch with its header fields and its outcome per release
    /// (compatible, then latest, when newer than the shim).
    pub patches: Vec<PatchReport>,
}

pub struct PatchReport {
    pub file: PatchFile,
    pub fields: Vec<(String, String)>,
    pub outcomes: Vec<(Version, Outcome)>,
}

impl Report {
    /// The releases newer than the shim's that were tried.
    pub fn targets(&self) -> Vec<Version> {
        let current = Version::parse(&self.shim.version).ok();
        let mut out: Vec<Version> = [&self.compatible, &self.latest]
            .into_iter()
            .flatten()
            .filter(|v| current.as_ref().is_none_or(|c| *v > c))
            .cloned()
            .collect();
        out.dedup();
        out
    }

    /// Whether something can be dropped or moved: a patch upstream has, or
    /// a newer release where every patch applies.
    pub fn actionable(&self) -> bool {
        let dropped = self
            .patches
            .iter()
            .any(|p| p.outcomes.iter().any(|(_, o)| *o == Outcome::Upstream));
        let movable = self.targets().iter().any(|v| {
            self.patches.iter().all(|p| {
                p.outcomes.iter().any(|(w, o)| {
                    w == v && matches!(o, Outcome::Applies | Outcome::Moved(_) | Outcome::Upstream)
                })
            })
        });
        dropped || movable
    }
}

/// How to print the reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `outdated`: returns whether anything can be dropped or moved.
pub fn outdated(
    shell: &Shell,
    cwd: &Path,
    args: &[String],
    offline: bool,
    format: Format,
) -> Result<bool> {
    let ws = Workspace::load(cwd)?;
    let dirs: Vec<PathBuf> = if args.is_empty() {
        ws.shims.clone()
    } else {
        args.iter()
            .map(|a| ws.find(cwd, a))
            .collect::<Result<_, _>>()?
    };
    if dirs.is_empty() {
        return Err(anyhow!("this workspace wires no build-patch shim"));
    }
    let mut reports = Vec::new();
    for dir in &dirs {
        let shim = ShimInfo::read(dir)?;
        if let Upstream::Git { .. } = shim.from {
            shell.note(&format!(
                "`{}` patches {} {}{}, which has no releases to compare: `cargo build-patch \
                 upgrade {} --rev REV` (or `--tag TAG`) moves it to another commit",
                ws.arg_for(cwd, &shim),
                shim.upstream,
                shim.version,
                shim.from.describe(),
                ws.arg_for(cwd, &shim)
            ));
            continue;
        }
        shell.status(
            "Looking",
            &format!(
                "for releases of {} newer than {}",
                shim.upstream, shim.version
            ),
        );
        reports.push(report(&ws, shim, offline)?);
    }
    match format {
        Format::Table => print_table(cwd, &reports),
        Format::Json => println!("{}", json(cwd, &reports)),
    }
    Ok(reports.iter().any(Report::actionable))
}

/// The releases of a shim's crate and what its patches do against them.
pub fn report(ws: &Workspace, shim: ShimInfo, offline: bool) -> Result<Report> {
    let reqs = graph_requirements(ws, &shim);
    let compatible = newest(ws, &shim, &reqs, offline)?;
    let latest = newest(ws, &shim, "*", offline)?;
    let (files, _) = patch::load_patch_list(
        &shim.dir,
        &shim.patches.iter().map(PathBuf::from).collect::<Vec<_>>(),
    )
    .map_err(crate::opaque)?;
    let mut report = Report {
        shim,
        compatible,
        latest,
        patches: files
            .into_iter()
            .map(|f| PatchReport {
                fields: patch::header::fields(&f.bytes),
                file: f,
                outcomes: Vec::new(),
            })
            .collect(),
    };
    for v in report.targets() {
        let outcomes = try_patches(&report.shim, &v, &report.patches)?;
        for (p, o) in report.patches.iter_mut().zip(outcomes) {
            p.outcomes.push((v.clone(), o));
        }
    }
    Ok(report)
}

/// The newest release of the shim's crate: the newest the graph's
/// requirements admit, or (`latest`) the newest of all.
pub fn newest_release(ws: &Workspace, shim: &ShimInfo, latest: bool) -> Result<Option<String>> {
    let req = if latest {
        "*".to_string()
    } else {
        graph_requirements(ws, shim)
    };
    Ok(newest(ws, shim, &req, false)?.map(|v| v.to_string()))
}

/// The requirements the graph puts on the shim's crate, as one
/// requirement (comma-joined); for a renamed shim, the caret of its
/// version.
fn graph_requirements(ws: &Workspace, shim: &ShimInfo) -> String {
    let mut reqs: Vec<String> = Vec::new();
    // Only the requirements the shim meets now: the others belong to another
    // series of the crate (another shim's, or the registry's copy).
    let current = Version::parse(&shim.version).ok();
    let meets = |r: &VersionReq| current.as_ref().is_none_or(|v| r.matches(v));
    if shim.graph_wide() {
        for p in &ws.metadata.packages {
            let member = ws.metadata.workspace_members.contains(&p.id);
            for d in &p.dependencies {
                let from_its_source = shim.from == Upstream::CratesIo
                    || crate::workspace::patches_source(
                        shim.from.patch_table(),
                        d.source.as_ref().map(|s| s.repr.as_str()),
                        ws.root.as_path(),
                    );
                if d.name == shim.upstream
                    && d.path.is_none()
                    && from_its_source
                    && (d.kind != DependencyKind::Development || member)
                    && meets(&d.req)
                {
                    reqs.push(d.req.to_string());
                }
            }
        }
    }
    if reqs.is_empty() {
        reqs.push(format!("^{}", shim.version));
    }
    reqs.sort();
    reqs.dedup();
    reqs.join(", ")
}

/// The newest version of the shim's crate that `req` admits, from the
/// shim's registry (crates.io or an alternative one; a git shim has no
/// releases: `None`).
fn newest(ws: &Workspace, shim: &ShimInfo, req: &str, offline: bool) -> Result<Option<Version>> {
    VersionReq::parse(req).map_err(|e| anyhow!("`{req}` is not a requirement: {e}"))?;
    let dependency = match &shim.from {
        Upstream::CratesIo => format!("{req:?}"),
        Upstream::Registry(r) => format!("{{ version = {req:?}, registry = {r:?} }}"),
        Upstream::Git { .. } => return Ok(None),
    };
    resolve_version(ws, &shim.upstream, &dependency, offline)
}

/// The version of `name` Cargo resolves for the dependency `dependency`
/// (an inline TOML value: `"^1.2"`, `{ git = "…", tag = "v2" }`) in a
/// scratch workspace under the target directory (from the workspace root,
/// so its Cargo configuration applies: source replacement, vendoring);
/// `None` when nothing matches.
pub fn resolve_version(
    ws: &Workspace,
    name: &str,
    dependency: &str,
    offline: bool,
) -> Result<Option<Version>> {
    let scratch = ws.target_dir.join("build-patch").join("resolve").join(name);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("src"))
        .map_err(|e| anyhow!("cannot create `{}`: {e}", scratch.display()))?;
    let manifest = scratch.join("Cargo.toml");
    std::fs::write(
        &manifest,
        format!(
            "[package]\nname = \"build-patch-resolve\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\n{name:?} = {dependency}\n\n[workspace]\n"
        ),
    )
    .and_then(|()| std::fs::write(scratch.join("src/lib.rs"), ""))
    .map_err(|e| anyhow!("cannot write `{}`: {e}", manifest.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.arg("generate-lockfile")
        .arg("--manifest-path")
        .arg(&manifest)
        .current_dir(ws.metadata.workspace_root.as_std_path());
    if offline {
        cmd.arg("--offline");
    }
    let out = cmd
        .output()
        .map_err(|e| anyhow!("cannot run `cargo generate-lockfile`: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("failed to select a version") || err.contains("no matching package") {
            return Ok(None);
        }
        return Err(anyhow!(
            "cannot find the releases of `{name}`: {}{}",
            err.trim_end(),
            if offline {
                "\n  help: without `--offline`, Cargo updates its index"
            } else {
                ""
            }
        ));
    }
    let lock = std::fs::read_to_string(scratch.join("Cargo.lock"))
        .map_err(|e| anyhow!("cannot read the scratch lock file: {e}"))?;
    let doc: toml_edit::DocumentMut = lock
        .parse()
        .map_err(|e| anyhow!("cannot parse the scratch lock file: {e}"))?;
    let version = doc
        .get("package")
        .and_then(|p| p.as_array_of_tables())
        .and_then(|a| {
            a.iter()
                .find(|t| t.get("name").and_then(|n| n.as_str()) == Some(name))
        })
        .and_then(|t| t.get("version").and_then(|v| v.as_str()))
        .and_then(|v| Version::parse(v).ok());
    Ok(version)
}

/// Applies the patches one by one to the pristine `version` and says what
/// each did.
fn try_patches(
    shim: &ShimInfo,
    version: &Version,
    patches: &[PatchReport],
) -> Result<Vec<Outcome>> {
    let scratch = crate::fs::scratch_dir()?;
    let staged = shim
        .config_with(&scratch.path().join("out"), &[], &version.to_string())
        .stage()
        .map_err(crate::opaque)?;
    let tree = scratch.path().join("tree");
    copy_tree(staged.staged_dir(), &tree)?;
    let mut options = ApplyOptions::new();
    options
        .strip(shim.strip.unwrap_or(1))
        .fuzz(shim.fuzz.unwrap_or(0));
    let mut out = Vec::new();
    let mut broken = false;
    for p in patches {
        if broken {
            out.push(Outcome::Skipped);
            continue;
        }
        if applied_upstream(&p.file, &version.to_string()).is_some() {
            out.push(Outcome::Upstream);
            continue;
        }
        out.push(
            match patch::apply_to_dir(&tree, std::slice::from_ref(&p.file), &options) {
                Ok(applied) => {
                    let moved = applied
                        .patches()
                        .iter()
                        .flat_map(|r| r.hunks())
                        .map(|h| h.offset().unsigned_abs())
                        .max()
                        .unwrap_or(0);
                    if moved == 0 {
                        Outcome::Applies
                    } else {
                        Outcome::Moved(moved)
                    }
                }
                Err(e) if e.kind() == patch::PatchErrorKind::AlreadyApplied => Outcome::Upstream,
                Err(_) => {
                    broken = true;
                    Outcome::Conflicts
                }
            },
        );
    }
    Ok(out)
}

/// The `Applied-Upstream: VERSION` of a patch's header, when `version` is
/// that release or a later one: the patch is upstream's now.
pub fn applied_upstream(f: &PatchFile, version: &str) -> Option<String> {
    let since = patch::header::field(&f.bytes, "Applied-Upstream")?;
    // DEP-3: `Applied-Upstream: 1.2.3, https://…` (or a commit, which
    // says nothing about releases).
    let first = since
        .split(|c: char| c.is_whitespace() || c == ',')
        .find(|t| !t.is_empty())?;
    let (since_v, target) = (Version::parse(first).ok()?, Version::parse(version).ok()?);
    (target >= since_v).then(|| first.to_string())
}

fn print_table(cwd: &Path, reports: &[Report]) {
    for r in reports {
        let v = |v: &Option<Version>| v.as_ref().map_or("none".to_string(), Version::to_string);
        println!(
            "{} ({} {}): newest compatible {}, newest {}",
            crate::fs::relative_path(cwd, &r.shim.dir),
            r.shim.upstream,
            r.shim.version,
            v(&r.compatible),
            v(&r.latest)
        );
        let targets = r.targets();
        if targets.is_empty() {
            println!("  up to date");
            continue;
        }
        let mut rows: Vec<Vec<String>> = vec![std::iter::once("patch".to_string())
            .chain(targets.iter().map(Version::to_string))
            .collect()];
        for p in &r.patches {
            let mut row = vec![p.file.display.clone()];
            for t in &targets {
                let o = p
                    .outcomes
                    .iter()
                    .find(|(v, _)| v == t)
                    .map(|(_, o)| o.label());
                row.push(o.unwrap_or_default());
            }
            rows.push(row);
        }
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            println!("  {}", cells.join("  ").trim_end());
        }
        for p in &r.patches {
            for key in ["Forwarded", "Bug", "Origin", "Applied-Upstream"] {
                if let Some((_, v)) = p.fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(key)) {
                    println!("  {}: {key}: {v}", p.file.display);
                }
            }
        }
    }
}

/// The reports as JSON: stable field order, for bots.
fn json(cwd: &Path, reports: &[Report]) -> String {
    let s = |t: &str| json_string(t);
    let opt = |v: &Option<Version>| v.as_ref().map_or("null".to_string(), |v| s(&v.to_string()));
    let shims: Vec<String> = reports
        .iter()
        .map(|r| {
            let patches: Vec<String> = r
                .patches
                .iter()
                .map(|p| {
                    let fields: Vec<String> = p
                        .fields
                        .iter()
                        .map(|(n, v)| format!("{}:{}", s(n), s(v)))
                        .collect();
                    let outcomes: Vec<String> = p
                        .outcomes
                        .iter()
                        .map(|(v, o)| {
                            let moved = match o {
                                Outcome::Moved(n) => format!(",\"moved\":{n}"),
                                _ => String::new(),
                            };
                            format!("{{\"version\":{},\"outcome\":{}{moved}}}", s(&v.to_string()), s(o.key()))
                        })
                        .collect();
                    format!(
                        "{{\"file\":{},\"fields\":{{{}}},\"outcomes\":[{}]}}",
                        s(&p.file.display),
                        fields.join(","),
                        outcomes.join(",")
                    )
                })
                .collect();
            format!(
                "{{\"shim\":{},\"crate\":{},\"version\":{},\"compatible\":{},\"latest\":{},\"actionable\":{},\"patches\":[{}]}}",
                s(&crate::fs::relative_path(cwd, &r.shim.dir)),
                s(&r.shim.upstream),
                s(&r.shim.version),
                opt(&r.compatible),
                opt(&r.latest),
                r.actionable(),
                patches.join(",")
            )
        })
        .collect();
    format!("{{\"shims\":[{}]}}", shims.join(","))
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
