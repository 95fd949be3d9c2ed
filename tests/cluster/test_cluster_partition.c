/* test_cluster_partition.c: a real partition, made by dropping packets with nftables rules
 * inside the test's own network namespace: a | b,c. Both sides declare the other down by
 * missed heartbeats (the TCP connections stay open: only packets vanish), both grant the
 * same name, then the rules are removed: the nodes reconnect, exactly one winner (the
 * older claim, b's) is agreed everywhere, the loser's owner gets the conflict notice and a
 * watcher on the loser's node sees "unregistered" with reason conflict.
 * Skipped (exit 77, with the reason) where namespaces or nftables are not available. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "rclient.h"
#include "test.h"

#define TABLE "roster_partition_test"

/* partition drops every packet between 127.0.0.1 and 127.0.0.2/3, both ways. */
#define RULES "    ip saddr 127.0.0.1 ip daddr { 127.0.0.2, 127.0.0.3 } drop\n"\
              "    ip saddr { 127.0.0.2, 127.0.0.3 } ip daddr 127.0.0.1 drop"

static int partition(void) { return cl_nft_drop(TABLE, RULES); }

/* spawn_ctl runs rosterctl --socket sock --json ARGS... with stdout into out_path; its
 * stdin is a pipe whose write end goes to *stdin_fd (held open: holders keep holding). */
static pid_t spawn_ctl(const char *sock, const char *out_path, int *stdin_fd,
                       const char *const *args)
{
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        const char *argv[16] = {ROSTERCTL_PATH, "--socket", sock, "--json"};
        int k = 4;
        for (int i = 0; args[i] && k < 15; i++)
            argv[k++] = args[i];
        argv[k] = NULL;
        execv(ROSTERCTL_PATH, (char *const *)argv);
        _exit(127);
    }
    close(p[0]);
    *stdin_fd = p[1];
    return pid;
}

static int file_has(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[2048];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void wait_file(const char *path, const char *text, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    while (!file_has(path, text)) {
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "no '%s' in %s", text, path);
        cl_sleep_ms(10);
    }
}

/* wait_subscriptions waits until c's node counts want subscriptions. */
static void wait_subscriptions(roster_client *c, uint64_t want, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        roster_stats st;
        ASSERT_EQ(roster_status(c, &st, 5000), 0);
        uint64_t got = 0;
        for (size_t i = 0; i < st.n; i++)
            if (strcmp(st.items[i].key, "subscriptions") == 0)
                got = st.items[i].value;
        roster_stats_free(&st);
        if (got == want)
            return;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "%llu subscriptions, want %llu",
                      (unsigned long long)got, (unsigned long long)want);
        cl_sleep_ms(10);
    }
}

/* wait_kind waits on c for an event of kind about name (reason, or any if < 0). */
static void wait_kind(roster_client *c, int kind, const char *name, int reason, int timeout_ms,
                      roster_event *keep)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (test_now_ms() >= deadline)
            test_fail(__FILE__, __LINE__, "no %s event for %s", roster_event_type_name(kind),
                      name);
        roster_event ev;
        int r = roster_wait_event(c, &ev, (int)(deadline - test_now_ms()));
        if (r == ROSTER_ETIMEDOUT)
            continue;
        ASSERT_EQ(r, 0);
        int hit = ev.type == kind && (reason < 0 || ev.reason == reason) &&
                  ev.name.len == strlen(name) && memcmp(ev.name.data, name, ev.name.len) == 0;
        if (hit && keep) {
            *keep = ev;
            return;
        }
        roster_event_free(&ev);
        if (hit)
            return;
    }
}

static void test_partition_conflict(void)
{
    cl_nft_ready(TABLE, RULES);

    const char *cookie = cl_cookie(0, "cluster-test-cookie-5f1c2d9e8a7b6c4d\n");
    struct cl_node a, b, c;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_start(&c, 3, "c", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 3, 10000);
    cl_wait_up(&b, NULL, 3, 10000);
    cl_wait_up(&c, NULL, 3, 10000);
    roster_client *la = cl_connect(&a), *lb = cl_connect(&b);
    roster_client *wa = cl_connect(&a), *wc = cl_connect(&c);
    ASSERT_EQ(roster_subscribe(wa, NULL, "dup", 3, ROSTER_SUB_REGISTRY, NULL, 5000), 0);
    ASSERT_EQ(roster_subscribe(wc, NULL, "dup", 3, ROSTER_SUB_REGISTRY, NULL, 5000), 0);
    /* rosterctl: a watcher on a, and holders of "held" on both sides (b's first) */
    char watch_out[320], hold_a_out[320], hold_b_out[320];
    snprintf(watch_out, sizeof watch_out, "%s/watch.json", a.t.dir);
    snprintf(hold_a_out, sizeof hold_a_out, "%s/hold.json", a.t.dir);
    snprintf(hold_b_out, sizeof hold_b_out, "%s/hold.json", b.t.dir);
    int watch_in, hold_a_in, hold_b_in;
    pid_t watch_pid = spawn_ctl(a.t.sock, watch_out, &watch_in, (const char *const[]){"watch", NULL});
    wait_subscriptions(la, 2, 5000); /* wa's and the watcher's */

    uint64_t t0 = test_now_ms();
    ASSERT_EQ(partition(), 0);
    cl_wait_up(&a, NULL, 1, 10000);
    cl_wait_up(&b, NULL, 2, 10000);
    cl_wait_up(&c, NULL, 2, 10000);
    printf("  partition detected by heartbeats after %llu ms\n",
           (unsigned long long)(test_now_ms() - t0));

    /* the same name on both sides: b's claim first (older), then a's */
    roster_pid pb = roster_self(lb), pa = roster_self(la);
    ASSERT_EQ(roster_register(lb, NULL, "dup", 3, pb, "b", 1, NULL, 5000), 0);
    cl_wait_lookup(&c, NULL, "dup", 0, &pb, 5000);
    cl_sleep_ms(5); /* a later wall-clock millisecond for a's claim (not a sync) */
    ASSERT_EQ(roster_register(la, NULL, "dup", 3, pa, "a", 1, NULL, 5000), 0);
    cl_wait_lookup(&a, NULL, "dup", 0, &pa, 5000); /* not unique during a partition */
    wait_kind(wa, ROSTER_EV_REGISTERED, "dup", -1, 5000, NULL);
    pid_t hold_b = spawn_ctl(b.t.sock, hold_b_out, &hold_b_in,
                             (const char *const[]){"register", "held", NULL});
    cl_wait_lookup(&b, NULL, "held", 0, NULL, 5000);
    cl_sleep_ms(5); /* a later wall-clock millisecond (not a sync) */
    pid_t hold_a = spawn_ctl(a.t.sock, hold_a_out, &hold_a_in,
                             (const char *const[]){"register", "held", NULL});
    cl_wait_lookup(&a, NULL, "held", 0, NULL, 5000);

    t0 = test_now_ms();
    cl_nft_heal(TABLE);
    cl_wait_up(&a, NULL, 3, 20000);
    cl_wait_up(&b, NULL, 3, 20000);
    cl_wait_up(&c, NULL, 3, 20000);
    cl_wait_lookup(&a, NULL, "dup", 0, &pb, 10000);
    cl_wait_lookup(&b, NULL, "dup", 0, &pb, 10000);
    cl_wait_lookup(&c, NULL, "dup", 0, &pb, 10000);
    printf("  healed and agreed on one winner after %llu ms\n",
           (unsigned long long)(test_now_ms() - t0));

    /* the loser's owner is told, naming the winner */
    roster_event ev;
    wait_kind(la, ROSTER_EV_CONFLICT, "dup", -1, 5000, &ev);
    ASSERT(roster_pid_equal(ev.pid, pa));
    char wtext[ROSTER_PID_STRLEN];
    roster_pid_format(pb, wtext);
    ASSERT_MEM_EQ(ev.prev_meta.data, ev.prev_meta.len, wtext, strlen(wtext));
    roster_event_free(&ev);
    /* the watcher on a saw a's claim go with reason conflict, then b's arrive */
    wait_kind(wa, ROSTER_EV_UNREGISTERED, "dup", ROSTER_REASON_CONFLICT, 5000, NULL);
    wait_kind(wa, ROSTER_EV_REGISTERED, "dup", -1, 5000, NULL);
    /* a's claim is gone for good: a names listing on a shows one holder, b's */
    roster_entries es;
    ASSERT_EQ(roster_names(la, NULL, "dup", 3, (roster_pid){0, 0}, 0, &es, 5000), 0);
    ASSERT_EQ(es.n, 1);
    ASSERT(roster_pid_equal(es.items[0].pid, pb));
    roster_entries_free(&es);

    /* rosterctl: the losing holder printed the conflict and exited 1; the winner holds on;
     * the watcher printed the node going down, the conflict removal, the node coming up */
    wait_file(hold_a_out, "\"type\":\"conflict\"", 5000);
    int st;
    ASSERT_EQ(waitpid(hold_a, &st, 0), hold_a);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    ASSERT(waitpid(hold_b, &st, WNOHANG) == 0);
    cl_wait_lookup(&c, NULL, "held", 0, NULL, 5000);
    wait_file(watch_out, "\"reason\":\"conflict\"", 5000);
    wait_file(watch_out, "\"type\":\"node_down\"", 5000);
    wait_file(watch_out, "\"type\":\"node_up\"", 5000);
    close(hold_b_in); /* EOF: the holder releases the name and exits 0 */
    ASSERT_EQ(waitpid(hold_b, &st, 0), hold_b);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(hold_a_in);
    kill(watch_pid, SIGTERM);
    waitpid(watch_pid, &st, 0);
    close(watch_in);

    roster_close(la);
    roster_close(lb);
    roster_close(wa);
    roster_close(wc);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_partition_conflict))
