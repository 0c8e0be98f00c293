#!/usr/bin/env bash
# Benchmark 3: compiling a large crate (web-sys with a few features) through a
# shim, against the same crate as a registry dependency. Every variant shares
# one target directory, so the dependencies (wasm-bindgen, js-sys, ...) and
# build-patch itself are compiled once, in the setup; each timed run is
# `cargo build` after `cargo clean -p web-sys`, which for a shim includes
# compiling and running its build script (staging) as well as the crate.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Setup: the dependencies, compiled once (the timed runs compile web-sys and,
# for a shim, its build script).
web_setup registry
cargo build -q -p build-patch --manifest-path "$WORK/web/shim/Cargo.toml"

build() { echo "cargo build -q --manifest-path '$WORK/web/$1/Cargo.toml'"; }
clean() { echo "cargo clean -q -p web-sys --manifest-path '$WORK/web/$1/Cargo.toml'"; }
compare compile-shim "${RUNS:-3}" 0 -- \
    "registry dependency" "$(clean registry)" "$(build registry)" \
    "shim (incremental, lints allowed)" "$(clean shim)" "$(build shim)" \
    "shim, \`incremental = false\` (lints allowed)" "$(clean shim-noinc)" "$(build shim-noinc)" \
    "shim, \`incremental = false\`, lints not allowed" "$(clean shim-lints)" "$(build shim-lints)"

