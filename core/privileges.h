/*
 * privileges.h - leaving root for server.user after the listening sockets
 * are bound, so a port below 1024 works and nothing else runs as root.
 */
#ifndef GH_PRIVILEGES_H
#define GH_PRIVILEGES_H

#include <stddef.h>
#include <sys/types.h>

typedef struct gh_account {
    uid_t uid;
    gid_t gid;
    char name[64];
} gh_account;

/* Resolve user (a name or a number) and group (NULL: the user's primary
 * group). 0, or -1 with err set. */
int privileges_lookup(const char *user, const char *group, gh_account *out, char *err,
                      size_t errlen);

/* Become a for good: its supplementary groups, gid, then uid, and check
 * that root cannot be had back. Not root: succeeds only if the process
 * already is a. 0, or -1 with err set. Call before any thread starts. */
int privileges_drop(const gh_account *a, char *err, size_t errlen);

/* What gatehoused and gatehousectl do before they touch the state: with
 * user set (server.user), become that account, after making state_dir
 * (when make is set) and what it creates of its path theirs; without,
 * only make it. mkdir -p with 0700, and a umask of 077 for every file
 * made from now on: the state holds keys and data.
 * 1 if it became user, 0 if not, -1 with err set. */
int privileges_enter(const char *user, const char *group, const char *state_dir, int make,
                     gh_account *who, char *err, size_t errlen);

#endif
