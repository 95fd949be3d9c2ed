/* auth.c: the peer handshake (see auth.h): key derivation, the state machine, the proofs.
 * The frames are encoded and decoded by src/wire/handshake.c; no I/O here. */
#include "node/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "node/seal.h"
#include "wire/reader.h"
#include "wire/wire.h"

#define TRANSCRIPT_MAX (2 * RS_PEER_FRAME_MAX + RS_AUTH_BINDING_BYTES)

static const char LABEL_DIALER[] = "roster cluster handshake v1: dialer";
static const char LABEL_ACCEPTOR[] = "roster cluster handshake v1: acceptor";
static const char LABEL_SESSION[] = "roster cluster v2: session";
static const char LABEL_LINK[] = "roster cluster v2: link keys";

static void derive(uint8_t out[32], const uint8_t *cookie, size_t len, const char *label)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, cookie, len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

static void derive_key(struct rs_auth_key *k, const uint8_t *cookie, size_t len)
{
    derive(k->dialer, cookie, len, LABEL_DIALER);
    derive(k->acceptor, cookie, len, LABEL_ACCEPTOR);
    derive(k->session, cookie, len, LABEL_SESSION);
}

void rs_auth_keys_derive(struct rs_auth_keys *k, const uint8_t *cookie, size_t len)
{
    sodium_memzero(&k->next, sizeof k->next);
    k->has_next = 0;
    derive_key(&k->cur, cookie, len);
}

void rs_auth_keys_derive_next(struct rs_auth_keys *k, const uint8_t *cookie, size_t len)
{
    derive_key(&k->next, cookie, len);
    k->has_next = 1;
}

void rs_auth_wipe(struct rs_auth *a)
{
    sodium_memzero(a->session_d, sizeof a->session_d);
    sodium_memzero(a->session_a, sizeof a->session_a);
    sodium_memzero(a->tx_key, sizeof a->tx_key);
    sodium_memzero(a->rx_key, sizeof a->rx_key);
}

static void fail(struct rs_auth *a, const char *why)
{
    a->state = RS_AUTH_FAILED;
    snprintf(a->why, sizeof a->why, "%s", why);
}

/* refuse fails and tells the peer why (best effort: REFUSE is a courtesy). */
static int refuse(struct rs_auth *a, struct rs_buf *out, const char *why)
{
    uint8_t f[RS_HS_REFUSE_BYTES_MAX];
    size_t n = rs_hs_refuse_encode(f, why);
    fail(a, why);
    return rs_buf_append(out, f, n);
}

int rs_auth_start(struct rs_auth *a, int dialer, const struct rs_auth_keys *keys,
                  const char *self_name, uint64_t self_inc, const char *self_addr,
                  const uint8_t *nonce, struct rs_buf *out)
{
    return rs_auth_start_features(a, dialer, keys, self_name, self_inc, self_addr, nonce,
                                  rs_seal_local_features(), out);
}

int rs_auth_start_features(struct rs_auth *a, int dialer, const struct rs_auth_keys *keys,
                           const char *self_name, uint64_t self_inc, const char *self_addr,
                           const uint8_t *nonce, uint16_t features, struct rs_buf *out)
{
    memset(a, 0, sizeof *a);
    a->dialer = dialer;
    a->keys = keys;
    a->self_name = self_name;
    a->self_inc = self_inc;
    a->state = RS_AUTH_WAIT_HELLO;
    uint8_t *h = dialer ? a->hello_d : a->hello_a;
    a->self_features = features;
    size_t total = rs_hs_hello_encode_features(h, nonce, self_inc, self_name, self_addr, features);
    if (dialer)
        a->hello_d_len = total;
    else
        a->hello_a_len = total;
    return rs_buf_append(out, h, total);
}

void rs_auth_bind(struct rs_auth *a, const uint8_t *binding)
{
    memcpy(a->binding, binding, RS_AUTH_BINDING_BYTES);
    a->has_binding = 1;
}

/* transcript is what both proofs cover: HELLO_d || HELLO_a, then over TLS the binding. */
static size_t transcript(const struct rs_auth *a, uint8_t t[TRANSCRIPT_MAX])
{
    memcpy(t, a->hello_d, a->hello_d_len);
    memcpy(t + a->hello_d_len, a->hello_a, a->hello_a_len);
    size_t n = a->hello_d_len + a->hello_a_len;
    if (a->has_binding) {
        memcpy(t + n, a->binding, RS_AUTH_BINDING_BYTES);
        n += RS_AUTH_BINDING_BYTES;
    }
    return n;
}

/* send_proof proves with the current cookie, in this side's role. */
static int send_proof(struct rs_auth *a, struct rs_buf *out)
{
    uint8_t t[TRANSCRIPT_MAX], mac[RS_PEER_MAC_BYTES], proof[RS_HS_PROOF_BYTES];
    size_t tl = transcript(a, t);
    const struct rs_auth_key *k = &a->keys->cur;
    crypto_auth_hmacsha256(mac, t, tl, a->dialer ? k->dialer : k->acceptor);
    memcpy(a->dialer ? a->session_d : a->session_a, k->session, 32);
    rs_hs_proof_encode(proof, mac);
    return rs_buf_append(out, proof, sizeof proof);
}

/* on_hello takes the peer's HELLO (frame f of n bytes); 0, or -1 (out of memory). */
static int on_hello(struct rs_auth *a, const uint8_t *f, size_t n, struct rs_buf *out)
{
    struct rs_hs_hello h;
    int r = rs_hs_hello_decode(f, n, &h);
    a->peer_version = h.version;
    if (r == RS_HS_E_VERSION) {
        char why[96];
        snprintf(why, sizeof why, "cluster protocol version %u is not supported (this node "
                 "speaks %u)", (unsigned)a->peer_version, RS_PEER_VERSION);
        return refuse(a, out, why);
    }
    if (r != RS_HS_OK) {
        fail(a, rs_hs_strerror(r));
        return 0;
    }
    memcpy(a->peer_name, h.name, h.name_len);
    a->peer_name[h.name_len] = 0;
    memcpy(a->peer_addr, h.addr, h.addr_len);
    a->peer_addr[h.addr_len] = 0;
    a->peer_inc = h.inc;
    a->peer_features = h.features;
    if (a->peer_inc == a->self_inc) {
        a->self_conn = 1;
        return refuse(a, out, "connection to itself");
    }
    if (strcmp(a->peer_name, a->self_name) == 0) {
        char why[160];
        snprintf(why, sizeof why, "peer claims this node's own name '%s' (a second node "
                 "with the same name?)", a->self_name);
        return refuse(a, out, why);
    }
    uint8_t *dst = a->dialer ? a->hello_a : a->hello_d;
    memcpy(dst, f, n);
    if (a->dialer)
        a->hello_a_len = n;
    else
        a->hello_d_len = n;
    a->state = RS_AUTH_WAIT_PROOF;
    if (!a->dialer)
        return 0; /* the acceptor proves itself only after the dialer did */
    return send_proof(a, out);
}

/* session_keys derives the link keys: a pseudorandom key from both proving cookies'
 * session subkeys and the transcript t (both nonces), then one key per direction. */
static void session_keys(struct rs_auth *a, const uint8_t *t, size_t tl)
{
    uint8_t prk[crypto_kdf_KEYBYTES], d2a[32], a2d[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, a->session_d, sizeof a->session_d, sizeof prk);
    crypto_generichash_update(&st, (const unsigned char *)LABEL_LINK, sizeof LABEL_LINK - 1);
    crypto_generichash_update(&st, a->session_a, sizeof a->session_a);
    crypto_generichash_update(&st, t, tl);
    crypto_generichash_final(&st, prk, sizeof prk);
    crypto_kdf_derive_from_key(d2a, sizeof d2a, 1, "rs-link_", prk);
    crypto_kdf_derive_from_key(a2d, sizeof a2d, 2, "rs-link_", prk);
    memcpy(a->tx_key, a->dialer ? d2a : a2d, 32);
    memcpy(a->rx_key, a->dialer ? a2d : d2a, 32);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(d2a, sizeof d2a);
    sodium_memzero(a2d, sizeof a2d);
    sodium_memzero(&st, sizeof st);
}

static int on_proof(struct rs_auth *a, const uint8_t *f, size_t n, struct rs_buf *out)
{
    const uint8_t *mac;
    if (rs_hs_proof_decode(f, n, &mac) != RS_HS_OK) {
        fail(a, rs_hs_strerror(RS_HS_E_PROOF));
        return 0;
    }
    uint8_t t[TRANSCRIPT_MAX];
    size_t tl = transcript(a, t);
    /* The peer proves in the other role, with our current cookie or, during a rotation,
     * our next one. */
    const struct rs_auth_key *cand[2] = {&a->keys->cur, a->keys->has_next ? &a->keys->next : NULL};
    const struct rs_auth_key *used = NULL;
    for (int i = 0; i < 2 && !used; i++)
        if (cand[i] && crypto_auth_hmacsha256_verify(
                           mac, t, tl, a->dialer ? cand[i]->acceptor : cand[i]->dialer) == 0) {
            used = cand[i];
            a->peer_used_next = i == 1;
        }
    if (!used)
        return refuse(a, out, "authentication failed: the two nodes hold different cookies");
    memcpy(a->dialer ? a->session_a : a->session_d, used->session, 32);
    if (!a->dialer && send_proof(a, out) != 0)
        return -1;
    session_keys(a, t, tl);
    a->aead = rs_seal_choose(a->self_features, a->peer_features);
    a->state = RS_AUTH_DONE;
    return 0;
}

static void on_refuse(struct rs_auth *a, const uint8_t *f, size_t n)
{
    char why[210];
    if (rs_hs_refuse_decode(f, n, why, sizeof why) != RS_HS_OK) {
        fail(a, rs_hs_strerror(RS_HS_E_REFUSE));
        return;
    }
    char msg[sizeof a->why];
    snprintf(msg, sizeof msg, "refused by the peer: %.170s", why);
    fail(a, msg);
}

void rs_auth_bad_frame(struct rs_auth *a, int res, size_t declared)
{
    char why[96];
    if (res == RS_WIRE_E_TOOBIG)
        snprintf(why, sizeof why, "handshake frame too big (%zu bytes declared, at most %u): "
                 "not a roster node?", declared, RS_PEER_FRAME_MAX - 4);
    else if (res == RS_WIRE_E_SHORT)
        snprintf(why, sizeof why, "handshake frame too short");
    else
        snprintf(why, sizeof why, "handshake frame: %s", rs_wire_strerror(res));
    fail(a, why);
}

static void not_handshake(struct rs_auth *a, uint8_t type)
{
    char why[80];
    snprintf(why, sizeof why, "not a handshake frame (type %u)", type);
    fail(a, why);
}

void rs_auth_partial(struct rs_auth *a, const uint8_t *p, size_t n)
{
    if (n >= 5 && p[4] != RS_HS_HELLO && p[4] != RS_HS_PROOF && p[4] != RS_HS_REFUSE)
        not_handshake(a, p[4]);
}

int rs_auth_frame(struct rs_auth *a, const uint8_t *f, size_t n, struct rs_buf *out)
{
    int r = rs_hs_check(f, n);
    if (r == RS_HS_E_TYPE) {
        not_handshake(a, f[4]);
        return 0;
    }
    if (r != RS_HS_OK) {
        fail(a, rs_hs_strerror(r));
        return 0;
    }
    if (f[4] == RS_HS_REFUSE) {
        on_refuse(a, f, n);
        return 0;
    }
    if (f[4] == RS_HS_HELLO && a->state == RS_AUTH_WAIT_HELLO)
        return on_hello(a, f, n, out);
    if (f[4] == RS_HS_PROOF && a->state == RS_AUTH_WAIT_PROOF)
        return on_proof(a, f, n, out);
    fail(a, f[4] == RS_HS_HELLO ? "unexpected second HELLO" : "unexpected PROOF before HELLO");
    return 0;
}

size_t rs_auth_input(struct rs_auth *a, const uint8_t *p, size_t len, struct rs_buf *out)
{
    struct rs_wire_reader rd;
    rs_wire_reader_init(&rd, RS_PEER_FRAME_MAX - 4, RS_PEER_FRAME_MAX);
    rs_wire_reader_lend(&rd, p, len);
    size_t used = 0;
    while (rs_auth_busy(a)) {
        const uint8_t *f;
        size_t n;
        int r = rs_wire_reader_next(&rd, &f, &n);
        if (r == RS_WIRE_NEED_MORE) {
            const uint8_t *head = rs_wire_reader_pending(&rd, &n);
            rs_auth_partial(a, head, n);
            break;
        }
        if (r == RS_WIRE_READER_E_NOMEM) {
            used = (size_t)-1;
            break;
        }
        if (r != RS_WIRE_OK) {
            rs_auth_bad_frame(a, r, n);
            break;
        }
        used += n;
        if (rs_auth_frame(a, f, n, out) != 0) {
            used = (size_t)-1;
            break;
        }
    }
    rs_wire_reader_reset(&rd);
    rs_wire_reader_fini(&rd);
    return used;
}
