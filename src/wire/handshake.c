/* handshake.c: encoders and bounds-checked decoders of the peer handshake frames (format:
 * handshake.h). No I/O, no allocation. */
#include "wire/handshake.h"

#include <string.h>

#include "base/buf.h"

#define HELLO_FIXED (RS_HS_HEADER + 4u + 2u + 2u + RS_PEER_NONCE_BYTES + 8u)

const char *rs_hs_strerror(int r)
{
    switch (r) {
    case RS_HS_OK: return "ok";
    case RS_HS_E_TYPE: return "not a handshake frame";
    case RS_HS_E_RESERVED: return "handshake frame with reserved bits set";
    case RS_HS_E_HELLO_SHORT: return "malformed HELLO (too short)";
    case RS_HS_E_MAGIC: return "HELLO with a bad magic";
    case RS_HS_E_VERSION: return "another cluster protocol version";
    case RS_HS_E_HELLO: return "malformed HELLO";
    case RS_HS_E_NAME: return "malformed HELLO (bad name or address)";
    case RS_HS_E_INC: return "malformed HELLO (incarnation 0)";
    case RS_HS_E_PROOF: return "malformed PROOF";
    case RS_HS_E_REFUSE: return "malformed REFUSE";
    default: return "unknown handshake result";
    }
}

static void header(uint8_t *p, size_t total, uint8_t type)
{
    rs_put_u32(p, (uint32_t)(total - 4));
    p[4] = type;
    p[5] = 0;
    rs_put_u16(p + 6, 0);
}

int rs_hs_check(const uint8_t *f, size_t n)
{
    if (n < RS_HS_HEADER)
        return RS_HS_E_TYPE;
    if (f[4] != RS_HS_HELLO && f[4] != RS_HS_PROOF && f[4] != RS_HS_REFUSE)
        return RS_HS_E_TYPE;
    if (f[5] != 0 || rs_get_u16(f + 6) != 0)
        return RS_HS_E_RESERVED;
    return RS_HS_OK;
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

size_t rs_hs_hello_encode(uint8_t out[RS_PEER_FRAME_MAX], const uint8_t *nonce, uint64_t inc,
                          const char *name, const char *addr)
{
    return rs_hs_hello_encode_features(out, nonce, inc, name, addr, 0);
}

size_t rs_hs_hello_encode_features(uint8_t out[RS_PEER_FRAME_MAX], const uint8_t *nonce,
                                   uint64_t inc, const char *name, const char *addr,
                                   uint16_t features)
{
    size_t nl = strlen(name), al = addr ? strlen(addr) : 0;
    if (nl > RS_NODE_NAME_MAX)
        nl = RS_NODE_NAME_MAX;
    if (al > RS_PEER_ADDR_MAX)
        al = RS_PEER_ADDR_MAX;
    if (HELLO_FIXED + 2 + nl + al > RS_PEER_FRAME_MAX)
        al = RS_PEER_FRAME_MAX - HELLO_FIXED - 2 - nl;
    size_t total = HELLO_FIXED + 1 + nl + 1 + al;
    header(out, total, RS_HS_HELLO);
    rs_put_u32(out + RS_HS_HEADER, RS_PEER_MAGIC);
    rs_put_u16(out + RS_HS_HEADER + 4, RS_PEER_VERSION);
    rs_put_u16(out + RS_HS_HEADER + 6, features);
    memcpy(out + RS_HS_HEADER + 8, nonce, RS_PEER_NONCE_BYTES);
    rs_put_u64(out + RS_HS_HEADER + 8 + RS_PEER_NONCE_BYTES, inc);
    uint8_t *q = out + HELLO_FIXED;
    *q++ = (uint8_t)nl;
    memcpy(q, name, nl);
    q += nl;
    *q++ = (uint8_t)al;
    if (al)
        memcpy(q, addr, al);
    return total;
}

int rs_hs_hello_decode(const uint8_t *f, size_t n, struct rs_hs_hello *h)
{
    memset(h, 0, sizeof *h);
    if (n < HELLO_FIXED)
        return RS_HS_E_HELLO_SHORT;
    if (rs_get_u32(f + RS_HS_HEADER) != RS_PEER_MAGIC)
        return RS_HS_E_MAGIC;
    h->version = rs_get_u16(f + RS_HS_HEADER + 4);
    if (h->version != RS_PEER_VERSION)
        return RS_HS_E_VERSION;
    const uint8_t *q = f + HELLO_FIXED, *end = f + n;
    size_t name_max = RS_NODE_NAME_MAX; /* a variable: the u8 may not reach a bound of 255 */
    h->features = rs_get_u16(f + RS_HS_HEADER + 6);
    if (q >= end || *q > name_max ||
        (size_t)(end - q) < 1u + *q + 1u)
        return RS_HS_E_HELLO;
    h->name_len = *q++;
    h->name = q;
    q += h->name_len;
    h->addr_len = *q++;
    h->addr = q;
    if ((size_t)(end - q) != h->addr_len ||
        !rs_peer_name_ok((const char *)h->name, h->name_len) ||
        (h->addr_len && !addr_ok(h->addr, h->addr_len)))
        return RS_HS_E_NAME;
    h->nonce = f + RS_HS_HEADER + 8;
    h->inc = rs_get_u64(f + RS_HS_HEADER + 8 + RS_PEER_NONCE_BYTES);
    if (h->inc == 0)
        return RS_HS_E_INC;
    return RS_HS_OK;
}

void rs_hs_proof_encode(uint8_t out[RS_HS_PROOF_BYTES], const uint8_t *mac)
{
    header(out, RS_HS_PROOF_BYTES, RS_HS_PROOF);
    memcpy(out + RS_HS_HEADER, mac, RS_PEER_MAC_BYTES);
}

int rs_hs_proof_decode(const uint8_t *f, size_t n, const uint8_t **mac)
{
    if (n != RS_HS_PROOF_BYTES)
        return RS_HS_E_PROOF;
    *mac = f + RS_HS_HEADER;
    return RS_HS_OK;
}

size_t rs_hs_refuse_encode(uint8_t out[RS_HS_REFUSE_BYTES_MAX], const char *why)
{
    size_t n = strlen(why);
    if (n > RS_PEER_REFUSE_TEXT_MAX)
        n = RS_PEER_REFUSE_TEXT_MAX;
    header(out, RS_HS_HEADER + 1 + n, RS_HS_REFUSE);
    out[RS_HS_HEADER] = (uint8_t)n;
    memcpy(out + RS_HS_HEADER + 1, why, n);
    return RS_HS_HEADER + 1 + n;
}

int rs_hs_refuse_decode(const uint8_t *f, size_t n, char *text, size_t cap)
{
    size_t tl = n > RS_HS_HEADER ? f[RS_HS_HEADER] : 0;
    if (n < RS_HS_HEADER + 1 || tl != n - RS_HS_HEADER - 1)
        return RS_HS_E_REFUSE;
    size_t k = 0;
    for (size_t i = 0; i < tl && k < cap - 1; i++) {
        uint8_t ch = f[RS_HS_HEADER + 1 + i];
        text[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    text[k] = 0;
    return RS_HS_OK;
}
