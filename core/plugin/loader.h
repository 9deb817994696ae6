/*
 * loader.h - finds, checks and instantiates the plugins the config names.
 *
 * Each plugin is a libtool module `<name>.so` in the plugin directory that
 * exports gatehouse_plugin_v1 (GH_ENTRY_SYMBOL). The loader refuses, with one
 * message naming the plugin and the cause: a missing file, a missing symbol,
 * an ABI major other than ours, a kind other than the one its config slot
 * needs, options that fail the plugin's option list (file:line:col), or an
 * instantiate() that fails.
 */
#ifndef GH_LOADER_H
#define GH_LOADER_H

#include <stdatomic.h>
#include <stddef.h>
#include <gatehouse/plugin.h>
#include "call.h"
#include "config.h"

typedef struct gh_loaded {
    char *name;               /* as configured */
    char *file;               /* the path it was loaded from */
    const gh_plugin *desc;
    void *inst;               /* desc->inst_size bytes, zeroed, ours */
    void *handle;             /* lt_dlhandle */
    gh_node *options;         /* its options: a copy of the config's that it
                                 owns (a reload frees the config), with the
                                 defaults of its option rules added */
    size_t slot;              /* index into each thread's instance array */
    _Atomic uint64_t errors;  /* non-OK results of its ops, for /metrics */
} gh_loaded;

typedef struct gh_plugins {
    gh_loaded *v;
    size_t n;
    gh_loaded *storage;       /* the SQL driver (always set once loaded) */
    gh_loaded *kv;            /* the kv plugin, or NULL: kv served by SQL */
} gh_plugins;

/* Load config's storage, kv and plugins entries, in that order. The plugin
 * directory is cfg->plugin_dir, else $GATEHOUSE_PLUGIN_DIR, else the
 * compiled-in GH_PLUGIN_DIR. Returns 0, or -1 with err set (and nothing
 * left loaded). */
int plugins_load(gh_plugins *ps, const gh_config *cfg, char *err, size_t errlen);
/* That plugin directory. */
const char *plugins_dir(const gh_config *cfg);
void plugins_unload(gh_plugins *ps);

/* The first loaded plugin of a kind with that name (name NULL: any). */
gh_loaded *plugins_find(const gh_plugins *ps, gh_kind kind, const char *name);

/* Per-thread instances: call on each worker thread (and on the main thread
 * around start-up work such as migrations). Returns 0 or -1 with err set. */
int plugins_thread_init(const gh_plugins *ps, char *err, size_t errlen);
void plugins_thread_fini(const gh_plugins *ps);
/* This thread's instance of p (NULL if the thread was not initialised). */
void *plugin_tinst(const gh_loaded *p);

/* The end of an op of call->plugin: a failure is counted for /metrics and
 * logged with call->message, in the plugin's name. Returns r. */
gh_result call_result(gh_call *call, gh_result r);

/* Check an options subtree against an option list (exposed for tests). */
int plugin_check_options(const gh_option *opts, const gh_node *options,
                         const gh_node *where, const char *plugin,
                         char *err, size_t errlen);

#endif
