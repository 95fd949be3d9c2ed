/* keep.c: what a reconnecting client (options.reconnect) keeps so that it can re-create it on
 * a new incarnation of the node: its pids, the names and memberships it holds, its
 * subscriptions and monitors. Everything is learned from the client's own answered blocking
 * requests, in one place (rs_client_request calls the two hooks), so the API calls need no
 * code of their own. Subscription and monitor ids change with the connection; the
 * application keeps the id it was first given and this file maps between the two, in
 * requests (UNSUBSCRIBE, DEMONITOR) and in events. Own pids change too: a request naming an
 * earlier pid of the client is sent with the current one. */
#include <string.h>

#include "client/client.h"

static int same_pid(roster_pid a, roster_pid b)
{
    return a.node_inc == b.node_inc && a.serial == b.serial;
}

static roster_pid to_pid(struct rs_pid p)
{
    roster_pid r = {p.inc, p.serial};
    return r;
}

static int bytes_eq(const roster_buf *b, struct rs_bytes x)
{
    return b->len == x.len && (x.len == 0 || memcmp(b->data, x.ptr, x.len) == 0);
}

static int scope_eq(const struct rs_keep *k, struct rs_bytes s)
{
    return strlen(k->scope) == s.len && memcmp(k->scope, s.ptr, s.len) == 0;
}

static void item_free(struct rs_keep *k)
{
    roster_buf_free(&k->key);
    roster_buf_free(&k->meta);
}

static void remove_at(roster_client *c, size_t i)
{
    item_free(&c->keep[i]);
    c->keep[i] = c->keep[--c->n_keep];
}

void rs_client_keep_free(roster_client *c)
{
    for (size_t i = 0; i < c->n_keep; i++)
        item_free(&c->keep[i]);
    rs_free(c->keep);
    c->keep = NULL;
    c->n_keep = c->cap_keep = 0;
}

/* add appends a zeroed item (NULL when memory runs out: the item is then not kept, which the
 * application learns only if the node restarts; the call itself succeeded). */
static struct rs_keep *add(roster_client *c, int what)
{
    if (c->n_keep == c->cap_keep) {
        size_t cap = c->cap_keep ? c->cap_keep * 2 : 16;
        struct rs_keep *v = rs_realloc(c->keep, cap * sizeof *v);
        if (!v)
            return NULL;
        c->keep = v;
        c->cap_keep = cap;
    }
    struct rs_keep *k = &c->keep[c->n_keep++];
    memset(k, 0, sizeof *k);
    k->what = what;
    return k;
}

static int set_buf(roster_buf *b, struct rs_bytes x)
{
    roster_buf_free(b);
    return rs_client_copy_buf(b, x.ptr, x.len);
}

/* find returns the item of kind what in scope with key (and pid, for memberships), or -1. */
static long find(const roster_client *c, int what, struct rs_bytes scope, struct rs_bytes key,
                 const roster_pid *pid)
{
    for (size_t i = 0; i < c->n_keep; i++) {
        const struct rs_keep *k = &c->keep[i];
        if (k->what == what && scope_eq(k, scope) && bytes_eq(&k->key, key) &&
            (!pid || same_pid(k->pid, *pid)))
            return (long)i;
    }
    return -1;
}

static long find_id(const roster_client *c, int what, uint64_t id, int by_node)
{
    for (size_t i = 0; i < c->n_keep; i++) {
        const struct rs_keep *k = &c->keep[i];
        if (k->what == what && (by_node ? k->node_id : k->app_id) == id)
            return (long)i;
    }
    return -1;
}

int rs_client_keep_add_pid(roster_client *c, roster_pid pid)
{
    struct rs_keep *k = add(c, ROSTER_KEEP_PID);
    if (!k)
        return ROSTER_ENOMEM;
    k->pid = pid;
    return 0;
}

roster_pid roster_pid_current(const roster_client *c, roster_pid pid)
{
    if (!c)
        return pid;
    for (size_t i = 0; i < c->n_keep; i++) {
        const struct rs_keep *k = &c->keep[i];
        if (k->what != ROSTER_KEEP_PID)
            continue;
        if (same_pid(k->pid, pid))
            return pid;
        unsigned n = k->n_past < RS_KEEP_PAST ? k->n_past : RS_KEEP_PAST;
        for (unsigned j = 0; j < n; j++)
            if (same_pid(k->past[j], pid))
                return k->pid;
    }
    return pid;
}

uint64_t roster_reconnects(const roster_client *c) { return c ? c->reconnects : 0; }

/* Requests whose PID field is one of the client's own pids (HANDOFF's is the new holder,
 * which may be ours too; MONITOR's may be anyone's: mapping leaves others' alone). */
static int takes_own_pid(unsigned type)
{
    switch (type) {
    case RS_MSG_REGISTER: case RS_MSG_JOIN: case RS_MSG_LEAVE: case RS_MSG_PID_CLOSE:
    case RS_MSG_MONITOR: case RS_MSG_HANDOFF: case RS_MSG_UPDATE: case RS_MSG_IS_MEMBER:
    case RS_MSG_LEASE: case RS_MSG_RENEW: case RS_MSG_PID_EXIT:
        return 1;
    default:
        return 0;
    }
}

int rs_client_keep_before(roster_client *c, struct rs_msg *m)
{
    if (!c->recon)
        return 0;
    if (takes_own_pid(m->type) && (m->pid.inc || m->pid.serial)) {
        roster_pid now = roster_pid_current(c, to_pid(m->pid));
        m->pid.inc = now.node_inc;
        m->pid.serial = now.serial;
    }
    if (m->type == RS_MSG_UNSUBSCRIBE || m->type == RS_MSG_DEMONITOR) {
        int what = m->type == RS_MSG_UNSUBSCRIBE ? ROSTER_KEEP_SUBSCRIPTION : ROSTER_KEEP_MONITOR;
        long i = find_id(c, what, m->arg, 0);
        if (i < 0)
            return rs_client_fail(c, ROSTER_ENOTFOUND, "no %s %llu on this client (it ended)",
                                  what == ROSTER_KEEP_MONITOR ? "monitor" : "subscription",
                                  (unsigned long long)m->arg);
        c->pending_app_id = m->arg;
        m->arg = c->keep[i].node_id;
    }
    return 0;
}

/* forget_pid drops a closed pid and every name and membership it held. */
static void forget_pid(roster_client *c, roster_pid pid)
{
    for (size_t i = c->n_keep; i-- > 0;) {
        struct rs_keep *k = &c->keep[i];
        if ((k->what == ROSTER_KEEP_PID || k->what == ROSTER_KEEP_NAME ||
             k->what == ROSTER_KEEP_MEMBER) && same_pid(k->pid, pid))
            remove_at(c, i);
    }
}

/* own returns 1 when pid is one of the client's kept pids (current value). */
static int own(const roster_client *c, roster_pid pid)
{
    for (size_t i = 0; i < c->n_keep; i++)
        if (c->keep[i].what == ROSTER_KEEP_PID && same_pid(c->keep[i].pid, pid))
            return 1;
    return 0;
}

/* upsert keeps (scope, key[, pid]) of kind what with pid, meta and lease (a write without
 * one leaves the entry without one, as on the node). */
static void upsert(roster_client *c, int what, const struct rs_msg *m, roster_pid pid,
                   struct rs_bytes meta, uint32_t ttl_ms)
{
    long i = find(c, what, m->scope, m->key, what == ROSTER_KEEP_MEMBER ? &pid : NULL);
    struct rs_keep *k = i >= 0 ? &c->keep[i] : add(c, what);
    if (!k)
        return;
    k->pid = pid;
    k->ttl_ms = ttl_ms;
    if (i < 0) {
        rs_client_copy_str(k->scope, sizeof k->scope, m->scope);
        if (set_buf(&k->key, m->key) != 0) {
            remove_at(c, (size_t)(k - c->keep));
            return;
        }
    }
    if (set_buf(&k->meta, meta) != 0)
        remove_at(c, (size_t)(k - c->keep));
}

static void drop(roster_client *c, int what, const struct rs_msg *m, const roster_pid *pid)
{
    long i = find(c, what, m->scope, m->key, pid);
    if (i >= 0)
        remove_at(c, (size_t)i);
}

/* keep_id records a new subscription or monitor and hands the application its own id. */
static void keep_id(roster_client *c, int what, const struct rs_msg *m, struct rs_req *req)
{
    struct rs_keep *k = add(c, what);
    uint64_t app = ++c->next_app_id;
    if (k) {
        k->node_id = req->arg;
        k->app_id = app;
        k->pid = to_pid(m->pid);
        if (what == ROSTER_KEEP_SUBSCRIPTION) {
            k->flags = rs_msg_subscribe_flags(m);
            rs_client_copy_str(k->scope, sizeof k->scope, m->scope);
            if (set_buf(&k->key, m->key) != 0) {
                remove_at(c, c->n_keep - 1);
                return; /* not kept: the application gets the node's id */
            }
        }
    } else {
        return;
    }
    req->arg = app;
}

void rs_client_keep_after(roster_client *c, const struct rs_msg *m, struct rs_req *req, int r)
{
    if (!c->recon || c->restoring)
        return;
    roster_pid pid = to_pid(m->pid);
    switch (m->type) {
    case RS_MSG_PID_NEW:
        if (r == 0)
            rs_client_keep_add_pid(c, to_pid(req->pid));
        break;
    case RS_MSG_PID_CLOSE:
    case RS_MSG_PID_EXIT:
        if (r == 0 || r == ROSTER_ENOPROC)
            forget_pid(c, pid);
        break;
    case RS_MSG_LEASE:
        if (r == 0)
            upsert(c, rs_msg_lease_kind(m) == RS_LEASE_MEMBER ? ROSTER_KEEP_MEMBER
                                                              : ROSTER_KEEP_NAME,
                   m, pid, m->meta, (uint32_t)rs_msg_lease_ttl(m));
        break;
    case RS_MSG_REGISTER:
        if (r == 0)
            upsert(c, ROSTER_KEEP_NAME, m, pid, m->meta, 0);
        break;
    case RS_MSG_UNREGISTER:
        if (r == 0 || r == ROSTER_ENOTFOUND)
            drop(c, ROSTER_KEEP_NAME, m, NULL);
        break;
    case RS_MSG_JOIN:
        if (r == 0)
            upsert(c, ROSTER_KEEP_MEMBER, m, pid, m->meta, 0);
        break;
    case RS_MSG_LEAVE:
        if (r == 0 || r == ROSTER_ENOTMEMBER)
            drop(c, ROSTER_KEEP_MEMBER, m, &pid);
        break;
    case RS_MSG_UPDATE:
        if (r == 0) {
            int member = (rs_msg_update_flags(m) & RS_UPDATE_MEMBER) != 0;
            long i = find(c, member ? ROSTER_KEEP_MEMBER : ROSTER_KEEP_NAME, m->scope, m->key,
                          member ? &pid : NULL);
            if (i >= 0 && set_buf(&c->keep[i].meta, m->meta) != 0)
                remove_at(c, (size_t)i);
        }
        break;
    case RS_MSG_HANDOFF:
        if (r == 0) {
            long i = find(c, ROSTER_KEEP_NAME, m->scope, m->key, NULL);
            if (i >= 0 && own(c, pid))
                c->keep[i].pid = pid; /* handed to another of our pids */
            else if (i >= 0)
                remove_at(c, (size_t)i); /* handed away: no longer ours to re-create */
        }
        break;
    case RS_MSG_SUBSCRIBE:
        if (r == 0)
            keep_id(c, ROSTER_KEEP_SUBSCRIPTION, m, req);
        break;
    case RS_MSG_MONITOR:
        if (r == 0)
            keep_id(c, ROSTER_KEEP_MONITOR, m, req);
        break;
    case RS_MSG_UNSUBSCRIBE:
    case RS_MSG_DEMONITOR: {
        int what = m->type == RS_MSG_UNSUBSCRIBE ? ROSTER_KEEP_SUBSCRIPTION : ROSTER_KEEP_MONITOR;
        long i = find_id(c, what, c->pending_app_id, 0);
        if (i >= 0 && (r == 0 || r == ROSTER_ENOTFOUND))
            remove_at(c, (size_t)i);
        break;
    }
    default:
        break;
    }
}

void rs_client_keep_event(roster_client *c, uint8_t *p, size_t n)
{
    /* EVENT: header (12 bytes), OPTS (4: kind in the low byte), ARG (8: the id) */
    if (!c->recon || n < 24 || p[4] != RS_MSG_EVENT)
        return;
    unsigned kind = p[12];
    uint64_t id = rs_get_u64(p + 16);
    if (kind == ROSTER_EV_RECONNECTED || kind == ROSTER_EV_RESTORE_FAILED)
        return; /* made by the library, already in the application's terms */
    if (id == 0) {
        /* a notice to the holder: a name lost in a conflict or with the etcd lease is gone
         * for good and must not come back on a reconnect */
        unsigned reason = p[13];
        if (kind == ROSTER_EV_CONFLICT || reason == ROSTER_REASON_LEASE_LOST ||
            reason == ROSTER_REASON_EXPIRED) {
            /* (an expired lease: the application stopped renewing; not re-created) */
            struct rs_msg m;
            struct rs_limits lim = c->dec;
            if (rs_wire_decode(p, n, &lim, &m) == RS_WIRE_OK) {
                roster_pid who = to_pid(m.pid);
                if (kind == ROSTER_EV_LEFT)
                    drop(c, ROSTER_KEEP_MEMBER, &m, &who);
                else
                    drop(c, ROSTER_KEEP_NAME, &m, NULL);
            }
        }
        return;
    }
    int what = kind == ROSTER_EV_DOWN ? ROSTER_KEEP_MONITOR : ROSTER_KEEP_SUBSCRIPTION;
    long i = find_id(c, what, id, 1);
    if (i < 0)
        return;
    rs_put_u64(p + 16, c->keep[i].app_id);
    /* a monitor fires once; an overflowed subscription has ended on the node */
    if (kind == ROSTER_EV_DOWN || kind == ROSTER_EV_OVERFLOW)
        remove_at(c, (size_t)i);
}
