/* reconnect.c: options.reconnect. A restart of the node is a new incarnation: every pid and
 * entry of the old one is gone. A reconnecting client notices the lost connection at its
 * next call (or when roster_fd wakes its poller), dials again with backoff, tells the
 * application (ROSTER_EV_RECONNECTED with both incarnations) and re-creates what keep.c
 * kept: pids first (the old self becomes the new self), then names, memberships,
 * subscriptions (with a snapshot, so the application can reconcile what changed while it
 * was away) and monitors. What cannot be re-created is reported, one RESTORE_FAILED event
 * each, and forgotten. Everything runs inside the application's own calls: the library has
 * no thread. */
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "client/client.h"

#define RECON_FIRST_DELAY_MS 50
#define RECON_ATTEMPT_MAX_MS 2000 /* one attempt's connect + handshake */

int rs_client_recon_wait_ms(const roster_client *c)
{
    int64_t left = c->recon_next - rs_client_now_ms();
    return left <= 0 ? 0 : (left > 0x7fffffff ? 0x7fffffff : (int)left);
}

/* arm sets the timerfd to fire in ms (roster_fd becomes readable then). */
static void arm(roster_client *c, int ms)
{
    if (c->tfd < 0)
        return;
    struct itimerspec t;
    memset(&t, 0, sizeof t);
    if (ms <= 0)
        ms = 1; /* 0 would disarm it */
    t.it_value.tv_sec = ms / 1000;
    t.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
    timerfd_settime(c->tfd, 0, &t, NULL);
}

static void disarm(roster_client *c)
{
    if (c->tfd < 0)
        return;
    uint64_t n;
    ssize_t rd = read(c->tfd, &n, sizeof n); /* clear a fired timer */
    (void)rd;
    struct itimerspec t;
    memset(&t, 0, sizeof t);
    timerfd_settime(c->tfd, 0, &t, NULL);
}

/* queue_event appends one of the library's own events (see rs_client_recon_convert for
 * where its fields travel). */
static void queue_event(roster_client *c, struct rs_msg *m)
{
    struct rs_buf b;
    rs_buf_init(&b);
    m->type = RS_MSG_EVENT;
    if (rs_wire_encode(&b, m) != 0)
        c->events_lost++;
    else
        rs_client_evq_push(c, b.data, b.len, m);
    rs_buf_fini(&b);
}

void rs_client_recon_convert(roster_event *ev)
{
    if (ev->type == ROSTER_EV_RECONNECTED) {
        ev->old_incarnation = ev->id;
        ev->new_incarnation = ev->revision;
        ev->id = ev->revision = 0;
    } else if (ev->type == ROSTER_EV_RESTORE_FAILED) {
        ev->what = (int)(ev->revision >> 32);
        ev->status = -(int)(uint32_t)ev->revision;
        ev->revision = 0;
    }
}

static void failed(roster_client *c, const struct rs_keep *k, int status)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    rs_msg_event_opts_set(&m, rs_msg_event_opts_pack(ROSTER_EV_RESTORE_FAILED, 0, 0));
    rs_msg_event_id_set(&m, k->app_id);
    uint32_t neg = (uint32_t)(status < 0 ? -status : status);
    rs_msg_event_revision_set(&m, ((uint64_t)(unsigned)k->what << 32) | neg);
    m.pid.inc = k->pid.node_inc;
    m.pid.serial = k->pid.serial;
    m.scope = rs_bytes_of(k->scope, strlen(k->scope));
    rs_msg_event_node_set(&m, rs_bytes_of(c->node_name, strlen(c->node_name)));
    rs_msg_event_key_set(&m, rs_bytes_of(k->key.data, k->key.len));
    rs_msg_event_meta_set(&m, rs_bytes_of(k->meta.data, k->meta.len));
    rs_msg_event_prev_meta_set(&m, rs_bytes_of(c->detail, strlen(c->detail)));
    queue_event(c, &m);
}

/* lost says whether a restore step failed because the new connection went too (the rest is
 * retried on the next attempt) rather than because the node refused it. */
static int lost(const roster_client *c, int r)
{
    return c->dead || r == ROSTER_ECLOSED || r == ROSTER_EPROTO;
}

#define RESTORE_LOST 1 /* restore_one: the connection went (never a ROSTER_E* code) */

/* restore_one re-creates item k; returns 0, a refusal (a ROSTER_E* code: reported, the item
 * then forgotten) or RESTORE_LOST. */
static int restore_one(roster_client *c, struct rs_keep *k, roster_pid old_self)
{
    struct rs_msg m;
    struct rs_req req;
    memset(&m, 0, sizeof m);
    memset(&req, 0, sizeof req);
    int tmo = c->connect_timeout_ms;
    if (k->what == ROSTER_KEEP_PID) {
        roster_pid now;
        if (roster_pid_equal(k->pid, old_self)) {
            now = c->self;
        } else {
            m.type = RS_MSG_PID_NEW;
            int r = rs_client_request(c, &m, &req, tmo);
            if (r)
                return lost(c, r) ? RESTORE_LOST : r;
            now.node_inc = req.pid.inc;
            now.serial = req.pid.serial;
        }
        k->past[k->n_past++ % RS_KEEP_PAST] = k->pid;
        k->pid = now;
        return 0;
    }
    roster_pid pid = roster_pid_current(c, k->pid);
    m.pid.inc = pid.node_inc;
    m.pid.serial = pid.serial;
    m.scope = rs_bytes_of(k->scope, strlen(k->scope));
    m.key = rs_bytes_of(k->key.data, k->key.len);
    m.meta = rs_bytes_of(k->meta.data, k->meta.len);
    switch (k->what) {
    case ROSTER_KEEP_NAME:
    case ROSTER_KEEP_MEMBER:
        m.type = k->what == ROSTER_KEEP_NAME ? RS_MSG_REGISTER : RS_MSG_JOIN;
        if (k->ttl_ms) { /* with its lease again */
            m.type = RS_MSG_LEASE;
            rs_msg_lease_kind_set(&m, k->what == ROSTER_KEEP_NAME ? RS_LEASE_NAME
                                                                  : RS_LEASE_MEMBER);
            rs_msg_lease_ttl_set(&m, k->ttl_ms);
        }
        break;
    case ROSTER_KEEP_SUBSCRIPTION:
        m.type = RS_MSG_SUBSCRIBE;
        m.meta = rs_bytes_of(NULL, 0);
        /* a snapshot shows the application the state it missed */
        rs_msg_subscribe_flags_set(&m, k->flags | ROSTER_SUB_SNAPSHOT);
        break;
    default:
        m.type = RS_MSG_MONITOR;
        m.scope = m.key = m.meta = rs_bytes_of(NULL, 0);
        break;
    }
    k->pid = pid;
    int r = rs_client_request(c, &m, &req, tmo);
    if (r)
        return lost(c, r) ? RESTORE_LOST : r;
    if (k->what == ROSTER_KEEP_SUBSCRIPTION || k->what == ROSTER_KEEP_MONITOR)
        k->node_id = req.arg;
    return 0;
}

/* restore re-creates the kept items in dependency order: pids, then what uses them. */
static void restore(roster_client *c, roster_pid old_self)
{
    static const int order[] = {ROSTER_KEEP_PID, ROSTER_KEEP_NAME, ROSTER_KEEP_MEMBER,
                                ROSTER_KEEP_SUBSCRIPTION, ROSTER_KEEP_MONITOR};
    c->restoring = 1;
    for (size_t o = 0; o < sizeof order / sizeof order[0] && !c->dead; o++) {
        for (size_t i = 0; i < c->n_keep && !c->dead;) {
            struct rs_keep *k = &c->keep[i];
            if (k->what != order[o]) {
                i++;
                continue;
            }
            int r = restore_one(c, k, old_self);
            if (r == RESTORE_LOST)
                break;
            if (r == 0) {
                i++;
                continue;
            }
            failed(c, k, r);
            roster_buf_free(&k->key);
            roster_buf_free(&k->meta);
            c->keep[i] = c->keep[--c->n_keep];
        }
    }
    c->restoring = 0;
}

int rs_client_reconnect(roster_client *c)
{
    if (!c->recon || c->restoring || !c->dead)
        return c->dead ? c->dead_err : 0;
    disarm(c);
    if (c->sock >= 0) {
        /* the loss is new: close the socket at once (a dead socket would keep roster_fd
         * readable) and make the first attempt now */
        rs_client_drop_socket(c);
        c->recon_delay_ms = 0;
        c->recon_next = rs_client_now_ms();
    }
    int wait = rs_client_recon_wait_ms(c);
    if (wait > 0) {
        arm(c, wait);
        return rs_client_fail(c, ROSTER_ECLOSED, "connection to the node lost; reconnecting "
                              "(next attempt in %d ms)", wait);
    }
    uint64_t old_inc = c->node_inc;
    roster_pid old_self = c->self;
    int tmo = c->connect_timeout_ms > 0 && c->connect_timeout_ms < RECON_ATTEMPT_MAX_MS
                  ? c->connect_timeout_ms
                  : RECON_ATTEMPT_MAX_MS;
    int r = rs_client_redial(c, rs_client_deadline(tmo));
    if (r) {
        int d = c->recon_delay_ms ? c->recon_delay_ms * 2 : RECON_FIRST_DELAY_MS;
        c->recon_delay_ms = d > c->recon_max_ms ? c->recon_max_ms : d;
        c->recon_next = rs_client_now_ms() + c->recon_delay_ms;
        arm(c, c->recon_delay_ms);
        char why[RS_CLIENT_DETAIL_MAX];
        snprintf(why, sizeof why, "%s", c->detail);
        return rs_client_fail(c, ROSTER_ECLOSED, "connection to the node lost; reconnecting "
                              "(%s; next attempt in %d ms)", why, c->recon_delay_ms);
    }
    c->reconnects++;
    c->recon_delay_ms = 0;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    rs_msg_event_opts_set(&m, rs_msg_event_opts_pack(ROSTER_EV_RECONNECTED, 0, 0));
    rs_msg_event_id_set(&m, old_inc);
    rs_msg_event_revision_set(&m, c->node_inc);
    m.pid.inc = c->self.node_inc;
    m.pid.serial = c->self.serial;
    rs_msg_event_node_set(&m, rs_bytes_of(c->node_name, strlen(c->node_name)));
    queue_event(c, &m);
    restore(c, old_self);
    return c->dead ? c->dead_err : 0; /* lost again: the next call tries again */
}
