/* test_client_unit.c: libroster pieces that need no node: pid text form (strict parse),
 * error and name tables, options and default socket, connect failures, NULL-safe frees,
 * and allocation failure during connect. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "roster.h"
#include "test.h"

static void test_pid_format_parse(void)
{
    char buf[ROSTER_PID_STRLEN];
    roster_pid p = {0x0123456789abcdefull, 42}, q;
    ASSERT_STR_EQ(roster_pid_format(p, buf), "0123456789abcdef.42");
    ASSERT_EQ(roster_pid_parse(buf, &q), 0);
    ASSERT(roster_pid_equal(p, q));
    roster_pid big = {UINT64_MAX, UINT64_MAX};
    ASSERT_STR_EQ(roster_pid_format(big, buf), "ffffffffffffffff.18446744073709551615");
    ASSERT(strlen(buf) < ROSTER_PID_STRLEN);
    ASSERT_EQ(roster_pid_parse(buf, &q), 0);
    ASSERT(roster_pid_equal(big, q));
    roster_pid small = {1, 0};
    ASSERT_STR_EQ(roster_pid_format(small, buf), "0000000000000001.0");
    ASSERT_EQ(roster_pid_parse(buf, &q), 0);
    ASSERT(roster_pid_equal(small, q));
    ASSERT(!roster_pid_equal(p, small));

    static const char *const bad[] = {
        "",
        "0123456789ABCDEF.42",          /* upper case */
        "0123456789abcde.42",           /* 15 digits */
        "0123456789abcdef0.42",         /* 17 digits */
        "0123456789abcdef42",           /* no dot */
        "0123456789abcdef.",            /* no serial */
        "0123456789abcdef.042",         /* leading zero */
        "0123456789abcdef.+42",         /* sign */
        "0123456789abcdef.42 ",         /* trailing byte */
        "0123456789abcdef.18446744073709551616", /* overflow */
        "0000000000000000.0",           /* the zero pid */
        " 123456789abcdef.42",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (roster_pid_parse(bad[i], &q) != ROSTER_EINVAL)
            test_fail(__FILE__, __LINE__, "accepted bad pid \"%s\"", bad[i]);
    ASSERT_EQ(roster_pid_parse(NULL, &q), ROSTER_EINVAL);
}

static void test_names_tables(void)
{
    ASSERT_STR_EQ(roster_err_name(ROSTER_ETAKEN), "ETAKEN");
    ASSERT_STR_EQ(roster_strerror(ROSTER_ECLOSED), "connection to the roster node closed");
    ASSERT_STR_EQ(roster_reason_name(ROSTER_REASON_NORMAL), "normal");
    ASSERT_STR_EQ(roster_reason_name(ROSTER_REASON_DISCONNECTED), "disconnected");
    ASSERT_STR_EQ(roster_reason_name(ROSTER_REASON_NOPROC), "noproc");
    ASSERT_STR_EQ(roster_reason_name(0), "none");
    /* protocol 4: strong scopes */
    ASSERT_STR_EQ(roster_reason_name(ROSTER_REASON_LEASE_LOST), "lease_lost");
    ASSERT_STR_EQ(roster_reason_name(ROSTER_REASON_HANDOFF), "handoff");
    ASSERT_STR_EQ(roster_reason_name(99), "unknown");
    ASSERT_STR_EQ(roster_err_name(ROSTER_EUNKNOWN), "EUNKNOWN");
    ASSERT_STR_EQ(roster_err_name(ROSTER_ECONFLICT), "ECONFLICT");
    ASSERT_STR_EQ(roster_err_name(ROSTER_ECOMPACTED), "ECOMPACTED");
    ASSERT_STR_EQ(roster_err_name(-999), "EOTHER");
    ASSERT_STR_EQ(roster_strerror(ROSTER_EUNKNOWN),
                  "outcome unknown: the operation may or may not have been applied");
    ASSERT_STR_EQ(roster_event_type_name(ROSTER_EV_MEMBER_UPDATED), "member_updated");
    ASSERT_STR_EQ(roster_event_type_name(ROSTER_EV_SNAPSHOT_END), "snapshot_end");
    ASSERT_STR_EQ(roster_event_type_name(ROSTER_EV_DOWN), "down");
    ASSERT_EQ(roster_version(), ROSTER_VERSION_NUMBER);
}

static void test_options_and_socket(void)
{
    roster_options o;
    memset(&o, 0x5a, sizeof o);
    roster_options_init(&o);
    ASSERT(o.socket_path == NULL && o.client_name == NULL);
    ASSERT_EQ(o.timeout_ms, 5000);
    char buf[256];
    setenv("ROSTER_SOCKET", "/tmp/some/where.sock", 1);
    ASSERT_STR_EQ(roster_default_socket(buf, sizeof buf), "/tmp/some/where.sock");
    unsetenv("ROSTER_SOCKET");
    ASSERT(strstr(roster_default_socket(buf, sizeof buf), "roster") != NULL);
}

static void test_connect_failures(void)
{
    roster_client *c = (roster_client *)1;
    roster_options o;
    roster_options_init(&o);
    o.socket_path = "/nonexistent-dir/roster.sock";
    errno = 0;
    ASSERT_EQ(roster_connect(&c, &o), ROSTER_ECONNECT);
    ASSERT_EQ(errno, ENOENT);
    ASSERT(c == NULL);
    char longpath[300];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = 0;
    o.socket_path = longpath;
    ASSERT_EQ(roster_connect(&c, &o), ROSTER_EINVAL);
    ASSERT_EQ(roster_connect(NULL, &o), ROSTER_EINVAL);
    /* The environment variable is used when no path is given. */
    setenv("ROSTER_SOCKET", "/nonexistent-dir/env.sock", 1);
    ASSERT_EQ(roster_connect(&c, NULL), ROSTER_ECONNECT);
}

static void test_null_safe(void)
{
    roster_close(NULL);
    roster_buf_free(NULL);
    roster_entry_free(NULL);
    roster_entries_free(NULL);
    roster_event_free(NULL);
    roster_stats_free(NULL);
    roster_nodes_free(NULL);
    roster_entries empty = {NULL, 0};
    roster_entries_free(&empty);
    ASSERT_STR_EQ(roster_errdetail(NULL), "");
    ASSERT_EQ(roster_fd(NULL), -1);
    ASSERT_EQ(roster_ping(NULL, 0), ROSTER_EINVAL);
    roster_event ev;
    ASSERT_EQ(roster_next_event(NULL, &ev), ROSTER_EINVAL);
}

static void test_allocator_connect(void)
{
    roster_set_allocator(fault_malloc, fault_realloc, fault_free);
    fault_plan(1, FAULT_FOREVER); /* every allocation fails */
    roster_client *c;
    roster_options o;
    roster_options_init(&o);
    o.socket_path = "/nonexistent-dir/roster.sock";
    ASSERT_EQ(roster_connect(&c, &o), ROSTER_ENOMEM);
    fault_off();
    ASSERT_EQ(roster_connect(&c, &o), ROSTER_ECONNECT);
    ASSERT_EQ(fault_live_blocks(), 0);
    roster_set_allocator(NULL, NULL, NULL);
}

TEST_MAIN(T(test_pid_format_parse), T(test_names_tables), T(test_options_and_socket),
          T(test_connect_failures), T(test_null_safe), T(test_allocator_connect))
