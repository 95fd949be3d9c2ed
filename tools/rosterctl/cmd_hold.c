/* cmd_hold.c: holding a registration (register, join, elect): print the pid, then keep the
 * connection open until stdin reaches EOF (exit 0, the pid closed with reason "normal") or
 * the node goes away (exit 2). Killing rosterctl ends it too (reason "disconnected").
 * If the name is lost in a cluster conflict (two sides of a partition registered it and
 * the other claim won), the conflict event is printed and rosterctl exits 1; so it is when
 * the node tells that its etcd lease was lost (a strong name: reason lease_lost). With
 * --reconnect a restart of the node is survived: the library dials again and holds the
 * entry again with a new pid (a "reconnected" line is printed); if the name was taken
 * meanwhile, rosterctl prints "restore_failed" and exits 1. elect
 * first waits, watching stdin the same way, for its campaign to be answered.
 *
 * A terminal on stdin is read only while rosterctl is in its foreground process group:
 * started with `&` from an interactive shell it would otherwise be stopped by SIGTTIN as
 * soon as the user types. In the background it holds until killed; brought to the
 * foreground (fg) it watches stdin again, so that ^D releases the entry.
 *
 * With --ttl MS the entry has a lease: the hold renews it every MS / 3 (the node removes it
 * with reason expired once MS pass unrenewed: rosterctl stopped by SIGSTOP, or hung). When
 * it learns that the lease ran out (the node's UNREGISTERED / LEFT notice, or a renew
 * answered EEXPIRED, say after SIGCONT), it says so and exits 1. With --exit-reason R, the
 * pid is closed with exit reason R when stdin closes (every node's events and monitors see
 * reason exit and R) instead of reason normal. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <time.h>
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
        if (x->have_token)
            jo_token(&o, "token", x->token);
        if (x->ttl_ms)
            jo_u64(&o, "ttl_ms", x->ttl_ms);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        /* the pid alone on the first line, as scripts read it (`read -r pid`) */
        printf("%s\n", pid);
        if (x->have_token)
            printf("token %" PRIu64 "\n", x->token);
    }
    fflush(stdout);
}

/* notice handles an event addressed to this client's pid rather than to a subscription
 * (id 0): printed; 1 if the held entry is gone for good (conflict lost, lease lost). */
static int notice(struct ctl *x, const roster_event *ev)
{
    /* --reconnect: the node restarted; the library made the entry again (or could not) */
    if (ev->type == ROSTER_EV_RECONNECTED) {
        print_event(x, ev);
        return 0;
    }
    if (ev->type == ROSTER_EV_RESTORE_FAILED) {
        print_event(x, ev);
        fprintf(stderr, "rosterctl: after the node restarted, %.*s could not be held again: "
                        "%s (%.*s)\n", (int)ev->name.len, (const char *)ev->name.data,
                roster_strerror(ev->status), (int)ev->prev_meta.len,
                (const char *)ev->prev_meta.data);
        return 1;
    }
    if (ev->type == ROSTER_EV_CONFLICT) {
        print_event(x, ev);
        fprintf(stderr, "rosterctl: lost the name in a conflict to %.*s\n",
                (int)ev->prev_meta.len, (const char *)ev->prev_meta.data);
        return 1;
    }
    if (ev->id != 0 || (ev->reason != ROSTER_REASON_LEASE_LOST &&
                        ev->reason != ROSTER_REASON_HANDOFF &&
                        ev->reason != ROSTER_REASON_EXPIRED))
        return 0;
    print_event(x, ev);
    if (ev->reason == ROSTER_REASON_EXPIRED) {
        fprintf(stderr, "rosterctl: lost %.*s: its lease of %u ms ran out unrenewed (reason "
                        "expired)\n",
                (int)ev->name.len, (const char *)ev->name.data, (unsigned)x->ttl_ms);
        return 1;
    }
    if (ev->reason == ROSTER_REASON_LEASE_LOST) {
        fprintf(stderr, "rosterctl: lost %.*s: the node could not renew its etcd lease in "
                        "time (reason lease_lost)\n",
                (int)ev->name.len, (const char *)ev->name.data);
        return 1;
    }
    return 0; /* a handoff to or from this pid: the hold goes on */
}

/* campaign_answer takes the answer to elect's campaign: elected, it prints the pid line
 * with the token (0: hold on); refused, it reports the node's reason like ctl_fail (whose
 * detail comes in the event, not in roster_errdetail) and returns the exit status. */
static int campaign_answer(struct ctl *x, const roster_event *ev)
{
    if (ev->status == 0) {
        x->token = ev->token;
        x->have_token = 1;
        ctl_print_pid_line(x);
        return 0;
    }
    fprintf(stderr, "rosterctl: %s: %s (%.*s)\n", x->cmd, roster_strerror(ev->status),
            (int)ev->meta.len, (const char *)ev->meta.data);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "error", roster_err_name(ev->status));
        jo_str(&o, "message", roster_strerror(ev->status));
        if (ev->meta.len)
            jo_bytes(&o, "detail", ev->meta.data, ev->meta.len);
        jo_end(&o);
        fputc('\n', stdout);
        fflush(stdout);
    }
    return ctl_exit_status(ev->status);
}

int ctl_hold(struct ctl *x) { return ctl_hold_campaign(x, 0); }

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* renew_due renews the lease when its time came (every ttl / 3); 0 on, CTL_REFUSED when it
 * ran out meanwhile (reported), or the exit status of another failure. *wait_ms is lowered
 * to the time left until the next renewal. */
static int renew_due(struct ctl *x, int64_t *next, int *wait_ms)
{
    if (!x->ttl_ms)
        return 0;
    int64_t now = mono_ms();
    if (now >= *next) {
        int r = roster_renew(x->c, roster_self(x->c), NULL, x->timeout_ms);
        if (r) /* EEXPIRED: a lease ran out meanwhile (the detail says how many): exit 1 */
            return ctl_fail(x, "renew", r, NULL, NULL);
        *next = now + x->ttl_ms / 3;
    }
    int64_t left = *next - now;
    if (left < 0)
        left = 0;
    if (*wait_ms < 0 || left < *wait_ms)
        *wait_ms = (int)left;
    return 0;
}

int ctl_hold_campaign(struct ctl *x, uint64_t campaign)
{
    int tty = isatty(0);
    struct pollfd p[2] = {{0, POLLIN, 0}, {roster_fd(x->c), POLLIN, 0}};
    int64_t next_renew = mono_ms() + x->ttl_ms / 3;
    for (;;) {
        int bg = background_of_tty(tty);
        p[0].fd = bg ? -1 : 0; /* a negative fd is not polled */
        p[0].revents = 0;
        p[1].revents = 0;
        int wait_ms = bg ? HOLD_TTY_RECHECK_MS : -1;
        int rr = renew_due(x, &next_renew, &wait_ms);
        if (rr) {
            roster_pid_close(x->c, roster_self(x->c), x->timeout_ms);
            return rr;
        }
        if (poll(p, 2, wait_ms) < 0) {
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
            if ((n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) && campaign) {
                /* closing withdraws the candidacy: the pid dies with the connection */
                fprintf(stderr, "rosterctl: %s: stdin closed before the name was won; "
                                "candidacy withdrawn\n", x->cmd);
                return CTL_REFUSED;
            }
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
        if (p[1].revents) {
            roster_event ev;
            int r;
            int lost = 0;
            int st = 0;
            while (st == 0 && (r = roster_next_event(x->c, &ev)) == 0) {
                if (campaign && ev.type == ROSTER_EV_REPLY && ev.req_id == campaign) {
                    campaign = 0;
                    st = campaign_answer(x, &ev);
                } else if (ev.type == ROSTER_EV_MESSAGE || ev.type == ROSTER_EV_OVERFLOW) {
                    st = ctl_on_message(x, &ev);
                } else if (notice(x, &ev)) {
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
    /* Give the entry up cleanly: the pid dies with reason "normal", or exit and its text. */
    if (x->exit_reason) {
        int r = roster_pid_exit(x->c, roster_self(x->c), x->exit_reason, x->timeout_ms);
        if (r)
            return ctl_fail(x, "exit-reason", r, NULL, NULL);
        return 0;
    }
    roster_pid_close(x->c, roster_self(x->c), x->timeout_ms);
    return 0;
}
