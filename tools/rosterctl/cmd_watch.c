/* cmd_watch.c: streaming commands: watch (subscribe and print events, one per line) and
 * monitor (wait for one pid's death). */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "ctl.h"

/* next waits for the next event on x->c; 0 or an error. */
static int next(struct ctl *x, roster_event *ev)
{
    for (;;) {
        int r = roster_next_event(x->c, ev);
        if (r != ROSTER_EAGAIN)
            return r;
        struct pollfd p = {roster_fd(x->c), POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return ROSTER_EIO;
    }
}

int cmd_watch(struct ctl *x, int argc, char **argv)
{
    int snapshot = 0, exact = 0, registry = 0, groups = 0, smeta = 0;
    const char *from_text = NULL;
    const struct ctl_opt opts[] = {{"--snapshot", CTL_FLAG, &snapshot},
                                   {"--from-revision", CTL_STR, &from_text},
                                   {"--exact", CTL_FLAG, &exact},
                                   {"--registry", CTL_FLAG, &registry},
                                   {"--groups", CTL_FLAG, &groups},
                                   {"--scope-meta", CTL_FLAG, &smeta},
                                   {NULL, CTL_FLAG, NULL}};
    const char *pos[1] = {NULL};
    int np = 0;
    int r = ctl_args(x, argc, argv, opts, pos, 0, 1, &np);
    if (r)
        return r;
    if (exact && np == 0)
        return ctl_usage(x, "--exact needs a NAME");
    uint64_t from = 0;
    if (from_text && (ctl_parse_u64(from_text, &from) != 0 || from == 0))
        return ctl_usage(x, "bad --from-revision \"%s\" (an etcd revision, > 0)", from_text);
    if (from && snapshot)
        return ctl_usage(x, "--from-revision replays the changes after R: no --snapshot");
    unsigned flags = 0;
    if (registry)
        flags |= ROSTER_SUB_REGISTRY;
    if (groups)
        flags |= ROSTER_SUB_GROUPS;
    if (smeta) /* the scope's metadata; with --registry / --groups those too */
        flags |= ROSTER_SUB_SCOPE_META;
    else if (!registry && !groups)
        flags |= ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS;
    if (snapshot)
        flags |= ROSTER_SUB_SNAPSHOT;
    if (np == 0)
        flags |= ROSTER_SUB_ALL;
    else if (!exact)
        flags |= ROSTER_SUB_PREFIX;
    if ((r = ctl_connect(x)))
        return r;
    const char *pat = np ? pos[0] : "";
    if ((r = roster_subscribe_from(x->c, x->scope, pat, strlen(pat), flags, from, NULL,
                                   x->timeout_ms)))
        return ctl_fail(x, "watch", r, NULL, NULL);
    for (;;) {
        roster_event ev;
        if ((r = next(x, &ev)))
            return ctl_fail(x, "watch", r, NULL, NULL);
        if (ev.type == ROSTER_EV_REPLY) {
            roster_event_free(&ev);
            continue;
        }
        print_event(x, &ev);
        int overflow = ev.type == ROSTER_EV_OVERFLOW;
        roster_event_free(&ev);
        if (overflow) {
            fprintf(stderr, "rosterctl: watch: %s\n", roster_strerror(ROSTER_ESUBOVERFLOW));
            return CTL_REFUSED;
        }
    }
}

int cmd_monitor(struct ctl *x, int argc, char **argv)
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
    uint64_t mon;
    if ((r = roster_monitor(x->c, pid, &mon, x->timeout_ms)))
        return ctl_fail(x, "monitor", r, NULL, NULL);
    for (;;) {
        roster_event ev;
        if ((r = next(x, &ev)))
            return ctl_fail(x, "monitor", r, NULL, NULL);
        int mine = ev.type == ROSTER_EV_DOWN && ev.id == mon;
        if (mine)
            print_event(x, &ev);
        roster_event_free(&ev);
        if (mine)
            return 0;
    }
}
