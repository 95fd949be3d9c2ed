/* peer.c: peer connections (see peer.h): the TCP listener, the handshake on each
 * connection, PEER_UP / PEER_GONE, the handshake deadline. */
#include "node/peer.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "node/log.h"
#include "node/tls.h"

#define PEER_BACKLOG 128
#ifdef ROSTER_BENCH_UNSEALED
#define ROSTER_UNSEALED_REFERENCE 1
#else
#define ROSTER_UNSEALED_REFERENCE 0
#endif
#define PLAIN_KEEP_MAX (256u * 1024u) /* as conn.c keeps output buffers */

static void oom(void)
{
    rs_log(RS_LOG_ERROR, "out of memory");
    abort();
}

const char *rs_peer_label(const struct rs_conn *c) { return c->peer->label; }

/* sockname formats the remote address of a connected TCP handle. */
static void remote_text(uv_tcp_t *t, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, ip, sizeof ip);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, ip, sizeof ip);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(out, cap, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

struct rs_conn *rs_peer_conn_new(struct rsd *n, int dialed)
{
    struct rs_conn *c = rs_calloc(1, sizeof *c);
    struct rsd_peer *pe = rs_calloc(1, sizeof *pe);
    if (!c || !pe)
        oom();
    uv_tcp_init(&n->loop, &c->h.tcp);
    c->node = n;
    c->peer = pe;
    pe->conn = c;
    pe->dialed = (uint8_t)dialed;
    pe->started_ms = rsd_now(n);
    pe->connect_req.data = c;
    rs_conn_add(n, c);
    c->rd.frame_max = RS_PEER_FRAME_MAX - 4; /* handshake frames until it completes */
    rs_list_push(&n->handshaking, &pe->hs_link);
    n->n_handshaking++;
    return c;
}

static void send_hs(struct rs_conn *c, struct rs_buf *b)
{
    if (b->len) {
        rs_conn_send(c, b->data, b->len);
        /* over TLS the frames wait in plain for encryption (tls.c counts their records) */
        if (c->peer->tls)
            c->peer->hs_plain += b->len;
        else
            c->peer->hs_unreported += b->len;
    }
    rs_buf_fini(b);
}

void rs_peer_auth_start(struct rs_conn *c, const uint8_t *binding)
{
    struct rsd *n = c->node;
    struct rsd_peer *pe = c->peer;
    uint8_t nonce[RS_PEER_NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    struct rs_buf b;
    rs_buf_init(&b);
    if (rs_auth_start(&pe->auth, pe->dialed, &n->keys, n->cfg->name, n->incarnation,
                      n->cfg->listen_addr, nonce, &b) != 0)
        oom();
    if (binding)
        rs_auth_bind(&pe->auth, binding);
    send_hs(c, &b);
}

void rs_peer_begin(struct rs_conn *c)
{
    struct rsd *n = c->node;
    uv_tcp_nodelay(&c->h.tcp, 1);
    if (rsd_tls_on(n))
        rs_tls_conn_start(c); /* the cookie handshake starts once TLS is established */
    else
        rs_peer_auth_start(c, NULL);
    rs_conn_start_reading(c);
}

int rs_peer_sniff(struct rs_conn *c, const uint8_t *p, size_t n)
{
    struct rsd_peer *pe = c->peer;
    pe->sniffed = 1;
    int theirs = rs_tls_looks_like(p, n);
    if (pe->tls && !theirs) {
        static const char why[] =
            "the peer does not speak TLS (a node without --peer-tls-*?) and this node "
            "requires TLS on peer links: mixed clusters do not connect";
        /* Told in the clear, as a handshake REFUSE, so that the other node logs why too. */
        uint8_t f[RS_HS_REFUSE_BYTES_MAX];
        size_t k = rs_hs_refuse_encode(
            f, "TLS required on peer links (the refusing node runs with --peer-tls-*, this "
               "node without): mixed clusters do not connect");
        rs_conn_send_raw(c, f, k);
        pe->hs_unreported += k;
        rs_conn_request_close(c, RS_LOG_WARN, why, sizeof why - 1);
        return -1;
    }
    if (!pe->tls && theirs) {
        static const char why[] =
            "the peer speaks TLS (it runs with --peer-tls-*) and this node has no TLS on "
            "peer links: mixed clusters do not connect";
        rs_conn_request_close(c, RS_LOG_WARN, why, sizeof why - 1);
        return -1;
    }
    return 0;
}

static void hs_done(struct rsd *n, struct rsd_peer *pe)
{
    if (rs_linked(&pe->hs_link)) {
        rs_list_del(&pe->hs_link);
        n->n_handshaking--;
    }
}

int rs_peer_handshake(struct rs_conn *c, int r, const uint8_t *f, size_t fn)
{
    struct rsd *n = c->node;
    struct rsd_peer *pe = c->peer;
    struct rs_buf b;
    rs_buf_init(&b);
    if (r == RS_WIRE_NEED_MORE) {
        size_t held;
        const uint8_t *head = rs_wire_reader_pending(&c->rd, &held);
        rs_auth_partial(&pe->auth, head, held);
    } else if (r != RS_WIRE_OK) {
        rs_auth_bad_frame(&pe->auth, r, fn);
    } else if (rs_auth_frame(&pe->auth, f, fn, &b) != 0) {
        oom();
    }
    struct rs_auth *a = &pe->auth;
    if (pe->tls && n->cfg->peer_tls_names_strict && a->state == RS_AUTH_WAIT_PROOF &&
        !rs_tls_names(c, a->peer_name)) {
        /* The HELLO names a node the certificate does not: refused before any proof
         * (ours included) is sent, with the reason told to the peer. */
        char subj[100], why[200];
        rs_tls_peer_subject(c, subj, sizeof subj);
        snprintf(why, sizeof why, "TLS certificate %.60s does not name node '%.64s' "
                 "(--peer-tls-names strict)", subj, a->peer_name);
        uint8_t rf[RS_HS_REFUSE_BYTES_MAX];
        b.len = 0;
        if (rs_buf_append(&b, rf, rs_hs_refuse_encode(rf, why)) != 0)
            oom();
        a->state = RS_AUTH_FAILED;
        snprintf(a->why, sizeof a->why, "%s", why);
    }
    send_hs(c, &b);
    if (a->state == RS_AUTH_FAILED) {
        char why[260];
        int k = snprintf(why, sizeof why, "handshake failed: %s", a->why);
        if (k < 0 || (size_t)k >= sizeof why)
            k = (int)sizeof why - 1;
        rs_conn_request_close(c, a->self_conn ? RS_LOG_INFO : RS_LOG_WARN, why, (size_t)k);
        return -1;
    }
    if (a->state != RS_AUTH_DONE)
        return 0;
    pe->up = 1;
    char link[360];
    if (pe->tls) {
        /* TLS already authenticates and encrypts every record: plain peer frames inside. */
        char d[300];
        rs_tls_describe(c, d, sizeof d);
        snprintf(link, sizeof link, "link over TLS (%s)", d);
        rs_auth_wipe(a);
        c->rd.frame_max = n->cfg->limits.frame_max;
    } else if (ROSTER_UNSEALED_REFERENCE) {
        /* A benchmark build's reference point (CMake -DROSTER_BENCH_UNSEALED=ON): frames
         * in the clear, as before sealing existed. Nodes of normal builds refuse it. */
        rs_auth_wipe(a);
        c->rd.frame_max = n->cfg->limits.frame_max;
        snprintf(link, sizeof link, "link NOT SEALED (a ROSTER_BENCH_UNSEALED build, for "
                 "benchmarks only)");
    } else {
        /* From now on, sealed records of peer protocol frames, with keys fresh for this
         * link. */
        rs_seal_init(&pe->seal, a->aead, a->tx_key, a->rx_key);
        rs_auth_wipe(a);
        pe->sealed = 1;
        rs_buf_init(&pe->plain);
        rs_buf_init(&pe->rx_rest);
        pe->rx_off = 0;
        c->rd.frame_max = rs_seal_record_max(n->cfg->limits.frame_max);
        snprintf(link, sizeof link, "link sealed (%s)", rs_seal_aead_name(pe->seal.aead));
    }
    pe->up_ms = rsd_now(n);
    hs_done(n, pe);
    char remote[80];
    remote_text(&c->h.tcp, remote, sizeof remote);
    snprintf(pe->label, sizeof pe->label, "node %s at %s", a->peer_name, remote);
    rs_log(RS_LOG_INFO, "peer conn %llu: authenticated node %s (incarnation %016llx, listening "
           "on %s, %s%s); %s", (unsigned long long)c->id, a->peer_name,
           (unsigned long long)a->peer_inc, a->peer_addr[0] ? a->peer_addr : "-",
           pe->dialed ? "dialed" : "accepted",
           a->peer_used_next ? ", proved with the next cookie" : "", link);
    struct rs_input in = {.kind = RS_IN_PEER_UP,
                          .now_ms = rsd_now(n),
                          .conn = c->id,
                          .peer_name = rs_bytes_str(a->peer_name),
                          .peer_inc = a->peer_inc,
                          .peer_addr = rs_bytes_str(a->peer_addr),
                          .dialed = pe->dialed};
    size_t before = n->outs.n;
    rsd_apply(n, &in);
    rs_dial_on_up(c);
    for (size_t i = before; i < n->outs.n; i++)
        if (n->outs.v[i].kind == RS_OUT_CLOSE && n->outs.v[i].conn == c->id)
            return -1;
    return 0;
}

void rs_peer_closed(struct rs_conn *c)
{
    struct rsd *n = c->node;
    struct rsd_peer *pe = c->peer;
    hs_done(n, pe);
    if (pe->up) {
        struct rs_input in = {.kind = RS_IN_PEER_GONE, .now_ms = rsd_now(n), .conn = c->id};
        rsd_apply(n, &in);
    }
    rs_auth_wipe(&pe->auth);
    if (pe->sealed) { /* nothing is sent on a closing conn: the keys can go */
        rs_seal_wipe(&pe->seal);
        rs_buf_fini(&pe->plain);
        rs_buf_fini(&pe->rx_rest);
        pe->rx_off = 0;
        pe->sealed = 0;
    }
    if (pe->tls) {
        rs_tls_conn_free(c);
        rs_buf_fini(&pe->plain);
    }
    rs_dial_on_closed(c);
}

int rs_peer_flushed(struct rs_conn *c, size_t *nb)
{
    struct rsd_peer *pe = c->peer;
    if (pe->hs_unreported >= *nb) {
        pe->hs_unreported -= *nb;
        return 0;
    }
    *nb -= pe->hs_unreported;
    pe->hs_unreported = 0;
    if (pe->up && pe->sealed_q) {
        /* Written record bytes -> the core's bytes they carry: exact once a whole queue is
         * written, proportional (never more) in between. */
        size_t w = *nb;
        if (w >= pe->sealed_q) {
            *nb = pe->plain_q;
            pe->sealed_q = pe->plain_q = 0;
        } else {
            size_t over = pe->sealed_q - pe->plain_q;
            size_t share = w - (size_t)((uint64_t)over * w / pe->sealed_q);
            if (share > pe->plain_q)
                share = pe->plain_q;
            *nb = share;
            pe->sealed_q -= w;
            pe->plain_q -= share;
        }
        return *nb > 0;
    }
    return pe->up;
}

void rs_peer_seal_pending(struct rs_conn *c)
{
    struct rsd_peer *pe = c->peer;
    if (pe->tls) {
        rs_tls_output(c);
        return;
    }
    size_t len = pe->plain.len;
    if (!pe->sealed || len == 0)
        return;
    size_t w = rs_seal_frames(&pe->seal, pe->plain.data, len, &c->out);
    if (w == 0)
        oom();
    pe->plain_q += len;
    pe->sealed_q += w;
    pe->plain.len = 0;
    if (pe->plain.cap > PLAIN_KEEP_MAX) { /* a burst's buffer is not kept */
        rs_buf_fini(&pe->plain);
        rs_buf_init(&pe->plain);
    }
}

int rs_peer_open(struct rs_conn *c, uint8_t *rec, size_t n, uint8_t **plain, size_t *plen)
{
    struct rsd_peer *pe = c->peer;
    int r = rs_seal_open(&pe->seal, rec, n, plain, plen);
    if (r == RS_SEAL_OK)
        return 0;
    char why[200];
    int k;
    if (r == RS_SEAL_E_REPLAY || r == RS_SEAL_E_GAP)
        k = snprintf(why, sizeof why, "sealed link: %s: counter %llu, expected %llu",
                     rs_seal_strerror(r), (unsigned long long)pe->seal.got_counter,
                     (unsigned long long)pe->seal.rx.counter);
    else
        k = snprintf(why, sizeof why, "sealed link: %s (record of %zu bytes, after %llu good "
                     "ones)", rs_seal_strerror(r), n, (unsigned long long)pe->seal.rx.counter);
    if (k < 0 || (size_t)k >= sizeof why)
        k = (int)sizeof why - 1;
    rs_conn_request_close(c, RS_LOG_WARN, why, (size_t)k);
    return -1;
}

void rs_peer_check_handshakes(struct rsd *n)
{
    uint64_t now = rsd_now(n);
    struct rs_link *l = n->handshaking.next;
    while (l != &n->handshaking) {
        struct rs_link *next = l->next;
        struct rsd_peer *pe = RS_CONTAINER(l, struct rsd_peer, hs_link);
        if (now - pe->started_ms >= RS_HANDSHAKE_TIMEOUT_MS) {
            char why[96];
            snprintf(why, sizeof why, "%s timed out after %u ms",
                     pe->connecting ? "connect" : "handshake", RS_HANDSHAKE_TIMEOUT_MS);
            rs_conn_close(pe->conn, pe->connecting ? RS_LOG_DEBUG : RS_LOG_WARN, why);
        }
        l = next;
    }
}

/* ---- listener ---- */

static void on_peer_connection(uv_stream_t *server, int status)
{
    struct rsd *n = server->data;
    uint64_t now = rsd_now(n);
    if (status < 0) {
        if (now - n->peer_refused_logged_ms >= 1000 || n->peer_refused_logged_ms == 0) {
            n->peer_refused_logged_ms = now;
            rs_log(RS_LOG_WARN, "peer accept: %s", uv_strerror(status));
        }
        return;
    }
    struct rs_conn *c = rs_peer_conn_new(n, 0);
    int r = uv_accept(server, &c->h.stream);
    if (r < 0) {
        rs_conn_close(c, RS_LOG_WARN, uv_strerror(r));
        rsd_perform(n);
        return;
    }
    remote_text(&c->h.tcp, c->peer->label, sizeof c->peer->label);
    if (n->n_handshaking > RS_HANDSHAKES_MAX) {
        int lvl = RS_LOG_DEBUG;
        if (now - n->peer_refused_logged_ms >= 1000 || n->peer_refused_logged_ms == 0) {
            n->peer_refused_logged_ms = now;
            lvl = RS_LOG_WARN;
        }
        rs_conn_close(c, lvl, "too many pending peer handshakes");
        rsd_perform(n);
        return;
    }
    rs_log(RS_LOG_DEBUG, "peer conn %llu (%s): accepted", (unsigned long long)c->id,
           c->peer->label);
    rs_peer_begin(c);
    rsd_perform(n);
}

int rs_peer_listen_start(struct rsd *n)
{
    const struct rsd_config *cfg = n->cfg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port[8];
    snprintf(port, sizeof port, "%u", cfg->listen_port);
    int g = getaddrinfo(cfg->listen_host, port, &hints, &res);
    if (g != 0 || !res) {
        rs_log(RS_LOG_ERROR, "--listen %s: cannot resolve: %s", cfg->listen_addr,
               gai_strerror(g));
        return -1;
    }
    uv_tcp_init(&n->loop, &n->peer_listener);
    n->peer_listener.data = n;
    n->peer_listening = 1;
    int r = uv_tcp_bind(&n->peer_listener, res->ai_addr, 0);
    freeaddrinfo(res);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&n->peer_listener, PEER_BACKLOG, on_peer_connection);
    if (r < 0) {
        rs_log(RS_LOG_ERROR, "cannot listen for peers on %s: %s", cfg->listen_addr,
               uv_strerror(r));
        return -1;
    }
    rs_log(RS_LOG_INFO, "listening for peers on %s", cfg->listen_addr);
    return 0;
}

void rs_peer_listen_stop(struct rsd *n)
{
    if (n->peer_listening) {
        n->peer_listening = 0;
        uv_close((uv_handle_t *)&n->peer_listener, NULL);
    }
}
