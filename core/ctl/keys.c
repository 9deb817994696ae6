/*
 * keys.c - `gatehousectl keys rotate|list`: the access-token signing keys
 * in tokens.keys_dir (state_dir/keys by default).
 *
 * A key is a PEM file "<kid>.pem"; the newest by mtime signs, the others
 * still verify tokens they signed until those expire (auth/tokens.h). So
 * rotating is adding a file, which keyring_rotate does; the daemon reads
 * the directory again on SIGHUP or at restart. `list` reads the directory
 * itself rather than through keyring_load, which would generate a key into
 * an empty directory: listing must change nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "auth/tokens.h"
#include "ctl/ctl.h"

static const char *keys_dir(const ctl *c)
{
    return c->cfg->keys_dir ? c->cfg->keys_dir : "keys";
}

static const char *alg_name(int alg)
{
    switch (alg) {
    case GH_ALG_ES256: return "ES256";
    case GH_ALG_RS256: return "RS256";
    case GH_ALG_HS256: return "HS256";
    default: return "?";
    }
}

/* keys_dir as an absolute path for messages (we are inside state_dir). */
static void abs_dir(const ctl *c, char *out, size_t len)
{
    const char *d = keys_dir(c);

    if (d[0] == '/')
        snprintf(out, len, "%s", d);
    else
        snprintf(out, len, "%s/%s", c->cfg->state_dir, d);
}

/* HS256 signs with the config's shared secret: there is no file to rotate
 * or list, and saying so beats an empty answer. */
static int refuse_hs256(const ctl *c)
{
    if (c->cfg->token_alg != GH_ALG_HS256)
        return 0;
    ctl_fail("tokens.algorithm is HS256: it signs with the shared secret in the config, not with "
             "key files; rotate it by changing tokens.hs256_secret (tokens signed with the "
             "old secret stop verifying)");
    return -1;
}

static int simple_options(int argc, char **argv, const char *help, int *done)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    int first = 1, o;

    *done = 1;
    while ((o = ctl_getopt(argc, argv, "h", longopts, &first)) != -1) {
        if (o == 'h') {
            printf("Usage: %s\n%s", argv[0], help);
            return CTL_OK;
        }
        return CTL_USAGE;
    }
    if (optind < argc)
        return ctl_usage_error(argv[0], "unexpected argument '%.64s'", argv[optind]);
    *done = 0;
    return CTL_OK;
}

/* ---------------------------------------------------------------- rotate */

static int keys_rotate(ctl *c, int argc, char **argv)
{
    int done, rc = simple_options(argc, argv,
        "Add a new signing key to tokens.keys_dir with the configured algorithm\n"
        "(tokens.algorithm) and print its kid. gatehoused signs with it after\n"
        "SIGHUP or a restart; tokens signed with the older keys stay valid until\n"
        "they expire. An old key file may be deleted once the new key has signed\n"
        "for longer than tokens.access_ttl.\n",
        &done);
    char kid[128], err[512], dir[PATH_MAX + 8];
    gh_call call;

    if (done)
        return rc;
    /* the store too, for the audit record: a rotation nobody can trace
     * later is worse than one that waits for a working database */
    if (ctl_open_store(c, 1) < 0 || refuse_hs256(c) < 0)
        return CTL_FAIL;
    if (keyring_rotate(keys_dir(c), (gh_alg)c->cfg->token_alg, kid, sizeof kid, err,
                       sizeof err) < 0)
        return ctl_fail("keys rotate: %s", err);
    abs_dir(c, dir, sizeof dir);
    printf("new signing key %s (%s) in %s\n", kid, alg_name(c->cfg->token_alg), dir);
    printf("gatehoused signs with it after SIGHUP or a restart; tokens signed with older "
           "keys stay valid until they expire\n");

    json_t *d = json_pack("{s:s, s:s}", "kid", kid, "alg", alg_name(c->cfg->token_alg));
    ctl_call(&call);
    gh_result r = ctl_audit(c, &call, NULL, "keys.rotate", NULL, d);
    json_decref(d);
    if (r != GH_OK)
        return ctl_fail("key %s was added, but recording it in the audit log failed: %s", kid,
                        ctl_why(&call, r));
    return CTL_OK;
}

/* ---------------------------------------------------------------- list */

typedef struct key_file {
    char kid[NAME_MAX + 1];
    const char *alg;
    struct timespec mtime;
} key_file;

/* A passphrase callback that declines: an encrypted key must not make
 * `list` stop and ask on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return 0;
}

/* The algorithm a key file serves, from its key type. */
static const char *file_alg(const char *path)
{
    const char *alg = "unreadable";
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;

    if (!f)
        return alg;
    if ((k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL))) {
        int id = EVP_PKEY_get_base_id(k);
        alg = id == EVP_PKEY_EC ? "ES256" : id == EVP_PKEY_RSA ? "RS256" : "unknown";
        EVP_PKEY_free(k);
    }
    fclose(f);
    return alg;
}

/* Newest first: the order tokens.h signs by (mtime), ties by kid. */
static int newest_first(const void *a, const void *b)
{
    const key_file *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
    return strcmp(y->kid, x->kid);
}

static int read_keys(const char *dir, key_file **out, size_t *n)
{
    static const char kid_chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    DIR *d = opendir(dir);
    struct dirent *e;

    *out = NULL;
    *n = 0;
    if (!d)
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char path[PATH_MAX];
        struct stat st;
        key_file *grown;

        /* the names the keyring takes (auth/keys.c): others are not keys */
        if (len <= 4 || len - 4 > 63 || strcmp(e->d_name + len - 4, ".pem") != 0 ||
            e->d_name[0] == '.' || strspn(e->d_name, kid_chars) < len - 4)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (!(grown = realloc(*out, (*n + 1) * sizeof *grown))) {
            closedir(d);
            return -1;
        }
        *out = grown;
        key_file *k = &(*out)[(*n)++];
        snprintf(k->kid, sizeof k->kid, "%.*s", (int)(len - 4), e->d_name);
        k->alg = file_alg(path);
        k->mtime = st.st_mtim;
    }
    closedir(d);
    qsort(*out, *n, sizeof **out, newest_first);
    return 0;
}

static int keys_list(ctl *c, int argc, char **argv)
{
    int done, rc = simple_options(argc, argv,
        "List the signing keys in tokens.keys_dir: kid, algorithm, when it was\n"
        "created, and which one signs (the newest); the others only verify.\n",
        &done);
    char dir[PATH_MAX + 8];
    key_file *keys;
    size_t n;

    if (done)
        return rc;
    if (ctl_open_config(c) < 0 || refuse_hs256(c) < 0)
        return CTL_FAIL;
    abs_dir(c, dir, sizeof dir);
    if (read_keys(keys_dir(c), &keys, &n) < 0)
        return ctl_fail("%s: %s", dir, strerror(errno));
    if (n == 0) {
        fprintf(stderr, "gatehousectl: no keys in %s yet: gatehoused makes the first at "
                        "start, or run 'gatehousectl keys rotate'\n", dir);
        return CTL_OK;
    }
    size_t w = 3;
    for (size_t i = 0; i < n; i++)
        if (strlen(keys[i].kid) > w)
            w = strlen(keys[i].kid);
    printf("%-*s  %-6s  %-20s  %s\n", (int)w, "KID", "ALG", "CREATED", "USE");
    for (size_t i = 0; i < n; i++) {
        char when[32];

        ctl_time((int64_t)keys[i].mtime.tv_sec * 1000, when, sizeof when);
        printf("%-*s  %-6s  %-20s  %s\n", (int)w, keys[i].kid, keys[i].alg, when,
               i == 0 ? "signing" : "verify");
    }
    free(keys);
    return CTL_OK;
}

int ctl_keys(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "rotate", keys_rotate, "", "add a new signing key (the old ones keep verifying)" },
        { "list", keys_list, "", "list the signing keys and which one signs" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}
