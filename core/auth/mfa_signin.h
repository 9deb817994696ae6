/*
 * mfa_signin.h - the second step of a sign-in: an mfa_token (mfa.h) and a
 * code in, the session and tokens out, through the same pipeline as a
 * password (signin.h), with the code as the proof:
 *
 *   - the challenge is read, not taken, so a typo does not end the
 *     sign-in; each wrong code counts against it (auth.mfa.token_tries)
 *     and toward the account's lockout, and is audited as mfa.failure;
 *   - a TOTP code is checked by the TOTP plugin past the factor's last
 *     accepted step, and its step recorded in the same UPDATE that checks
 *     it (factors_use), so no code works twice, even in parallel;
 *   - a recovery code is spent by deleting it; an SMS code (sms_codes.h,
 *     purpose "signin", subject the mfa_token's digest) likewise, after
 *     the verify limit of the account and of its phone (auth.mfa.
 *     sms_verify_limit a minute: LOCKED);
 *   - then the challenge is taken: of two right answers racing, one wins.
 *
 * The access token says how: amr ["pwd","otp"] for TOTP, ["pwd","sms"]
 * for an SMS code; for a recovery
 * code ["pwd","mfa"], RFC 8176's "multiple-factor authentication", since
 * a recovery code is a second factor but none of the kinds it lists.
 */
#ifndef GH_AUTH_MFA_SIGNIN_H
#define GH_AUTH_MFA_SIGNIN_H

#include "auth/context.h"
#include "plugin/loader.h"

typedef enum mfa_kind { MFA_TOTP, MFA_RECOVERY, MFA_SMS } mfa_kind;

/* OK (r as signin_run's), MFA_TOKEN, BAD (wrong code), LOCKED, DISABLED,
 * UNVERIFIED or FAILED. totp: the TOTP plugin (NULL: none loaded, so no
 * TOTP code is right). */
auth_outcome mfa_signin(const gh_auth_ctx *ax, const gh_loaded *totp, const char *mfa_token,
                        mfa_kind kind, const char *code, auth_result *r);

#endif
