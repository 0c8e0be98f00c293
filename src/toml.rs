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

use std::fmt;

use crate::map::Map;

/// A TOML value.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(crate) enum Value {
    /// A string, with escapes resolved.
    String(String),
    /// An integer in any base.
    Integer(i64),
    /// A float, including `inf` and `nan`.
    // Only the tests and the fuzz checks read floats and datetimes.
    #[cfg_attr(not(any(test, feature = "__fuzz")), allow(dead_code))]
    Float(f64),
    /// `true` or `false`.
    Boolean(bool),
    /// An offset or local date-time, date or time, exactly as written.
    #[cfg_attr(not(any(test, feature = "__fuzz")), allow(dead_code))]
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
    #[cfg(test)]
    pub(crate) fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
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

/// Why a document is not valid TOML or JSON, and where.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    line: usize,
    column: usize,
    message: String,
}

impl SyntaxError {
    /// The error `message` at byte `pos` of `src`.
    pub(crate) fn new(src: &str, pos: usize, message: String) -> SyntaxError {
        let (line, column) = line_and_column(src, pos);
        SyntaxError {
            line,
            column,
            message,
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for SyntaxError {}

/// Why a document is not valid TOML, and where.
pub(crate) type TomlError = SyntaxError;

/// Parses a whole TOML document into its root table.
pub(crate) fn parse(text: &str) -> Result<Table, TomlError> {
    let mut parser = Parser {
        src: text,
        // A byte order mark is not part of the document (the `toml` crate
        // skips it too).
        pos: if text.starts_with('\u{feff}') { 3 } else { 0 },
        depth: 0,
    };
    let mut root = Section::new(Kind::Header);
    parser.document(&mut root)?;
    Ok(root.into_table())
}

/// How deeply arrays and tables may nest, counting inline ones and each component of a
/// header or dotted key. The parser, building the tables and dropping them are
/// recursive, and a hostile manifest must produce an error rather than overflow the
/// stack (`[a.a.a...]` 10,000 deep did, before keys counted). Cargo's manifests nest
/// about five deep.
const MAX_DEPTH: usize = 128;
// The messages say 128 in words: a constant string rather than a `format!` each.
const _: () = assert!(MAX_DEPTH == 128);

/// How a table came to exist, which decides whether it may be extended later.
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
struct Section {
    kind: Kind,
    entries: Map<String, Node>,
}

/// An entry of a [`Section`].
enum Node {
    /// A value that can no longer be extended: a scalar, an inline array or an inline
    /// table.
    Leaf(Value),
    /// A table defined by headers or dotted keys.
    Table(Section),
    /// An array of tables: the tables before the last one, which no header can reach
    /// any more, already converted, and the last one.
    Tables { closed: Vec<Value>, last: Section },
}

impl Section {
    fn new(kind: Kind) -> Section {
        Section {
            kind,
            entries: Map::new(),
        }
    }

    fn into_table(self) -> Table {
        let mut table = Table::new();
        // In key order, each key once: `push_last` keeps the map sorted.
        for (key, node) in self.entries {
            let value = match node {
                Node::Leaf(value) => value,
                Node::Table(section) => Value::Table(section.into_table()),
                Node::Tables { mut closed, last } => {
                    closed.push(Value::Table(last.into_table()));
                    Value::Array(closed)
                }
            };
            table.push_last(key, value);
        }
        table
    }

    /// Inserts `keys = value` into this table, creating the tables of a dotted key.
    fn insert(&mut self, keys: &[String], value: Value) -> Result<(), String> {
        let Some((last, parents)) = keys.split_last() else {
            return Err("expected a key".to_string());
        };
        let mut table = self;
        for i in 0..parents.len() {
            let node = table.entries.get_or_insert_with(parents[i].clone(), || {
                Node::Table(Section::new(Kind::Dotted))
            });
            table = match node {
                Node::Table(section) if matches!(section.kind, Kind::Dotted) => section,
                _ => {
                    return Err(message(&[
                        "cannot add key `",
                        &display_key(keys),
                        "`: `",
                        &display_key(&keys[..i + 1]),
                        "` is already defined",
                    ]))
                }
            };
        }
        if table.entries.contains_key(last) {
            return Err(message(&["duplicate key `", &display_key(keys), "`"]));
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
    for i in 0..parents.len() {
        let node = table.entries.get_or_insert_with(parents[i].clone(), || {
            Node::Table(Section::new(Kind::Implicit))
        });
        table = match node {
            Node::Table(section) => section,
            Node::Tables { last, .. } => last,
            Node::Leaf(value) => {
                return Err(cannot_define(
                    "table",
                    keys,
                    &keys[..i + 1],
                    defined_as(value),
                ))
            }
        };
    }
    let what = if array { "array of tables" } else { "table" };
    let already = match table.entries.get_mut(last) {
        None => {
            let node = if array {
                Node::Tables {
                    closed: Vec::new(),
                    last: Section::new(Kind::Header),
                }
            } else {
                Node::Table(Section::new(Kind::Header))
            };
            table.entries.insert(last.clone(), node);
            return Ok(());
        }
        Some(Node::Tables { closed, last }) if array => {
            let done = std::mem::replace(last, Section::new(Kind::Header));
            closed.push(Value::Table(done.into_table()));
            return Ok(());
        }
        Some(Node::Table(section)) if !array && matches!(section.kind, Kind::Implicit) => {
            section.kind = Kind::Header;
            return Ok(());
        }
        Some(Node::Table(_)) if !array => {
            return Err(message(&[
                "table `",
                &display_key(keys),
                "` is defined twice",
            ]))
        }
        Some(Node::Table(_)) => "a table",
        Some(Node::Tables { .. }) => "an array of tables",
        Some(Node::Leaf(value)) => defined_as(value),
    };
    Err(cannot_define(what, keys, keys, already))
}

/// "cannot define {what} `{keys}`: `{defined}` is already {already}".
fn cannot_define(what: &str, keys: &[String], defined: &[String], already: &str) -> String {
    message(&[
        "cannot define ",
        what,
        " `",
        &display_key(keys),
        "`: `",
        &display_key(defined),
        "` is already ",
        already,
    ])
}

/// Finds the table that key/value pairs go into after the header `keys`.
fn section_mut<'a>(root: &'a mut Section, keys: &[String]) -> Option<&'a mut Section> {
    let mut table = root;
    for key in keys {
        table = match table.entries.get_mut(key)? {
            Node::Table(section) => section,
            Node::Tables { last, .. } => last,
            Node::Leaf(_) => return None,
        };
    }
    Some(table)
}

/// What `value` is defined as, for error messages: `defined as an integer`.
fn defined_as(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "defined as a string",
        Value::Integer(_) => "defined as an integer",
        Value::Float(_) => "defined as a float",
        Value::Boolean(_) => "defined as a boolean",
        Value::Datetime(_) => "defined as a datetime",
        Value::Array(_) => "defined as an array",
        Value::Table(_) => "defined as a table",
    }
}

/// The pieces of a message, joined: one plain function rather than a `format!` at
/// each of the many error sites, which each compiled to their own code.
fn message(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}

/// A dotted key as it would be written, quoting components that are not bare keys.
fn display_key(keys: &[String]) -> String {
    let mut out = String::new();
    for k in keys {
        // Every key shows as something (an empty one as `""`).
        if !out.is_empty() {
            out.push('.');
        }
        let mut bare = !k.is_empty();
        for b in k.bytes() {
            bare &= is_bare_key_byte(b);
        }
        if bare {
            out.push_str(k);
        } else {
            out.push_str(&format!("{k:?}"));
        }
    }
    out
}

/// Whether `s` is hexadecimal digits; shared with the JSON reader.
pub(crate) fn is_hex(s: &str) -> bool {
    for b in s.bytes() {
        if !b.is_ascii_hexdigit() {
            return false;
        }
    }
    true
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

/// The message for a forbidden control character `c`: "control character U+0001 {rule}".
fn control_character(c: char, rule: &str) -> String {
    format!("control character U+{:04X} {rule}", c as u32)
}

/// The 1-based line and column (in characters) of byte offset `pos` of
/// `src`, for error messages; shared with the JSON reader.
pub(crate) fn line_and_column(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src[..pos];
    // One pass over the bytes for the line breaks (`rfind` compiled a
    // reverse char searcher here).
    let bytes = before.as_bytes();
    let (mut line, mut line_start) = (1, 0);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            line += 1;
            line_start = i + 1;
        }
        i += 1;
    }
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
        SyntaxError::new(self.src, pos, message.into())
    }

    /// `result`, its error placed at `start`.
    fn at(&self, start: usize, result: Result<(), String>) -> Result<(), TomlError> {
        match result {
            Ok(()) => Ok(()),
            Err(message) => Err(SyntaxError::new(self.src, start, message)),
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

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
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
                    return Err(self.error(control_character(c, "is not allowed in a comment")))
                }
                c => self.pos += c.len_utf8(),
            }
        }
        Ok(())
    }

    /// Skips whitespace and a comment, then reads a newline if there is one; whether
    /// there was.
    fn blank_line(&mut self) -> Result<bool, TomlError> {
        self.skip_whitespace();
        self.skip_comment()?;
        self.eat_newline()
    }

    /// Skips whitespace, comments and newlines, as allowed between array elements.
    fn skip_blank(&mut self) -> Result<(), TomlError> {
        while self.blank_line()? {}
        Ok(())
    }

    /// Requires the rest of the line to be empty apart from whitespace and a comment;
    /// `message` says what it follows.
    fn end_of_line(&mut self, message: &'static str) -> Result<(), TomlError> {
        if self.blank_line()? || self.pos == self.src.len() {
            Ok(())
        } else {
            Err(self.error(message))
        }
    }

    fn document(&mut self, root: &mut Section) -> Result<(), TomlError> {
        let mut current: Vec<String> = Vec::new();
        loop {
            if self.blank_line()? {
                continue;
            }
            match self.peek() {
                None => return Ok(()),
                Some(b'[') => self.header(root, &mut current)?,
                Some(_) => self.key_value(root, &current)?,
            }
        }
    }

    /// Reads a `[table]` or `[[array of tables]]` header and opens its table, whose
    /// keys become `current`.
    fn header(&mut self, root: &mut Section, current: &mut Vec<String>) -> Result<(), TomlError> {
        let start = self.pos;
        self.pos += 1;
        let array = self.eat(b'[');
        self.skip_whitespace();
        let keys = self.key(start)?;
        self.skip_whitespace();
        if array {
            if !(self.eat(b']') && self.eat(b']')) {
                return Err(self.error("expected `]]` to close the array of tables header"));
            }
        } else {
            if !self.eat(b']') {
                return Err(self.error("expected `]` to close the table header"));
            }
        }
        if let Err(message) = open_section(root, &keys, array) {
            return Err(SyntaxError::new(self.src, start, message));
        }
        *current = keys;
        self.end_of_line("expected a newline after a table header")
    }

    /// Reads a `key = value` line into the table of the header `current`.
    fn key_value(&mut self, root: &mut Section, current: &[String]) -> Result<(), TomlError> {
        let Some(section) = section_mut(root, current) else {
            return Err(self.error("internal error: lost the current table"));
        };
        self.depth = current.len();
        let entry = self.entry(section, false);
        self.depth = 0;
        entry?;
        self.end_of_line("expected a newline after a key/value pair")
    }

    /// Reads `key = value` into `table`: a line of a table, or an entry of an inline
    /// table (`inline`), where Cargo's parser also allows line breaks and comments
    /// around the `=`.
    fn entry(&mut self, table: &mut Section, inline: bool) -> Result<(), TomlError> {
        let start = self.pos;
        let keys = self.key(start)?;
        if inline {
            self.skip_blank()?;
        } else {
            self.skip_whitespace();
        }
        if !self.eat(b'=') {
            return Err(self.error("expected `=` after key"));
        }
        if inline {
            self.skip_blank()?;
        } else {
            self.skip_whitespace();
        }
        self.depth += keys.len();
        let value = self.value();
        self.depth -= keys.len();
        let value = value?;
        self.at(start, table.insert(&keys, value))
    }

    /// Reads a possibly dotted key. Fails, at `start`, when its tables would nest more
    /// than [`MAX_DEPTH`] deep.
    fn key(&mut self, start: usize) -> Result<Vec<String>, TomlError> {
        let mut keys = Vec::new();
        loop {
            keys.push(self.simple_key()?);
            let save = self.pos;
            self.skip_whitespace();
            if !self.eat(b'.') {
                self.pos = save;
                break;
            }
            self.skip_whitespace();
        }
        if self.depth + keys.len() > MAX_DEPTH {
            return Err(self.error_at(
                start,
                "tables are nested more than 128 deep (counting each part of a dotted key)",
            ));
        }
        Ok(keys)
    }

    fn simple_key(&mut self) -> Result<String, TomlError> {
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => self.string(q, true),
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
            Some(q @ (b'"' | b'\'')) => Ok(Value::String(self.string(q, false)?)),
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
            return Err(self.error("arrays and inline tables are nested more than 128 deep"));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
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
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `]` after an array element"));
            }
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
            self.entry(&mut table, true)?;
            self.skip_blank()?;
            if self.eat(b'}') {
                break;
            }
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `}` after an inline table entry"));
            }
        }
        Ok(Value::Table(table.into_table()))
    }

    /// Reads an integer, float, boolean or datetime.
    fn scalar(&mut self) -> Result<Value, TomlError> {
        let start = self.pos;
        while self.peek().is_some_and(is_scalar_byte) {
            self.pos += 1;
        }
        let src = self.src.as_bytes();
        // A date may be followed by a space and a time.
        if self.pos - start == 10
            && has_shape(src, start, b"9999-99-99")
            && has_shape(src, self.pos, b" 99:")
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
        } else if has_shape(b, 0, b"9999-") || has_shape(b, 0, b"99:") {
            match datetime_problem(b) {
                Ok(()) => Ok(Value::Datetime(token.to_string())),
                Err(what) => Err(message(&[what, " datetime `", token, "`"])),
            }
        } else {
            number(token)
        };
        match result {
            Ok(value) => Ok(value),
            Err(message) => Err(SyntaxError::new(self.src, start, message)),
        }
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
                // The escape, e.g. `\u`, for the messages.
                let escape = &self.src[start..self.pos];
                let (len, digits) = match c {
                    'x' => (2, "2"),
                    'u' => (4, "4"),
                    _ => (8, "8"),
                };
                let hex = self.src.get(self.pos..self.pos + len).unwrap_or("");
                if hex.len() != len || !is_hex(hex) {
                    return Err(self.error_at(
                        start,
                        message(&[
                            "expected ",
                            digits,
                            " hexadecimal digits after `",
                            escape,
                            "`",
                        ]),
                    ));
                }
                self.pos += len;
                // Read as i64, the crate's one integer width (less code).
                // At most eight hexadecimal digits: it fits a u32.
                let code = match i64::from_str_radix(hex, 16) {
                    Ok(v) => v as u32,
                    Err(_) => u32::MAX,
                };
                match char::from_u32(code) {
                    Some(c) => c,
                    None => {
                        return Err(self.error_at(
                            start,
                            message(&["`", escape, hex, "` is not a Unicode scalar value"]),
                        ))
                    }
                }
            }
            other => {
                // `{:?}` of a char is `char::escape_debug` in single quotes
                // (`"`, the one difference, is a valid escape above), and it
                // is compiled in core: `escape_debug` itself would be
                // compiled here, some 550 lines of LLVM IR.
                let quoted = format!("{other:?}");
                let escaped = &quoted[1..quoted.len() - 1];
                return Err(self.error_at(start, format!("invalid escape sequence `\\{escaped}`")));
            }
        };
        out.push(c);
        Ok(())
    }

    /// Reads a string of either kind (`"` or `'` as `quote`), one-line or multi-line.
    /// A key may only be a one-line string.
    fn string(&mut self, quote: u8, key: bool) -> Result<String, TomlError> {
        let multiline = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        if multiline && key {
            return Err(self.error("multi-line strings are not allowed as keys"));
        }
        let start = self.pos;
        self.pos += if multiline { 3 } else { 1 };
        if multiline {
            self.eat_newline()?;
        }
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                return Err(self.unterminated(start, multiline));
            };
            if c == quote as char {
                if !multiline {
                    self.pos += 1;
                    return Ok(out);
                }
                if self.multiline_close(quote, &mut out)? {
                    return Ok(out);
                }
            } else if c == '\\' && quote == b'"' {
                self.pos += 1;
                if multiline {
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
                        continue;
                    }
                    self.pos = save;
                }
                self.escape(&mut out)?;
            } else if c == '\n' || c == '\r' {
                if !multiline {
                    return Err(self.unterminated(start, multiline));
                }
                let before = self.pos;
                self.eat_newline()?;
                out.push_str(&self.src[before..self.pos]);
            } else if is_forbidden_control(c) {
                let rule = if quote == b'"' {
                    "must be escaped in a string"
                } else {
                    "is not allowed in a literal string"
                };
                return Err(self.error(control_character(c, rule)));
            } else {
                out.push(c);
                self.pos += c.len_utf8();
            }
        }
    }

    fn unterminated(&self, start: usize, multiline: bool) -> TomlError {
        let message = if multiline {
            "unterminated multi-line string"
        } else {
            "unterminated string"
        };
        self.error_at(start, message)
    }

    /// Handles the end of a multi-line string: a run of three to five quotes closes it,
    /// the quotes beyond three being content. Returns whether the string ended.
    fn multiline_close(&mut self, quote: u8, out: &mut String) -> Result<bool, TomlError> {
        let mut run = 0;
        while self.peek_at(run) == Some(quote) {
            run += 1;
        }
        if run > 5 {
            return Err(self.error_at(
                self.pos + 5,
                "too many quotes at the end of a multi-line string",
            ));
        }
        let closes = run >= 3;
        let content = if closes { run - 3 } else { run };
        out.push_str(&self.src[self.pos..self.pos + content]);
        self.pos += run;
        Ok(closes)
    }
}

/// Whether `b` holds `shape` at byte `at`, each `9` of the shape standing for any
/// digit: `has_shape(b, 0, b"9999-99-99")` for a date.
fn has_shape(b: &[u8], at: usize, shape: &[u8]) -> bool {
    let Some(part) = b.get(at..at + shape.len()) else {
        return false;
    };
    for i in 0..shape.len() {
        let ok = if shape[i] == b'9' {
            part[i].is_ascii_digit()
        } else {
            part[i] == shape[i]
        };
        if !ok {
            return false;
        }
    }
    true
}

/// The number written with the `len` digits of `b` at `from`, which
/// [`has_shape`] checked.
fn digits_at(b: &[u8], from: usize, len: usize) -> u32 {
    let mut n = 0;
    for &d in &b[from..from + len] {
        n = n * 10 + u32::from(d - b'0');
    }
    n
}

/// Whether `b` has an `HH:MM` at `at`, with an hour up to 23 and a minute up to 59.
fn is_hour_minute(b: &[u8], at: usize) -> bool {
    has_shape(b, at, b"99:99") && digits_at(b, at, 2) <= 23 && digits_at(b, at + 3, 2) <= 59
}

/// What is wrong with an RFC 3339 date-time, date or time as TOML allows it
/// (`invalid`, `invalid month in`, `invalid day in`).
fn datetime_problem(b: &[u8]) -> Result<(), &'static str> {
    const INVALID: Result<(), &str> = Err("invalid");
    let mut i = 0;
    let has_date = matches!(b.get(4), Some(b'-'));
    if has_date {
        if !has_shape(b, 0, b"9999-99-99") {
            return INVALID;
        }
        let (year, month, day) = (digits_at(b, 0, 4), digits_at(b, 5, 2), digits_at(b, 8, 2));
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err("invalid month in"),
        };
        if day < 1 || day > days {
            return Err("invalid day in");
        }
        i = 10;
        if i == b.len() {
            return Ok(());
        }
        if !matches!(b[i], b'T' | b't' | b' ') {
            return INVALID;
        }
        i += 1;
    }
    if !is_hour_minute(b, i) {
        return INVALID;
    }
    i += 5;
    if matches!(b.get(i), Some(b':')) {
        if !has_shape(b, i + 1, b"99") || digits_at(b, i + 1, 2) > 60 {
            return INVALID;
        }
        i += 3;
        if matches!(b.get(i), Some(b'.')) {
            i += 1;
            let from = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == from {
                return INVALID;
            }
        }
    }
    if has_date {
        match b.get(i) {
            Some(b'Z' | b'z') => i += 1,
            Some(b'+' | b'-') => {
                if !is_hour_minute(b, i + 1) {
                    return INVALID;
                }
                i += 6;
            }
            _ => {}
        }
    }
    if i == b.len() {
        Ok(())
    } else {
        INVALID
    }
}

/// Appends to `out` the digits in `radix` at `b[*i..]`, which may have single
/// underscores between them, and steps over them; whether there was a digit.
fn push_digits(out: &mut String, b: &[u8], i: &mut usize, radix: u32) -> bool {
    let start = *i;
    while let Some(&c) = b.get(*i) {
        let digit = char::from(c).is_digit(radix);
        let underscore = c == b'_'
            && *i > start
            && matches!(b.get(*i + 1), Some(&d) if char::from(d).is_digit(radix));
        if !digit && !underscore {
            break;
        }
        if digit {
            out.push(char::from(c));
        }
        *i += 1;
    }
    *i > start
}

fn invalid_number(token: &str) -> String {
    message(&["invalid number `", token, "`"])
}

/// A leading `+` or `-` of `s` (or nothing), and the rest.
fn split_sign(s: &str) -> (&str, &str) {
    match s.as_bytes().first() {
        Some(b'+' | b'-') => s.split_at(1),
        _ => ("", s),
    }
}

/// What the digits of a number token make.
enum Number {
    Integer,
    Float,
    /// Not a TOML number.
    Invalid,
    /// An integer part with leading zeros.
    LeadingZeros,
}

/// Reads an integer or float token.
fn number(token: &str) -> Result<Value, String> {
    let (sign, rest) = split_sign(token);
    if rest == "inf" || rest == "nan" {
        let f = if rest == "inf" {
            f64::INFINITY
        } else {
            f64::NAN
        };
        return Ok(Value::Float(if sign == "-" { -f } else { f }));
    }
    let b = rest.as_bytes();
    let radix = match b {
        [b'0', b'x', ..] => 16,
        [b'0', b'o', ..] => 8,
        [b'0', b'b', ..] => 2,
        _ => 10,
    };
    if radix != 10 && !sign.is_empty() {
        return Err(message(&[
            "a sign is not allowed on `",
            &rest[..2],
            "` integers: `",
            token,
            "`",
        ]));
    }
    // The number without underscores, as Rust's parsers read it.
    let mut digits = String::with_capacity(token.len());
    digits.push_str(sign);
    match number_digits(b, radix, &mut digits) {
        Number::Integer => match i64::from_str_radix(&digits, radix) {
            Ok(i) => Ok(Value::Integer(i)),
            Err(_) => Err(message(&["integer `", token, "` does not fit in 64 bits"])),
        },
        Number::Float => match digits.parse::<f64>() {
            // Like the `toml` crate, reject a finite literal too large for a float
            // rather than read it as infinity.
            Ok(f) if f.is_infinite() => Err(message(&["float `", token, "` is out of range"])),
            Ok(f) => Ok(Value::Float(f)),
            Err(_) => Err(invalid_number(token)),
        },
        Number::Invalid => Err(invalid_number(token)),
        Number::LeadingZeros => Err(message(&["leading zeros are not allowed: `", token, "`"])),
    }
}

/// Appends to `digits` the digits of the number `b` (without its sign) in `radix`:
/// after a `0x`, `0o` or `0b` an integer; else an integer part, then a fraction
/// after `.` and an exponent after `e` or `E`.
fn number_digits(b: &[u8], radix: u32, digits: &mut String) -> Number {
    if radix != 10 {
        let mut i = 2;
        if !push_digits(digits, b, &mut i, radix) || i != b.len() {
            return Number::Invalid;
        }
        return Number::Integer;
    }
    let mut i = 0;
    if !push_digits(digits, b, &mut i, 10) || !matches!(b.get(i), None | Some(b'.' | b'e' | b'E')) {
        return Number::Invalid;
    }
    if i > 1 && b[0] == b'0' {
        return Number::LeadingZeros;
    }
    if i == b.len() {
        return Number::Integer;
    }
    if b[i] == b'.' {
        digits.push('.');
        i += 1;
        if !push_digits(digits, b, &mut i, 10) {
            return Number::Invalid;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        digits.push('e');
        i += 1;
        if let Some(&sign @ (b'+' | b'-')) = b.get(i) {
            digits.push(char::from(sign));
            i += 1;
        }
        if !push_digits(digits, b, &mut i, 10) {
            return Number::Invalid;
        }
    }
    if i == b.len() {
        Number::Float
    } else {
        Number::Invalid
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
