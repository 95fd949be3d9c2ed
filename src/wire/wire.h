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
 * Body fields, present or absent per (type, shape) as the table in wire.c says, always in
 * this order:
 *
 *   STATUS  i32          0 or a negative ROSTER_E* code
 *   OPTS    u32          flags of the request / event kind and reason (see below)
 *   ARG     u64          count, limit, id, incarnation, magic, ...
 *   ARG2    u64          second number
 *   PID     u64 + u64    node incarnation, serial
 *   SCOPE   u16 + bytes  scope name, <= RS_SCOPE_MAX
 *   NODE    u16 + bytes  node name, <= RS_NODE_NAME_MAX
 *   KEY     u32 + bytes  name, group, prefix or pattern, <= limits.name_max
 *   META    u32 + bytes  metadata, <= limits.meta_max
 *   PREV    u32 + bytes  previous metadata (events) or error detail text, <= limits.meta_max
 *
 * A body must hold exactly its fields: trailing bytes are malformed.
 *
 * Version story: the HELLO request and reply never change shape. A client sends
 * RS_WIRE_MAGIC and its protocol version; a node speaking another version answers HELLO with
 * ROSTER_EVERSION and closes. Any other change to a shape bumps RS_WIRE_VERSION.
 */
#ifndef ROSTER_WIRE_WIRE_H
#define ROSTER_WIRE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/limits.h"

#define RS_WIRE_MAGIC 0x52535452u /* "RSTR" */
#define RS_WIRE_VERSION 2u /* 2: MESSAGE carries PREV (more receivers) */
/* A MESSAGE names at most this many receiving pids (ARG + PREV): a publish reaches the
 * members one client holds in frames of up to this many. */
#define RS_MSG_TARGETS_MAX 1024u

/* Frame flags. */
#define RS_F_REPLY 0x01u
#define RS_F_ITEM 0x02u

enum rs_msg_type {
    RS_MSG_HELLO = 1,        /* req: OPTS=version ARG=magic KEY=client name
                                reply: STATUS OPTS=name_max ARG=node incarnation
                                ARG2=frame_max|meta_max<<32 PID=first pid NODE PREV=detail */
    RS_MSG_PING = 2,         /* req: -  reply: STATUS */
    RS_MSG_PID_NEW = 3,      /* req: -  reply: STATUS PID PREV */
    RS_MSG_PID_CLOSE = 4,    /* req: PID  reply: STATUS PREV */
    RS_MSG_SCOPE_CREATE = 5, /* req: OPTS=mode SCOPE  reply: STATUS PREV */
    RS_MSG_SCOPES = 6,       /* req: -  item: OPTS=mode ARG=names ARG2=groups SCOPE
                                reply: STATUS ARG=n PREV */
    RS_MSG_REGISTER = 7,     /* req: PID SCOPE KEY META  reply: STATUS PID=holder PREV */
    RS_MSG_UNREGISTER = 8,   /* req: SCOPE KEY  reply: STATUS PREV */
    RS_MSG_LOOKUP = 9,       /* req: SCOPE KEY  reply: STATUS PID NODE META PREV */
    RS_MSG_NAMES = 10,       /* req: ARG=limit PID=filter SCOPE KEY=prefix
                                item: PID NODE KEY META  reply: STATUS ARG=n PREV */
    RS_MSG_COUNT = 11,       /* req: SCOPE NODE=filter  item: ARG=value KEY=counter name
                                ("names", "groups", "members")  reply: STATUS ARG=n PREV */
    RS_MSG_JOIN = 12,        /* req: PID SCOPE KEY META  reply: STATUS PREV */
    RS_MSG_LEAVE = 13,       /* req: PID SCOPE KEY  reply: STATUS PREV */
    RS_MSG_MEMBERS = 14,     /* req: OPTS=RS_OPT_LOCAL SCOPE KEY=group
                                item: PID NODE KEY META  reply: STATUS ARG=n PREV */
    RS_MSG_IS_MEMBER = 15,   /* req: PID SCOPE KEY  reply: STATUS ARG=0|1 PREV */
    RS_MSG_GROUPS = 16,      /* req: ARG=limit PID=filter SCOPE KEY=prefix
                                item: ARG=member count PID NODE KEY META  reply: STATUS ARG=n PREV */
    RS_MSG_SUBSCRIBE = 17,   /* req: OPTS=ROSTER_SUB_* SCOPE KEY=pattern
                                reply: STATUS ARG=subscription id PREV */
    RS_MSG_UNSUBSCRIBE = 18, /* req: ARG=subscription id  reply: STATUS PREV */
    RS_MSG_MONITOR = 19,     /* req: PID  reply: STATUS ARG=monitor id PREV */
    RS_MSG_DEMONITOR = 20,   /* req: ARG=monitor id  reply: STATUS PREV */
    RS_MSG_STATUS = 21,      /* req: -  item: ARG=value KEY=stat name  reply: STATUS ARG=n PREV */
    RS_MSG_NODES = 22,       /* req: SCOPE  item: OPTS=state|self<<8 ARG=incarnation NODE
                                reply: STATUS ARG=n PREV */
    RS_MSG_LOG_LEVEL = 23,   /* req: OPTS=level  reply: STATUS PREV */
    RS_MSG_EVENT = 24,       /* node -> client, req_id 0:
                                OPTS=kind|reason<<8|snapshot<<16 ARG=sub/monitor id PID SCOPE
                                NODE KEY META PREV=previous metadata */
    RS_MSG_SCOPE_JOIN = 25,  /* req: SCOPE  reply: STATUS PREV */
    RS_MSG_SCOPE_LEAVE = 26, /* req: SCOPE  reply: STATUS PREV */
    /* Messaging (docs/MESSAGING.md). META of these types is a payload: the decoder bounds it
     * by the frame only; the core enforces limits.message_max (ROSTER_ETOOBIG). */
    RS_MSG_SEND = 27,        /* req: OPTS=flags ARG=from serial PID=to SCOPE KEY=name META
                                reply (only with ROSTER_SEND_CONFIRM): STATUS PREV */
    RS_MSG_MESSAGE = 28,     /* node -> client, req_id 0: OPTS=kind ARG=to serial
                                ARG2=call ref PID=from SCOPE NODE=from node KEY META
                                PREV=more receiving serials of the same client (u64 LE
                                each; a publish reaches all of a client's members in one
                                frame; empty otherwise) */
    RS_MSG_PUBLISH = 29,     /* req: OPTS=flags ARG=from serial SCOPE KEY=group META
                                reply (not with ROSTER_PUBLISH_NOWAIT): STATUS
                                ARG=recipients PREV */
    RS_MSG_CALL = 30,        /* req: OPTS=flags ARG=from serial ARG2=timeout ms PID=to SCOPE
                                KEY=name META  reply: STATUS PID=responder META PREV */
    RS_MSG_REPLY = 31,       /* req: ARG2=call ref META  (no reply) */
    RS_MSG_MULTI_CALL = 32,  /* req: OPTS=flags ARG=from serial ARG2=timeout ms SCOPE KEY=group
                                META  item: OPTS=0 replied / 1 bad PID META
                                reply: STATUS ARG=replies ARG2=bad PREV */
    /* Peer frames (node <-> node, flags 0, req_id 0; docs/CLUSTER.md). */
    RS_MSG_P_NODE = 64,       /* OPTS=state ARG=incarnation NODE=name KEY=listen address */
    RS_MSG_P_SCOPE = 65,      /* OPTS=1 joined / 0 left SCOPE */
    RS_MSG_P_SYNC_BEGIN = 66, /* SCOPE */
    RS_MSG_P_ENTRY = 67,      /* OPTS=kind (1 name, 2 member) ARG=hlc PID SCOPE KEY META */
    RS_MSG_P_SYNC_END = 68,   /* SCOPE */
    RS_MSG_P_OP = 69,         /* OPTS=op|reason<<8 ARG=hlc PID SCOPE KEY META */
    RS_MSG_P_PID_DOWN = 70,   /* OPTS=reason PID */
    RS_MSG_P_PING = 71,       /* ARG=sender time */
    RS_MSG_P_PONG = 72,       /* ARG=echoed time */
    RS_MSG_P_MONITOR = 73,    /* ARG=monitor ref PID */
    RS_MSG_P_DEMONITOR = 74,  /* ARG=monitor ref */
    RS_MSG_P_DOWN = 75,       /* OPTS=reason ARG=monitor ref PID */
    RS_MSG_P_SEND = 76,       /* OPTS=kind ARG=from serial ARG2=call ref (0: none) PID=to
                                 SCOPE KEY META */
    RS_MSG_P_PUBLISH = 77,    /* ARG=from serial SCOPE KEY=group META */
    RS_MSG_P_REPLY = 78,      /* ARG2=call ref PID=responder META */
    RS_MSG_P_NOPROC = 79,     /* ARG2=call ref PID=to STATUS (the call failed there) */
    RS_MSG_TYPE_MAX = 79,
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

/* Request options. */
#define RS_OPT_LOCAL 0x1u /* MEMBERS: local members only */

/* Messaging: SEND / PUBLISH / MULTI_CALL flags and MESSAGE kinds (the same values as
 * roster.h's ROSTER_SEND_CONFIRM, ROSTER_PUBLISH_LOCAL, ROSTER_PUBLISH_NOWAIT and
 * ROSTER_MSG_*). */
#define RS_SEND_CONFIRM 0x1u
#define RS_PUBLISH_LOCAL 0x2u
#define RS_PUBLISH_NOWAIT 0x8u /* PUBLISH: no reply at all (errors are counted, not sent) */
#define RS_MSGK_SEND 1u
#define RS_MSGK_PUBLISH 2u
#define RS_MSGK_CALL 3u
#define RS_MSGK_MULTI_CALL 4u

/* rs_wire_payload_type is 1 for the types whose META is a message payload (bounded by the
 * frame, not by meta_max). */
static inline int rs_wire_payload_type(unsigned t)
{
    return (t >= RS_MSG_SEND && t <= RS_MSG_MULTI_CALL) ||
           (t >= RS_MSG_P_SEND && t <= RS_MSG_P_REPLY);
}

/* Event kinds are roster_event_type values; reasons are roster_reason values. */
#define RS_EV_SNAPSHOT_FLAG 0x10000u

/* Log levels (LOG_LEVEL OPTS). */
enum rs_log_level { RS_LOG_ERROR = 0, RS_LOG_WARN = 1, RS_LOG_INFO = 2, RS_LOG_DEBUG = 3 };

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

/* Decoder results. */
enum rs_wire_result {
    RS_WIRE_OK = 0,
    RS_WIRE_NEED_MORE = 1,    /* frame incomplete: read more bytes */
    RS_WIRE_E_TOOBIG = -1,    /* declared length above frame_max */
    RS_WIRE_E_SHORT = -2,     /* declared length below the header */
    RS_WIRE_E_TYPE = -3,      /* unknown type or shape */
    RS_WIRE_E_RESERVED = -4,  /* reserved bits set */
    RS_WIRE_E_TRUNCATED = -5, /* a field runs past the frame */
    RS_WIRE_E_TRAILING = -6,  /* bytes left after the last field */
    RS_WIRE_E_NAMELEN = -7,   /* KEY longer than name_max */
    RS_WIRE_E_METALEN = -8,   /* META or PREV longer than meta_max */
    RS_WIRE_E_SCOPELEN = -9,  /* SCOPE or NODE longer than 255 */
};

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

#endif
