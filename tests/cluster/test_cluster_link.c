/* test_cluster_link.c: the sealed peer link seen from the path between two real nodes. A
 * relay (a thread of this test) sits between node a, which joins through it, and node b,
 * forwards every byte and records them: names and metadata registered on either node never
 * appear in the bytes while both nodes see them; then the relay tampers with one sealed
 * record from a to b at a time (a flipped bit, a replay, a swap of two records, a dropped
 * record, an injected forgery, a truncated record): each time b closes the link with the
 * logged reason of that attack, and the nodes reconnect (through the relay again) and carry
 * on replicating. nftables rules (in the test's private network namespace) drop every
 * direct connection between the two nodes, so that each reconnection goes through the relay:
 * skipped where namespaces or nftables are not available. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "cluster.h"
#include "node/seal.h"
#include "rclient.h"
#include "test.h"

enum tamper { T_NONE, T_FLIP, T_REPLAY, T_SWAP, T_DROP, T_INJECT, T_TRUNC };

struct dir {
    uint8_t buf[1 << 18]; /* bytes received, not yet a whole frame */
    size_t len;
};

struct relay {
    int lfd, wake[2];
    struct sockaddr_in target;
    pthread_t th;
    pthread_mutex_t mu;
    /* under mu */
    struct rs_buf rec;     /* every byte forwarded, both ways */
    enum tamper pending;   /* applied to the next sealed record from a to b */
    int applied;           /* tampers applied so far */
    int conns;             /* connections accepted so far */
    int open;              /* a pair is being relayed */
    long sealed_ab;        /* sealed records forwarded from a to b on the current pair */
    int stop;
};

static void relay_record(struct relay *r, const uint8_t *p, size_t n)
{
    pthread_mutex_lock(&r->mu);
    if (rs_buf_append(&r->rec, p, n) != 0)
        abort();
    pthread_mutex_unlock(&r->mu);
}

static int send_all_fd(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* forward sends one whole frame f to fd (and records it). */
static int forward(struct relay *r, int fd, const uint8_t *f, size_t n)
{
    relay_record(r, f, n);
    return send_all_fd(fd, f, n);
}

/* a_to_b handles one whole frame from a: tampers with a sealed record if asked. held keeps
 * a record back for T_SWAP. */
static int a_to_b(struct relay *r, int fd, uint8_t *f, size_t n, struct rs_buf *held)
{
    int sealed = n >= RS_SEAL_OVERHEAD && f[4] == RS_SEAL_TYPE;
    pthread_mutex_lock(&r->mu);
    enum tamper t = sealed ? r->pending : T_NONE;
    if (sealed)
        r->sealed_ab++;
    if (t != T_NONE) {
        r->pending = T_NONE;
        r->applied++;
    }
    pthread_mutex_unlock(&r->mu);
    if (held->len && sealed) { /* the swap: this record first, then the one held back */
        int rc = forward(r, fd, f, n);
        if (rc == 0)
            rc = forward(r, fd, held->data, held->len);
        held->len = 0;
        return rc;
    }
    switch (t) {
    case T_NONE:
        return forward(r, fd, f, n);
    case T_FLIP:
        f[RS_SEAL_HEADER + (n - RS_SEAL_OVERHEAD) / 2] ^= 0x10;
        return forward(r, fd, f, n);
    case T_REPLAY:
        return forward(r, fd, f, n) == 0 ? forward(r, fd, f, n) : -1;
    case T_SWAP:
        return rs_buf_append(held, f, n) == 0 ? 0 : -1;
    case T_DROP:
        return 0;
    case T_INJECT: {
        uint8_t forged[256];
        size_t fl = n < sizeof forged ? n : sizeof forged;
        memcpy(forged, f, RS_SEAL_HEADER); /* the counter b expects next */
        rs_put_u32(forged, (uint32_t)(fl - 4));
        randombytes_buf(forged + RS_SEAL_HEADER, fl - RS_SEAL_HEADER);
        return forward(r, fd, forged, fl);
    }
    case T_TRUNC:
        rs_put_u32(f, (uint32_t)(n - 4 - 5));
        return forward(r, fd, f, n - 5);
    }
    return -1;
}

/* pump reads from one side and forwards its whole frames; -1 when that side closed. */
static int pump(struct relay *r, int from, int to, struct dir *d, int ab, struct rs_buf *held)
{
    ssize_t got = read(from, d->buf + d->len, sizeof d->buf - d->len);
    if (got <= 0)
        return -1;
    d->len += (size_t)got;
    size_t off = 0;
    while (d->len - off >= 4) {
        size_t n = 4u + rs_get_u32(d->buf + off);
        if (n > sizeof d->buf)
            return -1; /* not a roster stream: the test fails by timeout */
        if (n > d->len - off)
            break;
        int rc = ab ? a_to_b(r, to, d->buf + off, n, held) : forward(r, to, d->buf + off, n);
        if (rc != 0)
            return -1;
        off += n;
    }
    memmove(d->buf, d->buf + off, d->len - off);
    d->len -= off;
    return 0;
}

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    static struct dir dab, dba;
    struct rs_buf held;
    rs_buf_init(&held);
    int fa = -1, fb = -1;
    for (;;) {
        struct pollfd p[4] = {{r->wake[0], POLLIN, 0}, {r->lfd, POLLIN, 0}, {fa, POLLIN, 0},
                              {fb, POLLIN, 0}};
        if (poll(p, 4, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        if (p[1].revents & POLLIN) {
            int c = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) { /* a new pair replaces the old one */
                if (fa >= 0)
                    close(fa);
                if (fb >= 0)
                    close(fb);
                fa = c;
                fb = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in src = r->target; /* from 127.0.0.9: let through */
                src.sin_port = 0;
                inet_pton(AF_INET, "127.0.0.9", &src.sin_addr);
                if (bind(fb, (struct sockaddr *)&src, sizeof src) != 0 ||
                    connect(fb, (struct sockaddr *)&r->target, sizeof r->target) != 0) {
                    close(fa);
                    close(fb);
                    fa = fb = -1;
                }
                dab.len = dba.len = 0;
                held.len = 0;
                pthread_mutex_lock(&r->mu);
                r->conns++;
                r->open = fa >= 0;
                r->sealed_ab = 0;
                pthread_mutex_unlock(&r->mu);
                continue;
            }
        }
        int down = 0;
        if (fa >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
            down = pump(r, fa, fb, &dab, 1, &held) != 0;
        if (!down && fb >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR)))
            down = pump(r, fb, fa, &dba, 0, &held) != 0;
        if (down) {
            close(fa);
            close(fb);
            fa = fb = -1;
            pthread_mutex_lock(&r->mu);
            r->open = 0;
            pthread_mutex_unlock(&r->mu);
        }
    }
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    rs_buf_fini(&held);
    return NULL;
}

static void sockaddr_of(const char *addr, struct sockaddr_in *sa)
{
    char host[64];
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    ASSERT(colon);
    *colon = 0;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(colon + 1));
    ASSERT_EQ(inet_pton(AF_INET, host, &sa->sin_addr), 1);
}

static void relay_start(struct relay *r, const char *listen_addr, const char *target)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    rs_buf_init(&r->rec);
    sockaddr_of(target, &r->target);
    struct sockaddr_in la;
    sockaddr_of(listen_addr, &la);
    r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ASSERT_EQ(bind(r->lfd, (struct sockaddr *)&la, sizeof la), 0);
    ASSERT_EQ(listen(r->lfd, 16), 0);
    ASSERT_EQ(pipe(r->wake), 0);
    ASSERT_EQ(pthread_create(&r->th, NULL, relay_main, r), 0);
}

static void relay_stop(struct relay *r)
{
    ASSERT_EQ(write(r->wake[1], "x", 1), 1);
    pthread_join(r->th, NULL);
    close(r->lfd);
    close(r->wake[0]);
    close(r->wake[1]);
    rs_buf_fini(&r->rec);
    pthread_mutex_destroy(&r->mu);
}

static int recorded_has(struct relay *r, const char *s)
{
    size_t k = strlen(s);
    int found = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; !found && i + k <= r->rec.len; i++)
        found = memcmp(r->rec.data + i, s, k) == 0;
    pthread_mutex_unlock(&r->mu);
    return found;
}

/* log_count counts the lines of n's log holding text. */
static int log_count(const struct cl_node *n, const char *text)
{
    FILE *f = fopen(n->t.log, "r");
    if (!f)
        return 0;
    char line[1024];
    int k = 0;
    while (fgets(line, sizeof line, f))
        k += strstr(line, text) != NULL;
    fclose(f);
    return k;
}

/* wait_relayed waits until a pair is open through the relay and at least 3 sealed records
 * (heartbeats at least) went from a to b on it, with both nodes up. */
static void wait_relayed(struct relay *r, const struct cl_node *a, const struct cl_node *b)
{
    uint64_t deadline = test_now_ms() + 20000;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int ok = r->open && r->sealed_ab >= 3;
        pthread_mutex_unlock(&r->mu);
        if (ok)
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "no sealed traffic through the relay (logs %s %s)",
                      a->t.log, b->t.log);
        cl_sleep_ms(10);
    }
    cl_wait_up(a, NULL, 2, 20000);
    cl_wait_up(b, NULL, 2, 20000);
}

#define TABLE "roster_link_test"

static void nft_drop(void) { cl_nft_heal(TABLE); }

static void nft_drop_cb(void *arg)
{
    (void)arg;
    nft_drop();
}

/* only_through_relay drops every connection to a's port, and to b's from anywhere but the
 * relay's 127.0.0.9. */
static int only_through_relay(const char *a_addr, const char *b_addr)
{
    char rules[256];
    snprintf(rules, sizeof rules,
             "    ip daddr 127.0.0.1 tcp dport %s drop\n"
             "    ip saddr != 127.0.0.9 ip daddr 127.0.0.2 tcp dport %s drop",
             strrchr(a_addr, ':') + 1, strrchr(b_addr, ':') + 1);
    return cl_nft_drop(TABLE, rules);
}

static void test_sealed_link_on_the_wire(void)
{
    char why[160];
    if (!cl_netns(why, sizeof why))
        test_skip("no private network namespace (%s): the direct paths between the nodes "
                  "cannot be cut without touching the host's network", why);
    if (cl_sh("nft --version >/dev/null 2>&1") != 0)
        test_skip("nft (nftables) is not installed: run scripts/deps.sh");
    ASSERT(sodium_init() >= 0);
    const char *cookie = cl_cookie(0, "link-test-cookie-8c1f0e7d6b5a4932\n");
    struct cl_node a, b;
    char raddr[64];
    cl_addr(9, raddr, sizeof raddr);
    cl_addr(1, a.addr, sizeof a.addr);
    cl_addr(2, b.addr, sizeof b.addr);
    if (only_through_relay(a.addr, b.addr) != 0)
        test_skip("nftables rules cannot be installed in this namespace");
    test_on_fail(nft_drop_cb, NULL);
    struct relay r;
    relay_start(&r, raddr, b.addr);
    cl_start(&b, 2, "b", NULL, cookie, NULL);
    cl_start(&a, 1, "a", raddr, cookie, NULL); /* "a" sorts first: its dialed link is kept */
    wait_relayed(&r, &a, &b);

    /* names and metadata cross the relay, sealed */
    const char *na = "secret-name-on-a-3f9c2e71", *ma = "secret-meta-on-a-77d1c0aa";
    const char *nb = "secret-name-on-b-5b2d8e94", *mb = "secret-meta-on-b-1e0f6c3b";
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b);
    ASSERT_EQ(roster_register(ca, NULL, na, strlen(na), roster_self(ca), ma, strlen(ma), NULL,
                              5000),
              0);
    ASSERT_EQ(roster_register(cb, NULL, nb, strlen(nb), roster_self(cb), mb, strlen(mb), NULL,
                              5000),
              0);
    cl_wait_lookup(&b, NULL, na, 0, NULL, 10000);
    cl_wait_lookup(&a, NULL, nb, 0, NULL, 10000);
    ASSERT(recorded_has(&r, b.addr)); /* the recorder sees the stream: b's HELLO is clear */
    ASSERT(!recorded_has(&r, na) && !recorded_has(&r, ma));
    ASSERT(!recorded_has(&r, nb) && !recorded_has(&r, mb));
    ASSERT(!recorded_has(&r, "secret-"));

    /* each attack on a record from a to b: b closes the link, saying why; they reconnect */
    static const struct {
        enum tamper t;
        const char *reason;
    } attacks[] = {
        {T_FLIP, "failed authentication"},   {T_REPLAY, "replayed sealed record"},
        {T_SWAP, "out of order"},            {T_DROP, "out of order"},
        {T_INJECT, "failed authentication"}, {T_TRUNC, "failed authentication"},
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        int before = log_count(&b, attacks[i].reason);
        int conns;
        pthread_mutex_lock(&r.mu);
        conns = r.conns;
        r.pending = attacks[i].t;
        pthread_mutex_unlock(&r.mu);
        /* a registration on a makes a record soon (heartbeats would, too) */
        char name[64];
        snprintf(name, sizeof name, "after-attack-%zu", i);
        ASSERT_EQ(roster_register(ca, NULL, name, strlen(name), roster_self(ca), NULL, 0, NULL,
                                  5000),
                  0);
        uint64_t deadline = test_now_ms() + 10000;
        while (log_count(&b, attacks[i].reason) <= before) {
            if (test_now_ms() > deadline)
                test_fail(__FILE__, __LINE__, "attack %zu: no '%s' in %s", i,
                          attacks[i].reason, b.t.log);
            cl_sleep_ms(10);
        }
        /* they come back, through the relay, and the name registered meanwhile arrives */
        deadline = test_now_ms() + 20000;
        for (;;) {
            pthread_mutex_lock(&r.mu);
            int again = r.conns > conns;
            pthread_mutex_unlock(&r.mu);
            if (again)
                break;
            ASSERT(test_now_ms() < deadline);
            cl_sleep_ms(10);
        }
        wait_relayed(&r, &a, &b);
        cl_wait_lookup(&b, NULL, name, 0, NULL, 10000);
    }
    pthread_mutex_lock(&r.mu);
    ASSERT_EQ(r.applied, (int)(sizeof attacks / sizeof attacks[0]));
    pthread_mutex_unlock(&r.mu);
    ASSERT(cl_log_has(&b, "closed: sealed link:"));
    ASSERT(!recorded_has(&r, "after-attack-"));
    roster_close(ca);
    roster_close(cb);
    test_node_stop_ok(&a.t);
    test_node_stop_ok(&b.t);
    relay_stop(&r);
    test_on_fail_remove(NULL);
    nft_drop();
}

TEST_MAIN(T(test_sealed_link_on_the_wire))
