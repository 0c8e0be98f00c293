//! Patch any Cargo dependency with ordinary patch files, from a build script,
//! with plain `cargo build`.
//!
//! A workspace adds a small *shim* crate for each patched dependency. The
//! shim's build script calls build-patch, which finds the pristine source of
//! the dependency at one exact version, copies it into `OUT_DIR`, applies the
//! patch files in order, and writes a compile root; the shim's `src/lib.rs`
//! includes that root, so rustc compiles the patched copy as the shim crate.
//!
//! # A shim
//!
//! `patched/shlex/Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "shlex"            # the upstream name, to patch it graph-wide,
//! version = "1.1.0"         # at the upstream version
//! edition = "2015"          # the upstream edition
//!
//! [package.metadata.build-patch]
//! patches = ["../../patches/shlex-quote-braces.patch"]
//!
//! [build-dependencies]
//! build-patch = "0.1"
//! ```
//!
//! `patched/shlex/build.rs`:
//!
//! ```no_run
//! # #[allow(clippy::needless_doctest_main)]
//! fn main() {
//!     build_patch::build();
//! }
//! ```
//!
//! `patched/shlex/src/lib.rs`: the crate-level attributes of the upstream
//! root that change compilation (`no_std`, `feature`, ...) and its top-level
//! `extern crate` items with `#[macro_use]` or a rename, then the include line:
//!
//! ```ignore
//! include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));
//! ```
//!
//! and in the workspace's `Cargo.toml`, either a renamed dependency for the
//! workspace's own code, or a graph-wide replacement:
//!
//! ```toml
//! [patch.crates-io]
//! shlex = { path = "patched/shlex" }
//! ```
//!
//! # Configuration
//!
//! `[package.metadata.build-patch]` in the shim's `Cargo.toml`:
//!
//! | key | meaning | default |
//! | --- | --- | --- |
//! | `crate` | the upstream package | the shim's name |
//! | `version` | the exact upstream version; a graph-wide shim (named like the upstream) must patch its own | the shim's version |
//! | `patches` | patch files, directories of `*.patch`/`*.diff`, or quilt `series` files, in order, relative to the shim | none |
//! | `strip` | leading path components to strip, like `patch -p` | `1` |
//! | `fuzz` | context lines a hunk may ignore, like `patch -F` | `0` |
//! | `source` | a local pristine copy (e.g. from `cargo vendor`) instead of Cargo's | Cargo's |
//! | `git` | the upstream is the package of that name in this git repository (a workspace of several packages is fine) instead of crates.io; not with `registry` or `source` | crates.io |
//! | `rev`, `tag`, `branch` | with `git`, at most one: which commit, as for a Cargo git dependency; a `branch` (or none: the default branch) is the commit the workspace's `Cargo.lock` records for it, if any | the default branch |
//! | `registry` | the upstream is in this alternative registry (a `[registries.NAME]` of the Cargo config) instead of crates.io | crates.io |
//! | `version-mismatch` | a patch whose `Applies-to:` line names another version: `"warn"` or `"error"` | `"warn"` |
//!
//! Every setting can also be given on the [`Config`] builder, which wins over
//! the table.
//!
//! # Environment
//!
//! In a build script build-patch reads what Cargo sets: `OUT_DIR`,
//! `CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, `CARGO_PKG_VERSION`, `CARGO`,
//! `CARGO_HOME` and `TARGET`. Each can be overridden on the builder, so tests
//! and tools never change the process environment. The nested `cargo` call
//! (made only when the source is not in Cargo's cache) also honours
//! `CARGO_NET_OFFLINE` and the workspace's `.cargo/config.toml`.
//!
//! # What the patched code sees
//!
//! `env!("CARGO_MANIFEST_DIR")` is the staged copy, and `CARGO_PKG_NAME`,
//! `CARGO_PKG_VERSION` and the other `CARGO_PKG_*` variables are the
//! upstream package's, as they would be when compiling it from the registry.
//!
//! # Upstream build scripts
//!
//! When the upstream crate has a build script, the shim's build script *is*
//! the patched upstream one (its `fn main` renamed), followed by a glue
//! `main` that calls [`Config::upstream_build_script`]; `cargo build-patch
//! new` and `sync` write it, with the local files it needs and the
//! upstream's `[build-dependencies]`. At build time build-patch checks that
//! copy against the patched upstream, then runs the upstream `main` in a
//! child process with the environment Cargo would give it (working
//! directory and `CARGO_MANIFEST_DIR` the staged copy, `CARGO_PKG_*` the
//! upstream's, the rest as Cargo set it for the shim) and forwards its
//! directives (`rustc-cfg`, `rustc-env`, `rustc-link-lib`, metadata for
//! `links`, ...).
//!
//! That needs the `upstream-build-script` feature, which such a shim
//! enables on its own build-dependency (`new` and `sync` write it), and
//! which the build checks for: `build-patch = { version = "0.1", features =
//! ["upstream-build-script"] }`. Shims of crates without a build script do
//! not compile it.

#![deny(missing_docs)]

#[cfg(feature = "__fuzz")]
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
mod build_script;
mod config;
mod directives;
mod error;
mod fs;
#[cfg(feature = "generate")]
mod generate;
mod json;
mod lex;
mod manifest;
mod map;
pub mod patch;
mod pipeline;
mod root;
mod source;
mod stage;
mod toml;
mod upstream;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "generate")]
pub use generate::{
    is_executable, parse_shim_settings, spelling_cargo_reads, ManifestDifference, ManifestField,
    ShimSettings, BUILD_PATCH, BUILD_SCRIPT_FEATURE, ROOT_FILE,
};

use config::Settings;

/// Builds a shim with the configuration in its `Cargo.toml`, printing the
/// error and exiting the build script when it fails. The whole `build.rs` of
/// a typical shim:
///
/// ```no_run
/// # #[allow(clippy::needless_doctest_main)]
/// fn main() {
///     build_patch::build();
/// }
/// ```
pub fn build() {
    Config::new().build();
}

/// Like [`build`], but returns the error instead of exiting.
///
/// ```no_run
/// // build.rs of a shim that adds a hint of its own to a failure.
/// # #[allow(clippy::needless_doctest_main)]
/// fn main() {
///     if let Err(e) = build_patch::try_build() {
///         eprintln!("error: {e}");
///         eprintln!("note: the patches are in patches/, see patches/README");
///         std::process::exit(1);
///     }
/// }
/// ```
pub fn try_build() -> Result<Output> {
    Config::new().try_build()
}

/// The builder: settings that override `[package.metadata.build-patch]`, and
/// overrides of what Cargo's environment would say.
///
/// In a shim's `build.rs`, the settings of the metadata table in code:
///
/// ```no_run
/// # #[allow(clippy::needless_doctest_main)]
/// fn main() {
///     build_patch::Config::new()
///         .upstream("shlex", "1.1.0")
///         .patch("patches/")
///         .strip(1)
///         .build();
/// }
/// ```
///
/// Outside a build script (a tool, a test), every input Cargo would give is
/// set on the builder, and nothing is printed for Cargo. `Config::stage`,
/// which stages without a shim, needs the `generate` feature (a tool's):
///
/// ```no_run
/// let out = build_patch::Config::new()
///     .upstream("shlex", "1.1.0")
///     .patch("patches/shlex-quote-braces.patch")
///     .manifest_dir("patched/shlex")
///     .out_dir("target/staged")
///     .offline(true)
///     .cargo_directives(false)
///     .stage()?;
/// println!("patched copy in {}", out.staged_dir().display());
/// # Ok::<(), build_patch::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    settings: Settings,
    out_dir: Option<PathBuf>,
    manifest_dir: Option<PathBuf>,
    package_name: Option<String>,
    package_version: Option<String>,
    cargo: Option<PathBuf>,
    cargo_home: Option<PathBuf>,
    target: Option<String>,
    offline: Option<bool>,
    emit: bool,
    upstream_main: Option<fn() -> ExitCode>,
    compiled_for: Option<PathBuf>,
    verify_only: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// A configuration that reads everything from the shim's `Cargo.toml`
    /// and Cargo's environment.
    pub fn new() -> Config {
        Config {
            settings: Settings::default(),
            out_dir: None,
            manifest_dir: None,
            package_name: None,
            package_version: None,
            cargo: None,
            cargo_home: None,
            target: None,
            offline: None,
            emit: true,
            upstream_main: None,
            compiled_for: None,
            verify_only: false,
        }
    }

    /// The upstream package and its exact version (`crate` and `version`).
    pub fn upstream(&mut self, name: &str, version: &str) -> &mut Config {
        self.settings.crate_name = Some(name.to_string());
        self.settings.version = Some(version.to_string());
        self
    }

    /// Adds a patch file, a directory of patches or a quilt `series` file,
    /// relative to the shim's directory. Once called, the `patches` of the
    /// manifest are not used.
    pub fn patch(&mut self, path: impl AsRef<Path>) -> &mut Config {
        self.settings
            .patches
            .get_or_insert_with(Vec::new)
            .push(path.as_ref().to_path_buf());
        self
    }

    /// Leading path components to strip from names in patches (`patch -p`).
    pub fn strip(&mut self, n: usize) -> &mut Config {
        self.settings.strip = Some(n);
        self
    }

    /// Context lines a hunk may ignore when it does not match exactly
    /// (`patch -F`). Zero, the default, means exact context.
    pub fn fuzz(&mut self, n: usize) -> &mut Config {
        self.settings.fuzz = Some(n);
        self
    }

    /// A local directory holding the pristine source (a vendored copy or an
    /// unpacked crate), instead of Cargo's.
    pub fn source(&mut self, dir: impl AsRef<Path>) -> &mut Config {
        self.settings.source = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The upstream is the package of its name in the git repository at
    /// `url` (`git`), at the default branch unless [`Config::git_rev`],
    /// [`Config::git_tag`] or [`Config::git_branch`] names another commit
    /// (the default branch, like a branch, is the commit the workspace's
    /// `Cargo.lock` records for it when it records one).
    pub fn git(&mut self, url: &str) -> &mut Config {
        self.settings.git = Some(url.to_string());
        self
    }

    /// With [`Config::git`], the commit (`rev`); replaces a tag or branch.
    pub fn git_rev(&mut self, rev: &str) -> &mut Config {
        self.settings.git_ref = Some(config::GitRef::Rev(rev.to_string()));
        self
    }

    /// With [`Config::git`], the tag (`tag`); replaces a rev or branch.
    pub fn git_tag(&mut self, tag: &str) -> &mut Config {
        self.settings.git_ref = Some(config::GitRef::Tag(tag.to_string()));
        self
    }

    /// With [`Config::git`], the branch (`branch`); replaces a rev or tag.
    /// It stands for the commit the workspace's `Cargo.lock` records for
    /// this git source, when it records one, else for what Cargo resolves.
    pub fn git_branch(&mut self, branch: &str) -> &mut Config {
        self.settings.git_ref = Some(config::GitRef::Branch(branch.to_string()));
        self
    }

    /// The upstream is in the alternative registry `name` (`registry`, a
    /// `[registries.NAME]` of the Cargo config), not crates.io.
    pub fn registry(&mut self, name: &str) -> &mut Config {
        self.settings.registry = Some(name.to_string());
        self
    }

    /// Overrides `OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Config {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Overrides `CARGO_MANIFEST_DIR`, the shim's directory.
    pub fn manifest_dir(&mut self, dir: impl AsRef<Path>) -> &mut Config {
        self.manifest_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Overrides `CARGO_PKG_NAME` and `CARGO_PKG_VERSION`, the shim's own
    /// name and version (the defaults of `crate` and `version`).
    pub fn package(&mut self, name: &str, version: &str) -> &mut Config {
        self.package_name = Some(name.to_string());
        self.package_version = Some(version.to_string());
        self
    }

    /// Overrides `CARGO`, the `cargo` binary used to fetch a source that is
    /// not in Cargo's cache.
    pub fn cargo(&mut self, path: impl AsRef<Path>) -> &mut Config {
        self.cargo = Some(path.as_ref().to_path_buf());
        self
    }

    /// Overrides `CARGO_HOME`, where Cargo's registry cache is.
    pub fn cargo_home(&mut self, dir: impl AsRef<Path>) -> &mut Config {
        self.cargo_home = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Overrides `TARGET`.
    pub fn target(&mut self, triple: &str) -> &mut Config {
        self.target = Some(triple.to_string());
        self
    }

    /// Whether fetching a source may use the network. By default it may,
    /// unless the outer Cargo was started with `--offline` or `--frozen`.
    pub fn offline(&mut self, offline: bool) -> &mut Config {
        self.offline = Some(offline);
        self
    }

    /// Whether to print `cargo:` directives (default: yes). Off, the
    /// directives are only returned in the [`Output`].
    pub fn cargo_directives(&mut self, emit: bool) -> &mut Config {
        self.emit = emit;
        self
    }

    /// The upstream build script's `main`, compiled into the shim's build
    /// script (see the crate docs, "Upstream build scripts"). The generated
    /// glue passes a function that calls it and reports its result:
    ///
    /// ```ignore
    /// fn main() {
    ///     build_patch::Config::new()
    ///         .upstream_build_script(__build_patch_upstream_main_report)
    ///         .build();
    /// }
    /// ```
    ///
    /// [`Config::build`] then runs it, after staging, in a child process with
    /// the upstream's environment, and forwards what it prints for Cargo.
    /// In that child process (marked by a private environment variable,
    /// removed before `main` runs) `build` only calls `main` and exits with
    /// its status. Running it needs the `upstream-build-script` feature,
    /// which the shim's manifest must enable on its `build-patch`
    /// build-dependency: the build refuses the shim otherwise.
    pub fn upstream_build_script(&mut self, main: fn() -> ExitCode) -> &mut Config {
        self.upstream_main = Some(main);
        self
    }

    /// The directory of the shim this build script was compiled for: the
    /// generated glue passes `env!("CARGO_MANIFEST_DIR")`. When Cargo runs
    /// it for another directory, the build fails rather than run the copy
    /// of the upstream build script compiled into it, which is the other
    /// shim's: Cargo reuses a build script compiled for another workspace's
    /// shim at the same place when the two share a target directory
    /// (rust-lang/cargo#12516). With the `upstream-build-script` feature.
    pub fn compiled_for(&mut self, shim_dir: &str) -> &mut Config {
        self.compiled_for = Some(PathBuf::from(shim_dir));
        self
    }

    /// For tools: [`Config::try_build`] checks everything a shim's build
    /// checks (patches, manifest, crate attributes, the shim's copy of the
    /// upstream build script) but does not run the upstream build script,
    /// which only the shim's own build script can call. `cargo build-patch
    /// check` uses it.
    pub fn verify_only(&mut self, yes: bool) -> &mut Config {
        self.verify_only = yes;
        self
    }

    /// Stages the patched crate, printing the error and exiting with status 1
    /// when that fails.
    pub fn build(&self) -> Output {
        if let Some(code) = pipeline::run_upstream_child(self.upstream_main) {
            std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
        }
        match self.try_build() {
            Ok(out) => out,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }

    /// Stages the patched upstream crate without a shim: for tools such as
    /// `cargo build-patch new`. Needs [`Config::upstream`] and
    /// [`Config::out_dir`]; relative patch paths and the nested Cargo call
    /// start from [`Config::manifest_dir`] (default: the current directory).
    /// Prints no directives. Only with the `generate` feature (a tool's,
    /// which a shim's build never compiles).
    #[cfg(feature = "generate")]
    pub fn stage(&self) -> Result<Output> {
        pipeline::stage_only(self)
    }

    /// Checks, without staging, what [`Config::try_build`] checks first: the
    /// shim's manifest (in [`Config::manifest_dir`]) reads, names a crate
    /// and an exact version and at most one source (`git`, `registry` or
    /// `source`), and, for a graph-wide shim (its package has the
    /// upstream's name), patches the shim's own version. For tools that edit
    /// a shim (`cargo build-patch check`, `sync`), which must not write
    /// around a shim that compiles one version's code as another. Give it
    /// the shim's own settings: [`Config::upstream`] with another version
    /// (to stage it on purpose) fails here, as it would in the shim's build.
    ///
    /// Only with the `generate` feature (a tool's, which a shim's build
    /// never compiles).
    ///
    /// ```no_run
    /// build_patch::Config::new().manifest_dir("patched/foo").check_shim()?;
    /// # Ok::<(), build_patch::Error>(())
    /// ```
    #[cfg(feature = "generate")]
    pub fn check_shim(&self) -> Result<()> {
        pipeline::check_shim(self)
    }

    /// Stages the patched crate: finds the pristine source, copies it into
    /// `OUT_DIR/build-patch`, applies the patches, writes the compile root,
    /// and (unless turned off) prints the `cargo:` directives.
    ///
    /// It never exits the process. In the child process that runs the
    /// upstream build script (see [`Config::upstream_build_script`]) it only
    /// runs that script's `main`: it returns an empty [`Output`] when `main`
    /// succeeds, and an error when it fails ([`Config::build`] exits with
    /// its status instead).
    pub fn try_build(&self) -> Result<Output> {
        if let Some(code) = pipeline::run_upstream_child(self.upstream_main) {
            return if code == ExitCode::SUCCESS {
                Ok(Output::empty())
            } else {
                Err(Error::new(
                    ErrorKind::BuildScript,
                    "the upstream build script's `main` failed",
                ))
            };
        }
        let out = pipeline::build(self)?;
        if self.emit {
            directives::emit(&out.directives, &mut std::io::stdout().lock())
                .map_err(crate::fs::io_error("write to", Path::new("<stdout>")))?;
        }
        Ok(out)
    }
}

/// What a build did: where the staged copy is, and what it printed for Cargo.
///
/// ```no_run
/// // build.rs: stage, then look at the result.
/// # #[allow(clippy::needless_doctest_main)]
/// fn main() {
///     let out = build_patch::Config::new().build();
///     if out.restaged() {
///         println!("cargo:warning=staged {}", out.staged_dir().display());
///     }
/// }
/// ```
pub struct Output {
    staged_dir: PathBuf,
    entry: PathBuf,
    /// The patched upstream library root, split: what a shim's root carries.
    #[cfg(feature = "generate")]
    upstream_root: root::SplitRoot,
    /// What the patched upstream manifest says Cargo builds.
    #[cfg(feature = "generate")]
    upstream_model: manifest::Model,
    restaged: bool,
    directives: Vec<String>,
    build_script: Option<PathBuf>,
}

// By hand: the split root and manifest model the `generate` feature keeps
// are internal.
impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("staged_dir", &self.staged_dir)
            .field("entry", &self.entry)
            .field("restaged", &self.restaged)
            .field("directives", &self.directives)
            .field("build_script", &self.build_script)
            .finish()
    }
}

impl Output {
    fn new(staged: stage::Staged, directives: Vec<String>) -> Output {
        Output {
            build_script: staged.build_script,
            staged_dir: staged.dir,
            entry: staged.entry,
            #[cfg(feature = "generate")]
            upstream_root: staged.root,
            #[cfg(feature = "generate")]
            upstream_model: staged.manifest.model,
            restaged: staged.restaged,
            directives,
        }
    }

    /// What the child process that runs the upstream build script returns.
    fn empty() -> Output {
        Output {
            staged_dir: PathBuf::new(),
            entry: PathBuf::new(),
            #[cfg(feature = "generate")]
            upstream_root: root::SplitRoot {
                attrs: Vec::new(),
                extern_crates: Vec::new(),
                kept_extern_crates: Vec::new(),
                first_item: 0,
                body: String::new(),
            },
            #[cfg(feature = "generate")]
            upstream_model: manifest::Model::default(),
            restaged: false,
            directives: Vec::new(),
            build_script: None,
        }
    }

    /// The patched upstream's build script, relative to its root, if it has
    /// one.
    pub fn upstream_build_script(&self) -> Option<&Path> {
        self.build_script.as_deref()
    }

    /// The staged, patched copy of the upstream crate.
    pub fn staged_dir(&self) -> &Path {
        &self.staged_dir
    }

    /// The file the shim's `include!` line names
    /// (`OUT_DIR/build-patch/lib.rs`).
    pub fn entry(&self) -> &Path {
        &self.entry
    }

    /// Whether this run staged anew; `false` when an up-to-date copy from an
    /// earlier run was reused.
    pub fn restaged(&self) -> bool {
        self.restaged
    }

    /// The `cargo:` directives of this run, one per line.
    pub fn directives(&self) -> &[String] {
        &self.directives
    }
}

/// Whether two git URLs name one repository as Cargo compares them (a
/// trailing `/` or `.git` aside, and on github.com any case): how a shim's
/// `git` is matched with the source Cargo resolved, and, in `cargo
/// build-patch`, a `[patch."URL"]` table with a dependency's source.
///
/// ```
/// assert!(build_patch::same_git_url("https://github.com/A/b.git", "https://github.com/a/b"));
/// assert!(!build_patch::same_git_url("https://example.com/A/b", "https://example.com/a/b"));
/// ```
pub fn same_git_url(a: &str, b: &str) -> bool {
    source::same_git_url(a, b)
}

/// The crate and version a patch says it was made against, from an
/// `Applies-to: NAME VERSION` field in its header (before the first diff;
/// read by [`patch::header`], the one header reader), as `cargo build-patch
/// save` writes it. `None` when the patch records none.
///
/// ```
/// let patch = b"Description: fix\nApplies-to: shlex 1.1.0\n\n--- a/src/lib.rs\n+++ b/src/lib.rs\n";
/// assert_eq!(build_patch::recorded_version(patch).as_deref(), Some("shlex 1.1.0"));
/// // Field names are read without case (DEP-3); the header ends at any diff line.
/// assert_eq!(build_patch::recorded_version(b"applies-to: a 1.0.0\n").as_deref(), Some("a 1.0.0"));
/// assert_eq!(build_patch::recorded_version(b"diff -ruN a b\nApplies-to: a 1.0.0\n"), None);
/// assert_eq!(build_patch::recorded_version(b"Applies-to: a 1.0.0\n  so it goes\n").as_deref(), Some("a 1.0.0"));
/// ```
pub fn recorded_version(patch: &[u8]) -> Option<String> {
    // One line: an indented line after it is the patch's text, not more of
    // the version.
    let mut value = patch::header::field(patch, "Applies-to")?;
    if let Some(end) = value.find('\n') {
        value.truncate(end);
    }
    Some(value)
}
