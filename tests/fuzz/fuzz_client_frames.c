/* fuzz_client_frames.c: fuzz target for libroster's decoding of what a node sends: replies,
 * listing items, events and messages, as a byte stream. A valid handshake answer is written
 * first, then (after the handshake) the input, over a socketpair; the target then runs calls
 * whose answers come from the input (req_ids 2, 3, ...; each with a 0 ms timeout, so an
 * answer missing from the input times out) and drains the event queue. The library must
 * never crash or leak, whatever the node sends.
 *
 * Input: one mode byte, then the bytes the node sends. Mode bits (the others are ignored):
 *   0x01 options.group_messages: a MESSAGE naming several pids is one event, not one each
 *   0x02 a small event queue bound (options.event_queue_bytes = FZ_SMALL_EVQ), so messages
 *        and subscription events are dropped and reported by OVERFLOW events
 *   0x04 take one event after each call, so the queue is consumed while frames still
 *        arrive (a MESSAGE handed out pid by pid stays at the head across reads)
 *   0x08 roster_fd is asked for first, so the eventfd follows the queue */
#include <roster.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "client/client.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_GROUP 0x01u
#define FZ_SMALL_QUEUE 0x02u
#define FZ_INTERLEAVE 0x04u
#define FZ_USE_FD 0x08u
#define FZ_SMALL_EVQ 512u

/* check_event: a MESSAGE names its receivers to_all[0 .. n_to), to_all[0] == to, all pids
 * of this client, one per event unless grouped; other events name none. Every receiver is
 * read, so ASan sees a list that runs past its allocation. An EVENT frame claiming to be a
 * message (corpus: event_kind_message) is a protocol error, never an event. */
static void check_event(const roster_client *c, const roster_event *ev)
{
    if (ev->type != ROSTER_EV_MESSAGE) {
        if (ev->n_to != 0 || ev->to_all != NULL)
            abort();
        return;
    }
    if (ev->n_to == 0 || ev->n_to > RS_MSG_TARGETS_MAX || !ev->to_all ||
        (!c->group_messages && ev->n_to != 1))
        abort();
    if (ev->to_all[0].serial != ev->to.serial || ev->to.node_inc != c->self.node_inc)
        abort();
    for (size_t i = 0; i < ev->n_to; i++)
        if (ev->to_all[i].node_inc != c->self.node_inc)
            abort();
}

/* take_one hands out one queued event, if any (FZ_INTERLEAVE). */
static void take_one(roster_client *c, unsigned mode)
{
    roster_event ev;
    if ((mode & FZ_INTERLEAVE) && roster_next_event(c, &ev) == 0) {
        check_event(c, &ev);
        roster_event_free(&ev);
    }
}

static void hello_reply(struct rs_buf *b)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_HELLO;
    m.flags = RS_F_REPLY;
    m.req_id = 1; /* libroster's HELLO: the first request id */
    m.opts = 1024;
    m.arg = 0x1122334455667788ull;
    m.arg2 = (uint64_t)65536 << 32 | 1048576;
    m.pid.inc = 0x1122334455667788ull;
    m.pid.serial = 1;
    m.node = rs_bytes_str("fuzz");
    uint8_t limits[RS_HELLO_LIMITS_LEN];
    rs_msg_hello_reply_set_message_max(&m, limits, 1048576);
    rs_wire_encode(b, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 60000) /* stays below the socketpair's buffer: writes never block */
        return 0;
    unsigned mode = data[0];
    data++;
    size--;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return 0;
    struct rs_buf b;
    rs_buf_init(&b);
    hello_reply(&b);
    ssize_t w = write(sv[1], b.data, b.len);
    rs_buf_fini(&b);
    roster_client *c = NULL;
    if (w > 0 && rs_client_open_fd(&c, sv[0], "fuzz", 0) == 0) {
        /* What roster_connect takes from roster_options (rs_client_open_fd has none). */
        c->group_messages = (mode & FZ_GROUP) != 0;
        if (mode & FZ_SMALL_QUEUE)
            c->evq_max = FZ_SMALL_EVQ;
        if ((mode & FZ_USE_FD) && roster_fd(c) < 0)
            abort();
        /* The input arrives after the handshake, as answers to the calls below. */
        if (size && write(sv[1], data, size) < 0)
            abort();
        roster_entry e;
        if (roster_lookup(c, NULL, "n", 1, &e, 0) == 0)
            roster_entry_free(&e);
        take_one(c, mode);
        roster_entries list;
        if (roster_names(c, NULL, "", 0, (roster_pid){0, 0}, 0, &list, 0) == 0)
            roster_entries_free(&list);
        take_one(c, mode);
        if (roster_groups(c, NULL, "", 0, (roster_pid){0, 0}, 0, &list, 0) == 0)
            roster_entries_free(&list);
        take_one(c, mode);
        roster_stats st;
        if (roster_status(c, &st, 0) == 0)
            roster_stats_free(&st);
        take_one(c, mode);
        roster_nodes nodes;
        if (roster_nodes_list(c, NULL, &nodes, 0) == 0)
            roster_nodes_free(&nodes);
        take_one(c, mode);
        /* protocol 4: a compare-and-set's answer carries metadata on failure too, and a
         * campaign's answer is matched in an id space of its own, whenever it comes */
        roster_buf cur = {NULL, 0};
        roster_update(c, NULL, "n", 1, "m", 1, NULL, NULL, &cur, 0);
        roster_buf_free(&cur);
        roster_campaign_async(c, NULL, "n", 1, roster_self(c), NULL, 0, NULL);
        roster_set_read_mode(c, ROSTER_READ_STALE);
        roster_counts counts;
        roster_count(c, NULL, NULL, &counts, 0);
        roster_event ev;
        for (int i = 0; i < 10000; i++) {
            if (roster_next_event(c, &ev) != 0)
                break;
            check_event(c, &ev);
            roster_event_free(&ev);
        }
        roster_close(c);
    } else if (w <= 0) {
        close(sv[0]);
    }
    close(sv[1]);
    return 0;
}
