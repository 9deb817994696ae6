/*
 * event_base.h - how every Gatehouse event loop makes its event_base.
 *
 * Header-only so that bench/bare.c, the benchmark's bare evhttp ceiling,
 * compiles the very same setup without linking the daemon: the ceiling
 * must use evhttp exactly as well as gatehoused does.
 *
 * epoll with libevent's changelist: evhttp turns reading off and writing
 * on (and back) around every answer, and the changelist folds each such
 * pair into one epoll_ctl(MOD) made just before epoll_wait, instead of a
 * DEL and an ADD: two syscalls a request fewer. Safe here: no socket of
 * ours is ever dup()ed, the one case libevent warns about.
 */
#ifndef GATEHOUSE_HTTP_EVENT_BASE_H
#define GATEHOUSE_HTTP_EVENT_BASE_H

#include <event2/event.h>

static inline struct event_base *gh_event_base_new(void)
{
    struct event_config *ec = event_config_new();
    struct event_base *b = NULL;

    if (ec && event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
        b = event_base_new_with_config(ec);
    if (ec)
        event_config_free(ec);
    return b ? b : event_base_new();
}

#endif
