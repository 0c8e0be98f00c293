//! Concurrency with real Cargo processes: several `cargo build`s with their
//! own target directories and one `CARGO_HOME`, all fetching and staging the
//! same shim at once; one build script run several times at once on one
//! `OUT_DIR` (cargo#11818), with and without the nested fetch; the nested
//! Cargo call while another process holds Cargo's package cache lock. No
//! deadlock (every wait is bounded), no corruption, identical trees, the
//! pristine source unchanged.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::reliability::*;
use support::tree::tree_difference;
use support::{hash_tree, TestEnv};

const LIMIT: Duration = Duration::from_secs(600);

/// The host triple, as Cargo gives it to build scripts in `TARGET`.
fn host() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap()
        .to_string()
}

/// Builds in `target_dir` (a fresh one per build: no Cargo lock between
/// them), all started at once, and waits for all.
fn build_at_once(env: &TestEnv, target_dirs: &[PathBuf]) {
    let mut children: Vec<_> = target_dirs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut cmd = env.cargo(&["build"]);
            cmd.env("CARGO_TARGET_DIR", t);
            let log = env.root.join(format!("build-{i}.log"));
            (spawn_group(cmd, &log), log)
        })
        .collect();
    for (child, log) in &mut children {
        let ok = finish_within(child, LIMIT, "a concurrent build", log);
        assert!(ok, "{}", std::fs::read_to_string(log).unwrap());
    }
}

#[test]
fn builds_with_their_own_target_dirs_and_one_cargo_home_stage_the_same_shim_at_once() {
    let env = TestEnv::new();
    env.publish(&bulky(400, 1));
    bulky_workspace(&env, 42);
    // A graph-wide shim: the outer builds never unpack `bulky`, so every
    // build script asks Cargo for it, at the same time.
    assert!(env.cached_source("bulky", "1.0.0").is_none());
    let targets: Vec<PathBuf> = (0..3)
        .map(|i| env.root.join(format!("target-{i}")))
        .collect();
    build_at_once(&env, &targets);

    let pristine = env.cached_source("bulky", "1.0.0").expect("fetched");
    let pristine_hash = hash_tree(&pristine);
    let reference = reference_tree(&pristine, &lib_with(42));
    let mut entries = Vec::new();
    for t in &targets {
        let work = work_dir(t, "bulky").unwrap();
        let tree = hash_tree(&work.join("bulky-1.0.0"));
        assert!(tree == reference, "{}", tree_difference(&tree, &reference));
        assert_eq!(leftovers(&work), Vec::<String>::new());
        entries.push(std::fs::read(work.join("lib.rs")).unwrap());
        let out = Command::new(t.join("debug/app")).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    }
    assert!(entries.windows(2).all(|w| w[0] == w[1]));

    // Again, with a new patch and the source now in the cache.
    env.file("patches/value.patch", &value_patch(43));
    build_at_once(&env, &targets);
    for t in &targets {
        let tree = hash_tree(&work_dir(t, "bulky").unwrap().join("bulky-1.0.0"));
        assert_eq!(tree, reference_tree(&pristine, &lib_with(43)));
    }
    assert_eq!(hash_tree(&pristine), pristine_hash);
}

/// The shim's compiled build script, started several times at once with
/// the same `OUT_DIR`, as happens when two Cargo processes run it for one
/// target directory (cargo#11818). Some rounds also need the nested fetch
/// (the source removed from Cargo's cache), so the runs share the fetch
/// folder too. Every run succeeds and prints the same directives; one
/// complete tree, nothing left behind.
#[test]
fn one_build_script_run_several_times_at_once_on_one_out_dir() {
    let rounds = env_count("BUILD_PATCH_CONCURRENT_ROUNDS", 6);
    let env = TestEnv::new().isolated_target();
    env.publish(&bulky(300, 1));
    bulky_workspace(&env, 2);
    env.ok(&["build", "-q"]);
    let work = work_dir(&env.target_dir, "bulky").unwrap();
    let out_dir = work.parent().unwrap().to_path_buf();
    let script = std::fs::read_dir(env.target_dir.join("debug/build"))
        .unwrap()
        .map(|e| e.unwrap().path().join("build-script-build"))
        .find(|p| p.is_file() && p.to_string_lossy().contains("/bulky-"))
        .expect("the shim's build script");
    let pristine = env.cached_source("bulky", "1.0.0").unwrap();
    let pristine_hash = hash_tree(&pristine);
    let target = host();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    for round in 0..rounds {
        let v = 100 + round as u32;
        env.file("patches/value.patch", &value_patch(v));
        let fetch = round % 3 == 1;
        if fetch {
            std::fs::remove_dir_all(&pristine).unwrap();
        }
        let mut children: Vec<_> = (0..3)
            .map(|i| {
                let mut cmd = support::cargo_command();
                cmd.current_dir(env.ws.join("patched/bulky"))
                    .env("OUT_DIR", &out_dir)
                    .env("CARGO_MANIFEST_DIR", env.ws.join("patched/bulky"))
                    .env("CARGO_PKG_NAME", "bulky")
                    .env("CARGO_PKG_VERSION", "1.0.0")
                    .env("CARGO", &cargo)
                    .env("CARGO_HOME", &env.home)
                    .env("TARGET", &target)
                    .env("HOST", &target);
                let mut script_cmd = Command::new(&script);
                script_cmd.current_dir(env.ws.join("patched/bulky"));
                for (k, val) in cmd.get_envs() {
                    match val {
                        Some(val) => script_cmd.env(k, val),
                        None => script_cmd.env_remove(k),
                    };
                }
                let log = env.root.join(format!("script-{round}-{i}.log"));
                let out = env.root.join(format!("script-{round}-{i}.out"));
                let out_file = std::fs::File::create(&out).unwrap();
                let log_file = std::fs::File::create(&log).unwrap();
                script_cmd.stdout(out_file).stderr(log_file);
                (script_cmd.spawn().unwrap(), log, out)
            })
            .collect();
        let mut directives = Vec::new();
        for (child, log, out) in &mut children {
            let ok = finish_within(child, LIMIT, "a build script run", log);
            assert!(
                ok,
                "round {round} (fetch: {fetch}): {}",
                std::fs::read_to_string(&*log).unwrap()
            );
            directives.push(std::fs::read_to_string(out).unwrap());
        }
        assert!(
            directives.windows(2).all(|w| w[0] == w[1]),
            "round {round}: {directives:#?}"
        );
        let tree = hash_tree(&work.join("bulky-1.0.0"));
        let reference = reference_tree(&pristine, &lib_with(v));
        assert!(
            tree == reference,
            "round {round}: {}",
            tree_difference(&tree, &reference)
        );
        assert_eq!(leftovers(&work), Vec::<String>::new(), "round {round}");
        assert_eq!(hash_tree(&pristine), pristine_hash, "round {round}");
    }
    let last = 100 + rounds as u32 - 1;
    assert_eq!(env.ok(&["run", "-q"]).stdout, format!("{last}\n"));
}

/// The library called from several threads of one process at once, on one
/// `OUT_DIR`, with the source missing from Cargo's cache, so every call also
/// runs the nested fetch in the same folder: all succeed with one complete
/// tree. (Threads share a process id, so any temporary name made from it
/// alone collides.)
#[test]
fn threads_of_one_process_fetch_and_stage_one_out_dir_at_once() {
    let env = TestEnv::new();
    env.publish(&bulky(100, 0));
    bulky_workspace(&env, 5);
    // The nested call must use this environment's Cargo home, without
    // changing this process's environment.
    let wrapper = env.root.join("cargo-here");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    support::write(
        &wrapper,
        &format!(
            "#!/bin/sh\nCARGO_HOME='{}' exec '{cargo}' \"$@\"\n",
            env.home.display()
        ),
    );
    set_mode(&wrapper, 0o755);
    let target = host();
    let out_dir = env.root.join("shared-out");
    let config = || {
        let mut cfg = build_patch::Config::new();
        cfg.manifest_dir(env.ws.join("patched/bulky"))
            .out_dir(&out_dir)
            .cargo_home(&env.home)
            .cargo(&wrapper)
            .target(&target)
            .offline(true)
            .cargo_directives(false);
        cfg
    };
    let rounds = env_count("BUILD_PATCH_CONCURRENT_ROUNDS", 6);
    let mut pristine_hash = None;
    for round in 0..rounds {
        let v = 200 + round as u32;
        env.file("patches/value.patch", &value_patch(v));
        if let Some(p) = env.cached_source("bulky", "1.0.0") {
            std::fs::remove_dir_all(p).unwrap();
        }
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| config().try_build().map(|o| o.staged_dir().to_path_buf())))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in &results {
            if let Err(e) = r {
                panic!("round {round}: {e}");
            }
        }
        let pristine = env.cached_source("bulky", "1.0.0").unwrap();
        let hash = hash_tree(&pristine);
        assert_eq!(pristine_hash.get_or_insert_with(|| hash.clone()), &hash);
        let staged = results[0].as_ref().unwrap();
        let tree = hash_tree(staged);
        let reference = reference_tree(&pristine, &lib_with(v));
        assert!(
            tree == reference,
            "round {round}: {}",
            tree_difference(&tree, &reference)
        );
        assert_eq!(
            leftovers(staged.parent().unwrap()),
            Vec::<String>::new(),
            "round {round}"
        );
    }
}

/// Opens one of Cargo's package cache lock files.
fn lock_file(home: &Path, name: &str) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(home.join(name))
        .unwrap()
}

/// Holds Cargo's download lock (`.package-cache`, the `flock` a Cargo holds
/// while it resolves or downloads: its `DownloadExclusive` mode) for a
/// while, as another Cargo downloading would.
fn hold_download_lock(home: &Path, for_how_long: Duration) -> std::thread::JoinHandle<()> {
    let file = lock_file(home, ".package-cache");
    file.lock().unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(for_how_long);
        drop(file);
    })
}

/// Waits until Cargo compiles build-patch for this build: the outer build
/// is past resolving its graph.
fn wait_until_compiling(env: &TestEnv, child: &mut std::process::Child) {
    let fingerprints = env.target_dir.join("debug/.fingerprint");
    let t0 = Instant::now();
    while !std::fs::read_dir(&fingerprints).is_ok_and(|mut rd| {
        rd.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("build-patch-")))
    }) {
        assert!(child.try_wait().unwrap().is_none(), "the build ended early");
        assert!(t0.elapsed() < LIMIT, "the build never started compiling");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The nested `cargo metadata` needs the download lock to unpack the crate;
/// another process holds it for 8 seconds from the moment the outer build
/// has resolved its graph (it is compiling build-patch). The build waits,
/// then finishes: no deadlock, the right tree.
#[test]
fn the_nested_cargo_call_waits_for_another_holder_of_the_package_cache_lock() {
    let env = TestEnv::new().isolated_target();
    env.publish(&bulky(50, 0));
    bulky_workspace(&env, 77);
    let log = env.root.join("build.log");
    let mut child = spawn_group(env.cargo(&["build"]), &log);
    wait_until_compiling(&env, &mut child);
    let hold = Duration::from_secs(8);
    let held_at = Instant::now();
    let holder = hold_download_lock(&env.home, hold);

    let ok = finish_within(&mut child, LIMIT, "the build", &log);
    let took = held_at.elapsed();
    holder.join().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(ok, "{text}");
    assert!(
        took >= hold,
        "the build finished in {took:?}, while the lock was held:\n{text}"
    );
    env.assert_prints("77\n");
    let pristine = env.cached_source("bulky", "1.0.0").unwrap();
    let pristine_hash = hash_tree(&pristine);
    let work = work_dir(&env.target_dir, "bulky").unwrap();
    assert_eq!(
        hash_tree(&work.join("bulky-1.0.0")),
        reference_tree(&pristine, &lib_with(77))
    );

    // A cache cleaner (`cargo clean gc`: Cargo's `MutateExclusive`, the
    // mutate lock first, then the download lock) started while a build
    // needs the nested call: the outer build holds the mutate lock shared
    // for its whole run, so the cleaner waits for it without holding the
    // download lock, and the nested call goes through.
    std::fs::remove_dir_all(&pristine).unwrap();
    env.file("patches/value.patch", &value_patch(78));
    let mut child = spawn_group(env.cargo(&["build"]), &log);
    wait_until_compiling(&env, &mut child);
    let home = env.home.clone();
    let cleaner = std::thread::spawn(move || {
        let mutate = lock_file(&home, ".package-cache-mutate");
        mutate.lock().unwrap();
        let download = lock_file(&home, ".package-cache");
        download.lock().unwrap();
        std::thread::sleep(Duration::from_millis(500));
    });
    let ok = finish_within(&mut child, LIMIT, "the build beside a cleaner", &log);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(ok, "{text}");
    cleaner.join().unwrap();
    env.assert_prints("78\n");
    assert_eq!(hash_tree(&pristine), pristine_hash);
}
