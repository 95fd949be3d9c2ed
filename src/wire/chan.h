/* chan.h: direct channels between two clients of one node (docs/MESSAGING.md, "Direct
 * channels"): the constants of the CHANNEL_* frames, and the check of a frame read from a
 * channel. A channel's bytes come from another client, not from the node, so the library
 * checks every frame before it queues it (rs_chan_check; fuzzed by tests/fuzz/fuzz_chan.c). */
#ifndef ROSTER_WIRE_CHAN_H
#define ROSTER_WIRE_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

/* HELLO request: the client takes channels (above the version, like RS_HELLO_WANT_SHM) */
#define RS_HELLO_WANT_CHAN 0x20000u

/* CHANNEL flags */
#define RS_CHAN_NEW 0x1u /* a new channel: its end rides with the frame's first byte */

/* CHANNEL_MARK kinds */
#define RS_CHAN_MARK_START 1u /* node stream: the sender's next messages go on the channel */
#define RS_CHAN_MARK_END 2u   /* node stream: the sender shut its side down: nothing more */
#define RS_CHAN_MARK_TURN 3u  /* on the channel itself: the sender's next messages go
                                 through the node (until its next START) */

/* A MESSAGE the node relays from a client to another with which it has a channel carries
 * that channel's id in OPTS above the kind (kind | id << RS_CHAN_TAG_SHIFT): the receiver
 * keeps it in turn with what comes on the channel. Ids are below 2^24. */
#define RS_CHAN_TAG_SHIFT 8u
#define RS_CHAN_KIND_MASK 0xffu
#define RS_CHAN_ID_MAX 0xffffffu

/* CHANNEL_CLOSE reasons (node -> client) */
#define RS_CHAN_CLOSE_CAP 1u   /* a client passed --max-channels: its least recently used */
#define RS_CHAN_CLOSE_ACL 2u   /* the access rules (reloaded) no longer allow it */
#define RS_CHAN_CLOSE_ASKED 3u /* one of the two clients asked (lost its end, too many routes) */
#define RS_CHAN_CLOSE_GONE 4u  /* the peer client is gone */

/* A call made over a channel has a ref with this bit (refs of the node never have it), so
 * roster_reply knows to answer it on the channel (or through CHANNEL_REPLY). */
#define RS_CHAN_REF_BIT (1ull << 63)

/* What a client may send to another over a channel: MESSAGE kinds send and call, REPLY
 * (to a channel call), and CHANNEL_MARK TURN. */
struct rs_chan_limits {
    uint32_t frame_max;   /* the node's frame limit (HELLO) */
    uint32_t message_max; /* the node's message payload limit (HELLO) */
    uint64_t node_inc;    /* every pid on a channel is a pid of this node */
    const uint8_t *node;  /* the node's name: a MESSAGE names it as the sender's node */
    size_t node_len;
};

/* rs_chan_check decodes one whole frame p[0, n) read from a channel into *m (views into p)
 * and checks it is a MESSAGE of kind send (call ref 0) or call (a channel call ref) from a
 * pid of this node to one receiving serial, with no scope, name or other receivers, or a
 * REPLY with a channel call ref; payloads within message_max. Returns NULL when it is, or
 * a static text saying what is wrong. */
const char *rs_chan_check(const uint8_t *p, size_t n, const struct rs_chan_limits *l,
                          struct rs_msg *m);

#endif
