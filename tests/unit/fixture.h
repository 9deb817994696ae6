/*
 * fixture.h - the store a unit test stands on, built the way the daemon
 * builds it: YAML text read by the real config loader (core/config.c), the
 * plugins it names loaded by the real loader, a store opened on this
 * thread and migrated.
 *
 * The YAML names the backend. Without a top-level `storage:` block the
 * fixture adds one: SQLite on a fresh file (fx->db) in the current
 * directory, busy_timeout 2s. Tests that run per backend pass their own
 * block (fx_block() writes one from key, value pairs). The plugin
 * directory is $GATEHOUSE_PLUGIN_DIR, as make check sets it.
 *
 * fx_open() and fx_open_raw() fail the test (fail_msg) when any step
 * fails; fx_load(), fx_connect() and fx_migrate() report instead, for the
 * tests of those failures. fx_close() undoes whatever was done.
 */
#ifndef GH_TEST_FIXTURE_H
#define GH_TEST_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/store.h"

typedef struct fx {
    gh_config *cfg;     /* as config_load read it */
    gh_plugins ps;
    gh_store *st;
    gh_conn *c;         /* this thread's connection */
    gh_call call;       /* "test", 10s, unless fx_connect said otherwise */
    char db[64];        /* the default SQLite file; "" with a storage block */
    char url[512];      /* a server database's URL, when a test made one */
    int loaded, threaded;
} fx;

/* Read yaml (NULL: "") and load its plugins. NULL with err set on error. */
fx *fx_load(const char *yaml, char *err, size_t errlen);
/* Connect the loaded plugins on this thread and open the store on them,
 * with a call named who that may take ms. 0, or -1 with err set. */
int fx_connect(fx *f, const char *who, int64_t ms, char *err, size_t errlen);
/* Migrate to the latest version. 0, or -1 with err set. */
int fx_migrate(fx *f, int *applied, char *err, size_t errlen);

/* fx_load + fx_connect ("test", 10s): the schema is left to the test. */
fx *fx_open_raw(const char *yaml);
/* fx_open_raw + fx_migrate, checking that every migration applied. */
fx *fx_open(const char *yaml);
/* Close, unload and free what f holds; NULL is fine. */
void fx_close(fx *f);

/* cmocka callbacks: *state is fx_open(NULL) / fx_open_raw(NULL); teardown
 * closes it. The group callbacks check GATEHOUSE_PLUGIN_DIR, quieten the
 * log (expected failures warn) and run the group in a temporary directory,
 * emptied and removed at the end. */
int fx_setup(void **state);
int fx_setup_raw(void **state);
int fx_teardown(void **state);
int fx_group_setup(void **state);
int fx_group_teardown(void **state);

/* The integer a one-column query returns, with one text argument or none
 * (-1: NULL, -2: no row); the text one, "(null)" or "(no row)", in buf. */
int64_t fx_query_int(fx *f, const char *sql, const char *arg);
const char *fx_query_text(fx *f, const char *sql, const char *arg, char *buf, size_t len);

/* Append a `section:` block naming plugin, with the options given as key,
 * value, ..., NULL (none: no options map) to out (len bytes, holding a
 * string). Values are written so the loader reads them back verbatim.
 * 0, or -1 when it does not fit. */
int fx_block(char *out, size_t len, const char *section, const char *plugin, ...);
int fx_block_v(char *out, size_t len, const char *section, const char *plugin, va_list ap);

#endif
