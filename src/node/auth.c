/* auth.c: the peer handshake (see auth.h): frames, key derivation, proofs. No I/O.
 *
 * HELLO body (after the 8-byte header: len u32, type u8, flags u8 = 0, reserved u16 = 0):
 *   magic u32, version u16, reserved u16 = 0, nonce[32], incarnation u64,
 *   name_len u8, name, addr_len u8, addr
 * PROOF body: mac[32].  REFUSE body: text_len u8, text.
 * magic and version sit at fixed offsets so that any later version is recognised as such. */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define HDR 8u
#define HELLO_FIXED (HDR + 4u + 2u + 2u + RS_AUTH_NONCE_BYTES + 8u)

static const char LABEL_DIALER[] = "roster cluster handshake v1: dialer";
static const char LABEL_ACCEPTOR[] = "roster cluster handshake v1: acceptor";

static void derive(uint8_t out[32], const uint8_t *cookie, size_t len, const char *label)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, cookie, len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void rs_auth_keys_derive(struct rs_auth_keys *k, const uint8_t *cookie, size_t len)
{
    derive(k->dialer, cookie, len, LABEL_DIALER);
    derive(k->acceptor, cookie, len, LABEL_ACCEPTOR);
}

static int addr_ok(const uint8_t *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return 0;
    return 1;
}

static void header(uint8_t *p, size_t total, uint8_t type)
{
    rs_put_u32(p, (uint32_t)(total - 4));
    p[4] = type;
    p[5] = 0;
    rs_put_u16(p + 6, 0);
}

static void fail(struct rs_auth *a, const char *why)
{
    a->state = RS_AUTH_FAILED;
    snprintf(a->why, sizeof a->why, "%s", why);
}

/* refuse fails and tells the peer why (best effort: REFUSE is a courtesy). */
static int refuse(struct rs_auth *a, struct rs_buf *out, const char *why)
{
    uint8_t f[HDR + 1 + 200];
    size_t n = strlen(why);
    if (n > 200)
        n = 200;
    header(f, HDR + 1 + n, RS_HS_REFUSE);
    f[HDR] = (uint8_t)n;
    memcpy(f + HDR + 1, why, n);
    fail(a, why);
    return rs_buf_append(out, f, HDR + 1 + n);
}

int rs_auth_start(struct rs_auth *a, int dialer, const struct rs_auth_keys *keys,
                  const char *self_name, uint64_t self_inc, const char *self_addr,
                  const uint8_t *nonce, struct rs_buf *out)
{
    memset(a, 0, sizeof *a);
    a->dialer = dialer;
    a->keys = keys;
    a->self_name = self_name;
    a->self_inc = self_inc;
    a->state = RS_AUTH_WAIT_HELLO;
    size_t nl = strlen(self_name), al = self_addr ? strlen(self_addr) : 0;
    if (nl > RS_AUTH_NAME_MAX)
        nl = RS_AUTH_NAME_MAX;
    if (al > RS_AUTH_ADDR_MAX)
        al = RS_AUTH_ADDR_MAX;
    uint8_t *h = dialer ? a->hello_d : a->hello_a;
    size_t total = HELLO_FIXED + 1 + nl + 1 + al;
    header(h, total, RS_HS_HELLO);
    rs_put_u32(h + HDR, RS_AUTH_MAGIC);
    rs_put_u16(h + HDR + 4, RS_AUTH_VERSION);
    rs_put_u16(h + HDR + 6, 0);
    memcpy(h + HDR + 8, nonce, RS_AUTH_NONCE_BYTES);
    rs_put_u64(h + HDR + 8 + RS_AUTH_NONCE_BYTES, self_inc);
    uint8_t *q = h + HELLO_FIXED;
    *q++ = (uint8_t)nl;
    memcpy(q, self_name, nl);
    q += nl;
    *q++ = (uint8_t)al;
    if (al)
        memcpy(q, self_addr, al);
    if (dialer)
        a->hello_d_len = total;
    else
        a->hello_a_len = total;
    return rs_buf_append(out, h, total);
}

/* on_hello parses the peer's HELLO (frame f of n bytes); 0, or -1 (out of memory). */
static int on_hello(struct rs_auth *a, const uint8_t *f, size_t n, struct rs_buf *out)
{
    if (n < HELLO_FIXED) {
        fail(a, "malformed HELLO (too short)");
        return 0;
    }
    if (rs_get_u32(f + HDR) != RS_AUTH_MAGIC) {
        fail(a, "HELLO with a bad magic");
        return 0;
    }
    a->peer_version = rs_get_u16(f + HDR + 4);
    if (a->peer_version != RS_AUTH_VERSION) {
        char why[96];
        snprintf(why, sizeof why, "cluster protocol version %u is not supported (this node "
                 "speaks %u)", (unsigned)a->peer_version, RS_AUTH_VERSION);
        return refuse(a, out, why);
    }
    const uint8_t *q = f + HELLO_FIXED, *end = f + n;
    if (rs_get_u16(f + HDR + 6) != 0 || q >= end || *q > RS_AUTH_NAME_MAX ||
        (size_t)(end - q) < 1u + *q + 1u) {
        fail(a, "malformed HELLO");
        return 0;
    }
    size_t nl = *q++;
    const uint8_t *name = q;
    q += nl;
    size_t al = *q++;
    if ((size_t)(end - q) != al || !rs_auth_name_ok((const char *)name, nl) ||
        (al && !addr_ok(q, al))) {
        fail(a, "malformed HELLO (bad name or address)");
        return 0;
    }
    memcpy(a->peer_name, name, nl);
    a->peer_name[nl] = 0;
    memcpy(a->peer_addr, q, al);
    a->peer_addr[al] = 0;
    a->peer_inc = rs_get_u64(f + HDR + 8 + RS_AUTH_NONCE_BYTES);
    if (a->peer_inc == 0) {
        fail(a, "malformed HELLO (incarnation 0)");
        return 0;
    }
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
    uint8_t proof[HDR + RS_AUTH_MAC_BYTES];
    header(proof, sizeof proof, RS_HS_PROOF);
    uint8_t t[2 * RS_AUTH_FRAME_MAX];
    memcpy(t, a->hello_d, a->hello_d_len);
    memcpy(t + a->hello_d_len, a->hello_a, a->hello_a_len);
    crypto_auth_hmacsha256(proof + HDR, t, a->hello_d_len + a->hello_a_len, a->keys->dialer);
    return rs_buf_append(out, proof, sizeof proof);
}

static int on_proof(struct rs_auth *a, const uint8_t *f, size_t n, struct rs_buf *out)
{
    if (n != HDR + RS_AUTH_MAC_BYTES) {
        fail(a, "malformed PROOF");
        return 0;
    }
    uint8_t t[2 * RS_AUTH_FRAME_MAX];
    memcpy(t, a->hello_d, a->hello_d_len);
    memcpy(t + a->hello_d_len, a->hello_a, a->hello_a_len);
    size_t tl = a->hello_d_len + a->hello_a_len;
    const uint8_t *their_key = a->dialer ? a->keys->acceptor : a->keys->dialer;
    if (crypto_auth_hmacsha256_verify(f + HDR, t, tl, their_key) != 0)
        return refuse(a, out, "authentication failed: the two nodes hold different cookies");
    if (!a->dialer) {
        uint8_t proof[HDR + RS_AUTH_MAC_BYTES];
        header(proof, sizeof proof, RS_HS_PROOF);
        crypto_auth_hmacsha256(proof + HDR, t, tl, a->keys->acceptor);
        if (rs_buf_append(out, proof, sizeof proof) != 0)
            return -1;
    }
    a->state = RS_AUTH_DONE;
    return 0;
}

size_t rs_auth_input(struct rs_auth *a, const uint8_t *p, size_t len, struct rs_buf *out)
{
    size_t off = 0;
    while (a->state == RS_AUTH_WAIT_HELLO || a->state == RS_AUTH_WAIT_PROOF) {
        if (len - off < 4)
            break;
        uint32_t flen = rs_get_u32(p + off);
        if ((size_t)flen + 4 > RS_AUTH_FRAME_MAX) {
            char why[96];
            snprintf(why, sizeof why, "handshake frame too big (%u bytes declared, at most "
                     "%u): not a roster node?", flen, RS_AUTH_FRAME_MAX - 4);
            fail(a, why);
            break;
        }
        if (flen + 4 < HDR) {
            fail(a, "handshake frame too short");
            break;
        }
        if (len - off >= 5 && p[off + 4] != RS_HS_HELLO && p[off + 4] != RS_HS_PROOF &&
            p[off + 4] != RS_HS_REFUSE) {
            char why[80];
            snprintf(why, sizeof why, "not a handshake frame (type %u)", p[off + 4]);
            fail(a, why);
            break;
        }
        size_t n = (size_t)flen + 4;
        if (len - off < n)
            break;
        const uint8_t *f = p + off;
        off += n;
        int r = 0;
        if (f[5] != 0 || rs_get_u16(f + 6) != 0) {
            fail(a, "handshake frame with reserved bits set");
        } else if (f[4] == RS_HS_REFUSE) {
            char why[210];
            size_t tl = n > HDR ? f[HDR] : 0;
            if (n < HDR + 1 || tl != n - HDR - 1) {
                fail(a, "malformed REFUSE");
            } else {
                size_t k = 0;
                for (size_t i = 0; i < tl && k < sizeof why - 1; i++) {
                    uint8_t ch = f[HDR + 1 + i];
                    why[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
                }
                why[k] = 0;
                char msg[sizeof a->why];
                snprintf(msg, sizeof msg, "refused by the peer: %.170s", why);
                fail(a, msg);
            }
        } else if (f[4] == RS_HS_HELLO && a->state == RS_AUTH_WAIT_HELLO) {
            r = on_hello(a, f, n, out);
        } else if (f[4] == RS_HS_PROOF && a->state == RS_AUTH_WAIT_PROOF) {
            r = on_proof(a, f, n, out);
        } else {
            fail(a, f[4] == RS_HS_HELLO ? "unexpected second HELLO"
                                              : "unexpected PROOF before HELLO");
        }
        if (r != 0)
            return (size_t)-1;
    }
    return off;
}
