//! Does the shim's `Cargo.toml` say what the patched upstream `Cargo.toml`
//! says?
//!
//! Cargo resolves a shim's dependencies and features from the shim's own
//! manifest, never from the staged copy, so a patch that changes the
//! upstream `Cargo.toml` (relaxing a requirement, dropping a dependency)
//! would otherwise change nothing. The build script compares the parts that
//! decide what Cargo builds and fails, with a readable list, when they
//! differ. `cargo build-patch sync` regenerates the shim's manifest.
//!
//! Compared: the edition; the library's name (graph-wide shims only: its
//! dependents refer to it by that name) and kind (`proc-macro`); `links`;
//! the `[features]` table; every normal dependency, target-specific ones
//! included, by name in code, package, requirement, `optional`,
//! `default-features` and `features`; every build-dependency the same way
//! (the shim compiles the upstream build script, see `build_script`), except
//! the shim's own `build-patch`, which must instead enable
//! [`BUILD_SCRIPT_FEATURE`] when the patched upstream has a build script.
//! Not compared: dev-dependencies (never built for a dependency), metadata.
//! The `build` key is checked with the build script itself.

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;

use crate::map::{Map, Set};
use crate::toml::{self, Table, Value};

/// What a manifest says about how Cargo builds the package.
#[cfg_attr(any(test, feature = "__fuzz"), derive(Debug))]
#[cfg_attr(any(test, feature = "generate"), derive(Default))]
#[cfg_attr(test, derive(Clone, PartialEq, Eq))]
pub(crate) struct Model {
    pub name: String,
    pub edition: String,
    pub lib_name: String,
    pub proc_macro: bool,
    pub links: Option<String>,
    pub features: Map<String, Set<String>>,
    pub deps: Map<DepKey, Dep>,
    /// `[package] build`, when set.
    pub build: Option<BuildSetting>,
    /// The features a shim enables on its `build-patch` build-dependency (of
    /// `[build-dependencies]`, not of a target's); empty for an upstream.
    pub build_patch_features: Set<String>,
}

/// The `build` key of `[package]`.
#[cfg_attr(any(test, feature = "__fuzz"), derive(Debug))]
#[cfg_attr(test, derive(Clone, PartialEq, Eq))]
pub(crate) enum BuildSetting {
    /// `build = "path"`.
    Path(String),
    /// `build = false`.
    Off,
}

/// The dependency tables a model compares.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(any(test, feature = "__fuzz"), derive(Debug))]
pub(crate) enum DepKind {
    Normal,
    Build,
}

impl DepKind {
    fn table(self) -> &'static str {
        match self {
            DepKind::Normal => "dependencies",
            DepKind::Build => "build-dependencies",
        }
    }
}

/// The shim's own build-dependency, which the upstream does not have.
pub(crate) const BUILD_PATCH: &str = "build-patch";

/// The feature of build-patch that runs the patched upstream build script: a
/// shim whose upstream has one must enable it on its `build-patch`
/// build-dependency, since Cargo decides build-patch's features from the
/// shim's manifest.
pub(crate) const BUILD_SCRIPT_FEATURE: &str = "upstream-build-script";

/// A dependency's identity: its table and the name the code uses.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(any(test, feature = "__fuzz"), derive(Debug))]
#[cfg_attr(test, derive(Clone))]
pub(crate) struct DepKey {
    pub kind: DepKind,
    /// `None` for `[dependencies]`, else the `cfg(...)` or triple of
    /// `[target.'...'.dependencies]`.
    pub target: Option<String>,
    pub name: String,
}

impl fmt::Display for DepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.kind.table();
        match &self.target {
            None => write!(f, "[{table}] `{}`", self.name),
            Some(t) => write!(f, "[target.'{t}'.{table}] `{}`", self.name),
        }
    }
}

/// What is asked of one dependency.
#[derive(Default)]
#[cfg_attr(any(test, feature = "__fuzz"), derive(Debug))]
#[cfg_attr(test, derive(Clone, PartialEq, Eq))]
pub(crate) struct Dep {
    /// The package, when it differs from the name in code (`package = ...`).
    pub package: Option<String>,
    /// The requirement, normalised (`1.0` is `^1.0`).
    pub req: String,
    pub optional: bool,
    pub default_features: bool,
    pub features: Set<String>,
    /// Where it comes from when not by `path`, for messages: empty for
    /// crates.io, else ``git `URL` tag `T` ``, ``registry `NAME` `` and the like.
    pub source: String,
    /// A `path` dependency. In a shim, a local copy the shim points at on
    /// purpose (an override the build accepts): its package, requirement
    /// and source are not compared. In an upstream, a sibling of its
    /// repository, which a shim names otherwise (by `git`, or by version
    /// only): its source is not compared.
    pub path: bool,
}

/// Reads the model of a manifest.
pub(crate) fn model(doc: &Table) -> Model {
    let s = |keys: &[&str]| {
        toml::get(doc, keys)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let name = s(&["package", "name"]).unwrap_or_default();
    let lib_name = s(&["lib", "name"]).unwrap_or_else(|| underscored(&name));
    // `proc-macro = true`, else (as Cargo reads it) `crate-type =
    // ["proc-macro"]`.
    let proc_macro = match doc.get("lib") {
        Some(Value::Table(lib)) => match spelled(lib, "proc-macro") {
            Some(v) => v.as_bool() == Some(true),
            None => match spelled(lib, "crate-type") {
                Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some("proc-macro")),
                _ => false,
            },
        },
        _ => false,
    };
    let mut deps = Deps::default();
    for kind in [DepKind::Normal, DepKind::Build] {
        read_deps(spelled(doc, kind.table()), kind, None, &mut deps);
        if let Some(Value::Table(targets)) = doc.get("target") {
            for (target, t) in targets {
                if let Value::Table(t) = t {
                    read_deps(spelled(t, kind.table()), kind, Some(target), &mut deps);
                }
            }
        }
    }
    let build = match toml::get(doc, &["package", "build"]) {
        Some(Value::String(p)) => Some(BuildSetting::Path(p.clone())),
        Some(Value::Boolean(false)) => Some(BuildSetting::Off),
        _ => None,
    };
    let dev_only = dev_only_deps(doc);
    let mut features = Map::new();
    if let Some(Value::Table(t)) = doc.get("features") {
        for (k, v) in t {
            let mut items = Set::new();
            if let Some(a) = v.as_array() {
                for item in a {
                    let Some(item) = item.as_str() else { continue };
                    if let Some(d) = feature_item_dep(item) {
                        if dev_only.contains(d) {
                            continue;
                        }
                    }
                    items.insert(item.to_string());
                }
            }
            features.insert(k.clone(), items);
        }
    }
    Model {
        edition: s(&["package", "edition"]).unwrap_or_else(|| "2015".to_string()),
        lib_name,
        proc_macro,
        links: s(&["package", "links"]),
        features,
        deps: deps.compared,
        build,
        build_patch_features: deps.build_patch_features,
        name,
    }
}

/// The dependencies of a manifest, as [`read_deps`] sorts them.
#[derive(Default)]
struct Deps {
    compared: Map<DepKey, Dep>,
    build_patch_features: Set<String>,
}

/// Of a manifest key (hyphenated: `build-dependencies`) and its old
/// underscored spelling (`build_dependencies`), the one Cargo reads in a
/// table that `has` the keys given: the hyphenated one when the table has
/// it (Cargo warns that the other is redundant), else the underscored one
/// when it has that, else the hyphenated. The one rule: the readers here and
/// the CLI's editor (through `generate`) both use it.
pub(crate) fn spelling(key: &str, has: &dyn Fn(&str) -> bool) -> String {
    if !has(key) {
        let old = underscored(key);
        if has(&old) {
            return old;
        }
    }
    key.to_string()
}

/// The value of `key` in `table`, under the spelling Cargo reads
/// ([`spelling`]).
fn spelled<'a>(table: &'a Table, key: &str) -> Option<&'a Value> {
    table.get(&spelling(key, &|k| table.contains_key(k)))
}

/// The dependency a feature item refers to: `dep:x`, `x/feat` and `x?/feat`
/// name `x`; a plain feature name names none.
pub(crate) fn feature_item_dep(item: &str) -> Option<&str> {
    if let Some(dep) = item.strip_prefix("dep:") {
        return Some(dep);
    }
    let (dep, _) = item.split_once('/')?;
    Some(dep.strip_suffix('?').unwrap_or(dep))
}

/// Names that are dev-dependencies and nothing else. Cargo lets a registry
/// crate's features enable features of its dev-dependencies (used by its own
/// tests); a shim has no dev-dependencies, so such feature items are dropped
/// on both sides of the comparison, and by the generator.
pub(crate) fn dev_only_deps(doc: &Table) -> Set<String> {
    fn add_names(set: &mut Set<String>, table: Option<&Value>) {
        if let Some(Value::Table(t)) = table {
            for (name, _) in t {
                set.insert(name.clone());
            }
        }
    }
    let mut dev: Set<String> = Set::new();
    let mut other: Set<String> = Set::new();
    for (key, is_dev) in [
        ("dev-dependencies", true),
        ("dependencies", false),
        ("build-dependencies", false),
    ] {
        let set = if is_dev { &mut dev } else { &mut other };
        add_names(set, spelled(doc, key));
        if let Some(Value::Table(targets)) = doc.get("target") {
            for (_, t) in targets {
                if let Value::Table(t) = t {
                    add_names(set, spelled(t, key));
                }
            }
        }
    }
    let mut only = Set::new();
    for d in &dev {
        if !other.contains(d) {
            only.insert(d.clone());
        }
    }
    only
}

fn read_deps(table: Option<&Value>, kind: DepKind, target: Option<&str>, out: &mut Deps) {
    let Some(Value::Table(table)) = table else {
        return;
    };
    for (name, spec) in table {
        if kind == DepKind::Build && name == BUILD_PATCH {
            // Only the table every host reads: one of a target would leave
            // the feature off elsewhere.
            if let (None, Value::Table(t)) = (target, spec) {
                for f in &string_set(t.get("features")) {
                    out.build_patch_features.insert(f.clone());
                }
            }
            continue;
        }
        let key = DepKey {
            kind,
            target: target.map(str::to_string),
            name: name.clone(),
        };
        let dep = match spec {
            Value::String(req) => Dep {
                req: normalize_req(req),
                default_features: true,
                ..Dep::default()
            },
            Value::Table(t) => {
                let b = |k: &str| t.get(k).and_then(Value::as_bool);
                Dep {
                    package: t.get("package").and_then(Value::as_str).map(str::to_string),
                    req: normalize_req(t.get("version").and_then(Value::as_str).unwrap_or("*")),
                    optional: b("optional").unwrap_or(false),
                    default_features: spelled(t, "default-features")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                    features: string_set(t.get("features")),
                    source: source_of(t),
                    path: t.contains_key("path"),
                }
            }
            _ => continue,
        };
        out.compared.insert(key, dep);
    }
}

/// Where a dependency table says the dependency comes from, but for `path`
/// (see [`Dep::source`]).
fn source_of(t: &Table) -> String {
    let mut out = String::new();
    for k in ["git", "rev", "tag", "branch", "registry", "registry-index"] {
        if let Some(v) = t.get(k).and_then(Value::as_str) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(k);
            out.push_str(" `");
            out.push_str(v);
            out.push('`');
        }
    }
    out
}

/// The strings of an array.
fn string_set(value: Option<&Value>) -> Set<String> {
    let mut out = Set::new();
    if let Some(Value::Array(items)) = value {
        for item in items {
            if let Some(s) = item.as_str() {
                out.insert(s.to_string());
            }
        }
    }
    out
}

/// `1.0` and `^1.0` ask the same; so do `>= 0.8` and `>=0.8`.
pub(crate) fn normalize_req(req: &str) -> String {
    let mut out = String::new();
    for (i, part) in req.split(',').enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let start = out.len();
        for c in part.chars() {
            if !c.is_whitespace() {
                out.push(c);
            }
        }
        if out[start..].starts_with(|c: char| c.is_ascii_digit()) {
            out.insert(start, '^');
        }
    }
    out
}

/// The differences between the patched upstream manifest and the shim's, one
/// line each; empty when the shim builds what the upstream would.
/// One way the shim's manifest differs from the patched upstream's: what
/// differs, and the line that says it.
pub(crate) struct Difference<'a> {
    #[cfg_attr(not(feature = "generate"), allow(dead_code))] // read by `generate`
    pub field: Field<'a>,
    pub text: String,
}

impl<'a> Difference<'a> {
    fn new(field: Field<'a>, text: String) -> Difference<'a> {
        Difference { field, text }
    }
}

/// What differs.
#[cfg_attr(not(feature = "generate"), allow(dead_code))] // read by `generate`
pub(crate) enum Field<'a> {
    Edition,
    LibName,
    ProcMacro,
    Links,
    /// A feature, by name.
    Feature(&'a str),
    /// A dependency.
    Dependency(&'a DepKey),
    /// The shim's `build-patch` build-dependency lacks
    /// [`BUILD_SCRIPT_FEATURE`].
    BuildScriptFeature,
}

/// `name` with `_` for each `-`, as Cargo makes a library name.
fn underscored(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        out.push(if c == '-' { '_' } else { c });
    }
    out
}

pub(crate) fn compare<'a>(
    upstream: &'a Model,
    upstream_script: Option<&Path>,
    shim: &'a Model,
) -> Vec<Difference<'a>> {
    let mut out = Vec::new();
    let graph_wide = upstream.name == shim.name;
    if upstream.edition != shim.edition {
        let (u, s) = (ticked(&upstream.edition), ticked(&shim.edition));
        out.push(Difference::new(Field::Edition, pair("edition:", &u, &s)));
    }
    if graph_wide && upstream.lib_name != shim.lib_name {
        let text = format!(
            "[lib] name: upstream `{}`, the shim `{}` (its dependents use the upstream's)",
            upstream.lib_name, shim.lib_name
        );
        out.push(Difference::new(Field::LibName, text));
    }
    if upstream.proc_macro != shim.proc_macro {
        let (u, s) = (ticked(&upstream.proc_macro), ticked(&shim.proc_macro));
        out.push(Difference::new(
            Field::ProcMacro,
            pair("[lib] proc-macro:", &u, &s),
        ));
    }
    if upstream.links != shim.links {
        let (u, s) = (show_opt(&upstream.links), show_opt(&shim.links));
        out.push(Difference::new(Field::Links, pair("links:", &u, &s)));
    }
    for (name, in_upstream, in_shim) in side_by_side(&upstream.features, &shim.features) {
        let text = match (in_upstream, in_shim) {
            (Some(u), Some(s)) if u != s => pair(
                &format!("[features] `{name}`:"),
                &show_list(u),
                &show_list(s),
            ),
            (Some(u), None) => format!(
                "[features] `{name}`: missing in the shim (upstream: {})",
                show_list(u)
            ),
            (None, Some(_)) => format!("[features] `{name}`: not in the upstream"),
            _ => continue,
        };
        out.push(Difference::new(Field::Feature(name), text));
    }
    for (key, in_upstream, in_shim) in side_by_side(&upstream.deps, &shim.deps) {
        let text = match (in_upstream, in_shim) {
            (Some(u), Some(s)) => match compare_dep(u, s) {
                Some(diffs) => format!("{key}: {diffs}"),
                None => continue,
            },
            (Some(u), None) => {
                format!("{key}: missing in the shim (upstream requires `{}`)", u.req)
            }
            (None, Some(_)) => format!("{key}: not in the upstream"),
            (None, None) => continue,
        };
        out.push(Difference::new(Field::Dependency(key), text));
    }
    if let Some(script) = upstream_script {
        if !shim.build_patch_features.contains(BUILD_SCRIPT_FEATURE) {
            let text = format!(
                "[build-dependencies] `{BUILD_PATCH}`: feature `{BUILD_SCRIPT_FEATURE}` missing \
                 (the patched upstream has a build script, `{}`, which build-patch runs only \
                 with that feature)",
                script.display()
            );
            out.push(Difference::new(Field::BuildScriptFeature, text));
        }
    }
    out
}

/// How the shim's `s` differs from the upstream's `u` of one dependency, `; `
/// between the differences, or `None` if it does not.
fn compare_dep(u: &Dep, s: &Dep) -> Option<String> {
    let mut line = String::new();
    let mut add = |diff: String| {
        if !line.is_empty() {
            line.push_str("; ");
        }
        line.push_str(&diff);
    };
    // A shim's `path` dependency is a deliberate override; an upstream's,
    // a sibling that a shim names by `git` or by version.
    if !s.path && !u.path && u.source != s.source {
        let show = |source: &str| match source {
            "" => "crates.io".to_string(),
            s => s.to_string(),
        };
        add(pair("source", &show(&u.source), &show(&s.source)));
    }
    if !s.path && u.req != s.req {
        add(pair("requirement", &ticked(&u.req), &ticked(&s.req)));
    }
    if !s.path && u.package != s.package {
        add(pair(
            "package",
            &show_opt(&u.package),
            &show_opt(&s.package),
        ));
    }
    if u.optional != s.optional {
        add(pair("optional", &ticked(&u.optional), &ticked(&s.optional)));
    }
    if u.default_features != s.default_features {
        add(pair(
            "default-features",
            &ticked(&u.default_features),
            &ticked(&s.default_features),
        ));
    }
    if u.features != s.features {
        add(pair(
            "features",
            &show_list(&u.features),
            &show_list(&s.features),
        ));
    }
    (!line.is_empty()).then_some(line)
}

/// `HEAD upstream U, the shim S`.
fn pair(head: &str, u: &str, s: &str) -> String {
    format!("{head} upstream {u}, the shim {s}")
}

/// `value` in backquotes.
fn ticked(value: &dyn fmt::Display) -> String {
    format!("`{value}`")
}

/// Every key of two maps, in order, with its value in each: both maps are
/// sorted, so one walk side by side (no set of the keys to build).
fn side_by_side<'a, K: Ord, V>(a: &'a Map<K, V>, b: &'a Map<K, V>) -> SideBySide<'a, K, V> {
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    SideBySide {
        x: a.next(),
        y: b.next(),
        a,
        b,
    }
}

/// See [`side_by_side`].
struct SideBySide<'a, K, V> {
    a: <&'a Map<K, V> as IntoIterator>::IntoIter,
    b: <&'a Map<K, V> as IntoIterator>::IntoIter,
    x: Option<&'a (K, V)>,
    y: Option<&'a (K, V)>,
}

impl<'a, K: Ord, V> Iterator for SideBySide<'a, K, V> {
    type Item = (&'a K, Option<&'a V>, Option<&'a V>);

    fn next(&mut self) -> Option<Self::Item> {
        let item = match (self.x, self.y) {
            (None, None) => return None,
            (Some((k, v)), None) => (k, Some(v), None),
            (None, Some((k, v))) => (k, None, Some(v)),
            (Some((xk, xv)), Some((yk, yv))) => match xk.cmp(yk) {
                Ordering::Less => (xk, Some(xv), None),
                Ordering::Greater => (yk, None, Some(yv)),
                Ordering::Equal => (xk, Some(xv), Some(yv)),
            },
        };
        if item.1.is_some() {
            self.x = self.a.next();
        }
        if item.2.is_some() {
            self.y = self.b.next();
        }
        Some(item)
    }
}

fn show_opt(v: &Option<String>) -> String {
    match v {
        Some(v) => ticked(v),
        None => "none".to_string(),
    }
}

fn show_list(items: &Set<String>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!("{item:?}"));
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Model {
        model(&toml::parse(text).unwrap())
    }

    /// `check(upstream, shim, expected lines)`.
    fn check(upstream: &str, shim: &str, expected: &[&str]) {
        let (upstream_model, shim_model) = (m(upstream), m(shim));
        let got: Vec<String> = compare(&upstream_model, None, &shim_model)
            .into_iter()
            .map(|d| d.text)
            .collect();
        assert_eq!(got, expected, "\nupstream:\n{upstream}\nshim:\n{shim}");
    }

    const UP: &str = r#"
[package]
name = "foo"
version = "1.0.0"
edition = "2018"
links = "foo"
[features]
default = ["std"]
std = ["dep:serde", "log?/std"]
[dependencies]
serde = { version = "1.0.100", optional = true, default-features = false, features = ["derive"] }
log = { version = ">= 0.4", optional = true }
[target.'cfg(unix)'.dependencies]
libc = "0.2"
[dev-dependencies]
tempfile = "3"
"#;

    #[test]
    fn equal_manifests_have_no_differences() {
        // Formatting, `^`, spacing, key spelling, dev-dependencies and the
        // shim's own build-dependencies do not count.
        let shim = r#"
[package]
name = "foo"
version = "1.0.0"
edition = "2018"
links = "foo"
publish = false
[features]
std = ["log?/std", "dep:serde"]
default = ["std"]
[dependencies.serde]
version = "^1.0.100"
optional = true
default_features = false
features = ["derive"]
[dependencies]
log = { version = ">=0.4", optional = true }
[target."cfg(unix)".dependencies]
libc = "^0.2"
[build-dependencies]
build-patch = "0.1"
"#;
        check(UP, shim, &[]);
    }

    #[test]
    fn each_difference_is_one_line() {
        check(
            UP,
            r#"
[package]
name = "foo"
edition = "2021"
[features]
default = []
extra = []
[dependencies]
serde = { version = "1.0.90", features = ["derive", "rc"] }
log = { version = ">= 0.4", optional = true }
rand = "0.8"
"#,
            &[
                "edition: upstream `2018`, the shim `2021`",
                "links: upstream `foo`, the shim none",
                "[features] `default`: upstream [\"std\"], the shim []",
                "[features] `extra`: not in the upstream",
                "[features] `std`: missing in the shim (upstream: [\"dep:serde\", \"log?/std\"])",
                "[dependencies] `rand`: not in the upstream",
                "[dependencies] `serde`: requirement upstream `^1.0.100`, the shim `^1.0.90`; \
                 optional upstream `true`, the shim `false`; default-features upstream `false`, \
                 the shim `true`; features upstream [\"derive\"], the shim [\"derive\", \"rc\"]",
                "[target.'cfg(unix)'.dependencies] `libc`: missing in the shim (upstream requires `^0.2`)",
            ],
        );
    }

    #[test]
    fn build_dependencies_count_except_build_patch() {
        let up = "[package]\nname = \"s\"\nbuild = \"build/main.rs\"\n[build-dependencies]\ncc = \"1.0\"\n\
                  [target.'cfg(windows)'.build-dependencies]\nvcpkg = \"0.2\"\n";
        check(
            up,
            "[package]\nname = \"s\"\n[build-dependencies]\nbuild-patch = \"0.1\"\ncc = \"1.1\"\n",
            &[
                "[build-dependencies] `cc`: requirement upstream `^1.0`, the shim `^1.1`",
                "[target.'cfg(windows)'.build-dependencies] `vcpkg`: missing in the shim (upstream requires `^0.2`)",
            ],
        );
        check(
            up,
            "[package]\nname = \"s\"\n[build-dependencies]\nbuild-patch = { path = \"../bp\" }\ncc = \"1.0\"\n\
             [target.\"cfg(windows)\".build-dependencies]\nvcpkg = \"^0.2\"\n",
            &[],
        );
        assert_eq!(
            m(up).build,
            Some(BuildSetting::Path("build/main.rs".into()))
        );
        assert_eq!(
            m("[package]\nbuild = false\n").build,
            Some(BuildSetting::Off)
        );
    }

    /// The build-patch feature that runs the upstream build script, which
    /// Cargo enables from the shim's own `[build-dependencies]` only.
    #[test]
    fn an_upstream_build_script_needs_the_feature_on_build_patch() {
        let up = m("[package]\nname = \"s\"\n");
        let differences = |shim: &str, script: Option<&str>| -> Vec<String> {
            let shim = m(shim);
            compare(&up, script.map(Path::new), &shim)
                .into_iter()
                .map(|d| d.text)
                .collect()
        };
        let missing = "[build-dependencies] `build-patch`: feature `upstream-build-script` \
                       missing (the patched upstream has a build script, `build.rs`, which \
                       build-patch runs only with that feature)";
        for shim in [
            "[package]\nname = \"s\"\n[build-dependencies]\nbuild-patch = \"0.1\"\n",
            "[package]\nname = \"s\"\n[build-dependencies]\n\
             build-patch = { path = \"../bp\", features = [\"other\"] }\n",
            // Another host would build without it.
            "[package]\nname = \"s\"\n[target.'cfg(unix)'.build-dependencies]\n\
             build-patch = { version = \"0.1\", features = [\"upstream-build-script\"] }\n",
        ] {
            assert_eq!(differences(shim, Some("build.rs")), [missing], "{shim}");
            assert!(differences(shim, None).is_empty(), "{shim}");
        }
        let enabled = "[package]\nname = \"s\"\n[build_dependencies]\n\
                       build-patch = { version = \"0.1\", features = [\"upstream-build-script\"] }\n";
        assert!(differences(enabled, Some("build.rs")).is_empty());
    }

    /// Of a key's two spellings, Cargo reads the hyphenated one and ignores
    /// the other (checked with cargo 1.95: `cargo metadata` lists no
    /// dependency of an ignored `[build_dependencies]`, and `proc-macro =
    /// false` beats `proc_macro = true`).
    #[test]
    fn the_hyphenated_spelling_wins_as_in_cargo() {
        let both = m("[package]\nname = \"s\"\n[build-dependencies]\ncc = \"1\"\n\
                      [build_dependencies]\nhelper = \"1\"\n\
                      [target.'cfg(unix)'.build_dependencies]\nlibc = \"0.2\"\n\
                      [lib]\nproc-macro = false\nproc_macro = true\n\
                      [dependencies]\nd = { version = \"1\", default-features = true, default_features = false }\n");
        let names: Vec<String> = both.deps.keys().map(|k| k.to_string()).collect();
        assert_eq!(
            names,
            [
                "[dependencies] `d`",
                "[build-dependencies] `cc`",
                "[target.'cfg(unix)'.build-dependencies] `libc`"
            ]
        );
        assert!(!both.proc_macro);
        assert!((&both.deps).into_iter().all(|(_, d)| d.default_features));
        // The old spelling alone still counts.
        for (lib, proc_macro) in [
            ("crate-type = [\"proc-macro\"]", true),
            ("crate_type = [\"rlib\", \"proc-macro\"]", true),
            ("proc-macro = false\ncrate-type = [\"proc-macro\"]", false),
            ("crate-type = [\"rlib\"]", false),
        ] {
            assert_eq!(
                m(&format!("[lib]\n{lib}\n")).proc_macro,
                proc_macro,
                "{lib}"
            );
        }
        let old = m("[package]\nname = \"s\"\n[build_dependencies]\nhelper = \"1\"\n[lib]\nproc_macro = true\n");
        assert_eq!(old.deps.keys().count(), 1);
        assert!(old.proc_macro);
    }

    #[test]
    fn lib_name_counts_only_for_graph_wide_shims() {
        let up = "[package]\nname = \"foo-rs\"\n[lib]\nname = \"foo\"\n";
        check(
            up,
            "[package]\nname = \"foo-rs\"\n",
            &["[lib] name: upstream `foo`, the shim `foo_rs` (its dependents use the upstream's)"],
        );
        check(
            up,
            "[package]\nname = \"foo-rs\"\n[lib]\nname = \"foo\"\n",
            &[],
        );
        check(up, "[package]\nname = \"foo-patched\"\n", &[]);
        check(
            "[package]\nname = \"m\"\n[lib]\nproc-macro = true\n",
            "[package]\nname = \"m\"\n",
            &["[lib] proc-macro: upstream `true`, the shim `false`"],
        );
    }

    #[test]
    fn a_local_dependency_in_the_shim_is_a_deliberate_override() {
        check(
            "[package]\nname = \"a\"\n[dependencies]\nb = \"1.2\"\n",
            "[package]\nname = \"a\"\n[dependencies]\nb = { package = \"b-patched\", path = \"../b\" }\n",
            &[],
        );
    }

    /// Where a dependency comes from is compared, but for a shim's `path`
    /// (an override) and an upstream's (a sibling in its repository): a
    /// shim left on a git fork after the patch that asked for it was
    /// dropped is refused.
    #[test]
    fn the_source_of_a_dependency_counts() {
        let up = |dep: &str| format!("[package]\nname = \"a\"\n[dependencies]\nb = {dep}\n");
        check(
            &up("\"1\""),
            &up("{ git = \"https://example.com/fork\" }"),
            &["[dependencies] `b`: source upstream crates.io, the shim git `https://example.com/fork`; \
               requirement upstream `^1`, the shim `*`"],
        );
        check(
            &up("{ git = \"https://e.com/b\", rev = \"2\" }"),
            &up("{ git = \"https://e.com/b\", branch = \"main\" }"),
            &[
                "[dependencies] `b`: source upstream git `https://e.com/b` rev `2`, the shim git \
               `https://e.com/b` branch `main`",
            ],
        );
        check(
            &up("{ version = \"1\", registry-index = \"sparse+https://r/\" }"),
            &up("\"1\""),
            &[
                "[dependencies] `b`: source upstream registry-index `sparse+https://r/`, the shim \
               crates.io",
            ],
        );
        // An upstream's sibling by path, which the shim names by git.
        check(
            &up("{ path = \"../b\" }"),
            &up("{ git = \"https://e.com/repo\", tag = \"v1\" }"),
            &[],
        );
        check(
            &up("{ git = \"https://e.com/b\", tag = \"v1\", version = \"1\" }"),
            &up("{ version = \"1\", git = \"https://e.com/b\", tag = \"v1\" }"),
            &[],
        );
    }

    #[test]
    fn feature_items_of_dev_only_dependencies_do_not_count() {
        // hashbrown 0.15: `nightly = ["bumpalo/allocator_api"]`, bumpalo a
        // dev-dependency.
        check(
            "[package]\nname = \"h\"\n[features]\nnightly = [\"bumpalo/allocator_api\", \"x\"]\nx = []\n\
             [dev-dependencies]\nbumpalo = \"3\"\n",
            "[package]\nname = \"h\"\n[features]\nnightly = [\"x\"]\nx = []\n",
            &[],
        );
        assert_eq!(feature_item_dep("dep:a"), Some("a"));
        assert_eq!(feature_item_dep("a?/f"), Some("a"));
        assert_eq!(feature_item_dep("a/f"), Some("a"));
        assert_eq!(feature_item_dep("std"), None);
    }

    #[test]
    fn requirements_normalise() {
        for (a, b) in [
            ("1.0", "^1.0"),
            (">= 0.8", ">=0.8"),
            (">=1, <2", ">= 1,<2"),
            ("=1.2.3", "= 1.2.3"),
        ] {
            assert_eq!(normalize_req(a), normalize_req(b), "{a} vs {b}");
        }
        assert_ne!(normalize_req(">=0.8"), normalize_req("0.8"));
    }
}
