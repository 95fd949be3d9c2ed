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
 * Each side proves with its current cookie and accepts a proof made with its current or its
 * next cookie (a rotation window). At DONE both sides derive the two per-direction keys of
 * the sealed link (seal.h) from the session subkeys of the two cookies that proved and from
 * HELLO_d || HELLO_a (both nonces): keys are fresh for every connection.
 *
 * Each proof covers both fresh random nonces (so it cannot be replayed on another
 * connection), names its role through the key (so a proof cannot be reflected back in the
 * other role), and the acceptor proves nothing to a dialer that has not proven itself. A
 * HELLO carrying this node's own incarnation (a connection to itself, or this node's own
 * HELLO reflected) or its name is refused. A side that refuses sends REFUSE(reason) so the
 * other logs why, then closes.
 *
 * The frames themselves (their format, size bound and version) are the wire's:
 * src/wire/handshake.h. This module does no I/O and no framing: rs_auth_frame takes one whole
 * frame from the connection's frame reader and appends the frames to send. */
#ifndef ROSTER_NODE_AUTH_H
#define ROSTER_NODE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "wire/handshake.h"

#define RS_AUTH_BINDING_BYTES 32u

/* The keys derived from one cookie: one per proof role, one for the session keys. */
struct rs_auth_key {
    uint8_t dialer[32];
    uint8_t acceptor[32];
    uint8_t session[32];
};

/* A node's keys: the cookie it proves with, and during a rotation a second one it accepts
 * from peers (--cookie-file-next). */
struct rs_auth_keys {
    struct rs_auth_key cur;
    struct rs_auth_key next;
    int has_next;
};

/* rs_auth_keys_derive derives the current cookie's keys (and forgets any next cookie). */
void rs_auth_keys_derive(struct rs_auth_keys *k, const uint8_t *cookie, size_t len);
/* rs_auth_keys_derive_next derives the keys of the second accepted cookie. */
void rs_auth_keys_derive_next(struct rs_auth_keys *k, const uint8_t *cookie, size_t len);

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
    uint8_t hello_d[RS_PEER_FRAME_MAX];
    size_t hello_d_len;
    uint8_t hello_a[RS_PEER_FRAME_MAX];
    size_t hello_a_len;
    /* The peer, from its HELLO. */
    char peer_name[RS_NODE_NAME_MAX + 1];
    uint64_t peer_inc;
    char peer_addr[RS_PEER_ADDR_MAX + 1];
    uint16_t peer_version;
    /* The session subkeys of the cookies the dialer's and the acceptor's proofs used, kept
     * from the moment each proof was made or checked (a cookie reload meanwhile does not
     * change them); at DONE, the per-direction keys derived from both and the transcript
     * (rs_auth_session_keys), and which of its cookies the peer proved with. */
    uint8_t session_d[32];
    uint8_t session_a[32];
    uint8_t tx_key[32];
    uint8_t rx_key[32];
    int peer_used_next; /* the peer proved with our next cookie (a rotation under way) */
    uint16_t self_features, peer_features; /* from the HELLOs (RS_HS_FEAT_*) */
    int aead;                              /* the link's AEAD (seal.h), chosen from both */
    /* Why the handshake failed (RS_AUTH_FAILED), for the log. */
    char why[200];
    int self_conn; /* the failure was a connection to this very node */
    /* Over TLS (tls.h): a value both ends of this TLS connection, and only they, derived
     * from its secrets (the TLS exporter); both proofs cover it after the HELLOs, so a
     * proof made on one TLS connection fails on any other (a relay that holds a valid
     * certificate cannot pass the cookie proof through). */
    uint8_t binding[RS_AUTH_BINDING_BYTES];
    int has_binding;
};

/* rs_auth_start prepares a handshake and appends this side's HELLO to out. nonce is
 * RS_PEER_NONCE_BYTES fresh random bytes. Returns 0, or -1 if out of memory. */
int rs_auth_start(struct rs_auth *a, int dialer, const struct rs_auth_keys *keys,
                  const char *self_name, uint64_t self_inc, const char *self_addr,
                  const uint8_t *nonce, struct rs_buf *out);

/* rs_auth_start_features is rs_auth_start announcing features instead of what this machine
 * can do (rs_seal_local_features): tests force a cipher with it. */
int rs_auth_start_features(struct rs_auth *a, int dialer, const struct rs_auth_keys *keys,
                           const char *self_name, uint64_t self_inc, const char *self_addr,
                           const uint8_t *nonce, uint16_t features, struct rs_buf *out);

/* rs_auth_bind makes both proofs cover binding (RS_AUTH_BINDING_BYTES: the TLS
 * connection's exporter value); call it right after rs_auth_start, before any frame. */
void rs_auth_bind(struct rs_auth *a, const uint8_t *binding);

static inline int rs_auth_busy(const struct rs_auth *a)
{
    return a->state == RS_AUTH_WAIT_HELLO || a->state == RS_AUTH_WAIT_PROOF;
}

/* rs_auth_wipe zeroes every key held by a (after DONE, once the keys were taken). */
void rs_auth_wipe(struct rs_auth *a);

/* rs_auth_frame takes one whole handshake frame (f, n bytes: what the frame reader handed
 * out) while rs_auth_busy, and appends the answer to out: the state moves on, to DONE (the
 * frames that follow belong to the peer protocol) or FAILED (why set, a REFUSE possibly
 * appended). Returns 0, or -1 only if out of memory. */
int rs_auth_frame(struct rs_auth *a, const uint8_t *f, size_t n, struct rs_buf *out);

/* rs_auth_partial judges the header of the frame under way (p, n bytes: not all of it yet)
 * while rs_auth_busy: a type that is not a handshake's fails at once, without waiting for a
 * body. */
void rs_auth_partial(struct rs_auth *a, const uint8_t *p, size_t n);

/* rs_auth_bad_frame fails the handshake on what the frame reader refused (result res of
 * rs_wire_reader_next, declared the length it read). */
void rs_auth_bad_frame(struct rs_auth *a, int res, size_t declared);

/* rs_auth_input feeds a byte stream instead (tests, the fuzz target): it takes the whole
 * frames of p[0, len) through a frame reader and returns the bytes consumed; it stops right
 * after the frame that completes the handshake (the rest of p belongs to the peer protocol),
 * at an incomplete frame, or at a failure. Returns (size_t)-1 only if out of memory. */
size_t rs_auth_input(struct rs_auth *a, const uint8_t *p, size_t len, struct rs_buf *out);

#endif
