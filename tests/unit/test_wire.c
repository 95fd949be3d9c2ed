/* test_wire.c: unit tests of the wire codec: round trips of every shape, frame splitting,
 * rejection of every malformed-frame class with its specific result, and the names and
 * typed views generated from the message list (msgs.h). */
#include <stdlib.h>
#include <string.h>

#include "roster.h"
#include "test.h"
#include "wire/wire.h"

static struct rs_limits lim(void)
{
    struct rs_limits l;
    rs_limits_default(&l);
    return l;
}

static void test_roundtrip_every_shape(void)
{
    struct rs_limits l = lim();
    const uint8_t flags[] = {0, RS_F_REPLY, RS_F_ITEM};
    int n_shapes = 0;
    for (int t = 1; t <= RS_MSG_TYPE_MAX; t++) {
        for (int f = 0; f < 3; f++) {
            unsigned fields = rs_wire_fields((uint8_t)t, flags[f]);
            if (!fields)
                continue;
            n_shapes++;
            struct rs_msg m = {0};
            m.type = (uint8_t)t;
            m.flags = flags[f];
            m.req_id = 0xdeadbeef;
            m.status = -3;
            m.opts = 0x10203;
            m.arg = 0x1122334455667788ull;
            m.arg2 = 42;
            m.pid.inc = 0xabcdef0123456789ull;
            m.pid.serial = 7;
            m.scope = rs_bytes_str("default");
            m.node = rs_bytes_str("node-a");
            m.key = rs_bytes_of("na\0me", 5);
            m.meta = rs_bytes_str("meta");
            m.prev = rs_bytes_str("previous");
            struct rs_buf b;
            rs_buf_init(&b);
            ASSERT_EQ(rs_wire_encode(&b, &m), 0);
            ASSERT_EQ(b.len, rs_wire_size(&m));
            size_t flen = 0;
            ASSERT_EQ(rs_wire_frame_next(b.data, b.len, l.frame_max, &flen), RS_WIRE_OK);
            ASSERT_EQ(flen, b.len);
            struct rs_msg d;
            ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_OK);
            ASSERT_EQ(d.type, t);
            ASSERT_EQ(d.flags, flags[f]);
            ASSERT_U64_EQ(d.req_id, 0xdeadbeef);
            if (fields & RS_FLD_STATUS)
                ASSERT_EQ(d.status, -3);
            if (fields & RS_FLD_ARG)
                ASSERT_U64_EQ(d.arg, 0x1122334455667788ull);
            if (fields & RS_FLD_PID) {
                ASSERT_U64_EQ(d.pid.inc, 0xabcdef0123456789ull);
                ASSERT_U64_EQ(d.pid.serial, 7);
            }
            if (fields & RS_FLD_KEY)
                ASSERT_MEM_EQ(d.key.ptr, d.key.len, "na\0me", 5);
            else
                ASSERT_EQ(d.key.len, 0);
            if (fields & RS_FLD_PREV)
                ASSERT_MEM_EQ(d.prev.ptr, d.prev.len, "previous", 8);
            rs_buf_fini(&b);
        }
    }
    ASSERT(n_shapes >= 40);
}

static void encode(struct rs_buf *b, uint8_t type, uint8_t flags)
{
    struct rs_msg m = {0};
    m.type = type;
    m.flags = flags;
    m.scope = rs_bytes_str("s");
    m.key = rs_bytes_str("name");
    ASSERT_EQ(rs_wire_encode(b, &m), 0);
}

static void test_frame_split_stream(void)
{
    struct rs_limits l = lim();
    struct rs_buf b;
    rs_buf_init(&b);
    encode(&b, RS_MSG_LOOKUP, 0);
    size_t first = b.len;
    encode(&b, RS_MSG_PING, 0);
    size_t flen;
    /* Every prefix of the first frame is "need more", never an error. */
    for (size_t i = 0; i < first; i++)
        ASSERT_EQ(rs_wire_frame_next(b.data, i, l.frame_max, &flen), RS_WIRE_NEED_MORE);
    ASSERT_EQ(rs_wire_frame_next(b.data, b.len, l.frame_max, &flen), RS_WIRE_OK);
    ASSERT_EQ(flen, first);
    ASSERT_EQ(rs_wire_frame_next(b.data + first, b.len - first, l.frame_max, &flen), RS_WIRE_OK);
    ASSERT_EQ(flen, b.len - first);
    rs_buf_fini(&b);
}

static void test_declared_length_judged_first(void)
{
    uint8_t h[4] = {0xff, 0xff, 0xff, 0xff}; /* 4 GiB */
    size_t flen;
    ASSERT_EQ(rs_wire_frame_next(h, 4, RS_FRAME_MAX_DEFAULT, &flen), RS_WIRE_E_TOOBIG);
    uint8_t z[4] = {0, 0, 0, 0};
    ASSERT_EQ(rs_wire_frame_next(z, 4, RS_FRAME_MAX_DEFAULT, &flen), RS_WIRE_E_SHORT);
    uint8_t s[4] = {7, 0, 0, 0};
    ASSERT_EQ(rs_wire_frame_next(s, 4, RS_FRAME_MAX_DEFAULT, &flen), RS_WIRE_E_SHORT);
}

static void test_malformed_bodies(void)
{
    struct rs_limits l = lim();
    struct rs_buf b;
    struct rs_msg d;
    rs_buf_init(&b);
    encode(&b, RS_MSG_LOOKUP, 0);
    /* unknown type */
    b.data[4] = 200;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_E_TYPE);
    b.data[4] = RS_MSG_LOOKUP;
    /* a shape that does not exist (LOOKUP has no item shape) */
    b.data[5] = RS_F_ITEM;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_E_TYPE);
    b.data[5] = 0;
    /* reserved bits */
    b.data[6] = 1;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_E_RESERVED);
    b.data[6] = 0;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_OK);
    /* a field length running past the end: KEY length is the last 4+4 bytes before "name" */
    size_t key_len_at = b.len - 4 - 4;
    rs_put_u32(b.data + key_len_at, 1000);
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_E_TRUNCATED);
    rs_put_u32(b.data + key_len_at, 0xffffffffu);
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_E_NAMELEN);
    rs_put_u32(b.data + key_len_at, 2);
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_E_TRAILING);
    rs_put_u32(b.data + key_len_at, 4);
    /* declared length disagreeing with the buffer */
    ASSERT_EQ(rs_wire_decode(b.data, b.len - 1, &l, &d), RS_WIRE_E_TRUNCATED);
    rs_buf_fini(&b);
}

static void test_limits_enforced_and_relaxed(void)
{
    struct rs_limits l = lim();
    l.name_max = 4;
    struct rs_buf b;
    rs_buf_init(&b);
    struct rs_msg m = {0};
    m.type = RS_MSG_REGISTER;
    m.key = rs_bytes_str("12345");
    ASSERT_EQ(rs_wire_encode(&b, &m), 0);
    struct rs_msg d;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_E_NAMELEN);
    /* name_max 0: the node decodes and lets the core answer ENAMETOOLONG itself */
    l.name_max = 0;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &l, &d), RS_WIRE_OK);
    ASSERT_EQ(d.key.len, 5);
    rs_buf_fini(&b);
    /* scope names are at most 255 bytes, on encode and on decode */
    char big[300];
    memset(big, 'x', sizeof big);
    m.scope = rs_bytes_of(big, 256);
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, &m), -1);
    rs_buf_fini(&b);
}

static void test_limits_coherence(void)
{
    struct rs_limits l = lim();
    ASSERT_EQ(rs_limits_check(&l), 0);
    l.meta_max = l.frame_max; /* an event with meta and previous meta could not fit */
    ASSERT_EQ(rs_limits_check(&l), -1);
    l = lim();
    l.frame_max = 100;
    ASSERT_EQ(rs_limits_check(&l), -1);
}

/* --- names and typed views (msgs.h, fields.h) --- */

static void test_type_and_result_names(void)
{
    ASSERT(strcmp(rs_wire_type_name(RS_MSG_HELLO), "HELLO") == 0);
    ASSERT(strcmp(rs_wire_type_name(RS_MSG_MULTI_CALL), "MULTI_CALL") == 0);
    ASSERT(strcmp(rs_wire_type_name(RS_MSG_P_NODE), "P_NODE") == 0);
    ASSERT(strcmp(rs_wire_type_name(RS_MSG_P_NOPROC), "P_NOPROC") == 0);
    /* a type has a name exactly when it has a shape */
    for (unsigned t = 0; t < 256; t++) {
        int shaped = rs_wire_fields((uint8_t)t, 0) != 0;
        ASSERT_EQ(strcmp(rs_wire_type_name(t), "?") != 0, shaped);
    }
    ASSERT(strcmp(rs_wire_strerror(RS_WIRE_OK), "ok") == 0);
    ASSERT(strcmp(rs_wire_strerror(RS_WIRE_E_SCOPELEN),
                  "scope or node name longer than 255 bytes") == 0);
    ASSERT(strcmp(rs_wire_strerror(-100), "unknown decoder result") == 0);
}

/* roundtrip encodes m and decodes it into out (views into *b, which the caller frees). */
static void roundtrip(const struct rs_msg *m, struct rs_buf *b, struct rs_msg *out)
{
    struct rs_limits l = lim();
    rs_buf_init(b);
    ASSERT_EQ(rs_wire_encode(b, m), 0);
    ASSERT_EQ(rs_wire_decode(b->data, b->len, &l, out), RS_WIRE_OK);
}

static void test_views_through_the_codec(void)
{
    struct rs_buf b;
    struct rs_msg d;
    /* HELLO reply (version 3): sizes in ARG2, message_max in the PREV limits block */
    struct rs_msg h = {.type = RS_MSG_HELLO, .flags = RS_F_REPLY, .req_id = 1};
    rs_msg_hello_reply_sizes_set(&h, rs_msg_hello_sizes_pack(1u << 20, 65536));
    uint8_t block[RS_HELLO_LIMITS_LEN];
    rs_msg_hello_reply_set_message_max(&h, block, 4096);
    roundtrip(&h, &b, &d);
    uint32_t frame_max = 0, meta_max = 0, message_max = 0;
    rs_msg_hello_reply_limits(&d, &frame_max, &meta_max);
    ASSERT_EQ(frame_max, 1u << 20);
    ASSERT_EQ(meta_max, 65536);
    ASSERT_EQ(rs_msg_hello_reply_message_max(&d, &message_max), 0);
    ASSERT_EQ(message_max, 4096);
    ASSERT_U64_EQ(d.arg2, (uint64_t)(1u << 20) | (uint64_t)65536 << 32); /* the v2 layout */
    rs_buf_fini(&b);
    h.prev = rs_bytes_of(block, 3); /* not a version-3 node */
    roundtrip(&h, &b, &d);
    ASSERT_EQ(rs_msg_hello_reply_message_max(&d, &message_max), -1);
    rs_buf_fini(&b);
    /* EVENT OPTS */
    struct rs_msg e = {.type = RS_MSG_EVENT};
    rs_msg_event_opts_set(&e, rs_msg_event_opts_pack(ROSTER_EV_DOWN, ROSTER_REASON_NOPROC, 1));
    rs_msg_event_id_set(&e, 77);
    roundtrip(&e, &b, &d);
    ASSERT_EQ(d.opts, ROSTER_EV_DOWN | ROSTER_REASON_NOPROC << 8 | RS_EV_SNAPSHOT_FLAG);
    ASSERT_EQ(rs_msg_event_kind(&d), ROSTER_EV_DOWN);
    ASSERT_EQ(rs_msg_event_reason(&d), ROSTER_REASON_NOPROC);
    ASSERT_EQ(rs_msg_event_snapshot(&d), 1);
    ASSERT_U64_EQ(rs_msg_event_id(&d), 77);
    rs_buf_fini(&b);
    /* P_OP OPTS */
    struct rs_msg o = {.type = RS_MSG_P_OP};
    rs_msg_p_op_opts_set(&o, rs_msg_p_op_pack(RS_POP_LEAVE, ROSTER_REASON_CONFLICT));
    roundtrip(&o, &b, &d);
    ASSERT_EQ(d.opts, RS_POP_LEAVE | ROSTER_REASON_CONFLICT << 8);
    ASSERT_EQ(rs_msg_p_op_op(&d), RS_POP_LEAVE);
    ASSERT_EQ(rs_msg_p_op_reason(&d), ROSTER_REASON_CONFLICT);
    rs_buf_fini(&b);
    /* NODES item OPTS */
    struct rs_msg n = {.type = RS_MSG_NODES, .flags = RS_F_ITEM};
    rs_msg_nodes_item_opts_set(&n, rs_msg_nodes_item_pack(ROSTER_NODE_DOWN, 1));
    roundtrip(&n, &b, &d);
    ASSERT_EQ(d.opts, ROSTER_NODE_DOWN | 1u << 8);
    ASSERT_EQ(rs_msg_nodes_item_state(&d), ROSTER_NODE_DOWN);
    ASSERT_EQ(rs_msg_nodes_item_self(&d), 1);
    rs_buf_fini(&b);
    /* MESSAGE receivers: ARG, then the serials of PREV */
    uint8_t more[16];
    rs_put_u64(more, 5);
    rs_put_u64(more + 8, 9);
    struct rs_msg m = {.type = RS_MSG_MESSAGE};
    rs_msg_message_to_set(&m, 3);
    rs_msg_message_more_to_set(&m, rs_bytes_of(more, sizeof more));
    roundtrip(&m, &b, &d);
    ASSERT_EQ(rs_msg_message_receivers(&d), 3);
    ASSERT_U64_EQ(rs_msg_message_receiver(&d, 0), 3);
    ASSERT_U64_EQ(rs_msg_message_receiver(&d, 1), 5);
    ASSERT_U64_EQ(rs_msg_message_receiver(&d, 2), 9);
    rs_buf_fini(&b);
}

TEST_MAIN(T(test_roundtrip_every_shape), T(test_frame_split_stream),
          T(test_declared_length_judged_first), T(test_malformed_bodies),
          T(test_limits_enforced_and_relaxed), T(test_limits_coherence),
          T(test_type_and_result_names), T(test_views_through_the_codec))
