#!/bin/sh
# npm-install.sh SRC [DIR] - the npm packages of a test helper directory
# (SRC: its package.json, package-lock.json and *.mjs scripts; the OIDC
# stand-in, the browser driver), ready to run, in DIR (default: the user's
# cache, a directory per SRC name), outside the source tree: installed with
# `npm ci` (the lock file's exact versions, nothing resolved anew), again
# only when the lock file changed, and the scripts beside them so that
# node resolves their imports there. Tests running in parallel take turns
# (flock). Prints DIR.
set -eu
src=$(cd "$1" && pwd)
dir=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/npm/$(basename "$src")}
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
# renamed into place: a test starting node meanwhile reads whole files
for f in "$src"/*.mjs; do
    cp "$f" "$dir/.new.mjs"
    mv "$dir/.new.mjs" "$dir/${f##*/}"
done
printf '%s\n' "$dir"
