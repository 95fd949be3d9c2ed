/* fair.c: bounded work per connection per loop iteration, and per-client rate limits
 * (fair.h). Without it one client writing frames at full speed is served up to 32 reads of
 * 64 KiB (libuv's per-stream read loop) per iteration, thousands of requests, while every
 * other connection waits for the iteration to end. */
#include "node/fair.h"

#include <stdlib.h>

#include "node/conn.h"
#include "node/log.h"

struct rsd_fair {
    uv_idle_t idle;   /* first: serves the backlog while it is not empty */
    uv_timer_t timer; /* wakes throttled clients while any waits */
    struct rs_link backlog, throttled;
    int idle_on, timer_on;
    unsigned rate, burst; /* tokens a second (0: no rate limit) and bucket size */
    long frames;          /* frames per turn: RSD_FAIR_FRAMES ($ROSTERD_FAIR_FRAMES) */
    struct rsd_fair_stats st;
};

#define TOKEN 1000u        /* one request, in milli-tokens */
#define THROTTLE_TICK_MS 2 /* how often throttled clients are looked at */

static void on_idle(uv_idle_t *h);
static void on_timer(uv_timer_t *h);

int rsd_fair_start(struct rsd *n)
{
    struct rsd_fair *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->backlog.next = f->backlog.prev = &f->backlog;
    f->throttled.next = f->throttled.prev = &f->throttled;
    uv_idle_init(&n->loop, &f->idle);
    uv_timer_init(&n->loop, &f->timer);
    f->idle.data = f->timer.data = n;
    /* never what keeps the loop alive: connections do */
    uv_unref((uv_handle_t *)&f->idle);
    uv_unref((uv_handle_t *)&f->timer);
    /* The benchmark's A/B knob (docs/PERFORMANCE.md): a huge value turns the bound off. */
    const char *env = getenv("ROSTERD_FAIR_FRAMES");
    long v = env ? atol(env) : 0;
    f->frames = v > 0 ? v : RSD_FAIR_FRAMES;
    if (f->frames != RSD_FAIR_FRAMES)
        rs_log(RS_LOG_WARN, "ROSTERD_FAIR_FRAMES: %ld frames per turn (default %d)", f->frames,
               RSD_FAIR_FRAMES);
    n->fair = f;
    rsd_fair_set(n, n->cfg->access.client_rate, n->cfg->access.client_burst);
    return 0;
}

void rsd_fair_free(struct rsd *n)
{
    free(n->fair);
    n->fair = NULL;
}

void rsd_fair_set(struct rsd *n, unsigned rate, unsigned burst)
{
    struct rsd_fair *f = n->fair;
    if (!f)
        return;
    if (f->rate != rate || f->burst != burst)
        rs_log(RS_LOG_INFO, "client rate limit: %s%u requests/s, burst %u", rate ? "" : "none (",
               rate, burst);
    f->rate = rate;
    f->burst = burst ? burst : 1;
}

static uint64_t cap_of(const struct rsd_fair *f) { return (uint64_t)f->burst * TOKEN; }

/* refill adds the tokens earned since the last look, up to the burst. */
static void refill(struct rsd_fair *f, struct rs_conn *c)
{
    uint64_t now = rsd_now(c->node);
    if (!c->fair_init) {
        c->fair_init = 1;
        c->tokens = cap_of(f);
        c->tokens_ms = now;
        return;
    }
    uint64_t dt = now - c->tokens_ms;
    if (dt == 0)
        return;
    c->tokens_ms = now;
    uint64_t add = dt * f->rate; /* rate tokens/s = rate milli-tokens/ms */
    c->tokens = c->tokens + add > cap_of(f) ? cap_of(f) : c->tokens + add;
}

static int limited(const struct rsd_fair *f, const struct rs_conn *c)
{
    return f && f->rate && !c->peer;
}

long rsd_fair_budget(struct rs_conn *c)
{
    struct rsd_fair *f = c->node->fair;
    long per = f ? f->frames : RSD_FAIR_FRAMES;
    if (!limited(f, c))
        return per;
    refill(f, c);
    uint64_t t = c->tokens / TOKEN;
    return t < (uint64_t)per ? (long)t : per;
}

void rsd_fair_spent(struct rs_conn *c, long frames)
{
    struct rsd_fair *f = c->node->fair;
    if (!limited(f, c) || frames <= 0)
        return;
    uint64_t cost = (uint64_t)frames * TOKEN;
    c->tokens = cost >= c->tokens ? 0 : c->tokens - cost;
}

void rsd_fair_defer(struct rs_conn *c)
{
    struct rsd *n = c->node;
    struct rsd_fair *f = n->fair;
    if (!f || c->closing)
        return;
    /* What is left may be lent from the shared scratch buffer: the reader takes its own
     * copy before the next read reuses the scratch. */
    if (rs_wire_reader_settle(&c->rd) != 0) {
        rs_log(RS_LOG_ERROR, "out of memory");
        abort();
    }
    if (!c->deferred) {
        uv_read_stop(&c->h.stream);
        c->deferred = 1;
    }
    rs_list_del(&c->fair_link);
    if (limited(f, c) && c->tokens < TOKEN) {
        f->st.throttled++;
        rs_list_push(&f->throttled, &c->fair_link);
        if (!f->timer_on) {
            f->timer_on = 1;
            uv_timer_start(&f->timer, on_timer, THROTTLE_TICK_MS, THROTTLE_TICK_MS);
        }
    } else {
        f->st.deferred++;
        rs_list_push(&f->backlog, &c->fair_link);
        if (!f->idle_on) {
            f->idle_on = 1;
            uv_idle_start(&f->idle, on_idle);
        }
    }
}

void rsd_fair_forget(struct rs_conn *c) { rs_list_del(&c->fair_link); }

/* serve gives each conn of list (taken off it first, so a conn that defers again waits
 * for the next iteration) one turn. */
static void serve(struct rsd *n, struct rs_link *list)
{
    struct rs_link turn = {&turn, &turn};
    if (list->next == list)
        return;
    /* move the whole list to turn */
    turn.next = list->next;
    turn.prev = list->prev;
    turn.next->prev = &turn;
    turn.prev->next = &turn;
    list->next = list->prev = list;
    while (turn.next != &turn) {
        struct rs_conn *c = RS_CONTAINER(turn.next, struct rs_conn, fair_link);
        rs_list_del(&c->fair_link);
        rs_conn_pump(c, 0);
    }
    rsd_perform(n);
}

static void on_idle(uv_idle_t *h)
{
    struct rsd *n = h->data;
    struct rsd_fair *f = n->fair;
    serve(n, &f->backlog);
    if (f->backlog.next == &f->backlog) {
        f->idle_on = 0;
        uv_idle_stop(&f->idle);
    }
}

static void on_timer(uv_timer_t *h)
{
    struct rsd *n = h->data;
    struct rsd_fair *f = n->fair;
    /* Only those with a token again get a turn; the others stay. */
    struct rs_link ready = {&ready, &ready};
    struct rs_link *l = f->throttled.next;
    while (l != &f->throttled) {
        struct rs_link *next = l->next;
        struct rs_conn *c = RS_CONTAINER(l, struct rs_conn, fair_link);
        refill(f, c);
        if (c->tokens >= TOKEN || !f->rate) {
            rs_list_del(l);
            rs_list_push(&ready, l);
        }
        l = next;
    }
    serve(n, &ready);
    if (f->throttled.next == &f->throttled) {
        f->timer_on = 0;
        uv_timer_stop(&f->timer);
    }
}

void rsd_fair_stats(const struct rsd *n, struct rsd_fair_stats *st)
{
    if (n->fair)
        *st = n->fair->st;
    else
        st->deferred = st->throttled = 0;
}
