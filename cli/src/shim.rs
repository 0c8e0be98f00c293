//! `new` and `sync`: write a shim from the patched upstream, and bring an
//! existing one back in line with it.
//!
//! Both stage the patched upstream with the library (`Config::stage`, into a
//! scratch folder), then derive the shim's manifest from the patched
//! `Cargo.toml` with a format-preserving editor, so `sync` keeps whatever
//! the user added: a `[workspace]` table, other metadata, comments.

use anyhow::{anyhow, Result};
use std::path::{Component, Path, PathBuf};

use build_patch::{Config, BUILD_PATCH};
use toml_edit::{value, Array, DocumentMut, Item, Table};

use crate::shell::Shell;
use crate::workspace::{read_doc, ShimInfo, Upstream};

/// What `new` was asked for.
pub struct NewShim<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// Where the upstream comes from.
    pub from: &'a Upstream,
    /// The shim's directory.
    pub dir: &'a Path,
    /// Patch files, relative to the current directory.
    pub patches: &'a [PathBuf],
    /// The shim's package name when it is not the upstream's.
    pub rename: Option<&'a str>,
    /// Depend on build-patch by this path (relative to the current
    /// directory) instead of by version.
    pub build_patch_path: Option<&'a Path>,
    /// Write the wiring into the workspace (else only say what it is).
    pub wire: bool,
    /// Requirement patches to write: `(dependency, requirement)`.
    pub requires: &'a [(String, String)],
    /// Print what the graph warns about the wired shim (`unify`, which
    /// writes several shims, prints them once all are in).
    pub graph_warnings: bool,
}

/// Writes one requirement patch per `--require DEP=REQ` of `req`, each on
/// top of the last, into the `patches/` folder of the workspace root (or
/// of the current directory); returns their paths, relative to `cwd`.
fn write_requirement_patches(
    shell: &Shell,
    req: &NewShim<'_>,
    cwd: &Path,
    staged: &Path,
) -> Result<Vec<PathBuf>> {
    let manifest_path = staged.join("Cargo.toml");
    let mut manifest = crate::fs::read_to_string(&manifest_path)?;
    let root = locate_manifest(cwd, true)
        .and_then(|m| m.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| cwd.to_path_buf());
    let mut out = Vec::new();
    for (dep, requirement) in req.requires {
        let why = format!("Written by `cargo build-patch new --require {dep}={requirement}`.");
        let text = crate::require::requirement_patch(
            req.name,
            req.version,
            &manifest,
            dep,
            requirement,
            &why,
        )?
        .ok_or_else(|| {
            anyhow!(
                "{} {} has no dependency `{dep}` to require `{requirement}` of, or requires \
                 exactly that already\n  help: `--require` takes a dependency of the crate \
                 (normal or build, any target) and its new requirement",
                req.name,
                req.version
            )
        })?;
        let (patched, _) = crate::require::set_requirement(&manifest, dep, requirement)?
            .expect("the patch above found the dependency");
        manifest = patched;
        let file = root.join("patches").join(crate::require::patch_file_name(
            req.name,
            req.version,
            dep,
            requirement,
        ));
        write(&file, &text)?;
        shell.status("Wrote", &format!("`{}`", relative_path(cwd, &file)));
        out.push(PathBuf::from(relative_path(cwd, &file)));
    }
    Ok(out)
}

/// The `build-patch` build-dependency to write: this CLI's version, or a
/// path (for developing build-patch itself), made relative to the shim.
fn build_patch_dep(path: Option<&Path>, shim_dir: &Path, cwd: &Path) -> Item {
    match path {
        Some(p) => {
            let mut t = toml_edit::InlineTable::new();
            t.insert("path", relative_path(shim_dir, &cwd.join(p)).into());
            value(t)
        }
        None => {
            let v = env!("CARGO_PKG_VERSION");
            let major_minor: Vec<&str> = v.split('.').take(2).collect();
            value(major_minor.join("."))
        }
    }
}

pub fn new(shell: &Shell, req: &NewShim<'_>) -> Result<()> {
    if req.dir.join("Cargo.toml").exists() {
        return Err(anyhow!(
            "`{}` already holds a crate\n  help: pick another `--path`, or run `cargo build-patch sync {}` to update that shim",
            req.dir.display(),
            req.dir.display()
        ));
    }
    let cwd = crate::fs::current_dir()?;
    let abs_dir = cwd.join(req.dir);
    let stage = |patches: &[PathBuf], scratch: &Path| {
        let mut cfg = Config::new();
        cfg.upstream(req.name, req.version)
            .manifest_dir(&cwd)
            .out_dir(scratch);
        for p in patches {
            cfg.patch(p);
        }
        req.from.configure(&mut cfg);
        cfg.stage().map_err(crate::opaque)
    };
    shell.status(
        "Staging",
        &format!("{} {}{}", req.name, req.version, req.from.describe()),
    );
    let scratch = crate::fs::scratch_dir()?;
    let mut out = stage(req.patches, scratch.path())?;
    let mut patches = req.patches.to_vec();
    if !req.requires.is_empty() {
        patches.extend(write_requirement_patches(
            shell,
            req,
            &cwd,
            out.staged_dir(),
        )?);
        out = stage(&patches, scratch.path())?;
    }
    // Patches are recorded relative to the shim, as the build reads them.
    let patch_paths: Vec<String> = patches
        .iter()
        .map(|p| relative_path(&abs_dir, &cwd.join(p)))
        .collect();
    let upstream = read_doc(&out.staged_dir().join("Cargo.toml"))?;

    let shim_name = req.rename.unwrap_or(req.name);
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!(
        "# A build-patch shim: compiles {} {} with the patches below applied.\n\
         # `cargo build-patch sync` regenerates the parts that mirror the upstream\n\
         # (edition, [lib], [features], dependencies) and keeps everything else.\n",
        req.name, req.version
    ));
    let mut package = Table::new();
    package.insert("name", value(shim_name));
    package.insert("version", value(req.version));
    // Written even when the upstream names none (2015): Cargo warns about
    // a path package without an edition on every build.
    let edition = string_at(&upstream, "package", "edition", "2015");
    package.insert("edition", value(edition));
    package.insert("publish", value(false));
    doc.insert("package", Item::Table(package));

    let mut meta = Table::new();
    if req.rename.is_some() {
        meta.insert("crate", value(req.name));
        meta.insert("version", value(req.version));
    }
    for (key, v) in req.from.metadata_keys() {
        meta.insert(key, value(v));
    }
    let mut patches = Array::new();
    for p in &patch_paths {
        patches.push(p.as_str());
    }
    meta.insert("patches", value(patches));
    let mut metadata = Table::new();
    metadata.set_implicit(true);
    metadata.insert("build-patch", Item::Table(meta));
    doc["package"]["metadata"] = Item::Table(metadata);

    mirror_upstream(&mut doc, &upstream, req.rename.is_none(), req.from);
    // After the upstream's build-dependencies, if any.
    doc.entry("build-dependencies")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .expect("[build-dependencies] is a table")
        .insert(
            BUILD_PATCH,
            build_patch_dep(req.build_patch_path, &abs_dir, &cwd),
        );

    let lib_rs = out.shim_lib_rs().map_err(crate::opaque)?;
    let build_files = out.shim_build_files(None).map_err(crate::opaque)?;
    check_build_files(&build_files, "src/lib.rs")?;
    write(&abs_dir.join("Cargo.toml"), doc.to_string())?;
    for (rel, bytes) in &build_files {
        write(&abs_dir.join(rel), bytes)?;
    }
    write(&abs_dir.join("src/lib.rs"), &lib_rs)?;
    if let Some(script) = out.upstream_build_script() {
        shell.status(
            "Copied",
            &format!(
                "the patched upstream build script `{}` ({} file{})",
                script.display(),
                build_files.len(),
                if build_files.len() == 1 { "" } else { "s" }
            ),
        );
    }
    shell.status(
        "Created",
        &format!("shim `{shim_name}` in `{}`", req.dir.display()),
    );
    wire_and_verify(shell, req, &cwd, &abs_dir, is_large_crate(out.staged_dir()))
}

/// Wires the new shim into the workspace (or, with `--no-wire`, says
/// how), then resolves the workspace: `new` succeeds only when the graph
/// uses the shim. A wiring that breaks the workspace is taken back.
fn wire_and_verify(
    shell: &Shell,
    req: &NewShim<'_>,
    cwd: &Path,
    abs_dir: &Path,
    large: bool,
) -> Result<()> {
    let shim_name = req.rename.unwrap_or(req.name);
    let profile = if large {
        profile_note(shim_name)
    } else {
        String::new()
    };
    let plan = match crate::wire::plan(
        &crate::wire::Request {
            name: req.name,
            version: req.version,
            dir: abs_dir,
            rename: req.rename,
            from: req.from,
        },
        cwd,
    ) {
        Ok(plan) => plan,
        Err(crate::wire::NotWired::ByHand(text)) => {
            shell.note(&format!("{text}{profile}"));
            return Ok(());
        }
        Err(crate::wire::NotWired::Conflict(text)) => {
            return Err(anyhow!(
                "the shim is written in `{}`, but not wired: {text}",
                req.dir.display()
            ))
        }
    };
    if !req.wire {
        shell.note(&format!("{}{profile}", plan.note(cwd)));
        return Ok(());
    }
    let shown = relative_path(cwd, &plan.manifest);
    if plan.present {
        shell.status("Wired", &format!("already, as `{}` in `{shown}`", plan.key));
    } else {
        let before = plan.write()?;
        if let Err(e) = crate::workspace::Workspace::load(cwd) {
            write(&plan.manifest, &before)?;
            return Err(anyhow!(
                "the shim is written in `{}`, but Cargo refuses the workspace with it wired, so \
                 `{shown}` is as it was: {e:#}\n  help: to wire it by hand, {}",
                req.dir.display(),
                plan.note(cwd)
            ));
        }
        shell.status(
            "Wired",
            &format!("`{}` under `{}` of `{shown}`", plan.line(), plan.header()),
        );
    }
    let ws = crate::workspace::Workspace::load(cwd)?;
    match crate::graph::verify(&ws, abs_dir) {
        Ok(warnings) => {
            for w in warnings.iter().filter(|_| req.graph_warnings) {
                shell.warn(w);
            }
        }
        Err(e) => {
            return Err(anyhow!(
                "the shim is written in `{}` and wired, but the build will not use it: {e:#}",
                req.dir.display()
            ))
        }
    }
    if large {
        shell.note(&profile);
    }
    Ok(())
}

/// A path dependency gets incremental compilation, which costs a large crate
/// about a fifth more to compile from scratch (docs/benchmarks.md): worth a
/// profile line only for crates with this much Rust source.
const LARGE_CRATE_BYTES: u64 = 1 << 20;

/// Whether the staged crate in `dir` has more Rust source than
/// [`LARGE_CRATE_BYTES`].
fn is_large_crate(dir: &Path) -> bool {
    fn rust_bytes(dir: &Path, total: &mut u64) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let path = e.path();
            if kind.is_dir() {
                rust_bytes(&path, total);
            } else if kind.is_file() && path.extension().is_some_and(|x| x == "rs") {
                *total += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    let mut total = 0;
    rust_bytes(dir, &mut total);
    total > LARGE_CRATE_BYTES
}

fn profile_note(shim_name: &str) -> String {
    let profile = format!("[profile.dev.package.{shim_name}]\nincremental = false");
    format!(
        "{shim_name} is a large crate: to compile it as fast as from the registry, add to the \
         workspace root's `Cargo.toml`:\n\n{}\n",
        indent(&profile)
    )
}

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

pub fn sync(shell: &Shell, dir: &Path) -> Result<()> {
    let manifest_path = dir.join("Cargo.toml");
    let mut doc = read_doc(&manifest_path)?;
    let info = ShimInfo::read(dir)?;
    if let Some(e) = info.settings_in_code() {
        return Err(anyhow!(e));
    }
    let (shim_name, name, version) = (&info.name, &info.upstream, &info.version);
    let scratch = crate::fs::scratch_dir()?;
    let cfg = info.config(scratch.path());
    // A shim that compiles another version than it claims is not synced
    // around: mirroring that version's manifest would hide the mismatch.
    cfg.check_shim().map_err(|e| {
        anyhow!("{e}\n  `sync` mirrors the upstream a shim names; it does not move a shim to another version")
    })?;
    shell.status("Staging", &format!("{name} {version}"));
    let out = cfg.stage().map_err(crate::opaque)?;
    let upstream = read_doc(&out.staged_dir().join("Cargo.toml"))?;

    let before = doc.to_string();
    mirror_upstream(&mut doc, &upstream, info.graph_wide(), &info.from);
    let after = doc.to_string();
    if before != after {
        write(&manifest_path, &after)?;
        shell.status("Updated", &format!("`{}`", manifest_path.display()));
    }
    let lib_path = string_at(&doc, "lib", "path", "src/lib.rs");
    let lib_file = dir.join(&lib_path);
    let lib_text = crate::fs::read_to_string(&lib_file)?;
    let synced = out.sync_shim_lib_rs(&lib_text).map_err(crate::opaque)?;
    if synced != lib_text {
        write(&lib_file, &synced)?;
        shell.status("Updated", &format!("`{}`", lib_file.display()));
    }
    let build_changed = sync_build_files(shell, dir, &doc, &out)?;
    if before == after && synced == lib_text && !build_changed {
        shell.status(
            "Fresh",
            &format!("shim `{shim_name}` already matches {name} {version}"),
        );
    }
    Ok(())
}

/// The string `table.key` of `doc`, or `default`.
fn string_at(doc: &DocumentMut, table: &str, key: &str, default: &str) -> String {
    doc.get(table)
        .and_then(|t| t.get(key))
        .and_then(Item::as_str)
        .unwrap_or(default)
        .to_string()
}

/// The shim's build script files must not overwrite what makes it a shim.
fn check_build_files(files: &[(PathBuf, Vec<u8>)], lib_path: &str) -> Result<()> {
    for (rel, _) in files {
        if rel == Path::new("Cargo.toml") || rel == Path::new(lib_path) {
            return Err(anyhow!(
                "the upstream build script reads `{}` at compile time, which a shim cannot \
                 hold (it is the shim's own)\n  see docs/limits.md, \"Upstream build scripts\"",
                rel.display()
            ));
        }
    }
    Ok(())
}

/// Writes the shim's build script and the files it reads from the patched
/// upstream, keeping the glue after the marker line of the current script.
/// Returns whether anything changed.
fn sync_build_files(
    shell: &Shell,
    dir: &Path,
    doc: &DocumentMut,
    out: &build_patch::Output,
) -> Result<bool> {
    let current = string_at(doc, "package", "build", "build.rs");
    let existing = std::fs::read_to_string(dir.join(&current)).ok();
    if out.upstream_build_script().is_none() {
        // Back to the plain build script, unless the user wrote their own.
        let generated = existing
            .as_deref()
            .is_some_and(build_patch::Output::is_generated_build_script);
        if existing.is_some() && !generated {
            return Ok(false);
        }
    }
    let files = out
        .shim_build_files(existing.as_deref())
        .map_err(crate::opaque)?;
    let lib_path = string_at(doc, "lib", "path", "src/lib.rs");
    check_build_files(&files, &lib_path)?;
    let mut changed = false;
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            write(&path, bytes)?;
            shell.status("Updated", &format!("`{}`", path.display()));
            changed = true;
        }
    }
    Ok(changed)
}

/// Makes the parts of `doc` that decide what Cargo builds say what the
/// patched upstream manifest says: edition and `links`, `[lib]` name (for a
/// graph-wide shim) and kind, `[features]`, `[dependencies]` and every
/// `[target.*.dependencies]`. Items that already agree are left as they are,
/// with their comments and formatting.
fn mirror_upstream(
    doc: &mut DocumentMut,
    upstream: &DocumentMut,
    graph_wide: bool,
    from: &Upstream,
) {
    let upstream = &without_local_paths(upstream, from);
    let up_package = upstream.get("package");
    let up_str = |k: &str| up_package.and_then(|p| p.get(k)).and_then(Item::as_str);
    let package = doc["package"].as_table_mut().expect("[package] is a table");
    // An upstream that names no edition is 2015; the shim says so
    // explicitly (Cargo warns about a path package without an edition).
    let edition = up_str("edition").unwrap_or("2015");
    if package.get("edition").and_then(Item::as_str) != Some(edition) {
        package.insert("edition", value(edition));
    }
    set_or_remove(package, "links", up_str("links").map(value));
    // The shim's build script is the upstream's, at the same path (or the
    // plain `build.rs` when the upstream has none).
    set_or_remove(package, "build", up_str("build").map(value));
    if let Some(rv) = up_str("rust-version") {
        if package.get("rust-version").and_then(Item::as_str) != Some(rv) {
            package.insert("rust-version", value(rv));
        }
    }

    // [lib]: the name only matters for a graph-wide shim (dependents use it);
    // the path is always the shim's own `src/lib.rs`.
    let up_lib = upstream.get("lib");
    let up_name = up_package
        .and_then(|p| p.get("name"))
        .and_then(Item::as_str)
        .unwrap_or("");
    let lib_name = up_lib
        .and_then(|l| l.get("name"))
        .and_then(Item::as_str)
        .filter(|n| graph_wide && *n != up_name.replace('-', "_"));
    let proc_macro = ["proc-macro", "proc_macro"]
        .iter()
        .any(|k| up_lib.and_then(|l| l.get(k)).and_then(Item::as_bool) == Some(true));
    if lib_name.is_some() || proc_macro || doc.contains_key("lib") {
        let lib = doc
            .entry("lib")
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_mut()
            .expect("[lib] is a table");
        if graph_wide {
            set_or_remove(lib, "name", lib_name.map(value));
        }
        lib.remove("proc_macro");
        set_or_remove(lib, "proc-macro", proc_macro.then(|| value(true)));
        if lib.is_empty() {
            doc.remove("lib");
        }
    }

    let features = features_without_dev_deps(upstream);
    mirror_table(doc.as_table_mut(), features.as_ref(), "features", None);
    mirror_table(
        doc.as_table_mut(),
        upstream.get("dependencies"),
        "dependencies",
        None,
    );
    // The upstream's build-dependencies compile its build script in the
    // shim's; the shim's own `build-patch` stays, and so does the table, in
    // its place. (Old manifests may spell it `build_dependencies`.)
    mirror_table(
        doc.as_table_mut(),
        upstream
            .get("build-dependencies")
            .or_else(|| upstream.get("build_dependencies")),
        "build-dependencies",
        Some(BUILD_PATCH),
    );

    // [target.'cfg'.dependencies] and build-dependencies: mirror each; keep
    // other target tables.
    for kind in ["dependencies", "build-dependencies"] {
        mirror_target_tables(doc, upstream, kind);
    }
    if doc
        .get("target")
        .and_then(Item::as_table_like)
        .is_some_and(|t| t.is_empty())
    {
        doc.remove("target");
    }
}

/// The upstream manifest without the `path` of dependencies that also give a
/// `version`: crates published by old Cargo kept `path = "../sibling"`, which
/// Cargo ignores for a registry package but would follow from a shim. In a
/// git repository such a path names a package of the same repository, which
/// Cargo takes from that repository: the shim names it by `git` (and the
/// shim's reference), with or without a `version`.
fn without_local_paths(upstream: &DocumentMut, from: &Upstream) -> DocumentMut {
    let git = match from {
        Upstream::Git { .. } => from.metadata_keys(),
        _ => Vec::new(),
    };
    let mut doc = upstream.clone();
    let kinds = [
        "dependencies",
        "build-dependencies",
        "build_dependencies",
        "dev-dependencies",
        "dev_dependencies",
    ];
    let strip = |parent: &mut dyn toml_edit::TableLike| {
        for kind in kinds {
            let Some(deps) = parent.get_mut(kind).and_then(Item::as_table_like_mut) else {
                continue;
            };
            for (_, dep) in deps.iter_mut() {
                let Some(t) = dep.as_table_like_mut() else {
                    continue;
                };
                if (git.is_empty() && !t.contains_key("version")) || t.remove("path").is_none() {
                    continue;
                }
                for (k, v) in &git {
                    t.insert(k, value(*v));
                }
                if let Some(t) = dep.as_inline_table_mut() {
                    t.fmt();
                }
            }
        }
    };
    strip(doc.as_table_mut());
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, t) in targets.iter_mut() {
            if let Some(t) = t.as_table_like_mut() {
                strip(t);
            }
        }
    }
    doc
}

/// The upstream `[features]` without the items that enable dev-dependencies
/// (`bumpalo/allocator_api` where bumpalo is only a dev-dependency): Cargo
/// allows them in a registry crate, for its own tests, but a shim has no
/// dev-dependencies. The build-time check drops them the same way.
fn features_without_dev_deps(upstream: &DocumentMut) -> Option<Item> {
    let mut features = upstream.get("features")?.clone();
    let names = |key: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |t: Option<&Item>| {
            if let Some(t) = t.and_then(Item::as_table_like) {
                out.extend(t.iter().map(|(k, _)| k.to_string()));
            }
        };
        add(upstream.get(key));
        if let Some(targets) = upstream.get("target").and_then(Item::as_table_like) {
            for (_, t) in targets.iter() {
                add(t.get(key));
            }
        }
        out
    };
    let normal: Vec<String> = ["dependencies", "build-dependencies", "build_dependencies"]
        .iter()
        .flat_map(|k| names(k))
        .collect();
    let dev_only: Vec<String> = ["dev-dependencies", "dev_dependencies"]
        .iter()
        .flat_map(|k| names(k))
        .filter(|d| !normal.contains(d))
        .collect();
    if let Some(table) = features.as_table_like_mut() {
        for (_, enables) in table.iter_mut() {
            if let Some(array) = enables.as_array_mut() {
                array.retain(|v| {
                    let item = v.as_str().unwrap_or("");
                    let dep = item
                        .strip_prefix("dep:")
                        .or_else(|| item.split_once('/').map(|(d, _)| d.trim_end_matches('?')));
                    !dep.is_some_and(|d| dev_only.iter().any(|x| x == d))
                });
            }
        }
    }
    Some(features)
}

/// Mirrors `[target.*.KIND]` of `upstream` into `doc`.
fn mirror_target_tables(doc: &mut DocumentMut, upstream: &DocumentMut, kind: &str) {
    let up_targets: Vec<(String, Item)> = upstream
        .get("target")
        .and_then(Item::as_table_like)
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| {
                    v.get(kind)
                        .or_else(|| v.get(kind.replace('-', "_")))
                        .map(|d| (k.to_string(), d.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        let keys: Vec<String> = targets.iter().map(|(k, _)| k.to_string()).collect();
        for k in keys {
            if !up_targets.iter().any(|(t, _)| *t == k) {
                if let Some(t) = targets.get_mut(&k).and_then(Item::as_table_like_mut) {
                    t.remove(kind);
                    if t.is_empty() {
                        targets.remove(&k);
                    }
                }
            }
        }
    }
    if !up_targets.is_empty() {
        let targets = doc
            .entry("target")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_mut()
            .expect("[target] is a table");
        for (k, deps) in up_targets {
            let t = targets
                .entry(&k)
                .or_insert_with(|| {
                    let mut t = Table::new();
                    t.set_implicit(true);
                    Item::Table(t)
                })
                .as_table_mut()
                .expect("target table");
            mirror_table(t, Some(&deps), kind, None);
        }
    }
}

/// Makes `parent[key]` hold the entries of `upstream`, keeping entries whose
/// value already agrees (and their decoration) untouched, and the entry
/// named `keep` whatever the upstream says. An existing table stays where it
/// is in the document, unless nothing is left in it.
fn mirror_table(parent: &mut Table, upstream: Option<&Item>, key: &str, keep: Option<&str>) {
    let up = upstream
        .and_then(Item::as_table_like)
        .filter(|up| !up.is_empty());
    let Some(table) = parent.get_mut(key).and_then(Item::as_table_like_mut) else {
        if let Some(up) = up {
            let mut table = Table::new();
            for (k, v) in up.iter() {
                table.insert(k, plain(v));
            }
            parent.insert(key, Item::Table(table));
        }
        return;
    };
    let stale: Vec<String> = table
        .iter()
        .filter(|(k, _)| Some(*k) != keep && !up.is_some_and(|up| up.contains_key(k)))
        .map(|(k, _)| k.to_string())
        .collect();
    for k in stale {
        table.remove(&k);
    }
    let Some(up) = up else {
        if table.is_empty() {
            parent.remove(key);
        }
        return;
    };
    for (k, v) in up.iter() {
        let same = table.get(k).is_some_and(|mine| same_value(mine, v));
        if !same {
            table.insert(k, plain(v));
        }
    }
}

/// Whether two items hold the same data, whatever their formatting.
fn same_value(a: &Item, b: &Item) -> bool {
    canonical_item(a) == canonical_item(b)
}

/// A text that is the same for equal data: table keys sorted, no decoration.
fn canonical_item(item: &Item) -> String {
    match item {
        Item::Value(v) => canonical_value(v),
        Item::Table(t) => canonical_table(t.iter().map(|(k, v)| (k, canonical_item(v)))),
        Item::ArrayOfTables(a) => {
            let parts: Vec<String> = a
                .iter()
                .map(|t| canonical_table(t.iter().map(|(k, v)| (k, canonical_item(v)))))
                .collect();
            format!("[{}]", parts.join(","))
        }
        Item::None => String::new(),
    }
}

fn canonical_value(v: &toml_edit::Value) -> String {
    use toml_edit::Value as V;
    match v {
        V::String(s) => format!("{:?}", s.value()),
        V::Integer(i) => i.value().to_string(),
        V::Float(f) => f.value().to_string(),
        V::Boolean(b) => b.value().to_string(),
        V::Datetime(d) => d.value().to_string(),
        V::Array(a) => {
            let parts: Vec<String> = a.iter().map(canonical_value).collect();
            format!("[{}]", parts.join(","))
        }
        V::InlineTable(t) => canonical_table(t.iter().map(|(k, v)| (k, canonical_value(v)))),
    }
}

fn canonical_table<'a>(entries: impl Iterator<Item = (&'a str, String)>) -> String {
    let mut entries: Vec<(&str, String)> = entries.collect();
    entries.sort();
    let parts: Vec<String> = entries.iter().map(|(k, v)| format!("{k:?}={v}")).collect();
    format!("{{{}}}", parts.join(","))
}

/// `item` as a plain value: tables become inline tables, decoration dropped.
fn plain(item: &Item) -> Item {
    let mut item = item.clone();
    if let Item::Table(t) = item {
        let mut inline = t.into_inline_table();
        inline.fmt();
        item = value(inline);
    }
    if let Item::Value(v) = &mut item {
        v.decor_mut().clear();
    }
    item
}

fn set_or_remove(table: &mut Table, key: &str, item: Option<Item>) {
    match item {
        Some(new) => {
            if !table.get(key).is_some_and(|old| same_value(old, &new)) {
                table.insert(key, new);
            }
        }
        None => {
            table.remove(key);
        }
    }
}

use crate::fs::write_creating as write;

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// `to` relative to the directory `from`, both absolute, with `/`.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let from = normalize(from);
    let to = normalize(to);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// `path` with `.` and `..` resolved lexically (no filesystem access).
fn normalize(path: &Path) -> Vec<Component<'_>> {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use support::{assert_contains, assert_lacks};

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(
                Path::new("/w/ex/b/patched/s"),
                Path::new("/w/ex/b/../../p/x.patch")
            ),
            "../../../../p/x.patch"
        );
        assert_eq!(
            relative_path(Path::new("/w/patched/foo"), Path::new("/w/patches/a.patch")),
            "../../patches/a.patch"
        );
        assert_eq!(relative_path(Path::new("/w"), Path::new("/w/p/x")), "p/x");
    }

    fn doc(s: &str) -> DocumentMut {
        s.parse().unwrap()
    }

    /// `shim` mirroring the crates.io upstream `up`; its text.
    fn mirrored(shim: &mut DocumentMut, up: &DocumentMut, graph_wide: bool) -> String {
        mirror_upstream(shim, up, graph_wide, &Upstream::CratesIo);
        shim.to_string()
    }

    #[test]
    fn mirroring_build_dependencies_keeps_build_patch() {
        let mut shim = doc("[package]\nname = \"s\"\nversion = \"1.0.0\"\n\n\
             [build-dependencies]\nbuild-patch = { path = \"../bp\" }\nstale = \"1\"\n");
        let up = doc(
            "[package]\nname = \"s\"\nversion = \"1.0.0\"\nbuild = \"build/main.rs\"\n\
             [build_dependencies]\ncc = \"1.0\"\n\
             [target.'cfg(windows)'.build-dependencies]\nvcpkg = \"0.2\"\n",
        );
        let text = mirrored(&mut shim, &up, true);
        assert_contains(
            &text,
            &[
                "build = \"build/main.rs\"",
                "build-patch = { path = \"../bp\" }",
                "cc = \"1.0\"",
                ".build-dependencies]\nvcpkg = \"0.2\"",
            ],
        );
        assert_lacks(&text, &["stale"]);
    }

    #[test]
    fn paths_left_by_old_publishes_are_dropped() {
        // commoncrypto 0.2.0, as published in 2016.
        let mut shim = doc("[package]\nname = \"commoncrypto\"\nversion = \"0.2.0\"\n");
        let up = doc(r#"[package]
name = "commoncrypto"
version = "0.2.0"
[dependencies]
commoncrypto-sys = { version = "0.2.0", path = "../commoncrypto-sys" }
[target.'cfg(unix)'.dependencies.sib]
version = "1"
path = "../sib"
"#);
        let text = mirrored(&mut shim, &up, true);
        assert_contains(&text, &["commoncrypto-sys = { version = \"0.2.0\" }"]);
        assert_lacks(&text, &["path"]);
    }

    #[test]
    fn mirroring_keeps_what_the_user_added_and_what_agrees() {
        let mut shim = doc(r#"# my comment
[package]
name = "foo"
version = "1.0.0"
edition = "2018"

[dependencies]
# keep me
serde = { version = "1", features = ["derive"] }
gone = "1"

[workspace]
"#);
        let up = doc(r#"[package]
name = "foo"
version = "1.0.0"
edition = "2021"
[features]
std = []
[dependencies.serde]
version = "1"
features = ["derive"]
[dependencies.log]
version = "0.4"
optional = true
[target.'cfg(unix)'.dependencies]
libc = "0.2"
[dev-dependencies]
x = "1"
"#);
        let text = mirrored(&mut shim, &up, true);
        assert!(text.starts_with("# my comment"), "{text}");
        assert_contains(
            &text,
            &[
                "edition = \"2021\"",
                "# keep me\nserde = { version = \"1\", features = [\"derive\"] }",
                "log = { version = \"0.4\", optional = true }",
                ".dependencies]\nlibc = \"0.2\"",
                "[features]\nstd = []",
                "[workspace]",
            ],
        );
        assert_lacks(&text, &["gone", "dev-dependencies"]);
        // Mirroring twice changes nothing.
        let again = {
            let mut d = doc(&text);
            mirror_upstream(&mut d, &up, true, &Upstream::CratesIo);
            d.to_string()
        };
        assert_eq!(again, text);
    }

    #[test]
    fn mirroring_keeps_an_explicit_2015_edition_and_the_table_order() {
        // examples/quickstart's shim: shlex 1.1.0 names no edition and has no
        // build-dependencies.
        let before = r#"[package]
name = "shlex-patched"
version = "0.1.0"
edition = "2015"          # shlex 1.1.0's edition (it names none: 2015)

[lib]
name = "shlex_patched"

[features]                # shlex 1.1.0's features
default = ["std"]
std = []

[package.metadata.build-patch]
crate = "shlex"

[build-dependencies]
build-patch = "0.1"   # a comment

[lints.rust]
unsafe_code = "forbid"
"#;
        let up = doc(r#"[package]
name = "shlex"
version = "1.1.0"
[features]
default = ["std"]
std = []
"#);
        let mut shim = doc(before);
        mirror_upstream(&mut shim, &up, false, &Upstream::CratesIo);
        assert_eq!(shim.to_string(), before);
        // A later edition upstream still replaces it.
        let up = doc("[package]\nname = \"shlex\"\nversion = \"1.1.0\"\nedition = \"2018\"\n");
        let text = mirrored(&mut shim, &up, false);
        assert_contains(
            &text,
            &[
                "edition = \"2018\"",
                "[build-dependencies]\nbuild-patch = \"0.1\"   # a comment\n\n[lints.rust]",
            ],
        );
        assert_lacks(&text, &["[features]"]);
    }

    #[test]
    fn a_git_upstream_s_path_dependencies_name_its_repository() {
        let up = doc(
            "[package]\nname = \"bar\"\nversion = \"0.3.0\"\n[dependencies]\n\
             foo = { path = \"../foo\", version = \"1.0.0\" }\nbaz = { path = \"../baz\" }\n",
        );
        let git = Upstream::Git {
            url: "file:///r".into(),
            reference: Some(("tag".into(), "v1".into())),
        };
        let mut shim = doc("[package]\nname = \"bar\"\nversion = \"0.3.0\"\n");
        mirror_upstream(&mut shim, &up, true, &git);
        let text = shim.to_string();
        assert_contains(
            &text,
            &[
                r#"foo = { version = "1.0.0", git = "file:///r", tag = "v1" }"#,
                r#"baz = { git = "file:///r", tag = "v1" }"#,
            ],
        );
        // From a registry, a published path is dropped where a version is.
        let mut shim = doc("[package]\nname = \"bar\"\nversion = \"0.3.0\"\n");
        let text = mirrored(&mut shim, &up, true);
        assert_contains(
            &text,
            &[
                r#"foo = { version = "1.0.0" }"#,
                r#"baz = { path = "../baz" }"#,
            ],
        );
    }
}
