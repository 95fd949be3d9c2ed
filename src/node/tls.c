/* tls.c: TLS 1.3 on peer links over a BIO of our own (see tls.h for how it composes with the
 * cookie handshake and why the link is not sealed again inside it). OpenSSL never touches a
 * socket here: conn.c reads and writes, this file only transforms bytes. */
#include "node/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "node/conn.h"
#include "node/log.h"
#include "node/peer.h"

#define READ_CHUNK (64u * 1024u) /* as conn.c reads */
#define OWN_BUF 16384u
/* Both ends derive the cookie proofs' binding from this connection's TLS secrets. */
static const char EXPORTER_LABEL[] = "EXPORTER-roster-cluster-cookie-proof";

struct rs_tls {
    SSL *ssl;
    struct rs_conn *conn;
    /* The BIO under ssl (owned by it) reads from in[0, in_len) (the bytes libuv just read,
     * in place) and appends what ssl writes to the conn's output: no buffer of its own, no
     * copy besides OpenSSL's. written counts those bytes, accounted how many drain saw. */
    const uint8_t *in;
    size_t in_len;
    uint64_t written, accounted;
    int established;
    /* the first certificate the verification refused, for the log */
    char refused_subject[160];
    int refused_err;
    uint8_t *own_buf; /* reads when the node's shared buffer is busy (rare) */
};

static void oom(void)
{
    rs_log(RS_LOG_ERROR, "out of memory");
    abort();
}

/* err_text formats OpenSSL's error queue (most recent reason first) into out. */
static void err_text(char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    out[0] = 0;
    if (e == 0) {
        snprintf(out, cap, "no OpenSSL reason");
        return;
    }
    const char *r = ERR_reason_error_string(e);
    if (r)
        snprintf(out, cap, "%s", r);
    else
        ERR_error_string_n(e, out, cap);
}

static void subject_of(X509 *x, char *out, size_t cap)
{
    out[0] = 0;
    if (!x)
        return;
    X509_NAME_oneline(X509_get_subject_name(x), out, (int)cap);
}

static void not_after_of(X509 *x, char *out, size_t cap)
{
    out[0] = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    if (ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1) {
        int k = BIO_read(b, out, (int)cap - 1);
        out[k > 0 ? k : 0] = 0;
    }
    BIO_free(b);
}

static int app_index = -1;

/* verify_cb keeps what the chain verification refused first, so that the log can name
 * the certificate and the reason (OpenSSL's own message is only "certificate verify
 * failed"). The decision stays OpenSSL's. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
    if (ok)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct rs_tls *t = ssl ? SSL_get_ex_data(ssl, app_index) : NULL;
    if (t && !t->refused_err) {
        t->refused_err = X509_STORE_CTX_get_error(x);
        if (t->refused_err == 0)
            t->refused_err = X509_V_ERR_UNSPECIFIED;
        subject_of(X509_STORE_CTX_get_current_cert(x), t->refused_subject,
                   sizeof t->refused_subject);
    }
    return ok;
}

/* check_own verifies the node's own certificate against its roots: a node the roots refuse
 * is refused by every peer that shares them, so it is said at once. */
static void check_own(SSL_CTX *ctx, const char *cert_file, const char *ca_file)
{
    X509 *own = SSL_CTX_get0_certificate(ctx);
    char subj[160], until[64];
    subject_of(own, subj, sizeof subj);
    not_after_of(own, until, sizeof until);
    X509_STORE_CTX *v = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(ctx, &chain);
    if (v && X509_STORE_CTX_init(v, SSL_CTX_get_cert_store(ctx), own, chain) == 1) {
        X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(v) != 1)
            rs_log(RS_LOG_WARN, "--peer-tls-cert %s (%s): its own roots (--peer-tls-ca %s) "
                   "refuse it: %s: peers that share these roots will refuse this node",
                   cert_file, subj, ca_file,
                   X509_verify_cert_error_string(X509_STORE_CTX_get_error(v)));
    }
    X509_STORE_CTX_free(v);
    rs_log(RS_LOG_INFO, "peer links: TLS 1.3, certificate %s (valid until %s), peers must "
           "present one signed by the roots of %s", subj, until, ca_file);
}

/* build makes a context from the three files; NULL with the reason logged. */
static SSL_CTX *build(const struct rsd_config *cfg)
{
    ERR_clear_error();
    char why[200];
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        err_text(why, sizeof why);
        rs_log(RS_LOG_ERROR, "peer TLS: cannot create a context: %s", why);
        return NULL;
    }
    const char *what = NULL, *file = NULL, *path = "";
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
        what = "cannot restrict to TLS 1.3";
    } else if (SSL_CTX_use_certificate_chain_file(ctx, cfg->peer_tls_cert) != 1) {
        what = "cannot read the certificate chain (PEM)";
        file = "--peer-tls-cert";
        path = cfg->peer_tls_cert;
    } else if (SSL_CTX_use_PrivateKey_file(ctx, cfg->peer_tls_key, SSL_FILETYPE_PEM) != 1) {
        what = "cannot read the private key (PEM, unencrypted)";
        file = "--peer-tls-key";
        path = cfg->peer_tls_key;
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        what = "the private key does not match the certificate";
        file = "--peer-tls-key";
        path = cfg->peer_tls_key;
    } else if (SSL_CTX_load_verify_locations(ctx, cfg->peer_tls_ca, NULL) != 1) {
        what = "cannot read the roots (PEM)";
        file = "--peer-tls-ca";
        path = cfg->peer_tls_ca;
    }
    if (what) {
        err_text(why, sizeof why);
        if (strstr(why, "values mismatch")) /* use_PrivateKey checks the pair itself */
            what = "the private key does not match the certificate";
        rs_log(RS_LOG_ERROR, "peer TLS: %s%s%s: %s (%s)", file ? file : "", file ? " " : "",
               path, what, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* Both sides present a certificate the roots sign; one without is refused. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    /* Every connection makes a full handshake (fresh ECDHE keys): no tickets, no cache. */
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* Take what libuv read in one BIO call rather than a header and a body per record. */
    SSL_CTX_set_read_ahead(ctx, 1);
    check_own(ctx, cfg->peer_tls_cert, cfg->peer_tls_ca);
    return ctx;
}

int rsd_tls_load(struct rsd *n)
{
    const struct rsd_config *cfg = n->cfg;
    if (!cfg->peer_tls_cert)
        return 0;
    if (app_index < 0)
        app_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    SSL_CTX *ctx = build(cfg);
    if (!ctx)
        return -1;
    n->tls_ctx = ctx;
    return 0;
}

void rsd_tls_reload(struct rsd *n)
{
    if (!n->tls_ctx)
        return;
    SSL_CTX *ctx = build(n->cfg);
    if (!ctx) {
        rs_log(RS_LOG_ERROR, "peer TLS files not re-read: keeping the previous certificate, "
               "key and roots");
        return;
    }
    SSL_CTX_free(n->tls_ctx); /* established sessions hold their own reference */
    n->tls_ctx = ctx;
    rs_log(RS_LOG_INFO, "peer TLS files re-read: new connections use them; established "
           "links keep their sessions");
}

void rsd_tls_free(struct rsd *n)
{
    if (n->tls_ctx)
        SSL_CTX_free(n->tls_ctx);
    n->tls_ctx = NULL;
}

/* ---- the BIO: straight from the read buffer, straight into the conn's output ---- */

static BIO_METHOD *bio_method;

static int bio_write(BIO *b, const char *p, int n)
{
    struct rs_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0)
        return 0;
    if (rs_buf_append(&t->conn->out, p, (size_t)n) != 0)
        oom();
    t->written += (uint64_t)n;
    return n;
}

static int bio_read(BIO *b, char *p, int n)
{
    struct rs_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (t->in_len == 0) { /* would block: the rest comes with the next read */
        BIO_set_retry_read(b);
        return -1;
    }
    size_t k = (size_t)n < t->in_len ? (size_t)n : t->in_len;
    memcpy(p, t->in, k);
    t->in += k;
    t->in_len -= k;
    return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    struct rs_tls *t = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return t ? (long)t->in_len : 0;
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO *bio_new(struct rs_tls *t)
{
    if (!bio_method) {
        bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "roster peer");
        if (!bio_method || !BIO_meth_set_write(bio_method, bio_write) ||
            !BIO_meth_set_read(bio_method, bio_read) ||
            !BIO_meth_set_ctrl(bio_method, bio_ctrl) ||
            !BIO_meth_set_create(bio_method, bio_create))
            oom();
    }
    BIO *b = BIO_new(bio_method);
    if (!b)
        oom();
    BIO_set_data(b, t);
    return b;
}

/* drain accounts for what SSL appended to the conn's output since the last call; hs: bytes
 * the core did not queue. Returns how many. */
static size_t drain(struct rs_conn *c, int hs)
{
    struct rs_tls *t = c->peer->tls;
    size_t k = (size_t)(t->written - t->accounted);
    t->accounted = t->written;
    if (k == 0)
        return 0;
    if (hs)
        c->peer->hs_unreported += k;
    rs_conn_send_raw(c, NULL, 0); /* marks the conn for the flush */
    return k;
}

void rs_tls_conn_start(struct rs_conn *c)
{
    struct rsd_peer *pe = c->peer;
    struct rs_tls *t = rs_calloc(1, sizeof *t);
    if (!t)
        oom();
    pe->tls = t;
    t->conn = c;
    t->ssl = SSL_new(c->node->tls_ctx);
    if (!t->ssl)
        oom();
    BIO *b = bio_new(t);
    SSL_set_bio(t->ssl, b, b); /* one BIO both ways: ssl takes its one reference */
    SSL_set_ex_data(t->ssl, app_index, t);
    if (pe->dialed) {
        SSL_set_connect_state(t->ssl);
        ERR_clear_error();
        SSL_do_handshake(t->ssl); /* the ClientHello: wants to read after it */
        drain(c, 1);
    } else {
        SSL_set_accept_state(t->ssl);
    }
}

void rs_tls_conn_free(struct rs_conn *c)
{
    struct rs_tls *t = c->peer->tls;
    if (!t)
        return;
    SSL_free(t->ssl); /* frees the BIO */
    rs_free(t->own_buf);
    rs_free(t);
    c->peer->tls = NULL;
}

uint8_t *rs_tls_read_buf(struct rs_conn *c, size_t *cap)
{
    struct rs_tls *t = c->peer->tls;
    if (!t->own_buf && !(t->own_buf = rs_malloc(OWN_BUF)))
        oom();
    *cap = OWN_BUF;
    return t->own_buf;
}

/* fail closes c after sending what SSL queued (an alert tells the peer why), logging why. */
static int fail(struct rs_conn *c, const char *stage, int ssl_err)
{
    struct rs_tls *t = c->peer->tls;
    drain(c, 1);
    char why[300], reason[200];
    if (t->refused_err) {
        snprintf(why, sizeof why, "TLS %s: the peer's certificate %s was refused: %s", stage,
                 t->refused_subject[0] ? t->refused_subject : "(no subject)",
                 X509_verify_cert_error_string(t->refused_err));
    } else if (ssl_err == SSL_ERROR_SSL) {
        err_text(reason, sizeof reason);
        if (strstr(reason, " alert ")) /* the peer ended it and said why in an alert */
            snprintf(why, sizeof why, "TLS %s: the peer refused this node's certificate or "
                     "TLS session (its alert: %s)", stage, reason);
        else
            snprintf(why, sizeof why, "TLS %s: %s", stage, reason);
    } else {
        snprintf(why, sizeof why, "TLS %s: failed (SSL error %d)", stage, ssl_err);
    }
    ERR_clear_error();
    rs_conn_request_close(c, RS_LOG_WARN, why, strlen(why));
    return -1;
}

/* established runs once the TLS handshake completed: the cookie handshake starts inside
 * it, bound to this connection. */
static int established(struct rs_conn *c)
{
    struct rs_tls *t = c->peer->tls;
    t->established = 1;
    uint8_t binding[RS_AUTH_BINDING_BYTES];
    if (SSL_export_keying_material(t->ssl, binding, sizeof binding, EXPORTER_LABEL,
                                   sizeof EXPORTER_LABEL - 1, NULL, 0, 0) != 1)
        return fail(c, "exporter", SSL_ERROR_SSL);
    char d[300];
    rs_tls_describe(c, d, sizeof d);
    rs_log(RS_LOG_DEBUG, "peer conn %llu (%s): TLS established (%s)",
           (unsigned long long)c->id, rs_peer_label(c), d);
    rs_peer_auth_start(c, binding);
    return 0;
}

static int input(struct rs_conn *c);

int rs_tls_input(struct rs_conn *c, const uint8_t *p, size_t n)
{
    struct rs_tls *t = c->peer->tls;
    t->in = p;
    t->in_len = n;
    int r = input(c);
    t->in_len = 0; /* consumed, unless the conn is closing */
    return r;
}

static int input(struct rs_conn *c)
{
    struct rs_tls *t = c->peer->tls;
    if (!t->established) {
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        drain(c, 1);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            return fail(c, "handshake", e);
        }
        if (established(c) != 0)
            return -1;
    }
    /* Everything SSL can decrypt now goes to the frame reader: nothing waits inside SSL for
     * a read that will not come (a conn out of turn stops reading from the socket). */
    for (;;) {
        uint8_t *dst;
        size_t room, got = 0;
        if (t->in_len == 0 && !SSL_has_pending(t->ssl))
            break; /* all taken: no SSL_read call only to hear it would block */
        int rr = rs_wire_reader_room(&c->rd, READ_CHUNK, &dst, &room);
        if (rr == RS_WIRE_READER_E_NOMEM)
            oom();
        if (rr != 0)
            break; /* the frame under way is refused: the reader says so to conn.c */
        ERR_clear_error();
        int r = SSL_read_ex(t->ssl, dst, room, &got);
        if (r == 1) {
            rs_wire_reader_commit(&c->rd, got);
            continue;
        }
        rs_wire_reader_commit(&c->rd, 0);
        int e = SSL_get_error(t->ssl, r);
        drain(c, 1); /* a key update's answer, an alert */
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            static const char why[] = "peer closed the TLS session";
            rs_conn_request_close(c, RS_LOG_INFO, why, sizeof why - 1);
            return -1;
        }
        return fail(c, "record", e);
    }
    return 0;
}

/* write_part encrypts p[0, n) and moves the records to the conn's output; their size. */
static size_t write_part(struct rs_conn *c, const uint8_t *p, size_t n)
{
    struct rs_tls *t = c->peer->tls;
    size_t done = 0;
    drain(c, 1); /* nothing pending, but what is belongs before */
    ERR_clear_error();
    int r = SSL_write_ex(t->ssl, p, n, &done);
    if (r != 1 || done != n) { /* the BIO takes everything: only a broken session */
        fail(c, "write", SSL_get_error(t->ssl, r));
        return 0;
    }
    return drain(c, 0);
}

void rs_tls_output(struct rs_conn *c)
{
    struct rsd_peer *pe = c->peer;
    struct rs_tls *t = pe->tls;
    if (!t || !t->established || pe->plain.len == 0)
        return;
    size_t hs = pe->hs_plain < pe->plain.len ? pe->hs_plain : pe->plain.len;
    if (hs)
        pe->hs_unreported += write_part(c, pe->plain.data, hs);
    size_t rest = pe->plain.len - hs;
    if (rest) {
        size_t w = write_part(c, pe->plain.data + hs, rest);
        pe->plain_q += rest;
        pe->sealed_q += w;
    }
    pe->plain.len = 0;
    pe->hs_plain = 0;
    if (pe->plain.cap > 256u * 1024u) { /* a burst's buffer is not kept (as peer.c) */
        rs_buf_fini(&pe->plain);
        rs_buf_init(&pe->plain);
    }
}

void rs_tls_describe(const struct rs_conn *c, char *out, size_t cap)
{
    const struct rs_tls *t = c->peer->tls;
    char subj[160];
    subject_of(SSL_get0_peer_certificate(t->ssl), subj, sizeof subj);
    snprintf(out, cap, "%s, %s, peer certificate %s", SSL_get_version(t->ssl),
             SSL_get_cipher_name(t->ssl), subj[0] ? subj : "(none)");
}

int rs_tls_names(const struct rs_conn *c, const char *name)
{
    X509 *x = SSL_get0_peer_certificate(c->peer->tls->ssl);
    return x && X509_check_host(x, name, strlen(name), X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
}

void rs_tls_peer_subject(const struct rs_conn *c, char *out, size_t cap)
{
    subject_of(SSL_get0_peer_certificate(c->peer->tls->ssl), out, cap);
}
