#!/usr/bin/env bash
# man-pages.sh - the man pages say what the programs do: every option of
# gatehoused, every command and subcommand of gatehousectl and every host
# service and op of the plugin header is in its page, and every page
# renders without a warning. (gatehouse.yaml(5) is held to the config
# table by test_config.)
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
docs="$top_srcdir/docs"
n=0 failed=0
check() { # check DESCRIPTION COMMAND...
    n=$((n + 1))
    if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi
}

# The page holds a line, matched as a whole (grep -x, extended).
has_line() { grep -qxE -e "$2" "$1"; }

# gatehoused: each long option of --help is in the page.
for opt in $("$top_builddir/gatehoused" --help | grep -oE -e '--[a-z-]+'); do
    check "gatehoused(8) has $opt" grep -qF -e "\\-\\-${opt#--}" "$docs/gatehoused.8"
done

# gatehousectl: "  user   create|list|... ..." lines of --help give each
# command's subcommands; each has a ".SS command sub..." section, or is
# named in another's text as ".B command sub" (role revoke beside grant).
"$top_builddir/gatehousectl" --help | sed -n '/^Commands:/,$p' |
    awk '/^  [a-z]/ && $2 ~ /^[a-z-]+(\|[a-z-]+)+$/ { print $1, $2 }' >"${TMPDIR:-/tmp}/ctl-cmds.$$"
commands=$(wc -l <"${TMPDIR:-/tmp}/ctl-cmds.$$")
check "gatehousectl --help lists its commands" test "$commands" -ge 8
while read -r cmd subs; do
    for sub in ${subs//|/ }; do
        s=$(printf '%s' "$sub" | sed 's/-/\\\\-/g')
        check "gatehousectl(8) has '$cmd $sub'" \
            has_line "$docs/gatehousectl.8" "\.(SS $cmd ($s|$sub)( .*)?|B $cmd ($s|$sub))"
    done
done <"${TMPDIR:-/tmp}/ctl-cmds.$$"
rm -f "${TMPDIR:-/tmp}/ctl-cmds.$$"

# gatehouse-plugin(3): every member of the host table and of each kind's
# ops table, as the installed header declares them, is named in bold.
header="$top_srcdir/include/gatehouse/plugin.h"
members=$(awk '/^typedef struct gh_(host|[a-z]+_ops) \{/,/^\} gh_/' "$header" |
    grep -oE '\(\*[a-z_0-9]+\)|gh_op [a-z_0-9]+' | sed -E 's/^\(\*//; s/\)$//; s/^gh_op //' | sort -u)
check "plugin.h has host services and ops to document" test "$(echo "$members" | wc -l)" -ge 60
for m in $members; do
    check "gatehouse-plugin(3) names $m" \
        grep -qE -e "^\.BR? $m( |$)|\\\\fB$m\\\\f" "$docs/gatehouse-plugin.3"
done

# Every page renders cleanly: groff's warnings are man's standard error.
if command -v man >/dev/null; then
    for page in "$docs"/*.[1-8]; do
        out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
        check "$(basename "$page") renders without warnings${out:+: $out}" test -z "$out"
    done
elif [ -n "${GH_TEST_REQUIRE_SERVERS:-}" ]; then
    check "man is installed (man-db)" false
fi
echo "1..$n"
exit $failed
