/* test_cluster_rotate.c: a rolling cookie rotation on a live 3-node cluster, one node at a
 * time with SIGHUP (the procedure of docs/SECURITY.md): 1. every node gets the new cookie
 * as its next one; 2. every node swaps (new current, old next); 3. every node drops the old
 * one. The cluster never splits (every node sees 3 up after every step, and no node of it is
 * ever declared down); after every step a probe node proving with the new cookie (and
 * accepting the old) joins all three, so fresh handshakes between rotated and not yet
 * rotated nodes work; at the end a node with only the old cookie is refused by all, and a
 * reload that fails (an empty cookie file) keeps the previous keys. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "rclient.h"
#include "test.h"

#define OLD "old-cookie-5d1e2f3a4b5c6d7e8f90\n"
#define NEW "new-cookie-0a9b8c7d6e5f4a3b2c1d\n"

static char dir[64];

static void path_of(char *out, size_t cap, const char *what, const char *node)
{
    snprintf(out, cap, "%s/%s-%s", dir, what, node);
}

/* put writes text to path through a rename, so a reload never reads half a file. */
static void put(const char *path, const char *text)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    ASSERT(f);
    ASSERT_EQ(fputs(text, f) >= 0, 1);
    ASSERT_EQ(fclose(f), 0);
    ASSERT_EQ(chmod(tmp, 0600), 0);
    ASSERT_EQ(rename(tmp, path), 0);
}

static int log_count(const struct cl_node *n, const char *a, const char *b)
{
    FILE *f = fopen(n->t.log, "r");
    if (!f)
        return 0;
    char line[1024];
    int k = 0;
    while (fgets(line, sizeof line, f))
        k += strstr(line, a) && (!b || strstr(line, b));
    fclose(f);
    return k;
}

/* hup sends SIGHUP to n and waits for it to log that it re-read its cookie files. */
static void hup(const struct cl_node *n, const char *want)
{
    int before = log_count(n, want, NULL);
    ASSERT_EQ(kill(n->t.pid, SIGHUP), 0);
    uint64_t deadline = test_now_ms() + 5000;
    while (log_count(n, want, NULL) <= before) {
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "node %s: no '%s' after SIGHUP (log %s)", n->name,
                      want, n->t.log);
        cl_sleep_ms(10);
    }
}

static struct cl_node nodes[3];

/* downs_of counts n's declarations of node name down. */
static int downs_of(const struct cl_node *n, const char *name)
{
    char who[16];
    snprintf(who, sizeof who, "node %s (", name);
    return log_count(n, who, "declared down");
}

/* whole checks that every node of the cluster sees all three up right now. */
static void whole(void)
{
    for (int i = 0; i < 3; i++) {
        roster_client *c = cl_connect(&nodes[i]);
        ASSERT_EQ(cl_count_up(c, NULL, NULL, NULL), 3);
        roster_close(c);
    }
}

/* probe starts a node proving with cur and accepting next (NULL: none), which must come up
 * with all three, then stops it. */
static void probe(const char *name, const char *cur, const char *next)
{
    char cp[128], np[128];
    path_of(cp, sizeof cp, "cookie", name);
    path_of(np, sizeof np, "next", name);
    put(cp, cur);
    if (next)
        put(np, next);
    const char *extra[] = {"--cookie-file-next", np, NULL};
    struct cl_node p;
    cl_start(&p, 4, name, nodes[0].addr, cp, extra);
    cl_wait_up(&p, NULL, 4, 20000);
    for (int i = 0; i < 3; i++)
        cl_wait_up(&nodes[i], NULL, 4, 20000);
    test_node_stop_ok(&p.t);
    for (int i = 0; i < 3; i++)
        cl_wait_up(&nodes[i], NULL, 3, 20000);
}

static void test_rolling_rotation(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    snprintf(dir, sizeof dir, "/tmp/roster-rotate-XXXXXX");
    ASSERT(mkdtemp(dir));
    static const char *const names[3] = {"a", "b", "c"};
    char cookie[3][128], next[3][128];
    for (int i = 0; i < 3; i++) {
        path_of(cookie[i], sizeof cookie[i], "cookie", names[i]);
        path_of(next[i], sizeof next[i], "next", names[i]);
        put(cookie[i], OLD); /* no next file yet: the flag is there for the rotation */
        const char *extra[] = {"--cookie-file-next", next[i], NULL};
        cl_start(&nodes[i], i + 1, names[i], i ? nodes[0].addr : NULL, cookie[i], extra);
        ASSERT(cl_log_has(&nodes[i], "no next cluster cookie"));
    }
    for (int i = 0; i < 3; i++)
        cl_wait_up(&nodes[i], NULL, 3, 20000);
    /* the mesh may form through a duplicate connection that one side saw close (a
     * declaration before the rotation starts): only what follows counts */
    int downs[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            downs[i][j] = downs_of(&nodes[i], names[j]);

    /* 1. the new cookie becomes every node's next one */
    for (int i = 0; i < 3; i++) {
        put(next[i], NEW);
        hup(&nodes[i], "and accept the next one too");
        whole();
    }
    probe("p1", NEW, OLD);
    ASSERT(log_count(&nodes[1], "authenticated node p1", "proved with the next cookie") >= 1);

    /* 2. one by one, every node proves with the new cookie, still accepting the old */
    for (int i = 0; i < 3; i++) {
        put(cookie[i], NEW);
        put(next[i], OLD);
        hup(&nodes[i], "and accept the next one too");
        whole();
        if (i == 0) { /* a mixed cluster: a proves with NEW, b and c with OLD */
            probe("p2", NEW, OLD);
            ASSERT(log_count(&nodes[1], "authenticated node p2", "proved with the next cookie"));
            ASSERT(!log_count(&nodes[0], "authenticated node p2", "proved with the next cookie"));
        }
    }
    probe("p3", OLD, NEW);

    /* 3. the old cookie goes */
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(unlink(next[i]), 0);
        hup(&nodes[i], "and accept only it");
        whole();
    }
    probe("p4", NEW, NULL);

    /* a reload that fails keeps the keys: the cluster stays, new handshakes still work */
    put(cookie[1], "\n");
    hup(&nodes[1], "keeping the previous cookies");
    put(cookie[1], NEW);
    probe("p5", NEW, NULL);

    /* a node that kept only the old cookie is refused by every node */
    char ocp[128];
    path_of(ocp, sizeof ocp, "cookie", "late");
    put(ocp, OLD);
    struct cl_node late;
    char seeds[256];
    snprintf(seeds, sizeof seeds, "%s,%s,%s", nodes[0].addr, nodes[1].addr, nodes[2].addr);
    cl_start(&late, 5, "late", seeds, ocp, NULL);
    for (int i = 0; i < 3; i++)
        cl_wait_log(&nodes[i], "hold different cookies", 10000);
    cl_wait_log(&late, "refused by the peer: authentication failed", 10000);
    whole();
    roster_client *lc = cl_connect(&late);
    ASSERT_EQ(cl_count_up(lc, NULL, NULL, NULL), 1);
    roster_close(lc);
    test_node_stop_ok(&late.t);

    /* never split: no node of the cluster was declared down by another during it */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            ASSERT_EQ(downs_of(&nodes[i], names[j]), downs[i][j]);
    for (int i = 2; i >= 0; i--)
        test_node_stop_ok(&nodes[i].t);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cl_sh(cmd);
}

TEST_MAIN(T(test_rolling_rotation))
