//! A shim's build, step by step.
//!
//! The first step, [`Inputs::read`], reads every input once: the builder's
//! settings and overrides, and what Cargo's environment says where the
//! builder is silent. Nothing after it reads the environment. Then, each
//! step taking plain values:
//!
//! 1. config: the shim's `Cargo.toml` and its `[package.metadata.build-patch]`,
//!    merged with the builder's settings ([`read_shim`]);
//! 2. source: the patch list, then the pristine source ([`stage_upstream`]);
//! 3. stage: copy, patch, compile root (`stage::stage`);
//! 4. checks: the shim's manifest, its root, its copy of the upstream build
//!    script (which then runs);
//! 5. directives: what the compiled code sees, printed by the caller.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{self, Settings, VersionMismatch};
use crate::directives::Directives;
use crate::error::{Error, ErrorKind, Result};
use crate::{
    build_script, fs, manifest, patch, recorded_version, root, source, stage, Config, Output,
};

/// Every input of a build, read once: the builder's values, and Cargo's
/// environment where the builder sets none.
pub(crate) struct Inputs {
    /// The builder's settings (they win over the manifest's).
    pub settings: Settings,
    /// [`Config::manifest_dir`], when set: then this is not a shim's build
    /// script, and Cargo's package variables are not the shim's.
    pub manifest_dir: Option<PathBuf>,
    /// `CARGO_MANIFEST_DIR`.
    pub cargo_manifest_dir: Option<PathBuf>,
    /// [`Config::out_dir`], else `OUT_DIR`.
    pub out_dir: Option<PathBuf>,
    /// [`Config::package`].
    pub package_name: Option<String>,
    pub package_version: Option<String>,
    /// `CARGO_PKG_NAME` and `CARGO_PKG_VERSION`.
    pub cargo_pkg_name: Option<String>,
    pub cargo_pkg_version: Option<String>,
    /// [`Config::cargo`], else `CARGO`, else `cargo`.
    pub cargo: PathBuf,
    /// [`Config::cargo_home`], else `CARGO_HOME`, else `~/.cargo`.
    pub cargo_home: Option<PathBuf>,
    /// [`Config::target`], else `TARGET`.
    pub target: Option<String>,
    /// [`Config::offline`], else whether the outer Cargo is offline.
    pub offline: bool,
    pub upstream_main: Option<fn() -> ExitCode>,
    /// [`Config::compiled_for`] (checked with the `upstream-build-script`
    /// feature, which the shims whose glue sets it have).
    #[cfg_attr(not(feature = "upstream-build-script"), allow(dead_code))]
    pub compiled_for: Option<PathBuf>,
    pub verify_only: bool,
}

/// A variable of the process environment, unset when empty.
fn env_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn env_string(name: &str) -> Option<String> {
    match env_var(name) {
        Some(v) => v.into_string().ok(),
        None => None,
    }
}

/// The builder's `value`, else the variable `var`.
fn path_or_env(value: &Option<PathBuf>, var: &str) -> Option<PathBuf> {
    match value {
        Some(v) => Some(v.clone()),
        None => env_var(var).map(PathBuf::from),
    }
}

/// The builder's `value`, else the variable `var`.
fn string_or_env(value: &Option<String>, var: &str) -> Option<String> {
    match value {
        Some(v) => Some(v.clone()),
        None => env_string(var),
    }
}

/// The first of `options` that is set.
#[allow(clippy::manual_flatten)] // a plain loop: less code to compile than `flatten`
fn first(options: &[&Option<String>]) -> Option<String> {
    for o in options {
        if let Some(v) = o {
            return Some(v.clone());
        }
    }
    None
}

impl Inputs {
    /// The only reader of the process environment (but the marker of the
    /// upstream build script's child process, see [`run_upstream_child`]).
    pub fn read(cfg: &Config) -> Inputs {
        let cargo_home = match &cfg.cargo_home {
            Some(dir) => Some(dir.clone()),
            None => {
                let home = match std::env::var_os("HOME") {
                    Some(home) => Some(home),
                    None => std::env::var_os("USERPROFILE"),
                };
                source::default_cargo_home(env_var("CARGO_HOME"), home)
            }
        };
        Inputs {
            settings: cfg.settings.clone(),
            manifest_dir: cfg.manifest_dir.clone(),
            cargo_manifest_dir: path_or_env(&None, "CARGO_MANIFEST_DIR"),
            out_dir: path_or_env(&cfg.out_dir, "OUT_DIR"),
            package_name: cfg.package_name.clone(),
            package_version: cfg.package_version.clone(),
            cargo_pkg_name: env_string("CARGO_PKG_NAME"),
            cargo_pkg_version: env_string("CARGO_PKG_VERSION"),
            cargo: path_or_env(&cfg.cargo, "CARGO").unwrap_or(PathBuf::from("cargo")),
            cargo_home,
            target: string_or_env(&cfg.target, "TARGET"),
            offline: match cfg.offline {
                Some(offline) => offline,
                None => source::parent_cargo_is_offline(),
            },
            upstream_main: cfg.upstream_main,
            compiled_for: cfg.compiled_for.clone(),
            verify_only: cfg.verify_only,
        }
    }

    /// Whether the patches are the builder's (`Config::patch`), not the
    /// manifest's: `upgrade` only refreshes those the manifest lists.
    fn builder_patches(&self) -> bool {
        self.settings.patches.is_some()
    }
}

/// A value Cargo sets for a build script, or the builder's.
fn required(value: &Option<PathBuf>, var: &str) -> Result<PathBuf> {
    match value {
        Some(v) => Ok(v.clone()),
        None => Err(Error::new(
            ErrorKind::Config,
            format!(
                "`{var}` is not set: build-patch runs from a build script (`build.rs`), \
                 where Cargo sets it; elsewhere set it on the `Config`"
            ),
        )),
    }
}

/// In the child process that runs the upstream build script (marked by a
/// private environment variable), runs `main` and returns its exit code;
/// elsewhere `None`. The marker is removed first: `main` must not see (nor
/// pass on) it. Without the `upstream-build-script` feature nothing starts
/// that child.
#[cfg(feature = "upstream-build-script")]
pub(crate) fn run_upstream_child(main: Option<fn() -> ExitCode>) -> Option<ExitCode> {
    let main = main?;
    env_var(build_script::CHILD_ENV)?;
    std::env::remove_var(build_script::CHILD_ENV);
    let code = main();
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    Some(code)
}

/// See above: without the feature, this process is never that child.
#[cfg(not(feature = "upstream-build-script"))]
pub(crate) fn run_upstream_child(_main: Option<fn() -> ExitCode>) -> Option<ExitCode> {
    None
}

/// `Config::stage`: the patched upstream without a shim.
#[cfg(feature = "generate")]
pub(crate) fn stage_only(cfg: &Config) -> Result<Output> {
    let inputs = Inputs::read(cfg);
    let base = match &inputs.manifest_dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().map_err(crate::fs::io_error(
            "read",
            Path::new("the current directory"),
        ))?,
    };
    let (Some(name), Some(version)) = (&inputs.settings.crate_name, &inputs.settings.version)
    else {
        return Err(Error::new(
            ErrorKind::Config,
            "`Config::stage` needs the upstream crate and version: call `Config::upstream`",
        ));
    };
    let mut directives = Directives::default();
    let upstream = stage_upstream(
        &inputs,
        &inputs.settings,
        &base,
        name,
        version,
        &mut directives,
    )?;
    Ok(Output::new(upstream.staged, directives.into_lines()))
}

/// `Config::check_shim`: the shim's manifest, without staging.
#[cfg(feature = "generate")]
pub(crate) fn check_shim(cfg: &Config) -> Result<()> {
    let inputs = Inputs::read(cfg);
    let shim = read_shim(&inputs, &mut Directives::default())?;
    if !config::is_exact_version(&shim.version) {
        return Err(inexact_version(&shim.name, &shim.version));
    }
    shim.settings.remote(&shim.manifest_path)?;
    Ok(())
}

/// A shim's build: read the shim, stage, check the shim against the patched
/// upstream, and say what the compiled code sees. Returns what it did and
/// the directives, not yet printed.
pub(crate) fn build(cfg: &Config) -> Result<Output> {
    let inputs = Inputs::read(cfg);
    // A tool names the shim; a shim's own build script that only verified
    // would compile the crate without its upstream build script.
    if inputs.verify_only && inputs.manifest_dir.is_none() {
        return Err(Error::new(
            ErrorKind::Config,
            "`Config::verify_only` is for tools, which name the shim with \
             `Config::manifest_dir`: in a shim's build script it would skip the upstream \
             build script\n  help: remove `.verify_only(...)` from the shim's build script",
        ));
    }
    let mut directives = Directives::default();
    // Kept whole (not taken apart): an early return then drops one value.
    let shim = read_shim(&inputs, &mut directives)?;
    #[cfg(feature = "upstream-build-script")]
    check_compiled_for(&inputs, &shim)?;
    let up = match stage_upstream(
        &inputs,
        &shim.settings,
        &shim.manifest_dir,
        &shim.name,
        &shim.version,
        &mut directives,
    ) {
        Ok(up) => up,
        // `upgrade` refreshes the patches the manifest lists, not those a
        // build script gives in code.
        Err(e) if inputs.builder_patches() => return Err(e),
        Err(e) => return Err(with_refresh_help(e, &shim.manifest_dir, &shim.version)),
    };
    check_against_upstream(&inputs, &shim, &up, &mut directives)?;
    Ok(Output::new(up.staged, directives.into_lines()))
}

/// Checks the shim against the patched upstream, and runs the upstream build
/// script.
fn check_against_upstream(
    inputs: &Inputs,
    shim: &Shim,
    up: &Upstream,
    directives: &mut Directives,
) -> Result<()> {
    let (name, version, staged) = (&shim.name, &shim.version, &up.staged);
    // The shim must say what the patched upstream says: its manifest (Cargo
    // resolves from it) and its crate-level attributes (include! drops them).
    let fix = ShimFix {
        dir: &shim.manifest_dir,
        version,
        moved: moved_from(
            name,
            version,
            &up.made_for,
            &shim.manifest,
            &shim.manifest_path,
        ),
    };
    let differences = manifest::compare(
        &staged.manifest.model,
        staged.build_script.as_deref(),
        &shim.manifest.model,
    );
    if !differences.is_empty() {
        return Err(manifest_mismatch(
            name,
            version,
            &shim.manifest_path,
            &fix,
            &differences,
        ));
    }
    let shim_root = shim.manifest_dir.join(&shim.manifest.lib_path);
    directives.rerun_if_changed(&shim_root);
    check_crate_attributes(staged, &shim_root, &shim.manifest.lib_path, &fix)?;

    // What the patched code sees at compile time.
    directives.rustc_env("CARGO_MANIFEST_DIR", &staged.dir.display().to_string());
    directives.rustc_env(
        "CARGO_MANIFEST_PATH",
        &staged.dir.join("Cargo.toml").display().to_string(),
    );
    for (key, value) in &staged.manifest.pkg_env {
        directives.rustc_env(key, value);
    }

    // The upstream build script, compiled into the shim's: check the copy,
    // then run it.
    upstream_build_script(
        inputs,
        staged,
        &up.pristine_dir,
        &shim.manifest,
        &shim.manifest_dir,
        &fix,
        directives,
    )
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
fn read_shim(inputs: &Inputs, directives: &mut Directives) -> Result<Shim> {
    let manifest_dir = match &inputs.manifest_dir {
        Some(dir) => dir.clone(),
        None => required(&inputs.cargo_manifest_dir, "CARGO_MANIFEST_DIR")?,
    };
    let manifest_path = manifest_dir.join("Cargo.toml");
    directives.rerun_if_changed(&manifest_path);
    let mut shim =
        config::parse_shim_manifest(&fs::read_to_string(&manifest_path)?, &manifest_path)?;
    let metadata_version = shim.settings.version.clone();
    let settings = inputs
        .settings
        .clone()
        .or(std::mem::take(&mut shim.settings));
    // The shim's own name and version: the builder's, its manifest's, or,
    // in a build script (where Cargo's variables are the shim's), Cargo's.
    let (cargo_name, cargo_version) = match inputs.manifest_dir {
        None => (&inputs.cargo_pkg_name, &inputs.cargo_pkg_version),
        Some(_) => (&None, &None),
    };
    let package_name = first(&[&inputs.package_name, &shim.name, cargo_name]);
    let package_version = first(&[&inputs.package_version, &shim.version, cargo_version]);
    let Some(name) = first(&[&settings.crate_name, &package_name, &inputs.cargo_pkg_name]) else {
        return Err(missing_setting("crate", &manifest_path));
    };
    let Some(version) = first(&[
        &settings.version,
        &package_version,
        &inputs.cargo_pkg_version,
    ]) else {
        return Err(missing_setting("version", &manifest_path));
    };
    if let (Some(package_name), Some(package_version)) = (&package_name, &package_version) {
        check_graph_wide_version(
            package_name,
            package_version,
            &name,
            &version,
            metadata_version.as_deref(),
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
    Err(Error::new(
        ErrorKind::Config,
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

/// The shim's build script runs an upstream one that `what` does not have.
fn no_upstream_script(what: &str, sync_help: &str) -> Error {
    Error::new(
        ErrorKind::BuildScript,
        format!(
            "the shim's build script runs an upstream build script, but the patched \
             `{what}` has none\n  {sync_help}"
        ),
    )
}

/// Refuses a shim whose build script is not the patched upstream's `script`.
#[cfg(feature = "upstream-build-script")]
fn check_script_copy(
    staged_dir: &Path,
    script: &Path,
    shim: &config::ShimManifest,
    shim_dir: &Path,
    what: &str,
    sync_help: &str,
) -> Result<()> {
    let shim_script = build_script::script_path(&shim.model.build, shim_dir);
    let mut differences = Vec::new();
    if shim_script.as_deref() != Some(script) {
        differences.push(format!(
            "[package] build: upstream `{}`, the shim {}",
            script.display(),
            shim_script.map_or("none".to_string(), |s| format!("`{}`", s.display()))
        ));
    } else {
        differences.extend(build_script::compare(staged_dir, script, shim_dir)?);
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
        return Err(Error::new(ErrorKind::BuildScript, text));
    }
    Ok(())
}

/// Checks the shim's copy of the patched upstream build script and runs it.
#[cfg_attr(not(feature = "upstream-build-script"), allow(unused_variables))]
fn upstream_build_script(
    inputs: &Inputs,
    staged: &stage::Staged,
    pristine_dir: &Path,
    shim: &config::ShimManifest,
    shim_dir: &Path,
    fix: &ShimFix<'_>,
    directives: &mut Directives,
) -> Result<()> {
    let what = format!("{} {}", staged.manifest.name, staged.manifest.version);
    let sync_help = fix.help("write it");
    let script = match (staged.build_script.as_deref(), inputs.upstream_main) {
        (Some(script), _) if inputs.verify_only => script,
        // A tool cannot see whether the shim's script calls an upstream
        // `main`: its text says so.
        (None, main) if inputs.verify_only => {
            let generated = build_script::script_path(&shim.model.build, shim_dir)
                .and_then(|s| std::fs::read_to_string(shim_dir.join(s)).ok())
                .is_some_and(|t| build_script::existing_glue(&t).is_some());
            if !generated && main.is_none() {
                return Ok(());
            }
            return Err(no_upstream_script(&what, &sync_help));
        }
        (None, None) => return Ok(()),
        (Some(script), None) => {
            return Err(Error::new(
                ErrorKind::BuildScript,
                format!(
                    "the patched `{what}` has a build script (`{}`), and the shim's build script \
                     does not run it: the crate would compile without its cfgs, generated code \
                     and link directives\n  {sync_help}",
                    script.display()
                ),
            ))
        }
        (None, Some(_)) => return Err(no_upstream_script(&what, &sync_help)),
        (Some(script), Some(_)) => script,
    };
    #[cfg(not(feature = "upstream-build-script"))]
    return Err(feature_off(&what, script));
    #[cfg(feature = "upstream-build-script")]
    {
        check_script_copy(&staged.dir, script, shim, shim_dir, &what, &sync_help)?;
        if inputs.verify_only {
            return Ok(());
        }
        build_script::run(
            &build_script::Run {
                staged: &staged.dir,
                pristine: pristine_dir,
                pkg_env: &staged.manifest.pkg_env,
                what: &what,
            },
            directives,
        )?;
        // The upstream script shares OUT_DIR with build-patch, which owns
        // `OUT_DIR/build-patch/`.
        if !staged.entry.is_file() || !staged.dir.is_dir() {
            return Err(Error::new(
                ErrorKind::BuildScript,
                format!(
                    "the build script of `{what}` removed `{}`, which build-patch owns in \
                     OUT_DIR\n  see docs/limits.md, \"Upstream build scripts\"",
                    staged.entry.parent().unwrap_or(&staged.entry).display()
                ),
            ));
        }
        Ok(())
    }
}

/// A shim whose upstream has a build script, built without the feature that
/// runs it. The manifest check refuses such a shim first: it passes only
/// when the shim's own `[build-dependencies]` entry enables the feature,
/// and Cargo then compiles it in. This is the guard should a shim get here
/// some other way: never stage it without its build script.
#[cfg(not(feature = "upstream-build-script"))]
fn feature_off(what: &str, script: &Path) -> Error {
    Error::new(
        ErrorKind::BuildScript,
        format!(
            "the patched `{what}` has a build script (`{}`), and this build of build-patch \
             cannot run it: it was compiled without its feature `{}`\n  help: enable it for \
             every host, in the shim's `[build-dependencies]`: `{} = {{ version = \"{}\", \
             features = [\"{}\"] }}`",
            script.display(),
            manifest::BUILD_SCRIPT_FEATURE,
            manifest::BUILD_PATCH,
            env!("CARGO_PKG_VERSION"),
            manifest::BUILD_SCRIPT_FEATURE,
        ),
    )
}

/// Refuses a shim's build script that Cargo compiled for another shim
/// directory ([`Config::compiled_for`]): it holds that shim's copy of the
/// upstream build script.
#[cfg(feature = "upstream-build-script")]
fn check_compiled_for(inputs: &Inputs, shim: &Shim) -> Result<()> {
    let Some(compiled) = &inputs.compiled_for else {
        return Ok(());
    };
    if *compiled == shim.manifest_dir {
        return Ok(());
    }
    let script = build_script::script_path(&shim.manifest.model.build, &shim.manifest_dir)
        .unwrap_or_else(|| PathBuf::from("build.rs"));
    Err(Error::new(
        ErrorKind::BuildScript,
        format!(
            "the shim's build script was compiled for the shim in `{}`, and Cargo runs it for \
             the one in `{}`: it reused another workspace's build of a shim at the same place \
             in a shared target directory (rust-lang/cargo#12516), so the copy of the upstream \
             build script in it is that shim's\n  help: `touch {}` to rebuild it, and give \
             each workspace its own target directory; see docs/limits.md, \"Wiring\"",
            compiled.display(),
            shim.manifest_dir.display(),
            shim.manifest_dir.join(script).display()
        ),
    ))
}

/// The patched upstream, staged.
struct Upstream {
    staged: stage::Staged,
    /// The pristine source's directory.
    pristine_dir: PathBuf,
    /// The patches that record another version.
    made_for: MadeFor,
}

/// Finds the pristine source of `name version` (a `source` copy, Cargo's
/// cache, or a fetch into `work_dir/fetch`), watching what says which it is.
fn find_pristine(
    inputs: &Inputs,
    settings: &Settings,
    base_dir: &Path,
    name: &str,
    version: &str,
    work_dir: &Path,
    directives: &mut Directives,
) -> Result<source::Pristine> {
    let local = settings.source.as_ref().map(|s| base_dir.join(s));
    if let Some(dir) = &local {
        directives.rerun_if_changed(dir);
    }
    let fetch_dir = work_dir.join("fetch");
    let remote = settings.remote(&base_dir.join("Cargo.toml"))?;
    let pristine = source::find(&source::Request {
        name,
        version,
        remote: &remote,
        local: local.as_deref(),
        cargo_home: inputs.cargo_home.as_deref(),
        cargo: &inputs.cargo,
        cwd: base_dir,
        work_dir: &fetch_dir,
        target: inputs.target.as_deref(),
        offline: inputs.offline,
    })?;
    // A branch is what `Cargo.lock` says: `cargo update` that moves it
    // restages.
    if source::follows_lock(&remote) {
        if let Some(lock) = source::nearest_lock(base_dir) {
            directives.rerun_if_changed(&lock);
        }
    }
    Ok(pristine)
}

/// Finds, stages and patches the upstream; everything but the shim.
fn stage_upstream(
    inputs: &Inputs,
    settings: &Settings,
    base_dir: &Path,
    name: &str,
    version: &str,
    directives: &mut Directives,
) -> Result<Upstream> {
    let out_dir = required(&inputs.out_dir, "OUT_DIR")?;
    if !config::is_exact_version(version) {
        return Err(inexact_version(name, version));
    }

    // The patches, read once; every file read is watched.
    let (patches, read_paths) = load_patches(base_dir, settings)?;
    for p in &read_paths {
        directives.rerun_if_changed(p);
    }
    let made_for =
        check_recorded_versions(&patches, name, version, base_dir, settings, directives)?;

    // The pristine source.
    let work_dir = out_dir.join("build-patch");
    let pristine = find_pristine(
        inputs, settings, base_dir, name, version, &work_dir, directives,
    )?;

    let staged = match stage::stage(&stage::StageRequest {
        name,
        version,
        pristine: &pristine,
        patches: &patches,
        strip: settings.strip.unwrap_or(1),
        fuzz: settings.fuzz.unwrap_or(0),
        work_dir: &work_dir,
    }) {
        Ok(staged) => staged,
        Err(e) => return Err(with_made_for(e, &made_for, name, version)),
    };
    check_staged(&staged, &pristine.dir, name, version)?;
    for s in &staged.skipped {
        directives.warning(&format!(
            "build-patch: not copied from `{name} {version}`: {s}"
        ));
    }
    // GNU patch says so too: context that no longer matches is a patch to
    // refresh before it stops applying.
    if !staged.fuzzed.is_empty() {
        let refresh = if !inputs.builder_patches() {
            format!(" with {}", upgrade_command(base_dir, version))
        } else {
            String::new()
        };
        for s in &staged.fuzzed {
            directives.warning(&format!("build-patch: {s}; refresh the patch{refresh}"));
        }
    }
    Ok(Upstream {
        staged,
        pristine_dir: pristine.dir,
        made_for,
    })
}

/// The shim's patches and the files read for them (a quilt `series` too).
fn load_patches(
    base_dir: &Path,
    settings: &Settings,
) -> Result<(Vec<patch::PatchFile>, Vec<PathBuf>)> {
    match patch::load_patch_list(base_dir, settings.patches.as_deref().unwrap_or(&[])) {
        Ok(loaded) => Ok(loaded),
        Err(e) if e.kind() == patch::PatchErrorKind::Io => Err(Error::from(e).with_help(format!(
            "patch paths are relative to `{}` (those in a quilt `series`, to the series' \
             directory): check the list of patches",
            base_dir.display()
        ))),
        Err(e) => Err(Error::from(e)),
    }
}

/// A patch made for another version says so where it fails.
fn with_made_for(e: Error, made_for: &MadeFor, name: &str, version: &str) -> Error {
    let Some(failed) = e.as_patch_error().and_then(|p| p.patch_file()) else {
        return e;
    };
    for (patch, recorded) in made_for {
        if patch == failed {
            return e.with_note(format!(
                "note: `{patch}` was made for `{recorded}` (its `Applies-to:` line), and this is \
                 `{name} {version}`"
            ));
        }
    }
    e
}

/// Refuses a staged source that is not the crate asked for, or that inherits
/// from a workspace.
fn check_staged(
    staged: &stage::Staged,
    pristine_dir: &Path,
    name: &str,
    version: &str,
) -> Result<()> {
    // A package of a git repository's workspace is not normalised as a
    // published crate is: what it inherits is in another manifest.
    if let Some(key) = &staged.manifest.inherited {
        return Err(Error::new(
            ErrorKind::Source,
            format!(
                "the source found for `{name} {version}` at `{}` inherits `{key}` from its \
                 workspace (`workspace = true`), which build-patch cannot read: the shim would \
                 not say what Cargo builds\n  \
                 help: see docs/limits.md, \"Git and alternative registries\"; a published \
                 version of the crate, or a `source` copy whose `Cargo.toml` states its \
                 fields, works",
                pristine_dir.display()
            ),
        ));
    }
    if staged.manifest.name != name || staged.manifest.version != version {
        return Err(Error::new(
            ErrorKind::Source,
            format!(
                "the source found for `{name} {version}` at `{}` is `{} {}`",
                pristine_dir.display(),
                staged.manifest.name,
                staged.manifest.version
            ),
        ));
    }
    Ok(())
}

/// A patch that stopped applying, met in a shim's build: the CLI can help
/// redo it.
fn with_refresh_help(e: Error, shim_dir: &Path, version: &str) -> Error {
    use crate::patch::PatchErrorKind as K;
    match e.as_patch_error().map(|p| p.kind()) {
        Some(K::HunkFailed | K::MissingFile | K::DeleteMismatch | K::FileExists) => {
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
    let dir = if dir.as_bytes().contains(&b' ') {
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
        if settings.version_mismatch == Some(VersionMismatch::Error) {
            return Err(Error::new(
                ErrorKind::Patch,
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
    let mut found = None;
    for (patch, recorded) in made_for {
        if names_other_version(recorded, name, version) {
            found = Some((recorded, format!("the `Applies-to:` line of `{patch}`")));
            break;
        }
    }
    if found.is_none() {
        if let Some(header) = &shim.made_for {
            if names_other_version(header, name, version) {
                found = Some((
                    header,
                    format!("the header comment of `{}`", manifest_path.display()),
                ));
            }
        }
    }
    let (recorded, source) = found?;
    Some(format!(
        "the shim was made for `{recorded}` ({source}), and its version is now {version}"
    ))
}

/// Whether `recorded` (`NAME VERSION`) is `name` at another version.
fn names_other_version(recorded: &str, name: &str, version: &str) -> bool {
    match recorded.strip_prefix(name) {
        Some(rest) => match rest.strip_prefix(' ') {
            Some(v) => v != version,
            None => false,
        },
        None => false,
    }
}

fn manifest_mismatch(
    name: &str,
    version: &str,
    shim_manifest: &Path,
    fix: &ShimFix<'_>,
    differences: &[manifest::Difference<'_>],
) -> Error {
    let mut text = format!(
        "the shim's manifest `{}` does not match the patched manifest of `{name} {version}`:",
        shim_manifest.display()
    );
    for d in differences {
        text.push_str("\n  - ");
        text.push_str(&d.text);
    }
    text.push_str(&format!(
        "\n  Cargo resolves the shim from its own manifest, so these must agree.\n  {}",
        fix.help("regenerate it")
    ));
    Error::new(ErrorKind::Manifest, text)
}

fn inexact_version(name: &str, version: &str) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "`version = \"{version}\"` for `{name}` is not one exact version\n  \
             help: patches are made against one release: write it as `1.2.3`"
        ),
    )
}

fn missing_setting(key: &str, manifest: &Path) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "no `{key}` for build-patch: set it in `[package.metadata.build-patch]` of `{}`",
            manifest.display()
        ),
    )
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
    let shim = stage::split_root_file(shim_root)?;
    match root::compare(&staged.root, &shim) {
        None => Ok(()),
        Some(message) => Err(Error::new(
            ErrorKind::Root,
            format!(
                "{message}\n  (the shim's root is `{}`; the patched upstream root is `{}`)\n  {}",
                shim_rel.display(),
                upstream_path.display(),
                fix.help("write them")
            ),
        )),
    }
}
