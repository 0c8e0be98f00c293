//! Upstream build scripts: the patched upstream `build.rs` runs as it would
//! from the registry.
//!
//! A build script must be compiled before it runs, and build-patch applies
//! the patches only when the shim's build script runs, so the patched
//! upstream build script has to be in the shim already when Cargo compiles
//! the shim's build script. `cargo build-patch new` and `sync` put it there:
//!
//! - the shim's build script is the patched upstream one, at the same path
//!   (`build.rs`, `build/main.rs`, ...), with its `fn main` renamed to
//!   [`RENAMED_MAIN`] and a short glue after [`GLUE_MARKER`] whose `main`
//!   calls build-patch with [`crate::Config::upstream_build_script`];
//! - the local files it needs at compile time (`mod` files, `include!`,
//!   `include_str!`, `include_bytes!`) are copied to the same paths;
//! - the shim lists the upstream's `[build-dependencies]` next to
//!   build-patch, and Cargo compiles the whole thing for the host, with the
//!   upstream's edition, as it would the upstream's.
//!
//! At build time the shim's build script stages the patched copy, checks that
//! its own copy of the build script is what the patched upstream says (else
//! the build fails with `cargo build-patch sync DIR`, like the manifest
//! check), then runs *itself* again as a child process with [`CHILD_ENV`]:
//! the child only calls the upstream `main`, in the staged copy, with the
//! upstream's `CARGO_MANIFEST_DIR` and `CARGO_PKG_*` and everything else Cargo
//! gave the shim's build script (`OUT_DIR`, `TARGET`, `CARGO_FEATURE_*`,
//! `CARGO_CFG_*`, `DEP_*`, the jobserver, ...). The parent reads the child's
//! stdout and forwards its directives, pointing `rerun-if-changed` paths at
//! the pristine source (which never changes; the patches are watched
//! already), so that a no-op build does not rerun the script.

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::directives::Directives;
use crate::error::{Error, ErrorKind, Result};
use crate::fs;
use crate::manifest::BuildSetting;
use crate::map::Set;

/// The environment variable that makes a shim's build script run the
/// upstream `main` instead of building the shim. The child removes it before
/// calling `main`, so the upstream script sees the arguments and environment
/// Cargo gives build scripts, and whatever it starts does not inherit it.
pub(crate) const CHILD_ENV: &str = "__BUILD_PATCH_RUN_UPSTREAM_BUILD_SCRIPT";

/// Put before the first line of the shim's copy of the upstream build
/// script, on the same line (line numbers do not move): Cargo caps the lints
/// of a registry dependency, and a shim is a path dependency.
pub(crate) const ALLOW_WARNINGS: &str = "#![allow(warnings)] ";

/// What the upstream `fn main` of the build script is renamed to in the
/// shim's copy.
pub(crate) const RENAMED_MAIN: &str = "__build_patch_upstream_main";

/// The line that separates the shim's copy of the upstream build script from
/// the glue that runs it. What follows it is the shim's own and is kept by
/// `cargo build-patch sync`.
pub(crate) const GLUE_MARKER: &str =
    "// ---- build-patch: everything above is the patched upstream build script ----";

/// The glue after [`GLUE_MARKER`].
const GLUE: &str = "\
// Its `fn main` is renamed `__build_patch_upstream_main`. This `main` stages the
// patched copy, then runs that function with the environment Cargo would give
// the upstream build script, and forwards what it prints.
fn main() {
    build_patch::Config::new()
        .upstream_build_script(__build_patch_upstream_main_report)
        .build();
}

fn __build_patch_upstream_main_report() -> ::std::process::ExitCode {
    ::std::process::Termination::report(__build_patch_upstream_main())
}
";

/// The build script the shim has when the upstream has none.
#[cfg(feature = "generate")]
pub(crate) const PLAIN_BUILD_RS: &str = "fn main() {\n    build_patch::build();\n}\n";

/// Where the build script of a package is, relative to its root: the
/// `build` key, else `build.rs` when that file exists.
pub(crate) fn script_path(setting: &Option<BuildSetting>, root: &Path) -> Option<PathBuf> {
    match setting {
        Some(BuildSetting::Off) => None,
        Some(BuildSetting::Path(p)) => Some(normalize(Path::new(p))),
        None => root
            .join("build.rs")
            .is_file()
            .then(|| PathBuf::from("build.rs")),
    }
}

/// The files a shim needs for the patched upstream build script at
/// `script` (relative to `staged`): the script itself, rewritten (its `main`
/// renamed, followed by `glue` or the default glue), and every local file
/// it reads at compile time, unchanged. Paths are relative to the crate
/// root, sorted, the script first.
pub(crate) fn shim_files(
    staged: &Path,
    script: &Path,
    glue: Option<&str>,
) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let text = fs::read_to_string(&staged.join(script))?;
    let renamed = rename_main(&text).map_err(|m| script_error(script, &m))?;
    let body = renamed.strip_prefix('\u{feff}').unwrap_or(&renamed);
    let mut script_text = format!("{ALLOW_WARNINGS}{body}");
    if !script_text.ends_with('\n') {
        script_text.push('\n');
    }
    script_text.push_str(GLUE_MARKER);
    script_text.push('\n');
    script_text.push_str(glue.unwrap_or(GLUE));
    let mut out = vec![(script.to_path_buf(), script_text.into_bytes())];
    for rel in aux_files(staged, script, &text)? {
        let bytes = fs::read(&staged.join(&rel))?;
        out.push((rel, bytes));
    }
    Ok(out)
}

/// The glue of an existing shim build script (what follows
/// [`GLUE_MARKER`]), to keep it when the script is regenerated.
pub(crate) fn existing_glue(text: &str) -> Option<&str> {
    let at = text.find(GLUE_MARKER)?;
    let rest = &text[at + GLUE_MARKER.len()..];
    Some(
        rest.strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\n'))
            .unwrap_or(rest),
    )
}

/// Checks that the shim's build script and the files it reads are what the
/// patched upstream build script says: the shim's script must be the
/// rewritten upstream one up to [`GLUE_MARKER`], the other files identical.
/// Returns one line per difference.
pub(crate) fn compare(staged: &Path, script: &Path, shim_dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, (rel, expected)) in shim_files(staged, script, Some(""))?
        .into_iter()
        .enumerate()
    {
        let path = shim_dir.join(&rel);
        let Ok(actual) = std::fs::read(&path) else {
            out.push(format!("`{}`: missing in the shim", rel.display()));
            continue;
        };
        let same = if i == 0 {
            // The script: the upstream part and the marker must match; the
            // glue after the marker is the shim's own.
            actual.starts_with(&expected)
        } else {
            actual == expected
        };
        if !same {
            out.push(format!(
                "`{}`: differs from the patched upstream's",
                rel.display()
            ));
        }
    }
    Ok(out)
}

fn script_error(script: &Path, message: &str) -> Error {
    Error::new(
        ErrorKind::BuildScript,
        format!(
            "cannot prepare the upstream build script `{}` for the shim: {message}",
            script.display()
        ),
    )
}

/// What the child process needs.
pub(crate) struct Run<'a> {
    /// The staged copy: the script's working directory and
    /// `CARGO_MANIFEST_DIR`.
    pub staged: &'a Path,
    /// The pristine source, where `rerun-if-changed` paths point.
    pub pristine: &'a Path,
    /// `CARGO_PKG_*` of the upstream package.
    pub pkg_env: Vec<(&'static str, String)>,
    /// For messages: `NAME VERSION`.
    pub what: String,
}

/// Runs the upstream build script (this very executable, with [`CHILD_ENV`])
/// and adds its directives to `directives`. When it fails, returns an error
/// after printing its stdout (Cargo shows it with the error).
pub(crate) fn run(req: &Run<'_>, directives: &mut Directives) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("find", Path::new("the running build script"), e))?;
    let mut cmd = Command::new(&exe);
    cmd.env(CHILD_ENV, "1")
        .current_dir(req.staged)
        .env("CARGO_MANIFEST_DIR", req.staged)
        .env("CARGO_MANIFEST_PATH", req.staged.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in &req.pkg_env {
        cmd.env(k, v);
    }
    let output = cmd.output().map_err(|e| Error::io("run", &exe, e))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // Cargo shows the build script's stdout and stderr when it fails;
        // the child's stderr went straight there.
        print!("{stdout}");
        return Err(Error::new(
            ErrorKind::BuildScript,
            format!(
                "the build script of `{}` failed ({}); its output is above",
                req.what, output.status
            ),
        ));
    }
    for line in stdout.lines() {
        directives.raw(&map_line(line, req.staged, req.pristine));
    }
    Ok(())
}

/// A line of the upstream build script's stdout as the shim's build script
/// prints it: `rerun-if-changed` paths inside the crate point at the
/// pristine source (Cargo reads relative ones against the shim's directory,
/// and the staged copy is rewritten when restaged); relative
/// `rustc-link-search` paths at the staged copy (rustc would read them
/// against the user's workspace); everything else as is.
pub(crate) fn map_line(line: &str, staged: &Path, pristine: &Path) -> String {
    for prefix in ["cargo::rerun-if-changed=", "cargo:rerun-if-changed="] {
        if let Some(value) = line.strip_prefix(prefix) {
            return format!("{prefix}{}", map_watched(value, staged, pristine).display());
        }
    }
    for prefix in ["cargo::rustc-link-search=", "cargo:rustc-link-search="] {
        if let Some(value) = line.strip_prefix(prefix) {
            let (kind, path) = match value.split_once('=') {
                Some((k, p)) => (format!("{k}="), p),
                None => (String::new(), value),
            };
            if !path.is_empty() && Path::new(path).is_relative() {
                return format!("{prefix}{kind}{}", staged.join(path).display());
            }
        }
    }
    line.to_string()
}

fn map_watched(value: &str, staged: &Path, pristine: &Path) -> PathBuf {
    let path = Path::new(value);
    let rel = if path.is_absolute() {
        match path.strip_prefix(staged) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => return path.to_path_buf(),
        }
    } else {
        path.to_path_buf()
    };
    let in_pristine = pristine.join(&rel);
    if in_pristine.exists() {
        return in_pristine;
    }
    // Made by a patch (the patches are watched already), or missing (Cargo
    // then reruns the script every time, as it would for the upstream).
    staged.join(rel)
}

/// `path` without `.` components.
fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// `base.join(rel)` with `..` resolved, or `None` if it leaves the crate.
fn join_inside(base: &Path, rel: &str) -> Option<PathBuf> {
    let joined = base.join(rel);
    let mut out: Vec<Component> = Vec::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::Normal(_) => out.push(c),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out.iter().collect())
}

/// The local files a build script needs at compile time, besides itself,
/// relative to the crate root: `mod` files (following `#[path]`), and the
/// targets of `include!`, `include_str!` and `include_bytes!` with a literal
/// path (relative to the file, or `concat!(env!("CARGO_MANIFEST_DIR"),
/// "/...")`). Files that do not exist are left out (a `cfg` may never use
/// them).
fn aux_files(root: &Path, script: &Path, text: &str) -> Result<Set<PathBuf>> {
    let mut found = Set::new();
    // (file, its text, the directory its `mod` declarations resolve in)
    let dir = script.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut queue = vec![(script.to_path_buf(), text.to_string(), dir)];
    while let Some((file, text, mod_dir)) = queue.pop() {
        let refs = references(&text).map_err(|m| script_error(&file, &m))?;
        let file_dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        for r in refs {
            let (candidates, rust, own_dir): (Vec<Option<PathBuf>>, bool, bool) = match &r {
                Ref::Mod { path: Some(p), .. } => (vec![join_inside(&file_dir, p)], true, true),
                Ref::Mod { name, path: None } => (
                    vec![
                        join_inside(&mod_dir, &format!("{name}.rs")),
                        join_inside(&mod_dir, &format!("{name}/mod.rs")),
                    ],
                    true,
                    false,
                ),
                Ref::Include { path, rust } => (vec![join_inside(&file_dir, path)], *rust, true),
                Ref::IncludeFromRoot { path, rust } => {
                    (vec![join_inside(Path::new(""), path)], *rust, true)
                }
            };
            let Some(rel) = candidates
                .into_iter()
                .flatten()
                .find(|rel| root.join(rel).is_file())
            else {
                continue;
            };
            if rel == script || !found.insert(rel.clone()) || !rust {
                continue;
            }
            let text = fs::read_to_string(&root.join(&rel))?;
            // A module file `a.rs` declares its own modules in `a/`; a
            // `mod.rs`, a `#[path]` file and an included file in their
            // directory.
            let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
            let is_mod_rs = rel.file_name().is_some_and(|n| n == "mod.rs");
            let child_dir = if own_dir || is_mod_rs || !matches!(r, Ref::Mod { .. }) {
                parent
            } else {
                parent.join(rel.file_stem().unwrap_or_default())
            };
            queue.push((rel, text, child_dir));
        }
    }
    Ok(found)
}

/// A compile-time reference of a source file to another file.
#[derive(Debug, PartialEq, Eq)]
enum Ref {
    /// `mod name;`, with its `#[path = "..."]` if any.
    Mod { name: String, path: Option<String> },
    /// `include!("p")`, `include_str!("p")`, `include_bytes!("p")`; `rust`
    /// for `include!`.
    Include { path: String, rust: bool },
    /// The same with `concat!(env!("CARGO_MANIFEST_DIR"), "/p")`.
    IncludeFromRoot { path: String, rust: bool },
}

/// For the fuzz targets (`crate::__fuzz`): the file references of a script (as
/// debug text) and the script with its `fn main` renamed.
#[cfg(feature = "__fuzz")]
pub(crate) fn fuzz_entry(
    src: &str,
) -> (
    std::result::Result<Vec<String>, String>,
    std::result::Result<String, String>,
) {
    let refs = references(src).map(|refs| refs.iter().map(|r| format!("{r:?}")).collect());
    (refs, rename_main(src))
}

/// The file references of a source file: top-level `mod` declarations, and
/// include macros anywhere.
fn references(src: &str) -> std::result::Result<Vec<Ref>, String> {
    let tokens = lex(src)?;
    let closing = closing_tokens(&tokens);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut pending_path: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].kind {
            Tok::Open(_) => depth += 1,
            Tok::Close(c) => {
                depth = depth.saturating_sub(1);
                // The end of an item (not of another attribute).
                if depth == 0 && *c != ']' {
                    pending_path = None;
                }
            }
            Tok::Punct('#') if depth == 0 => {
                // `#[path = "..."]`
                if let [Tok::Open('['), Tok::Ident(p), Tok::Punct('='), Tok::Str(s), Tok::Close(']')] =
                    kinds(&tokens, i + 1, 5).as_slice()
                {
                    if p == "path" {
                        pending_path = Some(s.clone());
                        i += 6;
                        continue;
                    }
                }
            }
            Tok::Punct(';') if depth == 0 => pending_path = None,
            Tok::Ident(m) if m == "mod" && depth == 0 => {
                if let [Tok::Ident(name), Tok::Punct(';')] = kinds(&tokens, i + 1, 2).as_slice() {
                    out.push(Ref::Mod {
                        name: name.clone(),
                        path: pending_path.take(),
                    });
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(m) if matches!(m.as_str(), "include" | "include_str" | "include_bytes") => {
                let rust = m == "include";
                if let [Tok::Punct('!'), Tok::Open(_)] = kinds(&tokens, i + 1, 2).as_slice() {
                    // The tokens of the macro's group.
                    let start = i + 3;
                    // A path is a literal or a short `concat!`: a longer group is no
                    // path this reads (and reading each, nested, was quadratic).
                    let end = closing[i + 2];
                    let inner: Vec<&Tok> = if end - start > MAX_INCLUDE_TOKENS {
                        Vec::new()
                    } else {
                        tokens[start..end].iter().map(|t| &t.kind).collect()
                    };
                    match inner.as_slice() {
                        [Tok::Str(p)] | [Tok::Str(p), Tok::Punct(',')] => out.push(Ref::Include {
                            path: p.clone(),
                            rust,
                        }),
                        _ => {
                            let from_root = inner
                                .iter()
                                .any(|t| matches!(t, Tok::Str(s) if s == "CARGO_MANIFEST_DIR"));
                            let tail = inner.iter().rev().find_map(|t| match t {
                                Tok::Str(s) => Some(s.clone()),
                                _ => None,
                            });
                            if let (true, Some(tail)) = (from_root, tail) {
                                if let Some(p) = tail.strip_prefix('/') {
                                    out.push(Ref::IncludeFromRoot {
                                        path: p.to_string(),
                                        rust,
                                    });
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(out)
}

/// The most tokens an include macro's argument may have for its path to be found
/// (`concat!(env!("CARGO_MANIFEST_DIR"), "/src/x.rs")` has 10).
const MAX_INCLUDE_TOKENS: usize = 64;

/// For each token, the index of the token that closes it when it opens a group
/// (the end of the file when nothing does); found in one pass, where scanning
/// from each `include!(` was quadratic (100,000 unclosed ones never finished).
fn closing_tokens(tokens: &[Token]) -> Vec<usize> {
    let mut closing = vec![tokens.len(); tokens.len()];
    let mut open = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Tok::Open(_) => open.push(i),
            Tok::Close(_) => {
                if let Some(o) = open.pop() {
                    closing[o] = i;
                }
            }
            _ => {}
        }
    }
    closing
}

fn kinds(tokens: &[Token], from: usize, n: usize) -> Vec<Tok> {
    tokens
        .iter()
        .skip(from)
        .take(n)
        .map(|t| t.kind.clone())
        .collect()
}

/// The build script with every top-level `fn main` renamed to
/// [`RENAMED_MAIN`]; everything else, line breaks included, unchanged.
fn rename_main(src: &str) -> std::result::Result<String, String> {
    let tokens = lex(src)?;
    let mut depth = 0usize;
    let mut spans = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match &t.kind {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            Tok::Ident(f) if f == "fn" && depth == 0 => {
                if let Some(next) = tokens.get(i + 1) {
                    if next.kind == Tok::Ident("main".into()) {
                        spans.push((next.start, next.end));
                    }
                }
            }
            _ => {}
        }
    }
    if spans.is_empty() {
        return Err(
            "it has no `fn main` at its top level (a `main` made by a macro is not supported)"
                .into(),
        );
    }
    let mut out = String::with_capacity(src.len() + 64);
    let mut at = 0;
    for (s, e) in spans {
        out.push_str(&src[at..s]);
        out.push_str(RENAMED_MAIN);
        at = e;
    }
    out.push_str(&src[at..]);
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Punct(char),
    /// A string literal (plain or raw), with simple escapes resolved.
    Str(String),
    /// Any other literal, or a lifetime.
    Lit,
    Open(char),
    Close(char),
}

#[derive(Debug)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Just enough of Rust's lexer: comments (nested), strings, raw strings,
/// byte and C strings, chars versus lifetimes, identifiers (raw ones too),
/// numbers, delimiters.
fn lex(src: &str) -> std::result::Result<Vec<Token>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let line = |pos: usize| src[..pos].matches('\n').count() + 1;
    // A shebang line (not `#![`).
    if src.starts_with("#!") && !src[2..].trim_start().starts_with('[') {
        i = src.find('\n').unwrap_or(src.len());
    }
    while i < b.len() {
        let c = src[i..].chars().next().unwrap_or(' ');
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if src[i..].starts_with("//") {
            i = src[i..].find('\n').map_or(b.len(), |n| i + n);
            continue;
        }
        if src[i..].starts_with("/*") {
            let mut depth = 0;
            loop {
                if src[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if src[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if let Some(ch) = src[i..].chars().next() {
                    i += ch.len_utf8();
                } else {
                    return Err(format!(
                        "unterminated block comment on line {}",
                        line(start)
                    ));
                }
            }
            continue;
        }
        let kind = if c == '"' {
            let (value, end) = quoted(src, i)
                .ok_or_else(|| format!("unterminated string literal on line {}", line(start)))?;
            i = end;
            Tok::Str(value)
        } else if c == '\'' {
            let rest: Vec<char> = src[i..].chars().take(3).collect();
            match rest.as_slice() {
                ['\'', '\\', ..] => {
                    let (_, end) = quoted_with(src, i, '\'').ok_or_else(|| {
                        format!("unterminated character literal on line {}", line(start))
                    })?;
                    i = end;
                }
                ['\'', ch, '\''] => i += 2 + ch.len_utf8(),
                _ => {
                    i += 1;
                    while let Some(ch) = src[i..].chars().next().filter(|&ch| ident_continue(ch)) {
                        i += ch.len_utf8();
                    }
                }
            }
            Tok::Lit
        } else if c.is_ascii_digit() {
            while let Some(ch) = src[i..].chars().next() {
                let decimal_point = ch == '.'
                    && src[i + 1..]
                        .chars()
                        .next()
                        .is_some_and(|d| d.is_ascii_digit());
                if ident_continue(ch) || decimal_point {
                    i += ch.len_utf8();
                } else {
                    break;
                }
            }
            Tok::Lit
        } else if c == '_' || c.is_alphabetic() {
            while let Some(ch) = src[i..].chars().next().filter(|&ch| ident_continue(ch)) {
                i += ch.len_utf8();
            }
            let ident = &src[start..i];
            let next = src[i..].chars().next();
            match (ident, next) {
                ("r" | "br" | "cr", Some('"' | '#')) => {
                    let hashes = src[i..].chars().take_while(|&h| h == '#').count();
                    if src[i + hashes..].starts_with('"') {
                        let body = i + hashes + 1;
                        let terminator = format!("\"{}", "#".repeat(hashes));
                        let n = src[body..].find(&terminator).ok_or_else(|| {
                            format!("unterminated raw string on line {}", line(start))
                        })?;
                        i = body + n + terminator.len();
                        Tok::Str(src[body..body + n].to_string())
                    } else if ident == "r" && hashes == 1 {
                        i += 1;
                        let name = i;
                        while let Some(ch) =
                            src[i..].chars().next().filter(|&ch| ident_continue(ch))
                        {
                            i += ch.len_utf8();
                        }
                        Tok::Ident(src[name..i].to_string())
                    } else {
                        Tok::Ident(ident.to_string())
                    }
                }
                ("b" | "c", Some('"')) => {
                    let (_, end) = quoted(src, i).ok_or_else(|| {
                        format!("unterminated string literal on line {}", line(start))
                    })?;
                    i = end;
                    Tok::Lit
                }
                ("b", Some('\'')) => {
                    let (_, end) = quoted_with(src, i, '\'').ok_or_else(|| {
                        format!("unterminated byte literal on line {}", line(start))
                    })?;
                    i = end;
                    Tok::Lit
                }
                _ => Tok::Ident(ident.to_string()),
            }
        } else {
            i += c.len_utf8();
            match c {
                '(' | '[' | '{' => Tok::Open(c),
                ')' | ']' | '}' => Tok::Close(c),
                _ => Tok::Punct(c),
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    Ok(out)
}

fn ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn quoted(src: &str, at: usize) -> Option<(String, usize)> {
    quoted_with(src, at, '"')
}

/// A quoted literal from its opening quote at `at`: its value (common
/// escapes resolved) and where it ends.
fn quoted_with(src: &str, at: usize, quote: char) -> Option<(String, usize)> {
    let mut i = at + 1;
    let mut value = String::new();
    loop {
        let c = src[i..].chars().next()?;
        i += c.len_utf8();
        if c == quote {
            return Some((value, i));
        }
        if c == '\\' {
            let e = src[i..].chars().next()?;
            i += e.len_utf8();
            match e {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                '0' => value.push('\0'),
                '\n' => {
                    // A line continuation skips the next line's indentation.
                    while let Some(w) = src[i..].chars().next().filter(|w| w.is_whitespace()) {
                        i += w.len_utf8();
                    }
                }
                other => value.push(other),
            }
        } else {
            value.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_only_top_level_mains() {
        let src = "// fn main() in a comment\nuse std::env;\n\n#[cfg(unix)]\nfn main() {\n    let s = \"fn main\";\n    fn main() {}\n}\n#[cfg(not(unix))]\npub fn main() -> Result<(), String> { Ok(()) }\nmacro_rules! m { () => { fn main() {} } }\n";
        let out = rename_main(src).unwrap();
        assert_eq!(out.matches(RENAMED_MAIN).count(), 2, "{out}");
        assert!(out.contains("\"fn main\""));
        assert!(out.contains("    fn main() {}"));
        assert!(out.contains("// fn main() in a comment"));
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(rename_main("fn helper() {}\nmain!();\n").is_err());
        assert!(rename_main("r#\"unterminated").is_err());
    }

    #[test]
    fn finds_file_references() {
        let src = r##"
#![allow(dead_code)]
mod version;
#[path = "gen/probe.rs"]
#[cfg(unix)]
mod probe;
pub(crate) mod inline { mod nested; }
fn main() {
    let x = include_str!("data/table.txt");
    let y = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/blob.bin"));
    let z = include!(concat!(env!("OUT_DIR"), "/gen.rs"));
    let s = r#"mod fake;"#;
    let c = '"';
}
"##;
        let refs = references(src).unwrap();
        assert_eq!(
            refs,
            vec![
                Ref::Mod {
                    name: "version".into(),
                    path: None
                },
                Ref::Mod {
                    name: "probe".into(),
                    path: Some("gen/probe.rs".into())
                },
                Ref::Include {
                    path: "data/table.txt".into(),
                    rust: false
                },
                Ref::IncludeFromRoot {
                    path: "src/blob.bin".into(),
                    rust: false
                },
            ]
        );
    }

    #[test]
    fn collects_the_files_a_script_needs() {
        let dir = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let p = dir.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        };
        w(
            "build/main.rs",
            "mod op;\nmod tests;\nmod absent;\nfn main() {}\n",
        );
        w(
            "build/op.rs",
            "mod inner;\nconst T: &str = include_str!(\"op.txt\");\n",
        );
        w("build/op/inner.rs", "");
        w("build/op.txt", "x");
        w("build/tests/mod.rs", "mod deep;\n");
        w("build/tests/deep.rs", "");
        let script = Path::new("build/main.rs");
        let text = std::fs::read_to_string(dir.path().join(script)).unwrap();
        let files: Vec<String> = aux_files(dir.path(), script, &text)
            .unwrap()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                "build/op/inner.rs",
                "build/op.rs",
                "build/op.txt",
                "build/tests/deep.rs",
                "build/tests/mod.rs"
            ]
        );
        let shim = shim_files(dir.path(), script, None).unwrap();
        let text = String::from_utf8(shim[0].1.clone()).unwrap();
        assert!(text.starts_with(
            "#![allow(warnings)] mod op;\nmod tests;\nmod absent;\nfn __build_patch_upstream_main() {}\n"
        ));
        assert!(text.contains(GLUE_MARKER));
        assert_eq!(existing_glue(&text), Some(GLUE));
    }

    #[test]
    fn maps_watched_paths_to_the_pristine_source() {
        let dir = tempfile::tempdir().unwrap();
        let (staged, pristine) = (dir.path().join("staged"), dir.path().join("pristine"));
        std::fs::create_dir_all(pristine.join("src")).unwrap();
        std::fs::write(pristine.join("build.rs"), "").unwrap();
        let map = |l: &str| map_line(l, &staged, &pristine);
        assert_eq!(
            map("cargo:rerun-if-changed=build.rs"),
            format!(
                "cargo:rerun-if-changed={}",
                pristine.join("build.rs").display()
            )
        );
        assert_eq!(
            map(&format!(
                "cargo::rerun-if-changed={}",
                staged.join("src").display()
            )),
            format!("cargo::rerun-if-changed={}", pristine.join("src").display())
        );
        assert_eq!(
            map("cargo::rerun-if-changed=made-by-patch.rs"),
            format!(
                "cargo::rerun-if-changed={}",
                staged.join("made-by-patch.rs").display()
            )
        );
        assert_eq!(
            map("cargo:rerun-if-changed=/usr/include/zlib.h"),
            "cargo:rerun-if-changed=/usr/include/zlib.h"
        );
        assert_eq!(map("cargo:rustc-cfg=foo"), "cargo:rustc-cfg=foo");
        assert_eq!(
            map("cargo:rustc-link-search=native=lib/x86_64"),
            format!(
                "cargo:rustc-link-search=native={}",
                staged.join("lib/x86_64").display()
            )
        );
        assert_eq!(
            map("cargo::rustc-link-search=/usr/lib"),
            "cargo::rustc-link-search=/usr/lib"
        );
    }
}
