/* test_client_reconnect.c: clients that survive a restart of the node (issue 12 item 7),
 * against a real rosterd killed with SIGKILL and started again on the same socket: the
 * library's reconnect mode (the RECONNECTED event with both incarnations, pids, names,
 * memberships, subscriptions with a snapshot and monitors re-created, ids kept, a name taken
 * meanwhile reported) and `rosterctl register|join --reconnect` holding across the restart.
 * Without the option a lost connection stays lost. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproc.h"
#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static struct test_node node;

static roster_client *connect_recon(void)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = node.sock;
    o.client_name = "recon";
    o.reconnect = 1;
    o.reconnect_max_ms = 200;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    if (r)
        test_fail(__FILE__, __LINE__, "connect: %s", roster_strerror(r));
    return c;
}

/* next waits for c's next event (deadline 10 s: the first one reconnects). */
static void next(roster_client *c, roster_event *ev)
{
    int r = roster_wait_event(c, ev, 10000);
    if (r)
        test_fail(__FILE__, __LINE__, "no event: %s (%s)", roster_strerror(r),
                  roster_errdetail(c));
}

static void test_library_restores(void)
{
    test_node_start(&node, NULL);
    roster_client *a = connect_recon(), *b = test_connect(&node);
    roster_pid self0 = roster_self(a), p2 = {0, 0}, pb = roster_self(b);
    uint64_t inc0 = roster_node_incarnation(a);
    ASSERT_EQ(roster_pid_new(a, &p2, 5000), 0);
    ASSERT_EQ(roster_register(a, NULL, "svc", 3, self0, "m1", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_register(a, NULL, "w2", 2, p2, "m2", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_register(a, NULL, "gone", 4, self0, NULL, 0, NULL, 5000), 0);
    ASSERT_EQ(roster_unregister(a, NULL, "gone", 4, 5000), 0); /* undone: not re-created */
    ASSERT_EQ(roster_join(a, NULL, "grp", 3, self0, "g", 1, 5000), 0);
    uint64_t sub = 0, mon = 0;
    ASSERT_EQ(roster_subscribe(a, NULL, "o", 1, ROSTER_SUB_REGISTRY | ROSTER_SUB_PREFIX, &sub,
                               5000), 0);
    ASSERT_EQ(roster_monitor(a, pb, &mon, 5000), 0);
    ASSERT(sub != 0 && mon != 0);

    test_node_restart(&node, SIGKILL, NULL);
    /* meanwhile, on the new incarnation: w2 is taken, "other" registered */
    roster_client *c = test_connect(&node), *d = test_connect(&node);
    ASSERT_EQ(roster_register(c, NULL, "w2", 2, roster_self(c), NULL, 0, NULL, 5000), 0);
    ASSERT_EQ(roster_register(d, NULL, "other", 5, roster_self(d), "x", 1, NULL, 5000), 0);

    roster_event ev;
    next(a, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_RECONNECTED);
    ASSERT_U64_EQ(ev.old_incarnation, inc0);
    ASSERT_U64_EQ(ev.new_incarnation, roster_node_incarnation(a));
    ASSERT(ev.new_incarnation != inc0);
    roster_pid self1 = roster_self(a);
    ASSERT(roster_pid_equal(ev.pid, self1));
    ASSERT(!roster_pid_equal(self1, self0));
    roster_event_free(&ev);
    ASSERT_U64_EQ(roster_reconnects(a), 1);

    /* the taken name, reported and forgotten */
    next(a, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_RESTORE_FAILED);
    ASSERT_EQ(ev.what, ROSTER_KEEP_NAME);
    ASSERT_EQ(ev.status, ROSTER_ETAKEN);
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "w2", 2);
    roster_pid p2now = roster_pid_current(a, p2);
    ASSERT(roster_pid_equal(ev.pid, p2now));
    ASSERT(!roster_pid_equal(p2now, p2));
    ASSERT(roster_pid_equal(roster_pid_current(a, self0), self1));
    roster_event_free(&ev);

    /* the subscription again, under the id the application holds, with a snapshot */
    next(a, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_REGISTERED);
    ASSERT_U64_EQ(ev.id, sub);
    ASSERT_EQ(ev.snapshot, 1);
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "other", 5);
    roster_event_free(&ev);
    next(a, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_SNAPSHOT_END);
    ASSERT_U64_EQ(ev.id, sub);
    roster_event_free(&ev);
    /* the monitor again: b's pid died with the old incarnation */
    next(a, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_DOWN);
    ASSERT_U64_EQ(ev.id, mon);
    ASSERT(roster_pid_equal(ev.pid, pb));
    roster_event_free(&ev);

    /* what the node holds now, seen by another client */
    roster_entry e;
    ASSERT_EQ(roster_lookup(d, NULL, "svc", 3, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, self1));
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "m1", 2);
    roster_entry_free(&e);
    ASSERT_EQ(roster_lookup(d, NULL, "gone", 4, &e, 5000), ROSTER_ENOTFOUND);
    ASSERT_EQ(roster_lookup(d, NULL, "w2", 2, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, roster_self(c)));
    roster_entry_free(&e);
    roster_entries ms;
    ASSERT_EQ(roster_members(d, NULL, "grp", 3, 0, &ms, 5000), 0);
    ASSERT_EQ((int)ms.n, 1);
    ASSERT(roster_pid_equal(ms.items[0].pid, self1));
    ASSERT_MEM_EQ(ms.items[0].meta.data, ms.items[0].meta.len, "g", 1);
    roster_entries_free(&ms);

    /* later events keep the application's id; an old pid still works in calls */
    ASSERT_EQ(roster_register(d, NULL, "o2", 2, roster_self(d), NULL, 0, NULL, 5000), 0);
    next(a, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_REGISTERED);
    ASSERT_U64_EQ(ev.id, sub);
    ASSERT_EQ(ev.snapshot, 0);
    roster_event_free(&ev);
    ASSERT_EQ(roster_leave(a, NULL, "grp", 3, self0, 5000), 0);
    ASSERT_EQ(roster_is_member(d, NULL, "grp", 3, self1, 5000), 0);
    ASSERT_EQ(roster_unsubscribe(a, sub, 5000), 0);
    ASSERT_EQ(roster_unsubscribe(a, sub, 5000), ROSTER_ENOTFOUND);

    roster_close(a);
    roster_close(b);
    roster_close(c);
    roster_close(d);
    test_node_stop_ok(&node);
}

/* A second restart: a pid from the first reconnect still maps; what was kept stays kept. */
static void test_two_restarts(void)
{
    test_node_start(&node, NULL);
    roster_client *a = connect_recon();
    ASSERT_EQ(roster_register(a, NULL, "x", 1, roster_self(a), NULL, 0, NULL, 5000), 0);
    roster_pid s0 = roster_self(a);
    roster_event ev;
    for (int round = 0; round < 2; round++) {
        test_node_restart(&node, round ? SIGTERM : SIGKILL, NULL);
        next(a, &ev);
        ASSERT_EQ(ev.type, ROSTER_EV_RECONNECTED);
        roster_event_free(&ev);
    }
    roster_pid s2 = roster_self(a);
    ASSERT(roster_pid_equal(roster_pid_current(a, s0), s2));
    roster_client *d = test_connect(&node);
    roster_entry e;
    ASSERT_EQ(roster_lookup(d, NULL, "x", 1, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, s2));
    roster_entry_free(&e);
    ASSERT_U64_EQ(roster_reconnects(a), 2);
    roster_close(a);
    roster_close(d);
    test_node_stop_ok(&node);
}

/* A name held with a lease comes back with its lease; a batch's entries come back. */
static void test_leases_and_batches(void)
{
    test_node_start(&node, NULL);
    roster_client *a = connect_recon();
    roster_pid me = roster_self(a);
    ASSERT_EQ(roster_register_ttl(a, NULL, "leased", 6, me, "L", 1, 60000, NULL, NULL, 5000), 0);
    roster_batch_item it[2];
    memset(it, 0, sizeof it);
    it[0].key = "b1";
    it[0].key_len = 2;
    it[0].pid = me;
    it[1].key = "b2";
    it[1].key_len = 2;
    it[1].pid = me;
    ASSERT_EQ(roster_join_many(a, NULL, it, 2, 5000), 0);
    test_node_restart(&node, SIGKILL, NULL);
    roster_event ev;
    next(a, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_RECONNECTED);
    roster_event_free(&ev);
    roster_client *d = test_connect(&node);
    roster_entry e;
    ASSERT_EQ(roster_lookup(d, NULL, "leased", 6, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, roster_self(a)));
    roster_entry_free(&e);
    ASSERT_EQ(roster_is_member(d, NULL, "b1", 2, roster_self(a), 5000), 1);
    ASSERT_EQ(roster_is_member(d, NULL, "b2", 2, roster_self(a), 5000), 1);
    /* the lease came back too: renewing reports one leased entry */
    uint64_t renewed = 0;
    ASSERT_EQ(roster_renew(a, me, &renewed, 5000), 0);
    ASSERT_U64_EQ(renewed, 1);
    roster_close(a);
    roster_close(d);
    test_node_stop_ok(&node);
}

/* Without options.reconnect the loss is final. */
static void test_off_by_default(void)
{
    test_node_start(&node, NULL);
    roster_client *a = test_connect(&node);
    test_node_restart(&node, SIGKILL, NULL);
    roster_event ev;
    ASSERT_EQ(roster_wait_event(a, &ev, 5000), ROSTER_ECLOSED);
    ASSERT_EQ(roster_ping(a, 1000), ROSTER_ECLOSED);
    ASSERT_U64_EQ(roster_reconnects(a), 0);
    roster_close(a);
    test_node_stop_ok(&node);
}

static char out[8192];

static int ctl(const char *a0, const char *a1, const char *a2)
{
    const char *argv[] = {ROSTERCTL_PATH, "--socket", node.sock, a0, a1, a2, NULL};
    return test_run_cmd(argv, out, sizeof out);
}

/* json_field copies the string value of "key" in line into dst. */
static void json_field(const char *line, const char *key, char *dst, size_t cap)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":\"", key);
    const char *p = strstr(line, k);
    if (!p)
        test_fail(__FILE__, __LINE__, "no %s in %s", key, line);
    p += strlen(k);
    size_t n = strcspn(p, "\"");
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = 0;
}

static void test_rosterctl_holds(void)
{
    test_node_start(&node, NULL);
    struct ctl_proc r, j;
    const char *ra[] = {"--json", "register", "svc", "--reconnect", NULL};
    const char *ja[] = {"--json", "join", "grp", "--reconnect", NULL};
    ctl_spawn(&r, node.sock, ra);
    ctl_spawn(&j, node.sock, ja);
    char line[1024], pid0[64], pid1[64], jp[64];
    ctl_read_line(&r, line, sizeof line);
    json_field(line, "pid", pid0, sizeof pid0);
    ctl_read_line(&j, line, sizeof line);

    test_node_restart(&node, SIGKILL, NULL);
    /* each holder notices, dials again and holds its entry again (its poll on roster_fd
     * is woken by the library's reconnect timer) */
    ctl_read_line(&r, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"reconnected\"") != NULL);
    json_field(line, "pid", pid1, sizeof pid1);
    ASSERT(strcmp(pid0, pid1) != 0);
    ctl_read_line(&j, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"reconnected\"") != NULL);
    json_field(line, "pid", jp, sizeof jp);
    ASSERT_EQ(ctl("--json", "lookup", "svc"), 0);
    char want[128];
    snprintf(want, sizeof want, "\"pid\":\"%s\"", pid1);
    ASSERT(strstr(out, want) != NULL);
    ASSERT_EQ(ctl("members", "grp", NULL), 0);
    ASSERT(strstr(out, jp) != NULL);

    /* a name taken while the holder was away: restore_failed, exit 1 */
    kill(r.pid, SIGSTOP);
    test_node_restart(&node, SIGKILL, NULL);
    roster_client *c = test_connect(&node);
    ASSERT_EQ(roster_register(c, NULL, "svc", 3, roster_self(c), NULL, 0, NULL, 5000), 0);
    kill(r.pid, SIGCONT);
    ctl_read_line(&r, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"reconnected\"") != NULL);
    ctl_read_line(&r, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"restore_failed\"") != NULL);
    ASSERT(strstr(line, "\"error\":\"ETAKEN\"") != NULL);
    ASSERT_EQ(ctl_wait_exit(&r, 10000), 1);

    /* the join holder reconnected again and still releases cleanly on EOF */
    ctl_read_line(&j, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"reconnected\"") != NULL);
    ctl_close_stdin(&j);
    ASSERT_EQ(ctl_wait_exit(&j, 10000), 0);
    ASSERT_EQ(ctl("members", "grp", NULL), 0);
    ASSERT(out[0] == 0);
    /* elect does not take the flag */
    const char *ea[] = {ROSTERCTL_PATH, "--socket", node.sock, "elect", "L", "--reconnect", NULL};
    ASSERT_EQ(test_run_cmd(ea, out, sizeof out), 2);
    roster_close(c);
    test_node_stop_ok(&node);
}

TEST_MAIN(T(test_library_restores), T(test_two_restarts), T(test_leases_and_batches),
          T(test_off_by_default),
          T(test_rosterctl_holds))
