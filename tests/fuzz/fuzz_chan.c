/* fuzz_chan.c: fuzz target for what libroster decodes from a direct channel (src/wire/chan.c,
 * docs/MESSAGING.md "Direct channels"). A channel's bytes are written by another client, so
 * they are outside data: the input is a channel stream, split into frames the way the
 * library's reader does (rs_wire_frame_next under the node's frame limit) and each frame
 * checked by rs_chan_check; whatever the bytes, the split and the check end without reading
 * outside the input (ASan sees the exact-size copy), and a frame the check lets through has
 * the shape the library relies on (a send or call to one pid of this node within the
 * message limit, a reply with a channel call ref, or a TURN). The first input byte picks the
 * limits (a small and a large message limit). Corpus: tests/fuzz/corpus/chan (a send, a
 * call, a reply, a TURN, a batch of them, and broken ones: another node's pid, a scope, a
 * node's ref, a frame cut short). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/chan.h"
#include "wire/fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const uint8_t node[] = "n1";
    struct rs_chan_limits l = {data[0] & 1 ? 4096 : 1u << 20, data[0] & 2 ? 64 : 65536,
                               0x1111, node, 2};
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return 0;
    memcpy(p, data + 1, n);
    size_t at = 0;
    while (at < n) {
        size_t fl;
        int k = rs_wire_frame_next(p + at, n - at, l.frame_max, &fl);
        if (k != RS_WIRE_OK)
            break; /* need more, or a declared length the library refuses: channel ends */
        struct rs_msg m;
        if (rs_chan_check(p + at, fl, &l, &m) == NULL) {
            if (m.type == RS_MSG_MESSAGE) {
                if (m.pid.inc != l.node_inc || rs_msg_message_payload(&m).len > l.message_max ||
                    m.prev.len || m.scope.len)
                    abort();
            } else if (m.type == RS_MSG_REPLY) {
                if (!(rs_msg_reply_call_ref(&m) & RS_CHAN_REF_BIT))
                    abort();
            } else if (m.type != RS_MSG_CHANNEL_MARK) {
                abort();
            }
        }
        at += fl;
    }
    free(p);
    return 0;
}
