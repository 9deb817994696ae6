/*
 * loader.c - finds, checks and instantiates the plugins the config names.
 *
 * A plugin is `<plugin dir>/<name>.so` exporting gatehouse_plugin_v1. For
 * each configured plugin (storage, then kv, then the `plugins:` list) we open
 * the file, call its entry with the host table, check every field of the
 * descriptor we are about to trust, check the YAML options against the
 * plugin's option list, then allocate and instantiate it. Any refusal is one
 * message naming the plugin and the cause, and unloads everything: start-up
 * either gets every plugin it asked for or none.
 *
 * Per-thread instances live in a thread-local array indexed by the plugin's
 * slot, so finding this thread's instance on an op costs one load, no lock.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ltdl.h>
#include <openssl/crypto.h>

#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "yaml_tree.h"

#ifndef GH_PLUGIN_DIR
#error "GH_PLUGIN_DIR must be defined by the build (see Makefile.am)"
#endif

/* Long enough for a slow backend to answer once, short enough that a hung
 * start-up is noticed. */
#define SETUP_TIMEOUT_MS 30000
#define MAX_NAME_LEN 64

/* The sizes of ABI 1.0's structs. The header may grow; these never change:
 * a descriptor or ops table smaller than this cannot be a 1.x plugin. */
#define SIZE_TO(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#define PLUGIN_SIZE_1_0 SIZE_TO(gh_plugin, ops)
#define PLUGIN_HEAD_SIZE SIZE_TO(gh_plugin, abi_minor)

static const struct kind_info {
    const char *name;
    size_t ops_size_1_0;
} kinds[] = {
    [GH_KIND_STORAGE] = {"storage", SIZE_TO(gh_storage_ops, rollback)},
    [GH_KIND_KV] = {"kv", SIZE_TO(gh_kv_ops, del)},
    [GH_KIND_OAUTH] = {"oauth", SIZE_TO(gh_oauth_ops, exchange)},
    [GH_KIND_MFA] = {"mfa", SIZE_TO(gh_mfa_ops, verify)},
    [GH_KIND_CLOUD] = {"cloud", SIZE_TO(gh_cloud_ops, status)},
    [GH_KIND_NOTIFY] = {"notify", SIZE_TO(gh_notify_ops, deliver)},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* Any kind is welcome in the `plugins:` list. */
#define ANY_KIND 0

/* This thread's per-thread instances, indexed by gh_loaded.slot. */
static _Thread_local void **t_inst;
static _Thread_local size_t t_n;

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *kind_name(uint32_t kind)
{
    return kind > 0 && kind < NKINDS ? kinds[kind].name : "unknown";
}

/* The name becomes part of a path: only [a-z0-9_-], so no config value can
 * point the loader outside the plugin directory. */
static int valid_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > MAX_NAME_LEN)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

const char *plugins_dir(const gh_config *cfg)
{
    const char *env = getenv("GATEHOUSE_PLUGIN_DIR");

    if (cfg->plugin_dir && *cfg->plugin_dir)
        return cfg->plugin_dir;
    if (env && *env)
        return env;
    return GH_PLUGIN_DIR;
}

/* dlerror() usually starts with the file name we already print. */
static const char *dl_reason(const char *msg, const char *path)
{
    size_t n = strlen(path);

    if (!msg)
        return "unknown error";
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg;
}

/*
 * Open path with RTLD_NOW | RTLD_LOCAL semantics. libltdl's dlopen loader
 * binds lazily (RTLD_LAZY) whatever the advice, so a plugin linked against a
 * missing symbol would load fine and crash at its first call, days later.
 * We therefore open it once ourselves with RTLD_NOW: the dynamic linker
 * resolves every symbol now or refuses, naming the missing one. libltdl then
 * finds the object already mapped and relocated and takes its own reference;
 * dropping ours leaves exactly one.
 *
 * RTLD_NODELETE keeps a plugin mapped after it is unloaded: the libraries
 * it brings (libpq -> libssl, the MySQL client) register global state that
 * unmapping them would strand (or, for a plugin reloaded with the same
 * file, start twice). Unloading still detaches and frees every instance.
 */
static lt_dlhandle open_now(const char *name, const char *path, char *err, size_t errlen)
{
    struct stat st;
    lt_dladvise advise;
    lt_dlhandle h = NULL;
    void *probe;

    if (stat(path, &st) != 0) {
        fail(err, errlen, "plugin '%s': cannot load %s: %s", name, path,
             errno == ENOENT ? "file not found" : strerror(errno));
        return NULL;
    }
    probe = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!probe) {
        fail(err, errlen, "plugin '%s': cannot load %s: %s", name, path,
             dl_reason(dlerror(), path));
        return NULL;
    }
    if (lt_dladvise_init(&advise) == 0) {
        if (lt_dladvise_local(&advise) == 0)
            h = lt_dlopenadvise(path, advise);
        lt_dladvise_destroy(&advise);
    }
    if (!h)
        fail(err, errlen, "plugin '%s': cannot load %s: %s", name, path,
             dl_reason(lt_dlerror(), path));
    dlclose(probe);
    return h;
}

/* Everything we read from the descriptor is checked here, once. `want` is
 * the kind the config slot needs, or ANY_KIND. */
static int check_desc(const gh_plugin *d, const char *name, const char *path,
                      uint32_t want, char *err, size_t errlen)
{
    const uint32_t *ops_size;

    if (!d)
        return fail(err, errlen, "plugin '%s': %s() in %s returned no descriptor",
                    name, GH_ENTRY_SYMBOL, path);
    if (d->size < PLUGIN_HEAD_SIZE)
        return fail(err, errlen, "plugin '%s': descriptor in %s is %u bytes, "
                    "too small to be a gatehouse plugin", name, path, d->size);
    if (d->abi_major != GH_ABI_MAJOR)
        return fail(err, errlen, "plugin '%s': built for plugin ABI %u.%u, this "
                    "gatehoused speaks %u.%u (major versions must match)", name,
                    d->abi_major, d->abi_minor, GH_ABI_MAJOR, GH_ABI_MINOR);
    if (d->size < PLUGIN_SIZE_1_0)
        return fail(err, errlen, "plugin '%s': descriptor is %u bytes, ABI 1.0 "
                    "needs at least %zu", name, d->size, (size_t)PLUGIN_SIZE_1_0);
    if (!d->name || strcmp(d->name, name) != 0)
        return fail(err, errlen, "plugin '%s': %s calls itself '%s' (the "
                    "configured name and the plugin's name must match)", name,
                    path, d->name ? d->name : "(null)");
    if (d->kind == 0 || d->kind >= NKINDS)
        return fail(err, errlen, "plugin '%s': unknown kind %u (this gatehoused "
                    "speaks ABI %u.%u)", name, d->kind, GH_ABI_MAJOR, GH_ABI_MINOR);
    if (want != ANY_KIND && d->kind != want)
        return fail(err, errlen, "plugin '%s': %s: needs a %s plugin, not a %s plugin",
                    name, kind_name(want), kind_name(want), kind_name(d->kind));
    /* every ops table starts with its uint32_t size */
    ops_size = d->ops;
    if (!ops_size)
        return fail(err, errlen, "plugin '%s': no ops table", name);
    if (*ops_size < kinds[d->kind].ops_size_1_0)
        return fail(err, errlen, "plugin '%s': %s ops table is %u bytes, ABI 1.0 "
                    "needs at least %zu", name, kind_name(d->kind), *ops_size,
                    kinds[d->kind].ops_size_1_0);
    return 0;
}

/* ------------------------------------------------------------------ options */

static int opt_fail(char *err, size_t errlen, const gh_node *at, const char *plugin,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "file:line:col: plugin 'x': message", or without a position when the
 * config was built by hand (tests). */
static int opt_fail(char *err, size_t errlen, const gh_node *at, const char *plugin,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at && at->file)
        return cfg_error(err, errlen, at, "plugin '%s': %s", plugin, msg);
    return fail(err, errlen, "plugin '%s': %s", plugin, msg);
}

/* The same, pointing at a map member's key rather than its value: where
 * the config's own "unknown key" errors point too. */
static int key_fail(char *err, size_t errlen, const gh_node *n, const char *plugin,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int key_fail(char *err, size_t errlen, const gh_node *n, const char *plugin,
                    const char *fmt, ...)
{
    gh_node at = *n;
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->key_line > 0) {
        at.line = n->key_line;
        at.col = n->key_col;
    }
    return opt_fail(err, errlen, &at, plugin, "%s", msg);
}

static const gh_option *find_option(const gh_option *opts, const char *key, size_t len)
{
    for (const gh_option *o = opts; o && o->key; o++)
        if (strlen(o->key) == len && strncmp(o->key, key, len) == 0)
            return o;
    return NULL;
}

/* The option a YAML key sets: its own name, or `<secret>_file`. */
static const gh_option *option_for_key(const gh_option *opts, const char *key, int *is_file)
{
    const gh_option *o = find_option(opts, key, strlen(key));
    size_t n = strlen(key);

    *is_file = 0;
    if (o)
        return o;
    if (n > 5 && strcmp(key + n - 5, "_file") == 0) {
        o = find_option(opts, key, n - 5);
        if (o && o->type == GH_T_SECRET) {
            *is_file = 1;
            return o;
        }
    }
    return NULL;
}

static void known_options(const gh_option *opts, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (const gh_option *o = opts; o && o->key && used < len; o++) {
        int n = o->type == GH_T_SECRET
                    ? snprintf(buf + used, len - used, "%s%s or %s_file", used ? ", " : "",
                               o->key, o->key)
                    : snprintf(buf + used, len - used, "%s%s", used ? ", " : "", o->key);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!buf[0])
        snprintf(buf, len, "none");
}

static int is_scalar(const gh_node *n)
{
    return n->type == GH_NODE_SCALAR && n->value;
}

static int parse_double(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return *s && !*end && errno == 0 ? 0 : -1;
}

/* Does one YAML value fit its option's type? NULL if it does, else what it
 * should have been. */
static const char *type_mismatch(const gh_option *o, const gh_node *n, int is_file)
{
    int64_t i;
    int b;
    double d;

    if (is_file)
        return is_scalar(n) ? NULL : "a file name";
    switch (o->type) {
    case GH_T_STR:
    case GH_T_SECRET:
        return is_scalar(n) ? NULL : "a string";
    case GH_T_INT:
        return is_scalar(n) && cfg_parse_int(n->value, &i) == 0 ? NULL : "an integer";
    case GH_T_BOOL:
        return is_scalar(n) && cfg_parse_bool(n->value, &b) == 0 ? NULL
               : "true or false";
    case GH_T_DOUBLE:
        return is_scalar(n) && parse_double(n->value, &d) == 0 ? NULL : "a number";
    case GH_T_DURATION:
        return is_scalar(n) && cfg_parse_duration(n->value, &i) == 0 ? NULL
               : "a duration such as 250ms, 30s, 5m, 1h or 7d";
    case GH_T_LIST:
        return n->type == GH_NODE_SEQ ? NULL : "a list";
    case GH_T_MAP:
        return n->type == GH_NODE_MAP ? NULL : "a mapping";
    default:
        return "a type this gatehoused knows (plugin bug)";
    }
}

/* A secret file must be readable now, not at the first login at 3 a.m. */
static int check_secret_file(const gh_node *n, const char *plugin, char *err, size_t errlen)
{
    char why[256];
    char *s = cfg_read_secret_file(n->value, why, sizeof why);

    if (!s)
        return opt_fail(err, errlen, n, plugin, "option '%s': %s", n->key, why);
    OPENSSL_cleanse(s, strlen(s));
    free(s);
    return 0;
}

/* Present with a value: `key: ~` or an empty `key:` counts as not set. */
static int is_set(const gh_node *options, const char *key)
{
    const gh_node *n = cfg_get(options, key);

    return n && !host_cfg_is_null(n);
}

int plugin_check_options(const gh_option *opts, const gh_node *options,
                         const gh_node *where, const char *plugin,
                         char *err, size_t errlen)
{
    char known[256], file_key[MAX_NAME_LEN + 8];

    if (options && options->type != GH_NODE_MAP)
        return opt_fail(err, errlen, options, plugin, "options must be a mapping");

    for (const gh_node *n = options ? options->child : NULL; n; n = n->next) {
        int is_file;
        const gh_option *o = option_for_key(opts, n->key ? n->key : "", &is_file);
        const char *want;

        if (!o) {
            known_options(opts, known, sizeof known);
            return key_fail(err, errlen, n, plugin, "unknown option '%s' (known: %s)",
                            n->key ? n->key : "", known);
        }
        if (host_cfg_is_null(n))
            continue;
        want = type_mismatch(o, n, is_file);
        if (want)
            return opt_fail(err, errlen, n, plugin, "option '%s' must be %s", n->key, want);
        snprintf(file_key, sizeof file_key, "%s_file", o->key);
        if (o->type == GH_T_SECRET && !is_file && is_set(options, file_key))
            return key_fail(err, errlen, n, plugin, "set either '%s' or '%s', not both",
                            o->key, file_key);
        if (is_file && check_secret_file(n, plugin, err, errlen) != 0)
            return -1;
    }

    for (const gh_option *o = opts; o && o->key; o++) {
        snprintf(file_key, sizeof file_key, "%s_file", o->key);
        if (!o->required || is_set(options, o->key) ||
            (o->type == GH_T_SECRET && is_set(options, file_key)))
            continue;
        return opt_fail(err, errlen, options ? options : where, plugin,
                        "missing required option '%s'%s%s%s", o->key,
                        o->help ? " (" : "", o->help ? o->help : "", o->help ? ")" : "");
    }
    return 0;
}

/* ------------------------------------------------------------- option rules */

/* A descriptor's option rules: none for one older than them. */
static const gh_option_rule *desc_rules(const gh_plugin *d)
{
    return d->size >= offsetof(gh_plugin, option_rules) + sizeof d->option_rules
               ? d->option_rules : NULL;
}

/* A number in an option's range: integers and durations (ms) compared as
 * int64, exactly (a double skips integers past 2^53 and would let one just
 * past a bound through), numbers as doubles. */
typedef struct rule_num {
    int64_t i;
    double d;
} rule_num;

static int num_le(const gh_option *o, const rule_num *a, const rule_num *b)
{
    return o->type == GH_T_DOUBLE ? a->d <= b->d : a->i <= b->i;
}

/* A scalar of option o's type as a number, for its range; -1 if it is not one. */
static int rule_number(const gh_option *o, const char *s, rule_num *out)
{
    if (o->type == GH_T_DOUBLE) /* NaN compares false with both ends: it would pass any range */
        return parse_double(s, &out->d) == 0 && !isnan(out->d) ? 0 : -1;
    return o->type == GH_T_INT ? cfg_parse_int(s, &out->i) : cfg_parse_duration(s, &out->i);
}

/* "MIN..MAX" into *lo and *hi (an end left out: the type's extreme). 0 or -1. */
static int rule_range(const gh_option *o, const char *range, rule_num *lo, rule_num *hi)
{
    const char *dots = strstr(range, "..");
    char lo_text[64];

    *lo = (rule_num){INT64_MIN, -HUGE_VAL};
    *hi = (rule_num){INT64_MAX, HUGE_VAL};
    if (!dots || (size_t)(dots - range) >= sizeof lo_text)
        return -1;
    memcpy(lo_text, range, (size_t)(dots - range));
    lo_text[dots - range] = '\0';
    if ((lo_text[0] && rule_number(o, lo_text, lo) != 0) ||
        (dots[2] && rule_number(o, dots + 2, hi) != 0))
        return -1;
    return num_le(o, lo, hi) ? 0 : -1;
}

/* Why value breaks rule (of option o), or NULL when it keeps it; into buf. */
static const char *rule_broken(const gh_option_rule *rule, const gh_option *o, const char *value,
                               char *buf, size_t len)
{
    rule_num v, lo, hi;
    size_t used;

    if (rule->range && (rule_range(o, rule->range, &lo, &hi) != 0 ||
                        rule_number(o, value, &v) != 0 || !num_le(o, &lo, &v) ||
                        !num_le(o, &v, &hi))) {
        const char *dots = strstr(rule->range, "..");
        int lo_len = dots ? (int)(dots - rule->range) : 0;

        if (lo_len && dots[2])
            snprintf(buf, len, "from %.*s to %s", lo_len, rule->range, dots + 2);
        else if (lo_len)
            snprintf(buf, len, "at least %.*s", lo_len, rule->range);
        else
            snprintf(buf, len, "at most %s", dots ? dots + 2 : "?");
        return buf;
    }
    if (!rule->choices)
        return NULL;
    for (const char *const *c = rule->choices; *c; c++)
        if (strcmp(*c, value) == 0)
            return NULL;
    used = (size_t)snprintf(buf, len, "one of ");
    for (const char *const *c = rule->choices; *c && used < len; c++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", c == rule->choices ? "" : ", ",
                                 *c);
    return buf;
}

/* A rule the plugin got wrong: not the admin's to fix, so no position. */
static const char *rule_fault(const gh_plugin *d, const gh_option_rule *rule, const gh_option **o)
{
    rule_num lo, hi;
    gh_node v = { .type = GH_NODE_SCALAR };
    char why[256];

    if (!(*o = find_option(d->options, rule->key, strlen(rule->key))))
        return "names no option of the plugin";
    if (rule->range && (((*o)->type != GH_T_INT && (*o)->type != GH_T_DURATION &&
                         (*o)->type != GH_T_DOUBLE) ||
                        rule_range(*o, rule->range, &lo, &hi) != 0))
        return "has a range its type cannot have, or one that does not read as MIN..MAX";
    if (rule->choices && (*o)->type != GH_T_STR)
        return "has choices, but only a string option can";
    if (!rule->dflt)
        return NULL;
    if ((*o)->required)
        return "gives a default to a required option";
    if ((*o)->type == GH_T_SECRET) /* it would sit in the plugin's binary, for anyone to read */
        return "gives a default to a secret";
    v.value = (char *)rule->dflt;
    if (type_mismatch(*o, &v, 0) || rule_broken(rule, *o, rule->dflt, why, sizeof why))
        return "has a default its own type or rule refuses";
    return NULL;
}

/* The plugin's own mistakes in its rules, before the config is looked at:
 * they are refused whatever the config says, and no config error hides
 * them. */
static int check_rules(const gh_loaded *p, char *err, size_t errlen)
{
    for (const gh_option_rule *rule = desc_rules(p->desc); rule && rule->key; rule++) {
        const gh_option *o;
        const char *fault = rule_fault(p->desc, rule, &o);

        if (fault)
            return fail(err, errlen, "plugin '%s': its option rule for '%s' %s (a bug in the "
                        "plugin: tell its authors)", p->name, rule->key, fault);
    }
    return 0;
}

/* The plugin's own copy of its options, checked against its rules (each
 * sound: check_rules), with their defaults added where the config says
 * nothing (or null). */
static int own_options(gh_loaded *p, const gh_plugin_conf *pc, char *err, size_t errlen)
{
    const gh_option_rule *rules = desc_rules(p->desc);
    char why[512];

    if (!(p->options = cfg_tree_copy(pc->options, pc->where)))
        return fail(err, errlen, "plugin '%s': out of memory", p->name);
    for (const gh_option_rule *rule = rules; rule && rule->key; rule++) {
        const gh_option *o = find_option(p->desc->options, rule->key, strlen(rule->key));
        gh_node *v = (gh_node *)cfg_get(p->options, rule->key);

        if (v && !host_cfg_is_null(v) && is_scalar(v) &&
            rule_broken(rule, o, v->value, why, sizeof why))
            return opt_fail(err, errlen, v, p->name, "option '%s' must be %s", rule->key, why);
        if (!rule->dflt || (v && !host_cfg_is_null(v)))
            continue;
        if (v) { /* `key: ~` is unset: it takes the default, where it stands */
            free(v->value);
            if (!(v->value = strdup(rule->dflt)))
                return fail(err, errlen, "plugin '%s': out of memory", p->name);
            v->quoted = 1;
        } else if (cfg_map_add(p->options, rule->key, rule->dflt, pc->where) != 0) {
            return fail(err, errlen, "plugin '%s': out of memory", p->name);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ loading */

static void unload_one(gh_loaded *p)
{
    if (p->inst && p->desc) { /* an instance exists only for a checked descriptor */
        if (p->desc->detach)
            p->desc->detach(p->inst);
        /* instances hold credentials: do not leave them in freed memory */
        OPENSSL_cleanse(p->inst, p->desc->inst_size);
        free(p->inst);
    }
    if (p->handle)
        lt_dlclose(p->handle);
    cfg_tree_free(p->options);
    free(p->name);
    free(p->file);
    memset(p, 0, sizeof *p);
}

static int instantiate(gh_loaded *p, char *err, size_t errlen)
{
    const gh_plugin *d = p->desc;
    const gh_node *saved;
    gh_call call;
    gh_result r;

    p->inst = calloc(1, d->inst_size ? d->inst_size : 1);
    if (!p->inst)
        return fail(err, errlen, "plugin '%s': out of memory", p->name);
    if (!d->instantiate)
        return 0;
    call_init(&call, p, NULL, SETUP_TIMEOUT_MS);
    saved = host_cfg_scope(p->options);
    r = d->instantiate(p->inst, (const gh_cfg *)p->options, &call);
    host_cfg_scope(saved);
    if (r == GH_OK)
        return 0;
    /* no detach: a failing instantiate releases what it took itself */
    OPENSSL_cleanse(p->inst, d->inst_size);
    free(p->inst);
    p->inst = NULL;
    if (call.message[0]) /* at its file:line:col when it used cfg_fail */
        return opt_fail(err, errlen, call.fail_at, p->name, "%s", call.message);
    return fail(err, errlen, "plugin '%s': instantiate failed (%s)", p->name,
                gh_result_str(r));
}

/* A descriptor's GH_PLUGIN_* flags: none for a 1.0 one, which has no such member. */
static uint32_t desc_flags(const gh_plugin *d)
{
    return d->size >= offsetof(gh_plugin, flags) + sizeof d->flags ? d->flags : 0;
}

/* A plugin loaded as p's before (the same descriptor) must allow several
 * instances: one that did not declare it may keep state in statics. */
static int check_second_instance(const gh_plugins *ps, const gh_loaded *p,
                                 const gh_plugin_conf *pc, char *err, size_t errlen)
{
    const gh_plugin *d = p->desc;
    int multi = (desc_flags(d) & GH_PLUGIN_MULTI_INSTANCE) != 0;

    for (size_t i = 0; i < ps->n && !multi; i++)
        if (ps->v[i].desc == d)
            return opt_fail(err, errlen, pc->where, pc->name,
                            "plugin '%s' is already configured as '%s' and does not allow "
                            "several instances", d->name, ps->v[i].name);
    return 0;
}

/* A plugin that cannot work without outbound HTTP fails here, at start-up
 * (and under -t), rather than at its first request. */
static int check_http(const gh_loaded *p, const gh_plugin_conf *pc, char *err, size_t errlen)
{
    char why[512];

    if (!(desc_flags(p->desc) & GH_PLUGIN_NEEDS_HTTP) || host_http_ready(why, sizeof why) == 0)
        return 0;
    return opt_fail(err, errlen, pc->where, pc->name, "needs outbound HTTP, which is "
                    "unavailable: %s", why);
}

/* Load one configured plugin into ps->v[ps->n]; on failure leave nothing. */
static int load_one(gh_plugins *ps, const char *dir, const gh_plugin_conf *pc,
                    uint32_t want, char *err, size_t errlen)
{
    gh_loaded *p = &ps->v[ps->n];
    const char *plugin = pc->plugin ? pc->plugin : pc->name; /* the file's name */
    char path[PATH_MAX];
    gh_entry_fn entry;
    void *sym;

    if (!valid_name(pc->name) || !valid_name(plugin))
        return opt_fail(err, errlen, pc->where, pc->name,
                        "a plugin name is 1 to %d of a-z, 0-9, _ and -", MAX_NAME_LEN);
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].name, pc->name) == 0)
            return opt_fail(err, errlen, pc->where, pc->name, "configured twice");
    if ((size_t)snprintf(path, sizeof path, "%s/%s.so", dir, plugin) >= sizeof path)
        return fail(err, errlen, "plugin '%s': plugin directory path too long", pc->name);

    memset(p, 0, sizeof *p);
    p->slot = ps->n;
    p->name = strdup(pc->name);
    p->file = strdup(path);
    if (!p->name || !p->file) {
        unload_one(p);
        return fail(err, errlen, "plugin '%s': out of memory", pc->name);
    }
    /* a second instance shares the first one's mapping: the dynamic loader
     * counts the opens, and each unload_one closes one */
    p->handle = open_now(p->name, path, err, errlen);
    if (!p->handle)
        goto fail;
    sym = lt_dlsym(p->handle, GH_ENTRY_SYMBOL);
    if (!sym) {
        fail(err, errlen, "plugin '%s': no symbol %s in %s", p->name, GH_ENTRY_SYMBOL, path);
        goto fail;
    }
    memcpy(&entry, &sym, sizeof entry); /* object to function pointer, as POSIX allows */
    p->desc = entry(&gh_host_table);
    if (check_desc(p->desc, plugin, path, want, err, errlen) != 0 ||
        check_second_instance(ps, p, pc, err, errlen) != 0 ||
        check_http(p, pc, err, errlen) != 0 ||
        check_rules(p, err, errlen) != 0 ||
        plugin_check_options(p->desc->options, pc->options, pc->where, p->name,
                             err, errlen) != 0 ||
        own_options(p, pc, err, errlen) != 0 ||
        instantiate(p, err, errlen) != 0)
        goto fail;

    ps->n++;
    gh_log(GH_LOG_INFO, "plugin '%s' %s (%s, ABI %u.%u) loaded from %s", p->name,
           p->desc->version ? p->desc->version : "?", kind_name(p->desc->kind),
           p->desc->abi_major, p->desc->abi_minor, path);
    return 0;
fail:
    unload_one(p);
    return -1;
}

int plugins_load(gh_plugins *ps, const gh_config *cfg, char *err, size_t errlen)
{
    const char *dir = plugins_dir(cfg);

    memset(ps, 0, sizeof *ps);
    host_set_module_dir(dir); /* gatehouse-http.so lives with the plugins */
    /* sized once, so gh_loaded pointers (storage, kv, calls) never move */
    ps->v = calloc(2 + cfg->n_plugins, sizeof *ps->v);
    if (!ps->v)
        return fail(err, errlen, "plugins: out of memory");
    if (lt_dlinit() != 0) {
        fail(err, errlen, "plugins: cannot initialise libltdl: %s", lt_dlerror());
        free(ps->v);
        ps->v = NULL;
        return -1;
    }

    /* A config always names a storage plugin; hand-built ones (tests) may not. */
    if (cfg->storage.name) {
        if (load_one(ps, dir, &cfg->storage, GH_KIND_STORAGE, err, errlen) != 0)
            goto fail;
        ps->storage = &ps->v[ps->n - 1];
    }
    if (cfg->kv.name) {
        if (load_one(ps, dir, &cfg->kv, GH_KIND_KV, err, errlen) != 0)
            goto fail;
        ps->kv = &ps->v[ps->n - 1];
    }
    for (size_t i = 0; i < cfg->n_plugins; i++)
        if (cfg->plugins[i].name &&
            load_one(ps, dir, &cfg->plugins[i], ANY_KIND, err, errlen) != 0)
            goto fail;
    return 0;
fail:
    plugins_unload(ps);
    return -1;
}

void plugins_unload(gh_plugins *ps)
{
    if (!ps->v)
        return;
    for (size_t i = ps->n; i-- > 0;)
        unload_one(&ps->v[i]);
    free(ps->v);
    lt_dlexit();
    memset(ps, 0, sizeof *ps);
}

gh_loaded *plugins_find(const gh_plugins *ps, gh_kind kind, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].desc->kind == (uint32_t)kind && (!name || strcmp(ps->v[i].name, name) == 0))
            return &ps->v[i];
    return NULL;
}

/* ------------------------------------------------------------- per thread */

/* Undo thread_init for the first n plugins, newest first. */
static void thread_fini_first(const gh_plugins *ps, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        const gh_loaded *p = &ps->v[i];

        if (p->desc->thread_fini)
            p->desc->thread_fini(p->inst, t_inst[i]);
        if (t_inst[i]) {
            OPENSSL_cleanse(t_inst[i], p->desc->thread_size);
            free(t_inst[i]);
        }
    }
    free(t_inst);
    t_inst = NULL;
    t_n = 0;
}

int plugins_thread_init(const gh_plugins *ps, char *err, size_t errlen)
{
    if (t_inst)
        return fail(err, errlen, "plugins: thread already initialised");
    t_inst = calloc(ps->n ? ps->n : 1, sizeof *t_inst);
    if (!t_inst)
        return fail(err, errlen, "plugins: out of memory");
    t_n = ps->n;

    for (size_t i = 0; i < ps->n; i++) {
        const gh_loaded *p = &ps->v[i];
        const gh_plugin *d = p->desc;
        const gh_node *saved;
        gh_call call;
        gh_result r;

        if (d->thread_size && !(t_inst[i] = calloc(1, d->thread_size))) {
            thread_fini_first(ps, i);
            return fail(err, errlen, "plugin '%s': out of memory", p->name);
        }
        if (!d->thread_init)
            continue;
        call_init(&call, p, NULL, SETUP_TIMEOUT_MS);
        saved = host_cfg_scope(p->options);
        r = d->thread_init(p->inst, t_inst[i], &call);
        host_cfg_scope(saved);
        if (r != GH_OK) {
            /* its thread_fini must not see a half-initialised instance */
            if (t_inst[i])
                OPENSSL_cleanse(t_inst[i], d->thread_size);
            free(t_inst[i]);
            t_inst[i] = NULL;
            thread_fini_first(ps, i);
            return fail(err, errlen, "plugin '%s': thread_init: %s", p->name,
                        call.message[0] ? call.message : gh_result_str(r));
        }
    }
    return 0;
}

void plugins_thread_fini(const gh_plugins *ps)
{
    if (t_inst)
        thread_fini_first(ps, t_n < ps->n ? t_n : ps->n);
}

void *plugin_tinst(const gh_loaded *p)
{
    return t_inst && p->slot < t_n ? t_inst[p->slot] : NULL;
}

gh_result call_result(gh_call *call, gh_result r)
{
    const gh_loaded *p = call->plugin;

    /* NOT_FOUND is an answer, not a failure of the plugin */
    if (r == GH_OK || r == GH_ERR_NOT_FOUND || !p)
        return r;
    /* a code newer than this core: the ABI's rule makes it INTERNAL, so no
     * caller has to handle values it cannot know */
    if ((unsigned)r > GH_ERR_UPSTREAM) {
        call_log(call, p->name, GH_LOG_WARNING, "unknown result code %d counts as internal",
                 (int)r);
        r = GH_ERR_INTERNAL;
    }
    /* the counter is the one mutable member of an otherwise read-only gh_loaded */
    atomic_fetch_add_explicit(&((gh_loaded *)p)->errors, 1, memory_order_relaxed);
    call_log(call, p->name, GH_LOG_WARNING, "%s%s%s", gh_result_str(r),
             call->message[0] ? ": " : "", call->message);
    return r;
}
