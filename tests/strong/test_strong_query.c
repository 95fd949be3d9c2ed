/* test_strong_query.c: metadata queries on a strong scope end to end (issue 11 items 6 and
 * 12): one real etcd member, three rosterd with --etcd, holders started with rosterctl on
 * each node. Every node answers names / members --prefix / count filtered by metadata with
 * the same bytes (linearizable: one etcd read filtered by the node; --stale: the local copy,
 * polled until it caught up), member GROUP PID answers 0 / 1 everywhere, and unregister
 * --match is refused (exit 2, EINVAL). Skipped without etcd. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ctlproc.h"
#include "etcd_harness.h"
#include "node.h"
#include "test.h"

#define OUT 65536
static char out[OUT];

static int ctl(const struct test_node *t, const char *const *args)
{
    const char *argv[24] = {ROSTERCTL_PATH, "--socket", t->sock, "--json", "--scope", "s"};
    int k = 6;
    for (int i = 0; args[i] && k < 23; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    return test_run_cmd(argv, out, sizeof out);
}

/* same_everywhere polls until args exit 0 with the same bytes on every node, holding want
 * and not unwanted (NULL: no check). */
static void same_everywhere(struct test_node *ns, const char *const *args, const char *want,
                            const char *unwanted)
{
    static char first[OUT];
    uint64_t deadline = test_now_ms() + 15000;
    for (;;) {
        int ok = 1;
        for (int i = 0; i < 3 && ok; i++) {
            ok &= ctl(&ns[i], args) == 0;
            if (i == 0)
                memcpy(first, out, sizeof out);
            ok &= strcmp(first, out) == 0;
        }
        ok &= !want || strstr(first, want) != NULL;
        ok &= !unwanted || strstr(first, unwanted) == NULL;
        if (ok)
            return;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "%s: the nodes answer differently or not as "
                      "expected:\n%s\n%s", args[0], first, out);
        poll(NULL, 0, 50);
    }
}

static void hold(struct ctl_proc *p, const struct test_node *t, const char *cmd,
                 const char *key, const char *meta, char *pid)
{
    ctl_spawn(p, t->sock, (const char *const[]){"--scope", "s", cmd, key, "--meta", meta, NULL});
    char line[256];
    ctl_read_line(p, line, sizeof line);
    ASSERT(sscanf(line, "%63s", pid) == 1 && strchr(pid, '.') != NULL);
}

static void test_queries_strong(void)
{
    struct stat st;
    if (stat("/usr/bin/etcd", &st) != 0)
        test_skip("etcd is not installed (Debian package etcd-server)");
    struct eh_cluster ec;
    eh_start(&ec, 1);
    struct test_node ns[3];
    static const char *const names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++)
        test_node_start(&ns[i], (const char *const[]){"--name", names[i], "--etcd", ec.endpoints,
                                                       "--etcd-prefix", "/roster/q/", NULL});
    uint64_t deadline = test_now_ms() + 15000;
    while (ctl(&ns[0], (const char *const[]){"scope-create", "s", "--strong", NULL}) != 0) {
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "scope-create --strong: %s", out);
        poll(NULL, 0, 50);
    }
    for (int i = 0; i < 3; i++) {
        deadline = test_now_ms() + 15000;
        while (ctl(&ns[i], (const char *const[]){"lookup", "nobody", NULL}) != 1) {
            if (test_now_ms() > deadline)
                test_fail(__FILE__, __LINE__, "node %s not ready: %s", names[i], out);
            poll(NULL, 0, 50);
        }
    }
    struct ctl_proc h[6];
    char pid[6][64];
    hold(&h[0], &ns[0], "register", "svc/a", "{\"role\":\"admin\"}", pid[0]);
    hold(&h[1], &ns[1], "register", "svc/b", "{\"role\":\"user\"}", pid[1]);
    hold(&h[2], &ns[2], "register", "svc/c", "{\"role\":\"admin\"}", pid[2]);
    hold(&h[3], &ns[0], "join", "chat/1", "lang=en", pid[3]);
    hold(&h[4], &ns[1], "join", "chat/2", "lang=fr", pid[4]);
    hold(&h[5], &ns[2], "join", "chat/2", "lang=en", pid[5]);

    for (int stale = 0; stale < 2; stale++) {
        const char *s = stale ? "--stale" : NULL;
        const char *where[] = {"names", "--where", "role=admin", s, NULL};
        same_everywhere(ns, where, "\"name\":\"svc/c\"", "svc/b");
        const char *members[] = {"members", "--prefix", "chat/", "--meta-glob", "*=en", s, NULL};
        same_everywhere(ns, members, "\"group\":\"chat/2\"", "lang=fr");
        const char *count[] = {"count", "chat/2", s, NULL};
        same_everywhere(ns, count, "\"key\":\"chat/2\",\"names\":0,\"groups\":1,\"members\":2",
                        NULL);
        const char *cf[] = {"count", "--meta-prefix", "{\"role\":\"a", s, NULL};
        same_everywhere(ns, cf, "\"names\":2,\"groups\":0,\"members\":0", NULL);
    }
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(ctl(&ns[i], (const char *const[]){"member", "chat/2", pid[4], NULL}), 0);
        ASSERT_EQ(ctl(&ns[i], (const char *const[]){"member", "chat/1", pid[4], NULL}), 1);
    }
    ASSERT_EQ(ctl(&ns[0], (const char *const[]){"unregister", "--match", "--pid", pid[0], NULL}),
              2);
    ASSERT(strstr(out, "\"error\":\"EINVAL\"") && strstr(out, "strong"));

    for (int i = 0; i < 6; i++) {
        ctl_close_stdin(&h[i]);
        ASSERT_EQ(ctl_wait_exit(&h[i], 10000), 0);
    }
    for (int i = 2; i >= 0; i--)
        test_node_stop_ok(&ns[i]);
    eh_stop(&ec);
}

TEST_MAIN(T(test_queries_strong))
