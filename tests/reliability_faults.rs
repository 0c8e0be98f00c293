//! Faults in a real `cargo build`: killed at random points of staging, a file
//! size limit mid-copy, read-only and unwritable folders, and a pristine
//! source that vanished from or was edited in Cargo's cache. After each, the
//! next build compiles the complete patched tree (or fails with a clear
//! error), and the pristine source is byte-identical.
//!
//! `BUILD_PATCH_KILLS=N` raises the number of killed builds (default 20);
//! `BUILD_PATCH_SEED` repeats a run's random delays.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What [`hash_tree`] gives.
type Tree = BTreeMap<String, (String, u32)>;
use std::time::{Duration, Instant};

use support::reliability::*;
use support::tree::tree_difference;
use support::Rng;
use support::{assert_contains, assert_lacks, hash_tree, TestEnv};

/// Builds and runs the app, returning what it printed.
fn run_app(env: &TestEnv) -> String {
    env.ok(&["run", "-q"]).stdout.trim().to_string()
}

/// A [`bulky`] crate of `files` small and `large` large files, published,
/// and its workspace built and run once with `value()` patched to return
/// `v`: the environment, the pristine source, and the shim's work dir.
fn built(files: usize, large: usize, v: u32) -> (TestEnv, PathBuf, PathBuf) {
    let env = TestEnv::new().isolated_target();
    env.publish(&bulky(files, large));
    bulky_workspace(&env, v);
    assert_eq!(run_app(&env), v.to_string());
    let pristine = env.cached_source("bulky", "1.0.0").unwrap();
    let work = work_dir(&env.target_dir, "bulky").unwrap();
    (env, pristine, work)
}

/// The hashes of the pristine source and of the staged copy in `work`.
fn hashes(pristine: &Path, work: &Path) -> (Tree, Tree) {
    (hash_tree(pristine), hash_tree(&work.join("bulky-1.0.0")))
}

#[test]
fn killed_builds_always_restage_the_complete_patched_tree() {
    let kills = env_count("BUILD_PATCH_KILLS", 20);
    let mut rng = Rng::from_env();
    let env = TestEnv::new().isolated_target();
    env.publish(&bulky(1500, 1));
    bulky_workspace(&env, 1000);
    assert_eq!(run_app(&env), "1000");
    let pristine = env.cached_source("bulky", "1.0.0").expect("fetched");
    let pristine_hash = hash_tree(&pristine);
    let work = work_dir(&env.target_dir, "bulky").expect("staged");
    let staged = work.join("bulky-1.0.0");
    let stamp = work.join("bulky-1.0.0.stamp");
    let reference = |v: u32| reference_tree(&pristine, &lib_with(v));
    assert_eq!(hash_tree(&staged), reference(1000));
    let log = env.root.join("killed-build.log");

    // How long a restaging build takes, and its staging part.
    env.file("patches/value.patch", &value_patch(1001));
    let start = Instant::now();
    let mut child = spawn_group(env.cargo(&["build", "-q"]), &log);
    let (mut staging_started, mut staging_ended) = (None, None);
    while child.try_wait().unwrap().is_none() {
        if staging_started.is_none() && leftovers(&work).iter().any(|n| n.contains(".tmp-")) {
            staging_started = Some(start.elapsed());
        }
        if staging_started.is_some() && staging_ended.is_none() && stamp.exists() {
            staging_ended = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let full = start.elapsed();
    let started = staging_started.expect("staging was never seen in progress");
    let staging = staging_ended.unwrap_or(full).saturating_sub(started);
    eprintln!("restaging build: {full:?}, staging from {started:?} for {staging:?}");

    let mut last_complete = 1001;
    let mut mid_staging = 0;
    for i in 0..kills {
        let v = 2000 + i as u32;
        env.file("patches/value.patch", &value_patch(v));
        let mut child = spawn_group(env.cargo(&["build", "-q"]), &log);
        let t0 = Instant::now();
        let delay = if i % 2 == 0 {
            // Wait until staging is under way, then a random part of it.
            while child.try_wait().unwrap().is_none()
                && !leftovers(&work).iter().any(|n| n.contains(".tmp-"))
                && t0.elapsed() < Duration::from_secs(120)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            Duration::from_micros(rng.below(staging.as_micros() as usize + 1) as u64)
        } else {
            // Anywhere in the whole build.
            let at = Duration::from_micros(rng.below(full.as_micros() as usize + 1) as u64);
            at.saturating_sub(t0.elapsed())
        };
        std::thread::sleep(delay);
        let in_staging = !stamp.exists() && leftovers(&work).iter().any(|n| n.contains(".tmp-"));
        let finished = child.try_wait().unwrap().is_some();
        kill_group(&mut child);
        if in_staging && !finished {
            mid_staging += 1;
        }

        // Right after the kill: a stamp always vouches for a complete tree,
        // of this patch or of the last one that completed.
        if stamp.exists() {
            let now = hash_tree(&staged);
            assert!(
                now == reference(v) || now == reference(last_complete),
                "kill {i}: a stamped tree that is neither patch {v} nor {last_complete}: {}",
                tree_difference(&now, &reference(v))
            );
        }

        // The next build compiles the complete patched tree.
        assert_eq!(run_app(&env), v.to_string(), "after kill {i}");
        let now = hash_tree(&staged);
        assert!(
            now == reference(v),
            "after kill {i}: {}",
            tree_difference(&now, &reference(v))
        );
        assert_eq!(leftovers(&work), Vec::<String>::new(), "after kill {i}");
        last_complete = v;
    }
    eprintln!("{kills} builds killed, {mid_staging} of them while staging was under way");
    assert!(
        mid_staging * 4 >= kills,
        "only {mid_staging} of {kills} kills hit staging: make the fixture larger"
    );
    assert_eq!(
        hash_tree(&pristine),
        pristine_hash,
        "the pristine source changed"
    );
}

/// `RLIMIT_FSIZE` below the size of one file of the crate: the copy fails
/// (with SIGXFSZ ignored, as `trap '' XFSZ` does, the write gets EFBIG), the
/// build says which file, the earlier staged copy is intact, nothing is left
/// behind, and the next build without the limit works.
#[test]
fn a_file_size_limit_mid_copy_is_a_clear_error_and_the_next_build_works() {
    let (env, pristine, work) = built(300, 2, 7);
    let (pristine_hash, good) = hashes(&pristine, &work);

    env.file("patches/value.patch", &value_patch(8));
    // 1 MiB in bash's 1024-byte blocks, 512 KiB in dash's 512-byte ones:
    // below LARGE either way, and above anything else this build writes.
    let limited = in_sh("trap '' XFSZ; ulimit -f 1024", &env.cargo(&["build"]));
    let (ok, _, stderr) = output(limited);
    assert!(!ok, "the limited build succeeded:\n{stderr}");
    assert!(
        stderr.contains("failed to copy `") && stderr.contains("large"),
        "the error does not name the file:\n{stderr}"
    );
    assert_contains(&stderr, &["File too large"]);
    assert_lacks(&stderr, &["panicked"]);
    assert_eq!(hash_tree(&work.join("bulky-1.0.0")), good);
    assert_eq!(leftovers(&work), Vec::<String>::new());

    assert_eq!(run_app(&env), "8");
    assert_eq!(
        hash_tree(&work.join("bulky-1.0.0")),
        reference_tree(&pristine, &lib_with(8))
    );
    assert_eq!(hash_tree(&pristine), pristine_hash);
}

/// A vendored source the user cannot write to (folders 555, files 444, and
/// no permission override even for root) builds: the source is only read,
/// and the staged copy is writable (644) so patches apply.
#[test]
fn a_read_only_vendored_source_builds() {
    let env = TestEnv::new().isolated_target();
    vendored(&env, "ro", "0.3.0", &[("src/more/deep.rs", "// deep\n")]);
    vendored_workspace(&env, "ro", "0.3.0", 33, &["vendor"]);
    let vendor = env.ws.join("vendor/ro");
    set_tree_modes(&vendor, 0o555, 0o444);
    let before = hash_tree(&vendor);

    let (ok, stdout, stderr) = output(without_permission_override(env.cargo(&["run", "-q"])));
    let after = hash_tree(&vendor);
    set_tree_modes(&vendor, 0o755, 0o644);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "33\n");
    assert!(before.values().all(|(_, mode)| mode & 0o777 == 0o444));
    assert_eq!(after, before, "the vendored source changed");
    let work = work_dir(&env.target_dir, "ro-patched").unwrap();
    let staged = hash_tree(&work.join("ro-0.3.0"));
    assert!(
        staged.values().all(|(_, mode)| mode & 0o777 == 0o644),
        "{staged:?}"
    );
    assert_eq!(staged.len(), 4, "{staged:?}");
}

/// A file of the source the build cannot read (mode 000, no permission
/// override even for root): a clear error naming it, and nothing staged.
#[test]
fn an_unreadable_file_in_the_source_is_a_clear_error_naming_it() {
    let env = TestEnv::new();
    vendored(&env, "nr", "0.3.0", &[("src/secret.rs", "// unreadable\n")]);
    vendored_workspace(&env, "nr", "0.3.0", 3, &["vendor"]);
    let secret = env.ws.join("vendor/nr/src/secret.rs");
    set_mode(&secret, 0o000);
    let (ok, _, stderr) = output(without_permission_override(env.cargo(&["build"])));
    set_mode(&secret, 0o644);
    assert!(!ok, "built with an unreadable file:\n{stderr}");
    assert!(
        stderr.contains("failed to copy `")
            && stderr.contains("vendor/nr/src/secret.rs`: Permission denied"),
        "{stderr}"
    );
    assert_lacks(&stderr, &["panicked"]);
    env.assert_prints("3\n");
}

/// `OUT_DIR/build-patch` made read-only after a good build: the next restage
/// fails with an error that names the folder it could not write, the earlier
/// copy is intact, and once writable again the build works.
#[test]
fn an_unwritable_staging_folder_is_a_clear_error_naming_it() {
    let (env, pristine, work) = built(20, 0, 5);
    let (pristine_hash, good) = hashes(&pristine, &work);

    env.file("patches/value.patch", &value_patch(6));
    set_mode(&work, 0o555);
    let (ok, _, stderr) = output(without_permission_override(env.cargo(&["build"])));
    set_mode(&work, 0o755);
    assert!(!ok, "built in a read-only folder:\n{stderr}");
    assert_contains(&stderr, &["Permission denied"]);
    assert!(
        stderr.contains(&format!("`{}", work.display())),
        "the error does not name {}:\n{stderr}",
        work.display()
    );
    assert_lacks(&stderr, &["panicked"]);
    assert_eq!(hash_tree(&work.join("bulky-1.0.0")), good);

    assert_eq!(run_app(&env), "6");
    assert_eq!(hash_tree(&pristine), pristine_hash);
}

/// The library called with an `OUT_DIR` whose parent cannot be written: an
/// error naming the folder it could not create. Runs in a child process of
/// this test binary without root's permission override.
#[test]
fn an_out_dir_under_an_unwritable_parent_is_a_clear_error_naming_it() {
    const CHILD: &str = "BUILD_PATCH_RELIABILITY_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "an_out_dir_under_an_unwritable_parent_is_a_clear_error_naming_it",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1");
        let (ok, stdout, stderr) = output(without_permission_override(cmd));
        assert!(ok, "{stdout}\n{stderr}");
        assert_contains(&stdout, &["1 passed"]);
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    support::write(
        &root.join("pristine/Cargo.toml"),
        "[package]\nname = \"lib1\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    );
    support::write(&root.join("pristine/src/lib.rs"), LIB);
    support::write(
        &root.join("shim/Cargo.toml"),
        "[package]\nname = \"lib1\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n\
         [package.metadata.build-patch]\npatches = [\"fix.patch\"]\nsource = \"../pristine\"\n",
    );
    support::write(
        &root.join("shim/src/lib.rs"),
        "include!(concat!(env!(\"OUT_DIR\"), \"/build-patch/lib.rs\"));\n",
    );
    support::write(&root.join("shim/fix.patch"), &value_patch(2));
    std::fs::create_dir(root.join("locked")).unwrap();
    set_mode(&root.join("locked"), 0o555);
    let err = build_patch::Config::new()
        .manifest_dir(root.join("shim"))
        .out_dir(root.join("locked/out"))
        .cargo_home(root.join("no-cargo-home"))
        .cargo_directives(false)
        .try_build()
        .unwrap_err();
    set_mode(&root.join("locked"), 0o755);
    let text = err.to_string();
    assert_eq!(err.kind_name(), "io", "{text}");
    assert!(
        text.contains(&root.join("locked/out").display().to_string())
            && text.contains("Permission denied"),
        "{text}"
    );
    assert!(!root.join("locked/out").exists());
}

/// Cargo's cache cleaned after a good build (`rm -r ~/.cargo/registry/src/…`,
/// what `cargo clean gc` does to an unused crate): a no-op build still runs
/// the complete patched copy; a restage gets the source from Cargo again,
/// identical. With the crate gone from the registry too, a clear error, and
/// the earlier staged copy is left as it was.
#[test]
fn a_pristine_source_removed_from_cargos_cache_is_fetched_again_or_a_clear_error() {
    let (env, pristine, work) = built(30, 0, 11);
    let pristine_hash = hash_tree(&pristine);

    std::fs::remove_dir_all(&pristine).unwrap();
    let noop = env.ok(&["run", "-v"]);
    assert!(!noop.ran_build_script_of("bulky"), "{}", noop.stderr);
    assert_eq!(noop.stdout, "11\n");

    env.file("patches/value.patch", &value_patch(12));
    assert_eq!(run_app(&env), "12");
    assert_eq!(
        hash_tree(&pristine),
        pristine_hash,
        "fetched again, differently"
    );
    let good = hash_tree(&work.join("bulky-1.0.0"));
    assert_eq!(good, reference_tree(&pristine, &lib_with(12)));

    // Gone from the cache and from the registry.
    std::fs::remove_dir_all(&pristine).unwrap();
    std::fs::remove_file(env.registry.join("bulky-1.0.0.crate")).unwrap();
    env.file("patches/value.patch", &value_patch(13));
    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &["cannot get the pristine source of `bulky 1.0.0`"],
    );
    assert_eq!(hash_tree(&work.join("bulky-1.0.0")), good);
}

/// A file of the registry copy edited after a good build. Cargo treats its
/// unpacked registry sources as immutable (it never rechecks them, and does
/// not rebuild an ordinary dependency whose cached source was edited);
/// build-patch does the same (docs/reliability.md says why): a no-op build
/// and an unchanged restage keep the copy made from the pristine source. A
/// changed patch restages from what is there: here the edit conflicts with
/// the patch, which is a clear error naming the hunk, and the earlier copy
/// is intact. Never a half-patched tree.
#[test]
fn a_pristine_source_edited_in_cargos_cache_never_gives_a_half_patched_tree() {
    let (env, pristine, work) = built(30, 0, 21);
    let good = hash_tree(&work.join("bulky-1.0.0"));
    assert_eq!(good, reference_tree(&pristine, &lib_with(21)));

    std::fs::write(pristine.join("src/lib.rs"), lib_with(99)).unwrap();
    std::fs::write(pristine.join("data/d00/f00000.txt"), "edited\n").unwrap();
    let noop = env.ok(&["run", "-v"]);
    assert!(!noop.ran_build_script_of("bulky"), "{}", noop.stderr);
    assert_eq!(noop.stdout, "21\n");

    // The build script reruns (its patch was touched) with the same inputs.
    let patch = env.ws.join("patches/value.patch");
    let text = std::fs::read_to_string(&patch).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&patch, text).unwrap();
    let rerun = env.ok(&["run", "-v"]);
    assert!(rerun.ran_build_script_of("bulky"), "{}", rerun.stderr);
    assert_eq!(rerun.stdout, "21\n");
    assert_eq!(hash_tree(&work.join("bulky-1.0.0")), good);

    // A new patch meets the edited file: a clear error, the copy intact.
    env.file("patches/value.patch", &value_patch(22));
    let run = env.fails(&["build"]);
    for expected in ["patches/value.patch", "src/lib.rs", "hunk #1"] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert_eq!(hash_tree(&work.join("bulky-1.0.0")), good);
    assert!(leftovers(&work).is_empty());
}
