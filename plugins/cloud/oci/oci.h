/*
 * oci.h - the `oci` cloud plugin's instance, shared by its files: oci.c
 * (options and the provisioning steps), oci_identity.c (the Identity API
 * calls) and oci_sign.c (the request signature).
 */
#ifndef GH_OCI_H
#define GH_OCI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <gatehouse/plugin.h>

#include "oci_sign.h"

#define OCI_OCID_MAX 256
#define OCI_URL_MAX 512
#define OCI_NAME_MAX 100 /* compartment, group and policy names: 1..100 */
#define OCI_TAGS_MAX 16  /* configured freeform tags */
#define OCI_TAG_MAX 128  /* a freeform tag's key or value */

/* Read-only after instantiate; what it points to is freed in detach. */
typedef struct oci {
    char tenancy[OCI_OCID_MAX];
    char user[OCI_OCID_MAX];
    char fingerprint[OCI_FINGERPRINT_LEN];
    char key_id[2 * OCI_OCID_MAX + OCI_FINGERPRINT_LEN + 2]; /* tenancy/user/fingerprint */
    EVP_PKEY *key;
    char endpoint[OCI_URL_MAX]; /* scheme://host[:port], no trailing '/' */
    char host_header[300];      /* host[:port], as the Host header and signed */
    char parent[OCI_OCID_MAX];  /* where compartments and policies go */
    char prefix[32];
    char **statements; /* policy templates over {group}, {compartment} */
    size_t n_statements;
    char tag_key[OCI_TAGS_MAX][OCI_TAG_MAX];
    char tag_value[OCI_TAGS_MAX][OCI_TAG_MAX];
    size_t n_tags;
    char ca_file[OCI_URL_MAX]; /* "" the system's */
    int32_t allow_http, allow_private;
    int64_t timeout_ms, poll_ms;
} oci;

/* The resources the plugin makes, in the order provisioning makes them. */
typedef enum oci_kind {
    OCI_COMPARTMENT = 0,
    OCI_GROUP = 1,
    OCI_POLICY = 2,
    OCI_KINDS = 3
} oci_kind;

/* The host table oci_identity.c calls (the plugin's entry gives it). */
void oci_identity_use(const gh_host *h);

/* The word for a kind in "type:id" resources: "compartment", ... */
const char *oci_kind_name(oci_kind k);

/* A resource to create. */
typedef struct oci_create {
    oci_kind kind;
    const char *parent; /* compartmentId */
    const char *name;
    const char *description;
    const char *tenant_id;         /* the tag gatehouse-tenant, and the conflict lookup */
    const char *retry_token;       /* opc-retry-token */
    const char *const *statements; /* policies only */
    size_t n_statements;
} oci_create;

/* The state of a resource: "CREATING", "ACTIVE", ... ("" unknown). */
#define OCI_STATE_MAX 32

/* Create (or, after 409 Conflict, find the one this tenant made before):
 * its id and lifecycleState. GH_ERR_NOT_FOUND, without a failure logged:
 * OCI invalidated the retry token (409 InvalidatedRetryToken). */
gh_result oci_create_resource(const oci *o, gh_call *call, const oci_create *c,
                              char id[OCI_OCID_MAX], char state[OCI_STATE_MAX]);
/* The lifecycleState of id; GH_ERR_NOT_FOUND on 404 (without a failure
 * logged: eventual consistency right after a create, or gone). */
gh_result oci_get_state(const oci *o, gh_call *call, oci_kind kind, const char *id,
                        char state[OCI_STATE_MAX]);
/* Delete id; a resource already gone (404) counts as deleted. */
gh_result oci_delete_resource(const oci *o, gh_call *call, oci_kind kind, const char *id);

#endif
