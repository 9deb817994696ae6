/*
 * readpass.c - a password from where a password may come from: a file,
 * stdin, or the terminal with echo off (asked twice). Never argv, where
 * `ps` and the shell history would keep it.
 *
 * One trailing newline is not part of the password, whichever the source:
 * `echo pw | gatehousectl ... --password-stdin` and a file saved by an
 * editor both end with one, and a password that silently ended in "\n"
 * would never match what the user types at a login form.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "ctl/ctl.h"

static void chomp(char *s, size_t *len)
{
    if (*len > 0 && s[*len - 1] == '\n')
        s[--*len] = '\0';
    if (*len > 0 && s[*len - 1] == '\r')
        s[--*len] = '\0';
}

static int read_password_fd(int fd, const char *from, char *buf, size_t cap, size_t *len)
{
    ssize_t got;

    *len = 0;
    while ((got = read(fd, buf + *len, cap - *len)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return ctl_fail("reading the password from %s: %s", from, strerror(errno)), -1;
        }
        *len += (size_t)got;
        if (*len == cap)
            return ctl_fail("the password from %s is longer than %zu bytes", from, cap - 1), -1;
    }
    buf[*len] = '\0';
    chomp(buf, len);
    if (memchr(buf, '\0', *len))
        return ctl_fail("the password from %s contains a NUL byte", from), -1;
    /* nobody can type a line break into a password field */
    if (memchr(buf, '\n', *len) || memchr(buf, '\r', *len))
        return ctl_fail("the password from %s has more than one line", from), -1;
    if (*len == 0)
        return ctl_fail("the password from %s is empty", from), -1;
    return 0;
}

/* The terminal as it was before echo went off, restored on every way out,
 * Ctrl-C included: a shell left without echo is a bad way to fail. */
static struct termios tty_saved;
static int tty_fd = -1;

static void tty_restore(void)
{
    if (tty_fd >= 0)
        tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
}

static void tty_signal(int sig)
{
    tty_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int prompt_once(const char *prompt, char *buf, size_t cap, size_t *len)
{
    struct termios quiet = tty_saved;
    ssize_t got;

    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (write(tty_fd, prompt, strlen(prompt)) < 0 || tcsetattr(tty_fd, TCSAFLUSH, &quiet) < 0)
        return -1;
    *len = 0;
    for (;;) {
        got = read(tty_fd, buf + *len, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || buf[*len] == '\n')
            break;
        /* too long: refused, never cut (a cut password is another one) */
        if (++*len == cap - 1) {
            got = -1;
            break;
        }
    }
    buf[*len] = '\0';
    tty_restore();
    if (write(tty_fd, "\n", 1) < 0)
        return -1;
    return got < 0 ? -1 : 0;
}

static int prompt_password(char *buf, size_t cap, size_t *len)
{
    static char again[CTL_PW_MAX + 1];
    size_t again_len;
    int rc = -1;

    if ((tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0 || tcgetattr(tty_fd, &tty_saved) < 0) {
        if (tty_fd >= 0)
            close(tty_fd);
        tty_fd = -1;
        return ctl_fail("no terminal to ask for the password: use --password-file or "
                        "--password-stdin"), -1;
    }
    void (*old_int)(int) = signal(SIGINT, tty_signal);
    void (*old_term)(int) = signal(SIGTERM, tty_signal);
    void (*old_hup)(int) = signal(SIGHUP, tty_signal);
    if (prompt_once("Password: ", buf, cap, len) == 0 &&
        prompt_once("Retype password: ", again, sizeof again, &again_len) == 0) {
        if (*len == 0)
            ctl_fail("empty password");
        else if (*len != again_len || memcmp(buf, again, *len) != 0)
            ctl_fail("the passwords do not match");
        else
            rc = 0;
    } else {
        ctl_fail("reading the password from the terminal failed (or it is longer than %zu "
                 "bytes)", cap - 2);
    }
    explicit_bzero(again, sizeof again);
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
    signal(SIGHUP, old_hup);
    close(tty_fd);
    tty_fd = -1;
    return rc;
}

int ctl_read_password(const char *file, char *buf, size_t cap, size_t *len)
{
    if (!file)
        return prompt_password(buf, cap, len);
    if (strcmp(file, "-") == 0)
        return read_password_fd(STDIN_FILENO, "stdin", buf, cap, len);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ctl_fail("%s: %s", file, strerror(errno)), -1;
    int rc = read_password_fd(fd, file, buf, cap, len);
    close(fd);
    return rc;
}

