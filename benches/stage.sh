#!/usr/bin/env bash
# Benchmark 4: staging `windows` 0.62.2 (114 MB, 702 files) with a one-file
# patch, as a shim's build script does it (find in Cargo's cache, copy, patch,
# write the compile root), against `cp -r` of the same source plus GNU
# `patch -p1`. Both start from a warm page cache and write to the same disk.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CRATE=windows VERSION=0.62.2
W=$WORK/stage
mkdir -p "$W"

# The pristine source, in Cargo's registry cache (fetched once).
src=$(ls -d "$CARGO_HOME"/registry/src/*/$CRATE-$VERSION 2>/dev/null | head -1 || true)
if [[ ! -d $src ]]; then
    mkdir -p "$W/fetch/src"
    touch "$W/fetch/src/lib.rs"
    printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = "=%s"\n[workspace]\n' \
        "$CRATE" "$VERSION" >"$W/fetch/Cargo.toml"
    cargo fetch -q --manifest-path "$W/fetch/Cargo.toml"
    src=$(ls -d "$CARGO_HOME"/registry/src/*/$CRATE-$VERSION | head -1)
fi

# A one-file patch: a comment added to the library root.
rm -rf "$W/a" "$W/b"
mkdir -p "$W/a/src" "$W/b/src"
cp "$src/src/lib.rs" "$W/a/src/lib.rs"
{ echo '// Patched by the staging benchmark.'; cat "$src/src/lib.rs"; } >"$W/b/src/lib.rs"
(cd "$W" && diff -u a/src/lib.rs b/src/lib.rs >one.patch || [[ $? == 1 ]])

# The shim: the upstream's crate-level attributes that change compilation,
# then the include line (checked by build-patch after staging).
mkdir -p "$W/shim/src"
shim_manifest "$CRATE" "$VERSION" "$src/Cargo.toml" "" \
    "crate = \"$CRATE\""$'\n'"version = \"$VERSION\""$'\npatches = ["../one.patch"]\n' "" \
    >"$W/shim/Cargo.toml"
cat >"$W/shim/src/lib.rs" <<'RS'
#![cfg(windows)]
#![cfg_attr(all(not(feature = "std")), no_std)]
include!(concat!(env!("OUT_DIR"), "/build-patch/lib.rs"));
RS

dev=$(harness dev)
rel=$(harness release)
# A first run checks that staging works at all, and that the staged copy is
# what cp + patch make (apart from the compile root and the skipped markers).
rm -rf "$W/out" "$W/cp"
"$dev" stage "$W/shim" "$W/out" "$CARGO_HOME"
cp -r "$src" "$W/cp" && patch -s -p1 -d "$W/cp" <"$W/one.patch"
diff -r -x .cargo-ok -x .cargo_vcs_info.json -x .cargo-checksum.json -x .build-patch-root.rs \
    "$W/cp" "$W/out/build-patch/$CRATE-$VERSION" >/dev/null ||
    { echo "staged copy differs from cp -r + patch" >&2; exit 1; }

clean="rm -rf '$W/out' '$W/cp' && sync"
# BASELINE_REV=<git revision>: also time build-patch as it was at that
# revision (dev profile), e.g. to see what a change to staging did.
extra=()
if [[ -n ${BASELINE_REV:-} ]]; then
    old=$W/rev/$BASELINE_REV
    if [[ ! -d $old ]]; then
        mkdir -p "$old/build-patch"
        git -C "$REPO" archive "$BASELINE_REV" Cargo.toml src | tar -x -C "$old/build-patch"
        cp -r "$BENCH_DIR/harness" "$old/harness"
        sed -i "s|^build-patch = { path = \"../..\" }|build-patch = { path = \"$old/build-patch\" }|" \
            "$old/harness/Cargo.toml"
    fi
    CARGO_TARGET_DIR=$old/target cargo build -q --manifest-path "$old/harness/Cargo.toml"
    extra=("build-patch at $BASELINE_REV, dev profile" "$clean"
        "'$old/target/debug/build-patch-bench' stage '$W/shim' '$W/out' '$CARGO_HOME'")
fi
compare stage-windows "${RUNS:-10}" 1 -- \
    "\`cp -r\` + \`patch -p1\`" "$clean" "cp -r '$src' '$W/cp' && patch -s -p1 -d '$W/cp' < '$W/one.patch'" \
    "build-patch, dev profile (as in a build script)" "$clean" "'$dev' stage '$W/shim' '$W/out' '$CARGO_HOME'" \
    "build-patch, release profile" "$clean" "'$rel' stage '$W/shim' '$W/out' '$CARGO_HOME'" \
    "${extra[@]}"

rm -rf "$W/out" "$W/cp"
