/* test_client_strong_e2e.c: libroster's strong-scope calls end to end: a real etcd member
 * (the etcd harness) and two real rosterd nodes started with --etcd, driven through the
 * library: tokens from register and lookup on the other node, linearizable and stale reads
 * with their revisions, check-token, compare-and-set and its loop, a handoff across nodes,
 * resuming a subscription from a revision, and an election answered when the leader goes.
 *
 * Until the core's part of strong scopes is on the branch, scope-create --strong answers
 * EUNAVAIL "strong scopes are not available in this version": the tests skip (77) and say
 * so. A node that creates the scope but does not know a new request yet closes the
 * connection or answers EINVAL / EUNAVAIL: skipped too, naming the request. */
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctlproc.h"
#include "etcd_harness.h"
#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

#define PRE_STRONG_TEXT "strong scopes are not available in this version"

static struct eh_cluster ec;
static struct test_node na, nb;

static void stop_all(void)
{
    test_node_stop(&na);
    test_node_stop(&nb);
    eh_stop(&ec);
}

/* unsupported skips the test when r says the node does not serve request what yet. */
static void unsupported(int r, const char *what)
{
    if (r == ROSTER_ECLOSED || r == ROSTER_EINVAL || r == ROSTER_EUNAVAIL) {
        stop_all();
        test_skip("%s in a strong scope answered %s: the core's part of strong scopes (issue "
                  "9, helper score) does not serve it on this branch", what,
                  roster_err_name(r));
    }
}

static void start_node(struct test_node *t, const char *name)
{
    const char *args[] = {"--name", name, "--etcd", ec.endpoints, "--etcd-prefix",
                          "/roster/e2e/", NULL};
    test_node_start(t, args);
}

/* setup starts etcd and nodes a and b and creates strong scope "s", or skips. */
static void setup(roster_client **a, roster_client **b)
{
    eh_start(&ec, 1);
    start_node(&na, "a");
    start_node(&nb, "b");
    *a = test_connect(&na);
    *b = test_connect(&nb);
    uint64_t deadline = test_now_ms() + 15000;
    for (;;) {
        int r = roster_scope_create(*a, "s", ROSTER_SCOPE_STRONG, 5000);
        if (r == 0)
            break;
        if (r == ROSTER_EUNAVAIL && strstr(roster_errdetail(*a), PRE_STRONG_TEXT)) {
            roster_close(*a);
            roster_close(*b);
            stop_all();
            test_skip("scope-create --strong answers EUNAVAIL (\"%s\"): the core's part of "
                      "strong scopes (issue 9, helper score) is not on this branch",
                      PRE_STRONG_TEXT);
        }
        if (r != ROSTER_EUNAVAIL || test_now_ms() > deadline) /* EUNAVAIL: still starting */
            test_fail(__FILE__, __LINE__, "scope-create s --strong: %s (%s)",
                      roster_strerror(r), roster_errdetail(*a));
        poll(NULL, 0, 50);
    }
    /* b knows the scope and answers in it */
    for (;;) {
        roster_entry e;
        int r = roster_lookup(*b, "s", "nobody", 6, &e, 5000);
        if (r == ROSTER_ENOTFOUND)
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "node b not ready in s: %s (%s)", roster_strerror(r),
                      roster_errdetail(*b));
        poll(NULL, 0, 50);
    }
}

/* next_event waits for c's next event that is not a pipelined answer. */
static int next_event(roster_client *c, roster_event *ev, int timeout_ms)
{
    for (;;) {
        int r = roster_wait_event(c, ev, timeout_ms);
        if (r || ev->type != ROSTER_EV_REPLY)
            return r;
        roster_event_free(ev);
    }
}

static void test_tokens_reads_cas(void)
{
    roster_client *a, *b;
    setup(&a, &b);
    roster_pid pa = roster_self(a);
    uint64_t t1 = 0, t = 0;
    ASSERT_EQ(roster_register_token(a, "s", "x", 1, pa, "v1", 2, NULL, &t1, 5000), 0);
    ASSERT(t1 != 0);
    /* linearizable: b sees the acknowledged write at once, with its token */
    roster_entry e;
    ASSERT_EQ(roster_lookup(b, "s", "x", 1, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, pa));
    ASSERT_U64_EQ(e.token, t1);
    ASSERT(e.revision >= t1);
    ASSERT_U64_EQ(roster_last_revision(b), e.revision);
    roster_entry_free(&e);
    /* re-registering keeps the token; a taken name names its holder from the other node */
    ASSERT_EQ(roster_register_token(a, "s", "x", 1, pa, "v2", 2, NULL, &t, 5000), 0);
    ASSERT_U64_EQ(t, t1);
    roster_pid holder = {0, 0};
    ASSERT_EQ(roster_register(b, "s", "x", 1, roster_self(b), NULL, 0, &holder, 5000),
              ROSTER_ETAKEN);
    ASSERT(roster_pid_equal(holder, pa));

    /* stale reads on b: the local copy catches up, and says which revision it reflects */
    ASSERT_EQ(roster_set_read_mode(b, ROSTER_READ_STALE), ROSTER_READ_LINEARIZABLE);
    uint64_t deadline = test_now_ms() + 5000;
    int r;
    for (;;) {
        r = roster_lookup(b, "s", "x", 1, &e, 5000);
        if (r == 0 && e.meta.len == 2 && memcmp(e.meta.data, "v2", 2) == 0)
            break;
        if (r == 0)
            roster_entry_free(&e);
        ASSERT(r == 0 || r == ROSTER_ENOTFOUND);
        ASSERT(test_now_ms() < deadline);
        poll(NULL, 0, 10);
    }
    ASSERT(e.revision >= t1);
    ASSERT_U64_EQ(e.token, t1);
    roster_entry_free(&e);
    roster_counts n;
    ASSERT_EQ(roster_count(b, "s", NULL, &n, 5000), 0);
    ASSERT_U64_EQ(n.names, 1);
    ASSERT(n.revision >= t1);
    roster_set_read_mode(b, ROSTER_READ_LINEARIZABLE);

    /* check-token */
    uint64_t cur = 0;
    r = roster_check_token(b, "s", "x", 1, t1, &cur, 5000);
    unsupported(r, "CHECK_TOKEN");
    ASSERT_EQ(r, 1);
    ASSERT_U64_EQ(cur, t1);
    ASSERT_EQ(roster_check_token(b, "s", "x", 1, t1 - 1, &cur, 5000), 0);

    /* compare-and-set from b's client (same OS user), then the read-modify-write loop */
    roster_update_cond cond;
    memset(&cond, 0, sizeof cond);
    cond.if_token = 1;
    cond.token = t1;
    r = roster_update(b, "s", "x", 1, "v3", 2, &cond, &t, NULL, 5000);
    unsupported(r, "UPDATE");
    ASSERT_EQ(r, 0);
    memset(&cond, 0, sizeof cond);
    cond.if_meta = 1;
    cond.meta = "v2";
    cond.meta_len = 2;
    roster_buf now = {NULL, 0};
    ASSERT_EQ(roster_update(b, "s", "x", 1, "v4", 2, &cond, &t, &now, 5000), ROSTER_ECONFLICT);
    ASSERT_MEM_EQ(now.data, now.len, "v3", 2);
    ASSERT_U64_EQ(t, t1);
    roster_buf_free(&now);
    ASSERT_EQ(roster_lookup(a, "s", "x", 1, &e, 5000), 0);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "v3", 2);
    roster_entry_free(&e);

    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&na);
    test_node_stop_ok(&nb);
    eh_stop(&ec);
}

/* events in revision order, and a subscription resumed after one of them */
static void test_resume(void)
{
    roster_client *a, *b;
    setup(&a, &b);
    roster_client *w = test_connect(&nb);
    roster_pid pa = roster_self(a);
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(w, "s", "", 0, ROSTER_SUB_ALL | ROSTER_SUB_SNAPSHOT, &sub, 5000),
              0);
    roster_event ev;
    ASSERT_EQ(next_event(w, &ev, 5000), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_SNAPSHOT_END);
    uint64_t snap_rev = ev.revision;
    ASSERT(snap_rev != 0);
    roster_event_free(&ev);
    ASSERT_EQ(roster_register(a, "s", "job", 3, pa, "j1", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_register(a, "s", "job", 3, pa, "j2", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_join(a, "s", "g", 1, pa, NULL, 0, 5000), 0);
    ASSERT_EQ(roster_unregister(a, "s", "job", 3, 5000), 0);
    int want[] = {ROSTER_EV_REGISTERED, ROSTER_EV_UPDATED, ROSTER_EV_JOINED,
                  ROSTER_EV_UNREGISTERED};
    uint64_t revs[4];
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(next_event(w, &ev, 5000), 0);
        ASSERT_EQ(ev.type, want[i]);
        revs[i] = ev.revision;
        ASSERT(revs[i] > (i ? revs[i - 1] : snap_rev));
        roster_event_free(&ev);
    }
    /* resuming after the first event replays exactly the three after it, in order */
    roster_client *w2 = test_connect(&na);
    int r = roster_subscribe_from(w2, "s", "", 0, ROSTER_SUB_ALL, revs[0], &sub, 5000);
    unsupported(r, "SUBSCRIBE from a revision");
    ASSERT_EQ(r, 0);
    for (int i = 1; i < 4; i++) {
        ASSERT_EQ(next_event(w2, &ev, 5000), 0);
        ASSERT_EQ(ev.type, want[i]);
        ASSERT_U64_EQ(ev.revision, revs[i]);
        roster_event_free(&ev);
    }
    ASSERT_EQ(roster_wait_event(w2, &ev, 200), ROSTER_ETIMEDOUT);
    roster_close(w2);
    roster_close(w);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&na);
    test_node_stop_ok(&nb);
    eh_stop(&ec);
}

static void test_handoff_elect(void)
{
    roster_client *a, *b;
    setup(&a, &b);
    roster_client *w = test_connect(&nb);
    roster_pid pa = roster_self(a), pb = roster_self(b);
    uint64_t sub, t1 = 0, t2 = 0;
    ASSERT_EQ(roster_subscribe(w, "s", "job", 3, ROSTER_SUB_REGISTRY, &sub, 5000), 0);
    ASSERT_EQ(roster_register_token(a, "s", "job", 3, pa, "j", 1, NULL, &t1, 5000), 0);
    /* handoff across nodes: the name is never free; b's client is told and owns it */
    int r = roster_handoff(a, "s", "job", 3, pb, t1, &t2, 5000);
    unsupported(r, "HANDOFF");
    ASSERT_EQ(r, 0);
    ASSERT(t2 > t1);
    roster_event ev;
    ASSERT_EQ(next_event(b, &ev, 5000), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_REGISTERED);
    ASSERT_EQ(ev.reason, ROSTER_REASON_HANDOFF);
    ASSERT_U64_EQ(ev.id, 0);
    roster_event_free(&ev);
    uint64_t cur = 0;
    ASSERT_EQ(roster_check_token(a, "s", "job", 3, t1, &cur, 5000), 0);
    ASSERT_U64_EQ(cur, t2);
    ASSERT_EQ(roster_unregister(b, "s", "job", 3, 5000), 0); /* b owns it now */
    /* the watcher: registered, then unregistered + registered (handoff) at one revision */
    int want[] = {ROSTER_EV_REGISTERED, ROSTER_EV_UNREGISTERED, ROSTER_EV_REGISTERED,
                  ROSTER_EV_UNREGISTERED};
    uint64_t revs[4];
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(next_event(w, &ev, 5000), 0);
        ASSERT_EQ(ev.type, want[i]);
        revs[i] = ev.revision;
        if (i == 1 || i == 2)
            ASSERT_EQ(ev.reason, ROSTER_REASON_HANDOFF);
        roster_event_free(&ev);
    }
    ASSERT_U64_EQ(revs[1], revs[2]);

    /* election: a's candidate wins at once; b's waits, first in line, and wins when the
     * leader's pid closes, with a larger token */
    roster_pid cand;
    ASSERT_EQ(roster_pid_new(a, &cand, 5000), 0);
    uint64_t lt = 0;
    r = roster_campaign(a, "s", "leader", 6, cand, "A", 1, &lt, 10000);
    unsupported(r, "CAMPAIGN");
    ASSERT_EQ(r, 0);
    ASSERT(lt != 0);
    uint64_t req = 0;
    ASSERT_EQ(roster_campaign_async(b, "s", "leader", 6, pb, "B", 1, &req), 0);
    ASSERT_EQ(roster_wait_event(b, &ev, 300), ROSTER_ETIMEDOUT); /* not elected yet */
    ASSERT_EQ(roster_ping(b, 5000), 0); /* other requests come and go meanwhile */
    roster_entry e;
    ASSERT_EQ(roster_lookup(b, "s", "leader", 6, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, cand));
    roster_entry_free(&e);
    ASSERT_EQ(roster_pid_close(a, cand, 5000), 0);
    ASSERT_EQ(roster_wait_event(b, &ev, 10000), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_REPLY);
    ASSERT_U64_EQ(ev.req_id, req);
    ASSERT_EQ(ev.status, 0);
    ASSERT(ev.token > lt);
    roster_event_free(&ev);
    ASSERT_EQ(roster_lookup(a, "s", "leader", 6, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, pb));
    roster_entry_free(&e);

    roster_close(w);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&na);
    test_node_stop_ok(&nb);
    eh_stop(&ec);
}

/* incr: the metadata is a decimal counter; the next value is one more */
static int incr(void *arg, const roster_buf *cur, roster_buf *next)
{
    char *buf = arg; /* 24 bytes */
    unsigned long long v = cur->len ? strtoull((const char *)cur->data, NULL, 10) : 0;
    next->len = (size_t)snprintf(buf, 24, "%llu", v + 1);
    next->data = (uint8_t *)buf;
    return 0;
}

/* increments runs n read-modify-write increments of "ctr" through node t; 0 if all worked. */
static int increments(const struct test_node *t, int n)
{
    roster_client *c = test_connect(t);
    char buf[24];
    int bad = 0;
    for (int i = 0; i < n && !bad; i++)
        bad = roster_update_with(c, "s", "ctr", 3, incr, buf, NULL, 10000) != 0;
    roster_close(c);
    return bad;
}

/* two processes on two nodes increment one counter with roster_update_with at the same
 * time: compare-and-set loses no increment */
static void test_update_with_concurrent(void)
{
    roster_client *a, *b;
    setup(&a, &b);
    ASSERT_EQ(roster_register(a, "s", "ctr", 3, roster_self(a), "0", 1, NULL, 5000), 0);
    roster_update_cond cond;
    memset(&cond, 0, sizeof cond);
    cond.if_meta = 1;
    cond.meta = "0";
    cond.meta_len = 1;
    int r = roster_update(b, "s", "ctr", 3, "0", 1, &cond, NULL, NULL, 5000);
    unsupported(r, "UPDATE");
    ASSERT_EQ(r, 0);
    enum { N = 25 };
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0)
        _exit(increments(&nb, N));
    int mine = increments(&na, N);
    int st = 0;
    ASSERT_EQ(waitpid(child, &st, 0), child);
    ASSERT_EQ(mine, 0);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(b, "s", "ctr", 3, &e, 5000), 0);
    char want[16];
    snprintf(want, sizeof want, "%d", 2 * N);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, want, strlen(want));
    roster_entry_free(&e);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&na);
    test_node_stop_ok(&nb);
    eh_stop(&ec);
}

static char out[1 << 16];

/* ctl runs `rosterctl --socket sock ARGS...` (NULL-terminated) into out; exit status. */
static int ctl(const char *sock, ...)
{
    const char *argv[32];
    int k = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = sock;
    va_list ap;
    va_start(ap, sock);
    for (const char *x = va_arg(ap, const char *); x && k < 31; x = va_arg(ap, const char *))
        argv[k++] = x;
    va_end(ap);
    argv[k] = NULL;
    return test_run_cmd(argv, out, sizeof out);
}

/* rosterctl: elect on two nodes, check-token, a stale lookup with its revision */
static void test_rosterctl_elect(void)
{
    roster_client *a, *b;
    setup(&a, &b);
    struct ctl_proc h1, h2;
    char line[512], p1[64], p2[64], t1[32], t2[32];
    ctl_spawn(&h1, na.sock, (const char *const[]){"--json", "--scope", "s", "elect", "leader",
                                                  "--meta", "A", NULL});
    ctl_read_line(&h1, line, sizeof line);
    if (strstr(line, "\"error\":\"EUNAVAIL\"") || strstr(line, "\"error\":\"EINVAL\"")) {
        ctl_wait_exit(&h1, 5000);
        roster_close(a);
        roster_close(b);
        stop_all();
        test_skip("elect in a strong scope answered %s: the core's part of strong scopes "
                  "(issue 9, helper score) does not serve CAMPAIGN on this branch", line);
    }
    /* {"pid":"...","token":"N"} */
    ASSERT(sscanf(line, "{\"pid\":\"%63[^\"]\",\"token\":\"%31[0-9]\"}", p1, t1) == 2);
    ctl_spawn(&h2, nb.sock, (const char *const[]){"--scope", "s", "elect", "leader", "--meta",
                                                  "B", NULL});
    /* h2 waits: the leader is still h1's pid, and its token is current */
    ASSERT_EQ(ctl(nb.sock, "--scope", "s", "lookup", "leader", NULL), 0);
    ASSERT(strncmp(out, "leader ", 7) == 0 && strstr(out, p1) != NULL);
    ASSERT_EQ(ctl(nb.sock, "--scope", "s", "check-token", "leader", t1, NULL), 0);
    /* h1 resigns by closing: h2 is elected, with a larger token */
    ctl_close_stdin(&h1);
    ASSERT_EQ(ctl_wait_exit(&h1, 5000), 0);
    ctl_read_line(&h2, p2, sizeof p2);
    ctl_read_line(&h2, line, sizeof line);
    ASSERT(sscanf(line, "token %31s", t2) == 1);
    ASSERT(strtoull(t2, NULL, 10) > strtoull(t1, NULL, 10));
    ASSERT_EQ(ctl(na.sock, "--scope", "s", "check-token", "leader", t1, NULL), 1);
    /* a stale lookup on a catches up with the new leader and shows its revision */
    uint64_t deadline = test_now_ms() + 5000;
    while (ctl(na.sock, "--json", "--scope", "s", "lookup", "leader", "--stale", NULL) != 0 ||
           !strstr(out, p2))
        ASSERT(test_now_ms() < deadline);
    ASSERT(strstr(out, "\"revision\":") != NULL);
    ctl_close_stdin(&h2);
    ASSERT_EQ(ctl_wait_exit(&h2, 5000), 0);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&na);
    test_node_stop_ok(&nb);
    eh_stop(&ec);
}

TEST_MAIN(T(test_tokens_reads_cas), T(test_resume), T(test_handoff_elect),
          T(test_update_with_concurrent), T(test_rosterctl_elect))
