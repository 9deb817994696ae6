/*
 * me_cache.h - GET /users/me's answers, kept under the version stamps of
 * the row they were rendered from (api_stamps.row), so that a repeated
 * read on a server database costs no statement, and can be answered on
 * the event loop that received it. A change to the row on any instance
 * renews its stamp after the commit, and a request reads the stamp fresh
 * before it asks here: a changed row is always a miss. Entries live at
 * most ME_CACHE_MAX_AGE_MS, which bounds the one case a stamp cannot
 * cover: a commit whose new stamp kv failed to take.
 *
 * One cache for the process (a worker renders, a loop answers), one lock
 * per slot.
 */
#ifndef GH_API_ME_CACHE_H
#define GH_API_ME_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define ME_CACHE_MAX_AGE_MS 60000

/* The answer cached for user of tenant under stamp, malloc'd, or NULL. */
char *me_cache_get(const char *tenant, const char *user, const char *stamp, size_t *len);
/* Keep text (the answer) for user of tenant under stamp (not ""). */
void me_cache_put(const char *tenant, const char *user, const char *stamp, const char *text,
                  size_t len);
/* Wipes the entries nobody asked for in the last idle_ms (an idle
 * thread's hook): they hold personal data. */
void me_cache_forget(int64_t idle_ms);

#endif
