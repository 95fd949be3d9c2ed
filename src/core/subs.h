/* subs.h: the table of subscriptions (subs.c): data and indexes only. */
#ifndef ROSTER_CORE_SUBS_H
#define ROSTER_CORE_SUBS_H

#include "core/internal.h"

struct rs_sub *rs_subs_find(const struct rs_core *c, uint64_t id);
/* rs_subs_add indexes s (id, client, scope set); 0, or -1 when out of memory. */
int rs_subs_add(struct rs_core *c, struct rs_sub *s);
/* rs_subs_free takes s out of every table and frees it. */
void rs_subs_free(struct rs_core *c, struct rs_sub *s);
void rs_subs_drop_client(struct rs_core *c, struct rs_client *cl); /* all of cl's */
void rs_subs_free_all(struct rs_core *c);                          /* core teardown */

#endif
