/* fuzz_wire_decode.c: fuzz target for the frame splitter and decoder (client and node side).
 * Input: a byte stream as it would arrive on a socket. Every decoded frame is re-encoded and
 * decoded again; the two decodings must be equal (round-trip invariant). The typed views
 * that read inside a field (the HELLO limits block, a MESSAGE's receivers) are read too, so
 * the sanitizers see them stay within the frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/limits.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bytes(struct rs_bytes a, struct rs_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* read_views reads the views that look inside a field, as libroster does once it has
 * checked what it checks (a MESSAGE's PREV: a whole number of serials). */
static void read_views(const struct rs_msg *m)
{
    if (strcmp(rs_wire_type_name(m->type), "?") == 0)
        abort(); /* it decoded: the type is in RS_MSG_MAP */
    uint64_t sink = 0;
    if (m->type == RS_MSG_HELLO && m->flags == RS_F_REPLY && m->status == 0) {
        uint32_t message_max;
        if (rs_msg_hello_reply_message_max(m, &message_max) == 0)
            sink += message_max;
    }
    if (m->type == RS_MSG_MESSAGE && m->prev.len % 8 == 0) {
        size_t n = rs_msg_message_receivers(m);
        for (size_t i = 0; i < n; i++)
            sink += rs_msg_message_receiver(m, i);
    }
    if (m->type == RS_MSG_EVENT && rs_msg_event_opts_pack(rs_msg_event_kind(m), rs_msg_event_reason(m),
                                                      rs_msg_event_snapshot(m)) !=
                                       (m->opts & (0xffffu | RS_EV_SNAPSHOT_FLAG)))
        abort();
    volatile uint64_t keep = sink;
    (void)keep;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.name_max = 64; /* small limits reach the limit branches often */
    lim.meta_max = 256;
    lim.frame_max = 4096;
    size_t off = 0;
    while (off < size) {
        size_t flen = 0;
        int r = rs_wire_frame_next(data + off, size - off, lim.frame_max, &flen);
        if (r != RS_WIRE_OK)
            break;
        if (flen > size - off)
            abort();
        struct rs_msg m;
        r = rs_wire_decode(data + off, flen, &lim, &m);
        if (r == RS_WIRE_OK) {
            read_views(&m);
            struct rs_buf b;
            rs_buf_init(&b);
            if (rs_wire_encode(&b, &m) != 0)
                abort();
            if (b.len != flen || rs_wire_size(&m) != flen)
                abort();
            struct rs_msg m2;
            if (rs_wire_decode(b.data, b.len, &lim, &m2) != RS_WIRE_OK)
                abort();
            if (m2.type != m.type || m2.flags != m.flags || m2.req_id != m.req_id ||
                m2.status != m.status || m2.opts != m.opts || m2.arg != m.arg ||
                m2.arg2 != m.arg2 || m2.pid.inc != m.pid.inc || m2.pid.serial != m.pid.serial ||
                !same_bytes(m.scope, m2.scope) || !same_bytes(m.node, m2.node) ||
                !same_bytes(m.key, m2.key) || !same_bytes(m.meta, m2.meta) ||
                !same_bytes(m.prev, m2.prev))
                abort();
            rs_buf_fini(&b);
        }
        off += flen;
    }
    return 0;
}
