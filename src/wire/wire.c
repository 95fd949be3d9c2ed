/* wire.c: encoder and bounds-checked decoder of roster frames (format: wire.h; the types and
 * their shapes: msgs.h). */
#include "wire/wire.h"

#include <string.h>

#define S RS_FLD_STATUS
#define O RS_FLD_OPTS
#define A RS_FLD_ARG
#define A2 RS_FLD_ARG2
#define P RS_FLD_PID
#define SC RS_FLD_SCOPE
#define N RS_FLD_NODE
#define K RS_FLD_KEY
#define M RS_FLD_META
#define PV RS_FLD_PREV
#define NONE 0x8000u /* marks a shape that exists with no field (a request with no body) */

/* Shapes per type: request, item, reply (RS_MSG_MAP, msgs.h). 0 = the shape does not exist. */
static const struct {
    unsigned req, item, reply;
} shapes[RS_MSG_TYPE_MAX + 1] = {
#define SHAPE_ROW(name, value, req, item, reply, meaning) [value] = {req, item, reply},
    RS_MSG_MAP(SHAPE_ROW)
#undef SHAPE_ROW
};

#define TYPE_IN_RANGE(name, value, req, item, reply, meaning)                                \
    static_assert(value > 0 && value <= RS_MSG_TYPE_MAX, #name " is outside 1..TYPE_MAX");
RS_MSG_MAP(TYPE_IN_RANGE)
#undef TYPE_IN_RANGE

/* Every RS_FIELD_MAP entry names a field its (type, shape) carries: checked here, at compile
 * time, against the same shapes. */
enum {
#define SHAPE_CONST(name, value, req, item, reply, meaning)                                  \
    SHAPE_##name##_req = (req), SHAPE_##name##_item = (item), SHAPE_##name##_reply = (reply),
    RS_MSG_MAP(SHAPE_CONST)
#undef SHAPE_CONST
};
#define FLD_status S
#define FLD_opts O
#define FLD_arg A
#define FLD_arg2 A2
#define FLD_pid P
#define FLD_node N
#define FLD_key K
#define FLD_meta M
#define FLD_prev PV
#define FIELD_IN_SHAPE(acc, type, shape, field, meaning)                                     \
    static_assert((SHAPE_##type##_##shape & FLD_##field) != 0,                               \
                  "rs_" #acc ": " #type " " #shape " has no " #field);
RS_FIELD_MAP(FIELD_IN_SHAPE)
#undef FIELD_IN_SHAPE

const char *rs_wire_type_name(unsigned type)
{
    switch (type) {
#define TYPE_NAME(name, value, req, item, reply, meaning)                                    \
    case value: return #name;
        RS_MSG_MAP(TYPE_NAME)
#undef TYPE_NAME
    default: return "?";
    }
}

unsigned rs_wire_fields(uint8_t type, uint8_t flags)
{
    if (type == 0 || type > RS_MSG_TYPE_MAX)
        return 0;
    if (flags == 0)
        return shapes[type].req;
    if (flags == RS_F_REPLY)
        return shapes[type].reply;
    if (flags == RS_F_ITEM)
        return shapes[type].item;
    return 0;
}

const char *rs_wire_strerror(int r)
{
    switch (r) {
#define RESULT_TEXT(name, value, text)                                                       \
    case value: return text;
        RS_WIRE_RESULT_MAP(RESULT_TEXT)
#undef RESULT_TEXT
    default: return "unknown decoder result";
    }
}

struct rs_bytes rs_bytes_str(const char *s) { return rs_bytes_of(s, s ? strlen(s) : 0); }

int rs_wire_frame_next(const uint8_t *p, size_t len, uint32_t frame_max, size_t *frame_len)
{
    if (len < 4)
        return RS_WIRE_NEED_MORE;
    uint32_t n = rs_get_u32(p);
    /* Judge the declared length before waiting for (or allocating) the body. */
    if (n > frame_max)
        return RS_WIRE_E_TOOBIG;
    if (n < RS_FRAME_HEADER - 4)
        return RS_WIRE_E_SHORT;
    if (len < (size_t)n + 4)
        return RS_WIRE_NEED_MORE;
    *frame_len = (size_t)n + 4;
    return RS_WIRE_OK;
}

/* A bounded read cursor: every get checks the remaining length first. */
struct cursor {
    const uint8_t *p;
    size_t left;
};

static int get_fixed(struct cursor *c, size_t n, const uint8_t **out)
{
    if (c->left < n)
        return RS_WIRE_E_TRUNCATED;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static int get_bytes(struct cursor *c, int wide, uint32_t max, int too_long, struct rs_bytes *b)
{
    const uint8_t *h;
    int r = get_fixed(c, wide ? 4 : 2, &h);
    if (r)
        return r;
    uint32_t n = wide ? rs_get_u32(h) : rs_get_u16(h);
    if (max && n > max)
        return too_long;
    const uint8_t *d;
    if ((r = get_fixed(c, n, &d)))
        return r;
    b->ptr = n ? d : NULL;
    b->len = n;
    return 0;
}

int rs_wire_decode(const uint8_t *p, size_t len, const struct rs_limits *lim, struct rs_msg *msg)
{
    memset(msg, 0, sizeof *msg);
    if (len < RS_FRAME_HEADER)
        return RS_WIRE_E_SHORT;
    uint32_t n = rs_get_u32(p);
    if ((size_t)n + 4 != len)
        return RS_WIRE_E_TRUNCATED;
    if (n > lim->frame_max)
        return RS_WIRE_E_TOOBIG;
    msg->type = p[4];
    msg->flags = p[5];
    if (rs_get_u16(p + 6) != 0)
        return RS_WIRE_E_RESERVED;
    msg->req_id = rs_get_u32(p + 8);
    unsigned f = rs_wire_fields(msg->type, msg->flags);
    if (f == 0)
        return RS_WIRE_E_TYPE;
    struct cursor c = {p + RS_FRAME_HEADER, len - RS_FRAME_HEADER};
    const uint8_t *v;
    int r;
    if (f & S) {
        if ((r = get_fixed(&c, 4, &v)))
            return r;
        msg->status = (int32_t)rs_get_u32(v);
    }
    if (f & O) {
        if ((r = get_fixed(&c, 4, &v)))
            return r;
        msg->opts = rs_get_u32(v);
    }
    if (f & A) {
        if ((r = get_fixed(&c, 8, &v)))
            return r;
        msg->arg = rs_get_u64(v);
    }
    if (f & A2) {
        if ((r = get_fixed(&c, 8, &v)))
            return r;
        msg->arg2 = rs_get_u64(v);
    }
    if (f & P) {
        if ((r = get_fixed(&c, 16, &v)))
            return r;
        msg->pid.inc = rs_get_u64(v);
        msg->pid.serial = rs_get_u64(v + 8);
    }
    if ((f & SC) && (r = get_bytes(&c, 0, RS_SCOPE_MAX, RS_WIRE_E_SCOPELEN, &msg->scope)))
        return r;
    if ((f & N) && (r = get_bytes(&c, 0, RS_NODE_NAME_MAX, RS_WIRE_E_SCOPELEN, &msg->node)))
        return r;
    if ((f & K) && (r = get_bytes(&c, 1, lim->name_max, RS_WIRE_E_NAMELEN, &msg->key)))
        return r;
    /* A message payload is bounded by the frame; the core checks limits.message_max. */
    uint32_t mmax = lim->name_max && !rs_wire_payload_type(msg->type) ? lim->meta_max : 0;
    if ((f & M) && (r = get_bytes(&c, 1, mmax, RS_WIRE_E_METALEN, &msg->meta)))
        return r;
    if ((f & PV) && (r = get_bytes(&c, 1, lim->name_max ? lim->meta_max : 0, RS_WIRE_E_METALEN,
                                   &msg->prev)))
        return r;
    if (c.left != 0)
        return RS_WIRE_E_TRAILING;
    return RS_WIRE_OK;
}

size_t rs_wire_size(const struct rs_msg *msg)
{
    unsigned f = rs_wire_fields(msg->type, msg->flags);
    size_t n = RS_FRAME_HEADER;
    n += (f & S) ? 4 : 0;
    n += (f & O) ? 4 : 0;
    n += (f & A) ? 8 : 0;
    n += (f & A2) ? 8 : 0;
    n += (f & P) ? 16 : 0;
    n += (f & SC) ? 2 + (size_t)msg->scope.len : 0;
    n += (f & N) ? 2 + (size_t)msg->node.len : 0;
    n += (f & K) ? 4 + (size_t)msg->key.len : 0;
    n += (f & M) ? 4 + (size_t)msg->meta.len : 0;
    n += (f & PV) ? 4 + (size_t)msg->prev.len : 0;
    return n;
}

static uint8_t *put_bytes(uint8_t *w, int wide, struct rs_bytes b)
{
    if (wide) {
        rs_put_u32(w, b.len);
        w += 4;
    } else {
        rs_put_u16(w, (uint16_t)b.len);
        w += 2;
    }
    if (b.len)
        memcpy(w, b.ptr, b.len);
    return w + b.len;
}

int rs_wire_encode(struct rs_buf *out, const struct rs_msg *msg)
{
    unsigned f = rs_wire_fields(msg->type, msg->flags);
    if (f == 0)
        return -1;
    if (((f & SC) && msg->scope.len > RS_SCOPE_MAX) || ((f & N) && msg->node.len > RS_NODE_NAME_MAX))
        return -1;
    size_t n = rs_wire_size(msg);
    if (n - 4 > UINT32_MAX || rs_buf_reserve(out, n) != 0)
        return -1;
    uint8_t *w = out->data + out->len;
    rs_put_u32(w, (uint32_t)(n - 4));
    w[4] = msg->type;
    w[5] = msg->flags;
    rs_put_u16(w + 6, 0);
    rs_put_u32(w + 8, msg->req_id);
    w += RS_FRAME_HEADER;
    if (f & S) {
        rs_put_u32(w, (uint32_t)msg->status);
        w += 4;
    }
    if (f & O) {
        rs_put_u32(w, msg->opts);
        w += 4;
    }
    if (f & A) {
        rs_put_u64(w, msg->arg);
        w += 8;
    }
    if (f & A2) {
        rs_put_u64(w, msg->arg2);
        w += 8;
    }
    if (f & P) {
        rs_put_u64(w, msg->pid.inc);
        rs_put_u64(w + 8, msg->pid.serial);
        w += 16;
    }
    if (f & SC)
        w = put_bytes(w, 0, msg->scope);
    if (f & N)
        w = put_bytes(w, 0, msg->node);
    if (f & K)
        w = put_bytes(w, 1, msg->key);
    if (f & M)
        w = put_bytes(w, 1, msg->meta);
    if (f & PV)
        w = put_bytes(w, 1, msg->prev);
    out->len += n;
    return 0;
}
