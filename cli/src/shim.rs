//! `new` and `sync`: write a shim from the patched upstream, and bring an
//! existing one back in line with it.
//!
//! Both stage the patched upstream with the library (`Config::stage`, into a
//! scratch folder), then derive the shim's manifest from the patched
//! `Cargo.toml` with a format-preserving editor, so `sync` keeps whatever
//! the user added: a `[workspace]` table, other metadata, comments. What
//! must agree is the library's rule, the one the shim's build checks
//! (`Output::compare_shim_manifest`); this module only edits the items it
//! names (see `mirror_upstream`).

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

use build_patch::{
    Config, ManifestDifference, ManifestField, Output, BUILD_PATCH, BUILD_SCRIPT_FEATURE,
};
use toml_edit::{value, Array, DocumentMut, Item, Table};

use crate::fs::relative_path;
use crate::shell::Shell;
use crate::workspace::{locate_manifest, read_doc, ShimInfo, Upstream};

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

    mirror_upstream(
        &mut doc,
        &upstream,
        &out,
        req.from,
        &abs_dir.join("Cargo.toml"),
        Some(build_patch_dep(req.build_patch_path, &abs_dir, &cwd)),
    )?;

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
    mirror_upstream(&mut doc, &upstream, &out, &info.from, &manifest_path, None)?;
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

/// Makes `doc` (a shim's manifest, at `path`) say what the patched upstream
/// manifest `upstream` says wherever the shim's build compares them. The
/// library decides what differs (`Output::compare_shim_manifest`); this only
/// edits the document: each difference is fixed by copying that one item
/// from `upstream` (or removing it), so what already agrees stays as
/// written, comments and formatting included. Then the library compares
/// again, and any difference left (a value where a table belongs, which
/// this does not write over) is an error that lists them: `new` and `sync`
/// never report a shim its build would refuse. `build_patch` is `new`'s
/// entry for the shim's own build-dependency, inserted after the
/// upstream's build-dependencies (and given the feature that runs the
/// upstream build script when the comparison asks for it, as an existing
/// entry is).
///
/// Besides, choices of generation the build does not check (`new` writes
/// them, `sync` keeps them up to date):
/// - `edition` is written even where the upstream names none (2015): Cargo
///   warns about a path package without one;
/// - `build` is the upstream's (the shim's build script sits at the
///   upstream's path, or is the plain `build.rs`), and so is `rust-version`
///   when the upstream has one;
/// - dependencies are copied as [`without_local_paths`] rewrites them, and
///   those a git upstream names by `path` follow the shim's git reference
///   ([`follow_git_reference`]).
fn mirror_upstream(
    doc: &mut DocumentMut,
    upstream: &DocumentMut,
    out: &Output,
    from: &Upstream,
    path: &Path,
    build_patch: Option<Item>,
) -> Result<()> {
    let raw = upstream;
    let upstream = &without_local_paths(raw, from);
    let compare = |doc: &DocumentMut| {
        out.compare_shim_manifest(&doc.to_string(), path)
            .map_err(crate::opaque)
    };
    let differences = compare(doc)?;
    let up_package = upstream.get("package").and_then(Item::as_table_like);
    let up_str = |k: &str| up_package.and_then(|p| p.get(k)).and_then(Item::as_str);
    if let Some(package) = doc.get_mut("package").and_then(Item::as_table_like_mut) {
        let edition_differs = differences
            .iter()
            .any(|d| *d.field() == ManifestField::Edition);
        if edition_differs || !package.contains_key("edition") {
            package.insert("edition", value(up_str("edition").unwrap_or("2015")));
        }
        if differences
            .iter()
            .any(|d| *d.field() == ManifestField::Links)
        {
            copy_entry(package, up_package, "links");
        }
        // Generation choices, not compared by the build: a `build` that is
        // not a path goes (the shim always has a build script).
        match up_str("build") {
            Some(b) if package.get("build").and_then(Item::as_str) != Some(b) => {
                package.insert("build", value(b));
            }
            Some(_) => {}
            None => {
                package.remove("build");
            }
        }
        if let Some(rv) = up_str("rust-version") {
            if package.get("rust-version").and_then(Item::as_str) != Some(rv) {
                package.insert("rust-version", value(rv));
            }
        }
    }
    let lib_fields: Vec<&ManifestField> = differences
        .iter()
        .map(ManifestDifference::field)
        .filter(|f| matches!(f, ManifestField::LibName | ManifestField::ProcMacro))
        .collect();
    if !lib_fields.is_empty() {
        let up_lib = upstream.get("lib").and_then(Item::as_table_like);
        let lib = doc
            .entry("lib")
            .or_insert_with(|| Item::Table(Table::new()));
        if let Some(lib) = lib.as_table_like_mut() {
            for field in lib_fields {
                if *field == ManifestField::LibName {
                    copy_entry(lib, up_lib, "name");
                    continue;
                }
                // Written `proc-macro`, however the upstream says it (either
                // spelling, or `crate-type`).
                lib.remove("proc_macro");
                if out.upstream_is_proc_macro() {
                    lib.insert("proc-macro", value(true));
                } else {
                    lib.remove("proc-macro");
                }
            }
        }
        if doc
            .get("lib")
            .and_then(Item::as_table_like)
            .is_some_and(|l| l.is_empty())
        {
            doc.remove("lib");
        }
    }
    let features: Vec<&str> = differences
        .iter()
        .filter_map(|d| match d.field() {
            ManifestField::Feature(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    edit_table(
        doc.as_table_mut(),
        "features",
        upstream.get("features"),
        &features,
        |name, item| {
            let mut item = plain(item);
            let counted = out.upstream_feature_items(name).unwrap_or_default();
            if let Some(items) = item.as_array_mut() {
                let len = items.len();
                items.retain(|v| v.as_str().is_some_and(|s| counted.contains(&s)));
                if items.len() != len {
                    items.fmt();
                }
            }
            item
        },
    );
    for section in dependency_sections(&differences, upstream) {
        edit_dependencies(doc, upstream, &section);
    }
    if let Some(entry) = build_patch {
        // `new`: after the upstream's build-dependencies, if any.
        let table = read_spelling(doc.as_table(), true);
        doc.entry(&table)
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_like_mut()
            .expect("a new shim's [build-dependencies] is a table")
            .insert(BUILD_PATCH, entry);
    }
    if differences
        .iter()
        .any(|d| *d.field() == ManifestField::BuildScriptFeature)
    {
        enable_build_script_feature(doc);
    } else if out.upstream_build_script().is_none() {
        // A generation choice: the feature costs every build of the shim
        // and runs nothing once the upstream has no build script.
        disable_build_script_feature(doc);
    }
    follow_git_reference(doc, raw, from);
    let left = compare(doc)?;
    if left.is_empty() {
        return Ok(());
    }
    let mut text = format!(
        "the shim's manifest `{}` does not agree with the patched manifest of `{} {}`, and \
         the shim's build would refuse it:",
        path.display(),
        string_at(upstream, "package", "name", ""),
        string_at(upstream, "package", "version", "")
    );
    for d in &left {
        text.push_str("\n  - ");
        text.push_str(d.text());
    }
    text.push_str(
        "\n  help: `new` and `sync` edit only the tables they can read, and write over no \
         other value: fix these by hand",
    );
    Err(anyhow!(text))
}

/// Adds [`BUILD_SCRIPT_FEATURE`] to the features of the shim's `build-patch`
/// build-dependency (in the table Cargo reads), which a requirement alone
/// (`build-patch = "0.1"`) becomes a table for. Nothing happens when the
/// shim has no such entry, or it is not a table or a string: the comparison
/// after the edits then reports it.
fn enable_build_script_feature(doc: &mut DocumentMut) {
    let Some(entry) = build_patch_entry(doc) else {
        return;
    };
    if let Some(req) = entry.as_value() {
        if let Some(v) = req.as_str() {
            // A comment after the requirement stays after the table.
            let mut t = toml_edit::InlineTable::new();
            t.insert("version", v.into());
            let mut table = toml_edit::Value::InlineTable(t);
            *table.decor_mut() = req.decor().clone();
            *entry = Item::Value(table);
        }
    }
    let Some(t) = entry.as_table_like_mut() else {
        return;
    };
    let features = t.entry("features").or_insert_with(|| value(Array::new()));
    if let Some(features) = features.as_array_mut() {
        if !features
            .iter()
            .any(|f| f.as_str() == Some(BUILD_SCRIPT_FEATURE))
        {
            features.push(BUILD_SCRIPT_FEATURE);
        }
    }
    if let Some(t) = entry.as_inline_table_mut() {
        t.fmt();
    }
}

/// Takes [`BUILD_SCRIPT_FEATURE`] out of the features of the shim's
/// `build-patch` build-dependency (in the table Cargo reads), and an empty
/// `features` with it.
fn disable_build_script_feature(doc: &mut DocumentMut) {
    let Some(t) = build_patch_entry(doc).and_then(Item::as_table_like_mut) else {
        return;
    };
    let Some(features) = t.get_mut("features").and_then(Item::as_array_mut) else {
        return;
    };
    let before = features.len();
    features.retain(|f| f.as_str() != Some(BUILD_SCRIPT_FEATURE));
    if features.len() == before {
        return;
    }
    if features.is_empty() {
        t.remove("features");
    } else {
        features.fmt();
    }
}

/// The shim's own `build-patch` entry, in the `[build-dependencies]` table
/// Cargo reads (the one whose features the build compares).
fn build_patch_entry(doc: &mut DocumentMut) -> Option<&mut Item> {
    let table = read_spelling(doc.as_table(), true);
    doc.get_mut(&table)?
        .as_table_like_mut()?
        .get_mut(BUILD_PATCH)
}

/// `parent[key]` as `upstream[key]` says: copied, or removed when the
/// upstream has none.
fn copy_entry(
    parent: &mut dyn toml_edit::TableLike,
    upstream: Option<&dyn toml_edit::TableLike>,
    key: &str,
) {
    match upstream.and_then(|u| u.get(key)) {
        Some(item) => {
            parent.insert(key, plain(item));
        }
        None => {
            parent.remove(key);
        }
    }
}

/// One dependency table of the comparison: build-dependencies or not, of a
/// target or not, and the names in it that differ, each with whether the
/// shim takes it from a local copy ([`ManifestDifference::is_local_override`]).
struct Section<'a> {
    build: bool,
    target: Option<&'a str>,
    names: Vec<(&'a str, bool)>,
}

/// The dependency tables that differ, in the order a new shim writes them:
/// `[dependencies]`, `[build-dependencies]`, then each target's (in the
/// upstream's order), normal ones first.
fn dependency_sections<'a>(
    differences: &'a [ManifestDifference],
    upstream: &DocumentMut,
) -> Vec<Section<'a>> {
    let mut out: Vec<Section<'a>> = Vec::new();
    for d in differences {
        let ManifestField::Dependency {
            build,
            target,
            name,
        } = d.field()
        else {
            continue;
        };
        let target = target.as_deref();
        match out
            .iter_mut()
            .find(|s| s.build == *build && s.target == target)
        {
            Some(s) => s.names.push((name, d.is_local_override())),
            None => out.push(Section {
                build: *build,
                target,
                names: vec![(name, d.is_local_override())],
            }),
        }
    }
    let up_targets: Vec<String> = upstream
        .get("target")
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    out.sort_by_key(|s| {
        let place = s.target.map(|t| up_targets.iter().position(|u| u == t));
        (s.target.is_some(), s.target.is_some() && s.build, place)
    });
    out
}

/// The spellings of a dependency table: both of build-dependencies, whose
/// old underscored one an old manifest may still hold.
fn spellings(build: bool) -> &'static [&'static str] {
    if build {
        &["build-dependencies", "build_dependencies"]
    } else {
        &["dependencies"]
    }
}

/// The spelling of the dependency table Cargo reads in `parent`, by the
/// library's rule (the build's comparison reads manifests by it).
fn read_spelling(parent: &Table, build: bool) -> String {
    build_patch::spelling_cargo_reads(spellings(build)[0], &|k| parent.contains_key(k))
}

/// Fixes the dependencies of `section` in `doc` from `upstream`. A
/// build-dependency goes in the table of the shim that Cargo reads (see
/// [`spellings`]), and out of the other; a dependency the shim takes from a
/// local copy keeps where it comes from.
fn edit_dependencies(doc: &mut DocumentMut, upstream: &DocumentMut, section: &Section<'_>) {
    let spellings = spellings(section.build);
    let up_parent = match section.target {
        None => Some(upstream.as_table()),
        Some(t) => upstream
            .get("target")
            .and_then(|targets| targets.get(t))
            .and_then(Item::as_table),
    };
    let up_table = up_parent.and_then(|p| p.get(&read_spelling(p, section.build)));
    let parent = match section.target {
        None => Some(doc.as_table_mut()),
        Some(t) => doc
            .entry("target")
            .or_insert_with(implicit_table)
            .as_table_mut()
            .and_then(|targets| {
                targets
                    .entry(t)
                    .or_insert_with(implicit_table)
                    .as_table_mut()
            }),
    };
    let Some(parent) = parent else { return };
    // The upstream's order, for what a new table gets.
    let up_names: Vec<&str> = up_table
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let mut names = section.names.clone();
    names.sort_by_key(|(n, _)| up_names.iter().position(|u| u == n));
    let table = read_spelling(parent, section.build);
    let table = table.as_str();
    for (name, local) in &names {
        for other in spellings.iter().filter(|k| **k != table) {
            if let Some(t) = parent.get_mut(other).and_then(Item::as_table_like_mut) {
                t.remove(name);
            }
        }
        let one = [*name];
        let mine = parent.get(table).and_then(|t| t.get(name)).cloned();
        edit_table(parent, table, up_table, &one, |_, up| {
            match mine.as_ref().filter(|_| *local) {
                Some(mine) => keep_source(mine, up),
                None => plain(up),
            }
        });
    }
    for k in spellings {
        if parent
            .get(k)
            .and_then(Item::as_table_like)
            .is_some_and(|t| t.is_empty())
        {
            parent.remove(k);
        }
    }
    if section.target.is_some() {
        let targets = doc.get_mut("target").and_then(Item::as_table_like_mut);
        if let Some(targets) = targets {
            let target = section.target.unwrap_or_default();
            if targets
                .get(target)
                .and_then(Item::as_table_like)
                .is_some_and(|t| t.is_empty())
            {
                targets.remove(target);
            }
            if targets.is_empty() {
                doc.remove("target");
            }
        }
    }
}

fn implicit_table() -> Item {
    let mut t = Table::new();
    t.set_implicit(true);
    Item::Table(t)
}

/// The keys of a dependency that say where it comes from; those the build
/// does not compare for a local copy.
const SOURCE_KEYS: &[&str] = &[
    "path",
    "git",
    "branch",
    "tag",
    "rev",
    "version",
    "package",
    "registry",
    "registry-index",
];

/// The shim's `mine` (a local copy) with every key but where it comes from
/// as `up` says.
fn keep_source(mine: &Item, up: &Item) -> Item {
    let mut item = mine.clone();
    let Some(t) = item.as_table_like_mut() else {
        return plain(up);
    };
    let stale: Vec<String> = t
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !SOURCE_KEYS.contains(&k.as_str()))
        .collect();
    for k in stale {
        t.remove(&k);
    }
    if let Some(up) = up.as_table_like() {
        for (k, v) in up.iter().filter(|(k, _)| !SOURCE_KEYS.contains(k)) {
            t.insert(k, plain(v));
        }
    }
    if let Some(t) = item.as_inline_table_mut() {
        t.fmt();
    }
    item
}

/// Makes the entries `names` of the table `parent[key]` say what the
/// upstream table `upstream` says: written by `write` (from the upstream's
/// entry), in the upstream's order, or removed when it has none. Entries not in `names` are not touched; a table made
/// here goes after the others, and one left empty goes. Nothing happens
/// when `parent[key]` is there but not a table.
fn edit_table(
    parent: &mut Table,
    key: &str,
    upstream: Option<&Item>,
    names: &[&str],
    write: impl Fn(&str, &Item) -> Item,
) {
    let up = upstream.and_then(Item::as_table_like);
    let mut new: Vec<(&str, Item)> = Vec::new();
    if let Some(up) = up {
        for (k, v) in up.iter().filter(|(k, _)| names.contains(k)) {
            new.push((k, write(k, v)));
        }
    }
    if !parent.contains_key(key) {
        if new.is_empty() {
            return;
        }
        parent.insert(key, Item::Table(Table::new()));
    }
    let Some(table) = parent.get_mut(key).and_then(Item::as_table_like_mut) else {
        return;
    };
    for name in names {
        if !up.is_some_and(|up| up.contains_key(name)) {
            table.remove(name);
        }
    }
    for (k, v) in new {
        table.insert(k, v);
    }
    if table.is_empty() {
        parent.remove(key);
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

/// Points the dependencies that the git upstream `upstream` names by `path`
/// (packages of its repository, which the shim names by `git`) at the
/// shim's reference, where the shim names them in the same repository: a
/// generation choice (the build does not compare the source of a
/// dependency the upstream names by `path`), so that `upgrade --tag` moves
/// them with the shim.
fn follow_git_reference(doc: &mut DocumentMut, upstream: &DocumentMut, from: &Upstream) {
    let Upstream::Git { url, .. } = from else {
        return;
    };
    let mut parents: Vec<(Option<String>, &Table)> = vec![(None, upstream.as_table())];
    if let Some(targets) = upstream.get("target").and_then(Item::as_table) {
        for (t, item) in targets.iter() {
            if let Some(table) = item.as_table() {
                parents.push((Some(t.to_string()), table));
            }
        }
    }
    for (target, up) in parents {
        for build in [false, true] {
            // The tables Cargo reads, here and in the shim.
            let kind = read_spelling(up, build);
            let Some(deps) = up.get(&kind).and_then(Item::as_table_like) else {
                continue;
            };
            for (name, dep) in deps.iter() {
                if dep.get("path").is_none() {
                    continue;
                }
                // `Table::get_mut`, which never inserts (an `Item`'s
                // index does).
                let parent = match &target {
                    None => Some(doc.as_table_mut()),
                    Some(t) => doc
                        .as_table_mut()
                        .get_mut("target")
                        .and_then(Item::as_table_mut)
                        .and_then(|ts| ts.get_mut(t))
                        .and_then(Item::as_table_mut),
                };
                let Some(parent) = parent else { continue };
                let my_kind = read_spelling(parent, build);
                let mine = parent
                    .get_mut(&my_kind)
                    .and_then(Item::as_table_like_mut)
                    .and_then(|d| d.get_mut(name))
                    .and_then(Item::as_table_like_mut);
                let Some(mine) = mine else { continue };
                let same_repo = mine
                    .get("git")
                    .and_then(Item::as_str)
                    .is_some_and(|g| build_patch::same_git_url(g, url));
                let keys = from.metadata_keys();
                let pinned = keys
                    .iter()
                    .all(|(k, v)| mine.get(k).and_then(Item::as_str) == Some(*v))
                    && ["branch", "tag", "rev"]
                        .iter()
                        .all(|k| mine.contains_key(k) == keys.iter().any(|(key, _)| key == k));
                if !same_repo || pinned {
                    continue;
                }
                for k in ["branch", "tag", "rev"] {
                    mine.remove(k);
                }
                for (k, v) in keys.into_iter().skip(1) {
                    mine.insert(k, value(v));
                }
            }
        }
    }
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

use crate::fs::write_creating as write;

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use support::{assert_contains, assert_lacks};

    fn doc(s: &str) -> DocumentMut {
        s.parse().unwrap()
    }

    /// `shim` mirroring the crates.io upstream manifest `up`; its text.
    fn mirrored(shim: &mut DocumentMut, up: &str) -> String {
        mirrored_from(shim, up, &Upstream::CratesIo)
    }

    /// `shim` mirroring the upstream manifest `up` from `from`, staged from a
    /// local copy by the library (so compared as the build compares it); its
    /// text.
    fn mirrored_from(shim: &mut DocumentMut, up: &str, from: &Upstream) -> String {
        let src = tempfile::tempdir().unwrap();
        let file = |rel: &str, text: &str| {
            let path = src.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        file("Cargo.toml", up);
        file("src/lib.rs", "");
        let up_doc = doc(up);
        if let Some(script) = up_doc["package"].get("build").and_then(Item::as_str) {
            file(script, "fn main() {}\n");
        }
        let out_dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::new();
        cfg.upstream(
            &string_at(&up_doc, "package", "name", ""),
            &string_at(&up_doc, "package", "version", ""),
        )
        .source(src.path())
        .manifest_dir(src.path())
        .out_dir(out_dir.path())
        .cargo_directives(false);
        let out = cfg.stage().unwrap();
        let staged = read_doc(&out.staged_dir().join("Cargo.toml")).unwrap();
        mirror_upstream(shim, &staged, &out, from, Path::new("Cargo.toml"), None).unwrap();
        shim.to_string()
    }

    /// An upstream with a build script needs build-patch's feature: a plain
    /// requirement becomes a table, an existing feature list gets it once.
    #[test]
    fn an_upstream_build_script_enables_the_feature_on_build_patch() {
        let up = "[package]\nname = \"s\"\nversion = \"1.0.0\"\nbuild = \"build.rs\"\n";
        for (entry, expected) in [
            (
                "build-patch = \"0.1\" # the series we test",
                "build-patch = { version = \"0.1\", features = [\"upstream-build-script\"] } # the series we test",
            ),
            (
                "build-patch = { version = \"0.1\", features = [\"x\"] }",
                "build-patch = { version = \"0.1\", features = [\"x\", \"upstream-build-script\"] }",
            ),
        ] {
            let mut shim = doc(&format!(
                "[package]\nname = \"s\"\nversion = \"1.0.0\"\n\n[build-dependencies]\n{entry}\n"
            ));
            let text = mirrored(&mut shim, up);
            assert_contains(&text, &[expected]);
            let mut again = doc(&text);
            assert_eq!(mirrored(&mut again, up), text);
            // The upstream loses its build script: the feature goes.
            let mut without = doc(&text);
            let plain = mirrored(&mut without, "[package]\nname = \"s\"\nversion = \"1.0.0\"\n");
            assert_lacks(&plain, &["upstream-build-script"]);
        }
    }

    #[test]
    fn mirroring_build_dependencies_keeps_build_patch() {
        let mut shim = doc("[package]\nname = \"s\"\nversion = \"1.0.0\"\n\n\
             [build-dependencies]\nbuild-patch = { path = \"../bp\" }\nstale = \"1\"\n");
        let up = "[package]\nname = \"s\"\nversion = \"1.0.0\"\nbuild = \"build/main.rs\"\n\
             [build_dependencies]\ncc = \"1.0\"\n\
             [target.'cfg(windows)'.build-dependencies]\nvcpkg = \"0.2\"\n";
        let text = mirrored(&mut shim, up);
        assert_contains(
            &text,
            &[
                "build = \"build/main.rs\"",
                "build-patch = { path = \"../bp\", features = [\"upstream-build-script\"] }",
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
        let up = r#"[package]
name = "commoncrypto"
version = "0.2.0"
[dependencies]
commoncrypto-sys = { version = "0.2.0", path = "../commoncrypto-sys" }
[target.'cfg(unix)'.dependencies.sib]
version = "1"
path = "../sib"
"#;
        let text = mirrored(&mut shim, up);
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
        let up = r#"[package]
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
"#;
        let text = mirrored(&mut shim, up);
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
            mirrored(&mut d, up)
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
        let up = r#"[package]
name = "shlex"
version = "1.1.0"
[features]
default = ["std"]
std = []
"#;
        let mut shim = doc(before);
        mirrored(&mut shim, up);
        assert_eq!(shim.to_string(), before);
        // A later edition upstream still replaces it.
        let up = "[package]\nname = \"shlex\"\nversion = \"1.1.0\"\nedition = \"2018\"\n";
        let text = mirrored(&mut shim, up);
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
        let up = "[package]\nname = \"bar\"\nversion = \"0.3.0\"\n[dependencies]\n\
             foo = { path = \"../foo\", version = \"1.0.0\" }\nbaz = { path = \"../baz\" }\n";
        let git = Upstream::Git {
            url: "file:///r".into(),
            reference: Some(("tag".into(), "v1".into())),
        };
        let mut shim = doc("[package]\nname = \"bar\"\nversion = \"0.3.0\"\n");
        let text = mirrored_from(&mut shim, up, &git);
        assert_contains(
            &text,
            &[
                r#"foo = { version = "1.0.0", git = "file:///r", tag = "v1" }"#,
                r#"baz = { git = "file:///r", tag = "v1" }"#,
            ],
        );
        // From a registry, a published path is dropped where a version is.
        let mut shim = doc("[package]\nname = \"bar\"\nversion = \"0.3.0\"\n");
        let text = mirrored(&mut shim, up);
        assert_contains(
            &text,
            &[
                r#"foo = { version = "1.0.0" }"#,
                r#"baz = { path = "../baz" }"#,
            ],
        );
    }

    /// A git upstream at a tag (`Upstream::Git`), for the mirroring tests.
    fn git_at(tag: &str) -> Upstream {
        Upstream::Git {
            url: "file:///r".into(),
            reference: Some(("tag".into(), tag.into())),
        }
    }

    /// Where a dependency comes from is mirrored (git repository and
    /// reference, registry), but for a `path` the shim takes on purpose.
    #[test]
    fn dependency_sources_follow_the_upstream() {
        let pkg = "[package]\nname = \"bar\"\nversion = \"0.3.0\"\nedition = \"2015\"\n";
        let cases = [
            (
                "[dependencies]\nfoo = { git = \"https://example.com/foo\", rev = \"abc\" }\n",
                "[dependencies]\nfoo = { git = \"https://example.com/foo\", branch = \"fix\" }\n",
                "rev = \"abc\"",
                "branch",
            ),
            (
                "[dependencies]\nfoo = \"1.3\"\n",
                "[dependencies]\nfoo = { git = \"https://example.com/foo\", branch = \"fix\" }\n",
                "foo = \"1.3\"",
                "git",
            ),
            (
                "[dependencies]\nx = { version = \"1\", registry-index = \"sparse+https://alt.example/\" }\n",
                "[dependencies]\nx = \"1\"\n",
                "registry-index",
                "x = \"1\"\n",
            ),
        ];
        for (up, mine, has, lacks) in cases {
            let mut shim = doc(&format!("{pkg}{mine}"));
            let text = mirrored(&mut shim, &format!("{pkg}{up}"));
            assert_contains(&text, &[has]);
            assert_lacks(&text, &[lacks]);
        }
        // Another repository's pin, in a git upstream: the upstream's.
        let mut shim = doc(&format!(
            "{pkg}[dependencies]\nother = {{ git = \"https://example.com/other\", rev = \"aaaa\" }}\n"
        ));
        let up = format!("{pkg}[dependencies]\nother = {{ git = \"https://example.com/other\", rev = \"bbbb\" }}\n");
        assert_contains(
            &mirrored_from(&mut shim, &up, &git_at("v2")),
            &["rev = \"bbbb\""],
        );
    }

    /// A git upstream's siblings (by `path`) follow the shim's tag, in the
    /// build-dependency table Cargo reads, and nothing else is added.
    #[test]
    fn siblings_of_a_git_upstream_follow_the_tag_in_either_spelling() {
        let pkg = "[package]\nname = \"bar\"\nversion = \"0.3.0\"\nedition = \"2015\"\n";
        for (up_table, shim_table) in [
            ("build_dependencies", "build-dependencies"),
            ("build-dependencies", "build_dependencies"),
            ("build-dependencies", "build-dependencies"),
        ] {
            let up = format!("{pkg}[{up_table}]\nhelper = {{ path = \"../helper\" }}\n");
            let mut shim = doc(&format!(
                "{pkg}[{shim_table}]\nbuild-patch = {{ path = \"../bp\" }}\n\
                 helper = {{ git = \"file:///r\", tag = \"v1\" }}\n"
            ));
            let text = mirrored_from(&mut shim, &up, &git_at("v2"));
            assert_contains(&text, &["tag = \"v2\""]);
            assert_lacks(&text, &["= {}", "tag = \"v1\""]);
        }
    }

    /// A proc-macro crate said by `crate-type`, as Cargo reads it.
    #[test]
    fn a_proc_macro_by_crate_type_is_mirrored() {
        let up = "[package]\nname = \"bar\"\nversion = \"0.3.0\"\n[lib]\ncrate-type = [\"proc-macro\"]\n";
        let mut shim = doc("[package]\nname = \"bar\"\nversion = \"0.3.0\"\n");
        assert_contains(&mirrored(&mut shim, up), &["[lib]\nproc-macro = true"]);
    }
}
