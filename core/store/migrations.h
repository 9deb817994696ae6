/*
 * migrations.h - the versioned schema: an append-only list of migrations,
 * each with its SQL for every dialect, applied one transaction each.
 *
 * store_migrate() (store.h) applies the built-in list; the functions here
 * let tests stop at a version or run a list of their own.
 */
#ifndef GH_MIGRATIONS_H
#define GH_MIGRATIONS_H

#include <stddef.h>
#include "store/store.h"

typedef struct gh_migration {
    int version;          /* 1, 2, 3 ... in list order, never renumbered */
    const char *name;     /* short, for logs and schema_migrations.name */
    const char *sqlite;   /* the script for each dialect; NULL: none yet */
    const char *postgres;
    const char *mysql;
} gh_migration;

/* Bring the database to `target` (0 .. n) with list[0 .. target); each entry
 * must have version == its index + 1. Refuses, before changing anything, a
 * list without SQL for the connection's dialect and a database newer than
 * the list. *applied (may be NULL) gets how many ran. 0, or -1 with err. */
int migrations_apply(gh_conn *c, const gh_migration *list, size_t n, int target,
                     int *applied, char *err, size_t errlen);

/* store_migrate() stopped at `target`, for tests of partial upgrades. */
int store_migrate_to(gh_conn *c, int target, int *applied, char *err, size_t errlen);

/* The built-in list (tests append their own entries to a copy of it). */
extern const gh_migration gh_migrations[];
extern const size_t gh_migrations_count;

#endif
