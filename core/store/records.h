/*
 * records.h - a query's rows read into an array of fixed-size records, one
 * struct per row, for the services whose rows are small structs (OAuth
 * clients, integrations). A service says how to fill one record from a
 * row's columns; reading, growing the array, counting columns and the
 * errors are done once here.
 */
#ifndef GH_STORE_RECORDS_H
#define GH_STORE_RECORDS_H

#include <stddef.h>
#include "store/store.h"

typedef struct record_query {
    const char *sql;
    const gh_param *args;
    size_t nargs;
    size_t size;       /* sizeof one record */
    uint32_t ncols;    /* columns a row must have, at least */
    /* fill one zeroed record from a row's columns */
    void (*fill)(void *rec, const gh_param *cols);
    const char *what;  /* for the log: "clients" */
} record_query;

/* Every row: *out (malloc'd, the caller frees it; NULL when none) and *n.
 * On an error nothing is left to free. */
gh_result store_records(gh_conn *c, gh_call *call, const record_query *q, void **out, size_t *n);
/* The first row into out (q->size bytes); GH_ERR_NOT_FOUND when none. */
gh_result store_record(gh_conn *c, gh_call *call, const record_query *q, void *out);

#endif
