#!/usr/bin/env bash
# Benchmark 3: compiling a large crate (web-sys with a few features) through a
# shim, against the same crate as a registry dependency. Every variant shares
# one target directory, so the dependencies (wasm-bindgen, js-sys, ...) and
# build-patch itself are compiled once, in the setup; each timed run is
# `cargo build` after `cargo clean -p web-sys`, which for a shim includes
# compiling and running its build script (staging) as well as the crate.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Setup: the dependencies, and build-patch, compiled once (the timed runs
# compile web-sys and, for a shim, its build script). (`cargo build -p
# build-patch` would do for the latter, but Cargo 1.95 panics on `-p` of a
# package that is only a build-dependency.)
web_setup registry shim

build() { echo "cargo build -q --manifest-path '$WORK/web/$1/Cargo.toml'"; }
clean() { echo "cargo clean -q -p web-sys --manifest-path '$WORK/web/$1/Cargo.toml'"; }
compare compile-shim "${RUNS:-3}" 0 -- \
    "registry dependency" "$(clean registry)" "$(build registry)" \
    "shim (incremental, lints allowed)" "$(clean shim)" "$(build shim)" \
    "shim, \`incremental = false\` (lints allowed)" "$(clean shim-noinc)" "$(build shim-noinc)" \
    "shim, \`incremental = false\`, lints not allowed" "$(clean shim-lints)" "$(build shim-lints)"

