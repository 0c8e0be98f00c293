//! Finding shims: what a shim's manifest says, which packages of a
//! workspace are shims, and where the workspace's target directory is.

use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};

use build_patch::Config;
use cargo_metadata::Metadata;
use toml_edit::{DocumentMut, Item};

/// What a shim's `Cargo.toml` says about the patched crate.
#[derive(Debug, Clone)]
pub struct ShimInfo {
    /// The shim's directory.
    pub dir: PathBuf,
    /// The shim's package name.
    pub name: String,
    /// The shim's own package version (for a graph-wide shim, the version
    /// Cargo puts in the graph).
    pub package_version: String,
    /// The upstream crate and version.
    pub upstream: String,
    /// The upstream version the shim is for.
    pub version: String,
    /// The `patches` entries, as written (relative to the shim).
    pub patches: Vec<String>,
    /// The metadata's `strip` (the patches' strip level), if set.
    pub strip: Option<usize>,
    /// The metadata's `fuzz`, if set.
    pub fuzz: Option<usize>,
    /// The metadata's `source` (a local upstream tree), if set.
    pub source: Option<String>,
    /// Where the upstream comes from: crates.io, a registry, a git repository.
    pub from: Upstream,
}

/// Where a shim's upstream comes from, as `[package.metadata.build-patch]`
/// says it (`git` with `rev`/`tag`/`branch`, or `registry`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Upstream {
    #[default]
    CratesIo,
    /// An alternative registry, by its name in the Cargo config.
    Registry(String),
    /// A git repository, with `rev`, `tag` or `branch` and its value.
    Git {
        url: String,
        reference: Option<(String, String)>,
    },
}

/// crates.io's source ids, as `cargo metadata` prints them (also when the
/// Cargo config replaces crates.io with a mirror or vendor directory).
pub const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// The `Cargo.toml` of the package (or, with `workspace`, of the workspace
/// root) that `dir` is in, as `cargo locate-project` finds it; `None`
/// outside a package.
pub fn locate_manifest(dir: &Path, workspace: bool) -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["locate-project", "--message-format", "plain"]);
    if workspace {
        cmd.arg("--workspace");
    }
    let out = cmd
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let path = String::from_utf8(out.stdout).ok()?;
    Some(PathBuf::from(path.trim_end()))
}

/// How a shim is wired into the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wiring {
    /// `[patch.SOURCE] KEY = { path = … }` in the root manifest.
    Patch { source: String, key: String },
    /// A path dependency of a package of the graph (a renamed shim).
    Dependency { dependent: String },
}

/// One shim the workspace wires, and whether the graph uses it.
#[derive(Debug, Clone)]
pub struct WiredShim {
    pub dir: PathBuf,
    pub wiring: Wiring,
    pub used: bool,
}

/// Every shim the workspace wires: the `[patch]` entries of the root
/// manifest and the path dependencies of the graph's packages whose
/// directory holds a build-patch shim, each with whether the resolved graph
/// holds it.
pub fn wired_shims(metadata: &Metadata) -> Vec<WiredShim> {
    let in_graph = |dir: &Path| depended_on(metadata, dir);
    let mut out: Vec<WiredShim> = Vec::new();
    let mut add = |dir: PathBuf, wiring: Wiring| {
        let dir = canonical(&dir);
        if !is_shim(&dir) || out.iter().any(|w| w.dir == dir) {
            return;
        }
        let used = in_graph(&dir);
        out.push(WiredShim { dir, wiring, used });
    };
    let root = metadata.workspace_root.as_std_path();
    for (source, key, dir) in patch_entries(&root.join("Cargo.toml")) {
        add(dir, Wiring::Patch { source, key });
    }
    for p in &metadata.packages {
        for d in &p.dependencies {
            if let Some(path) = &d.path {
                add(
                    path.as_std_path().to_path_buf(),
                    Wiring::Dependency {
                        dependent: format!("{} {}", p.name, p.version),
                    },
                );
            }
        }
    }
    out
}

/// Whether something in the resolved graph depends on the package in
/// `dir`. Used means depended on: a shim that is a workspace member is
/// listed among the packages even when every dependent takes the registry
/// copy.
pub fn depended_on(metadata: &Metadata, dir: &Path) -> bool {
    let manifest = canonical(&dir.join("Cargo.toml"));
    let ids: Vec<&cargo_metadata::PackageId> = metadata
        .packages
        .iter()
        .filter(|p| canonical(p.manifest_path.as_std_path()) == manifest)
        .map(|p| &p.id)
        .collect();
    metadata.resolve.as_ref().is_some_and(|r| {
        r.nodes
            .iter()
            .any(|n| n.deps.iter().any(|d| ids.contains(&&d.pkg)))
    })
}

/// The `[patch.SOURCE]` entries of `manifest` that have a `path`: source,
/// key and absolute directory.
pub fn patch_entries(manifest: &Path) -> Vec<(String, String, PathBuf)> {
    let Ok(doc) = read_doc(manifest) else {
        return Vec::new();
    };
    let base = manifest.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let Some(sources) = doc.get("patch").and_then(Item::as_table_like) else {
        return out;
    };
    for (source, table) in sources.iter() {
        let Some(table) = table.as_table_like() else {
            continue;
        };
        for (key, entry) in table.iter() {
            if let Some(path) = entry.get("path").and_then(Item::as_str) {
                out.push((source.to_string(), key.to_string(), base.join(path)));
            }
        }
    }
    out
}

fn is_shim(dir: &Path) -> bool {
    ShimInfo::read(dir).is_ok()
}

/// The name of the edit folder inside a shim's directory (`edit`, `save`,
/// `upgrade`; left alone by `undo`).
pub const EDIT_DIR: &str = ".build-patch-edit";

/// `[patch.crates-io]`, `[patch.NAME]`, `[patch."file:///repo"]`: the
/// header of the `[patch]` table for `source`, quoted as TOML needs.
pub fn patch_header(source: &str) -> String {
    table_header(&["patch".to_string(), source.to_string()])
}

/// The header of the table at `keys`, each quoted as TOML needs.
pub fn table_header(keys: &[String]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|k| toml_edit::Key::new(k.as_str()).display_repr().into_owned())
        .collect();
    format!("[{}]", keys.join("."))
}

/// Whether a `[patch.TABLE]` entry stands for packages from Cargo's source
/// `source_id` (a path package: none): `crates-io`, a git URL, or the name
/// of an alternative registry of the Cargo configuration of `cwd`.
pub fn patches_source(table: &str, source_id: Option<&str>, cwd: &Path) -> bool {
    let Some(id) = source_id else {
        return false;
    };
    if table == "crates-io" {
        return CRATES_IO.contains(&id);
    }
    if let Some(rest) = id.strip_prefix("git+") {
        let url = rest.split(['?', '#']).next().unwrap_or(rest);
        return build_patch::same_git_url(url, table);
    }
    let index = id.strip_prefix("registry+").unwrap_or(id);
    let trim = |u: &str| u.trim_end_matches('/').to_string();
    trim(index) == trim(table) || registry_name(cwd, id).as_deref() == Some(table)
}

/// The keys that name a git reference.
pub const GIT_REFS: [&str; 3] = ["rev", "tag", "branch"];

impl Upstream {
    /// The table of `[patch]` a graph-wide shim of it goes under.
    pub fn patch_table(&self) -> &str {
        match self {
            Upstream::CratesIo => "crates-io",
            Upstream::Registry(name) => name,
            Upstream::Git { url, .. } => url,
        }
    }

    /// ` from the git repository `URL` (tag `v1`)`, ` from the registry
    /// `NAME``, or nothing for crates.io.
    pub fn describe(&self) -> String {
        match self {
            Upstream::CratesIo => String::new(),
            Upstream::Registry(r) => format!(" from the registry `{r}`"),
            Upstream::Git { url, reference } => match reference {
                None => format!(" from the git repository `{url}`"),
                Some((k, v)) => format!(" from the git repository `{url}` ({k} `{v}`)"),
            },
        }
    }

    /// Sets the source on a library configuration.
    pub fn configure(&self, cfg: &mut Config) {
        match self {
            Upstream::CratesIo => {}
            Upstream::Registry(r) => {
                cfg.registry(r);
            }
            Upstream::Git { url, reference } => {
                cfg.git(url);
                match reference {
                    Some((k, v)) if k == "rev" => cfg.git_rev(v),
                    Some((k, v)) if k == "tag" => cfg.git_tag(v),
                    Some((_, v)) => cfg.git_branch(v),
                    None => cfg,
                };
            }
        }
    }

    /// The flags of `new` that name it (` --git URL --tag T`), or nothing
    /// for crates.io.
    pub fn flags(&self) -> String {
        self.metadata_keys()
            .iter()
            .map(|(k, v)| format!(" --{k} {v}"))
            .collect()
    }

    /// The metadata keys that say it, as `(key, value)`.
    pub fn metadata_keys(&self) -> Vec<(&str, &str)> {
        match self {
            Upstream::CratesIo => Vec::new(),
            Upstream::Registry(r) => vec![("registry", r)],
            Upstream::Git { url, reference } => {
                let mut keys = vec![("git", url.as_str())];
                if let Some((k, v)) = reference {
                    keys.push((k.as_str(), v.as_str()));
                }
                keys
            }
        }
    }

    /// Where the graph's package `p` comes from (crates.io for a path
    /// package), the registry's name from the Cargo configuration of `cwd`.
    pub fn of_package(p: &cargo_metadata::Package, cwd: &Path) -> Result<Upstream> {
        let Some(source) = &p.source else {
            return Ok(Upstream::CratesIo);
        };
        Upstream::from_source_id(&source.repr, |index| registry_name(cwd, index))
            .map(Option::unwrap_or_default)
            .with_context(|| format!("cannot tell where `{} {}` comes from", p.name, p.version))
    }

    /// The source of a package as `cargo metadata` names it
    /// (`git+URL?tag=v1#COMMIT`, `registry+URL`); `registry_name` finds the
    /// name of an alternative registry from its index URL. `Ok(None)` for
    /// crates.io.
    pub fn from_source_id(
        repr: &str,
        registry_name: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Upstream>> {
        if let Some(rest) = repr.strip_prefix("git+") {
            let rest = rest.split('#').next().unwrap_or(rest);
            let (url, query) = rest.split_once('?').unwrap_or((rest, ""));
            let reference = query.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                GIT_REFS
                    .contains(&k)
                    .then(|| (k.to_string(), v.to_string()))
            });
            return Ok(Some(Upstream::Git {
                url: url.to_string(),
                reference,
            }));
        }
        if CRATES_IO.contains(&repr) {
            return Ok(None);
        }
        match registry_name(repr) {
            Some(name) => Ok(Some(Upstream::Registry(name))),
            None => Err(anyhow!(
                "the graph takes it from `{repr}`, which no `[registries.NAME]` of the Cargo \
                 configuration names\n  help: pass `--registry NAME`, or `--git URL` for a \
                 repository"
            )),
        }
    }
}

impl ShimInfo {
    /// Reads the shim in `dir`: its `[package.metadata.build-patch]` table
    /// as the shim's build reads it (the library's reader, with the build's
    /// errors for a bad table).
    pub fn read(dir: &Path) -> Result<ShimInfo> {
        let manifest_path = dir.join("Cargo.toml");
        let text = crate::fs::read_to_string(&manifest_path)?;
        // Not TOML: said in the CLI's words, as for every manifest it reads.
        text.parse::<DocumentMut>()
            .map_err(|e| anyhow!("cannot parse `{}`: {e}", manifest_path.display()))?;
        let s = build_patch::parse_shim_settings(&text, &manifest_path).map_err(crate::opaque)?;
        let name = s
            .package_name()
            .ok_or_else(|| anyhow!("`{}` has no package name", manifest_path.display()))?
            .to_string();
        if !s.has_table() {
            return Err(anyhow!(
                "`{}` has no `[package.metadata.build-patch]` table: it is not a build-patch shim",
                manifest_path.display()
            ));
        }
        let package_version = s.package_version().map(str::to_string);
        let version = s
            .version()
            .map(str::to_string)
            .or_else(|| package_version.clone())
            .ok_or_else(|| anyhow!("`{}` names no version", manifest_path.display()))?;
        let path_text = |p: &Path| p.to_string_lossy().into_owned();
        Ok(ShimInfo {
            dir: dir.to_path_buf(),
            upstream: s.crate_name().unwrap_or(&name).to_string(),
            name,
            package_version: package_version.unwrap_or_else(|| version.clone()),
            version,
            patches: s
                .patches()
                .map(|p| p.iter().map(|p| path_text(p)).collect())
                .unwrap_or_default(),
            strip: s.strip(),
            fuzz: s.fuzz(),
            source: s.source().map(path_text),
            from: match (s.git(), s.registry()) {
                (Some(url), _) => Upstream::Git {
                    url: url.to_string(),
                    reference: s
                        .git_reference()
                        .map(|(k, v)| (k.to_string(), v.to_string())),
                },
                (None, Some(r)) => Upstream::Registry(r.to_string()),
                (None, None) => Upstream::CratesIo,
            },
        })
    }

    /// Whether `arg` names this shim: its package name or the upstream's,
    /// optionally with `@` and the upstream version.
    pub fn is_named(&self, arg: &str) -> bool {
        let (name, version) = match arg.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (arg, None),
        };
        (self.name == name || self.upstream == name) && version.is_none_or(|v| v == self.version)
    }

    /// When the shim's build script gives build-patch settings in code
    /// (`Config::patch`, `upstream`, `strip`, …, which win over the table),
    /// the error to refuse it with: every command reads the table, so it
    /// would check, save into or move a list the build does not use.
    pub fn settings_in_code(&self) -> Option<String> {
        let manifest = read_doc(&self.dir.join("Cargo.toml")).ok()?;
        let script = manifest
            .get("package")
            .and_then(|p| p.get("build"))
            .and_then(Item::as_str)
            .unwrap_or("build.rs");
        let path = self.dir.join(script);
        let text = std::fs::read_to_string(&path).ok()?;
        // Only the part that calls build-patch: a copied upstream build
        // script before the glue may say anything.
        let text = build_patch::Output::build_script_glue(&text);
        const SETTERS: &[&str] = &[
            ".patch(",
            ".upstream(",
            ".strip(",
            ".fuzz(",
            ".source(",
            ".package(",
            ".manifest_dir(",
            ".git(",
            ".git_rev(",
            ".git_tag(",
            ".git_branch(",
            ".registry(",
        ];
        let found: Vec<&str> = SETTERS
            .iter()
            .copied()
            .filter(|s| text.contains(s))
            .collect();
        if found.is_empty() {
            return None;
        }
        Some(format!(
            "`{}` gives build-patch settings in code ({}), which win over \
             `[package.metadata.build-patch]`; `cargo build-patch` reads only that table, so it \
             would check, save into or move a patch list or version the build does not use\n  \
             help: move the settings into `[package.metadata.build-patch]` and call \
             `build_patch::build()`",
            path.display(),
            found
                .iter()
                .map(|s| format!("`{}…)`", s.trim_start_matches('.')))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Whether the shim has the upstream's name (wired through
    /// `[patch.crates-io]`, or the `[patch]` table of its git repository or
    /// registry) rather than its own.
    pub fn graph_wide(&self) -> bool {
        self.name == self.upstream
    }

    /// A library configuration that stages this shim's patched upstream into
    /// `out_dir`, with `patches` instead of the shim's own list.
    pub fn config_with(&self, out_dir: &Path, patches: &[String], version: &str) -> Config {
        let mut cfg = Config::new();
        cfg.upstream(&self.upstream, version)
            .manifest_dir(&self.dir)
            .out_dir(out_dir)
            .cargo_directives(false)
            // The upstream build script runs only in the shim's own build.
            .verify_only(true);
        for p in patches {
            cfg.patch(p);
        }
        if let Some(n) = self.strip {
            cfg.strip(n);
        }
        if let Some(n) = self.fuzz {
            cfg.fuzz(n);
        }
        if let Some(src) = &self.source {
            cfg.source(src);
        }
        self.from.configure(&mut cfg);
        cfg
    }

    /// A library configuration that stages this shim's patched upstream.
    pub fn config(&self, out_dir: &Path) -> Config {
        self.config_with(out_dir, &self.patches, &self.version)
    }
}

/// The shims a workspace wires, its root and its target directory, from
/// `cargo metadata` run in `cwd` (offline first, as the build does).
pub struct Workspace {
    /// The directory of the workspace's root `Cargo.toml`.
    pub root: PathBuf,
    pub target_dir: PathBuf,
    /// Every shim the workspace wires, whether the graph uses it or not.
    pub shims: Vec<PathBuf>,
    /// The wired shims, each with how it is wired and whether it is used.
    pub wired: Vec<WiredShim>,
    /// What `cargo metadata` said: the resolved graph.
    pub metadata: cargo_metadata::Metadata,
    /// `NAME@VERSION` of each shim as Cargo resolved it, by canonical directory.
    specs: Vec<(PathBuf, String)>,
}

impl Workspace {
    pub fn load(cwd: &Path) -> Result<Workspace> {
        // Inside a shim that is not a workspace of its own, Cargo would take
        // the shim for the workspace (and write a `Cargo.lock` into it): the
        // workspace is the one around it.
        let around;
        let cwd = match locate_manifest(cwd, false) {
            Some(m) if in_own_shim(&m) => {
                around = m
                    .parent()
                    .and_then(Path::parent)
                    .unwrap_or(cwd)
                    .to_path_buf();
                around.as_path()
            }
            _ => cwd,
        };
        let mut cmd = cargo_metadata::MetadataCommand::new();
        cmd.current_dir(cwd)
            .other_options(vec!["--offline".to_string()]);
        let metadata = match cmd.exec() {
            Ok(m) => m,
            Err(_) => cargo_metadata::MetadataCommand::new()
                .current_dir(cwd)
                .exec()
                .map_err(|e| {
                    anyhow!(
                        "`cargo metadata` failed in `{}`: {}\n  help: run this in the Cargo \
                         workspace that uses the shims (where a `Cargo.toml` is), or fix the error \
                         Cargo reports",
                        cwd.display(),
                        e.to_string().trim_end()
                    )
                })?,
        };
        let mut found: Vec<(PathBuf, String)> = metadata
            .packages
            .iter()
            .filter(|p| p.source.is_none() && p.metadata.get("build-patch").is_some())
            .filter_map(|p| {
                let dir = canonical(p.manifest_path.parent()?.as_std_path());
                Some((dir, format!("{}@{}", p.name, p.version)))
            })
            .collect();
        found.sort();
        found.dedup();
        let mut shims: Vec<PathBuf> = found.iter().map(|(d, _)| d.clone()).collect();
        // Wired but not used: `[patch]` entries the graph dropped.
        let wired = wired_shims(&metadata);
        shims.extend(wired.iter().filter(|w| !w.used).map(|w| w.dir.clone()));
        shims.sort();
        shims.dedup();
        Ok(Workspace {
            root: metadata.workspace_root.clone().into_std_path_buf(),
            target_dir: metadata.target_directory.clone().into_std_path_buf(),
            shims,
            wired,
            metadata,
            specs: found,
        })
    }

    /// The shim a user named: a directory, or `NAME` or `NAME@VERSION` of
    /// one of the workspace's shims (`NAME` its package name or the
    /// upstream's, `VERSION` the upstream version). A name that matches
    /// more than one shim is refused with each of them listed.
    pub fn find(&self, cwd: &Path, arg: &str) -> Result<PathBuf> {
        let dir = self.find_any(cwd, arg)?;
        if let Some(e) = ShimInfo::read(&dir).ok().and_then(|s| s.settings_in_code()) {
            return Err(anyhow!(e));
        }
        Ok(dir)
    }

    fn find_any(&self, cwd: &Path, arg: &str) -> Result<PathBuf> {
        let as_dir = cwd.join(arg);
        if as_dir.join("Cargo.toml").is_file() {
            return Ok(as_dir);
        }
        let shims = self.read_shims();
        let matching: Vec<&ShimInfo> = shims.iter().filter(|s| s.is_named(arg)).collect();
        match matching[..] {
            [one] => Ok(one.dir.clone()),
            [] => Err(anyhow!(
                "no shim `{arg}`: it is neither a directory with a `Cargo.toml` nor the name of \
                 a shim of this workspace\n  help: the workspace's shims are: {}",
                if shims.is_empty() {
                    "none".to_string()
                } else {
                    listing(cwd, &shims.iter().collect::<Vec<_>>(), &shims)
                }
            )),
            _ => Err(anyhow!(
                "`{arg}` names {} shims of this workspace: {}\n  help: name one of them by its \
                 directory or as NAME@VERSION, as listed",
                matching.len(),
                listing(cwd, &matching, &shims)
            )),
        }
    }

    /// The shortest argument that names `shim` and no other shim of the
    /// workspace, for the commands build-patch suggests: its package name,
    /// else `NAME@VERSION`, else its directory (relative to `cwd`).
    pub fn arg_for(&self, cwd: &Path, shim: &ShimInfo) -> String {
        let shims = self.read_shims();
        unambiguous_arg(cwd, shim, &shims)
    }

    /// What each shim's manifest says (those that cannot be read are left
    /// out: commands that read one say why).
    fn read_shims(&self) -> Vec<ShimInfo> {
        self.shims
            .iter()
            .filter_map(|d| ShimInfo::read(d).ok())
            .collect()
    }

    /// `NAME@VERSION` of the shim in `dir` as Cargo resolved it (for
    /// `cargo check -p`), if the workspace's build uses it.
    pub fn package_spec(&self, dir: &Path) -> Option<&str> {
        let dir = canonical(dir);
        // A member that nothing depends on is listed, but not used.
        if self.wired.iter().any(|w| w.dir == dir && !w.used) {
            return None;
        }
        self.specs
            .iter()
            .find(|(d, _)| *d == dir)
            .map(|(_, spec)| spec.as_str())
    }
}

/// Whether `manifest` is a shim's that names no `[workspace]` of its own.
fn in_own_shim(manifest: &Path) -> bool {
    read_doc(manifest).is_ok_and(|d| {
        !d.contains_key("workspace")
            && d.get("package")
                .and_then(|p| p.get("metadata"))
                .and_then(|m| m.get("build-patch"))
                .is_some()
    })
}

/// `` `DIR` (NAME@VERSION) `` of each shim, for an error.
fn listing(cwd: &Path, listed: &[&ShimInfo], all: &[ShimInfo]) -> String {
    listed
        .iter()
        .map(|s| {
            let dir = shown_dir(cwd, &s.dir);
            let arg = unambiguous_arg(cwd, s, all);
            if arg == dir {
                format!("`{dir}`")
            } else {
                format!("`{dir}` (`{arg}`)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn unambiguous_arg(cwd: &Path, shim: &ShimInfo, all: &[ShimInfo]) -> String {
    let unique = |arg: &str| {
        let mut named = all.iter().filter(|s| s.is_named(arg));
        named
            .next()
            .is_some_and(|s| canonical(&s.dir) == canonical(&shim.dir))
            && named.next().is_none()
    };
    let candidates = [
        shim.name.clone(),
        format!("{}@{}", shim.upstream, shim.version),
        format!("{}@{}", shim.name, shim.version),
    ];
    candidates
        .into_iter()
        .find(|c| unique(c) && !cwd.join(c).join("Cargo.toml").is_file())
        .unwrap_or_else(|| shown_dir(cwd, &shim.dir))
}

/// A directory as the user can type it from `cwd`.
fn shown_dir(cwd: &Path, dir: &Path) -> String {
    match crate::fs::relative_path(cwd, dir) {
        rel if rel.is_empty() => ".".to_string(),
        rel => rel,
    }
}

/// The name of the alternative registry whose index is `source_id`
/// (`registry+URL`, `sparse+URL`), from the `[registries.NAME]` tables of
/// the Cargo configuration that applies in `cwd` (its `.cargo/config.toml`
/// files, then `$CARGO_HOME`'s) and `CARGO_REGISTRIES_NAME_INDEX`.
pub fn registry_name(cwd: &Path, source_id: &str) -> Option<String> {
    let index = source_id.strip_prefix("registry+").unwrap_or(source_id);
    let same = |written: &str| written.trim_end_matches('/') == index.trim_end_matches('/');
    for (key, value) in std::env::vars() {
        let name = key
            .strip_prefix("CARGO_REGISTRIES_")
            .and_then(|k| k.strip_suffix("_INDEX"));
        if let Some(name) = name.filter(|_| same(&value)) {
            return Some(name.to_lowercase().replace('_', "-"));
        }
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let dirs = cwd.ancestors().map(|d| d.join(".cargo")).chain(home);
    for dir in dirs {
        for file in ["config.toml", "config"] {
            let Ok(doc) = read_doc(&dir.join(file)) else {
                continue;
            };
            let Some(registries) = doc.get("registries").and_then(Item::as_table_like) else {
                continue;
            };
            for (name, r) in registries.iter() {
                if r.get("index").and_then(Item::as_str).is_some_and(same) {
                    return Some(name.to_string());
                }
            }
        }
    }
    None
}

/// A directory as the file system names it, to compare two spellings.
pub fn canonical(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

pub fn read_doc(path: &Path) -> Result<DocumentMut> {
    let text = crate::fs::read_to_string(path)?;
    text.parse()
        .map_err(|e| anyhow!("cannot parse `{}`: {e}", path.display()))
}

/// The quilt `series` file a `patches` entry names: the entry itself when it
/// is one, or the `series` of a directory that has one.
pub fn series_file(entry: &Path) -> Option<PathBuf> {
    let series = if entry.is_dir() {
        entry.join("series")
    } else {
        entry.to_path_buf()
    };
    (series.file_name().is_some_and(|n| n == "series") && series.is_file()).then_some(series)
}

/// Where a new patch of a shim goes and how it is listed, from what its
/// `patches` list ends with: a quilt series (the patch goes beside it and
/// into it), a directory (into it: read in name order), or files (into
/// `patches/` beside the shim's manifest, and into `patches = [...]`).
pub struct PatchTarget {
    pub folder: PathBuf,
    series: Option<PathBuf>,
    /// Whether the list ends with a directory (its patches are read in name
    /// order: nothing to list).
    in_dir: bool,
}

impl PatchTarget {
    pub fn of(shim: &ShimInfo) -> PatchTarget {
        let last = shim.patches.last().map(|p| shim.dir.join(p));
        let series = last.as_deref().and_then(series_file);
        match (last, series) {
            (Some(last), series) if last.is_dir() => PatchTarget {
                folder: last,
                series,
                in_dir: true,
            },
            (Some(_), Some(series)) => PatchTarget {
                folder: series.parent().unwrap_or(&shim.dir).to_path_buf(),
                series: Some(series),
                in_dir: false,
            },
            _ => PatchTarget {
                folder: shim.dir.join("patches"),
                series: None,
                in_dir: false,
            },
        }
    }

    /// Adds `file` at the end of the shim's list: a line of the series, the
    /// directory itself (when `file` is in it), or the manifest's array.
    pub fn list(&self, shim: &ShimInfo, file: &Path) -> Result<()> {
        if let Some(series) = &self.series {
            let dir = series.parent().unwrap_or(&shim.dir);
            let mut s = crate::fs::read_to_string(series)?;
            if !s.is_empty() && !s.ends_with('\n') {
                s.push('\n');
            }
            s.push_str(&crate::fs::relative_path(dir, file));
            s.push('\n');
            return crate::fs::write(series, s);
        }
        let rel = crate::fs::relative_path(&shim.dir, file);
        if self.in_dir {
            if file.parent().map(canonical) == Some(canonical(&self.folder)) {
                return Ok(());
            }
            return Err(anyhow!(
                "`{}` takes its patches from the folder `{}`, in name order, so `{rel}` cannot \
                 go at the end of its list\n  help: copy the patch into that folder under a \
                 name that sorts last, or list the shim's patches one by one",
                shim.dir.display(),
                self.folder.display()
            ));
        }
        let manifest_path = shim.dir.join("Cargo.toml");
        let mut doc = read_doc(&manifest_path)?;
        let meta = doc["package"]["metadata"]["build-patch"]
            .as_table_like_mut()
            .ok_or_else(|| anyhow!("`{}` has no build-patch table", manifest_path.display()))?;
        let mut list = match meta.get("patches") {
            Some(Item::Value(toml_edit::Value::Array(a))) => a.clone(),
            Some(Item::Value(toml_edit::Value::String(s))) => {
                let mut a = toml_edit::Array::new();
                a.push(s.value().as_str());
                a
            }
            _ => toml_edit::Array::new(),
        };
        list.push(rel.as_str());
        meta.insert("patches", toml_edit::value(list));
        crate::fs::write(&manifest_path, doc.to_string())
    }
}
