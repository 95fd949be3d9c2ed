/* chan.h: the node's side of direct channels between two of its clients (chan.c,
 * docs/MESSAGING.md "Direct channels"). */
#ifndef ROSTER_CORE_CHAN_H
#define ROSTER_CORE_CHAN_H

#include "core/internal.h"

#define RS_CHAN_AFTER 8u         /* messages by pid from one client to another before a channel */
#define RS_CHAN_MAX_DEFAULT 64u  /* channels per client (--max-channels) */
#define RS_CHAN_RECENT 8u        /* peers whose message counts a client keeps */

int rs_chan_init(struct rs_core *c, const struct rs_core_config *cfg);
void rs_chan_free_all(struct rs_core *c);
/* rs_chan_hello: the client asked for channels in HELLO (hello_opts) */
void rs_chan_hello(struct rs_core *c, struct rs_client *cl, uint32_t hello_opts);
/* rs_chan_after_deliver: cl sent a message or call by pid to local pid `to` (written or
 * held); counts it, opens a channel at RS_CHAN_AFTER, or tells cl the route to `to`. */
void rs_chan_after_deliver(struct rs_core *c, struct rs_client *cl, uint64_t from_serial,
                           struct rs_proc *to);
void rs_chan_on_open(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
void rs_chan_on_mark(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
void rs_chan_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
void rs_chan_on_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
/* rs_chan_tag: OPTS bits for a MESSAGE from client a to client b: their channel's id above
 * the kind (RS_CHAN_TAG_SHIFT), 0 when they have none. */
uint32_t rs_chan_tag(const struct rs_core *c, struct rs_client *a, struct rs_client *b);
void rs_chan_client_gone(struct rs_core *c, struct rs_client *cl);
/* rs_chan_recheck closes the channels the access rules no longer allow (after a reload). */
void rs_chan_recheck(struct rs_core *c);

struct rs_chan_stats {
    uint64_t open, opened, closed, refused;
};
void rs_chan_stats(const struct rs_core *c, struct rs_chan_stats *st);

#endif
