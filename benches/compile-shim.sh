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


# INSTRUCTIONS=1: also count the instructions of the whole build (Cargo,
# every rustc, the linker, the shim's build script and its child), with
# valgrind's callgrind following every process, for the registry dependency
# and the shim with `incremental = false`: one build each, about 20 minutes
# each. Unlike times, the counts are the same on a loaded machine; they leave
# out the kernel's work (staging's file copies are mostly that: ~0.1 s of
# system time).
if [[ ${INSTRUCTIONS:-0} == 1 ]]; then
    need valgrind
    real_cargo=$(rustup which cargo 2>/dev/null || command -v cargo)
    real_rustc=$(rustup which rustc 2>/dev/null || command -v rustc)
    out=$RESULTS/compile-shim-instructions.md
    {
        echo "### compile-shim: instructions"
        echo
        echo "Instructions of \`cargo build\` after \`cargo clean -p web-sys\`, every process counted by callgrind."
        echo
        echo "| process | registry dependency | shim, \`incremental = false\` |"
        echo "| --- | ---: | ---: |"
    } >"$out"
    declare -A count=()
    for v in registry shim-noinc; do
        dir=$WORK/web/callgrind-$v
        rm -rf "$dir" && mkdir -p "$dir"
        cargo clean -q -p web-sys --manifest-path "$WORK/web/$v/Cargo.toml"
        RUSTC=$real_rustc valgrind --tool=callgrind --trace-children=yes \
            --callgrind-out-file="$dir/%p.out" --log-file="$dir/%p.log" \
            "$real_cargo" build -q --manifest-path "$WORK/web/$v/Cargo.toml"
        # One line per process: its kind (the crate rustc compiles, or the
        # program's name) and its count.
        for f in "$dir"/*.out; do
            cmd=$(sed -n 's/^cmd: *//p' "$f" | head -1)
            kind=$(echo "$cmd" | sed -n 's/.*--crate-name \([^ ]*\).*/rustc \1/p')
            [[ -n $kind ]] || kind=$(basename "${cmd%% *}")
            n=$(sed -n 's/^summary: *//p' "$f" | head -1)
            n=${n:-0}
            count[$v/$kind]=$((${count[$v/$kind]:-0} + n))
            count[$v/total]=$((${count[$v/total]:-0} + n))
        done
    done
    for key in "${!count[@]}"; do echo "${key#*/}"; done | sort -u | grep -v '^total$' | while read -r kind; do
        echo "| $kind | ${count[registry/$kind]:-0} | ${count[shim-noinc/$kind]:-0} |"
    done >>"$out"
    awk -v a="${count[registry/total]}" -v b="${count[shim-noinc/total]}" \
        'BEGIN { printf "| **total** | %.0f | %.0f (**%.3f**) |\n", a, b, b / a }' >>"$out"
    cat "$out"
fi
