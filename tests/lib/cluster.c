/* cluster.c: multi-node test helpers (see cluster.h). */
#include "cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rclient.h"
#include "test.h"

static unsigned port_base = 7401;

void cl_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int cl_netns(char *why, size_t cap)
{
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(why, cap, "unshare(CLONE_NEWNET): %s", strerror(errno));
        port_base = 20000u + (unsigned)(getpid() % 2000) * 10u;
        return 0;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int ok = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok)
        test_fail(__FILE__, __LINE__, "cannot bring lo up in the new namespace: %s",
                  strerror(errno));
    return 1;
}

const char *cl_cookie(int slot, const char *text)
{
    static char paths[4][64];
    if (slot < 0 || slot > 3)
        test_fail(__FILE__, __LINE__, "cookie slot %d", slot);
    char dir[] = "/tmp/roster-cookie-XXXXXX";
    if (!mkdtemp(dir))
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    snprintf(paths[slot], sizeof paths[slot], "%s/cookie", dir);
    int fd = open(paths[slot], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        test_fail(__FILE__, __LINE__, "cannot write %s", paths[slot]);
    close(fd);
    return paths[slot];
}

void cl_addr(int idx, char *out, size_t cap)
{
    snprintf(out, cap, "127.0.0.%d:%u", idx, port_base + (unsigned)idx);
}

/* node_args fills argv (48 slots) with n's daemon flags. */
static void node_args(const struct cl_node *n, const char *join, const char *cookie,
                      const char *const *extra, const char **argv)
{
    int k = 0;
    argv[k++] = "--name";
    argv[k++] = n->name;
    argv[k++] = "--listen";
    argv[k++] = n->addr;
    argv[k++] = "--cookie-file";
    argv[k++] = cookie;
    argv[k++] = "--heartbeat-ms";
    argv[k++] = CL_HEARTBEAT_MS;
    argv[k++] = "--down-after-ms";
    argv[k++] = CL_DOWN_AFTER_MS;
    if (join) {
        argv[k++] = "--join";
        argv[k++] = join;
    }
    for (int i = 0; extra && extra[i] && k < 46; i++)
        argv[k++] = extra[i];
    argv[k] = NULL;
}

void cl_start(struct cl_node *n, int idx, const char *name, const char *join, const char *cookie,
              const char *const *extra)
{
    memset(n, 0, sizeof *n);
    n->idx = idx;
    snprintf(n->name, sizeof n->name, "%s", name);
    cl_addr(idx, n->addr, sizeof n->addr);
    const char *argv[48];
    node_args(n, join, cookie, extra, argv);
    test_node_start(&n->t, argv);
}

void cl_restart(struct cl_node *n, int sig, const char *join, const char *cookie,
                const char *const *extra)
{
    const char *argv[48];
    node_args(n, join, cookie, extra, argv);
    test_node_restart(&n->t, sig, argv);
}

roster_client *cl_connect(const struct cl_node *n) { return test_connect(&n->t); }

int cl_count_up(roster_client *c, const char *scope, const char *inc_name, uint64_t *inc_of)
{
    roster_nodes ns;
    memset(&ns, 0, sizeof ns);
    if (roster_nodes_list(c, scope, &ns, 5000) != 0)
        return -1;
    int up = 0;
    for (size_t i = 0; i < ns.n; i++) {
        if (ns.items[i].state == ROSTER_NODE_UP)
            up++;
        if (inc_name && inc_of && strcmp(ns.items[i].name, inc_name) == 0 &&
            ns.items[i].state == ROSTER_NODE_UP)
            *inc_of = ns.items[i].incarnation;
    }
    roster_nodes_free(&ns);
    return up;
}

void cl_wait_up(const struct cl_node *n, const char *scope, int want, int timeout_ms)
{
    roster_client *c = cl_connect(n);
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    int got;
    while ((got = cl_count_up(c, scope, NULL, NULL)) != want) {
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "node %s: %d nodes up in %s, want %d (log %s)",
                      n->name, got, scope ? scope : "(all)", want, n->t.log);
        cl_sleep_ms(10);
    }
    roster_close(c);
}

void cl_wait_lookup(const struct cl_node *n, const char *scope, const char *name, int want,
                    const roster_pid *pid, int timeout_ms)
{
    roster_client *c = cl_connect(n);
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        roster_entry e;
        int r = roster_lookup(c, scope, name, strlen(name), &e, 5000);
        int ok = r == want && (r != 0 || !pid || roster_pid_equal(e.pid, *pid));
        if (r == 0)
            roster_entry_free(&e);
        if (ok)
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "node %s: lookup %s gives %d, want %d (log %s)",
                      n->name, name, r, want, n->t.log);
        cl_sleep_ms(10);
    }
    roster_close(c);
}

void cl_wait_members(const struct cl_node *n, const char *scope, const char *group, size_t want,
                     int timeout_ms)
{
    roster_client *c = cl_connect(n);
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        roster_entries es;
        memset(&es, 0, sizeof es);
        int r = roster_members(c, scope, group, strlen(group), 0, &es, 5000);
        size_t got = r == 0 ? es.n : 0;
        if (r == 0)
            roster_entries_free(&es);
        if (got == want)
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "node %s: group %s has %zu members (%d), want %zu",
                      n->name, group, got, r, want);
        cl_sleep_ms(10);
    }
    roster_close(c);
}

int cl_log_has(const struct cl_node *n, const char *text)
{
    FILE *f = fopen(n->t.log, "r");
    if (!f)
        return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

void cl_wait_log(const struct cl_node *n, const char *text, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    while (!cl_log_has(n, text)) {
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "node %s: no '%s' in its log %s", n->name, text,
                      n->t.log);
        cl_sleep_ms(10);
    }
}

int cl_sh(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

int cl_nft_drop(const char *table, const char *rules)
{
    char cmd[2048];
    int n = snprintf(cmd, sizeof cmd,
                     "nft -f - <<'EOF'\n"
                     "table inet %s {\n"
                     "  chain out {\n"
                     "    type filter hook output priority 0; policy accept;\n"
                     "%s\n"
                     "  }\n"
                     "}\n"
                     "EOF",
                     table, rules);
    if (n < 0 || (size_t)n >= sizeof cmd)
        test_fail(__FILE__, __LINE__, "nftables rules too long");
    return cl_sh(cmd);
}

void cl_nft_heal(const char *table)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "nft delete table inet %s 2>/dev/null", table);
    cl_sh(cmd);
}

static char nft_table[64]; /* the table cl_nft_ready's failure cleanup removes */

static void nft_heal_cb(void *arg)
{
    (void)arg;
    cl_nft_heal(nft_table);
}

void cl_nft_ready(const char *table, const char *rules)
{
    char why[200];
    if (!cl_netns(why, sizeof why))
        test_skip("no private network namespace (%s): packets cannot be dropped without "
                  "touching the host's network", why);
    if (cl_sh("nft --version >/dev/null 2>&1") != 0)
        test_skip("nft (nftables) is not installed: run scripts/deps.sh");
    if (cl_nft_drop(table, rules) != 0)
        test_skip("nftables rules cannot be installed in this namespace (kernel without "
                  "nf_tables, or not permitted)");
    cl_nft_heal(table);
    snprintf(nft_table, sizeof nft_table, "%s", table);
    test_on_fail(nft_heal_cb, NULL);
}
