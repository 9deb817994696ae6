/*
 * privileges.c - see privileges.h. The order is the one every daemon that
 * starts as root follows (OpenSSH's permanently_set_uid, nginx's workers):
 * groups first, while we may still change them, then the gid, the uid last;
 * then a setuid(0) that must fail, or something kept root.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "privileges.h"

/* getpwnam_r and friends want a buffer of a size only sysconf knows */
static size_t entry_buf_size(int which)
{
    long n = sysconf(which);
    return n > 0 ? (size_t)n : 16384;
}

static int parse_id(const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v >= (unsigned long)(uid_t)-1)
        return -1;
    *out = v;
    return 0;
}

int privileges_lookup(const char *user, const char *group, gh_account *out, char *err,
                      size_t errlen)
{
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    size_t len = entry_buf_size(_SC_GETPW_R_SIZE_MAX);
    char *buf = malloc(len);
    unsigned long id;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (!buf) {
        snprintf(err, errlen, "server.user: out of memory");
        return -1;
    }
    if (getpwnam_r(user, &pw, buf, len, &pwp) != 0 || !pwp) {
        if (parse_id(user, &id) != 0 || getpwuid_r((uid_t)id, &pw, buf, len, &pwp) != 0 || !pwp) {
            snprintf(err, errlen, "server.user: no such user '%s'", user);
            goto done;
        }
    }
    out->uid = pwp->pw_uid;
    out->gid = pwp->pw_gid;
    snprintf(out->name, sizeof out->name, "%s", pwp->pw_name);
    if (group) {
        free(buf);
        len = entry_buf_size(_SC_GETGR_R_SIZE_MAX);
        if (!(buf = malloc(len))) {
            snprintf(err, errlen, "server.group: out of memory");
            goto done;
        }
        if (getgrnam_r(group, &gr, buf, len, &grp) != 0 || !grp) {
            if (parse_id(group, &id) != 0 || getgrgid_r((gid_t)id, &gr, buf, len, &grp) != 0 ||
                !grp) {
                snprintf(err, errlen, "server.group: no such group '%s'", group);
                goto done;
            }
        }
        out->gid = grp->gr_gid;
    }
    rc = 0;
done:
    free(buf);
    return rc;
}

int privileges_drop(const gh_account *a, char *err, size_t errlen)
{
    if (geteuid() != 0) {
        if (geteuid() == a->uid && getegid() == a->gid)
            return 0;
        snprintf(err, errlen, "server.user: becoming '%s' needs root (running as uid %lu)",
                 a->name, (unsigned long)geteuid());
        return -1;
    }
    if (initgroups(a->name, a->gid) < 0 || setgid(a->gid) < 0 || setuid(a->uid) < 0) {
        snprintf(err, errlen, "server.user: cannot become '%s': %s", a->name, strerror(errno));
        return -1;
    }
    if (a->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "server.user: root could be had back after becoming '%s'", a->name);
        return -1;
    }
    return 0;
}

/* mkdir -p; what it creates becomes owner's when there is one */
static int make_dir(const char *path, const gh_account *owner)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return errno = ENAMETOOLONG, -1;
    for (char *p = tmp + 1;; p++) {
        if (*p && *p != '/')
            continue;
        char end = *p;
        *p = '\0';
        if (mkdir(tmp, 0700) == 0) {
            if (owner && chown(tmp, owner->uid, owner->gid) < 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        if (!end)
            return 0;
        *p = '/';
    }
}

int privileges_enter(const char *user, const char *group, const char *state_dir, int make,
                     gh_account *who, char *err, size_t errlen)
{
    int root = geteuid() == 0;
    umask(077);
    if (user && privileges_lookup(user, group, who, err, errlen) < 0)
        return -1;
    if (make && make_dir(state_dir, user && root ? who : NULL) < 0) {
        snprintf(err, errlen, "state directory %s: %s", state_dir, strerror(errno));
        return -1;
    }
    if (!user)
        return 0;
    return privileges_drop(who, err, errlen) < 0 ? -1 : root;
}
