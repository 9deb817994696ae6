#!/usr/bin/env bash
# run-all.sh - build and run every test the way CI does: warnings as errors,
# then the whole suite again under AddressSanitizer + UBSan, then distcheck
# (a release tarball that builds, tests and installs, and an out-of-tree
# plugin built against the installed header).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

# Real PostgreSQL, MariaDB and Redis on loopback, started once for every
# suite below (check, asan, distcheck) and stopped on exit. CI has them all:
# a backend test that finds no server URL fails instead of skipping.
. tests/servers.sh
servers_start
export GH_TEST_REQUIRE_SERVERS=1

# The failing tests' logs, then their failed checks again in one short
# block at the very end, where a truncated CI excerpt still shows them.
show_failures() {
    local f failed=()
    for f in $(find "$1" -name '*.log' -path '*tests*' 2>/dev/null); do
        grep -qE '^:test-result: (FAIL|ERROR)' "${f%.log}.trs" 2>/dev/null || continue
        failed+=("$f")
        echo "==== $f"
        tail -n 80 "$f"
    done
    echo "==== failed checks ($1)"
    for f in "${failed[@]}"; do
        grep -E '^(not ok|FAIL|ERROR|==[0-9]+==ERROR|.*runtime error|.*: error: |\[  (FAILED|ERROR) )' "$f" |
            head -n 20 | sed "s|^|${f#"$1"/}: |"
    done
    return 1
}

# The suites build out of the tree, in build/NAME. The README's first
# command builds in the source tree, and configure will not build elsewhere
# from a configured tree: then they build from a clean copy of the sources
# in build/src (what git tracks and new files it does not ignore; from a
# release tarball, its distdir), and the in-tree build is left alone.
src=$PWD
if [ -e config.status ]; then
    src=$PWD/build/src
    echo "==== the source tree is configured (make run?): testing a clean copy in build/src"
    rm -rf "$src" && mkdir -p "$src"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z -co --exclude-standard |
            tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
    else
        make -s distdir distdir="$src" >/dev/null
    fi
fi

# suite NAME TESTS CONFIGURE-ARGS...: configure in build/NAME, build, and
# make check the given tests (all of them when TESTS is empty)
suite() {
    local name=$1 tests=$2; shift 2
    echo "==== $name"
    rm -rf "build/$name" && mkdir -p "build/$name"
    (cd "build/$name" && "$src/configure" --enable-werror "$@" >/dev/null &&
        make -j"$jobs" >/dev/null && make -j"$jobs" check ${tests:+TESTS="$tests"}) ||
        show_failures "build/$name"
}

# The whole list, less what matches the patterns given (grep -E). Only
# test paths are kept: make may print other lines (a configure re-run).
tests_but() {
    make -s -C build/check list-tests | tr ' ' '\n' | grep -E '^(tests|fuzz)/[A-Za-z0-9_./-]+$' |
        grep -vE -e "$1" | tr '\n' ' '
}

(cd "$src" && ./autogen.sh >/dev/null)
suite check ""
# Under the sanitizers, all but the MariaDB runs of the integration scripts
# and the browser: test_mysql runs the MariaDB plugin under them, and the
# other backends' runs go through the same core code.
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    suite asan "$(tests_but '-mysql\.sh$|-browser\.sh$')" CFLAGS="-O1 -g $san" LDFLAGS="$san"
# distcheck proves the release tarball complete: it builds, installs and
# runs. The unit tests and the SQLite integration scripts show that; the
# server-backend runs of the same scripts would only repeat the check suite.
echo "==== distcheck"
(cd build/check && make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
    TESTS="$(tests_but '-(mysql|postgres|redis)\.sh$|-browser\.sh$|-faults\.sh$|backend-tls\.sh$|revocation\.sh$|reload\.sh$')" \
    >distcheck.log 2>&1) ||
    { tail -n 60 build/check/distcheck.log; echo "distcheck failed"; exit 1; }

# Every fuzz target for a bounded time, built with clang (fuzz/run.sh); the
# check suites above already replayed their corpora and regressions.
echo "==== fuzz"
FUZZ_SECONDS=${FUZZ_SECONDS:-15} "$src/fuzz/run.sh"

# The Debian packages, built from a clean copy, checked by lintian,
# installed, run and purged on this machine; skipped (77) only without
# root or dpkg-buildpackage, which CI has.
echo "==== package"
rc=0
tests/package/deb.sh || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || { echo "package test failed"; exit 1; }

# one closing line for the whole run, summed from the suites' own counts
count() { awk -v k="# $1:" 'index($0, k) == 1 { s += $NF } END { print s + 0 }' build/check/test-suite.log build/asan/test-suite.log; }
echo "all suites passed: $(count PASS) passed, $(count FAIL) failed, $(count SKIP) skipped"
