/* rclient.h: libroster helpers for integration tests (header-only, so the unit tests that
 * share the test library need not link libroster). */
#ifndef ROSTER_TESTS_RCLIENT_H
#define ROSTER_TESTS_RCLIENT_H

#include <roster.h>

#include "node.h"
#include "test.h"

/* test_connect_with connects a client to node n with options.event_queue_bytes (0: the
 * default) and options.group_messages, or fails the test. */
static inline roster_client *test_connect_opt(const struct test_node *n, size_t queue_bytes,
                                              int group_messages, int drop_messages)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    o.client_name = "test";
    o.event_queue_bytes = queue_bytes;
    o.group_messages = group_messages;
    o.drop_messages = drop_messages;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    if (r)
        test_fail(__FILE__, __LINE__, "connect: %s (%s)", roster_strerror(r),
                  c ? roster_errdetail(c) : "");
    return c;
}

static inline roster_client *test_connect_with(const struct test_node *n, size_t queue_bytes,
                                               int group_messages)
{
    return test_connect_opt(n, queue_bytes, group_messages, 0);
}

/* test_connect connects a client to node n with default options or fails the test. */
static inline roster_client *test_connect(const struct test_node *n)
{
    return test_connect_with(n, 0, 0);
}

#endif
