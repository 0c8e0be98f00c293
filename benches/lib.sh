# Shared by the benchmark scripts: paths, tools, and the side-by-side timer.
# Sourced, not run.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
# Everything a benchmark makes (workspaces, inputs, target directories, results)
# lives here; `rm -rf target/bench` starts over.
WORK=${BENCH_WORK:-$REPO/target/bench}
RESULTS=$WORK/results
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export CARGO_HOME CARGO_TERM_COLOR=never
mkdir -p "$WORK" "$RESULTS"

need() {
    local missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        echo "installing ${missing[*]}" >&2
        apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
            { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
    fi
}
need patch time

# The benchmark driver, in the profile Cargo compiles build scripts with
# (dev: opt-level 0), and in release for comparison.
harness() {
    local profile=$1
    local flag=()
    [[ $profile == release ]] && flag=(--release)
    CARGO_TARGET_DIR=$WORK/harness cargo build -q "${flag[@]}" \
        --manifest-path "$BENCH_DIR/harness/Cargo.toml" >&2
    echo "$WORK/harness/$([[ $profile == release ]] && echo release || echo debug)/build-patch-bench"
}

# compare NAME RUNS WARMUP [--may-fail] -- LABEL PREPARE COMMAND [LABEL PREPARE COMMAND...]
#
# Times the baseline (the first triple) and each candidate side by side,
# interleaved round by round (see benches/harness/src/compare.rs), running
# PREPARE (untimed) before each COMMAND. Prints a Markdown table, also kept in
# $RESULTS/NAME.md.
compare() {
    local name=$1
    local driver
    driver=$(harness release)
    "$driver" compare "$@" | tee "$RESULTS/$name.md"
    echo
}

# peak NAME CMD...: runs CMD once under GNU time and prints its peak resident
# set size. For a command that starts others (cargo), GNU time reports the
# largest of the process and its waited-for descendants, one process, not a sum.
peak() {
    local name=$1
    shift
    local kb
    /usr/bin/time -f %M -o "$RESULTS/peak.tmp" "$@" >/dev/null 2>"$RESULTS/peak.err" || [[ ${PEAK_MAY_FAIL:-} ]] ||
        { cat "$RESULTS/peak.err" >&2; return 1; }
    kb=$(tail -1 "$RESULTS/peak.tmp")
    echo "$name: peak RSS $((kb / 1024)) MiB ($kb KiB)" | tee -a "$RESULTS/summary.txt"
}

# upstream_tables CARGO_TOML: the `[features]` and dependency tables of a
# published (normalised) manifest, verbatim, which a shim must repeat.
upstream_tables() {
    awk '
        /^\[/ {
            keep = ($0 == "[features]" || $0 ~ /^\[(target\..*\.)?(build-)?dependencies[].]/)
        }
        keep
    ' "$1"
}

# upstream_key CARGO_TOML KEY: a string key of the [package] table.
upstream_key() {
    awk -v key="$2" '
        /^\[/ { pkg = ($0 == "[package]") }
        pkg && $1 == key { sub(/^[^=]*= *"/, ""); sub(/".*$/, ""); print; exit }
    ' "$1"
}

# Benchmarks 1 and 3 use web-sys, a large generated crate (1,700 files) that
# compiles on Linux (windows 0.62 is `#![cfg(windows)]`, so it compiles to
# nothing here), with a few features.
WEB_VERSION=0.3.107
WEB_FEATURES='"Window", "Document", "Element", "HtmlElement", "Node", "console", "HtmlCanvasElement", "CanvasRenderingContext2d", "WebGl2RenderingContext", "WebGlProgram", "WebGlShader", "WebGlBuffer"'

# web_workspace NAME KIND: writes $WORK/web/NAME, a workspace whose library
# depends on web-sys with WEB_FEATURES. KIND is
#   registry    the plain registry dependency;
#   shim        graph-wide through a shim (`[patch.crates-io]`), as the README
#               shows it, with `#![allow(warnings)]` in the shim;
#   shim-noinc  the same, plus `[profile.dev.package.web-sys] incremental = false`;
#   shim-lints  the shim without `#![allow(warnings)]`, incremental off.
# Prints the workspace's directory.
web_workspace() {
    local name=$1 kind=$2
    local ws=$WORK/web/$name
    local src
    src=$(web_source)
    mkdir -p "$ws/src"
    echo "pub use web_sys;" >"$ws/src/lib.rs"
    {
        printf '[package]\nname = "app"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        printf '[dependencies]\nweb-sys = { version = "=%s", features = [%s] }\n\n' "$WEB_VERSION" "$WEB_FEATURES"
        printf '[workspace]\n'
        if [[ $kind != registry ]]; then
            printf '\n[patch.crates-io]\nweb-sys = { path = "shim/web-sys" }\n'
        fi
        if [[ $kind == shim-noinc || $kind == shim-lints ]]; then
            printf '\n[profile.dev.package.web-sys]\nincremental = false\n'
        fi
    } >"$ws/Cargo.toml"
    if [[ $kind != registry ]]; then
        mkdir -p "$ws/shim/web-sys/src"
        cat >"$ws/shim/web-sys/Cargo.toml" <<TOML
[package]
name = "web-sys"
version = "$WEB_VERSION"
edition = "$(upstream_key "$src/Cargo.toml" edition)"
publish = false

[package.metadata.build-patch]
patches = ["../../../one.patch"]

[build-dependencies]
build-patch = { path = "$REPO" }

$(upstream_tables "$src/Cargo.toml")
TOML
        echo 'fn main() { build_patch::build(); }' >"$ws/shim/web-sys/build.rs"
        {
            echo '#![no_std]'
            [[ $kind != shim-lints ]] && echo '#![allow(warnings)]'
            echo 'include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));'
        } >"$ws/shim/web-sys/src/lib.rs"
        # A one-line patch: a comment added to the library root.
        if [[ ! -f $WORK/web/one.patch ]]; then
            rm -rf "$WORK/web/a" "$WORK/web/b"
            mkdir -p "$WORK/web/a/src" "$WORK/web/b/src"
            cp "$src/src/lib.rs" "$WORK/web/a/src/lib.rs"
            { echo '// Patched by the benchmark.'; cat "$src/src/lib.rs"; } >"$WORK/web/b/src/lib.rs"
            (cd "$WORK/web" && diff -u a/src/lib.rs b/src/lib.rs >one.patch || [[ $? == 1 ]])
        fi
    fi
    # The same lock file for every variant, so each compiles the same versions.
    if [[ -f $WORK/web/Cargo.lock ]]; then
        cp "$WORK/web/Cargo.lock" "$ws/Cargo.lock"
    fi
    cargo fetch -q --manifest-path "$ws/Cargo.toml"
    [[ -f $WORK/web/Cargo.lock ]] || cp "$ws/Cargo.lock" "$WORK/web/Cargo.lock"
    echo "$ws"
}

# The pristine web-sys in Cargo's registry cache, fetched when missing.
web_source() {
    local src
    src=$(ls -d "$CARGO_HOME"/registry/src/*/web-sys-$WEB_VERSION 2>/dev/null | head -1 || true)
    if [[ ! -d $src ]]; then
        mkdir -p "$WORK/web/fetch/src"
        touch "$WORK/web/fetch/src/lib.rs"
        printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nweb-sys = "=%s"\n' \
            "$WEB_VERSION" >"$WORK/web/fetch/Cargo.toml"
        cargo fetch -q --manifest-path "$WORK/web/fetch/Cargo.toml"
        src=$(ls -d "$CARGO_HOME"/registry/src/*/web-sys-$WEB_VERSION | head -1)
    fi
    echo "$src"
}
