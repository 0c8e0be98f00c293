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
mod json;
mod manifest;
mod map;
pub mod patch;
mod root;
mod source;
mod stage;
mod toml;
mod upstream;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use error::{Error, Result};

use config::Settings;
use directives::Directives;

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
/// set on the builder, and nothing is printed for Cargo:
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

    /// Whether to print `cargo::` directives (default: yes). Off, the
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
    /// its status.
    pub fn upstream_build_script(&mut self, main: fn() -> ExitCode) -> &mut Config {
        self.upstream_main = Some(main);
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
    /// Prints no directives.
    pub fn stage(&self) -> Result<Output> {
        let base = match &self.manifest_dir {
            Some(d) => d.clone(),
            None => std::env::current_dir()
                .map_err(|e| Error::io("read", Path::new("the current directory"), e))?,
        };
        let (Some(name), Some(version)) = (&self.settings.crate_name, &self.settings.version)
        else {
            return Err(Error::msg(
                "config",
                "`Config::stage` needs the upstream crate and version: call `Config::upstream`",
            ));
        };
        let mut directives = Directives::default();
        let (staged, _, _) =
            stage_upstream(self, &self.settings, &base, name, version, &mut directives)?;
        Ok(Output::new(&staged, &directives))
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
    /// ```no_run
    /// build_patch::Config::new().manifest_dir("patched/foo").check_shim()?;
    /// # Ok::<(), build_patch::Error>(())
    /// ```
    pub fn check_shim(&self) -> Result<()> {
        let shim = read_shim(self, &mut Directives::default())?;
        if !config::is_exact_version(&shim.version) {
            return Err(inexact_version(&shim.name, &shim.version));
        }
        shim.settings.remote(&shim.manifest_path)?;
        Ok(())
    }

    /// Stages the patched crate: finds the pristine source, copies it into
    /// `OUT_DIR/build-patch`, applies the patches, writes the compile root,
    /// and (unless turned off) prints the `cargo::` directives.
    pub fn try_build(&self) -> Result<Output> {
        if let Some(main) = self.upstream_main {
            if env_var(build_script::CHILD_ENV).is_some() {
                // The child process: only the upstream build script, which
                // must not see (nor pass on) the marker.
                std::env::remove_var(build_script::CHILD_ENV);
                let code = main();
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
                std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
            }
        }
        let out = pipeline(self)?;
        if self.emit {
            out.directives
                .emit(&mut std::io::stdout().lock())
                .map_err(|e| Error::io("write to", Path::new("<stdout>"), e))?;
        }
        Ok(out.output)
    }

    fn required(&self, value: &Option<PathBuf>, var: &str) -> Result<PathBuf> {
        value
            .clone()
            .or_else(|| env_var(var).map(PathBuf::from))
            .ok_or_else(|| {
                Error::msg(
                    "config",
                    format!(
                        "`{var}` is not set: build-patch runs from a build script (`build.rs`), \
                     where Cargo sets it; elsewhere set it on the `Config`"
                    ),
                )
            })
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
#[derive(Debug)]
pub struct Output {
    staged_dir: PathBuf,
    entry: PathBuf,
    #[cfg(feature = "generate")]
    lib_path: PathBuf,
    restaged: bool,
    directives: Vec<String>,
    build_script: Option<PathBuf>,
}

impl Output {
    fn new(staged: &stage::Staged, directives: &Directives) -> Output {
        Output {
            staged_dir: staged.dir.clone(),
            entry: staged.entry.clone(),
            #[cfg(feature = "generate")]
            lib_path: staged.manifest.lib_path.clone(),
            restaged: staged.restaged,
            directives: directives.lines().to_vec(),
            build_script: build_script::script_path(&staged.manifest.model.build, &staged.dir),
        }
    }

    /// The patched upstream's build script, relative to its root, if it has
    /// one.
    pub fn upstream_build_script(&self) -> Option<&Path> {
        self.build_script.as_deref()
    }

    #[cfg(feature = "generate")]
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

    #[cfg(feature = "generate")]
    /// Whether `text` is a build script written by [`Output::shim_build_files`]
    /// for an upstream build script (it has the marker line before the glue).
    pub fn is_generated_build_script(text: &str) -> bool {
        build_script::existing_glue(text).is_some()
    }

    #[cfg(feature = "generate")]
    /// The part of a shim's build script that calls build-patch: everything
    /// after the glue marker of a generated one (the upstream's code comes
    /// before it), else the whole text. For tools that read how a shim
    /// configures build-patch.
    pub fn build_script_glue(text: &str) -> &str {
        build_script::existing_glue(text).unwrap_or(text)
    }

    #[cfg(feature = "generate")]
    /// `existing` (a shim's `src/lib.rs`) with its compile-affecting
    /// crate-level attributes and its top-level `extern crate` items with
    /// `#[macro_use]` or a rename replaced
    /// by those of the patched upstream root, and everything else (comments,
    /// docs, lint attributes) kept. Returns `existing` unchanged when it
    /// already agrees.
    pub fn sync_shim_lib_rs(&self, existing: &str) -> Result<String> {
        let upstream = self.split_upstream_root()?;
        let shim = split_shim_root(existing)?;
        let limit = root::shim_recursion_limit(&upstream);
        let has_limit = shim
            .attrs
            .iter()
            .any(|a| root::normalized(&a.text) == root::normalized(&limit));
        if root::compare(&upstream, &shim).is_none() && has_limit {
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
        let repeated = root::repeated_kept_crates(&upstream, &shim);
        Ok(replace_items(
            &text,
            shim.extern_crates
                .iter()
                .chain(repeated)
                .map(|e| e.text.as_str()),
            upstream.extern_crates.iter().map(|e| e.text.as_str()),
            shim.first_item,
        ))
    }

    #[cfg(feature = "generate")]
    /// The `src/lib.rs` a shim of this patched crate needs: the crate-level
    /// attributes of the patched upstream root that change compilation, its
    /// top-level `extern crate` items with `#[macro_use]` or a rename, and
    /// the `include!` line. What
    /// `cargo build-patch new` and `sync` write.
    pub fn shim_lib_rs(&self) -> Result<String> {
        Ok(shim_lib_rs(&self.split_upstream_root()?))
    }

    #[cfg(feature = "generate")]
    fn split_upstream_root(&self) -> Result<root::SplitRoot> {
        split_root_file(&self.staged_dir.join(&self.lib_path))
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

    /// The `cargo::` directives of this run, one per line.
    pub fn directives(&self) -> &[String] {
        &self.directives
    }
}

struct PipelineOutput {
    output: Output,
    directives: Directives,
}

/// The only reader of the process environment.
fn env_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn env_string(name: &str) -> Option<String> {
    env_var(name).and_then(|v| v.into_string().ok())
}

/// A shim's build: read the shim, stage, check the shim against the patched
/// upstream, and say what the compiled code sees.
fn pipeline(cfg: &Config) -> Result<PipelineOutput> {
    let mut directives = Directives::default();
    let Shim {
        manifest_dir,
        manifest_path: shim_manifest_path,
        manifest: shim,
        settings,
        name,
        version,
    } = read_shim(cfg, &mut directives)?;

    let (staged, pristine_dir, made_for) = stage_upstream(
        cfg,
        &settings,
        &manifest_dir,
        &name,
        &version,
        &mut directives,
    )
    .map_err(|e| {
        // `upgrade` refreshes the patches the manifest lists, not those a
        // build script gives in code.
        if cfg.settings.patches.is_none() {
            with_refresh_help(e, &manifest_dir, &version)
        } else {
            e
        }
    })?;

    // The shim must say what the patched upstream says: its manifest (Cargo
    // resolves from it) and its crate-level attributes (include! drops them).
    let fix = ShimFix {
        dir: &manifest_dir,
        version: &version,
        moved: moved_from(&name, &version, &made_for, &shim, &shim_manifest_path),
    };
    let differences = manifest::compare(&staged.manifest.model, &shim.model);
    if !differences.is_empty() {
        return Err(manifest_mismatch(
            &name,
            &version,
            &shim_manifest_path,
            &fix,
            &differences,
        ));
    }
    let shim_root = manifest_dir.join(&shim.lib_path);
    directives.rerun_if_changed(&shim_root);
    check_crate_attributes(&staged, &shim_root, &shim.lib_path, &fix)?;

    // What the patched code sees at compile time.
    directives.rustc_env("CARGO_MANIFEST_DIR", &staged.dir.display().to_string());
    directives.rustc_env(
        "CARGO_MANIFEST_PATH",
        &staged.dir.join("Cargo.toml").display().to_string(),
    );
    for (key, value) in staged.manifest.pkg_env() {
        directives.rustc_env(key, &value);
    }

    // The upstream build script, compiled into the shim's: check the copy,
    // then run it.
    upstream_build_script(
        cfg,
        &staged,
        &pristine_dir,
        &shim,
        &manifest_dir,
        &fix,
        &mut directives,
    )?;
    Ok(PipelineOutput {
        output: Output::new(&staged, &directives),
        directives,
    })
}

/// A shim, read: its manifest, its settings merged with the builder's, and
/// the upstream crate and version it patches.
struct Shim {
    manifest_dir: PathBuf,
    manifest_path: PathBuf,
    manifest: config::ShimManifest,
    settings: Settings,
    name: String,
    version: String,
}

/// Reads the shim's manifest and settles what it patches; a graph-wide shim
/// must patch its own version (see [`check_graph_wide_version`]).
fn read_shim(cfg: &Config, directives: &mut Directives) -> Result<Shim> {
    let manifest_dir = cfg.required(&cfg.manifest_dir, "CARGO_MANIFEST_DIR")?;
    let manifest_path = manifest_dir.join("Cargo.toml");
    directives.rerun_if_changed(&manifest_path);
    let shim = config::parse_shim_manifest(&fs::read_to_string(&manifest_path)?, &manifest_path)?;
    let settings = cfg.settings.clone().or(shim.settings.clone());
    // The shim's own name and version: the builder's, its manifest's, or,
    // in a build script (where Cargo's variables are the shim's), Cargo's.
    let in_build_script = cfg.manifest_dir.is_none();
    let cargo_says = |var: &str| env_string(var).filter(|_| in_build_script);
    let package_name = cfg
        .package_name
        .clone()
        .or_else(|| shim.name.clone())
        .or_else(|| cargo_says("CARGO_PKG_NAME"));
    let package_version = cfg
        .package_version
        .clone()
        .or_else(|| shim.version.clone())
        .or_else(|| cargo_says("CARGO_PKG_VERSION"));
    let name = settings
        .crate_name
        .clone()
        .or_else(|| package_name.clone())
        .or_else(|| env_string("CARGO_PKG_NAME"))
        .ok_or_else(|| missing_setting("crate", &manifest_path))?;
    let version = settings
        .version
        .clone()
        .or_else(|| package_version.clone())
        .or_else(|| env_string("CARGO_PKG_VERSION"))
        .ok_or_else(|| missing_setting("version", &manifest_path))?;
    if let (Some(package_name), Some(package_version)) = (&package_name, &package_version) {
        check_graph_wide_version(
            package_name,
            package_version,
            &name,
            &version,
            shim.settings.version.as_deref(),
            &manifest_path,
        )?;
    }
    Ok(Shim {
        manifest_dir,
        manifest_path,
        manifest: shim,
        settings,
        name,
        version,
    })
}

/// A shim whose package has the upstream's name replaces the upstream in the
/// whole graph (through `[patch]`), at the shim's own version: it must
/// stage that version, or rustc compiles one version's code under another's
/// name. A renamed shim (another name) is a crate of its own, whose version
/// is free.
fn check_graph_wide_version(
    package_name: &str,
    package_version: &str,
    name: &str,
    version: &str,
    metadata_version: Option<&str>,
    manifest_path: &Path,
) -> Result<()> {
    if package_name != name || package_version == version {
        return Ok(());
    }
    let said = if metadata_version == Some(version) {
        format!("its `[package.metadata.build-patch]` says `version = \"{version}\"`")
    } else {
        format!("its build script stages `{name} {version}` (`Config::upstream`)")
    };
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    Err(Error::msg(
        "config",
        format!(
            "the graph-wide shim `{}` is `{name} {package_version}`, but {said}: rustc would \
             compile {version}'s code as `{name} v{package_version}`\n  \
             a shim named like its upstream replaces it in the whole graph at the shim's own \
             version, so the two must agree\n  \
             help: {} moves the shim to {package_version} (or {} keeps {version}): it \
             refreshes the patches and sets both versions; or make `version` match the \
             `[package] version` (or remove it: it defaults to the package's)",
            manifest_path.display(),
            upgrade_command(dir, package_version),
            upgrade_command(dir, version),
        ),
    ))
}

/// Checks the shim's copy of the patched upstream build script and runs it.
fn upstream_build_script(
    cfg: &Config,
    staged: &stage::Staged,
    pristine_dir: &Path,
    shim: &config::ShimManifest,
    shim_dir: &Path,
    fix: &ShimFix<'_>,
    directives: &mut Directives,
) -> Result<()> {
    let what = format!("{} {}", staged.manifest.name, staged.manifest.version);
    let sync_help = fix.help("write it");
    let script = build_script::script_path(&staged.manifest.model.build, &staged.dir);
    let (script, _main) = match (script, cfg.upstream_main) {
        (Some(script), _) if cfg.verify_only => (script, cfg.upstream_main),
        // A tool cannot see whether the shim's script calls an upstream
        // `main`: its text says so.
        (None, main) if cfg.verify_only => {
            let generated = build_script::script_path(&shim.model.build, shim_dir)
                .and_then(|s| std::fs::read_to_string(shim_dir.join(s)).ok())
                .is_some_and(|t| build_script::existing_glue(&t).is_some());
            if !generated && main.is_none() {
                return Ok(());
            }
            return Err(Error::msg(
                "build-script",
                format!(
                    "the shim's build script runs an upstream build script, but the patched \
                     `{what}` has none\n  {sync_help}"
                ),
            ));
        }
        (None, None) => return Ok(()),
        (Some(script), None) => {
            return Err(Error::msg(
                "build-script",
                format!(
                    "the patched `{what}` has a build script (`{}`), and the shim's build script \
                     does not run it: the crate would compile without its cfgs, generated code \
                     and link directives\n  {sync_help}",
                    script.display()
                ),
            ))
        }
        (None, Some(_)) => {
            return Err(Error::msg(
                "build-script",
                format!(
                    "the shim's build script runs an upstream build script, but the patched \
                     `{what}` has none\n  {sync_help}"
                ),
            ))
        }
        (Some(script), Some(main)) => (script, Some(main)),
    };
    let shim_script = build_script::script_path(&shim.model.build, shim_dir);
    let mut differences = Vec::new();
    if shim_script.as_deref() != Some(script.as_path()) {
        differences.push(format!(
            "[package] build: upstream `{}`, the shim {}",
            script.display(),
            shim_script.map_or("none".to_string(), |s| format!("`{}`", s.display()))
        ));
    } else {
        differences.extend(build_script::compare(&staged.dir, &script, shim_dir)?);
    }
    if !differences.is_empty() {
        let mut text =
            format!("the shim's copy of the build script of the patched `{what}` is out of date:");
        for d in &differences {
            text.push_str("\n  - ");
            text.push_str(d);
        }
        text.push_str(&format!(
            "\n  Cargo compiles the shim's copy, so it must be the patched upstream one.\n  {sync_help}"
        ));
        return Err(Error::msg("build-script", text));
    }
    if cfg.verify_only {
        return Ok(());
    }
    build_script::run(
        &build_script::Run {
            staged: &staged.dir,
            pristine: pristine_dir,
            pkg_env: staged.manifest.pkg_env(),
            what: what.clone(),
        },
        directives,
    )?;
    // The upstream script shares OUT_DIR with build-patch, which owns
    // `OUT_DIR/build-patch/`.
    if !staged.entry.is_file() || !staged.dir.is_dir() {
        return Err(Error::msg(
            "build-script",
            format!(
                "the build script of `{what}` removed `{}`, which build-patch owns in OUT_DIR\n  \
                 see docs/limits.md, \"Upstream build scripts\"",
                staged.entry.parent().unwrap_or(&staged.entry).display()
            ),
        ));
    }
    Ok(())
}

/// Finds, stages and patches the upstream; everything but the shim. Returns
/// the staged copy and the pristine source's directory.
fn stage_upstream(
    cfg: &Config,
    settings: &Settings,
    base_dir: &Path,
    name: &str,
    version: &str,
    directives: &mut Directives,
) -> Result<(stage::Staged, PathBuf, MadeFor)> {
    let out_dir = cfg.required(&cfg.out_dir, "OUT_DIR")?;
    if !config::is_exact_version(version) {
        return Err(inexact_version(name, version));
    }

    // The patches, read once; every file read is watched.
    let (patches, read_paths) =
        patch::load_patch_list(base_dir, settings.patches.as_deref().unwrap_or(&[])).map_err(
            |e| match e.kind() {
                patch::PatchErrorKind::Io => Error::from(e).with_help(format!(
                    "patch paths are relative to `{}` (those in a quilt `series`, to the series' \
                     directory): check the list of patches",
                    base_dir.display()
                )),
                _ => Error::from(e),
            },
        )?;
    for p in &read_paths {
        directives.rerun_if_changed(p);
    }
    let made_for =
        check_recorded_versions(&patches, name, version, base_dir, settings, directives)?;

    // The pristine source.
    let work_dir = out_dir.join("build-patch");
    let local = settings.source.as_ref().map(|s| base_dir.join(s));
    if let Some(dir) = &local {
        directives.rerun_if_changed(dir);
    }
    let cargo_home = cfg
        .cargo_home
        .clone()
        .or_else(|| source::default_cargo_home(env_var("CARGO_HOME")));
    let cargo = cfg
        .cargo
        .clone()
        .or_else(|| env_var("CARGO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("cargo"));
    let target = cfg.target.clone().or_else(|| env_string("TARGET"));
    let fetch_dir = work_dir.join("fetch");
    let remote = settings.remote(&base_dir.join("Cargo.toml"))?;
    let pristine = source::find(&source::Request {
        name,
        version,
        remote: &remote,
        local: local.as_deref(),
        cargo_home: cargo_home.as_deref(),
        cargo: &cargo,
        cwd: base_dir,
        work_dir: &fetch_dir,
        target: target.as_deref(),
        offline: cfg.offline.unwrap_or_else(source::parent_cargo_is_offline),
    })?;
    // A branch is what `Cargo.lock` says: `cargo update` that moves it
    // restages.
    if source::follows_lock(&remote) {
        if let Some(lock) = source::nearest_lock(base_dir) {
            directives.rerun_if_changed(&lock);
        }
    }

    let staged = stage::stage(&stage::StageRequest {
        name,
        version,
        pristine: &pristine,
        patches: &patches,
        strip: settings.strip.unwrap_or(1),
        fuzz: settings.fuzz.unwrap_or(0),
        work_dir: &work_dir,
    })
    .map_err(|e| {
        // A patch made for another version says so where it fails.
        let made_for = e
            .as_patch_error()
            .and_then(|p| p.patch_file())
            .and_then(|failed| made_for.iter().find(|(p, _)| p == failed));
        match made_for {
            Some((patch, recorded)) => e.with_note(format!(
                "note: `{patch}` was made for `{recorded}` (its `Applies-to:` line), and this is \
                 `{name} {version}`"
            )),
            None => e,
        }
    })?;
    // A package of a git repository's workspace is not normalised as a
    // published crate is: what it inherits is in another manifest.
    let manifest_path = staged.dir.join("Cargo.toml");
    if let Some(key) = fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|text| toml::parse(&text).ok())
        .and_then(|doc| inherited_key(&doc, ""))
    {
        return Err(Error::msg(
            "source",
            format!(
                "the source found for `{name} {version}` at `{}` inherits `{key}` from its \
                 workspace (`workspace = true`), which build-patch cannot read: the shim would \
                 not say what Cargo builds\n  \
                 help: see docs/limits.md, \"Git and alternative registries\"; a published \
                 version of the crate, or a `source` copy whose `Cargo.toml` states its \
                 fields, works",
                pristine.dir.display()
            ),
        ));
    }
    if staged.manifest.name != name || staged.manifest.version != version {
        return Err(Error::msg(
            "source",
            format!(
                "the source found for `{name} {version}` at `{}` is `{} {}`",
                pristine.dir.display(),
                staged.manifest.name,
                staged.manifest.version
            ),
        ));
    }
    for s in &staged.skipped {
        directives.warning(&format!(
            "build-patch: not copied from `{name} {version}`: {s}"
        ));
    }
    // GNU patch says so too: context that no longer matches is a patch to
    // refresh before it stops applying.
    for s in &staged.fuzzed {
        directives.warning(&format!(
            "build-patch: {s}; refresh the patch{}",
            if cfg.settings.patches.is_none() {
                format!(" with {}", upgrade_command(base_dir, version))
            } else {
                String::new()
            }
        ));
    }
    Ok((staged, pristine.dir, made_for))
}

/// The first dotted key of a manifest that is `{ workspace = true }`
/// (`package.version`, `dependencies.serde`), outside `[workspace]`.
fn inherited_key(table: &toml::Table, prefix: &str) -> Option<String> {
    table.into_iter().find_map(|(k, v)| {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(_) if key == "workspace" => None,
            toml::Value::Table(t) if t.get("workspace") == Some(&toml::Value::Boolean(true)) => {
                Some(key)
            }
            toml::Value::Table(t) => inherited_key(t, &key),
            _ => None,
        }
    })
}

/// A patch that stopped applying, met in a shim's build: the CLI can help
/// redo it.
fn with_refresh_help(e: Error, shim_dir: &Path, version: &str) -> Error {
    match e.as_patch_error().map(|p| p.kind_name()) {
        Some("hunk-failed" | "missing-file" | "delete-mismatch" | "file-exists") => {
            e.with_help(format!(
                "{} re-applies the patches one by one and leaves a tree to redo this one in",
                upgrade_command(shim_dir, version)
            ))
        }
        _ => e,
    }
}

/// The CLI command that refreshes a shim's patches, ready to copy (the
/// directory quoted when it has a space).
fn upgrade_command(shim_dir: &Path, version: &str) -> String {
    let dir = shim_dir.display().to_string();
    let dir = if dir.contains(' ') {
        format!("\"{dir}\"")
    } else {
        dir
    };
    format!("`cargo build-patch upgrade {dir} {version}`")
}

/// Warns (or, with `version-mismatch = "error"`, fails) when a patch says
/// it was made against another version of the crate. Returns those patches,
/// with the crate and version each records.
fn check_recorded_versions(
    patches: &[patch::PatchFile],
    name: &str,
    version: &str,
    shim_dir: &Path,
    settings: &Settings,
    directives: &mut Directives,
) -> Result<MadeFor> {
    let expected = format!("{name} {version}");
    let mut made_for = Vec::new();
    for p in patches {
        let Some(recorded) = recorded_version(&p.bytes) else {
            continue;
        };
        if recorded == expected {
            continue;
        }
        let text = format!(
            "patch `{}` was made against `{recorded}`, and is applied to `{expected}`",
            p.display
        );
        if settings.version_mismatch_is_error == Some(true) {
            return Err(Error::msg(
                "patch",
                format!(
                    "{text}\n  help: refresh it with {}, or set \
                     `version-mismatch = \"warn\"` in [package.metadata.build-patch]",
                    upgrade_command(shim_dir, version)
                ),
            ));
        }
        directives.warning(&format!("build-patch: {text}"));
        made_for.push((p.display.clone(), recorded));
    }
    Ok(made_for)
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
/// `Applies-to: NAME VERSION` line in its header (before the first diff), as
/// `cargo build-patch save` writes it. `None` when the patch records none.
///
/// ```
/// let patch = b"Description: fix\nApplies-to: shlex 1.1.0\n\n--- a/src/lib.rs\n+++ b/src/lib.rs\n";
/// assert_eq!(build_patch::recorded_version(patch).as_deref(), Some("shlex 1.1.0"));
/// ```
pub fn recorded_version(patch: &[u8]) -> Option<String> {
    for line in patch.split(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if line.starts_with("diff --git ")
            || line.starts_with("--- ")
            || line.starts_with("Index: ")
        {
            return None;
        }
        if let Some(rest) = line.strip_prefix("Applies-to:") {
            return Some(rest.trim().to_string());
        }
    }
    None
}

/// The patches that record another version than the one staged: each
/// patch's name, and the `NAME VERSION` it records.
type MadeFor = Vec<(String, String)>;

/// What fixes a shim that disagrees with its patched upstream: `sync`, or,
/// for a shim whose version was changed without moving its patches,
/// `upgrade`.
struct ShimFix<'a> {
    dir: &'a Path,
    version: &'a str,
    /// What says the shim was made for another version, worded.
    moved: Option<String>,
}

impl ShimFix<'_> {
    /// The `help:` line (after a note when the shim was moved by hand);
    /// `what` says what `sync` does: "write it".
    fn help(&self, what: &str) -> String {
        match &self.moved {
            Some(moved) => format!(
                "note: {moved}\n  help: {} moves a shim to another version: it re-applies and \
                 refreshes the patches, then writes the shim's manifest, root and build script \
                 from the patched upstream",
                upgrade_command(self.dir, self.version)
            ),
            None => format!(
                "help: run `cargo build-patch sync {}` to {what} from the patched upstream",
                self.dir.display()
            ),
        }
    }
}

/// What says the shim was made for another version of `name` than
/// `version`: a patch's `Applies-to:` line, or the header `new` writes.
fn moved_from(
    name: &str,
    version: &str,
    made_for: &MadeFor,
    shim: &config::ShimManifest,
    manifest_path: &Path,
) -> Option<String> {
    let other = |recorded: &str| {
        recorded
            .strip_prefix(name)
            .and_then(|v| v.strip_prefix(' '))
            .is_some_and(|v| v != version)
    };
    let (recorded, source) = made_for
        .iter()
        .find(|(_, recorded)| other(recorded))
        .map(|(patch, recorded)| {
            (
                recorded.clone(),
                format!("the `Applies-to:` line of `{patch}`"),
            )
        })
        .or_else(|| {
            let header = shim.made_for.clone().filter(|h| other(h))?;
            Some((
                header,
                format!("the header comment of `{}`", manifest_path.display()),
            ))
        })?;
    Some(format!(
        "the shim was made for `{recorded}` ({source}), and its version is now {version}"
    ))
}

fn manifest_mismatch(
    name: &str,
    version: &str,
    shim_manifest: &Path,
    fix: &ShimFix<'_>,
    differences: &[String],
) -> Error {
    let mut text = format!(
        "the shim's manifest `{}` does not match the patched manifest of `{name} {version}`:",
        shim_manifest.display()
    );
    for d in differences {
        text.push_str("\n  - ");
        text.push_str(d);
    }
    text.push_str(&format!(
        "\n  Cargo resolves the shim from its own manifest, so these must agree.\n  {}",
        fix.help("regenerate it")
    ));
    Error::msg("manifest", text)
}

fn inexact_version(name: &str, version: &str) -> Error {
    Error::msg(
        "config",
        format!(
            "`version = \"{version}\"` for `{name}` is not one exact version\n  \
             help: patches are made against one release: write it as `1.2.3`"
        ),
    )
}

fn missing_setting(key: &str, manifest: &Path) -> Error {
    Error::msg(
        "config",
        format!(
            "no `{key}` for build-patch: set it in `[package.metadata.build-patch]` of `{}`",
            manifest.display()
        ),
    )
}

/// Reads and splits a library root (the upstream's or the shim's).
fn split_root_file(path: &Path) -> Result<root::SplitRoot> {
    root::split_root(&fs::read_to_string(path)?).map_err(|e| {
        Error::msg(
            "root",
            format!("cannot read the attributes of `{}`: {e}", path.display()),
        )
    })
}

#[cfg(feature = "generate")]
fn split_shim_root(text: &str) -> Result<root::SplitRoot> {
    root::split_root(text)
        .map_err(|e| Error::msg("root", format!("cannot read the shim's root: {e}")))
}

#[cfg(feature = "generate")]
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
#[cfg(feature = "generate")]
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

#[cfg(feature = "generate")]
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

/// Compares the compile-affecting crate attributes and the top-level
/// `extern crate` items of the patched upstream root with those of the shim's
/// own root.
fn check_crate_attributes(
    staged: &stage::Staged,
    shim_root: &Path,
    shim_rel: &Path,
    fix: &ShimFix<'_>,
) -> Result<()> {
    let upstream_path = staged.dir.join(&staged.manifest.lib_path);
    let upstream = split_root_file(&upstream_path)?;
    let shim = split_root_file(shim_root)?;
    match root::compare(&upstream, &shim) {
        None => Ok(()),
        Some(message) => Err(Error::msg(
            "root",
            format!(
                "{message}\n  (the shim's root is `{}`; the patched upstream root is `{}`)\n  {}",
                shim_rel.display(),
                upstream_path.display(),
                fix.help("write them")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_keys_are_found_outside_the_workspace_table() {
        let cases = [
            ("[package]\nname = 'a'\nversion = '1.0.0'\n", None),
            (
                "[workspace]\nmembers = ['a']\n[workspace.package]\nversion = '1'\n",
                None,
            ),
            (
                "[package]\nedition.workspace = true\n",
                Some("package.edition"),
            ),
            (
                "[dependencies]\nserde = { workspace = true }\n",
                Some("dependencies.serde"),
            ),
            (
                "[target.'cfg(unix)'.dependencies]\nlibc = { workspace = true }\n",
                Some("target.cfg(unix).dependencies.libc"),
            ),
        ];
        for (text, expected) in cases {
            let found = inherited_key(&toml::parse(text).unwrap(), "");
            assert_eq!(found.as_deref(), expected, "{text}");
        }
    }
}
