/* auth.h: the peer handshake that runs on every node-to-node TCP connection before the core
 * hears of it (docs/CLUSTER.md, "Nodes and connections").
 *
 * Both sides hold the cluster cookie. From it each derives two 32-byte keys (one per role)
 * with HMAC-SHA-256 (libsodium crypto_auth_hmacsha256); the cookie itself never crosses the
 * wire. The exchange, on a connection the dialer opened:
 *
 *   dialer   -> HELLO(magic, version, nonce_d, incarnation, name, listen address)
 *   acceptor -> HELLO(magic, version, nonce_a, ...)           (sent at accept, unprompted)
 *   dialer   -> PROOF(HMAC(k_dialer,   HELLO_d || HELLO_a))   once HELLO_a arrived
 *   acceptor -> PROOF(HMAC(k_acceptor, HELLO_d || HELLO_a))   only after PROOF_d verified
 *
 * Each proof covers both fresh random nonces (so it cannot be replayed on another
 * connection), names its role through the key (so a proof cannot be reflected back in the
 * other role), and the acceptor proves nothing to a dialer that has not proven itself. A
 * HELLO carrying this node's own incarnation (a connection to itself, or this node's own
 * HELLO reflected) or its name is refused. A side that refuses sends REFUSE(reason) so the
 * other logs why, then closes.
 *
 * Handshake frames have the client protocol's framing (u32 length prefix, then type, flags,
 * reserved) with their own types, and are at most RS_AUTH_FRAME_MAX bytes: a longer declared
 * length, an unknown type or a malformed body ends the handshake at once.
 *
 * This module does no I/O: rs_auth_input consumes bytes and appends the frames to send. */
#ifndef ROSTER_NODE_AUTH_H
#define ROSTER_NODE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RS_AUTH_FRAME_MAX 512u /* bytes of a handshake frame, length prefix included */
#define RS_AUTH_VERSION 1u     /* cluster protocol version, checked in HELLO */
#define RS_AUTH_MAGIC 0x52505352u /* "RSPR" */
#define RS_AUTH_NONCE_BYTES 32u
#define RS_AUTH_MAC_BYTES 32u
#define RS_AUTH_NAME_MAX 64u  /* node names: 1..64 bytes of [A-Za-z0-9._-] */
#define RS_AUTH_ADDR_MAX 255u /* listen address "host:port" */

/* Handshake frame types (outside the wire's message types). */
enum { RS_HS_HELLO = 0xF0, RS_HS_PROOF = 0xF1, RS_HS_REFUSE = 0xF2 };

struct rs_auth_keys {
    uint8_t dialer[32];
    uint8_t acceptor[32];
};

/* rs_auth_keys_derive derives both role keys from the cookie bytes. */
void rs_auth_keys_derive(struct rs_auth_keys *k, const uint8_t *cookie, size_t len);

/* rs_auth_name_ok says whether s (len bytes) is a valid node name. */
static inline int rs_auth_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > RS_AUTH_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

enum rs_auth_state {
    RS_AUTH_WAIT_HELLO = 0, /* our HELLO sent, waiting for the peer's */
    RS_AUTH_WAIT_PROOF = 1, /* waiting for the peer's PROOF */
    RS_AUTH_DONE = 2,       /* authenticated: following bytes are peer frames */
    RS_AUTH_FAILED = 3,
};

struct rs_auth {
    int dialer;
    int state;
    const struct rs_auth_keys *keys;
    const char *self_name;
    uint64_t self_inc;
    uint8_t hello_d[RS_AUTH_FRAME_MAX];
    size_t hello_d_len;
    uint8_t hello_a[RS_AUTH_FRAME_MAX];
    size_t hello_a_len;
    /* The peer, from its HELLO. */
    char peer_name[RS_AUTH_NAME_MAX + 1];
    uint64_t peer_inc;
    char peer_addr[RS_AUTH_ADDR_MAX + 1];
    uint16_t peer_version;
    /* Why the handshake failed (RS_AUTH_FAILED), for the log. */
    char why[200];
    int self_conn; /* the failure was a connection to this very node */
};

/* rs_auth_start prepares a handshake and appends this side's HELLO to out. nonce is
 * RS_AUTH_NONCE_BYTES fresh random bytes. Returns 0, or -1 if out of memory. */
int rs_auth_start(struct rs_auth *a, int dialer, const struct rs_auth_keys *keys,
                  const char *self_name, uint64_t self_inc, const char *self_addr,
                  const uint8_t *nonce, struct rs_buf *out);

/* rs_auth_input consumes whole handshake frames from p[0, len) and appends replies to out.
 * Returns the bytes consumed; it stops right after the frame that completes the handshake
 * (state RS_AUTH_DONE: the rest of p belongs to the peer protocol), when a frame is
 * incomplete, or at a failure (state RS_AUTH_FAILED, why set, a REFUSE possibly appended to
 * out). Returns (size_t)-1 only if out of memory. */
size_t rs_auth_input(struct rs_auth *a, const uint8_t *p, size_t len, struct rs_buf *out);

#endif
