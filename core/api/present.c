/*
 * present.c - service structs into the JSON the API answers with. See
 * present.h for the shapes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include "api/present.h"

/* n decimal digits of v (0 <= v < 10^n) at out, zero-padded */
static void digits(char *out, int v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

json_t *present_words(const char *list)
{
    json_t *a = json_array();
    const char *p = list;
    while (a && *p) {
        size_t n = strcspn(p, " ");
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        p += n + (p[n] == ' ');
    }
    return a;
}

json_t *present_time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return json_null();
    /* by hand, not strftime or snprintf: two of these go into every user
     * answer, and printf's machinery cost more than the rest of it */
    char buf[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
    digits(buf, tm.tm_year + 1900, 4);
    digits(buf + 5, tm.tm_mon + 1, 2);
    digits(buf + 8, tm.tm_mday, 2);
    digits(buf + 11, tm.tm_hour, 2);
    digits(buf + 14, tm.tm_min, 2);
    digits(buf + 17, tm.tm_sec, 2);
    digits(buf + 20, (int)(ms % 1000), 3);
    return json_stringn_nocheck(buf, sizeof buf - 1);
}

/* NULL strings become null */
static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* present_user_json's memo key must cover every field read here */
json_t *present_user(const gh_user *u)
{
    json_t *roles = json_array();
    if (roles && u->is_admin)
        json_array_append_new(roles, json_string("admin"));
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:o*, s:o, s:o}",
                     "id", u->id,
                     "email", str_or_null(u->email),
                     "username", str_or_null(u->username),
                     "full_name", str_or_null(u->full_name),
                     "given_name", str_or_null(u->given_name),
                     "family_name", str_or_null(u->family_name),
                     "phone", str_or_null(u->phone),
                     "country_code", str_or_null(u->country_code),
                     "external_id", str_or_null(u->external_id),
                     "email_verified", u->email_verified_at > 0,
                     "phone_verified", u->phone_verified_at > 0,
                     "is_active", u->is_active != 0,
                     "roles", roles,
                     "created_at", present_time(u->created_at),
                     "updated_at", present_time(u->updated_at));
}

/*
 * Users as JSON text, memoised per thread. Packing and dumping a user with
 * jansson costs as much CPU as all the rest of GET /users/me, and clients
 * ask for the same unchanged profile again and again. The text is a pure
 * function of the fields present_user reads, so a slot answers only when
 * every one of them is byte for byte what it was rendered from: a change,
 * even within the same millisecond, is a miss. Direct-mapped by id; a slot
 * is wiped before it is reused, and a thread's memo is wiped and freed
 * when it has been idle for a second (present_forget) or exits, so the
 * personal data in it does not outlive the work it was rendered for.
 */
#define MEMO_SLOTS 32
#define MEMO_KEY_MAX 1536
#define MEMO_TEXT_MAX 2048

typedef struct memo_slot {
    size_t key_len, text_len;
    char key[MEMO_KEY_MAX];
    char text[MEMO_TEXT_MAX];
} memo_slot;

static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static int memo_ready;

static void memo_free(void *memo)
{
    OPENSSL_cleanse(memo, MEMO_SLOTS * sizeof(memo_slot));
    free(memo);
}

static void memo_init(void)
{
    memo_ready = pthread_key_create(&memo_key, memo_free) == 0;
}

void present_forget(void)
{
    pthread_once(&memo_once, memo_init);
    memo_slot *m = memo_ready ? pthread_getspecific(memo_key) : NULL;
    if (m && pthread_setspecific(memo_key, NULL) == 0)
        memo_free(m);
}

static memo_slot *memo_slots(void)
{
    pthread_once(&memo_once, memo_init);
    if (!memo_ready)
        return NULL;
    memo_slot *m = pthread_getspecific(memo_key);
    if (!m && (m = calloc(MEMO_SLOTS, sizeof *m)) && pthread_setspecific(memo_key, m) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

/* A string field into the key: a tag byte tells NULL from "", and the NUL
 * ends it, so no two lists of fields give the same key. -1: too long. */
static int key_add(char *key, size_t *n, const char *s)
{
    size_t len = s ? strlen(s) + 1 : 0;
    if (*n + 1 + len > MEMO_KEY_MAX)
        return -1;
    key[(*n)++] = s ? 's' : 'n';
    memcpy(key + *n, s ? s : "", len);
    *n += len;
    return 0;
}

static int memo_key_of(const gh_user *u, char *key, size_t *n)
{
    const int64_t flat[] = { u->email_verified_at > 0, u->created_at, u->updated_at,
                             u->is_active != 0, u->is_admin != 0, u->phone_verified_at > 0 };
    memcpy(key, flat, sizeof flat);
    *n = sizeof flat;
    return key_add(key, n, u->id) < 0 || key_add(key, n, u->email) < 0 ||
                   key_add(key, n, u->username) < 0 || key_add(key, n, u->full_name) < 0 ||
                   key_add(key, n, u->phone) < 0 || key_add(key, n, u->given_name) < 0 ||
                   key_add(key, n, u->family_name) < 0 || key_add(key, n, u->country_code) < 0 ||
                   key_add(key, n, u->external_id) < 0
               ? -1
               : 0;
}

char *present_user_json(const gh_user *u, size_t *len)
{
    memo_slot *m = memo_slots(), *s = NULL;
    char key[MEMO_KEY_MAX];
    size_t key_len;
    if (m && memo_key_of(u, key, &key_len) == 0) {
        uint32_t h = 2166136261u; /* FNV-1a over the id */
        for (const char *p = u->id; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        s = &m[h % MEMO_SLOTS];
        if (s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
            *len = s->text_len;
            return strndup(s->text, s->text_len); /* JSON text holds no NUL */
        }
    }
    *len = 0;
    json_t *o = present_user(u);
    if (!o)
        return NULL;
    if (s) {
        size_t n = json_dumpb(o, s->text, sizeof s->text, JSON_COMPACT);
        if (n > 0 && n <= sizeof s->text) {
            json_decref(o);
            OPENSSL_cleanse(s->key, s->key_len); /* its text is gone already */
            memcpy(s->key, key, key_len);
            s->key_len = key_len;
            s->text_len = n;
            *len = n;
            return strndup(s->text, n);
        }
        OPENSSL_cleanse(s, sizeof *s); /* too long: its text is half overwritten */
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    *len = text ? strlen(text) : 0;
    return text;
}

json_t *present_session(const gh_session *s, const char *current_sid)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}",
                     "id", s->id,
                     "user_agent", s->user_agent,
                     "ip", s->ip,
                     "created_at", present_time(s->created_at),
                     "last_used_at", present_time(s->last_used_at),
                     "expires_at", present_time(s->expires_at),
                     "current", current_sid && strcmp(s->id, current_sid) == 0);
}

json_t *present_tokens(const char *refresh, int64_t expires_in_s)
{
    json_t *t = json_pack("{s:n, s:s, s:I}", "access_token", "token_type", "bearer",
                          "expires_in", (json_int_t)expires_in_s);
    if (t && refresh)
        json_object_set_new(t, "refresh_token", json_string(refresh));
    return t;
}

static json_t *settings_json(const gh_company_settings *s)
{
    return json_pack("{s:b, s:b, s:I}", "signup_allowed", s->signup_allowed, "mfa_required",
                     s->mfa_required, "password_min_length", (json_int_t)s->pw_min_length);
}

static json_t *time_or_null(int64_t ms)
{
    return ms > 0 ? present_time(ms) : json_null();
}

json_t *present_company(const gh_company *co)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "id", co->id,
                     "slug", co->slug, "name", co->name, "is_root", co->is_root, "is_active",
                     co->is_active, "settings", settings_json(&co->settings), "created_at",
                     present_time(co->created_at), "updated_at", present_time(co->updated_at),
                     "deactivated_at", time_or_null(co->deactivated_at), "erase_after",
                     time_or_null(co->erase_after), "erased_at", time_or_null(co->erased_at));
}
