/* flow.h: flow control of messages (flow.c; docs/MESSAGING.md "Flow control"): senders are
 * slowed instead of messages dropped. */
#ifndef ROSTER_CORE_FLOW_H
#define ROSTER_CORE_FLOW_H

#include "core/internal.h"

/* A local sender whose held messages pass this many bytes is paused (the shell stops
 * reading its connection) until they fall to half of it. */
#define RS_FLOW_SENDER_HELD (1u << 20)
/* Messages from one node held here past this many bytes (or a quarter of the mark, if
 * less) ask that node to pause sending messages to us (P_FLOW), until they fall to half. */
#define RS_FLOW_LINK_HELD (4u << 20)
/* Pids of one client for which other nodes may be asked to hold messages (past it, the
 * link pause is the backstop), and pids of one node we hold messages for on its request. */
#define RS_FLOW_ASKS_MAX 16u
#define RS_FLOW_PIDS_MAX 1024u
/* A value rs_flow_*_put returns: the frame was held (not an error). */
#define RS_FLOW_HELD 1

/* Who sent a frame and what was asked of it. */
struct rs_flow_from {
    struct rs_client *sender; /* local sender, charged while the frame is held; or NULL */
    uint64_t origin;          /* the node it came from (0: this node) */
    uint32_t confirm_req;     /* a confirmed SEND: its request id, answered on delivery */
    int drop;                 /* the sender chose dropping (ROSTER_SEND_DROP): never held */
    int nowait;               /* a confirmed send that would not wait: EAGAIN, not held */
};

/* rs_flow_high is the high-water mark: unread bytes of a receiving client (or of a peer
 * link) above which messages to it are held (or dropped, when the sender chose that). */
uint64_t rs_flow_high(const struct rs_core *c);

/* rs_flow_client_put writes MESSAGE m (naming pids receivers) to client cl, or holds it
 * while cl is above the mark or already has held messages (so that nothing overtakes
 * them). Returns 0 (written), RS_FLOW_HELD, ROSTER_EAGAIN (f->drop and no room below
 * limits.mailbox_bytes; not counted here) or ROSTER_ENOMEM. */
int rs_flow_client_put(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m,
                       uint32_t pids, const struct rs_flow_from *f);
/* rs_flow_peer_put is the same for a message frame (P_SEND, P_PUBLISH) to node n, held
 * while n's link is above the mark, n asked us to pause, or earlier ones are held. With
 * f->drop the old bound applies: ROSTER_EAGAIN when held would be needed. */
int rs_flow_peer_put(struct rs_core *c, struct rs_node *n, const struct rs_msg *m,
                     uint32_t members, const struct rs_flow_from *f);

/* rs_flow_client_flushed writes what cl's room now takes. */
void rs_flow_client_flushed(struct rs_core *c, struct rs_client *cl);
/* rs_flow_client_gone drops the messages held for cl (a confirmed sender gets ENOPROC) and
 * forgets cl as the sender of messages held elsewhere (they are still delivered). */
void rs_flow_client_gone(struct rs_core *c, struct rs_client *cl);
/* rs_flow_peer_flushed writes what n's link now takes (after a FLUSHED or a resume). */
void rs_flow_peer_flushed(struct rs_core *c, struct rs_node *n);
/* rs_flow_node_down drops what was held for n and resets n's flow state. */
void rs_flow_node_down(struct rs_core *c, struct rs_node *n);
/* rs_flow_on_p_flow takes node n's P_FLOW (pause or resume). */
void rs_flow_on_p_flow(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);

/* rs_flow_free_all frees every held message (the core is being freed). */
void rs_flow_free_all(struct rs_core *c);

#endif
