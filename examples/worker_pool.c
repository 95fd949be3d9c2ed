/* worker_pool.c: a pool of workers behind a group, called round-robin and all at once.
 *
 * Each worker is a process with its own connection: it joins the group "pool.squares" and
 * answers every call with the square of the number it was sent. The client lists the
 * group's members, spreads N calls over them round-robin (roster_call to each pid in turn),
 * then asks every worker at once with roster_multi_call, which also names the workers that
 * did not answer in time (bad pids).
 *
 * Build: make (see Makefile). Run with a node up:
 *   ./worker_pool [SOCKET] [WORKERS] [CALLS]     forks the workers, runs the client, exits
 *   ./worker_pool --worker [SOCKET]              one worker, until killed
 */
#include <roster.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GROUP "pool.squares"

static int check(roster_client *c, const char *what, int r)
{
    if (r < 0)
        fprintf(stderr, "worker_pool: %s: %s (%s)\n", what, roster_strerror(r),
                c ? roster_errdetail(c) : "");
    return r < 0;
}

static roster_client *connect_to(const char *socket_path, const char *name)
{
    roster_options opts;
    roster_options_init(&opts);
    opts.socket_path = socket_path;
    opts.client_name = name;
    roster_client *c = NULL;
    if (check(NULL, "connect", roster_connect(&c, &opts)))
        return NULL;
    return c;
}

/* worker: join the group, then answer calls until the connection ends. */
static int worker(const char *socket_path, int ready_fd)
{
    roster_client *c = connect_to(socket_path, "worker");
    if (!c)
        return 1;
    if (check(c, "join", roster_join(c, NULL, GROUP, strlen(GROUP), roster_self(c), "", 0,
                                     1000)))
        return 1;
    if (ready_fd >= 0) { /* tell the parent we are in the group */
        if (write(ready_fd, "r", 1) != 1)
            return 1;
        close(ready_fd);
    }
    for (;;) {
        roster_event ev;
        int r = roster_wait_event(c, &ev, ROSTER_FOREVER);
        if (r == ROSTER_ECLOSED)
            break;
        if (check(c, "wait_event", r))
            break;
        if (ev.type == ROSTER_EV_MESSAGE && ev.call_ref) {
            long n = strtol(ev.meta.len ? (char *)ev.meta.data : "0", NULL, 10);
            char answer[64];
            int len = snprintf(answer, sizeof answer, "%ld", n * n);
            check(c, "reply", roster_reply(c, &ev, answer, (size_t)len, 1000));
        }
        roster_event_free(&ev);
    }
    roster_close(c);
    return 0;
}

static int client(const char *socket_path, int calls)
{
    roster_client *c = connect_to(socket_path, "pool-client");
    if (!c)
        return 1;
    char pid[ROSTER_PID_STRLEN];
    roster_entries workers;
    if (check(c, "members", roster_members(c, NULL, GROUP, strlen(GROUP), 0, &workers, 1000)))
        return 1;
    printf("%zu workers in %s\n", workers.n, GROUP);
    int failed = workers.n == 0;
    /* Round-robin: call i goes to worker i mod n. */
    for (int i = 0; i < calls && workers.n; i++) {
        roster_pid w = workers.items[(size_t)i % workers.n].pid;
        char req[32];
        int len = snprintf(req, sizeof req, "%d", i);
        roster_buf reply;
        int r = roster_call(c, roster_self(c), w, req, (size_t)len, &reply, NULL, 1000);
        if (check(c, "call", r)) {
            failed = 1;
            continue;
        }
        printf("call %d -> %s: %.*s\n", i, roster_pid_format(w, pid), (int)reply.len,
               (char *)reply.data);
        roster_buf_free(&reply);
    }
    roster_entries_free(&workers);
    /* Everyone at once: the replies with their pids, and who did not answer. */
    roster_multi_result res;
    if (!check(c, "multi_call", roster_multi_call(c, roster_self(c), NULL, GROUP, strlen(GROUP),
                                                  "7", 1, 0, &res, 1000))) {
        printf("multi-call: %zu replies, %zu bad\n", res.n_replies, res.n_bad);
        for (size_t i = 0; i < res.n_replies; i++)
            printf("  %s: %.*s\n", roster_pid_format(res.replies[i].pid, pid),
                   (int)res.replies[i].data.len, (char *)res.replies[i].data.data);
        for (size_t i = 0; i < res.n_bad; i++)
            printf("  %s: no answer\n", roster_pid_format(res.bad[i], pid));
        roster_multi_result_free(&res);
    } else {
        failed = 1;
    }
    roster_close(c);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--worker") == 0)
        return worker(argc > 2 ? argv[2] : NULL, -1);
    const char *socket_path = argc > 1 && argv[1][0] ? argv[1] : NULL;
    int n = argc > 2 ? atoi(argv[2]) : 3, calls = argc > 3 ? atoi(argv[3]) : 6;
    if (n < 1 || n > 64)
        n = 3;
    pid_t kids[64];
    int ready[2];
    if (pipe(ready) != 0)
        return 1;
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            close(ready[0]);
            _exit(worker(socket_path, ready[1]));
        }
    }
    close(ready[1]);
    int up = 0;
    char b;
    while (up < n && read(ready[0], &b, 1) == 1)
        up++;
    close(ready[0]);
    int st = up == n ? client(socket_path, calls) : 1;
    for (int i = 0; i < n; i++) {
        if (kids[i] > 0) {
            kill(kids[i], SIGTERM);
            waitpid(kids[i], NULL, 0);
        }
    }
    return st;
}
