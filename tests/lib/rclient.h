/* rclient.h: libroster helpers for integration tests (header-only, so the unit tests that
 * share the test library need not link libroster). */
#ifndef ROSTER_TESTS_RCLIENT_H
#define ROSTER_TESTS_RCLIENT_H

#include <stdint.h>
#include <string.h>

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

/* test_stat is the node statistic key as c's node reports it (roster_status); the test
 * fails if the node has no such statistic. */
static inline uint64_t test_stat(roster_client *c, const char *key)
{
    roster_stats st;
    ASSERT_EQ(roster_status(c, &st, 5000), 0);
    uint64_t v = UINT64_MAX;
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.items[i].key, key) == 0)
            v = st.items[i].value;
    roster_stats_free(&st);
    ASSERT(v != UINT64_MAX);
    return v;
}

/* test_stat_at is test_stat through a connection of its own to the node at sock (a test
 * whose clients run as other users asks as itself). */
static inline uint64_t test_stat_at(const char *sock, const char *key)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), 0);
    uint64_t v = test_stat(c, key);
    roster_close(c);
    return v;
}

#endif
