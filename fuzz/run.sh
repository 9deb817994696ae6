#!/usr/bin/env bash
# run.sh - build the libFuzzer targets with clang (ASan + UBSan, the code
# under test instrumented) in build/fuzz and run each one:
#
#   fuzz/run.sh                  every target for FUZZ_SECONDS (default 30)
#   fuzz/run.sh token config     only those
#   FUZZ_RUNS=10000000 fuzz/run.sh token    a long run: that many inputs
#
# Each target starts from its seed corpus (fuzz/corpus/<target>, read only:
# new inputs go to build/fuzz/corpus/<target>) with its dictionary
# (fuzz/dict/<target>.dict) when there is one. A crash stops the run and
# fails it, leaving the input in build/fuzz/crashes/<target>/: copy it to
# fuzz/regressions/<target>/ with the fix, and `make check` replays it
# from then on. One line per target says what ran.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=$src/build/fuzz
seconds=${FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

command -v clang >/dev/null || { echo "run.sh: clang not found (apt-get install clang)" >&2; exit 1; }
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p "$out"
if [ ! -e "$out/Makefile" ]; then
    # no --enable-werror: the gcc suites hold the code to its warnings;
    # clang's set differs (format attributes on vsnprintf wrappers)
    (cd "$out" && "$src/configure" --enable-fuzz CC=clang \
        CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $san" LDFLAGS="$san" >/dev/null 2>&1) ||
        { echo "run.sh: configure failed: see $out/config.log" >&2; exit 1; }
fi
make -C "$out" -j"$jobs" fuzz >"$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log"; echo "run.sh: the build failed" >&2; exit 1; }

# fuzz_http runs the daemon in-process and fuzz_twilio loads its plugin:
# both load the plugins built here
export GATEHOUSE_PLUGIN_DIR=$out/plugins/.libs
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
    mapfile -t targets < <(ls "$src"/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
status=0
for t in "${targets[@]}"; do
    bin=$out/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "run.sh: no target $t" >&2; exit 1; }
    mkdir -p "$out/corpus/$t" "$out/crashes/$t"
    args=(-max_len=65536 -timeout=60 -rss_limit_mb=2048 -print_final_stats=1
          "-artifact_prefix=$out/crashes/$t/")
    [ -e "$src/fuzz/dict/$t.dict" ] && args+=("-dict=$src/fuzz/dict/$t.dict")
    if [ -n "${FUZZ_RUNS:-}" ]; then args+=("-runs=$FUZZ_RUNS"); else args+=("-max_total_time=$seconds"); fi
    log=$out/$t.log
    if "$bin" "${args[@]}" "$out/corpus/$t" "$src/fuzz/corpus/$t" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        echo "fuzz $t: ${runs:-?} inputs, ${cov:-cov: ?}, no crash ($(date -u +%F))"
    else
        status=1
        echo "fuzz $t: FAILED; its log ends:"
        tail -n 40 "$log"
        ls "$out/crashes/$t"
    fi
done
exit $status
