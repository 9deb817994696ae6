/*
 * kv.c - key-value with TTL: each store_kv_* call goes to the store's one
 * kv backend, the configured kv plugin (Redis) or the built-in kv table of
 * the SQL store (kv_sql.c), through the same gh_kv_ops.
 *
 * What lives here is shared and short-lived: deny-listed token ids, rate
 * limit counters, one-time codes. Counters are kept as decimal text, as
 * Redis keeps them, so a value read back with get looks the same whichever
 * backend is configured.
 *
 * Each op runs between store_kv_ready and store_kv_check: the store's
 * connection policy (store.c) reconnects and backs off for a kv plugin as
 * it does for the SQL driver (the built-in backend gets it through
 * store_exec).
 */
#include "store/kv.h"
#include "out.h"

/* The backend of c's store, with its instance and this thread's. */
typedef struct kv_backend {
    kv_driver drv;
    const gh_loaded *plugin; /* whose ops run; NULL for the built-in one */
    const void *inst;
    void *tinst;
} kv_backend;

static kv_backend backend_of(gh_conn *c)
{
    const gh_loaded *p = store_kv_plugin(c);

    if (p == NULL)
        return (kv_backend){ kv_sql_driver, NULL, NULL, c };
    return (kv_backend){ { p->desc->ops, NULL, NULL }, p, p->inst, plugin_tinst(p) };
}

/* A kv op runs in its backend's name (see store_op_begin). NOT_FOUND and
 * CONFLICT are answers, not failures of the backend: they are not counted
 * as its errors. */
static gh_result kv_end(gh_conn *c, store_op *op, gh_result r)
{
    store_kv_check(c, op->call, r);
    return store_op_end(op, r, r != GH_ERR_NOT_FOUND && r != GH_ERR_CONFLICT);
}

gh_result store_kv_get(gh_conn *c, gh_call *call, const char *key, gh_out *out)
{
    kv_backend b = backend_of(c);
    store_op op;
    gh_result r;

    if (key == NULL)
        return GH_ERR_INVALID;
    call = store_op_begin(&op, call, b.plugin);
    if ((r = store_kv_ready(c, call)) == GH_OK)
        r = b.drv.ops->get(b.inst, b.tinst, call, key, out);
    return kv_end(c, &op, r);
}

/* any through a plugin's get_many: one round trip, not two gets */
static gh_result any_of_many(gh_conn *c, gh_call *call, const char *key1, const char *key2)
{
    const char *keys[2] = { key1, key2 };
    gh_out *out = out_new();
    gh_result r = out ? store_kv_get_many(c, call, keys, 2, out)
                      : call_fail(call, GH_ERR_NOMEM, "kv: out of memory");
    int there = 0;

    for (size_t i = 0; r == GH_OK && i < 2; i++) {
        there |= store_kv_there(out_get(out, "value", i));
    }
    out_free(out);
    return r != GH_OK ? r : there ? GH_OK : GH_ERR_NOT_FOUND;
}

gh_result store_kv_any(gh_conn *c, gh_call *call, const char *key1, const char *key2)
{
    kv_backend b = backend_of(c);
    store_op op;
    gh_result r;

    if (key1 == NULL || key2 == NULL)
        return GH_ERR_INVALID;
    if (b.drv.any == NULL && GH_OPS_HAS(gh_kv_ops, b.drv.ops, get_many))
        return any_of_many(c, call, key1, key2);
    if (b.drv.any == NULL) {
        r = store_kv_get(c, call, key1, NULL);
        return r == GH_ERR_NOT_FOUND ? store_kv_get(c, call, key2, NULL) : r;
    }
    call = store_op_begin(&op, call, b.plugin);
    if ((r = store_kv_ready(c, call)) == GH_OK)
        r = b.drv.any(b.inst, b.tinst, call, key1, key2);
    return kv_end(c, &op, r);
}

/* get_many of a backend without it: one get per key */
static gh_result get_each(gh_conn *c, gh_call *call, const char *const *keys, size_t n,
                          gh_out *out)
{
    static const gh_param absent = { "value", GH_T_NULL, NULL, 0 };
    gh_result r = GH_OK;

    for (size_t i = 0; r == GH_OK && i < n; i++) {
        gh_out *one = out_new();
        const gh_param *v;

        if (one == NULL)
            return call_fail(call, GH_ERR_NOMEM, "kv: out of memory");
        r = store_kv_get(c, call, keys[i], one);
        if (r == GH_ERR_NOT_FOUND)
            r = out_put(out, &absent);
        else if (r == GH_OK)
            r = (v = out_get(one, "value", 0)) != NULL ? out_put(out, v) : out_put(out, &absent);
        out_free(one);
    }
    return r;
}

gh_result store_kv_get_many(gh_conn *c, gh_call *call, const char *const *keys, size_t n,
                            gh_out *out)
{
    kv_backend b = backend_of(c);
    store_op op;
    gh_result r;

    for (size_t i = 0; i < n; i++)
        if (keys[i] == NULL)
            return GH_ERR_INVALID;
    if (!GH_OPS_HAS(gh_kv_ops, b.drv.ops, get_many))
        return get_each(c, call, keys, n, out);
    call = store_op_begin(&op, call, b.plugin);
    if ((r = store_kv_ready(c, call)) == GH_OK)
        r = b.drv.ops->get_many(b.inst, b.tinst, call, keys, n, out);
    return kv_end(c, &op, r);
}

const char *store_kv_sql_value(gh_conn *c)
{
    return store_kv_plugin(c) == NULL ? "(" KV_SQL_GET ")" : NULL;
}

int store_kv_batched(gh_conn *c)
{
    kv_backend b = backend_of(c);
    return b.plugin != NULL && GH_OPS_HAS(gh_kv_ops, b.drv.ops, get_many);
}

int store_kv_async(gh_conn *c)
{
    kv_backend b = backend_of(c);
    return b.plugin != NULL && GH_OPS_HAS(gh_kv_ops, b.drv.ops, get_many_async);
}

/* No store_kv_ready: the plugin keeps the loop's asynchronous connection
 * and its back-off itself; the store's policy is for the synchronous one. */
gh_result store_kv_get_many_async(gh_conn *c, gh_call *call, struct event_base *base,
                                  const char *const *keys, size_t n, gh_kv_many_cb cb,
                                  void *arg)
{
    kv_backend b = backend_of(c);

    for (size_t i = 0; i < n; i++)
        if (keys[i] == NULL)
            return GH_ERR_INVALID;
    if (!store_kv_async(c))
        return GH_ERR_UNSUPPORTED;
    call->plugin = b.plugin;
    return b.drv.ops->get_many_async(b.inst, b.tinst, call, base, keys, n, cb, arg);
}

gh_result store_kv_set(gh_conn *c, gh_call *call, const char *key, const void *val,
                       size_t len, int64_t ttl_ms, uint32_t flags)
{
    kv_backend b = backend_of(c);
    store_op op;
    gh_result r;

    if (key == NULL)
        return GH_ERR_INVALID;
    call = store_op_begin(&op, call, b.plugin);
    if ((r = store_kv_ready(c, call)) == GH_OK)
        r = b.drv.ops->set(b.inst, b.tinst, call, key, val, len, ttl_ms, flags);
    return kv_end(c, &op, r);
}

gh_result store_kv_incr(gh_conn *c, gh_call *call, const char *key, int64_t delta,
                        int64_t ttl_ms, int64_t *result)
{
    kv_backend b = backend_of(c);
    store_op op;
    gh_result r;

    if (key == NULL)
        return GH_ERR_INVALID;
    call = store_op_begin(&op, call, b.plugin);
    if ((r = store_kv_ready(c, call)) == GH_OK)
        r = b.drv.ops->incr(b.inst, b.tinst, call, key, delta, ttl_ms, result);
    return kv_end(c, &op, r);
}

gh_result store_kv_del(gh_conn *c, gh_call *call, const char *key)
{
    kv_backend b = backend_of(c);
    store_op op;
    gh_result r;

    if (key == NULL)
        return GH_ERR_INVALID;
    call = store_op_begin(&op, call, b.plugin);
    if ((r = store_kv_ready(c, call)) == GH_OK)
        r = b.drv.ops->del(b.inst, b.tinst, call, key);
    return kv_end(c, &op, r);
}

int64_t store_kv_purge(gh_conn *c, gh_call *call)
{
    kv_backend b = backend_of(c);
    store_op op;
    int64_t removed;

    if (b.drv.purge == NULL)
        return 0; /* the backend expires keys itself */
    call = store_op_begin(&op, call, b.plugin);
    removed = b.drv.purge(b.inst, b.tinst, call);
    store_op_end(&op, GH_OK, 0);
    return removed;
}
