/* dash.h: the live web dashboard at --http's address (docs/DASHBOARD.md): the page (its
 * HTML, CSS and JS embedded in the binary: no external assets), JSON views copied on the
 * loop thread, and the event stream (server-sent events) fed through a bounded queue.
 * Handlers run on the HTTP thread: they reach the node only through rsd_http_on_loop and
 * the hub, never the core. */
#ifndef ROSTER_NODE_DASH_H
#define ROSTER_NODE_DASH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/http.h"

struct rsd;

/* Routes (arg: the struct rsd; http.c's table). */
int rsd_dash_page(struct rsd_http *h, void *arg, const char *path, const char *query,
                  struct rsd_http_reply *r);
int rsd_dash_state(struct rsd_http *h, void *arg, const char *path, const char *query,
                   struct rsd_http_reply *r);
int rsd_dash_names(struct rsd_http *h, void *arg, const char *path, const char *query,
                   struct rsd_http_reply *r);
int rsd_dash_groups(struct rsd_http *h, void *arg, const char *path, const char *query,
                    struct rsd_http_reply *r);
int rsd_dash_members(struct rsd_http *h, void *arg, const char *path, const char *query,
                     struct rsd_http_reply *r);
int rsd_dash_pid(struct rsd_http *h, void *arg, const char *path, const char *query,
                 struct rsd_http_reply *r);
int rsd_dash_events(struct rsd_http *h, void *arg, const char *path, const char *query,
                    struct rsd_http_reply *r);

/* rsd_dash_start makes the hub and sets the core's event tap (loop thread, before the HTTP
 * thread starts); 0 or -1. rsd_dash_stop ends every event stream and removes the tap
 * (loop thread, before the HTTP thread is joined); rsd_dash_free frees the hub after. */
int rsd_dash_start(struct rsd *n);
void rsd_dash_stop(struct rsd *n);
void rsd_dash_free(struct rsd *n);

/* rsd_dash_dropped: events lost by slow streams since start (all streams). */
uint64_t rsd_dash_dropped(struct rsd *n);

/* The page (dash_page.c). */
extern const char rsd_dash_html[];

/* rsd_dash_json_str writes bytes p[0, n) as a JSON string, quotes included: valid UTF-8 as
 * it is, control bytes, DEL and bytes of no valid UTF-8 sequence as \u00XX (names are
 * bytes, not always UTF-8). */
void rsd_dash_json_str(FILE *f, const char *p, size_t n);

#endif
