#!/usr/bin/env bash
# Benchmark 1: a no-op `cargo build` of a built workspace whose dependency goes
# through a shim (graph-wide, `[patch.crates-io]`), against the same workspace
# with the plain registry dependency. Each timed build must do nothing
# (checked).
#
# Two measures:
#   - time, interleaved (`compare`), on web-sys: benchmark 3's workspaces;
#   - instructions Cargo executes (valgrind's callgrind, installed if missing),
#     which do not depend on the machine's load: on web-sys, whose shim
#     repeats a 1,500-feature table, and on shlex 1.1.0 (the quickstart's
#     crate), a crate of ordinary size.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

web_setup registry shim shim-noinc
for v in registry shim shim-noinc; do
    if cargo build --manifest-path "$WORK/web/$v/Cargo.toml" 2>&1 | grep -q Compiling; then
        echo "the second build of $v was not a no-op" >&2
        exit 1
    fi
done

build() { echo "cargo build -q --manifest-path '$WORK/web/$1/Cargo.toml'"; }
compare noop "${RUNS:-40}" 3 -- \
    "registry dependency" "" "$(build registry)" \
    "shim" "" "$(build shim)" \
    "shim, \`incremental = false\`" "" "$(build shim-noinc)"

need valgrind

# small_workspace NAME KIND: a workspace whose binary depends on shlex 1.1.0,
# from the registry (KIND registry) or through a graph-wide shim (shim).
small_workspace() {
    local ws=$WORK/small/$1
    mkdir -p "$ws/src"
    echo 'fn main() { println!("{}", shlex::quote("{a,b}")); }' >"$ws/src/main.rs"
    {
        printf '[package]\nname = "app"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        printf '[dependencies]\nshlex = "=1.1.0"\n\n[workspace]\n'
        [[ $2 == shim ]] && printf '\n[patch.crates-io]\nshlex = { path = "shim/shlex" }\n'
    } >"$ws/Cargo.toml"
    if [[ $2 == shim ]]; then
        mkdir -p "$ws/shim/shlex/src"
        cat >"$ws/shim/shlex/Cargo.toml" <<TOML
[package]
name = "shlex"
version = "1.1.0"
publish = false

[package.metadata.build-patch]
patches = ["$REPO/patches-example/shlex-quote-braces.patch"]

[features]
default = ["std"]
std = []

[build-dependencies]
build-patch = { git = "$SNAPSHOT_GIT" }
TOML
        echo 'fn main() { build_patch::build(); }' >"$ws/shim/shlex/build.rs"
        printf '#![cfg_attr(not(feature = "std"), no_std)]\n#![allow(warnings)]\ninclude!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));\n' \
            >"$ws/shim/shlex/src/lib.rs"
    fi
    # A lock file from an earlier run pins an older snapshot of build-patch.
    if [[ $2 == shim ]] && grep -qs '^name = "build-patch"' "$ws/Cargo.lock"; then
        cargo update -q -p build-patch --manifest-path "$ws/Cargo.toml"
    fi
    cargo build -q --manifest-path "$ws/Cargo.toml"
    echo "$ws/Cargo.toml"
}

# instructions NAME MANIFEST...: instructions the real cargo binary (not
# rustup's proxy, which callgrind would measure instead) executes for a no-op
# `cargo build` of each manifest, median of 3 runs, interleaved. The first
# manifest is the baseline.
instructions() {
    local name=$1
    shift
    local real_cargo
    real_cargo=$(rustup which cargo 2>/dev/null || command -v cargo)
    local -A runs=()
    local r m ir
    for r in 1 2 3; do
        for m in "$@"; do
            ir=$(RUSTC=$(rustup which rustc 2>/dev/null || command -v rustc) \
                valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                "$real_cargo" build -q --manifest-path "$m" 2>&1 |
                awk '/Collected/ { print $NF }')
            runs[$m]+="$ir "
        done
    done
    local base
    {
        echo "### $name"
        echo
        echo "Instructions executed by \`cargo build\` (no-op), counted by callgrind; median of 3 runs."
        echo
        echo "| workspace | instructions | ratio |"
        echo "| --- | ---: | ---: |"
        for m in "$@"; do
            ir=$(echo "${runs[$m]}" | tr ' ' '\n' | grep . | sort -n | sed -n 2p)
            base=${base:-$ir}
            echo "| $(basename "$(dirname "$m")") | $ir | $(awk -v a="$ir" -v b="$base" 'BEGIN { printf "%.3f", a / b }') |"
        done
    } | tee "$RESULTS/$name.md"
    echo
}

snapshot_git >/dev/null
instructions noop-instructions-web-sys "$WORK/web/registry/Cargo.toml" "$WORK/web/shim/Cargo.toml"
instructions noop-instructions-shlex "$(small_workspace registry registry)" "$(small_workspace shim shim)"
