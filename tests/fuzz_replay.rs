//! The corpora of the fuzz targets (`fuzz/corpus/TARGET/`), replayed through the
//! same checks as the targets (`fuzz/checks.rs`), so that `cargo test` runs every
//! input the fuzzing kept, and every crash it found, without nightly. The long
//! fuzzing itself is in docs/reliability.md ("Fuzzing").

#[path = "../fuzz/checks.rs"]
mod check;

/// Runs `check` on every input of the target's corpus, on a thread with a large
/// stack: `syn`, the root check's reference, recurses deeply in a debug build
/// (the readers themselves keep to a small stack: `tests/hostile_upstream.rs`).
fn replay(target: &'static str, check: fn(&[u8])) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || replay_here(target, check))
        .unwrap()
        .join()
        .unwrap();
}

fn replay_here(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails its check", path.display());
        n += 1;
    }
    assert!(n > 0, "no corpus in {}", dir.display());
    eprintln!("{target}: {n} inputs replayed");
}

/// One test a target: `NAME_corpus` replays `fuzz/corpus/NAME/` through
/// `check::NAME`.
macro_rules! corpus_tests {
    ($($target:ident => $test:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            replay(stringify!($target), check::$target);
        }
    )*};
}

corpus_tests! {
    toml => toml_corpus,
    json => json_corpus,
    root => root_corpus,
    build_script => build_script_corpus,
    parse_apply => parse_apply_corpus,
}
