//! What the CLI says, as snapshots: `--help` of every command, and the
//! messages a user sees when something is wrong. A changed message fails
//! here; `SNAPSHOTS=overwrite cargo test -p cargo-build-patch --test messages`
//! accepts the new text (review the diff before committing it).

use std::path::Path;

use support::{unified_diff, Package, TestEnv};

fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "snapshot `{}` differs; if the new text is right, rerun with SNAPSHOTS=overwrite\n\
         --- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Runs the CLI in `dir` and returns its exit code and output, with `root`
/// written as `[ROOT]`.
fn run(dir: &Path, root: &Path, home: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = support::cli::command();
    cmd.args(args)
        .current_dir(dir)
        .env(
            "CARGO",
            std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        )
        .env_remove("CARGO_TARGET_DIR")
        .env("NO_COLOR", "1");
    if let Some(home) = home {
        cmd.env("CARGO_HOME", home);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "exit: {}\n{}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    normalize_temp_dirs(&text.replace(&root.display().to_string(), "[ROOT]"))
}

/// `/tmp/.tmpAbC123` (any scratch folder the CLI made) → `[TMP]`.
fn normalize_temp_dirs(text: &str) -> String {
    let tmp = std::env::temp_dir().join(".tmp").display().to_string();
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(&tmp) {
        out.push_str(&rest[..i]);
        out.push_str("[TMP]");
        rest = rest[i + tmp.len()..].trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    }
    out.push_str(rest);
    out
}

#[test]
fn help() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("help", &["--help"][..]),
        ("help-apply", &["apply", "--help"]),
        ("help-new", &["new", "--help"]),
        ("help-sync", &["sync", "--help"]),
        ("help-edit", &["edit", "--help"]),
        ("help-save", &["save", "--help"]),
        ("help-check", &["check", "--help"]),
        ("help-upgrade", &["upgrade", "--help"]),
        ("help-unify", &["unify", "--help"]),
        ("help-outdated", &["outdated", "--help"]),
        ("help-fetch", &["fetch", "--help"]),
    ] {
        assert_snapshot(name, &run(dir.path(), dir.path(), None, args));
    }
}

#[test]
fn error_messages() {
    let env = TestEnv::new();
    let old = "fn main() {\n    let a = 1;\n    let b = 2;\n    let c = 3;\n}\n";
    env.publish(&Package::lib("tiny", "1.0.0", old));
    env.file(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\n",
    )
    .file("src/lib.rs", "")
    .file("tree/src/lib.rs", &old.replace("let b = 2", "let b = 20"))
    .file(
        "fix.patch",
        &unified_diff("src/lib.rs", old, &old.replace("let b = 2", "let b = 22")),
    );
    let run = |name: &str, args: &[&str]| {
        assert_snapshot(name, &run(&env.ws, &env.root, Some(&env.home), args));
    };
    run("apply-does-not-apply", &["apply", "tree", "fix.patch"]);
    run("new-without-version", &["new", "tiny"]);
    run("new-unknown-version", &["new", "tiny@9.9.9"]);
    run("check-without-shims", &["check"]);
    run("edit-unknown-shim", &["edit", "nope"]);
    run("sync-not-a-shim", &["sync", "."]);
}
