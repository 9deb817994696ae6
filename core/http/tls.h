/*
 * tls.h - the TLS side of a `server.listen` entry with `tls:`: one
 * SSL_CTX per listener, shared by every loop, built from its certificate
 * chain, key and optional client CA, and checked before it serves (files
 * readable, key matching, certificate valid now).
 *
 * SIGHUP builds a new context from the same files and swaps it in only
 * when it checks out; connections already open keep the SSL_CTX they
 * were made from (SSL_new holds a reference), new ones get the new one.
 */
#ifndef GH_TLS_H
#define GH_TLS_H

#include <stddef.h>
#include "config.h"

typedef struct ssl_st SSL;
typedef struct gh_tls gh_tls;

/* The context for l (which must outlive it: the start-up config does).
 * NULL with "file:line:col: server.listen: ..." in err. */
gh_tls *tls_new(const gh_listen *l, char *err, size_t errlen);
/* Rebuild from the same files; on failure the current context stays and
 * err says why (no key material in it). 0 or -1. */
int tls_reload(gh_tls *t, char *err, size_t errlen);
/* A new connection's SSL, from the current context; NULL out of memory. */
SSL *tls_ssl_new(gh_tls *t);
/* The leaf certificate's serial (hex) and end of validity, for log lines. */
void tls_describe(gh_tls *t, char *buf, size_t len);
void tls_free(gh_tls *t);
/* gatehoused -t: every TLS listener's files load and check out. */
int tls_check(const gh_config *cfg, char *err, size_t errlen);

#endif
