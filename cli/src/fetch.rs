//! `fetch`: the pristine source of every shim of the workspace, into
//! Cargo's cache, as the shims' builds would get it (the library's staging,
//! with its nested `cargo metadata`), so that an offline build finds them.
//!
//! `cargo fetch` cannot do it: a graph-wide shim replaces the upstream in
//! the lock file, so Cargo never downloads the upstream itself.

use anyhow::{anyhow, Result};
use std::path::Path;

use crate::shell::Shell;
use crate::workspace::{ShimInfo, Workspace};

pub fn fetch(shell: &Shell, cwd: &Path) -> Result<()> {
    let ws = Workspace::load(cwd)?;
    if ws.shims.is_empty() {
        return Err(anyhow!(
            "this workspace uses no build-patch shim: there is nothing to fetch\n  help: run \
             from the workspace that uses the shims"
        ));
    }
    let mut failed = 0;
    for dir in &ws.shims {
        let label = crate::fs::relative_path(cwd, dir);
        match fetch_one(dir) {
            Ok(shim) => {
                let what = format!("{} {}", shim.upstream, shim.version);
                match &shim.source {
                    Some(src) => shell.status(
                        "Found",
                        &format!("{what} in `{src}`, the shim's `source` (`{label}`)"),
                    ),
                    None => shell.status("Fetched", &format!("{what} for `{label}`")),
                }
            }
            Err(e) => {
                failed += 1;
                shell.error(&format!("shim `{label}`: {e:#}"));
            }
        }
    }
    if failed > 0 {
        return Err(anyhow!(
            "{failed} of {} shim(s) could not get their source\n  help: fix the errors above \
             and run `cargo build-patch fetch` again",
            ws.shims.len()
        ));
    }
    Ok(())
}

/// Stages the shim's pristine upstream into a scratch folder, with the
/// network allowed: it is then in Cargo's cache.
fn fetch_one(dir: &Path) -> Result<ShimInfo> {
    let shim = ShimInfo::read(dir)?;
    let scratch = crate::fs::scratch_dir()?;
    shim.config_with(scratch.path(), &[], &shim.version)
        .offline(false)
        .stage()
        .map_err(crate::opaque)?;
    Ok(shim)
}
