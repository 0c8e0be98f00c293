//! Fuzzes the patch engine through its public API: any bytes as a patch,
//! applied to a small tree whose file contents come from the input too.
//! Nothing may panic, and nothing outside the tree may change.
//!
//! Input layout: `file bytes 0xFF patch bytes` (no 0xFF: the first half is
//! the file). The file is written as `src/lib.rs` and as `Cargo.toml`.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use build_patch::patch::{apply_to_dir, ApplyOptions, PatchFile};
use libfuzzer_sys::fuzz_target;

/// `<tmp>/sentinel` (must never change) and `<tmp>/tree` (patched).
fn dirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("build-patch-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let sentinel = root.join("sentinel");
        std::fs::write(&sentinel, b"untouched").unwrap();
        (sentinel, root.join("tree"))
    })
}

fuzz_target!(|data: &[u8]| {
    let (sentinel, tree) = dirs();
    let split = data
        .iter()
        .position(|&b| b == 0xff)
        .unwrap_or(data.len() / 2);
    let (file, patch) = (&data[..split], &data[(split + 1).min(data.len())..]);

    let _ = std::fs::remove_dir_all(tree);
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(tree.join("src/lib.rs"), file).unwrap();
    std::fs::write(tree.join("Cargo.toml"), file).unwrap();

    for fuzz in [0, 2] {
        let mut options = ApplyOptions::new();
        options.fuzz(fuzz);
        let patches = [PatchFile {
            display: "fuzz.patch".to_string(),
            bytes: patch.to_vec(),
            strip: None,
        }];
        let _ = apply_to_dir(tree, &patches, &options);
    }

    assert_eq!(std::fs::read(sentinel).unwrap(), b"untouched");
    // Nothing appeared beside the tree.
    let parent = tree.parent().unwrap();
    for entry in std::fs::read_dir(parent).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            name == "sentinel" || name == "tree",
            "wrote {name:?} outside the tree"
        );
    }
});
