/* node.c: spawn, wait for, and stop rosterd processes in tests. */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static void on_fail_stop(void *arg)
{
    struct test_node *n = arg;
    if (n->pid > 0) {
        kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
        fprintf(stderr, "  (rosterd log %s kept)\n", n->log);
    }
}

static int can_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        close(fd);
        return 0;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void spawn(struct test_node *n, const char *const *extra_args);

void test_node_start(struct test_node *n, const char *const *extra_args)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/roster-test-XXXXXX");
    if (!mkdtemp(n->dir))
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    snprintf(n->sock, sizeof n->sock, "%s/node.sock", n->dir);
    snprintf(n->log, sizeof n->log, "%s/rosterd.log", n->dir);
    spawn(n, extra_args);
}

void test_node_restart(struct test_node *n, int sig, const char *const *extra_args)
{
    if (n->pid > 0) {
        kill(n->pid, sig);
        waitpid(n->pid, NULL, 0);
        n->pid = 0;
    }
    test_on_fail_remove(n);
    spawn(n, extra_args);
}

/* spawn starts the daemon on n's socket and waits until it accepts connections. */
static void spawn(struct test_node *n, const char *const *extra_args)
{
    const char *argv[64];
    int k = 0;
    /* ROSTER_TEST_WRAPPER (e.g. "valgrind --error-exitcode=99") runs the daemon under a
     * checker; words are split on spaces. */
    static char wrapper[512];
    const char *w = getenv("ROSTER_TEST_WRAPPER");
    if (w && *w) {
        snprintf(wrapper, sizeof wrapper, "%s", w);
        for (char *tok = strtok(wrapper, " "); tok && k < 16; tok = strtok(NULL, " "))
            argv[k++] = tok;
    }
    argv[k++] = ROSTERD_PATH;
    argv[k++] = "--socket";
    argv[k++] = n->sock;
    argv[k++] = "--log-level";
    argv[k++] = "info";
    /* An empty config file: a /etc/roster/rosterd.conf on the machine (an installed
     * package's) must not change what tests run. A test's own --config comes later: the
     * last one wins. */
    argv[k++] = "--config";
    argv[k++] = "/dev/null";
    for (int i = 0; extra_args && extra_args[i] && k < 62; i++)
        argv[k++] = extra_args[i];
    argv[k] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* The daemon must not outlive a crashed test. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(n->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    n->pid = pid;
    test_on_fail(on_fail_stop, n);
    uint64_t deadline = test_now_ms() + 20000;
    while (!can_connect(n->sock)) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            n->pid = 0;
            test_fail(__FILE__, __LINE__, "rosterd exited at start (status %d), log %s", st,
                      n->log);
        }
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "rosterd socket %s not ready after 20 s", n->sock);
        sleep_ms(5);
    }
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", dir);
}

int test_node_stop(struct test_node *n)
{
    int st = -1;
    if (n->pid > 0) {
        kill(n->pid, SIGTERM);
        uint64_t deadline = test_now_ms() + 10000;
        for (;;) {
            pid_t r = waitpid(n->pid, &st, WNOHANG);
            if (r == n->pid)
                break;
            if (test_now_ms() > deadline) {
                kill(n->pid, SIGKILL);
                waitpid(n->pid, &st, 0);
                break;
            }
            sleep_ms(2);
        }
        n->pid = 0;
    }
    test_on_fail_remove(n);
    remove_dir(n->dir);
    return st;
}

void test_node_stop_ok(struct test_node *n)
{
    int st = test_node_stop(n);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        test_fail(__FILE__, __LINE__, "rosterd did not exit 0 after SIGTERM (status 0x%x)", st);
}

void test_node_kill(struct test_node *n, int sig)
{
    if (n->pid > 0) {
        kill(n->pid, sig);
        waitpid(n->pid, NULL, 0);
        n->pid = 0;
    }
}

int test_run_cmd(const char *const *argv, char *out, size_t cap)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    uint64_t deadline = test_now_ms() + 20000;
    for (;;) {
        struct pollfd pfd = {p[0], POLLIN, 0};
        int left = (int)(deadline - test_now_ms());
        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        char tmp[4096];
        ssize_t r = read(p[0], tmp, sizeof tmp);
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (cap && len + take > cap - 1)
            take = cap - 1 - len;
        memcpy(out + len, tmp, take);
        len += take;
    }
    if (cap)
        out[len] = 0;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
