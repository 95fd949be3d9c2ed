/* life.h: the life of a pid: PID_NEW, PID_CLOSE and death (life.c). */
#ifndef ROSTER_CORE_LIFE_H
#define ROSTER_CORE_LIFE_H

#include "core/internal.h"

/* rs_life_kill_remote removes every entry of remote pid p (reason) and frees it. */
void rs_life_kill_remote(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_life_kill runs the death of local pid p (entries, monitors, calls) and frees it. */
void rs_life_kill(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_life_kill_text and rs_life_kill_remote_text are the same with an exit reason (reason
 * ROSTER_REASON_EXIT: its events and notices carry text on every node; lease.c). */
void rs_life_kill_text(struct rs_core *c, struct rs_proc *p, uint32_t reason,
                       struct rs_bytes text);
void rs_life_kill_remote_text(struct rs_core *c, struct rs_proc *p, uint32_t reason,
                              struct rs_bytes text);
/* rs_life_owned checks that req's PID is a live pid of cl; else sends the error reply
 * (ENOPROC / ENOTOWNER) and returns NULL. */
struct rs_proc *rs_life_owned(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_life_on_new(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_life_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

#endif
