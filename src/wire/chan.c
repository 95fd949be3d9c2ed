/* chan.c: the check of a frame read from a direct channel (chan.h). The peer client wrote
 * these bytes, so nothing in them is trusted: the codec bounds the frame, and this file
 * keeps only the two shapes a channel carries (a message or call to one pid, a reply). */
#include <string.h>

#include "wire/chan.h"
#include "wire/fields.h"

const char *rs_chan_check(const uint8_t *p, size_t n, const struct rs_chan_limits *l,
                          struct rs_msg *m)
{
    struct rs_limits dec;
    memset(&dec, 0, sizeof dec);
    dec.frame_max = l->frame_max; /* name_max 0: key/meta bounded below, by kind */
    int r = rs_wire_decode(p, n, &dec, m);
    if (r != RS_WIRE_OK)
        return rs_wire_strerror(r);
    if (m->flags != 0 || m->req_id != 0 || m->status != 0)
        return "a channel frame with flags, a request id or a status";
    if (m->type == RS_MSG_REPLY) {
        uint64_t ref = rs_msg_reply_call_ref(m);
        if (!(ref & RS_CHAN_REF_BIT) || ref == RS_CHAN_REF_BIT)
            return "a REPLY without a channel call ref";
        if (rs_msg_reply_payload(m).len > l->message_max)
            return "a REPLY above the message limit";
        return NULL;
    }
    if (m->type == RS_MSG_CHANNEL_MARK) {
        if (rs_msg_channel_mark_kind(m) != RS_CHAN_MARK_TURN || m->arg || m->pid.inc ||
            m->pid.serial)
            return "a marker other than TURN";
        return NULL;
    }
    if (m->type != RS_MSG_MESSAGE)
        return "a frame type other than MESSAGE, REPLY or CHANNEL_MARK";
    uint32_t kind = rs_msg_message_kind(m);
    uint64_t ref = rs_msg_message_call_ref(m);
    if (kind == RS_MSGK_SEND) {
        if (ref != 0)
            return "a send with a call ref";
    } else if (kind == RS_MSGK_CALL) {
        if (!(ref & RS_CHAN_REF_BIT) || ref == RS_CHAN_REF_BIT)
            return "a call without a channel call ref";
    } else {
        return "a MESSAGE kind other than send or call";
    }
    struct rs_pid from = rs_msg_message_from(m);
    if (from.inc != l->node_inc || from.serial == 0)
        return "a sender that is not a pid of this node";
    if (rs_msg_message_to(m) == 0)
        return "no receiving pid";
    if (m->prev.len != 0 || m->scope.len != 0 || rs_msg_message_key(m).len != 0)
        return "a scope, a name or more receivers";
    struct rs_bytes node = rs_msg_message_from_node(m);
    if (node.len != l->node_len || (node.len && memcmp(node.ptr, l->node, node.len) != 0))
        return "a sender's node other than this node";
    if (rs_msg_message_payload(m).len > l->message_max)
        return "a message above the message limit";
    return NULL;
}
