/* peer.h: node-to-node connections (docs/CLUSTER.md). A peer conn is a struct rs_conn over
 * TCP with a struct rsd_peer attached: it shares the client conns' id space, write queue,
 * flushing and close path (conn.c), and adds the handshake (auth.h), which must complete
 * within RS_HANDSHAKE_TIMEOUT_MS (base/limits.h) of the connect or accept before anything
 * else is parsed, then feeds the core PEER_UP, one PEER_MSG per frame, and PEER_GONE exactly once.
 * Dialed conns come from dial.c, which keeps a connection to every address it was given. */
#ifndef ROSTER_NODE_PEER_H
#define ROSTER_NODE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/auth.h"
#include "base/limits.h"
#include "node/conn.h"
#include "node/node.h"
#include "node/seal.h"

struct rs_dial;

struct rsd_peer {
    struct rs_conn *conn;
    struct rs_auth auth;
    uv_connect_t connect_req;
    struct rs_dial *dial; /* dialed conns: the address it serves */
    uint8_t dialed;
    uint8_t connecting; /* TCP connect under way */
    uint8_t up;         /* PEER_UP fed: PEER_MSG and, at close, PEER_GONE follow */
    uint64_t started_ms;
    uint64_t up_ms;         /* when PEER_UP was fed */
    struct rs_link hs_link; /* node->handshaking while not up */
    size_t hs_unreported;   /* handshake bytes queued: not reported as FLUSHED */
    /* Once up, the link is sealed (seal.h): the core's frames gather in plain and are sealed
     * into records when the conn flushes (one record per batch); sealed_q bytes of records
     * queued hold plain_q bytes of the core's, so FLUSHED reports the core's share. */
    uint8_t sealed;
    struct rs_seal seal;
    struct rs_buf plain;
    size_t plain_q, sealed_q;
    /* The frames of an opened record not yet applied when the connection's fair turn ended
     * inside it (conn.c process(): each frame of a record is one unit of the turn, as on an
     * unsealed link), copied out of the shared read buffer; applied first at the next turn. */
    struct rs_buf rx_rest;
    size_t rx_off;
    char label[RS_NODE_NAME_MAX + 120]; /* for logs: "name at addr" or the remote address */
    /* With --peer-tls-* (tls.h): the connection's TLS session; every byte of the conn goes
     * through it, the cookie handshake included; plain gathers every plaintext frame (the
     * cookie handshake's too: hs_plain bytes of it at its head are not the core's). */
    struct rs_tls *tls;
    size_t hs_plain;
    uint8_t sniffed; /* the first bytes from the peer were judged (TLS or not) */
};

/* rs_peer_conn_new creates a peer conn (TCP handle initialised, id given, deadline armed). */
struct rs_conn *rs_peer_conn_new(struct rsd *n, int dialed);
/* rs_peer_begin starts the handshake on a connected conn: TCP_NODELAY, HELLO, reading. */
void rs_peer_begin(struct rs_conn *c);
/* rs_peer_handshake takes what the conn's frame reader gave (conn.c's read path, until up):
 * result r of rs_wire_reader_next with its frame f of n bytes, a refused length n, or
 * RS_WIRE_NEED_MORE (the header of the frame under way is judged). Returns 0 to read on,
 * or -1 if the conn is closing. */
int rs_peer_handshake(struct rs_conn *c, int r, const uint8_t *f, size_t n);
/* rs_peer_closed runs once when a peer conn closes: PEER_GONE if it was up, dial upkeep. */
void rs_peer_closed(struct rs_conn *c);
/* rs_peer_flushed adjusts *n written bytes to the core's share; 1 if FLUSHED is due. */
int rs_peer_flushed(struct rs_conn *c, size_t *n);
const char *rs_peer_label(const struct rs_conn *c);
/* rs_peer_seal_pending seals the frames gathered in plain into the conn's output (conn.c,
 * before it writes). */
void rs_peer_seal_pending(struct rs_conn *c);
/* rs_peer_open opens one sealed record (a whole frame from the reader, in the node's own
 * buffer: decrypted in place) and points *plain at its frames. 0, or -1 after asking the
 * conn to close with the logged reason. */
int rs_peer_open(struct rs_conn *c, uint8_t *rec, size_t n, uint8_t **plain, size_t *plen);
/* rs_peer_plain is where the core's frames for c go: the buffer to seal, or NULL if c is
 * not a sealed peer link (they go to the conn's output as they are). */
static inline struct rs_buf *rs_peer_plain(struct rs_conn *c)
{
    return c->peer && (c->peer->sealed || c->peer->tls) ? &c->peer->plain : NULL;
}
static inline int rs_peer_is_up(const struct rs_conn *c) { return c->peer && c->peer->up; }

/* rs_peer_auth_start starts the cookie handshake (HELLO): at once on a plain link, once
 * TLS is established on a TLS one (tls.c), binding the proofs to it (binding non-NULL). */
void rs_peer_auth_start(struct rs_conn *c, const uint8_t *binding);
/* rs_peer_sniff judges the first bytes a peer sent (p, n > 0): a TLS node refuses a peer
 * that does not speak TLS, a node without TLS one that does, each with a logged reason.
 * 0, or -1 after asking the conn to close. */
int rs_peer_sniff(struct rs_conn *c, const uint8_t *p, size_t n);

/* dial.c: the dial side's part of a conn's life. */
void rs_dial_on_up(struct rs_conn *c);
void rs_dial_on_closed(struct rs_conn *c);

/* cookie.c: loads the cluster cookie (cfg->cookie_file, or the default path, creating a
 * random one there if absent) and the next one (cfg->cookie_file_next, optional) and derives
 * the handshake keys. 0, or -1 (logged). */
int rs_cookie_load(const struct rsd_config *cfg, struct rs_auth_keys *keys);
/* rs_cookie_reload re-reads the cookie files (SIGHUP) into n->keys; on any error it logs
 * why and keeps the keys it had. */
void rs_cookie_reload(struct rsd *n);

#endif
