/* cmd_hold.c: holding a registration (register, join): print the pid, then keep the
 * connection open until stdin reaches EOF (exit 0, the pid closed with reason "normal") or
 * the node goes away (exit 2). Killing rosterctl ends it too (reason "disconnected").
 * If the name is lost in a cluster conflict (two sides of a partition registered it and
 * the other claim won), the conflict event is printed and rosterctl exits 1.
 *
 * A terminal on stdin is read only while rosterctl is in its foreground process group:
 * started with `&` from an interactive shell it would otherwise be stopped by SIGTTIN as
 * soon as the user types. In the background it holds until killed; brought to the
 * foreground (fg) it watches stdin again, so that ^D releases the entry. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "ctl.h"

/* Period of the foreground check while a terminal on stdin is left alone. */
#define HOLD_TTY_RECHECK_MS 500

/* background_of_tty returns 1 when stdin is a terminal whose foreground process group is
 * not ours (tcgetpgrp failing, for a terminal that is not our controlling one, counts as
 * not ours): reading it could stop the process. */
static int background_of_tty(int tty)
{
    return tty && tcgetpgrp(0) != getpgrp();
}

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
    int tty = isatty(0);
    struct pollfd p[2] = {{0, POLLIN, 0}, {roster_fd(x->c), POLLIN, 0}};
    for (;;) {
        int bg = background_of_tty(tty);
        p[0].fd = bg ? -1 : 0; /* a negative fd is not polled */
        p[0].revents = 0;
        if (poll(p, 2, bg ? HOLD_TTY_RECHECK_MS : -1) < 0) {
            if (errno == EINTR)
                continue;
            return ctl_fail(x, "poll", ROSTER_EIO, NULL, NULL);
        }
        /* Sent to the background while polling (^Z, bg): leave the input to the terminal. */
        if (p[0].revents && background_of_tty(tty))
            p[0].revents = 0;
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
            int lost = 0;
            int st = 0;
            while (st == 0 && (r = roster_next_event(x->c, &ev)) == 0) {
                if (ev.type == ROSTER_EV_MESSAGE || ev.type == ROSTER_EV_OVERFLOW)
                    st = ctl_on_message(x, &ev);
                if (ev.type == ROSTER_EV_CONFLICT) {
                    print_event(x, &ev);
                    fprintf(stderr, "rosterctl: lost the name in a conflict to %.*s\n",
                            (int)ev.prev_meta.len, (const char *)ev.prev_meta.data);
                    lost = 1;
                }
                roster_event_free(&ev);
            }
            if (st)
                return st;
            if (lost) {
                roster_pid_close(x->c, roster_self(x->c), x->timeout_ms);
                return CTL_REFUSED;
            }
            if (r != ROSTER_EAGAIN && r != 0)
                return ctl_fail(x, "hold", r, NULL, NULL);
        }
    }
    /* Give the entry up cleanly: the pid dies with reason "normal". */
    roster_pid_close(x->c, roster_self(x->c), x->timeout_ms);
    return 0;
}
