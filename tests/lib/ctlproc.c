/* ctlproc.c: a rosterctl started by a test with pipes on its stdin and stdout (ctlproc.h). */
#include "ctlproc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonv.h"
#include "test.h"

void ctl_spawn(struct ctl_proc *p, const char *sock, const char *const *args)
{
    const char *argv[32];
    int k = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = sock;
    for (int i = 0; args[i]; i++) {
        ASSERT(k < 31);
        argv[k++] = args[i];
    }
    argv[k] = NULL;
    int i[2], o[2];
    /* close-on-exec, so later rosterctl processes do not hold this one's stdin open */
    ASSERT_EQ(pipe2(i, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(o, O_CLOEXEC), 0);
    memset(p, 0, sizeof *p);
    for (int a = 0; args[a]; a++)
        p->json |= strcmp(args[a], "--json") == 0;
    p->pid = fork();
    ASSERT(p->pid >= 0);
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(i[0], 0);
        dup2(o[1], 1);
        close(i[0]);
        close(i[1]);
        close(o[0]);
        close(o[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(i[0]);
    close(o[1]);
    p->in = i[1];
    p->out = o[0];
}

void ctl_read_line(struct ctl_proc *p, char *line, size_t cap)
{
    uint64_t deadline = test_now_ms() + 5000;
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->len);
        if (nl) {
            size_t n = (size_t)(nl - p->buf);
            ASSERT(n < cap);
            memcpy(line, p->buf, n);
            line[n] = 0;
            memmove(p->buf, nl + 1, p->len - n - 1);
            p->len -= n + 1;
            if (p->json)
                json_check_line(__FILE__, __LINE__, line);
            return;
        }
        int left = (int)(deadline - test_now_ms());
        struct pollfd pf = {p->out, POLLIN, 0};
        if (left <= 0 || poll(&pf, 1, left) != 1)
            test_fail(__FILE__, __LINE__, "no line from rosterctl within 5 s");
        ssize_t r = read(p->out, p->buf + p->len, sizeof p->buf - p->len - 1);
        if (r <= 0)
            test_fail(__FILE__, __LINE__, "rosterctl closed stdout (read %zd)", r);
        p->len += (size_t)r;
    }
}

void ctl_close_stdin(struct ctl_proc *p)
{
    if (p->in >= 0)
        close(p->in);
    p->in = -1;
}

int ctl_wait_exit(struct ctl_proc *p, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    int st;
    while (waitpid(p->pid, &st, WNOHANG) == 0) {
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "rosterctl did not exit");
        poll(NULL, 0, 5);
    }
    close(p->out);
    ctl_close_stdin(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
