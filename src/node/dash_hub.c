/* dash_hub.c: the dashboard's event stream. The core's tap (loop thread) copies each event
 * into a bounded ring under a short lock, and only while a browser watches; each stream
 * (its own HTTP thread) reads the ring from its own cursor. A stream that falls more than
 * the ring behind skips to the newest events and tells the browser "dropped N"; a stream
 * reads at most BATCH events per GAP_MS. The loop never waits for a browser and the ring
 * never grows. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <roster.h>

#include "base/limits.h"
#include "node/dash.h"
#include "node/log.h"
#include "node/node.h"

#define RING_CAP 2048u   /* events held for the streams */
#define KEY_MAX 256u     /* key bytes kept of an event (longer keys are cut, marked) */
#define STREAMS_MAX 16   /* browsers watching at once; more are answered 503 */
#define PING_MS 5000     /* a comment line this often keeps the connection and finds it gone */
#define BATCH 256        /* events a stream sends at most per GAP_MS */
#define GAP_MS 100       /* a stream reads the ring at most this often: a browser shows no
                            more than a few thousand events a second, and a stream that read
                            every event at full speed would take a core from the node */

struct ev {
    uint32_t kind, reason;
    int group, cut;
    uint64_t inc, serial;
    uint16_t scope_len, key_len;
    char scope[RS_SCOPE_MAX];
    char key[KEY_MAX];
};

struct rsd_dash {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* broadcast on a new event or the stop */
    uint64_t next;       /* sequence number of the next event (under mu) */
    int stopping;        /* under mu */
    atomic_int streams;  /* streams open: the tap copies nothing when 0 */
    atomic_ullong dropped;
    char node[RS_NODE_NAME_MAX + 1];
    struct ev ring[RING_CAP];
};

/* tap runs on the loop thread inside rs_core_apply. */
static void tap(void *ctx, const struct rs_core_tap_event *e)
{
    struct rsd_dash *d = ctx;
    if (atomic_load_explicit(&d->streams, memory_order_relaxed) == 0)
        return;
    pthread_mutex_lock(&d->mu);
    struct ev *v = &d->ring[d->next % RING_CAP];
    v->kind = e->kind;
    v->reason = e->reason;
    v->group = e->group;
    v->inc = e->pid_inc;
    v->serial = e->pid_serial;
    v->scope_len = (uint16_t)(e->scope_len < RS_SCOPE_MAX ? e->scope_len : RS_SCOPE_MAX);
    memcpy(v->scope, e->scope, v->scope_len);
    v->cut = e->key_len > KEY_MAX;
    v->key_len = (uint16_t)(v->cut ? KEY_MAX : e->key_len);
    memcpy(v->key, e->key, v->key_len);
    d->next++;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

int rsd_dash_start(struct rsd *n)
{
    struct rsd_dash *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->mu, NULL);
    snprintf(d->node, sizeof d->node, "%s", n->cfg->name);
    n->dash = d;
    rs_core_set_tap(n->core, tap, d);
    return 0;
}

void rsd_dash_stop(struct rsd *n)
{
    struct rsd_dash *d = n->dash;
    if (!d)
        return;
    rs_core_set_tap(n->core, NULL, NULL);
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void rsd_dash_free(struct rsd *n)
{
    struct rsd_dash *d = n->dash;
    if (!d)
        return;
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
    n->dash = NULL;
}

uint64_t rsd_dash_dropped(struct rsd *n)
{
    return n->dash ? atomic_load(&n->dash->dropped) : 0;
}

/* --- one stream ------------------------------------------------------------------------ */

struct stream {
    struct rsd_dash *d;
    uint64_t at;       /* next sequence number to send */
    int hello;         /* the opening lines were sent */
    uint64_t last_ms;  /* when it last read the ring (CLOCK_MONOTONIC) */
    uint64_t last_write_ms; /* when it last had something to send */
    struct ev batch[BATCH]; /* copied out of the ring, formatted without the lock */
    char pat[KEY_MAX + 1];
    size_t pat_len;
    int prefix;        /* the pattern ended in '*': a prefix */
    char *out;         /* formatted, not yet handed to the server */
    size_t out_len, out_off;
};

static const char *kind_name(uint32_t k)
{
    static const char *const names[] = {
        "?",         "registered", "unregistered",   "updated",   "joined",
        "left",      "member_updated", "snapshot_end", "overflow", "down",
        "reply",     "conflict",   "node_up",        "node_down", "message"};
    return k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static int matches(const struct stream *s, const struct ev *e)
{
    if (s->pat_len == 0)
        return 1;
    if (s->prefix)
        return e->key_len >= s->pat_len && memcmp(e->key, s->pat, s->pat_len) == 0;
    return e->key_len == s->pat_len && !e->cut && memcmp(e->key, s->pat, s->pat_len) == 0;
}

static void format_ev(FILE *f, const struct ev *e, uint64_t seq)
{
    fprintf(f, "id: %" PRIu64 "\ndata: {\"kind\":\"%s\",\"group\":%s,\"scope\":", seq,
            kind_name(e->kind), e->group ? "true" : "false");
    rsd_dash_json_str(f, e->scope, e->scope_len);
    fputs(",\"key\":", f);
    rsd_dash_json_str(f, e->key, e->key_len);
    fprintf(f, ",\"cut\":%s,\"reason\":%u,\"pid\":\"%016" PRIx64 ".%" PRIu64 "\"}\n\n",
            e->cut ? "true" : "false", e->reason, e->inc, e->serial);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* fill waits (up to PING_MS) for events past s->at and formats those that match into
 * s->out, which stays empty when none matched and a ping is not due yet; -1 once the node
 * stops. */
static int fill(struct stream *s)
{
    struct rsd_dash *d = s->d;
    struct ev *batch = s->batch;
    size_t n = 0;
    uint64_t first = 0, lost = 0;
    uint64_t since = mono_ms() - s->last_ms;
    if (s->hello && since < GAP_MS) {
        struct timespec gap = {0, (long)(GAP_MS - since) * 1000000L};
        nanosleep(&gap, NULL);
    }
    pthread_mutex_lock(&d->mu);
    if (s->hello && d->next == s->at && !d->stopping) { /* the hello goes at once */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += PING_MS / 1000;
        pthread_cond_timedwait(&d->cv, &d->mu, &ts);
    }
    if (d->stopping) {
        pthread_mutex_unlock(&d->mu);
        return -1;
    }
    if (d->next - s->at > RING_CAP) { /* overwritten while this browser lagged: it goes
                                          on from the newest events */
        lost = d->next - BATCH - s->at;
        s->at = d->next - BATCH;
    }
    first = s->at;
    while (s->at < d->next && n < BATCH)
        batch[n++] = d->ring[s->at++ % RING_CAP];
    pthread_mutex_unlock(&d->mu);
    s->last_ms = mono_ms();

    FILE *f = open_memstream(&s->out, &s->out_len);
    if (!f)
        return -1;
    if (!s->hello) {
        s->hello = 1;
        fputs("retry: 1000\nevent: hello\ndata: {\"node\":", f);
        rsd_dash_json_str(f, d->node, strlen(d->node));
        fputs(",\"pattern\":", f);
        rsd_dash_json_str(f, s->pat, s->pat_len);
        fputs(s->prefix ? ",\"prefix\":true}\n\n" : ",\"prefix\":false}\n\n", f);
    }
    if (lost) {
        atomic_fetch_add(&d->dropped, lost);
        fprintf(f, "event: dropped\ndata: {\"dropped\":%" PRIu64 "}\n\n", lost);
    }
    for (size_t i = 0; i < n; i++)
        if (matches(s, &batch[i]))
            format_ev(f, &batch[i], first + i);
    /* Nothing written for a while (no event, or none matched): a comment line, whose write
     * finds a browser gone. */
    if (ftell(f) == 0 && s->last_ms - s->last_write_ms >= PING_MS)
        fputs(": ping\n\n", f);
    if (ftell(f) > 0)
        s->last_write_ms = s->last_ms;
    if (fclose(f) != 0)
        return -1;
    s->out_off = 0;
    return 0;
}

static long stream_read(void *cls, char *buf, size_t max)
{
    struct stream *s = cls;
    while (s->out_off == s->out_len) {
        free(s->out);
        s->out = NULL;
        s->out_len = s->out_off = 0;
        if (fill(s) != 0)
            return -1;
    }
    size_t k = s->out_len - s->out_off;
    if (k > max)
        k = max;
    memcpy(buf, s->out + s->out_off, k);
    s->out_off += k;
    return (long)k;
}

static void stream_done(void *cls)
{
    struct stream *s = cls;
    atomic_fetch_sub(&s->d->streams, 1);
    free(s->out);
    free(s);
}

int rsd_dash_events(struct rsd_http *h, void *arg, const char *path, const char *query,
                    struct rsd_http_reply *r)
{
    (void)h;
    (void)path;
    (void)query;
    struct rsd_dash *d = ((struct rsd *)arg)->dash;
    if (atomic_fetch_add(&d->streams, 1) >= STREAMS_MAX) {
        atomic_fetch_sub(&d->streams, 1);
        r->status = 503;
        r->content_type = "text/plain; charset=utf-8";
        r->body = strdup("too many event streams open\n");
        r->len = r->body ? strlen(r->body) : 0;
        return r->body ? 0 : -1;
    }
    struct stream *s = calloc(1, sizeof *s);
    if (!s) {
        atomic_fetch_sub(&d->streams, 1);
        return -1;
    }
    s->d = d;
    const char *p = rsd_http_arg(r, "pattern");
    if (p) {
        size_t n = strlen(p);
        if (n && p[n - 1] == '*') {
            s->prefix = 1;
            n--;
        }
        if (n > KEY_MAX)
            n = KEY_MAX;
        memcpy(s->pat, p, n);
        s->pat_len = n;
    }
    /* Start at the present: a browser sees what happens from now on. */
    pthread_mutex_lock(&d->mu);
    s->at = d->next;
    pthread_mutex_unlock(&d->mu);
    r->status = 200;
    r->content_type = "text/event-stream";
    r->stream.read = stream_read;
    r->stream.done = stream_done;
    r->stream.cls = s;
    return 0;
}
