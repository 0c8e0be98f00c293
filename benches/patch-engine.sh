#!/usr/bin/env bash
# Benchmark 5: the patch engine (`build_patch::patch::apply_to_dir`, driven by
# benches/harness) against GNU patch, both at fuzz 0, on
#   big:      10,000 hunks over a 1,000,000-line file;
#   nowhere:  one hunk that matches nowhere in a 1,000,000-line file (both fail;
#             GNU patch with --dry-run, as build-patch writes nothing on failure);
#   xxhash:   Debian's patch of xxhash-rust 0.8.5 (one 360 KB patch rewriting the
#             test vectors), when the corpus is in ~/.cache/debian-rust-patches
#             (or $CORPUS_DATA).
# With INSTRUCTIONS=1 (and valgrind installed), each command also runs once
# under callgrind, for a table of instructions executed: a count that, unlike
# time, does not depend on the machine's load.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

W=$WORK/patch
mkdir -p "$W"
dev=$(harness dev)
rel=$(harness release)

if [[ ! -f $W/big.patch ]]; then
    awk 'BEGIN { for (i = 1; i <= 1000000; i++) print "line " i }' >"$W/big.txt"
    awk '{ print (NR % 100 == 50) ? "changed " NR : $0 }' "$W/big.txt" >"$W/big-changed.txt"
    diff -u --label a/big.txt --label b/big.txt "$W/big.txt" "$W/big-changed.txt" >"$W/big.patch" || [[ $? == 1 ]]
    {
        printf -- '--- a/big.txt\n+++ b/big.txt\n@@ -500000,7 +500000,7 @@\n'
        printf ' no such line %s\n' 1 2 3
        printf -- '-no such line 4\n+changed\n'
        printf ' no such line %s\n' 5 6 7
    } >"$W/nowhere.patch"
fi
echo "big.patch: $(grep -c '^@@' "$W/big.patch") hunks over $(wc -l <"$W/big.txt") lines"

# instructions NAME -- LABEL PREPARE COMMAND...: instructions each COMMAND
# executes (callgrind, following child processes, less those of `bash -c :`),
# after its PREPARE; a Markdown table with ratios to the first, also kept in
# $RESULTS/NAME-instructions.md.
instructions() {
    local name=$1
    shift 2
    [[ ${INSTRUCTIONS:-} == 1 ]] || return 0
    need valgrind
    local dir=$W/callgrind base=0 first=0
    count() {
        rm -rf "$dir" && mkdir -p "$dir"
        # `; true`: bash must not exec a lone command in its place, which
        # would overwrite bash's own count (same pid) instead of adding to it.
        valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$dir/cg.%p" \
            bash -c "$1; true" >/dev/null 2>&1 || true
        cat "$dir"/cg.* | awk '/^summary:/ { n += $2 } END { print n }'
    }
    base=$(count :)
    {
        echo "| command | instructions | ratio |"
        echo "| --- | ---: | ---: |"
        while (($#)); do
            local label=$1 prepare=$2 command=$3 n
            shift 3
            eval "$prepare"
            n=$(($(count "$command") - base))
            ((first)) || first=$n
            echo "| $label | $(printf "%'d" "$n") | $(awk -v n="$n" -v f="$first" 'BEGIN { printf "%.3f", n / f }') |"
        done
    } | tee "$RESULTS/$name-instructions.md"
    echo
}

# Each check: the engine's result is GNU patch's.
fresh() { echo "rm -rf '$W/$1' && mkdir -p '$W/$1' && cp '$W/big.txt' '$W/$1/'"; }
eval "$(fresh gnu)" && patch -s -p1 -F0 -d "$W/gnu" <"$W/big.patch"
eval "$(fresh bp)" && "$rel" apply "$W/bp" 1 "$W/big.patch"
cmp "$W/gnu/big.txt" "$W/bp/big.txt"
eval "$(fresh bp)"
if "$rel" apply "$W/bp" 1 "$W/nowhere.patch" 2>/dev/null; then
    echo "the hunk that matches nowhere applied" >&2
    exit 1
fi

# One case as `compare` takes it, a line a field: GNU patch (label `$1`,
# preparation `$2`, command `$3`), then build-patch's dev and release builds
# (preparation `$4`) applying `$6` in `$W/$5`.
three_way() {
    printf '%s\n' "$1" "$2" "$3" \
        "build-patch, dev profile" "$4" "'$dev' apply '$W/$5' 1 '$6'" \
        "build-patch, release profile" "$4" "'$rel' apply '$W/$5' 1 '$6'"
}
mapfile -t big < <(three_way "GNU patch" "$(fresh gnu)" \
    "patch -s -p1 -F0 -d '$W/gnu' < '$W/big.patch'" "$(fresh bp)" bp "$W/big.patch")
mapfile -t nowhere < <(three_way "GNU patch --dry-run" "" \
    "patch -s -p1 -F0 --dry-run -d '$W/gnu' < '$W/nowhere.patch'" "" bp "$W/nowhere.patch")
compare patch-big "${RUNS:-5}" 1 -- "${big[@]}"
instructions patch-big -- "${big[@]}"
compare patch-nowhere "${RUNS:-5}" 1 --may-fail -- "${nowhere[@]}"
instructions patch-nowhere -- "${nowhere[@]}"


corpus=${CORPUS_DATA:-$HOME/.cache/debian-rust-patches}/pkgs/rust-xxhash-rust
if [[ -d $corpus ]]; then
    series=$corpus/patches/series
    xfresh() { echo "rm -rf '$W/$1' && cp -r '$corpus/pristine' '$W/$1'"; }
    gnu_series="while read -r p; do patch -s -p1 -F0 -d '$W/xgnu' < '$corpus/patches/'\$p || exit 1; done < '$series'"
    eval "$(xfresh xgnu)" && bash -c "$gnu_series"
    eval "$(xfresh xbp)" && "$rel" apply "$W/xbp" 1 "$series"
    diff -r "$W/xgnu" "$W/xbp" >/dev/null
    mapfile -t xxhash < <(three_way "GNU patch" "$(xfresh xgnu)" "$gnu_series" "$(xfresh xbp)" xbp "$series")
    compare patch-xxhash "${RUNS:-10}" 1 -- "${xxhash[@]}"
    instructions patch-xxhash -- "${xxhash[@]}"
else
    echo "patch-xxhash: skipped, no corpus at $corpus" | tee "$RESULTS/patch-xxhash.md"
fi
