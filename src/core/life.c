/* life.c: the life of a pid: PID_NEW and PID_CLOSE, and its death (closed, its client
 * gone, or a remote pid its node reported dead): the change pipeline removes its entries
 * and fires its monitors (one RS_CH_PID_DOWN), then its calls fail and it is freed. */
#include <string.h>

#include "core/calls.h"
#include "core/change.h"
#include "core/life.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/strong.h"
#include "core/ttl.h"

void rs_life_kill_remote_text(struct rs_core *c, struct rs_proc *p, uint32_t reason,
                              struct rs_bytes text)
{
    struct rs_change ch = {.kind = RS_CH_PID_DOWN, .source = RS_SRC_PEER, .reason = reason,
                           .proc = p, .reason_text = text};
    rs_change_apply(c, &ch);
    rs_pids_release(c, p);
}

void rs_life_kill_remote(struct rs_core *c, struct rs_proc *p, uint32_t reason)
{
    rs_life_kill_remote_text(c, p, reason, rs_bytes_of(NULL, 0));
}

void rs_life_kill(struct rs_core *c, struct rs_proc *p, uint32_t reason)
{
    rs_life_kill_text(c, p, reason, rs_bytes_of(NULL, 0));
}

void rs_life_kill_text(struct rs_core *c, struct rs_proc *p, uint32_t reason,
                       struct rs_bytes text)
{
    /* Its strong entries go in one etcd transaction (the watch brings the events). The
     * reason record in etcd holds the built-in reasons only (kvrec.c): an exit there is
     * reason normal, without its text (docs/API.md). */
    rs_strong_pid_down(c, p, reason == ROSTER_REASON_EXIT ? ROSTER_REASON_NORMAL : reason);
    rs_strong_pid_gone(c, p);
    /* Out of the pid table first, so nothing below finds a half-dead pid. */
    rs_pids_unlink(c, p);
    struct rs_change ch = {.kind = RS_CH_PID_DOWN, .source = RS_SRC_LOCAL, .reason = reason,
                           .proc = p, .reason_text = text};
    rs_change_apply(c, &ch);
    rs_calls_pid_dead(c, p);
    rs_ttl_pid_gone(c, p);
    rs_free(p);
}

struct rs_proc *rs_life_owned(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    char pb[ROSTER_PID_STRLEN];
    if (req->pid.inc != c->inc) {
        /* another node's pid (alive or not) is never the caller's: roster.h's ENOTOWNER */
        rs_out_error(c, cl, req, ROSTER_ENOTOWNER,
                     "pid %s is a pid of another node, not of this client",
                     rs_fmt_pid(pb, req->pid));
        return NULL;
    }
    struct rs_proc *p = rs_pids_find(c, req->pid);
    if (!p) {
        rs_out_error(c, cl, req, ROSTER_ENOPROC, "pid %s is not alive on this node",
                     rs_fmt_pid(pb, req->pid));
        return NULL;
    }
    if (p->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTOWNER, "pid %s belongs to another client",
                     rs_fmt_pid(pb, req->pid));
        return NULL;
    }
    return p;
}

void rs_life_on_new(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (cl->n_pids >= c->lim.pids_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT, "client has %u pids (limit pids_per_client)",
                     cl->n_pids);
        return;
    }
    struct rs_proc *p = rs_pids_create(c, cl);
    if (!p)
        return;
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.pid = rs_pids_of(c, p);
    rs_out_reply(c, cl, req, &r);
}

void rs_life_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *p = rs_life_owned(c, cl, req);
    if (!p)
        return;
    rs_out_ok(c, cl, req);
    rs_life_kill(c, p, ROSTER_REASON_NORMAL);
}
