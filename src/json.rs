//! A small JSON reader for the output of `cargo metadata --format-version 1`.
//!
//! The library has no dependencies (see `Cargo.toml`), so it reads Cargo's JSON itself.
//! The output can be megabytes long, so the reader is a single pass over the bytes; it
//! is recursive, so nesting is limited to keep hostile input from overflowing the stack.
//! Numbers are kept as written: build-patch only ever compares or prints them.

use crate::map::Map;

/// A JSON value.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(crate) enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    // Only the tests and the fuzz checks read booleans and numbers.
    #[cfg_attr(not(any(test, feature = "__fuzz")), allow(dead_code))]
    Bool(bool),
    /// A number, exactly as written (already checked against the JSON grammar).
    #[cfg_attr(not(any(test, feature = "__fuzz")), allow(dead_code))]
    Number(String),
    /// A string, with escapes resolved.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; when a key repeats, the last value wins, as in `serde_json`.
    Object(Map<String, Json>),
}

impl Json {
    /// The value of `key`, if this is an object that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub(crate) fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is an object.
    #[cfg(test)]
    pub(crate) fn as_object(&self) -> Option<&Map<String, Json>> {
        match self {
            Json::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    #[cfg(test)]
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is `null`.
    #[cfg(test)]
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
}

/// Why a text is not valid JSON, and where.
pub(crate) type JsonError = crate::toml::SyntaxError;

/// How deeply arrays and objects may nest; `cargo metadata` output nests about ten deep.
const MAX_DEPTH: usize = 256;
// The message says 256 in words: a constant string rather than a `format!`.
const _: () = assert!(MAX_DEPTH == 256);

/// Parses one JSON value, with only whitespace around it.
pub(crate) fn parse(text: &str) -> Result<Json, JsonError> {
    let mut parser = Parser {
        src: text,
        pos: 0,
        depth: 0,
    };
    parser.skip_whitespace();
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.pos != text.len() {
        return Err(parser.error("unexpected text after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
    /// Current nesting of arrays and objects.
    depth: usize,
}

impl Parser<'_> {
    fn error_at(&self, pos: usize, message: &str) -> JsonError {
        JsonError::new(self.src, pos, message.into())
    }

    fn error(&self, message: &str) -> JsonError {
        self.error_at(self.pos, message)
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        match self.peek() {
            Some(b'{') => self.nested(Parser::object),
            Some(b'[') => self.nested(Parser::array),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            None => Err(self.error("expected a value, found the end of the text")),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn word(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn nested(
        &mut self,
        read: fn(&mut Self) -> Result<Json, JsonError>,
    ) -> Result<Json, JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("arrays and objects are nested more than 256 deep"));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    /// Steps over the opening bracket at the cursor; whether the closing one follows.
    fn open(&mut self, close: u8) -> bool {
        self.pos += 1;
        self.skip_whitespace();
        self.eat(close)
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        let mut items = Vec::new();
        if !self.open(b']') {
            loop {
                self.skip_whitespace();
                items.push(self.value()?);
                self.skip_whitespace();
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return Err(self.error("expected `,` or `]` after an array element"));
                }
            }
        }
        Ok(Json::Array(items))
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        let mut map = Map::new();
        if !self.open(b'}') {
            loop {
                self.skip_whitespace();
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a string as the object key"));
                }
                let key = self.string()?;
                self.skip_whitespace();
                if !self.eat(b':') {
                    return Err(self.error("expected `:` after the object key"));
                }
                self.skip_whitespace();
                let value = self.value()?;
                map.insert(key, value);
                self.skip_whitespace();
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return Err(self.error("expected `,` or `}` after an object entry"));
                }
            }
        }
        Ok(Json::Object(map))
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.skip_digits();
            }
            _ => return Err(self.error("expected a digit")),
        }
        if self.eat(b'.') && !self.skip_digits() {
            return Err(self.error("expected a digit after the decimal point"));
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.skip_digits() {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        Ok(Json::Number(self.src[start..self.pos].to_string()))
    }

    /// Skips digits; whether there was one.
    fn skip_digits(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Reads four hexadecimal digits after `\u`, if they are there.
    fn hex4(&mut self) -> Option<u32> {
        let hex = self.src.get(self.pos..self.pos + 4).unwrap_or("");
        if hex.len() != 4 || !crate::toml::is_hex(hex) {
            return None;
        }
        self.pos += 4;
        // Four hexadecimal digits: they fit. (i64, the crate's one integer width.)
        match i64::from_str_radix(hex, 16) {
            Ok(v) => Some(v as u32),
            Err(_) => None,
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        self.pos += 1; // `"`
        let mut out = String::new();
        loop {
            // Copy the run of ordinary characters in one go: strings in `cargo metadata`
            // output are long and rarely escaped.
            let run_start = self.pos;
            let rest = &self.src.as_bytes()[self.pos..];
            let mut run = 0;
            while run < rest.len() && !matches!(rest[run], b'"' | b'\\' | 0..0x20) {
                run += 1;
            }
            self.pos += run;
            out.push_str(&self.src[run_start..self.pos]);
            match self.peek() {
                None => return Err(self.error_at(start, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escape_start = self.pos;
                    self.pos += 1;
                    let Some(c) = self.peek() else {
                        return Err(self.error_at(start, "unterminated string"));
                    };
                    self.pos += 1;
                    let c = match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape(escape_start)?,
                        _ => {
                            return Err(self.error_at(escape_start, "invalid escape sequence"));
                        }
                    };
                    out.push(c);
                }
                Some(_) => {
                    return Err(self.error("control characters must be escaped in a string"));
                }
            }
        }
    }

    /// Reads the rest of a `\u` escape, including the low half of a surrogate pair.
    fn unicode_escape(&mut self, escape_start: usize) -> Result<char, JsonError> {
        const NOT_HEX: &str = "expected four hexadecimal digits after `\\u`";
        let Some(high) = self.hex4() else {
            return Err(self.error(NOT_HEX));
        };
        let mut code = high;
        // Range patterns, not `RangeInclusive::contains` (code compiled here).
        if matches!(high, 0xD800..=0xDBFF) && self.src[self.pos..].starts_with("\\u") {
            self.pos += 2;
            let Some(low) = self.hex4() else {
                return Err(self.error(NOT_HEX));
            };
            if matches!(low, 0xDC00..=0xDFFF) {
                code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            }
        }
        match char::from_u32(code) {
            Some(c) => Ok(c),
            // Four digits or a pair make at most U+10FFFF, so only a surrogate left
            // without its other half is no character.
            None => Err(self.error_at(escape_start, "unpaired surrogate in a `\\u` escape")),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The error messages and accessors. The reader against `serde_json`
    //! (tricky, mutated and large cases) is in `tests/readers.rs`.
    use super::{parse, Json};

    fn check_error(input: &str, expected: &str) {
        assert_eq!(parse(input).unwrap_err().to_string(), expected, "{input:?}");
    }

    #[test]
    fn errors_name_line_and_column() {
        check_error(
            "{\n  \"a\": 1,\n  \"b\" 2\n}",
            "line 3, column 7: expected `:` after the object key",
        );
        check_error("[1,\n]", "line 2, column 1: expected a value");
        check_error(
            "\"\\uD800\"",
            "line 1, column 2: unpaired surrogate in a `\\u` escape",
        );
        check_error(
            "1 2",
            "line 1, column 3: unexpected text after the JSON value",
        );
        check_error(
            "",
            "line 1, column 1: expected a value, found the end of the text",
        );
    }

    #[test]
    fn accessors() {
        let json =
            parse(r#"{"s": "x", "a": [1, "2"], "b": false, "n": null, "num": -1.5e3}"#).unwrap();
        assert_eq!(json.get("s").and_then(Json::as_str), Some("x"));
        assert_eq!(
            json.get("a").and_then(Json::as_array).map(<[Json]>::len),
            Some(2)
        );
        assert_eq!(json.get("b").and_then(Json::as_bool), Some(false));
        assert!(json.get("n").is_some_and(Json::is_null));
        assert_eq!(json.get("num"), Some(&Json::Number("-1.5e3".into())));
        assert_eq!(json.get("missing"), None);
        assert_eq!(json.get("s").unwrap().get("x"), None);
        assert_eq!(json.as_object().map(|m| m.keys().count()), Some(5));
        assert_eq!(json.as_str(), None);
    }
}
