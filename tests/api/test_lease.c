/* test_lease.c: leases, exit reasons and the log levels off and trace against a real
 * rosterd (issue 11 items 7, 8 and 18), through libroster and rosterctl --json:
 * roster_register_ttl / roster_join_ttl entries kept by roster_renew and removed with reason
 * expired while the client stays connected; a holding `rosterctl register --ttl` that
 * renews by itself until it is stopped with SIGSTOP, then reports the loss after SIGCONT;
 * roster_pid_exit and `rosterctl join --exit-reason` delivering the reason to subscribers
 * and monitors; `rosterd --log-level trace|off` and `rosterctl log-level trace|off`. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlproc.h"
#include "http.h"
#include "jsonv.h"
#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static int name_is(const roster_buf *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

/* next event that is not a REPLY, within 5 s */
static void next_ev(roster_client *c, roster_event *ev, int line)
{
    int r = roster_wait_event(c, ev, 5000);
    if (r)
        test_fail(__FILE__, line, "wait_event: %s (%s)", roster_strerror(r),
                  roster_errdetail(c));
}
#define NEXT(c, ev) next_ev((c), (ev), __LINE__)

/* wait_gone polls lookup until name is not found (deadline ms); returns the time it took */
static uint64_t wait_gone(roster_client *c, const char *name, uint64_t deadline_ms, int line)
{
    uint64_t t0 = test_now_ms();
    for (;;) {
        roster_entry e;
        int r = roster_lookup(c, NULL, name, strlen(name), &e, 5000);
        if (r == ROSTER_ENOTFOUND)
            return test_now_ms() - t0;
        if (r == 0)
            roster_entry_free(&e);
        else
            test_fail(__FILE__, line, "lookup %s: %s", name, roster_strerror(r));
        if (test_now_ms() - t0 > deadline_ms)
            test_fail(__FILE__, line, "%s still registered after %llu ms", name,
                      (unsigned long long)deadline_ms);
        usleep(20 * 1000);
    }
}

static void test_ttl_through_libroster(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *owner = test_connect(&n), *watcher = test_connect(&n);
    roster_pid p = roster_self(owner);
    uint64_t sub = 0, token = 0;
    ASSERT_EQ(roster_subscribe(watcher, NULL, "", 0, ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY |
                                                         ROSTER_SUB_GROUPS, &sub, 5000),
              0);
    /* bounds, checked by the library before sending */
    ASSERT_EQ(roster_register_ttl(owner, NULL, "x", 1, p, NULL, 0, ROSTER_TTL_MIN_MS - 1,
                                  NULL, NULL, 5000),
              ROSTER_EINVAL);
    ASSERT_EQ(roster_join_ttl(owner, NULL, "g", 1, p, NULL, 0, ROSTER_TTL_MAX_MS + 1u, 5000),
              ROSTER_EINVAL);
    ASSERT_EQ(roster_register_ttl(owner, NULL, "svc", 3, p, "m", 1, 600, NULL, &token, 5000),
              0);
    ASSERT(token != 0);
    ASSERT_EQ(roster_join_ttl(owner, NULL, "grp", 3, p, "x", 1, 600, 5000), 0);
    ASSERT_EQ(roster_register(owner, NULL, "plain", 5, p, NULL, 0, NULL, 5000), 0);
    /* renewed every 150 ms for 2 s: both stay */
    uint64_t t0 = test_now_ms(), last = 0;
    while (test_now_ms() - t0 < 2000) {
        uint64_t k = 0;
        ASSERT_EQ(roster_renew(owner, p, &k, 5000), 0);
        last = test_now_ms();
        ASSERT_U64_EQ(k, 2);
        usleep(150 * 1000);
    }
    ASSERT_EQ(roster_is_member(watcher, NULL, "grp", 3, p, 5000), 1);
    /* no more renewals: gone within the TTL plus a generous margin for a loaded machine,
     * while the owner is still connected */
    uint64_t took = wait_gone(watcher, "svc", 10000, __LINE__);
    ASSERT(took >= 300); /* not before its time (600 ms after the last renew) */
    printf("  ttl 600 ms: seen gone %llu ms after the last renew\n",
           (unsigned long long)(test_now_ms() - last));
    ASSERT(test_now_ms() - last >= 500); /* never early (less the reply's latency) */
    ASSERT_EQ(roster_is_member(watcher, NULL, "grp", 3, p, 5000), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(watcher, NULL, "plain", 5, &e, 5000), 0);
    roster_entry_free(&e);
    /* the subscriber saw registered, joined, registered(plain), then both with expired */
    roster_event ev;
    int seen = 0;
    while (seen < 2) {
        NEXT(watcher, &ev);
        if (ev.type == ROSTER_EV_UNREGISTERED || ev.type == ROSTER_EV_LEFT) {
            ASSERT_EQ(ev.reason, ROSTER_REASON_EXPIRED);
            ASSERT(roster_pid_equal(ev.pid, p));
            ASSERT(ev.reason_text.data == NULL);
            seen++;
        }
        roster_event_free(&ev);
    }
    ASSERT_STR_EQ(roster_reason_name(ROSTER_REASON_EXPIRED), "expired");
    /* the owner got both notices (id 0) and its next renew says the leases ran out */
    int notices = 0;
    while (notices < 2) {
        NEXT(owner, &ev);
        ASSERT(ev.id == 0 && ev.reason == ROSTER_REASON_EXPIRED);
        notices++;
        roster_event_free(&ev);
    }
    ASSERT_EQ(roster_renew(owner, p, NULL, 5000), ROSTER_EEXPIRED);
    ASSERT(strstr(roster_errdetail(owner), "expired") != NULL);
    ASSERT_EQ(roster_renew(owner, p, NULL, 5000), 0);
    ASSERT_STR_EQ(roster_err_name(ROSTER_EEXPIRED), "EEXPIRED");
    roster_close(owner);
    roster_close(watcher);
    test_node_stop_ok(&n);
}

static void test_exit_reason_through_libroster(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *w = test_connect(&n);
    roster_pid p;
    ASSERT_EQ(roster_pid_new(a, &p, 5000), 0);
    ASSERT_EQ(roster_register(a, NULL, "job", 3, p, NULL, 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "workers", 7, p, NULL, 0, 5000), 0);
    uint64_t sub, mon;
    ASSERT_EQ(roster_subscribe(w, NULL, "", 0, ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY |
                                                   ROSTER_SUB_GROUPS, &sub, 5000),
              0);
    ASSERT_EQ(roster_monitor(w, p, &mon, 5000), 0);
    const char *refused[] = {"", "normal", "expired", "exit", "node_left", "a\x01z"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        ASSERT_EQ(roster_pid_exit(a, p, refused[i], 5000), ROSTER_EINVAL);
    char big[ROSTER_EXIT_REASON_MAX + 2];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ASSERT_EQ(roster_pid_exit(a, p, big, 5000), ROSTER_EINVAL);
    ASSERT_EQ(roster_pid_exit(w, p, "not mine", 5000), ROSTER_ENOTOWNER);
    ASSERT_EQ(roster_pid_exit(a, p, "drained: release 7", 5000), 0);
    int got = 0;
    while (got < 3) {
        roster_event ev;
        NEXT(w, &ev);
        ASSERT(ev.type == ROSTER_EV_UNREGISTERED || ev.type == ROSTER_EV_LEFT ||
               ev.type == ROSTER_EV_DOWN);
        ASSERT_EQ(ev.reason, ROSTER_REASON_EXIT);
        ASSERT(name_is(&ev.reason_text, "drained: release 7"));
        ASSERT(ev.prev_meta.data == NULL);
        if (ev.type == ROSTER_EV_DOWN)
            ASSERT_U64_EQ(ev.id, mon);
        got++;
        roster_event_free(&ev);
        ASSERT(ev.reason_text.data == NULL);
    }
    ASSERT_STR_EQ(roster_reason_name(ROSTER_REASON_EXIT), "exit");
    /* the pid is dead */
    ASSERT_EQ(roster_register(a, NULL, "job", 3, p, NULL, 0, NULL, 5000), ROSTER_ENOPROC);
    roster_close(a);
    roster_close(w);
    test_node_stop_ok(&n);
}

static int json_u64(const char *line, const char *key, uint64_t *v)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *at = strstr(line, pat);
    if (!at)
        return -1;
    *v = strtoull(at + strlen(pat), NULL, 10);
    return 0;
}

static void test_rosterctl_ttl_renews_until_stopped(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *w = test_connect(&n);
    struct ctl_proc h;
    const char *args[] = {"register", "held", "--ttl", "300", "--json", NULL};
    ctl_spawn(&h, n.sock, args);
    char line[1024];
    ctl_read_line(&h, line, sizeof line);
    uint64_t ttl = 0;
    ASSERT(strstr(line, "\"pid\":\"") != NULL);
    ASSERT_EQ(json_u64(line, "ttl_ms", &ttl), 0);
    ASSERT_U64_EQ(ttl, 300);
    /* it renews by itself: still held after 10 TTLs */
    usleep(3000 * 1000);
    roster_entry e;
    ASSERT_EQ(roster_lookup(w, NULL, "held", 4, &e, 5000), 0);
    roster_entry_free(&e);
    /* a stopped (hung) holder loses it although its connection stays open */
    ASSERT_EQ(kill(h.pid, SIGSTOP), 0);
    wait_gone(w, "held", 10000, __LINE__);
    ASSERT_EQ(kill(h.pid, SIGCONT), 0);
    /* resumed, it learns the lease ran out, says so (the event line) and exits 1 */
    ctl_read_line(&h, line, sizeof line);
    ASSERT(strstr(line, "\"reason\":\"expired\"") != NULL);
    ASSERT_EQ(ctl_wait_exit(&h, 10000), 1);
    /* bad --ttl values are usage errors (2) */
    char out[4096];
    const char *bad1[] = {ROSTERCTL_PATH, "--socket", n.sock, "register", "x", "--ttl", "99",
                          NULL};
    ASSERT_EQ(test_run_cmd(bad1, out, sizeof out), 2);
    const char *bad2[] = {ROSTERCTL_PATH, "--socket", n.sock, "join", "x", "--ttl", "soon",
                          "--json", NULL};
    ASSERT_EQ(test_run_cmd(bad2, out, sizeof out), 2);
    ASSERT(json_valid(out));
    const char *bad3[] = {ROSTERCTL_PATH, "--socket", n.sock, "elect", "x", "--ttl", "500",
                          NULL};
    ASSERT_EQ(test_run_cmd(bad3, out, sizeof out), 2);
    const char *bad4[] = {ROSTERCTL_PATH, "--socket", n.sock, "join", "x", "--exit-reason",
                          "expired", NULL};
    ASSERT_EQ(test_run_cmd(bad4, out, sizeof out), 2);
    const char *bad5[] = {ROSTERCTL_PATH, "--socket", n.sock, "register", "x", "--exit-reason",
                          "", NULL};
    ASSERT_EQ(test_run_cmd(bad5, out, sizeof out), 2);
    roster_close(w);
    test_node_stop_ok(&n);
}

static void test_rosterctl_join_ttl_and_exit_reason(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    struct ctl_proc watch, j, mon;
    const char *wargs[] = {"watch", "--groups", "--json", NULL};
    ctl_spawn(&watch, n.sock, wargs);
    usleep(300 * 1000); /* the watch subscribes; its first event is checked below anyway */
    const char *jargs[] = {"join", "pool", "--ttl", "400", "--exit-reason", "scale-in",
                           "--json", NULL};
    ctl_spawn(&j, n.sock, jargs);
    char line[1024], pid[64];
    ctl_read_line(&j, line, sizeof line);
    const char *at = strstr(line, "\"pid\":\"");
    ASSERT(at != NULL);
    snprintf(pid, sizeof pid, "%.*s", (int)strcspn(at + 7, "\""), at + 7);
    const char *margs[] = {"monitor", pid, "--json", NULL};
    ctl_spawn(&mon, n.sock, margs);
    usleep(1500 * 1000); /* past several TTLs: renewed */
    ctl_read_line(&watch, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"joined\"") != NULL);
    ctl_close_stdin(&j);
    ASSERT_EQ(ctl_wait_exit(&j, 10000), 0);
    ctl_read_line(&watch, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"left\"") != NULL);
    ASSERT(strstr(line, "\"reason\":\"exit\"") != NULL);
    ASSERT(strstr(line, "\"reason_text\":\"scale-in\"") != NULL);
    ctl_read_line(&mon, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"down\"") != NULL);
    ASSERT(strstr(line, "\"reason_text\":\"scale-in\"") != NULL);
    kill(watch.pid, SIGTERM);
    ctl_wait_exit(&watch, 5000);
    kill(mon.pid, SIGTERM);
    ctl_wait_exit(&mon, 5000);
    test_node_stop_ok(&n);
}

static size_t file_size(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n > 0 ? (size_t)n : 0;
}

static int file_has(const char *path, const char *needle)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

static void test_log_levels_off_and_trace(void)
{
    /* --log-level trace at start: one line per client request */
    struct test_node n;
    const char *trace[] = {"--log-level", "trace", NULL};
    test_node_start(&n, trace);
    roster_client *c = test_connect(&n);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    uint64_t t0 = test_now_ms();
    while (!file_has(n.log, "trace conn") && test_now_ms() - t0 < 10000)
        usleep(20 * 1000);
    ASSERT(file_has(n.log, "PING request"));
    /* off at run time: nothing more is written, whatever happens */
    ASSERT_EQ(roster_log_level(c, "off", 5000), 0);
    size_t before = file_size(n.log);
    for (int i = 0; i < 20; i++)
        ASSERT_EQ(roster_ping(c, 5000), 0);
    roster_client *d = test_connect(&n);
    roster_close(d); /* a disconnect logs at info normally */
    ASSERT_EQ(roster_ping(c, 5000), 0);
    ASSERT_EQ(file_size(n.log), before);
    ASSERT_EQ(roster_log_level(c, "loud", 5000), ROSTER_EINVAL);
    ASSERT_EQ(roster_log_level(c, "info", 5000), 0);
    t0 = test_now_ms();
    while (!file_has(n.log, "log level set to info") && test_now_ms() - t0 < 10000)
        usleep(20 * 1000);
    ASSERT(file_has(n.log, "log level set to info"));
    /* rosterctl log-level trace --json */
    char out[4096];
    const char *cmd[] = {ROSTERCTL_PATH, "--socket", n.sock, "log-level", "trace", "--json",
                         NULL};
    ASSERT_EQ(test_run_cmd(cmd, out, sizeof out), 0);
    ASSERT(json_valid(out) && strstr(out, "\"log_level\":\"trace\"") != NULL);
    roster_close(c);
    test_node_stop_ok(&n);
    /* --log-level off at start: not one line, not even the start banner */
    const char *off[] = {"--log-level", "off", NULL};
    test_node_start(&n, off);
    c = test_connect(&n);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    roster_close(c);
    ASSERT_EQ(file_size(n.log), 0);
    test_node_stop_ok(&n);
}

static uint64_t status_of(roster_client *c, const char *key)
{
    roster_stats st;
    ASSERT_EQ(roster_status(c, &st, 5000), 0);
    uint64_t v = UINT64_MAX;
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.items[i].key, key) == 0)
            v = st.items[i].value;
    roster_stats_free(&st);
    if (v == UINT64_MAX)
        test_fail(__FILE__, __LINE__, "no status item %s", key);
    return v;
}

/* wait_metric polls /metrics until it has the line want (the loop refreshes its snapshot) */
static void wait_metric(int port, const char *want)
{
    static char body[1 << 18];
    uint64_t t0 = test_now_ms();
    for (;;) {
        if (http_get(port, "/metrics", body, sizeof body) == 200 && strstr(body, want))
            return;
        if (test_now_ms() - t0 > 15000)
            test_fail(__FILE__, __LINE__, "/metrics never showed '%s'", want);
        usleep(50 * 1000);
    }
}

static void test_lease_status_and_metrics(void)
{
    struct test_node n;
    char addr[64];
    int port = http_free_port();
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    const char *args[] = {"--http", addr, NULL};
    test_node_start(&n, args);
    roster_client *c = test_connect(&n);
    roster_pid p = roster_self(c);
    ASSERT_EQ(roster_register_ttl(c, NULL, "a", 1, p, NULL, 0, 300, NULL, NULL, 5000), 0);
    ASSERT_EQ(roster_register_ttl(c, NULL, "b", 1, p, NULL, 0, 300, NULL, NULL, 5000), 0);
    ASSERT_EQ(roster_join_ttl(c, NULL, "g", 1, p, NULL, 0, 300, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "plain", 5, p, NULL, 0, NULL, 5000), 0);
    uint64_t leases = status_of(c, "leases");
    ASSERT(leases <= 3); /* 3, or fewer if this machine is slow enough for one to expire */
    wait_gone(c, "a", 10000, __LINE__);
    wait_gone(c, "b", 10000, __LINE__);
    ASSERT_EQ(roster_is_member(c, NULL, "g", 1, p, 5000), 0);
    ASSERT_U64_EQ(status_of(c, "leases"), 0);
    ASSERT_U64_EQ(status_of(c, "leases_expired"), 3);
    wait_metric(port, "\nroster_leases 0\n");
    wait_metric(port, "\nroster_leases_expired_total 3\n");
    roster_close(c);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_ttl_through_libroster), T(test_exit_reason_through_libroster),
          T(test_rosterctl_ttl_renews_until_stopped),
          T(test_rosterctl_join_ttl_and_exit_reason), T(test_log_levels_off_and_trace),
          T(test_lease_status_and_metrics))
