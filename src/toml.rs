//! A small reader for TOML documents, used for Cargo manifests.
//!
//! Users write any valid TOML in their manifests, so this is a complete reader of TOML 1.0
//! rather than a reader of the subset Cargo's templates produce. It also accepts the
//! additions of TOML 1.1 that Cargo's own parser (the `toml` crate) accepts: newlines,
//! comments and a trailing comma inside inline tables (even around an entry's `=`), the `\e` and `\xHH` escapes, and
//! times without seconds. Rejecting a manifest that Cargo accepts would be a bug; accepting
//! one Cargo rejects costs nothing, since Cargo reports it first.
//!
//! The library has no dependencies (see `Cargo.toml`), which is why this exists at all.
//! There is no writer: build-patch never edits a manifest.

// Until the whole pipeline reads manifests, some accessors have no caller yet.
#![allow(dead_code)]

use std::fmt;

use crate::map::Map;

/// A TOML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A string, with escapes resolved.
    String(String),
    /// An integer in any base.
    Integer(i64),
    /// A float, including `inf` and `nan`.
    Float(f64),
    /// `true` or `false`.
    Boolean(bool),
    /// An offset or local date-time, date or time, exactly as written.
    Datetime(String),
    /// An array, whether written inline or as an array of tables.
    Array(Vec<Value>),
    /// A table, whether written inline, with a header or with dotted keys.
    Table(Table),
}

/// A TOML table: keys in sorted order.
pub(crate) type Table = Map<String, Value>;

impl Value {
    /// The string, if this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub(crate) fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The float, if this is a float.
    pub(crate) fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub(crate) fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The table, if this is a table.
    pub(crate) fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The TOML name of this value's type, for error messages such as
    /// "expected a string, found an integer".
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Boolean(_) => "boolean",
            Value::Datetime(_) => "datetime",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

/// Looks up a value by its dotted path, e.g. `&["package", "metadata", "build-patch"]`.
///
/// Every component but the last must name a table; an empty path finds nothing.
pub(crate) fn get<'a>(table: &'a Table, dotted: &[&str]) -> Option<&'a Value> {
    let (last, parents) = dotted.split_last()?;
    let mut table = table;
    for key in parents {
        table = table.get(*key)?.as_table()?;
    }
    table.get(*last)
}

/// Why a document is not valid TOML, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TomlError {
    line: usize,
    column: usize,
    message: String,
}

impl TomlError {
    /// The 1-based line of the problem.
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column of the problem, counted in characters.
    pub(crate) fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for TomlError {}

/// Parses a whole TOML document into its root table.
pub(crate) fn parse(text: &str) -> Result<Table, TomlError> {
    let mut parser = Parser {
        src: text,
        // A byte order mark is not part of the document (the `toml` crate
        // skips it too).
        pos: if text.starts_with('\u{feff}') { 3 } else { 0 },
        depth: 0,
    };
    let root = parser.document()?;
    Ok(root.into_table())
}

/// How deeply arrays and tables may nest, counting inline ones and each component of a
/// header or dotted key. The parser, building the tables and dropping them are
/// recursive, and a hostile manifest must produce an error rather than overflow the
/// stack (`[a.a.a...]` 10,000 deep did, before keys counted). Cargo's manifests nest
/// about five deep.
const MAX_DEPTH: usize = 128;

/// How a table came to exist, which decides whether it may be extended later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Created only as the parent of a header, e.g. `a` by `[a.b]`; a later `[a]` may
    /// still define it.
    Implicit,
    /// Defined by a `[header]` or `[[header]]` (or the root).
    Header,
    /// Created by a dotted key, e.g. `a` by `a.b = 1`; later headers may add sub-tables
    /// to it but not define it.
    Dotted,
}

/// A table while the document is being read, with what the redefinition rules need.
#[derive(Debug)]
struct Section {
    kind: Kind,
    entries: Map<String, Node>,
}

/// An entry of a [`Section`].
#[derive(Debug)]
enum Node {
    /// A value that can no longer be extended: a scalar, an inline array or an inline
    /// table.
    Leaf(Value),
    /// A table defined by headers or dotted keys.
    Table(Section),
    /// An array of tables; never empty.
    Tables(Vec<Section>),
}

impl Section {
    fn new(kind: Kind) -> Section {
        Section {
            kind,
            entries: Map::new(),
        }
    }

    fn into_table(self) -> Table {
        self.entries
            .into_iter()
            .map(|(key, node)| {
                let value = match node {
                    Node::Leaf(value) => value,
                    Node::Table(section) => Value::Table(section.into_table()),
                    Node::Tables(sections) => Value::Array(
                        sections
                            .into_iter()
                            .map(|s| Value::Table(s.into_table()))
                            .collect(),
                    ),
                };
                (key, value)
            })
            .collect()
    }

    /// Inserts `keys = value` into this table, creating the tables of a dotted key.
    fn insert(&mut self, keys: &[String], value: Value) -> Result<(), String> {
        let Some((last, parents)) = keys.split_last() else {
            return Err("expected a key".to_string());
        };
        let mut table = self;
        for (i, key) in parents.iter().enumerate() {
            let node = table
                .entries
                .get_or_insert_with(key.clone(), || Node::Table(Section::new(Kind::Dotted)));
            table = match node {
                Node::Table(section) if section.kind == Kind::Dotted => section,
                _ => {
                    return Err(format!(
                        "cannot add key `{}`: `{}` is already defined",
                        display_key(keys),
                        display_key(&keys[..=i])
                    ))
                }
            };
        }
        if table.entries.contains_key(last) {
            return Err(format!("duplicate key `{}`", display_key(keys)));
        }
        table.entries.insert(last.clone(), Node::Leaf(value));
        Ok(())
    }
}

/// Defines the table (or appends to the array of tables) named by a header.
fn open_section(root: &mut Section, keys: &[String], array: bool) -> Result<(), String> {
    let Some((last, parents)) = keys.split_last() else {
        return Err("expected a key".to_string());
    };
    let mut table = root;
    for (i, key) in parents.iter().enumerate() {
        let node = table
            .entries
            .get_or_insert_with(key.clone(), || Node::Table(Section::new(Kind::Implicit)));
        table = match node {
            Node::Table(section) => section,
            Node::Tables(sections) => match sections.last_mut() {
                Some(section) => section,
                None => return Err("internal error: empty array of tables".to_string()),
            },
            Node::Leaf(value) => {
                return Err(format!(
                    "cannot define table `{}`: `{}` is already defined as {} {}",
                    display_key(keys),
                    display_key(&keys[..=i]),
                    article(value.type_name()),
                    value.type_name()
                ))
            }
        };
    }
    let name = display_key(keys);
    match table.entries.get_mut(last) {
        None => {
            let node = if array {
                Node::Tables(vec![Section::new(Kind::Header)])
            } else {
                Node::Table(Section::new(Kind::Header))
            };
            table.entries.insert(last.clone(), node);
            Ok(())
        }
        Some(Node::Tables(sections)) if array => {
            sections.push(Section::new(Kind::Header));
            Ok(())
        }
        Some(Node::Table(section)) if !array && section.kind == Kind::Implicit => {
            section.kind = Kind::Header;
            Ok(())
        }
        Some(Node::Table(_)) if array => Err(format!(
            "cannot define array of tables `{name}`: `{name}` is already a table"
        )),
        Some(Node::Tables(_)) => Err(format!(
            "cannot define table `{name}`: `{name}` is already an array of tables"
        )),
        Some(Node::Table(_)) => Err(format!("table `{name}` is defined twice")),
        Some(Node::Leaf(value)) => Err(format!(
            "cannot define {} `{name}`: `{name}` is already defined as {} {}",
            if array { "array of tables" } else { "table" },
            article(value.type_name()),
            value.type_name()
        )),
    }
}

/// Finds the table that key/value pairs go into after the header `keys`.
fn section_mut<'a>(root: &'a mut Section, keys: &[String]) -> Option<&'a mut Section> {
    let mut table = root;
    for key in keys {
        table = match table.entries.get_mut(key)? {
            Node::Table(section) => section,
            Node::Tables(sections) => sections.last_mut()?,
            Node::Leaf(_) => return None,
        };
    }
    Some(table)
}

fn article(type_name: &str) -> &'static str {
    match type_name {
        "integer" | "array" => "an",
        _ => "a",
    }
}

/// A dotted key as it would be written, quoting components that are not bare keys.
fn display_key(keys: &[String]) -> String {
    let parts: Vec<String> = keys
        .iter()
        .map(|k| {
            if !k.is_empty() && k.bytes().all(is_bare_key_byte) {
                k.clone()
            } else {
                format!("{k:?}")
            }
        })
        .collect();
    parts.join(".")
}

fn is_bare_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Bytes that may form integers, floats, booleans and datetimes (apart from the space
/// between a date and a time, handled separately).
fn is_scalar_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.' | b':')
}

/// Control characters that TOML forbids in strings and comments (tab is allowed, and
/// newlines are handled by the callers).
fn is_forbidden_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}')
}

/// The 1-based line and column (in characters) of byte offset `pos` of
/// `src`, for error messages; shared with the JSON reader.
pub(crate) fn line_and_column(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
    /// Current nesting of arrays and inline tables.
    depth: usize,
}

impl Parser<'_> {
    fn error_at(&self, pos: usize, message: impl Into<String>) -> TomlError {
        let (line, column) = line_and_column(self.src, pos);
        TomlError {
            line,
            column,
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> TomlError {
        self.error_at(self.pos, message)
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + offset).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8, message: &str) -> Result<(), TomlError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(message))
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Reads one newline (LF or CRLF), if there is one here.
    fn eat_newline(&mut self) -> Result<bool, TomlError> {
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'\r') => {
                if self.peek_at(1) == Some(b'\n') {
                    self.pos += 2;
                    Ok(true)
                } else {
                    Err(self.error("carriage return not followed by a line feed"))
                }
            }
            _ => Ok(false),
        }
    }

    /// Reads a comment up to (not including) the end of its line, if there is one here.
    fn skip_comment(&mut self) -> Result<(), TomlError> {
        if self.peek() != Some(b'#') {
            return Ok(());
        }
        self.pos += 1;
        while let Some(c) = self.peek_char() {
            match c {
                '\n' => break,
                '\r' if self.peek_at(1) == Some(b'\n') => break,
                c if is_forbidden_control(c) => {
                    return Err(self.error(format!(
                        "control character U+{:04X} is not allowed in a comment",
                        c as u32
                    )))
                }
                c => self.pos += c.len_utf8(),
            }
        }
        Ok(())
    }

    /// Skips whitespace, comments and newlines, as allowed between array elements.
    fn skip_blank(&mut self) -> Result<(), TomlError> {
        loop {
            self.skip_whitespace();
            self.skip_comment()?;
            if !self.eat_newline()? {
                return Ok(());
            }
        }
    }

    /// Requires the rest of the line to be empty apart from whitespace and a comment.
    fn end_of_line(&mut self, after: &str) -> Result<(), TomlError> {
        self.skip_whitespace();
        self.skip_comment()?;
        if self.pos == self.src.len() || self.eat_newline()? {
            Ok(())
        } else {
            Err(self.error(format!("expected a newline after {after}")))
        }
    }

    fn document(&mut self) -> Result<Section, TomlError> {
        let mut root = Section::new(Kind::Header);
        let mut current: Vec<String> = Vec::new();
        loop {
            self.skip_whitespace();
            self.skip_comment()?;
            if self.eat_newline()? {
                continue;
            }
            let start = self.pos;
            match self.peek() {
                None => break,
                Some(b'[') => {
                    self.pos += 1;
                    let array = self.eat(b'[');
                    self.skip_whitespace();
                    let keys = self.key()?;
                    self.check_key_depth(&keys, start)?;
                    self.skip_whitespace();
                    if array {
                        if !(self.eat(b']') && self.eat(b']')) {
                            return Err(
                                self.error("expected `]]` to close the array of tables header")
                            );
                        }
                    } else {
                        self.expect(b']', "expected `]` to close the table header")?;
                    }
                    open_section(&mut root, &keys, array).map_err(|m| self.error_at(start, m))?;
                    current = keys;
                    self.end_of_line("a table header")?;
                }
                Some(_) => {
                    let keys = self.key()?;
                    self.depth = current.len();
                    self.check_key_depth(&keys, start)?;
                    self.skip_whitespace();
                    self.expect(b'=', "expected `=` after key")?;
                    self.skip_whitespace();
                    self.depth += keys.len();
                    let value = self.value();
                    self.depth = 0;
                    let value = value?;
                    let section = section_mut(&mut root, &current).ok_or_else(|| {
                        self.error_at(start, "internal error: lost the current table")
                    })?;
                    section
                        .insert(&keys, value)
                        .map_err(|m| self.error_at(start, m))?;
                    self.end_of_line("a key/value pair")?;
                }
            }
        }
        Ok(root)
    }

    /// Reads a possibly dotted key.
    fn key(&mut self) -> Result<Vec<String>, TomlError> {
        let mut keys = vec![self.simple_key()?];
        loop {
            let save = self.pos;
            self.skip_whitespace();
            if self.eat(b'.') {
                self.skip_whitespace();
                keys.push(self.simple_key()?);
            } else {
                self.pos = save;
                return Ok(keys);
            }
        }
    }

    fn simple_key(&mut self) -> Result<String, TomlError> {
        match self.peek() {
            Some(b'"') => {
                if self.rest().starts_with("\"\"\"") {
                    return Err(self.error("multi-line strings are not allowed as keys"));
                }
                self.basic_string()
            }
            Some(b'\'') => {
                if self.rest().starts_with("'''") {
                    return Err(self.error("multi-line strings are not allowed as keys"));
                }
                self.literal_string()
            }
            Some(b) if is_bare_key_byte(b) => {
                let start = self.pos;
                while self.peek().is_some_and(is_bare_key_byte) {
                    self.pos += 1;
                }
                Ok(self.src[start..self.pos].to_string())
            }
            _ => Err(self.error("expected a key")),
        }
    }

    fn value(&mut self) -> Result<Value, TomlError> {
        match self.peek() {
            Some(b'"') => {
                if self.rest().starts_with("\"\"\"") {
                    self.multiline_basic_string().map(Value::String)
                } else {
                    self.basic_string().map(Value::String)
                }
            }
            Some(b'\'') => {
                if self.rest().starts_with("'''") {
                    self.multiline_literal_string().map(Value::String)
                } else {
                    self.literal_string().map(Value::String)
                }
            }
            Some(b'[') => self.nested(Parser::array),
            Some(b'{') => self.nested(Parser::inline_table),
            Some(b) if is_scalar_byte(b) => self.scalar(),
            _ => Err(self.error("expected a value")),
        }
    }

    fn nested(
        &mut self,
        read: fn(&mut Self) -> Result<Value, TomlError>,
    ) -> Result<Value, TomlError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!(
                "arrays and inline tables are nested more than {MAX_DEPTH} deep"
            )));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    /// Fails when the tables of the key `keys`, read at `start`, would nest more than
    /// [`MAX_DEPTH`] deep.
    fn check_key_depth(&self, keys: &[String], start: usize) -> Result<(), TomlError> {
        if self.depth + keys.len() > MAX_DEPTH {
            return Err(self.error_at(
                start,
                format!("tables are nested more than {MAX_DEPTH} deep (counting each part of a dotted key)"),
            ));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Value, TomlError> {
        self.pos += 1; // `[`
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.eat(b']') {
                break;
            }
            items.push(self.value()?);
            self.skip_blank()?;
            if self.eat(b']') {
                break;
            }
            self.expect(b',', "expected `,` or `]` after an array element")?;
        }
        Ok(Value::Array(items))
    }

    fn inline_table(&mut self) -> Result<Value, TomlError> {
        self.pos += 1; // `{`
        let mut table = Section::new(Kind::Dotted);
        loop {
            self.skip_blank()?;
            if self.eat(b'}') {
                break;
            }
            let start = self.pos;
            let keys = self.key()?;
            self.check_key_depth(&keys, start)?;
            // Cargo's parser also allows line breaks and comments around the `=` of an
            // inline table entry.
            self.skip_blank()?;
            self.expect(b'=', "expected `=` after key")?;
            self.skip_blank()?;
            self.depth += keys.len();
            let value = self.value();
            self.depth -= keys.len();
            let value = value?;
            table
                .insert(&keys, value)
                .map_err(|m| self.error_at(start, m))?;
            self.skip_blank()?;
            if self.eat(b'}') {
                break;
            }
            self.expect(b',', "expected `,` or `}` after an inline table entry")?;
        }
        Ok(Value::Table(table.into_table()))
    }

    /// Reads an integer, float, boolean or datetime.
    fn scalar(&mut self) -> Result<Value, TomlError> {
        let start = self.pos;
        while self.peek().is_some_and(is_scalar_byte) {
            self.pos += 1;
        }
        // A date may be followed by a space and a time.
        if is_full_date(&self.src[start..self.pos])
            && self.peek() == Some(b' ')
            && self.peek_at(1).is_some_and(|b| b.is_ascii_digit())
            && self.peek_at(2).is_some_and(|b| b.is_ascii_digit())
            && self.peek_at(3) == Some(b':')
        {
            self.pos += 1;
            while self.peek().is_some_and(is_scalar_byte) {
                self.pos += 1;
            }
        }
        let token = &self.src[start..self.pos];
        let b = token.as_bytes();
        let result = if token == "true" {
            Ok(Value::Boolean(true))
        } else if token == "false" {
            Ok(Value::Boolean(false))
        } else if (b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-')
            || (b.len() >= 3 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b':')
        {
            check_datetime(token).map(|()| Value::Datetime(token.to_string()))
        } else {
            number(token)
        };
        result.map_err(|m| self.error_at(start, m))
    }

    /// Reads one escape sequence after its backslash, appending the character.
    fn escape(&mut self, out: &mut String) -> Result<(), TomlError> {
        let start = self.pos - 1;
        let Some(c) = self.peek_char() else {
            return Err(self.error("unterminated string"));
        };
        self.pos += c.len_utf8();
        let c = match c {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            '"' => '"',
            '\\' => '\\',
            'x' | 'u' | 'U' => {
                let len = match c {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex = self.src.get(self.pos..self.pos + len).unwrap_or("");
                if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(self.error_at(
                        start,
                        format!("expected {len} hexadecimal digits after `\\{c}`"),
                    ));
                }
                self.pos += len;
                let code = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
                char::from_u32(code).ok_or_else(|| {
                    self.error_at(start, format!("`\\{c}{hex}` is not a Unicode scalar value"))
                })?
            }
            other => {
                return Err(self.error_at(
                    start,
                    format!("invalid escape sequence `\\{}`", other.escape_debug()),
                ))
            }
        };
        out.push(c);
        Ok(())
    }

    fn basic_string(&mut self) -> Result<String, TomlError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek_char() {
                None | Some('\n') | Some('\r') => {
                    return Err(self.error_at(start, "unterminated string"))
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(c) if is_forbidden_control(c) => {
                    return Err(self.error(format!(
                        "control character U+{:04X} must be escaped in a string",
                        c as u32
                    )))
                }
                Some(c) => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn literal_string(&mut self) -> Result<String, TomlError> {
        let start = self.pos;
        self.pos += 1;
        let content_start = self.pos;
        loop {
            match self.peek_char() {
                None | Some('\n') | Some('\r') => {
                    return Err(self.error_at(start, "unterminated string"))
                }
                Some('\'') => {
                    let s = self.src[content_start..self.pos].to_string();
                    self.pos += 1;
                    return Ok(s);
                }
                Some(c) if is_forbidden_control(c) => {
                    return Err(self.error(format!(
                        "control character U+{:04X} is not allowed in a literal string",
                        c as u32
                    )))
                }
                Some(c) => self.pos += c.len_utf8(),
            }
        }
    }

    /// Handles the end of a multi-line string: a run of three to five quotes closes it,
    /// the quotes beyond three being content. Returns whether the string ended.
    fn multiline_close(&mut self, quote: u8, out: &mut String) -> Result<bool, TomlError> {
        let run = self.src.as_bytes()[self.pos..]
            .iter()
            .take_while(|&&b| b == quote)
            .count();
        if run < 3 {
            for _ in 0..run {
                out.push(quote as char);
            }
            self.pos += run;
            return Ok(false);
        }
        if run > 5 {
            return Err(self.error_at(
                self.pos + 5,
                "too many quotes at the end of a multi-line string",
            ));
        }
        for _ in 3..run {
            out.push(quote as char);
        }
        self.pos += run;
        Ok(true)
    }

    fn multiline_basic_string(&mut self) -> Result<String, TomlError> {
        let start = self.pos;
        self.pos += 3;
        self.eat_newline()?;
        let mut out = String::new();
        loop {
            match self.peek_char() {
                None => return Err(self.error_at(start, "unterminated multi-line string")),
                Some('"') => {
                    if self.multiline_close(b'"', &mut out)? {
                        return Ok(out);
                    }
                }
                Some('\\') => {
                    self.pos += 1;
                    // A backslash at the end of a line trims it and all whitespace and
                    // newlines that follow.
                    let save = self.pos;
                    self.skip_whitespace();
                    if self.eat_newline()? {
                        loop {
                            self.skip_whitespace();
                            if !self.eat_newline()? {
                                break;
                            }
                        }
                    } else {
                        self.pos = save;
                        self.escape(&mut out)?;
                    }
                }
                Some('\n') | Some('\r') => {
                    let before = self.pos;
                    self.eat_newline()?;
                    out.push_str(&self.src[before..self.pos]);
                }
                Some(c) if is_forbidden_control(c) => {
                    return Err(self.error(format!(
                        "control character U+{:04X} must be escaped in a string",
                        c as u32
                    )))
                }
                Some(c) => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn multiline_literal_string(&mut self) -> Result<String, TomlError> {
        let start = self.pos;
        self.pos += 3;
        self.eat_newline()?;
        let mut out = String::new();
        loop {
            match self.peek_char() {
                None => return Err(self.error_at(start, "unterminated multi-line string")),
                Some('\'') => {
                    if self.multiline_close(b'\'', &mut out)? {
                        return Ok(out);
                    }
                }
                Some('\n') | Some('\r') => {
                    let before = self.pos;
                    self.eat_newline()?;
                    out.push_str(&self.src[before..self.pos]);
                }
                Some(c) if is_forbidden_control(c) => {
                    return Err(self.error(format!(
                        "control character U+{:04X} is not allowed in a literal string",
                        c as u32
                    )))
                }
                Some(c) => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

/// Whether `s` is exactly `YYYY-MM-DD` in shape.
fn is_full_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Checks an RFC 3339 date-time, date or time as TOML allows it.
fn check_datetime(s: &str) -> Result<(), String> {
    let invalid = || Err(format!("invalid datetime `{s}`"));
    let b = s.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
        } else {
            None
        }
    };
    let mut i = 0;
    let has_date = b.get(4) == Some(&b'-');
    if has_date {
        let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2))
        else {
            return invalid();
        };
        if b.get(7) != Some(&b'-') {
            return invalid();
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(format!("invalid month in datetime `{s}`")),
        };
        if day < 1 || day > days {
            return Err(format!("invalid day in datetime `{s}`"));
        }
        i = 10;
        if i == b.len() {
            return Ok(());
        }
        if !matches!(b[i], b'T' | b't' | b' ') {
            return invalid();
        }
        i += 1;
    }
    let (Some(hour), Some(minute)) = (digits(i, 2), digits(i + 3, 2)) else {
        return invalid();
    };
    if b.get(i + 2) != Some(&b':') || hour > 23 || minute > 59 {
        return invalid();
    }
    i += 5;
    if b.get(i) == Some(&b':') {
        match digits(i + 1, 2) {
            Some(second) if second <= 60 => i += 3,
            _ => return invalid(),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let n = b[i..].iter().take_while(|d| d.is_ascii_digit()).count();
            if n == 0 {
                return invalid();
            }
            i += n;
        }
    }
    if has_date {
        match b.get(i) {
            Some(b'Z' | b'z') => i += 1,
            Some(b'+' | b'-') => {
                let (Some(hour), Some(minute)) = (digits(i + 1, 2), digits(i + 4, 2)) else {
                    return invalid();
                };
                if b.get(i + 3) != Some(&b':') || hour > 23 || minute > 59 {
                    return invalid();
                }
                i += 6;
            }
            _ => {}
        }
    }
    if i == b.len() {
        Ok(())
    } else {
        invalid()
    }
}

/// Removes the underscores of a run of digits, checking each sits between two digits.
fn digits_without_underscores(s: &str, is_digit: fn(&u8) -> bool) -> Option<String> {
    let b = s.as_bytes();
    if b.is_empty() || !is_digit(&b[0]) || !is_digit(&b[b.len() - 1]) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut prev_underscore = false;
    for &c in b {
        if c == b'_' {
            if prev_underscore {
                return None;
            }
            prev_underscore = true;
        } else if is_digit(&c) {
            prev_underscore = false;
            out.push(c as char);
        } else {
            return None;
        }
    }
    Some(out)
}

/// Reads an integer or float token.
fn number(token: &str) -> Result<Value, String> {
    let invalid = || format!("invalid number `{token}`");
    let (sign, rest) = match token.as_bytes().first() {
        Some(b'+') => ("+", &token[1..]),
        Some(b'-') => ("-", &token[1..]),
        _ => ("", token),
    };
    match rest {
        "inf" => {
            return Ok(Value::Float(if sign == "-" {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }))
        }
        "nan" => return Ok(Value::Float(if sign == "-" { -f64::NAN } else { f64::NAN })),
        _ => {}
    }
    for (prefix, radix, is_digit) in [
        ("0x", 16, u8::is_ascii_hexdigit as fn(&u8) -> bool),
        ("0o", 8, |b: &u8| (b'0'..=b'7').contains(b)),
        ("0b", 2, |b: &u8| matches!(b, b'0' | b'1')),
    ] {
        if let Some(body) = rest.strip_prefix(prefix) {
            if !sign.is_empty() {
                return Err(format!(
                    "a sign is not allowed on `{prefix}` integers: `{token}`"
                ));
            }
            let cleaned = digits_without_underscores(body, is_digit).ok_or_else(invalid)?;
            return i64::from_str_radix(&cleaned, radix)
                .map(Value::Integer)
                .map_err(|_| format!("integer `{token}` does not fit in 64 bits"));
        }
    }
    let int_end = rest.find(['.', 'e', 'E']).unwrap_or(rest.len());
    let int_part =
        digits_without_underscores(&rest[..int_end], u8::is_ascii_digit).ok_or_else(invalid)?;
    if int_part.len() > 1 && int_part.starts_with('0') {
        return Err(format!("leading zeros are not allowed: `{token}`"));
    }
    if int_end == rest.len() {
        return format!("{sign}{int_part}")
            .parse()
            .map(Value::Integer)
            .map_err(|_| format!("integer `{token}` does not fit in 64 bits"));
    }
    let mut float = format!("{sign}{int_part}");
    let mut tail = &rest[int_end..];
    if let Some(after_dot) = tail.strip_prefix('.') {
        let frac_end = after_dot.find(['e', 'E']).unwrap_or(after_dot.len());
        let frac = digits_without_underscores(&after_dot[..frac_end], u8::is_ascii_digit)
            .ok_or_else(invalid)?;
        float.push('.');
        float.push_str(&frac);
        tail = &after_dot[frac_end..];
    }
    if let Some(exponent) = tail.strip_prefix(['e', 'E']) {
        let (exp_sign, exp_digits) = match exponent.as_bytes().first() {
            Some(b'+') => ("+", &exponent[1..]),
            Some(b'-') => ("-", &exponent[1..]),
            _ => ("", exponent),
        };
        let exp = digits_without_underscores(exp_digits, u8::is_ascii_digit).ok_or_else(invalid)?;
        float.push('e');
        float.push_str(exp_sign);
        float.push_str(&exp);
    } else if !tail.is_empty() {
        return Err(invalid());
    }
    match float.parse::<f64>() {
        // Like the `toml` crate, reject a finite literal too large for a float rather
        // than read it as infinity.
        Ok(f) if f.is_infinite() => Err(format!("float `{token}` is out of range")),
        Ok(f) => Ok(Value::Float(f)),
        Err(_) => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    //! The error messages and accessors. The reader against the `toml` crate
    //! (tricky, mutated and real-world cases) is in `tests/readers.rs`.
    use super::{get, parse, Value};

    fn check_error(input: &str, expected: &str) {
        assert_eq!(parse(input).unwrap_err().to_string(), expected, "{input:?}");
    }

    #[test]
    fn errors_name_line_and_column() {
        check_error(
            "a = 1\nb = 2\nc 3",
            "line 3, column 3: expected `=` after key",
        );
        check_error("a = 1\na = 2", "line 2, column 1: duplicate key `a`");
        check_error("[a]\n[a]", "line 2, column 1: table `a` is defined twice");
        check_error(
            "a = \"é\\q\"",
            "line 1, column 7: invalid escape sequence `\\q`",
        );
        check_error(
            "[x]\n\"a b\".c = 1\n\"a b\" = 2",
            "line 3, column 1: duplicate key `\"a b\"`",
        );
        check_error(
            "a = 1 b",
            "line 1, column 7: expected a newline after a key/value pair",
        );
        check_error(
            "v = 1\n[v.w]",
            "line 2, column 1: cannot define table `v.w`: `v` is already defined as an integer",
        );
        check_error(
            "p = 99999999999999999999",
            "line 1, column 5: integer `99999999999999999999` does not fit in 64 bits",
        );
    }

    #[test]
    fn accessors() {
        let t = parse(
            "[package]\nname = \"x\"\nversion = 3\nok = true\n[package.metadata.build-patch]\npatches = [\"a.patch\"]",
        )
        .unwrap();
        let bp = get(&t, &["package", "metadata", "build-patch"]).unwrap();
        assert_eq!(bp.type_name(), "table");
        let patches = bp
            .as_table()
            .unwrap()
            .get("patches")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(patches[0].as_str(), Some("a.patch"));
        assert_eq!(
            get(&t, &["package", "version"]).unwrap().as_integer(),
            Some(3)
        );
        assert_eq!(get(&t, &["package", "ok"]).unwrap().as_bool(), Some(true));
        assert_eq!(get(&t, &["package", "name", "x"]), None);
        assert_eq!(get(&t, &["nope"]), None);
        assert_eq!(get(&t, &[]), None);
        let d = parse("d = 1979-05-27 07:32:00Z").unwrap();
        let d = d.get("d").unwrap();
        assert_eq!(*d, Value::Datetime("1979-05-27 07:32:00Z".into()));
        assert_eq!(d.type_name(), "datetime");
    }
}
