# Shared by the benchmark scripts: paths, tools, and the side-by-side timer.
# Sourced, not run.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
# Everything a benchmark makes (workspaces, inputs, target directories, results)
# lives here; `rm -rf target/bench` starts over.
WORK=${BENCH_WORK:-$REPO/target/bench}
RESULTS=$WORK/results
mkdir -p "$WORK" "$RESULTS"

# A private CARGO_HOME: Cargo takes a lock on its home's package cache, and a
# no-op build that waits for another build's lock (other users of the machine)
# measures that wait. Its registry starts as a copy of the user's index and
# downloaded crates; what is missing is fetched from crates.io.
USER_CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
CARGO_HOME=$WORK/cargo-home
if [[ ! -d $CARGO_HOME/registry ]]; then
    mkdir -p "$CARGO_HOME/registry"
    for d in index cache; do
        [[ -d $USER_CARGO_HOME/registry/$d ]] && cp -r "$USER_CARGO_HOME/registry/$d" "$CARGO_HOME/registry/"
    done
fi
export CARGO_HOME CARGO_TERM_COLOR=never

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
need patch awk

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

# snapshot: build-patch packaged from the work tree (`cargo package`, so as
# crates.io would serve it) and unpacked into $WORK/snapshot/build-patch-VERSION,
# whose path it prints (and sets as SNAPSHOT), with the .crate beside it.
# Benchmarks build against the snapshot, so an edit to the work tree during a
# benchmark does not rebuild build-patch in a timed run. Unpacked again only
# when the package changed, so that an unchanged one is not rebuilt.
snapshot() {
    if [[ -z ${SNAPSHOT:-} ]]; then
        mkdir -p "$WORK/snapshot"
        rm -rf "$WORK/snapshot/target/package"
        CARGO_TARGET_DIR=$WORK/snapshot/target cargo package -q --no-verify --allow-dirty \
            --manifest-path "$REPO/Cargo.toml" -p build-patch
        local crate name
        crate=$(ls "$WORK"/snapshot/target/package/build-patch-*.crate)
        name=$(basename "$crate" .crate)
        if ! cmp -s "$crate" "$WORK/snapshot/$name.crate" || [[ ! -d $WORK/snapshot/$name ]]; then
            rm -rf "${WORK:?}/snapshot/$name"
            cp "$crate" "$WORK/snapshot/"
            tar -xzf "$crate" -C "$WORK/snapshot"
        fi
        SNAPSHOT=$WORK/snapshot/$name
    fi
    echo "$SNAPSHOT"
}

# snapshot_git: the snapshot committed to a git repository under
# $WORK/snapshot-git, whose file:// URL it prints (and sets as SNAPSHOT_GIT).
# A shim that takes build-patch from there gets it as a user gets it from
# crates.io: a non-local package, which Cargo neither checks file by file on
# a no-op build nor compiles incrementally, and whose lints it caps. (A path
# dependency would add the costs of a package under development to every
# figure.) A new commit is made only when the snapshot changed.
snapshot_git() {
    if [[ -z ${SNAPSHOT_GIT:-} ]]; then
        snapshot >/dev/null
        local repo=$WORK/snapshot-git/build-patch
        mkdir -p "$repo"
        [[ -d $repo/.git ]] || git -C "$repo" init -q
        find "$repo" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
        cp -r "$SNAPSHOT/." "$repo/"
        git -C "$repo" add -A
        git -C "$repo" -c user.name=bench -c user.email=bench@localhost \
            commit -q -m snapshot >/dev/null 2>&1 || true
        SNAPSHOT_GIT=file://$repo
    fi
    echo "$SNAPSHOT_GIT"
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
# A shim's `Cargo.toml` on stdout: `[package]` NAME VERSION with the
# edition of the upstream manifest UPSTREAM and the lines PACKAGE, the
# metadata table's lines METADATA, then TAIL and the upstream's tables.
shim_manifest() { # NAME VERSION UPSTREAM PACKAGE METADATA TAIL
    printf '[package]\nname = "%s"\nversion = "%s"\nedition = "%s"\n%s\n' \
        "$1" "$2" "$(upstream_key "$3" edition)" "$4"
    printf '[package.metadata.build-patch]\n%s\n%s%s\n' "$5" "$6" "$(upstream_tables "$3")"
}

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
        shim_manifest web-sys "$WEB_VERSION" "$src/Cargo.toml" $'publish = false\n' \
            $'patches = ["../../../one.patch"]\n' \
            $'[build-dependencies]\nbuild-patch = { git = "'"$SNAPSHOT_GIT"$'" }\n\n' \
            >"$ws/shim/web-sys/Cargo.toml"
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
    # The lock file pins build-patch's commit: move it to the snapshot's.
    if [[ $kind != registry ]] && grep -qs '^name = "build-patch"' "$ws/Cargo.lock"; then
        cargo update -q -p build-patch --manifest-path "$ws/Cargo.toml"
    fi
    cargo fetch -q --manifest-path "$ws/Cargo.toml"
    [[ -f $WORK/web/Cargo.lock ]] || cp "$ws/Cargo.lock" "$WORK/web/Cargo.lock"
    echo "$ws"
}

# web_setup [VARIANT...]: writes the four variants of web_workspace in one
# target directory (so the dependencies are compiled once for all), and
# builds the ones named.
WEB_VARIANTS=(registry shim shim-noinc shim-lints)
web_setup() {
    export CARGO_TARGET_DIR=$WORK/web/target
    snapshot_git >/dev/null
    local v
    for v in "${WEB_VARIANTS[@]}"; do
        web_workspace "$v" "$v" >/dev/null
    done
    for v in "$@"; do
        cargo build -q --manifest-path "$WORK/web/$v/Cargo.toml" 2>/dev/null
    done
}

# The pristine web-sys in Cargo's registry cache, fetched when missing.
web_source() {
    local src
    src=$(ls -d "$CARGO_HOME"/registry/src/*/web-sys-$WEB_VERSION 2>/dev/null | head -1 || true)
    if [[ ! -d $src ]]; then
        mkdir -p "$WORK/web/fetch/src"
        touch "$WORK/web/fetch/src/lib.rs"
        printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nweb-sys = "=%s"\n[workspace]\n' \
            "$WEB_VERSION" >"$WORK/web/fetch/Cargo.toml"
        cargo fetch -q --manifest-path "$WORK/web/fetch/Cargo.toml"
        src=$(ls -d "$CARGO_HOME"/registry/src/*/web-sys-$WEB_VERSION | head -1)
    fi
    echo "$src"
}
