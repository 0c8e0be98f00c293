//! Writing a shim: its `src/lib.rs` and its build script, from the patched
//! upstream. Only `cargo build-patch` (`new`, `sync`) needs this; it is
//! compiled with the `generate` feature, which a shim's build never enables.

use std::path::{Path, PathBuf};

use crate::config::{ShimManifest, VersionMismatch};
use crate::error::{Error, ErrorKind, Result};
use crate::{build_script, config, manifest, root, Output};

/// The name of build-patch's package: the build-dependency every shim has,
/// which the shim's manifest has and the upstream's does not.
pub const BUILD_PATCH: &str = crate::manifest::BUILD_PATCH;

/// The feature of build-patch that runs the patched upstream build script:
/// a shim whose upstream crate has a build script enables it on its
/// [`BUILD_PATCH`] build-dependency, and its build refuses it otherwise.
pub const BUILD_SCRIPT_FEATURE: &str = crate::manifest::BUILD_SCRIPT_FEATURE;

/// The file name of the compile root build-patch writes beside the patched
/// upstream library root in the staged copy (`src/.build-patch-root.rs`):
/// not part of the upstream, so never part of a patch.
pub const ROOT_FILE: &str = crate::stage::ROOT_FILE;

/// A shim's `Cargo.toml` as a shim's build reads it: its package and its
/// `[package.metadata.build-patch]` table, validated as the build validates
/// it. Every `None` is a key the manifest does not set.
pub struct ShimSettings {
    manifest: ShimManifest,
}

/// Reads a shim manifest's text (a shim's `Cargo.toml`) as the shim's
/// build does, with the build's errors (a bad `patches` entry, an unknown
/// key, two git references, ...); `manifest_path` only names it in messages.
///
/// ```
/// let text = "[package]\nname = 'shlex'\nversion = '1.1.0'\n\
///             [package.metadata.build-patch]\npatches = ['patches/']\nstrip = 0\n";
/// let shim = build_patch::parse_shim_settings(text, "Cargo.toml".as_ref())?;
/// assert_eq!(shim.package_name(), Some("shlex"));
/// assert_eq!(shim.patches(), Some(&["patches/".into()][..]));
/// assert_eq!((shim.strip(), shim.fuzz()), (Some(0), None));
/// let bad = "[package.metadata.build-patch]\npatches = [1]\n";
/// assert!(build_patch::parse_shim_settings(bad, "Cargo.toml".as_ref()).is_err());
/// # Ok::<(), build_patch::Error>(())
/// ```
pub fn parse_shim_settings(text: &str, manifest_path: &Path) -> Result<ShimSettings> {
    let manifest = config::parse_shim_manifest(text, manifest_path)?;
    // What the build refuses before staging: two sources at once, a git
    // reference without `git`.
    manifest.settings.remote(manifest_path)?;
    Ok(ShimSettings { manifest })
}

impl ShimSettings {
    /// Whether the manifest has a `[package.metadata.build-patch]` table
    /// (without one, it is not a shim, though every key has a default).
    pub fn has_table(&self) -> bool {
        self.manifest.has_table
    }

    /// `[package] name`, when written as a plain string.
    pub fn package_name(&self) -> Option<&str> {
        self.manifest.name.as_deref()
    }

    /// `[package] version`, when written as a plain string.
    pub fn package_version(&self) -> Option<&str> {
        self.manifest.version.as_deref()
    }

    /// `crate`: the upstream package (default: the package's name).
    pub fn crate_name(&self) -> Option<&str> {
        self.manifest.settings.crate_name.as_deref()
    }

    /// `version`: the upstream version (default: the package's version).
    pub fn version(&self) -> Option<&str> {
        self.manifest.settings.version.as_deref()
    }

    /// `patches`, as written (relative to the shim's directory); a single
    /// string is a list of one.
    pub fn patches(&self) -> Option<&[PathBuf]> {
        self.manifest.settings.patches.as_deref()
    }

    /// `strip` (default 1).
    pub fn strip(&self) -> Option<usize> {
        self.manifest.settings.strip
    }

    /// `fuzz` (default 0).
    pub fn fuzz(&self) -> Option<usize> {
        self.manifest.settings.fuzz
    }

    /// `source`, as written.
    pub fn source(&self) -> Option<&Path> {
        self.manifest.settings.source.as_deref()
    }

    /// `git`.
    pub fn git(&self) -> Option<&str> {
        self.manifest.settings.git.as_deref()
    }

    /// The git reference: `("rev" | "tag" | "branch", value)`.
    pub fn git_reference(&self) -> Option<(&'static str, &str)> {
        self.manifest
            .settings
            .git_ref
            .as_ref()
            .map(config::GitRef::key_value)
    }

    /// `registry`.
    pub fn registry(&self) -> Option<&str> {
        self.manifest.settings.registry.as_deref()
    }

    /// Whether `version-mismatch = "error"`.
    pub fn version_mismatch_is_error(&self) -> bool {
        self.manifest.settings.version_mismatch == Some(VersionMismatch::Error)
    }

    /// `[lib] path`, relative to the shim's directory (default `src/lib.rs`).
    pub fn lib_path(&self) -> &Path {
        &self.manifest.lib_path
    }
}

/// What differs between a shim's manifest and the patched upstream's (see
/// [`Output::compare_shim_manifest`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestField {
    /// `[package] edition`.
    Edition,
    /// `[lib] name` (compared for a graph-wide shim only).
    LibName,
    /// `[lib] proc-macro`.
    ProcMacro,
    /// `[package] links`.
    Links,
    /// A feature of `[features]`, by name.
    Feature(String),
    /// A dependency: of `[build-dependencies]` when `build`, else of
    /// `[dependencies]`; of `[target.'TARGET'.…]` when `target` is set; by
    /// its name in code.
    Dependency {
        /// A build-dependency.
        build: bool,
        /// The `cfg(...)` or triple of a target-specific table.
        target: Option<String>,
        /// The name the code uses (the key of the table).
        name: String,
    },
    /// The shim's own `build-patch` build-dependency does not enable
    /// [`BUILD_SCRIPT_FEATURE`], which running the patched upstream's build
    /// script needs.
    BuildScriptFeature,
}

/// One difference between a shim's manifest and the patched upstream's.
#[derive(Debug, Clone)]
pub struct ManifestDifference {
    field: ManifestField,
    text: String,
    local_override: bool,
}

impl ManifestDifference {
    /// What differs.
    pub fn field(&self) -> &ManifestField {
        &self.field
    }

    /// The line that says it, as the shim's build lists it (for example
    /// ``[dependencies] `serde`: requirement upstream `^1.0.100`, the shim `^1.0` ``).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the shim names this dependency by `path`: a deliberate
    /// override, a local copy, whose requirement, package and source the
    /// build does not compare (only `optional`, `default-features` and
    /// `features`), so a fix keeps them and where it comes from. False for
    /// any other field (a `git` dependency of the shim's is compared like
    /// any other: its repository and reference are its source).
    pub fn is_local_override(&self) -> bool {
        self.local_override
    }
}

/// Of a manifest key (`build-dependencies`, `default-features`) and its old
/// underscored spelling, the one Cargo reads in a table that `has` the keys
/// given, as the shim's build reads manifests: the hyphenated one when
/// present, else the underscored one when present, else the hyphenated.
///
/// ```
/// let has = |k: &str| k == "build_dependencies";
/// assert_eq!(build_patch::spelling_cargo_reads("build-dependencies", &has), "build_dependencies");
/// let both = |k: &str| k.starts_with("build");
/// assert_eq!(build_patch::spelling_cargo_reads("build-dependencies", &both), "build-dependencies");
/// ```
pub fn spelling_cargo_reads(key: &str, has: &dyn Fn(&str) -> bool) -> String {
    manifest::spelling(key, has)
}

/// Whether a file counts as executable for build-patch (staged with mode
/// 755, and `100755` in a git diff): any executable bit on Unix; never
/// elsewhere.
pub fn is_executable(meta: &std::fs::Metadata) -> bool {
    crate::stage::is_executable(meta)
}

impl Output {
    /// The files a shim needs to run the patched upstream build script,
    /// relative to the shim's directory: the script at the upstream's path
    /// with its `fn main` renamed and the glue that runs it appended, then
    /// the local files it reads at compile time (`mod` files, `include!`
    /// and friends), as they are. Without an upstream build script, the
    /// plain one-line `build.rs`. `existing_script` is the shim's current
    /// script, whose glue (what follows the marker line) is kept.
    /// What `cargo build-patch new` and `sync` write.
    pub fn shim_build_files(
        &self,
        existing_script: Option<&str>,
    ) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        match &self.build_script {
            None => Ok(vec![(
                PathBuf::from("build.rs"),
                build_script::PLAIN_BUILD_RS.as_bytes().to_vec(),
            )]),
            Some(script) => build_script::shim_files(
                &self.staged_dir,
                script,
                existing_script.and_then(build_script::existing_glue),
            ),
        }
    }

    /// Whether `text` is a build script written by [`Output::shim_build_files`]
    /// for an upstream build script (it has the marker line before the glue).
    pub fn is_generated_build_script(text: &str) -> bool {
        build_script::existing_glue(text).is_some()
    }

    /// The part of a shim's build script that calls build-patch: everything
    /// after the glue marker of a generated one (the upstream's code comes
    /// before it), else the whole text. For tools that read how a shim
    /// configures build-patch.
    pub fn build_script_glue(text: &str) -> &str {
        build_script::existing_glue(text).unwrap_or(text)
    }

    /// `existing` (a shim's `src/lib.rs`) with its compile-affecting
    /// crate-level attributes and its top-level `extern crate` items with
    /// `#[macro_use]` or a rename replaced
    /// by those of the patched upstream root, and everything else (comments,
    /// docs, lint attributes) kept. Returns `existing` unchanged when it
    /// already agrees.
    pub fn sync_shim_lib_rs(&self, existing: &str) -> Result<String> {
        let upstream = &self.upstream_root;
        let shim = split_shim_root(existing)?;
        let limit = root::shim_recursion_limit(upstream);
        let has_limit = shim
            .attrs
            .iter()
            .any(|a| root::normalized(&a.text) == root::normalized(&limit));
        if root::compare(upstream, &shim).is_none() && has_limit {
            return Ok(existing.to_string());
        }
        let attrs = shim.attrs.iter().filter(|a| a.affects_compilation);
        let upstream_attrs = upstream.attrs.iter().filter(|a| a.affects_compilation);
        let text = replace_items(
            existing,
            attrs.map(|a| a.text.as_str()),
            upstream_attrs
                .map(|a| a.text.as_str())
                .chain([limit.as_str()]),
            shim.first_item,
        );
        // Read again: the attributes moved the items. Plain `extern crate`
        // items the compile root keeps go too, where the shim repeats them.
        let shim = split_shim_root(&text)?;
        let mut repeated = Vec::new();
        root::repeated_kept_crates(upstream, &shim, &mut repeated);
        Ok(replace_items(
            &text,
            shim.extern_crates
                .iter()
                .map(|e| e.text.as_str())
                .chain(repeated),
            upstream.extern_crates.iter().map(|e| e.text.as_str()),
            shim.first_item,
        ))
    }

    /// How the shim manifest `text` differs from the patched upstream
    /// manifest in what Cargo builds: what a shim's build checks (and fails
    /// on, listing each [`ManifestDifference::text`]). Empty when they agree.
    /// `path` names the manifest in a parse error.
    pub fn compare_shim_manifest(
        &self,
        text: &str,
        path: &Path,
    ) -> Result<Vec<ManifestDifference>> {
        let shim = config::parse_shim_manifest(text, path)?;
        let mut out = Vec::new();
        let script = self.build_script.as_deref();
        for d in manifest::compare(&self.upstream_model, script, &shim.model) {
            let local_override = match d.field {
                manifest::Field::Dependency(key) => {
                    shim.model.deps.get(key).is_some_and(|d| d.path)
                }
                _ => false,
            };
            let field = match d.field {
                manifest::Field::Edition => ManifestField::Edition,
                manifest::Field::LibName => ManifestField::LibName,
                manifest::Field::ProcMacro => ManifestField::ProcMacro,
                manifest::Field::Links => ManifestField::Links,
                manifest::Field::Feature(name) => ManifestField::Feature(name.to_string()),
                manifest::Field::Dependency(key) => ManifestField::Dependency {
                    build: key.kind == manifest::DepKind::Build,
                    target: key.target.clone(),
                    name: key.name.clone(),
                },
                manifest::Field::BuildScriptFeature => ManifestField::BuildScriptFeature,
            };
            out.push(ManifestDifference {
                field,
                text: d.text,
                local_override,
            });
        }
        Ok(out)
    }

    /// Whether the patched upstream is a proc-macro crate as the build reads
    /// it (`proc-macro = true`, or `crate-type = ["proc-macro"]`): what a fix
    /// of [`ManifestField::ProcMacro`] writes.
    pub fn upstream_is_proc_macro(&self) -> bool {
        self.upstream_model.proc_macro
    }

    /// The items of the patched upstream's feature `name` as the build
    /// compares them, sorted: those that enable a dev-only dependency left
    /// out (a shim has no dev-dependencies). `None` when the upstream has no
    /// such feature. What a fix of [`ManifestField::Feature`] writes.
    pub fn upstream_feature_items(&self, name: &str) -> Option<Vec<&str>> {
        let items = self.upstream_model.features.get(name)?;
        Some(items.iter().map(String::as_str).collect())
    }

    /// The `src/lib.rs` a shim of this patched crate needs: the crate-level
    /// attributes of the patched upstream root that change compilation, its
    /// top-level `extern crate` items with `#[macro_use]` or a rename, and
    /// the `include!` line. What
    /// `cargo build-patch new` and `sync` write.
    pub fn shim_lib_rs(&self) -> Result<String> {
        Ok(shim_lib_rs(&self.upstream_root))
    }
}

fn split_shim_root(text: &str) -> Result<root::SplitRoot> {
    root::split_root(text)
        .map_err(|e| Error::new(ErrorKind::Root, format!("cannot read the shim's root: {e}")))
}

/// `text` with the items `old` (found in it, as written) removed, each with
/// its line break, and the items `new` inserted, one a line, where the first
/// removed one was, or else at `first_item` (where the shim's leading
/// attributes and comments end).
fn replace_items<'a>(
    text: &str,
    old: impl Iterator<Item = &'a str>,
    new: impl Iterator<Item = &'a str>,
    first_item: usize,
) -> String {
    let mut text = text.to_string();
    let mut insert_at = None;
    for item in old {
        if let Some(pos) = text.find(item) {
            let mut end = pos + item.len();
            if text[end..].starts_with("\r\n") {
                end += 2;
            } else if text[end..].starts_with('\n') {
                end += 1;
            }
            text.replace_range(pos..end, "");
            insert_at = Some(insert_at.map_or(pos, |p: usize| p.min(pos)));
        }
    }
    let at = insert_at.unwrap_or(first_item.min(text.len()));
    let block: String = new.map(|item| format!("{item}\n")).collect();
    text.insert_str(at, &block);
    text
}

/// The lints that are errors unless allowed (`rustc -W help`, rustc 1.95),
/// which `--cap-lints allow` silences for a registry dependency. A name an
/// older rustc does not know only raises `unknown_lints`, which the generated
/// root allows too.
const DENY_BY_DEFAULT_LINTS: &[&str] = &[
    "ambiguous_associated_items",
    "arithmetic_overflow",
    "binary_asm_labels",
    "bindings_with_variant_name",
    "conflicting_repr_hints",
    "dangerous_implicit_autorefs",
    "default_overrides_default_fields",
    "dependency_on_unit_never_type_fallback",
    "deref_nullptr",
    "elided_lifetimes_in_associated_constant",
    "enum_intrinsics_non_enums",
    "explicit_builtin_cfgs_in_flags",
    "ill_formed_attribute_input",
    "incomplete_include",
    "ineffective_unstable_trait_impl",
    "invalid_atomic_ordering",
    "invalid_from_utf8_unchecked",
    "invalid_macro_export_arguments",
    "invalid_null_arguments",
    "invalid_reference_casting",
    "invalid_type_param_default",
    "legacy_derive_helpers",
    "let_underscore_lock",
    "long_running_const_eval",
    "macro_expanded_macro_exports_accessed_by_absolute_paths",
    "mutable_transmutes",
    "named_asm_labels",
    "never_type_fallback_flowing_into_unsafe",
    "no_mangle_const_items",
    "out_of_scope_macro_calls",
    "overflowing_literals",
    "patterns_in_fns_without_body",
    "proc_macro_derive_resolution_fallback",
    "pub_use_of_private_extern_crate",
    "repr_transparent_non_zst_fields",
    "semicolon_in_expressions_from_macros",
    "soft_unstable",
    "text_direction_codepoint_in_comment",
    "text_direction_codepoint_in_literal",
    "unconditional_panic",
    "undropped_manually_drops",
    "unknown_crate_types",
    "useless_deprecated",
];

/// The text of a shim's `src/lib.rs` for this upstream root.
fn shim_lib_rs(upstream: &root::SplitRoot) -> String {
    let mut text = String::from(
        "// A build-patch shim: rustc compiles the patched upstream crate as this one.\n\
         // The crate-level attributes of the upstream root that change compilation\n\
         // (`include!` cannot carry them); the build checks they stay in sync.\n",
    );
    for a in upstream.attrs.iter().filter(|a| a.affects_compilation) {
        text.push_str(&a.text);
        text.push('\n');
    }
    text.push_str("// The upstream's recursion limit plus the two levels the `include!`s add.\n");
    text.push_str(&root::shim_recursion_limit(upstream));
    text.push('\n');
    text.push_str(
        "// Cargo caps the lints of registry dependencies (`--cap-lints allow`); a\n\
         // shim is a path dependency, so it allows them itself, deny-by-default\n\
         // ones included (such as `$crate::` paths to exported macros, which rustc\n\
         // refuses inside `include!` unless allowed).\n\
         #![allow(unknown_lints, renamed_and_removed_lints)]\n\
         #![allow(warnings, future_incompatible, rust_2024_compatibility)]\n",
    );
    // The deny-by-default lints, a few to a line.
    for names in DENY_BY_DEFAULT_LINTS.chunks(3) {
        text.push_str("#![allow(");
        text.push_str(&names.join(", "));
        text.push_str(")]\n");
    }
    text.push('\n');
    if !upstream.extern_crates.is_empty() {
        text.push_str(
            "// The upstream root's `extern crate` items with `#[macro_use]` or a rename,\n\
             // which rustc may refuse inside `include!` (a macro that shadows one in\n\
             // scope, a name that shadows an `--extern` one); the build checks they\n\
             // stay in sync.\n",
        );
        for e in &upstream.extern_crates {
            text.push_str(&e.text);
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str("include!(concat!(env!(\"OUT_DIR\"), \"/build-patch/lib.rs\"));\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_differences_are_structured() {
        let upstream = "[package]\nname = 'foo'\nedition = '2018'\n\
                        [dependencies]\nserde = '1.0.100'\n[features]\nstd = []\n";
        let mut out = Output::empty();
        out.upstream_model = manifest::model(&crate::toml::parse(upstream).unwrap());
        let shim = "[package]\nname = 'foo'\nedition = '2018'\n\
                    [dependencies]\nserde = '1.0'\n[build-dependencies]\nbuild-patch = '0.1'\n";
        let diffs = out
            .compare_shim_manifest(shim, Path::new("Cargo.toml"))
            .unwrap();
        let fields: Vec<&ManifestField> = diffs.iter().map(|d| d.field()).collect();
        assert_eq!(
            fields,
            [
                &ManifestField::Feature("std".into()),
                &ManifestField::Dependency {
                    build: false,
                    target: None,
                    name: "serde".into()
                },
            ]
        );
        assert_eq!(
            diffs[1].text(),
            "[dependencies] `serde`: requirement upstream `^1.0.100`, the shim `^1.0`"
        );
        assert!(out
            .compare_shim_manifest(upstream, Path::new("Cargo.toml"))
            .unwrap()
            .is_empty());
        assert!(!diffs[1].is_local_override());
        // A shim's `path` dependency keeps its requirement: only its
        // features differ.
        let local = shim.replace(
            "serde = '1.0'",
            "serde = { path = '../s', features = ['rc'] }",
        );
        let diffs = out
            .compare_shim_manifest(&local, Path::new("Cargo.toml"))
            .unwrap();
        assert!(diffs[1].is_local_override(), "{diffs:?}");
        assert_eq!(
            diffs[1].text(),
            "[dependencies] `serde`: features upstream [], the shim [\"rc\"]"
        );
    }

    #[test]
    fn upstream_features_are_given_as_the_build_compares_them() {
        let upstream = "[package]\nname = 'h'\n[features]\nnightly = ['x', 'bumpalo/a']\nx = []\n\
                        [dev-dependencies]\nbumpalo = '3'\n";
        let mut out = Output::empty();
        out.upstream_model = manifest::model(&crate::toml::parse(upstream).unwrap());
        assert_eq!(out.upstream_feature_items("nightly"), Some(vec!["x"]));
        assert_eq!(out.upstream_feature_items("x"), Some(vec![]));
        assert_eq!(out.upstream_feature_items("none"), None);
    }
}
