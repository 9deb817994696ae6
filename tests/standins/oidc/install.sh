#!/bin/sh
# install.sh [DIR] - the OIDC stand-in, ready to run, in DIR (default: the
# user's cache), outside the source tree: package.json and the lock file
# installed with `npm ci` (exact versions, nothing resolved anew), again
# only when the lock file changed, and provider.mjs beside them so that
# node resolves its imports there. Tests running in parallel take turns
# (flock). Prints DIR.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/standins/oidc}
mkdir -p "$dir"
exec 9>"$dir/.install.lock"
flock 9
# .installed: a copy of the lock file an install finished with, so an
# interrupted one is done again
if ! cmp -s "$src/package-lock.json" "$dir/.installed"; then
    rm -f "$dir/.installed"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$src/package-lock.json" "$dir/.installed"
fi
# renamed into place: a test starting node meanwhile reads a whole file
cp "$src/provider.mjs" "$dir/.provider.mjs.new"
mv "$dir/.provider.mjs.new" "$dir/provider.mjs"
printf '%s\n' "$dir"
