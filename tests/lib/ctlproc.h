/* ctlproc.h: a rosterctl started by a test with pipes on its stdin and stdout, for the
 * commands that keep running (register/join holders, --recv, watch). */
#ifndef ROSTER_TESTS_CTLPROC_H
#define ROSTER_TESTS_CTLPROC_H

#include <stddef.h>
#include <sys/types.h>

struct ctl_proc {
    pid_t pid;
    int in;   /* write end: its stdin (-1 once closed) */
    int out;  /* read end: its stdout */
    int json; /* started with --json: every line must be one JSON value */
    char buf[8192];
    size_t len;
};

/* ctl_spawn starts `rosterctl --socket sock ARGS...` (args NULL-terminated); the child dies
 * with the test process. */
void ctl_spawn(struct ctl_proc *p, const char *sock, const char *const *args);
/* ctl_read_line reads one line of its stdout (deadline 5 s) into line, without '\n'; with
 * --json the line must be one JSON value. */
void ctl_read_line(struct ctl_proc *p, char *line, size_t cap);
/* ctl_close_stdin closes its stdin (a holder then exits). */
void ctl_close_stdin(struct ctl_proc *p);
/* ctl_wait_exit waits up to timeout_ms for it to exit and returns its exit status (-1 if
 * killed); its pipes are closed. */
int ctl_wait_exit(struct ctl_proc *p, int timeout_ms);

#endif
