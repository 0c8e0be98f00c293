//! Hostile upstream crates, read by the library's own readers: a manifest with
//! 10^5 features or tables nested 10^4 deep, a 50 MB library root, roots of nested
//! `cfg_attr`, unterminated raw strings and comments, NUL bytes, a byte order mark,
//! CRLF line breaks. Each reader gives the right result or a clear error, in bounded
//! time, and never overflows the stack (a stack overflow aborts the user's build
//! script with no message). The cases that need the real cargo are at the end.

use std::time::{Duration, Instant};

use build_patch::__fuzz::{self, Value};
use support::{assert_contains, Package, Shim, TestEnv};

/// A hang guard, not a measure of speed (the benchmarks measure that): the readers
/// take seconds at most on these inputs in a debug build, on a loaded machine too,
/// where the quadratic ones they replaced took many minutes. The growth itself is
/// checked machine-independently by [`grows_linearly`].
const HANG: Duration = Duration::from_secs(120);

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < HANG, "{what} took {took:?}: hung, or quadratic");
    out
}

/// The CPU time this thread has used, from Linux's `schedstat` (nanoseconds):
/// unlike the time on the clock, the machine's other load hardly changes it
/// (a ratio of clock times on a loaded machine was off by 10 times). `None`
/// elsewhere, where the ratio checks are skipped and the hang guard stays.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// The least CPU time `f` takes over two runs (caches warm), or `None`.
fn cpu_time(f: &dyn Fn()) -> Option<Duration> {
    let mut least = Duration::MAX;
    for _ in 0..2 {
        let start = thread_cpu_time()?;
        f();
        least = least.min(thread_cpu_time()? - start);
    }
    Some(least)
}

/// Asserts that `f(big)` costs about `big / small` times `f(small)`, as a linear
/// reader's does, not that squared: a ratio of CPU times on one machine, so not
/// dependent on its speed or load, with a margin for noise (4 times the linear
/// ratio and 0.2 s; a quadratic reader is `big / small` times above it).
fn grows_linearly(what: &str, small: usize, big: usize, f: &dyn Fn(usize)) {
    let Some(t_small) = cpu_time(&|| f(small)) else {
        return;
    };
    let t_big = timed(what, || cpu_time(&|| f(big))).unwrap();
    let linear = t_small.mul_f64(big as f64 / small as f64);
    assert!(
        t_big < 4 * linear + Duration::from_millis(200),
        "{what}: {t_small:?} at {small}, {t_big:?} at {big} (CPU time): more than linear"
    );
}

/// Runs `f` on a thread with the stack a build script's main thread has at least
/// (Rust's default for spawned threads, 2 MiB, is smaller than the main thread's
/// 8 MiB), so that a reader that recurses per nesting level fails here.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn table(value: &Value) -> &[(String, Value)] {
    match value {
        Value::Table(t) => t,
        other => panic!("not a table: {other:?}"),
    }
}

fn get<'a>(value: &'a Value, key: &str) -> &'a Value {
    let found = table(value).iter().find(|(k, _)| k == key);
    &found.unwrap_or_else(|| panic!("no `{key}`")).1
}

#[test]
fn a_manifest_with_100_000_features() {
    let mut text = String::from("[package]\nname = \"many\"\nversion = \"0.1.0\"\n\n[features]\n");
    for i in 0..100_000 {
        text.push_str(&format!("f{i} = [\"f{}\"]\n", i + 1));
    }
    let manifest = timed("reading 10^5 features", || __fuzz::toml(&text)).unwrap();
    assert_eq!(table(get(&manifest, "features")).len(), 100_000);
    // In key order (`f10` sorts before `f2`, so the above is not), the
    // reading is linear.
    let in_order = |n: usize| {
        let mut text = String::from("[features]\n");
        for i in 0..n {
            text.push_str(&format!("f{i:06} = []\n"));
        }
        text
    };
    grows_linearly("reading features in order", 100_000 / 16, 100_000, &|n| {
        __fuzz::toml(&in_order(n)).unwrap();
    });
    let text = in_order(100_000);
    let in_order = cpu_time(&|| drop(__fuzz::toml(&text)));
    // In reverse order too (every insertion at the front of the table).
    let mut text = String::from("[features]\n");
    for i in (0..100_000).rev() {
        text.push_str(&format!("f{i:06} = []\n"));
    }
    let start = thread_cpu_time();
    let manifest = timed("reading 10^5 features in reverse", || __fuzz::toml(&text)).unwrap();
    let reversed = thread_cpu_time().zip(start).map(|(end, start)| end - start);
    assert_eq!(table(get(&manifest, "features")).len(), 100_000);
    // Quadratic, each insertion at the front, but moving pointers: some 3
    // times the time in order, where moving the entries themselves took 20 s
    // (`src/map.rs`), some 80 times.
    if let (Some(in_order), Some(reversed)) = (in_order, reversed) {
        assert!(
            reversed < 12 * in_order + Duration::from_millis(200),
            "10^5 features: {in_order:?} in order, {reversed:?} in reverse (CPU time)"
        );
    }
}

#[test]
fn deeply_nested_tables() {
    on_small_stack(|| {
        let depth = 10_000;
        let keys = vec!["a"; depth].join(".");
        // A header, dotted keys, and both.
        for text in [
            format!("[{keys}]\nx = 1\n"),
            format!("{keys} = 1\n"),
            format!("[{keys}]\n{keys} = 1\n"),
            format!("[[{keys}]]\n[[{keys}]]\n"),
        ] {
            // Refused with a message (it was a stack overflow).
            let e = timed("reading nested tables", || __fuzz::toml(&text)).unwrap_err();
            assert_contains(&e, &["tables are nested more than 128 deep"]);
        }
        // 100 deep is read (Cargo's manifests nest about five deep).
        let keys = vec!["a"; 100].join(".");
        let value = __fuzz::toml(&format!("[{keys}]\nx = 1\n")).unwrap();
        let mut inner = &value;
        for _ in 0..100 {
            inner = get(inner, "a");
        }
        assert_eq!(get(inner, "x"), &Value::Integer(1));
        // Inline tables and arrays nested past the limit: a clear error.
        let text = format!("a = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let e = __fuzz::toml(&text).unwrap_err();
        assert_contains(&e, &["nested more than"]);
        let text = format!("a = {}{}\n", "{b = ".repeat(100_000), "}".repeat(100_000));
        let e = __fuzz::toml(&text).unwrap_err();
        assert_contains(&e, &["nested more than"]);
    });
}

#[test]
fn deeply_nested_json() {
    on_small_stack(|| {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = __fuzz::json(&text).unwrap_err();
        assert_contains(&e, &["nested more than"]);
    });
}

/// A library root of `bytes` of code (about), then `items` times a
/// `#[macro_use] extern crate` and a plain one; and how many code lines it has.
fn long_root(bytes: usize, items: usize) -> (String, usize) {
    let mut text = String::from("\u{feff}//! Docs.\n#![no_std]\n#![allow(unused)]\n");
    let chunk = "pub fn f() -> &'static str { r#\"raw \" string\"# } // comment\n/* block /* nested */ */\n";
    let code_lines = bytes / chunk.len();
    for _ in 0..code_lines {
        text.push_str(chunk);
    }
    // At the end, where counting lines from the start for each was quadratic.
    for i in 0..items {
        text.push_str(&format!(
            "#[macro_use]\nextern crate dep{i};\nextern crate plain{i};\n"
        ));
    }
    (text, code_lines)
}

/// A 50 MB library root: leading attributes, many `extern crate` items, code.
#[test]
fn a_50_mb_library_root() {
    let (text, code_lines) = long_root(50_000_000, 10_000);
    let split =
        on_small_stack(move || timed("splitting a 50 MB root", || __fuzz::split_root(&text)))
            .unwrap();
    assert_eq!(split.attrs.len(), 2);
    assert_eq!(split.extern_crates.len(), 10_000);
    assert_eq!(split.kept_extern_crates.len(), 10_000);
    assert_eq!(split.extern_crates[9_999].0, 4 + 2 * code_lines + 3 * 9_999);
    // Code and items 16 times as many: 16 times the time, not 256.
    on_small_stack(|| {
        grows_linearly("splitting a long root", 1, 16, &|n| {
            let (text, _) = long_root(n * 300_000, n * 600);
            __fuzz::split_root(&text).unwrap();
        })
    });
}

#[test]
fn a_root_of_nested_cfg_attr() {
    on_small_stack(|| {
        for depth in [10, 1_000, 100_000] {
            let text = format!(
                "#![{}no_std{}]\npub fn f() {{}}\n",
                "cfg_attr(all(), ".repeat(depth),
                ")".repeat(depth)
            );
            let split = timed("nested cfg_attr", || __fuzz::split_root(&text));
            match split {
                Ok(split) => assert_eq!(split.attrs.len(), 1),
                Err(e) => assert!(e.contains("nested"), "{e}"),
            }
        }
        // Deep brackets in the items after the leading region.
        let text = format!(
            "pub fn f() {}{}\n#[macro_use] extern crate dep;\n",
            "{".repeat(100_000),
            "}".repeat(100_000)
        );
        let split = timed("nested braces", || __fuzz::split_root(&text)).unwrap();
        assert_eq!(split.extern_crates.len(), 1);
    });
}

#[test]
fn unterminated_literals_and_comments() {
    for (text, error) in [
        (
            "#![doc = r#\"never closed]\nfn f() {}\n",
            "unterminated raw string",
        ),
        ("#![doc = \"never closed]\n", "unterminated string"),
        (
            "/* never closed\n#![no_std]\n",
            "unterminated block comment",
        ),
        (
            "/*! /* nested, never closed */\n",
            "unterminated block comment",
        ),
        (
            "#![cfg_attr(feature = \"x\", no_std\n",
            "unterminated attribute",
        ),
    ] {
        let e = __fuzz::split_root(text).unwrap_err();
        assert!(e.contains(error), "{text:?}: {e}");
    }
    // After the leading region, the items found so far still move and rustc
    // reports the rest.
    let split =
        __fuzz::split_root("#[macro_use] extern crate a;\nconst S: &str = r##\"open\n").unwrap();
    assert_eq!(split.extern_crates.len(), 1);
    // The build-script reader: an error that names the construct and its line.
    for (text, error) in [
        (
            "fn main() {}\nconst S: &str = r#\"open",
            "unterminated raw string on line 2",
        ),
        (
            "fn main() {}\n/* open",
            "unterminated block comment on line 2",
        ),
        (
            "fn main() { \"open }",
            "unterminated string literal on line 1",
        ),
    ] {
        let (refs, renamed) = __fuzz::build_script(text);
        assert!(refs.unwrap_err().contains(error), "{text:?}");
        assert!(renamed.unwrap_err().contains(error), "{text:?}");
    }
    // Many unterminated raw strings, each one scanning to the end, stay linear:
    // the first one ends the reading.
    let text = "r#\"".repeat(1_000_000);
    timed("unterminated raw strings", || __fuzz::split_root(&text)).unwrap();
    timed("unterminated raw strings", || __fuzz::build_script(&text))
        .0
        .unwrap_err();
    grows_linearly(
        "unterminated raw strings",
        1_000_000 / 16,
        1_000_000,
        &|n| {
            let text = "r#\"".repeat(n);
            __fuzz::split_root(&text).unwrap();
            __fuzz::build_script(&text).0.unwrap_err();
        },
    );
}

#[test]
fn nul_bytes_bom_and_crlf() {
    // NUL bytes: in TOML only inside nothing (control characters are invalid), in
    // Rust inside comments and literals.
    assert!(__fuzz::toml("a = \"\0\"\n").is_err());
    assert!(__fuzz::toml("a = 1 # \0\n").is_err());
    let split = __fuzz::split_root("//! \0\n#![no_std]\nconst N: &str = \"\0\";\n").unwrap();
    assert_eq!(split.attrs, [(2, "#![no_std]".to_string())]);
    assert!(split.body.contains("\"\0\""));
    // A byte order mark: skipped by each reader, and not part of the compile root.
    let manifest = __fuzz::toml("\u{feff}[package]\nname = \"bom\"\n").unwrap();
    assert_eq!(
        get(get(&manifest, "package"), "name"),
        &Value::String("bom".into())
    );
    let split = __fuzz::split_root("\u{feff}#![no_std]\nfn f() {}\n").unwrap();
    assert_eq!(split.attrs, [(1, "#![no_std]".to_string())]);
    assert!(!split.body.starts_with('\u{feff}'));
    assert_eq!(split.first_item, "\u{feff}#![no_std]\n".len());
    // CRLF: line breaks kept as they are, lines counted the same.
    let text = "//! Docs.\r\n#![no_std]\r\n#[macro_use]\r\nextern crate dep;\r\nfn f() {}\r\n";
    let split = __fuzz::split_root(text).unwrap();
    assert_eq!(split.attrs, [(2, "#![no_std]".to_string())]);
    assert_eq!(
        split.extern_crates,
        [(3, "#[macro_use]\r\nextern crate dep;".to_string())]
    );
    assert_eq!(
        split.body,
        "         \r\n          \r\n            \r\n                 \r\nfn f() {}\r\n"
    );
    let manifest = __fuzz::toml("[package]\r\nname = \"crlf\"\r\n").unwrap();
    assert_eq!(
        get(get(&manifest, "package"), "name"),
        &Value::String("crlf".into())
    );
    let (_, renamed) = __fuzz::build_script("fn main() {\r\n}\r\n");
    assert_eq!(
        renamed.unwrap(),
        "fn __build_patch_upstream_main() {\r\n}\r\n"
    );
}

/// A library whose `macro_rules!` recursion goes `depth` deep, under `attrs`.
fn deep_recursion(attrs: &str, depth: usize) -> String {
    format!(
        "{attrs}macro_rules! count {{\n    () => {{ 0 }};\n    (x $($rest:tt)*) => {{ 1 + count!($($rest)*) }};\n}}\n\
         pub fn depth() -> u32 {{ count!({}) }}\n",
        " x".repeat(depth)
    )
}

/// A macro that recurses as deep as the upstream's recursion limit allows builds
/// from the registry, and through a shim only with the limit the shim's `src/lib.rs`
/// carries (the two `include!`s add two levels).
#[test]
fn a_macro_recursing_to_the_limit_builds_through_the_shim() {
    let env = TestEnv::new();
    // The deepest each limit allows in a crate root (rustc 1.95): `count!` of 127
    // tokens at the default limit of 128 (128 fails), of 255 at 256.
    for (version, attrs, depth) in [
        ("1.0.0", "", 127),
        ("2.0.0", "#![recursion_limit = \"256\"]\n", 255),
    ] {
        env.publish(&Package::lib(
            "deeprec",
            version,
            &deep_recursion(attrs, depth),
        ));
        let req = format!("deeprec = \"={version}\"");
        env.app(&req, "");
        env.file(
            "src/main.rs",
            "fn main() { println!(\"{}\", deeprec::depth()); }\n",
        );
        assert_eq!(env.ok(&["run", "-q"]).stdout, format!("{depth}\n"));
        // The shim's `src/lib.rs` as `cargo build-patch new` writes it.
        env.shim("patched/deeprec", &Shim::graph_wide("deeprec", version));
        let pristine = env.cached_source("deeprec", version).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let out = build_patch::Config::new()
            .upstream("deeprec", version)
            .source(&pristine)
            .manifest_dir(env.ws.join("patched/deeprec"))
            .out_dir(scratch.path())
            .stage()
            .unwrap();
        let lib_rs = out.shim_lib_rs().unwrap();
        let limit = if attrs.is_empty() { "130" } else { "258" };
        let line = format!("#![recursion_limit = \"{limit}\"]\n");
        assert!(lib_rs.contains(&line), "{lib_rs}");
        env.file("patched/deeprec/src/lib.rs", &lib_rs);
        env.app(
            &req,
            "[patch.crates-io]\ndeeprec = { path = \"patched/deeprec\" }",
        );
        assert_eq!(env.ok(&["run", "-q"]).stdout, format!("{depth}\n"));
        // Without the line (a shim from before it), rustc stops in the compile
        // root; the attribute check does not require the line, `sync` adds it.
        env.file("patched/deeprec/src/lib.rs", &lib_rs.replace(&line, ""));
        let run = env.fails(&["build"]);
        assert!(
            run.stderr
                .contains("recursion limit reached while expanding")
                && run.stderr.contains(".build-patch-root.rs"),
            "{}",
            run.stderr
        );
        let synced = out.sync_shim_lib_rs(&lib_rs.replace(&line, "")).unwrap();
        assert!(synced.contains(&line), "{synced}");
        assert_eq!(out.sync_shim_lib_rs(&synced).unwrap(), synced);
        env.file("patched/deeprec/src/lib.rs", &synced);
        assert_eq!(env.ok(&["run", "-q"]).stdout, format!("{depth}\n"));
    }
}

/// Include macros nested or never closed (each one's argument was read to the end of
/// the file: 100,000 did not finish in minutes).
#[test]
fn a_build_script_of_unclosed_include_calls() {
    let n = 100_000;
    for tail in [
        "include!(".repeat(n),
        format!("{}{}", "include!(".repeat(n), ")".repeat(n)),
    ] {
        let text = format!("fn main() {{}}\ninclude!(\"gen.rs\");\n{tail}");
        let (refs, renamed) = timed("include! calls", || __fuzz::build_script(&text));
        let refs = refs.unwrap();
        assert!(refs[0].contains("gen.rs"), "{:?}", &refs[..1]);
        assert!(renamed.is_ok());
    }
    grows_linearly("include! calls", n / 16, n, &|n| {
        let text = format!("fn main() {{}}\n{}{}", "include!(".repeat(n), ")".repeat(n));
        assert!(__fuzz::build_script(&text).0.is_ok());
    });
}
