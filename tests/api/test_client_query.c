/* test_client_query.c: libroster's metadata queries against a real rosterd (issue 11 items
 * 6 and 12): names, members and counts by exact key or prefix, filtered by metadata (exact,
 * prefix, glob, a JSON field, several at once), by pid, node and locality, with limits and
 * the one order of listings; unregister_match / leave_match remove only the caller's own
 * entries (or one pid of the same OS user), one event each; malformed conditions are
 * refused by the library and, in raw frames, by the node. */
#include <string.h>

#include "node.h"
#include "rawclient.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"
#include "wire/fields.h"
#include "wire/query.h"

static roster_query qry(const char *key, int prefix, const roster_match *m, size_t n)
{
    roster_query q;
    roster_query_init(&q);
    q.key = key;
    q.key_len = strlen(key);
    q.prefix = prefix;
    q.match = m;
    q.n_match = n;
    return q;
}

static roster_match mt(int op, const char *field, const char *value)
{
    roster_match m = {op, field, value, strlen(value)};
    return m;
}

static void reg(roster_client *c, roster_pid p, const char *name, const char *meta)
{
    ASSERT_EQ(roster_register(c, NULL, name, strlen(name), p, meta, strlen(meta), NULL, 5000),
              0);
}

static void join(roster_client *c, roster_pid p, const char *group, const char *meta)
{
    ASSERT_EQ(roster_join(c, NULL, group, strlen(group), p, meta, strlen(meta), 5000), 0);
}

static void test_query_names(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b), pa2;
    ASSERT_EQ(roster_pid_new(a, &pa2, 5000), 0);
    reg(a, pa, "svc/web", "{\"role\":\"admin\",\"port\":8080}");
    reg(a, pa2, "svc/db", "{\"role\":\"user\",\"port\":\"5432\"}");
    reg(b, pb, "svc/cache", "{\"role\":\"admin\",\"zone\":\"eu-west-1\"}");
    reg(b, pb, "other", "plain text");
    roster_entries l;

    /* a JSON field: strings by content, numbers by their text */
    roster_match m[3] = {mt(ROSTER_MATCH_FIELD, "role", "admin")};
    roster_query q = qry("", 1, m, 1);
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 2); /* sorted by name */
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "svc/cache", 9);
    ASSERT_MEM_EQ(l.items[1].name.data, l.items[1].name.len, "svc/web", 7);
    ASSERT(roster_pid_equal(l.items[1].pid, pa));
    ASSERT_STR_EQ(l.items[1].node, roster_node_name(a));
    roster_entries_free(&l);
    m[0] = mt(ROSTER_MATCH_FIELD, "port", "8080");
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    roster_entries_free(&l);
    m[0] = mt(ROSTER_MATCH_FIELD, "port", "5432"); /* the string "5432" */
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "svc/db", 6);
    roster_entries_free(&l);

    /* exact, prefix, glob of the whole metadata */
    m[0] = mt(ROSTER_MATCH_EQ, NULL, "plain text");
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    roster_entries_free(&l);
    m[0] = mt(ROSTER_MATCH_PREFIX, NULL, "{\"role\":\"admin\"");
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    roster_entries_free(&l);
    m[0] = mt(ROSTER_MATCH_GLOB, NULL, "*eu-*");
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    roster_entries_free(&l);

    /* all conditions must hold */
    m[0] = mt(ROSTER_MATCH_FIELD, "role", "admin");
    m[1] = mt(ROSTER_MATCH_GLOB, NULL, "*port*");
    q.n_match = 2;
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "svc/web", 7);
    roster_entries_free(&l);

    /* the key prefix, a pid, the limit, an exact name */
    q = qry("svc/", 1, NULL, 0);
    q.limit = 2;
    ASSERT_EQ(roster_query_names(b, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "svc/cache", 9);
    ASSERT_MEM_EQ(l.items[1].name.data, l.items[1].name.len, "svc/db", 6);
    roster_entries_free(&l);
    q.limit = 0;
    q.pid = pa2;
    ASSERT_EQ(roster_query_names(b, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    roster_entries_free(&l);
    q = qry("svc/db", 0, NULL, 0);
    ASSERT_EQ(roster_query_names(b, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    roster_entries_free(&l);
    q = qry("svc/d", 0, NULL, 0); /* exact: no such name */
    ASSERT_EQ(roster_query_names(b, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 0);
    roster_entries_free(&l);

    /* this node's name, local_only, an unknown node */
    q = qry("", 1, NULL, 0);
    q.node = roster_node_name(a);
    ASSERT_EQ(roster_query_names(b, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 4);
    roster_entries_free(&l);
    q.node = NULL;
    q.local_only = 1;
    ASSERT_EQ(roster_query_names(b, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 4);
    roster_entries_free(&l);
    q.node = "nosuchnode";
    ASSERT_EQ(roster_query_names(b, NULL, &q, &l, 5000), ROSTER_ENOTFOUND);
    ASSERT(strstr(roster_errdetail(b), "nosuchnode") != NULL);
    q = qry("", 1, NULL, 0);
    ASSERT_EQ(roster_query_names(b, "nosuchscope", &q, &l, 5000), ROSTER_ENOSCOPE);

    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_query_members_and_counts(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b);
    join(b, pb, "chat/room2", "{\"lang\":\"fr\"}");
    join(a, pa, "chat/room2", "{\"lang\":\"en\"}");
    join(a, pa, "chat/room1", "{\"lang\":\"en\"}");
    join(b, pb, "chatter", "{\"lang\":\"en\"}");
    join(b, pb, "misc", "x");
    roster_entries l;

    /* members of every group under a prefix: by group, then pid */
    roster_query q = qry("chat/", 1, NULL, 0);
    ASSERT_EQ(roster_query_members(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 3);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "chat/room1", 10);
    ASSERT_MEM_EQ(l.items[1].name.data, l.items[1].name.len, "chat/room2", 10);
    ASSERT_MEM_EQ(l.items[2].name.data, l.items[2].name.len, "chat/room2", 10);
    ASSERT(l.items[1].pid.serial < l.items[2].pid.serial);
    roster_entries_free(&l);

    roster_match m[1] = {mt(ROSTER_MATCH_FIELD, "lang", "en")};
    q = qry("chat", 1, m, 1);
    ASSERT_EQ(roster_query_members(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 3); /* room1, room2 (pa), chatter */
    ASSERT_MEM_EQ(l.items[2].name.data, l.items[2].name.len, "chatter", 7);
    roster_entries_free(&l);
    q.limit = 1;
    ASSERT_EQ(roster_query_members(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    roster_entries_free(&l);
    q = qry("chat/room2", 0, m, 1); /* one group, filtered */
    ASSERT_EQ(roster_query_members(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT(roster_pid_equal(l.items[0].pid, pa));
    roster_entries_free(&l);
    q = qry("", 1, NULL, 0);
    q.pid = pb;
    ASSERT_EQ(roster_query_members(a, NULL, &q, &l, 5000), 0);
    ASSERT_EQ(l.n, 3);
    roster_entries_free(&l);

    /* counts: an exact key counts the name and the group's members */
    roster_counts cnt;
    q = qry("chat/room2", 0, NULL, 0);
    ASSERT_EQ(roster_query_count(a, NULL, &q, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.names, 0);
    ASSERT_U64_EQ(cnt.groups, 1);
    ASSERT_U64_EQ(cnt.members, 2);
    ASSERT_EQ(roster_register(b, NULL, "chat/room2", 10, pb, "n", 1, NULL, 5000), 0);
    ASSERT_EQ(roster_query_count(a, NULL, &q, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.names, 1);
    q = qry("chat/", 1, NULL, 0);
    ASSERT_EQ(roster_query_count(a, NULL, &q, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.names, 1);
    ASSERT_U64_EQ(cnt.groups, 2);
    ASSERT_U64_EQ(cnt.members, 3);
    q = qry("", 1, m, 1); /* groups holding a matching member */
    ASSERT_EQ(roster_query_count(a, NULL, &q, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.names, 0);
    ASSERT_U64_EQ(cnt.groups, 3);
    ASSERT_U64_EQ(cnt.members, 3);
    q.pid = pa;
    ASSERT_EQ(roster_query_count(a, NULL, &q, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.groups, 2);
    ASSERT_U64_EQ(cnt.members, 2);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* next_event waits for one event or fails the test. */
static void next_event(roster_client *c, roster_event *ev)
{
    int r = roster_wait_event(c, ev, 5000);
    if (r)
        test_fail(__FILE__, __LINE__, "no event: %s", roster_strerror(r));
}

static void test_unmatch(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n), *w = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b), pa2;
    ASSERT_EQ(roster_pid_new(a, &pa2, 5000), 0);
    reg(a, pa, "job/1", "{\"state\":\"done\"}");
    reg(a, pa2, "job/2", "{\"state\":\"done\"}");
    reg(a, pa, "job/3", "{\"state\":\"running\"}");
    reg(b, pb, "job/4", "{\"state\":\"done\"}");
    join(a, pa, "q/1", "done");
    join(a, pa2, "q/1", "done");
    join(b, pb, "q/1", "done");
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(w, NULL, "", 0, ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY |
                                                   ROSTER_SUB_GROUPS, &sub, 5000), 0);

    /* a's own: job/1 and job/2 (both its pids), not b's job/4 nor the running job/3 */
    roster_match m[1] = {mt(ROSTER_MATCH_FIELD, "state", "done")};
    roster_query q = qry("job/", 1, m, 1);
    ASSERT_EQ(roster_unregister_match(a, NULL, &q, 5000), 2);
    roster_event ev;
    int seen[3] = {0};
    for (int i = 0; i < 2; i++) {
        next_event(w, &ev);
        ASSERT_EQ(ev.type, ROSTER_EV_UNREGISTERED);
        ASSERT_EQ(ev.reason, ROSTER_REASON_NORMAL);
        ASSERT(ev.name.len == 5 && ev.name.data[4] >= '1' && ev.name.data[4] <= '2');
        seen[ev.name.data[4] - '1']++;
        roster_event_free(&ev);
    }
    ASSERT(seen[0] == 1 && seen[1] == 1);
    roster_entries l;
    roster_query all = qry("job/", 1, NULL, 0);
    ASSERT_EQ(roster_query_names(w, NULL, &all, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "job/3", 5);
    ASSERT_MEM_EQ(l.items[1].name.data, l.items[1].name.len, "job/4", 5);
    roster_entries_free(&l);
    ASSERT_EQ(roster_unregister_match(a, NULL, &q, 5000), 0); /* nothing left to match */

    /* one pid only: leave q/1 for pa2 alone */
    roster_query g = qry("q/1", 0, NULL, 0);
    g.pid = pa2;
    ASSERT_EQ(roster_leave_match(a, NULL, &g, 5000), 1);
    next_event(w, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_LEFT);
    ASSERT(roster_pid_equal(ev.pid, pa2));
    roster_event_free(&ev);
    /* another client of the same OS user may name its pid (as for update and handoff) */
    g.pid = pa;
    ASSERT_EQ(roster_leave_match(b, NULL, &g, 5000), 1);
    next_event(w, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_LEFT);
    ASSERT(roster_pid_equal(ev.pid, pa));
    roster_event_free(&ev);
    ASSERT_EQ(roster_is_member(w, NULL, "q/1", 3, pb, 5000), 1);
    /* a pid that is not alive */
    g.pid = (roster_pid){roster_node_incarnation(a), 999999};
    ASSERT_EQ(roster_leave_match(a, NULL, &g, 5000), ROSTER_ENOPROC);
    /* w holds nothing: its own match removes nothing */
    g = qry("", 1, NULL, 0);
    ASSERT_EQ(roster_leave_match(w, NULL, &g, 5000), 0);
    ASSERT_EQ(roster_is_member(w, NULL, "q/1", 3, pb, 5000), 1);
    ASSERT_EQ(roster_wait_event(w, &ev, 200), ROSTER_ETIMEDOUT); /* no other event */
    roster_close(a);
    roster_close(b);
    roster_close(w);
    test_node_stop_ok(&n);
}

static void test_bad_queries(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n);
    roster_entries l;
    roster_match m[9];
    for (int i = 0; i < 9; i++)
        m[i] = mt(ROSTER_MATCH_EQ, NULL, "x");
    roster_query q = qry("", 1, m, 9);
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), ROSTER_EINVAL);
    q.n_match = 8;
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    roster_entries_free(&l);
    m[0] = mt(ROSTER_MATCH_FIELD, NULL, "x"); /* a field condition without a field */
    q.n_match = 1;
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), ROSTER_EINVAL);
    m[0] = mt(ROSTER_MATCH_EQ, "f", "x"); /* a field on another condition */
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), ROSTER_EINVAL);
    static char pat[258];
    memset(pat, '*', 257);
    m[0] = mt(ROSTER_MATCH_GLOB, NULL, pat);
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), ROSTER_EINVAL);
    pat[256] = 0;
    m[0] = mt(ROSTER_MATCH_GLOB, NULL, pat);
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), 0);
    roster_entries_free(&l);
    m[0].op = 7;
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), ROSTER_EINVAL);
    q = qry("", 0, NULL, 0); /* an empty exact key */
    ASSERT_EQ(roster_query_names(a, NULL, &q, &l, 5000), ROSTER_EINVAL);
    roster_close(a);

    /* the node checks what the library would not send */
    struct rawclient rc;
    ASSERT_EQ(rc_connect(&rc, n.sock), 0);
    ASSERT_EQ(rc_hello(&rc, RS_WIRE_VERSION, NULL), 0);
    static const uint8_t bad[][8] = {{9, 0, 0, 0, 0, 0, 0}, {4, 0, 0, 0, 0, 0, 0},
                                     {1, 0, 0, 5, 0, 0, 0}};
    static const size_t bad_len[] = {7, 7, 7};
    for (size_t i = 0; i < 3; i++) {
        struct rs_msg msg, rep;
        memset(&msg, 0, sizeof msg);
        msg.type = RS_MSG_QUERY;
        msg.opts = RS_QW_NAMES | RS_QF_PREFIX;
        msg.scope = rs_bytes_str("default");
        msg.meta = rs_bytes_of(bad[i], bad_len[i]);
        ASSERT_EQ(rc_call(&rc, &msg, &rep, 5000), ROSTER_EINVAL);
    }
    struct rs_msg msg, rep;
    memset(&msg, 0, sizeof msg);
    msg.type = RS_MSG_QUERY; /* names and members at once */
    msg.opts = RS_QW_NAMES | RS_QW_MEMBERS | RS_QF_PREFIX;
    msg.scope = rs_bytes_str("default");
    ASSERT_EQ(rc_call(&rc, &msg, &rep, 5000), ROSTER_EINVAL);
    rc_close(&rc);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_query_names), T(test_query_members_and_counts), T(test_unmatch),
          T(test_bad_queries))
