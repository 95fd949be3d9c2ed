/* limits.c: default limits and their coherence check. */
#include "base/limits.h"

void rs_limits_default(struct rs_limits *l)
{
    l->name_max = RS_NAME_MAX_DEFAULT;
    l->meta_max = RS_META_MAX_DEFAULT;
    l->frame_max = RS_FRAME_MAX_DEFAULT;
    l->conns_max = RS_CONNS_MAX_DEFAULT;
    l->pids_per_client = RS_PIDS_PER_CLIENT_DEFAULT;
    l->entries_per_client = RS_ENTRIES_PER_CLIENT_DEFAULT;
    l->subs_per_client = RS_SUBS_PER_CLIENT_DEFAULT;
    l->monitors_per_client = RS_MONITORS_PER_CLIENT_DEFAULT;
    l->queue_bytes = RS_QUEUE_BYTES_DEFAULT;
    l->outbuf_max = RS_OUTBUF_MAX_DEFAULT;
    l->stall_ms = RS_STALL_MS_DEFAULT;
    l->message_max = RS_MESSAGE_MAX_DEFAULT;
    l->mailbox_bytes = RS_MAILBOX_BYTES_DEFAULT;
}

int rs_limits_check(const struct rs_limits *l)
{
    unsigned long long need = (unsigned long long)RS_FRAME_HEADER + l->name_max +
                              2ull * l->meta_max + RS_SCOPE_MAX + RS_NODE_NAME_MAX + 128;
    if (l->name_max == 0 || l->frame_max < RS_FRAME_MIN || l->frame_max > RS_FRAME_MAX_CEILING)
        return -1;
    if (need > l->frame_max)
        return -1;
    if (l->conns_max == 0 || l->pids_per_client == 0 || l->queue_bytes == 0)
        return -1;
    /* A message must also fit one frame: message_max above frame_max only means the frame
     * is the bound. */
    if (l->message_max == 0 || l->mailbox_bytes == 0)
        return -1;
    /* Output buffers are written with 32-bit lengths; keep them far from that. */
    if (l->outbuf_max > RS_OUTBUF_MAX_CEILING || l->queue_bytes > l->outbuf_max)
        return -1;
    return 0;
}
