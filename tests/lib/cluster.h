/* cluster.h: helpers for multi-node tests of real rosterd processes on loopback.
 *
 * A test first calls cl_netns(): its process moves into a network namespace of its own
 * (unshare(CLONE_NEWNET), loopback up), so every test can use fixed 127.0.0.x addresses and
 * ports without meeting another test, and packet filters it installs (nftables) vanish with
 * it. Where namespaces are not allowed, the nodes run in the host namespace on ports drawn
 * from the test's pid, and cl_netns() returns 0 (tests that need to drop packets skip).
 * Node i listens on 127.0.0.i. Every wait polls with a deadline; nothing sleeps to sync. */
#ifndef ROSTER_TESTS_CLUSTER_H
#define ROSTER_TESTS_CLUSTER_H

#include <roster.h>
#include <stddef.h>

#include "node.h"

/* Heartbeat and failure-detection settings the cluster tests run with. */
#define CL_HEARTBEAT_MS "100"
#define CL_DOWN_AFTER_MS "600"
#define CL_DOWN_BOUND_MS 5000 /* generous bound for "declared down" under sanitizers */

struct cl_node {
    struct test_node t;
    char name[32];
    char addr[64]; /* "127.0.0.i:port" */
    int idx;
};

/* cl_netns enters a private network namespace; 1 if it did, 0 if namespaces are not
 * available here (why says why). */
int cl_netns(char *why, size_t cap);
/* cl_cookie writes a cookie file holding text (mode 0600) and returns its path (static
 * storage, one per slot 0..3). */
const char *cl_cookie(int slot, const char *text);
/* cl_addr formats node i's peer address. */
void cl_addr(int idx, char *out, size_t cap);
/* cl_start starts node idx (1..9) named name, joining join (NULL: none) with cookie, plus
 * extra flags (NULL-terminated, may be NULL). */
void cl_start(struct cl_node *n, int idx, const char *name, const char *join, const char *cookie,
              const char *const *extra);
/* cl_restart kills node n with sig (reaped) and starts it again, a new incarnation with the
 * same name, address and socket, joining join. */
void cl_restart(struct cl_node *n, int sig, const char *join, const char *cookie,
                const char *const *extra);
roster_client *cl_connect(const struct cl_node *n);
/* cl_count_up returns how many nodes c's node lists as up (itself included) in scope
 * (NULL: all), or -1 on error. inc_of, if not NULL, receives the incarnation of the node
 * named inc_name. */
int cl_count_up(roster_client *c, const char *scope, const char *inc_name, uint64_t *inc_of);
/* cl_wait_up waits until n's node lists want nodes up in scope (NULL: all). */
void cl_wait_up(const struct cl_node *n, const char *scope, int want, int timeout_ms);
/* cl_wait_lookup waits until looking name up on n gives status want (0 or ROSTER_E*) and,
 * for 0, the pid *pid if pid is not NULL. */
void cl_wait_lookup(const struct cl_node *n, const char *scope, const char *name, int want,
                    const roster_pid *pid, int timeout_ms);
/* cl_wait_members waits until group has want members on n. */
void cl_wait_members(const struct cl_node *n, const char *scope, const char *group, size_t want,
                     int timeout_ms);
/* cl_log_has says whether n's log holds text; cl_wait_log waits for it. */
int cl_log_has(const struct cl_node *n, const char *text);
void cl_wait_log(const struct cl_node *n, const char *text, int timeout_ms);
/* Partitions with nftables, in the test's private namespace: table is an inet table of the
 * test's own, whose output chain drops what each line of rules matches (for example
 * "ip saddr 127.0.0.1 ip daddr 127.0.0.2 drop"). cl_nft_drop installs it (0 or the failure
 * status), cl_nft_heal removes it. cl_nft_ready enters the private namespace, checks that
 * nft exists and that these rules can be installed here (installs and removes them once),
 * and registers their removal as a failure cleanup; where any of it cannot be done it skips
 * the test, saying why. */
int cl_nft_drop(const char *table, const char *rules);
void cl_nft_heal(const char *table);
void cl_nft_ready(const char *table, const char *rules);
/* cl_sh runs a shell command, returns its exit status (-1 if it could not run). */
int cl_sh(const char *cmd);
void cl_sleep_ms(int ms);

#endif
