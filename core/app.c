/*
 * app.c - a thread's share of the daemon: its plugin instances and its
 * storage connection, opened together by workers, hashing threads and the
 * event loops that read (api/job.c), and closed together.
 */
#include "app.h"

gh_conn *app_thread_open(gh_app *app, char *err, size_t errlen)
{
    gh_conn *c;

    if (plugins_thread_init(&app->plugins, err, errlen) < 0)
        return NULL;
    if (!(c = store_thread_open(app->store, err, errlen)))
        plugins_thread_fini(&app->plugins);
    return c;
}

void app_thread_close(gh_app *app)
{
    /* the connection first: the driver's instance holds it */
    store_thread_close(store_current());
    plugins_thread_fini(&app->plugins);
}
