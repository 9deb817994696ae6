#!/usr/bin/env bash
# backends.sh [BUILDDIR] - bench/run.sh on each SQL backend (SQLite, and
# real PostgreSQL and MariaDB servers that tests/servers.sh starts on
# loopback), then the figures side by side. Same knobs as run.sh.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-./build/check}
. "$SRC/tests/servers.sh"
servers_start postgres mysql
OUT=$(mktemp -d /tmp/gh-backends-XXXXXX)
for b in sqlite postgres mysql; do
    echo "bench: ==== $b" >&2
    BENCH_BACKEND=$b "$SRC/bench/run.sh" "$BUILD" | tee "$OUT/$b.txt"
done
echo
echo "Side by side (req/s; RSS in MB after the runs):"
printf '%-10s %9s %9s %9s %11s %9s %9s %7s %13s %8s\n' backend users/me authz introspect refresh mfa login of-bare \
    "p99 x flood" RSS
for b in sqlite postgres mysql; do
    grep '^summary ' "$OUT/$b.txt" | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-10s %9s %9s %9s %11s %9s %9s %6.0f%% %12sx %8s\n", $2, v["me"], v["authz"], v["introspect"],
               v["refresh"], v["mfa"], v["login"], 100 * v["me"] / v["bare"], v["flood_p99x"], v["rss_end"] }'
done
rm -rf "$OUT"
