/* rawclient.h: a minimal blocking client for integration tests that speaks raw frames
 * through the wire codec only (no libroster), so tests can also send malformed bytes.
 * Every receive has a deadline; nothing sleeps to synchronise. */
#ifndef ROSTER_TESTS_RAWCLIENT_H
#define ROSTER_TESTS_RAWCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "wire/reader.h"
#include "wire/wire.h"

struct rawclient {
    int fd;
    uint32_t next_req;
    struct rs_wire_reader in; /* received bytes; a returned message points into it */
    struct rs_pid pid; /* first pid from HELLO */
    uint64_t node_inc;
};

/* rc_connect connects to path; 0, or -1 (errno) on failure. */
int rc_connect(struct rawclient *rc, const char *path);
void rc_close(struct rawclient *rc);
/* rc_send_raw writes all bytes; 0 or -1. */
int rc_send_raw(struct rawclient *rc, const void *p, size_t len);
/* rc_send encodes msg (req_id assigned if 0 and returned) and sends it. */
uint32_t rc_send(struct rawclient *rc, struct rs_msg *msg);
/* rc_recv waits up to timeout_ms for one whole frame and decodes it into *msg (views valid
 * until the next rc_recv). 1 on a frame, 0 on timeout, -1 on close / error / bad frame. */
int rc_recv(struct rawclient *rc, struct rs_msg *msg, int timeout_ms);
/* rc_call sends msg and returns the status of its reply (items skipped and counted in
 * *n_items if not NULL; events skipped); the reply is left in *reply if not NULL.
 * Returns INT32_MIN on timeout or close. */
int32_t rc_call(struct rawclient *rc, struct rs_msg *msg, struct rs_msg *reply, int timeout_ms);
/* rc_hello sends HELLO with version and returns the reply status (pid stored in rc). */
int32_t rc_hello(struct rawclient *rc, uint32_t version, struct rs_msg *reply);
/* rc_register registers name -> rc's first pid in scope "default" with meta. */
int32_t rc_register(struct rawclient *rc, const char *name, size_t name_len, const void *meta,
                    size_t meta_len);
/* rc_lookup looks a name up in "default"; status, pid in *pid if not NULL. */
int32_t rc_lookup(struct rawclient *rc, const char *name, struct rs_pid *pid);
/* rc_count_names returns the "names" counter of scope "default", or -1. */
int64_t rc_count_names(struct rawclient *rc);
/* rc_wait_closed drains and returns 1 once the node closed the connection (EOF or reset)
 * within timeout_ms, 0 if still open at the deadline. */
int rc_wait_closed(struct rawclient *rc, int timeout_ms);

#endif
