#!/usr/bin/env bash
# Benchmark 1: a no-op `cargo build` of a built workspace whose web-sys goes
# through a shim (graph-wide, `[patch.crates-io]`), against the same workspace
# with the plain registry dependency. The workspaces are benchmark 3's,
# built (again) before timing; each timed build must do nothing (checked).
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
