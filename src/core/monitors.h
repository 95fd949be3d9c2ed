/* monitors.h: the tables of monitors of clients and of other nodes (monitors.c): data and
 * indexes only. */
#ifndef ROSTER_CORE_MONITORS_H
#define ROSTER_CORE_MONITORS_H

#include "core/internal.h"

struct rs_monitor *rs_monitors_find(const struct rs_core *c, uint64_t id);
/* rs_monitors_add indexes m (id, client, and target or rnode set); 0, or -1 when out of
 * memory (m is then in no table). */
int rs_monitors_add(struct rs_core *c, struct rs_monitor *m);
/* rs_monitors_free takes m out of every table and frees it. */
void rs_monitors_free(struct rs_core *c, struct rs_monitor *m);
void rs_monitors_free_all(struct rs_core *c); /* core teardown: both tables */

/* A monitor node n holds on our pid p, as reference ref of n. */
struct rs_pmon *rs_pmons_find(const struct rs_core *c, const struct rs_node *n, uint64_t ref);
struct rs_pmon *rs_pmons_add(struct rs_core *c, struct rs_node *n, struct rs_proc *p,
                             uint64_t ref);
void rs_pmons_free(struct rs_core *c, struct rs_pmon *m);

#endif
