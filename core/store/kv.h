/*
 * kv.h - kv backends, for core/store's own files: a backend is a gh_kv_ops
 * table (what every kv plugin has) plus what one backend may do better than
 * through that table. store_kv_* (kv.c) pick one backend per store and call
 * it; the SQL store's kv table (kv_sql.c) is one backend like any plugin.
 */
#ifndef GH_STORE_KV_H
#define GH_STORE_KV_H

#include "store/store.h"

typedef struct kv_driver {
    const gh_kv_ops *ops;
    /* GH_OK when key1 or key2 is there, in one round trip; NULL: the
     * plugin's get_many where it has one, else two gets */
    gh_result (*any)(const void *inst, void *tinst, gh_call *call, const char *key1,
                     const char *key2);
    /* removes expired keys, returns how many or -1; NULL: the backend
     * expires keys itself */
    int64_t (*purge)(const void *inst, void *tinst, gh_call *call);
} kv_driver;

/* A get from the kv table (parameters: the key, then gh_now_ms()): an
 * expired key is absent. */
#define KV_SQL_GET "SELECT value FROM kv WHERE kv.key = ? AND (expires_at IS NULL OR expires_at > ?)"

/* The kv table of the SQL store; its thread instance is the gh_conn. */
extern const kv_driver kv_sql_driver;

#endif
