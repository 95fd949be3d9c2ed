/* fuzz_client_frames.c: fuzz target for libroster's decoding of what a node sends: replies,
 * listing items and events, as a byte stream. A valid handshake answer is written first,
 * then (after the handshake) the input, over a socketpair; the target then runs calls whose answers come from the
 * input (req_ids 2, 3, ...; each with a 0 ms timeout, so an answer missing from the input
 * times out) and drains the event queue. The library must never crash or
 * leak, whatever the node sends. */
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

static void hello_reply(struct rs_buf *b)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_HELLO;
    m.flags = RS_F_REPLY;
    m.req_id = 1;
    m.opts = 1024;
    m.arg = 0x1122334455667788ull;
    m.arg2 = (uint64_t)65536 << 32 | 1048576;
    m.pid.inc = 0x1122334455667788ull;
    m.pid.serial = 1;
    m.node = rs_bytes_str("fuzz");
    rs_wire_encode(b, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 60000) /* stays below the socketpair's buffer, so writing never blocks */
        return 0;
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
        /* The input arrives after the handshake, as answers to the calls below. */
        if (size && write(sv[1], data, size) < 0)
            abort();
        roster_entry e;
        if (roster_lookup(c, NULL, "n", 1, &e, 0) == 0)
            roster_entry_free(&e);
        roster_entries list;
        if (roster_names(c, NULL, "", 0, (roster_pid){0, 0}, 0, &list, 0) == 0)
            roster_entries_free(&list);
        if (roster_groups(c, NULL, "", 0, (roster_pid){0, 0}, 0, &list, 0) == 0)
            roster_entries_free(&list);
        roster_stats st;
        if (roster_status(c, &st, 0) == 0)
            roster_stats_free(&st);
        roster_nodes nodes;
        if (roster_nodes_list(c, NULL, &nodes, 0) == 0)
            roster_nodes_free(&nodes);
        roster_event ev;
        for (int i = 0; i < 10000; i++) {
            if (roster_next_event(c, &ev) != 0)
                break;
            roster_event_free(&ev);
        }
        roster_close(c);
    } else if (w <= 0) {
        close(sv[0]);
    }
    close(sv[1]);
    return 0;
}
