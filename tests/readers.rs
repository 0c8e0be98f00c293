//! The TOML and JSON readers against the crates Cargo reads with (`toml`,
//! `serde_json`), through the checks of their fuzz targets (`fuzz/checks.rs`):
//! hand-picked tricky cases, seeded mutations of them, every prefix of them,
//! hostile nesting, and real-world manifests (the repository's own and the
//! copies in `tests/fixtures/manifests/`, taken from crates.io packages). The
//! readers' error messages and accessors are tested beside them, in `src/`.

#[path = "../fuzz/checks.rs"]
mod check;

use std::path::{Path, PathBuf};

use build_patch::__fuzz::{self, Value};
use support::Rng;

const TOML_TRICKY: &[&str] = &[
    "",
    "# only a comment",
    "\n\n\r\n  \t\n",
    "a = 1",
    "a = 1 # comment\nb = 2",
    "\"quoted key\" = 1\n'literal key' = 2\n\"\" = 3",
    "a.b.c = 1\na.b.d = 2\na . \"e f\" . 'g' = 3",
    "3.14159 = \"pi\"",
    "1234 = 5",
    "-_- = 1",
    "s = \"tab\\there \\\"quoted\\\" \\\\ \\b\\f\\n\\r\\u00e9\\U0001F600\"",
    "s = \"\\e\\x41\"",
    "s = 'C:\\Users\\nodejs\\templates'",
    "s = '<\\i\\c*\\s*>'",
    "s = \"\"\"\nRoses are red\nViolets are blue\"\"\"",
    "s = \"\"\"\r\nwindows\r\nline\"\"\"",
    "s = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"",
    "s = \"\"\"\\\n       The quick brown \\\n       fox.\\\n       \"\"\"",
    "s = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"",
    "s = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"",
    "s = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
    "s = \"\"\"two at the end\"\"\"\"\"",
    "s = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
    "s = '''I [dw]on't need \\d{2} apples'''",
    "s = ''''That,' she said, 'is still pointless.''''",
    "s = \"\"\"trailing backslash-space \\   \n  ok\"\"\"",
    "s = \"unicode ünïcödé 日本語\"",
    "s = \"a\\tb\"\nt = 'a\tb'",
    "i = [+99, 42, 0, -17, 1_000, 5_349_221, 53_49_221, 1_2_3_4_5, +0, -0]",
    "i = [0xDEADBEEF, 0xdeadbeef, 0xdead_beef, 0o01234567, 0o755, 0b11010110, 0x0, 0b0]",
    "i = [9223372036854775807, -9223372036854775808, 0x7FFFFFFFFFFFFFFF]",
    "f = [+1.0, 3.1415, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991_228, -0.0, +0.0]",
    "f = [inf, +inf, -inf, nan, +nan, -nan, 1e1_0, 0e0, 0.0e-0]",
    "b = [true, false]",
    "d = [1979-05-27T07:32:00Z, 1979-05-27T00:32:00-07:00, 1979-05-27T00:32:00.999999-07:00]",
    "d = [1979-05-27 07:32:00Z, 1979-05-27t07:32:00z, 1979-05-27T07:32:00, 1979-05-27T00:32:00.999999]",
    "d = [1979-05-27, 07:32:00, 00:32:00.999999, 2000-02-29, 23:59:60]",
    "d = 1979-05-27 # a date then a comment",
    "d = 1979-05-27T07:32",
    "d = 07:32",
    "a = [ 1, 2, 3, ]",
    "a = [\n  1,\n  2, # comment\n  # another\n  3\n  ,\n]",
    "a = [ [ 1, 2 ], [\"a\", 'b', \"\"\"c\"\"\"], [[[]]] ]",
    "a = [ 0.1, 0.2, 0.5, 1, 2, 5, \"x\", {a = 1}, [] ]",
    "a = []\nb = [\n]",
    "t = { first = \"Tom\", last = \"Preston-Werner\" }",
    "t = { x = 1, y.z = 2, y.w = { q = [1, {r = 2}] } }",
    "t = {}\nu = { }",
    "t = {\n  a = 1, # comment\n  b = 2,\n}",
    "t = { a # comment\n = # comment\n 1 }",
    "[table]\nkey = 1\n[table.sub]\nkey = 2",
    "[ a . b . 'c' ]\nx = 1",
    "[a.b.c]\n[a]\nx = 1",
    "[a.b]\nc = 1\n[a.d]\ne = 2",
    "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
    "[[products]]\nname = \"Hammer\"\nsku = 738594937\n[[products]]\n[[products]]\nname = \"Nail\"",
    "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n[[fruits.varieties]]\nname = \"red delicious\"\n[[fruits.varieties]]\nname = \"granny smith\"\n[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\nname = \"plantain\"",
    "[[a.b]]\nx = 1\n[a]\ny = 2",
    "a.b = 1\n[a.c]\nd = 2",
    "[\"quoted . header\"]\nx = 1\n['a'.\"b\"]\ny = 2",
    "[package]\nname = \"x\"\n[package.metadata.build-patch]\npatches = [\"a.patch\"]\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"",
    "x = 1\r\ny = 2\r\n[t]\r\nz = 3\r\n",
    "x=1\ny   =   2\n\t z\t=\t3\t",
    "k = \"# not a comment\" # comment with \"quotes\" and ünïcode\t",
    // Invalid inputs: both readers must reject these.
    "a",
    "a =",
    "= 1",
    "a = 1 b = 2",
    "a = 1\na = 2",
    "a.b = 1\na = 2",
    "a = {}\na.b = 1",
    "a = [1]\n[[a]]",
    "[a]\n[a]",
    "[a]\nb = 1\n[a.b]",
    "[a.b]\n[a]\nb.c = 1",
    "[a.b.c]\n[a]\nb.c.t = 1",
    "[[a.b]]\n[a]\nb.y = 2",
    "[fruit]\napple.color = 'red'\n[fruit.apple]",
    "[a]\n[[a]]",
    "[[a]]\n[a]",
    "a = 1\n[a]",
    "t = { x = 1, x = 2 }",
    "t = { x = {}, x.y = 1 }",
    "t = { a = 1 }\n[t.b]",
    "t = { a = 1 }\nt.b = 2",
    "[a]b = 1",
    "[a",
    "[[a]",
    "[ [a]]",
    "[]",
    "[a.]",
    "a..b = 1",
    ".a = 1",
    "a. = 1",
    "\"\"\"multi\"\"\" = 1",
    "a = \"unterminated",
    "a = \"new\nline\"",
    "a = 'new\nline'",
    "a = \"\"\"unterminated",
    "a = '''unterminated",
    "a = \"\\q\"",
    "a = \"\\u12\"",
    "a = \"\\uD800\"",
    "a = \"\\U00110000\"",
    "a = \"\"\"a\"\"\"\"\"\"",
    "a = \"\u{1}\"",
    "a = \"\u{7f}\"",
    "# comment \u{1}",
    "a = 1\r",
    "a = 01",
    "a = +0x1",
    "a = 0X1",
    "a = 1__0",
    "a = _1",
    "a = 1_",
    "a = 0x_1",
    "a = 9223372036854775808",
    "a = -9223372036854775809",
    "a = 0xG",
    "a = 0o8",
    "a = 0b2",
    "a = 1.",
    "a = .1",
    "a = 1.e2",
    "a = 1e",
    "a = 1e_2",
    "a = 1.2.3",
    "a = 01.5",
    "a = infinity",
    "a = NaN",
    "a = True",
    "a = truex",
    "a = 1979-13-01",
    "a = 1979-02-30",
    "a = 1900-02-29",
    "a = 1979-05-27T25:00:00",
    "a = 1979-05-27T07:60:00",
    "a = 1979-05-27T07:32:61",
    "a = 1979-05-27T07:32:00.",
    "a = 1979-05-27T07:32:00+25:00",
    "a = 1979-5-27",
    "a = 07:32:00Z",
    "a = [1 2]",
    "a = [,]",
    "a = [1,,2]",
    "a = [",
    "a = {",
    "a = { b = 1 c = 2 }",
    "a = { , }",
    "a = { b = 1,, }",
    "a = bare",
    "a = 'x' 'y'",
    "[a] # ok\n[b] x",
];

fn find_toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            find_toml_files(&path, out);
        } else if name.ends_with(".toml") || name == "Cargo.toml.orig" {
            out.push(path);
        }
    }
}

/// Every manifest of the repository, the fixtures among them: real-world TOML.
#[test]
fn toml_matches_the_toml_crate_on_real_manifests() {
    let mut files = Vec::new();
    find_toml_files(Path::new(env!("CARGO_MANIFEST_DIR")), &mut files);
    let fixtures = files
        .iter()
        .filter(|f| {
            f.starts_with(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/manifests"
            ))
        })
        .count();
    assert!(fixtures >= 10, "the fixture manifests are there");
    for file in files {
        if file.components().any(|c| c.as_os_str() == "target") {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&file) {
            check::toml(text.as_bytes());
        }
    }
}

/// Inserts and deletes characters that matter to the grammar in the tricky cases, and
/// requires the same outcome as the `toml` crate.
#[test]
fn toml_matches_the_toml_crate_on_mutated_cases() {
    let alphabet: Vec<char> = "\"'\\\n\r #=[]{},.a1_-+:eTZ\tuxé\u{1}0".chars().collect();
    mutated(
        TOML_TRICKY,
        &alphabet,
        0x9E37_79B9_7F4A_7C15,
        20_000,
        |text| {
            // The `toml` crate lets a dotted key of three or more parts reach into a
            // table defined by a header (`[a.x.y]`, `[a]`, `x.z.w = 1`, or `[[c.a]]`,
            // `[c]`, `a.b.c = 1`) though it rejects the same with two parts (`x.z = 1`);
            // TOML forbids both, and so do we.
            let long_dotted_key = |e: &str| {
                let message = e.split_once(": ").map_or(e, |(_, m)| m);
                message.starts_with("cannot add key")
                    && message
                        .split('`')
                        .nth(1)
                        .is_some_and(|k| k.matches('.').count() >= 2)
            };
            if !__fuzz::toml(text).is_err_and(|e| long_dotted_key(&e)) {
                check::toml(text.as_bytes());
            }
        },
    );
}

/// `count` seeded mutations of `cases` (see [`Rng::mutate`]), each given to `check`.
fn mutated(cases: &[&str], alphabet: &[char], seed: u64, count: usize, check: impl Fn(&str)) {
    let mut rng = Rng::new(seed);
    for _ in 0..count {
        let case = *rng.pick(cases);
        check(&rng.mutate(case, alphabet));
    }
}

/// Every prefix of `cases` through `reader`: no panic.
fn every_prefix(cases: &[&str], reader: fn(&str) -> Result<Value, String>) {
    for case in cases {
        for (i, _) in case.char_indices() {
            let _ = reader(&case[..i]);
        }
    }
}

/// Every prefix of the tricky cases, and a few hostile inputs: errors, never panics.
#[test]
fn toml_never_panics() {
    every_prefix(TOML_TRICKY, __fuzz::toml);
    let deep = format!("a = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(__fuzz::toml(&deep).is_err());
    let deep = format!("a = {}", "{b=".repeat(100_000));
    assert!(__fuzz::toml(&deep).is_err());
}

const JSON_TRICKY: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "-1",
    "123456789012345678901234567890",
    "1.5",
    "-0.0",
    "1e10",
    "1E+10",
    "1e-10",
    "2.5e3",
    "\"\"",
    "\"plain\"",
    "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
    "\"\\u0041\\u00e9\\u20AC\"",
    "\"\\ud83d\\ude00\"",
    "\"\\uD834\\uDD1E\"",
    "\"ünïcödé 日本語 😀\"",
    "[]",
    "[ ]",
    "{}",
    "{ }",
    " \t\r\n[1, \"a\", null, true, false, {\"k\": []}] \n",
    "{\"a\": 1, \"b\": {\"c\": [1, 2, {\"d\": null}]}}",
    "{\"dup\": 1, \"dup\": 2}",
    "{\"\": \"empty key\"}",
    "{\"packages\":[{\"name\":\"serde\",\"version\":\"1.0.0\",\"manifest_path\":\"/x/Cargo.toml\",\"features\":{}}],\"resolve\":null}",
    // Invalid inputs: both readers must reject these.
    "",
    " ",
    "nul",
    "True",
    "01",
    "-",
    "+1",
    ".5",
    "1.",
    "1e",
    "1e+",
    "0x10",
    "NaN",
    "Infinity",
    "\"unterminated",
    "\"bad \\x escape\"",
    "\"\\u12\"",
    "\"\\uD800\"",
    "\"\\uDC00\"",
    "\"\\uD800\\u0041\"",
    "\"\\uD800x\"",
    "\"raw\ttab\"",
    "\"raw\nnewline\"",
    "[1,]",
    "[,1]",
    "[1 2]",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{a: 1}",
    "{1: 1}",
    "[",
    "{",
    "]",
    "1 2",
    "[] []",
    "// comment\n1",
    "1e400",
    "-1e400",
    "[1e999, 0.5e-999]",
];

/// The tricky cases of both readers: the same outcome as `toml` and `serde_json`.
#[test]
fn match_their_references_on_tricky_cases() {
    type Check = fn(&[u8]);
    let readers: [(&[&str], Check); 2] = [(TOML_TRICKY, check::toml), (JSON_TRICKY, check::json)];
    for (cases, check) in readers {
        for case in cases {
            check(case.as_bytes());
        }
    }
}

/// Inserts and deletes characters that matter to the grammar in the tricky cases, and
/// requires the same outcome as `serde_json`.
#[test]
fn json_matches_serde_json_on_mutated_cases() {
    let alphabet: Vec<char> = "\"\\/{}[],:-+.eE0129ufntrl \n\t\u{1}é\u{7f}"
        .chars()
        .collect();
    mutated(
        JSON_TRICKY,
        &alphabet,
        0x2545_F491_4F6C_DD1D,
        30_000,
        |text| check::json(text.as_bytes()),
    );
}

#[test]
fn json_never_panics() {
    every_prefix(JSON_TRICKY, __fuzz::json);
    let deep = "[".repeat(1_000_000);
    assert!(__fuzz::json(&deep).unwrap_err().contains("nested"));
    let deep = "{\"a\":".repeat(1_000_000);
    assert!(__fuzz::json(&deep).is_err());
    let ok = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    assert!(__fuzz::json(&ok).is_ok());
}

#[test]
fn json_large_documents() {
    let package = r#"{"name":"p","version":"1.0.0","id":"registry+https://github.com/rust-lang/crates.io-index#p@1.0.0","manifest_path":"/home/u/.cargo/registry/src/index/p-1.0.0/Cargo.toml","targets":[{"kind":["lib"],"name":"p","src_path":"/x/src/lib.rs","edition":"2021","doctest":true}],"features":{"default":["std"],"std":[]},"description":"a \"quoted\" description\nwith lines"}"#;
    let text = format!(
        "{{\"packages\":[{}],\"version\":1}}",
        vec![package; 5_000].join(",")
    );
    check::json(text.as_bytes());
    let Ok(Value::Table(top)) = __fuzz::json(&text) else {
        panic!("not an object");
    };
    let packages = top.iter().find(|(k, _)| k == "packages");
    assert!(matches!(packages, Some((_, Value::Array(a))) if a.len() == 5_000));
}
