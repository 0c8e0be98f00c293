//! `cargo build-patch`: the command-line companion of the build-patch library.
//!
//! Cargo runs an external subcommand `cargo build-patch ARGS` as
//! `cargo-build-patch build-patch ARGS`, hence the outer `cargo` command with
//! one subcommand. Errors exit with status 101, like Cargo's.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use build_patch::patch::{self, ApplyOptions};
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Patch Cargo dependencies with ordinary patch files.
    #[command(name = "build-patch", version, about, long_about = None)]
    BuildPatch(BuildPatch),
}

#[derive(Args, Debug)]
struct BuildPatch {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Apply patches to a directory, all or nothing, as `patch -p1 -d DIR` would.
    Apply(ApplyArgs),
}

#[derive(Args, Debug)]
struct ApplyArgs {
    /// Leading path components to strip from names in the patches.
    #[arg(short = 'p', long = "strip", value_name = "N", default_value_t = 1)]
    strip: usize,
    /// Context lines a hunk may ignore when it does not match exactly.
    #[arg(long, value_name = "N", default_value_t = 0)]
    fuzz: usize,
    /// Check that everything applies, without changing DIR.
    #[arg(long)]
    dry_run: bool,
    /// The directory to patch.
    dir: PathBuf,
    /// Patch files, directories of patches, or quilt `series` files, in order.
    #[arg(required = true, value_name = "PATCH")]
    patches: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let Cargo::BuildPatch(args) = Cargo::parse();
    let shell = Shell::new();
    let result = match args.command {
        Command::Apply(a) => apply(&shell, &a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            shell.error(&e);
            ExitCode::from(101)
        }
    }
}

fn apply(shell: &Shell, args: &ApplyArgs) -> Result<(), String> {
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
        shell.status(
            verb,
            &format!("{} ({} hunks)", report.display(), report.hunks().len()),
        );
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

/// Status output in Cargo's style: a right-aligned word in 12 columns,
/// coloured only on a terminal.
struct Shell {
    color: bool,
}

impl Shell {
    fn new() -> Shell {
        Shell {
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn print(&self, word: &str, code: &str, text: &str, align: bool) {
        let word = if align {
            format!("{word:>12}")
        } else {
            word.to_string()
        };
        let mut err = std::io::stderr().lock();
        let _ = if self.color {
            writeln!(err, "\x1b[1;{code}m{word}\x1b[0m {text}")
        } else {
            writeln!(err, "{word} {text}")
        };
    }

    fn status(&self, word: &str, text: &str) {
        self.print(word, "32", text, true);
    }

    fn warn(&self, text: &str) {
        self.print("warning:", "33", text, false);
    }

    fn error(&self, text: &str) {
        self.print("error:", "31", text, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cargo::command().debug_assert();
    }
}
