/*
 * factors.c - second factors and recovery codes in the credentials table.
 * See factors.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "auth/factors.h"
#include "auth/pii.h"
#include "auth/tokens.h"
#include "clock.h"
#include "log.h"

#define COL_SECRET "credentials.secret"
#define FACTOR_TYPES "('totp', 'sms')"

static gh_param str(const char *s)
{
    return (gh_param){ NULL, GH_T_STR, s, strlen(s) };
}

static gh_param i64(const int64_t *v)
{
    return (gh_param){ NULL, GH_T_INT, v, sizeof *v };
}

static json_t *column_json(const gh_param *col)
{
    if (col->type == GH_T_STR || col->type == GH_T_BYTES)
        return json_stringn(col->data, col->len);
    if (col->type == GH_T_INT)
        return json_integer(*(const int64_t *)col->data);
    return json_null();
}

void factor_clear(gh_factor *f)
{
    OPENSSL_cleanse(f, sizeof *f);
}

/* ---------------------------------------------------------------- list */

static int list_row(void *ud, const gh_param *cols, uint32_t n)
{
    if (n < 6)
        return 1;
    json_t *f = json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "id", column_json(&cols[0]), "type",
                          column_json(&cols[1]), "label", column_json(&cols[2]), "created_at",
                          column_json(&cols[3]), "last_used_at", column_json(&cols[4]),
                          "pending", cols[5].type == GH_T_NULL);
    return !f || json_array_append_new(ud, f) != 0;
}

gh_result factors_list(gh_conn *c, gh_call *call, const char *user_id, json_t **out)
{
    static const char sql[] =
        "SELECT id, type, label, created_at, last_used_at, confirmed_at FROM credentials"
        " WHERE user_id = ? AND type IN " FACTOR_TYPES " ORDER BY created_at, id";
    gh_param arg = str(user_id);
    if (!(*out = json_array()))
        return GH_ERR_NOMEM;
    gh_result r = store_exec(c, call, sql, &arg, 1, list_row, *out, NULL);
    if (r != GH_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return r;
}

/* ---------------------------------------------------------------- secrets */

/* The secret as stored: base64 (so a sealed value keeps its length), sealed
 * under the newest personal-data key when encryption at rest is on. */
static char *seal(const char *id, const void *secret, size_t len)
{
    char b64[4 * ((FACTOR_SECRET_MAX + 2) / 3) + 1];
    if (len > FACTOR_SECRET_MAX)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)b64, secret, (int)len);
    const gh_pii *p = pii_current();
    const char *why = "";
    char *out = p ? pii_encrypt(p, COL_SECRET, id, b64, (size_t)n, &why) : strdup(b64);
    if (!out && p)
        gh_log(GH_LOG_ERROR, "factors: secret of credential %s: %s", id, why);
    OPENSSL_cleanse(b64, sizeof b64);
    return out;
}

static gh_result unseal(const char *id, const char *stored, gh_factor *f)
{
    const char *why = "";
    char *b64 = NULL;
    if (pii_decrypt(pii_current(), COL_SECRET, id, stored, &b64, &why) < 0) {
        gh_log(GH_LOG_ERROR, "factors: secret of credential %s: %s", id, why);
        return GH_ERR_INTERNAL;
    }
    size_t blen = strlen(b64);
    unsigned char raw[FACTOR_SECRET_MAX + 3];
    int n = blen <= 4 * ((FACTOR_SECRET_MAX + 2) / 3)
                ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)blen)
                : -1;
    if (n >= 0) /* DecodeBlock counts the padding as bytes */
        n -= (blen > 0 && b64[blen - 1] == '=') + (blen > 1 && b64[blen - 2] == '=');
    OPENSSL_cleanse(b64, blen);
    free(b64);
    if (n < 0 || (size_t)n > sizeof f->secret) {
        OPENSSL_cleanse(raw, sizeof raw);
        gh_log(GH_LOG_ERROR, "factors: secret of credential %s is damaged", id);
        return GH_ERR_INTERNAL;
    }
    memcpy(f->secret, raw, (size_t)n);
    f->secret_len = (size_t)n;
    OPENSSL_cleanse(raw, sizeof raw);
    return GH_OK;
}

gh_result factors_create(gh_conn *c, gh_call *call, const char *user_id, const char *type,
                         const char *label, const void *secret, size_t len, char id[37])
{
    static const char sql[] =
        "INSERT INTO credentials (id, user_id, type, secret, label, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)";
    uuid_new(id);
    char *sealed = seal(id, secret, len);
    if (!sealed)
        return GH_ERR_INTERNAL;
    int64_t now = gh_now_ms();
    gh_param args[] = { str(id), str(user_id), str(type),
                        { NULL, GH_T_BYTES, sealed, strlen(sealed) },
                        label ? str(label) : (gh_param){ NULL, GH_T_NULL, NULL, 0 }, i64(&now) };
    gh_result r = store_exec(c, call, sql, args, 6, NULL, NULL, NULL);
    OPENSSL_cleanse(sealed, strlen(sealed));
    free(sealed);
    return r;
}

typedef struct get_ctx {
    gh_factor *f;
    char *stored;
    int found;
} get_ctx;

static int get_row(void *ud, const gh_param *cols, uint32_t n)
{
    get_ctx *g = ud;
    if (n < 4 || (cols[1].type != GH_T_BYTES && cols[1].type != GH_T_STR))
        return 1;
    g->found = 1;
    snprintf(g->f->type, sizeof g->f->type, "%.*s", (int)cols[0].len, (const char *)cols[0].data);
    g->stored = strndup(cols[1].data, cols[1].len);
    g->f->confirmed = cols[2].type != GH_T_NULL;
    g->f->last_counter = cols[3].type == GH_T_INT ? *(const int64_t *)cols[3].data : -1;
    return !g->stored;
}

gh_result factors_get(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                      gh_factor *f)
{
    static const char sql[] =
        "SELECT type, secret, confirmed_at, last_counter FROM credentials"
        " WHERE id = ? AND user_id = ? AND type IN " FACTOR_TYPES;
    gh_param args[] = { str(id), str(user_id) };
    get_ctx g = { .f = f };
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", id);
    gh_result r = store_exec(c, call, sql, args, 2, get_row, &g, NULL);
    if (r == GH_OK && !g.found)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        r = g.stored ? unseal(id, g.stored, f) : GH_ERR_NOMEM;
    if (g.stored) {
        OPENSSL_cleanse(g.stored, strlen(g.stored));
        free(g.stored);
    }
    if (r != GH_OK)
        factor_clear(f);
    return r;
}

static int id_row(void *ud, const gh_param *cols, uint32_t n)
{
    return n < 1 || json_array_append_new(ud, column_json(&cols[0])) != 0;
}

gh_result factors_ids(gh_conn *c, gh_call *call, const char *user_id, const char *type,
                      json_t **ids)
{
    static const char sql[] =
        "SELECT id FROM credentials WHERE user_id = ? AND type = ?"
        " AND confirmed_at IS NOT NULL ORDER BY created_at, id";
    gh_param args[] = { str(user_id), str(type) };
    if (!(*ids = json_array()))
        return GH_ERR_NOMEM;
    gh_result r = store_exec(c, call, sql, args, 2, id_row, *ids, NULL);
    if (r != GH_OK) {
        json_decref(*ids);
        *ids = NULL;
    }
    return r;
}

gh_result factors_first_phone(gh_conn *c, gh_call *call, const char *user_id, char *phone,
                              size_t len)
{
    json_t *ids = NULL;
    gh_factor f;
    gh_result r = factors_ids(c, call, user_id, "sms", &ids);
    if (r == GH_OK && json_array_size(ids) == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        r = factors_get(c, call, user_id, json_string_value(json_array_get(ids, 0)), &f);
    if (r == GH_OK) {
        snprintf(phone, len, "%.*s", (int)f.secret_len, (const char *)f.secret);
        factor_clear(&f);
    }
    json_decref(ids);
    return r;
}

gh_result factors_use(gh_conn *c, gh_call *call, const char *id, int64_t counter)
{
    static const char sql[] =
        "UPDATE credentials SET last_counter = ?, last_used_at = ?,"
        " confirmed_at = COALESCE(confirmed_at, ?)"
        " WHERE id = ? AND (last_counter IS NULL OR last_counter < ?)";
    int64_t now = gh_now_ms(), changes = 0;
    gh_param args[] = { i64(&counter), i64(&now), i64(&now), str(id), i64(&counter) };
    gh_result r = store_exec(c, call, sql, args, 5, NULL, NULL, &changes);
    return r == GH_OK && changes == 0 ? GH_ERR_DENIED : r;
}

static int count_row(void *ud, const gh_param *cols, uint32_t n)
{
    if (n >= 1 && cols[0].type == GH_T_INT)
        *(int64_t *)ud = *(const int64_t *)cols[0].data;
    return 0;
}

gh_result factors_delete(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                         int64_t *left)
{
    static const char one[] = "DELETE FROM credentials WHERE id = ? AND user_id = ?"
                              " AND type IN " FACTOR_TYPES;
    static const char all[] = "DELETE FROM credentials WHERE user_id = ?"
                              " AND type IN ('totp', 'sms', 'recovery')";
    static const char count[] = "SELECT COUNT(*) FROM credentials WHERE user_id = ?"
                                " AND type IN " FACTOR_TYPES " AND confirmed_at IS NOT NULL";
    gh_param args[] = { id ? str(id) : str(user_id), str(user_id) };
    int64_t changes = 0;
    *left = 0;
    gh_result r = store_exec(c, call, id ? one : all, args, id ? 2 : 1, NULL, NULL, &changes);
    if (r == GH_OK && changes == 0)
        return GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        r = store_exec(c, call, count, &args[1], 1, count_row, left, NULL);
    return r;
}

/* ---------------------------------------------------------------- recovery codes */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* The stored form of a code: the SHA-256 hex of its letters and digits,
 * lower case, without the dashes people type or leave out. 24 of them, or
 * 16: codes made before they grew to 120 bits (80 bits) work until the
 * user makes new ones. */
static int recovery_digest(const char *code, char digest[GH_DIGEST_LEN])
{
    char norm[RECOVERY_CODE_CHARS + 1];
    size_t n = 0;
    for (const char *p = code; *p; p++) {
        char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        if (ch == '-' || ch == ' ')
            continue;
        if (n + 1 >= sizeof norm || !strchr(b32, ch))
            return -1;
        norm[n++] = ch;
    }
    norm[n] = '\0';
    secret_digest(norm, digest);
    OPENSSL_cleanse(norm, sizeof norm);
    return n == RECOVERY_CODE_CHARS || n == 16 ? 0 : -1;
}

gh_result recovery_codes_new(gh_conn *c, gh_call *call, const char *user_id, json_t **codes)
{
    static const char del[] = "DELETE FROM credentials WHERE user_id = ? AND type = 'recovery'";
    static const char ins[] =
        "INSERT INTO credentials (id, user_id, type, secret, created_at, confirmed_at)"
        " VALUES (?, ?, 'recovery', ?, ?, ?)";
    gh_param uid = str(user_id);
    int64_t now = gh_now_ms();
    gh_result r = (*codes = json_array()) ? GH_OK : GH_ERR_NOMEM;
    if (r == GH_OK)
        r = store_exec(c, call, del, &uid, 1, NULL, NULL, NULL);
    for (int i = 0; r == GH_OK && i < RECOVERY_CODES; i++) {
        unsigned char rnd[RECOVERY_CODE_CHARS];
        char code[RECOVERY_CODE_LEN], digest[GH_DIGEST_LEN], id[37];
        if (RAND_bytes(rnd, sizeof rnd) != 1) {
            r = GH_ERR_INTERNAL;
            break;
        }
        for (int k = 0, o = 0; k < RECOVERY_CODE_CHARS; k++) { /* 5 bits a byte: 120 */
            code[o++] = b32[rnd[k] & 31];
            if (k % 4 == 3 && k < RECOVERY_CODE_CHARS - 1)
                code[o++] = '-';
        }
        code[RECOVERY_CODE_LEN - 1] = '\0';
        recovery_digest(code, digest);
        uuid_new(id);
        gh_param args[] = { str(id), uid, { NULL, GH_T_BYTES, digest, strlen(digest) },
                            i64(&now), i64(&now) };
        r = store_exec(c, call, ins, args, 5, NULL, NULL, NULL);
        if (r == GH_OK && json_array_append_new(*codes, json_string(code)) != 0)
            r = GH_ERR_NOMEM;
        OPENSSL_cleanse(rnd, sizeof rnd);
        OPENSSL_cleanse(code, sizeof code);
    }
    if (r != GH_OK) {
        json_decref(*codes);
        *codes = NULL;
    }
    return r;
}

gh_result recovery_code_use(gh_conn *c, gh_call *call, const char *user_id, const char *code)
{
    static const char sql[] =
        "DELETE FROM credentials WHERE user_id = ? AND type = 'recovery' AND secret = ?";
    char digest[GH_DIGEST_LEN];
    if (recovery_digest(code, digest) != 0)
        return GH_ERR_DENIED;
    gh_param args[] = { str(user_id), { NULL, GH_T_BYTES, digest, strlen(digest) } };
    int64_t changes = 0;
    gh_result r = store_exec(c, call, sql, args, 2, NULL, NULL, &changes);
    return r == GH_OK && changes == 0 ? GH_ERR_DENIED : r;
}
