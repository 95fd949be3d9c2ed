/* cmd_hold.c: holding a registration (register, join): print the pid, then keep the
 * connection open until stdin reaches EOF (exit 0, the pid closed with reason "normal") or
 * the node goes away (exit 2). Killing rosterctl ends it too (reason "disconnected"). */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "ctl.h"

void ctl_print_pid_line(struct ctl *x)
{
    char pid[ROSTER_PID_STRLEN];
    roster_pid_format(roster_self(x->c), pid);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "pid", pid);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("%s\n", pid);
    }
    fflush(stdout);
}

int ctl_hold(struct ctl *x)
{
    struct pollfd p[2] = {{0, POLLIN, 0}, {roster_fd(x->c), POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return ctl_fail(x, "poll", ROSTER_EIO, NULL, NULL);
        }
        if (p[0].revents & POLLNVAL)
            break; /* no stdin at all: as good as EOF */
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[4096];
            ssize_t n = read(0, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
        if (p[1].revents) {
            roster_event ev;
            int r;
            while ((r = roster_next_event(x->c, &ev)) == 0)
                roster_event_free(&ev);
            if (r != ROSTER_EAGAIN)
                return ctl_fail(x, "hold", r, NULL, NULL);
        }
    }
    /* Give the entry up cleanly: the pid dies with reason "normal". */
    roster_pid_close(x->c, roster_self(x->c), x->timeout_ms);
    return 0;
}
