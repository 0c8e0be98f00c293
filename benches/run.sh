#!/usr/bin/env bash
# Runs every benchmark, one after the other (each is heavy on a 2-core
# machine), and collects their tables in target/bench/results/all.md.
#
#   benches/run.sh                   all of them
#   benches/run.sh stage noop        some: stage, patch-engine, noop, compile-dep, compile-shim
#   RUNS=20 benches/run.sh stage     more rounds (each script has its default)
#
# Needs a Rust toolchain, GNU patch and awk (installed with apt-get
# when missing), and crates.io for the crates that are not in Cargo's cache.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

all=(stage patch-engine noop compile-dep compile-shim)
(($#)) || set -- "${all[@]}"
start=$SECONDS
marker=$RESULTS/.run-start
touch "$marker"
for b in "$@"; do
    echo "== $b" >&2
    t=$SECONDS
    "$BENCH_DIR/$b.sh"
    echo "== $b: $((SECONDS - t)) s" >&2
done
{
    echo "<!-- benches/run.sh $*, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) -->"
    # The tables this run wrote (a script may write several), oldest first.
    find "$RESULTS" -name '*.md' ! -name all.md -newer "$marker" -printf '%T@ %p\n' |
        sort -n | cut -d' ' -f2- | while read -r f; do
        cat "$f"
        echo
    done
} >"$RESULTS/all.md"
echo "all in $((SECONDS - start)) s; tables in $RESULTS/all.md" >&2
