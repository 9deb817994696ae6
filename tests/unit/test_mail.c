/*
 * test_mail.c - the pieces of the mail flows that can be checked without a
 * mail server: the template renderer and its HTML escaping, template
 * files, one-time tokens in kv (on the real SQLite store), and the outbox
 * against a notify plugin defined here (failures, retries, a full queue,
 * the shutdown drain). tests/integration/mail.sh does the rest over SMTP.
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
#include "notify/outbox.h"
#include "notify/template.h"
#include "out.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/store.h"

#define USER_A "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define USER_B "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define HOUR (60 * 60 * 1000LL)

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
static char last_to[64];

static gh_result fake_deliver(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                              gh_out *out)
{
    int n = atomic_fetch_add(&calls, 1);
    for (const gh_param *p = in; p->key; p++)
        if (strcmp(p->key, "to") == 0)
            snprintf(last_to, sizeof last_to, "%.*s", (int)p->len, (const char *)p->data);
    if (n < atomic_load(&fail_first))
        return GH_ERR_UNAVAILABLE;
    return gh_host_table.put(out, &(gh_param){ "message_id", GH_T_STR, "<id@x>", 6 });
}

static const gh_notify_ops fake_ops = { sizeof(gh_notify_ops), fake_deliver };
static const gh_plugin fake_desc = {
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR,
    .name = "fake", .kind = GH_KIND_NOTIFY, .ops = &fake_ops,
};

static int wait_calls(int n)
{
    for (int i = 0; i < 400 && atomic_load(&calls) < n; i++)
        usleep(5000);
    return atomic_load(&calls) >= n;
}

static void test_outbox_retries(void **state)
{
    gh_loaded p = { .name = "fake", .desc = &fake_desc };
    gh_outbox_conf oc = { 2, 5, 10, 40, 1000 };
    char err[256];
    atomic_store(&calls, 0);
    atomic_store(&fail_first, 3);
    gh_outbox *o = outbox_new(&p, &oc, NULL, err, sizeof err);
    assert_non_null(o);
    assert_int_equal(outbox_submit(o, "a@example.com", "S", "text", "<p>html</p>"), 0);
    assert_true(wait_calls(4)); /* three failures, then it goes */
    assert_string_equal(last_to, "a@example.com");
    usleep(20000);
    assert_int_equal(atomic_load(&calls), 4);
    assert_true(outbox_has_room(o));
    outbox_free(o, 1000);
    assert_int_equal(p.errors, 3); /* counted for /metrics */
}

static void test_outbox_full_and_drain(void **state)
{
    gh_loaded p = { .name = "fake", .desc = &fake_desc };
    gh_outbox_conf oc = { 2, 3, 60000, 60000, 1000 };
    char err[256];
    atomic_store(&calls, 0);
    atomic_store(&fail_first, 1000);
    gh_outbox *o = outbox_new(&p, &oc, NULL, err, sizeof err);
    assert_non_null(o);
    assert_int_equal(outbox_submit(o, "a@example.com", NULL, "t", NULL), 0);
    assert_int_equal(outbox_submit(o, "b@example.com", NULL, "t", NULL), 0);
    assert_false(outbox_has_room(o));
    assert_int_equal(outbox_submit(o, "c@example.com", NULL, "t", NULL), -1); /* full */
    assert_true(wait_calls(2)); /* each tried once; the next try is a minute away */
    /* shutdown cannot wait a minute: both are dropped, and it returns now */
    int64_t t0 = gh_monotonic_ms();
    outbox_free(o, 200);
    assert_true(gh_monotonic_ms() - t0 < 1000);
    assert_int_equal(atomic_load(&calls), 2);
}

/* The sender thread set up as the daemon sets it up (main.c: like a
 * worker), so that a notify plugin's deliver can use kv there. */
static int sender_thread_start(void *app, char *err, size_t errlen)
{
    return app_thread_open(app, err, errlen) ? 0 : -1;
}

static void sender_thread_stop(void *app)
{
    app_thread_close(app);
}

static void link_plugin(const char *dir, const char *from_env, const char *name, char *link,
                        size_t len)
{
    const char *from = getenv(from_env);
    char target[4096];
    if (!from)
        fail_msg("set %s", from_env);
    snprintf(target, sizeof target, "%s/%s.so", from, name);
    snprintf(link, len, "%s/%s.so", dir, name);
    assert_int_equal(symlink(target, link), 0);
}

static void test_outbox_plugin_uses_kv(void **state)
{
    char dir[] = "/tmp/gh-mail-XXXXXX", sqlite[4200], echo[4200], yaml[512], err[256];
    assert_non_null(mkdtemp(dir));
    /* one plugin directory for the store's driver and the test plugin */
    link_plugin(dir, "GATEHOUSE_PLUGIN_DIR", "sqlite", sqlite, sizeof sqlite);
    link_plugin(dir, "GATEHOUSE_TEST_PLUGIN_DIR", "echo", echo, sizeof echo);
    snprintf(yaml, sizeof yaml, "paths:\n  plugin_dir: %s\n"
             "plugins:\n  - name: echo\n    options: { greeting: hi, kv_count: true }\n", dir);
    fx *f = fx_open(yaml);
    gh_app app = { .plugins = f->ps, .store = f->st };
    gh_outbox_thread setup = { sender_thread_start, sender_thread_stop, &app };
    gh_outbox_conf oc = { 2, 1, 10, 10, 5000 };
    const gh_loaded *p = plugins_find(&f->ps, GH_KIND_NOTIFY, "echo");
    assert_non_null(p);
    gh_outbox *o = outbox_new(p, &oc, &setup, err, sizeof err);
    if (!o)
        fail_msg("outbox_new: %s", err);
    assert_int_equal(outbox_submit(o, "a@example.com", "S", "text", NULL), 0);
    assert_int_equal(outbox_submit(o, "b@example.com", "S", "text", NULL), 0);
    outbox_free(o, 5000); /* sends both first */
    assert_int_equal(p->errors, 0);
    /* what deliver counted, in its own corner of kv */
    gh_out *out = out_new();
    assert_non_null(out);
    assert_int_equal(store_kv_get(f->c, &f->call, "plugin:echo:delivered", out), GH_OK);
    const gh_param *v = out_get(out, "value", 0);
    assert_non_null(v);
    assert_int_equal(v->len, 1);
    assert_memory_equal(v->data, "2", 1);
    out_free(out);
    fx_close(f);
    unlink(sqlite);
    unlink(echo);
    rmdir(dir);
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
    assert_null(outbox_new(&p, &oc, &setup, err, sizeof err));
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
        cmocka_unit_test(test_outbox_retries),
        cmocka_unit_test(test_outbox_full_and_drain),
        cmocka_unit_test(test_outbox_plugin_uses_kv),
        cmocka_unit_test(test_outbox_setup_fails),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
