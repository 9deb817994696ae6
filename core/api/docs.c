/*
 * docs.c - the API's description and the page that shows it.
 *
 *   GET /openapi.json   the OpenAPI document installed with the daemon, its
 *                       servers[0].url set to server.public_url
 *   GET /docs           the documentation page (Swagger UI, vendored)
 *   GET /docs/{file}    its script and style sheet: only the files named in
 *                       the table below, so no path ever reaches the disk
 *                       from the request
 *
 * The files live in paths.data_dir (default: the directory chosen at build
 * time) and are read on a worker, never on the loop: the script is large
 * and a disk read may block. They are read per request, not kept: the page
 * is fetched rarely, and an upgrade or a reload takes effect at once.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "api/api.h"
#include "app.h"
#include "config.h"
#include "http/request.h"
#include "log.h"

#ifndef GH_DATA_DIR
#error "GH_DATA_DIR must be defined by the build (see Makefile.am)"
#endif

/* Larger than any file of the page: a bigger one is a broken install. */
#define ASSET_MAX (8 * 1024 * 1024)

/* The page runs only its own files: no inline script, no other origin.
 * Swagger UI sets element styles from script and shows its icons as data:
 * images; it fetches the document from this origin. */
#define DOCS_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "             \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

typedef struct asset {
    const char *name;  /* under /docs/ ("": /docs itself) */
    const char *file;  /* under the data directory */
    const char *type;
    const char *cache;
} asset;

/* The vendored files change only with an upgrade, and the page asks for
 * them with the Swagger UI version in the query: they may be kept. The page
 * itself names them, so it is checked each time. */
static const asset assets[] = {
    { "", "docs/index.html", "text/html; charset=utf-8", "no-cache" },
    { "docs.js", "docs/docs.js", "text/javascript; charset=utf-8", "no-cache" },
    { "swagger-ui-bundle.js", "docs/swagger-ui/swagger-ui-bundle.js",
      "text/javascript; charset=utf-8", "public, max-age=604800, immutable" },
    { "swagger-ui.css", "docs/swagger-ui/swagger-ui.css", "text/css; charset=utf-8",
      "public, max-age=604800, immutable" },
};

typedef struct reading {
    const asset *asset;  /* NULL: the OpenAPI document */
    char *body;          /* what the worker read, malloc'd; NULL: failed */
    size_t len;
} reading;

/* paths.data_dir, else $GATEHOUSE_DATA_DIR (`make run` points it at the
 * source tree, as it does GATEHOUSE_PLUGIN_DIR at the build's plugins),
 * else where the build installs the files */
static const char *data_dir(const gh_req *req)
{
    const gh_config *cfg = req->cycle->cfg;
    const char *env = getenv("GATEHOUSE_DATA_DIR");

    if (cfg->data_dir && *cfg->data_dir)
        return cfg->data_dir;
    return env && *env ? env : GH_DATA_DIR;
}

/* The whole file at data_dir/name, malloc'd, or NULL (logged). */
static char *read_file(const gh_req *req, const char *name, size_t *len)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", data_dir(req), name) >= sizeof path) {
        gh_log(GH_LOG_ERROR, "docs: %s/%s: path too long", data_dir(req), name);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *s = NULL;
    if (!f || fstat(fileno(f), &st) < 0) {
        gh_log(GH_LOG_ERROR, "docs: %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode) || st.st_size > ASSET_MAX) {
        gh_log(GH_LOG_ERROR, "docs: %s: not a regular file of at most 8 MiB", path);
    } else if ((s = malloc((size_t)st.st_size + 1)) &&
               fread(s, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
        *len = (size_t)st.st_size;
        s[*len] = '\0';
    } else {
        gh_log(GH_LOG_ERROR, "docs: %s: cannot read it", path);
        free(s);
        s = NULL;
    }
    if (f)
        fclose(f);
    return s;
}

/* The document as installed, pointed at this server and version. */
static char *read_document(const gh_req *req, size_t *len)
{
    size_t n;
    char *text = read_file(req, "openapi.json", &n);
    if (!text)
        return NULL;
    json_error_t err;
    json_t *doc = json_loadb(text, n, 0, &err);
    free(text);
    json_t *info = json_object_get(doc, "info");
    if (!json_is_object(info)) {
        gh_log(GH_LOG_ERROR, "docs: %s/openapi.json: not an OpenAPI document (%s)", data_dir(req),
               doc ? "no info" : err.text);
        json_decref(doc);
        return NULL;
    }
    json_t *servers = json_pack("[{s:s}]", "url", req->cycle->cfg->public_url);
    char *out = NULL;
    if (servers && json_object_set_new(doc, "servers", servers) == 0 &&
        json_object_set_new(info, "version", json_string(PACKAGE_VERSION)) == 0)
        out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    *len = out ? strlen(out) : 0;
    return out;
}

static void read_work(gh_req *req)
{
    reading *r = req->job_data;
    r->body = r->asset ? read_file(req, r->asset->file, &r->len) : read_document(req, &r->len);
}

static void read_done(gh_req *req)
{
    reading *r = req->job_data;
    if (!r->body) {
        req_problem(req, 500, "internal_error", NULL);
    } else if (r->asset) {
        req_set_header(req, "Cache-Control", r->asset->cache);
        req_set_header(req, "Content-Security-Policy", DOCS_CSP);
        req_send(req, 200, r->asset->type, r->body, r->len);
    } else {
        req_set_header(req, "Cache-Control", "no-cache");
        req_send(req, 200, "application/json", r->body, r->len);
    }
    free(r->body);
    free(r);
}

static void serve(gh_req *req, const asset *a)
{
    reading *r = calloc(1, sizeof *r);
    if (!r) {
        req_problem(req, 500, "internal_error", NULL);
        return;
    }
    r->asset = a;
    if (req_defer(req, read_work, read_done, r) < 0)
        free(r);
}

static void document(gh_req *req)
{
    serve(req, NULL);
}

static void page(gh_req *req)
{
    serve(req, &assets[0]);
}

static void page_file(gh_req *req)
{
    const char *name = req_param(req, "file");
    for (size_t i = 1; i < sizeof assets / sizeof assets[0]; i++)
        if (strcmp(name, assets[i].name) == 0) {
            serve(req, &assets[i]);
            return;
        }
    req_problem(req, 404, "not_found", NULL);
}

int docs_register(gh_router *r)
{
    return router_add(r, GH_GET, "/openapi.json", document) |
           router_add(r, GH_GET, "/docs", page) |
           router_add(r, GH_GET, "/docs/{file}", page_file);
}
