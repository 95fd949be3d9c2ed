/* lease.c: TTL entries and exit reasons in the simulator (issue 11 items 7 and 8).
 *
 * Workload: clients register and join with a lease (LEASE, TTLs of 100 ms to 1.5 s, under
 * the same partitions, crashes and clock steps as everything else), renew their pids
 * (RENEW), and close pids with an exit reason (PID_EXIT; sometimes a refused one: empty, a
 * built-in reason name, a control byte).
 *
 * Invariants:
 *   - a lease is kept by its owner's node alone: the owner client hears of an expiry
 *     (UNREGISTERED / LEFT, id 0, reason expired) only for an entry it holds with a lease,
 *     never before its deadline by the node's clock (every node's monotonic clock is the
 *     simulation's, while wall clocks are skewed and stepped), and never later than two
 *     tick periods after it (checked on every deep step);
 *   - every removal with reason expired that a subscriber of ANY node sees is one that the
 *     owner's node reported (a replica never expires an entry by its own clock);
 *   - RENEW answers EEXPIRED exactly when the pid's client was told of expiries since the
 *     previous renew (the detail names how many), else the number of leased entries the
 *     client holds for that pid;
 *   - a PID_EXIT with a bad reason is refused (EINVAL) whoever's pid it names; a valid one
 *     closes the pid, and every UNREGISTERED, LEFT and DOWN with reason exit, on every
 *     node, carries the very text the pid exited with.
 * The convergence checks of invariants.c then hold with expiries in the mix: once healed
 * and quiet, every node shows exactly what the clients believe they hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define LEASE_TTL_MIN 100u
#define LEASE_TTL_MAX 1500u
#define LEASE_LATE_MS 400u /* ticks come every 20..120 ms: two periods plus slack */

static int pid_eq(struct rs_pid a, struct rs_pid b)
{
    return a.inc == b.inc && a.serial == b.serial;
}

static void pidtxt(struct rs_pid p, char *b, size_t n)
{
    snprintf(b, n, "%016llx.%llu", (unsigned long long)p.inc, (unsigned long long)p.serial);
}

int lease_exit_text_ok(const char *t)
{
    static const char *const reserved[] = {"none",     "normal",     "disconnected",
                                           "node_down", "conflict",  "noproc",
                                           "lease_lost", "handoff",  "expired",
                                           "node_left", "exit",      "unknown"};
    size_t n = strlen(t);
    if (n == 0 || n > RS_EXIT_REASON_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
            return 0;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(t, reserved[i]) == 0)
            return 0;
    return 1;
}

static struct rs_pid pick(struct sim_world *w, const struct sim_client *c)
{
    if (c->npids && !sim_pct(&w->rng, 8))
        return c->pids[sim_below(&w->rng, c->npids)];
    if (w->npids)
        return w->pids[sim_below(&w->rng, w->npids)].pid;
    return (struct rs_pid){0, 0};
}

int lease_request(struct sim_world *w, const struct sim_client *c, struct rs_msg *m, char *key,
                  const char *meta)
{
    static char text[SIM_META_MAX]; /* PID_EXIT's reason: lives until the request is sent */
    unsigned k = (unsigned)sim_below(&w->rng, 100);
    m->pid = pick(w, c);
    if (k < 70) {
        /* memberships of a scope with duplicate members take no lease (EINVAL): a name's */
        int dup = (w->s1_opts & ROSTER_SCOPE_DUPLICATE_MEMBERS) &&
                  m->scope.len == 2 && memcmp(m->scope.ptr, "s1", 2) == 0;
        int group = k >= 45 && !dup;
        if (group)
            snprintf(key, SIM_KEY_MAX, "g%d", (int)sim_below(&w->rng, SIM_NGROUPS));
        else
            snprintf(key, SIM_KEY_MAX, "%c", 'a' + (int)sim_below(&w->rng, SIM_NNAMES));
        m->type = RS_MSG_LEASE;
        rs_msg_lease_kind_set(m, group ? RS_LEASE_MEMBER : RS_LEASE_NAME);
        rs_msg_lease_ttl_set(m, sim_range(&w->rng, LEASE_TTL_MIN, LEASE_TTL_MAX));
        m->meta = rs_bytes_str(meta);
        return 1;
    }
    key[0] = 0;
    if (k < 92) {
        m->type = RS_MSG_RENEW;
        return 1;
    }
    static const char *const bad[] = {"", "normal", "expired", "exit", "a\x01"};
    if (sim_pct(&w->rng, 20))
        snprintf(text, sizeof text, "%s", bad[sim_below(&w->rng, 5)]);
    else
        snprintf(text, sizeof text, "bye-%u", (unsigned)sim_below(&w->rng, 1000));
    m->type = RS_MSG_PID_EXIT;
    m->meta = rs_bytes_str(text);
    /* the ground truth learns the text now: local subscribers hear it in the same step */
    struct sim_pidinfo *pi = pid_info(w, m->pid);
    if (pi && pi->alive && client_owns_pid(c, m->pid) && lease_exit_text_ok(text))
        snprintf(pi->exit_text, sizeof pi->exit_text, "%s", text);
    return 1;
}

void lease_granted(struct sim_world *w, struct sim_held *h, const struct sim_pending *pd)
{
    if (pd->type != RS_MSG_LEASE) {
        h->leased = 0; /* a plain register or join sets the entry's lease anew: none */
        return;
    }
    h->leased = 1;
    h->ttl_ms = (uint32_t)rs_msg_lease_ttl(&pd->req);
    h->deadline = w->now + h->ttl_ms;
    w->n_leases++;
}

void lease_on_renew_reply(struct sim_world *w, size_t ci, const struct sim_pending *pd,
                          const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    int32_t st = m->status;
    char p[48];
    pidtxt(pd->pid, p, sizeof p);
    if (!client_owns_pid(c, pd->pid)) {
        if (st != ROSTER_ENOTOWNER && st != ROSTER_ENOPROC)
            sim_fail(w, "n%d: RENEW of pid %s (not the client's) gave status %d", c->node, p,
                     (int)st);
        return;
    }
    struct sim_pidinfo *pi = pid_info(w, pd->pid);
    uint32_t told = pi ? pi->expired_unrenewed : 0;
    uint64_t leased = 0;
    for (size_t i = 0; i < c->nheld; i++)
        if (c->held[i].leased && pid_eq(c->held[i].pid, pd->pid)) {
            c->held[i].deadline = w->now + c->held[i].ttl_ms;
            leased++;
        }
    if (pi)
        pi->expired_unrenewed = 0;
    w->n_renews++;
    if (told) {
        char detail[64];
        set_copy_bytes(detail, sizeof detail, m->prev);
        unsigned said = 0;
        if (st != ROSTER_EEXPIRED || sscanf(detail, "%u leased", &said) != 1 || said != told)
            sim_fail(w, "n%d: RENEW of %s after %u expiry notices gave status %d ('%s')",
                     c->node, p, told, (int)st, detail);
        return;
    }
    if (st != 0)
        sim_fail(w, "n%d: RENEW of own pid %s with no expiry told gave status %d", c->node, p,
                 (int)st);
    else if (rs_msg_renew_reply_n(m) != leased)
        sim_fail(w, "n%d: RENEW of %s renewed %llu entries, the client holds %llu with a lease",
                 c->node, p, (unsigned long long)rs_msg_renew_reply_n(m),
                 (unsigned long long)leased);
}

void lease_on_notice(struct sim_world *w, size_t ci, uint32_t kind, const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    char key[SIM_KEY_MAX], p[48];
    set_copy_bytes(key, sizeof key, rs_msg_event_key(m));
    pidtxt(m->pid, p, sizeof p);
    int scope = client_scope_index(m->scope);
    int group = kind == ROSTER_EV_LEFT;
    struct sim_held *h = (kind == ROSTER_EV_UNREGISTERED || group)
                             ? client_held_find(c, scope, group, key, &m->pid)
                             : NULL;
    if (!h || !h->leased) {
        sim_fail(w, "n%d: expiry notice (kind %u) for %s pid %s, which client %zu does not "
                    "hold with a lease",
                 c->node, (unsigned)kind, key, p, ci);
        return;
    }
    if (w->now < h->deadline) {
        sim_fail(w, "n%d: %s of pid %s expired at %llu, %llu ms before its deadline", c->node,
                 key, p, (unsigned long long)w->now,
                 (unsigned long long)(h->deadline - w->now));
        return;
    }
    sim_log(w, "n%d: %s/%s of pid %s expired (deadline %llu)", c->node,
            sim_scope_name(scope), key, p, (unsigned long long)h->deadline);
    if (w->nexpiries == w->capexpiries) {
        w->capexpiries = w->capexpiries ? 2 * w->capexpiries : 16;
        w->expiries = realloc(w->expiries, w->capexpiries * sizeof *w->expiries);
        if (!w->expiries)
            abort();
    }
    struct sim_expiry *x = &w->expiries[w->nexpiries++];
    x->scope = scope;
    x->group = group;
    snprintf(x->key, sizeof x->key, "%s", key);
    x->pid = m->pid;
    struct sim_pidinfo *pi = pid_info(w, m->pid);
    if (pi)
        pi->expired_unrenewed++;
    w->n_expiries++;
    client_held_del(c, h);
}

void lease_check_removal(struct sim_world *w, const struct sim_client *c, int scope,
                         uint32_t kind, const struct rs_msg *m)
{
    uint32_t reason = rs_msg_event_reason(m);
    char key[SIM_KEY_MAX], p[48];
    set_copy_bytes(key, sizeof key, rs_msg_event_key(m));
    pidtxt(m->pid, p, sizeof p);
    if (reason == ROSTER_REASON_EXPIRED) {
        int group = kind == ROSTER_EV_LEFT;
        for (size_t i = w->nexpiries; i-- > 0;) {
            const struct sim_expiry *x = &w->expiries[i];
            if (x->scope == scope && x->group == group && strcmp(x->key, key) == 0 &&
                pid_eq(x->pid, m->pid))
                return;
        }
        sim_fail(w, "n%d: a subscriber saw %s of pid %s removed with reason expired, which "
                    "its owner's node never expired",
                 c->node, key, p);
    } else if (reason == ROSTER_REASON_EXIT) {
        w->n_exits++;
        char text[SIM_META_MAX + 8];
        set_copy_bytes(text, sizeof text, rs_msg_event_prev_meta(m));
        const struct sim_pidinfo *pi = pid_info(w, m->pid);
        if (!pi || strcmp(pi->exit_text, text) != 0)
            sim_fail(w, "n%d: %s of pid %s removed with exit reason '%s', the pid exited with "
                        "'%s'",
                     c->node, key, p, text, pi ? pi->exit_text : "?");
    }
}

void lease_check_down(struct sim_world *w, const struct sim_client *c, const struct rs_msg *m)
{
    if (rs_msg_event_reason(m) != ROSTER_REASON_EXIT)
        return;
    w->n_exits++;
    char text[SIM_META_MAX + 8], p[48];
    set_copy_bytes(text, sizeof text, rs_msg_event_prev_meta(m));
    pidtxt(m->pid, p, sizeof p);
    const struct sim_pidinfo *pi = pid_info(w, m->pid);
    if (!pi || strcmp(pi->exit_text, text) != 0)
        sim_fail(w, "n%d: DOWN of pid %s with exit reason '%s', the pid exited with '%s'",
                 c->node, p, text, pi ? pi->exit_text : "?");
}

void lease_check_overdue(struct sim_world *w)
{
    for (size_t ci = 0; ci < w->ncl && !w->failed; ci++) {
        const struct sim_client *c = &w->cl[ci];
        if (!c->alive || !w->nodes[c->node].core || c->node_inc != w->nodes[c->node].inc)
            continue;
        for (size_t i = 0; i < c->nheld; i++) {
            const struct sim_held *h = &c->held[i];
            if (h->leased && w->now > h->deadline + LEASE_LATE_MS) {
                char p[48];
                pidtxt(h->pid, p, sizeof p);
                sim_fail(w, "n%d: %s/%s of pid %s outlived its lease by %llu ms", c->node,
                         sim_scope_name(h->scope), h->key, p,
                         (unsigned long long)(w->now - h->deadline));
                return;
            }
        }
    }
}
