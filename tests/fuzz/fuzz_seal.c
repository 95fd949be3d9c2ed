/* fuzz_seal.c: fuzz target for sealed peer links (src/node/seal.c, in the roster_node_auth
 * library), the first code that reads a peer's bytes after the handshake, and for the peer
 * frames inside a record once it is authentic.
 *
 * The input is used twice. As bytes from the network: split into frames by the frame reader
 * (the bound a node uses), each opened as a record; none may open (the input cannot hold a
 * valid tag for the fixed keys), nothing may crash or read past a frame. As what a peer
 * sealed: the input is sealed as a run of frames, every record is opened (each must), its
 * frames walked with the bounded walker and decoded as wire frames; when the walk accepts
 * every record, the frames must equal the input. One byte of each record, chosen by the
 * input, is also flipped in a copy, which must never open. The last byte's low bit picks
 * the AEAD (XChaCha20-Poly1305 or, where the CPU has it, AES-256-GCM). */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "node/seal.h"
#include "wire/reader.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rs_limits lim;
static uint8_t k1[32], k2[32];

/* open_copy opens an exact-size heap copy of rec, so ASan sees any read past it. */
static int open_copy(struct rs_seal *rx, const uint8_t *rec, size_t n, uint8_t **copy,
                     uint8_t **pl, size_t *pn)
{
    *copy = malloc(n ? n : 1);
    memcpy(*copy, rec, n);
    return rs_seal_open(rx, *copy, n, pl, pn);
}

static void as_network(const uint8_t *data, size_t size, int aead)
{
    struct rs_seal rx;
    rs_seal_init(&rx, aead, k2, k1);
    struct rs_wire_reader rd;
    rs_wire_reader_init(&rd, rs_seal_record_max(lim.frame_max), 4096);
    if (rs_wire_reader_feed(&rd, data, size) != 0)
        abort();
    for (;;) {
        const uint8_t *f;
        size_t n;
        if (rs_wire_reader_next(&rd, &f, &n) != RS_WIRE_OK)
            break;
        uint8_t *copy, *pl;
        size_t pn;
        int r = open_copy(&rx, f, n, &copy, &pl, &pn);
        free(copy);
        if (r == RS_SEAL_OK)
            abort(); /* forged without the key */
    }
    rs_wire_reader_fini(&rd);
}

static void as_sealed(const uint8_t *data, size_t size, int aead)
{
    if (size == 0)
        return;
    struct rs_seal tx, rx;
    rs_seal_init(&tx, aead, k1, k2);
    rs_seal_init(&rx, aead, k2, k1);
    struct rs_buf sealed, walked;
    rs_buf_init(&sealed);
    rs_buf_init(&walked);
    if (rs_seal_frames(&tx, data, size, &sealed) == 0)
        abort();
    int whole = 1;
    size_t off = 0;
    while (off < sealed.len) {
        size_t rn = 4u + rs_get_u32(sealed.data + off);
        if (rn > sealed.len - off || rn < RS_SEAL_OVERHEAD)
            abort();
        /* a tampered copy first: refused, and the counter must not move */
        uint8_t *copy, *pl;
        size_t pn;
        size_t at = (size_t)data[off % size] * 7919u % rn;
        copy = malloc(rn);
        memcpy(copy, sealed.data + off, rn);
        copy[at] ^= (uint8_t)(1u << (data[(off + 1) % size] % 8));
        if (rs_seal_open(&rx, copy, rn, &pl, &pn) == RS_SEAL_OK)
            abort();
        free(copy);
        if (open_copy(&rx, sealed.data + off, rn, &copy, &pl, &pn) != RS_SEAL_OK)
            abort();
        size_t fo = 0, fn;
        const uint8_t *f;
        int k;
        while ((k = rs_seal_next(pl, pn, &fo, lim.frame_max, &f, &fn)) == RS_SEAL_OK) {
            if (fo > pn || f < pl || f + fn > pl + pn)
                abort();
            struct rs_msg m;
            (void)rs_wire_decode(f, fn, &lim, &m);
            if (rs_buf_append(&walked, f, fn) != 0)
                abort();
        }
        if (k != 1)
            whole = 0;
        free(copy);
        off += rn;
    }
    if (whole && (walked.len != size || memcmp(walked.data, data, size) != 0))
        abort();
    rs_buf_fini(&sealed);
    rs_buf_fini(&walked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        if (sodium_init() < 0)
            abort();
        rs_limits_default(&lim);
        memset(k1, 0x11, sizeof k1);
        memset(k2, 0x22, sizeof k2);
        init = 1;
    }
    if (size > 200000)
        return 0;
    int aead = size && (data[size - 1] & 1) ? RS_SEAL_AES256GCM : RS_SEAL_XCHACHA20POLY1305;
    as_network(data, size, aead);
    as_sealed(data, size, aead);
    return 0;
}
