//! Upstream build scripts: the patched upstream `build.rs` runs as it would
//! from the registry.
//!
//! A build script must be compiled before it runs, and build-patch applies
//! the patches only when the shim's build script runs, so the patched
//! upstream build script has to be in the shim already when Cargo compiles
//! the shim's build script. `cargo build-patch new` and `sync` put it there:
//!
//! - the shim's build script is the patched upstream one, at the same path
//!   (`build.rs`, `build/main.rs`, ...), with its `fn main` renamed to
//!   [`RENAMED_MAIN`] and a short glue after [`GLUE_MARKER`] whose `main`
//!   calls build-patch with [`crate::Config::upstream_build_script`];
//! - the local files it needs at compile time (`mod` files, `include!`,
//!   `include_str!`, `include_bytes!`) are copied to the same paths;
//! - the shim lists the upstream's `[build-dependencies]` next to
//!   build-patch, and Cargo compiles the whole thing for the host, with the
//!   upstream's edition, as it would the upstream's.
//!
//! At build time the shim's build script stages the patched copy, checks that
//! its own copy of the build script is what the patched upstream says (else
//! the build fails with `cargo build-patch sync DIR`, like the manifest
//! check), then runs *itself* again as a child process with [`CHILD_ENV`]:
//! the child only calls the upstream `main`, in the staged copy, with the
//! upstream's `CARGO_MANIFEST_DIR` and `CARGO_PKG_*` and everything else Cargo
//! gave the shim's build script (`OUT_DIR`, `TARGET`, `CARGO_FEATURE_*`,
//! `CARGO_CFG_*`, `DEP_*`, the jobserver, ...). The parent reads the child's
//! stdout and forwards its directives, pointing `rerun-if-changed` paths at
//! the pristine source (which never changes; the patches are watched
//! already), so that a no-op build does not rerun the script.

//!
//! Only the parts every shim's build needs are here (where the script is,
//! the glue marker); copying and running the script are compiled with the
//! `upstream-build-script` feature ([`copy`], [`run`]), which `new` and
//! `sync` enable for a shim whose upstream has a build script. Without it,
//! the manifest check refuses such a shim (`manifest::compare`).

use std::path::{Component, Path, PathBuf};

use crate::manifest::BuildSetting;

#[cfg(feature = "upstream-build-script")]
mod copy;
#[cfg(feature = "upstream-build-script")]
mod run;

#[cfg(feature = "upstream-build-script")]
pub(crate) use copy::compare;
#[cfg(feature = "__fuzz")]
pub(crate) use copy::fuzz_entry;
#[cfg(feature = "generate")]
pub(crate) use copy::shim_files;
#[cfg(test)]
pub(crate) use copy::{references, rename_main, Ref};
#[cfg(feature = "upstream-build-script")]
pub(crate) use run::{run, Run};

/// The environment variable that makes a shim's build script run the
/// upstream `main` instead of building the shim. The child removes it before
/// calling `main`, so the upstream script sees the arguments and environment
/// Cargo gives build scripts, and whatever it starts does not inherit it.
#[cfg(feature = "upstream-build-script")]
pub(crate) const CHILD_ENV: &str = "__BUILD_PATCH_RUN_UPSTREAM_BUILD_SCRIPT";

/// Put before the first line of the shim's copy of the upstream build
/// script, on the same line (line numbers do not move): Cargo caps the lints
/// of a registry dependency, and a shim is a path dependency.
#[cfg(feature = "upstream-build-script")]
pub(crate) const ALLOW_WARNINGS: &str = "#![allow(warnings)] ";

/// What the upstream `fn main` of the build script is renamed to in the
/// shim's copy.
#[cfg(feature = "upstream-build-script")]
pub(crate) const RENAMED_MAIN: &str = "__build_patch_upstream_main";

/// The line that separates the shim's copy of the upstream build script from
/// the glue that runs it. What follows it is the shim's own and is kept by
/// `cargo build-patch sync`.
pub(crate) const GLUE_MARKER: &str =
    "// ---- build-patch: everything above is the patched upstream build script ----";

/// The build script the shim has when the upstream has none.
#[cfg(feature = "generate")]
pub(crate) const PLAIN_BUILD_RS: &str = "fn main() {\n    build_patch::build();\n}\n";

/// Where the build script of a package is, relative to its root: the
/// `build` key, else `build.rs` when that file exists.
pub(crate) fn script_path(setting: &Option<BuildSetting>, root: &Path) -> Option<PathBuf> {
    match setting {
        Some(BuildSetting::Off) => None,
        Some(BuildSetting::Path(p)) => Some(normalize(Path::new(p))),
        None if root.join("build.rs").is_file() => Some(PathBuf::from("build.rs")),
        None => None,
    }
}

/// The glue of an existing shim build script (what follows
/// [`GLUE_MARKER`]), to keep it when the script is regenerated.
pub(crate) fn existing_glue(text: &str) -> Option<&str> {
    let at = crate::lex::find_str(text, GLUE_MARKER)?;
    let rest = &text[at + GLUE_MARKER.len()..];
    if let Some(glue) = rest.strip_prefix("\r\n") {
        return Some(glue);
    }
    Some(rest.strip_prefix('\n').unwrap_or(rest))
}

/// `path` without `.` components.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        if c != Component::CurDir {
            out.push(c);
        }
    }
    out
}
