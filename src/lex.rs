//! The one Rust lexer, for the library root ([`crate::root`]) and the upstream build
//! script ([`crate::build_script`]): just enough of Rust's lexical grammar, read as
//! rustc reads it, to find the tokens those two look for.
//!
//! It knows comments (nested block comments too; doc comments by their prefix),
//! whitespace (Unicode `Pattern_White_Space`, as rustc), string, byte string, C string
//! and raw string literals, char and byte literals as opposed to lifetimes, numbers,
//! identifiers (raw ones too) and single punctuation characters (delimiters among
//! them: the callers pair them). And what comes before the first token of a file: a
//! byte order mark and a shebang line, by rustc's rule ([`shebang_end`]).
//!
//! It never allocates: a token is a kind and a byte range of the text.

/// What a token is.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub(crate) enum Kind {
    /// An identifier or keyword.
    Ident,
    /// A raw identifier such as `r#type`.
    RawIdent,
    /// A string literal `"..."`.
    Str,
    /// A raw string literal `r"..."`, `r#"..."#`.
    RawStr,
    /// Any other literal (number, char, byte, byte or C string, raw or not), or a
    /// lifetime: their content does not matter to the callers.
    Literal,
    /// One punctuation character, a delimiter included.
    Punct(char),
}

/// A token: its kind and where it is in the text.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Token {
    /// What it is.
    pub(crate) kind: Kind,
    /// The byte offset of its first character.
    pub(crate) start: usize,
    /// The byte offset after its last character.
    pub(crate) end: usize,
}

impl Token {
    /// The name of an identifier (a raw one without its `r#`), else `None`.
    pub(crate) fn ident<'a>(&self, src: &'a str) -> Option<&'a str> {
        match self.kind {
            Kind::Ident => Some(&src[self.start..self.end]),
            Kind::RawIdent => Some(&src[self.start + 2..self.end]),
            _ => None,
        }
    }
}

/// The construct an error is about: it starts but never ends.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug, PartialEq, Eq))]
pub(crate) enum Unterminated {
    /// `/*` without its `*/`.
    BlockComment,
    /// A string literal, byte string or C string.
    Str,
    /// A raw string literal, byte string or C string.
    RawStr,
    /// A char literal.
    Char,
    /// A byte literal (`b'x'`).
    Byte,
}

/// A construct the lexer cannot read to its end.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug, PartialEq, Eq))]
pub(crate) struct LexError {
    /// What it is.
    pub(crate) what: Unterminated,
    /// The 1-based line where it starts.
    pub(crate) line: usize,
}

/// Which doc comments [`Lexer::skip_trivia`] stops at rather than skipping.
#[derive(Clone, Copy)]
pub(crate) enum Docs {
    /// None: it skips every comment.
    Skip,
    /// Outer doc comments (`///`, `/** */`), which belong to the item after them.
    StopAtOuter,
    /// Every doc comment, inner ones too.
    StopAtAll,
}

/// The style of the doc comment the text starts with, if it starts with one:
/// `Some(true)` for an inner one (`//!`, `/*!`), `Some(false)` for an outer one
/// (`///` but `////`, `/**` but `/***` and `/**/`), as rustc decides.
pub(crate) fn doc_comment(rest: &str) -> Option<bool> {
    match rest.as_bytes() {
        [b'/', b'/' | b'*', b'!', ..] => Some(true),
        [b'/', b'/', b'/', b'/', ..] => None,
        [b'/', b'/', b'/', ..] => Some(false),
        [b'/', b'*', b'*', b'*' | b'/', ..] => None,
        [b'/', b'*', b'*', ..] => Some(false),
        _ => None,
    }
}

/// Where `needle` first occurs in `haystack`, searched byte by byte. The
/// crate's substring search: `str::find` or `str::contains` with a `&str`
/// pattern (or a `char` one, which std searches for as a `&str`) compiles
/// std's two-way searcher into the crate, some 2,000 lines of LLVM IR that
/// every user compiles, for needles of a few bytes in texts of a few
/// kilobytes. A match of a non-empty needle in a `&str` starts and ends at
/// char boundaries, as `str::find`'s does.
pub(crate) fn find_str(haystack: &str, needle: &str) -> Option<usize> {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The number of line breaks (`\n`) in `s`, counted byte by byte
/// (`matches('\n').count()` compiles a searcher and a fold here).
pub(crate) fn count_newlines(s: &str) -> usize {
    let bytes = s.as_bytes();
    let (mut n, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Rust's whitespace: Unicode `Pattern_White_Space`, the left-to-right and
/// right-to-left marks and the line and paragraph separators included, a no-break
/// space not.
pub(crate) fn is_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{b}'
            | '\u{c}'
            | '\r'
            | ' '
            | '\u{85}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Where the first line ends when the file (its byte order mark removed) starts with a
/// shebang line, by rustc's rule: `#!` not followed, after whitespace and comments
/// that are not doc comments, by `[` (`#![no_std]`, `#! /* x */ [no_std]` are
/// attributes; `#!/usr/bin/env run-cargo-script`, `#! //! x` are shebang lines). The
/// line ends before its line break (and a `\r` before it).
pub(crate) fn shebang_end(src: &str) -> Option<usize> {
    let after = src.strip_prefix("#!")?;
    let mut lexer = Lexer::new(after);
    if lexer.skip_trivia(Docs::StopAtAll).is_ok() && lexer.rest().starts_with('[') {
        return None;
    }
    let end = src.find('\n').unwrap_or(src.len());
    Some(if src[..end].ends_with('\r') && end < src.len() {
        end - 1
    } else {
        end
    })
}

/// A position in a text and the reading of tokens from it.
pub(crate) struct Lexer<'a> {
    /// The text.
    pub(crate) src: &'a str,
    /// The byte offset of the next unread character.
    pub(crate) pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The text from the position on.
    pub(crate) fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// The next character.
    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error(&self, start: usize, what: Unterminated) -> LexError {
        LexError {
            what,
            line: count_newlines(&self.src[..start]) + 1,
        }
    }

    /// Skips the characters `f` is true of.
    fn eat_while(&mut self, f: fn(char) -> bool) {
        let rest = self.rest();
        let mut n = 0;
        for c in rest.chars() {
            if !f(c) {
                break;
            }
            n += c.len_utf8();
        }
        self.pos += n;
    }

    /// Skips whitespace.
    pub(crate) fn skip_whitespace(&mut self) {
        self.eat_while(is_whitespace);
    }

    /// Skips a `//` comment up to its line break (a CRLF one too), excluded.
    pub(crate) fn skip_line_comment(&mut self) {
        let rest = self.rest();
        let mut end = rest.find('\n').unwrap_or(rest.len());
        if rest[..end].ends_with('\r') {
            end -= 1;
        }
        self.pos += end;
    }

    /// Skips a `/* */` comment, which may nest.
    pub(crate) fn skip_block_comment(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let mut rest = &self.src.as_bytes()[start + 2..];
        let mut depth = 1u32;
        loop {
            match rest {
                [b'/', b'*', after @ ..] => {
                    depth += 1;
                    rest = after;
                }
                [b'*', b'/', after @ ..] => {
                    depth -= 1;
                    rest = after;
                    if depth == 0 {
                        self.pos = self.src.len() - rest.len();
                        return Ok(());
                    }
                }
                [_, after @ ..] => rest = after,
                [] => break,
            }
        }
        self.pos = self.src.len();
        Err(self.error(start, Unterminated::BlockComment))
    }

    /// Skips whitespace and comments, stopping at the doc comments `docs` says.
    pub(crate) fn skip_trivia(&mut self, docs: Docs) -> Result<(), LexError> {
        loop {
            self.skip_whitespace();
            let rest = self.rest();
            if !matches!(docs, Docs::Skip) {
                if let Some(inner) = doc_comment(rest) {
                    if !inner || matches!(docs, Docs::StopAtAll) {
                        return Ok(());
                    }
                }
            }
            if rest.starts_with("//") {
                self.skip_line_comment();
            } else if rest.starts_with("/*") {
                self.skip_block_comment()?;
            } else {
                return Ok(());
            }
        }
    }

    /// Reads one token at a position that is not at the end, whitespace or a comment.
    pub(crate) fn token(&mut self) -> Result<Token, LexError> {
        let start = self.pos;
        let kind = self.token_kind(start)?;
        Ok(Token {
            kind,
            start,
            end: self.pos,
        })
    }

    fn token_kind(&mut self, start: usize) -> Result<Kind, LexError> {
        let Some(c) = self.peek() else {
            return Ok(Kind::Punct(' '));
        };
        // The literals' readers return the kind of token they read.
        if c == '"' {
            return self.quoted(b'"', Unterminated::Str, Kind::Str);
        }
        if c == '\'' {
            return self.char_or_lifetime(Unterminated::Char);
        }
        if c.is_ascii_digit() {
            let b = self.src.as_bytes();
            self.pos += 1;
            loop {
                self.eat_while(is_ident_continue);
                // A decimal point followed by a digit (`1.5`, not `1..2` or `1.f()`).
                if matches!(b.get(self.pos), Some(b'.'))
                    && b.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
                {
                    self.pos += 1;
                } else {
                    return Ok(Kind::Literal);
                }
            }
        }
        if !is_ident_start(c) {
            self.pos += c.len_utf8();
            return Ok(Kind::Punct(c));
        }
        self.eat_while(is_ident_continue);
        let ident = &self.src[start..self.pos];
        let rest = self.rest();
        match (ident, rest.as_bytes().first()) {
            ("r" | "br" | "cr", Some(b'"' | b'#')) => {
                let mut hashes = 0;
                while matches!(rest.as_bytes().get(hashes), Some(b'#')) {
                    hashes += 1;
                }
                if rest[hashes..].starts_with('"') {
                    let kind = if ident == "r" {
                        Kind::RawStr
                    } else {
                        Kind::Literal
                    };
                    return self.raw_string(start, hashes, kind);
                }
                if ident == "r" && hashes == 1 {
                    self.pos += 1;
                    self.eat_while(is_ident_continue);
                    return Ok(Kind::RawIdent);
                }
            }
            ("b" | "c", Some(b'"')) => {
                return self.quoted(b'"', Unterminated::Str, Kind::Literal);
            }
            ("b", Some(b'\'')) => return self.char_or_lifetime(Unterminated::Byte),
            _ => {}
        }
        Ok(Kind::Ident)
    }

    /// Reads a quoted literal with escapes, from its opening quote; returns `kind`.
    fn quoted(&mut self, quote: u8, what: Unterminated, kind: Kind) -> Result<Kind, LexError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut i = start + 1;
        while i < b.len() {
            if b[i] == b'\\' {
                i += 2;
            } else if b[i] == quote {
                self.pos = i + 1;
                return Ok(kind);
            } else {
                i += 1;
            }
        }
        self.pos = self.src.len();
        Err(self.error(start, what))
    }

    /// Reads a raw string from its prefix at `start`; `hashes` hashes follow it.
    /// Returns `kind`.
    fn raw_string(&mut self, start: usize, hashes: usize, kind: Kind) -> Result<Kind, LexError> {
        self.pos += hashes + 1;
        let mut terminator = String::with_capacity(hashes + 1);
        terminator.push('"');
        for _ in 0..hashes {
            terminator.push('#');
        }
        match find_str(self.rest(), &terminator) {
            Some(i) => {
                self.pos += i + terminator.len();
                Ok(kind)
            }
            None => {
                self.pos = self.src.len();
                Err(self.error(start, Unterminated::RawStr))
            }
        }
    }

    /// Reads a char literal (`'a'`, `'\''`, `'\u{1F600}'`), or a lifetime (`'a`), from
    /// its quote; `what` for a char literal, or a byte literal after `b`. Returns
    /// [`Kind::Literal`], the kind of both.
    fn char_or_lifetime(&mut self, what: Unterminated) -> Result<Kind, LexError> {
        let start = self.pos;
        let mut chars = self.src[start + 1..].chars();
        match (chars.next(), chars.next()) {
            (Some('\\'), _) => self.quoted(b'\'', what, Kind::Literal),
            (Some(c), Some('\'')) => {
                self.pos += 1 + c.len_utf8() + 1;
                Ok(Kind::Literal)
            }
            (Some(c), _) if is_ident_start(c) => {
                self.pos += 1;
                self.eat_while(is_ident_continue);
                Ok(Kind::Literal)
            }
            _ => Err(self.error(start, what)),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The lexer, and the places where its two users read a file alike since they
    //! share it (they disagreed before: the shebang rule, whitespace, the byte order
    //! mark).

    use super::*;
    use crate::build_script::{references, rename_main, Ref};
    use crate::root::split_root;

    fn kinds(src: &str) -> Vec<(Kind, &str)> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            lexer.skip_trivia(Docs::Skip).unwrap();
            if lexer.pos == src.len() {
                return out;
            }
            let t = lexer.token().unwrap();
            out.push((t.kind, &src[t.start..t.end]));
        }
    }

    #[test]
    fn tokens() {
        use Kind::*;
        assert_eq!(
            kinds("r#type 'a '\\'' b'x' 1.5e3 1..2 x.0 \"s\\\"\" r##\"a\"#b\"## br\"x\" c\"y\" é"),
            [
                (RawIdent, "r#type"),
                (Literal, "'a"),
                (Literal, "'\\''"),
                (Literal, "b'x'"),
                (Literal, "1.5e3"),
                (Literal, "1"),
                (Punct('.'), "."),
                (Punct('.'), "."),
                (Literal, "2"),
                (Ident, "x"),
                (Punct('.'), "."),
                (Literal, "0"),
                (Str, "\"s\\\"\""),
                (RawStr, "r##\"a\"#b\"##"),
                (Literal, "br\"x\""),
                (Literal, "c\"y\""),
                (Ident, "é"),
            ]
        );
        assert_eq!(
            kinds("/* a /* b */ c */ x // y\r\n/** d */ z"),
            [(Ident, "x"), (Ident, "z")]
        );
        let error = |src: &str| {
            let mut lexer = Lexer::new(src);
            lexer
                .skip_trivia(Docs::Skip)
                .and_then(|()| lexer.token())
                .unwrap_err()
        };
        let at = |what, line| LexError { what, line };
        assert_eq!(error("\n/* /* */"), at(Unterminated::BlockComment, 2));
        assert_eq!(error("\"a\\\""), at(Unterminated::Str, 1));
        assert_eq!(error("br#\"a\""), at(Unterminated::RawStr, 1));
        assert_eq!(error("' "), at(Unterminated::Char, 1));
        assert_eq!(error("b'\\"), at(Unterminated::Byte, 1));
    }

    #[test]
    fn doc_comments() {
        for (text, style) in [
            ("//! x", Some(true)),
            ("/*! x */", Some(true)),
            ("/// x", Some(false)),
            ("///", Some(false)),
            ("/** x */", Some(false)),
            ("//// x", None),
            ("// x", None),
            ("/*** x */", None),
            ("/**/", None),
            ("/* x */", None),
        ] {
            assert_eq!(doc_comment(text), style, "{text}");
        }
    }

    /// rustc's rule (`rustc_lexer::strip_shebang`): `#!` is a shebang line unless the
    /// next token, past whitespace and comments that are not doc comments, is `[`.
    /// The build-script lexer looked only past whitespace (`#! /* */ [` was a shebang
    /// line to it), the root splitter past doc comments too (`#! /*! */ [` was an
    /// attribute to it).
    #[test]
    fn shebang_lines_by_rustcs_rule() {
        assert_eq!(shebang_end("#!/usr/bin/env x\nfn main() {}"), Some(16));
        assert_eq!(shebang_end("#!/usr/bin/env x\r\nfn main() {}"), Some(16));
        assert_eq!(shebang_end("#!"), Some(2));
        assert_eq!(shebang_end("#![allow(x)]"), None);
        assert_eq!(shebang_end("#! \n [allow(x)]"), None);
        assert_eq!(shebang_end("#! /* plain */ // plain\n[allow(x)]"), None);
        assert_eq!(shebang_end("#!\u{200e}[allow(x)]"), None);
        assert_eq!(shebang_end("#! /*! doc */ [allow(x)]"), Some(24));
        assert_eq!(shebang_end("#! /// doc\n[allow(x)]"), Some(10));
        assert_eq!(shebang_end("#! /* open [allow(x)]"), Some(21));
        assert_eq!(shebang_end("#!\u{a0}[allow(x)]"), Some(14));
        assert_eq!(shebang_end("fn main() {}"), None);

        // The root splitter: a doc comment after `#!` makes it a shebang line.
        let split = split_root("#! /*! doc */ [allow(x)]\nfn f() {}").unwrap();
        assert!(split.attrs.is_empty());
        assert_eq!(split.body, format!("{}\nfn f() {{}}", " ".repeat(24)));
        let split = split_root("#! /* plain */ [allow(x)]\nfn f() {}").unwrap();
        assert_eq!(split.attrs[0].text, "#! /* plain */ [allow(x)]");

        // The build script: a plain comment after `#!` keeps it an attribute (its
        // `main` was lost with the "shebang line"), and a shebang line after a byte
        // order mark is one (the lexer read it as code).
        let renamed = rename_main("#! /* plain */ [allow(x)] fn main() {}").unwrap();
        assert_eq!(
            renamed,
            "#! /* plain */ [allow(x)] fn __build_patch_upstream_main() {}"
        );
        let renamed = rename_main("\u{feff}#!/bin/echo \"\nfn main() {}").unwrap();
        assert_eq!(
            renamed,
            "\u{feff}#!/bin/echo \"\nfn __build_patch_upstream_main() {}"
        );
        assert_eq!(
            rename_main("#! /*! doc */ [x] fn main() {}").unwrap_err(),
            "it has no `fn main` at its top level (a `main` made by a macro is not supported)"
        );
    }

    /// Rust's whitespace is `Pattern_White_Space`: the left-to-right and right-to-left
    /// marks and the line and paragraph separators are whitespace, a no-break space is
    /// not (rustc rejects it). The build-script lexer used `char::is_whitespace`.
    #[test]
    fn whitespace_is_pattern_white_space() {
        for c in [
            '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{85}', '\u{200e}', '\u{200f}', '\u{2028}',
            '\u{2029}',
        ] {
            assert!(is_whitespace(c), "{c:?}");
            assert_eq!(kinds(&format!("a{c}b")).len(), 2, "{c:?}");
        }
        for c in [
            '\u{a0}', '\u{1680}', '\u{2000}', '\u{202f}', '\u{3000}', '\u{feff}',
        ] {
            assert!(!is_whitespace(c), "{c:?}");
            assert_eq!(
                kinds(&format!("a{c}b"))[1],
                (Kind::Punct(c), &*c.to_string())
            );
        }
        let renamed = rename_main("fn\u{200e}main() {}\u{2028}").unwrap();
        assert_eq!(
            renamed,
            "fn\u{200e}__build_patch_upstream_main() {}\u{2028}"
        );
        assert!(rename_main("fn\u{a0}main() {}").is_err());
        let split =
            split_root("\u{200f}#![no_std]\u{2029}#[macro_use]\u{85}extern crate a;").unwrap();
        assert_eq!(split.attrs[0].text, "#![no_std]");
        assert_eq!(
            split.extern_crates[0].text,
            "#[macro_use]\u{85}extern crate a;"
        );
    }

    /// A line continuation in a string skips what rustc skips there: ASCII spaces,
    /// tabs and line breaks (CRLF ones too), not other whitespace.
    #[test]
    fn line_continuations_in_include_paths() {
        let refs = references(
            "fn main() {\n    include_str!(\"data/\\\n        a.txt\");\n    include_str!(\"data/\\\r\n\tb.txt\");\n    include_str!(\"data/\\\n\u{3000}c.txt\");\n}",
        )
        .unwrap();
        let paths: Vec<String> = refs
            .into_iter()
            .map(|r| match r {
                Ref::Include { path, .. } => path,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(paths, ["data/a.txt", "data/b.txt", "data/\u{3000}c.txt"]);
    }
}
