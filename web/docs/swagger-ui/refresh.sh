#!/bin/sh
# refresh.sh [VERSION] - vendor Swagger UI's browser files from npm: fetch
# swagger-ui-dist at VERSION (default: the one in README), check the
# tarball against the sha512 integrity the registry publishes for it, and
# copy in the few files the /docs page uses (and their licenses). Run from
# anywhere; rewrites this directory's files and README's version line.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-$(sed -n 's/^Version: //p' "$here/README")}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
want=$(npm view "swagger-ui-dist@$version" dist.integrity)
tgz=$(npm pack --silent "swagger-ui-dist@$version")
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$want" ]; then
    echo "refresh.sh: $tgz: integrity $got, the registry says $want" >&2
    exit 1
fi
tar xzf "$tgz"
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
    cp "package/$f" "$here/$f"
done
sed -i -e "s|^Version: .*|Version: $version|" -e "s|^Integrity: .*|Integrity: $want|" "$here/README"
# the page asks for the files with the version in the query (cache busting)
sed -i "s/?v=[0-9][0-9.]*/?v=$version/g" "$here/../index.html"
echo "swagger-ui-dist $version vendored in $here"
