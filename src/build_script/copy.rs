//! Copying the patched upstream build script into the shim: the script with
//! its `fn main` renamed and the glue appended, and the local files it reads
//! at compile time. `new` and `sync` write these; the shim's build compares
//! its copy with them.

use std::path::{Component, Path, PathBuf};

use super::{ALLOW_WARNINGS, GLUE_MARKER, RENAMED_MAIN};
use crate::error::{Error, ErrorKind, Result};
use crate::fs;
use crate::lex::{self, Docs, Kind, Lexer, Token, Unterminated};
use crate::map::Set;

/// The glue after [`GLUE_MARKER`].
const GLUE: &str = "\
// Its `fn main` is renamed `__build_patch_upstream_main`. This `main` stages the
// patched copy, then runs that function with the environment Cargo would give
// the upstream build script, and forwards what it prints.
fn main() {
    build_patch::Config::new()
        .upstream_build_script(__build_patch_upstream_main_report)
        .compiled_for(env!(\"CARGO_MANIFEST_DIR\"))
        .build();
}

fn __build_patch_upstream_main_report() -> ::std::process::ExitCode {
    ::std::process::Termination::report(__build_patch_upstream_main())
}
";

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
    if !staged.join(script).is_file() {
        return Err(script_error(
            script,
            "the patched `Cargo.toml` names it (`build`), but the patched crate has no such \
             file: a patch that removes a build script must also remove the `build` key",
        ));
    }
    let text = fs::read_to_string(&staged.join(script))?;
    let renamed = match rename_main(&text) {
        Ok(renamed) => renamed,
        Err(m) => return Err(script_error(script, &m)),
    };
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

/// Checks that the shim's build script and the files it reads are what the
/// patched upstream build script says: the shim's script must be the
/// rewritten upstream one up to [`GLUE_MARKER`], the other files identical.
/// Returns one line per difference.
pub(crate) fn compare(staged: &Path, script: &Path, shim_dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let files = shim_files(staged, script, Some(""))?;
    let mut first = true;
    for (rel, expected) in &files {
        let is_script = first;
        first = false;
        let path = shim_dir.join(rel);
        let Ok(actual) = std::fs::read(&path) else {
            out.push(format!("`{}`: missing in the shim", rel.display()));
            continue;
        };
        let same = if is_script {
            // The script: the upstream part and the marker must match; the
            // glue after the marker is the shim's own.
            actual.starts_with(expected)
        } else {
            actual == *expected
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

/// `base.join(rel)` with `..` resolved, or `None` if it leaves the crate.
fn join_inside(base: &Path, rel: &str) -> Option<PathBuf> {
    let joined = base.join(rel);
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                depth = depth.checked_sub(1)?;
                out.pop();
            }
            Component::Normal(name) => {
                depth += 1;
                out.push(name);
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
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
    let mut queue = vec![(script.to_path_buf(), text.to_string(), parent(script))];
    while let Some((file, text, mod_dir)) = queue.pop() {
        let refs = match references(&text) {
            Ok(refs) => refs,
            Err(m) => return Err(script_error(&file, &m)),
        };
        let file_dir = parent(&file);
        for r in refs {
            let Some((rel, rust, own_dir)) = resolve(root, &file_dir, &mod_dir, &r) else {
                continue;
            };
            if rel == script || !found.insert(rel.clone()) || !rust {
                continue;
            }
            let text = fs::read_to_string(&root.join(&rel))?;
            // A module file `a.rs` declares its own modules in `a/`; a
            // `mod.rs`, a `#[path]` file and an included file in their
            // directory.
            let mut child_dir = parent(&rel);
            if !own_dir && rel.file_name().is_some_and(|n| n != "mod.rs") {
                child_dir.push(rel.file_stem().unwrap_or_default());
            }
            queue.push((rel, text, child_dir));
        }
    }
    Ok(found)
}

/// The directory of a relative path (`""` for a file at the root).
fn parent(path: &Path) -> PathBuf {
    path.parent().unwrap_or(Path::new("")).to_path_buf()
}

/// The file a reference of a file in `file_dir` points at, relative to the crate root
/// `root`, if it exists; whether it is Rust; and whether its own `mod` declarations
/// resolve in its directory (else in `a/` for `a.rs`). A `mod` without `#[path]`
/// resolves in `mod_dir`.
fn resolve(root: &Path, file_dir: &Path, mod_dir: &Path, r: &Ref) -> Option<(PathBuf, bool, bool)> {
    match r {
        Ref::Mod { path: Some(p), .. } => {
            Some((existing(root, join_inside(file_dir, p))?, true, true))
        }
        Ref::Mod { name, path: None } => {
            let rel = match existing(root, join_inside(mod_dir, &format!("{name}.rs"))) {
                Some(rel) => rel,
                None => existing(root, join_inside(mod_dir, &format!("{name}/mod.rs")))?,
            };
            Some((rel, true, false))
        }
        Ref::Include { path, rust } => {
            Some((existing(root, join_inside(file_dir, path))?, *rust, true))
        }
        Ref::IncludeFromRoot { path, rust } => Some((
            existing(root, join_inside(Path::new(""), path))?,
            *rust,
            true,
        )),
    }
}

/// `rel`, if it names a file under `root`.
fn existing(root: &Path, rel: Option<PathBuf>) -> Option<PathBuf> {
    let rel = rel?;
    root.join(&rel).is_file().then_some(rel)
}

/// A compile-time reference of a source file to another file.
#[cfg_attr(any(test, feature = "__fuzz"), derive(Debug))]
#[cfg_attr(test, derive(PartialEq, Eq))]
pub(crate) enum Ref {
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
pub(crate) fn references(src: &str) -> std::result::Result<Vec<Ref>, String> {
    let t = Tokens {
        src,
        tokens: lex(src)?,
    };
    let closing = closing_tokens(&t.tokens);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut pending_path: Option<String> = None;
    let mut i = 0;
    while i < t.tokens.len() {
        let kind = t.tokens[i].kind;
        if let Kind::Punct('(' | '[' | '{') = kind {
            depth += 1;
        } else if let Kind::Punct(c @ (')' | ']' | '}')) = kind {
            depth = depth.saturating_sub(1);
            // The end of an item (not of another attribute).
            if depth == 0 && c != ']' {
                pending_path = None;
            }
        } else if kind == Kind::Punct('#') && depth == 0 {
            // `#[path = "..."]`
            if t.punct(i + 1, '[')
                && t.ident(i + 2) == Some("path")
                && t.punct(i + 3, '=')
                && t.punct(i + 5, ']')
            {
                if let Some(s) = t.string(i + 4) {
                    pending_path = Some(s);
                    i += 6;
                    continue;
                }
            }
        } else if kind == Kind::Punct(';') && depth == 0 {
            pending_path = None;
        } else if let Some(m) = t.ident(i) {
            if m == "mod" {
                if depth == 0 && t.punct(i + 2, ';') {
                    if let Some(name) = t.ident(i + 1) {
                        out.push(Ref::Mod {
                            name: name.to_string(),
                            path: pending_path.take(),
                        });
                        i += 3;
                        continue;
                    }
                }
            } else if matches!(m, "include" | "include_str" | "include_bytes")
                && t.punct(i + 1, '!')
                && matches!(t.kind(i + 2), Some(Kind::Punct('(' | '[' | '{')))
            {
                if let Some(r) = include_ref(&t, i + 3, closing[i + 2], m == "include") {
                    out.push(r);
                }
            }
        }
        i += 1;
    }
    Ok(out)
}

/// The reference of an include macro whose group holds the tokens `start..end`: a
/// path is a literal or a short `concat!` (a longer group is no path this reads, and
/// reading each, nested, was quadratic).
fn include_ref(t: &Tokens<'_>, start: usize, end: usize, rust: bool) -> Option<Ref> {
    let n = end - start;
    if n > MAX_INCLUDE_TOKENS || n == 0 {
        return None;
    }
    if n == 1 || (n == 2 && t.punct(start + 1, ',')) {
        if let Some(path) = t.string(start) {
            return Some(Ref::Include { path, rust });
        }
    }
    let mut from_root = false;
    let mut tail = None;
    for i in start..end {
        if let Some(s) = t.string(i) {
            from_root |= s == "CARGO_MANIFEST_DIR";
            tail = Some(s);
        }
    }
    let path = tail?.strip_prefix('/')?.to_string();
    if from_root {
        Some(Ref::IncludeFromRoot { path, rust })
    } else {
        None
    }
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
            Kind::Punct('(' | '[' | '{') => open.push(i),
            Kind::Punct(')' | ']' | '}') => {
                if let Some(o) = open.pop() {
                    closing[o] = i;
                }
            }
            _ => {}
        }
    }
    closing
}

/// The build script with every top-level `fn main` renamed to
/// [`RENAMED_MAIN`]; everything else, line breaks included, unchanged.
pub(crate) fn rename_main(src: &str) -> std::result::Result<String, String> {
    let tokens = lex(src)?;
    let mut depth = 0usize;
    let mut spans = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Punct('(' | '[' | '{') => depth += 1,
            Kind::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            Kind::Ident | Kind::RawIdent if depth == 0 && t.ident(src) == Some("fn") => {
                if let Some(next) = tokens.get(i + 1) {
                    if next.ident(src) == Some("main") {
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

/// The tokens of a source file, with the file.
struct Tokens<'a> {
    src: &'a str,
    tokens: Vec<Token>,
}

impl<'a> Tokens<'a> {
    fn kind(&self, i: usize) -> Option<Kind> {
        Some(self.tokens.get(i)?.kind)
    }

    fn punct(&self, i: usize, c: char) -> bool {
        self.kind(i) == Some(Kind::Punct(c))
    }

    fn ident(&self, i: usize) -> Option<&'a str> {
        self.tokens.get(i)?.ident(self.src)
    }

    /// The value of a string literal, plain or raw, with the common escapes resolved.
    fn string(&self, i: usize) -> Option<String> {
        let t = self.tokens.get(i)?;
        let text = &self.src[t.start..t.end];
        match t.kind {
            Kind::RawStr => {
                // `r`, hashes, `"`, the string, `"`, as many hashes.
                let quotes = text.find('"').unwrap_or(1);
                let hashes = quotes - 1;
                Some(text[quotes + 1..text.len() - 1 - hashes].to_string())
            }
            Kind::Str => Some(unescape(&text[1..text.len() - 1])),
            _ => None,
        }
    }
}

/// The tokens of a source file, after its byte order mark and shebang line, its
/// whitespace and comments left out.
fn lex(src: &str) -> std::result::Result<Vec<Token>, String> {
    let bom = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lexer = Lexer::new(src);
    lexer.pos = bom + lex::shebang_end(&src[bom..]).unwrap_or(0);
    let mut out = Vec::new();
    loop {
        let token = match lexer.skip_trivia(Docs::Skip) {
            Ok(()) if lexer.pos == src.len() => return Ok(out),
            Ok(()) => lexer.token(),
            Err(e) => Err(e),
        };
        match token {
            Ok(token) => out.push(token),
            Err(e) => {
                let what = match e.what {
                    Unterminated::BlockComment => "block comment",
                    Unterminated::Str => "string literal",
                    Unterminated::RawStr => "raw string",
                    Unterminated::Char => "character literal",
                    Unterminated::Byte => "byte literal",
                };
                return Err(format!("unterminated {what} on line {}", e.line));
            }
        }
    }
}

/// The value of the inside of a string literal: common escapes resolved.
fn unescape(body: &str) -> String {
    let mut value = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            break;
        };
        match e {
            'n' => value.push('\n'),
            't' => value.push('\t'),
            '\r' if chars.as_str().starts_with('\n') => {
                // A line continuation in a file with CRLF line breaks.
                chars.next();
                chars = skip_continuation(chars.as_str()).chars();
            }
            'r' => value.push('\r'),
            '0' => value.push('\0'),
            '\n' => chars = skip_continuation(chars.as_str()).chars(),
            other => value.push(other),
        }
    }
    value
}

/// After a line continuation (`\` at the end of a line), the text without the
/// whitespace rustc skips there: ASCII spaces, tabs and line breaks.
fn skip_continuation(rest: &str) -> &str {
    rest.trim_start_matches([' ', '\t', '\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::super::existing_glue;
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
}
