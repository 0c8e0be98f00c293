//! The private readers, reachable from the fuzz targets in `fuzz/` and from the
//! replays of their corpora in `tests/fuzz_replay.rs`. Not part of the API: hidden,
//! unstable, for build-patch's own fuzzing only.
//!
//! Each reader's result is given in a plain form ([`Value`], [`Split`]) so that the
//! checks can compare it with a reference parser without seeing the private types.

use crate::{build_script, json, manifest, root, toml, upstream};

/// A TOML or JSON value in a form the checks can compare.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A TOML integer.
    Integer(i64),
    /// A TOML float.
    Float(f64),
    /// A JSON number, exactly as written.
    Number(String),
    /// A TOML date or time, exactly as written.
    Datetime(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// A table or object, keys in sorted order.
    Table(Vec<(String, Value)>),
}

fn from_toml(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::Integer(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::Datetime(d.clone()),
        toml::Value::Array(a) => Value::Array(a.iter().map(from_toml).collect()),
        toml::Value::Table(t) => from_toml_table(t),
    }
}

fn from_toml_table(table: &toml::Table) -> Value {
    Value::Table(
        table
            .into_iter()
            .map(|(k, v)| (k.clone(), from_toml(v)))
            .collect(),
    )
}

fn from_json(value: &json::Json) -> Value {
    match value {
        json::Json::Null => Value::Null,
        json::Json::Bool(b) => Value::Bool(*b),
        json::Json::Number(n) => Value::Number(n.clone()),
        json::Json::String(s) => Value::String(s.clone()),
        json::Json::Array(a) => Value::Array(a.iter().map(from_json).collect()),
        json::Json::Object(m) => Value::Table(
            m.into_iter()
                .map(|(k, v)| (k.clone(), from_json(v)))
                .collect(),
        ),
    }
}

/// The manifest reader: the root table, or the error as displayed.
pub fn toml(text: &str) -> Result<Value, String> {
    toml::parse(text)
        .map(|t| from_toml_table(&t))
        .map_err(|e| e.to_string())
}

/// What build-patch reads from an upstream manifest (the upstream fields and the
/// model of what Cargo builds, for a crate at a path with no files), as debug text.
pub fn manifest(text: &str) -> Result<String, String> {
    let path = std::path::Path::new("/nonexistent/Cargo.toml");
    let manifest = upstream::UpstreamManifest::parse(text, path, path.parent().unwrap())
        .map_err(|e| e.to_string())?;
    let doc = toml::parse(text).map_err(|e| e.to_string())?;
    Ok(format!("{manifest:?} {:?}", manifest::dev_only_deps(&doc)))
}

/// The `cargo metadata` reader: the value, or the error as displayed.
pub fn json(text: &str) -> Result<Value, String> {
    json::parse(text)
        .map(|j| from_json(&j))
        .map_err(|e| e.to_string())
}

/// What the root splitter made of a library root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The leading inner attributes: 1-based line, text.
    pub attrs: Vec<(usize, String)>,
    /// The `extern crate` items moved to the shim's root: line, text.
    pub extern_crates: Vec<(usize, String)>,
    /// The other top-level `extern crate` items: line, text.
    pub kept_extern_crates: Vec<(usize, String)>,
    /// Where the leading region ends (byte offset, byte order mark included).
    pub first_item: usize,
    /// The compile root.
    pub body: String,
}

/// The root splitter: the split, or the error as displayed.
pub fn split_root(text: &str) -> Result<Split, String> {
    let items = |v: Vec<root::ExternCrate>| v.into_iter().map(|e| (e.line, e.text)).collect();
    root::split_root(text)
        .map(|s| Split {
            attrs: s.attrs.into_iter().map(|a| (a.line, a.text)).collect(),
            extern_crates: items(s.extern_crates),
            kept_extern_crates: items(s.kept_extern_crates),
            first_item: s.first_item,
            body: s.body,
        })
        .map_err(|e| e.to_string())
}

/// The build-script reader: the file references it finds (as debug text) and the
/// script with its `fn main` renamed, or the errors.
pub fn build_script(text: &str) -> (Result<Vec<String>, String>, Result<String, String>) {
    build_script::fuzz_entry(text)
}
