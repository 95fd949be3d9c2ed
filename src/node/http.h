/* http.h: rosterd's HTTP server (--http HOST:PORT): libmicrohttpd on a thread of its own,
 * with a table of routes (GET /metrics today; the dashboard adds its own). The HTTP thread
 * never touches the core or any loop state: a handler that needs the node's data asks the
 * loop thread to run a function (rsd_http_on_loop) and waits for it, so the client path
 * pays nothing unless somebody scrapes, and then one short callback per request. */
#ifndef ROSTER_NODE_HTTP_H
#define ROSTER_NODE_HTTP_H

#include <stddef.h>

struct rsd;
struct rsd_http;

/* A streamed body (the dashboard's event stream): read is called on the connection's own
 * thread (one thread per connection) and may block for a while; it returns bytes written
 * to buf (at most max), 0 never, -1 at the end of the stream. done frees cls. */
struct rsd_http_stream {
    long (*read)(void *cls, char *buf, size_t max);
    void (*done)(void *cls);
    void *cls;
};

/* What a handler answers: status, content type (a static string) and a malloc'd body the
 * server frees, or a stream (stream.read set: body unused). req is set by the server
 * before the call: the request, for rsd_http_arg. */
struct rsd_http_reply {
    unsigned status;
    const char *content_type;
    char *body;
    size_t len;
    struct rsd_http_stream stream;
    void *req;
};

/* rsd_http_arg returns the decoded value of query argument key of r's request, or NULL. */
const char *rsd_http_arg(const struct rsd_http_reply *r, const char *key);

/* A handler runs on the HTTP thread for a GET of its path (exact match; the query string
 * is in query, or NULL). Returns 0 with *r filled, or -1 for a 500 answer. */
typedef int (*rsd_http_handler)(struct rsd_http *h, void *arg, const char *path,
                                const char *query, struct rsd_http_reply *r);

/* rsd_http_start binds cfg->http_host:port and starts the thread with the built-in routes
 * (/metrics, and the dashboard's: dash.h); 0, or -1 with a logged reason (the node cannot start). Loop thread. */
int rsd_http_start(struct rsd *n);
/* rsd_http_stop fails the loop calls still waiting, stops the thread and frees the server
 * (loop thread; a no-op without --http). */
void rsd_http_stop(struct rsd *n);

/* rsd_http_route adds a route (before rsd_http_start returns: from the built-in table or
 * an extension's init); 0 or -1 (table full). */
int rsd_http_route(struct rsd_http *h, const char *path, rsd_http_handler fn, void *arg);

/* rsd_http_on_loop runs fn(n, arg) on the loop thread and waits for it to return; from a
 * handler only. 0 once it ran, -1 if the node is stopping (fn did not run). */
int rsd_http_on_loop(struct rsd_http *h, void (*fn)(struct rsd *n, void *arg), void *arg);

#endif
