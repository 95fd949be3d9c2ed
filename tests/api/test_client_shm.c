/* test_client_shm.c: libroster's reads from the node's shared-memory region (docs/SHM.md)
 * against a real rosterd: the region is mapped by default and off with the option, the
 * environment variable or rosterd --no-shm; it answers without the node (a stopped node
 * still answers); its answers equal the socket's (lookup, members of 1,000, count,
 * is-member, local members); a client's own writes (blocking and pipelined) are visible to
 * its next read; a killed client's names are gone from the region as soon as from the
 * node; and two reader threads hammering lookups while a writer registers and unregisters
 * the same names never see a torn entry, or an entry older than an acknowledged change
 * (one through roster_lookup, one through roster_lookup_into, each on its own CPU), nor,
 * listing a group with roster_members_into while the writer joins and leaves it, a member
 * list that contradicts an acknowledged join or leave. The
 * allocation-free calls (roster_lookup_into, roster_members_into) answer as roster_lookup
 * and roster_members do, from the region and from the socket, cut to the caller's room. The
 * region's fd, as a client receives it, cannot be written in any way. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

/* min_ops: the writes a hammer makes at least. Under valgrind (ROSTER_TEST_WRAPPER) the
 * threads take turns on one CPU and the spinning readers slow each write a hundredfold:
 * fewer writes keep the run within its alarm, still racing the readers. */
static uint64_t min_ops(void) { return getenv("ROSTER_TEST_WRAPPER") ? 200 : 2000; }

static roster_client *connect_shm(const struct test_node *n, int no_shm)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    o.no_shm = no_shm;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    if (r)
        test_fail(__FILE__, __LINE__, "connect: %s", roster_strerror(r));
    return c;
}

static void test_on_and_off(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = connect_shm(&n, 0), *b = connect_shm(&n, 1);
    ASSERT_EQ(roster_uses_shm(a), 1);
    ASSERT_EQ(roster_uses_shm(b), 0);
    setenv("ROSTER_NO_SHM", "1", 1);
    roster_client *c = connect_shm(&n, 0);
    ASSERT_EQ(roster_uses_shm(c), 0);
    unsetenv("ROSTER_NO_SHM");
    roster_close(a);
    roster_close(b);
    roster_close(c);
    test_node_stop_ok(&n);

    /* the region's size is checked before the node starts */
    const char *bad[] = {ROSTERD_PATH, "--shm-bytes", "4096", NULL};
    char out[4096];
    ASSERT_EQ(test_run_cmd(bad, out, sizeof out), 2);
    const char *huge[] = {ROSTERD_PATH, "--shm-bytes", "4294967295", NULL};
    ASSERT_EQ(test_run_cmd(huge, out, sizeof out), 2);

    const char *args[] = {"--no-shm", NULL};
    test_node_start(&n, args);
    a = connect_shm(&n, 0);
    ASSERT_EQ(roster_uses_shm(a), 0);
    ASSERT_EQ(roster_register(a, NULL, "x", 1, roster_self(a), "m", 1, NULL, 5000), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(a, NULL, "x", 1, &e, 5000), 0);
    roster_entry_free(&e);
    roster_close(a);
    test_node_stop_ok(&n);
}

/* With the node stopped, a region read still answers; a socket read times out. A client
 * maps the region on its first read of a scope known to be eventual: a first read of
 * another scope (here "nosuch") goes to the node. */
static void test_no_node_involved(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = connect_shm(&n, 0), *s = connect_shm(&n, 1);
    ASSERT_EQ(roster_register(a, NULL, "svc", 3, roster_self(a), "v1", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "g", 1, roster_self(a), "mm", 2, 5000), 0);
    /* a client's first read of a scope asks the node (its answer says the scope is
     * eventual); from then on the region answers */
    roster_entry e;
    ASSERT_EQ(roster_lookup(a, NULL, "svc", 3, &e, 5000), 0);
    roster_entry_free(&e);
    kill(n.pid, SIGSTOP);
    ASSERT_EQ(roster_lookup(a, NULL, "svc", 3, &e, 100), 0);
    ASSERT(roster_pid_equal(e.pid, roster_self(a)));
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "v1", 2);
    ASSERT_STR_EQ(e.node, roster_node_name(a));
    ASSERT(e.token != 0);
    roster_entry_free(&e);
    ASSERT_EQ(roster_lookup(a, NULL, "nope", 4, &e, 100), ROSTER_ENOTFOUND);
    ASSERT_EQ(roster_is_member(a, NULL, "g", 1, roster_self(a), 100), 1);
    ASSERT_EQ(roster_is_member(a, NULL, "g", 1, roster_self(s), 100), 0);
    roster_counts cn;
    ASSERT_EQ(roster_count(a, NULL, NULL, &cn, 100), 0);
    ASSERT_U64_EQ(cn.names, 1);
    ASSERT_U64_EQ(cn.groups, 1);
    ASSERT_U64_EQ(cn.members, 1);
    /* not in the region: a strong or unknown scope, a node filter: the socket (stopped) */
    ASSERT_EQ(roster_lookup(a, "nosuch", "svc", 3, &e, 100), ROSTER_ETIMEDOUT);
    ASSERT_EQ(roster_count(a, NULL, "other", &cn, 100), ROSTER_ETIMEDOUT);
    ASSERT_EQ(roster_lookup(s, NULL, "svc", 3, &e, 100), ROSTER_ETIMEDOUT);
    kill(n.pid, SIGCONT);
    ASSERT_EQ(roster_lookup(a, "nosuch", "svc", 3, &e, 5000), ROSTER_ENOSCOPE);
    roster_close(a);
    roster_close(s);
    test_node_stop_ok(&n);
}

static void same_entries(const roster_entries *x, const roster_entries *y)
{
    ASSERT_EQ(x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        const roster_entry *a = &x->items[i], *b = &y->items[i];
        ASSERT(roster_pid_equal(a->pid, b->pid));
        ASSERT_MEM_EQ(a->name.data, a->name.len, b->name.data, b->name.len);
        ASSERT_MEM_EQ(a->meta.data, a->meta.len, b->meta.data, b->meta.len);
        ASSERT_STR_EQ(a->node, b->node);
    }
}

/* The region's answers are the socket's: members of 1,000 (sorted, metadata), count. */
static void test_same_answers(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *w = connect_shm(&n, 0), *r = connect_shm(&n, 0), *s = connect_shm(&n, 1);
    roster_pid pids[1000];
    for (int i = 0; i < 1000; i++) {
        ASSERT_EQ(roster_pid_new(w, &pids[i], 5000), 0);
        char meta[32];
        int ml = snprintf(meta, sizeof meta, "meta-%d", i * 7);
        ASSERT_EQ(roster_join_async(w, NULL, "big", 3, pids[i], meta, (size_t)(i % 3 ? ml : 0),
                                    NULL), 0);
        char name[32];
        int nl = snprintf(name, sizeof name, "name-%d", i);
        ASSERT_EQ(roster_register_async(w, NULL, name, (size_t)nl, pids[i], meta, (size_t)ml,
                                        NULL), 0);
    }
    ASSERT_EQ(roster_wait_all(w, 10000), 0);
    roster_entries a, b;
    ASSERT_EQ(roster_members(r, NULL, "big", 3, 0, &a, 5000), 0);
    ASSERT_EQ(roster_members(s, NULL, "big", 3, 0, &b, 5000), 0);
    ASSERT_EQ(a.n, 1000);
    same_entries(&a, &b);
    roster_entries_free(&a);
    roster_entries_free(&b);
    ASSERT_EQ(roster_members(r, NULL, "big", 3, 1, &a, 5000), 0);
    ASSERT_EQ(roster_members(s, NULL, "big", 3, 1, &b, 5000), 0);
    same_entries(&a, &b);
    roster_entries_free(&a);
    roster_entries_free(&b);
    ASSERT_EQ(roster_members(r, NULL, "none", 4, 0, &a, 5000), 0);
    ASSERT(a.n == 0 && a.items == NULL);
    for (int i = 0; i < 1000; i += 37) {
        char name[32];
        int nl = snprintf(name, sizeof name, "name-%d", i);
        roster_entry x, y;
        ASSERT_EQ(roster_lookup(r, NULL, name, (size_t)nl, &x, 5000), 0);
        ASSERT_EQ(roster_lookup(s, NULL, name, (size_t)nl, &y, 5000), 0);
        ASSERT(roster_pid_equal(x.pid, y.pid));
        ASSERT_MEM_EQ(x.meta.data, x.meta.len, y.meta.data, y.meta.len);
        ASSERT_STR_EQ(x.node, y.node);
        ASSERT_U64_EQ(x.token, y.token);
        roster_entry_free(&x);
        roster_entry_free(&y);
    }
    roster_counts ca, cb;
    ASSERT_EQ(roster_count(r, NULL, NULL, &ca, 5000), 0);
    ASSERT_EQ(roster_count(s, NULL, NULL, &cb, 5000), 0);
    ASSERT_U64_EQ(ca.names, 1000);
    ASSERT_U64_EQ(ca.names, cb.names);
    ASSERT_U64_EQ(ca.groups, cb.groups);
    ASSERT_U64_EQ(ca.members, cb.members);
    roster_close(w);
    roster_close(r);
    roster_close(s);
    test_node_stop_ok(&n);
}

/* A client's own writes are visible to its next read, blocking or pipelined. */
static void test_own_writes(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = connect_shm(&n, 0);
    roster_pid me = roster_self(a);
    roster_entry e;
    for (int i = 0; i < 2000; i++) {
        char name[32];
        int nl = snprintf(name, sizeof name, "own-%d", i);
        ASSERT_EQ(roster_register(a, NULL, name, (size_t)nl, me, name, (size_t)nl, NULL, 5000), 0);
        ASSERT_EQ(roster_lookup(a, NULL, name, (size_t)nl, &e, 5000), 0);
        ASSERT_MEM_EQ(e.meta.data, e.meta.len, name, (size_t)nl);
        roster_entry_free(&e);
        ASSERT_EQ(roster_unregister(a, NULL, name, (size_t)nl, 5000), 0);
        ASSERT_EQ(roster_lookup(a, NULL, name, (size_t)nl, &e, 5000), ROSTER_ENOTFOUND);
        ASSERT_EQ(roster_join(a, NULL, name, (size_t)nl, me, NULL, 0, 5000), 0);
        ASSERT_EQ(roster_is_member(a, NULL, name, (size_t)nl, me, 5000), 1);
        ASSERT_EQ(roster_leave(a, NULL, name, (size_t)nl, me, 5000), 0);
        ASSERT_EQ(roster_is_member(a, NULL, name, (size_t)nl, me, 5000), 0);
    }
    /* pipelined: not yet answered, the read goes to the socket behind the write */
    ASSERT_EQ(roster_register_async(a, NULL, "p", 1, me, "pm", 2, NULL), 0);
    ASSERT_EQ(roster_lookup(a, NULL, "p", 1, &e, 5000), 0);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "pm", 2);
    roster_entry_free(&e);
    roster_close(a);
    test_node_stop_ok(&n);
}

/* A killed client's names leave the region with the node's tables, in the same step. */
static void test_dead_client(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *r = connect_shm(&n, 0), *s = connect_shm(&n, 1);
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        roster_client *c = connect_shm(&n, 0);
        for (int i = 0; i < 5000; i++) {
            char name[32];
            int nl = snprintf(name, sizeof name, "dead-%d", i);
            roster_register_async(c, NULL, name, (size_t)nl, roster_self(c), "", 0, NULL);
            roster_join_async(c, NULL, "dg", 2, roster_self(c), NULL, 0, NULL);
        }
        if (roster_wait_all(c, 10000) != 0)
            _exit(1);
        (void)!write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    char x;
    ASSERT_EQ(read(ready[0], &x, 1), 1);
    roster_entry e;
    ASSERT_EQ(roster_lookup(r, NULL, "dead-4999", 9, &e, 5000), 0);
    roster_entry_free(&e);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* poll the node over the socket until it shows them gone: then the region must too */
    uint64_t deadline = test_now_ms() + 10000;
    roster_counts cn;
    for (;;) {
        ASSERT_EQ(roster_count(s, NULL, NULL, &cn, 5000), 0);
        if (cn.names == 0)
            break;
        ASSERT(test_now_ms() < deadline);
    }
    ASSERT_EQ(roster_count(r, NULL, NULL, &cn, 5000), 0);
    ASSERT_U64_EQ(cn.names, 0);
    ASSERT_U64_EQ(cn.members, 0);
    for (int i = 0; i < 5000; i += 7) {
        char name[32];
        int nl = snprintf(name, sizeof name, "dead-%d", i);
        ASSERT_EQ(roster_lookup(r, NULL, name, (size_t)nl, &e, 5000), ROSTER_ENOTFOUND);
    }
    roster_entries l;
    ASSERT_EQ(roster_members(r, NULL, "dg", 2, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 0);
    roster_close(r);
    roster_close(s);
    test_node_stop_ok(&n);
}

/* roster_lookup_into and roster_members_into: the same answers as the allocating calls,
 * from the region (r) and over the socket (s), with the metadata and the pid list cut to
 * the caller's room; from the region even with the node stopped. */
static void test_into(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *w = connect_shm(&n, 0), *r = connect_shm(&n, 0), *s = connect_shm(&n, 1);
    roster_pid pids[300];
    for (int i = 0; i < 300; i++) {
        ASSERT_EQ(roster_pid_new(w, &pids[i], 5000), 0);
        ASSERT_EQ(roster_join_async(w, NULL, "gi", 2, pids[i], "x", 1, NULL), 0);
        char name[32], meta[64];
        int nl = snprintf(name, sizeof name, "in-%d", i);
        int ml = snprintf(meta, sizeof meta, "metadata-of-%d", i);
        ASSERT_EQ(roster_register_async(w, NULL, name, (size_t)nl, pids[i], meta,
                                        (size_t)(i % 5 ? ml : 0), NULL), 0);
    }
    ASSERT_EQ(roster_wait_all(w, 10000), 0);
    /* a first (socket) read of the scope tells r it is eventual; then the region answers */
    roster_entry e;
    ASSERT_EQ(roster_lookup(r, NULL, "in-1", 4, &e, 5000), 0);
    roster_entry_free(&e);
    roster_client *both[2] = {r, s};
    for (int k = 0; k < 2; k++) {
        roster_client *c = both[k];
        for (int i = 0; i < 300; i += 7) {
            char name[32], meta[64];
            int nl = snprintf(name, sizeof name, "in-%d", i);
            roster_found f;
            memset(meta, '#', sizeof meta);
            ASSERT_EQ(roster_lookup_into(c, NULL, name, (size_t)nl, &f, meta, sizeof meta, 5000),
                      0);
            ASSERT_EQ(roster_lookup(s, NULL, name, (size_t)nl, &e, 5000), 0);
            ASSERT(roster_pid_equal(f.pid, e.pid));
            ASSERT(roster_pid_equal(f.pid, pids[i]));
            ASSERT_U64_EQ(f.token, e.token);
            ASSERT_U64_EQ(f.revision, 0);
            ASSERT_MEM_EQ(meta, f.meta_len, e.meta.data, e.meta.len);
            /* cut to 3 bytes: the full length is still reported, nothing past 3 written */
            char small[4] = {'#', '#', '#', '#'};
            ASSERT_EQ(roster_lookup_into(c, NULL, name, (size_t)nl, &f, small, 3, 5000), 0);
            ASSERT_U64_EQ(f.meta_len, e.meta.len);
            ASSERT(small[3] == '#');
            if (e.meta.len >= 3)
                ASSERT(memcmp(small, e.meta.data, 3) == 0);
            ASSERT_EQ(roster_lookup_into(c, NULL, name, (size_t)nl, &f, NULL, 0, 5000), 0);
            ASSERT_U64_EQ(f.meta_len, e.meta.len);
            roster_entry_free(&e);
        }
        roster_found f;
        ASSERT_EQ(roster_lookup_into(c, NULL, "in-none", 7, &f, NULL, 0, 5000), ROSTER_ENOTFOUND);
        ASSERT_EQ(roster_lookup_into(c, NULL, "in-1", 4, NULL, NULL, 0, 5000), ROSTER_EINVAL);
        ASSERT_EQ(roster_lookup_into(c, NULL, "in-1", 4, &f, NULL, 4, 5000), ROSTER_EINVAL);

        roster_pid got[300];
        size_t gn = 0;
        roster_entries l;
        ASSERT_EQ(roster_members(s, NULL, "gi", 2, 0, &l, 5000), 0);
        ASSERT_EQ(roster_members_into(c, NULL, "gi", 2, 0, got, 300, &gn, 5000), 0);
        ASSERT_EQ(gn, 300);
        ASSERT_EQ(l.n, 300);
        for (size_t i = 0; i < gn; i++)
            ASSERT(roster_pid_equal(got[i], l.items[i].pid));
        /* cut: the count says how many there are; the first 10 are the first 10 */
        roster_pid few[11];
        memset(few, 0xab, sizeof few);
        ASSERT_EQ(roster_members_into(c, NULL, "gi", 2, 0, few, 10, &gn, 5000), 0);
        ASSERT_EQ(gn, 300);
        for (size_t i = 0; i < 10; i++)
            ASSERT(roster_pid_equal(few[i], l.items[i].pid));
        ASSERT_U64_EQ(few[10].serial, 0xababababababababull);
        ASSERT_EQ(roster_members_into(c, NULL, "gi", 2, 0, NULL, 0, &gn, 5000), 0);
        ASSERT_EQ(gn, 300);
        roster_entries_free(&l);
        ASSERT_EQ(roster_members(s, NULL, "gi", 2, 1, &l, 5000), 0);
        ASSERT_EQ(roster_members_into(c, NULL, "gi", 2, 1, got, 300, &gn, 5000), 0);
        ASSERT_EQ(gn, l.n);
        for (size_t i = 0; i < gn; i++)
            ASSERT(roster_pid_equal(got[i], l.items[i].pid));
        roster_entries_free(&l);
        ASSERT_EQ(roster_members_into(c, NULL, "nogroup", 7, 0, got, 300, &gn, 5000), 0);
        ASSERT_EQ(gn, 0);
        ASSERT_EQ(roster_members_into(c, NULL, "gi", 2, 0, NULL, 5, &gn, 5000), ROSTER_EINVAL);
        ASSERT_EQ(roster_members_into(c, NULL, "gi", 2, 0, got, 5, NULL, 5000), ROSTER_EINVAL);
    }
    /* with the node stopped the region still answers both (the socket client times out) */
    kill(n.pid, SIGSTOP);
    roster_found f;
    char meta[64];
    ASSERT_EQ(roster_lookup_into(r, NULL, "in-1", 4, &f, meta, sizeof meta, 100), 0);
    ASSERT(roster_pid_equal(f.pid, pids[1]));
    ASSERT_MEM_EQ(meta, f.meta_len, "metadata-of-1", 13);
    roster_pid got[300];
    size_t gn = 0;
    ASSERT_EQ(roster_members_into(r, NULL, "gi", 2, 0, got, 300, &gn, 100), 0);
    ASSERT_EQ(gn, 300);
    ASSERT_EQ(roster_lookup_into(s, NULL, "in-1", 4, &f, meta, sizeof meta, 100),
              ROSTER_ETIMEDOUT);
    kill(n.pid, SIGCONT);
    /* an acknowledged leave is seen by the next region read */
    ASSERT_EQ(roster_leave(w, NULL, "gi", 2, pids[0], 5000), 0);
    ASSERT_EQ(roster_members_into(r, NULL, "gi", 2, 0, got, 300, &gn, 5000), 0);
    ASSERT_EQ(gn, 299);
    ASSERT(roster_pid_equal(got[0], pids[1]));
    /* another scope, left and joined again: the region answers as the node does (a left
     * scope keeps its record, emptied: reads of a scope that exists answer ENOTFOUND) */
    ASSERT_EQ(roster_scope_join(w, "sx", 5000), 0);
    ASSERT_EQ(roster_register(w, "sx", "n", 1, roster_self(w), "v1", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_lookup(r, "sx", "n", 1, &e, 5000), 0); /* r learns sx is eventual */
    roster_entry_free(&e);
    ASSERT_EQ(roster_lookup_into(r, "sx", "n", 1, &f, meta, sizeof meta, 5000), 0);
    ASSERT_MEM_EQ(meta, f.meta_len, "v1", 2);
    ASSERT_EQ(roster_unregister(w, "sx", "n", 1, 5000), 0);
    ASSERT_EQ(roster_scope_leave(w, "sx", 5000), 0);
    ASSERT_EQ(roster_lookup_into(r, "sx", "n", 1, &f, meta, sizeof meta, 5000), ROSTER_ENOTFOUND);
    ASSERT_EQ(roster_lookup_into(s, "sx", "n", 1, &f, meta, sizeof meta, 5000), ROSTER_ENOTFOUND);
    ASSERT_EQ(roster_scope_join(w, "sx", 5000), 0);
    ASSERT_EQ(roster_register(w, "sx", "n", 1, roster_self(w), "v2", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_lookup_into(r, "sx", "n", 1, &f, meta, sizeof meta, 5000), 0);
    ASSERT_MEM_EQ(meta, f.meta_len, "v2", 2);
    kill(n.pid, SIGSTOP); /* and that answer came from the region */
    ASSERT_EQ(roster_lookup_into(r, "sx", "n", 1, &f, meta, sizeof meta, 100), 0);
    kill(n.pid, SIGCONT);
    roster_close(w);
    roster_close(r);
    roster_close(s);
    test_node_stop_ok(&n);
}

/* ---- the hammer: readers against acknowledged writes ---- */

#define KEYS 16

struct hammer {
    const struct test_node *node;
    /* per key: version of the last op issued (before it is sent) and of the last op
     * acknowledged, and whether that acknowledged op was a register */
    uint64_t issued[KEYS], acked[KEYS];
    int acked_reg[KEYS];
    volatile int stop;
    uint64_t reads[2], founds[2], errors[2];
    char why[2][200];
};

static uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

/* Metadata of version v of key k: "k:v|k:v", both halves equal (a torn copy mixes two). */
static int meta_of(char *buf, size_t cap, int k, uint64_t v)
{
    return snprintf(buf, cap, "%d:%llu|%d:%llu", k, (unsigned long long)v, k,
                    (unsigned long long)v);
}

struct reader_arg {
    struct hammer *h;
    int idx;
};

static void *hammer_reader(void *arg)
{
    struct reader_arg *ra = arg;
    struct hammer *h = ra->h;
    int me = ra->idx;
    /* each reader on its own CPU (where there are two), beside the node and the writer */
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(me % 2, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    roster_client *c = connect_shm(h->node, 0);
    if (!roster_uses_shm(c)) {
        snprintf(h->why[me], sizeof h->why[me], "no region");
        h->errors[me]++;
    }
    unsigned i = (unsigned)me * 7;
    while (!h->stop) {
        int k = (int)(i++ % KEYS);
        char name[16];
        int nl = snprintf(name, sizeof name, "hk%d", k);
        /* state acknowledged before the read began, issued after it ended */
        uint64_t acked = ld(&h->acked[k]);
        int acked_reg = __atomic_load_n(&h->acked_reg[k], __ATOMIC_ACQUIRE);
        if (ld(&h->acked[k]) != acked)
            continue; /* moved under us: take a stable pair */
        roster_entry e;
        roster_found f;
        char s[64];
        int r;
        if (me == 1) { /* the allocation-free lookup, into this stack buffer */
            r = roster_lookup_into(c, NULL, name, (size_t)nl, &f, s, sizeof s - 1, 5000);
            memset(&e, 0, sizeof e);
            if (r == 0)
                s[f.meta_len < sizeof s - 1 ? f.meta_len : sizeof s - 1] = 0;
        } else {
            r = roster_lookup(c, NULL, name, (size_t)nl, &e, 5000);
            if (r == 0) {
                size_t ml = e.meta.len < sizeof s - 1 ? e.meta.len : sizeof s - 1;
                memcpy(s, e.meta.data, ml);
                s[ml] = 0;
            }
        }
        uint64_t issued = ld(&h->issued[k]);
        h->reads[me]++;
        if (r == 0) {
            h->founds[me]++;
            unsigned long long v1, v2;
            int k1, k2;
            char tail;
            if (sscanf(s, "%d:%llu|%d:%llu%c", &k1, &v1, &k2, &v2, &tail) != 4 || k1 != k ||
                k2 != k || v1 != v2) {
                snprintf(h->why[me], sizeof h->why[me], "torn metadata '%s' for %s", s, name);
                h->errors[me]++;
            } else if (v1 < acked || (v1 == acked && !acked_reg) || v1 > issued) {
                snprintf(h->why[me], sizeof h->why[me],
                         "%s: saw version %llu, acked %llu (reg %d) before, issued %llu after",
                         name, v1, (unsigned long long)acked, acked_reg,
                         (unsigned long long)issued);
                h->errors[me]++;
            }
            roster_entry_free(&e);
        } else if (r == ROSTER_ENOTFOUND) {
            /* gone: only if the last acknowledged op was an unregister, or a later one was
             * issued by the time the read ended */
            if (acked_reg && issued == acked) {
                snprintf(h->why[me], sizeof h->why[me],
                         "%s: not found, but version %llu was acked registered", name,
                         (unsigned long long)acked);
                h->errors[me]++;
            }
        } else {
            snprintf(h->why[me], sizeof h->why[me], "lookup: %s", roster_strerror(r));
            h->errors[me]++;
        }
    }
    roster_close(c);
    return NULL;
}

static void test_hammer(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    static struct hammer h;
    memset(&h, 0, sizeof h);
    h.node = &n;
    roster_client *w = connect_shm(&n, 0);
    pthread_t th[2];
    struct reader_arg ra[2] = {{&h, 0}, {&h, 1}};
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, hammer_reader, &ra[i]), 0);
    uint64_t rng = 12345, ops = 0;
    uint64_t end = test_now_ms() + 3000;
    while (test_now_ms() < end || ops < min_ops()) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int k = (int)(rng % KEYS);
        char name[16], meta[64];
        int nl = snprintf(name, sizeof name, "hk%d", k);
        uint64_t v = h.issued[k] + 1;
        __atomic_store_n(&h.issued[k], v, __ATOMIC_RELEASE);
        int reg = h.acked_reg[k] ? (int)(rng >> 33) % 4 != 0 : 1; /* re-register: new meta */
        int r;
        if (reg) {
            int ml = meta_of(meta, sizeof meta, k, v);
            r = roster_register(w, NULL, name, (size_t)nl, roster_self(w), meta, (size_t)ml,
                                NULL, 5000);
        } else {
            r = roster_unregister(w, NULL, name, (size_t)nl, 5000);
        }
        ASSERT_EQ(r, 0);
        /* acked_reg first, then acked: a reader reads acked, acked_reg, acked */
        __atomic_store_n(&h.acked[k], v - 1, __ATOMIC_RELEASE); /* not a stable pair now */
        __atomic_store_n(&h.acked_reg[k], reg, __ATOMIC_RELEASE);
        __atomic_store_n(&h.acked[k], v, __ATOMIC_RELEASE);
        ops++;
    }
    h.stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "  %llu writes; reads %llu + %llu (found %llu + %llu)\n",
            (unsigned long long)ops, (unsigned long long)h.reads[0],
            (unsigned long long)h.reads[1], (unsigned long long)h.founds[0],
            (unsigned long long)h.founds[1]);
    for (int i = 0; i < 2; i++) {
        if (h.errors[i])
            fprintf(stderr, "  reader %d: %llu errors, last: %s\n", i,
                    (unsigned long long)h.errors[i], h.why[i]);
        ASSERT_EQ(h.errors[i], 0);
        ASSERT(h.reads[i] > 1000);
        ASSERT(h.founds[i] > 0);
    }
    roster_close(w);
    test_node_stop_ok(&n);
}

/* ---- the group hammer: roster_members_into and roster_is_member against acknowledged
 * joins and leaves ---- */

#define GPIDS 24

struct ghammer {
    const struct test_node *node;
    roster_pid pids[GPIDS];
    uint64_t issued[GPIDS], acked[GPIDS];
    int acked_in[GPIDS];
    volatile int stop;
    uint64_t reads[2], errors[2];
    char why[2][200];
};

struct greader_arg {
    struct ghammer *h;
    int idx;
};

static void *ghammer_reader(void *arg)
{
    struct greader_arg *ra = arg;
    struct ghammer *h = ra->h;
    int me = ra->idx;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(me % 2, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    roster_client *c = connect_shm(h->node, 0);
    roster_pid got[GPIDS + 4];
    unsigned turn = 0;
    while (!h->stop) {
        uint64_t a[GPIDS];
        int in[GPIDS], stable[GPIDS];
        for (int k = 0; k < GPIDS; k++) {
            a[k] = ld(&h->acked[k]);
            in[k] = __atomic_load_n(&h->acked_in[k], __ATOMIC_ACQUIRE);
            stable[k] = ld(&h->acked[k]) == a[k];
        }
        size_t n = 0;
        int k1 = (int)(turn++ % GPIDS), yes = -1;
        int r = roster_members_into(c, NULL, "hg", 2, 0, got, GPIDS + 4, &n, 5000);
        if (r == 0)
            yes = roster_is_member(c, NULL, "hg", 2, h->pids[k1], 5000);
        h->reads[me]++;
        if (r != 0 || yes < 0) {
            snprintf(h->why[me], sizeof h->why[me], "read: %s",
                     roster_strerror(r ? r : yes));
            h->errors[me]++;
            continue;
        }
        if (n > GPIDS + 1) { /* the writer's own pid stays in the group */
            snprintf(h->why[me], sizeof h->why[me], "%zu members of %d pids", n, GPIDS + 1);
            h->errors[me]++;
            continue;
        }
        for (size_t i = 1; i < n; i++)
            if (got[i].node_inc < got[i - 1].node_inc ||
                (got[i].node_inc == got[i - 1].node_inc && got[i].serial <= got[i - 1].serial)) {
                snprintf(h->why[me], sizeof h->why[me], "members not sorted or repeated");
                h->errors[me]++;
            }
        for (int k = 0; k < GPIDS; k++) {
            /* only a pid whose last acknowledged op came before the read, and whose next op
             * was not issued before the read ended, has a known answer */
            if (!stable[k] || ld(&h->issued[k]) != a[k])
                continue;
            int present = 0;
            for (size_t i = 0; i < n && !present; i++)
                present = roster_pid_equal(got[i], h->pids[k]);
            if (present != in[k]) {
                snprintf(h->why[me], sizeof h->why[me],
                         "pid %d: %s in the list, acked %s at version %llu", k,
                         present ? "present" : "absent", in[k] ? "joined" : "left",
                         (unsigned long long)a[k]);
                h->errors[me]++;
            }
            if (k == k1 && yes != in[k]) {
                snprintf(h->why[me], sizeof h->why[me], "pid %d: is_member %d, acked %d", k,
                         yes, in[k]);
                h->errors[me]++;
            }
        }
    }
    roster_close(c);
    return NULL;
}

/* Two readers (one per CPU) list a group with roster_members_into while a writer joins and
 * leaves its pids: every pid whose last acknowledged op precedes the read (and whose next
 * op was not yet issued) is in the list exactly when that op was a join. */
static void test_hammer_groups(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    static struct ghammer h;
    memset(&h, 0, sizeof h);
    h.node = &n;
    roster_client *w = connect_shm(&n, 0);
    for (int k = 0; k < GPIDS; k++)
        ASSERT_EQ(roster_pid_new(w, &h.pids[k], 5000), 0);
    /* the group exists from the start (a pid that never leaves), so the first read of the
     * scope finds it eventual and the readers use the region from then on */
    ASSERT_EQ(roster_join(w, NULL, "hg", 2, roster_self(w), NULL, 0, 5000), 0);
    pthread_t th[2];
    struct greader_arg ra[2] = {{&h, 0}, {&h, 1}};
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, ghammer_reader, &ra[i]), 0);
    uint64_t rng = 777, ops = 0;
    uint64_t end = test_now_ms() + 3000;
    while (test_now_ms() < end || ops < min_ops()) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int k = (int)(rng % GPIDS);
        uint64_t v = h.issued[k] + 1;
        __atomic_store_n(&h.issued[k], v, __ATOMIC_RELEASE);
        int join = !h.acked_in[k];
        int r = join ? roster_join(w, NULL, "hg", 2, h.pids[k], "m", 1, 5000)
                     : roster_leave(w, NULL, "hg", 2, h.pids[k], 5000);
        ASSERT_EQ(r, 0);
        __atomic_store_n(&h.acked[k], v - 1, __ATOMIC_RELEASE);
        __atomic_store_n(&h.acked_in[k], join, __ATOMIC_RELEASE);
        __atomic_store_n(&h.acked[k], v, __ATOMIC_RELEASE);
        ops++;
    }
    h.stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "  %llu joins and leaves; reads %llu + %llu\n", (unsigned long long)ops,
            (unsigned long long)h.reads[0], (unsigned long long)h.reads[1]);
    for (int i = 0; i < 2; i++) {
        if (h.errors[i])
            fprintf(stderr, "  reader %d: %llu errors, last: %s\n", i,
                    (unsigned long long)h.errors[i], h.why[i]);
        ASSERT_EQ(h.errors[i], 0);
        ASSERT(h.reads[i] > 1000);
    }
    roster_close(w);
    test_node_stop_ok(&n);
}

/* region_fd returns the fd of the node's region that a client holds between its connect
 * and its first region read (found by its memfd name), or -1. */
static int region_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int fd = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], link[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = 0;
        if (strstr(link, "memfd:roster-shm"))
            fd = atoi(e->d_name);
    }
    closedir(d);
    return fd;
}

/* The node follows offsets it reads back from the region, so a client that could write it
 * could make the node write out of bounds: the fd a client receives refuses every way of
 * writing (the node seals it with F_SEAL_FUTURE_WRITE after mapping it), while the node
 * keeps publishing. */
static void test_region_read_only(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *c = connect_shm(&n, 0);
    ASSERT_EQ(roster_uses_shm(c), 1);
    int fd = region_fd();
    ASSERT(fd >= 0);
    size_t len = 65536;
    errno = 0;
    ASSERT(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
    ASSERT_EQ(errno, EPERM);
    void *ro = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    ASSERT(ro != MAP_FAILED);
    ASSERT(mprotect(ro, len, PROT_READ | PROT_WRITE) != 0);
    char b = 1;
    ASSERT(pwrite(fd, &b, 1, 4096) < 0);
    ASSERT(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 65536) != 0);
    ASSERT(ftruncate(fd, 4096) != 0);
    /* the header is still the node's: its magic, and a name published after all this */
    uint64_t magic;
    memcpy(&magic, ro, sizeof magic);
    ASSERT(magic == 0x314d4853534f5252ull);
    munmap(ro, len);
    ASSERT_EQ(roster_register(c, NULL, "sealed", 6, roster_self(c), "m", 1, NULL, 5000), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, NULL, "sealed", 6, &e, 5000), 0); /* the scope becomes known */
    roster_entry_free(&e);
    ASSERT_EQ(roster_lookup(c, NULL, "sealed", 6, &e, 5000), 0); /* from the region */
    ASSERT_EQ(roster_uses_shm(c), 1);
    roster_entry_free(&e);
    roster_close(c);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_on_and_off), T(test_no_node_involved), T(test_same_answers), T(test_own_writes),
          T(test_dead_client), T(test_into), T(test_hammer),
          T(test_hammer_groups), T(test_region_read_only))
