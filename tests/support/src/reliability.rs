//! Helpers of the reliability tests (`tests/reliability_*.rs`): a fixture
//! crate big enough that staging takes a while, the reference tree a staging
//! must produce, process groups to kill, bounded waits, counts from the
//! environment,
//! and a way to drop root's right to ignore file permissions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::tree::{hash_tree, sha256_hex};
use crate::{unified_diff, Package, Shim, TestEnv};

/// The upstream library root of the fixture crates.
pub const LIB: &str = "pub fn value() -> u32 {\n    1\n}\n";

/// The library root after a patch that makes `value()` return `v`.
pub fn lib_with(v: u32) -> String {
    format!("pub fn value() -> u32 {{\n    {v}\n}}\n")
}

/// The patch that makes `value()` return `v` (not 1, which it returns).
pub fn value_patch(v: u32) -> String {
    assert_ne!(v, 1, "an empty patch");
    unified_diff("src/lib.rs", LIB, &lib_with(v))
}

/// Size of each large file of [`bulky`].
pub const LARGE: usize = 3 << 20;

/// `bulky 1.0.0`: the library root, `files` small files in 40 folders and
/// `large` files of [`LARGE`] bytes, so that copying it takes long enough to
/// be interrupted.
pub fn bulky(files: usize, large: usize) -> Package {
    let mut p = Package::lib("bulky", "1.0.0", LIB);
    for i in 0..files {
        let line = format!("file {i} of bulky: some text to copy, {}\n", i * 7919);
        p = p.file(
            &format!("data/d{:02}/f{i:05}.txt", i % 40),
            &line.repeat(24),
        );
    }
    for i in 0..large {
        let bytes: Vec<u8> = (0..LARGE).map(|j| (j * 31 + i) as u8).collect();
        p = p.file_bytes(&format!("data/large{i}.bin"), &bytes);
    }
    p
}

/// A workspace whose app prints `bulky::value()`, with a graph-wide shim of
/// `bulky` (so the outer build never unpacks it: the shim asks Cargo) whose
/// patch makes it return `v`.
pub fn bulky_workspace(env: &TestEnv, v: u32) {
    env.file("patches/value.patch", &value_patch(v));
    env.shim(
        "patched/bulky",
        &Shim::graph_wide("bulky", "1.0.0").patch("../../patches/value.patch"),
    );
    env.file(
        "Cargo.toml",
        r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
bulky = "1"

[patch.crates-io]
bulky = { path = "patched/bulky" }
"#,
    )
    .file(
        "src/main.rs",
        "fn main() { println!(\"{}\", bulky::value()); }\n",
    );
}

/// `OUT_DIR/build-patch` of the shim of `name` in a target directory, once a
/// build script ran (the build folder that has an `out/build-patch`).
pub fn work_dir(target_dir: &Path, name: &str) -> Option<PathBuf> {
    let build = target_dir.join("debug").join("build");
    let mut found: Vec<PathBuf> = std::fs::read_dir(build)
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_string_lossy().into_owned();
            let w = e.path().join("out").join("build-patch");
            (n.starts_with(&format!("{name}-")) && w.is_dir()).then_some(w)
        })
        .collect();
    found.sort();
    assert!(
        found.len() <= 1,
        "several build folders of {name}: {found:?}"
    );
    found.pop()
}

/// Temporary or replaced trees left in a work dir.
pub fn leftovers(work: &Path) -> Vec<String> {
    std::fs::read_dir(work)
        .map(|rd| {
            rd.filter_map(|e| {
                let n = e.ok()?.file_name().to_string_lossy().into_owned();
                (n.contains(".tmp-") || n.contains(".old-")).then_some(n)
            })
            .collect()
        })
        .unwrap_or_default()
}

/// What `hash_tree` of a staged copy must be: the pristine tree without
/// Cargo's markers, modes normalised to 644/755, `src/lib.rs` patched to
/// `lib`, and the compile root beside it (the same text: `lib` has no crate
/// attributes). Written without build-patch, so it checks it.
pub fn reference_tree(pristine: &Path, lib: &str) -> BTreeMap<String, (String, u32)> {
    let mut t = hash_tree(pristine);
    t.remove(".cargo-ok");
    t.remove(".cargo-checksum.json");
    for v in t.values_mut() {
        let exec = v.1 & 0o111 != 0;
        v.1 = (v.1 & !0o7777) | if exec { 0o755 } else { 0o644 };
    }
    let file = (sha256_hex(lib.as_bytes()), 0o100_644);
    t.insert("src/lib.rs".into(), file.clone());
    t.insert("src/.build-patch-root.rs".into(), file);
    t
}

/// Starts `cmd` as the leader of a new process group, so that it can be
/// killed with everything it started (rustc, the build script, the nested
/// cargo), as a terminal's Ctrl-C or a CI timeout does.
pub fn spawn_group(mut cmd: Command, log: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(log).unwrap();
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    cmd.spawn().expect("spawn")
}

/// SIGKILL to the whole process group of `child`, then reaps it.
pub fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for `child` at most `limit`; `None` when it is still running.
pub fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child`, killing its group and failing the test after `limit`:
/// no deadlock can hang the test suite.
pub fn finish_within(child: &mut Child, limit: Duration, what: &str, log: &Path) -> bool {
    match wait_at_most(child, limit) {
        Some(status) => status.success(),
        None => {
            kill_group(child);
            panic!(
                "{what} did not finish within {limit:?} (deadlock?); its output:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

/// A count from the environment, for longer runs (`BUILD_PATCH_KILLS=500`).
pub fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Whether this process may ignore file permissions (root, or
/// CAP_DAC_OVERRIDE): then a read-only folder does not stop it.
pub fn ignores_permissions() -> bool {
    let probe = tempfile::tempdir().unwrap();
    let dir = probe.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o555);
    let ignored = std::fs::write(dir.join("x"), "").is_ok();
    set_mode(&dir, 0o755);
    ignored
}

/// `cmd` wrapped so that it runs without the capabilities that let root
/// ignore permissions (`setpriv` drops them from the bounding set, so the
/// executed program never has them); unchanged for an ordinary user.
pub fn without_permission_override(cmd: Command) -> Command {
    if !ignores_permissions() {
        return cmd;
    }
    assert!(
        Command::new("setpriv").arg("--version").output().is_ok(),
        "run as root, this test needs `setpriv` (util-linux) to drop the permission override"
    );
    wrap(
        "setpriv",
        &["--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable"],
        &cmd,
    )
}

/// `program ARGS CMD...`: `cmd` (its program and arguments) run by `program`,
/// with the folder and environment of `cmd`.
fn wrap(program: &str, args: &[&str], cmd: &Command) -> Command {
    let mut wrapped = Command::new(program);
    wrapped
        .args(args)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Sets the mode of every folder and file under `dir` (folders first made
/// traversable when opening up, last closed when closing).
pub fn set_tree_modes(dir: &Path, dir_mode: u32, file_mode: u32) {
    set_mode(dir, 0o755);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            set_tree_modes(&p, dir_mode, file_mode);
        } else if meta.is_file() {
            set_mode(&p, file_mode);
        }
    }
    set_mode(dir, dir_mode);
}

/// `cmd` run by `sh -c "SETUP && exec cmd..."`, with its folder and
/// environment: for `ulimit`, `umask` and `trap` in front of a command.
pub fn in_sh(setup: &str, cmd: &Command) -> Command {
    wrap("sh", &["-c", &format!("{setup} && exec \"$@\""), "sh"], cmd)
}

/// Runs a command and returns (success, stdout, stderr).
pub fn output(mut cmd: Command) -> (bool, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A workspace whose app prints `NAME::value()` from a renamed shim
/// `NAME-patched` (in `patched/NAME`) of the vendored source in
/// `vendor/NAME` (`name version`, written elsewhere), whose patch makes it
/// return `v`; the workspace excludes the folders `exclude`.
pub fn vendored_workspace(env: &TestEnv, name: &str, version: &str, v: u32, exclude: &[&str]) {
    env.file("patches/value.patch", &value_patch(v));
    env.shim(
        &format!("patched/{name}"),
        &Shim::renamed(&format!("{name}-patched"), name, version)
            .patch("../../patches/value.patch")
            .metadata_extra(&format!("source = \"../../vendor/{name}\"\n")),
    );
    env.app_manifest(&format!(
        "{name} = {{ package = \"{name}-patched\", path = \"patched/{name}\" }}\n\n\
             [workspace]\nexclude = {exclude:?}\n"
    ))
    .file(
        "src/main.rs",
        &format!("fn main() {{ println!(\"{{}}\", {name}::value()); }}\n"),
    );
}

/// `vendor/NAME` of the workspace: `name version` with [`LIB`] and `extra`
/// (path, contents) files.
pub fn vendored(env: &TestEnv, name: &str, version: &str, extra: &[(&str, &str)]) {
    env.file(
        &format!("vendor/{name}/Cargo.toml"),
        &format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n"),
    )
    .file(&format!("vendor/{name}/src/lib.rs"), LIB);
    for (path, contents) in extra {
        env.file(&format!("vendor/{name}/{path}"), contents);
    }
}
