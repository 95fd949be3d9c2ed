/* test_cluster_tls.c: TLS with certificates on peer links (--peer-tls-cert/-key/-ca,
 * src/node/tls.c), on real rosterd processes. Each test makes a throwaway PKI with the
 * openssl command in a temporary directory: a cluster CA, a certificate per node, and a
 * second CA that signs a rogue node's certificate.
 *
 * - three nodes over TLS replicate names; each link logs TLS 1.3 and the peer's certificate;
 * - a node whose certificate another CA signed, or whose certificate expired, is refused,
 *   the log naming the certificate and the reason; so are a TLS client that presents no
 *   certificate and one that offers only TLS 1.2 (openssl s_client); with
 *   --peer-tls-names strict, a node whose certificate names another node is refused; a node with a valid certificate but another cookie is refused by the
 *   cookie proof (a certificate alone does not join); a node without TLS is refused, both
 *   sides saying why; a node with TLS is refused by a cluster without it, both sides too;
 * - the three flags go together (exit 2 otherwise), bad files stop the node at start;
 * - SIGHUP re-reads the files: a broken file is refused and the links stay; a renewed
 *   certificate is used by the next connection, the established links stay up;
 * - through a relay that records every byte between two nodes: no name, metadata or node
 *   address shows in the bytes, and a flipped bit, a replayed record or a dropped record
 *   closes the link with OpenSSL's reason in the log; the nodes reconnect (through the
 *   relay again: nftables rules cut the direct paths) and carry on replicating. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "cluster.h"
#include "rclient.h"
#include "test.h"

/* ---- a throwaway PKI ---- */

static char pki[64]; /* the temporary directory */

static void pki_remove(void *arg)
{
    (void)arg;
    char cmd[128];
    if (pki[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
        cl_sh(cmd);
    }
}

/* make_pki creates ca.pem (the cluster's CA), NAME.pem / NAME.key for each name in nodes
 * (signed by it), other-ca.pem and NAME.pem / .key for each of rogues (signed by that one),
 * and expired.pem / .key (signed by the cluster's CA, expired since yesterday). */
static void make_pki(const char *nodes, const char *rogues)
{
    if (cl_sh("openssl version >/dev/null 2>&1") != 0)
        test_skip("the openssl command is not installed: run scripts/deps.sh");
    snprintf(pki, sizeof pki, "/tmp/roster-tls-XXXXXX");
    if (!mkdtemp(pki))
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    test_on_fail(pki_remove, NULL);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'\n"
             "ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout $1.key -out $1.pem -days 2 -subj /CN=$1 2>/dev/null; }\n"
             "leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout $1.key -out $1.csr -subj /CN=$1 2>/dev/null; "
             "openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial "
             "-out $1.pem -days ${3:-2} 2>/dev/null; }\n"
             "ca ca; ca other-ca\n"
             "for n in %s; do leaf $n ca; done\n"
             "for n in %s; do leaf $n other-ca; done\n"
             "leaf expired ca -1\n" /* valid until yesterday */
             "chmod 600 *.key\n",
             pki, nodes, rogues);
    ASSERT_EQ(cl_sh(cmd), 0);
}

/* tls_flags returns the flags of node name with the roots ca (a file in the PKI dir), in
 * slot (argument storage), NULL-terminated. */
static const char *const *tls_flags(int slot, const char *name, const char *ca)
{
    static const char *v[4][10];
    static char files[4][3][160];
    snprintf(files[slot][0], sizeof files[slot][0], "%s/%s.pem", pki, name);
    snprintf(files[slot][1], sizeof files[slot][1], "%s/%s.key", pki, name);
    snprintf(files[slot][2], sizeof files[slot][2], "%s/%s.pem", pki, ca);
    const char *flags[3] = {"--peer-tls-cert", "--peer-tls-key", "--peer-tls-ca"};
    for (int i = 0; i < 3; i++) {
        v[slot][2 * i] = flags[i];
        v[slot][2 * i + 1] = files[slot][i];
    }
    v[slot][6] = NULL;
    return v[slot];
}

/* tls_flags_strict is tls_flags with --peer-tls-names strict. */
static const char *const *tls_flags_strict(int slot, const char *name, const char *ca)
{
    const char **v = (const char **)tls_flags(slot, name, ca);
    v[6] = "--peer-tls-names";
    v[7] = "strict";
    v[8] = NULL;
    return v;
}

static int log_count(const struct cl_node *n, const char *text)
{
    FILE *f = fopen(n->t.log, "r");
    if (!f)
        return 0;
    char line[2048];
    int k = 0;
    while (fgets(line, sizeof line, f))
        k += strstr(line, text) != NULL;
    fclose(f);
    return k;
}

/* ---- three nodes, and who is refused ---- */

static void test_tls_cluster_and_refusals(void)
{
    char why[160];
    cl_netns(why, sizeof why); /* fixed ports where it can; loopback ports otherwise */
    make_pki("a b c rogue-cookie a-renewed", "rogue");
    const char *cookie = cl_cookie(0, "tls-test-cookie-5e1d9c0b7a3f4d26\n");
    const char *other_cookie = cl_cookie(1, "another-cluster-cookie-0c9d8e7f6a5b\n");
    struct cl_node a, b, c, x;
    char a_addr[64];
    cl_addr(1, a_addr, sizeof a_addr);
    cl_start(&a, 1, "a", NULL, cookie, tls_flags(0, "a", "ca"));
    cl_start(&b, 2, "b", a_addr, cookie, tls_flags_strict(1, "b", "ca"));
    cl_start(&c, 3, "c", a_addr, cookie, tls_flags(2, "c", "ca"));
    cl_wait_up(&a, NULL, 3, 20000);
    cl_wait_up(&b, NULL, 3, 20000);
    cl_wait_up(&c, NULL, 3, 20000);
    ASSERT(cl_log_has(&a, "link over TLS (TLSv1.3, "));
    ASSERT(cl_log_has(&a, "peer certificate /CN=b)"));
    ASSERT(cl_log_has(&b, "peer certificate /CN=a)"));
    ASSERT(!cl_log_has(&a, "link sealed"));

    /* names replicate both ways */
    roster_client *ca = cl_connect(&a), *cc = cl_connect(&c);
    const char *na = "tls/name-on-a", *nc = "tls/name-on-c";
    ASSERT_EQ(roster_register(ca, NULL, na, strlen(na), roster_self(ca), "m", 1, NULL, 5000), 0);
    ASSERT_EQ(roster_register(cc, NULL, nc, strlen(nc), roster_self(cc), NULL, 0, NULL, 5000),
              0);
    cl_wait_lookup(&b, NULL, na, 0, NULL, 10000);
    cl_wait_lookup(&c, NULL, na, 0, NULL, 10000);
    cl_wait_lookup(&a, NULL, nc, 0, NULL, 10000);
    cl_wait_lookup(&b, NULL, nc, 0, NULL, 10000);

    /* a certificate from another CA: a refuses it, naming it and why */
    cl_start(&x, 4, "rogue", a_addr, cookie, tls_flags(3, "rogue", "ca"));
    cl_wait_log(&a, "the peer's certificate /CN=rogue was refused: unable to get local issuer "
                    "certificate", 20000);
    cl_wait_log(&x, "the peer refused this node's certificate or TLS session", 20000);
    ASSERT_EQ(cl_count_up(ca, NULL, NULL, NULL), 3);
    test_node_stop_ok(&x.t);

    /* b requires certificates to name their node: a node named "impostor" with c's
     * certificate is refused by b before any proof, both sides saying why */
    char b_addr[64];
    cl_addr(2, b_addr, sizeof b_addr);
    ASSERT(cl_log_has(&b, "peer certificate /CN=a)")); /* a and c pass the check */
    cl_start(&x, 4, "impostor", b_addr, cookie, tls_flags(3, "c", "ca"));
    cl_wait_log(&b, "handshake failed: TLS certificate /CN=c does not name node 'impostor' "
                    "(--peer-tls-names strict)", 20000);
    cl_wait_log(&x, "refused by the peer: TLS certificate /CN=c does not name node 'impostor'",
                20000);
    ASSERT_EQ(cl_count_up(ca, NULL, NULL, NULL), 3);
    test_node_stop_ok(&x.t);

    /* a TLS client without a certificate (openssl s_client): refused, said in a's log */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "echo | timeout 10 openssl s_client -connect %s -CAfile "
             "'%s/ca.pem' >/dev/null 2>&1", a_addr, pki);
    cl_sh(cmd);
    cl_wait_log(&a, "peer did not return a certificate", 10000);
    /* TLS 1.2, even with a good certificate: refused (TLS 1.3 only) */
    snprintf(cmd, sizeof cmd, "echo | timeout 10 openssl s_client -tls1_2 -connect %s "
             "-cert '%s/b.pem' -key '%s/b.key' -CAfile '%s/ca.pem' >/dev/null 2>&1", a_addr,
             pki, pki, pki);
    cl_sh(cmd);
    cl_wait_log(&a, "unsupported protocol", 10000);
    ASSERT_EQ(cl_count_up(ca, NULL, NULL, NULL), 3);

    /* an expired certificate from the right CA: refused, and said at its own start */
    cl_start(&x, 4, "expired", a_addr, cookie, tls_flags(3, "expired", "ca"));
    cl_wait_log(&x, "refuse it: certificate has expired", 10000);
    cl_wait_log(&a, "the peer's certificate /CN=expired was refused: certificate has expired",
                20000);
    ASSERT_EQ(cl_count_up(ca, NULL, NULL, NULL), 3);
    test_node_stop_ok(&x.t);

    /* a valid certificate but another cookie: the proof inside TLS refuses it */
    cl_start(&x, 4, "rogue-cookie", a_addr, other_cookie, tls_flags(3, "rogue-cookie", "ca"));
    cl_wait_log(&a, "authentication failed: the two nodes hold different cookies", 20000);
    cl_wait_log(&x, "refused by the peer: authentication failed", 20000);
    ASSERT_EQ(cl_count_up(ca, NULL, NULL, NULL), 3);
    test_node_stop_ok(&x.t);

    /* a node without TLS: refused, both sides saying why */
    cl_start(&x, 4, "plain", a_addr, cookie, NULL);
    cl_wait_log(&a, "the peer does not speak TLS", 20000);
    cl_wait_log(&x, "refused by the peer: TLS required on peer links", 20000);
    ASSERT_EQ(cl_count_up(ca, NULL, NULL, NULL), 3);
    /* and a TLS node dialing a node without TLS: both sides again */
    struct cl_node y;
    char x_addr[64];
    cl_addr(4, x_addr, sizeof x_addr);
    cl_start(&y, 5, "d", x_addr, cookie, tls_flags(3, "c", "ca"));
    cl_wait_log(&x, "the peer speaks TLS (it runs with --peer-tls-*) and this node has no TLS",
                20000);
    cl_wait_log(&y, "the peer does not speak TLS", 20000);
    test_node_stop_ok(&y.t);
    test_node_stop_ok(&x.t);

    /* SIGHUP: a broken key is refused, the links stay; fixed, the files are re-read */
    snprintf(cmd, sizeof cmd, "cd '%s' && cp a.key a.key.good && echo broken > a.key.new && "
             "mv a.key.new a.key", pki);
    ASSERT_EQ(cl_sh(cmd), 0);
    ASSERT_EQ(kill(a.t.pid, SIGHUP), 0);
    cl_wait_log(&a, "peer TLS files not re-read: keeping the previous certificate", 10000);
    /* a renewed certificate (another subject) in place of a's: used from the next
     * connection on, while the established links stay up */
    snprintf(cmd, sizeof cmd, "cd '%s' && rm a.key.good && cp a-renewed.pem a.pem.new && "
             "cp a-renewed.key a.key.new && mv a.pem.new a.pem && mv a.key.new a.key", pki);
    ASSERT_EQ(cl_sh(cmd), 0);
    ASSERT_EQ(kill(a.t.pid, SIGHUP), 0);
    cl_wait_log(&a, "peer TLS files re-read: new connections use them", 10000);
    ASSERT(cl_log_has(&a, "certificate /CN=a-renewed (valid until"));
    ASSERT_EQ(cl_count_up(ca, NULL, NULL, NULL), 3);
    ASSERT(!cl_log_has(&c, "peer certificate /CN=a-renewed"));
    /* a new connection after the reload: restart c, it comes back over TLS and sees a's
     * renewed certificate */
    cl_restart(&c, SIGTERM, a_addr, cookie, tls_flags(2, "c", "ca"));
    cl_wait_log(&c, "peer certificate /CN=a-renewed)", 20000);
    cl_wait_up(&c, NULL, 3, 20000);
    cl_wait_lookup(&c, NULL, na, 0, NULL, 10000);

    roster_close(ca);
    roster_close(cc);
    test_node_stop_ok(&a.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&c.t);
    test_on_fail_remove(NULL);
    pki_remove(NULL);
}

/* rosterd_exit runs rosterd with args (a shell fragment) and returns its exit status, its
 * stderr in err. */
static int rosterd_exit(const char *args, char *err, size_t cap)
{
    char path[96], cmd[1536];
    snprintf(path, sizeof path, "%s/stderr", pki);
    snprintf(cmd, sizeof cmd, "timeout 10 %s --config /dev/null --socket %s/sock --listen "
             "127.0.0.1:7999 %s 2>%s", ROSTERD_PATH, pki, args, path);
    int st = cl_sh(cmd);
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(err, 1, cap - 1, f) : 0;
    err[k] = 0;
    if (f)
        fclose(f);
    return st;
}

static void test_tls_flags_checked(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    make_pki("a", "rogue");
    char args[1024], err[4096];
    snprintf(args, sizeof args, "--peer-tls-cert %s/a.pem --peer-tls-key %s/a.key", pki, pki);
    ASSERT_EQ(rosterd_exit(args, err, sizeof err), 2);
    ASSERT(strstr(err, "needs --peer-tls-cert, --peer-tls-key and --peer-tls-ca together "
                       "(missing: --peer-tls-ca)"));
    snprintf(args, sizeof args, "--peer-tls-ca %s/ca.pem", pki);
    ASSERT_EQ(rosterd_exit(args, err, sizeof err), 2);
    ASSERT(strstr(err, "(missing: --peer-tls-cert --peer-tls-key)"));
    ASSERT_EQ(rosterd_exit("--peer-tls-names strict", err, sizeof err), 2);
    ASSERT(strstr(err, "--peer-tls-names strict needs TLS on peer links"));
    snprintf(args, sizeof args, "--peer-tls-cert %s/a.pem --peer-tls-key %s/a.key "
             "--peer-tls-ca %s/ca.pem --peer-tls-names some", pki, pki, pki);
    ASSERT_EQ(rosterd_exit(args, err, sizeof err), 2);
    ASSERT(strstr(err, "--peer-tls-names: 'some' is not strict or any"));
    snprintf(args, sizeof args, "--peer-tls-cert %s/a.pem --peer-tls-key %s/nonexistent "
             "--peer-tls-ca %s/ca.pem", pki, pki, pki);
    ASSERT_EQ(rosterd_exit(args, err, sizeof err), 2);
    ASSERT(strstr(err, "--peer-tls-key") && strstr(err, "not a readable file"));
    /* files that exist but do not fit: the node does not start, saying which */
    snprintf(args, sizeof args, "--peer-tls-cert %s/a.pem --peer-tls-key %s/rogue.key "
             "--peer-tls-ca %s/ca.pem", pki, pki, pki);
    ASSERT_EQ(rosterd_exit(args, err, sizeof err), 1);
    ASSERT(strstr(err, "the private key does not match the certificate"));
    snprintf(args, sizeof args, "--peer-tls-cert %s/a.key --peer-tls-key %s/a.key "
             "--peer-tls-ca %s/ca.pem", pki, pki, pki);
    ASSERT_EQ(rosterd_exit(args, err, sizeof err), 1);
    ASSERT(strstr(err, "--peer-tls-cert") && strstr(err, "cannot read the certificate chain"));
    /* a certificate its own roots refuse: said at start (the node runs: its roots may be
     * meant for others) */
    struct cl_node x;
    cl_start(&x, 1, "rogue", NULL, cl_cookie(0, "tls-flags-cookie-0123456789abcdef\n"),
             tls_flags(0, "rogue", "ca"));
    cl_wait_log(&x, "its own roots (--peer-tls-ca", 10000);
    ASSERT(cl_log_has(&x, "refuse it: unable to get local issuer certificate"));
    test_node_stop_ok(&x.t);
    test_on_fail_remove(NULL);
    pki_remove(NULL);
}

/* ---- the wire: a relay between a and b ---- */

enum tamper { T_NONE, T_FLIP, T_REPLAY, T_DROP };

struct dir {
    uint8_t buf[1 << 18];
    size_t len;
};

struct relay {
    int lfd, wake[2];
    struct sockaddr_in target;
    pthread_t th;
    pthread_mutex_t mu;
    /* under mu */
    struct rs_buf rec;   /* every byte forwarded, both ways */
    enum tamper pending; /* applied to the next application data record from a to b */
    int applied;
    int conns;
    int open;
    long data_ab; /* TLS application data records from a to b on the current pair */
    int not_tls;  /* a record that was not TLS went through */
};

static int send_all_fd(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int forward(struct relay *r, int fd, const uint8_t *f, size_t n)
{
    pthread_mutex_lock(&r->mu);
    if (rs_buf_append(&r->rec, f, n) != 0)
        abort();
    pthread_mutex_unlock(&r->mu);
    return send_all_fd(fd, f, n);
}

#define TLS_HEADER 5u
#define TLS_APPDATA 23u

/* record handles one whole TLS record (header: type, version, length big endian). */
static int record(struct relay *r, int fd, uint8_t *f, size_t n, int ab)
{
    int data = f[0] == TLS_APPDATA;
    enum tamper t = T_NONE;
    pthread_mutex_lock(&r->mu);
    if (f[0] < 20 || f[0] > 24 || f[1] != 3)
        r->not_tls = 1;
    if (ab && data) {
        r->data_ab++;
        t = r->pending;
        if (t != T_NONE) {
            r->pending = T_NONE;
            r->applied++;
        }
    }
    pthread_mutex_unlock(&r->mu);
    switch (t) {
    case T_NONE:
        return forward(r, fd, f, n);
    case T_FLIP:
        f[TLS_HEADER + (n - TLS_HEADER) / 2] ^= 0x10;
        return forward(r, fd, f, n);
    case T_REPLAY:
        return forward(r, fd, f, n) == 0 ? forward(r, fd, f, n) : -1;
    case T_DROP:
        return 0;
    }
    return -1;
}

static int pump(struct relay *r, int from, int to, struct dir *d, int ab)
{
    ssize_t got = read(from, d->buf + d->len, sizeof d->buf - d->len);
    if (got <= 0)
        return -1;
    d->len += (size_t)got;
    size_t off = 0;
    while (d->len - off >= TLS_HEADER) {
        size_t n = TLS_HEADER + ((size_t)d->buf[off + 3] << 8 | d->buf[off + 4]);
        if (n > d->len - off)
            break;
        if (record(r, to, d->buf + off, n, ab) != 0)
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
            if (c >= 0) {
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
                pthread_mutex_lock(&r->mu);
                r->conns++;
                r->open = fa >= 0;
                r->data_ab = 0;
                pthread_mutex_unlock(&r->mu);
                continue;
            }
        }
        int down = 0;
        if (fa >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
            down = pump(r, fa, fb, &dab, 1) != 0;
        if (!down && fb >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR)))
            down = pump(r, fb, fa, &dba, 0) != 0;
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

/* wait_relayed waits until a pair is open through the relay and at least 3 application data
 * records (heartbeats at least) went from a to b on it, with both nodes up. */
static void wait_relayed(struct relay *r, const struct cl_node *a, const struct cl_node *b)
{
    uint64_t deadline = test_now_ms() + 20000;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int ok = r->open && r->data_ab >= 3;
        pthread_mutex_unlock(&r->mu);
        if (ok)
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "no TLS traffic through the relay (logs %s %s)",
                      a->t.log, b->t.log);
        cl_sleep_ms(10);
    }
    cl_wait_up(a, NULL, 2, 20000);
    cl_wait_up(b, NULL, 2, 20000);
}

#define TABLE "roster_tls_test"

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

static void test_tls_link_on_the_wire(void)
{
    char why[160];
    if (!cl_netns(why, sizeof why))
        test_skip("no private network namespace (%s): the direct paths between the nodes "
                  "cannot be cut without touching the host's network", why);
    if (cl_sh("nft --version >/dev/null 2>&1") != 0)
        test_skip("nft (nftables) is not installed: run scripts/deps.sh");
    make_pki("a b", "rogue");
    const char *cookie = cl_cookie(0, "tls-wire-cookie-2b7e151628aed2a6\n");
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
    cl_start(&b, 2, "b", NULL, cookie, tls_flags(1, "b", "ca"));
    cl_start(&a, 1, "a", raddr, cookie, tls_flags(0, "a", "ca"));
    wait_relayed(&r, &a, &b);

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
    pthread_mutex_lock(&r.mu);
    size_t recorded = r.rec.len;
    int not_tls = r.not_tls;
    pthread_mutex_unlock(&r.mu);
    ASSERT(recorded > 1000); /* the recorder saw the stream */
    ASSERT_EQ(not_tls, 0);   /* nothing but TLS records, from the first byte */
    ASSERT(!recorded_has(&r, na) && !recorded_has(&r, ma));
    ASSERT(!recorded_has(&r, nb) && !recorded_has(&r, mb));
    ASSERT(!recorded_has(&r, "secret-"));
    /* under TLS the cookie handshake is hidden too: no node address, no HELLO magic */
    ASSERT(!recorded_has(&r, b.addr) && !recorded_has(&r, a.addr));
    ASSERT(!recorded_has(&r, "RSPR") && !recorded_has(&r, "RPSR"));

    /* each attack on an application data record from a to b: b closes the link with
     * OpenSSL's reason; they reconnect through the relay */
    static const enum tamper attacks[] = {T_FLIP, T_REPLAY, T_DROP};
    const char *reason = "closed: TLS record: decryption failed or bad record mac";
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        int before = log_count(&b, reason);
        pthread_mutex_lock(&r.mu);
        int conns = r.conns;
        r.pending = attacks[i];
        pthread_mutex_unlock(&r.mu);
        char name[64];
        snprintf(name, sizeof name, "after-attack-%zu", i);
        ASSERT_EQ(roster_register(ca, NULL, name, strlen(name), roster_self(ca), NULL, 0, NULL,
                                  5000),
                  0);
        uint64_t deadline = test_now_ms() + 10000;
        while (log_count(&b, reason) <= before) {
            if (test_now_ms() > deadline)
                test_fail(__FILE__, __LINE__, "attack %zu: no '%s' in %s", i, reason,
                          b.t.log);
            cl_sleep_ms(10);
        }
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
    ASSERT(!recorded_has(&r, "after-attack-"));
    roster_close(ca);
    roster_close(cb);
    test_node_stop_ok(&a.t);
    test_node_stop_ok(&b.t);
    relay_stop(&r);
    test_on_fail_remove(NULL);
    nft_drop();
    pki_remove(NULL);
}

TEST_MAIN(T(test_tls_flags_checked), T(test_tls_cluster_and_refusals),
          T(test_tls_link_on_the_wire))
