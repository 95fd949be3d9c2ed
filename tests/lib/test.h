/* test.h: the test runner and assertions shared by every C test of roster.
 *
 * A test file defines `static void test_x(void)` functions and ends with
 * TEST_MAIN(T(test_x), T(test_y), ...). Each test runs in its own forked process, in its own
 * process group, with a timeout (TEST_TIMEOUT_S, default 60): when it ends, anything it left
 * running in its group is killed, so a failing test never leaves a daemon behind. The run ends
 * with the line "N passed, N failed". `./test_x NAME` runs one test. */
#ifndef ROSTER_TESTS_TEST_H
#define ROSTER_TESTS_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

int test_run(const struct test_case *t, size_t n, int argc, char **argv);
/* test_skip ends the test process as skipped (status 77) after printing why: the
 * environment cannot run it. A file with a skipped test and no failure (every test skipped,
 * or some skipped and the rest passed) exits 77, which ctest reports as skipped
 * (roster_test() in tests/CMakeLists.txt sets SKIP_RETURN_CODE 77), never as passed: what
 * did not run is not claimed. A failure anywhere makes the exit status 1. */
void test_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* test_fail runs registered cleanups and ends the test process with a failure. */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* test_on_fail registers a cleanup that runs if the test fails (at most 16). */
void test_on_fail(void (*fn)(void *), void *arg);
void test_on_fail_remove(void *arg);
/* test_now_ms returns a monotonic time in milliseconds. */
uint64_t test_now_ms(void);

#define T(fn) {#fn, fn}
#define TEST_MAIN(...)                                                        \
    int main(int argc, char **argv)                                           \
    {                                                                         \
        static const struct test_case cases_[] = {__VA_ARGS__};              \
        return test_run(cases_, sizeof cases_ / sizeof cases_[0], argc, argv); \
    }

#define ASSERT(c)                                                     \
    do {                                                              \
        if (!(c))                                                     \
            test_fail(__FILE__, __LINE__, "assertion failed: %s", #c); \
    } while (0)

#define ASSERT_EQ(a, b)                                                                    \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ != b_)                                                                      \
            test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);       \
    } while (0)

#define ASSERT_NE(a, b)                                                                    \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ == b_)                                                                      \
            test_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, a_);              \
    } while (0)

#define ASSERT_U64_EQ(a, b)                                                                \
    do {                                                                                   \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
        if (a_ != b_)                                                                      \
            test_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, a_, \
                      b_);                                                                 \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                \
    do {                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                   \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,            \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                             \
    } while (0)

#define ASSERT_MEM_EQ(p, n, q, m)                                                          \
    do {                                                                                   \
        size_t n_ = (size_t)(n), m_ = (size_t)(m);                                         \
        if (n_ != m_ || (n_ && memcmp((p), (q), n_) != 0))                                 \
            test_fail(__FILE__, __LINE__, "bytes %s (%zu) != %s (%zu)", #p, n_, #q, m_);   \
    } while (0)

#endif
