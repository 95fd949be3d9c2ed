/* node.h: start and stop a real rosterd for integration tests, on a private socket in a
 * fresh temporary directory. Every node started is stopped by its pid (test_node_stop), and
 * if the test fails first, by the failure cleanup. */
#ifndef ROSTER_TESTS_NODE_H
#define ROSTER_TESTS_NODE_H

#include <sys/types.h>

struct test_node {
    pid_t pid;
    char dir[256];
    char sock[300];
    char log[300];
};

/* test_node_start starts ROSTERD_PATH with --socket, --log-level info, --config /dev/null
 * and the extra arguments (NULL-terminated list, may be empty), and waits (deadline 20 s) until its socket accepts connections.
 * Aborts the test on failure. $ROSTER_TEST_WRAPPER, if set, prefixes the command (valgrind). */
void test_node_start(struct test_node *n, const char *const *extra_args);
/* test_node_stop sends SIGTERM, waits (deadline 10 s, then SIGKILL) and removes the
 * directory. Returns the exit status (as from waitpid). */
int test_node_stop(struct test_node *n);
/* test_node_stop_ok stops the node and fails the test unless it exited with status 0 (under
 * the sanitizers that also means: no leak, no error). */
void test_node_stop_ok(struct test_node *n);
/* test_node_restart sends sig to the daemon, reaps it and starts a new one (a new
 * incarnation) on the same socket and directory (its log starts again). */
void test_node_restart(struct test_node *n, int sig, const char *const *extra_args);
/* test_node_kill sends sig to the daemon and reaps it. */
void test_node_kill(struct test_node *n, int sig);

/* test_run_cmd runs argv (NULL-terminated), captures stdout into out (cap bytes,
 * NUL-terminated) and returns the exit status (or -1). Deadline 20 s. */
int test_run_cmd(const char *const *argv, char *out, size_t cap);

#endif
