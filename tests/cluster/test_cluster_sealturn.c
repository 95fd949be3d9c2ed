/* test_cluster_sealturn.c: on a sealed peer link each frame inside a record is one unit of
 * the receiving connection's fair turn (src/node/conn.c process(), fair.h), as on an
 * unsealed link, and a turn may end inside a record: the rest of the record is kept and
 * applied, in order, at the next turn.
 *
 * Node b runs with 4 frames a turn (ROSTERD_FAIR_FRAMES, the benchmark's knob) and receives
 * 20,000 registrations made on a, sealed into records of up to 16 KiB (a hundred frames and
 * more each). All of them arrive, the link stays up with no bad record or frame, and b
 * deferred its peer's turn thousands of times: when a whole record counted as one unit it
 * deferred a few dozen times (one turn per 4 records). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "http.h"
#include "test.h"

#define NAMES 20000

static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static void test_turn_ends_inside_record(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-sealturn-cookie-5d1c9a7e3b2f4608\n");
    int port = http_free_port();
    char http[64];
    snprintf(http, sizeof http, "127.0.0.1:%d", port);
    struct cl_node a, b;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    const char *extra[] = {"--http", http, NULL};
    setenv("ROSTERD_FAIR_FRAMES", "4", 1);
    cl_start(&b, 2, "b", a.addr, cookie, extra);
    unsetenv("ROSTERD_FAIR_FRAMES");
    cl_wait_up(&a, NULL, 2, 10000);
    cl_wait_up(&b, NULL, 2, 10000);
    ASSERT(cl_log_has(&b, "link sealed"));

    roster_client *ca = cl_connect(&a);
    roster_pid me = roster_self(ca);
    char name[32];
    for (int i = 0; i < NAMES; i++) {
        int len = snprintf(name, sizeof name, "turn/%05d", i);
        ASSERT_EQ(roster_register_async(ca, "default", name, (size_t)len, me, NULL, 0, NULL),
                  0);
    }
    ASSERT_EQ(roster_wait_all(ca, 60000), 0);

    /* every name reaches b, the last one included */
    static char buf[1 << 18];
    uint64_t deadline = test_now_ms() + 60000;
    double names = -1;
    for (;;) {
        int st = http_get(port, "/metrics", buf, sizeof buf);
        if (st == 200 &&
            (names = sample(buf, "roster_scope_names{scope=\"default\"}")) >= NAMES)
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "b has %g of the %d names", names, NAMES);
        cl_sleep_ms(20);
    }
    ASSERT_EQ(names, NAMES);
    cl_wait_lookup(&b, "default", "turn/19999", 0, &me, 10000);
    cl_wait_lookup(&b, "default", "turn/00000", 0, &me, 10000);
    cl_wait_lookup(&b, "default", "turn/10007", 0, &me, 10000);

    double deferred = sample(buf, "roster_fair_deferred_total");
    fprintf(stderr, "b deferred its turns %g times for %d names\n", deferred, NAMES);
    /* 4 frames a turn: one deferral per 4 frames of a's, except where the bytes ran out */
    ASSERT(deferred >= 1000);
    ASSERT(!cl_log_has(&b, "bad frame"));
    ASSERT(!cl_log_has(&b, "sealed link:"));
    ASSERT(!cl_log_has(&a, "sealed link:"));
    roster_client *cb = cl_connect(&b);
    ASSERT_EQ(cl_count_up(cb, NULL, NULL, NULL), 2);
    roster_close(cb);

    roster_close(ca);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_turn_ends_inside_record))
