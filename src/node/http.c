/* http.c: the HTTP server of --http (see http.h): libmicrohttpd's own polling thread, a
 * route table, and the hand-off to the loop thread (a job queue woken by a uv_async). */
#include "node/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/dash.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node.h"

#define ROUTES_MAX 32
#define HTTP_CONNS_MAX 64   /* scrapers and browsers: a handful; more is refused */
#define HTTP_TIMEOUT_S 10   /* an idle or slow HTTP connection is closed */

struct job {
    void (*fn)(struct rsd *n, void *arg);
    void *arg;
    int done; /* 1 ran, -1 not run (stopping) */
    struct job *next;
};

struct route {
    char path[64];
    rsd_http_handler fn;
    void *arg;
};

struct rsd_http {
    struct rsd *node; /* used on the loop thread only (the job's fn gets it there) */
    struct MHD_Daemon *d;
    int fd;
    uv_async_t wake;
    int wake_ok;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, **tail; /* under mu */
    int stopping;             /* under mu */
    struct route routes[ROUTES_MAX];
    size_t n_routes;
};

int rsd_http_route(struct rsd_http *h, const char *path, rsd_http_handler fn, void *arg)
{
    if (h->n_routes == ROUTES_MAX || strlen(path) >= sizeof h->routes[0].path)
        return -1;
    struct route *r = &h->routes[h->n_routes++];
    snprintf(r->path, sizeof r->path, "%s", path);
    r->fn = fn;
    r->arg = arg;
    return 0;
}

/* --- the loop side --------------------------------------------------------------------- */

static void on_wake(uv_async_t *a)
{
    struct rsd_http *h = a->data;
    pthread_mutex_lock(&h->mu);
    struct job *j = h->head;
    h->head = NULL;
    h->tail = &h->head;
    pthread_mutex_unlock(&h->mu);
    /* The waiters sleep until done is set, so their jobs stay valid while they run. */
    while (j) {
        struct job *next = j->next;
        j->fn(h->node, j->arg);
        pthread_mutex_lock(&h->mu);
        j->done = 1;
        pthread_mutex_unlock(&h->mu);
        j = next;
    }
    pthread_mutex_lock(&h->mu);
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

int rsd_http_on_loop(struct rsd_http *h, void (*fn)(struct rsd *n, void *arg), void *arg)
{
    struct job j = {fn, arg, 0, NULL};
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    *h->tail = &j;
    h->tail = &j.next;
    pthread_mutex_unlock(&h->mu);
    uv_async_send(&h->wake);
    pthread_mutex_lock(&h->mu);
    while (!j.done)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    return j.done > 0 ? 0 : -1;
}

/* --- /metrics -------------------------------------------------------------------------- */

struct snap_job {
    struct rs_metrics_snap snap;
    int r;
};

static void take_snap(struct rsd *n, void *arg)
{
    struct snap_job *sj = arg;
    uint64_t t0 = uv_hrtime();
    sj->r = rs_metrics_snap_take(n, &sj->snap);
    if (n->metrics) { /* what a scrape costs the loop: counted from the next one on */
        n->metrics->snaps++;
        n->metrics->snap_ns += uv_hrtime() - t0;
    }
}

static int get_metrics(struct rsd_http *h, void *arg, const char *path, const char *query,
                       struct rsd_http_reply *r)
{
    (void)arg;
    (void)path;
    (void)query;
    struct snap_job *sj = calloc(1, sizeof *sj); /* 40 KiB: not on the thread's stack */
    if (!sj)
        return -1;
    if (rsd_http_on_loop(h, take_snap, sj) != 0 || sj->r != 0) {
        rs_metrics_snap_free(&sj->snap);
        free(sj);
        return -1;
    }
    FILE *f = open_memstream(&r->body, &r->len);
    int bad = !f;
    if (f) {
        bad = rs_metrics_format(&sj->snap, f) != 0;
        bad |= fclose(f) != 0;
    }
    rs_metrics_snap_free(&sj->snap);
    free(sj);
    if (bad) {
        free(r->body);
        r->body = NULL;
        return -1;
    }
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

/* The routes every server has. A new page (the dashboard) adds its row here, or calls
 * rsd_http_route from a function called below, before the thread starts: the table is
 * read without a lock. */
static const struct {
    const char *path;
    rsd_http_handler fn;
} builtin_routes[] = {
    {"/metrics", get_metrics},
    {"/", rsd_dash_page},
    {"/api/state", rsd_dash_state},
    {"/api/names", rsd_dash_names},
    {"/api/groups", rsd_dash_groups},
    {"/api/members", rsd_dash_members},
    {"/api/pid", rsd_dash_pid},
    {"/events", rsd_dash_events},
};

const char *rsd_http_arg(const struct rsd_http_reply *r, const char *key)
{
    return r->req ? MHD_lookup_connection_value(r->req, MHD_GET_ARGUMENT_KIND, key) : NULL;
}

/* A stream's reader as MHD wants it: MHD's 0 would mean "call again at once" (a busy
 * loop), so a stream never returns it. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct rsd_http_stream *st = cls;
    long n = st->read(st->cls, buf, max);
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
    struct rsd_http_stream *st = cls;
    st->done(st->cls);
    free(st);
}

static enum MHD_Result queue_stream(struct MHD_Connection *conn, unsigned status,
                                    const char *type, const struct rsd_http_stream *in)
{
    struct rsd_http_stream *st = malloc(sizeof *st);
    if (!st) {
        in->done(in->cls);
        return MHD_NO;
    }
    *st = *in;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* --- the HTTP thread ------------------------------------------------------------------- */

static enum MHD_Result queue_text(struct MHD_Connection *conn, unsigned status,
                                  const char *type, char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result answer_msg(struct MHD_Connection *conn, unsigned status,
                                  const char *msg)
{
    char *b = strdup(msg);
    if (!b)
        return MHD_NO;
    return queue_text(conn, status, "text/plain; charset=utf-8", b, strlen(b));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    struct rsd_http *h = cls;
    (void)version;
    (void)upload_data;
    /* The first call only announces the request: answer on the second (MHD's contract). */
    static int first;
    if (!*state) {
        *state = &first;
        return MHD_YES;
    }
    if (*upload_size)
        return answer_msg(conn, 413, "no request body expected\n");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer_msg(conn, 405, "only GET\n");
    const char *q = strchr(url, '?'); /* MHD strips it; kept for handlers all the same */
    size_t plen = q ? (size_t)(q - url) : strlen(url);
    for (size_t i = 0; i < h->n_routes; i++) {
        const struct route *rt = &h->routes[i];
        if (strlen(rt->path) != plen || memcmp(rt->path, url, plen) != 0)
            continue;
        struct rsd_http_reply r = {0};
        r.req = conn;
        if (rt->fn(h, rt->arg, rt->path, q ? q + 1 : NULL, &r) != 0)
            return answer_msg(conn, 500, "internal error (node stopping or out of memory)\n");
        if (r.stream.read)
            return queue_stream(conn, r.status ? r.status : 200,
                                r.content_type ? r.content_type : "text/plain", &r.stream);
        return queue_text(conn, r.status ? r.status : 200,
                          r.content_type ? r.content_type : "text/plain", r.body, r.len);
    }
    return answer_msg(conn, 404, "not found: try / (the dashboard) or /metrics\n");
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    rs_log(RS_LOG_WARN, "http: %s", msg);
}

/* bind_listener opens the listening socket ourselves, so a failure says why. */
static int bind_listener(const char *host, unsigned port, int *is_v6)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int r = getaddrinfo(host, ps, &hints, &ai);
    if (r != 0) {
        rs_log(RS_LOG_ERROR, "--http %s:%u: %s", host, port, gai_strerror(r));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        rs_log(RS_LOG_ERROR, "--http %s:%u: cannot listen: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    *is_v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return fd;
}

int rsd_http_start(struct rsd *n)
{
    const struct rsd_config *cfg = n->cfg;
    struct rsd_http *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    h->node = n;
    h->fd = -1;
    h->tail = &h->head;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    n->http = h;
    for (size_t i = 0; i < sizeof builtin_routes / sizeof builtin_routes[0]; i++)
        rsd_http_route(h, builtin_routes[i].path, builtin_routes[i].fn, n);
    if (rsd_dash_start(n) != 0)
        return -1;
    int v6 = 0;
    h->fd = bind_listener(cfg->http_host, cfg->http_port, &v6);
    if (h->fd < 0)
        return -1;
    if (uv_async_init(&n->loop, &h->wake, on_wake) != 0)
        return -1;
    h->wake.data = h;
    h->wake_ok = 1;
    /* A thread per connection: the event stream's reader waits for events on its own
     * thread; scrapes and page loads are a handful of short connections. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                            on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, h->fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNS_MAX,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
                            MHD_OPTION_END);
    if (!h->d) {
        rs_log(RS_LOG_ERROR, "--http %s:%u: the HTTP server did not start", cfg->http_host,
               cfg->http_port);
        return -1;
    }
    h->fd = -1; /* MHD owns it now */
    rs_log(RS_LOG_INFO, "dashboard at http://%s%s%s:%u/ (metrics at /metrics)", v6 ? "[" : "",
           cfg->http_host, v6 ? "]" : "", cfg->http_port);
    return 0;
}

static void on_wake_closed(uv_handle_t *a)
{
    free(RS_CONTAINER(a, struct rsd_http, wake));
}

void rsd_http_stop(struct rsd *n)
{
    struct rsd_http *h = n->http;
    if (!h)
        return;
    /* Jobs still queued never run: their waiters return -1 and the handlers answer 500,
     * so MHD's thread can finish its requests and be joined. */
    pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    for (struct job *j = h->head; j; j = j->next)
        j->done = -1;
    h->head = NULL;
    h->tail = &h->head;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    rsd_dash_stop(n); /* ends the event streams, so their threads can be joined */
    if (h->d)
        MHD_stop_daemon(h->d); /* joins the HTTP thread */
    rsd_dash_free(n);
    if (h->fd >= 0)
        close(h->fd);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    n->http = NULL;
    if (h->wake_ok)
        uv_close((uv_handle_t *)&h->wake, on_wake_closed); /* frees h */
    else
        free(h);
}
