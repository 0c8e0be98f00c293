//! The benchmark driver of `benches/*.sh`.
//!
//! ```text
//! build-patch-bench stage SHIM_DIR OUT_DIR CARGO_HOME
//!     stage the shim's upstream crate, as its build script would
//! build-patch-bench apply DIR STRIP PATCH...
//!     apply patch files to DIR with the patch engine, fuzz 0
//! build-patch-bench compare NAME RUNS WARMUP [--may-fail] -- LABEL PREPARE COMMAND...
//!     time a baseline (the first LABEL PREPARE COMMAND) and candidates,
//!     interleaved; print a Markdown table of times and ratios
//! ```
//!
//! Exits 1 with the error on stderr when build-patch fails, so that a
//! benchmark of a failing patch can check it failed for the right reason.

mod compare;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("stage") if args.len() == 4 => stage(&args[1], &args[2], &args[3]),
        Some("apply") if args.len() >= 4 => match args[2].parse() {
            Ok(strip) => apply(&args[1], strip, &args[3..]),
            Err(_) => usage(),
        },
        Some("compare") => compare(&args[1..]),
        _ => usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> Result<(), String> {
    Err(
        "usage: build-patch-bench stage SHIM_DIR OUT_DIR CARGO_HOME\n       \
         build-patch-bench apply DIR STRIP PATCH...\n       \
         build-patch-bench compare NAME RUNS WARMUP [--may-fail] -- LABEL PREPARE COMMAND..."
            .to_string(),
    )
}

/// Finds, copies, patches and writes the compile root, like a shim's build
/// script, with every input of Cargo's environment given explicitly.
fn stage(shim: &str, out_dir: &str, cargo_home: &str) -> Result<(), String> {
    let out = build_patch::Config::new()
        .manifest_dir(shim)
        .out_dir(out_dir)
        .cargo_home(cargo_home)
        .offline(true)
        .cargo_directives(false)
        .try_build()
        .map_err(|e| e.to_string())?;
    if !out.restaged() {
        return Err(format!(
            "`{}` was up to date: remove OUT_DIR before each run",
            out.staged_dir().display()
        ));
    }
    Ok(())
}

/// Applies the patches in order to `dir`, all or nothing.
fn apply(dir: &str, strip: usize, patches: &[String]) -> Result<(), String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let entries: Vec<PathBuf> = patches.iter().map(PathBuf::from).collect();
    let (list, _) =
        build_patch::patch::load_patch_list(&cwd, &entries).map_err(|e| e.to_string())?;
    let mut options = build_patch::patch::ApplyOptions::new();
    options.strip(strip).fuzz(0);
    build_patch::patch::apply_to_dir(std::path::Path::new(dir), &list, &options)
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn compare(args: &[String]) -> Result<(), String> {
    let Some(sep) = args.iter().position(|a| a == "--") else {
        return usage();
    };
    let (head, rest) = (&args[..sep], &args[sep + 1..]);
    if head.len() < 3 || rest.is_empty() || rest.len() % 3 != 0 {
        return usage();
    }
    let number = |s: &str| s.parse::<usize>().map_err(|e| format!("`{s}`: {e}"));
    let opts = compare::Options {
        name: head[0].clone(),
        runs: number(&head[1])?.max(1),
        warmup: number(&head[2])?,
        may_fail: head[3..].iter().any(|a| a == "--may-fail"),
    };
    let benches: Vec<compare::Bench> = rest
        .chunks(3)
        .map(|c| compare::Bench {
            label: c[0].clone(),
            prepare: c[1].clone(),
            command: c[2].clone(),
        })
        .collect();
    print!("{}", compare::compare(&opts, &benches)?);
    Ok(())
}
