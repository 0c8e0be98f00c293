//! Finding the pristine source of exactly one upstream version.
//!
//! In order:
//! 1. a local directory named in the configuration (`source = "..."`): a
//!    vendored copy or an unpacked crate;
//! 2. Cargo's registry source cache, `$CARGO_HOME/registry/src/*/NAME-VERSION`,
//!    when Cargo finished unpacking it (its `.cargo-ok` marker is there);
//!    (crates.io shims only, and only when one index folder has it: that
//!    cache does not say which registry a folder is for, and an alternative
//!    registry or a git repository may hold another package of the same
//!    name and version);
//! 3. Cargo itself: a nested `cargo metadata` on a private manifest that
//!    depends on `NAME = "=VERSION"`, `{ version = "=VERSION", registry =
//!    "NAME" }` or `{ git = "URL", rev|tag|branch = "..." }`. It runs in the
//!    shim's directory, so the workspace's source replacement, vendoring,
//!    registries, `net.git-fetch-with-cli` and offline settings apply, and
//!    it is offline first, so a crate Cargo already has (in its registry
//!    cache or its git checkouts) never touches the network. The package it
//!    picks must come from the source asked for: never a path, never
//!    crates.io for another source.
//!
//! A `branch` (or no reference: the default branch) is resolved to the
//! commit the workspace's `Cargo.lock` (the nearest one above the shim)
//! records for that git source, when it records one, so the patched code is
//! the locked code; otherwise to the commit Cargo resolves (offline first:
//! the branch head in Cargo's git cache).
//!
//! Nothing here writes anywhere but into the private folder under `OUT_DIR`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::{GitRef, Remote};
use crate::error::{Error, ErrorKind, Result};
use crate::{fs, json, lex, toml};

/// Where a pristine source was found.
#[derive(PartialEq)]
#[cfg_attr(test, derive(Debug, Clone, Eq))]
pub(crate) enum Origin {
    /// Unpacked by Cargo in its registry source cache. Never changes.
    RegistryCache,
    /// Resolved by a nested Cargo call, from the source Cargo named.
    Cargo { source_id: String },
    /// A directory named in the configuration; it can change under us.
    Local,
}

/// The pristine source of the upstream crate.
#[cfg_attr(test, derive(Debug, Clone))]
pub(crate) struct Pristine {
    pub dir: PathBuf,
    pub origin: Origin,
    /// For a git or alternative-registry upstream, the source Cargo
    /// resolved (`git+URL?rev=R#COMMIT`, `registry+URL`): the staging stamp
    /// records it, so another commit restages.
    pub pinned: Option<String>,
}

/// Everything needed to find a source; built by the pipeline from the
/// build-script environment or the builder's overrides.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Request<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// Where the upstream comes from: crates.io, a registry, a git repository.
    pub remote: &'a Remote,
    /// A configured local source directory, already absolute.
    pub local: Option<&'a Path>,
    pub cargo_home: Option<&'a Path>,
    /// The `cargo` binary for the nested call (`$CARGO` in a build script).
    pub cargo: &'a Path,
    /// Where the nested call runs: the shim's directory, so that the
    /// workspace's `.cargo/config.toml` applies.
    pub cwd: &'a Path,
    /// A private folder for the nested call's manifest and lock file.
    pub work_dir: &'a Path,
    /// `--filter-platform` for the nested call, so it only downloads what
    /// this target needs.
    pub target: Option<&'a str>,
    /// Whether the outer build runs offline; the nested call then never
    /// tries the network.
    pub offline: bool,
}

/// Finds the pristine source; see the module docs for the order.
pub(crate) fn find(req: &Request<'_>) -> Result<Pristine> {
    if let Some(dir) = req.local {
        check_local(dir, req.name, req.version)?;
        return Ok(Pristine {
            dir: dir.to_path_buf(),
            origin: Origin::Local,
            pinned: None,
        });
    }
    if let (Some(home), Remote::CratesIo) = (req.cargo_home, req.remote) {
        if let Some(dir) = find_in_registry_cache(home, req.name, req.version) {
            return Ok(Pristine {
                dir,
                origin: Origin::RegistryCache,
                pinned: None,
            });
        }
    }
    fetch_with_cargo(req)
}

/// `$CARGO_HOME/registry/src/<index>/<name>-<version>`, counting only
/// directories Cargo finished unpacking. Found under two index folders (two
/// registries with a crate of that name and version), it is not used: the
/// folder names do not say which is crates.io's, so Cargo is asked.
pub(crate) fn find_in_registry_cache(home: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let src = home.join("registry").join("src");
    let Ok(entries) = std::fs::read_dir(src.as_path()) else {
        return None;
    };
    let dir_name = format!("{name}-{version}");
    let mut found = None;
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let dir = entry.path().join(dir_name.as_str());
        if dir.join(".cargo-ok").is_file() && dir.join("Cargo.toml").is_file() {
            if found.is_some() {
                return None;
            }
            found = Some(dir);
        }
    }
    found
}

/// Whether `path` is a regular file, or a link to one, inside `dir`: what
/// the staged copy holds, since links are never followed out of a source
/// (see `stage::copy_tree`). So a manifest linked from elsewhere is not read.
fn is_file_inside(dir: &Path, path: &Path) -> bool {
    match (std::fs::canonicalize(dir), std::fs::canonicalize(path)) {
        // (`&Path` and `&str` arguments, as elsewhere in the crate: std's generic
        // file and path functions compile once for each argument type.)
        (Ok(dir), Ok(path)) => path.starts_with(dir.as_path()) && path.is_file(),
        _ => false,
    }
}

fn check_local(dir: &Path, name: &str, version: &str) -> Result<()> {
    let manifest = dir.join("Cargo.toml");
    if !is_file_inside(dir, &manifest) {
        return Err(Error::new(
            ErrorKind::Source,
            format!(
                "the configured source `{}` has no `Cargo.toml` (a link out of it does not \
                 count: links are never followed out of a source)\n  \
                 help: `source` must name the directory of an unpacked crate, such as \
                 `vendor/{name}` made by `cargo vendor`",
                dir.display()
            ),
        ));
    }
    let text = fs::read_to_string(&manifest)?;
    // Matches rather than `map_err` with a closure, here and below: each
    // closure compiles its own `map_err`.
    let doc = match toml::parse(&text) {
        Ok(doc) => doc,
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Source,
                format!("failed to parse `{}`: {e}", manifest.display()),
            ))
        }
    };
    let found_name = toml::get(&doc, &["package", "name"]).and_then(toml::Value::as_str);
    let found_version = toml::get(&doc, &["package", "version"]).and_then(toml::Value::as_str);
    if found_name != Some(name) || found_version != Some(version) {
        return Err(Error::new(
            ErrorKind::Source,
            format!(
                "the configured source `{}` is `{} {}`, not `{name} {version}`\n  \
                 help: point `source` at a copy of `{name} {version}`, or change `version`",
                dir.display(),
                found_name.unwrap_or("?"),
                found_version.unwrap_or("?"),
            ),
        ));
    }
    Ok(())
}

/// Asks Cargo for the source: offline first, then (unless the outer build is
/// offline) with the network.
fn fetch_with_cargo(req: &Request<'_>) -> Result<Pristine> {
    fs::create_dir_all(req.work_dir)?;
    let manifest = req.work_dir.join("Cargo.toml");
    let (remote, locked_note) = locked_remote(req);
    fs::write_if_changed(
        &manifest,
        fetch_manifest(req.name, req.version, &remote).as_bytes(),
    )?;
    fs::write_if_changed(&req.work_dir.join("lib.rs"), b"")?;
    // A lock file from an earlier attempt could pin something stale.
    fs::remove_file(&req.work_dir.join("Cargo.lock"))?;

    let mut attempt = run_metadata(req, &manifest, true)?;
    if attempt.is_err() && !req.offline {
        attempt = run_metadata(req, &manifest, false)?;
    }
    let stdout = match attempt {
        Ok(stdout) => stdout,
        Err(stderr) => return Err(not_available(req, &stderr)),
    };
    let metadata = match json::parse(&stdout) {
        Ok(metadata) => metadata,
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Cargo,
                format!("`cargo metadata` printed output build-patch cannot read: {e}"),
            ))
        }
    };
    match (
        pick_package(&metadata, req.name, req.version, req.remote),
        locked_note,
    ) {
        (Err(e), Some(note)) => Err(e.with_note(note)),
        (result, _) => result,
    }
}

/// The source to fetch: for a branch, the commit the workspace's `Cargo.lock`
/// records, with a note that says so.
fn locked_remote(req: &Request<'_>) -> (Remote, Option<String>) {
    // A branch (or the default one) is the commit the workspace locked.
    let branch = match req.remote {
        Remote::Git { url, reference } if follows_lock(req.remote) => Some((
            url,
            match reference {
                Some(GitRef::Branch(b)) => Some(b.as_str()),
                _ => None,
            },
        )),
        _ => None,
    };
    let locked = match branch {
        Some((url, b)) => locked_branch_commit(req.cwd, req.name, url, b),
        None => None,
    };
    match (locked, branch) {
        (Some((commit, lock)), Some((url, b))) => {
            let note = format!(
                "note: {} stands for the commit {commit}, which `{}` records for it; `cargo \
                 update -p {}` moves the lock to the branch's head",
                match b {
                    Some(b) => format!("the branch `{b}`"),
                    None => "the default branch".to_string(),
                },
                lock.display(),
                req.name
            );
            let remote = Remote::Git {
                url: url.clone(),
                reference: Some(GitRef::Rev(commit)),
            };
            (remote, Some(note))
        }
        _ => (req.remote.clone(), None),
    }
}

/// Whether the commit of `remote` can come from `Cargo.lock`: a git
/// branch, or the default one.
pub(crate) fn follows_lock(remote: &Remote) -> bool {
    matches!(
        remote,
        Remote::Git {
            reference: None | Some(GitRef::Branch(_)),
            ..
        }
    )
}

/// The nearest `Cargo.lock` in `start` or above: the workspace's.
pub(crate) fn nearest_lock(start: &Path) -> Option<PathBuf> {
    // A loop over the ancestors: `ancestors().map().find()` with closures
    // compiled to some 400 lines of LLVM IR.
    let mut dir = Some(start);
    while let Some(d) = dir {
        let lock = d.join("Cargo.lock");
        if lock.is_file() {
            return Some(lock);
        }
        dir = d.parent();
    }
    None
}

/// The commit the nearest `Cargo.lock` above `start` records for package
/// `name` from `git+URL?branch=BRANCH` (no branch: `git+URL`, the default
/// branch), if any, and that lock file.
fn locked_branch_commit(
    start: &Path,
    name: &str,
    url: &str,
    branch: Option<&str>,
) -> Option<(String, PathBuf)> {
    let lock = nearest_lock(start)?;
    let doc = toml::parse(&std::fs::read_to_string(lock.as_path()).ok()?).ok()?;
    let query = branch.map(|b| format!("branch={b}"));
    for package in toml::get(&doc, &["package"])?.as_array()? {
        let Some(package) = package.as_table() else {
            continue;
        };
        if str_at(package, "name") != Some(name) {
            continue;
        }
        let Some(source) = str_at(package, "source") else {
            continue;
        };
        // `git+URL?branch=B#COMMIT`, or `git+URL#COMMIT` for the default branch.
        let Some(rest) = source.strip_prefix("git+") else {
            continue;
        };
        let Some((repo, commit)) = rest.split_once('#') else {
            continue;
        };
        let (repo_url, found_query) = match repo.split_once('?') {
            Some((u, q)) => (u, Some(q)),
            None => (repo, None),
        };
        if same_git_url(repo_url, url) && found_query == query.as_deref() {
            if commit.is_empty() || !toml::is_hex(commit) {
                return None;
            }
            return Some((commit.to_string(), lock));
        }
    }
    None
}

/// The string at `key` of `table`.
fn str_at<'a>(table: &'a toml::Table, key: &str) -> Option<&'a str> {
    match table.get(key) {
        Some(toml::Value::String(s)) => Some(s),
        _ => None,
    }
}

/// The private manifest of the nested call: a package with one dependency,
/// its own workspace root (it lives inside the user's target directory).
fn fetch_manifest(name: &str, version: &str, remote: &Remote) -> String {
    let dependency = match remote {
        Remote::CratesIo => format!("version = {}", quoted(&format!("={version}"))),
        Remote::Registry(registry) => format!(
            "version = {}, registry = {}",
            quoted(&format!("={version}")),
            quoted(registry)
        ),
        Remote::Git { url, reference } => {
            let mut d = format!("git = {}", quoted(url));
            if let Some(r) = reference {
                let (key, value) = r.key_value();
                d.push_str(&format!(", {key} = {}", quoted(value)));
            }
            d
        }
    };
    format!(
        "# @generated by build-patch: asks Cargo for the pristine source of `{name} {version}`\n\
         [package]\n\
         name = \"build-patch-fetch\"\n\
         version = \"0.0.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\
         \n\
         [lib]\n\
         path = \"lib.rs\"\n\
         \n\
         [dependencies]\n\
         {name} = {{ {dependency}, default-features = false }}\n\
         \n\
         [workspace]\n"
    )
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs `cargo metadata`; `Ok(Err(stderr))` when Cargo ran and failed.
fn run_metadata(
    req: &Request<'_>,
    manifest: &Path,
    offline: bool,
) -> Result<std::result::Result<String, String>> {
    let mut cmd = Command::new(req.cargo);
    cmd.arg("metadata")
        .arg("--format-version=1")
        .arg("--manifest-path")
        .arg(manifest)
        .current_dir(req.cwd)
        // Never the outer build's target directory: its lock is held while
        // this build script runs.
        .env("CARGO_TARGET_DIR", req.work_dir.join("target"))
        .env_remove("CARGO_MAKEFLAGS")
        .stdin(Stdio::null());
    if let Some(target) = req.target {
        cmd.arg("--filter-platform").arg(target);
    }
    if offline {
        cmd.arg("--offline");
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Cargo,
                format!(
                    "failed to run `{} metadata` to fetch `{} {}`: {e}",
                    req.cargo.display(),
                    req.name,
                    req.version
                ),
            ))
        }
    };
    if out.status.success() {
        Ok(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        Ok(Err(crate::patch::trim_whitespace(
            &String::from_utf8_lossy(&out.stderr),
        )
        .to_string()))
    }
}

fn not_available(req: &Request<'_>, stderr: &str) -> Error {
    let (name, version) = (req.name, req.version);
    let from = describe_remote(req.remote);
    let mut text = if req.remote != &Remote::CratesIo
        && lex::find_str(stderr, &format!("no matching package named `{name}` found")).is_some()
    {
        // Cargo reached the source: the package is not there.
        format!(
            "cannot get the pristine source of `{name} {version}`{from}: Cargo found no package \
             named `{name}` there"
        )
    } else {
        format!(
            "cannot get the pristine source of `{name} {version}`{from}: it is not in Cargo's \
             cache and Cargo could not fetch it"
        )
    };
    if req.offline {
        text.push_str(" (this build is offline)");
    }
    text.push_str("\n  cargo said:\n");
    for line in stderr.lines() {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    let cached = "if it is only missing from the cache, build once with network access";
    text.push_str(&match req.remote {
        Remote::CratesIo => format!(
            "  help: check that `{name} {version}` exists and is not yanked (`cargo info \
             {name}@{version}`); {cached}, or point `source` in [package.metadata.build-patch] \
             at an unpacked copy (`cargo vendor` makes one)"
        ),
        Remote::Registry(registry) => format!(
            "  help: check that your Cargo config has `[registries.{registry}]` and that \
             `{name} {version}` is published there (`cargo info {name}@{version} --registry \
             {registry}`); {cached}"
        ),
        Remote::Git { url, reference } => format!(
            "  help: check that `{url}` has {} (`git ls-remote {url}`) and a package named \
             `{name}` (Cargo finds it by name anywhere in the repository); {cached}",
            match reference {
                Some(r) => {
                    let (key, value) = r.key_value();
                    format!("the {key} `{value}`")
                }
                None => "a default branch".to_string(),
            }
        ),
    });
    Error::new(ErrorKind::Source, text)
}

/// ` from the git repository `URL` (tag `T`)`, ` from the registry `NAME``,
/// or nothing for crates.io.
fn describe_remote(remote: &Remote) -> String {
    match remote {
        Remote::CratesIo => String::new(),
        Remote::Registry(r) => format!(" from the registry `{r}`"),
        Remote::Git { url, reference } => match reference {
            None => format!(" from the git repository `{url}`"),
            Some(r) => {
                let (key, value) = r.key_value();
                format!(" from the git repository `{url}` ({key} `{value}`)")
            }
        },
    }
}

/// crates.io's source ids, as `cargo metadata` prints them (also when the
/// user's config replaces crates.io with a mirror or a vendor directory).
const CRATES_IO: &[&str] = &[
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// Whether two git URLs name one repository for Cargo, which ignores a
/// trailing `/` or `.git` (and, on github.com, case).
pub(crate) fn same_git_url(a: &str, b: &str) -> bool {
    let canonical = |mut u: &str| {
        // Every trailing `/` off (`trim_end_matches` compiles a reverse
        // char searcher into the crate).
        while let Some(rest) = u.strip_suffix('/') {
            u = rest;
        }
        let u = u.strip_suffix(".git").unwrap_or(u);
        if lex::find_str(u, "://github.com/").is_some() {
            u.to_ascii_lowercase()
        } else {
            u.to_string()
        }
    };
    canonical(a) == canonical(b)
}

/// Whether Cargo's source id `source_id` is the source `remote` names.
fn is_from(source_id: &str, remote: &Remote) -> bool {
    match remote {
        // Whatever the Cargo config replaces crates.io with (Cargo still
        // names it crates.io's), but not a git repository a `[patch]` of
        // the config would send the crate to.
        Remote::CratesIo => !source_id.starts_with("git+"),
        Remote::Registry(_) => {
            (source_id.starts_with("registry+") || source_id.starts_with("sparse+"))
                && !CRATES_IO.contains(&source_id)
        }
        Remote::Git { url, .. } => match source_id.strip_prefix("git+") {
            Some(rest) => {
                // Up to the first `?` or `#`, byte by byte (`find` with an
                // array of chars compiles its own searcher).
                let bytes = rest.as_bytes();
                let mut end = 0;
                while end < bytes.len() && bytes[end] != b'?' && bytes[end] != b'#' {
                    end += 1;
                }
                same_git_url(&rest[..end], url)
            }
            None => false,
        },
    }
}

/// The directory of `name version` in `cargo metadata` output, from the
/// source `remote` names, refusing a path package (a `[patch]` in the config
/// could send the nested call to the shim itself). A git repository says
/// its package's version: another one than `version` is an error.
fn pick_package(
    metadata: &json::Json,
    name: &str,
    version: &str,
    remote: &Remote,
) -> Result<Pristine> {
    let packages = metadata
        .get("packages")
        .and_then(json::Json::as_array)
        .unwrap_or(&[]);
    let mut other_versions = Vec::new();
    let mut other_sources = Vec::new();
    for p in packages {
        if field(p, "name") != Some(name) {
            continue;
        }
        let Some(manifest) = field(p, "manifest_path") else {
            return Err(Error::new(
                ErrorKind::Cargo,
                "`cargo metadata` gave a package with no `manifest_path`",
            ));
        };
        let dir = Path::new(manifest)
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let found_version = field(p, "version").unwrap_or_default();
        let Some(source_id) = field(p, "source") else {
            if found_version != version {
                continue;
            }
            return Err(resolved_to_path(name, version, &dir, remote));
        };
        if !is_from(source_id, remote) {
            other_sources.push(format!("`{name} {found_version}` from `{source_id}`"));
            continue;
        }
        if found_version != version {
            other_versions.push(found_version);
            continue;
        }
        let source_id = source_id.to_string();
        let pinned = if *remote != Remote::CratesIo {
            Some(source_id.clone())
        } else {
            None
        };
        return Ok(Pristine {
            dir,
            origin: Origin::Cargo { source_id },
            pinned,
        });
    }
    Err(not_listed(
        name,
        version,
        remote,
        other_versions.first().copied(),
        &other_sources,
    ))
}

/// The string field `key` of a `cargo metadata` package.
fn field<'a>(package: &'a json::Json, key: &str) -> Option<&'a str> {
    package.get(key).and_then(json::Json::as_str)
}

/// Cargo resolved the crate to a path package, not to `remote`.
fn resolved_to_path(name: &str, version: &str, dir: &Path, remote: &Remote) -> Error {
    let (what, table) = match remote {
        Remote::Git { url, .. } => (
            format!("the git repository `{url}`"),
            format!("[patch.\"{url}\"]"),
        ),
        Remote::Registry(r) => (format!("the registry `{r}`"), format!("[patch.{r}]")),
        Remote::CratesIo => ("a registry".to_string(), "[patch.crates-io]".to_string()),
    };
    Error::new(
        ErrorKind::Source,
        format!(
            "Cargo resolved `{name} {version}` to the local path `{}`, not to {what}\n  \
             help: a `[patch]` in `.cargo/config.toml` may point at the shim itself; put \
             graph-wide shims under `{table}` in the workspace's `Cargo.toml`, or name \
             the pristine copy with `source`",
            dir.display(),
        ),
    )
}

/// `cargo metadata` did not list `name version` from `remote`: it found
/// `other_version` (from a git repository) or `other_sources`.
fn not_listed(
    name: &str,
    version: &str,
    remote: &Remote,
    other_version: Option<&str>,
    other_sources: &[String],
) -> Error {
    let from = describe_remote(remote);
    if let (Some(found), Remote::Git { .. }) = (other_version, remote) {
        return Error::new(
            ErrorKind::Source,
            format!(
                "the package `{name}`{from} is `{name} {found}`, not `{name} {version}`\n  \
                 help: a git shim patches the version its repository holds: set `version = \
                 \"{found}\"` in [package.metadata.build-patch] (for a graph-wide shim, also \
                 its `[package] version`), or name the commit that holds {version} with `rev` \
                 or `tag`"
            ),
        );
    }
    let mut text = format!("`cargo metadata` succeeded but did not list `{name} {version}`{from}");
    if !other_sources.is_empty() {
        text.push_str(&format!(
            "; it found {}\n  help: check for a `[patch]` or source replacement in your Cargo \
             config that sends `{name}` elsewhere",
            crate::error::join(other_sources, ", ")
        ));
    }
    Error::new(ErrorKind::Cargo, text)
}

/// Whether the Cargo that runs this build script was started with
/// `--offline` or `--frozen`. Cargo does not tell build scripts, so on Linux
/// this reads the parent's command line; elsewhere it answers `false` and
/// only `CARGO_NET_OFFLINE` / `net.offline` (which the nested call reads by
/// itself) keep it offline. See docs/limits.md.
pub(crate) fn parent_cargo_is_offline() -> bool {
    let Ok(stat) = std::fs::read_to_string(Path::new("/proc/self/stat")) else {
        return false;
    };
    // The fields after the command name, which is in parentheses and may
    // itself hold spaces: state, then the parent's pid. The kernel writes
    // them in ASCII, separated by spaces. Read with byte loops:
    // `rsplit_once`, `split_whitespace().nth` and a slice `split` compiled
    // to some 870 lines of LLVM IR here.
    let s = stat.as_bytes();
    let mut pos = s.len();
    while pos > 0 && s[pos - 1] != b')' {
        pos -= 1;
    }
    if pos == 0 {
        return false;
    }
    let mut field = 0;
    let ppid = loop {
        while pos < s.len() && s[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos == s.len() {
            return false;
        }
        let start = pos;
        while pos < s.len() && !s[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if field == 1 {
            break &stat[start..pos];
        }
        field += 1;
    };
    let Ok(cmdline) = std::fs::read(Path::new(&format!("/proc/{ppid}/cmdline"))) else {
        return false;
    };
    // The arguments, each ended by a NUL.
    let mut start = 0;
    while start < cmdline.len() {
        let end = crate::patch::find_byte(&cmdline, start, 0).unwrap_or(cmdline.len());
        let arg = &cmdline[start..end];
        if arg == &b"--offline"[..] || arg == &b"--frozen"[..] {
            return true;
        }
        start = end + 1;
    }
    false
}

/// The Cargo home, as Cargo decides it: `$CARGO_HOME` (`cargo_home`), else
/// `.cargo` in the home directory (`home`: `$HOME`, else `$USERPROFILE`).
pub(crate) fn default_cargo_home(
    cargo_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    // A match, not `filter` with a closure (less code).
    match cargo_home {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => home.map(|h| PathBuf::from(h).join(".cargo")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_cache_needs_the_unpacked_marker() {
        let home = tempfile::tempdir().unwrap();
        let idx = home.path().join("registry/src/index.example-0123");
        let half = idx.join("foo-1.0.0");
        std::fs::create_dir_all(&half).unwrap();
        std::fs::write(half.join("Cargo.toml"), "").unwrap();
        assert_eq!(find_in_registry_cache(home.path(), "foo", "1.0.0"), None);
        std::fs::write(half.join(".cargo-ok"), r#"{"v":1}"#).unwrap();
        assert_eq!(
            find_in_registry_cache(home.path(), "foo", "1.0.0"),
            Some(half)
        );
        assert_eq!(find_in_registry_cache(home.path(), "foo", "1.0.1"), None);
        // Unpacked by two registries: ambiguous, so not taken.
        let other = home.path().join("registry/src/corp.example-4567/foo-1.0.0");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("Cargo.toml"), "").unwrap();
        std::fs::write(other.join(".cargo-ok"), r#"{"v":1}"#).unwrap();
        assert_eq!(find_in_registry_cache(home.path(), "foo", "1.0.0"), None);
    }

    #[test]
    fn picks_the_registry_package_and_refuses_a_path_one() {
        let meta = |source: &str| {
            json::parse(&format!(
                r#"{{"packages":[
                {{"name":"build-patch-fetch","version":"0.0.0","source":null,"manifest_path":"/w/Cargo.toml"}},
                {{"name":"foo","version":"1.0.0","source":{source},"manifest_path":"/reg/foo-1.0.0/Cargo.toml"}}]}}"#
            ))
            .unwrap()
        };
        let p = pick_package(
            &meta(r#""registry+https://example""#),
            "foo",
            "1.0.0",
            &Remote::CratesIo,
        )
        .unwrap();
        assert_eq!(p.dir, PathBuf::from("/reg/foo-1.0.0"));
        let err = pick_package(&meta("null"), "foo", "1.0.0", &Remote::CratesIo).unwrap_err();
        assert!(err.to_string().contains("to the local path"), "{err}");
        let err = pick_package(&meta("null"), "foo", "2.0.0", &Remote::CratesIo).unwrap_err();
        assert!(
            err.to_string().contains("did not list `foo 2.0.0`"),
            "{err}"
        );
    }

    #[test]
    fn a_branch_is_found_in_the_nearest_lock_file() {
        let ws = tempfile::tempdir().unwrap();
        let shim = ws.path().join("patched/foo");
        std::fs::create_dir_all(&shim).unwrap();
        std::fs::write(
            ws.path().join("Cargo.lock"),
            "version = 4\n\n\
             [[package]]\nname = \"foo\"\nversion = \"1.0.0\"\n\
             source = \"git+file:///r.git?branch=main#abc123\"\n\n\
             [[package]]\nname = \"foo\"\nversion = \"0.9.0\"\n\
             source = \"git+file:///r#def456\"\n\n\
             [[package]]\nname = \"foo\"\nversion = \"0.8.0\"\n\
             source = \"git+file:///r?rev=v8#0a0a0a\"\n",
        )
        .unwrap();
        let commit = |branch| locked_branch_commit(&shim, "foo", "file:///r", branch).map(|c| c.0);
        assert_eq!(commit(Some("main")).as_deref(), Some("abc123"));
        assert_eq!(commit(None).as_deref(), Some("def456"));
        assert_eq!(commit(Some("dev")), None);
        assert_eq!(locked_branch_commit(&shim, "bar", "file:///r", None), None);
    }

    #[test]
    fn fetch_manifest_is_its_own_workspace() {
        let m = fetch_manifest("foo-bar", "1.2.3", &Remote::CratesIo);
        assert!(m.contains("foo-bar = { version = \"=1.2.3\", default-features = false }"));
        assert!(m.contains("[workspace]"));
        let m = fetch_manifest("foo", "1.2.3", &Remote::Registry("corp".into()));
        assert!(
            m.contains(
                r#"foo = { version = "=1.2.3", registry = "corp", default-features = false }"#
            ),
            "{m}"
        );
        let git = Remote::Git {
            url: "file:///r \"x\"".into(),
            reference: Some(GitRef::Tag("v1".into())),
        };
        let m = fetch_manifest("foo", "1.2.3", &git);
        assert!(
            m.contains(
                r#"foo = { git = "file:///r \"x\"", tag = "v1", default-features = false }"#
            ),
            "{m}"
        );
    }

    #[test]
    fn a_git_shim_takes_only_its_repository_at_its_version() {
        let git = Remote::Git {
            url: "file:///repos/foo".into(),
            reference: None,
        };
        let meta = |source: &str, version: &str| {
            json::parse(&format!(
                r#"{{"packages":[{{"name":"foo","version":"{version}","source":{source},"manifest_path":"/x/foo/Cargo.toml"}}]}}"#
            ))
            .unwrap()
        };
        let p = pick_package(
            &meta(r#""git+file:///repos/foo#abc123""#, "1.0.0"),
            "foo",
            "1.0.0",
            &git,
        )
        .unwrap();
        assert_eq!(p.pinned.as_deref(), Some("git+file:///repos/foo#abc123"));
        let crates_io = r#""registry+https://github.com/rust-lang/crates.io-index""#;
        let err = pick_package(&meta(crates_io, "1.0.0"), "foo", "1.0.0", &git).unwrap_err();
        assert!(
            err.to_string()
                .contains("it found `foo 1.0.0` from `registry+"),
            "{err}"
        );
        let err = pick_package(
            &meta(r#""git+file:///repos/foo?tag=v2#abc""#, "2.0.0"),
            "foo",
            "1.0.0",
            &git,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("is `foo 2.0.0`, not `foo 1.0.0`"), "{err}");
        assert!(err.contains("version = \"2.0.0\""), "{err}");
        // A crates.io shim never takes a git copy (a `[patch]` in the config).
        assert!(same_git_url(
            "https://github.com/A/b.git",
            "https://github.com/a/b/"
        ));
        assert!(!same_git_url(
            "https://example.com/A/b",
            "https://example.com/a/b"
        ));
        let git_copy = meta(r#""git+file:///repos/foo#abc123""#, "1.0.0");
        assert!(pick_package(&git_copy, "foo", "1.0.0", &Remote::CratesIo).is_err());
        let corp = Remote::Registry("corp".into());
        assert!(pick_package(&meta(crates_io, "1.0.0"), "foo", "1.0.0", &corp).is_err());
        let p = pick_package(
            &meta(r#""registry+file:///corp-index""#, "1.0.0"),
            "foo",
            "1.0.0",
            &corp,
        )
        .unwrap();
        assert_eq!(p.pinned.as_deref(), Some("registry+file:///corp-index"));
    }
}
