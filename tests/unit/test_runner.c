/* test_runner.c: a self-check of the test runner (tests/lib/test.c): the exit status it
 * gives ctest for passed, failed and skipped tests, so a skip shows as skipped
 * (SKIP_RETURN_CODE 77), never as passed or failed. */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static void passes(void) {}
static void skips(void) { test_skip("runner self-check"); }
static void fails(void) { test_fail(__FILE__, __LINE__, "runner self-check"); }

/* run_table runs the runner over a table in a child, its output silenced, and returns the
 * child's exit status (-1 if it did not exit). */
static int run_table(const struct test_case *t, size_t n)
{
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        char *argv[] = {"test_runner", NULL};
        _exit(test_run(t, n, 1, argv));
    }
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_every_test_skipped_exits_77(void)
{
    const struct test_case one[] = {T(skips)};
    ASSERT_EQ(run_table(one, 1), 77);
    const struct test_case two[] = {T(skips), T(skips)};
    ASSERT_EQ(run_table(two, 2), 77);
}

static void test_skipped_and_passed_exits_77(void)
{
    const struct test_case t[] = {T(passes), T(skips), T(passes)};
    ASSERT_EQ(run_table(t, 3), 77);
}

static void test_a_failure_wins(void)
{
    const struct test_case t[] = {T(passes), T(skips), T(fails)};
    ASSERT_EQ(run_table(t, 3), 1);
}

static void test_all_passed_exits_0(void)
{
    const struct test_case t[] = {T(passes), T(passes)};
    ASSERT_EQ(run_table(t, 2), 0);
}

TEST_MAIN(T(test_every_test_skipped_exits_77), T(test_skipped_and_passed_exits_77),
          T(test_a_failure_wins), T(test_all_passed_exits_0))
