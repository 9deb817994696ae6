/*
 * out.h - gh_out, the result of an op: a list of named values (gh_param)
 * that the op puts and its caller reads back. Plugins build them through
 * the host table (out_new, put, out_get, out_free are adaptors over these);
 * the core uses them directly, e.g. for the value a kv get returns.
 */
#ifndef GH_OUT_H
#define GH_OUT_H

#include <stddef.h>
#include <gatehouse/plugin.h> /* gh_out, gh_param, gh_result */

/* NULL when out of memory. */
gh_out *out_new(void);
/* Wipes every value (results carry secrets: MFA seeds, tokens). NULL is a
 * no-op. */
void out_free(gh_out *out);
/* Copies p (key and data). GH_ERR_INVALID for a malformed param. */
gh_result out_put(gh_out *out, const gh_param *p);
/* The idx'th value put under key, or NULL; valid until out_free. */
const gh_param *out_get(const gh_out *out, const char *key, size_t idx);

#endif
