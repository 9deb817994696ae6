/*
 * sessions.h - login sessions and their refresh tokens.
 *
 * A session is one login on one device. Its refresh tokens are opaque
 * secrets stored only as SHA-256 digests, one row each, and rotated on
 * every use: presenting a token that was already used means it leaked, so
 * the whole session is revoked and the event reported (GH_REFRESH_REUSED).
 * Revoking a session also deny-lists it in kv for the life of an access
 * token, so access tokens of that session stop at once on every instance.
 */
#ifndef GH_SESSIONS_H
#define GH_SESSIONS_H

#include <stddef.h>
#include <stdint.h>
#include "auth/tokens.h"
#include "store/store.h"

typedef struct gh_session {
    char id[37];
    char user_id[37];
    char tenant_id[37];
    char user_agent[256];
    char ip[64];
    int64_t created_at, last_used_at, expires_at, revoked_at; /* ms, 0: none */
} gh_session;

/* The longest access-token life the config allows: deny-list entries
 * written without a known access TTL (account erasure) last this long. */
#define GH_ACCESS_TTL_MAX_MS (24 * 60 * 60 * 1000LL)
/* session_list returns at most this many (the newest) */
#define GH_SESSION_LIST_MAX 500

typedef enum gh_refresh_outcome {
    GH_REFRESH_OK = 0,
    GH_REFRESH_UNKNOWN,   /* no such token */
    GH_REFRESH_REUSED,    /* already rotated: the session is now revoked */
    GH_REFRESH_EXPIRED,
    GH_REFRESH_REVOKED
} gh_refresh_outcome;

/* New session with its first refresh token (into refresh). */
gh_result session_create(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                         const char *user_agent, const char *ip, int64_t ttl_ms,
                         gh_session *out, char refresh[GH_SECRET_LEN]);

/* Rotate: on GH_REFRESH_OK fills out and new_refresh. deny_ttl_ms is how
 * long to deny-list a session revoked for reuse (the access-token life).
 * A session unused (not refreshed, not signed in) for idle_ms is EXPIRED
 * as if its life had ended; 0: no idle limit.
 * For REUSED, EXPIRED and REVOKED, out is filled too (the session the token
 * belonged to, for the audit record); for UNKNOWN it is zeroed. Two
 * concurrent refreshes with one token: one gets OK, the other REUSED. */
gh_result session_refresh(gh_conn *c, gh_call *call, const char *refresh, const char *user_agent,
                          const char *ip, int64_t deny_ttl_ms, int64_t idle_ms,
                          gh_session *out, char new_refresh[GH_SECRET_LEN],
                          gh_refresh_outcome *outcome);

/* The live session a refresh token belongs to (introspection, revocation). */
gh_result session_by_refresh(gh_conn *c, gh_call *call, const char *refresh, gh_session *out);
gh_result session_get(gh_conn *c, gh_call *call, const char *id, gh_session *out);

/* Revoke one session (user_id NULL: any user's); GH_ERR_NOT_FOUND if it is
 * not that user's live session. */
gh_result session_revoke(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                         const char *reason, int64_t deny_ttl_ms);
/* Revoke all of a user's live sessions but `except` (may be NULL), and
 * those that ended less than deny_ttl_ms ago (their access tokens may
 * still live); *count (may be NULL) gets how many. One transaction. */
gh_result session_revoke_all(gh_conn *c, gh_call *call, const char *user_id, const char *except,
                             const char *reason, int64_t deny_ttl_ms, int64_t *count);
/* The same for every user of a company (a deactivated one). */
gh_result session_revoke_tenant(gh_conn *c, gh_call *call, const char *tenant_id,
                                const char *reason, int64_t deny_ttl_ms, int64_t *count);
/* Live sessions of a user, newest first, at most GH_SESSION_LIST_MAX;
 * *out malloc'd (NULL for none). */
gh_result session_list(gh_conn *c, gh_call *call, const char *user_id, gh_session **out, size_t *n);
/* Live sessions of a company (of one of its users, user_id not NULL),
 * newest first, a page of limit from offset; *total all of them. */
gh_result session_list_tenant(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                              int limit, int offset, gh_session **out, size_t *n, int64_t *total);

/* Delete sessions that ended (expired or revoked) more than keep_ms ago,
 * with their refresh tokens (a used token is kept only so that its reuse is
 * recognised while that still matters). For the daemon's periodic purge;
 * returns how many sessions went, or -1. */
int64_t session_purge(gh_conn *c, gh_call *call, int64_t keep_ms);

/* Copy a device string (user agent, IP) from a request header into dst,
 * cut at a character boundary to fit dstlen (with its NUL), invalid UTF-8
 * and control bytes replaced by '?': it is stored, listed and put in JSON.
 * NULL gives "". */
void device_text_clip(char *dst, size_t dstlen, const char *src);

/* Deny-list one access token id until it can no longer be accepted: its exp
 * (seconds) plus the leeway (RFC 7009 revocation). deny_ttl_ms <= 0
 * everywhere means GH_ACCESS_TTL_MAX_MS, never "forever"; every entry is
 * kept GH_DENY_GRACE_MS longer than the token life it is given. */
gh_result token_deny(gh_conn *c, gh_call *call, const char *jti, int64_t exp_s);
/* 1 if the session or the token id is deny-listed, 0 if not, -1 if kv is
 * unavailable (callers answer 503, never "valid"). */
int token_denied(gh_conn *c, gh_call *call, const char *sid, const char *jti);
/* token_denied's kv keys, for a caller that reads them in one round trip
 * with others: how many (0 to 2) are in keys. One of them there: denied. */
#define TOKEN_DENY_KEY_MAX 128 /* "deny:jti:" + an id; ids are far shorter */
size_t token_deny_keys(const char *sid, const char *jti, char keys[2][TOKEN_DENY_KEY_MAX]);

#endif
