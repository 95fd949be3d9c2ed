/* wire.h: the roster wire codec, one module for every frame that crosses a socket.
 *
 * No I/O, no globals, no allocation while decoding: a decoded rs_msg holds (ptr, len) views
 * into the caller's frame buffer, valid as long as that buffer. Every decoder checks every
 * length against the buffer and against the limits before using it; a malformed frame is a
 * return code (RS_WIRE_E*), never a crash. docs/PROTOCOL.md describes the same format.
 *
 * Frame (all integers little-endian):
 *
 *   OFFSET SIZE FIELD
 *   0      4    len      bytes after this field (header rest + body); 8 <= len <= frame_max
 *   4      1    type     message type (enum rs_msg_type)
 *   5      1    flags    RS_F_REPLY (answer to a request), RS_F_ITEM (one item of a listing)
 *   6      2    reserved must be 0
 *   8      4    req_id   request id chosen by the client, echoed in items and the reply;
 *                        0 in unsolicited frames (events)
 *   12     ...  body     the fields of the type's request, item or reply shape, in field order
 *
 * Body fields, present or absent per (type, shape) as RS_MSG_MAP (msgs.h) says, always in
 * this order (what a field means in a given type: RS_FIELD_MAP, msgs.h):
 *
 *   STATUS  i32          0 or a negative ROSTER_E* code
 *   OPTS    u32          flags, mode, kind (per type)
 *   ARG     u64          count, limit, id, incarnation, magic, serial (per type)
 *   ARG2    u64          a second number (per type)
 *   PID     u64 + u64    node incarnation, serial
 *   SCOPE   u16 + bytes  scope name, <= RS_SCOPE_MAX
 *   NODE    u16 + bytes  node name, <= RS_NODE_NAME_MAX
 *   KEY     u32 + bytes  name, group, prefix, pattern, address (per type), <= limits.name_max
 *   META    u32 + bytes  metadata, <= limits.meta_max; a message payload (bounded by the frame)
 *   PREV    u32 + bytes  error detail text in replies, else per type, <= limits.meta_max
 *
 * A body must hold exactly its fields: trailing bytes are malformed.
 *
 * Version story: the HELLO request and reply never change shape. A client sends
 * RS_WIRE_MAGIC and its protocol version; a node speaking another version answers HELLO with
 * ROSTER_EVERSION and closes. Any other change to a shape, or to what a field carries, bumps
 * RS_WIRE_VERSION (history: docs/PROTOCOL.md).
 */
#ifndef ROSTER_WIRE_WIRE_H
#define ROSTER_WIRE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"
#include "wire/msgs.h"

#define RS_WIRE_MAGIC 0x52535452u /* "RSTR" */
#define RS_WIRE_VERSION 4u /* 4: strong scopes (tokens, revisions, CHECK_TOKEN, HANDOFF,
                              UPDATE, CAMPAIGN); 3: HELLO's PREV carries the limits */

/* Frame flags. */
#define RS_F_REPLY 0x01u
#define RS_F_ITEM 0x02u

/* The message types: RS_MSG_HELLO = 1, ... (the list, each type's shapes and the meaning of
 * each of its fields: msgs.h; typed views of the fields: fields.h). */
enum rs_msg_type {
#define RS_MSG_ENUM(name, value, req, item, reply, meaning) RS_MSG_##name = value,
    RS_MSG_MAP(RS_MSG_ENUM)
#undef RS_MSG_ENUM
    RS_MSG_TYPE_MAX = RS_MSG_P_DOWN_EXIT, /* wire.c checks that no type is above it */
};

/* First peer frame type: types >= RS_MSG_PEER_MIN only travel between nodes. */
#define RS_MSG_PEER_MIN 64u

/* P_ENTRY kinds and P_OP ops. */
#define RS_PENTRY_NAME 1u
#define RS_PENTRY_MEMBER 2u
#define RS_POP_REGISTER 1u
#define RS_POP_UNREGISTER 2u
#define RS_POP_JOIN 3u
#define RS_POP_LEAVE 4u
#define RS_POP_HANDOFF 5u /* a name re-pointed to another pid of the same node, in one step
                             (PID: the new holder, ARG: the new stamp, reason handoff) */

/* P_SMETA ops (a write of a scope's metadata). */
#define RS_SMETA_SET 1u
#define RS_SMETA_DELETE 2u

/* Request options. */
#define RS_OPT_LOCAL 0x1u /* MEMBERS: local members only; LOOKUP: this node's holder only */
#define RS_OPT_STALE 0x2u /* reads in strong scopes: answer from the node's local copy (kept
                             current by an etcd watch) and say which revision it reflects */
#define RS_OPT_EXACT 0x1000u /* NAMES: the key is the name (every holder of it in a scope with
                                ROSTER_SCOPE_UNIQUE_PER_NODE), not a prefix */

/* UPDATE flags (compare-and-set of metadata). */
#define RS_UPDATE_IF_TOKEN 0x1u /* only if the name's token is if_token */
#define RS_UPDATE_IF_META 0x2u  /* only if the metadata is if_meta (byte for byte) */
#define RS_UPDATE_MEMBER 0x4u   /* a membership of update_member in the group, not a name */

/* Messaging: SEND / PUBLISH / MULTI_CALL flags and MESSAGE kinds (the same values as
 * roster.h's ROSTER_SEND_CONFIRM, ROSTER_PUBLISH_LOCAL, ROSTER_PUBLISH_NOWAIT and
 * ROSTER_MSG_*). */
#define RS_SEND_CONFIRM 0x1u
#define RS_PUBLISH_LOCAL 0x2u
#define RS_PUBLISH_NOWAIT 0x8u /* PUBLISH: no reply at all (errors are counted, not sent) */
#define RS_SEND_DROP 0x10u /* SEND / PUBLISH: drop at a full mailbox instead of waiting */
#define RS_SEND_NOWAIT 0x20u /* SEND with CONFIRM: answer EAGAIN rather than hold it */
#define RS_MSGK_SEND 1u
#define RS_MSGK_PUBLISH 2u
#define RS_MSGK_CALL 3u
#define RS_MSGK_MULTI_CALL 4u

/* rs_wire_payload_type is 1 for the types whose META is a message payload (bounded by the
 * frame, not by meta_max). */
static inline int rs_wire_payload_type(unsigned t)
{
    return (t >= RS_MSG_SEND && t <= RS_MSG_MULTI_CALL) ||
           (t >= RS_MSG_P_SEND && t <= RS_MSG_P_REPLY) || t == RS_MSG_CHANNEL_REPLY;
}

/* Event kinds are roster_event_type values; reasons are roster_reason values. */
#define RS_EV_SNAPSHOT_FLAG 0x10000u

/* Log levels (LOG_LEVEL OPTS). TRACE is above DEBUG (every client request and every
 * lease expiry); OFF is a wire value only: the shell writes no line at all. */
enum rs_log_level {
    RS_LOG_ERROR = 0,
    RS_LOG_WARN = 1,
    RS_LOG_INFO = 2,
    RS_LOG_DEBUG = 3,
    RS_LOG_TRACE = 4,
    RS_LOG_OFF = 5,
};

/* LEASE kinds (issue 11 item 7; docs/API.md "Leases"). */
#define RS_LEASE_NAME 1u
#define RS_LEASE_MEMBER 2u

/* Field presence bits. */
#define RS_FLD_STATUS 0x001u
#define RS_FLD_OPTS 0x002u
#define RS_FLD_ARG 0x004u
#define RS_FLD_ARG2 0x008u
#define RS_FLD_PID 0x010u
#define RS_FLD_SCOPE 0x020u
#define RS_FLD_NODE 0x040u
#define RS_FLD_KEY 0x080u
#define RS_FLD_META 0x100u
#define RS_FLD_PREV 0x200u

struct rs_bytes {
    const uint8_t *ptr;
    uint32_t len;
};

struct rs_pid {
    uint64_t inc;
    uint64_t serial;
};

static inline int rs_pid_eq(struct rs_pid a, struct rs_pid b)
{
    return a.inc == b.inc && a.serial == b.serial;
}

/* One decoded (or to-be-encoded) message. Fields absent from the shape are ignored when
 * encoding and zeroed when decoding. */
struct rs_msg {
    uint8_t type;
    uint8_t flags;
    uint32_t req_id;
    int32_t status;
    uint32_t opts;
    uint64_t arg;
    uint64_t arg2;
    struct rs_pid pid;
    struct rs_bytes scope;
    struct rs_bytes node;
    struct rs_bytes key;
    struct rs_bytes meta;
    struct rs_bytes prev;
};

/* Decoder results: X(name, value, text for logs). */
#define RS_WIRE_RESULT_MAP(X)                                                                 \
    X(OK, 0, "ok")                                                                            \
    X(NEED_MORE, 1, "incomplete frame")                                                       \
    X(E_TOOBIG, -1, "declared frame length above the frame limit")                            \
    X(E_SHORT, -2, "declared frame length below the header size")                             \
    X(E_TYPE, -3, "unknown message type or flags")                                            \
    X(E_RESERVED, -4, "reserved header bits set")                                             \
    X(E_TRUNCATED, -5, "field runs past the end of the frame")                                \
    X(E_TRAILING, -6, "bytes after the last field")                                           \
    X(E_NAMELEN, -7, "name longer than the name limit")                                       \
    X(E_METALEN, -8, "metadata longer than the metadata limit")                               \
    X(E_SCOPELEN, -9, "scope or node name longer than 255 bytes")

enum rs_wire_result {
#define RS_WIRE_RESULT_ENUM(name, value, text) RS_WIRE_##name = value,
    RS_WIRE_RESULT_MAP(RS_WIRE_RESULT_ENUM)
#undef RS_WIRE_RESULT_ENUM
};

/* rs_wire_type_name names a message type for logs ("REGISTER"), "?" if unknown. */
const char *rs_wire_type_name(unsigned type);

/* rs_wire_strerror names a decoder result for logs. */
const char *rs_wire_strerror(int r);

/* rs_wire_fields returns the field bits of a (type, flags) shape, or 0 if there is none. */
unsigned rs_wire_fields(uint8_t type, uint8_t flags);

/* rs_wire_frame_next looks at buffered bytes: RS_WIRE_OK with *frame_len (total bytes of
 * the first frame, prefix included) when a whole frame is there, RS_WIRE_NEED_MORE, or an
 * error if the declared length is impossible. It never reads past len. */
int rs_wire_frame_next(const uint8_t *p, size_t len, uint32_t frame_max, size_t *frame_len);

/* rs_wire_decode decodes one whole frame (prefix included, exactly frame_len bytes) into
 * *msg, whose byte fields point into p. KEY is bounded by name_max and META/PREV by
 * meta_max; limits with name_max = 0 skip those two checks (the client library decodes
 * whatever its node sends within frame_max). The caller enforces semantic limits with
 * specific error codes. */
int rs_wire_decode(const uint8_t *p, size_t len, const struct rs_limits *lim, struct rs_msg *msg);

/* rs_wire_size returns the encoded size of msg (prefix included). */
size_t rs_wire_size(const struct rs_msg *msg);

/* rs_wire_encode appends msg as one frame to out; 0, or -1 if out of memory or the shape
 * is unknown. The caller makes sure the size fits the peer's frame_max. */
int rs_wire_encode(struct rs_buf *out, const struct rs_msg *msg);

/* Helpers to build byte views. */
static inline struct rs_bytes rs_bytes_of(const void *p, size_t len)
{
    struct rs_bytes b = {(const uint8_t *)p, (uint32_t)len};
    return b;
}
struct rs_bytes rs_bytes_str(const char *s);

#include "wire/fields.h" /* typed views of struct rs_msg (needs it complete) */

#endif
