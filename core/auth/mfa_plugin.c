/*
 * mfa_plugin.c - calling an mfa plugin's ops. See mfa_plugin.h.
 */
#include <stdlib.h>
#include <string.h>
#include "auth/mfa_plugin.h"
#include "out.h"

const gh_loaded *mfa_plugin_totp(const gh_plugins *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        const gh_loaded *p = &ps->v[i];
        const gh_mfa_ops *ops = p->desc->ops;
        if (p->desc->kind == GH_KIND_MFA && GH_OPS_HAS(gh_mfa_ops, ops, verify) &&
            ops->verify && GH_OPS_HAS(gh_mfa_ops, ops, enroll) && ops->enroll)
            return p;
    }
    return NULL;
}

const gh_loaded *mfa_plugin_sms(const gh_plugins *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        const gh_loaded *p = &ps->v[i];
        const gh_mfa_ops *ops = p->desc->ops;
        if (p->desc->kind == GH_KIND_MFA && ops->challenge &&
            !(GH_OPS_HAS(gh_mfa_ops, ops, verify) && ops->verify))
            return p;
    }
    return NULL;
}

const gh_loaded *mfa_plugin_inbound_of(const gh_plugins *ps, const char *name)
{
    const gh_loaded *p = plugins_find(ps, GH_KIND_MFA, name);
    const gh_mfa_ops *ops = p ? p->desc->ops : NULL;
    return ops && GH_OPS_HAS(gh_mfa_ops, ops, inbound) && ops->inbound ? p : NULL;
}

/* A call for p within the caller's deadline, serving the same request. */
static void plugin_call(gh_call *call, const gh_loaded *p, const gh_call *caller)
{
    *call = *caller;
    call->plugin = p;
    call->code = GH_OK;
    call->message[0] = '\0';
    call->retry_after_ms = 0;
}

/* Run op of p on in, in a call of its own: its results in *out (NULL when
 * none could be made), to free with out_free. */
static gh_result run_op(const gh_loaded *p, gh_call *call, const gh_call *caller, gh_op op,
                        const gh_param *in, gh_out **out)
{
    plugin_call(call, p, caller);
    *out = out_new();
    return *out ? op(p->inst, plugin_tinst(p), call, in, *out) : GH_ERR_NOMEM;
}

/* The op's end: the caller learns what failed, for its own log line. */
static gh_result plugin_done(gh_call *call, gh_call *caller, gh_result r)
{
    r = call_result(call, r);
    if (r != GH_OK)
        caller->retry_after_ms = call->retry_after_ms;
    return r;
}

static char *out_strdup(const gh_out *out, const char *key)
{
    const gh_param *v = out_get(out, key, 0);
    return v && (v->type == GH_T_STR || v->type == GH_T_BYTES) ? strndup(v->data, v->len) : NULL;
}

gh_result mfa_plugin_enroll(const gh_loaded *p, gh_call *caller, const char *user_id,
                            const char *account_name, gh_factor *f, char **uri, char **qr_svg)
{
    const gh_mfa_ops *ops = p->desc->ops;
    gh_param in[] = { { "user_id", GH_T_STR, user_id, strlen(user_id) },
                      { "account_name", GH_T_STR, account_name, strlen(account_name) },
                      { NULL, 0, NULL, 0 } };
    gh_call call;
    gh_out *out;
    *uri = *qr_svg = NULL;
    gh_result r = run_op(p, &call, caller, ops->enroll, in, &out);
    const gh_param *s = r == GH_OK ? out_get(out, "secret", 0) : NULL;
    if (r == GH_OK && (!s || s->len == 0 || s->len > sizeof f->secret))
        r = call_fail(&call, GH_ERR_INTERNAL, "enroll gave no usable secret");
    if (r == GH_OK) {
        memcpy(f->secret, s->data, s->len);
        f->secret_len = s->len;
        *uri = out_strdup(out, "uri");
        *qr_svg = out_strdup(out, "qr_svg");
        if (!*uri)
            r = call_fail(&call, GH_ERR_INTERNAL, "enroll gave no uri");
    }
    out_free(out); /* wipes what the plugin put, the secret too */
    if (r != GH_OK) {
        free(*uri);
        free(*qr_svg);
        *uri = *qr_svg = NULL;
    }
    return plugin_done(&call, caller, r);
}

gh_result mfa_plugin_challenge(const gh_loaded *p, gh_call *caller, const char *destination,
                               const char *text, const char *code)
{
    const gh_mfa_ops *ops = p->desc->ops;
    gh_param in[] = { { "destination", GH_T_STR, destination, strlen(destination) },
                      { "text", GH_T_STR, text, strlen(text) },
                      { "code", GH_T_STR, code, strlen(code) },
                      { NULL, 0, NULL, 0 } };
    gh_call call;
    gh_out *out;
    gh_result r = run_op(p, &call, caller, ops->challenge, in, &out);
    out_free(out);
    return plugin_done(&call, caller, r);
}

gh_result mfa_plugin_inbound(const gh_loaded *p, gh_call *caller, const gh_param *in,
                             int *status)
{
    const gh_mfa_ops *ops = p->desc->ops;
    gh_call call;
    gh_out *out;
    gh_result r = run_op(p, &call, caller, ops->inbound, in, &out);
    const gh_param *s = r == GH_OK ? out_get(out, "status", 0) : NULL;
    int64_t v = s && s->type == GH_T_INT ? *(const int64_t *)s->data : 204;
    *status = v >= 200 && v <= 599 ? (int)v : 204;
    out_free(out);
    /* a request that is not the provider's is the sender's failure, not
     * counted against the plugin; but its reason is logged, since a wrong
     * server.public_url makes every genuine report one */
    if (r == GH_ERR_DENIED) {
        call_log(&call, p->name, GH_LOG_INFO, "callback refused: %s", call.message);
        return r;
    }
    return plugin_done(&call, caller, r);
}

gh_result mfa_plugin_verify(const gh_loaded *p, gh_call *caller, const gh_factor *f,
                            const char *code, int64_t *counter)
{
    const gh_mfa_ops *ops = p->desc->ops;
    gh_param in[4] = { { "secret", GH_T_BYTES, f->secret, f->secret_len },
                       { "code", GH_T_STR, code, strlen(code) } };
    if (f->last_counter >= 0)
        in[2] = (gh_param){ "last_counter", GH_T_INT, &f->last_counter, sizeof f->last_counter };
    gh_call call;
    gh_out *out;
    gh_result r = run_op(p, &call, caller, ops->verify, in, &out);
    const gh_param *c = r == GH_OK ? out_get(out, "counter", 0) : NULL;
    if (r == GH_OK && (!c || c->type != GH_T_INT))
        r = call_fail(&call, GH_ERR_INTERNAL, "verify gave no counter");
    if (r == GH_OK)
        *counter = *(const int64_t *)c->data;
    out_free(out);
    /* a wrong code is the user's, not the plugin's failure: not counted */
    return r == GH_ERR_DENIED ? r : plugin_done(&call, caller, r);
}
