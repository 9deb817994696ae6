#!/bin/sh
# install.sh [DIR] - the OIDC stand-in, ready to run, in DIR (default: the
# user's cache), outside the source tree: package.json and the lock file
# installed with `npm ci` (exact versions, nothing resolved anew), again
# only when the lock file changed, and provider.mjs beside them so that
# node resolves its imports there. Prints DIR.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/standins/oidc}
mkdir -p "$dir"
if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
cp "$src/provider.mjs" "$dir/"
printf '%s\n' "$dir"
