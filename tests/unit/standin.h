/*
 * standin.h - the loopback stand-ins of outside services that the plugin
 * tests start (tests/integration/NAME_standin.py, tests/standins/NAME/):
 * starting and stopping one for a test group, reading the JSON line it
 * records for each request, and capturing the daemon's log to show what a
 * plugin wrote there.
 *
 * A stand-in runs in the group's directory (fx_group_setup). A Python one
 * is called as `python3 $top_srcdir/tests/integration/<script> serve READY
 * RECORD args...`: it writes the port it listens on to READY (whole, then
 * renamed) and appends one JSON line per request to RECORD. A Node one
 * writes its port the same way and keeps its own record, read through
 * its control routes.
 */
#ifndef GH_TEST_STANDIN_H
#define GH_TEST_STANDIN_H

#include <stddef.h>
#include <sys/types.h>

#define RECORD "standin.jsonl"
#define READY "standin.port"

/* Start script with args (ending at NULL) into *pid; its port, or 0 (with
 * a line on stderr) when it did not start within 10 s. */
unsigned standin_start(const char *script, const char *const *args, pid_t *pid);
/* The npm packages of tests/standins/<dir> installed (or found) by
 * tests/npm-install.sh, outside the source tree: 0 and the directory to
 * run its scripts from in path (len bytes), or -1 when npm failed. */
int standin_npm_install(const char *dir, char *path, size_t len);
/* Start <npm_dir>/<script> under node as `node script --port-file READY
 * args...`; its port, or 0 (with a line on stderr) when it did not start
 * within 10 s. */
unsigned standin_start_node(const char *npm_dir, const char *script, const char *const *args,
                            pid_t *pid);
/* SIGTERM and wait, for a pid standin_start set (<= 0: nothing). */
void standin_stop(pid_t pid);

/* The whole file, NUL-terminated, from malloc; "" when it cannot be read. */
char *read_file(const char *path);
/* How many lines the record has now. */
int record_lines(void);
/* Line i (from 0) of the record, waiting up to 5 s for it; from malloc. */
char *record_line(int i);
/* The value of "key" (or "a.b": member b of object a) in a JSON line, as
 * text into buf: a string as it is, an integer or boolean spelt out,
 * "(null)" when null or absent. */
const char *json_field(const char *line, const char *key, char *buf, size_t len);

/* Everything logged from capture_start to capture_stop, at every level,
 * goes to a file instead of stderr; capture_stop returns it (from malloc)
 * and leaves only errors logged, as fx_group_setup does. */
void capture_start(void);
char *capture_stop(void);

#endif
