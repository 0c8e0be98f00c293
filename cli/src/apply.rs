//! `apply`: the patch engine on any directory, as `patch -p1 -d DIR` is used.

use std::path::Path;

use build_patch::patch::{self, ApplyOptions};

use crate::shell::Shell;
use crate::ApplyArgs;

pub fn apply(shell: &Shell, args: &ApplyArgs) -> Result<(), String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let (patches, _) = patch::load_patch_list(&cwd, &args.patches).map_err(|e| e.to_string())?;
    let mut options = ApplyOptions::new();
    options.strip(args.strip).fuzz(args.fuzz);

    // A dry run applies to a scratch copy, so DIR is never touched.
    let scratch;
    let target: &Path = if args.dry_run {
        scratch =
            tempfile::tempdir().map_err(|e| format!("cannot create a scratch folder: {e}"))?;
        copy_dir(&args.dir, scratch.path())?;
        scratch.path()
    } else {
        &args.dir
    };
    let applied = patch::apply_to_dir(target, &patches, &options).map_err(|e| e.to_string())?;
    for report in applied.patches() {
        let verb = if args.dry_run { "Checked" } else { "Applied" };
        let n = report.hunks().len();
        let plural = if n == 1 { "" } else { "s" };
        shell.status(verb, &format!("{} ({n} hunk{plural})", report.display()));
    }
    for w in applied.warnings() {
        shell.warn(&w);
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let rd =
        std::fs::read_dir(from).map_err(|e| format!("cannot read `{}`: {e}", from.display()))?;
    for entry in rd {
        let entry = entry.map_err(|e| format!("cannot read `{}`: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ft = entry
            .file_type()
            .map_err(|e| format!("cannot inspect `{}`: {e}", src.display()))?;
        if ft.is_dir() {
            std::fs::create_dir(&dst)
                .map_err(|e| format!("cannot create `{}`: {e}", dst.display()))?;
            copy_dir(&src, &dst)?;
        } else if ft.is_file() {
            std::fs::copy(&src, &dst)
                .map_err(|e| format!("cannot copy `{}`: {e}", src.display()))?;
        }
    }
    Ok(())
}
