//! `apply`: the patch engine on any directory, as `patch -p1 -d DIR` is used.

use anyhow::Result;
use build_patch::patch::{self, ApplyOptions};

use crate::shell::Shell;
use crate::ApplyArgs;

pub fn apply(shell: &Shell, args: &ApplyArgs) -> Result<()> {
    let cwd = crate::fs::current_dir()?;
    let (patches, _) = patch::load_patch_list(&cwd, &args.patches).map_err(crate::opaque)?;
    let mut options = ApplyOptions::new();
    options.strip(args.strip).fuzz(args.fuzz);

    // A dry run applies in memory, so DIR is only read.
    let (applied, verb) = if args.dry_run {
        let changes =
            patch::apply_in_memory(&args.dir, &patches, &options).map_err(crate::opaque)?;
        (changes.into_parts().0, "Checked")
    } else {
        let applied = patch::apply_to_dir(&args.dir, &patches, &options).map_err(crate::opaque)?;
        (applied, "Applied")
    };
    for report in applied.patches() {
        let n = report.hunks().len();
        let plural = if n == 1 { "" } else { "s" };
        shell.status(verb, &format!("{} ({n} hunk{plural})", report.display()));
    }
    for w in applied.warnings() {
        shell.warn(&w);
    }
    Ok(())
}
