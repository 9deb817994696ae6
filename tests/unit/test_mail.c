/*
 * test_mail.c - the pieces of the mail flows that can be checked without a
 * mail server: the template renderer and its HTML escaping, template
 * files, one-time tokens in kv (on the real SQLite store), and the outbox
 * (its rows on that store, and its sender against a notify plugin defined
 * here: failures, retries, invalid messages, a full outbox, a restart). tests/integration/mail.sh does the rest over SMTP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "auth/onetime.h"
#include "auth/pii.h"
#include "auth/ratelimit.h"
#include "auth/users.h"
#include "clock.h"
#include "fixture.h"
#include "config.h"
#include "log.h"
#include "auth/mail_outbox.h"
#include "notify/mailer.h"
#include "notify/outbox.h"
#include "notify/template.h"
#include "out.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/store.h"

#define USER_A "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define USER_B "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define HOUR (60 * 60 * 1000LL)
#define DAY (24 * HOUR)

/* ---------------------------------------------------------------- templates */

static char *render(const char *src, int html)
{
    static const gh_tvar vars[] = {
        { "name", "<b>Al & \"Ice\" 'x'</b>" }, { "link", "https://a.example/v?token=t&x=1" },
        { "empty", NULL }, { "product", "Acme" },
    };
    char *s = template_render(src, strlen(src), vars, sizeof vars / sizeof vars[0], html);
    assert_non_null(s);
    return s;
}

static void test_render_text(void **state)
{
    char *s = render("Hi {{name}}, {{ link }}!{{empty}}{{unknown}} -- {{product}}", 0);
    assert_string_equal(s, "Hi <b>Al & \"Ice\" 'x'</b>, https://a.example/v?token=t&x=1! -- Acme");
    free(s);
}

static void test_render_html_escapes(void **state)
{
    char *s = render("<p>{{name}}</p><a href=\"{{link}}\">", 1);
    assert_string_equal(s, "<p>&lt;b&gt;Al &amp; &quot;Ice&quot; &#39;x&#39;&lt;/b&gt;</p>"
                           "<a href=\"https://a.example/v?token=t&amp;x=1\">");
    free(s);
}

static void test_render_not_placeholders(void **state)
{
    /* copied as they are: unclosed, empty, bad names, single braces */
    const char *src = "{{ {x} {{}} {{a-b}} {{name {} }} {{";
    char *s = render(src, 0);
    assert_string_equal(s, src);
    free(s);
    s = render("", 1);
    assert_string_equal(s, "");
    free(s);
    s = render("{{product}}{{product}}", 0);
    assert_string_equal(s, "AcmeAcme");
    free(s);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_template_files(void **state)
{
    gh_mail_template t;
    char err[512];
    const char *top = getenv("top_srcdir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/etc/templates", top ? top : "..");
    /* the shipped ones load, each with a subject, a text and an HTML part */
    const char *names[] = { "verify-email", "password-reset" };
    for (int i = 0; i < 2; i++) {
        if (template_load(&t, dir, names[i], err, sizeof err) != 0)
            fail_msg("%s", err);
        assert_non_null(strstr(t.subject, "{{product}}"));
        assert_non_null(strstr(t.text, "{{link}}"));
        assert_non_null(t.html);
        assert_non_null(strstr(t.html, "{{link}}"));
        template_clear(&t);
    }
    /* text only; CRLF; a missing subject line; a missing file */
    write_file("plain.txt", "Subject: Hi {{name}}\r\n\r\nBody\n");
    assert_int_equal(template_load(&t, ".", "plain", err, sizeof err), 0);
    assert_string_equal(t.subject, "Hi {{name}}");
    assert_string_equal(t.text, "Body\n");
    assert_null(t.html);
    template_clear(&t);
    write_file("nosubj.txt", "Hello\n");
    assert_int_equal(template_load(&t, ".", "nosubj", err, sizeof err), -1);
    assert_non_null(strstr(err, "Subject:"));
    assert_int_equal(template_load(&t, ".", "missing", err, sizeof err), -1);
    assert_non_null(strstr(err, "missing.txt"));
}

/* ---------------------------------------------------------------- tokens */

static void test_onetime_flow(void **state)
{
    fx *f = *state;
    char t1[GH_SECRET_LEN], t2[GH_SECRET_LEN], tb[GH_SECRET_LEN];
    gh_ot_claim cl;
    assert_int_equal(onetime_issue(f->c, &f->call, GH_OT_VERIFY, USER_A, "Al@Example.com", HOUR, t1),
                     GH_OK);
    assert_int_equal(strlen(t1), 43);
    /* peeking does not spend it; the address matches normalised */
    assert_int_equal(onetime_peek(f->c, &f->call, GH_OT_VERIFY, t1, &cl), GH_OK);
    assert_string_equal(cl.user_id, USER_A);
    assert_true(onetime_address_is(&cl, "al@example.COM"));
    assert_false(onetime_address_is(&cl, "other@example.com"));
    assert_false(onetime_address_is(&cl, NULL));
    /* the other purpose does not know it */
    assert_int_equal(onetime_peek(f->c, &f->call, GH_OT_RESET, t1, &cl), GH_ERR_NOT_FOUND);
    /* a newer token makes it useless */
    assert_int_equal(onetime_issue(f->c, &f->call, GH_OT_VERIFY, USER_A, "al@example.com", HOUR, t2),
                     GH_OK);
    assert_string_not_equal(t1, t2);
    assert_int_equal(onetime_take(f->c, &f->call, GH_OT_VERIFY, t1, &cl), GH_ERR_NOT_FOUND);
    /* another user's token is independent */
    assert_int_equal(onetime_issue(f->c, &f->call, GH_OT_VERIFY, USER_B, "b@example.com", HOUR, tb),
                     GH_OK);
    assert_int_equal(onetime_take(f->c, &f->call, GH_OT_VERIFY, t2, &cl), GH_OK);
    assert_string_equal(cl.user_id, USER_A);
    /* once */
    assert_int_equal(onetime_take(f->c, &f->call, GH_OT_VERIFY, t2, &cl), GH_ERR_NOT_FOUND);
    assert_int_equal(onetime_take(f->c, &f->call, GH_OT_VERIFY, tb, &cl), GH_OK);
    assert_string_equal(cl.user_id, USER_B);
    /* nothing readable is stored: not the token, only its digest */
    gh_out *out = gh_host_table.out_new();
    char key[128];
    snprintf(key, sizeof key, "ot:verify:%s", t2);
    assert_int_equal(store_kv_get(f->c, &f->call, key, out), GH_ERR_NOT_FOUND);
    gh_host_table.out_free(out);
}

static void test_onetime_expiry_and_forget(void **state)
{
    fx *f = *state;
    char t[GH_SECRET_LEN];
    gh_ot_claim cl;
    assert_int_equal(onetime_issue(f->c, &f->call, GH_OT_RESET, USER_A, "a@example.com", 1000, t),
                     GH_OK);
    assert_int_equal(onetime_peek(f->c, &f->call, GH_OT_RESET, t, &cl), GH_OK);
    clock_advance_ms(1500);
    assert_int_equal(onetime_take(f->c, &f->call, GH_OT_RESET, t, &cl), GH_ERR_NOT_FOUND);
    assert_int_equal(onetime_issue(f->c, &f->call, GH_OT_RESET, USER_A, "a@example.com", HOUR, t),
                     GH_OK);
    onetime_forget(f->c, &f->call, GH_OT_RESET, t);
    assert_int_equal(onetime_peek(f->c, &f->call, GH_OT_RESET, t, &cl), GH_ERR_NOT_FOUND);
    assert_int_equal(onetime_peek(f->c, &f->call, GH_OT_RESET, "garbage", &cl), GH_ERR_NOT_FOUND);
}

static void test_ratelimit(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_hit(f->c, &f->call, "t", "x@example.com", 3, HOUR), 0);
    int64_t wait = ratelimit_hit(f->c, &f->call, "t", "x@example.com", 3, HOUR);
    assert_true(wait > 0 && wait <= HOUR);
    assert_int_equal(ratelimit_hit(f->c, &f->call, "t", "y@example.com", 3, HOUR), 0);
}

/* The kv text under key, into buf ("" when absent). */
static void kv_text(fx *f, const char *key, char *buf, size_t len)
{
    gh_out *out = gh_host_table.out_new();
    const gh_param *v = NULL;
    buf[0] = '\0';
    if (store_kv_get(f->c, &f->call, key, out) == GH_OK &&
        (v = gh_host_table.out_get(out, "value", 0)) && v->len < len) {
        memcpy(buf, v->data, v->len);
        buf[v->len] = '\0';
    }
    gh_host_table.out_free(out);
}

/* With encryption at rest, what kv holds of an address is keyed: a rate
 * limit's key is the blind index, a mailed token's binding too, never the
 * address nor its plain SHA-256, which a guess could be checked against. */
static void test_encrypted_addresses_in_kv(void **state)
{
    fx *f = *state;
    static const uint8_t idx[PII_KEY_LEN] = { 9 }, k1[PII_KEY_LEN] = { 1 };
    gh_pii *p = pii_new(idx);
    char t[GH_SECRET_LEN], digest[GH_DIGEST_LEN], key[128], value[256], plain[GH_DIGEST_LEN];
    gh_ot_claim cl;

    assert_int_equal(pii_add_key(p, "k1", k1), 0);
    pii_install(p);
    assert_int_equal(ratelimit_hit(f->c, &f->call, "t", "ghost@example.com", 3, HOUR), 0);
    snprintf(key, sizeof key, "rl:t:ghost@example.com");
    kv_text(f, key, value, sizeof value);
    assert_string_equal(value, ""); /* not under the address */
    assert_int_equal(onetime_issue(f->c, &f->call, GH_OT_RESET, USER_A, "Al@Example.com", HOUR, t),
                     GH_OK);
    secret_digest(t, digest);
    snprintf(key, sizeof key, "ot:reset:%s", digest);
    kv_text(f, key, value, sizeof value);
    assert_non_null(strstr(value, USER_A));
    secret_digest("al@example.com", plain);
    assert_null(strstr(value, plain));
    assert_int_equal(onetime_peek(f->c, &f->call, GH_OT_RESET, t, &cl), GH_OK);
    assert_true(onetime_address_is(&cl, "al@EXAMPLE.com"));
    assert_false(onetime_address_is(&cl, "other@example.com"));
    pii_install(NULL);
    pii_free(p);
    /* without encryption the binding is the plain digest, as before */
    assert_false(onetime_address_is(&cl, "al@example.com"));
}

/* ---------------------------------------------------------------- the outbox */

static _Atomic int calls, fail_first;
static _Atomic gh_result failure = GH_ERR_UNAVAILABLE;
static char last_to[64], last_text[4096];

static gh_result fake_deliver(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                              gh_out *out)
{
    int n = atomic_fetch_add(&calls, 1);
    for (const gh_param *p = in; p->key; p++) {
        if (strcmp(p->key, "to") == 0)
            snprintf(last_to, sizeof last_to, "%.*s", (int)p->len, (const char *)p->data);
        if (strcmp(p->key, "text") == 0)
            snprintf(last_text, sizeof last_text, "%.*s", (int)p->len, (const char *)p->data);
    }
    if (n < atomic_load(&fail_first))
        return atomic_load(&failure);
    return gh_host_table.put(out, &(gh_param){ "message_id", GH_T_STR, "<id@x>", 6 });
}

static const gh_notify_ops fake_ops = { sizeof(gh_notify_ops), fake_deliver };
static const gh_plugin fake_desc = {
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR,
    .name = "fake", .kind = GH_KIND_NOTIFY, .ops = &fake_ops,
};

static void fake_reset(int fail, gh_result why)
{
    atomic_store(&calls, 0);
    atomic_store(&fail_first, fail);
    atomic_store(&failure, why);
    last_to[0] = last_text[0] = '\0';
}

/* The sender thread set up as the daemon sets it up (main.c: like a
 * worker), so that the rows, the tokens and the plugin's kv work there. */
static int sender_thread_start(void *app, char *err, size_t errlen)
{
    return app_thread_open(app, err, errlen) ? 0 : -1;
}

static void sender_thread_stop(void *app)
{
    app_thread_close(app);
}

/* The live config the sender composes with: the links' settings. */
static gh_config mail_cfg = {
    .mail_frontend_url = "https://app.example/", .mail_product_name = "Acme",
    .mail_verify_path = "verify-email", .mail_reset_path = "reset-password",
    .mail_invite_path = "accept-invitation", .mail_verify_ttl_ms = HOUR,
    .mail_reset_ttl_ms = HOUR, .mail_invite_ttl_ms = HOUR,
};
/* never freed: far more references than any test lets go of */
static gh_cycle mail_cycle = { .refs = 1L << 30, .cfg = &mail_cfg };

static gh_cycle *live_cycle(void)
{
    return cycle_ref(&mail_cycle);
}

/* A mailer as mailer_new builds it, with the shipped templates, but
 * without an outbox: each test starts its own. */
static gh_mailer *test_mailer(void)
{
    static const char *const names[GH_MAIL_KINDS] = { "verify-email", "password-reset",
                                                       "invitation" };
    const char *top = getenv("top_srcdir");
    char dir[4096], err[512];
    gh_mailer *m = calloc(1, sizeof *m);
    assert_non_null(m);
    snprintf(dir, sizeof dir, "%s/etc/templates", top ? top : "..");
    for (int k = 0; k < GH_MAIL_KINDS; k++) {
        if (template_load(&m->tpl[k], dir, names[k], err, sizeof err) != 0)
            fail_msg("%s", err);
    }
    m->cycle = live_cycle;
    return m;
}

static void new_user(fx *f, const char *email, gh_user *u)
{
    memset(u, 0, sizeof *u);
    u->is_active = 1;
    strcpy(u->tenant_id, GH_ROOT_TENANT);
    u->email = strdup(email);
    assert_int_equal(users_create(f->c, &f->call, u, NULL), GH_OK);
}

static int64_t rows(fx *f, const char *status)
{
    return fx_query_int(f, "SELECT COUNT(*) FROM mail_outbox WHERE status = ?", status);
}

/* Until the outbox holds no pending row, for up to two seconds. */
static int drained(fx *f)
{
    for (int i = 0; i < 400 && rows(f, "pending") > 0; i++)
        usleep(5000);
    return rows(f, "pending") == 0;
}

/* A sender under test: the fake plugin (its errors counted as for
 * /metrics), a mailer with the shipped templates, and the outbox while
 * it runs. */
typedef struct sender {
    gh_loaded p;
    gh_mailer *m;
    gh_app app;
    gh_outbox *o;
} sender;

/* s's outbox started on f with oc, the fake's first `fail` deliveries
 * failing with why; s is set up the first time. */
static void start(sender *s, fx *f, const gh_outbox_conf *oc, int fail, gh_result why)
{
    char err[256];
    gh_outbox_thread setup = { sender_thread_start, sender_thread_stop, &s->app };
    if (!s->m) {
        s->p = (gh_loaded){ .name = "fake", .desc = &fake_desc };
        s->m = test_mailer();
    }
    fake_reset(fail, why);
    s->app = (gh_app){ .plugins = f->ps, .store = f->st };
    if (!(s->o = outbox_new(&s->p, oc, &setup, s->m, err, sizeof err)))
        fail_msg("outbox_new: %s", err);
}

/* Its outbox stopped, its thread joined. */
static void stop(sender *s)
{
    outbox_free(s->o);
    s->o = NULL;
}

/* The token in the link of the last message. */
static const char *mailed_token(char out[GH_SECRET_LEN])
{
    const char *t = strstr(last_text, "?token=");
    assert_non_null(t);
    snprintf(out, GH_SECRET_LEN, "%.43s", t + 7);
    return out;
}

/* The claim: a leased row is nobody else's; a settled failure is due
 * again later; a claim that ran out is taken over, and the old owner's
 * settlement then changes nothing. */
static void test_outbox_rows(void **state)
{
    fx *f = *state;
    gh_user u;
    gh_mail_row *r = NULL, *r2 = NULL;
    size_t n = 0;
    int64_t now, pending = 0;
    new_user(f, "rows@example.com", &u);
    assert_int_equal(mail_outbox_add(f->c, &f->call, u.tenant_id, u.id, "verify"), GH_OK);
    now = gh_now_ms(); /* the row is due from when it was written */
    assert_int_equal(mail_outbox_pending(f->c, &f->call, &pending), GH_OK);
    assert_int_equal(pending, 1);
    assert_int_equal(mail_outbox_claim(f->c, &f->call, now, 1000, 4, &r, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].user_id, u.id);
    assert_string_equal(r[0].purpose, "verify");
    assert_int_equal(r[0].attempts, 1);
    assert_int_equal(mail_outbox_claim(f->c, &f->call, now, 1000, 4, &r2, &n), GH_OK);
    assert_int_equal(n, 0); /* leased */
    assert_int_equal(mail_outbox_failed(f->c, &f->call, &r[0], now + 500, "down"), GH_OK);
    assert_int_equal(mail_outbox_claim(f->c, &f->call, now + 100, 1000, 4, &r2, &n), GH_OK);
    assert_int_equal(n, 0); /* not due yet */
    assert_int_equal(mail_outbox_claim(f->c, &f->call, now + 500, 1000, 4, &r2, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r2[0].attempts, 2);
    free(r2);
    /* its lease runs out: another sender takes it over */
    assert_int_equal(mail_outbox_claim(f->c, &f->call, now + 1500, 1000, 4, &r2, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mail_outbox_failed(f->c, &f->call, &r[0], now, "late"), GH_ERR_CONFLICT);
    assert_int_equal(mail_outbox_done(f->c, &f->call, &r[0]), GH_OK); /* not its claim */
    assert_int_equal(rows(f, "pending"), 1);
    assert_int_equal(mail_outbox_failed(f->c, &f->call, &r2[0], 0, "invalid address"), GH_OK);
    assert_int_equal(rows(f, "failed"), 1);
    assert_int_equal(mail_outbox_pending(f->c, &f->call, &pending), GH_OK);
    assert_int_equal(pending, 0);
    free(r);
    free(r2);
    /* a row goes with its account */
    assert_int_equal(mail_outbox_add(f->c, &f->call, u.tenant_id, u.id, "reset"), GH_OK);
    gh_param arg = { NULL, GH_T_STR, u.id, strlen(u.id) };
    assert_int_equal(store_exec(f->c, &f->call, "DELETE FROM users WHERE id = ?", &arg, 1, NULL,
                                NULL, NULL), GH_OK);
    assert_int_equal(rows(f, "pending") + rows(f, "failed"), 0);
    user_clear(&u);
}

/* The housekeeping purge takes the rows that failed for good longer ago
 * than it keeps them, and no other: not a recent failure, not a pending
 * row however old. */
static void test_outbox_purge(void **state)
{
    fx *f = *state;
    gh_user u;
    gh_mail_row *r = NULL;
    size_t n = 0;
    new_user(f, "purge@example.com", &u);
    assert_int_equal(mail_outbox_add(f->c, &f->call, u.tenant_id, u.id, "verify"), GH_OK);
    assert_int_equal(mail_outbox_add(f->c, &f->call, u.tenant_id, u.id, "reset"), GH_OK);
    assert_int_equal(mail_outbox_claim(f->c, &f->call, gh_now_ms(), 1000, 4, &r, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(mail_outbox_failed(f->c, &f->call, &r[0], 0, "invalid address"), GH_OK);
    assert_int_equal(mail_outbox_failed(f->c, &f->call, &r[1], gh_now_ms() + 10 * DAY, "down"),
                     GH_OK);
    free(r);
    clock_advance_ms(2 * DAY);
    assert_int_equal(mail_outbox_add(f->c, &f->call, u.tenant_id, u.id, "invite"), GH_OK);
    assert_int_equal(mail_outbox_claim(f->c, &f->call, gh_now_ms(), 1000, 4, &r, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].purpose, "invite");
    assert_int_equal(mail_outbox_failed(f->c, &f->call, &r[0], 0, "invalid address"), GH_OK);
    free(r);
    assert_int_equal(rows(f, "failed"), 2);
    assert_int_equal(mail_outbox_purge(f->c, &f->call, DAY), 1);
    assert_int_equal(rows(f, "pending"), 1);
    assert_int_equal(fx_query_int(f, "SELECT COUNT(*) FROM mail_outbox WHERE purpose = ?",
                                  "invite"), 1);
    assert_int_equal(mail_outbox_purge(f->c, &f->call, DAY), 0);
    user_clear(&u);
}

/* A row written while the mail server is down is sent once it is back,
 * with a link minted at sending that works; the failures are retried. */
static void test_outbox_retries(void **state)
{
    fx *f = *state;
    gh_outbox_conf oc = { 10, 5, 10, 40, 1000 };
    sender s = { 0 };
    gh_user u;
    gh_ot_claim cl;
    char tok[GH_SECRET_LEN];
    new_user(f, "retry@example.com", &u);
    start(&s, f, &oc, 3, GH_ERR_UNAVAILABLE);
    assert_int_equal(outbox_queue(s.o, f->c, &f->call, u.tenant_id, u.id, "verify"), GH_OK);
    assert_true(drained(f));
    assert_int_equal(atomic_load(&calls), 4); /* three failures, then it goes */
    assert_string_equal(last_to, "retry@example.com");
    /* the link is built with the live config's settings */
    assert_non_null(strstr(last_text, "https://app.example/verify-email?token="));
    assert_non_null(strstr(last_text, "Acme"));
    assert_int_equal(rows(f, "failed"), 0);
    assert_int_equal(onetime_peek(f->c, &f->call, GH_OT_VERIFY, mailed_token(tok), &cl), GH_OK);
    assert_string_equal(cl.user_id, u.id);
    assert_true(outbox_has_room(s.o));
    stop(&s);
    assert_int_equal(s.p.errors, 3); /* counted for /metrics */
    mailer_free(s.m);
    user_clear(&u);
}

/* A message the plugin refuses as invalid is not retried: the row ends
 * failed with the reason. A row for a verified account is not sent. */
static void test_outbox_invalid_and_skipped(void **state)
{
    fx *f = *state;
    gh_outbox_conf oc = { 10, 5, 10, 40, 1000 };
    sender s = { 0 };
    gh_user u, v;
    char why[64];
    new_user(f, "bad@example.com", &u);
    new_user(f, "done@example.com", &v);
    assert_int_equal(users_mark_verified(f->c, &f->call, v.id, gh_now_ms()), GH_OK);
    assert_int_equal(mail_outbox_add(f->c, &f->call, v.tenant_id, v.id, "verify"), GH_OK);
    assert_int_equal(mail_outbox_add(f->c, &f->call, u.tenant_id, u.id, "reset"), GH_OK);
    start(&s, f, &oc, 1000, GH_ERR_INVALID);
    assert_true(drained(f));
    stop(&s);
    assert_int_equal(atomic_load(&calls), 1); /* the verified one was not sent */
    assert_int_equal(rows(f, "failed"), 1);
    assert_non_null(fx_query_text(f, "SELECT last_error FROM mail_outbox WHERE user_id = ?", u.id,
                                  why, sizeof why));
    assert_string_equal(fx_query_text(f, "SELECT purpose FROM mail_outbox WHERE user_id = ?", u.id,
                                      why, sizeof why), "reset");
    assert_int_equal(fx_query_int(f, "SELECT COUNT(*) FROM mail_outbox WHERE user_id = ?", v.id), 0);
    mailer_free(s.m);
    user_clear(&u);
    user_clear(&v);
}

/* Mail owed while no sender runs (the daemon down) is sent by the next
 * one; the bound counts the pending rows. */
static void test_outbox_restart_and_full(void **state)
{
    fx *f = *state;
    gh_outbox_conf oc = { 2, 3, 60000, 60000, 1000 };
    sender s = { 0 };
    gh_user u;
    new_user(f, "later@example.com", &u);
    start(&s, f, &oc, 1000, GH_ERR_UNAVAILABLE);
    assert_int_equal(outbox_room(s.o, f->c, &f->call), GH_OK);
    assert_int_equal(outbox_queue(s.o, f->c, &f->call, u.tenant_id, u.id, "verify"), GH_OK);
    assert_int_equal(outbox_room(s.o, f->c, &f->call), GH_OK);
    assert_int_equal(outbox_queue(s.o, f->c, &f->call, u.tenant_id, u.id, "reset"), GH_OK);
    assert_int_equal(outbox_room(s.o, f->c, &f->call), GH_ERR_UNAVAILABLE); /* two pending */
    assert_false(outbox_has_room(s.o));
    for (int i = 0; i < 400 && atomic_load(&calls) < 2; i++)
        usleep(5000);
    stop(&s); /* both failed once; the next try is a minute away */
    assert_int_equal(atomic_load(&calls), 2);
    assert_int_equal(rows(f, "pending"), 2);
    /* the next start: the rows are due again (as after a minute) */
    assert_int_equal(store_exec(f->c, &f->call, "UPDATE mail_outbox SET next_attempt_at = 0",
                                NULL, 0, NULL, NULL, NULL), GH_OK);
    start(&s, f, &oc, 0, GH_OK);
    assert_true(drained(f));
    stop(&s);
    assert_int_equal(atomic_load(&calls), 2);
    assert_string_equal(last_to, "later@example.com");
    mailer_free(s.m);
    user_clear(&u);
}

static int refuse_start(void *ud, char *err, size_t errlen)
{
    snprintf(err, errlen, "no store today");
    return -1;
}

/* A sender thread that cannot be set up stops start-up, saying why. */
static void test_outbox_setup_fails(void **state)
{
    gh_loaded p = { .name = "fake", .desc = &fake_desc };
    gh_outbox_conf oc = { 2, 1, 10, 10, 1000 };
    gh_outbox_thread setup = { refuse_start, sender_thread_stop, NULL };
    char err[256];
    assert_null(outbox_new(&p, &oc, &setup, NULL, err, sizeof err));
    assert_string_equal(err, "mail: sender thread: no store today");
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_text),
        cmocka_unit_test(test_render_html_escapes),
        cmocka_unit_test(test_render_not_placeholders),
        cmocka_unit_test(test_template_files),
        cmocka_unit_test_setup_teardown(test_onetime_flow, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_onetime_expiry_and_forget, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_addresses_in_kv, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_rows, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_purge, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_retries, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_invalid_and_skipped, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_restart_and_full, fx_setup, fx_teardown),
        cmocka_unit_test(test_outbox_setup_fails),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
