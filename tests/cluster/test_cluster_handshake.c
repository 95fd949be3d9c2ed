/* test_cluster_handshake.c: the peer handshake (src/node/auth.c) in memory: both sides
 * authenticate and learn each other, also when bytes arrive one at a time; a wrong cookie,
 * a connection to itself, this node's own HELLO reflected back, another node claiming this
 * node's name, another protocol version, a replayed proof and an oversized frame all fail
 * with a reason; the cookie never appears in the bytes exchanged. Both sides derive the same
 * pair of link keys (one per direction), fresh for every connection; during a cookie
 * rotation a side proving with its current cookie is accepted by a peer holding it as its
 * next one, and a side with only the old cookie is refused once the peer dropped it. Bound
 * to a TLS connection's exporter value, proofs made on another connection fail. */
#include <sodium.h>
#include <string.h>

#include "node/auth.h"
#include "node/seal.h"
#include "test.h"

struct side {
    struct rs_auth a;
    struct rs_buf out; /* bytes this side sent, not yet read by the other */
    struct rs_buf in;  /* bytes received, not yet consumed */
    struct rs_buf all; /* everything this side sent */
};

static void start(struct side *s, int dialer, const struct rs_auth_keys *k, const char *name,
                  uint64_t inc)
{
    memset(s, 0, sizeof *s);
    rs_buf_init(&s->out);
    rs_buf_init(&s->in);
    rs_buf_init(&s->all);
    uint8_t nonce[RS_PEER_NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    ASSERT_EQ(rs_auth_start(&s->a, dialer, k, name, inc, "127.0.0.1:7401", nonce, &s->out), 0);
}

static void fini(struct side *s)
{
    rs_buf_fini(&s->out);
    rs_buf_fini(&s->in);
    rs_buf_fini(&s->all);
}

/* move delivers up to max bytes of from's output to to, which consumes what it can. */
static void move(struct side *from, struct side *to, size_t max)
{
    size_t n = from->out.len < max ? from->out.len : max;
    ASSERT_EQ(rs_buf_append(&from->all, from->out.data, n), 0);
    ASSERT_EQ(rs_buf_append(&to->in, from->out.data, n), 0);
    rs_buf_consume(&from->out, n);
    size_t used = rs_auth_input(&to->a, to->in.data, to->in.len, &to->out);
    ASSERT(used != (size_t)-1);
    rs_buf_consume(&to->in, used);
}

static int running(const struct side *s)
{
    return s->a.state == RS_AUTH_WAIT_HELLO || s->a.state == RS_AUTH_WAIT_PROOF;
}

/* run exchanges bytes (chunk at a time) until both sides stop or nothing moves. */
static void run(struct side *d, struct side *a, size_t chunk)
{
    for (int i = 0; i < 10000 && (d->out.len || a->out.len); i++) {
        if (d->out.len && running(a))
            move(d, a, chunk);
        else
            d->out.len = 0;
        if (a->out.len && running(d))
            move(a, d, chunk);
        else
            a->out.len = 0;
    }
}

static struct rs_auth_keys keys(const char *cookie)
{
    struct rs_auth_keys k;
    rs_auth_keys_derive(&k, (const uint8_t *)cookie, strlen(cookie));
    return k;
}

static int contains(const struct rs_buf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, s, n) == 0)
            return 1;
    return 0;
}

static void test_success(void)
{
    ASSERT(sodium_init() >= 0);
    struct rs_auth_keys k = keys("the-cluster-cookie-123456");
    for (size_t chunk = 1; chunk <= 1024; chunk *= 32) {
        struct side d, a;
        start(&d, 1, &k, "alpha", 11);
        start(&a, 0, &k, "beta", 22);
        run(&d, &a, chunk);
        ASSERT_EQ(d.a.state, RS_AUTH_DONE);
        ASSERT_EQ(a.a.state, RS_AUTH_DONE);
        ASSERT_STR_EQ(d.a.peer_name, "beta");
        ASSERT_STR_EQ(a.a.peer_name, "alpha");
        ASSERT_U64_EQ(d.a.peer_inc, 22);
        ASSERT_U64_EQ(a.a.peer_inc, 11);
        ASSERT_STR_EQ(a.a.peer_addr, "127.0.0.1:7401");
        ASSERT(!contains(&d.all, "the-cluster-cookie") && !contains(&a.all, "the-cluster-cookie"));
        fini(&d);
        fini(&a);
    }
}

static void test_wrong_cookie(void)
{
    ASSERT(sodium_init() >= 0);
    struct rs_auth_keys k1 = keys("cookie-one-0000000000"), k2 = keys("cookie-two-0000000000");
    struct side d, a;
    start(&d, 1, &k1, "alpha", 11);
    start(&a, 0, &k2, "beta", 22);
    run(&d, &a, 4096);
    ASSERT_EQ(a.a.state, RS_AUTH_FAILED);
    ASSERT(strstr(a.a.why, "different cookies"));
    ASSERT_EQ(d.a.state, RS_AUTH_FAILED); /* told by the REFUSE */
    ASSERT(strstr(d.a.why, "refused by the peer"));
    fini(&d);
    fini(&a);
}

static void test_self_and_reflection(void)
{
    ASSERT(sodium_init() >= 0);
    struct rs_auth_keys k = keys("the-cluster-cookie-123456");
    /* a connection to itself: same incarnation on both ends */
    struct side d, a;
    start(&d, 1, &k, "alpha", 11);
    start(&a, 0, &k, "alpha", 11);
    run(&d, &a, 4096);
    ASSERT_EQ(a.a.state, RS_AUTH_FAILED);
    ASSERT(a.a.self_conn);
    fini(&d);
    fini(&a);
    /* the dialer's own HELLO sent back to it by an attacker */
    start(&d, 1, &k, "alpha", 11);
    struct rs_buf mirror;
    rs_buf_init(&mirror);
    ASSERT_EQ(rs_buf_append(&mirror, d.out.data, d.out.len), 0);
    struct rs_buf out;
    rs_buf_init(&out);
    rs_auth_input(&d.a, mirror.data, mirror.len, &out);
    ASSERT_EQ(d.a.state, RS_AUTH_FAILED);
    /* no proof was computed for the attacker: only a REFUSE went out */
    ASSERT(out.len > 4 && out.data[4] == RS_HS_REFUSE);
    rs_buf_fini(&out);
    rs_buf_fini(&mirror);
    fini(&d);
    /* another node claiming this node's name */
    start(&d, 1, &k, "alpha", 11);
    start(&a, 0, &k, "alpha", 99);
    run(&d, &a, 4096);
    ASSERT_EQ(a.a.state, RS_AUTH_FAILED);
    ASSERT(strstr(a.a.why, "own name"));
    fini(&d);
    fini(&a);
}

static void test_acceptor_proves_last(void)
{
    ASSERT(sodium_init() >= 0);
    struct rs_auth_keys k = keys("the-cluster-cookie-123456");
    struct side d, a;
    start(&d, 1, &k, "alpha", 11);
    start(&a, 0, &k, "beta", 22);
    /* the dialer's HELLO alone: the acceptor answers nothing beyond its HELLO */
    size_t hello_a = a.out.len;
    move(&d, &a, d.out.len);
    ASSERT_EQ(a.out.len, hello_a);
    ASSERT_EQ(a.a.state, RS_AUTH_WAIT_PROOF);
    /* a proof from another connection (replay) does not verify */
    struct side d2, a2;
    start(&d2, 1, &k, "alpha", 11);
    start(&a2, 0, &k, "beta", 22);
    move(&a2, &d2, a2.out.len); /* d2 gets a HELLO, sends its proof */
    ASSERT(d2.out.len > 0);
    size_t hello_len = (size_t)rs_get_u32(d2.out.data) + 4;
    struct rs_buf out;
    rs_buf_init(&out);
    rs_auth_input(&a.a, d2.out.data + hello_len, d2.out.len - hello_len, &out);
    ASSERT_EQ(a.a.state, RS_AUTH_FAILED);
    rs_buf_fini(&out);
    fini(&d);
    fini(&a);
    fini(&d2);
    fini(&a2);
}

static void test_bad_frames(void)
{
    ASSERT(sodium_init() >= 0);
    struct rs_auth_keys k = keys("the-cluster-cookie-123456");
    struct side a;
    struct rs_buf out;
    rs_buf_init(&out);
    /* oversized declared length: refused from the 4 length bytes alone */
    start(&a, 0, &k, "beta", 22);
    ASSERT_EQ(rs_auth_input(&a.a, (const uint8_t *)"\x00\x02\x00\x00", 4, &out), 0);
    ASSERT_EQ(a.a.state, RS_AUTH_FAILED);
    ASSERT(strstr(a.a.why, "too big"));
    fini(&a);
    /* another version */
    struct side d;
    start(&d, 1, &k, "alpha", 11);
    d.out.data[8 + 4] = 9; /* version field of the HELLO */
    start(&a, 0, &k, "beta", 22);
    rs_auth_input(&a.a, d.out.data, d.out.len, &out);
    ASSERT_EQ(a.a.state, RS_AUTH_FAILED);
    ASSERT(strstr(a.a.why, "version 9"));
    fini(&d);
    fini(&a);
    /* every truncation of a valid HELLO is either incomplete or malformed, never done */
    start(&d, 1, &k, "alpha", 11);
    for (size_t cut = 8; cut < d.out.len; cut++) {
        uint8_t f[RS_PEER_FRAME_MAX];
        memcpy(f, d.out.data, cut);
        rs_put_u32(f, (uint32_t)(cut - 4));
        start(&a, 0, &k, "beta", 22);
        rs_auth_input(&a.a, f, cut, &out);
        ASSERT(a.a.state == RS_AUTH_FAILED);
        fini(&a);
    }
    fini(&d);
    rs_buf_fini(&out);
}

/* handshake runs a whole exchange between keys kd (dialer) and ka (acceptor). */
static void handshake(struct side *d, struct side *a, const struct rs_auth_keys *kd,
                      const struct rs_auth_keys *ka)
{
    start(d, 1, kd, "alpha", 11);
    start(a, 0, ka, "beta", 22);
    run(d, a, 1024);
}

static void test_link_keys(void)
{
    ASSERT(sodium_init() >= 0);
    struct rs_auth_keys k = keys("the-cluster-cookie-123456");
    struct side d, a, d2, a2;
    handshake(&d, &a, &k, &k);
    ASSERT_EQ(d.a.state, RS_AUTH_DONE);
    ASSERT_EQ(a.a.state, RS_AUTH_DONE);
    ASSERT_MEM_EQ(d.a.tx_key, 32, a.a.rx_key, 32);
    ASSERT_MEM_EQ(d.a.rx_key, 32, a.a.tx_key, 32);
    ASSERT(memcmp(d.a.tx_key, d.a.rx_key, 32) != 0);
    static const uint8_t zero[32];
    ASSERT(memcmp(d.a.tx_key, zero, 32) != 0);
    /* another connection between the same nodes: other nonces, other keys */
    handshake(&d2, &a2, &k, &k);
    ASSERT_EQ(d2.a.state, RS_AUTH_DONE);
    ASSERT(memcmp(d.a.tx_key, d2.a.tx_key, 32) != 0);
    ASSERT(memcmp(d.a.rx_key, d2.a.rx_key, 32) != 0);
    /* both pick the same AEAD: AES-256-GCM when both machines have hardware AES */
    uint16_t local = rs_seal_local_features();
    ASSERT_EQ(d.a.aead, a.a.aead);
    ASSERT_EQ(d.a.aead, rs_seal_choose(local, local));
    ASSERT_EQ(d.a.peer_features, local);
    rs_auth_wipe(&d.a);
    ASSERT(memcmp(d.a.tx_key, zero, 32) == 0 && memcmp(d.a.session_d, zero, 32) == 0);
    /* one side without AES: both seal with XChaCha20-Poly1305 */
    struct side d3, a3;
    memset(&d3, 0, sizeof d3);
    rs_buf_init(&d3.out);
    rs_buf_init(&d3.in);
    rs_buf_init(&d3.all);
    uint8_t nonce[RS_PEER_NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    ASSERT_EQ(rs_auth_start_features(&d3.a, 1, &k, "alpha", 11, "127.0.0.1:7401", nonce, 0,
                                     &d3.out),
              0);
    start(&a3, 0, &k, "beta", 22);
    run(&d3, &a3, 1024);
    ASSERT_EQ(d3.a.state, RS_AUTH_DONE);
    ASSERT_EQ(a3.a.state, RS_AUTH_DONE);
    ASSERT_EQ(d3.a.aead, RS_SEAL_XCHACHA20POLY1305);
    ASSERT_EQ(a3.a.aead, RS_SEAL_XCHACHA20POLY1305);
    ASSERT_EQ(a3.a.peer_features, 0);
    fini(&d3);
    fini(&a3);
    fini(&d);
    fini(&a);
    fini(&d2);
    fini(&a2);
}

static struct rs_auth_keys ring(const char *cur, const char *next)
{
    struct rs_auth_keys k = keys(cur);
    if (next)
        rs_auth_keys_derive_next(&k, (const uint8_t *)next, strlen(next));
    return k;
}

static void test_rotation(void)
{
    ASSERT(sodium_init() >= 0);
    const char *O = "old-cookie-0123456789abcdef", *N = "new-cookie-fedcba9876543210";
    struct {
        struct rs_auth_keys d, a;
        int ok;
        int d_used_next, a_used_next; /* each side: the peer proved with its next cookie */
    } cases[] = {
        {ring(O, NULL), ring(O, N), 1, 0, 0}, /* step 1: next added on one side */
        {ring(O, N), ring(N, O), 1, 1, 1},    /* step 2: swapped on one side only */
        {ring(N, O), ring(O, N), 1, 1, 1},
        {ring(N, NULL), ring(N, O), 1, 0, 0}, /* step 3: old dropped on one side */
        {ring(O, NULL), ring(N, NULL), 0, 0, 0}, /* the end: only the old cookie */
        {ring(N, NULL), ring(O, NULL), 0, 0, 0},
        {ring(O, N), ring(N, NULL), 0, 0, 0}, /* proves with old: refused by a new-only node */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct side d, a;
        handshake(&d, &a, &cases[i].d, &cases[i].a);
        if (cases[i].ok) {
            ASSERT_EQ(d.a.state, RS_AUTH_DONE);
            ASSERT_EQ(a.a.state, RS_AUTH_DONE);
            ASSERT_EQ(d.a.peer_used_next, cases[i].d_used_next);
            ASSERT_EQ(a.a.peer_used_next, cases[i].a_used_next);
            ASSERT_MEM_EQ(d.a.tx_key, 32, a.a.rx_key, 32);
            ASSERT_MEM_EQ(d.a.rx_key, 32, a.a.tx_key, 32);
        } else {
            ASSERT(d.a.state == RS_AUTH_FAILED || a.a.state == RS_AUTH_FAILED);
            ASSERT(d.a.state != RS_AUTH_DONE || a.a.state != RS_AUTH_DONE);
            ASSERT(strstr(d.a.why, "different cookies") || strstr(a.a.why, "different cookies"));
        }
        fini(&d);
        fini(&a);
    }
}

/* Over TLS (tls.c) both proofs also cover the connection's exporter value: two sides bound
 * to the same value authenticate; bound to different values (a relay that terminates TLS
 * twice with a valid certificate sees two) the dialer's proof is refused, although both
 * hold the cookie; a side bound and one not bound fail too. */
static void test_channel_binding(void)
{
    ASSERT(sodium_init() >= 0);
    struct rs_auth_keys k = keys("the-cluster-cookie-123456");
    uint8_t x[RS_AUTH_BINDING_BYTES], y[RS_AUTH_BINDING_BYTES];
    randombytes_buf(x, sizeof x);
    memcpy(y, x, sizeof y);
    y[7] ^= 1;
    for (int c = 0; c < 3; c++) {
        struct side d, a;
        start(&d, 1, &k, "a", 1);
        start(&a, 0, &k, "b", 2);
        rs_auth_bind(&d.a, x);
        if (c != 2)
            rs_auth_bind(&a.a, c == 0 ? x : y);
        run(&d, &a, 1 << 20);
        if (c == 0) {
            ASSERT_EQ(d.a.state, RS_AUTH_DONE);
            ASSERT_EQ(a.a.state, RS_AUTH_DONE);
            ASSERT_EQ(memcmp(d.a.tx_key, a.a.rx_key, 32), 0);
        } else {
            ASSERT_EQ(a.a.state, RS_AUTH_FAILED);
            ASSERT(strstr(a.a.why, "authentication failed"));
            ASSERT(d.a.state != RS_AUTH_DONE);
        }
        fini(&d);
        fini(&a);
    }
}

TEST_MAIN(T(test_success), T(test_link_keys), T(test_rotation), T(test_wrong_cookie), T(test_self_and_reflection),
          T(test_acceptor_proves_last), T(test_bad_frames), T(test_channel_binding))
