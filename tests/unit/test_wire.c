/* test_wire.c: unit tests of the wire codec: round trips of every shape, frame splitting,
 * and rejection of every malformed-frame class with its specific result. */
#include <stdlib.h>

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

TEST_MAIN(T(test_roundtrip_every_shape), T(test_frame_split_stream),
          T(test_declared_length_judged_first), T(test_malformed_bodies),
          T(test_limits_enforced_and_relaxed), T(test_limits_coherence))
