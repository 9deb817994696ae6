/*
 * policy.c - the password policy, NIST SP 800-63B: length in code points,
 * then "commonly used, expected, or compromised" values refused: the
 * bundled list of common passwords (compiled in; a hash set is built on
 * first use), the user's own email or name, and whatever zxcvbn (libzxcvbn,
 * with its frequency lists of passwords, words, names, keyboard walks,
 * sequences, repeats and dates) estimates under MIN_GUESS_BITS, the user's
 * email, username and the product's name among its words. Composition
 * rules exist because the seed services had them; they are off by default.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zxcvbn.h>
#include "auth/common_passwords.h"
#include "auth/password.h"

/* About a million guesses: under it a password falls to an online attack
 * even through the lockout (zxcvbn's "too guessable" and "very guessable"
 * bands). zxcvbn's dictionaries know far more than the bundled list, which
 * stays for the few of its entries they lack. */
#define MIN_GUESS_BITS 20.0
#define ESTIMATE_MAX 256   /* bytes judged: past that, length alone is no help */
#define USER_WORDS_MAX 24
#define COMMON_SENTENCE "This password is too easy to guess: it is a commonly used password, " \
                        "or built on a common word or name."

#define COMMON_MAX_LEN 64         /* longer than any entry of the list */

/* ---------------------------------------------------------------- common list */

/* An open-addressing set of the list's lines, lower-cased. */
static struct {
    char *text;          /* the lower-cased list, '\n' turned into '\0' */
    const char **slots;  /* mask + 1 slots, NULL = empty */
    size_t mask, count;
} common;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static size_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot holding s, or the empty slot where it belongs. */
static const char **common_slot(const char *s, size_t len)
{
    size_t i = fnv1a(s, len) & common.mask;

    while (common.slots[i] &&
           (strlen(common.slots[i]) != len || memcmp(common.slots[i], s, len) != 0))
        i = (i + 1) & common.mask;
    return &common.slots[i];
}

static void common_build(void)
{
    size_t lines = 1, size = 1;
    char *line, *next;

    if (!(common.text = strdup(gh_common_passwords)))
        return;
    for (char *c = common.text; *c; c++) {
        *c = (char)ascii_lower((unsigned char)*c);
        lines += *c == '\n';
    }
    while (size < 2 * lines) /* at most half full: short probes */
        size <<= 1;
    if (!(common.slots = calloc(size, sizeof(*common.slots))))
        return;
    common.mask = size - 1;
    for (line = common.text; *line; line = next) {
        size_t n = strcspn(line, "\n");
        const char **slot;
        next = line[n] ? line + n + 1 : line + n;
        line[n] = '\0';
        slot = common_slot(line, n);
        if (n > 0 && !*slot) { /* blank lines and duplicates: skipped */
            *slot = line;
            common.count++;
        }
    }
}

int password_is_common(const char *pw, size_t len)
{
    char low[COMMON_MAX_LEN];

    pthread_once(&common_once, common_build);
    if (!common.slots || len == 0 || len > sizeof(low))
        return 0;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)ascii_lower((unsigned char)pw[i]);
    return *common_slot(low, len) != NULL;
}

size_t password_common_count(void)
{
    pthread_once(&common_once, common_build);
    return common.count;
}

/* ---------------------------------------------------------------- policy */

/* Code points in s, or -1 unless it is well-formed UTF-8 (no overlong
 * forms, surrogates or values past U+10FFFF; RFC 3629) without NUL. */
static long utf8_length(const unsigned char *s, size_t len)
{
    long n = 0;

    for (size_t i = 0; i < len; n++) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (c == 0 || k == 0 || i + k > len)
            return -1;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return -1;
        }
        /* the second byte's range excludes overlongs, surrogates, > U+10FFFF */
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
            return -1;
        i += k;
    }
    return n;
}

static int ascii_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/* pw is one of the context strings, or an email's local part */
static int is_context(const char *pw, size_t len, const char *const *context)
{
    for (; context && *context; context++) {
        const char *c = *context, *at = strrchr(c, '@');
        if (ascii_ieq(pw, len, c, strlen(c)) ||
            (at && at > c && ascii_ieq(pw, len, c, (size_t)(at - c))))
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- zxcvbn */

/* What the user's context adds to zxcvbn's dictionaries: each string, an
 * email's local part, and their words of 3 letters or more ("alice.smith"
 * gives "alice" and "smith"), then the product's name. */
typedef struct user_words {
    const char *v[USER_WORDS_MAX + 1];
    size_t n, used;
    char buf[1024];
} user_words;

static void word_add(user_words *w, const char *s, size_t len)
{
    if (len < 3 || w->n >= USER_WORDS_MAX || w->used + len + 1 > sizeof w->buf)
        return;
    char *d = w->buf + w->used;
    for (size_t i = 0; i < len; i++)
        d[i] = (char)ascii_lower((unsigned char)s[i]);
    d[len] = '\0';
    w->used += len + 1;
    w->v[w->n++] = d;
}

static void words_of(user_words *w, const char *s)
{
    const char *at = strrchr(s, '@');
    size_t end = at ? (size_t)(at - s) : strlen(s);
    word_add(w, s, strlen(s));
    if (at)
        word_add(w, s, end);
    for (size_t i = 0; i < end;) {
        size_t k = 0;
        while (i + k < end && ((s[i + k] | 32) >= 'a' && (s[i + k] | 32) <= 'z'))
            k++;
        if (k > 0 && k < end)
            word_add(w, s + i, k);
        i += k ? k : 1;
    }
}

/* Why zxcvbn finds pw guessable, by the longest pattern it found in it;
 * NULL when it is not. */
static const char *guessable(const char *pw, size_t len, const char *const *context,
                             const char **detail)
{
    char text[ESTIMATE_MAX + 1];
    user_words w = { .n = 0 };
    ZxcMatch_t *info = NULL;

    if (len > ESTIMATE_MAX)
        len = ESTIMATE_MAX;
    memcpy(text, pw, len);
    text[len] = '\0';
    for (; context && *context; context++)
        words_of(&w, *context);
    word_add(&w, "gatehouse", 9);
    w.v[w.n] = NULL;
    double bits = ZxcvbnMatch(text, w.v, &info);
    int type = BRUTE_MATCH, longest = 0;
    for (const ZxcMatch_t *m = info; m; m = m->Next) {
        /* a pattern said again ("abcabc", "aaaaaa" twice) is a repeat */
        int t = m->Type >= MULTIPLE_MATCH ? REPEATS_MATCH : m->Type;
        if (t != BRUTE_MATCH && t != NON_MATCH && m->Length > longest) {
            longest = m->Length;
            type = t;
        }
    }
    ZxcvbnFreeInfo(info);
    memset(text, 0, sizeof text);
    memset(w.buf, 0, sizeof w.buf);
    if (bits >= MIN_GUESS_BITS)
        return NULL;
    switch (type) {
    case USER_MATCH:
    case USER_LEET_MATCH:
        *detail = "This password is too easy to guess: it is built on your email address, "
                  "username or name, or on this service's name.";
        return "password_too_common";
    case DICTIONARY_MATCH:
    case DICT_LEET_MATCH:
        *detail = COMMON_SENTENCE;
        return "password_too_common";
    case REPEATS_MATCH:
        *detail = "This password is too easy to guess: it repeats characters or a pattern.";
        return "password_too_weak";
    case SEQUENCE_MATCH:
        *detail = "This password is too easy to guess: it is a sequence such as abcd or 1234.";
        return "password_too_weak";
    case SPATIAL_MATCH:
        *detail = "This password is too easy to guess: it follows a keyboard pattern such as "
                  "qwerty.";
        return "password_too_weak";
    case DATE_MATCH:
    case YEAR_MATCH:
        *detail = "This password is too easy to guess: it is mostly a date or a year.";
        return "password_too_weak";
    default:
        *detail = "This password is too easy to guess; a few unrelated words make a strong one.";
        return "password_too_weak";
    }
}

/* A refusal: its stable code, and the sentence for the client in *detail */
static const char *verdict(const char **detail, const char *code, const char *sentence)
{
    *detail = sentence;
    return code;
}

/* Character classes present; anything not an ASCII letter or digit
 * (punctuation, space, any non-ASCII character) counts as special. */
enum { HAS_UPPER = 1, HAS_LOWER = 2, HAS_DIGIT = 4, HAS_SPECIAL = 8 };

static int char_classes(const char *pw, size_t len)
{
    int has = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];
        has |= c >= 'A' && c <= 'Z' ? HAS_UPPER : c >= 'a' && c <= 'z' ? HAS_LOWER
             : c >= '0' && c <= '9' ? HAS_DIGIT : HAS_SPECIAL;
    }
    return has;
}

static const char *composition(const gh_pw_policy *pol, const char *pw, size_t len,
                               const char **detail)
{
    int has = char_classes(pw, len);

    if (pol->require_upper && !(has & HAS_UPPER))
        return verdict(detail, "password_needs_upper", "Include at least one upper-case letter.");
    if (pol->require_lower && !(has & HAS_LOWER))
        return verdict(detail, "password_needs_lower", "Include at least one lower-case letter.");
    if (pol->require_digit && !(has & HAS_DIGIT))
        return verdict(detail, "password_needs_digit", "Include at least one digit.");
    if (pol->require_special && !(has & HAS_SPECIAL))
        return verdict(detail, "password_needs_special",
                       "Include at least one symbol, space or non-ASCII character.");
    return NULL;
}

const char *password_policy_check(const gh_pw_policy *pol, const char *pw, size_t len,
                                  const char *const *context, const char **detail)
{
    static _Thread_local char sentence[64];
    const char *ignored;
    long chars = utf8_length((const unsigned char *)pw, len);

    if (!detail)
        detail = &ignored;
    *detail = NULL;
    if (chars < 0)
        return verdict(detail, "password_invalid_utf8",
                       "The password must be valid UTF-8 text without NUL characters.");
    if (pol->min_length > 0 && chars < pol->min_length) {
        snprintf(sentence, sizeof(sentence), "Use at least %d characters.", pol->min_length);
        return verdict(detail, "password_too_short", sentence);
    }
    if (pol->max_length > 0 && chars > pol->max_length) {
        snprintf(sentence, sizeof(sentence), "Use at most %d characters.", pol->max_length);
        return verdict(detail, "password_too_long", sentence);
    }
    if (is_context(pw, len, context))
        return verdict(detail, "password_too_common",
                       "Do not use your email address or username as your password.");
    /* zxcvbn first: it names the reason; then the list, for what it lacks */
    const char *code;
    if (pol->check_common && (code = guessable(pw, len, context, detail)))
        return code;
    if (pol->check_common && password_is_common(pw, len))
        return verdict(detail, "password_too_common", COMMON_SENTENCE);
    return composition(pol, pw, len, detail);
}
