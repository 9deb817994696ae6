/*
 * oauth_plugin.c - calling an oauth plugin's ops. See oauth_plugin.h.
 */
#include <stdlib.h>
#include <string.h>
#include "auth/oauth_plugin.h"
#include "out.h"

const gh_loaded *oauth_plugin_of(const gh_plugins *ps, const char *name)
{
    const gh_loaded *p = plugins_find(ps, GH_KIND_OAUTH, name);
    const gh_oauth_ops *ops = p ? p->desc->ops : NULL;
    return ops && ops->authorize_url && ops->exchange ? p : NULL;
}

static gh_param str(const char *key, const char *v)
{
    return (gh_param){ key, GH_T_STR, v, strlen(v) };
}

/* Run op of p on in, in a call of its own within the caller's deadline:
 * its results in *out (to free with out_free). The caller's call records
 * a failure for its own log line. */
static gh_result run_op(const gh_loaded *p, gh_call *caller, gh_op op, const gh_param *in,
                        gh_out **out)
{
    gh_call call = *caller;
    call.plugin = p;
    call.code = GH_OK;
    call.message[0] = '\0';
    *out = out_new();
    gh_result r = *out ? op(p->inst, plugin_tinst(p), &call, in, *out) : GH_ERR_NOMEM;
    /* a refusal is the provider's answer about this user, not the
     * plugin's failure: logged, not counted */
    if (r == GH_ERR_DENIED)
        call_log(&call, p->name, GH_LOG_INFO, "refused: %s", call.message);
    else
        r = call_result(&call, r);
    if (r != GH_OK)
        call_fail_retry(caller, r, call.retry_after_ms, "%s: %s", p->name, call.message);
    return r;
}

static char *out_strdup(const gh_out *out, const char *key)
{
    const gh_param *v = out_get(out, key, 0);
    return v && (v->type == GH_T_STR || v->type == GH_T_BYTES) && v->len > 0 &&
                   !memchr(v->data, '\0', v->len)
               ? strndup(v->data, v->len)
               : NULL;
}

gh_result oauth_plugin_authorize(const gh_loaded *p, gh_call *caller, const char *redirect_uri,
                                 const char *state, const char *nonce,
                                 const char *code_challenge, char **url)
{
    const gh_oauth_ops *ops = p->desc->ops;
    gh_param in[] = { str("redirect_uri", redirect_uri), str("state", state),
                      str("nonce", nonce), str("code_challenge", code_challenge),
                      { NULL, 0, NULL, 0 } };
    gh_out *out;
    gh_result r = run_op(p, caller, ops->authorize_url, in, &out);
    *url = r == GH_OK ? out_strdup(out, "url") : NULL;
    if (r == GH_OK && !*url)
        r = call_fail(caller, GH_ERR_INTERNAL, "%s: authorize_url gave no url", p->name);
    out_free(out);
    return r;
}

void oauth_profile_clear(oauth_profile *pr)
{
    free(pr->subject);
    free(pr->email);
    free(pr->name);
    free(pr->given_name);
    free(pr->family_name);
    memset(pr, 0, sizeof *pr);
}

gh_result oauth_plugin_exchange(const gh_loaded *p, gh_call *caller, const char *code,
                                const char *redirect_uri, const char *code_verifier,
                                const char *nonce, const char *iss, oauth_profile *pr)
{
    const gh_oauth_ops *ops = p->desc->ops;
    gh_param in[6] = { str("code", code), str("redirect_uri", redirect_uri),
                       str("code_verifier", code_verifier), str("nonce", nonce) };
    if (iss)
        in[4] = str("iss", iss);
    gh_out *out;
    memset(pr, 0, sizeof *pr);
    gh_result r = run_op(p, caller, ops->exchange, in, &out);
    if (r == GH_OK) {
        const gh_param *v = out_get(out, "email_verified", 0);
        pr->subject = out_strdup(out, "subject");
        pr->email = out_strdup(out, "email");
        pr->name = out_strdup(out, "name");
        pr->given_name = out_strdup(out, "given_name");
        pr->family_name = out_strdup(out, "family_name");
        pr->email_verified = v && v->type == GH_T_BOOL && *(const int32_t *)v->data == 1;
        if (!pr->subject)
            r = call_fail(caller, GH_ERR_INTERNAL, "%s: exchange gave no subject", p->name);
    }
    out_free(out);
    if (r != GH_OK)
        oauth_profile_clear(pr);
    return r;
}
