//! Splitting the upstream library root into what the shim's own `src/lib.rs` must
//! carry and the rest, which the shim `include!`s.
//!
//! The shim compiles the staged copy with `include!`, and two kinds of top-level
//! code cannot stay in the included file:
//!
//! - Inner attributes (`#![...]`) and inner doc comments (`//!`, `/*! */`), which
//!   `include!` rejects. The leading ones are blanked out of the compile root, and
//!   those that change compilation must sit in the shim's `src/lib.rs`.
//! - Some `extern crate` items. rustc treats items that come out of a macro
//!   (`include!` is one) more strictly: a macro-expanded `#[macro_use] extern crate`
//!   may not shadow a macro already in scope (RFC 1560: `#[macro_use] extern crate
//!   alloc;` after `extern crate std` clashes on `vec`), and a macro-expanded
//!   `extern crate foo as core;` may not shadow a name passed with `--extern`. So the
//!   top-level `extern crate` items with `#[macro_use]` (also inside `cfg_attr`) or a
//!   rename (`as name`) are blanked out of the compile root, with their outer
//!   attributes and doc comments, and must sit in the shim's `src/lib.rs` instead,
//!   where they mean what they meant at the upstream root: the crate root is the same
//!   module, and `#[macro_use]` imports go to the crate-wide `macro_use` prelude,
//!   whatever their position. Only those move: rustc accepts a plain
//!   `extern crate foo;` inside `include!`, and leaving it there keeps the shim's root
//!   short and the shims of the many 2015-style roots that have only plain ones
//!   valid. Whether a moved one would actually clash depends on the macros a
//!   dependency exports and on the names Cargo passes with `--extern`, which the
//!   library does not see, so every one of those two forms moves. `extern crate
//!   self as foo;` names no dependency and stays; so do items inside modules and
//!   macro calls.
//!
//! [`compare`] checks that the shim carries both.
//!
//! Blanking replaces characters with spaces and keeps every line break, so the line and
//! column of all remaining code are unchanged and rustc's messages point at the right
//! place in the staged copy.
//!
//! It reads the root with [`crate::lex`], the lexer it shares with the build-script
//! reader, and pairs the brackets itself.

use std::fmt;

use crate::lex::{self, Docs, Kind, LexError, Lexer, Unterminated};

/// The version of what [`split_root`] blanks out of the compile root. Staged copies
/// record it in their stamp, so one made by a build-patch that blanked something else
/// (format 1: no `extern crate` items; 2: all top-level ones, never released; 3: those
/// with `#[macro_use]` or a rename) is staged again. Bump it with every such change.
pub(crate) const FORMAT: u32 = 3;

/// One inner attribute of the leading region of a library root.
pub(crate) struct InnerAttr {
    /// The attribute exactly as written, e.g. `#![cfg_attr(not(feature = "std"), no_std)]`;
    /// it may span lines.
    pub(crate) text: String,
    /// The 1-based line its `#` is on (for the tests and the fuzz checks).
    #[cfg(any(test, feature = "__fuzz"))]
    pub(crate) line: usize,
    /// Whether it changes what or how rustc compiles (`no_std`, `feature`, `cfg`,
    /// `recursion_limit`...), as opposed to lints and documentation.
    pub(crate) affects_compilation: bool,
}

/// One top-level `extern crate` item of a library root.
pub(crate) struct ExternCrate {
    /// The item exactly as written, from its first outer attribute or doc comment to
    /// its `;`, e.g. `#[macro_use]\nextern crate nom;`; it may span lines.
    pub(crate) text: String,
    /// The 1-based line it starts on (for the tests and the fuzz checks).
    #[cfg(any(test, feature = "__fuzz"))]
    pub(crate) line: usize,
}

/// A library root split into what the shim's root must carry and the code to include.
pub(crate) struct SplitRoot {
    /// The leading inner attributes, in order.
    pub(crate) attrs: Vec<InnerAttr>,
    /// The top-level `extern crate` items with `#[macro_use]` or a rename (but
    /// `extern crate self`), in order: those rustc may refuse inside `include!`.
    pub(crate) extern_crates: Vec<ExternCrate>,
    /// The other top-level `extern crate` items, which stay where they are:
    /// for an upstream root, in the compile root; in a shim's root, a
    /// repetition of one of the upstream's would define the name twice.
    pub(crate) kept_extern_crates: Vec<ExternCrate>,
    /// Where the leading region ends: the byte offset, in the text as given (a byte
    /// order mark included), of the first token after it, or the end of the file.
    /// Items go there (when a shim's root is written, and for the fuzz checks).
    #[cfg(any(test, feature = "generate", feature = "__fuzz"))]
    pub(crate) first_item: usize,
    /// The whole file with its byte order mark dropped, and its shebang line, every
    /// leading inner attribute and inner doc comment and every item of
    /// `extern_crates` replaced by spaces, line breaks kept.
    pub(crate) body: String,
}

/// Why a library root cannot be split: an unterminated comment, literal or bracket.
#[derive(Debug)]
pub(crate) struct RootError {
    line: usize,
    message: String,
}

impl fmt::Display for RootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RootError {}

/// Splits a library root: see [`SplitRoot`].
///
/// The leading region runs from the start of the file (after a byte order mark and a
/// shebang line) through whitespace, comments, inner doc comments and inner attributes,
/// up to the first other token. Inner attributes after it belong to inner modules and
/// functions and are left alone.
pub(crate) fn split_root(text: &str) -> Result<SplitRoot, RootError> {
    let src = text.strip_prefix("\u{feff}").unwrap_or(text);
    let mut lexer = Lexer::new(src);
    #[cfg(any(test, feature = "__fuzz"))]
    let mut lines = Lines {
        src,
        pos: 0,
        line: 1,
    };
    // Byte ranges to blank out.
    let mut blank = Vec::new();
    let mut attrs = Vec::new();
    if let Some(end) = lex::shebang_end(src) {
        blank.push((0, end));
        lexer.pos = end;
    }
    loop {
        lexer.skip_whitespace();
        let start = lexer.pos;
        let rest = lexer.rest();
        let doc = lex::doc_comment(rest);
        if doc == Some(false) {
            // An outer doc comment documents the first item: the region ends.
            break;
        } else if rest.starts_with("//") {
            lexer.skip_line_comment();
        } else if rest.starts_with("/*") {
            lexer.skip_block_comment()?;
        } else if rest.starts_with('#') {
            lexer.pos += 1;
            lexer.skip_trivia(Docs::Skip)?;
            if !lexer.rest().starts_with('!') {
                // An outer attribute: the first item starts here.
                lexer.pos = start;
                break;
            }
            lexer.pos += 1;
            lexer.skip_trivia(Docs::Skip)?;
            if !lexer.rest().starts_with('[') {
                // `#!` not followed by `[` is not an attribute; leave it for rustc.
                lexer.pos = start;
                break;
            }
            lexer.pos += 1;
            let trees = group(&mut lexer, ']', start, true)?;
            attrs.push(InnerAttr {
                text: src[start..lexer.pos].to_string(),
                #[cfg(any(test, feature = "__fuzz"))]
                line: lines.at(start),
                affects_compilation: affects_compilation(&trees),
            });
            blank.push((start, lexer.pos));
        } else {
            break;
        }
        if doc == Some(true) {
            // An inner doc comment.
            blank.push((start, lexer.pos));
        }
    }
    #[cfg(any(test, feature = "generate", feature = "__fuzz"))]
    let first_item = lexer.pos + (text.len() - src.len());
    let mut extern_crates = Vec::new();
    let mut kept_extern_crates = Vec::new();
    for &(start, end, moves) in &top_level_extern_crates(&mut lexer) {
        let item = ExternCrate {
            text: src[start..end].to_string(),
            #[cfg(any(test, feature = "__fuzz"))]
            line: lines.at(start),
        };
        if moves {
            extern_crates.push(item);
            blank.push((start, end));
        } else {
            kept_extern_crates.push(item);
        }
    }
    Ok(SplitRoot {
        attrs,
        extern_crates,
        kept_extern_crates,
        #[cfg(any(test, feature = "generate", feature = "__fuzz"))]
        first_item,
        body: blank_out(src, &blank),
    })
}

/// The 1-based line of byte offsets asked for in increasing order, counted on from the
/// last one: linear in the file, where counting from the start each time was
/// quadratic (10,000 `extern crate` items at the end of a 50 MB root).
#[cfg(any(test, feature = "__fuzz"))]
struct Lines<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
}

#[cfg(any(test, feature = "__fuzz"))]
impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        if pos < self.pos {
            (self.pos, self.line) = (0, 1);
        }
        self.line += lex::count_newlines(&self.src[self.pos..pos]);
        self.pos = pos;
        self.line
    }
}

/// The byte ranges of the top-level `extern crate` items from the lexer's position
/// on, each from its first outer attribute or doc comment to its `;`, and whether it
/// must move (see the module docs).
///
/// Items are told apart well enough for this: an item ends at a `;` or a `{...}`
/// group outside brackets, and an `extern crate` item is outer attributes, an
/// optional visibility, then `extern crate NAME`. Where the lexer cannot follow the
/// code (an unterminated comment or literal, a stray bracket), scanning stops: the
/// items found so far still move, and rustc reports the problem in the staged copy.
fn top_level_extern_crates(lexer: &mut Lexer<'_>) -> Vec<(usize, usize, bool)> {
    let mut found = Vec::new();
    let mut item_start = None;
    let mut item = Vec::new();
    loop {
        if lexer.skip_trivia(Docs::StopAtOuter).is_err() {
            break;
        }
        let start = lexer.pos;
        let rest = lexer.rest();
        if rest.is_empty() {
            break;
        }
        if item_start.is_none() {
            item_start = Some(start);
        }
        if lex::doc_comment(rest) == Some(false) {
            if rest.starts_with("///") {
                lexer.skip_line_comment();
            } else if lexer.skip_block_comment().is_err() {
                break;
            }
            continue;
        }
        let c = lexer.peek().unwrap_or_default();
        let tree = if let Some(close) = closing(c) {
            lexer.pos += 1;
            // Only the brackets of attributes matter: the other groups are skipped
            // without keeping their trees (in a 50 MB root, that was most of the time).
            match group(lexer, close, start, c == '[') {
                Ok(trees) => Tree::Group(c, trees),
                Err(_) => break,
            }
        } else if matches!(c, ')' | ']' | '}') {
            break;
        } else {
            match token(lexer) {
                Ok(tree) => tree,
                Err(_) => break,
            }
        };
        let ends_item = matches!(tree, Tree::Punct(';') | Tree::Group('{', _));
        item.push(tree);
        if ends_item {
            if let Some(start) = item_start.take() {
                if let Some(moves) = extern_crate_moves(&item) {
                    found.push((start, lexer.pos, moves));
                }
            }
            item.clear();
        }
    }
    found
}

/// For an item's token trees, up to its `;`: `None` when it is not an `extern
/// crate` item (or is `extern crate self`), else whether it must move: it has
/// `#[macro_use]` (also inside `cfg_attr`) or a rename.
fn extern_crate_moves(item: &[Tree<'_>]) -> Option<bool> {
    let mut rest = item;
    let mut macro_use = false;
    while let [Tree::Punct('#'), Tree::Group('[', attr), after @ ..] = rest {
        macro_use |= mentions(attr, "macro_use");
        rest = after;
    }
    if let [Tree::Ident("pub"), after @ ..] = rest {
        rest = after;
        if let [Tree::Group('(', _), after @ ..] = rest {
            rest = after;
        }
    }
    match rest {
        [Tree::Ident("extern"), Tree::Ident("crate"), Tree::Ident(name), after @ ..]
            if *name != "self" =>
        {
            Some(macro_use || matches!(after, [Tree::Ident("as"), ..]))
        }
        _ => None,
    }
}

/// Whether the identifier `name` occurs in the token trees, at any depth.
fn mentions(trees: &[Tree<'_>], name: &str) -> bool {
    for t in trees {
        let found = match t {
            Tree::Ident(n) => *n == name,
            Tree::Group(_, inner) => mentions(inner, name),
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

/// The attribute with whitespace and comments outside literals removed, for comparing
/// two attributes written differently.
pub(crate) fn normalized(attr_text: &str) -> String {
    let mut lexer = Lexer::new(attr_text);
    let mut out = String::with_capacity(attr_text.len());
    while let Some(c) = lexer.peek() {
        let start = lexer.pos;
        let rest = lexer.rest();
        if lex::is_whitespace(c) {
            lexer.pos += c.len_utf8();
        } else if rest.starts_with("//") {
            lexer.skip_line_comment();
        } else if rest.starts_with("/*") {
            if lexer.skip_block_comment().is_err() {
                out.push_str(rest);
                break;
            }
        } else {
            if lexer.token().is_err() {
                // Unterminated: keep the rest as it is.
                out.push_str(rest);
                break;
            }
            // A single token never contains whitespace outside a literal.
            out.push_str(&attr_text[start..lexer.pos]);
        }
    }
    out
}

/// How much expansion depth the shim adds to the upstream's code: the shim's
/// `src/lib.rs` `include!`s the entry file (`OUT_DIR/build-patch/lib.rs`), which
/// `include!`s the compile root, and each `include!` is one level. Measured with rustc
/// 1.95 at the default limit of 128: a `macro_rules!` recursing 127 deep builds as a
/// crate root, 126 through one `include!`, 125 through two.
pub(crate) const INCLUDE_DEPTH: u32 = 2;

/// rustc's `recursion_limit` when a crate sets none.
const DEFAULT_RECURSION_LIMIT: u32 = 128;

/// The `#![recursion_limit]` line the shim's `src/lib.rs` carries after the
/// upstream's attributes: the upstream's limit (the highest any of its leading
/// attributes sets, also inside `cfg_attr`; else rustc's default) plus
/// [`INCLUDE_DEPTH`], so that a macro recursing as deep as the upstream allows
/// still expands through the shim. rustc takes the last `recursion_limit`, so it
/// overrides the upstream's copy; it only ever raises the limit.
pub(crate) fn shim_recursion_limit(upstream: &SplitRoot) -> String {
    const KEY: &str = "recursion_limit=\"";
    let mut limit = DEFAULT_RECURSION_LIMIT;
    for a in &upstream.attrs {
        let text = normalized(&a.text);
        let mut rest = text.as_str();
        while let Some(i) = lex::find_str(rest, KEY) {
            rest = &rest[i + KEY.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            if end < rest.len() {
                // Read as i64, the crate's one integer width (less code).
                if let Ok(value) = rest[..end].parse::<i64>() {
                    if let Ok(value) = u32::try_from(value) {
                        if value > limit {
                            limit = value;
                        }
                    }
                }
            }
        }
    }
    format!(
        "#![recursion_limit = \"{}\"]",
        limit.saturating_add(INCLUDE_DEPTH)
    )
}

/// Checks that the shim's root carries exactly the upstream root's compile-affecting
/// crate attributes and its top-level `extern crate` items (in any order; whitespace
/// and comments do not matter). Returns what to change, if anything.
pub(crate) fn compare(upstream: &SplitRoot, shim: &SplitRoot) -> Option<String> {
    let mut extra = affecting(shim);
    // The shim's own recursion limit is no upstream attribute; old shims lack it.
    take(&mut extra, &normalized(&shim_recursion_limit(upstream)));
    let missing_attrs = missing(affecting(upstream), &mut extra);
    let mut extra_crates = crates(shim);
    let missing_crates = missing(crates(upstream), &mut extra_crates);
    for &e in &extra_crates {
        extra.push(e);
    }
    repeated_kept_crates(upstream, shim, &mut extra);
    if missing_attrs.is_empty() && missing_crates.is_empty() && extra.is_empty() {
        return None;
    }
    let mut message = String::from(
        "the shim's `src/lib.rs` does not carry the crate-level attributes \
         and `extern crate` items of the patched upstream root",
    );
    list(
        &mut message,
        "missing (copy these lines above the `include!` line):",
        &missing_attrs,
    );
    list(
        &mut message,
        "missing `extern crate` items (copy these lines after the `#![...]` lines, \
         above the `include!` line):",
        &missing_crates,
    );
    list(&mut message, "extra (remove these lines):", &extra);
    Some(message)
}

/// The texts of the attributes of `root` that affect compilation.
fn affecting(root: &SplitRoot) -> Vec<&str> {
    let mut out = Vec::new();
    for a in &root.attrs {
        if a.affects_compilation {
            out.push(a.text.as_str());
        }
    }
    out
}

/// The texts of the `extern crate` items `root` moves out of the compile root.
fn crates(root: &SplitRoot) -> Vec<&str> {
    let mut out = Vec::new();
    for e in &root.extern_crates {
        out.push(e.text.as_str());
    }
    out
}

/// Appends to `message` the heading and the lines of `items`, if there are any.
fn list(message: &mut String, heading: &str, items: &[&str]) {
    if items.is_empty() {
        return;
    }
    message.push_str("\n  ");
    message.push_str(heading);
    for item in items {
        for line in item.lines() {
            message.push_str("\n    ");
            message.push_str(line);
        }
    }
}

/// Appends to `out` the texts of the plain `extern crate` items of the shim's root
/// that repeat one the upstream root keeps in the compile root: rustc would see the
/// name defined twice (E0259), so they are extra.
pub(crate) fn repeated_kept_crates<'a>(
    upstream: &SplitRoot,
    shim: &'a SplitRoot,
    out: &mut Vec<&'a str>,
) {
    for e in &shim.kept_extern_crates {
        let key = normalized(&e.text);
        for kept in &upstream.kept_extern_crates {
            if normalized(&kept.text) == key {
                out.push(&e.text);
                break;
            }
        }
    }
}

/// What `upstream` has that `extra` lacks, comparing [`normalized`] texts as
/// multisets, in its order; what matches is taken out of `extra`.
fn missing<'a>(upstream: Vec<&'a str>, extra: &mut Vec<&'a str>) -> Vec<&'a str> {
    let mut missing = Vec::new();
    for &text in &upstream {
        if !take(extra, &normalized(text)) {
            missing.push(text);
        }
    }
    missing
}

/// Removes from `texts` the first whose [`normalized`] text is `key`; whether there
/// was one.
fn take(texts: &mut Vec<&str>, key: &str) -> bool {
    for i in 0..texts.len() {
        if normalized(texts[i]) == key {
            texts.remove(i);
            return true;
        }
    }
    false
}

/// Attributes that never change what rustc compiles: lints and documentation. Dropping
/// them from the compile root only loses warnings and docs.
const NOT_AFFECTING: &[&str] = &[
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "doc",
    "deprecated",
    "rustfmt_skip",
];

/// Decides from the tokens inside `#![...]` whether the attribute affects compilation.
///
/// Unknown attributes count as affecting it: the shim then has to carry them, which is
/// safer than silently compiling the upstream without them. Tool attributes such as
/// `rustfmt::skip` or `clippy::msrv` only configure tools.
fn affects_compilation(trees: &[Tree<'_>]) -> bool {
    // The attribute's path: its first name, and how many names it has.
    let mut name = "";
    let mut names = 0;
    let mut rest = trees;
    loop {
        while let [Tree::Punct(':'), after @ ..] = rest {
            rest = after;
        }
        let [Tree::Ident(n), after @ ..] = rest else {
            break;
        };
        if names == 0 {
            name = n;
        }
        names += 1;
        rest = after;
        if !matches!(rest, [Tree::Punct(':'), ..]) {
            break;
        }
    }
    let args = match rest {
        [Tree::Group('(', inner), ..] => Some(inner.as_slice()),
        _ => None,
    };
    match (names, args) {
        (0, _) => true,
        (1, Some(inner)) if name == "unsafe" => affects_compilation(inner),
        (1, Some(inner)) if name == "cfg_attr" => {
            // `cfg_attr(predicate, attr, attr, ...)`: whatever it may apply, the parts
            // after the first comma.
            let mut from = 0;
            for j in 0..inner.len() + 1 {
                if j == inner.len() || is_punct(inner.get(j), ',') {
                    if from > 0 && j > from && affects_compilation(&inner[from..j]) {
                        return true;
                    }
                    from = j + 1;
                }
            }
            false
        }
        (1, _) => {
            for n in NOT_AFFECTING {
                if *n == name {
                    return false;
                }
            }
            true
        }
        _ => false,
    }
}

/// Replaces the characters in `ranges` by spaces, keeping line breaks and tabs.
fn blank_out(src: &str, ranges: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(src.len());
    let mut copied = 0;
    for &(start, end) in ranges {
        out.push_str(&src[copied..start]);
        for c in src[start..end].chars() {
            out.push(if matches!(c, '\n' | '\r' | '\t') {
                c
            } else {
                ' '
            });
        }
        copied = end;
    }
    out.push_str(&src[copied..]);
    out
}

/// A token tree, as much of one as deciding `affects_compilation` needs.
enum Tree<'a> {
    Ident(&'a str),
    Punct(char),
    /// A literal or lifetime; its content does not matter here.
    Literal,
    /// A delimited group, by its opening delimiter.
    Group(char, Vec<Tree<'a>>),
}

fn is_punct(tree: Option<&Tree<'_>>, c: char) -> bool {
    matches!(tree, Some(Tree::Punct(p)) if *p == c)
}

impl From<LexError> for RootError {
    fn from(e: LexError) -> Self {
        let message = match e.what {
            Unterminated::BlockComment => "unterminated block comment",
            Unterminated::Str => "unterminated string literal",
            Unterminated::RawStr => "unterminated raw string literal",
            Unterminated::Char | Unterminated::Byte => "unterminated character literal",
        };
        RootError {
            line: e.line,
            message: message.to_string(),
        }
    }
}

fn line_of(src: &str, pos: usize) -> usize {
    lex::count_newlines(&src[..pos]) + 1
}

fn error(src: &str, pos: usize, message: String) -> RootError {
    RootError {
        line: line_of(src, pos),
        message,
    }
}

/// The closing delimiter of an opening one.
fn closing(open: char) -> Option<char> {
    match open {
        '(' => Some(')'),
        '[' => Some(']'),
        '{' => Some('}'),
        _ => None,
    }
}

fn opening(close: char) -> char {
    match close {
        ')' => '(',
        ']' => '[',
        _ => '{',
    }
}

/// Reads one token other than a delimiter, at a position that is not whitespace, a
/// comment or the end.
fn token<'a>(lexer: &mut Lexer<'a>) -> Result<Tree<'a>, RootError> {
    let t = lexer.token()?;
    Ok(match t.kind {
        Kind::Punct(c) => Tree::Punct(c),
        Kind::Ident | Kind::RawIdent => Tree::Ident(t.ident(lexer.src).unwrap_or_default()),
        _ => Tree::Literal,
    })
}

/// Reads the token trees up to the delimiter `close`, which it consumes, or with `keep`
/// false only skips them (and returns none). `attr_start` is where the attribute
/// starts, for error messages.
///
/// Iterative, for groups of any depth (a root nesting brackets 100,000 deep overflowed
/// the build script's stack). Trees are kept down to [`MAX_NESTING`] deep: a group
/// that deep stands for `, _`, a part that may change compilation, so that a leading
/// attribute that deep is carried to the shim, never dropped.
fn group<'a>(
    lexer: &mut Lexer<'a>,
    close: char,
    attr_start: usize,
    keep: bool,
) -> Result<Vec<Tree<'a>>, RootError> {
    // The groups open, innermost last: the delimiter that closes each, where it
    // opened, and its trees so far.
    let mut open = Vec::new();
    open.push((close, lexer.pos.saturating_sub(1), Vec::new()));
    loop {
        lexer.skip_trivia(Docs::Skip)?;
        let depth = open.len() - 1;
        let (close, open_pos) = (open[depth].0, open[depth].1);
        let Some(c) = lexer.peek() else {
            return Err(unterminated(lexer, attr_start, close, open_pos));
        };
        let tree = if c == close {
            lexer.pos += 1;
            let Some((_, _, mut trees)) = open.pop() else {
                return Ok(Vec::new()); // never: the group being read is on the stack
            };
            if depth == 0 {
                return Ok(trees);
            }
            if depth == MAX_NESTING {
                trees.push(Tree::Punct(','));
                trees.push(Tree::Ident(""));
            }
            Tree::Group(opening(close), trees)
        } else if matches!(c, ')' | ']' | '}') {
            return Err(mismatched(lexer, c, close, open_pos));
        } else if let Some(close) = closing(c) {
            open.push((close, lexer.pos, Vec::new()));
            lexer.pos += 1;
            continue;
        } else {
            token(lexer)?
        };
        let parent = open.len() - 1;
        if keep && parent < MAX_NESTING {
            open[parent].2.push(tree);
        }
    }
}

fn unterminated(lexer: &Lexer<'_>, attr_start: usize, close: char, open_pos: usize) -> RootError {
    error(
        lexer.src,
        attr_start,
        format!(
            "unterminated attribute: the `{}` on line {} is never closed",
            opening(close),
            line_of(lexer.src, open_pos)
        ),
    )
}

fn mismatched(lexer: &Lexer<'_>, found: char, close: char, open_pos: usize) -> RootError {
    error(
        lexer.src,
        lexer.pos,
        format!(
            "mismatched `{found}` in an attribute: the `{}` on line {} is closed by `{close}`",
            opening(close),
            line_of(lexer.src, open_pos)
        ),
    )
}

/// How deeply the splitter reads brackets into token trees (see [`group`]); real
/// attributes nest a few levels.
const MAX_NESTING: usize = 128;

#[cfg(test)]
mod tests {
    use super::{compare, normalized, split_root};

    /// Renders a split as one line per attribute (`line`, `+` when it affects
    /// compilation, text), `--`, then the body with trailing spaces trimmed from each line;
    /// and checks that blanking kept every line's length.
    fn render(input: &str) -> String {
        let split = match split_root(input) {
            Ok(split) => split,
            Err(e) => return format!("error: {e}"),
        };
        let without_bom = input.strip_prefix('\u{feff}').unwrap_or(input);
        let lengths = |s: &str| s.split('\n').map(|l| l.chars().count()).collect::<Vec<_>>();
        assert_eq!(lengths(&split.body), lengths(without_bom), "{input:?}");
        let mut out = String::new();
        for attr in &split.attrs {
            let mark = if attr.affects_compilation { '+' } else { '-' };
            out.push_str(&format!("{} {mark} {}\n", attr.line, attr.text));
        }
        for item in &split.extern_crates {
            out.push_str(&format!("{} e {}\n", item.line, item.text));
        }
        out.push_str("--\n");
        let body: Vec<&str> = split.body.split('\n').map(str::trim_end).collect();
        out.push_str(&body.join("\n"));
        out
    }

    fn check(input: &str, expected: &str) {
        assert_eq!(render(input), expected, "input: {input:?}");
    }

    #[test]
    fn leading_attributes_and_docs() {
        check("", "--\n");
        check("fn main() {}", "--\nfn main() {}");
        check("#![no_std]\nuse x;", "1 + #![no_std]\n--\n\nuse x;");
        check(
            "//! Docs.\n//! More.\n\npub fn f() {}",
            "--\n\n\n\npub fn f() {}",
        );
        check(
            "/*! Block\n docs. */ pub fn f() {}",
            "--\n\n          pub fn f() {}",
        );
        check(
            "/*! outer /* nested */ still */\nfn f() {}",
            "--\n\nfn f() {}",
        );
        check(
            "#![doc = include_str!(\"../README.md\")]\n#![no_std]\nmod a;",
            "1 - #![doc = include_str!(\"../README.md\")]\n2 + #![no_std]\n--\n\n\nmod a;",
        );
        check(
            "#![cfg_attr(docsrs, feature(doc_cfg))]\nmod a;",
            "1 + #![cfg_attr(docsrs, feature(doc_cfg))]\n--\n\nmod a;",
        );
        check(
            "#![doc = r#\"contains ] and \"quotes\"\"#]\nmod a;",
            "1 - #![doc = r#\"contains ] and \"quotes\"\"#]\n--\n\nmod a;",
        );
        check(
            "#![cfg_attr(\n    not(feature = \"std\"),\n    no_std\n)]\nmod a;",
            "1 + #![cfg_attr(\n    not(feature = \"std\"),\n    no_std\n)]\n--\n\n\n\n\nmod a;",
        );
        check(
            "use std::io;\n#![allow(unused)]\n",
            "--\nuse std::io;\n#![allow(unused)]\n",
        );
        check(
            "#![deny(missing_docs)]\n//! Docs between.\n#![warn(clippy::all)]\n// A plain comment stays.\n/* So does this. */\n#![recursion_limit = \"256\"]\nfn f() { #![allow(unused)] }",
            "1 - #![deny(missing_docs)]\n3 - #![warn(clippy::all)]\n6 + #![recursion_limit = \"256\"]\n--\n\n\n\n// A plain comment stays.\n/* So does this. */\n\nfn f() { #![allow(unused)] }",
        );
    }

    #[test]
    fn outer_doc_comments_and_attributes_end_the_region() {
        check(
            "/// Item docs.\n#![no_std]",
            "--\n/// Item docs.\n#![no_std]",
        );
        check(
            "/** Item docs. */\n#![no_std]",
            "--\n/** Item docs. */\n#![no_std]",
        );
        check(
            "//// Not a doc.\n/***/\n/**/\n#![no_std]",
            "4 + #![no_std]\n--\n//// Not a doc.\n/***/\n/**/\n",
        );
        check("#[cfg(test)]\n#![no_std]", "--\n#[cfg(test)]\n#![no_std]");
        check(
            "# ! /* odd */ [no_std]\nfn f() {}",
            "1 + # ! /* odd */ [no_std]\n--\n\nfn f() {}",
        );
    }

    #[test]
    fn bom_shebang_and_line_endings() {
        check(
            "\u{feff}#![no_std]\nfn f() {}",
            "1 + #![no_std]\n--\n\nfn f() {}",
        );
        check(
            "#!/usr/bin/env run-cargo-script\n#![allow(x)]\nfn main() {}",
            "2 - #![allow(x)]\n--\n\n\nfn main() {}",
        );
        check("#![no_std]", "1 + #![no_std]\n--\n");
        check(
            "//! Docs.\r\n#![no_std]\r\n\r\nfn f() {}\r\n",
            "2 + #![no_std]\n--\n\n\n\nfn f() {}\n",
        );
        let split = split_root("//! D\r\n#![no_std]\r\nfn f() {}").unwrap();
        assert_eq!(split.body, "     \r\n          \r\nfn f() {}");
        assert_eq!(split.attrs[0].line, 2);
        let split = split_root("#![doc = \"é\"] fn f() {}").unwrap();
        assert_eq!(split.body, "              fn f() {}");
    }

    #[test]
    fn literals_inside_attributes() {
        let ok = |attr: &str| {
            let split = split_root(&format!("{attr}\nfn f() {{}}")).unwrap();
            assert_eq!(split.attrs.len(), 1, "{attr}");
            assert_eq!(split.attrs[0].text, attr);
        };
        ok("#![doc = \"a ] b [ c \\\" ]\"]");
        ok("#![doc = r\"raw ] \\\"]");
        ok("#![doc = r##\"raw \"# ] still\"##]");
        ok("#![doc = b\"bytes ]\"]");
        ok("#![doc = br#\"raw bytes ] \"#]");
        ok("#![doc = c\"c string ]\"]");
        ok("#![x(']', '\\'', '\\u{5d}', b']', '[')]");
        ok("#![x(for<'a> &'a T, 'static, ']')]");
        ok("#![x(r#type = \"]\")]");
        ok("#![x(/* ] */ a, // ]\n b)]");
        ok("#![x(/* /* nested ] */ ] */ a)]");
        ok("#![x([({})], {[]}, 1.5, 0x5d)]");
        ok("#![doc = \"multi\nline ] string\"]");
    }

    #[test]
    fn unterminated_constructs_are_errors() {
        check(
            "#![no_std",
            "error: line 1: unterminated attribute: the `[` on line 1 is never closed",
        );
        check(
            "\n#![cfg_attr(x,\n  no_std]",
            "error: line 3: mismatched `]` in an attribute: the `(` on line 2 is closed by `)`",
        );
        check(
            "/* never closed",
            "error: line 1: unterminated block comment",
        );
        check("/* /* */", "error: line 1: unterminated block comment");
        check("\n\n/*! docs", "error: line 3: unterminated block comment");
        check(
            "#![doc = \"open]\n",
            "error: line 1: unterminated string literal",
        );
        check(
            "#![doc = r#\"open\"]",
            "error: line 1: unterminated raw string literal",
        );
        check(
            "#![x(/* open)]",
            "error: line 1: unterminated block comment",
        );
        check(
            "#![x('\\']",
            "error: line 1: unterminated character literal",
        );
        // Past the leading region, what the lexer cannot follow ends the search for
        // `extern crate` items without an error: rustc reports it.
        check("fn f() {\n/* open", "--\nfn f() {\n/* open");
        check(
            "extern crate a as b;\nfn f() { \"open }\nextern crate c as d;",
            "1 e extern crate a as b;\n--\n\nfn f() { \"open }\nextern crate c as d;",
        );
        check(
            "extern crate a as b;\n) extern crate c as d;",
            "1 e extern crate a as b;\n--\n\n) extern crate c as d;",
        );
    }

    #[test]
    fn never_panics_on_prefixes() {
        let text = "\u{feff}//! é\r\n/*! /* n */ */\n#![doc = r#\"a ] \"#]\n#![x('\\'', b'x', 'a, \"\\\"\", c\"\")]\n# ! [y]\nfn f() {}";
        for (i, _) in text.char_indices() {
            let _ = split_root(&text[..i]);
            let _ = normalized(&text[..i]);
        }
    }

    #[test]
    fn top_level_extern_crates_move_with_their_attributes() {
        check(
            "#![no_std]\n\n#[cfg(feature = \"std\")]\n#[macro_use]\nextern crate std;\n\n#[macro_use] extern crate alloc;\nuse alloc::vec::Vec;",
            "1 + #![no_std]\n3 e #[cfg(feature = \"std\")]\n#[macro_use]\nextern crate std;\n7 e #[macro_use] extern crate alloc;\n--\n\n\n\n\n\n\n\nuse alloc::vec::Vec;",
        );
        check(
            "extern crate serial_core as core;\npub extern crate libc;\npub(crate) extern crate ioctl_rs as ioctl;",
            "1 e extern crate serial_core as core;\n3 e pub(crate) extern crate ioctl_rs as ioctl;\n--\n\npub extern crate libc;\n",
        );
        // Outer doc comments belong to the item; plain comments before it stay.
        check(
            "// Plain.\n/// The re-export.\n#[doc(inline)]\n#[macro_use]\npub extern crate dep;",
            "2 e /// The re-export.\n#[doc(inline)]\n#[macro_use]\npub extern crate dep;\n--\n// Plain.\n\n\n\n",
        );
        // After other items, with braces and semicolons inside them.
        check(
            "mod a;\nuse b::{c, d};\nconst X: S = S { a: [1; 2] };\nfn f() { extern crate inner; }\nmacro_rules! m { () => { extern crate in_macro as m; } }\nextern crate last as l;",
            "6 e extern crate last as l;\n--\nmod a;\nuse b::{c, d};\nconst X: S = S { a: [1; 2] };\nfn f() { extern crate inner; }\nmacro_rules! m { () => { extern crate in_macro as m; } }\n",
        );
        // Plain ones stay, as rustc accepts them inside `include!`; `#[macro_use]`
        // inside `cfg_attr` and a rename to `_` move.
        check(
            "extern crate a;\n#[cfg(x)] extern crate b;\n#[cfg_attr(test, macro_use)] extern crate c;\nextern crate d as _;",
            "3 e #[cfg_attr(test, macro_use)] extern crate c;\n4 e extern crate d as _;\n--\nextern crate a;\n#[cfg(x)] extern crate b;\n\n",
        );
        // Left alone: `extern crate self`, modules, macro calls, `extern` blocks and fns.
        check(
            "extern crate self as me;\nmod m { extern crate a; }\ncfg_if! { if #[cfg(x)] { extern crate b; } }\nextern \"C\" { fn g(); }\nextern \"C\" fn h() {}",
            "--\nextern crate self as me;\nmod m { extern crate a; }\ncfg_if! { if #[cfg(x)] { extern crate b; } }\nextern \"C\" { fn g(); }\nextern \"C\" fn h() {}",
        );
        // Literals and lifetimes that hold brackets or semicolons do not confuse it.
        check(
            "const S: &str = \"};\";\nconst C: char = '}';\nfn f<'a>(x: &'a str) -> &'a str { r#\"{\"# ; x }\n#[macro_use] extern crate z;",
            "4 e #[macro_use] extern crate z;\n--\nconst S: &str = \"};\";\nconst C: char = '}';\nfn f<'a>(x: &'a str) -> &'a str { r#\"{\"# ; x }\n",
        );
    }

    fn check_affects(attr: &str, expected: bool) {
        let split = split_root(attr).unwrap();
        assert_eq!(split.attrs.len(), 1, "{attr}");
        assert_eq!(split.attrs[0].affects_compilation, expected, "{attr}");
    }

    #[test]
    fn which_attributes_affect_compilation() {
        for attr in [
            "#![no_std]",
            "#![no_core]",
            "#![no_implicit_prelude]",
            "#![recursion_limit = \"256\"]",
            "#![type_length_limit = \"1048576\"]",
            "#![feature(doc_cfg)]",
            "#![cfg(unix)]",
            "#![no_builtins]",
            "#![no_main]",
            "#![windows_subsystem = \"windows\"]",
            "#![crate_type = \"lib\"]",
            "#![crate_name = \"x\"]",
            "#![register_tool(my_tool)]",
            "#![test_runner(crate::runner)]",
            "#![reexport_test_harness_main = \"test_main\"]",
            "#![compiler_builtins]",
            "#![panic_runtime]",
            "#![needs_panic_runtime]",
            "#![default_lib_allocator]",
            "#![debugger_visualizer(natvis_file = \"x.natvis\")]",
            "#![unsafe(no_mangle)]",
            "#![some_unknown_attribute]",
            "#![cfg_attr(not(feature = \"std\"), no_std)]",
            "#![cfg_attr(docsrs, feature(doc_cfg))]",
            "#![cfg_attr(all(), allow(x), no_std)]",
            "#![cfg_attr(a, cfg_attr(b, no_std))]",
            "#![cfg_attr(any(a, b), feature(x, y), doc = \"z\")]",
        ] {
            check_affects(attr, true);
        }
        for attr in [
            "#![allow(dead_code)]",
            "#![warn(missing_docs)]",
            "#![deny(unsafe_code)]",
            "#![forbid(unsafe_code)]",
            "#![expect(unused)]",
            "#![doc = include_str!(\"../README.md\")]",
            "#![doc(html_root_url = \"https://docs.rs/x/1.0.0\")]",
            "#![doc(test(attr(deny(warnings))))]",
            "#![rustfmt::skip]",
            "#![clippy::msrv = \"1.60\"]",
            "#![cfg_attr(docsrs, doc(cfg_hide(doc)))]",
            "#![cfg_attr(test, allow(x), deny(y))]",
            "#![cfg_attr(a, cfg_attr(b, allow(x)))]",
            "#![cfg_attr(feature = \"x\",)]",
        ] {
            check_affects(attr, false);
        }
    }

    #[test]
    fn normalizing() {
        let check = |a: &str, expected: &str| assert_eq!(normalized(a), expected, "{a:?}");
        check("#![no_std]", "#![no_std]");
        check("# ! [ no_std ]", "#![no_std]");
        check(
            "#![cfg_attr(\n    not(feature = \"std\"), // why\n    no_std /* note */\n)]",
            "#![cfg_attr(not(feature=\"std\"),no_std)]",
        );
        check("#![doc = \"keep  spaces \"]", "#![doc=\"keep  spaces \"]");
        check("#![doc = r#\" raw \"# ]", "#![doc=r#\" raw \"#]");
        check("#![x(' ', b' ', 'a)]", "#![x(' ',b' ','a)]");
    }

    /// `expected`: the lines of the message after its first.
    fn check_compare(upstream: &str, shim: &str, expected: Option<&str>) {
        let expected = expected.map(|rest| {
            format!(
                "the shim's `src/lib.rs` does not carry the crate-level attributes and \
                 `extern crate` items of the patched upstream root\n  {rest}"
            )
        });
        assert_eq!(
            compare(&split_root(upstream).unwrap(), &split_root(shim).unwrap()).as_deref(),
            expected.as_deref(),
            "upstream {upstream:?}, shim {shim:?}"
        );
    }

    #[test]
    fn comparing_upstream_and_shim() {
        let include = "include!(concat!(env!(\"OUT_DIR\"), \"/build-patch/lib.rs\"));";
        check_compare("fn f() {}", include, None);
        check_compare(
            "//! Docs.\n#![no_std]\n#![deny(missing_docs)]\nfn f() {}",
            &format!("#![no_std]\n#![allow(clippy::all)]\n{include}"),
            None,
        );
        check_compare(
            "#![cfg_attr(not(feature = \"std\"), no_std)]\n#![feature(x)]",
            &format!("#![feature( x )]\n#![cfg_attr(\n  not(feature = \"std\"),\n  no_std,\n)]\n{include}")
                .replace("no_std,\n", "no_std\n"),
            None,
        );
        check_compare(
            "#![no_std]\n#![cfg_attr(\n    docsrs,\n    feature(doc_cfg)\n)]\nfn f() {}",
            &format!("#![recursion_limit = \"256\"]\n#![deny(warnings)]\n{include}"),
            Some(
                "missing (copy these lines above the `include!` line):\n    \
                 #![no_std]\n    \
                 #![cfg_attr(\n        docsrs,\n        feature(doc_cfg)\n    )]\n  \
                 extra (remove these lines):\n    \
                 #![recursion_limit = \"256\"]",
            ),
        );
        check_compare(
            "#![no_std]\n#![no_std]",
            &format!("#![no_std]\n{include}"),
            Some(
                "missing (copy these lines above the `include!` line):\n    \
                 #![no_std]",
            ),
        );
        check_compare(
            "#[macro_use]\nextern crate nom;\nextern crate a as core;\nfn f() {}",
            &format!("extern crate a as core;\n#[macro_use] extern crate nom;\n{include}"),
            None,
        );
        // A plain `extern crate` stays in the compile root: repeated in the
        // shim it would be defined twice; one the upstream lacks is the
        // shim's own business.
        check_compare(
            "extern crate alloc;\nfn f() {}",
            &format!("extern crate alloc;\nextern crate std;\n{include}"),
            Some(
                "extra (remove these lines):\n    \
                 extern crate alloc;",
            ),
        );
        check_compare(
            "#![no_std]\n#[macro_use]\nextern crate alloc;\nfn f() {}",
            &format!("#![no_std]\nextern crate plain;\n#[macro_use] extern crate std;\n{include}"),
            Some(
                "missing `extern crate` items (copy these lines after the `#![...]` lines, above the `include!` line):\n    \
                 #[macro_use]\n    \
                 extern crate alloc;\n  \
                 extra (remove these lines):\n    \
                 #[macro_use] extern crate std;",
            ),
        );
        check_compare(
            "fn f() {}",
            &format!("#![no_std]\n{include}"),
            Some(
                "extra (remove these lines):\n    \
                 #![no_std]",
            ),
        );
    }
}
