/* tls.h: TLS 1.3 with certificates on peer links (--peer-tls-cert/-key/-ca), for sites that
 * manage keys that way (docs/SECURITY.md, "TLS on peer links").
 *
 * Composition: TLS carries the whole TCP connection from its first byte; both sides must
 * present a certificate that the roots of --peer-tls-ca sign (mutual authentication). The
 * cookie handshake (auth.h) then runs inside TLS, its proofs also covering a value only the
 * two ends of this TLS connection know (the TLS exporter, RFC 8446 7.5), so a certificate
 * alone cannot join a cluster whose cookie it lacks, and a relay holding a valid certificate
 * cannot pass proofs between two nodes. Inside TLS the link is not sealed again (seal.h):
 * TLS records already are authenticated encryption with implicit sequence numbers, so an
 * altered, replayed, reordered, dropped or injected record fails in OpenSSL and the link
 * closes with the reason in the log.
 *
 * Never blocking the loop: the SSL object never sees the socket, only a BIO of ours that
 * works like a memory BIO without copying: SSL reads the bytes libuv just read where they
 * lie, and the plaintext it produces goes into the conn's frame reader (conn.c's read path
 * is unchanged past that point); the frames the node queues gather in the peer's plain
 * buffer and are encrypted when the conn flushes, the TLS records appended to the conn's
 * output like any bytes. The TLS handshake runs inside the peer handshake deadline.
 *
 * SIGHUP re-reads the three files into a new context: new connections use it, established
 * links keep theirs. A reload that fails (a file unreadable, a key that does not match)
 * is logged and the context in force stays. */
#ifndef ROSTER_NODE_TLS_H
#define ROSTER_NODE_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "node/node.h"

struct rs_conn;
struct rs_tls;

/* rsd_tls_load builds the node's TLS context from cfg (nothing without --peer-tls-*): 0, or
 * -1 with the reason logged (the node does not start). */
int rsd_tls_load(struct rsd *n);
/* rsd_tls_reload re-reads the files (SIGHUP); a failure keeps the context in force. */
void rsd_tls_reload(struct rsd *n);
void rsd_tls_free(struct rsd *n);
static inline int rsd_tls_on(const struct rsd *n) { return n->tls_ctx != NULL; }

/* rs_tls_conn_start gives peer conn c its TLS session (client on a dialed conn, server on an
 * accepted one) and, dialing, queues the ClientHello. */
void rs_tls_conn_start(struct rs_conn *c);
/* rs_tls_conn_free ends c's session (the conn is closing: nothing more is sent). */
void rs_tls_conn_free(struct rs_conn *c);
/* rs_tls_input takes n bytes read from the socket: the TLS handshake moves on (and, once it
 * completes, the cookie handshake starts), plaintext goes to the conn's frame reader.
 * 0, or -1 after asking the conn to close with the logged reason. */
int rs_tls_input(struct rs_conn *c, const uint8_t *p, size_t n);
/* rs_tls_output encrypts the frames gathered in the peer's plain buffer into the conn's
 * output (conn.c's flush, before it writes); nothing before TLS is established. */
void rs_tls_output(struct rs_conn *c);
/* rs_tls_read_buf gives a buffer to read ciphertext into when the node's shared one is busy. */
uint8_t *rs_tls_read_buf(struct rs_conn *c, size_t *cap);
/* rs_tls_describe writes what the log says of an established session: version, cipher,
 * the peer certificate's subject. */
void rs_tls_describe(const struct rs_conn *c, char *out, size_t cap);

/* rs_tls_names says whether the peer's certificate names node name: a DNS name of its
 * subjectAltName, or its common name when it has none (X509_check_host). */
int rs_tls_names(const struct rs_conn *c, const char *name);
/* rs_tls_peer_subject writes the peer certificate's subject ("" without one). */
void rs_tls_peer_subject(const struct rs_conn *c, char *out, size_t cap);

/* rs_tls_looks_like says whether the first bytes of a stream (n >= 1) are a TLS handshake
 * record's (content type 22, version 3.x): how a node without TLS recognises a TLS peer. */
static inline int rs_tls_looks_like(const uint8_t *p, size_t n)
{
    return n >= 1 && p[0] == 0x16 && (n < 2 || p[1] == 0x03);
}

#endif
