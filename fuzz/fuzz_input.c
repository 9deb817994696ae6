/*
 * fuzz_input.c - request bodies through the input layer (api/input.c,
 * http/request.c's JSON body, api/profile.c's checks): each input is the
 * body of a request that no server carries, read and checked the way four
 * handlers do, with their fields and limits and the config's defaults
 * (max_body_size, max_json_depth): sign-up, login (as JSON and as a form),
 * an admin's new user, and a company's settings with a page of a list.
 *
 * Every refusal is a 4xx problem+json with a `code`, answered once; what is
 * accepted is answered nothing, and every string in it (names too) is
 * UTF-8 without a NUL, each field no longer than its limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api/input.h"
#include "api/profile.h"
#include "app.h"
#include "auth/companies.h"
#include "config.h"
#include "http/request.h"
#include "http/router.h"
#include "log.h"
#include "fuzz.h"

static gh_app app;
static gh_cycle *cycle;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const gh_log_conf quiet = { .level = GH_LOG_ERROR };
    char path[64], err[512];
    int fd = fuzz_memfd("", 0, path, sizeof path);
    gh_config *cfg = config_load(path, err, sizeof err); /* every default */

    (void)argc;
    (void)argv;
    close(fd);
    log_configure(&quiet);
    if (!cfg || !(cycle = cycle_new(cfg, NULL, NULL)) || !(app.router = router_new())) {
        fprintf(stderr, "fuzz_input: %s\n", cfg ? "out of memory" : err);
        abort();
    }
    return 0;
}

/* ------------------------------------------------------------ a request */

typedef struct answer {
    struct evhttp_request *ev;
    char *body; /* what the request was answered, malloc'd; NULL: nothing */
    char *type; /* its Content-Type */
} answer;

/* The answer as req_send writes it into the request's buffer, taken
 * before evhttp, which has no connection to send it on, frees both. */
static void on_write(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    answer *a = arg;
    size_t n = evbuffer_get_length(buf);
    const char *type = evhttp_find_header(evhttp_request_get_output_headers(a->ev),
                                          "Content-Type");

    if (info->n_added == 0)
        return;
    if (a->body || !(a->body = malloc(n + 1)) || !(a->type = strdup(type ? type : "")))
        abort(); /* answered twice, or out of memory */
    evbuffer_copyout(buf, a->body, n);
    a->body[n] = '\0';
}

/* A POST of body as content type, answered into a. */
static gh_req *request(const char *type, const uint8_t *body, size_t len, answer *a)
{
    static char path[] = "/fuzz";
    gh_req *req = calloc(1, sizeof *req);
    struct evhttp_request *ev = evhttp_request_new(NULL, NULL);

    if (!req || !ev ||
        evhttp_add_header(evhttp_request_get_input_headers(ev), "Content-Type", type) != 0 ||
        evbuffer_add(evhttp_request_get_input_buffer(ev), body, len) != 0 ||
        !evbuffer_add_cb(evhttp_request_get_output_buffer(ev), on_write, a))
        abort();
    *a = (answer){ .ev = ev };
    req->ev = ev;
    req->app = &app;
    req->cycle = cycle;
    req->method = GH_POST;
    req->method_name = "POST";
    req->path = path;
    snprintf(req->request_id, sizeof req->request_id, "fuzz");
    req->in_done = 1; /* req_send leaves it to us: it is read after the answer */
    return req;
}

/* ------------------------------------------------------------ the handlers' checks */

/* input_string, and what it gives (in *v, when v is not NULL) is within
 * max. */
static int string_v(gh_req *req, json_t *in, const char *key, int required, size_t max,
                    const char **v)
{
    const char *got;

    if (input_string(req, in, key, required, max, &got) < 0)
        return -1;
    if (got && strlen(got) > max)
        abort();
    if (v)
        *v = got;
    return 0;
}

static int string(gh_req *req, json_t *in, const char *key, int required, size_t max)
{
    return string_v(req, in, key, required, max, NULL);
}

/* What the handler read, or NULL when it refused (the answer sent). */
static json_t *refused(json_t *in)
{
    json_decref(in);
    return NULL;
}

/* POST /api/v1/auth/signup (auth.c: LOGIN_MAX, PASSWORD_MAX; company.c) */
static json_t *signup(gh_req *req, unsigned accept)
{
    static const char *const known[] = { "email", "password", "company", PROFILE_FIELDS, NULL };
    json_t *in = input_body(req, accept);

    if (in && (input_only(req, in, known) < 0 ||
               string(req, in, "email", INPUT_REQUIRED, 320) < 0 ||
               string(req, in, "password", INPUT_REQUIRED, 16384) < 0 ||
               profile_check(req, in, 1) < 0 ||
               string(req, in, "company", INPUT_OPTIONAL, COMPANY_SLUG_MAX + 64) < 0))
        return refused(in);
    return in;
}

/* POST /api/v1/auth/login (auth.c), JSON or a form */
static json_t *login(gh_req *req, unsigned accept)
{
    json_t *in = input_body(req, accept);
    const char *email = NULL, *username = NULL;

    if (in && (string_v(req, in, "email", INPUT_OPTIONAL, 320, &email) < 0 ||
               string_v(req, in, "username", INPUT_OPTIONAL, 320, &username) < 0 ||
               string(req, in, "password", INPUT_REQUIRED, 16384) < 0))
        return refused(in);
    if (in && !email && !username) {
        input_reject(req, "missing_field", "email", "or 'username' is required.");
        return refused(in);
    }
    return in;
}

/* POST /api/v1/admin/users (admin.c, without its roles) */
static json_t *user_create(gh_req *req, unsigned accept)
{
    static const char *const known[] = { "email", "password", "invite", "is_admin", "roles",
                                         PROFILE_FIELDS, NULL };
    json_t *in = input_body(req, accept);
    int invite, admin;

    if (in && (input_only(req, in, known) < 0 ||
               string(req, in, "email", INPUT_REQUIRED, 320) < 0 ||
               string(req, in, "password", INPUT_OPTIONAL, 16384) < 0 ||
               input_bool(req, in, "invite", &invite) < 0 ||
               input_bool(req, in, "is_admin", &admin) < 0 || profile_check(req, in, 1) < 0))
        return refused(in);
    return in;
}

/* PATCH /api/v1/admin/companies/{id} (companies.c's settings), and a
 * list's paging read from the same object */
static json_t *company(gh_req *req, unsigned accept)
{
    static const char *const known[] = { "name", "settings", "limit", "offset", NULL };
    static const char *const settings[] = { "signup_allowed", "mfa_required",
                                            "password_min_length", NULL };
    json_t *in = input_body(req, accept), *o;
    int64_t min_len;
    int b;

    if (!in)
        return NULL;
    if (input_only(req, in, known) < 0 ||
        string(req, in, "name", INPUT_OPTIONAL, COMPANY_NAME_MAX) < 0 || input_page(req, in) < 0)
        return refused(in);
    if ((o = json_object_get(in, "settings")) && !json_is_null(o)) {
        if (!json_is_object(o)) {
            input_reject(req, "invalid_field", "settings", "must be an object.");
            return refused(in);
        }
        if (input_only(req, o, settings) < 0 || input_bool(req, o, "signup_allowed", &b) < 0 ||
            input_bool(req, o, "mfa_required", &b) < 0 ||
            input_int(req, o, "password_min_length", -1, 0, 128, &min_len) < 0)
            return refused(in);
    }
    return in;
}

/* ------------------------------------------------------------ the properties */

/* UTF-8 as RFC 3629 has it: shortest forms, no surrogates, to U+10FFFF. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        unsigned len = c < 0x80                 ? 1
                       : c >= 0xc2 && c <= 0xdf ? 2
                       : c >= 0xe0 && c <= 0xef ? 3
                       : c >= 0xf0 && c <= 0xf4 ? 4
                                                : 0;
        unsigned lo = 0x80, hi = 0xbf;

        if (len == 0 || i + len > n)
            return 0;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
        else if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
        for (unsigned k = 1; k < len; k++, lo = 0x80, hi = 0xbf)
            if (s[i + k] < lo || s[i + k] > hi)
                return 0;
        i += len;
    }
    return 1;
}

/* Every name and string in v is UTF-8 without a NUL. */
static void check_strings(json_t *v)
{
    const char *key;
    json_t *m;
    size_t i;

    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v) ||
            !utf8_ok((const unsigned char *)json_string_value(v), json_string_length(v)))
            abort();
    } else if (json_is_object(v)) {
        json_object_foreach (v, key, m) {
            if (!utf8_ok((const unsigned char *)key, strlen(key)))
                abort();
            check_strings(m);
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, m)
            check_strings(m);
    }
}

/* A refusal: one 4xx problem+json with a code and its status. */
static void check_refusal(const gh_req *req, const answer *a)
{
    json_t *p = a->body ? json_loads(a->body, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(p, "code"));

    if (!req->answered || req->status < 400 || req->status > 499 ||
        strcmp(a->type, "application/problem+json") != 0 || !code || !code[0] ||
        json_integer_value(json_object_get(p, "status")) != req->status)
        abort();
    json_decref(p);
}

static void run(json_t *(*handler)(gh_req *, unsigned), unsigned accept, const char *type,
                const uint8_t *data, size_t size)
{
    answer a;
    gh_req *req = request(type, data, size, &a);
    json_t *in = handler(req, accept);

    if (in) {
        if (req->answered || a.body)
            abort(); /* taken, yet answered */
        check_strings(in);
        json_decref(in);
        evhttp_request_free(a.ev);
    } else {
        check_refusal(req, &a); /* the request went with the answer */
    }
    free(a.body);
    free(a.type);
    free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char json[] = "application/json", form[] = "application/x-www-form-urlencoded";

    run(signup, INPUT_JSON, json, data, size);
    run(login, INPUT_JSON | INPUT_FORM, json, data, size);
    run(login, INPUT_JSON | INPUT_FORM, form, data, size);
    run(user_create, INPUT_JSON, json, data, size);
    run(company, INPUT_JSON, json, data, size);
    return 0;
}
