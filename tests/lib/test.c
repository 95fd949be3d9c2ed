/* test.c: fork-per-test runner with timeouts and process-group cleanup. */
#include "test.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct {
    void (*fn)(void *);
    void *arg;
} cleanups[16];

void test_on_fail(void (*fn)(void *), void *arg)
{
    for (int i = 0; i < 16; i++) {
        if (!cleanups[i].fn) {
            cleanups[i].fn = fn;
            cleanups[i].arg = arg;
            return;
        }
    }
}

void test_on_fail_remove(void *arg)
{
    for (int i = 0; i < 16; i++)
        if (cleanups[i].arg == arg)
            cleanups[i].fn = NULL;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAILED at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    for (int i = 15; i >= 0; i--)
        if (cleanups[i].fn)
            cleanups[i].fn(cleanups[i].arg);
    fflush(NULL);
    _exit(1);
}

uint64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define SKIP_STATUS 77

void test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  skipped: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fflush(NULL);
    exit(SKIP_STATUS);
}

/* run_one returns 1 (passed), 0 (failed) or -1 (skipped). */
static int run_one(const struct test_case *t, int timeout_s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 0;
    }
    if (pid == 0) {
        setpgid(0, 0);
        alarm((unsigned)timeout_s);
        t->fn();
        /* exit, not _exit: LeakSanitizer checks at exit in sanitizer builds. */
        exit(0);
    }
    setpgid(pid, pid);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
    }
    /* Whatever the test started and did not stop dies with its group. */
    kill(-pid, SIGKILL);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP_STATUS)
        return -1;
    if (WIFSIGNALED(st))
        fprintf(stderr, "  %s: killed by signal %d%s\n", t->name, WTERMSIG(st),
                WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
    return 0;
}

int test_run(const struct test_case *t, size_t n, int argc, char **argv)
{
    const char *to = getenv("TEST_TIMEOUT_S");
    int timeout_s = to ? atoi(to) : 60;
    signal(SIGPIPE, SIG_IGN);
    int passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], t[i].name) != 0)
            continue;
        uint64_t t0 = test_now_ms();
        int ok = run_one(&t[i], timeout_s);
        printf("%s %s (%llu ms)\n", ok > 0 ? "ok  " : ok < 0 ? "SKIP" : "FAIL", t[i].name,
               (unsigned long long)(test_now_ms() - t0));
        fflush(stdout);
        if (ok > 0)
            passed++;
        else if (ok < 0)
            skipped++;
        else
            failed++;
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    /* test.h's promise: a failure wins, then a skip (never reported as a pass). */
    if (failed)
        return 1;
    return skipped ? SKIP_STATUS : 0;
}
