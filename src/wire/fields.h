/* fields.h: typed views of struct rs_msg: one getter and one setter per (type, field) of
 * RS_FIELD_MAP (msgs.h, where each field's meaning is written), and the pack/unpack helpers
 * of the fields that hold several values, and the few views shared by types one handler
 * serves alike (SEND and CALL, REGISTER and JOIN, ...). All static inline: a view costs
 * nothing at run time and the codec stays the one table-driven rs_wire_decode /
 * rs_wire_encode. */
#ifndef ROSTER_WIRE_FIELDS_H
#define ROSTER_WIRE_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

/* The C type of each struct rs_msg field an accessor can view. */
#define RS_FIELD_CTYPE_status int32_t
#define RS_FIELD_CTYPE_opts uint32_t
#define RS_FIELD_CTYPE_arg uint64_t
#define RS_FIELD_CTYPE_arg2 uint64_t
#define RS_FIELD_CTYPE_pid struct rs_pid
#define RS_FIELD_CTYPE_node struct rs_bytes
#define RS_FIELD_CTYPE_key struct rs_bytes
#define RS_FIELD_CTYPE_meta struct rs_bytes
#define RS_FIELD_CTYPE_prev struct rs_bytes

#define RS_FIELD_ACCESSORS(acc, type, shape, field, meaning)                                  \
    static inline RS_FIELD_CTYPE_##field rs_msg_##acc(const struct rs_msg *m) { return m->field; } \
    static inline void rs_msg_##acc##_set(struct rs_msg *m, RS_FIELD_CTYPE_##field v)             \
    {                                                                                        \
        m->field = v;                                                                        \
    }
RS_FIELD_MAP(RS_FIELD_ACCESSORS)
#undef RS_FIELD_ACCESSORS

/* --- HELLO reply: the node's limits ----------------------------------------------------- */

/* Version 3: an accepted HELLO's PREV is this block (u32 LE each); a refused one's PREV is
 * the reason, text. The client needs message_max to refuse a too-large message itself. */
#define RS_HELLO_LIMITS_LEN 4u /* message_max */

static inline uint64_t rs_msg_hello_sizes_pack(uint32_t frame_max, uint32_t meta_max)
{
    return (uint64_t)frame_max | ((uint64_t)meta_max << 32);
}

/* rs_msg_hello_reply_limits reads the frame and metadata limits of a HELLO reply. */
static inline void rs_msg_hello_reply_limits(const struct rs_msg *m, uint32_t *frame_max,
                                         uint32_t *meta_max)
{
    *frame_max = (uint32_t)m->arg2;
    *meta_max = (uint32_t)(m->arg2 >> 32);
}

/* rs_msg_hello_reply_set_message_max writes the limits block into buf (owned by the caller, as
 * long as m is used) and points the reply's PREV at it. */
static inline void rs_msg_hello_reply_set_message_max(struct rs_msg *m,
                                                  uint8_t buf[RS_HELLO_LIMITS_LEN],
                                                  uint32_t message_max)
{
    rs_put_u32(buf, message_max);
    m->prev = rs_bytes_of(buf, RS_HELLO_LIMITS_LEN);
}

/* rs_msg_hello_reply_message_max reads the limits block of an accepted HELLO: 0, or -1 if the
 * block is too short (not a version-3 node). */
static inline int rs_msg_hello_reply_message_max(const struct rs_msg *m, uint32_t *message_max)
{
    if (m->prev.len < RS_HELLO_LIMITS_LEN)
        return -1;
    *message_max = rs_get_u32(m->prev.ptr);
    return 0;
}

/* --- EVENT OPTS: kind | reason << 8 | RS_EV_SNAPSHOT_FLAG --------------------------------- */

static inline uint32_t rs_msg_event_opts_pack(unsigned kind, unsigned reason, int snapshot)
{
    return (kind & 0xffu) | ((reason & 0xffu) << 8) | (snapshot ? RS_EV_SNAPSHOT_FLAG : 0u);
}
static inline unsigned rs_msg_event_kind(const struct rs_msg *m) { return m->opts & 0xffu; }
static inline unsigned rs_msg_event_reason(const struct rs_msg *m)
{
    return (m->opts >> 8) & 0xffu;
}
static inline int rs_msg_event_snapshot(const struct rs_msg *m)
{
    return (m->opts & RS_EV_SNAPSHOT_FLAG) != 0;
}

/* --- P_OP OPTS: op (RS_POP_*) | reason << 8 ----------------------------------------------- */

static inline uint32_t rs_msg_p_op_pack(unsigned op, unsigned reason)
{
    return (op & 0xffu) | ((reason & 0xffu) << 8);
}
static inline unsigned rs_msg_p_op_op(const struct rs_msg *m) { return m->opts & 0xffu; }
static inline unsigned rs_msg_p_op_reason(const struct rs_msg *m) { return (m->opts >> 8) & 0xffu; }

/* --- NODES item OPTS: state | self << 8 --------------------------------------------------- */

static inline uint32_t rs_msg_nodes_item_pack(unsigned state, int self)
{
    return (state & 0xffu) | (self ? 1u << 8 : 0u);
}
static inline unsigned rs_msg_nodes_item_state(const struct rs_msg *m) { return m->opts & 0xffu; }
static inline int rs_msg_nodes_item_self(const struct rs_msg *m) { return (m->opts >> 8) & 1u; }

/* --- MESSAGE receivers: ARG, then the u64 LE serials in PREV ----------------------------- */

/* rs_msg_message_receivers counts a MESSAGE's receiving serials (PREV is a whole number of
 * serials: the client checks that when the frame arrives). */
static inline size_t rs_msg_message_receivers(const struct rs_msg *m)
{
    return 1 + m->prev.len / 8;
}

/* rs_msg_message_receiver returns receiving serial i < rs_msg_message_receivers(m). */
static inline uint64_t rs_msg_message_receiver(const struct rs_msg *m, size_t i)
{
    return i == 0 ? m->arg : rs_get_u64(m->prev.ptr + 8 * (i - 1));
}

/* rs_msg_message_set_receivers names n >= 1 receiving serials: to[0] in ARG, the others
 * packed into buf (owned by the caller, room for n - 1 serials, as long as m is used) with
 * PREV pointing at them. */
static inline void rs_msg_message_set_receivers(struct rs_msg *m, uint8_t *buf,
                                                const uint64_t *to, size_t n)
{
    m->arg = to[0];
    for (size_t j = 1; j < n; j++)
        rs_put_u64(buf + 8 * (j - 1), to[j]);
    m->prev = rs_bytes_of(buf, 8 * (n - 1));
}

/* --- views shared by several types ------------------------------------------------------ */
/* One core handler serves these types, and the field means the same in each (msgs.h names
 * the per-type accessors listed); the shared view says so once instead of picking one
 * type's name for all. */

/* Every reply: a non-zero STATUS comes with its detail text in PREV (wire.h). */
static inline void rs_msg_reply_error_text_set(struct rs_msg *m, struct rs_bytes text)
{
    m->prev = text;
}

/* Replies of the listings (SCOPES, NAMES, COUNT, MEMBERS, GROUPS, STATUS, NODES): ARG is
 * the number of items sent (scopes_reply_n, names_reply_n, ...). */
static inline void rs_msg_list_reply_n_set(struct rs_msg *m, uint64_t n) { m->arg = n; }

/* REGISTER and JOIN: KEY is the entry's name or group (register_name, join_group), META
 * its metadata (register_meta, join_meta). */
static inline struct rs_bytes rs_msg_entry_key(const struct rs_msg *m) { return m->key; }
static inline struct rs_bytes rs_msg_entry_meta(const struct rs_msg *m) { return m->meta; }

/* SEND, PUBLISH, CALL and MULTI_CALL: ARG is the sender serial, one of the client's pids
 * (send_from, publish_from, call_from, multi_call_from). */
static inline uint64_t rs_msg_sender_serial(const struct rs_msg *m) { return m->arg; }

/* SEND and CALL: PID is the receiving pid, zero to send by name (send_to, call_to), and KEY
 * the receiving name then (send_name, call_name). */
static inline struct rs_pid rs_msg_target_pid(const struct rs_msg *m) { return m->pid; }
static inline struct rs_bytes rs_msg_target_name(const struct rs_msg *m) { return m->key; }

/* CALL and MULTI_CALL: ARG2 is the node's timeout in ms, UINT64_MAX for none
 * (call_timeout_ms, multi_call_timeout_ms). */
static inline uint64_t rs_msg_call_timeout(const struct rs_msg *m) { return m->arg2; }

#endif
