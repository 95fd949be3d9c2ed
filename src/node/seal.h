/* seal.h: sealed peer records, the only bytes that cross a peer link once the handshake
 * (auth.h) completed, so that a host on the path can neither read nor alter the peer
 * protocol (docs/SECURITY.md, docs/CLUSTER.md "Sealed links").
 *
 * Each direction of a connection has its own 32-byte key (derived by auth.c from the cookies
 * both sides proved with and both HELLOs, nonces included) and its own record counter,
 * starting at 0. A record carries one or more whole peer frames:
 *
 *   len u32 (bytes after it), type u8 = 0xF3, flags u8 = 0, reserved u16 = 0, counter u64,
 *   ciphertext of the frames, tag[16]
 *
 * sealed with an AEAD under the direction's key, nonce = counter (little endian, zero padded
 * to the nonce size), additional data = the 16 header bytes. The AEAD is AES-256-GCM when
 * both nodes have hardware AES (they say so in their HELLOs: RS_HS_FEAT_AES256GCM), else
 * XChaCha20-Poly1305 (IETF); both from libsodium. Keys are fresh per connection, so counter
 * nonces never repeat under a key.
 * The receiver authenticates a record under the counter it states, then requires that
 * counter to be the next one: so a replayed or reordered record, a dropped one (the next
 * has a gap), an altered, truncated or injected one each fail with a reason of its own, and
 * the link closes. Counters never wrap (2^64 records).
 *
 * No I/O, no allocation besides the output buffer: peer.c and conn.c move the bytes. */
#ifndef ROSTER_NODE_SEAL_H
#define ROSTER_NODE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "wire/handshake.h"

#define RS_SEAL_KEY_BYTES 32u
#define RS_SEAL_TYPE 0xF3u
#define RS_SEAL_HEADER 16u /* len, type, flags, reserved, counter */
#define RS_SEAL_TAG 16u
#define RS_SEAL_OVERHEAD (RS_SEAL_HEADER + RS_SEAL_TAG)
/* Frames are batched into a record up to this many plaintext bytes (one frame larger than
 * that gets a record of its own). */
#define RS_SEAL_BATCH 16384u

enum rs_seal_result {
    RS_SEAL_OK = 0,
    RS_SEAL_E_SHORT = -1,  /* shorter than header + tag, or length prefix != size */
    RS_SEAL_E_TYPE = -2,   /* not a sealed record, or reserved bits set */
    RS_SEAL_E_AUTH = -3,   /* authentication failed: altered, truncated, injected, other key */
    RS_SEAL_E_REPLAY = -4, /* authentic, but its counter was already used */
    RS_SEAL_E_GAP = -5,    /* authentic, but records before it are missing (dropped/reordered) */
    RS_SEAL_E_FRAME = -6,  /* authentic, but the frames inside are malformed */
};

struct rs_seal_dir {
    uint8_t key[RS_SEAL_KEY_BYTES];
    uint64_t counter; /* next record's */
};

enum rs_seal_aead { RS_SEAL_XCHACHA20POLY1305 = 0, RS_SEAL_AES256GCM = 1 };

struct rs_seal {
    int aead; /* enum rs_seal_aead */
    struct rs_seal_dir tx, rx;
    uint64_t got_counter; /* the counter of the last record refused (for the log) */
};

const char *rs_seal_strerror(int r);

/* rs_seal_local_features says what this machine can seal with (RS_HS_FEAT_*, for HELLO);
 * rs_seal_choose picks the AEAD of a link from both sides' features. */
uint16_t rs_seal_local_features(void);
int rs_seal_choose(uint16_t mine, uint16_t theirs);
const char *rs_seal_aead_name(int aead);

void rs_seal_init(struct rs_seal *s, int aead, const uint8_t tx_key[RS_SEAL_KEY_BYTES],
                  const uint8_t rx_key[RS_SEAL_KEY_BYTES]);
/* rs_seal_wipe zeroes the keys. */
void rs_seal_wipe(struct rs_seal *s);

/* rs_seal_frames seals plain[0, len), a run of whole frames (each with its u32 length
 * prefix, as the core encodes them), into records of at most RS_SEAL_BATCH plaintext bytes
 * cut at frame boundaries, appended to out. Returns the bytes appended, or 0 if out of
 * memory (len > 0). A malformed run (not whole frames) is a bug: it is sealed as it is and
 * the receiver refuses it. */
size_t rs_seal_frames(struct rs_seal *s, const uint8_t *plain, size_t len, struct rs_buf *out);

/* rs_seal_open authenticates and decrypts one whole record rec (n bytes, length prefix
 * included, as the frame reader hands it out) in place and points *plain at its frames
 * (*plen bytes). Returns RS_SEAL_OK or an error (nothing is accepted, the counter does not
 * move; got_counter says which counter an authentic record stated). */
int rs_seal_open(struct rs_seal *s, uint8_t *rec, size_t n, uint8_t **plain, size_t *plen);

/* rs_seal_next hands out the next frame of an opened record: p[*off, n) holds whole frames
 * whose declared lengths (bytes after the prefix) are at most frame_max. RS_SEAL_OK with
 * *f, *fn (prefix included) and *off advanced; 1 at the end; RS_SEAL_E_FRAME if what is
 * left is not a whole, bounded, non-empty frame. */
int rs_seal_next(const uint8_t *p, size_t n, size_t *off, uint32_t frame_max,
                 const uint8_t **f, size_t *fn);

/* rs_seal_record_max is the largest record a receiver with peer frame bound frame_max
 * (bytes after a frame's prefix) must accept, as a frame_max for its frame reader. */
static inline uint32_t rs_seal_record_max(uint32_t frame_max)
{
    uint64_t one = (uint64_t)frame_max + 4u;
    uint64_t m = one > RS_SEAL_BATCH ? one : RS_SEAL_BATCH;
    m += RS_SEAL_OVERHEAD - 4u;
    return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

#endif
