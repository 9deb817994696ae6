/*
 * host.h - the host table handed to plugins. It is an adaptor: the call
 * context it reads and fails is the core's (call.h).
 */
#ifndef GH_HOST_H
#define GH_HOST_H

#include <gatehouse/plugin.h>
#include "call.h"
#include "plugin/loader.h"

extern const gh_host gh_host_table;

/* Visit every plugin event counter (host->count) for /metrics. */
typedef void (*gh_event_visit)(void *ud, const char *plugin, const char *event, uint64_t n);
void host_events_foreach(gh_event_visit visit, void *ud);

/* At exit: release what the host keeps for the process (the HTTP module
 * if it was loaded, event counters). */
void host_global_cleanup(void);

/* cfg_*(NULL, ...) reads the options of the plugin being set up on this
 * thread: the loader sets them around instantiate() and thread_init().
 * Returns the previous scope, to restore afterwards. */
const gh_node *host_cfg_scope(const gh_node *options);
/* An option written as YAML null (`key: ~`, `key:`) counts as not set. */
int host_cfg_is_null(const gh_node *n);

/* Where gatehouse-http.so is: the plugin directory (plugins_dir), set at
 * start-up before anything can make a request. */
void host_set_module_dir(const char *dir);

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

/* Members of the host table in host_driver.c, for storage and kv drivers */
int64_t host_mono_ms(void);
gh_result host_url_parse(gh_call *call, const char *url, gh_url *out);
void host_url_redact(const char *url, char *buf, size_t len);

#endif
