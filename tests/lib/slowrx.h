/* slowrx.h: a receiving client in a child process, for the flow-control tests (issue 10
 * item 3): it takes every message spending work_ns of busy work on each (a receiver slower
 * than its sender), checks that their sequence numbers come in order without a gap, and
 * reports how many it got when the end marker arrives. Or it takes nothing at all (idle):
 * a receiver that never reads. The child is stopped by pid (slowrx_kill / slowrx_wait). */
#ifndef ROSTER_TESTS_SLOWRX_H
#define ROSTER_TESTS_SLOWRX_H

#include <errno.h>
#include <poll.h>
#include <roster.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define SLOWRX_END UINT64_MAX /* the sequence number of the end marker */

struct slowrx {
    pid_t pid;
    int fd;          /* the child's reports */
    roster_pid self; /* its pid in roster */
};

static inline uint64_t slowrx_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int slowrx_read(int fd, void *p, size_t n, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    size_t got = 0;
    while (got < n) {
        uint64_t now = test_now_ms();
        if (now >= end)
            return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, (int)(end - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t k = read(fd, (char *)p + got, n - got);
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

static inline void slowrx_child(const char *sock, int fd, long work_ns, int idle)
{
    roster_options o;
    roster_options_init(&o);
    o.event_queue_bytes = 64 * 1024; /* small: the node's side of flow control is used */
    o.socket_path = sock;
    o.client_name = "slowrx";
    roster_client *c = NULL;
    if (roster_connect(&c, &o) != 0)
        _exit(3);
    roster_pid self = roster_self(c);
    if (write(fd, &self, sizeof self) != (ssize_t)sizeof self)
        _exit(3);
    if (idle)
        for (;;)
            pause(); /* never reads: killed by the test */
    uint64_t next = 0, bad = 0;
    for (;;) {
        roster_event ev;
        int r = roster_wait_event(c, &ev, 120000);
        if (r)
            _exit(4);
        if (ev.type != ROSTER_EV_MESSAGE) {
            fprintf(stderr, "slowrx: event %s (dropped %llu) after %llu messages\n",
                    roster_event_type_name(ev.type), (unsigned long long)ev.dropped,
                    (unsigned long long)next);
            roster_event_free(&ev);
            bad++; /* an OVERFLOW would mean a drop */
            continue;
        }
        uint64_t seq = 0;
        if (ev.meta.len >= 8)
            memcpy(&seq, ev.meta.data, 8);
        roster_event_free(&ev);
        if (seq == SLOWRX_END)
            break;
        if (seq != next) {
            fprintf(stderr, "slowrx: message %llu where %llu was due\n",
                    (unsigned long long)seq, (unsigned long long)next);
            bad++;
        }
        next = seq + 1;
        uint64_t until = slowrx_ns() + (uint64_t)work_ns;
        while (slowrx_ns() < until) {
        }
    }
    uint64_t rep[2] = {next, bad};
    if (write(fd, rep, sizeof rep) != (ssize_t)sizeof rep)
        _exit(5);
    roster_close(c);
    _exit(0);
}

/* slowrx_start forks the receiver, connected to the node at sock. */
static inline void slowrx_start(struct slowrx *x, const char *sock, long work_ns, int idle)
{
    int p[2];
    ASSERT(pipe(p) == 0);
    x->pid = fork();
    ASSERT(x->pid >= 0);
    if (x->pid == 0) {
        close(p[0]);
        slowrx_child(sock, p[1], work_ns, idle);
    }
    close(p[1]);
    x->fd = p[0];
    if (slowrx_read(x->fd, &x->self, sizeof x->self, 30000) != 0) {
        kill(x->pid, SIGKILL);
        waitpid(x->pid, NULL, 0);
        test_fail(__FILE__, __LINE__, "the receiver did not connect");
    }
}

static inline void slowrx_kill(struct slowrx *x)
{
    kill(x->pid, SIGKILL);
    waitpid(x->pid, NULL, 0);
    close(x->fd);
}

/* slowrx_wait waits for the child's report (after the end marker was sent): received
 * count and out-of-order count. */
static inline void slowrx_wait(struct slowrx *x, uint64_t *received, uint64_t *bad,
                               int timeout_ms)
{
    uint64_t rep[2];
    if (slowrx_read(x->fd, rep, sizeof rep, timeout_ms) != 0) {
        slowrx_kill(x);
        test_fail(__FILE__, __LINE__, "the receiver did not report within %d ms", timeout_ms);
    }
    int st = 0;
    waitpid(x->pid, &st, 0);
    close(x->fd);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    *received = rep[0];
    *bad = rep[1];
}

/* slowrx_feed sends n sequence-numbered messages of len bytes (>= 8) from c's own pid to
 * to with a plain roster_send loop (flags: 0 or ROSTER_SEND_DROP...), then the end marker
 * (confirmed, so it waits for room like the rest). Returns the sends that failed. */
static inline uint64_t slowrx_feed(roster_client *c, roster_pid to, uint64_t n, size_t len,
                                   unsigned flags)
{
    char buf[256];
    ASSERT(len >= 8 && len <= sizeof buf);
    memset(buf, 'f', sizeof buf);
    uint64_t failed = 0;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(buf, &i, 8);
        if (roster_send(c, roster_self(c), to, buf, len, flags, 60000) != 0)
            failed++;
    }
    uint64_t end = SLOWRX_END;
    memcpy(buf, &end, 8);
    int r = roster_send(c, roster_self(c), to, buf, len, ROSTER_SEND_CONFIRM, 120000);
    if (r)
        test_fail(__FILE__, __LINE__, "end marker: %s (%s)", roster_strerror(r),
                  roster_errdetail(c));
    return failed;
}

#endif
