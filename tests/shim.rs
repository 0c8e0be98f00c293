//! End to end: shims built by the real `cargo` against a local registry,
//! asserting what the compiled programs do.

use support::{assert_contains, unified_diff, Package, Shim, TestEnv};

const GREET_V1: &str = r#"pub fn greet(name: &str) -> String {
    format!("Hello {}", name)
}
"#;

const GREET_FIXED: &str = r#"pub fn greet(name: &str) -> String {
    format!("Hello, {}!", name)
}
"#;

/// `greet 1.0.0` (with the "bug": no comma), and two crates that use it.
fn publish_greet_family(env: &TestEnv) {
    env.publish(&Package::lib("greet", "1.0.0", GREET_V1));
    for f in ["feature1", "feature2"] {
        env.publish(&Package::new(f, "1.0.0").dep("greet", "1.0").file(
            "src/lib.rs",
            &format!("pub fn run() -> String {{ greet::greet(\"{f}\") }}\n"),
        ));
    }
    env.file(
        "patches/greet-comma.patch",
        &unified_diff("src/lib.rs", GREET_V1, GREET_FIXED),
    );
}

#[test]
fn renamed_shim_patches_only_the_workspace_code() {
    let env = TestEnv::new();
    publish_greet_family(&env);
    env.shim(
        "patched/greet",
        &Shim::renamed("greet-patched", "greet", "1.0.0").patch("../../patches/greet-comma.patch"),
    );
    env.app(
        "greet = { package = \"greet-patched\", path = \"patched/greet\" }\nfeature1 = \"1.0\"",
        "",
    )
    .file(
        "src/main.rs",
        r#"fn main() {
    println!("{}", greet::greet("app"));
    println!("{}", feature1::run());
}
"#,
    );
    let run = env.ok(&["run", "-q"]);
    // The workspace's code sees the fix; feature1 still has the original.
    assert_eq!(run.stdout, "Hello, app!\nHello feature1\n");
}

#[test]
fn graph_wide_shim_reaches_dependencies_of_dependencies() {
    let env = TestEnv::new();
    publish_greet_family(&env);
    env.shim(
        "patched/greet",
        &Shim::graph_wide("greet", "1.0.0").patch("../../patches/greet-comma.patch"),
    );
    env.app(
        "feature1 = \"1.0\"\nfeature2 = \"1.0\"",
        "[patch.crates-io]\ngreet = { path = \"patched/greet\" }",
    )
    .file(
        "src/main.rs",
        "fn main() {\n    println!(\"{}\", feature1::run());\n    println!(\"{}\", feature2::run());\n}\n",
    );
    let run = env.ok(&["run", "-q"]);
    assert_eq!(run.stdout, "Hello, feature1!\nHello, feature2!\n");
    // Only the patched copy is in the graph.
    let tree = env.ok(&["tree", "-q", "--prefix", "none"]);
    let greets: Vec<&str> = tree
        .stdout
        .lines()
        .filter(|l| l.starts_with("greet "))
        .collect();
    assert!(
        greets.iter().all(|l| l.contains("patched/greet")),
        "{}",
        tree.stdout
    );
}

/// A crate that exercises what `include!` makes delicate: nested modules in
/// both styles, `#[path]`, `include_str!` two ways, exported macros with
/// `$crate`, private items through `crate::`, inner attributes and docs.
fn tricky_crate() -> Package {
    Package::lib(
        "tricky",
        "0.3.1",
        r#"//! Crate docs, which include! would reject.
#![cfg_attr(feature = "never", deny(warnings))]
#![allow(clippy::all)]
/*! More inner docs. */

mod a;
mod m;
#[path = "elsewhere/x.rs"]
mod x;

pub use a::b::deep;

/// Exported, and used through `$crate`.
#[macro_export]
macro_rules! twice {
    ($e:expr) => { $crate::helper($e) * 2 };
}

#[doc(hidden)]
pub fn helper(v: u32) -> u32 { v + crate::m::OFFSET }

pub fn answer() -> u32 { twice!(20) }
pub fn data() -> &'static str { a::DATA }
pub fn manifest_data() -> &'static str {
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/manifest.txt"))
}
pub fn from_path_mod() -> &'static str { x::NAME }
pub fn pkg() -> String { format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")) }
pub fn line() -> u32 { line!() }
"#,
    )
    .file(
        "src/a.rs",
        "pub mod b;\npub const DATA: &str = include_str!(\"data.txt\");\n",
    )
    .file("src/a/b.rs", "pub fn deep() -> &'static str { \"deep\" }\n")
    .file("src/data.txt", "relative data")
    .file("src/m/mod.rs", "pub(crate) const OFFSET: u32 = 1;\n")
    .file(
        "src/elsewhere/x.rs",
        "pub const NAME: &str = \"path attr\";\n",
    )
    .file("assets/manifest.txt", "through CARGO_MANIFEST_DIR")
}

#[test]
fn modules_macros_includes_and_identity_survive_the_shim() {
    let env = TestEnv::new();
    env.publish(&tricky_crate());
    // Patch `deep` so we know the patched copy is what compiled.
    env.file(
        "patches/deep.patch",
        &unified_diff(
            "src/a/b.rs",
            "pub fn deep() -> &'static str { \"deep\" }\n",
            "pub fn deep() -> &'static str { \"deep, patched\" }\n",
        ),
    );
    env.shim(
        "patched/tricky",
        &Shim::graph_wide("tricky", "0.3.1")
            .patch("../../patches/deep.patch")
            .attrs("#![cfg_attr(feature = \"never\", deny(warnings))]\n"),
    );
    env.app(
        "tricky = \"0.3\"",
        "[patch.crates-io]\ntricky = { path = \"patched/tricky\" }",
    )
    .file(
        "src/main.rs",
        r#"fn main() {
    println!("{}", tricky::answer());
    println!("{}", tricky::twice!(1));
    println!("{}", tricky::deep());
    println!("{}", tricky::data());
    println!("{}", tricky::manifest_data());
    println!("{}", tricky::from_path_mod());
    println!("{}", tricky::pkg());
    println!("{}", tricky::line());
}
"#,
    );
    let run = env.ok(&["run", "-q"]);
    assert_eq!(
        run.stdout,
        "42\n4\ndeep, patched\nrelative data\nthrough CARGO_MANIFEST_DIR\npath attr\ntricky 0.3.1\n29\n"
    );
    // `cargo test`, `cargo check` and `cargo doc` work on it as well.
    env.ok(&["check", "-q"]);
    env.ok(&["test", "-q"]);
    env.ok(&["doc", "-q", "--no-deps", "-p", "tricky"]);
}

#[test]
fn no_std_crate_needs_its_attribute_in_the_shim() {
    let lib = "#![no_std]\n//! A no_std crate.\npub fn add(a: u32, b: u32) -> u32 { a + b }\n";
    let env = TestEnv::new();
    env.publish(&Package::lib("tiny", "1.0.0", lib));
    env.file(
        "patches/add.patch",
        &unified_diff(
            "src/lib.rs",
            lib,
            &lib.replace("a + b", "a.wrapping_add(b)"),
        ),
    );
    env.app(
        "tiny = { package = \"tiny-patched\", path = \"patched/tiny\" }",
        "",
    )
    .main_printing(&["tiny::add(u32::MAX, 2)"]);

    // Without the attribute, the build fails and says which line to add.
    let shim = Shim::renamed("tiny-patched", "tiny", "1.0.0").patch("../../patches/add.patch");
    env.shim("patched/tiny", &shim);
    let run = env.fails(&["build", "-q"]);
    assert_contains(&run.stderr, &["#![no_std]", "missing"]);

    env.shim("patched/tiny", &shim.attrs("#![no_std]\n"));
    env.assert_prints("1\n");
}

#[test]
fn proc_macro_crate_through_a_shim() {
    let env = TestEnv::new();
    let lib = r#"extern crate proc_macro;
use proc_macro::TokenStream;

#[proc_macro]
pub fn answer(_input: TokenStream) -> TokenStream {
    "41".parse().unwrap()
}
"#;
    env.publish(
        &Package::lib("answer-macro", "1.0.0", lib).manifest_extra("\n[lib]\nproc-macro = true\n"),
    );
    env.file(
        "patches/answer.patch",
        &unified_diff("src/lib.rs", lib, &lib.replace("\"41\"", "\"42\"")),
    );
    env.shim(
        "patched/answer-macro",
        &Shim::graph_wide("answer-macro", "1.0.0")
            .patch("../../patches/answer.patch")
            .manifest_extra("\n[lib]\nproc-macro = true\n"),
    );
    env.app(
        "answer-macro = \"1\"",
        "[patch.crates-io]\nanswer-macro = { path = \"patched/answer-macro\" }",
    )
    .main_printing(&["answer_macro::answer!()"]);
    env.assert_prints("42\n");
}

#[test]
fn patches_from_a_quilt_series_apply_in_its_order() {
    let env = TestEnv::new();
    let v0 = "pub fn steps() -> Vec<&'static str> {\n    vec![\"zero\"]\n}\n";
    let v1 = "pub fn steps() -> Vec<&'static str> {\n    vec![\"zero\", \"one\"]\n}\n";
    let v2 = "pub fn steps() -> Vec<&'static str> {\n    vec![\"zero\", \"one\", \"two\"]\n}\n";
    env.publish(&Package::lib("steps", "1.0.0", v0));
    // Name order would apply `a-second` first and fail: the series decides.
    env.file(
        "patches/steps/b-first.patch",
        &unified_diff("src/lib.rs", v0, v1),
    )
    .file(
        "patches/steps/a-second.diff",
        &unified_diff("src/lib.rs", v1, v2),
    )
    .file(
        "patches/steps/series",
        "# applied in this order\nb-first.patch\na-second.diff -p1\n",
    );
    env.wire_renamed("steps", "1.0.0", "steps/").file(
        "src/main.rs",
        "fn main() { println!(\"{:?}\", steps::steps()); }\n",
    );
    env.assert_prints("[\"zero\", \"one\", \"two\"]\n");
}

#[test]
fn extern_crate_items_of_the_root_move_into_the_shim() {
    let env = TestEnv::new();
    // A dependency whose exported macro shadows std's `vec!`, and one that an
    // old crate root renames to `core`: rustc refuses both items inside
    // `include!` ("`vec` is already in scope", "macro-expanded `extern crate`
    // items cannot shadow names passed with `--extern`").
    env.publish(&Package::lib(
        "vecmac",
        "1.0.0",
        "#[macro_export]\nmacro_rules! vec {\n    () => { \"vecmac's vec\" };\n}\n",
    ));
    env.publish(&Package::lib(
        "serialcore",
        "0.4.0",
        "pub fn name() -> &'static str { \"serialcore\" }\n",
    ));
    let root = r#"//! An old-style crate root.
#![deny(missing_docs)]

#[macro_use]
extern crate vecmac;
extern crate serialcore as core;

/// Which `vec!`.
pub fn made() -> &'static str { vec![] }
/// Which `core`.
pub fn name() -> &'static str { core::name() }
/// The line of this call, unchanged by the move.
pub fn line() -> u32 { line!() }
"#;
    env.publish(
        &Package::new("oldstyle", "0.4.0")
            .dep("vecmac", "1.0")
            .dep("serialcore", "0.4")
            .file("src/lib.rs", root),
    );
    env.app(
        "oldstyle = \"0.4\"",
        "[patch.crates-io]\noldstyle = { path = \"patched/oldstyle\" }",
    )
    .file(
        "src/main.rs",
        "fn main() {\n    println!(\"{} {} {}\", oldstyle::made(), oldstyle::name(), oldstyle::line());\n}\n",
    );
    let shim = Shim::graph_wide("oldstyle", "0.4.0")
        .manifest_extra("\n[dependencies]\nvecmac = \"1.0\"\nserialcore = \"0.4\"\n");

    // Without the items, the build names them and the command that writes them.
    env.shim("patched/oldstyle", &shim);
    let run = env.fails(&["build", "-q"]);
    let lines: Vec<&str> = run.stderr.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("missing `extern crate` items"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert_eq!(
        lines[at + 1..at + 4],
        [
            "#[macro_use]",
            "extern crate vecmac;",
            "extern crate serialcore as core;"
        ],
        "{}",
        run.stderr
    );
    assert_contains(&run.stderr, &["help: run `cargo build-patch sync "]);

    env.shim(
        "patched/oldstyle",
        &shim.attrs("#[macro_use]\nextern crate vecmac;\nextern crate serialcore as core;\n"),
    );
    env.assert_prints("vecmac's vec serialcore 13\n");
}
