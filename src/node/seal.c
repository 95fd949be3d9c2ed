/* seal.c: sealing and opening peer records (format and guarantees: seal.h). Kept apart
 * from the connection code so that the unit tests and the fuzz target drive it directly. */
#include "node/seal.h"

#include <sodium.h>
#include <string.h>

const char *rs_seal_strerror(int r)
{
    switch (r) {
    case RS_SEAL_OK: return "ok";
    case RS_SEAL_E_SHORT: return "sealed record too short (or its length is not its size)";
    case RS_SEAL_E_TYPE: return "not a sealed record";
    case RS_SEAL_E_AUTH:
        return "sealed record failed authentication (altered, truncated, injected or sealed "
               "with another key)";
    case RS_SEAL_E_REPLAY: return "replayed sealed record (counter already used)";
    case RS_SEAL_E_GAP: return "sealed record out of order (records before it missing)";
    case RS_SEAL_E_FRAME: return "malformed frames inside an authentic sealed record";
    default: return "unknown seal result";
    }
}

uint16_t rs_seal_local_features(void)
{
    return crypto_aead_aes256gcm_is_available() ? RS_HS_FEAT_AES256GCM : 0;
}

int rs_seal_choose(uint16_t mine, uint16_t theirs)
{
    return (mine & theirs & RS_HS_FEAT_AES256GCM) ? RS_SEAL_AES256GCM
                                                  : RS_SEAL_XCHACHA20POLY1305;
}

const char *rs_seal_aead_name(int aead)
{
    return aead == RS_SEAL_AES256GCM ? "AES-256-GCM" : "XChaCha20-Poly1305";
}

void rs_seal_init(struct rs_seal *s, int aead, const uint8_t tx_key[RS_SEAL_KEY_BYTES],
                  const uint8_t rx_key[RS_SEAL_KEY_BYTES])
{
    memset(s, 0, sizeof *s);
    /* AES-GCM only where the CPU has it (libsodium's is hardware only). */
    s->aead = aead == RS_SEAL_AES256GCM && crypto_aead_aes256gcm_is_available()
                  ? RS_SEAL_AES256GCM
                  : RS_SEAL_XCHACHA20POLY1305;
    memcpy(s->tx.key, tx_key, RS_SEAL_KEY_BYTES);
    memcpy(s->rx.key, rx_key, RS_SEAL_KEY_BYTES);
}

void rs_seal_wipe(struct rs_seal *s) { sodium_memzero(s, sizeof *s); }

/* The nonce buffer fits both AEADs (24 and 12 bytes); each reads its own size. */
static void nonce_of(uint8_t npub[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], uint64_t ctr)
{
    memset(npub, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    rs_put_u64(npub, ctr);
}

static void encrypt(const struct rs_seal *s, uint8_t *c, uint8_t *mac, const uint8_t *m,
                    size_t n, const uint8_t *ad, const uint8_t *npub)
{
    if (s->aead == RS_SEAL_AES256GCM)
        crypto_aead_aes256gcm_encrypt_detached(c, mac, NULL, m, n, ad, RS_SEAL_HEADER, NULL,
                                               npub, s->tx.key);
    else
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(c, mac, NULL, m, n, ad,
                                                            RS_SEAL_HEADER, NULL, npub,
                                                            s->tx.key);
}

static int decrypt(const struct rs_seal *s, uint8_t *m, const uint8_t *c, size_t n,
                   const uint8_t *mac, const uint8_t *ad, const uint8_t *npub)
{
    if (s->aead == RS_SEAL_AES256GCM)
        return crypto_aead_aes256gcm_decrypt_detached(m, NULL, c, n, mac, ad, RS_SEAL_HEADER,
                                                      npub, s->rx.key);
    return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(m, NULL, c, n, mac, ad,
                                                               RS_SEAL_HEADER, npub,
                                                               s->rx.key);
}

/* seal_one appends one record holding p[0, n). */
static int seal_one(struct rs_seal *s, const uint8_t *p, size_t n, struct rs_buf *out)
{
    size_t total = RS_SEAL_OVERHEAD + n;
    if (rs_buf_reserve(out, total) != 0)
        return -1;
    uint8_t *h = out->data + out->len;
    rs_put_u32(h, (uint32_t)(total - 4));
    h[4] = RS_SEAL_TYPE;
    h[5] = 0;
    rs_put_u16(h + 6, 0);
    rs_put_u64(h + 8, s->tx.counter);
    uint8_t npub[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    nonce_of(npub, s->tx.counter);
    encrypt(s, h + RS_SEAL_HEADER, h + RS_SEAL_HEADER + n, p, n, h, npub);
    s->tx.counter++;
    out->len += total;
    return 0;
}

size_t rs_seal_frames(struct rs_seal *s, const uint8_t *plain, size_t len, struct rs_buf *out)
{
    size_t before = out->len, start = 0, off = 0;
    while (off < len) {
        /* Extend the batch by whole frames while it stays within RS_SEAL_BATCH. */
        size_t fl = len - off >= 4 ? 4u + (size_t)rs_get_u32(plain + off) : len - off;
        if (fl > len - off)
            fl = len - off;
        if (off > start && off - start + fl > RS_SEAL_BATCH) {
            if (seal_one(s, plain + start, off - start, out) != 0)
                goto oom;
            start = off;
        }
        off += fl;
    }
    if (off > start && seal_one(s, plain + start, off - start, out) != 0)
        goto oom;
    return out->len - before;
oom:
    out->len = before;
    return 0;
}

int rs_seal_open(struct rs_seal *s, uint8_t *rec, size_t n, uint8_t **plain, size_t *plen)
{
    if (n < 8 || rs_get_u32(rec) != n - 4)
        return RS_SEAL_E_SHORT;
    if (rec[4] != RS_SEAL_TYPE || rec[5] != 0 || rs_get_u16(rec + 6) != 0)
        return RS_SEAL_E_TYPE;
    if (n < RS_SEAL_OVERHEAD)
        return RS_SEAL_E_SHORT;
    uint64_t ctr = rs_get_u64(rec + 8);
    size_t cl = n - RS_SEAL_OVERHEAD;
    uint8_t npub[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    nonce_of(npub, ctr);
    /* Decrypted in place (libsodium allows m == c); a forgery leaves the bytes unchanged. */
    if (decrypt(s, rec + RS_SEAL_HEADER, rec + RS_SEAL_HEADER, cl, rec + RS_SEAL_HEADER + cl,
                rec, npub) != 0)
        return RS_SEAL_E_AUTH;
    s->got_counter = ctr;
    if (ctr != s->rx.counter)
        return ctr < s->rx.counter ? RS_SEAL_E_REPLAY : RS_SEAL_E_GAP;
    s->rx.counter++;
    *plain = rec + RS_SEAL_HEADER;
    *plen = cl;
    return RS_SEAL_OK;
}

int rs_seal_next(const uint8_t *p, size_t n, size_t *off, uint32_t frame_max,
                 const uint8_t **f, size_t *fn)
{
    if (*off >= n)
        return 1;
    size_t left = n - *off;
    if (left < 4)
        return RS_SEAL_E_FRAME;
    uint32_t len = rs_get_u32(p + *off);
    if (len == 0 || len > frame_max || (size_t)len > left - 4)
        return RS_SEAL_E_FRAME;
    *f = p + *off;
    *fn = 4u + (size_t)len;
    *off += *fn;
    return RS_SEAL_OK;
}
