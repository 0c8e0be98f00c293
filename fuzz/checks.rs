//! The checks of the fuzz targets, shared with the corpus replays of `cargo test`
//! (`tests/fuzz_replay.rs` includes this file): each takes one input and panics when a
//! reader gets it wrong. See docs/reliability.md ("Fuzzing the readers").

// Each fuzz target uses one of the checks.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use build_patch::__fuzz::{self, Value};
use build_patch::patch::{apply_to_dir, ApplyOptions, PatchFile};

/// How long an input may take, far above what any reader needs (they are linear):
/// a reader that loops or goes quadratic on some input fails here.
const BOUND: std::time::Duration = std::time::Duration::from_secs(2);

fn timed<T>(what: &str, text: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(
        took < BOUND || text.len() > 1 << 20,
        "{what} took {took:?} on {} bytes",
        text.len()
    );
    out
}

/// The manifest reader against the `toml` crate (Cargo's own reader): the same
/// accept/reject, and the same values for everything accepted. One deliberate
/// difference: the reader refuses tables and arrays nested more than 128 deep, counting
/// each part of a dotted key or header (its tables are recursive; Cargo's manifests nest
/// about five deep), where the `toml` crate reads deeper keys. Where the reader accepts
/// TOML 1.1 additions, it accepts exactly those the `toml` crate accepts.
pub fn toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = timed("the TOML reader", text, || __fuzz::toml(text));
    let theirs = text.parse::<toml::Table>();
    // What build-patch reads from a manifest: no panic.
    if ours.is_ok() {
        let _ = timed("the manifest reader", text, || __fuzz::manifest(text));
    }
    match (ours, theirs) {
        (Err(e), Ok(_)) if e.contains(" nested more than 128 deep") => {}
        (Ok(ours), Ok(theirs)) => {
            let theirs = from_toml(&toml::Value::Table(theirs));
            assert_eq!(normalize_toml(ours), theirs, "values differ on {text:?}");
        }
        (Err(_), Err(_)) => {}
        (Ok(ours), Err(e)) => {
            panic!("we accept what `toml` rejects ({e}): {text:?}\nours: {ours:?}")
        }
        (Err(e), Ok(_)) => panic!("we reject what `toml` accepts ({e}): {text:?}"),
    }
}

fn from_toml(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::Integer(*i),
        // Compared as text: `nan` is not equal to itself.
        toml::Value::Float(f) => Value::Datetime(format!("float:{f:?}")),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::Datetime(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(from_toml).collect()),
        toml::Value::Table(t) => {
            Value::Table(t.iter().map(|(k, v)| (k.clone(), from_toml(v))).collect())
        }
    }
}

/// Our value with floats as text and datetimes as `toml` prints them (it normalizes
/// `t` to `T`, a space to `T`, ...; we keep them as written).
fn normalize_toml(value: Value) -> Value {
    match value {
        Value::Float(f) => Value::Datetime(format!("float:{f:?}")),
        Value::Datetime(d) => Value::Datetime(
            d.parse::<toml::value::Datetime>()
                .map_or_else(|e| format!("unparsable `{d}`: {e}"), |d| d.to_string()),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(normalize_toml).collect()),
        Value::Table(t) => {
            Value::Table(t.into_iter().map(|(k, v)| (k, normalize_toml(v))).collect())
        }
        other => other,
    }
}

/// The `cargo metadata` reader against `serde_json`: the same accept/reject and
/// values, but for two deliberate differences. Numbers are kept as written, so one
/// too large for a float is no error; and arrays and objects may nest 256 deep where
/// `serde_json` stops at 128 (`cargo metadata` nests about ten deep; both limits only
/// keep the stack safe).
pub fn json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = timed("the JSON reader", text, || __fuzz::json(text));
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (ours, theirs) {
        (Ok(_), Err(e))
            if e.to_string().starts_with("number out of range")
                || e.to_string().starts_with("recursion limit exceeded") => {}
        (Ok(ours), Ok(theirs)) => {
            assert_eq!(to_serde(&ours), theirs, "values differ on {text:?}")
        }
        (Err(_), Err(_)) => {}
        (Ok(ours), Err(e)) => {
            panic!("we accept what serde_json rejects ({e}): {text:?}\nours: {ours:?}")
        }
        (Err(e), Ok(_)) => panic!("we reject what serde_json accepts ({e}): {text:?}"),
    }
}

fn to_serde(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::from_str(n).expect("numbers are valid JSON"),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        Value::Table(t) => {
            serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect())
        }
        other => panic!("the JSON reader made a TOML value: {other:?}"),
    }
}

/// The root splitter. On any input: the compile root keeps every character outside
/// what it blanks, blanks only to spaces (tabs and line breaks kept), so every line
/// keeps its length in characters; what it reports is at the line it says. Where
/// `syn` parses the root (and it has no whitespace that only `syn` accepts), against
/// `syn`: the reported attributes are the file's inner
/// attributes (inner doc comments blanked, not reported), the moved `extern crate`
/// items are exactly the top-level ones with `#[macro_use]` (also in `cfg_attr`) or a
/// rename (but `extern crate self`), the kept ones the other top-level ones, and the
/// compile root parses to the same items less the moved ones, with no inner
/// attribute left.
pub fn root(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(split) = timed("the root splitter", text, || __fuzz::split_root(text)) else {
        return;
    };
    let src = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut body = split.body.chars();
    for (i, c) in src.chars().enumerate() {
        let b = body
            .next()
            .unwrap_or_else(|| panic!("the compile root is shorter: {text:?}"));
        assert!(
            b == c || (b == ' ' && !matches!(c, '\n' | '\r' | '\t')),
            "character {i} changed from {c:?} to {b:?} in {text:?}"
        );
    }
    assert_eq!(body.next(), None, "the compile root is longer: {text:?}");
    let lines: Vec<&str> = src.split('\n').collect();
    let reported = [
        (&split.attrs, true),
        (&split.extern_crates, true),
        (&split.kept_extern_crates, false),
    ];
    for (items, blanked) in reported {
        for (line, item) in items {
            // Where on its line the item may start (the same text may repeat there).
            let at: usize = lines[..line - 1].iter().map(|l| l.len() + 1).sum();
            let line_end = at + lines[line - 1].len();
            let found = src[at..line_end]
                .char_indices()
                .map(|(i, _)| at + i)
                .filter(|&i| src[i..].starts_with(item.as_str()))
                .any(|i| {
                    let there = body_at(&split.body, src, i, item.len());
                    if blanked {
                        there.chars().all(char::is_whitespace)
                    } else {
                        there == item
                    }
                });
            let what = if blanked { "blanked" } else { "kept" };
            assert!(found, "{item:?} is not {what} at line {line} of {text:?}");
        }
    }
    against_syn(text, &split);
}

/// The part of the compile root that stands for `src[at..at + len]`: blanking maps
/// each character to one, so the offsets are counted in characters.
fn body_at<'a>(body: &'a str, src: &str, at: usize, len: usize) -> &'a str {
    let start_chars = src[..at].chars().count();
    let len_chars = src[at..at + len].chars().count();
    let offset = |n: usize| body.char_indices().nth(n).map_or(body.len(), |(i, _)| i);
    &body[offset(start_chars)..offset(start_chars + len_chars)]
}

fn tokens(t: &impl quote::ToTokens) -> String {
    t.to_token_stream().to_string()
}

fn against_syn(text: &str, split: &__fuzz::Split) {
    // `syn` reads every Unicode `White_Space` character as whitespace (a no-break space
    // after a shebang's `#!` too); rustc only `Pattern_White_Space`, and rejects the
    // others as unknown tokens. The splitter reads as rustc: no comparison there.
    let rustc_rejects = |c: char| {
        c.is_whitespace()
            && !matches!(
                c,
                '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{2028}' | '\u{2029}'
            )
    };
    if text.chars().any(rustc_rejects) {
        return;
    }
    let Ok(file) = syn::parse_file(text) else {
        return;
    };
    // Inner attributes, inner doc comments left out (syn gives them as `doc`
    // attributes; the splitter blanks them without reporting them).
    let is_doc_comment = |a: &syn::Attribute| {
        matches!(&a.meta, syn::Meta::NameValue(nv) if nv.path.is_ident("doc"))
            && matches!(a.style, syn::AttrStyle::Inner(_))
            && !tokens(a).is_empty()
    };
    let ours: Vec<String> = split
        .attrs
        .iter()
        .map(|(_, t)| {
            let parsed = syn::parse::Parser::parse_str(syn::Attribute::parse_inner, t)
                .unwrap_or_else(|e| panic!("{t:?} is no inner attribute ({e}): {text:?}"));
            parsed.iter().map(tokens).collect::<String>()
        })
        .collect();
    let theirs: Vec<String> = file
        .attrs
        .iter()
        .filter(|a| !is_doc_comment(a) || ours.contains(&tokens(*a)))
        .map(tokens)
        .collect();
    assert_eq!(ours, theirs, "inner attributes of {text:?}");
    let mut moved = Vec::new();
    let mut kept = Vec::new();
    let mut rest = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::ExternCrate(e) if e.ident != "self" => {
                let macro_use = e.attrs.iter().any(|a| {
                    tokens(&a.meta)
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == "macro_use")
                });
                if macro_use || e.rename.is_some() {
                    moved.push(tokens(item));
                } else {
                    kept.push(tokens(item));
                    rest.push(tokens(item));
                }
            }
            _ => rest.push(tokens(item)),
        }
    }
    let item = |(_, t): &(usize, String)| {
        let parsed: syn::Item =
            syn::parse_str(t).unwrap_or_else(|e| panic!("{t:?} is no item ({e}): {text:?}"));
        tokens(&parsed)
    };
    let ours_moved: Vec<String> = split.extern_crates.iter().map(item).collect();
    assert_eq!(ours_moved, moved, "moved extern crates of {text:?}");
    let ours_kept: Vec<String> = split.kept_extern_crates.iter().map(item).collect();
    assert_eq!(ours_kept, kept, "kept extern crates of {text:?}");
    let body = syn::parse_file(&split.body)
        .unwrap_or_else(|e| panic!("the compile root does not parse ({e}): {text:?}"));
    assert!(body.attrs.is_empty(), "inner attributes left in {text:?}");
    let body_items: Vec<String> = body.items.iter().map(tokens).collect();
    assert_eq!(body_items, rest, "items of the compile root of {text:?}");
}

/// The build-script reader: no panic, bounded time; renaming `main` changes nothing
/// but the names it renames (same lines, same text around them).
pub fn build_script(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (_, renamed) = timed("the build-script lexer", text, || {
        __fuzz::build_script(text)
    });
    if let (Ok(renamed), false) = (renamed, text.contains("__build_patch_upstream_main")) {
        assert_eq!(
            renamed.split('\n').count(),
            text.split('\n').count(),
            "line count changed: {text:?}"
        );
        // `fn r#main` is renamed too (to the plain name).
        let plain = |s: &str| s.replace("r#main", "main");
        let stripped = renamed.replace("__build_patch_upstream_main", "main");
        assert!(
            plain(&stripped) == plain(text),
            "renaming changed more than `main`: {text:?} became {renamed:?}"
        );
    }
}

/// `<tmp>/sentinel` (must never change) and `<tmp>/tree` (patched).
fn dirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("build-patch-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let sentinel = root.join("sentinel");
        std::fs::write(&sentinel, b"untouched").unwrap();
        (sentinel, root.join("tree"))
    })
}

/// The patch engine through its public API: any bytes as a patch, applied to a small
/// tree whose file contents come from the input too, at fuzz 0 and 2. Nothing may
/// panic, and nothing outside the tree may change.
///
/// Input layout: `file bytes 0xFF patch bytes` (no 0xFF: the first half is the
/// file). The file is written as `src/lib.rs` and as `Cargo.toml`.
pub fn parse_apply(data: &[u8]) {
    let (sentinel, tree) = dirs();
    let split = data
        .iter()
        .position(|&b| b == 0xff)
        .unwrap_or(data.len() / 2);
    let (file, patch) = (&data[..split], &data[(split + 1).min(data.len())..]);

    let _ = std::fs::remove_dir_all(tree);
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(tree.join("src/lib.rs"), file).unwrap();
    std::fs::write(tree.join("Cargo.toml"), file).unwrap();

    for fuzz in [0, 2] {
        let mut options = ApplyOptions::new();
        options.fuzz(fuzz);
        let patches = [PatchFile {
            display: "fuzz.patch".to_string(),
            bytes: patch.to_vec(),
            strip: None,
        }];
        let _ = apply_to_dir(tree, &patches, &options);
    }

    assert_eq!(std::fs::read(sentinel).unwrap(), b"untouched");
    // Nothing appeared beside the tree.
    let parent = tree.parent().unwrap();
    for entry in std::fs::read_dir(parent).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            name == "sentinel" || name == "tree",
            "wrote {name:?} outside the tree"
        );
    }
}
