/* cmd_cluster.c: runtime cluster membership (cluster-join, cluster-leave, forget) and who
 * holds a pid (owner; ctl_owners adds os_pid / uid to lookup and members), issue 11 items
 * 13 and 16. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* others_up counts the nodes other than this one that are up (-1 on error). */
static int others_up(struct ctl *x)
{
    roster_nodes l;
    if (roster_nodes_list(x->c, NULL, &l, x->timeout_ms) != 0)
        return -1;
    int k = 0;
    for (size_t i = 0; i < l.n; i++)
        k += !l.items[i].self && l.items[i].state == ROSTER_NODE_UP;
    roster_nodes_free(&l);
    return k;
}

static void print_ok(struct ctl *x, const char *key, const char *val, const char *nkey,
                     uint64_t n, const char *human)
{
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_bool(&o, "ok", 1);
        if (key)
            jo_str(&o, key, val);
        if (nkey)
            jo_u64(&o, nkey, n);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("%s\n", human);
    }
}

int cmd_cluster_join(struct ctl *x, int argc, char **argv)
{
    const char *pos[1], *wait_text = NULL;
    const struct ctl_opt opts[] = {{"--wait", CTL_STR, &wait_text}, {NULL, CTL_FLAG, NULL}};
    int r = ctl_args(x, argc, argv, opts, pos, 1, 1, NULL);
    if (r)
        return r;
    uint64_t wait_ms = 0;
    if (wait_text && ctl_parse_u64(wait_text, &wait_ms) != 0)
        return ctl_usage(x, "bad --wait \"%s\" (milliseconds)", wait_text);
    if ((r = ctl_connect(x)))
        return r;
    if ((r = roster_cluster_join(x->c, pos[0], x->timeout_ms)))
        return ctl_fail(x, "cluster-join", r, "addr", pos[0]);
    /* --wait: until another node is up here (the join took), polling */
    int up = 0;
    if (wait_text) {
        int64_t until = now_ms() + (int64_t)wait_ms;
        for (;;) {
            up = others_up(x);
            if (up > 0 || now_ms() >= until)
                break;
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (up <= 0) {
            fprintf(stderr, "rosterctl: cluster-join: no other node up after %" PRIu64 " ms "
                            "(still dialing %s)\n", wait_ms, pos[0]);
            if (x->json) {
                struct jobj o;
                jo_begin(&o, stdout);
                jo_str(&o, "error", "ETIMEDOUT");
                jo_str(&o, "message", "no other node up in time");
                jo_str(&o, "addr", pos[0]);
                jo_end(&o);
                fputc('\n', stdout);
            }
            return CTL_REFUSED;
        }
    }
    char human[400];
    snprintf(human, sizeof human, "joining the cluster at %s%s", pos[0],
             wait_text ? ": up" : " (dialing)");
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_bool(&o, "ok", 1);
        jo_str(&o, "addr", pos[0]);
        if (wait_text)
            jo_u64(&o, "nodes_up", (uint64_t)up);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("%s\n", human);
    }
    return 0;
}

int cmd_cluster_leave(struct ctl *x, int argc, char **argv)
{
    int r = ctl_args(x, argc, argv, NULL, NULL, 0, 0, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    size_t peers = 0;
    if ((r = roster_cluster_leave(x->c, &peers, x->timeout_ms)))
        return ctl_fail(x, "cluster-leave", r, NULL, NULL);
    char human[120];
    snprintf(human, sizeof human, "left the cluster (%zu peers told)", peers);
    print_ok(x, NULL, NULL, "peers", peers, human);
    return 0;
}

int cmd_forget(struct ctl *x, int argc, char **argv)
{
    const char *pos[1];
    int r = ctl_args(x, argc, argv, NULL, pos, 1, 1, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    size_t records = 0;
    if ((r = roster_forget(x->c, pos[0], &records, x->timeout_ms)))
        return ctl_fail(x, "forget", r, "node", pos[0]);
    char human[200];
    snprintf(human, sizeof human, "forgot node %s", pos[0]);
    print_ok(x, "node", pos[0], "records", records, human);
    return 0;
}

int cmd_owner(struct ctl *x, int argc, char **argv)
{
    const char *pos[1];
    int r = ctl_args(x, argc, argv, NULL, pos, 1, 1, NULL);
    if (r)
        return r;
    roster_pid pid;
    if (roster_pid_parse(pos[0], &pid) != 0)
        return ctl_usage(x, "bad pid \"%s\" (expected 16 hex digits, '.', serial)", pos[0]);
    if ((r = ctl_connect(x)))
        return r;
    roster_owner o;
    if ((r = roster_pid_owner(x->c, pid, &o, x->timeout_ms)))
        return ctl_fail(x, "owner", r, "pid", pos[0]);
    if (x->json) {
        struct jobj j;
        jo_begin(&j, stdout);
        jo_str(&j, "pid", pos[0]);
        jo_str(&j, "node", o.node);
        if (o.os_pid) {
            jo_u64(&j, "os_pid", (uint64_t)o.os_pid);
            jo_u64(&j, "uid", o.uid);
        }
        jo_end(&j);
        fputc('\n', stdout);
    } else if (o.os_pid) {
        printf("%s %s os_pid=%d uid=%u\n", pos[0], o.node, (int)o.os_pid, (unsigned)o.uid);
    } else {
        printf("%s %s (owner not known)\n", pos[0], o.node);
    }
    return 0;
}

roster_owner *ctl_owners(struct ctl *x, const roster_entries *l)
{
    if (!l || l->n == 0)
        return NULL;
    roster_owner *out = calloc(l->n, sizeof *out);
    roster_pid *pids = calloc(ROSTER_BATCH_MAX, sizeof *pids);
    if (!out || !pids) {
        free(out);
        free(pids);
        return NULL;
    }
    for (size_t at = 0; at < l->n; at += ROSTER_BATCH_MAX) {
        size_t k = l->n - at < ROSTER_BATCH_MAX ? l->n - at : ROSTER_BATCH_MAX;
        for (size_t i = 0; i < k; i++)
            pids[i] = l->items[at + i].pid;
        /* best effort: a pid the node does not know (a strong scope's remote holder) just
         * shows no owner */
        if (roster_pid_owners(x->c, pids, k, out + at, NULL, x->timeout_ms) < 0)
            break;
    }
    free(pids);
    return out;
}
