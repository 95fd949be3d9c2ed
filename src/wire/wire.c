/* wire.c: encoder and bounds-checked decoder of roster frames (format: wire.h). */
#include "wire.h"

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

/* Shapes per type: request, item, reply. 0 = the shape does not exist. */
static const struct {
    unsigned req, item, reply;
} shapes[RS_MSG_TYPE_MAX + 1] = {
    [RS_MSG_HELLO] = {A | O | K, 0, S | O | A | A2 | P | N | PV},
    [RS_MSG_PING] = {NONE, 0, S},
    [RS_MSG_PID_NEW] = {NONE, 0, S | P | PV},
    [RS_MSG_PID_CLOSE] = {P, 0, S | PV},
    [RS_MSG_SCOPE_CREATE] = {O | SC, 0, S | PV},
    [RS_MSG_SCOPES] = {NONE, O | A | A2 | SC, S | A | PV},
    [RS_MSG_REGISTER] = {P | SC | K | M, 0, S | P | PV},
    [RS_MSG_UNREGISTER] = {SC | K, 0, S | PV},
    [RS_MSG_LOOKUP] = {SC | K, 0, S | P | N | M | PV},
    [RS_MSG_NAMES] = {A | P | SC | K, P | N | K | M, S | A | PV},
    [RS_MSG_COUNT] = {SC | N, A | K, S | A | PV},
    [RS_MSG_JOIN] = {P | SC | K | M, 0, S | PV},
    [RS_MSG_LEAVE] = {P | SC | K, 0, S | PV},
    [RS_MSG_MEMBERS] = {O | SC | K, P | N | K | M, S | A | PV},
    [RS_MSG_IS_MEMBER] = {P | SC | K, 0, S | A | PV},
    [RS_MSG_GROUPS] = {A | P | SC | K, A | P | N | K | M, S | A | PV},
    [RS_MSG_SUBSCRIBE] = {O | SC | K, 0, S | A | PV},
    [RS_MSG_UNSUBSCRIBE] = {A, 0, S | PV},
    [RS_MSG_MONITOR] = {P, 0, S | A | PV},
    [RS_MSG_DEMONITOR] = {A, 0, S | PV},
    [RS_MSG_STATUS] = {NONE, A | K, S | A | PV},
    [RS_MSG_NODES] = {SC, O | A | N, S | A | PV},
    [RS_MSG_LOG_LEVEL] = {O, 0, S | PV},
    [RS_MSG_EVENT] = {O | A | P | SC | N | K | M | PV, 0, 0},
    [RS_MSG_SCOPE_JOIN] = {SC, 0, S | PV},
    [RS_MSG_SCOPE_LEAVE] = {SC, 0, S | PV},
    [RS_MSG_SEND] = {O | A | P | SC | K | M, 0, S | PV},
    [RS_MSG_MESSAGE] = {O | A | A2 | P | SC | N | K | M | PV, 0, 0},
    [RS_MSG_PUBLISH] = {O | A | SC | K | M, 0, S | A | PV},
    [RS_MSG_CALL] = {O | A | A2 | P | SC | K | M, 0, S | P | M | PV},
    [RS_MSG_REPLY] = {A2 | M, 0, 0},
    [RS_MSG_MULTI_CALL] = {O | A | A2 | SC | K | M, O | P | M, S | A | A2 | PV},
    /* peer frames: one shape each, sent with flags 0 */
    [RS_MSG_P_NODE] = {O | A | N | K, 0, 0},
    [RS_MSG_P_SCOPE] = {O | SC, 0, 0},
    [RS_MSG_P_SYNC_BEGIN] = {SC, 0, 0},
    [RS_MSG_P_ENTRY] = {O | A | P | SC | K | M, 0, 0},
    [RS_MSG_P_SYNC_END] = {SC, 0, 0},
    [RS_MSG_P_OP] = {O | A | P | SC | K | M, 0, 0},
    [RS_MSG_P_PID_DOWN] = {O | P, 0, 0},
    [RS_MSG_P_PING] = {A, 0, 0},
    [RS_MSG_P_PONG] = {A, 0, 0},
    [RS_MSG_P_MONITOR] = {A | P, 0, 0},
    [RS_MSG_P_DEMONITOR] = {A, 0, 0},
    [RS_MSG_P_DOWN] = {O | A | P, 0, 0},
    [RS_MSG_P_SEND] = {O | A | A2 | P | SC | K | M, 0, 0},
    [RS_MSG_P_PUBLISH] = {A | SC | K | M, 0, 0},
    [RS_MSG_P_REPLY] = {A2 | P | M, 0, 0},
    [RS_MSG_P_NOPROC] = {S | A2 | P, 0, 0},
};

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
    case RS_WIRE_OK: return "ok";
    case RS_WIRE_NEED_MORE: return "incomplete frame";
    case RS_WIRE_E_TOOBIG: return "declared frame length above the frame limit";
    case RS_WIRE_E_SHORT: return "declared frame length below the header size";
    case RS_WIRE_E_TYPE: return "unknown message type or flags";
    case RS_WIRE_E_RESERVED: return "reserved header bits set";
    case RS_WIRE_E_TRUNCATED: return "field runs past the end of the frame";
    case RS_WIRE_E_TRAILING: return "bytes after the last field";
    case RS_WIRE_E_NAMELEN: return "name longer than the name limit";
    case RS_WIRE_E_METALEN: return "metadata longer than the metadata limit";
    case RS_WIRE_E_SCOPELEN: return "scope or node name longer than 255 bytes";
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
