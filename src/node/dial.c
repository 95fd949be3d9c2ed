/* dial.c: keeping a connection to every peer address the node was given: the --join seeds
 * and each RS_OUT_DIAL of the core. One struct rs_dial per address. A target is satisfied
 * while a peer conn to the node it names is up, whoever dialed it; otherwise it is dialed,
 * and after a failure or a loss redialed after a delay drawn uniformly from
 * [backoff/2, backoff], the backoff doubling from 100 ms up to 5 s and starting again at
 * 100 ms after a connection that stayed up for STABLE_MS (a peer that refuses us right
 * after the handshake, e.g. a duplicate name, is redialed ever more slowly). A target that turns out to be this node itself is
 * dropped; so is one whose node comes up at another address, and, when TARGETS_MAX core
 * targets exist, the one that failed most (at least GIVE_UP_FAILURES times in a row) to
 * make room for a new one (--join seeds are always kept). The source address of a dialed connection is the listen host when that is a
 * literal address, so that peers (and packet filters) see each node at one address. */
#include <arpa/inet.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "node/log.h"
#include "node/peer.h"

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define STABLE_MS 2000u /* a conn up this long resets the backoff when it ends */
#define TARGETS_MAX 1024u  /* targets from the core (RS_OUT_DIAL); seeds are not counted */
#define GIVE_UP_FAILURES 20u /* a core target failing this often may make room for another */

struct rs_dial {
    struct rs_link link; /* node->dials */
    struct rsd *node;
    char addr[270];
    char host[256];
    unsigned port;
    char name[RS_NODE_NAME_MAX + 1]; /* "" until known */
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    int resolving;
    struct rs_conn *conn; /* the attempt under way, or the up conn it made */
    uint32_t backoff_ms;
    unsigned failures; /* consecutive: the first is logged at info, the rest at debug */
    int self;          /* this node's own address: never dialed again */
    int gone;          /* forgotten while resolving: freed when the resolution ends */
    int seed;          /* a --join seed (given without a name): never dropped */
};

static void on_dial_closed(uv_handle_t *h)
{
    rs_free(RS_CONTAINER((uv_timer_t *)h, struct rs_dial, timer));
}

/* drop forgets target d, which has no attempt under way. */
static void drop(struct rs_dial *d, const char *why)
{
    rs_log(RS_LOG_DEBUG, "no longer dialing %s%s%s: %s", d->name, d->name[0] ? " at " : "",
           d->addr, why);
    rs_list_del(&d->link);
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, on_dial_closed);
}

static int idle(const struct rs_dial *d)
{
    return !d->seed && !d->conn && !d->resolving;
}

/* room makes room for one more core target: 0 if there is (possibly by dropping the idle
 * target that failed most, at least GIVE_UP_FAILURES times in a row), -1 if not. */
static int room(struct rsd *n)
{
    unsigned count = 0;
    struct rs_dial *worst = NULL;
    for (struct rs_link *l = n->dials.next; l != &n->dials; l = l->next) {
        struct rs_dial *x = RS_CONTAINER(l, struct rs_dial, link);
        count += !x->seed;
        if (idle(x) && x->failures >= GIVE_UP_FAILURES && (!worst || x->failures > worst->failures))
            worst = x;
    }
    if (count < TARGETS_MAX)
        return 0;
    if (!worst)
        return -1;
    drop(worst, "too many dial targets, and this one keeps failing");
    return 0;
}

static void attempt(struct rs_dial *d);

static int satisfied(struct rs_dial *d)
{
    struct rsd *n = d->node;
    if (!d->name[0])
        return 0;
    for (struct rs_link *l = n->all.next; l != &n->all; l = l->next) {
        struct rs_conn *c = RS_CONTAINER(l, struct rs_conn, all_link);
        if (c->peer && c->peer->up && !c->closing && !c->close_requested &&
            strcmp(c->peer->auth.peer_name, d->name) == 0)
            return 1;
    }
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    struct rs_dial *d = t->data;
    attempt(d);
    rsd_perform(d->node);
}

static void schedule(struct rs_dial *d)
{
    struct rsd *n = d->node;
    if (n->stopping || d->self || d->conn || d->resolving ||
        uv_is_active((uv_handle_t *)&d->timer) || satisfied(d))
        return;
    uint32_t b = d->backoff_ms;
    uint32_t delay = b / 2 + randombytes_uniform(b / 2 + 1);
    d->backoff_ms = b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2;
    uv_timer_start(&d->timer, on_timer, delay, 0);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct rs_conn *c = req->data;
    struct rsd *n = c->node;
    if (c->closing)
        return; /* cancelled: the conn is closing */
    c->peer->connecting = 0;
    if (status < 0) {
        struct rs_dial *d = c->peer->dial;
        char why[160];
        snprintf(why, sizeof why, "connect failed: %s (retrying with backoff)",
                 uv_strerror(status));
        rs_conn_close(c, d && d->failures == 0 ? RS_LOG_INFO : RS_LOG_DEBUG, why);
        rsd_perform(n);
        return;
    }
    rs_peer_begin(c);
    rsd_perform(n);
}

/* source_addr fills sa with the listen host (port 0) if it is a literal, specific address of
 * the family of the destination; 0 if so. */
static int source_addr(struct rsd *n, int family, struct sockaddr_storage *sa)
{
    const char *h = n->cfg->listen_host;
    memset(sa, 0, sizeof *sa);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)sa;
        if (uv_ip4_addr(h, 0, a) != 0 || a->sin_addr.s_addr == htonl(INADDR_ANY))
            return -1;
        return 0;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
    if (uv_ip6_addr(h, 0, a) != 0 || memcmp(&a->sin6_addr, &in6addr_any, sizeof in6addr_any) == 0)
        return -1;
    return 0;
}

static void connect_to(struct rs_dial *d, const struct sockaddr *dst)
{
    struct rsd *n = d->node;
    struct rs_conn *c = rs_peer_conn_new(n, 1);
    struct rsd_peer *pe = c->peer;
    pe->dial = d;
    pe->connecting = 1;
    d->conn = c;
    snprintf(pe->label, sizeof pe->label, "dialing %s%s%.100s", d->name[0] ? d->name : "",
             d->name[0] ? " at " : "", d->addr);
    struct sockaddr_storage src;
    int r = 0;
    if (n->cfg->cluster && source_addr(n, dst->sa_family, &src) == 0)
        r = uv_tcp_bind(&c->h.tcp, (const struct sockaddr *)&src, 0);
    if (r == 0)
        r = uv_tcp_connect(&pe->connect_req, &c->h.tcp, dst, on_connect);
    if (r < 0) {
        char why[160];
        snprintf(why, sizeof why, "connect failed: %s (retrying with backoff)", uv_strerror(r));
        rs_conn_close(c, d->failures == 0 ? RS_LOG_INFO : RS_LOG_DEBUG, why);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct rs_dial *d = req->data;
    struct rsd *n = d->node;
    d->resolving = 0;
    if (d->gone) { /* rs_dial_forget: out of the list already */
        uv_freeaddrinfo(res);
        uv_close((uv_handle_t *)&d->timer, on_dial_closed);
        return;
    }
    if (n->stopping) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status < 0 || !res) {
        rs_log(d->failures == 0 ? RS_LOG_INFO : RS_LOG_DEBUG,
               "dial %s: cannot resolve %s: %s (retrying with backoff)", d->addr, d->host,
               uv_strerror(status));
        d->failures++;
        uv_freeaddrinfo(res);
        schedule(d);
        return;
    }
    connect_to(d, res->ai_addr);
    uv_freeaddrinfo(res);
    rsd_perform(n);
}

static void attempt(struct rs_dial *d)
{
    struct rsd *n = d->node;
    if (n->stopping || d->self || d->conn || d->resolving || satisfied(d))
        return;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    if (uv_ip4_addr(d->host, (int)d->port, &a4) == 0) {
        connect_to(d, (const struct sockaddr *)&a4);
        return;
    }
    if (uv_ip6_addr(d->host, (int)d->port, &a6) == 0) {
        connect_to(d, (const struct sockaddr *)&a6);
        return;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof port, "%u", d->port);
    d->gai.data = d;
    int r = uv_getaddrinfo(&n->loop, &d->gai, on_resolved, d->host, port, &hints);
    if (r < 0) {
        rs_log(RS_LOG_INFO, "dial %s: cannot resolve: %s", d->addr, uv_strerror(r));
        d->failures++;
        schedule(d);
        return;
    }
    d->resolving = 1;
}

void rs_dial_keep(struct rsd *n, const char *name, size_t name_len, const char *addr,
                  size_t addr_len)
{
    if (n->stopping || addr_len == 0 || addr_len >= sizeof ((struct rs_dial *)0)->addr)
        return;
    char a[270];
    memcpy(a, addr, addr_len);
    a[addr_len] = 0;
    if (name_len > RS_NODE_NAME_MAX)
        name_len = 0;
    struct rs_dial *d = NULL;
    for (struct rs_link *l = n->dials.next; l != &n->dials; l = l->next) {
        struct rs_dial *x = RS_CONTAINER(l, struct rs_dial, link);
        if (strcmp(x->addr, a) == 0)
            d = x;
    }
    if (!d) {
        char host[256];
        unsigned port;
        if (rs_config_parse_hostport(a, host, sizeof host, &port) != 0) {
            rs_log(RS_LOG_WARN, "not dialing '%s': not HOST:PORT", a);
            return;
        }
        if (n->cfg->cluster && strcmp(a, n->cfg->listen_addr) == 0)
            return; /* this node's own address */
        if (name_len && room(n) != 0) {
            rs_log(RS_LOG_WARN, "not dialing %.*s at %s: %u dial targets already", (int)name_len,
                   name, a, TARGETS_MAX);
            return;
        }
        d = rs_calloc(1, sizeof *d);
        if (!d) {
            rs_log(RS_LOG_ERROR, "out of memory");
            abort();
        }
        d->node = n;
        memcpy(d->addr, a, addr_len + 1);
        memcpy(d->host, host, strlen(host) + 1);
        d->port = port;
        d->backoff_ms = BACKOFF_MIN_MS;
        d->seed = name_len == 0;
        uv_timer_init(&n->loop, &d->timer);
        d->timer.data = d;
        rs_list_push(&n->dials, &d->link);
        rs_log(RS_LOG_DEBUG, "keeping a connection to %.*s at %s", (int)name_len,
               name ? name : "", a);
    }
    if (name_len) {
        memcpy(d->name, name, name_len);
        d->name[name_len] = 0;
    }
    if (!uv_is_active((uv_handle_t *)&d->timer))
        attempt(d);
}

void rs_dial_on_up(struct rs_conn *c)
{
    struct rsd *n = c->node;
    const struct rs_auth *a = &c->peer->auth;
    for (struct rs_link *l = n->dials.next; l != &n->dials; l = l->next) {
        struct rs_dial *d = RS_CONTAINER(l, struct rs_dial, link);
        int mine = c->peer->dial == d;
        if (mine || (!d->name[0] && strcmp(d->addr, a->peer_addr) == 0))
            snprintf(d->name, sizeof d->name, "%s", a->peer_name);
        if (mine || strcmp(d->name, a->peer_name) == 0)
            uv_timer_stop(&d->timer);
    }
    /* The node is up at its listen address: its other addresses (an earlier incarnation's)
     * are no longer dialed. */
    if (!a->peer_addr[0])
        return;
    struct rs_link *next;
    for (struct rs_link *l = n->dials.next; l != &n->dials; l = next) {
        next = l->next;
        struct rs_dial *d = RS_CONTAINER(l, struct rs_dial, link);
        if (idle(d) && c->peer->dial != d && strcmp(d->name, a->peer_name) == 0 &&
            strcmp(d->addr, a->peer_addr) != 0)
            drop(d, "the node is up at another address");
    }
}

void rs_dial_on_closed(struct rs_conn *c)
{
    struct rsd *n = c->node;
    struct rsd_peer *pe = c->peer;
    struct rs_dial *d = pe->dial;
    if (d && d->conn == c) {
        d->conn = NULL;
        pe->dial = NULL;
        if (pe->auth.self_conn) {
            d->self = 1;
            rs_log(RS_LOG_INFO, "%s is this node's own address: not dialing it again", d->addr);
            return;
        }
        if (pe->up && rsd_now(n) - pe->up_ms >= STABLE_MS) {
            d->failures = 0;
            d->backoff_ms = BACKOFF_MIN_MS;
        } else if (!pe->up) {
            d->failures++;
        }
        schedule(d);
    }
    if (!pe->up || n->stopping)
        return;
    /* A conn to a node went away: every address of that node is redialed unless another
     * conn to it is still up. */
    for (struct rs_link *l = n->dials.next; l != &n->dials; l = l->next) {
        struct rs_dial *x = RS_CONTAINER(l, struct rs_dial, link);
        if (x != d && strcmp(x->name, pe->auth.peer_name) == 0 && !satisfied(x))
            schedule(x);
    }
}

void rs_dial_forget(struct rsd *n, const char *name, size_t name_len, const char *addr,
                    size_t addr_len, int keep_seeds)
{
    int all = name_len == 0 && addr_len == 0;
    struct rs_link *next;
    for (struct rs_link *l = n->dials.next; l != &n->dials; l = next) {
        next = l->next;
        struct rs_dial *d = RS_CONTAINER(l, struct rs_dial, link);
        int hit = all || (name_len && strlen(d->name) == name_len &&
                          memcmp(d->name, name, name_len) == 0) ||
                  (addr_len && strlen(d->addr) == addr_len && memcmp(d->addr, addr, addr_len) == 0);
        if (!hit)
            continue;
        if (keep_seeds && d->seed) {
            /* A peer left: a --join seed is still dialed (refused while the node is out;
             * it may come back by a restart, knowing only its own seeds). */
            rs_log(RS_LOG_INFO, "%s%s%s left the cluster: still dialing it (a --join seed)",
                   d->name, d->name[0] ? " at " : "", d->addr);
            continue;
        }
        /* The conn it made (an attempt or an up link) lives on without it: the core closes
         * what must close, and nothing redials. */
        if (d->conn) {
            d->conn->peer->dial = NULL;
            d->conn = NULL;
        }
        rs_log(RS_LOG_INFO, "no longer dialing %s%s%s", d->name, d->name[0] ? " at " : "",
               d->addr);
        if (d->resolving) {
            rs_list_del(&d->link);
            uv_timer_stop(&d->timer);
            d->gone = 1;
            continue;
        }
        drop(d, all ? "this node left the cluster" : "the node left or was forgotten");
    }
}

void rs_dial_stop(struct rsd *n)
{
    for (struct rs_link *l = n->dials.next; l != &n->dials; l = l->next) {
        struct rs_dial *d = RS_CONTAINER(l, struct rs_dial, link);
        uv_timer_stop(&d->timer);
        uv_close((uv_handle_t *)&d->timer, NULL);
        if (d->resolving)
            uv_cancel((uv_req_t *)&d->gai);
    }
}

void rs_dial_free(struct rsd *n)
{
    while (!rs_list_empty(&n->dials)) {
        struct rs_link *l = n->dials.next;
        rs_list_del(l);
        rs_free(RS_CONTAINER(l, struct rs_dial, link));
    }
}
