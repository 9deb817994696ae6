/*
 * test_audit.c - the audit trail (core/auth/audit.c): records and their
 * filters, over the real SQLite plugin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/present.h"
#include "auth/audit.h"
#include "auth/lockout.h"
#include "auth/pii.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/users_crypt.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/migrations.h"
#include "store/store.h"

#include "accounts_fx.h"

/* ----------------------------------------------------------------- audit */

static void record(fx *f, const char *tenant, const char *actor, const char *subject,
                   const char *action, const char *outcome, json_t *details)
{
    gh_audit e = { tenant, actor, subject, action, outcome, "192.0.2.5", "curl/8", details };

    assert_int_equal(audit_record(f->c, &f->call, &e), GH_OK);
    clock_advance_ms(1); /* newest first needs distinct times */
}

static json_t *query(fx *f, const gh_audit_filter *flt)
{
    json_t *arr = NULL;

    assert_int_equal(audit_query(f->c, &f->call, flt, &arr, NULL), GH_OK);
    assert_non_null(arr);
    return arr;
}

static const char *member(json_t *arr, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(arr, i), key));
}

static void test_audit(void **state)
{
    fx *f = *state;
    gh_audit_filter flt;
    json_t *arr, *d, *o;
    gh_audit bad = { ROOT, NULL, NULL, NULL, "success", NULL, NULL, NULL };
    const char *when;
    int64_t mid, until;
    text_ud t;

    d = json_pack("{s:s, s:i}", "method", "password", "attempt", 1);
    record(f, ROOT, "u1", "u1", "login.success", "success", d);
    json_decref(d); /* borrowed by audit_record */
    record(f, ROOT, NULL, "u1", "login.failure", "failure", NULL);
    mid = gh_now_ms();
    record(f, ROOT, "u1", "u1", "logout", "success", NULL);
    record(f, ROOT, "admin", "u2", "user.deactivate", "success", NULL);
    until = gh_now_ms(); /* after that one (record() moved the clock), before the next */
    record(f, OTHER_TENANT, "u9", "u9", "login.success", "success", NULL);
    record(f, ROOT, "u2", "u2", "login%odd", "success", NULL);

    /* a tenant's events, newest first, every field */
    memset(&flt, 0, sizeof(flt));
    flt.tenant_id = ROOT;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 5);
    assert_string_equal(member(arr, 0, "action"), "login%odd");
    assert_string_equal(member(arr, 4, "action"), "login.success");
    o = json_array_get(arr, 4);
    assert_string_equal(member(arr, 4, "outcome"), "success");
    assert_string_equal(member(arr, 4, "actor_id"), "u1");
    assert_string_equal(member(arr, 4, "subject_id"), "u1");
    assert_string_equal(member(arr, 4, "tenant_id"), ROOT);
    assert_string_equal(member(arr, 4, "ip"), "192.0.2.5");
    assert_string_equal(member(arr, 4, "user_agent"), "curl/8");
    assert_int_equal(strlen(member(arr, 4, "id")), 36);
    d = json_object_get(o, "details");
    assert_string_equal(json_string_value(json_object_get(d, "method")), "password");
    assert_int_equal(json_integer_value(json_object_get(d, "attempt")), 1);
    assert_true(json_is_null(json_object_get(json_array_get(arr, 3), "details")));
    assert_true(json_is_null(json_object_get(json_array_get(arr, 3), "actor_id")));
    /* RFC 3339, UTC, milliseconds */
    when = member(arr, 0, "created_at");
    assert_non_null(when);
    assert_int_equal(strlen(when), 24);
    assert_int_equal(when[4], '-');
    assert_int_equal(when[10], 'T');
    assert_int_equal(when[19], '.');
    assert_int_equal(when[23], 'Z');
    assert_true(strcmp(when, member(arr, 1, "created_at")) > 0);
    json_decref(arr);

    /* one user's login history: subject and action prefix */
    flt.subject_id = "u1";
    flt.action_prefix = "login.";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(member(arr, 0, "action"), "login.failure");
    assert_string_equal(member(arr, 1, "action"), "login.success");
    json_decref(arr);
    /* LIKE's wildcards in the prefix are literal */
    memset(&flt, 0, sizeof(flt));
    flt.action_prefix = "login%";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(member(arr, 0, "action"), "login%odd");
    json_decref(arr);
    flt.action_prefix = "login_";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 0);
    json_decref(arr);

    /* actor; time range [since, until); every tenant when none is given */
    memset(&flt, 0, sizeof(flt));
    flt.actor_id = "admin";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(member(arr, 0, "subject_id"), "u2");
    json_decref(arr);
    memset(&flt, 0, sizeof(flt));
    flt.since_ms = mid;
    flt.until_ms = until;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(member(arr, 0, "action"), "user.deactivate");
    assert_string_equal(member(arr, 1, "action"), "logout");
    json_decref(arr);
    memset(&flt, 0, sizeof(flt));
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 6);
    json_decref(arr);

    /* limit and offset */
    flt.limit = 2;
    flt.offset = 1;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(member(arr, 0, "action"), "login.success"); /* the other tenant's */
    assert_string_equal(member(arr, 1, "action"), "user.deactivate");
    json_decref(arr);
    flt.limit = 100000; /* clamped, not refused */
    flt.offset = -5;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 6);
    json_decref(arr);

    /* secrets never reach the row, whatever a caller passes */
    d = json_pack("{s:s, s:s, s:{s:s}, s:s}", "password", "hunter2", "reason", "ok",
                  "nested", "refresh_token", "tok-abc", "Password_Hash", "$argon2id$x");
    record(f, ROOT, "u3", "u3", "password.change", "success", d);
    assert_string_equal(json_string_value(json_object_get(d, "password")), "hunter2");
    json_decref(d); /* the caller's object was not touched */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM audit_events WHERE details LIKE ? ",
                               "%hunter2%"), 0);
    assert_string_equal(query_text(f, "SELECT details FROM audit_events WHERE action = ?",
                                   "password.change", &t),
                        "{\"password\":\"[redacted]\",\"reason\":\"ok\",\"nested\":"
                        "{\"refresh_token\":\"[redacted]\"},\"Password_Hash\":\"[redacted]\"}");

    /* an event needs an action and an outcome */
    assert_int_equal(audit_record(f->c, &f->call, &bad), GH_ERR_INVALID);
    bad.action = "x";
    bad.outcome = NULL;
    assert_int_equal(audit_record(f->c, &f->call, &bad), GH_ERR_INVALID);
    assert_int_equal(audit_record(f->c, &f->call, NULL), GH_ERR_INVALID);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_audit),
    };

    return RUN(tests);
}
