//! Patches to the upstream `Cargo.toml` take effect: the build notices when
//! the shim's manifest no longer says what the patched upstream says.

use support::{assert_contains, unified_diff, Package, Shim, TestEnv};

const MANIFEST: &str = "[package]\nname = \"uses-base\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[dependencies]\nbase = \">= 0.8\"\n";

#[test]
fn a_cargo_toml_patch_must_be_mirrored_by_the_shim() {
    let env = TestEnv::new();
    env.publish(&Package::lib("base", "0.8.0", "pub const V: u32 = 8;\n"));
    env.publish(&Package::lib("base", "0.11.0", "pub const V: u32 = 11;\n"));
    env.publish(
        &Package::new("uses-base", "1.0.0")
            .file("Cargo.toml", MANIFEST)
            .file("src/lib.rs", "pub fn v() -> u32 { base::V }\n"),
    );
    // The rust-vmm fix: a caret requirement instead of an open range.
    env.file(
        "patches/caret.patch",
        &unified_diff("Cargo.toml", MANIFEST, &MANIFEST.replace(">= 0.8", "0.11")),
    );
    let shim = |req: &str| {
        Shim::graph_wide("uses-base", "1.0.0")
            .patch("../../patches/caret.patch")
            .manifest_extra(&format!("\n[dependencies]\nbase = \"{req}\"\n"))
    };
    env.shim("patched/uses-base", &shim(">= 0.8"));
    env.app(
        "uses-base = \"1\"",
        "[patch.crates-io]\nuses-base = { path = \"patched/uses-base\" }",
    )
    .main_printing(&["uses_base::v()"]);

    let run = env.fails(&["build"]);
    assert_contains(
        &run.stderr,
        &[
            "does not match the patched manifest of `uses-base 1.0.0`",
            "[dependencies] `base`: requirement upstream `^0.11`, the shim `>=0.8`",
            "cargo build-patch sync",
        ],
    );

    env.shim("patched/uses-base", &shim("0.11"));
    env.assert_prints("11\n");
}
