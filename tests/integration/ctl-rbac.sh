#!/usr/bin/env bash
# ctl-rbac.sh - gatehousectl role, permission and resource on a real config
# and SQLite store: a resource type, a permission, roles with parents,
# grants and users' roles, by name and by id; what is refused (a cycle, the
# last admin, a built-in role, another company's rows, an unknown company),
# each with exit 1 and one line saying why; and the audit trail of each
# change, and of nothing refused.
set -u
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not found"; exit 77; }
CTL="$top_builddir/gatehousectl"
STATE="$TMP/state"
CFG="$TMP/gatehouse.yaml"
PW='correct horse battery staple'
base_config threads=1 state_dir="$STATE" >"$CFG"

ctl_client
db() { sqlite3 "$STATE/gatehouse.db" "$@"; }
ROOT_CO=00000000-0000-4000-8000-000000000000
# version COMPANY: its RBAC version in kv, which running daemons' caches check
version() { db "SELECT CAST(value AS TEXT) FROM kv WHERE key = 'rbac:ver:$1'"; }
audits() { db "SELECT COUNT(*) FROM audit_events WHERE actor_id = 'cli' AND action = '$1'${2:+ AND $2}"; }
# fails NAME TEXT: the last command exited 1 with one line on stderr holding TEXT
fails() {
    equals "$1: exit 1" "$RC" "1"
    contains "$1: says why" "$ERR" "$2"
    equals "$1: in one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"
}

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# ---------------------------------------------------------------- command line
ctl role --help
equals "role --help exits 0" "$RC" "0"
for sub in list show create update delete grant revoke assign unassign; do
    contains "role --help names $sub" "$OUT" "  $sub"
done
ctl role create --help
contains "role create --help names --parent" "$OUT" "--parent ROLE"
contains "and --tenant" "$OUT" "--tenant"
ctl permission create --help
contains "permission create --help names its arguments" "$OUT" "RESOURCE_TYPE ACTION"
ctl resource --help
contains "resource --help names delete" "$OUT" "delete ID|NAME"
ctl role create "Not A Name"
equals "a bad role name is a usage error" "$RC" "2"
ctl role grant viewer
equals "grant without a permission is a usage error" "$RC" "2"

ctl migrate up
equals "migrate up" "$RC" "0"
ctl company create acme "Acme Inc."
equals "a second company" "$RC" "0"
ACME=$OUT
ctl user create --email root@example.com --admin --password-stdin <<<"$PW"
equals "the root company's one admin" "$RC" "0"
ROOT_ADMIN=$OUT
ctl user create --email bob@example.com --password-stdin <<<"$PW"
equals "a user who is not one" "$RC" "0"
BOB=$OUT

# ---------------------------------------------------------------- definitions
V0=$(version $ROOT_CO)
ctl resource create invoice --description "Invoices sent"
equals "resource create exits 0" "$RC" "0"
V1=$(version $ROOT_CO)
check "a change gives the company a new RBAC version, for the daemons' caches" \
    test -n "$V1" -a "$V1" != "$V0"
check "and prints the new id" grep -Eq "$UUID_RE" <<<"$OUT"
INVOICE=$OUT
ctl resource create invoice
fails "a taken resource type name" "a resource type named 'invoice' exists"
ctl resource list
check "resource list shows it, not the system's, with its description" \
    grep -Eq "^$INVOICE +invoice +no +Invoices sent\$" <<<"$OUT"
check "and the system's" grep -Eq '^0{8}-0{4}-4000-8001-0{11}1 +users +yes ' <<<"$OUT"

ctl permission create invoice read --description "read invoices"
equals "permission create by resource type name" "$RC" "0"
READ=$OUT
check "prints the new id" grep -Eq "$UUID_RE" <<<"$READ"
ctl permission create "$INVOICE" pay
equals "permission create by resource type id" "$RC" "0"
PAY=$OUT
ctl permission create nosuch read
fails "a permission of an unknown resource type" "no resource type 'nosuch'"
ctl permission create invoice read
fails "a taken permission" "a permission named 'invoice:read' exists"
ctl permission list
check "permission list shows type:action" grep -Eq "^$READ +invoice:read +no +read invoices\$" <<<"$OUT"
check "and the one made by id" grep -Eq "^$PAY +invoice:pay +no " <<<"$OUT"

ctl role create viewer --description "Sees invoices"
equals "role create exits 0" "$RC" "0"
VIEWER=$OUT
ctl role create clerk --parent viewer
equals "a role with a parent, by name" "$RC" "0"
CLERK=$OUT
ctl role create boss --parent "$CLERK"
equals "a role with a parent, by id" "$RC" "0"
ctl role create viewer
fails "a taken role name" "a role named 'viewer' exists"
ctl role create orphan --parent nosuch
fails "an unknown parent" "no role 'nosuch'"
ctl role create sub --parent admin
fails "a built-in parent" "a built-in role cannot be a parent"
ctl role list
check "role list marks admin as built in" \
    grep -Eq '^0{8}-0{4}-4000-8003-0{11}1 +admin +admin +-$' <<<"$OUT"
check "and shows clerk's parent by name" grep -Eq "^$CLERK +clerk +- +viewer\$" <<<"$OUT"
check "and viewer with none" grep -Eq "^$VIEWER +viewer +- +-\$" <<<"$OUT"
lacks "nothing of orphan or sub" "$OUT" "orphan"

ctl role grant viewer invoice:read
equals "role grant by names" "$RC" "0"
contains "says what it did" "$OUT" "role viewer: granted invoice:read"
ctl role grant "$CLERK" "$PAY"
equals "role grant by ids" "$RC" "0"
ctl role grant clerk users:read
equals "a system permission can be granted" "$RC" "0"
ctl role grant admin invoice:read
fails "a built-in role's permissions" "fixed"
ctl role grant viewer invoice:nosuch
fails "an unknown permission" "no permission 'invoice:nosuch'"
ctl role show clerk
equals "role show exits 0" "$RC" "0"
contains "shows its parent" "$OUT" "parents:        viewer"
contains "and its own permissions, not its parent's" "$OUT" "permissions:    invoice:pay, users:read"
contains "and its parent's apart, with where from" "$OUT" "inherited:      invoice:read (from viewer)"
ctl role show "$VIEWER"
contains "role show by id" "$OUT" "name:           viewer"
contains "with its description" "$OUT" "description:    Sees invoices"
contains "and its permission" "$OUT" "permissions:    invoice:read"
contains "and nothing inherited" "$OUT" "inherited:      -"
ctl role show admin
contains "a built-in role's permissions come from its mark" "$OUT" \
    "permissions:    (every permission of the company)"

# ---------------------------------------------------------------- users' roles
ctl role assign bob@example.com clerk
equals "role assign by email and role name" "$RC" "0"
contains "names the user" "$OUT" "$BOB (bob@example.com): assigned clerk"
equals "the user holds it" \
    "$(db "SELECT COUNT(*) FROM user_roles WHERE user_id = '$BOB' AND role_id = '$CLERK'")" "1"
ctl role assign nobody@example.com clerk
fails "an unknown user" "no user 'nobody@example.com'"
ctl role unassign "$BOB" boss
fails "a role the user does not hold" "does not hold role 'boss'"

# ---------------------------------------------------------------- refusals
V1=$(version $ROOT_CO)
ctl role update viewer --parent boss
fails "a cycle" "that parent would make a cycle"
equals "a refused change leaves the version" "$(version $ROOT_CO)" "$V1"
ctl role show viewer
contains "viewer's parents are unchanged" "$OUT" "parents:        -"
ctl role update viewer --parent viewer
fails "a role as its own parent" "cycle"

ctl role unassign root@example.com admin
fails "the last admin" "the company's last admin stays one"
equals "who is still an admin" "$(db "SELECT is_admin FROM users WHERE id = '$ROOT_ADMIN'")" "1"
equals "and holds the role" \
    "$(db "SELECT COUNT(*) FROM user_roles WHERE user_id = '$ROOT_ADMIN' AND role_id = '00000000-0000-4000-8003-000000000001'")" "1"

ctl role delete admin
fails "deleting a built-in role" "role 'admin' is built in: it cannot be deleted"
ctl permission delete users:read
fails "deleting a system permission" "permission 'users:read' is built in"
ctl resource delete users
fails "deleting a system resource type" "resource type 'users' is built in"

# another company's rows are not there, by name or by id
V1=$(version $ROOT_CO)
ctl role create auditor --tenant acme
equals "a role in acme" "$RC" "0"
check "acme has a version" test -n "$(version "$ACME")"
equals "the root company's is left" "$(version $ROOT_CO)" "$V1"
AUDITOR=$OUT
ctl role show auditor
fails "acme's role, by name, from the root company" "no role 'auditor'"
ctl role show "$AUDITOR"
fails "acme's role, by id, from the root company" "no role '$AUDITOR'"
ctl role show auditor --tenant acme
contains "but from acme it is there" "$OUT" "id:             $AUDITOR"
ctl role show viewer --tenant "$ACME"
fails "the root company's role from acme (by id)" "no role 'viewer' in company $ACME"
ctl role grant auditor invoice:read --tenant acme
fails "the root company's permission from acme" "no permission 'invoice:read'"
ctl role assign bob@example.com auditor --tenant acme
fails "the root company's user from acme" "no user 'bob@example.com'"
ctl role list --tenant acme
lacks "acme's list has none of root's roles" "$OUT" "viewer"
contains "but its own" "$OUT" "auditor"

ctl role list --tenant nosuch
fails "an unknown company" "no company nosuch"
ctl permission list --tenant nosuch
fails "an unknown company for permissions" "no company nosuch"

# ---------------------------------------------------------------- changes and the trail
ctl role update clerk --name cashier --description "Takes payments"
equals "role update renames" "$RC" "0"
ctl role show cashier
contains "the new name" "$OUT" "id:             $CLERK"
contains "the parents kept" "$OUT" "parents:        viewer"
ctl role update cashier --no-parents
ctl role show cashier
contains "--no-parents clears them" "$OUT" "parents:        -"

ctl role revoke viewer invoice:read
equals "role revoke" "$RC" "0"
ctl role revoke viewer invoice:read
fails "revoking what it does not have" "role 'viewer' does not grant itself 'invoice:read'"
ctl role unassign "$BOB" cashier
equals "role unassign by id" "$RC" "0"
equals "the user no longer holds it" "$(db "SELECT COUNT(*) FROM user_roles WHERE user_id = '$BOB'")" "0"

equals "resource create audited" "$(audits rbac.resource.create "subject_id = '$INVOICE'")" "1"
equals "permission creates audited" "$(audits rbac.permission.create)" "2"
equals "role creates audited, in their company" \
    "$(audits rbac.role.create "tenant_id = '$ROOT_CO'") $(audits rbac.role.create "tenant_id = '$ACME'")" "3 1"
equals "grants audited (refused ones not)" "$(audits rbac.role.grant)" "3"
equals "two updates audited, the cycles not" "$(audits rbac.role.update)" "2"
equals "the update has before and after" \
    "$(db "SELECT json_extract(details, '\$.before.name') || '>' || json_extract(details, '\$.after.name') FROM audit_events WHERE action = 'rbac.role.update' ORDER BY created_at LIMIT 1")" \
    "clerk>cashier"
equals "assign audited on the user" "$(audits rbac.user.assign "subject_id = '$BOB'")" "1"
equals "unassign audited once (the last admin's refusal not)" "$(audits rbac.user.unassign)" "1"
equals "revoke audited" "$(audits rbac.role.revoke)" "1"
equals "with the OS user" \
    "$(db "SELECT json_extract(details, '\$.os_user') IS NOT NULL FROM audit_events WHERE action = 'rbac.role.revoke'")" "1"

ctl role delete cashier
equals "role delete" "$RC" "0"
ctl role list
lacks "it is gone" "$OUT" "cashier"
equals "audited with what it was" \
    "$(db "SELECT json_extract(details, '\$.before.id') FROM audit_events WHERE action = 'rbac.role.delete'")" "$CLERK"
ctl permission delete invoice:pay
equals "permission delete by type:action" "$RC" "0"
ctl resource delete invoice
equals "resource delete" "$RC" "0"
ctl permission list
lacks "its permissions went with it" "$OUT" "invoice:"
equals "the deletes audited" \
    "$(audits rbac.permission.delete) $(audits rbac.resource.delete)" "1 1"

ctl_sanitizer_check

finish
