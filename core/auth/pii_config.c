/*
 * pii_config.c - the keyring of the config's `encryption:` block.
 * config.c has already checked ids and key text; this decodes them again
 * (the config keeps text, the keyring bytes) and wipes every copy.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/pii.h"
#include "config.h"

static int fail(char *err, size_t errlen, const gh_node *at, const char *what, const char *why)
{
    if (at != NULL)
        cfg_error(err, errlen, at, "%s: %s", what, why);
    else
        snprintf(err, errlen, "%s: %s", what, why);
    return -1;
}

int pii_from_config(const gh_config *cfg, gh_pii **out, char *err, size_t errlen)
{
    uint8_t key[PII_KEY_LEN];
    const char *why = "out of memory";
    gh_pii *p;

    *out = NULL;
    if (cfg->n_enc_keys == 0)
        return 0;
    if (cfg->enc_index_key == NULL || pii_key_decode(cfg->enc_index_key, key, &why) < 0)
        return fail(err, errlen, cfg_get(cfg->root, "encryption"), "encryption.index_key",
                    cfg->enc_index_key ? why : "is required with encryption.keys");
    p = pii_new(key);
    OPENSSL_cleanse(key, sizeof(key));
    if (p == NULL)
        return fail(err, errlen, NULL, "encryption", why);
    for (size_t i = 0; i < cfg->n_enc_keys; i++) {
        const gh_enc_key *k = &cfg->enc_keys[i];
        int rc = pii_key_decode(k->key, key, &why);

        if (rc == 0 && pii_add_key(p, k->id, key) < 0) {
            why = "bad or repeated key id";
            rc = -1;
        }
        OPENSSL_cleanse(key, sizeof(key));
        if (rc < 0) {
            pii_free(p);
            return fail(err, errlen, k->where, "encryption.keys", why);
        }
    }
    *out = p;
    return 0;
}
