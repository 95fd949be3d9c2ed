/* cmd_msg.c: the messaging commands (send, publish, call, multi-call) and what a holder
 * (register / join) does with the messages it receives: --recv prints each one, and
 * --reply-with CMD answers each call with the output of CMD run through /bin/sh, the
 * request on its standard input, so that a shell script can be a server.
 *
 * --reply-with rules: the command gets --timeout milliseconds (default 5000; -1: no limit)
 * and at most REPLY_OUTPUT_MAX bytes of output. If it exits with a status other than 0, is
 * killed by a signal or by the timeout, or prints too much, no reply is sent (the caller's
 * call times out; a multi-call counts the pid as bad) and a line on stderr says why: an
 * empty reply stays an answer a script can give on purpose. Calls are answered one at a
 * time, in arrival order. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define STDIN_MESSAGE_MAX (64u * 1024u * 1024u) /* a message read from stdin */
#define REPLY_OUTPUT_MAX (1024u * 1024u)       /* output of a --reply-with command */

/* A message's bytes: the argument, or all of stdin. */
struct payload {
    const char *data;
    size_t len;
    char *owned;
};

static int read_payload(struct ctl *x, const char *arg, struct payload *p)
{
    memset(p, 0, sizeof *p);
    if (arg) {
        p->data = arg;
        p->len = strlen(arg);
        return 0;
    }
    size_t cap = 0;
    for (;;) {
        if (p->len == cap) {
            if (cap >= STDIN_MESSAGE_MAX)
                return ctl_usage(x, "message on stdin longer than %u bytes", STDIN_MESSAGE_MAX);
            cap = cap ? cap * 2 : 4096;
            char *n = realloc(p->owned, cap);
            if (!n)
                return ctl_fail(x, "read stdin", ROSTER_ENOMEM, NULL, NULL);
            p->owned = n;
        }
        ssize_t n = read(0, p->owned + p->len, cap - p->len);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ctl_fail(x, "read stdin", ROSTER_EIO, NULL, NULL);
        }
        p->len += (size_t)n;
    }
    p->data = p->owned;
    return 0;
}

/* A destination: a pid in its text form, else a name. */
struct target {
    int is_pid;
    roster_pid pid;
    const char *name;
};

static void parse_target(const char *text, struct target *t)
{
    memset(t, 0, sizeof *t);
    t->name = text;
    t->is_pid = roster_pid_parse(text, &t->pid) == 0;
}

static void print_ok(struct ctl *x)
{
    if (!x->json)
        return;
    struct jobj o;
    jo_begin(&o, stdout);
    jo_bool(&o, "ok", 1);
    jo_end(&o);
    fputc('\n', stdout);
}

/* common parses TARGET/GROUP [MESSAGE] with the command's options, connects and reads the
 * message. */
static int common(struct ctl *x, int argc, char **argv, const struct ctl_opt *opts,
                  const char **first, struct payload *p)
{
    const char *pos[2] = {NULL, NULL};
    int np = 0;
    memset(p, 0, sizeof *p);
    int r = ctl_args(x, argc, argv, opts, pos, 1, 2, &np);
    if (r)
        return r;
    *first = pos[0];
    if (!*pos[0])
        return ctl_usage(x, "empty target");
    if ((r = read_payload(x, np > 1 ? pos[1] : NULL, p)))
        return r;
    return ctl_connect(x);
}

int cmd_send(struct ctl *x, int argc, char **argv)
{
    int confirm = 0;
    const struct ctl_opt opts[] = {{"--confirm", CTL_FLAG, &confirm}, {NULL, CTL_FLAG, NULL}};
    const char *to;
    struct payload p;
    int r = common(x, argc, argv, opts, &to, &p);
    if (r) {
        free(p.owned);
        return r;
    }
    struct target t;
    parse_target(to, &t);
    unsigned flags = confirm ? ROSTER_SEND_CONFIRM : 0;
    roster_pid self = roster_self(x->c);
    if (t.is_pid)
        r = roster_send(x->c, self, t.pid, p.data, p.len, flags, x->timeout_ms);
    else
        r = roster_send_name(x->c, self, x->scope, t.name, strlen(t.name), p.data, p.len, flags,
                             x->timeout_ms);
    /* Without --confirm, wait until the node has the frame before closing. */
    if (r == 0 && !confirm)
        r = roster_ping(x->c, x->timeout_ms);
    free(p.owned);
    if (r)
        return ctl_fail(x, "send", r, NULL, NULL);
    print_ok(x);
    return 0;
}

int cmd_publish(struct ctl *x, int argc, char **argv)
{
    int local = 0;
    const struct ctl_opt opts[] = {{"--local", CTL_FLAG, &local}, {NULL, CTL_FLAG, NULL}};
    const char *group;
    struct payload p;
    int r = common(x, argc, argv, opts, &group, &p);
    if (r) {
        free(p.owned);
        return r;
    }
    size_t n = 0;
    r = roster_publish(x->c, roster_self(x->c), x->scope, group, strlen(group), p.data, p.len,
                       local ? ROSTER_PUBLISH_LOCAL : 0, &n, x->timeout_ms);
    free(p.owned);
    if (r)
        return ctl_fail(x, "publish", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_u64(&o, "recipients", n);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("%zu\n", n);
    }
    return 0;
}

/* print_raw writes bytes as they are, then a newline unless they end with one. */
static void print_raw(const roster_buf *b)
{
    if (b->len)
        fwrite(b->data, 1, b->len, stdout);
    if (b->len == 0 || b->data[b->len - 1] != '\n')
        fputc('\n', stdout);
}

int cmd_call(struct ctl *x, int argc, char **argv)
{
    const char *to;
    struct payload p;
    int r = common(x, argc, argv, NULL, &to, &p);
    if (r) {
        free(p.owned);
        return r;
    }
    struct target t;
    parse_target(to, &t);
    roster_buf reply;
    roster_pid responder;
    roster_pid self = roster_self(x->c);
    if (t.is_pid)
        r = roster_call(x->c, self, t.pid, p.data, p.len, &reply, &responder, x->timeout_ms);
    else
        r = roster_call_name(x->c, self, x->scope, t.name, strlen(t.name), p.data, p.len,
                             &reply, &responder, x->timeout_ms);
    free(p.owned);
    if (r)
        return ctl_fail(x, "call", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_pid(&o, "pid", responder);
        jo_bytes(&o, "reply", reply.data, reply.len);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        print_raw(&reply);
    }
    roster_buf_free(&reply);
    return 0;
}

int cmd_multi_call(struct ctl *x, int argc, char **argv)
{
    int local = 0;
    const struct ctl_opt opts[] = {{"--local", CTL_FLAG, &local}, {NULL, CTL_FLAG, NULL}};
    const char *group;
    struct payload p;
    int r = common(x, argc, argv, opts, &group, &p);
    if (r) {
        free(p.owned);
        return r;
    }
    roster_multi_result res;
    r = roster_multi_call(x->c, roster_self(x->c), x->scope, group, strlen(group), p.data,
                          p.len, local ? ROSTER_PUBLISH_LOCAL : 0, &res, x->timeout_ms);
    free(p.owned);
    if (r)
        return ctl_fail(x, "multi-call", r, NULL, NULL);
    char pid[ROSTER_PID_STRLEN];
    if (x->json) {
        fputs("{\"replies\":[", stdout);
        for (size_t i = 0; i < res.n_replies; i++) {
            struct jobj o;
            if (i)
                fputc(',', stdout);
            jo_begin(&o, stdout);
            jo_pid(&o, "pid", res.replies[i].pid);
            jo_bytes(&o, "reply", res.replies[i].data.data, res.replies[i].data.len);
            jo_end(&o);
        }
        fputs("],\"bad\":[", stdout);
        for (size_t i = 0; i < res.n_bad; i++) {
            if (i)
                fputc(',', stdout);
            roster_pid_format(res.bad[i], pid);
            json_str(stdout, pid, strlen(pid));
        }
        fputs("]}\n", stdout);
    } else {
        for (size_t i = 0; i < res.n_replies; i++) {
            printf("%s ", roster_pid_format(res.replies[i].pid, pid));
            text_bytes(stdout, res.replies[i].data.data, res.replies[i].data.len);
            fputc('\n', stdout);
        }
        for (size_t i = 0; i < res.n_bad; i++)
            printf("bad %s\n", roster_pid_format(res.bad[i], pid));
    }
    roster_multi_result_free(&res);
    return 0;
}

/* --- receiving ---------------------------------------------------------------------- */

static const char *kind_name(int kind)
{
    switch (kind) {
    case ROSTER_MSG_SEND: return "send";
    case ROSTER_MSG_PUBLISH: return "publish";
    case ROSTER_MSG_CALL: return "call";
    case ROSTER_MSG_MULTI_CALL: return "multi_call";
    default: return "unknown";
    }
}

void print_message(struct ctl *x, const roster_event *ev)
{
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "type", "message");
        jo_str(&o, "kind", kind_name(ev->msg_kind));
        jo_str(&o, "scope", ev->scope);
        jo_pid(&o, "from", ev->pid);
        jo_str(&o, "node", ev->node);
        jo_pid(&o, "to", ev->to);
        jo_bytes(&o, "name", ev->name.data, ev->name.len);
        jo_bytes(&o, "data", ev->meta.data, ev->meta.len);
        jo_end(&o);
    } else {
        text_bytes(stdout, ev->meta.data, ev->meta.len);
    }
    fputc('\n', stdout);
    fflush(stdout);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A --reply-with run: the command's output and why it failed ("" if it did not). */
struct run {
    char *out;
    size_t len, cap;
    char why[128];
};

/* run_cmd runs cmd with in on its stdin; fills r. */
static void run_cmd(const char *cmd, const void *in, size_t in_len, int timeout_ms,
                    struct run *r)
{
    memset(r, 0, sizeof *r);
    int ip[2], op[2];
    if (pipe2(ip, O_CLOEXEC) != 0) {
        snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno));
        return;
    }
    if (pipe2(op, O_CLOEXEC) != 0) {
        snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno));
        close(ip[0]);
        close(ip[1]);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(r->why, sizeof r->why, "fork: %s", strerror(errno));
        close(ip[0]);
        close(ip[1]);
        close(op[0]);
        close(op[1]);
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        dup2(ip[0], 0);
        dup2(op[1], 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(ip[0]);
    close(op[1]);
    int wfd = ip[1], rfd = op[0];
    fcntl(wfd, F_SETFL, O_NONBLOCK);
    size_t written = 0;
    if (in_len == 0) {
        close(wfd);
        wfd = -1;
    }
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    int killed = 0;
    while (rfd >= 0) {
        struct pollfd pf[2] = {{rfd, POLLIN, 0}, {wfd, POLLOUT, 0}};
        int tmo = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            tmo = left < 0 ? 0 : (int)left;
        }
        int n = poll(pf, wfd >= 0 ? 2 : 1, tmo);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || n < 0) {
            snprintf(r->why, sizeof r->why, "timed out after %d ms", timeout_ms);
            killed = 1;
            break;
        }
        if (wfd >= 0 && pf[1].revents) {
            ssize_t w = write(wfd, (const char *)in + written, in_len - written);
            if (w > 0)
                written += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == in_len) {
                close(wfd); /* done, or the command does not read its input */
                wfd = -1;
            }
        }
        if (pf[0].revents) {
            if (r->len == r->cap) {
                size_t nc = r->cap ? r->cap * 2 : 4096;
                char *nb = realloc(r->out, nc);
                if (!nb) {
                    snprintf(r->why, sizeof r->why, "out of memory");
                    killed = 1;
                    break;
                }
                r->out = nb;
                r->cap = nc;
            }
            ssize_t got = read(rfd, r->out + r->len, r->cap - r->len);
            if (got == 0) {
                close(rfd);
                rfd = -1;
            } else if (got > 0) {
                r->len += (size_t)got;
                if (r->len > REPLY_OUTPUT_MAX) {
                    snprintf(r->why, sizeof r->why, "output longer than %u bytes",
                             REPLY_OUTPUT_MAX);
                    killed = 1;
                    break;
                }
            } else if (errno != EINTR && errno != EAGAIN) {
                snprintf(r->why, sizeof r->why, "read: %s", strerror(errno));
                killed = 1;
                break;
            }
        }
    }
    if (wfd >= 0)
        close(wfd);
    if (rfd >= 0)
        close(rfd);
    if (killed)
        kill(-pid, SIGKILL);
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, killed ? 0 : WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (w == 0) {
            if (deadline >= 0 && now_ms() >= deadline) {
                snprintf(r->why, sizeof r->why, "timed out after %d ms", timeout_ms);
                kill(-pid, SIGKILL);
                killed = 1;
            } else {
                poll(NULL, 0, 2);
            }
        }
    }
    if (!r->why[0] && WIFEXITED(st) && WEXITSTATUS(st) != 0)
        snprintf(r->why, sizeof r->why, "exit status %d", WEXITSTATUS(st));
    else if (!r->why[0] && WIFSIGNALED(st))
        snprintf(r->why, sizeof r->why, "killed by signal %d", WTERMSIG(st));
}

int ctl_on_message(struct ctl *x, const roster_event *ev)
{
    if (ev->type == ROSTER_EV_OVERFLOW) {
        if (ev->id == 0 && ev->dropped)
            fprintf(stderr, "rosterctl: %llu messages dropped: not read in time\n",
                    (unsigned long long)ev->dropped);
        return 0;
    }
    if (x->recv)
        print_message(x, ev);
    if (!x->reply_with || ev->call_ref == 0)
        return 0;
    static int sigpipe_ignored;
    if (!sigpipe_ignored) {
        signal(SIGPIPE, SIG_IGN); /* a command that does not read its input */
        sigpipe_ignored = 1;
    }
    struct run run;
    run_cmd(x->reply_with, ev->meta.data, ev->meta.len, x->timeout_ms, &run);
    int r = 0;
    if (run.why[0])
        fprintf(stderr, "rosterctl: --reply-with: %s: %s: no reply sent\n", x->reply_with,
                run.why);
    else
        r = roster_reply(x->c, ev, run.out, run.len, x->timeout_ms);
    free(run.out);
    if (r == ROSTER_ETOOBIG) {
        fprintf(stderr, "rosterctl: --reply-with: reply of %zu bytes too big: %s\n", run.len,
                roster_errdetail(x->c));
        return 0;
    }
    return r ? ctl_fail(x, "reply", r, NULL, NULL) : 0;
}
