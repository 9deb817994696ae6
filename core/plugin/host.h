/*
 * host.h - the host table handed to plugins. It is an adaptor: the call
 * context it reads and fails is the core's (call.h).
 */
#ifndef GH_HOST_H
#define GH_HOST_H

#include <jansson.h>
#include <gatehouse/plugin.h>
#include "call.h"
#include "plugin/loader.h"

extern const gh_host gh_host_table;

/* Visit every plugin event counter (host->count) for /metrics. */
typedef void (*gh_event_visit)(void *ud, const char *plugin, const char *event, uint64_t n);
void host_events_foreach(gh_event_visit visit, void *ud);

/* At exit: release what the host keeps for the process (the HTTP module
 * if it was loaded, event counters, cached JWKS key sets). */
void host_global_cleanup(void);

/* cfg_*(NULL, ...) reads the options of the plugin being set up on this
 * thread: the loader sets them around instantiate() and thread_init().
 * Returns the previous scope, to restore afterwards. */
const gh_node *host_cfg_scope(const gh_node *options);
/* An option written as YAML null (`key: ~`, `key:`) counts as not set. */
int host_cfg_is_null(const gh_node *n);

/* Where gatehouse-http.so is: the plugin directory (plugins_dir), set by
 * plugins_load before anything can make a request. */
void host_set_module_dir(const char *dir);
/* Load the HTTP module now (for a plugin with GH_PLUGIN_NEEDS_HTTP): 0, or
 * -1 with the reason in err. */
int host_http_ready(char *err, size_t errlen);

/* Members of the host table in host_json.c, the JSON helpers (jansson) */
gh_result host_json_decode(gh_call *call, const char *text, size_t len, gh_json **out);
void host_json_free(gh_json *json);
const gh_json *host_json_get(const gh_json *obj, const char *key);
const gh_json *host_json_at(const gh_json *arr, size_t i);
size_t host_json_len(const gh_json *arr);
uint32_t host_json_type(const gh_json *json);
const char *host_json_str(const gh_json *json);
int64_t host_json_int(const gh_json *json, int64_t dflt);
int host_json_bool(const gh_json *json, int dflt);
char *host_json_encode(gh_call *call, const gh_param *fields);
const char *host_json_key_at(const gh_json *obj, size_t i, const gh_json **value);
double host_json_double(const gh_json *json, double dflt);
gh_result host_json_encode_to(gh_call *call, const gh_param *fields, char **out);
gh_result host_json_dump(gh_call *call, const gh_json *json, char **out);

/* ... in host_crypto.c, digests and HMAC (OpenSSL) */
gh_result host_digest(gh_call *call, uint32_t alg, const void *data, size_t len, void *out,
                      size_t out_size, size_t *out_len);
gh_result host_hmac(gh_call *call, uint32_t alg, const void *key, size_t key_len, const void *data,
                    size_t len, void *out, size_t out_size, size_t *out_len);
int host_equal_ct(const void *a, const void *b, size_t len);

/* ... in host_encode.c, RFC 4648 encodings, URL and form encoding */
gh_result host_encode(gh_call *call, uint32_t enc, const void *data, size_t len, char *out,
                      size_t out_size, size_t *out_len);
gh_result host_decode(gh_call *call, uint32_t enc, const char *text, size_t len, void *out,
                      size_t out_size, size_t *out_len);
gh_result host_url_encode(gh_call *call, const char *text, size_t len, char **out);
gh_result host_form_encode(gh_call *call, const gh_param *fields, char **out);

/* ... in host_jwks.c, JWT verification with a JWKS cache */
gh_result host_jwt_verify(gh_call *call, const char *token, const gh_jwt_policy *policy,
                          gh_json **claims);
/* The same against a JWK Set given inline ({"keys": [...]}, parsed for
 * this call, nothing cached; pol->jwks_uri is not used; NULL: as
 * host_jwt_verify): the core's private_key_jwt clients registered with
 * their keys. */
gh_result host_jwt_verify_keys(gh_call *call, const char *token, const gh_jwt_policy *pol,
                               const json_t *jwks, gh_json **claims);
/* At exit, from host_global_cleanup: the cached key sets. */
void host_jwks_cleanup(void);

/* A hex digit's value, or -1 (host_encode.c; percent-decoding uses it too) */
int host_hex_value(char c);

/* Members of the host table in host_driver.c, for storage and kv drivers */
int64_t host_mono_ms(void);
gh_result host_url_parse(gh_call *call, const char *url, gh_url *out);
void host_url_redact(const char *url, char *buf, size_t len);

#endif
