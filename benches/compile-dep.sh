#!/usr/bin/env bash
# Benchmark 2: what build-patch adds to a user's clean build. A package that
# build-depends on build-patch (default features, dev profile) is built from
# clean, against the same package build-depending on `cc`. Both come from the
# same vendored source (a `directory` source replacing crates.io), as crates.io
# would give them: not a path dependency, so no incremental compilation and
# capped lints, like any registry crate. build-patch is packaged from the work
# tree with `cargo package`. A third variant enables the feature a shim of a
# crate with a build script enables (`upstream-build-script`); a fourth has
# build-patch as a path dependency, as the examples have it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

W=$WORK/dep
rm -rf "$W"
mkdir -p "$W/vendor"

# build-patch as crates.io would serve it.
snapshot >/dev/null
cp -r "$SNAPSHOT" "$W/vendor/"
printf '{"files":{},"package":"%s"}' "$(sha256sum "$SNAPSHOT.crate" | cut -d' ' -f1)" \
    >"$W/vendor/$(basename "$SNAPSHOT")/.cargo-checksum.json"

# user_package NAME DEPENDENCY USE: a package whose build script uses DEPENDENCY.
user_package() {
    local dir=$W/$1
    mkdir -p "$dir/src" "$dir/.cargo"
    printf '[package]\nname = "user"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[build-dependencies]\n%s\n\n[workspace]\n' \
        "$2" >"$dir/Cargo.toml"
    printf 'fn main() {\n    %s\n}\n' "$3" >"$dir/build.rs"
    echo "" >"$dir/src/lib.rs"
    printf '[source.crates-io]\nreplace-with = "vendored"\n\n[source.vendored]\ndirectory = "%s"\n' \
        "$W/vendor" >"$dir/.cargo/config.toml"
}
user_package cc 'cc = "1"' 'let _ = cc::Build::new();'
user_package build-patch 'build-patch = "0.1"' 'let _ = build_patch::Config::new();'
user_package build-patch-script 'build-patch = { version = "0.1", features = ["upstream-build-script"] }' \
    'let _ = build_patch::Config::new();'
user_package build-patch-path "build-patch = { path = \"$SNAPSHOT\" }" 'let _ = build_patch::Config::new();'

# cc and its dependencies, vendored from Cargo's cache (or crates.io).
(cd "$W/cc" && mv .cargo/config.toml config.off &&
    cargo vendor -q --versioned-dirs "$W/vendor-cc" >/dev/null && mv config.off .cargo/config.toml)
cp -r "$W"/vendor-cc/* "$W/vendor/"
# Cargo reads `.cargo/config.toml` from the current directory: build from there.
for p in cc build-patch build-patch-script build-patch-path; do
    (cd "$W/$p" && cargo generate-lockfile -q --offline && cargo build -q --offline)
done
echo "cc's build-dependency graph: $(cd "$W/cc" && cargo tree -q --offline -e normal,build --prefix none | sort -u | tr '\n' ' ')"

build() { echo "cd '$W/$1' && cargo build -q --offline"; }
clean() { echo "cd '$W/$1' && cargo clean -q"; }
compare compile-dep "${RUNS:-5}" 1 -- \
    "cc (registry)" "$(clean cc)" "$(build cc)" \
    "build-patch (registry)" "$(clean build-patch)" "$(build build-patch)" \
    "build-patch (registry, upstream-build-script)" "$(clean build-patch-script)" "$(build build-patch-script)" \
    "build-patch (path dependency)" "$(clean build-patch-path)" "$(build build-patch-path)"


# INSTRUCTIONS=1: also count the instructions rustc executes to compile each
# library of the two graphs, with valgrind's cachegrind (about 5 minutes per
# library). Unlike times, the count is the same on a loaded machine as on an
# idle one, so it shows a change of a few percent that the timed rounds cannot.
# Only the libraries are counted: the build scripts and Cargo are the same work
# for both graphs. Cargo runs rustc through the wrapper below, so each library
# is compiled exactly as in the timed builds.
if [[ ${INSTRUCTIONS:-0} == 1 ]]; then
    need valgrind
    wrapper=$W/count-instructions
    cat >"$wrapper" <<'WRAPPER'
#!/usr/bin/env bash
# RUSTC_WRAPPER: rustc under cachegrind for a library; one line "NAME COUNT"
# appended to $COUNT_OUT.
rustc=$1
shift
name=
lib=0
prev=
for a in "$@"; do
    [[ $prev == --crate-name ]] && name=$a
    [[ $prev == --crate-type && $a == lib ]] && lib=1
    prev=$a
done
if [[ $lib == 0 || $name == user ]]; then
    exec "$rustc" "$@"
fi
log=$(mktemp)
valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --log-file="$log" "$rustc" "$@"
status=$?
echo "$name $(sed -n 's/.*I *refs: *//p' "$log" | tr -d ',')" >>"$COUNT_OUT"
rm -f "$log"
exit $status
WRAPPER
    chmod +x "$wrapper"
    out=$RESULTS/compile-dep-instructions.md
    {
        echo "### compile-dep: instructions"
        echo
        echo "Instructions rustc executed to compile each library (cachegrind), in millions."
        echo
        echo "| graph | libraries | instructions | ratio |"
        echo "| --- | --- | ---: | ---: |"
    } >"$out"
    base=
    for p in cc build-patch build-patch-script; do
        counts=$W/$p.instructions
        rm -f "$counts"
        (cd "$W/$p" && cargo clean -q &&
            COUNT_OUT=$counts RUSTC_WRAPPER=$wrapper cargo build -q --offline)
        total=$(awk '{s += $2} END {print s}' "$counts")
        base=${base:-$total}
        echo "| $p | $(awk '{printf "%s%s %.0f", (NR > 1 ? ", " : ""), $1, $2 / 1e6}' "$counts") | $(awk -v t="$total" 'BEGIN {printf "%.0f", t / 1e6}') | $(awk -v t="$total" -v b="$base" 'BEGIN {printf "%.3f", t / b}') |" >>"$out"
    done
    cat "$out"
    echo
fi
