#!/usr/bin/env bash
# security-table.sh - docs/security.md stays true: every ASVS row has a
# well-formed, unique id under its own chapter, a level of 1 or 2, and one
# of three verdicts (the tests that show it, "n/a: why" or "gap: what is
# missing"); every test it names exists (a C function defined and run in
# that file, or a shell check whose quoted label is in that file); and the
# summary counts are the rows'. A renamed or deleted test fails here, so the
# table never points at something that no longer checks anything.
set -u
# check NAME COMMAND... and finish, as the integration tests count them
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
doc="$top_srcdir/docs/security.md"

# ASVS 5.0.0 has 70 requirements at level 1 and 183 at level 2: the table
# holds every one of them, so a dropped row is noticed too.
ASVS_L1=70 ASVS_L2=183

check "docs/security.md exists" test -f "$doc"
[ -f "$doc" ] || { finish; exit 1; }

# One line per row: chapter of the heading above it, id, level, verdict.
rows=$(awk -F' \\| ' '
    /^## V[0-9]+ / { chapter = substr($1, 5) + 0; next }
    /^\| / && !/^\| Id \|/ && !/^\|---/ {
        id = substr($1, 3); verdict = $4; sub(/ \|$/, "", verdict)
        printf "%s\t%s\t%s\t%s\n", chapter, id, $2, verdict
    }' "$doc")
total=$(printf '%s\n' "$rows" | grep -c .)

# ref_exists PATH: NAME - the file exists and holds the test named.
ref_exists() {
    local path=${1%%: *} name=${1#*: }
    [ "$path" != "$1" ] || return 1
    case "$path" in tests/* | fuzz/*) ;; *) return 1 ;; esac
    [ -f "$top_srcdir/$path" ] || return 1
    case "$name" in
    \"*\") grep -qF -e "$name" "$top_srcdir/$path" ;;
    *)
        [[ "$name" =~ ^[A-Za-z_][A-Za-z_0-9]*$ ]] || return 1
        grep -qE -e "^[A-Za-z_][A-Za-z_0-9 *]*[ *]$name\(" "$top_srcdir/$path" || return 1
        # a unit test is also registered to run (a second line names it)
        case "$path" in
        tests/unit/*) [ "$(grep -cwF -e "$name" "$top_srcdir/$path")" -ge 2 ] ;;
        esac
        ;;
    esac
}

# verdict_form VERDICT - one of the three forms, nothing else.
verdict_form() {
    case "$1" in
    "n/a: "?* | "gap: "?*) return 0 ;;
    esac
    [[ "$1" =~ ^\`[^\`]+\`(\;\ \`[^\`]+\`)*$ ]]
}

shown=0 na=0 gap=0 l1=0 l2=0 bad_id="" bad_level="" bad_chapter="" bad_form="" missing=""
declare -A seen=()
dups=""
while IFS=$'\t' read -r chapter id level verdict; do
    [[ "$id" =~ ^[1-9][0-9]?\.[1-9][0-9]?\.[1-9][0-9]?$ ]] || bad_id+=" $id"
    [ "${id%%.*}" = "$chapter" ] || bad_chapter+=" $id"
    case "$level" in 1) l1=$((l1 + 1)) ;; 2) l2=$((l2 + 1)) ;; *) bad_level+=" $id" ;; esac
    [ -z "${seen[$id]:-}" ] || dups+=" $id"
    seen[$id]=1
    if verdict_form "$verdict"; then
        case "$verdict" in "n/a: "*) na=$((na + 1)) ;; "gap: "*) gap=$((gap + 1)) ;; *) shown=$((shown + 1)) ;; esac
    else
        bad_form+=" $id"
    fi
    # every test named, in a verdict of any form, exists
    # shellcheck disable=SC2016 # the backquotes are the table's, not a command
    refs=$(printf '%s\n' "$verdict" | grep -oE '`[^`]+`')
    while IFS= read -r ref; do
        [ -n "$ref" ] || continue
        ref_exists "${ref//\`/}" || missing+=$'\n'"  $id: ${ref//\`/}"
    done <<<"$refs"
done <<<"$rows"

check "the table has rows" test "$total" -gt 0
check "ids are well formed (chapter.section.number)${bad_id:+:$bad_id}" test -z "$bad_id"
check "each id is under its own chapter${bad_chapter:+:$bad_chapter}" test -z "$bad_chapter"
check "ids are unique${dups:+:$dups}" test -z "$dups"
check "levels are 1 or 2${bad_level:+:$bad_level}" test -z "$bad_level"
check "every row is shown by tests, n/a or a gap${bad_form:+:$bad_form}" test -z "$bad_form"
check "every test named exists${missing:+:$missing}" test -z "$missing"
check "all $ASVS_L1 level-1 requirements are there ($l1)" test "$l1" -eq "$ASVS_L1"
check "all $ASVS_L2 level-2 requirements are there ($l2)" test "$l2" -eq "$ASVS_L2"

# The summary: "- **shown** ...: N" and so on, each equal to the rows'.
summary() { sed -nE "s/^- \*\*$1\*\*[^0-9]*([0-9]+).*/\1/p" "$doc" | head -1; }
check "the summary's shown count is the rows' ($shown)" test "$(summary shown)" = "$shown"
check "the summary's n/a count is the rows' ($na)" test "$(summary 'n\/a')" = "$na"
check "the summary's gap count is the rows' ($gap)" test "$(summary gap)" = "$gap"
check "the summary's total is the rows' ($total)" test "$(summary total)" = "$total"

finish
