//! The integration-test harness: throwaway workspaces built by the real
//! `cargo`, offline, against a local registry of small fixture crates.
//!
//! Each [`TestEnv`] is a temporary folder holding its own `CARGO_HOME` (whose
//! `config.toml` replaces crates.io with the local registry), the registry
//! itself, and one workspace. Nothing reaches the network or the user's own
//! `~/.cargo`.
//!
//! No test passes on another test's build. The target directory of an
//! environment is its own (`isolated_target`) or one of the shared ones in
//! `target/test-workspaces`, which it holds alone while it lives and where,
//! when it takes one, every fingerprint but build-patch's is removed: Cargo
//! reuses build-patch (compiled once per shared folder, and there are as
//! many folders as environments ever alive at once) and rebuilds the rest.
//! Cargo names the units of a path package inside a workspace by their path
//! relative to the workspace root and trusts them when their sources are
//! older than their outputs, so two test workspaces of one layout sharing a
//! target would share `deps/app-HASH` (`tests/harness_isolation.rs`).
//!
//! Beside the harness: [`rng`], the tests' one seeded random source;
//! [`tree`], writing, reading and comparing file trees; [`cli`], running
//! `cargo build-patch`; [`reliability`], what the reliability tests share.
//!
//! The library's and the CLI's tests depend on this crate under the name
//! `support`. It does not depend on build-patch (the library's unit tests use
//! it too).

pub mod cli;
#[cfg(unix)]
pub mod reliability;
pub mod rng;
pub mod tree;

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub use rng::Rng;
use tree::hex;
pub use tree::{hash_tree, read, write};

/// The build-patch repository, for the shims' `build-patch = { path = ... }`
/// (this harness also serves the tests of `cli/`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("ARCHITECTURE.md").is_file())
        .unwrap_or(&here)
        .to_path_buf()
}

/// The folder of the target directories the tests share (those that do not
/// call [`TestEnv::isolated_target`]): `target/test-workspaces/N`, each
/// held by one [`TestEnv`] at a time (`N.lock`), so that build-patch is
/// compiled once per folder instead of once per test.
fn shared_targets() -> PathBuf {
    repo_root().join("target").join("test-workspaces")
}

/// A shared target directory for one [`TestEnv`], held until the returned
/// lock is dropped: the first `N` whose `N.lock` no other environment (of
/// this process or another) holds. What a previous holder compiled there is
/// forgotten but build-patch (see the module documentation): the one
/// package every test compiles from the same files, the repository's,
/// outside any test workspace.
fn take_shared_target() -> (PathBuf, std::fs::File) {
    let dir = shared_targets();
    std::fs::create_dir_all(&dir).unwrap();
    for n in 0.. {
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{n}.lock")))
            .unwrap();
        match lock.try_lock() {
            Ok(()) => {
                let target = dir.join(n.to_string());
                forget_all_but_build_patch(&target);
                return (target, lock);
            }
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => panic!("cannot lock {n}.lock: {e}"),
        }
    }
    unreachable!()
}

/// Removes every fingerprint but build-patch's from a target directory
/// (`PROFILE/.fingerprint/NAME-HASH` and `TRIPLE/PROFILE/.fingerprint/...`).
fn forget_all_but_build_patch(target: &Path) {
    let dirs = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d).map_or(Vec::new(), |rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
    };
    let profiles = dirs(target)
        .into_iter()
        .flat_map(|d| std::iter::once(d.clone()).chain(dirs(&d)));
    for profile in profiles.collect::<Vec<_>>() {
        for unit in dirs(&profile.join(".fingerprint")) {
            let name = unit.file_name().unwrap_or_default().to_string_lossy();
            if name.rsplit_once('-').map(|(n, _)| n) != Some("build-patch") {
                std::fs::remove_dir_all(&unit).unwrap();
            }
        }
    }
}

pub struct TestEnv {
    _tmp: tempfile::TempDir,
    /// The lock on a shared target directory, released after `_tmp` is
    /// removed; `None` with [`TestEnv::isolated_target`].
    shared_target: Option<std::fs::File>,
    pub root: PathBuf,
    pub home: PathBuf,
    pub registry: PathBuf,
    pub ws: PathBuf,
    pub target_dir: PathBuf,
}

impl Default for TestEnv {
    fn default() -> TestEnv {
        TestEnv::new()
    }
}

impl TestEnv {
    /// A fresh environment with an empty registry and workspace; its target
    /// directory is one of the shared ones, its own while it lives, where
    /// only build-patch's build may be reused (see [`take_shared_target`]).
    pub fn new() -> TestEnv {
        let tmp = tempfile::Builder::new()
            .prefix("build-patch-test-")
            .tempdir()
            .unwrap();
        let root = tmp.path().to_path_buf();
        let home = root.join("cargo-home");
        let registry = root.join("registry");
        let ws = root.join("ws");
        for d in [&home, &registry.join("index"), &ws] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(
            home.join("config.toml"),
            format!(
                "[source.crates-io]\nreplace-with = \"fixtures\"\n\n\
                 [source.fixtures]\nlocal-registry = {:?}\n\n\
                 [net]\noffline = true\n",
                registry.display().to_string()
            ),
        )
        .unwrap();
        let (target_dir, lock) = take_shared_target();
        TestEnv {
            _tmp: tmp,
            shared_target: Some(lock),
            root,
            home,
            registry,
            ws,
            target_dir,
        }
    }

    /// Gives this environment its own target directory (for tests of
    /// rebuilds, `cargo clean` and killed builds).
    pub fn isolated_target(mut self) -> TestEnv {
        self.target_dir = self.root.join("target");
        self.shared_target = None;
        self
    }

    /// Publishes a fixture crate to the local registry.
    pub fn publish(&self, pkg: &Package) {
        pkg.publish_to(&self.registry);
    }

    /// Writes a file of the workspace (parents created).
    pub fn file(&self, rel: &str, contents: &str) -> &TestEnv {
        write(&self.ws.join(rel), contents);
        self
    }

    /// Writes the workspace's `src/main.rs`: a `main` printing `exprs`
    /// with `println!("{} {}", ...)`, one `{}` each, a space between.
    pub fn main_printing(&self, exprs: &[&str]) -> &TestEnv {
        let holes = vec!["{}"; exprs.len()].join(" ");
        let text = format!(
            "fn main() {{ println!(\"{holes}\", {}); }}\n",
            exprs.join(", ")
        );
        self.file("src/main.rs", &text)
    }

    /// Writes the workspace's root manifest: a package `app` (edition 2021)
    /// with `deps` under `[dependencies]`, then `tail` (e.g. a
    /// `[patch.crates-io]` table).
    pub fn app(&self, deps: &str, tail: &str) -> &TestEnv {
        self.app_manifest(&format!("{deps}\n\n{tail}\n"))
    }

    /// Writes the workspace's root manifest: a package `app` (edition
    /// 2021), then `[dependencies]` and `rest` as it is.
    pub fn app_manifest(&self, rest: &str) -> &TestEnv {
        self.file(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\n{rest}"
            ),
        )
    }

    /// A graph-wide shim of `name version` in `patched/NAME`, with the patch
    /// `patches/PATCH`, wired by `[patch.crates-io]` for the app depending
    /// on `deps`.
    pub fn wire_graph_wide(&self, name: &str, version: &str, patch: &str, deps: &str) -> &TestEnv {
        self.shim(
            &format!("patched/{name}"),
            &Shim::graph_wide(name, version).patch(&format!("../../patches/{patch}")),
        );
        self.app(
            deps,
            &format!("[patch.crates-io]\n{name} = {{ path = \"patched/{name}\" }}"),
        )
    }

    /// A renamed shim `NAME-patched` of `name version` in `patched/NAME`,
    /// with the patch `patches/PATCH`, and the app depending on it as `name`.
    pub fn wire_renamed(&self, name: &str, version: &str, patch: &str) -> &TestEnv {
        self.shim(
            &format!("patched/{name}"),
            &Shim::renamed(&format!("{name}-patched"), name, version)
                .patch(&format!("../../patches/{patch}")),
        );
        self.app(
            &format!("{name} = {{ package = \"{name}-patched\", path = \"patched/{name}\" }}"),
            "",
        )
    }

    /// Runs the `cargo-build-patch` binary at `bin` as `cargo build-patch
    /// ARGS` in the workspace, with this environment's Cargo home. Returns
    /// whether it succeeded, and stdout followed by stderr.
    pub fn cli(&self, bin: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new(bin)
            .arg("build-patch")
            .args(args)
            .current_dir(&self.ws)
            .env("CARGO_HOME", &self.home)
            .env(
                "CARGO",
                std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            )
            .env_remove("CARGO_TARGET_DIR")
            .env("no_proxy", "127.0.0.1")
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// A `cargo` command in the workspace with this environment's
    /// `CARGO_HOME` and target directory, and nothing of the outer Cargo's
    /// environment.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = cargo_command();
        cmd.args(args)
            .current_dir(&self.ws)
            .env("CARGO_HOME", &self.home)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("CARGO_TERM_COLOR", "never");
        cmd
    }

    /// Runs cargo and returns its outcome.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.cargo(args), args)
    }

    /// Runs cargo and panics with its output unless it succeeded.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert!(
            r.success,
            "`cargo {}` failed:\n{}",
            args.join(" "),
            r.stderr
        );
        r
    }

    /// Runs the workspace's program (`cargo run -q`), panics unless it
    /// succeeded and printed exactly `stdout`.
    #[track_caller]
    pub fn assert_prints(&self, stdout: &str) {
        assert_eq!(self.ok(&["run", "-q"]).stdout, stdout);
    }

    /// Runs cargo and panics unless it failed.
    pub fn fails(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert!(
            !r.success,
            "`cargo {}` succeeded, expected a failure:\n{}",
            args.join(" "),
            r.stderr
        );
        r
    }

    /// Adds a build-dependency to the index entry of a published fixture
    /// that has no dependencies (the `Package` builder writes normal ones
    /// only).
    pub fn add_build_dep_to_index(&self, name: &str, dep: &str, req: &str) {
        let index = self.registry.join("index").join(index_path(name));
        let text = std::fs::read_to_string(&index).unwrap();
        let entry = format!(
            r#"{{"name":"{dep}","req":"{req}","features":[],"optional":false,"default_features":true,"target":null,"kind":"build"}}"#
        );
        let text = text.replace("\"deps\":[]", &format!("\"deps\":[{entry}]"));
        std::fs::write(index, text).unwrap();
    }

    /// Lets Cargo fetch `file://` git repositories and registries: the
    /// Cargo config without `net.offline` (nothing leaves the machine, since
    /// crates.io stays replaced by the local registry), plus `extra` (e.g.
    /// a `[registries.NAME]` table).
    pub fn allow_file_fetches(&self, extra: &str) -> &TestEnv {
        let path = self.home.join("config.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("[net]\noffline = true\n", "");
        std::fs::write(path, format!("{text}\n{extra}\n")).unwrap();
        self
    }

    /// A git repository under this environment holding `files`, committed;
    /// returns it (its `file://` URL is [`GitRepo::url`]).
    pub fn git_repo(&self, name: &str, files: &[(&str, &str)]) -> GitRepo {
        let repo = GitRepo {
            dir: self.root.join("git").join(name),
        };
        std::fs::create_dir_all(&repo.dir).unwrap();
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit(files, "initial");
        repo
    }

    /// An alternative registry `name`: a git index over `file://` (the
    /// layout of the local registry, with a `config.json` whose `dl` points
    /// at the `.crate` files) holding `packages`, and the `[registries.NAME]`
    /// table that names it, for [`TestEnv::allow_file_fetches`].
    pub fn alt_registry(&self, name: &str, packages: &[Package]) -> String {
        let dir = self.registry_dir(name, packages, &format!("file://{}", self.root.display()));
        let index = GitRepo {
            dir: dir.join("index"),
        };
        index.git(&["init", "-q", "-b", "main"]);
        index.commit(&[], "index");
        format!("[registries.{name}]\nindex = \"{}\"\n", index.url())
    }

    /// Like [`TestEnv::alt_registry`], a sparse index served over HTTP by a
    /// thread of the test process on 127.0.0.1.
    pub fn sparse_registry(&self, name: &str, packages: &[Package]) -> String {
        let base = serve_dir(&self.root);
        self.registry_dir(name, packages, &base);
        format!("[registries.{name}]\nindex = \"sparse+{base}/registry-{name}/index/\"\n")
    }

    /// `registry-NAME` under the root: the index of `packages` and their
    /// `.crate` files, which `config.json` says are at `base` (the root's URL)
    /// + `/registry-NAME/`.
    fn registry_dir(&self, name: &str, packages: &[Package], base: &str) -> PathBuf {
        let dir = self.root.join(format!("registry-{name}"));
        std::fs::create_dir_all(dir.join("index")).unwrap();
        for p in packages {
            p.publish_to(&dir);
        }
        let dl = format!("{base}/registry-{name}/{{crate}}-{{version}}.crate");
        write(
            &dir.join("index/config.json"),
            &format!("{{\"dl\": {dl:?}}}\n"),
        );
        dir
    }

    /// Unpacks the `.crate` of a published fixture under the root; returns
    /// the folder of its pristine source.
    pub fn unpack(&self, name: &str, version: &str) -> PathBuf {
        let file = self.registry.join(format!("{name}-{version}.crate"));
        let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(file).unwrap());
        let mut bytes = Vec::new();
        gz.read_to_end(&mut bytes).unwrap();
        let dest = self.root.join("unpacked");
        tar::Archive::new(&bytes[..]).unpack(&dest).unwrap();
        dest.join(format!("{name}-{version}"))
    }

    /// The registry source cache of this environment's `CARGO_HOME`.
    pub fn registry_src(&self) -> PathBuf {
        self.home.join("registry").join("src")
    }

    /// The unpacked pristine copy of `name-version` in the registry cache.
    pub fn cached_source(&self, name: &str, version: &str) -> Option<PathBuf> {
        let src = self.registry_src();
        std::fs::read_dir(&src).ok()?.find_map(|e| {
            let d = e.ok()?.path().join(format!("{name}-{version}"));
            d.is_dir().then_some(d)
        })
    }

    /// Writes a shim crate at `dir` (relative to the workspace).
    pub fn shim(&self, dir: &str, shim: &Shim) -> &TestEnv {
        let mut manifest = format!(
            "[package]\nname = {:?}\nversion = {:?}\nedition = {:?}\n",
            shim.name, shim.version, shim.edition
        );
        manifest.push_str(&shim.package_extra);
        manifest.push_str("\n[package.metadata.build-patch]\n");
        if let Some((c, v)) = &shim.upstream {
            let _ = writeln!(manifest, "crate = {c:?}\nversion = {v:?}");
        }
        let _ = writeln!(
            manifest,
            "patches = [{}]",
            shim.patches
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        manifest.push_str(&shim.metadata_extra);
        let features = if shim.build_patch_features.is_empty() {
            String::new()
        } else {
            format!(", features = {:?}", shim.build_patch_features)
        };
        let _ = writeln!(
            manifest,
            "\n[build-dependencies]\nbuild-patch = {{ path = {:?}{features} }}",
            repo_root().display().to_string()
        );
        manifest.push_str(&shim.manifest_extra);
        self.file(&format!("{dir}/Cargo.toml"), &manifest);
        self.file(
            &format!("{dir}/build.rs"),
            "fn main() {\n    build_patch::build();\n}\n",
        );
        let mut lib = shim.attrs.clone();
        lib.push_str("include!(concat!(env!(\"OUT_DIR\"), \"/build-patch/lib.rs\"));\n");
        self.file(&format!("{dir}/src/lib.rs"), &lib);
        self
    }
}

/// Serves the files under `dir` over HTTP/1.1 on 127.0.0.1, from threads
/// of the test process that live as long as it; returns the base URL.
pub fn serve_dir(dir: &Path) -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let path = path
                    .split('?')
                    .next()
                    .unwrap_or("/")
                    .trim_start_matches('/');
                let (status, body) = match std::fs::read(dir.join(path)) {
                    Ok(body) => ("200 OK", body),
                    Err(_) => ("404 Not Found", Vec::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    base
}

/// A local git repository, reached by its `file://` URL.
pub struct GitRepo {
    pub dir: PathBuf,
}

impl GitRepo {
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    /// Runs git in the repository; returns its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let config = ["user.name=t", "user.email=t@t", "commit.gpgsign=false"];
        let out = git(&self.dir, &config, args);
        String::from_utf8_lossy(&out).trim().to_string()
    }

    /// Writes `files` and commits everything; returns the commit.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, contents) in files {
            write(&self.dir.join(path), contents);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// Runs `git -c CONFIG... ARGS` in `dir` (without the `GIT_DIR` and
/// `GIT_WORK_TREE` of a calling git); panics unless it succeeded; its stdout.
pub fn git(dir: &Path, config: &[&str], args: &[&str]) -> Vec<u8> {
    let mut cmd = Command::new("git");
    for c in config {
        cmd.args(["-c", c]);
    }
    cmd.args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    succeeds(&mut cmd, &format!("git {}", args.join(" "))).stdout
}

/// Runs `cmd`; panics, naming it `what` and showing its stderr, unless it
/// ran and succeeded.
#[track_caller]
pub fn succeeds(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A shim to write with [`TestEnv::shim`].
#[derive(Clone)]
pub struct Shim {
    pub name: String,
    pub version: String,
    pub edition: String,
    /// `crate` and `version` in the metadata table, for a renamed shim.
    pub upstream: Option<(String, String)>,
    pub patches: Vec<String>,
    /// Crate-level attributes for `src/lib.rs`, before the include line.
    pub attrs: String,
    /// Lines appended to `[package]`.
    pub package_extra: String,
    /// Lines appended to `[package.metadata.build-patch]`.
    pub metadata_extra: String,
    /// Tables appended at the end (`[dependencies]`, `[lib]`, ...).
    pub manifest_extra: String,
    /// The features the shim enables on its `build-patch` build-dependency.
    pub build_patch_features: Vec<String>,
}

impl Shim {
    /// A graph-wide shim: the upstream's own name and version.
    pub fn graph_wide(name: &str, version: &str) -> Shim {
        Shim {
            name: name.into(),
            version: version.into(),
            edition: "2021".into(),
            upstream: None,
            patches: Vec::new(),
            attrs: String::new(),
            package_extra: String::new(),
            metadata_extra: String::new(),
            manifest_extra: String::new(),
            build_patch_features: Vec::new(),
        }
    }

    /// A renamed shim: its own name, patching `upstream version`.
    pub fn renamed(name: &str, upstream: &str, version: &str) -> Shim {
        Shim {
            upstream: Some((upstream.into(), version.into())),
            ..Shim::graph_wide(name, "0.1.0")
        }
    }

    pub fn patch(mut self, p: &str) -> Shim {
        self.patches.push(p.into());
        self
    }

    /// Enables build-patch's `upstream-build-script` feature, as `cargo
    /// build-patch new` does for an upstream with a build script.
    pub fn runs_upstream_build_script(mut self) -> Shim {
        self.build_patch_features
            .push("upstream-build-script".into());
        self
    }
}

/// Builder methods setting text fields: `name(self, value) -> Self`.
macro_rules! text_setters {
    ($ty:ident: $($field:ident),*) => {
        impl $ty {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                pub fn $field(mut self, value: &str) -> $ty {
                    self.$field = value.into();
                    self
                }
            )*
        }
    };
}

text_setters!(Shim: attrs, edition, package_extra, manifest_extra, metadata_extra);
// `manifest_extra`: text appended to the generated `Cargo.toml`.
text_setters!(Package: edition, manifest_extra);

/// What a cargo run did.
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn of(mut cmd: Command, args: &[&str]) -> Run {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run `cargo {}`: {e}", args.join(" ")));
        Run {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Whether the build script of package `name` ran (from `-v` output).
    pub fn ran_build_script_of(&self, name: &str) -> bool {
        self.stderr.lines().any(|l| {
            l.contains("Running `")
                && l.contains("build-script-build")
                && l.contains(&format!("/{name}-"))
        })
    }
}

/// The `cargo` running these tests, with none of the variables the outer
/// Cargo set for them (they would leak into the builds under test).
pub fn cargo_command() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        let keep = matches!(
            k.as_str(),
            "CARGO" | "CARGO_HOME" | "RUSTUP_HOME" | "RUSTUP_TOOLCHAIN"
        );
        if !keep && (k.starts_with("CARGO") || k.starts_with("RUST") || k == "OUT_DIR") {
            cmd.env_remove(&k);
        }
    }
    // The sparse registry of the tests is on this machine.
    cmd.env("no_proxy", "127.0.0.1")
        .env("NO_PROXY", "127.0.0.1");
    cmd
}

/// A dependency of a fixture crate, as both its manifest and the registry
/// index say it.
#[derive(Clone)]
pub struct Dep {
    name: String,
    req: String,
    optional: bool,
    default_features: bool,
    features: Vec<String>,
    target: Option<String>,
    /// The package, when `name` is a rename.
    package: Option<String>,
}

impl Dep {
    pub fn new(name: &str, req: &str) -> Dep {
        Dep {
            name: name.into(),
            req: req.into(),
            optional: false,
            default_features: true,
            features: Vec::new(),
            target: None,
            package: None,
        }
    }

    pub fn optional(mut self) -> Dep {
        self.optional = true;
        self
    }

    pub fn no_default_features(mut self) -> Dep {
        self.default_features = false;
        self
    }

    pub fn features(mut self, f: &[&str]) -> Dep {
        self.features = f.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn target(mut self, t: &str) -> Dep {
        self.target = Some(t.into());
        self
    }

    pub fn package(mut self, p: &str) -> Dep {
        self.package = Some(p.into());
        self
    }

    fn toml(&self) -> String {
        let mut t = format!("{} = {{ version = {:?}", self.name, self.req);
        if self.optional {
            t.push_str(", optional = true");
        }
        if !self.default_features {
            t.push_str(", default-features = false");
        }
        if !self.features.is_empty() {
            let _ = write!(t, ", features = {:?}", self.features);
        }
        if let Some(p) = &self.package {
            let _ = write!(t, ", package = {p:?}");
        }
        t.push_str(" }");
        t
    }

    fn index_json(&self) -> String {
        // The index names a renamed dependency by its new name, and the
        // original in `package`.
        let name = &self.name;
        let package = match &self.package {
            Some(p) => format!(",\"package\":{p:?}"),
            None => String::new(),
        };
        format!(
            r#"{{"name":{name:?},"req":{:?},"features":{:?},"optional":{},"default_features":{},"target":{},"kind":"normal"{package}}}"#,
            self.req,
            self.features,
            self.optional,
            self.default_features,
            self.target
                .as_ref()
                .map_or("null".to_string(), |t| format!("{t:?}")),
        )
    }
}

/// A fixture crate for the local registry.
#[derive(Clone)]
pub struct Package {
    name: String,
    version: String,
    edition: String,
    files: Vec<(String, Vec<u8>)>,
    deps: Vec<Dep>,
    features: Vec<(String, Vec<String>)>,
    manifest_extra: String,
}

impl Package {
    pub fn new(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            edition: "2021".into(),
            files: Vec::new(),
            deps: Vec::new(),
            features: Vec::new(),
            manifest_extra: String::new(),
        }
    }

    /// `name version` whose `src/lib.rs` is `lib`.
    pub fn lib(name: &str, version: &str, lib: &str) -> Package {
        Package::new(name, version).file("src/lib.rs", lib)
    }

    pub fn file(mut self, path: &str, contents: &str) -> Package {
        self.files.push((path.into(), contents.as_bytes().to_vec()));
        self
    }

    pub fn file_bytes(mut self, path: &str, contents: &[u8]) -> Package {
        self.files.push((path.into(), contents.to_vec()));
        self
    }

    pub fn dep(mut self, name: &str, req: &str) -> Package {
        self.deps.push(Dep::new(name, req));
        self
    }

    pub fn dep_full(mut self, dep: Dep) -> Package {
        self.deps.push(dep);
        self
    }

    pub fn feature(mut self, name: &str, enables: &[&str]) -> Package {
        self.features
            .push((name.into(), enables.iter().map(|s| s.to_string()).collect()));
        self
    }

    fn manifest(&self) -> String {
        let mut m = format!(
            "[package]\nname = {:?}\nversion = {:?}\nedition = {:?}\n",
            self.name, self.version, self.edition
        );
        m.push_str(&self.manifest_extra);
        if !self.features.is_empty() {
            m.push_str("\n[features]\n");
            for (f, enables) in &self.features {
                let _ = writeln!(m, "{f} = {enables:?}");
            }
        }
        let mut targets: Vec<Option<&String>> =
            self.deps.iter().map(|d| d.target.as_ref()).collect();
        targets.dedup();
        for target in targets {
            match target {
                None => m.push_str("\n[dependencies]\n"),
                Some(t) => {
                    let _ = write!(m, "\n[target.{t:?}.dependencies]\n");
                }
            }
            for d in self.deps.iter().filter(|d| d.target.as_ref() == target) {
                let _ = writeln!(m, "{}", d.toml());
            }
        }
        m
    }

    /// The `Cargo.toml` the local registry would hold, for a git repository.
    pub fn manifest_text(&self) -> String {
        self.manifest()
    }

    pub fn publish_to(&self, registry: &Path) {
        let prefix = format!("{}-{}", self.name, self.version);
        let mut files = self.files.clone();
        if !files.iter().any(|(p, _)| p == "Cargo.toml") {
            files.push(("Cargo.toml".into(), self.manifest().into_bytes()));
        }
        let mut tar = tar::Builder::new(Vec::new());
        for (path, data) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(if path.ends_with(".sh") { 0o755 } else { 0o644 });
            h.set_mtime(0);
            h.set_cksum();
            tar.append_data(&mut h, format!("{prefix}/{path}"), &data[..])
                .unwrap();
        }
        let tar = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let crate_bytes = gz.finish().unwrap();
        std::fs::write(registry.join(format!("{prefix}.crate")), &crate_bytes).unwrap();

        let deps: Vec<String> = self.deps.iter().map(Dep::index_json).collect();
        let features: Vec<String> = self
            .features
            .iter()
            .map(|(f, e)| format!("{f:?}:{e:?}"))
            .collect();
        let line = format!(
            r#"{{"name":"{}","vers":"{}","deps":[{}],"cksum":"{}","features":{{{}}},"yanked":false,"v":2}}"#,
            self.name,
            self.version,
            deps.join(","),
            hex(&Sha256::digest(&crate_bytes)),
            features.join(",")
        );
        let index = registry.join("index").join(index_path(&self.name));
        std::fs::create_dir_all(index.parent().unwrap()).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(index)
            .unwrap();
        writeln!(f, "{line}").unwrap();
    }
}

fn index_path(name: &str) -> PathBuf {
    let n = name.to_lowercase();
    match n.len() {
        1 => PathBuf::from("1").join(&n),
        2 => PathBuf::from("2").join(&n),
        3 => PathBuf::from("3").join(&n[..1]).join(&n),
        _ => PathBuf::from(&n[..2]).join(&n[2..4]).join(&n),
    }
}

/// A unified diff turning `old` into `new` for one file, made with the
/// system's `diff -u` so the tests do not rely on build-patch to write
/// patches.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write(&a.join(path), old);
    write(&b.join(path), new);
    let out = Command::new("diff")
        .args([
            "-u",
            "--label",
            &format!("a/{path}"),
            "--label",
            &format!("b/{path}"),
        ])
        .arg(a.join(path))
        .arg(b.join(path))
        .output()
        .expect("the `diff` command is needed by the tests");
    String::from_utf8(out.stdout).unwrap()
}

/// Panics, showing `text`, unless it contains every one of `parts`.
#[track_caller]
pub fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} is missing from:\n{text}");
    }
}

/// Panics, showing `text`, unless it starts with `prefix`.
#[track_caller]
pub fn assert_starts(text: &str, prefix: &str) {
    assert!(
        text.starts_with(prefix),
        "{prefix:?} does not start:\n{text}"
    );
}

/// Panics, showing `text`, if it contains any of `parts`.
#[track_caller]
pub fn assert_lacks(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(!text.contains(part), "{part:?} should not be in:\n{text}");
    }
}

/// Two tests of one scenario on the alternative registry `corp`: `$local`
/// with a local index, `$sparse` with a sparse index over HTTP on
/// 127.0.0.1. `$scenario` takes the function that writes the registry and
/// returns its Cargo config table.
#[macro_export]
macro_rules! registry_tests {
    ($scenario:ident: $local:ident, $sparse:ident) => {
        #[test]
        fn $local() {
            $scenario($crate::TestEnv::alt_registry);
        }

        #[test]
        fn $sparse() {
            $scenario($crate::TestEnv::sparse_registry);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_target_keeps_the_fingerprints_of_build_patch_only() {
        let dir = tempfile::tempdir().unwrap();
        let units = [
            (
                "debug/.fingerprint/build-patch-0123456789abcdef/lib-build_patch",
                true,
            ),
            ("debug/.fingerprint/app-0123456789abcdef/bin-app", false),
            (
                "debug/.fingerprint/build-patch-patched-0123456789abcdef/x",
                false,
            ),
            (
                "release/.fingerprint/greet-0123456789abcdef/lib-greet",
                false,
            ),
            (
                "release/.fingerprint/build-patch-fedcba9876543210/lib",
                true,
            ),
            (
                "x86_64-unknown-linux-gnu/debug/.fingerprint/app-0123456789abcdef/x",
                false,
            ),
            ("debug/deps/libapp-0123456789abcdef.rlib", true),
        ];
        for (path, _) in units {
            write(&dir.path().join(path), "");
        }
        forget_all_but_build_patch(dir.path());
        for (path, kept) in units {
            assert_eq!(dir.path().join(path).exists(), kept, "{path}");
        }
    }
}
