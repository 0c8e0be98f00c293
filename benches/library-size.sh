#!/usr/bin/env bash
# What compiling the library costs, and where: a quick survey for compile-cost
# work (issue 14's target: build-patch as a build-dependency costs at most
# 1.0x `cc`). Not a replacement for benches/compile-dep.sh, which times whole
# clean builds from a registry; this one is faster (about a minute) and points
# at the code:
#
#   benches/library-size.sh          LLVM IR lines per module, rustc CPU vs cc
#   MIR=1 benches/library-size.sh    also MIR lines per function (type check
#                                    and borrow check scale with them)
#   INSTRUCTIONS=1 benches/library-size.sh
#                                    also the instructions rustc executes for
#                                    the library alone (cachegrind, about a
#                                    minute; the figure compile-dep.sh gives
#                                    with INSTRUCTIONS=1, without the rest)
#
# The library is compiled as a dependency of a scratch package, without
# debuginfo and without incremental compilation, as Cargo compiles a
# build-dependency; the CPU figure is rustc's user+system time for the
# library against cc + shlex + find-msvc-tools, median of three rounds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v c++filt >/dev/null || need binutils # c++filt comes with binutils

W=$WORK/library-size
mkdir -p "$W/src"
cat >"$W/Cargo.toml" <<TOML
[package]
name = "library-size"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
cc = "1"
build-patch = { path = "$REPO" }

[workspace]
TOML
echo >"$W/src/lib.rs"
cd "$W"
export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR=$W/target
cargo build -q

# LLVM IR, one codegen unit so that every function is counted once.
rm -f target/debug/deps/build_patch-*.ll
cargo rustc -q -p build-patch --lib -- --emit=llvm-ir -C codegen-units=1 --cap-lints allow
ll=$(ls -t target/debug/deps/build_patch-*.ll | head -1)
echo "LLVM IR lines: $(wc -l <"$ll")"
awk '/^define/ { name = $0; n = 0 } { n++ } /^}/ { if (name != "") print n, name; name = "" }' "$ll" |
    sed -E 's/^([0-9]+) define.*@"?([^"(]*)"?\(.*/\1 \2/' >fns.txt
paste -d' ' <(cut -d' ' -f1 fns.txt) <(cut -d' ' -f2 fns.txt | c++filt) |
    awk '{ n = $1; $1 = ""; sub(/^ /, "")
           if ($0 ~ /^<?build_patch::/) { s = $0; sub(/^</, "", s); split(s, a, "::"); k = a[1] "::" a[2] }
           else k = "(generic code of std and core)"
           t[k] += n }
         END { for (k in t) print t[k], k }' | sort -rn | head -20

# rustc CPU time of each library, through a wrapper.
cat >time-rustc <<'WRAP'
#!/usr/bin/env bash
rustc=$1; shift; name=; prev=
for a in "$@"; do [[ $prev == --crate-name ]] && name=$a; prev=$a; done
/usr/bin/time -f "%U %S" -o "$TIMES.$$" "$rustc" "$@"; rc=$?
[[ -n $name ]] && echo "$name $(awk '{ print $1 + $2 }' "$TIMES.$$")" >>"$TIMES"
rm -f "$TIMES.$$"; exit $rc
WRAP
chmod +x time-rustc
for _ in 1 2 3; do
    for p in cc shlex find-msvc-tools build-patch; do cargo clean -q -p "$p"; done
    rm -f times
    RUSTC_WRAPPER=$W/time-rustc TIMES=$W/times cargo build -q -j1
    awk '$1 == "build_patch" { bp = $2 } $1 == "cc" || $1 == "shlex" || $1 == "find_msvc_tools" { cc += $2 }
         END { printf "%.2f %.2f %.3f\n", bp, cc, bp / cc }' times
done | sort -k3 -n | sed -n 2p |
    awk '{ print "rustc CPU seconds: build-patch " $1 ", cc and its dependencies " $2 ", ratio " $3 " (median of 3)" }'

if [[ ${MIR:-0} == 1 ]]; then
    RUSTC_BOOTSTRAP=1 cargo rustc -q -p build-patch --lib -- -Zunpretty=mir --cap-lints allow >mir.txt
    echo "MIR lines: $(wc -l <mir.txt); the largest functions:"
    awk '/^fn / { name = $0; sub(/\) -> .*|\(_1.*|\(\) .*/, "", name); sub(/^fn /, "", name) }
         /^fn /, /^}/ { n[name]++ }
         END { for (k in n) print n[k], k }' mir.txt | sort -rn | head -"${TOP:-30}"
fi

if [[ ${INSTRUCTIONS:-0} == 1 ]]; then
    need valgrind
    cat >count-rustc <<'WRAP'
#!/usr/bin/env bash
exec valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --log-file="$COUNT_LOG" "$@"
WRAP
    chmod +x count-rustc
    cargo clean -q -p build-patch
    COUNT_LOG=$W/count.log cargo rustc -q -p build-patch --lib \
        --config "build.rustc-wrapper='$W/count-rustc'" -- --cap-lints allow
    echo "instructions rustc executed for the library: $(sed -n 's/.*I *refs: *//p' count.log | tr -d ',' |
        awk '{ printf "%.1f M", $1 / 1e6 }')"
fi
