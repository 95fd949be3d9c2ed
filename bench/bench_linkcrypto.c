/* bench_linkcrypto.c: the CPU cost of protecting one batch of peer frames, in one process,
 * without sockets or a cluster (docs/PERFORMANCE.md, "TLS on peer links"): what a node spends
 * to send and receive a record of N bytes of frames on a sealed link (seal.c over libsodium,
 * the AEAD the link chose) and on a TLS 1.3 link (OpenSSL, the way tls.c drives it: one
 * SSL_write into a memory sink, one SSL_read out of it, on an established session between a
 * client and a server of this process, with a throwaway self-signed certificate made here).
 * CPU time of the process (CLOCK_PROCESS_CPUTIME_ID), so the load of other processes on the
 * machine changes it far less than it changes the cluster figures.
 *
 *   bench_linkcrypto [ROUNDS]      (default 200000 for small records, fewer for large) */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "node/seal.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_linkcrypto: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* frames fills p[0, n) with frames of about 100 bytes (length prefix, bytes). */
static void frames(uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t body = n - off - 4 < 96 ? n - off - 4 : 96;
        if (n - off < 8) { /* too little left for a frame: widen the previous one */
            memset(p + off, 'x', n - off);
            rs_put_u32(p + off - 100, (uint32_t)(96 + n - off));
            break;
        }
        rs_put_u32(p + off, (uint32_t)body);
        memset(p + off + 4, 'a' + (int)(off % 26), body);
        off += 4 + body;
    }
}

static double bench_seal(int aead, size_t n, long rounds)
{
    uint8_t k1[32], k2[32];
    randombytes_buf(k1, sizeof k1);
    randombytes_buf(k2, sizeof k2);
    struct rs_seal tx, rx;
    rs_seal_init(&tx, aead, k1, k2);
    rs_seal_init(&rx, aead, k2, k1);
    uint8_t *plain = malloc(n);
    frames(plain, n);
    struct rs_buf out;
    rs_buf_init(&out);
    double t0 = cpu_s();
    for (long i = 0; i < rounds; i++) {
        out.len = 0;
        if (rs_seal_frames(&tx, plain, n, &out) == 0)
            die("seal");
        size_t off = 0;
        while (off < out.len) {
            size_t rn = 4u + rs_get_u32(out.data + off);
            uint8_t *pl;
            size_t pn;
            if (rs_seal_open(&rx, out.data + off, rn, &pl, &pn) != RS_SEAL_OK)
                die("open");
            off += rn;
        }
    }
    double t = cpu_s() - t0;
    rs_buf_fini(&out);
    free(plain);
    return t / (double)rounds * 1e9;
}

/* make_cert makes a self-signed P-256 certificate (its own root). */
static void make_cert(EVP_PKEY **key, X509 **cert)
{
    *key = EVP_EC_gen("P-256");
    *cert = X509_new();
    if (!*key || !*cert)
        die("key");
    X509_set_version(*cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(*cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(*cert), 86400);
    X509_set_pubkey(*cert, *key);
    X509_NAME *nm = X509_get_subject_name(*cert);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"bench", -1, -1,
                               0);
    X509_set_issuer_name(*cert, nm);
    if (!X509_sign(*cert, *key, EVP_sha256()))
        die("sign");
}

static SSL_CTX *ctx_of(EVP_PKEY *key, X509 *cert)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cert) != 1)
        die("context");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_read_ahead(ctx, 1); /* as tls.c */
    return ctx;
}

/* move copies what one side wrote into the other's input. */
static void move(BIO *from, BIO *to, uint8_t *tmp, size_t cap)
{
    int k;
    while ((k = BIO_read(from, tmp, (int)cap)) > 0)
        if (BIO_write(to, tmp, k) != k)
            die("bio");
}

static double bench_tls(size_t n, long rounds, const char **cipher)
{
    EVP_PKEY *key;
    X509 *cert;
    make_cert(&key, &cert);
    SSL_CTX *ctx = ctx_of(key, cert);
    SSL *cl = SSL_new(ctx), *sv = SSL_new(ctx);
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c_in, -1);
    BIO_set_mem_eof_return(s_in, -1);
    SSL_set_bio(cl, c_in, c_out);
    SSL_set_bio(sv, s_in, s_out);
    SSL_set_connect_state(cl);
    SSL_set_accept_state(sv);
    size_t cap = n + 4096;
    uint8_t *tmp = malloc(cap > 65536 ? cap : 65536), *plain = malloc(n), *got = malloc(n);
    for (int i = 0; i < 10 && !(SSL_is_init_finished(cl) && SSL_is_init_finished(sv)); i++) {
        SSL_do_handshake(cl);
        move(c_out, s_in, tmp, 65536);
        SSL_do_handshake(sv);
        move(s_out, c_in, tmp, 65536);
    }
    if (!SSL_is_init_finished(cl) || !SSL_is_init_finished(sv))
        die("handshake");
    *cipher = SSL_get_cipher_name(cl);
    frames(plain, n);
    double t0 = cpu_s();
    for (long i = 0; i < rounds; i++) {
        size_t w = 0, r = 0, tot = 0;
        if (SSL_write_ex(cl, plain, n, &w) != 1 || w != n)
            die("write");
        /* the sender's records go to the receiver's input: one copy each way, as the
         * kernel's would be */
        move(c_out, s_in, tmp, 65536);
        while (tot < n && SSL_read_ex(sv, got + tot, n - tot, &r) == 1)
            tot += r;
        if (tot != n)
            die("read");
    }
    double t = cpu_s() - t0;
    SSL_free(cl);
    SSL_free(sv);
    SSL_CTX_free(ctx);
    X509_free(cert);
    EVP_PKEY_free(key);
    free(tmp);
    free(plain);
    free(got);
    return t / (double)rounds * 1e9;
}

int main(int argc, char **argv)
{
    long base = argc > 1 ? atol(argv[1]) : 200000;
    if (sodium_init() < 0)
        die("sodium_init");
    static const size_t sizes[] = {100, 1000, 16000};
    printf("== Link crypto: CPU per record sent and received (seal + open, or SSL_write + "
           "SSL_read), frames of ~100 bytes\n");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        long rounds = n >= 16000 ? base / 20 : n >= 1000 ? base / 4 : base;
        if (rounds < 100)
            rounds = 100;
        const char *cipher = "";
        double tls = bench_tls(n, rounds, &cipher);
        double aes = crypto_aead_aes256gcm_is_available()
                         ? bench_seal(RS_SEAL_AES256GCM, n, rounds)
                         : -1;
        double xch = bench_seal(RS_SEAL_XCHACHA20POLY1305, n, rounds);
        printf("   %6zu bytes: sealed AES-256-GCM %8.0f ns, sealed XChaCha20-Poly1305 %8.0f ns, "
               "TLS 1.3 (%s) %8.0f ns   (%ld rounds)\n",
               n, aes, xch, cipher, tls, rounds);
        printf("linkcrypto_%zu_sealed_aesgcm_ns %.0f\nlinkcrypto_%zu_tls_ns %.0f\n", n, aes, n,
               tls);
    }
    return 0;
}
