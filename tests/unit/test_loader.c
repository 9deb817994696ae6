/*
 * test_loader.c - the plugin loader and the host table, against real plugins
 * (tests/plugins/, tests/abi/) built as libtool modules.
 *
 * Configs are real YAML files read by config_load, so option errors carry
 * the positions an admin would see. Plugins come from
 * $GATEHOUSE_TEST_PLUGIN_DIR (tests/plugins/.libs; `make check` sets it).
 * host->http has its own test (test_http.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "asserts.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"

static const gh_host *const h = &gh_host_table;
static const char *plugin_dir;
static char tmp_dir[64];
static int n_files;

/* ------------------------------------------------------------- fixtures */

static char *write_file(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

typedef struct fx {
    gh_config *cfg;
    gh_plugins ps;
    char path[256];
    char err[1024];
} fx;

/* Write yaml (after a paths: block naming the test plugin dir), read it,
 * and load its plugins. with_storage 0 drops the default storage plugin
 * (sqlite), which the test plugin dir does not have. */
static int fx_load(fx *f, int with_storage, const char *yaml)
{
    char text[4096], name[32];
    gh_config c;

    memset(f, 0, sizeof *f);
    snprintf(text, sizeof text, "paths:\n  plugin_dir: %s\n%s", plugin_dir, yaml);
    snprintf(name, sizeof name, "c%d.yaml", n_files++);
    snprintf(f->path, sizeof f->path, "%s", write_file(name, text));
    f->cfg = config_load(f->path, f->err, sizeof f->err);
    if (!f->cfg)
        fail_msg("config_load: %s", f->err);
    c = *f->cfg;
    if (!with_storage)
        c.storage.name = NULL;
    return plugins_load(&f->ps, &c, f->err, sizeof f->err);
}

static void fx_free(fx *f)
{
    plugins_unload(&f->ps);
    config_free(f->cfg);
    f->cfg = NULL;
}

/* Load yaml, expect a refusal containing `want`. */
static void expect_refusal(int with_storage, const char *yaml, const char *want)
{
    fx f;

    if (fx_load(&f, with_storage, yaml) == 0)
        fail_msg("loaded, expected \"%s\"", want);
    assert_contains(f.err, want);
    assert_null(f.ps.v); /* nothing left loaded */
    assert_int_equal(f.ps.n, 0);
    fx_free(&f);
}

/* Run a notify plugin's deliver the way the core does. */
static gh_result deliver(const gh_loaded *p, const gh_param *in, gh_out *out, gh_call *call)
{
    const gh_notify_ops *ops = p->desc->ops;

    call_init(call, p, "req-1", 5000);
    assert_true(GH_OPS_HAS(gh_notify_ops, ops, deliver));
    return call_result(call, ops->deliver(p->inst, plugin_tinst(p), call, in, out));
}

static const char *out_str(const gh_out *out, const char *key, size_t idx)
{
    const gh_param *p = h->out_get(out, key, idx);

    if (!p)
        return NULL;
    assert_true(p->type == GH_T_STR || p->type == GH_T_JSON);
    assert_int_equal(((const char *)p->data)[p->len], '\0');
    return p->data;
}

static int64_t out_int(const gh_out *out, const char *key)
{
    const gh_param *p = h->out_get(out, key, 0);

    assert_non_null(p);
    assert_int_equal(p->type, GH_T_INT);
    return *(const int64_t *)p->data;
}

#define TO(s) {"to", GH_T_STR, (s), sizeof(s) - 1}
#define END {NULL, 0, NULL, 0}

/* ------------------------------------------------------- loading: good */

static const char echo_yaml[] =
    "plugins:\n"
    "  - name: echo\n"
    "    options:\n"
    "      greeting: hello\n"
    "      repeat: 2\n";

typedef struct thread_run {
    const gh_plugins *ps;
    int64_t threads, calls;
    gh_result r;
} thread_run;

static void *other_thread(void *arg)
{
    thread_run *t = arg;
    const gh_loaded *p = plugins_find(t->ps, GH_KIND_NOTIFY, "echo");
    gh_param in[] = {TO("thread"), END};
    char err[256];
    gh_out *out;
    gh_call call;

    if (plugins_thread_init(t->ps, err, sizeof err) != 0)
        return NULL;
    out = h->out_new();
    t->r = deliver(p, in, out, &call);
    if (t->r == GH_OK) {
        t->threads = *(const int64_t *)h->out_get(out, "threads", 0)->data;
        t->calls = *(const int64_t *)h->out_get(out, "calls", 0)->data;
    }
    h->out_free(out);
    plugins_thread_fini(t->ps);
    return NULL;
}

static void test_echo_loads_and_runs(void **state)
{
    gh_param in[] = {TO("world"), END};
    int64_t code = 0;
    gh_param fail_with[] = {{"fail_code", GH_T_INT, &code, sizeof code}, END};
    thread_run t = {0};
    pthread_t th;
    gh_loaded *p;
    gh_call call;
    gh_out *out;
    fx f;

    (void)state;
    if (fx_load(&f, 0, echo_yaml) != 0)
        fail_msg("%s", f.err);
    assert_int_equal(f.ps.n, 1);
    assert_null(f.ps.storage);
    assert_null(f.ps.kv);
    p = plugins_find(&f.ps, GH_KIND_NOTIFY, "echo");
    assert_non_null(p);
    assert_ptr_equal(plugins_find(&f.ps, GH_KIND_NOTIFY, NULL), p);
    assert_null(plugins_find(&f.ps, GH_KIND_OAUTH, NULL));
    assert_string_equal(p->name, "echo");
    assert_contains(p->file, "/echo.so");
    assert_null(plugin_tinst(p)); /* this thread is not initialised yet */

    assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
    assert_non_null(plugin_tinst(p));
    out = h->out_new();
    assert_int_equal(deliver(p, in, out, &call), GH_OK);
    assert_string_equal(out_str(out, "echo", 0), "hello world");
    assert_string_equal(out_str(out, "echo", 1), "hello world"); /* repeat: 2 */
    assert_null(h->out_get(out, "echo", 2));
    assert_int_equal(out_int(out, "threads"), 1);
    assert_int_equal(out_int(out, "calls"), 1);
    assert_null(h->out_get(out, "token", 0));
    h->out_free(out);

    out = h->out_new();
    assert_int_equal(deliver(p, in, out, &call), GH_OK);
    assert_int_equal(out_int(out, "calls"), 2); /* the same per-thread instance */
    h->out_free(out);

    /* another worker: its own per-thread instance, next to ours */
    t.ps = &f.ps;
    assert_int_equal(pthread_create(&th, NULL, other_thread, &t), 0);
    pthread_join(th, NULL);
    assert_int_equal(t.r, GH_OK);
    assert_int_equal(t.threads, 2);
    assert_int_equal(t.calls, 1);

    /* a failing op is counted and its message kept */
    out = h->out_new();
    assert_int_equal(deliver(p, (gh_param[]){{"fail", GH_T_NULL, NULL, 0}, END}, out, &call),
                     GH_ERR_DENIED);
    assert_string_equal(call.message, "asked to fail");
    assert_int_equal(atomic_load(&p->errors), 1);
    h->out_free(out);

    /* a retry-after reported with the code; a code newer than the core
     * counts as internal */
    out = h->out_new();
    code = GH_ERR_RATE_LIMITED;
    assert_int_equal(deliver(p, fail_with, out, &call), GH_ERR_RATE_LIMITED);
    assert_int_equal(call.retry_after_ms, 2500);
    code = GH_ERR_UPSTREAM + 1;
    assert_int_equal(deliver(p, fail_with, out, &call), GH_ERR_INTERNAL);
    assert_string_equal(call.message, "asked to fail with a code");
    assert_int_equal(atomic_load(&p->errors), 3);
    h->out_free(out);

    plugins_thread_fini(&f.ps);
    assert_null(plugin_tinst(p));
    fx_free(&f);
}

static void test_thread_init_twice(void **state)
{
    fx f;

    (void)state;
    assert_int_equal(fx_load(&f, 0, echo_yaml), 0);
    assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
    assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), -1);
    assert_contains(f.err, "already");
    plugins_thread_fini(&f.ps);
    fx_free(&f);
}

static void test_abi10_loads_and_runs(void **state)
{
    gh_param in[] = {TO("you"), END};
    const gh_loaded *p;
    gh_call call;
    gh_out *out;
    fx f;

    (void)state;
    if (fx_load(&f, 0, "plugins:\n"
                       "  - name: abi10\n"
                       "    options: { prefix: hey, limit: 2s, loud: false }\n") != 0)
        fail_msg("%s", f.err);
    p = plugins_find(&f.ps, GH_KIND_NOTIFY, "abi10");
    assert_non_null(p);
    assert_int_equal(p->desc->abi_minor, 0);
    assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
    out = h->out_new();
    assert_int_equal(deliver(p, in, out, &call), GH_OK);
    assert_string_equal(out_str(out, "reply", 0), "hey you");
    assert_string_equal(out_str(out, "json", 0), "{\"to\":\"you\",\"limit\":2000}");
    assert_true(out_int(out, "now") > 1600000000000LL);
    h->out_free(out);
    plugins_thread_fini(&f.ps);
    fx_free(&f);
}

/* Two instances of one plugin, each with its own name and options. */
static void test_two_instances(void **state)
{
    gh_param in[] = {TO("you"), END};
    const gh_loaded *first, *second;
    gh_call call;
    gh_out *out;
    fx f;

    (void)state;
    if (fx_load(&f, 0, "plugins:\n"
                       "  - name: echo\n"
                       "    options: { greeting: hello }\n"
                       "  - name: echo-loud\n"
                       "    plugin: echo\n"
                       "    options: { greeting: HEY }\n") != 0)
        fail_msg("%s", f.err);
    first = plugins_find(&f.ps, GH_KIND_NOTIFY, "echo");
    second = plugins_find(&f.ps, GH_KIND_NOTIFY, "echo-loud");
    assert_non_null(first);
    assert_non_null(second);
    assert_ptr_equal(first->desc, second->desc); /* one .so */
    assert_ptr_not_equal(first->inst, second->inst);
    assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
    out = h->out_new();
    assert_int_equal(deliver(second, in, out, &call), GH_OK);
    assert_string_equal(out_str(out, "echo", 0), "HEY you");
    h->out_free(out);
    /* its log tag, metric label and kv prefix are the instance's name */
    assert_string_equal(second->name, "echo-loud");
    out = h->out_new();
    assert_int_equal(deliver(first, in, out, &call), GH_OK);
    assert_string_equal(out_str(out, "echo", 0), "hello you");
    h->out_free(out);
    plugins_thread_fini(&f.ps);
    fx_free(&f);
}

/* A plugin that does not declare GH_PLUGIN_MULTI_INSTANCE (here a 1.0 one)
 * may keep statics: a second instance is refused where it is configured. */
static void test_second_instance_refused(void **state)
{
    (void)state;
    expect_refusal(0, "plugins:\n"
                      "  - name: abi10\n"
                      "    options: { prefix: hey }\n"
                      "  - name: abi10-again\n"
                      "    plugin: abi10\n"
                      "    options: { prefix: ho }\n",
                   ":6:11: plugin 'abi10-again': plugin 'abi10' is already configured as "
                   "'abi10' and does not allow several instances");
}

/* A plugin built against a later 1.x header: bigger descriptor and ops. */
static void test_newer_minor_loads(void **state)
{
    gh_param in[] = {TO("future"), END};
    const gh_loaded *p;
    gh_call call;
    gh_out *out;
    fx f;

    (void)state;
    setenv("GH_TEST_ECHO", "future", 1);
    if (fx_load(&f, 0, echo_yaml) != 0)
        fail_msg("%s", f.err);
    unsetenv("GH_TEST_ECHO");
    p = f.ps.v;
    assert_true(p->desc->size > sizeof(gh_plugin));
    assert_int_equal(p->desc->abi_minor, GH_ABI_MINOR + 1);
    assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
    out = h->out_new();
    assert_int_equal(deliver(p, in, out, &call), GH_OK);
    assert_string_equal(out_str(out, "echo", 0), "hello future");
    h->out_free(out);
    plugins_thread_fini(&f.ps);
    fx_free(&f);
}

/* Load and unload repeatedly: under LeakSanitizer nothing may remain. */
static void test_reload_cycles(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        fx f;

        if (fx_load(&f, 0, "plugins:\n"
                           "  - name: echo\n"
                           "    options: { greeting: hi }\n"
                           "  - name: abi10\n") != 0)
            fail_msg("%s", f.err);
        assert_int_equal(f.ps.n, 2);
        assert_int_equal(f.ps.v[1].slot, 1);
        assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
        plugins_thread_fini(&f.ps);
        fx_free(&f);
        assert_null(f.ps.v);
    }
}

/* ---------------------------------------------------- loading: refusals */

static void test_missing_file(void **state)
{
    char want[512];

    (void)state;
    snprintf(want, sizeof want, "plugin 'nosuch': cannot load %s/nosuch.so: file not found",
             plugin_dir);
    expect_refusal(0, "plugins:\n  - name: nosuch\n", want);
}

static void test_missing_symbol(void **state)
{
    char want[512];

    (void)state;
    snprintf(want, sizeof want,
             "plugin 'no_entry': no symbol gatehouse_plugin_v1 in %s/no_entry.so", plugin_dir);
    expect_refusal(0, "plugins:\n  - name: no_entry\n", want);
}

/* RTLD_NOW: a plugin with an unresolved symbol is refused at load, not at
 * its first call. */
static void test_unresolved_symbol(void **state)
{
    char path[512];

    (void)state;
    snprintf(path, sizeof path, "%s/undef.so", plugin_dir);
    if (access(path, F_OK) != 0)
        skip();
    expect_refusal(0, "plugins:\n  - name: undef\n", "undefined symbol: gh_test_no_such_function");
}

static void test_abi_major_mismatch(void **state)
{
    (void)state;
    expect_refusal(0, "plugins:\n  - name: abi_major\n",
                   "plugin 'abi_major': built for plugin ABI 2.0, this gatehoused speaks 1.3 "
                   "(major versions must match)");
}

static void test_wrong_kind_for_slot(void **state)
{
    (void)state;
    expect_refusal(1, "storage:\n  plugin: echo\n  options: { greeting: hi }\n",
                   "plugin 'echo': storage: needs a storage plugin, not a notify plugin");
    expect_refusal(0, "kv:\n  plugin: echo\n  options: { greeting: hi }\n",
                   "plugin 'echo': kv: needs a kv plugin, not a notify plugin");
}

/* Each check of the descriptor, through echo's spoiled variants. */
static void test_bad_descriptors(void **state)
{
    static const struct {
        const char *variant, *want;
    } cases[] = {
        {"null", "plugin 'echo': gatehouse_plugin_v1() in"},
        {"small", "plugin 'echo': descriptor is"},
        {"name", "plugin 'echo': "},
        {"kind", "plugin 'echo': unknown kind 42"},
        {"noops", "plugin 'echo': no ops table"},
        {"smallops", "plugin 'echo': notify ops table is 4 bytes"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("GH_TEST_ECHO", cases[i].variant, 1);
        expect_refusal(0, echo_yaml, cases[i].want);
    }
    setenv("GH_TEST_ECHO", "name", 1);
    expect_refusal(0, echo_yaml, "calls itself 'ohce'");
    unsetenv("GH_TEST_ECHO");
}

/* A refusal after a good plugin unloads the good one too (detach runs:
 * LeakSanitizer would see echo's greeting otherwise). */
static void test_failure_unloads_all(void **state)
{
    (void)state;
    expect_refusal(0, "plugins:\n"
                      "  - name: echo\n"
                      "    options: { greeting: hi }\n"
                      "  - name: abi_major\n",
                   "plugin 'abi_major'");
}

static void test_instantiate_failure(void **state)
{
    fx f;

    (void)state;
    expect_refusal(0, "plugins:\n  - name: fail_init\n",
                   "plugin 'fail_init': option 'x' must be 1 to 10, not 0");
    expect_refusal(0, "plugins:\n  - name: fail_init\n    options: { x: 11 }\n",
                   "plugin 'fail_init': option 'x' must be 1 to 10, not 11");
    expect_refusal(0, "plugins:\n  - name: echo\n    options: { greeting: hi, repeat: 0 }\n",
                   ":5:38: plugin 'echo': option 'repeat' must be 1 to 10");
    /* in range: it reads x through cfg_int(NULL, ...), its own options */
    if (fx_load(&f, 0, "plugins:\n  - name: fail_init\n    options: { x: 5 }\n") != 0)
        fail_msg("%s", f.err);
    fx_free(&f);
}

/* ------------------------------------------------------------- options */

/* The error of loading echo with these options lines: at line:col. */
static void expect_option_error(const char *options, int line, int col, const char *want)
{
    char yaml[1024], pos[512];
    fx f;

    snprintf(yaml, sizeof yaml, "plugins:\n  - name: echo\n    options:\n%s", options);
    assert_int_equal(fx_load(&f, 0, yaml), -1);
    snprintf(pos, sizeof pos, "%s:%d:%d: ", f.path, line, col);
    if (strncmp(f.err, pos, strlen(pos)) != 0)
        fail_msg("\"%s\" does not start with \"%s\"", f.err, pos);
    assert_contains(f.err, want);
    fx_free(&f);
}

static void test_option_errors(void **state)
{
    char yaml[1024], *secret;

    (void)state;
    /* lines: 1-2 paths, 3 plugins, 4 name, 5 options, 6... the options.
     * Unknown keys point at the key, bad values at the value. */
    expect_option_error("      greeting: hi\n      colour: blue\n", 7, 7,
                        "plugin 'echo': unknown option 'colour' (known: greeting, repeat, "
                        "token or token_file, kv_count)");
    expect_option_error("      greeting: hi\n      repeat: many\n", 7, 15,
                        "plugin 'echo': option 'repeat' must be an integer");
    expect_option_error("      greeting: [a, b]\n", 6, 17,
                        "plugin 'echo': option 'greeting' must be a string");
    expect_option_error("      repeat: 2\n", 6, 7,
                        "plugin 'echo': missing required option 'greeting' (the word put "
                        "before the recipient)");
    expect_option_error("      greeting: hi\n      token: a\n      token_file: /x\n", 7, 7,
                        "plugin 'echo': set either 'token' or 'token_file', not both");
    expect_option_error("      greeting: hi\n      token_file: /nonexistent/secret\n", 7, 19,
                        "plugin 'echo': option 'token_file': ");
    expect_option_error("      greeting: hi\n      greeting_file: /x\n", 7, 7,
                        "unknown option 'greeting_file'");

    /* no options block at all: the error points at the plugin's name */
    expect_refusal(0, "plugins:\n  - name: echo\n", "plugin 'echo': missing required option");

    /* a null value counts as unset */
    expect_refusal(0, "plugins:\n  - name: echo\n    options: { greeting: ~ }\n",
                   "missing required option 'greeting'");

    /* token_file is read (final newline dropped) */
    secret = write_file("token", "s3cret\n");
    snprintf(yaml, sizeof yaml,
             "plugins:\n  - name: echo\n    options: { greeting: hi, token_file: '%s' }\n",
             secret);
    {
        gh_param in[] = {TO("x"), END};
        gh_call call;
        gh_out *out;
        fx f;

        if (fx_load(&f, 0, yaml) != 0)
            fail_msg("%s", f.err);
        assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
        out = h->out_new();
        assert_int_equal(deliver(f.ps.v, in, out, &call), GH_OK);
        assert_string_equal(out_str(out, "token", 0), "s3cret");
        h->out_free(out);
        plugins_thread_fini(&f.ps);
        fx_free(&f);
    }
}

/* tests/plugins/ruled.c: its options' values as deliver reports them. */
typedef struct ruled_values {
    int64_t port, timeout, retries;
    double ratio;
    char mode[16];
} ruled_values;

static void ruled_load(const char *options, ruled_values *v)
{
    char yaml[512];
    gh_param in[] = {TO("x"), END};
    const gh_param *p;
    gh_call call;
    gh_out *out;
    fx f;

    snprintf(yaml, sizeof yaml, "plugins:\n  - name: ruled\n%s", options);
    if (fx_load(&f, 0, yaml) != 0)
        fail_msg("%s", f.err);
    assert_int_equal(plugins_thread_init(&f.ps, f.err, sizeof f.err), 0);
    out = h->out_new();
    assert_int_equal(deliver(f.ps.v, in, out, &call), GH_OK);
    v->port = out_int(out, "port");
    v->timeout = out_int(out, "timeout");
    v->retries = out_int(out, "retries");
    p = h->out_get(out, "ratio", 0);
    memcpy(&v->ratio, p->data, sizeof v->ratio);
    snprintf(v->mode, sizeof v->mode, "%s", out_str(out, "mode", 0));
    h->out_free(out);
    plugins_thread_fini(&f.ps);
    fx_free(&f);
}

static void expect_rule_error(const char *options, int line, int col, const char *want)
{
    char yaml[512], pos[512];
    fx f;

    snprintf(yaml, sizeof yaml, "plugins:\n  - name: ruled\n    options:\n%s", options);
    assert_int_equal(fx_load(&f, 0, yaml), -1);
    snprintf(pos, sizeof pos, "%s:%d:%d: plugin 'ruled': ", f.path, line, col);
    if (strncmp(f.err, pos, strlen(pos)) != 0)
        fail_msg("\"%s\" does not start with \"%s\"", f.err, pos);
    assert_contains(f.err, want);
    fx_free(&f);
}

/* Option rules (1.1): defaults through the getters, ranges and choices
 * refused at the value, and a plugin's wrong rule refused as its fault. */
static void test_option_rules(void **state)
{
    static const struct {
        const char *variant, *want;
    } faults[] = {
        {"unknown-key", "its option rule for 'colour' names no option of the plugin"},
        {"bad-range", "its option rule for 'port' has a range its type cannot have"},
        {"bad-default", "its option rule for 'port' has a default its own type or rule refuses"},
        {"required-default", "its option rule for 'secret' gives a default to a required option"},
        {"secret-default", "its option rule for 'token' gives a default to a secret"},
        {"choices-on-int", "its option rule for 'port' has choices"},
    };
    ruled_values v;
    fx f;

    (void)state;
    /* no options block at all, an empty one, and nulls: the defaults */
    ruled_load("", &v);
    assert_int_equal(v.port, 8080);
    assert_int_equal(v.timeout, 30000);
    assert_int_equal(v.retries, 2);
    assert_string_equal(v.mode, "safe");
    assert_true(v.ratio == -1); /* no default: the getter's own */
    ruled_load("    options: {}\n", &v);
    assert_int_equal(v.port, 8080);
    ruled_load("    options: { port: ~, mode: }\n", &v);
    assert_int_equal(v.port, 8080);
    assert_string_equal(v.mode, "safe");

    /* written values, the bounds included */
    ruled_load("    options: { port: 1, timeout: 1h, ratio: 0.25, mode: fast, retries: 5 }\n", &v);
    assert_int_equal(v.port, 1);
    assert_int_equal(v.timeout, 3600000);
    assert_true(v.ratio == 0.25);
    assert_string_equal(v.mode, "fast");
    assert_int_equal(v.retries, 5);
    ruled_load("    options: { port: 65535, timeout: 1s, ratio: 1, retries: -3 }\n", &v);
    assert_int_equal(v.port, 65535);
    assert_int_equal(v.timeout, 1000);
    assert_int_equal(v.retries, -3);

    /* outside: refused at the value, saying what is allowed */
    expect_rule_error("      port: 0\n", 6, 13, "option 'port' must be from 1 to 65535");
    expect_rule_error("      label: x\n      port: 65536\n", 7, 13,
                      "option 'port' must be from 1 to 65535");
    expect_rule_error("      timeout: 500ms\n", 6, 16, "option 'timeout' must be from 1s to 1h");
    expect_rule_error("      timeout: 2h\n", 6, 16, "option 'timeout' must be from 1s to 1h");
    expect_rule_error("      ratio: 1.5\n", 6, 14, "option 'ratio' must be from 0 to 1");
    expect_rule_error("      ratio: nan\n", 6, 14, "option 'ratio' must be from 0 to 1");
    expect_rule_error("      big: 9007199254740993\n", 6, 12,
                      "option 'big' must be at most 9007199254740992");
    expect_rule_error("      retries: 6\n", 6, 16, "option 'retries' must be at most 5");
    expect_rule_error("      mode: slow\n", 6, 13, "option 'mode' must be one of fast, safe");

    /* the plugin's own mistakes: its fault, not the config's */
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        int required = strcmp(faults[i].variant, "required-default") == 0;

        setenv("GH_TEST_RULED", faults[i].variant, 1);
        assert_int_equal(fx_load(&f, 0, required ? "plugins:\n  - name: ruled\n    options: "
                                                   "{ secret: s }\n"
                                                 : "plugins:\n  - name: ruled\n"),
                         -1);
        assert_contains(f.err, faults[i].want);
        assert_contains(f.err, "a bug in the plugin");
        assert_null(strstr(f.err, f.path)); /* no position: nothing to fix there */
        fx_free(&f);
    }
    /* and whatever the config says: its own error does not hide the plugin's */
    setenv("GH_TEST_RULED", "bad-range", 1);
    assert_int_equal(fx_load(&f, 0, "plugins:\n  - name: ruled\n    options: { port: 0, x: 1 }\n"),
                     -1);
    assert_contains(f.err, "a bug in the plugin");
    fx_free(&f);
    unsetenv("GH_TEST_RULED");
}

/* Defaults read after instantiate, through each getter: the options are
 * the plugin's own copy, which outlives the config (as after a reload). */
static void test_option_rules_later(void **state)
{
    const gh_loaded *p;
    const gh_cfg *o;
    fx f;

    (void)state;
    if (fx_load(&f, 0, "plugins:\n  - name: ruled\n    options: { port: 443 }\n") != 0)
        fail_msg("%s", f.err);
    config_free(f.cfg);
    f.cfg = NULL;
    p = &f.ps.v[0];
    o = (const gh_cfg *)p->options;
    assert_int_equal(h->cfg_int(o, "port", -1), 443);
    assert_int_equal(h->cfg_int(o, "timeout", -1), 30000);
    assert_int_equal(h->cfg_bool(o, "loud", 0), 1);
    assert_true(h->cfg_double(o, "scale", -1) == 1.5);
    assert_string_equal(h->cfg_str(o, "mode", NULL), "safe");
    assert_string_equal(h->cfg_value(h->cfg_child(o, "mode")), "safe");
    assert_null(h->cfg_child(o, "label")); /* no rule, no default */
    assert_null(host_cfg_scope(p->options));
    assert_int_equal(h->cfg_bool(NULL, "loud", 0), 1);
    host_cfg_scope(NULL);
    fx_free(&f);
}

/* Every option type, straight through plugin_check_options. */
static void test_option_types(void **state)
{
    static const gh_option opts[] = {
        {"b", GH_T_BOOL, 0, NULL},     {"d", GH_T_DOUBLE, 0, NULL},
        {"t", GH_T_DURATION, 0, NULL}, {"l", GH_T_LIST, 0, NULL},
        {"m", GH_T_MAP, 0, NULL},      {"i", GH_T_INT, 0, NULL},
        {"s", GH_T_SECRET, 1, NULL},   {NULL, 0, 0, NULL},
    };
    static const struct {
        const char *yaml, *want; /* want NULL: accepted */
    } cases[] = {
        {"{ s: x, b: true, d: 1.5, t: 30s, l: [1, 2], m: { a: 1 }, i: -3 }", NULL},
        {"{ s: x, b: maybe }", "option 'b' must be true or false"},
        {"{ s: x, d: fast }", "option 'd' must be a number"},
        {"{ s: x, t: soon }", "option 't' must be a duration"},
        {"{ s: x, l: one }", "option 'l' must be a list"},
        {"{ s: x, m: [1] }", "option 'm' must be a mapping"},
        {"{ s: x, i: 1.5 }", "option 'i' must be an integer"},
        {"{ b: true }", "missing required option 's'"},
        {"{ s: ~, s_file: ~ }", "missing required option 's'"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512], err[512] = "";
        int rc;
        fx f;

        snprintf(yaml, sizeof yaml, "plugins:\n  - name: nosuch\n    options: %s\n",
                 cases[i].yaml);
        assert_int_equal(fx_load(&f, 0, yaml), -1); /* the file is missing; fine */
        rc = plugin_check_options(opts, f.cfg->plugins[0].options, f.cfg->plugins[0].where,
                                  "t", err, sizeof err);
        if (cases[i].want) {
            assert_int_equal(rc, -1);
            assert_contains(err, cases[i].want);
            assert_contains(err, "plugin 't': ");
        } else if (rc != 0) {
            fail_msg("case %zu: %s", i, err);
        }
        fx_free(&f);
    }
}

/* ------------------------------------------------------------ host table */

static void test_host_table(void **state)
{
    gh_host small = gh_host_table;

    (void)state;
    assert_int_equal(h->size, sizeof(gh_host));
    assert_int_equal(h->abi_major, GH_ABI_MAJOR);
    assert_int_equal(h->abi_minor, GH_ABI_MINOR);
    /* every member of the table is set */
    for (size_t off = offsetof(gh_host, log); off < sizeof(gh_host); off += sizeof(void (*)(void))) {
        void (*fn)(void);

        memcpy(&fn, (const char *)h + off, sizeof fn);
        assert_non_null(fn);
    }
    assert_true(GH_HAS(h, count));
    assert_true(GH_HAS(h, http));
    assert_true(GH_HAS(h, fail_retry));
    /* an older host: the members past its size are absent */
    small.size = offsetof(gh_host, http);
    assert_true(GH_HAS(&small, kv_del));
    assert_false(GH_HAS(&small, http));
    assert_false(GH_HAS(&small, count));
}

static void test_fail_and_call(void **state)
{
    gh_call call;
    int64_t before = gh_now_ms();

    (void)state;
    call_init(&call, NULL, "req-9", 1500);
    assert_true(call.deadline_ms >= before + 1500 && call.deadline_ms <= gh_now_ms() + 1500);
    assert_int_equal(h->call_deadline_ms(&call), call.deadline_ms);
    assert_string_equal(h->call_request_id(&call), "req-9");
    assert_null(h->call_tenant(&call));
    call.tenant = "acme";
    assert_string_equal(h->call_tenant(&call), "acme");

    assert_int_equal((h->fail)(&call, GH_ERR_CONFLICT, "key %s exists", "k"), GH_ERR_CONFLICT);
    assert_int_equal(call.code, GH_ERR_CONFLICT);
    assert_string_equal(call.message, "key k exists");
    /* wrapping the last message, as plugins do */
    assert_int_equal((h->fail)(&call, GH_ERR_UNAVAILABLE, "kv: %s", call.message),
                     GH_ERR_UNAVAILABLE);
    assert_string_equal(call.message, "kv: key k exists");
    assert_int_equal((h->fail)(NULL, GH_ERR_DENIED, "nobody hears"), GH_ERR_DENIED);
    h->log(&call, GH_LOG_DEBUG, "a debug line from %s", "the test");
    h->log(NULL, 99, "an out-of-range level is clamped to debug");

    /* without a plugin nothing is counted */
    assert_int_equal(call_result(&call, GH_ERR_CONFLICT), GH_ERR_CONFLICT);
    assert_string_equal(gh_result_str(GH_ERR_TIMEOUT), "timeout");
    assert_string_equal(gh_result_str(GH_ERR_RATE_LIMITED), "rate limited by the remote side");
    assert_string_equal(gh_result_str(GH_ERR_UPSTREAM), "the remote side failed");
    /* fail_retry keeps its retry-after; a later fail wrapping it keeps it too */
    assert_int_equal(h->fail_retry(&call, GH_ERR_RATE_LIMITED, 1200, "slow down"),
                     GH_ERR_RATE_LIMITED);
    assert_int_equal(call.retry_after_ms, 1200);
    assert_int_equal((h->fail)(&call, GH_ERR_RATE_LIMITED, "kv: %s", call.message),
                     GH_ERR_RATE_LIMITED);
    assert_int_equal(call.retry_after_ms, 1200);
    assert_string_equal(call.message, "kv: slow down");
    assert_string_equal(gh_result_str((gh_result)99), "unknown error");
}

static void test_out_builder(void **state)
{
    const char text[] = "hello, world";
    const unsigned char bytes[] = {0, 1, 0, 2};
    int64_t i = -42;
    int32_t b = 7;
    double d = 2.5;
    gh_out *out = h->out_new();
    const gh_param *p;

    (void)state;
    assert_non_null(out);
    assert_int_equal(h->put(out, &(gh_param){"s", GH_T_STR, text, 5}), GH_OK); /* a slice */
    assert_int_equal(h->put(out, &(gh_param){"i", GH_T_INT, &i, sizeof i}), GH_OK);
    assert_int_equal(h->put(out, &(gh_param){"b", GH_T_BOOL, &b, sizeof b}), GH_OK);
    assert_int_equal(h->put(out, &(gh_param){"d", GH_T_DOUBLE, &d, sizeof d}), GH_OK);
    assert_int_equal(h->put(out, &(gh_param){"y", GH_T_BYTES, bytes, sizeof bytes}), GH_OK);
    assert_int_equal(h->put(out, &(gh_param){"n", GH_T_NULL, NULL, 0}), GH_OK);
    assert_int_equal(h->put(out, &(gh_param){"s", GH_T_STR, "", 0}), GH_OK);
    assert_int_equal(h->put(out, &(gh_param){"e", GH_T_BYTES, NULL, 0}), GH_OK);
    i = 0, b = 0, d = 0; /* copied, not borrowed */

    assert_string_equal(out_str(out, "s", 0), "hello");
    assert_string_equal(out_str(out, "s", 1), "");
    assert_null(h->out_get(out, "s", 2));
    assert_int_equal(out_int(out, "i"), -42);
    p = h->out_get(out, "b", 0);
    assert_int_equal(p->type, GH_T_BOOL);
    assert_int_equal(*(const int32_t *)p->data, 1);
    p = h->out_get(out, "d", 0);
    assert_true(*(const double *)p->data == 2.5);
    p = h->out_get(out, "y", 0);
    assert_int_equal(p->len, 4);
    assert_memory_equal(p->data, bytes, 4);
    assert_int_equal(h->out_get(out, "n", 0)->type, GH_T_NULL);
    assert_int_equal(h->out_get(out, "e", 0)->len, 0);
    assert_null(h->out_get(out, "missing", 0));
    assert_null(h->out_get(NULL, "s", 0));

    /* malformed puts */
    assert_int_equal(h->put(out, &(gh_param){NULL, GH_T_STR, "x", 1}), GH_ERR_INVALID);
    assert_int_equal(h->put(out, &(gh_param){"i", GH_T_INT, NULL, 8}), GH_ERR_INVALID);
    assert_int_equal(h->put(out, &(gh_param){"s", GH_T_STR, NULL, 3}), GH_ERR_INVALID);
    assert_int_equal(h->put(out, &(gh_param){"x", 99, "x", 1}), GH_ERR_INVALID);
    assert_int_equal(h->put(out, &(gh_param){"x", GH_T_SECRET, "x", 1}), GH_ERR_INVALID);
    assert_int_equal(h->put(NULL, &(gh_param){"x", GH_T_NULL, NULL, 0}), GH_ERR_INVALID);

    /* many puts: the builder grows */
    for (int k = 0; k < 100; k++) {
        int64_t v = k;

        assert_int_equal(h->put(out, &(gh_param){"k", GH_T_INT, &v, sizeof v}), GH_OK);
    }
    assert_int_equal(*(const int64_t *)h->out_get(out, "k", 99)->data, 99);
    h->out_free(out);
    h->out_free(NULL);
}

static void test_json(void **state)
{
    const char doc[] = "{\"a\": 1, \"b\": \"x\", \"c\": [true, null, 2.5], \"d\": {\"e\": \"f\"}}";
    int64_t n = 12;
    int32_t yes = 1;
    double half = 0.5;
    gh_json *j = NULL, *k = NULL;
    const gh_json *c;
    gh_call call;
    char *text, *big;

    (void)state;
    call_init(&call, NULL, NULL, 1000);
    assert_int_equal(h->json_decode(&call, doc, strlen(doc), &j), GH_OK);
    assert_int_equal(h->json_type(j), GH_T_MAP);
    assert_int_equal(h->json_len(j), 4);
    assert_int_equal(h->json_int(h->json_get(j, "a"), -1), 1);
    assert_int_equal(h->json_int(h->json_get(j, "b"), -1), -1);
    assert_string_equal(h->json_str(h->json_get(j, "b")), "x");
    assert_null(h->json_str(h->json_get(j, "a")));
    c = h->json_get(j, "c");
    assert_int_equal(h->json_type(c), GH_T_LIST);
    assert_int_equal(h->json_len(c), 3);
    assert_int_equal(h->json_bool(h->json_at(c, 0), 0), 1);
    assert_int_equal(h->json_type(h->json_at(c, 1)), GH_T_NULL);
    assert_int_equal(h->json_type(h->json_at(c, 2)), GH_T_DOUBLE);
    assert_null(h->json_at(c, 3));
    assert_string_equal(h->json_str(h->json_get(h->json_get(j, "d"), "e")), "f");
    assert_null(h->json_get(j, "zz"));
    assert_null(h->json_get(c, "a")); /* not an object */
    assert_int_equal(h->json_type(NULL), GH_T_NULL);
    assert_int_equal(h->json_bool(NULL, 7), 7);
    h->json_free(j);
    h->json_free(NULL);

    /* refusals */
    assert_int_equal(h->json_decode(&call, "{\"a\":", 5, &j), GH_ERR_INVALID);
    assert_null(j);
    assert_contains(call.message, "json_decode: line 1");
    assert_int_equal(h->json_decode(&call, "{\"a\":1,\"a\":2}", 13, &j), GH_ERR_INVALID);
    big = calloc(1, (1u << 20) + 2);
    memset(big, ' ', (1u << 20) + 1);
    big[0] = '1';
    assert_int_equal(h->json_decode(&call, big, (1u << 20) + 1, &j), GH_ERR_INVALID);
    assert_contains(call.message, "over 1 MiB");
    free(big);

    /* encode every type, embed JSON, then read it back */
    text = h->json_encode(&call, (const gh_param[]){
        {"s", GH_T_STR, "h\xc3\xa9 \"q\"", 7},
        {"i", GH_T_INT, &n, sizeof n},
        {"b", GH_T_BOOL, &yes, sizeof yes},
        {"d", GH_T_DOUBLE, &half, sizeof half},
        {"n", GH_T_NULL, NULL, 0},
        {"j", GH_T_JSON, "[1,{\"x\":2}]", 11},
        END,
    });
    assert_non_null(text);
    assert_string_equal(text, "{\"s\":\"h\xc3\xa9 \\\"q\\\"\",\"i\":12,\"b\":true,\"d\":0.5,"
                              "\"n\":null,\"j\":[1,{\"x\":2}]}");
    assert_int_equal(h->json_decode(&call, text, strlen(text), &k), GH_OK);
    assert_int_equal(h->json_int(h->json_get(h->json_at(h->json_get(k, "j"), 1), "x"), 0), 2);
    h->json_free(k);
    h->free(text);

    text = h->json_encode(&call, (const gh_param[]){END});
    assert_string_equal(text, "{}");
    h->free(text);

    assert_null(h->json_encode(&call, (const gh_param[]){{"y", GH_T_BYTES, "ab", 2}, END}));
    assert_int_equal(call.code, GH_ERR_INVALID);
    assert_contains(call.message, "field 'y' is BYTES");
    assert_null(h->json_encode(&call, (const gh_param[]){{"s", GH_T_STR, "\xff", 1}, END}));
    assert_contains(call.message, "not UTF-8");
    assert_null(h->json_encode(&call, (const gh_param[]){{"j", GH_T_JSON, "{", 1}, END}));
    assert_contains(call.message, "is not JSON");
}

static void test_random(void **state)
{
    unsigned char a[32], b[32], zero[32] = {0};

    (void)state;
    assert_int_equal(h->random(a, sizeof a), GH_OK);
    assert_int_equal(h->random(b, sizeof b), GH_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(h->random(NULL, 0), GH_OK);
    assert_int_equal(h->random(NULL, 1), GH_ERR_INVALID);
}

static void test_memory(void **state)
{
    char *p = h->alloc(0);

    (void)state;
    assert_non_null(p);
    h->free(p);
    p = h->alloc(16);
    memset(p, 'x', 16);
    h->wipe(p, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(p[i], 0);
    h->wipe(NULL, 16);
    h->free(p);
    assert_true(h->now_ms() >= gh_now_ms() - 1000);
}

typedef struct seen {
    uint64_t delivered, other;
    int bad;
} seen;

static void visit(void *ud, const char *plugin, const char *event, uint64_t n)
{
    seen *s = ud;

    if (strcmp(plugin, "counter") != 0)
        return;
    if (strcmp(event, "delivered") == 0)
        s->delivered = n;
    else if (strcmp(event, "other_1") == 0)
        s->other = n;
    else
        s->bad = 1;
}

static void test_count(void **state)
{
    gh_loaded fake = {.name = "counter"};
    seen s = {0};
    gh_call call;

    (void)state;
    call_init(&call, &fake, NULL, 1000);
    h->count(&call, "delivered", 2);
    h->count(&call, "delivered", 3);
    h->count(&call, "other_1", 1);
    h->count(&call, "Bad-Name", 1);
    h->count(&call, "", 1);
    h->count(&call, "a_name_that_is_far_too_long_to_be_ok", 1);
    h->count(&call, NULL, 1);
    h->count(NULL, "orphan", 1);
    host_events_foreach(visit, &s);
    assert_int_equal(s.delivered, 5);
    assert_int_equal(s.other, 1);
    assert_false(s.bad);
}

static void test_cfg_getters(void **state)
{
    const gh_cfg *o, *list, *map;
    char *secret, yaml[1024];
    fx f;

    (void)state;
    secret = write_file("pw", "hunter2\n");
    snprintf(yaml, sizeof yaml,
             "plugins:\n"
             "  - name: nosuch\n"
             "    options:\n"
             "      s: text\n"
             "      i: 42\n"
             "      t: 5m\n"
             "      b: yes\n"
             "      d: 0.25\n"
             "      l: [a, b, c]\n"
             "      m: { k: v }\n"
             "      n: ~\n"
             "      q: \"\"\n"
             "      key: inline\n"
             "      pw_file: '%s'\n",
             secret);
    assert_int_equal(fx_load(&f, 0, yaml), -1);
    o = (const gh_cfg *)f.cfg->plugins[0].options;
    assert_string_equal(h->cfg_str(o, "s", NULL), "text");
    assert_string_equal(h->cfg_str(o, "missing", "dflt"), "dflt");
    assert_string_equal(h->cfg_str(o, "n", "dflt"), "dflt"); /* null: unset */
    assert_string_equal(h->cfg_str(o, "q", "dflt"), "");      /* quoted: a string */
    assert_null(h->cfg_str(o, "l", NULL));                     /* not a scalar */
    assert_int_equal(h->cfg_int(o, "i", 0), 42);
    assert_int_equal(h->cfg_int(o, "t", 0), 300000);
    assert_int_equal(h->cfg_int(o, "s", -1), -1);
    assert_int_equal(h->cfg_bool(o, "b", 0), 1);
    assert_int_equal(h->cfg_bool(o, "s", 7), 7);
    assert_true(h->cfg_double(o, "d", 0) == 0.25);
    assert_true(h->cfg_double(o, "s", 1.5) == 1.5);

    list = h->cfg_child(o, "l");
    assert_int_equal(h->cfg_len(list), 3);
    assert_string_equal(h->cfg_value(h->cfg_at(list, 2)), "c");
    assert_null(h->cfg_at(list, 3));
    map = h->cfg_child(o, "m");
    assert_string_equal(h->cfg_str(map, "k", NULL), "v");
    assert_null(h->cfg_child(o, "missing"));
    assert_null(h->cfg_value(map));

    secret = h->cfg_secret(o, "key");
    assert_string_equal(secret, "inline");
    h->wipe(secret, strlen(secret));
    h->free(secret);
    secret = h->cfg_secret(o, "pw");
    assert_string_equal(secret, "hunter2");
    h->free(secret);
    assert_null(h->cfg_secret(o, "nothing"));

    /* NULL: the options of the plugin being set up on this thread */
    assert_null(h->cfg_str(NULL, "s", NULL));
    assert_null(host_cfg_scope((const gh_node *)o));
    assert_string_equal(h->cfg_str(NULL, "s", NULL), "text");
    assert_int_equal(h->cfg_len(NULL), 11);
    assert_ptr_equal(host_cfg_scope(NULL), o);
    assert_int_equal(h->cfg_len(NULL), 0);
    fx_free(&f);
}

static void test_kv_outside_worker(void **state)
{
    gh_loaded fake = {.name = "kvuser"};
    char key[600];
    int64_t n;
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, &fake, NULL, 1000);
    assert_int_equal(h->kv_get(&call, "k", out), GH_ERR_UNAVAILABLE);
    assert_string_equal(call.message, "kv used outside a worker thread");
    assert_int_equal(h->kv_set(&call, "k", "v", 1, 0, 0), GH_ERR_UNAVAILABLE);
    assert_int_equal(h->kv_incr(&call, "k", 1, 0, &n), GH_ERR_UNAVAILABLE);
    assert_int_equal(h->kv_del(&call, "k"), GH_ERR_UNAVAILABLE);
    assert_int_equal(h->kv_get(&call, "", out), GH_ERR_INVALID);
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_int_equal(h->kv_del(&call, key), GH_ERR_INVALID);
    assert_contains(call.message, "longer than");
    h->out_free(out);
}

/* ----------------------------------------------------------------- main */

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/gh-test-loader-XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    char path[300];

    (void)state;
    for (int i = 0; i < n_files; i++) {
        snprintf(path, sizeof path, "%s/c%d.yaml", tmp_dir, i);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/token", tmp_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/pw", tmp_dir);
    unlink(path);
    rmdir(tmp_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_loads_and_runs),
        cmocka_unit_test(test_thread_init_twice),
        cmocka_unit_test(test_abi10_loads_and_runs),
        cmocka_unit_test(test_newer_minor_loads),
        cmocka_unit_test(test_reload_cycles),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_missing_symbol),
        cmocka_unit_test(test_unresolved_symbol),
        cmocka_unit_test(test_abi_major_mismatch),
        cmocka_unit_test(test_wrong_kind_for_slot),
        cmocka_unit_test(test_bad_descriptors),
        cmocka_unit_test(test_failure_unloads_all),
        cmocka_unit_test(test_instantiate_failure),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_option_types),
        cmocka_unit_test(test_option_rules),
        cmocka_unit_test(test_option_rules_later),
        cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_second_instance_refused),
        cmocka_unit_test(test_host_table),
        cmocka_unit_test(test_fail_and_call),
        cmocka_unit_test(test_out_builder),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_cfg_getters),
        cmocka_unit_test(test_kv_outside_worker),
    };
    gh_log_conf quiet = {.level = GH_LOG_ERROR};
    int failed;

    plugin_dir = getenv("GATEHOUSE_TEST_PLUGIN_DIR");
    if (!plugin_dir || !*plugin_dir) {
        fprintf(stderr, "test_loader: set GATEHOUSE_TEST_PLUGIN_DIR (tests/plugins/.libs)\n");
        return 1;
    }
    unsetenv("GH_TEST_ECHO");
    log_configure(&quiet);
    failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    host_global_cleanup();
    return failed;
}
