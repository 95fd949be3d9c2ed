/* output.h: the outputs of an apply: frames, replies, items, errors, events, closes, logs,
 * dials (output.c). */
#ifndef ROSTER_CORE_OUTPUT_H
#define ROSTER_CORE_OUTPUT_H

#include <stdarg.h>
#include "core/internal.h"

/* Every helper sets core->oom on allocation failure and returns -1; handlers may carry on. */
int rs_out_frame(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
int rs_out_frame_conn(struct rs_core *c, uint64_t conn, const struct rs_msg *m);
/* rs_out_reply sends r as the reply to req (type, flags, req_id are set here). */
int rs_out_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 struct rs_msg *r);
int rs_out_item(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                struct rs_msg *it);
/* rs_out_ok replies STATUS 0 with no other field. */
int rs_out_ok(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
int rs_out_error(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, int status,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* rs_out_count ends a listing: STATUS 0, the number of items sent (rs_msg_list_reply_n_set). */
int rs_out_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, uint64_t n);
int rs_out_close(struct rs_core *c, struct rs_client *cl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rs_out_close_conn(struct rs_core *c, uint64_t conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rs_out_log(struct rs_core *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* rs_out_log_level asks the shell to set its log level (0 error .. 3 debug). */
int rs_out_log_level(struct rs_core *c, int level);
/* rs_out_dial asks the shell to keep a connection to a node ("NAME HOST:PORT"). */
int rs_out_dial(struct rs_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* rs_out_undial asks the shell to stop dialing a node's addresses ("NAME ADDR", "NAME"; ""
 * for every address). */
int rs_out_undial(struct rs_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* rs_out_undial_left: RS_OUT_UNDIAL_LEFT "NAME ADDR" (a peer left: its seeds stay dialed) */
int rs_out_undial_left(struct rs_core *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* rs_out_event sends one EVENT frame to cl. */
int rs_out_event(struct rs_core *c, struct rs_client *cl, uint32_t kind, uint32_t reason,
                 int snapshot, uint64_t id, struct rs_pid pid, const struct rs_scope *sc,
                 struct rs_bytes key, struct rs_bytes meta, struct rs_bytes prev);
/* rs_out_kv asks the shell to perform op (memory valid until the next apply), answered by
 * RS_IN_KV results with user kv_id; rs_out_kv_cancel ends the stream started as kv_id. */
int rs_out_kv(struct rs_core *c, uint64_t kv_id, const etcd_op *op);
int rs_out_kv_cancel(struct rs_core *c, uint64_t kv_id);
/* rs_out_shm_fd asks the shell to pass the shared-memory region's fd to conn with the next
 * bytes it writes there (the HELLO reply). */
int rs_out_shm_fd(struct rs_core *c, uint64_t conn);
/* Text helpers for details: printable, truncated forms of keys and pids. */
const char *rs_fmt_key(char *buf, size_t cap, const uint8_t *p, size_t n);
const char *rs_fmt_pid(char *buf, struct rs_pid pid);
/* rs_out_peer sends m on up node n's connection; a node whose unread output passes
 * outbuf_max is marked to be declared down at the end of the apply (cluster.c). */
void rs_out_peer(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* Flow control (flow.c): rs_out_bytes writes an already encoded frame to cl (counted in its
 * unread like rs_out_frame), rs_out_peer_bytes to up node n's link; rs_out_flow asks the
 * shell to stop (pause 1) or resume (0) reading conn. */
int rs_out_bytes(struct rs_core *c, struct rs_client *cl, const uint8_t *p, size_t len);
void rs_out_peer_bytes(struct rs_core *c, struct rs_node *n, const uint8_t *p, size_t len);
int rs_out_flow(struct rs_core *c, uint64_t conn, int pause);

/* rs_out_channel_fd: RS_OUT_CHANNEL_FD for conn (level 0: make channel id's socket pair and
 * pass its first end; 1: pass its second end), before the CHANNEL frame's SEND (chan.c). */
int rs_out_channel_fd(struct rs_core *c, uint64_t conn, int level, uint64_t id);

#endif
