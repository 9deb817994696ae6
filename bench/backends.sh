#!/usr/bin/env bash
# backends.sh [BUILDDIR] - bench/run.sh on each SQL backend (SQLite, and
# real PostgreSQL and MariaDB servers that tests/servers.sh starts on
# loopback), and on PostgreSQL and MariaDB again with kv on a real Redis
# (the scale-out set-up: several instances share the store and Redis),
# then the figures side by side. Same knobs as run.sh.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-./build/check}
. "$SRC/tests/servers.sh"
servers_start postgres mysql redis
OUT=$(mktemp -d /tmp/gh-backends-XXXXXX)
# NAME:BACKEND:KV, one run each
RUNS="sqlite:sqlite: postgres:postgres: mysql:mysql: pg+redis:postgres:redis my+redis:mysql:redis"
for r in $RUNS; do
    IFS=: read -r name backend kv <<<"$r"
    echo "bench: ==== $name" >&2
    BENCH_BACKEND=$backend BENCH_KV=$kv "$SRC/bench/run.sh" "$BUILD" | tee "$OUT/$name.txt"
done
echo
echo "Side by side (req/s; RSS in MB after the runs):"
printf '%-10s %9s %9s %9s %11s %9s %9s %7s %13s %8s\n' backend users/me authz introspect refresh mfa login of-bare \
    "p99 x flood" RSS
for r in $RUNS; do
    grep '^summary ' "$OUT/${r%%:*}.txt" | awk -v name="${r%%:*}" '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-10s %9s %9s %9s %11s %9s %9s %6.0f%% %12sx %8s\n", name, v["me"], v["authz"], v["introspect"],
               v["refresh"], v["mfa"], v["login"], 100 * v["me"] / v["bare"], v["flood_p99x"], v["rss_end"] }'
done
rm -rf "$OUT"
