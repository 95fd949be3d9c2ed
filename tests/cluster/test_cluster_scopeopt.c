/* test_cluster_scopeopt.c: issue 11 items 9, 10 and 11 on a 3-node cluster of real rosterd
 * processes, through libroster and rosterctl --json: scope options chosen at creation
 * travel to the nodes that join the scope (`scopes` shows them); a scope with duplicate
 * members keeps one entry per join and removes the oldest per leave, on every node; a
 * scope unique per node lets each node hold a name (lookup --all lists every holder,
 * lookup --local the local one); scope metadata set on one node reaches the others with
 * events, concurrent sets converge on one value, and deletes replicate. Every wait polls
 * with a deadline. */
#include <string.h>

#include "cluster.h"
#include "test.h"

#define WAIT_MS 10000

struct three {
    struct cl_node n[3];
    roster_client *c[3];
};

static void start(struct three *t)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-test-cookie-scopeopt-7d2e91\n");
    cl_start(&t->n[0], 1, "a", NULL, cookie, NULL);
    cl_start(&t->n[1], 2, "b", t->n[0].addr, cookie, NULL);
    cl_start(&t->n[2], 3, "c", t->n[0].addr, cookie, NULL);
    for (int i = 0; i < 3; i++)
        cl_wait_up(&t->n[i], NULL, 3, WAIT_MS);
    for (int i = 0; i < 3; i++)
        t->c[i] = cl_connect(&t->n[i]);
}

static void stop(struct three *t)
{
    for (int i = 2; i >= 0; i--) {
        roster_close(t->c[i]);
        test_node_stop_ok(&t->n[i].t);
    }
}

/* ctl runs rosterctl --json on node i with args; returns its exit status, stdout in out. */
static int ctl(struct three *t, int i, char *out, size_t cap, const char *const *args)
{
    const char *argv[16] = {ROSTERCTL_PATH, "--socket", t->n[i].t.sock, "--json"};
    size_t k = 4;
    for (; *args && k < 15; args++)
        argv[k++] = *args;
    argv[k] = NULL;
    return test_run_cmd(argv, out, cap);
}

/* all_join makes b and c join scope (a created it) and waits until every node sees 3. */
static void all_join(struct three *t, const char *scope)
{
    for (int i = 1; i < 3; i++)
        ASSERT_EQ(roster_scope_join(t->c[i], scope, 5000), 0);
    for (int i = 0; i < 3; i++)
        cl_wait_up(&t->n[i], scope, 3, WAIT_MS);
}

/* metas joins the metadata of group's members on node i with ',' (members order). */
static size_t metas(struct three *t, int i, const char *scope, const char *group, char *out,
                    size_t cap)
{
    roster_entries l;
    ASSERT_EQ(roster_members(t->c[i], scope, group, strlen(group), 0, &l, 5000), 0);
    size_t at = 0;
    out[0] = 0;
    for (size_t k = 0; k < l.n; k++)
        at += (size_t)snprintf(out + at, cap - at, "%s%.*s", k ? "," : "",
                               (int)l.items[k].meta.len, (const char *)l.items[k].meta.data);
    size_t n = l.n;
    roster_entries_free(&l);
    return n;
}

static void wait_metas(struct three *t, int i, const char *scope, const char *group,
                       const char *want)
{
    char got[256];
    uint64_t end = test_now_ms() + WAIT_MS;
    for (;;) {
        metas(t, i, scope, group, got, sizeof got);
        if (strcmp(got, want) == 0)
            return;
        if (test_now_ms() > end)
            test_fail(__FILE__, __LINE__, "node %d: members of %s are \"%s\", want \"%s\"", i,
                      group, got, want);
        cl_sleep_ms(20);
    }
}

static void test_duplicate_members(void)
{
    struct three t;
    start(&t);
    char out[8192];
    const char *create[] = {"scope-create", "dup", "--duplicate-members", NULL};
    ASSERT_EQ(ctl(&t, 0, out, sizeof out, create), 0);
    ASSERT(strstr(out, "\"duplicate_members\":true"));
    all_join(&t, "dup");
    /* c took the options a created the scope with */
    const char *scopes[] = {"scopes", NULL};
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, scopes), 0);
    ASSERT(strstr(out, "\"scope\":\"dup\",\"mode\":\"eventual\",\"names\":0,\"groups\":0,"
                       "\"duplicate_members\":true,\"unique_per_node\":false"));
    roster_pid pa = roster_self(t.c[0]);
    ASSERT_EQ(roster_join(t.c[0], "dup", "g", 1, pa, "m1", 2, 5000), 0);
    ASSERT_EQ(roster_join(t.c[0], "dup", "g", 1, pa, "m2", 2, 5000), 0);
    ASSERT_EQ(roster_join(t.c[0], "dup", "g", 1, pa, "m1", 2, 5000), 0);
    for (int i = 0; i < 3; i++)
        wait_metas(&t, i, "dup", "g", "m1,m2,m1");
    const char *members[] = {"members", "g", "--scope", "dup", NULL};
    ASSERT_EQ(ctl(&t, 1, out, sizeof out, members), 0);
    ASSERT(strstr(out, "\"meta\":\"m1\"") && strstr(out, "\"meta\":\"m2\""));
    /* a leave removes the oldest entry, everywhere */
    ASSERT_EQ(roster_leave(t.c[0], "dup", "g", 1, pa, 5000), 0);
    for (int i = 0; i < 3; i++)
        wait_metas(&t, i, "dup", "g", "m2,m1");
    /* a plain scope keeps "re-join updates" */
    ASSERT_EQ(roster_join(t.c[0], NULL, "g", 1, pa, "m1", 2, 5000), 0);
    ASSERT_EQ(roster_join(t.c[0], NULL, "g", 1, pa, "m2", 2, 5000), 0);
    wait_metas(&t, 2, NULL, "g", "m2");
    stop(&t);
}

static void test_unique_per_node(void)
{
    struct three t;
    start(&t);
    char out[8192];
    const char *create[] = {"scope-create", "pn", "--unique-per-node", NULL};
    ASSERT_EQ(ctl(&t, 0, out, sizeof out, create), 0);
    all_join(&t, "pn");
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(roster_register(t.c[i], "pn", "svc", 3, roster_self(t.c[i]), NULL, 0, NULL,
                                  5000),
                  0);
    /* a second pid of a node does not get it: unique on each node */
    roster_pid other;
    ASSERT_EQ(roster_pid_new(t.c[1], &other, 5000), 0);
    ASSERT_EQ(roster_register(t.c[1], "pn", "svc", 3, other, NULL, 0, NULL, 5000),
              ROSTER_ETAKEN);
    for (int i = 0; i < 3; i++) {
        uint64_t end = test_now_ms() + WAIT_MS;
        roster_entries l;
        for (;;) {
            ASSERT_EQ(roster_lookup_all(t.c[i], "pn", "svc", 3, &l, 5000), 0);
            if (l.n == 3)
                break;
            roster_entries_free(&l);
            ASSERT(test_now_ms() < end);
            cl_sleep_ms(20);
        }
        ASSERT_STR_EQ(l.items[0].node, "a");
        ASSERT_STR_EQ(l.items[1].node, "b");
        ASSERT_STR_EQ(l.items[2].node, "c");
        roster_entries_free(&l);
        roster_entry e;
        ASSERT_EQ(roster_lookup(t.c[i], "pn", "svc", 3, &e, 5000), 0);
        ASSERT(roster_pid_equal(e.pid, roster_self(t.c[i]))); /* the local holder */
        roster_entry_free(&e);
    }
    const char *all[] = {"lookup", "svc", "--all", "--scope", "pn", NULL};
    ASSERT_EQ(ctl(&t, 1, out, sizeof out, all), 0);
    ASSERT(strstr(out, "\"node\":\"a\"") && strstr(out, "\"node\":\"b\"") &&
           strstr(out, "\"node\":\"c\""));
    const char *local[] = {"lookup", "svc", "--local", "--scope", "pn", NULL};
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, local), 0);
    ASSERT(strstr(out, "\"node\":\"c\"") && !strstr(out, "\"node\":\"a\""));
    /* c gives it up: a and b keep theirs; --local on c is not found (exit 1) */
    ASSERT_EQ(roster_unregister(t.c[2], "pn", "svc", 3, 5000), 0);
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, local), 1);
    ASSERT(strstr(out, "\"error\":\"ENOTFOUND\""));
    uint64_t end = test_now_ms() + WAIT_MS;
    for (;;) {
        roster_entries l;
        ASSERT_EQ(roster_lookup_all(t.c[0], "pn", "svc", 3, &l, 5000), 0);
        size_t n = l.n;
        roster_entries_free(&l);
        if (n == 2)
            break;
        ASSERT(test_now_ms() < end);
        cl_sleep_ms(20);
    }
    stop(&t);
}

/* wait_meta waits until node i reads key's value as want (NULL: no value). */
static void wait_meta(struct three *t, int i, const char *scope, const char *key,
                      const char *want)
{
    uint64_t end = test_now_ms() + WAIT_MS;
    for (;;) {
        roster_buf v;
        int r = roster_scope_meta_get(t->c[i], scope, key, strlen(key), &v, 5000);
        int ok = want ? r == 0 && v.len == strlen(want) && memcmp(v.data, want, v.len) == 0
                      : r == ROSTER_ENOTFOUND;
        if (r == 0)
            roster_buf_free(&v);
        if (ok)
            return;
        if (test_now_ms() > end)
            test_fail(__FILE__, __LINE__, "node %d: key %s: status %d, want %s", i, key, r,
                      want ? want : "none");
        cl_sleep_ms(20);
    }
}

/* next_event waits for the next event of c (REPLY events skipped). */
static void next_event(roster_client *c, roster_event *ev)
{
    uint64_t end = test_now_ms() + WAIT_MS;
    for (;;) {
        int r = roster_next_event(c, ev);
        if (r == 0 && ev->type != ROSTER_EV_REPLY)
            return;
        if (r == 0)
            roster_event_free(ev);
        else
            ASSERT_EQ(r, ROSTER_EAGAIN);
        ASSERT(test_now_ms() < end);
        roster_flush(c, 100);
        cl_sleep_ms(10);
    }
}

static void test_scope_metadata(void)
{
    struct three t;
    start(&t);
    char out[8192];
    ASSERT_EQ(roster_scope_create(t.c[0], "sm", ROSTER_SCOPE_EVENTUAL, 5000), 0);
    all_join(&t, "sm");
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(t.c[1], "sm", NULL, 0,
                               ROSTER_SUB_SCOPE_META | ROSTER_SUB_ALL | ROSTER_SUB_SNAPSHOT,
                               &sub, 5000),
              0);
    roster_event ev;
    next_event(t.c[1], &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_SNAPSHOT_END);
    roster_event_free(&ev);
    /* set on a (rosterctl): b hears it, c reads it */
    const char *set[] = {"scope-meta", "set", "sm", "color", "blue", NULL};
    ASSERT_EQ(ctl(&t, 0, out, sizeof out, set), 0);
    ASSERT(strstr(out, "\"key\":\"color\"") && strstr(out, "\"value\":\"blue\""));
    next_event(t.c[1], &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_SCOPE_META_SET);
    ASSERT(ev.name.len == 5 && memcmp(ev.name.data, "color", 5) == 0);
    ASSERT(ev.meta.len == 4 && memcmp(ev.meta.data, "blue", 4) == 0);
    ASSERT_STR_EQ(ev.node, "a");
    roster_event_free(&ev);
    wait_meta(&t, 2, "sm", "color", "blue");
    const char *get[] = {"scope-meta", "get", "sm", "color", NULL};
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, get), 0);
    ASSERT(strstr(out, "\"value\":\"blue\""));
    const char *list[] = {"scope-meta", "get", "sm", NULL};
    ASSERT_EQ(ctl(&t, 1, out, sizeof out, list), 0);
    ASSERT(strstr(out, "[{\"scope\":\"sm\",\"key\":\"color\",\"value\":\"blue\",\"node\":\"a\""));
    /* setting the same value again: no event (the next one b sees is the delete's) */
    ASSERT_EQ(roster_scope_meta_set(t.c[2], "sm", "color", 5, "blue", 4, 5000), 0);
    /* b and c set one key at once: every node ends with the same value */
    ASSERT_EQ(roster_scope_meta_set(t.c[1], "sm", "k", 1, "from-b", 6, 5000), 0);
    ASSERT_EQ(roster_scope_meta_set(t.c[2], "sm", "k", 1, "from-c", 6, 5000), 0);
    uint64_t end = test_now_ms() + WAIT_MS;
    for (;;) {
        char v[3][16] = {"", "", ""};
        for (int i = 0; i < 3; i++) {
            roster_buf b;
            if (roster_scope_meta_get(t.c[i], "sm", "k", 1, &b, 5000) == 0) {
                snprintf(v[i], sizeof v[i], "%.*s", (int)b.len, (const char *)b.data);
                roster_buf_free(&b);
            }
        }
        if (v[0][0] && strcmp(v[0], v[1]) == 0 && strcmp(v[1], v[2]) == 0)
            break;
        ASSERT(test_now_ms() < end);
        cl_sleep_ms(20);
    }
    /* delete on c: gone everywhere; deleting again is ENOTFOUND (exit 1) */
    const char *del[] = {"scope-meta", "delete", "sm", "color", NULL};
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, del), 0);
    for (int i = 0; i < 3; i++)
        wait_meta(&t, i, "sm", "color", NULL);
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, del), 1);
    ASSERT(strstr(out, "\"error\":\"ENOTFOUND\""));
    /* b's events: the sets of k (one or two, as the race went), then the delete */
    int deleted = 0;
    while (!deleted) {
        next_event(t.c[1], &ev);
        ASSERT(ev.type == ROSTER_EV_SCOPE_META_SET || ev.type == ROSTER_EV_SCOPE_META_DELETED);
        if (ev.type == ROSTER_EV_SCOPE_META_SET)
            ASSERT(ev.name.len == 1 && ev.name.data[0] == 'k');
        deleted = ev.type == ROSTER_EV_SCOPE_META_DELETED;
        if (deleted)
            ASSERT(ev.meta.len == 4 && memcmp(ev.meta.data, "blue", 4) == 0);
        roster_event_free(&ev);
    }
    /* a scope the node has not joined: ENOSCOPE */
    ASSERT_EQ(roster_scope_meta_set(t.c[0], "nowhere", "k", 1, "v", 1, 5000), ROSTER_ENOSCOPE);
    stop(&t);
}

/* scope-join --ttl on c: c stays while a subscription of c uses the scope, and leaves it
 * once unused for the lease: a's `nodes --scope` stops listing c. */
static void test_scope_lease(void)
{
    struct three t;
    start(&t);
    char out[8192];
    ASSERT_EQ(roster_scope_create(t.c[0], "ls", ROSTER_SCOPE_EVENTUAL, 5000), 0);
    ASSERT_EQ(roster_register(t.c[0], "ls", "svc", 3, roster_self(t.c[0]), NULL, 0, NULL, 5000),
              0);
    const char *join[] = {"scope-join", "ls", "--ttl", "400", NULL};
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, join), 0);
    ASSERT(strstr(out, "\"ttl_ms\":400"));
    cl_wait_up(&t.n[0], "ls", 2, WAIT_MS);
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(t.c[2], "ls", NULL, 0, ROSTER_SUB_ALL, &sub, 5000), 0);
    cl_wait_lookup(&t.n[2], "ls", "svc", 0, NULL, WAIT_MS);
    /* in use: still joined well past the lease */
    uint64_t until = test_now_ms() + 1200;
    while (test_now_ms() < until) {
        ASSERT_EQ(cl_count_up(t.c[0], "ls", NULL, NULL), 2);
        cl_sleep_ms(50);
    }
    ASSERT_EQ(roster_unsubscribe(t.c[2], sub, 5000), 0);
    cl_wait_up(&t.n[0], "ls", 1, WAIT_MS);
    cl_wait_log(&t.n[2], "scope 'ls' left: unused", WAIT_MS);
    ASSERT_EQ(roster_register(t.c[2], "ls", "x", 1, roster_self(t.c[2]), NULL, 0, NULL, 5000),
              ROSTER_ENOSCOPE);
    const char *bad[] = {"scope-join", "default", "--ttl", "400", NULL};
    ASSERT_EQ(ctl(&t, 2, out, sizeof out, bad), 2);
    stop(&t);
}

TEST_MAIN(T(test_duplicate_members), T(test_unique_per_node), T(test_scope_metadata),
          T(test_scope_lease))
